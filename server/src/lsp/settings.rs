//! What one user asks of the server from their editor (`initializationOptions`, then
//! `workspace/didChangeConfiguration`): their own view of findings, laid over the repository's
//! `countersign.toml`. The team's gate (`check`) never reads these.

use serde::Deserialize;
use serde_json::Value;

use crate::config::{Level, PolicyConfig};
use crate::provenance::BulkEditHeuristic;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserSettings {
    /// Severity of risky code a person wrote; unset: the repository's `policy.human_severity`.
    pub human_severity: Option<Level>,
    pub heuristics: Heuristics,
    /// The agent named when an editor reports an AI edit without naming one.
    pub agent: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Heuristics {
    pub bulk_insert: Option<bool>,
    pub multi_hunk: Option<bool>,
}

/// The agent named for AI edits nobody named.
const DEFAULT_AGENT: &str = "assistant";

impl UserSettings {
    /// Reads the settings a client sent, in any of the shapes clients use: the settings
    /// themselves, `{countersign: S}`, or `{settings: {countersign: S}}`. `null` (a client with
    /// nothing to say) is the defaults; anything malformed is the defaults and a message saying
    /// what was wrong.
    pub fn from_client(value: &Value) -> Result<UserSettings, String> {
        let mut v = value;
        for key in ["settings", "countersign"] {
            if let Some(inner) = v.get(key) {
                v = inner;
            }
        }
        if v.is_null() {
            return Ok(UserSettings::default());
        }
        let mut settings: UserSettings = serde_json::from_value(v.clone())
            .map_err(|e| format!("Countersign: editor settings ignored: {e}"))?;
        settings.agent = settings
            .agent
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty());
        Ok(settings)
    }

    pub fn policy(&self, repo: &PolicyConfig) -> PolicyConfig {
        let mut policy = repo.clone();
        if let Some(level) = self.human_severity {
            policy.human_severity = level;
        }
        policy
    }

    pub fn heuristic(&self, repo: BulkEditHeuristic) -> BulkEditHeuristic {
        BulkEditHeuristic {
            enabled: self.heuristics.bulk_insert.unwrap_or(repo.enabled),
            multi_hunk: self.heuristics.multi_hunk.unwrap_or(repo.multi_hunk),
            ..repo
        }
    }

    /// The agent for an AI edit the editor reported as written by `named`.
    pub fn agent_for(&self, named: &str) -> String {
        let named = named.trim();
        if !named.is_empty() {
            return named.to_string();
        }
        self.agent.clone().unwrap_or_else(|| DEFAULT_AGENT.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_shape_clients_send() {
        let s = json!({"humanSeverity": "warning", "heuristics": {"bulkInsert": false}, "agent": " copilot "});
        for value in [
            s.clone(),
            json!({"countersign": s.clone()}),
            json!({"settings": {"countersign": s.clone()}}),
        ] {
            let got = UserSettings::from_client(&value).unwrap();
            assert_eq!(got.human_severity, Some(Level::Warning));
            assert_eq!(got.heuristics.bulk_insert, Some(false));
            assert_eq!(got.heuristics.multi_hunk, None);
            assert_eq!(got.agent.as_deref(), Some("copilot"));
        }
        assert_eq!(
            UserSettings::from_client(&json!(null)).unwrap(),
            UserSettings::default()
        );
        assert_eq!(
            UserSettings::from_client(&json!({"settings": null})).unwrap(),
            UserSettings::default()
        );
        let only = UserSettings::from_client(&json!({"humanSeverity": "off"})).unwrap();
        assert_eq!(only.heuristics, Heuristics::default());
    }

    #[test]
    fn information_is_the_editor_word_for_info() {
        let got = UserSettings::from_client(&json!({"humanSeverity": "information"})).unwrap();
        assert_eq!(got.human_severity, Some(Level::Info));
    }

    #[test]
    fn malformed_settings_say_what_is_wrong() {
        let e = UserSettings::from_client(&json!({"humanSeverity": "loud"})).unwrap_err();
        assert!(e.contains("loud"), "{e}");
        let e =
            UserSettings::from_client(&json!({"heuristics": {"bulkInsert": "yes"}})).unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
    }

    #[test]
    fn unset_keys_keep_the_repository_settings() {
        let repo = BulkEditHeuristic {
            enabled: false,
            min_lines: 5,
            ..BulkEditHeuristic::default()
        };
        let user = UserSettings::from_client(&json!({"heuristics": {"multiHunk": false}})).unwrap();
        let got = user.heuristic(repo);
        assert!(!got.enabled && !got.multi_hunk);
        assert_eq!(got.min_lines, 5);
        let policy = PolicyConfig {
            human_severity: Level::Off,
        };
        assert_eq!(user.policy(&policy).human_severity, Level::Off);
        let user = UserSettings::from_client(&json!({"humanSeverity": "error"})).unwrap();
        assert_eq!(user.policy(&policy).human_severity, Level::Error);
    }

    #[test]
    fn unnamed_ai_edits_take_the_configured_agent() {
        let user = UserSettings::from_client(&json!({"agent": "copilot"})).unwrap();
        assert_eq!(user.agent_for(""), "copilot");
        assert_eq!(user.agent_for("cursor"), "cursor");
        assert_eq!(UserSettings::default().agent_for("  "), "assistant");
    }
}
