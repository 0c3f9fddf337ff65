//! Any text as `countersign.toml`: parsing it and building the rule set it configures (its own
//! rules' tree-sitter queries compiled, its globs and markers built) must end in a rule set or
//! in errors, never a panic or a hang. A rule set that loads is run over the rules' own
//! examples, which exercises the user's predicates and trigger words.
#![no_main]

use std::collections::BTreeSet;
use std::path::Path;

use countersign::analysis::rule::QuerySpec;
use countersign::analysis::{analyze_text, RuleSet};
use countersign::config::Config;
use countersign_grammars::Lang;
use libfuzzer_sys::fuzz_target;

/// Languages the repository's rules name: each one's queries (the built-in ones too) are
/// compiled when the rule set is built.
fn languages_named(config: &Config) -> usize {
    let mut names = BTreeSet::new();
    for spec in &config.rules {
        if let Some(langs) = &spec.language {
            names.extend(langs.names().into_iter().map(str::to_string));
        }
        if let QuerySpec::PerLanguage(queries) = &spec.query {
            names.extend(
                queries
                    .keys()
                    .flat_map(|k| k.split(',').map(|n| n.trim().to_string())),
            );
        }
    }
    names.len()
}

/// Compiling every rule of one language takes about a second under AddressSanitizer; more
/// than this many languages per input would run into the per-input timeout without a bug.
const MAX_LANGUAGES: usize = 3;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::parse(Path::new("countersign.toml"), text) else {
        return;
    };
    let _ = config.provenance.bulk_edit();
    if languages_named(&config) > MAX_LANGUAGES {
        return;
    }
    let rules = match RuleSet::configured(&config, "countersign.toml") {
        Ok(rules) => rules,
        Err(errors) => {
            assert!(!errors.is_empty(), "a failure names its errors");
            for e in &errors {
                let _ = e.to_string();
            }
            return;
        }
    };
    for spec in &config.rules {
        let Some(rule) = rules.get(&spec.id) else {
            continue;
        };
        let examples = spec.examples.flag.iter().chain(&spec.examples.ok).chain(
            spec.examples
                .per_language
                .values()
                .flat_map(|e| e.flag.iter().chain(&e.ok)),
        );
        for example in examples.take(8) {
            for &lang in rule.langs.iter().take(3) {
                for path in ["db/migrate/1.sql", "deploy/prod/run.sh"] {
                    analyze_text(&rules, lang, example, path);
                }
            }
        }
    }
    // The built-in sample every configured set sees: the production markers' predicates.
    let sample = "psql postgres://admin@db.prod.example.com/app -c 'DROP TABLE users;'\n";
    analyze_text(&rules, Lang::Bash, sample, "deploy/prod/run.sh");
});
