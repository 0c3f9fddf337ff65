//! The rule schema: a rule is data (id, category, severity, message, explanation, a tree-sitter
//! query and examples), loaded from TOML, the same schema for built-in and user rules.

use countersign_grammars::Lang;
use serde::{Deserialize, Serialize};

/// What kind of risk a rule describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Deletes data or infrastructure.
    Destructive,
    /// Touches production systems.
    Production,
    /// Turns off a safety mechanism (hooks, TLS checks, confirmations).
    SafetyBypass,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Destructive => "destructive",
            Category::Production => "production",
            Category::SafetyBypass => "safety-bypass",
        }
    }
}

/// How loud a finding is, ordered from quiet to loud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Hint,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Hint => "hint",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Snippets that must and must not produce a finding of the rule; they run as tests.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default)]
    pub flag: Vec<String>,
    #[serde(default)]
    pub ok: Vec<String>,
}

/// One language name or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Languages {
    One(String),
    Many(Vec<String>),
}

impl Languages {
    pub fn names(&self) -> Vec<&str> {
        match self {
            Languages::One(name) => vec![name.as_str()],
            Languages::Many(names) => names.iter().map(String::as_str).collect(),
        }
    }
}

impl std::fmt::Display for Languages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

/// A rule as written in a rule file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `<family>/<name>`, e.g. `sql/drop-table`.
    pub id: String,
    /// A language name from the grammar registry (`sql`, `bash`, `python`, …), or a list of
    /// them when one query fits several grammars (`["javascript", "typescript", "tsx"]`).
    pub language: Languages,
    pub category: Category,
    pub severity: Severity,
    /// One line shown in the diagnostic.
    pub message: String,
    /// Why it is risky and what to do instead; shown by `countersign rules explain`.
    pub explanation: String,
    /// Lower-case words one of which must appear in a file for the rule to possibly match;
    /// lets `scan` skip files without parsing them. Empty means "always parse".
    #[serde(default)]
    pub triggers: Vec<String>,
    /// A tree-sitter query; the `@finding` capture is the reported range.
    pub query: String,
    #[serde(default)]
    pub examples: Examples,
}

/// A loaded rule: its spec plus the resolved languages and where it came from.
#[derive(Debug, Clone)]
pub struct Rule {
    pub spec: RuleSpec,
    pub langs: Vec<Lang>,
    /// The file it was loaded from (`sql/rules/drop-table.toml` for built-in rules).
    pub origin: String,
}

impl Rule {
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    pub fn applies_to(&self, lang: Lang) -> bool {
        self.langs.contains(&lang)
    }
}

/// A rule file that could not be loaded; says which file and why.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RuleError {
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: rule `{id}` names unknown language `{language}` (known: {known})")]
    UnknownLanguage {
        origin: String,
        id: String,
        language: String,
        known: String,
    },
    #[error("{origin}: rule `{id}`: query error at line {row}, column {column}: {message}")]
    Query {
        origin: String,
        id: String,
        row: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: rule `{id}`: {message}")]
    Invalid {
        origin: String,
        id: String,
        message: String,
    },
}

impl Rule {
    /// Parses one rule file's TOML text.
    pub fn from_toml(origin: &str, text: &str) -> Result<Rule, RuleError> {
        let spec: RuleSpec = toml::from_str(text).map_err(|e| RuleError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        Rule::from_spec(origin, spec)
    }

    pub fn from_spec(origin: &str, spec: RuleSpec) -> Result<Rule, RuleError> {
        let names = spec.language.names();
        let mut langs = Vec::new();
        for name in &names {
            let lang = Lang::from_name(name).ok_or_else(|| RuleError::UnknownLanguage {
                origin: origin.to_string(),
                id: spec.id.clone(),
                language: name.to_string(),
                known: Lang::ALL.map(Lang::name).join(", "),
            })?;
            langs.push(lang);
        }
        if langs.is_empty() {
            return Err(RuleError::Invalid {
                origin: origin.to_string(),
                id: spec.id.clone(),
                message: "`language` names no language".into(),
            });
        }
        if !spec.id.contains('/') || spec.id.chars().any(char::is_whitespace) {
            return Err(RuleError::Invalid {
                origin: origin.to_string(),
                id: spec.id.clone(),
                message: "ids look like `family/name` without spaces".into(),
            });
        }
        let spec = RuleSpec {
            triggers: spec
                .triggers
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect(),
            ..spec
        };
        Ok(Rule {
            spec,
            langs,
            origin: origin.to_string(),
        })
    }
}
