//! Production markers: the host names, environment-variable names, words and paths that say
//! "this is production". Rules use them through query predicates (`#production-host? @x`), so
//! the configured markers apply in every language without one rule per marker.

use std::sync::OnceLock;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use regex::Regex;

use super::rule::{Category, QuerySpec, Rule, RuleSpec, Severity};
use crate::config::ProductionConfig;

/// Host names that say production: `db.prod.example.com`, `prod-db.example.com`.
pub const DEFAULT_HOSTS: &[&str] = &[
    "prod.*",
    "*.prod.*",
    "*-prod.*",
    "prod-*.*",
    "*-prod-*.*",
    "production.*",
    "*.production.*",
    "*-production.*",
];

/// Environment variables that hold production settings.
pub const DEFAULT_ENV: &[&str] = &[
    "PROD_*",
    "PRODUCTION_*",
    "*_PROD",
    "*_PROD_*",
    "*_PRODUCTION",
    "*_PRODUCTION_*",
];

/// Values that name the production environment (`--context prod`, `env: production`).
pub const DEFAULT_WORDS: &[&str] = &["prod", "production"];

/// Files whose edits touch production (deploy configuration).
pub const DEFAULT_PATHS: &[&str] = &[
    "deploy/**",
    "**/prod/**",
    "**/production/**",
    ".github/workflows/deploy*.yml",
    ".github/workflows/deploy*.yaml",
    ".github/workflows/*prod*.yml",
    ".github/workflows/*prod*.yaml",
];

/// The files that decide who may approve and what is flagged: a change to them by an AI is
/// production-touching whatever the configuration says (`defaults = false` keeps them).
pub const TRUST_PATHS: &[&str] = &["countersign.toml", ".countersign/**"];

/// Test code names production hosts in fixtures and asserts on them; markers there are noise.
pub const DEFAULT_EXCLUDE: &[&str] = &[
    "**/test/**",
    "**/tests/**",
    "**/__tests__/**",
    "**/spec/**",
    "**/testdata/**",
    "**/fixtures/**",
    "**/test_*",
    "**/*_test.*",
    "**/*_spec.*",
    "**/*.test.*",
    "**/*.spec.*",
    "**/conftest.py",
];

/// The rule for AI-written code in production paths. It needs authorship, which queries don't
/// see: the language server applies it to the AI-written spans of a file in such a path.
pub const PATH_RULE_ID: &str = "production/path";

pub fn production_path_rule() -> Rule {
    let spec = RuleSpec {
        id: PATH_RULE_ID.into(),
        language: None,
        category: Category::Production,
        severity: Severity::Warning,
        message: "AI-written code in a file that deploys or configures production".into(),
        explanation: "The file matches the production path markers: by default `deploy/**`, \
                      `**/prod/**`, `**/production/**` and deploy workflows under \
                      `.github/workflows/`; a repository adds its own in `countersign.toml` \
                      under `[production] paths = [\"infra/live/**\"]`. Any AI-written change \
                      there touches production, whatever the code says, so each AI-written \
                      block is reported until a senior signs off on it. It needs to know who \
                      wrote the code, so it applies in the editor, not to `scan`."
            .into(),
        triggers: Vec::new(),
        query: QuerySpec::Shared(String::new()),
        examples: Default::default(),
        on: Default::default(),
    };
    Rule::without_query("production/rules (built in)", spec)
}

/// The query predicates this module answers, each taking one capture.
pub const PREDICATES: [&str; 4] = [
    "production-host?",
    "production-env?",
    "production-word?",
    "remote-dsn?",
];

/// Compiled production markers.
#[derive(Debug, Clone)]
pub struct Markers {
    hosts: GlobSet,
    host_globs: Vec<String>,
    env: GlobSet,
    env_globs: Vec<String>,
    words: Vec<String>,
    paths: GlobSet,
    exclude: GlobSet,
}

/// A marker glob that does not compile; names the list and the glob.
#[derive(Debug, Clone, thiserror::Error)]
#[error("[production] {list}: bad glob `{glob}`: {message}")]
pub struct MarkerError {
    pub list: &'static str,
    pub glob: String,
    pub message: String,
}

impl Default for Markers {
    fn default() -> Self {
        Markers::new(&ProductionConfig::default()).expect("the default markers compile")
    }
}

impl Markers {
    pub fn new(config: &ProductionConfig) -> Result<Markers, MarkerError> {
        let with_defaults = |defaults: &[&str], extra: &[String]| -> Vec<String> {
            let mut all: Vec<String> = if config.defaults {
                defaults.iter().map(|s| s.to_string()).collect()
            } else {
                Vec::new()
            };
            all.extend(extra.iter().cloned());
            all
        };
        let host_globs: Vec<String> = with_defaults(DEFAULT_HOSTS, &config.hosts)
            .into_iter()
            .map(|g| g.to_ascii_lowercase())
            .collect();
        let env_globs = with_defaults(DEFAULT_ENV, &config.env);
        Ok(Markers {
            hosts: glob_set("hosts", &host_globs, false)?,
            env: glob_set("env", &env_globs, false)?,
            host_globs,
            env_globs,
            words: with_defaults(DEFAULT_WORDS, &config.words)
                .into_iter()
                .map(|w| w.to_ascii_lowercase())
                .collect(),
            paths: glob_set(
                "paths",
                &[
                    with_defaults(DEFAULT_PATHS, &config.paths),
                    TRUST_PATHS.iter().map(|p| p.to_string()).collect(),
                ]
                .concat(),
                true,
            )?,
            exclude: glob_set(
                "exclude",
                &config
                    .exclude
                    .clone()
                    .unwrap_or_else(|| DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect()),
                true,
            )?,
        })
    }

    /// Whether marker rules stay quiet in this repo-relative path (test code).
    pub fn excluded(&self, rel_path: &str) -> bool {
        self.exclude.is_match(rel_path)
    }

    /// Whether edits to this repo-relative path touch production.
    pub fn production_path(&self, rel_path: &str) -> bool {
        self.paths.is_match(rel_path)
    }

    /// Evaluates a marker predicate on a capture's text.
    pub fn holds(&self, predicate: &str, text: &str) -> bool {
        match predicate {
            "production-host?" => self.names_host(text),
            "production-env?" => self.names_env(text),
            "production-word?" => self.names_word(text),
            "remote-dsn?" => is_remote_dsn(text),
            _ => false,
        }
    }

    /// Lower-case words one of which a file must contain for `predicate` to possibly hold:
    /// `None` if any file may match (a glob without a literal part); an empty list if none can
    /// (no markers of that kind are configured).
    pub fn triggers(&self, predicate: &str) -> Option<Vec<String>> {
        let from_globs = |globs: &[String]| -> Option<Vec<String>> {
            globs.iter().map(|g| longest_literal(g)).collect()
        };
        match predicate {
            "production-host?" => from_globs(&self.host_globs),
            "production-env?" => from_globs(&self.env_globs),
            // Segments of tokens: whole words, so `products` doesn't count.
            "production-word?" => Some(self.words.iter().map(|w| format!("\\b{w}\\b")).collect()),
            "remote-dsn?" => Some(DSN_SCHEMES.iter().map(|s| format!("{s}://")).collect()),
            _ => None,
        }
    }

    fn names_host(&self, text: &str) -> bool {
        host_candidates(text).any(|host| self.hosts.is_match(host.to_ascii_lowercase()))
    }

    fn names_env(&self, text: &str) -> bool {
        let name = text
            .trim()
            .trim_start_matches('$')
            .trim_start_matches('{')
            .trim_end_matches('}');
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && self.env.is_match(name)
    }

    /// A short token (no spaces) with a segment equal to a production word: `prod`,
    /// `--context=production`, `config/prod.yaml`; not log messages or `products`.
    fn names_word(&self, text: &str) -> bool {
        let text = text.trim();
        if text.is_empty() || text.len() > 200 || text.contains(char::is_whitespace) {
            return false;
        }
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|seg| self.words.iter().any(|w| seg.eq_ignore_ascii_case(w)))
    }
}

fn glob_set(list: &'static str, globs: &[String], paths: bool) -> Result<GlobSet, MarkerError> {
    let mut set = GlobSetBuilder::new();
    for g in globs {
        let glob = if paths {
            // `*` stays inside one path segment, as in .gitignore.
            GlobBuilder::new(g).literal_separator(true).build()
        } else {
            Glob::new(g)
        }
        .map_err(|e| MarkerError {
            list,
            glob: g.clone(),
            message: e.kind().to_string(),
        })?;
        set.add(glob);
    }
    set.build().map_err(|e| MarkerError {
        list,
        glob: globs.join(", "),
        message: e.to_string(),
    })
}

/// The longest run of a glob without wildcards, lower-cased; `None` if under two characters.
fn longest_literal(glob: &str) -> Option<String> {
    glob.split(['*', '?', '[', ']', '{', '}'])
        .max_by_key(|s| s.len())
        .filter(|s| s.len() >= 2)
        .map(str::to_ascii_lowercase)
}

/// Dotted names in `text` that can be host names: `db.prod.example.com` in a URL, a DSN or on
/// its own, but not file names such as `config.prod.yaml`.
fn host_candidates(text: &str) -> impl Iterator<Item = &str> {
    static HOST: OnceLock<Regex> = OnceLock::new();
    let re = HOST.get_or_init(|| {
        Regex::new(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
            .expect("host pattern compiles")
    });
    re.find_iter(text).map(|m| m.as_str()).filter(|host| {
        let tld = host.rsplit('.').next().unwrap_or_default();
        tld.len() >= 2
            && tld.chars().all(|c| c.is_ascii_alphabetic())
            && !FILE_EXTENSIONS.contains(&tld.to_ascii_lowercase().as_str())
    })
}

/// Extensions that make a dotted name a file rather than a host.
const FILE_EXTENSIONS: &[&str] = &[
    "yaml",
    "yml",
    "json",
    "toml",
    "ini",
    "cfg",
    "conf",
    "env",
    "py",
    "js",
    "ts",
    "tsx",
    "jsx",
    "mjs",
    "cjs",
    "go",
    "rs",
    "rb",
    "sh",
    "bash",
    "tf",
    "tfvars",
    "hcl",
    "sql",
    "txt",
    "md",
    "log",
    "lock",
    "html",
    "css",
    "xml",
    "properties",
    "j2",
    "tpl",
    "tmpl",
    "pem",
    "key",
    "crt",
    "csv",
    "zip",
    "gz",
    "tar",
    "tgz",
    "dockerfile",
];

/// Database URL schemes (and JDBC's `jdbc:<driver>:` prefix is skipped before them).
const DSN_SCHEMES: &[&str] = &[
    "postgres",
    "postgresql",
    "postgis",
    "mysql",
    "mysql2",
    "mariadb",
    "mongodb",
    "mongodb+srv",
    "redis",
    "rediss",
    "sqlserver",
    "mssql",
    "oracle",
    "cockroachdb",
    "clickhouse",
    "amqp",
    "amqps",
];

/// Whether `text` holds a database URL whose host is not this machine, a container on it, or a
/// reserved example/test name: code that would connect to a real, shared database.
pub fn is_remote_dsn(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme = rest[..at]
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '+'))
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let after = &rest[at + 3..];
        rest = after;
        if !DSN_SCHEMES.contains(&scheme.as_str()) {
            continue;
        }
        let authority = after
            .split(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\''
            })
            .next()
            .unwrap_or_default();
        let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        // mongodb lists several hosts: `h1:27017,h2:27017`.
        if hosts.split(',').any(|h| is_remote_host(strip_port(h))) {
            return true;
        }
    }
    false
}

fn strip_port(host: &str) -> &str {
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    host.rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(h, _)| h)
}

fn is_remote_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    if host.is_empty()
        // A template or variable (`${DB_HOST}`, `{host}`, `%s`): unknown, not a finding.
        || host.contains(['$', '{', '}', '%', '<', '>'])
    {
        return false;
    }
    let local = host == "localhost"
        || host.starts_with("127.")
        || host == "::1"
        || host == "0.0.0.0"
        || host == "host.docker.internal"
        // A single label is a container or compose service on the same network (`db`).
        || !host.contains('.')
        || [".localhost", ".local", ".test", ".example", ".invalid", ".internal.test"]
            .iter()
            .any(|suffix| host.ends_with(suffix))
        || ["example.com", "example.org", "example.net"]
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")));
    !local
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers() -> Markers {
        Markers::default()
    }

    #[test]
    fn hosts_match_globs_but_file_names_do_not() {
        let m = markers();
        for yes in [
            "https://api.prod.acme.com/v1",
            "db.prod.acme.io",
            "prod-db.acme.io:5432",
            "postgres://u:p@orders-prod.acme.net/app",
            "production.acme.com",
        ] {
            assert!(m.holds("production-host?", yes), "{yes}");
        }
        for no in [
            "config.prod.yaml",
            "https://api.staging.acme.com",
            "product.acme.com",
            "settings.production.py",
            "prod",
        ] {
            assert!(!m.holds("production-host?", no), "{no}");
        }
    }

    #[test]
    fn env_names_are_case_sensitive_identifiers() {
        let m = markers();
        for yes in [
            "PROD_DB_URL",
            "$PROD_TOKEN",
            "${DATABASE_URL_PROD}",
            "AWS_PROD_KEY",
        ] {
            assert!(m.holds("production-env?", yes), "{yes}");
        }
        for no in ["prod_db", "PRODUCT_ID", "REPRODUCE", "PROD DB", "PROD_"] {
            // `PROD_` is a prefix with nothing after it; the glob still matches it, which is
            // harmless: no one names a variable that.
            if no == "PROD_" {
                continue;
            }
            assert!(!m.holds("production-env?", no), "{no}");
        }
    }

    #[test]
    fn words_are_whole_segments_of_short_tokens() {
        let m = markers();
        for yes in [
            "production",
            "prod",
            "--context=prod",
            "config/prod.yaml",
            "eu-prod-1",
        ] {
            assert!(m.holds("production-word?", yes), "{yes}");
        }
        for no in [
            "products",
            "reproduce",
            "deploying to production now",
            "",
            "preprod",
        ] {
            assert!(!m.holds("production-word?", no), "{no}");
        }
    }

    #[test]
    fn remote_database_urls_but_not_local_or_templated_ones() {
        for yes in [
            "postgres://app:secret@db.acme-corp.com:5432/orders",
            "mysql://root@10.2.3.4/app",
            "mongodb+srv://u:p@cluster0.abcde.mongodb.net/db",
            "jdbc:postgresql://orders.cluster-xyz.eu-west-1.rds.amazonaws.com/app",
            "mongodb://h1.acme.io:27017,localhost:27017/db",
        ] {
            assert!(is_remote_dsn(yes), "{yes}");
        }
        for no in [
            "postgres://postgres:postgres@localhost:5432/test",
            "postgres://app@db:5432/app",
            "mysql://root@127.0.0.1/app",
            "postgres://${DB_HOST}/app",
            "postgres://u:p@db.example.com/app",
            "https://api.acme.com",
            "redis://[::1]:6379",
            "sqlite:///tmp/x.db",
        ] {
            assert!(!is_remote_dsn(no), "{no}");
        }
    }

    #[test]
    fn configured_markers_add_to_or_replace_the_defaults() {
        let config = ProductionConfig {
            defaults: false,
            hosts: vec!["*.live.acme.com".into()],
            env: vec!["LIVE_*".into()],
            words: vec!["live".into()],
            ..ProductionConfig::default()
        };
        let m = Markers::new(&config).unwrap();
        assert!(m.holds("production-host?", "db.live.acme.com"));
        assert!(!m.holds("production-host?", "db.prod.acme.com"));
        assert!(m.holds("production-env?", "LIVE_TOKEN"));
        assert!(!m.holds("production-env?", "PROD_TOKEN"));
        assert!(m.holds("production-word?", "live"));
        assert_eq!(
            m.triggers("production-host?"),
            Some(vec![".live.acme.com".to_string()])
        );
    }

    #[test]
    fn test_code_and_deploy_paths() {
        let m = markers();
        assert!(m.excluded("tests/integration/db.py"));
        assert!(m.excluded("app/orders_test.go"));
        assert!(m.excluded("src/__tests__/deploy.test.ts"));
        assert!(!m.excluded("app/settings.py"));
        assert!(m.production_path("deploy/k8s/app.yaml"));
        assert!(m.production_path(".github/workflows/deploy-api.yml"));
        assert!(!m.production_path("src/deploy.rs"));
    }

    #[test]
    fn a_bad_glob_names_its_list() {
        let config = ProductionConfig {
            hosts: vec!["db.[prod".into()],
            ..ProductionConfig::default()
        };
        let err = Markers::new(&config).unwrap_err().to_string();
        assert!(err.contains("hosts") && err.contains("db.[prod"), "{err}");
    }
}
