//! `countersign.toml`: one schema for the server and the CLI. Every key is optional; unknown
//! keys are errors that name the file, the key and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::{RuleSpec, Severity};
use crate::provenance::BulkEditHeuristic;

pub const FILE_NAME: &str = "countersign.toml";

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub provenance: ProvenanceConfig,
    pub policy: PolicyConfig,
    pub production: ProductionConfig,
    pub signoff: SignoffConfig,
    /// Severity overrides by rule id; `off` turns a rule off.
    pub severity: BTreeMap<String, Level>,
    /// The repository's own rules, in the same schema as the built-in rule files.
    pub rules: Vec<RuleSpec>,
}

impl Config {
    /// Whether the rules, markers and severities are the built-in ones.
    pub fn uses_builtin_rules(&self) -> bool {
        self.rules.is_empty()
            && self.severity.is_empty()
            && self.production == ProductionConfig::default()
    }
}

/// What marks code as production-touching, added to the built-in markers (see
/// `analysis::markers`) unless `defaults = false`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProductionConfig {
    /// Keep the built-in markers and add these to them.
    pub defaults: bool,
    /// Host globs: `*.prod.example.com`.
    pub hosts: Vec<String>,
    /// Environment-variable globs: `PROD_*`, `*_PRODUCTION_*`.
    pub env: Vec<String>,
    /// Values that name the production environment: `prod`, `live`.
    pub words: Vec<String>,
    /// Path globs whose files deploy or configure production: `infra/prod/**`.
    pub paths: Vec<String>,
    /// Path globs where markers are not reported; replaces the built-in test-code globs when
    /// given (`exclude = []` reports markers everywhere).
    pub exclude: Option<Vec<String>>,
}

impl Default for ProductionConfig {
    fn default() -> Self {
        ProductionConfig {
            defaults: true,
            hosts: Vec::new(),
            env: Vec::new(),
            words: Vec::new(),
            paths: Vec::new(),
            exclude: None,
        }
    }
}

/// How authorship is inferred.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProvenanceConfig {
    /// Attribute a single change that inserts many lines at once to an AI.
    pub bulk_insert: bool,
    /// How many lines one change must insert to count as a bulk (AI) edit.
    pub bulk_insert_min_lines: usize,
    /// Attribute one change set that writes different code in several places at once (an
    /// assistant applying a multi-hunk edit) to an AI. Multi-cursor typing writes the same
    /// text everywhere and stays human.
    pub multi_hunk: bool,
    /// How many non-blank characters each of those hunks must write.
    pub multi_hunk_min_chars: usize,
    /// Lines that changed on disk under an open, clean buffer without an agent hook
    /// recording them: `false` leaves them of unknown authorship (a `git pull`, a formatter),
    /// `true` counts them as AI-written.
    pub unknown_disk_edits_are_ai: bool,
    /// Which commit trailers make the lines a commit wrote AI-written (`[provenance.git]`).
    pub git: crate::provenance::git::TrailerRules,
}

impl Default for ProvenanceConfig {
    fn default() -> Self {
        let h = BulkEditHeuristic::default();
        ProvenanceConfig {
            bulk_insert: h.enabled,
            bulk_insert_min_lines: h.min_lines,
            multi_hunk: h.multi_hunk,
            multi_hunk_min_chars: h.multi_hunk_min_chars,
            unknown_disk_edits_are_ai: false,
            git: Default::default(),
        }
    }
}

impl ProvenanceConfig {
    pub fn bulk_edit(&self) -> BulkEditHeuristic {
        BulkEditHeuristic {
            enabled: self.bulk_insert,
            min_lines: self.bulk_insert_min_lines,
            multi_hunk: self.multi_hunk,
            multi_hunk_min_chars: self.multi_hunk_min_chars,
        }
    }
}

/// Who may approve, and who hears about requests.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignoffConfig {
    /// Let the person who asked for a sign-off approve it too (a team of one).
    pub allow_self_approval: bool,
    /// `check` accepts an approval given for the same code under one of the file's earlier
    /// names (git's rename detection); `false` asks for a new sign-off after a rename.
    pub approvals_follow_renames: bool,
    /// Who hears about requests and approvals: `[signoff.notify]`.
    pub notify: crate::signoff::notify::NotifyConfig,
}

impl Default for SignoffConfig {
    fn default() -> Self {
        SignoffConfig {
            allow_self_approval: false,
            approvals_follow_renames: true,
            notify: Default::default(),
        }
    }
}

/// How findings become diagnostics.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Severity of risky code a person wrote (or of unknown authorship): `off`, `hint`,
    /// `info`, `warning`, `error`.
    pub human_severity: Level,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            human_severity: Level::Hint,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Off,
    Hint,
    /// `information` is what editors call it.
    #[serde(alias = "information")]
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Hint => "hint",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }

    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Off => None,
            Level::Hint => Some(Severity::Hint),
            Level::Info => Some(Severity::Info),
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl Config {
    /// Reads `countersign.toml` in `root`; a missing file means the defaults.
    pub fn load_from_root(root: &Path) -> Result<Config, ConfigError> {
        let path = root.join(FILE_NAME);
        if !path.exists() {
            return Ok(Config::default());
        }
        Config::load(&path)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_take_defaults() {
        let c = Config::parse(
            Path::new("countersign.toml"),
            "[provenance]\nbulk_insert_min_lines = 4\n",
        )
        .unwrap();
        assert_eq!(c.provenance.bulk_insert_min_lines, 4);
        assert!(c.provenance.bulk_insert);
        assert_eq!(c.policy.human_severity, Level::Hint);
    }

    #[test]
    fn unknown_keys_name_the_file_key_and_line() {
        let err = Config::parse(
            Path::new("repo/countersign.toml"),
            "[policy]\nhuman_severty = \"off\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("repo/countersign.toml")
                && err.contains("human_severty")
                && err.contains("line 2"),
            "{err}"
        );
    }
}
