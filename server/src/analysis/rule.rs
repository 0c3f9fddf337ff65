//! The rule schema: a rule is data (id, category, severity, message, explanation, a tree-sitter
//! query and examples), loaded from TOML, the same schema for built-in and user rules.

use countersign_grammars::Lang;
use std::collections::BTreeMap;

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

/// Snippets that must and must not produce a finding of the rule; they run as tests. A rule
/// with a query per language gives them per language too (`[examples.python]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Examples {
    #[serde(default)]
    pub flag: Vec<String>,
    #[serde(default)]
    pub ok: Vec<String>,
    /// Examples for one language (or a comma-separated list of them); any other key lands
    /// here too and is rejected when the rule is loaded.
    #[serde(flatten, default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_language: BTreeMap<String, Examples>,
}

/// The query: one for every language of the rule, or one per language (a table keyed by
/// language name, or by a comma-separated list of names that share a query).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum QuerySpec {
    Shared(String),
    PerLanguage(BTreeMap<String, String>),
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
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `<family>/<name>`, e.g. `sql/drop-table`.
    pub id: String,
    /// A language name from the grammar registry (`sql`, `bash`, `python`, …), or a list of
    /// them when one query fits several grammars (`["javascript", "typescript", "tsx"]`).
    /// May be left out when `query` is a table: its keys name the languages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Languages>,
    pub category: Category,
    pub severity: Severity,
    /// One line shown in the diagnostic.
    pub message: String,
    /// Why it is risky and what to do instead; shown by `countersign rules explain`.
    pub explanation: String,
    /// Lower-case words one of which must appear in a file for the rule to possibly match;
    /// lets `scan` skip files without parsing them. Empty means "always parse". A word written
    /// `\\bprod\\b` only counts as a whole word (not inside `product`).
    #[serde(default)]
    pub triggers: Vec<String>,
    /// A tree-sitter query; the `@finding` capture is the reported range.
    pub query: QuerySpec,
    #[serde(default)]
    pub examples: Examples,
    /// `removed`: the query matches a protection (`prevent_destroy = true`), and the rule
    /// reports when a change removes it. `check` runs these on the base version of changed
    /// files; everywhere else they stay quiet. Their `flag` examples are protections.
    #[serde(default, skip_serializing_if = "Side::is_added")]
    pub on: Side,
}

/// Which side of a change a rule looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The code as it is (the default).
    #[default]
    Added,
    /// The code a change takes away.
    Removed,
}

impl Side {
    pub fn is_added(&self) -> bool {
        *self == Side::Added
    }
}

/// A loaded rule: its spec plus the resolved languages and where it came from.
#[derive(Debug, Clone)]
pub struct Rule {
    pub spec: RuleSpec,
    pub langs: Vec<Lang>,
    /// The query of each language in `langs`, in the same order.
    queries: Vec<String>,
    /// The file it was loaded from (`sql/rules/drop-table.toml` for built-in rules).
    pub origin: String,
    /// Whether the rule reports production markers (and so stays quiet in test code).
    pub marker: bool,
}

/// Where each rule's documentation lives; the rule id is appended.
pub const RULE_DOCS_BASE: &str = "https://countersign.dev/rules/";

impl Rule {
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// The rule's documentation page.
    pub fn docs_url(&self) -> String {
        format!("{RULE_DOCS_BASE}{}", self.spec.id)
    }

    pub fn applies_to(&self, lang: Lang) -> bool {
        self.langs.contains(&lang)
    }

    /// The query run on files of `lang` (empty if the rule doesn't apply to it).
    pub fn query_for(&self, lang: Lang) -> &str {
        self.langs
            .iter()
            .position(|&l| l == lang)
            .map_or("", |i| &self.queries[i])
    }

    /// The examples that apply to `lang`: the shared ones plus that language's own.
    pub fn examples_for(&self, lang: Lang) -> (Vec<&str>, Vec<&str>) {
        let mut flag: Vec<&str> = self.spec.examples.flag.iter().map(String::as_str).collect();
        let mut ok: Vec<&str> = self.spec.examples.ok.iter().map(String::as_str).collect();
        for (key, examples) in &self.spec.examples.per_language {
            if key.split(',').any(|name| name.trim() == lang.name()) {
                flag.extend(examples.flag.iter().map(String::as_str));
                ok.extend(examples.ok.iter().map(String::as_str));
            }
        }
        (flag, ok)
    }

    /// A rule the engine applies itself rather than through a query (see
    /// [`super::markers::production_path_rule`]); it runs on no language's syntax tree.
    pub(crate) fn without_query(origin: &str, spec: RuleSpec) -> Rule {
        Rule {
            spec,
            langs: Vec::new(),
            queries: Vec::new(),
            origin: origin.to_string(),
            marker: false,
        }
    }

    /// The language names the rule was declared with, for listings.
    pub fn language_names(&self) -> String {
        self.langs
            .iter()
            .map(|l| l.name())
            .collect::<Vec<_>>()
            .join(",")
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
    #[error("{origin}: {message}")]
    Config { origin: String, message: String },
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
        let invalid = |message: String| RuleError::Invalid {
            origin: origin.to_string(),
            id: spec.id.clone(),
            message,
        };
        if !spec.id.contains('/') || spec.id.chars().any(char::is_whitespace) {
            return Err(invalid("ids look like `family/name` without spaces".into()));
        }
        let lang_of = |name: &str| {
            Lang::from_name(name).ok_or_else(|| RuleError::UnknownLanguage {
                origin: origin.to_string(),
                id: spec.id.clone(),
                language: name.to_string(),
                known: Lang::ALL.map(Lang::name).join(", "),
            })
        };
        let split =
            |key: &str| -> Vec<String> { key.split(',').map(|n| n.trim().to_string()).collect() };
        // (language, its query)
        let mut pairs: Vec<(Lang, String)> = Vec::new();
        match (&spec.query, &spec.language) {
            (QuerySpec::Shared(query), Some(language)) => {
                for name in language.names() {
                    pairs.push((lang_of(name)?, query.clone()));
                }
            }
            (QuerySpec::Shared(_), None) => {
                return Err(invalid(
                    "`language` is missing (it may only be left out when `query` is a table \
                     keyed by language)"
                        .into(),
                ))
            }
            (QuerySpec::PerLanguage(map), language) => {
                for (key, query) in map {
                    for name in split(key) {
                        pairs.push((lang_of(&name)?, query.clone()));
                    }
                }
                if let Some(language) = language {
                    let mut declared = Vec::new();
                    for name in language.names() {
                        declared.push(lang_of(name)?);
                    }
                    declared.sort();
                    let mut keyed: Vec<Lang> = pairs.iter().map(|(l, _)| *l).collect();
                    keyed.sort();
                    if declared != keyed {
                        return Err(invalid(
                            "the keys of the `query` table must name exactly the rule's \
                             languages"
                                .into(),
                        ));
                    }
                }
            }
        }
        if pairs.is_empty() {
            return Err(invalid("`language` names no language".into()));
        }
        let mut seen = Vec::new();
        for (lang, _) in &pairs {
            if seen.contains(lang) {
                return Err(invalid(format!("language `{lang}` is named twice")));
            }
            seen.push(*lang);
        }
        for (key, examples) in &spec.examples.per_language {
            if let Some(nested) = examples.per_language.keys().next() {
                return Err(invalid(format!(
                    "`examples.{key}.{nested}`: expected `flag` or `ok`"
                )));
            }
            for name in split(key) {
                if !seen.iter().any(|l| l.name() == name) {
                    return Err(invalid(format!(
                        "`examples.{key}`: expected `flag`, `ok` or one of the rule's languages \
                         ({})",
                        seen.iter().map(|l| l.name()).collect::<Vec<_>>().join(", ")
                    )));
                }
            }
        }
        let spec = RuleSpec {
            triggers: spec
                .triggers
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect(),
            ..spec
        };
        let marker = pairs.iter().any(|(_, q)| {
            super::markers::PREDICATES
                .iter()
                .any(|p| q.contains(&format!("#{p}")))
        });
        let (langs, queries) = pairs.into_iter().unzip();
        Ok(Rule {
            spec,
            langs,
            queries,
            origin: origin.to_string(),
            marker,
        })
    }
}
