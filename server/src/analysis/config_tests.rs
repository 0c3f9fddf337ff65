//! The rule set a repository's `countersign.toml` asks for.

use std::path::Path;

use super::*;
use crate::config::Config;

fn configured(toml: &str) -> Result<RuleSet, String> {
    let config = Config::parse(Path::new("countersign.toml"), toml).map_err(|e| e.to_string())?;
    RuleSet::configured(&config, "repo/countersign.toml").map_err(|errors| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn a_repository_rule_runs_next_to_the_builtin_ones() {
    let rules = configured(
        r#"
[[rules]]
id = "acme/drop-ledger"
language = "sql"
category = "destructive"
severity = "error"
message = "the ledger table is the books of record"
explanation = "Never drop or truncate the ledger."
triggers = ["ledger"]
query = '((statement (keyword_truncate) (object_reference name: (identifier) @t)) @finding (#eq? @t "ledger"))'
[rules.examples]
flag = ["TRUNCATE ledger;"]
ok = ["TRUNCATE sessions;"]
"#,
    )
    .unwrap();
    let found = analyze_text(&rules, Lang::Sql, "TRUNCATE ledger;\n", "x.sql");
    let ids: Vec<&str> = found.iter().map(|f| f.rule.id()).collect();
    assert!(ids.contains(&"acme/drop-ledger"), "{ids:?}");
    assert!(ids.contains(&"sql/truncate"), "{ids:?}");
    assert_eq!(
        rules.get("acme/drop-ledger").unwrap().origin,
        "repo/countersign.toml"
    );
    // Its trigger word joins the prefilter.
    assert!(rules.may_match(Lang::Sql, b"truncate ledger"));
}

#[test]
fn severity_overrides_change_or_turn_off_rules() {
    let rules =
        configured("[severity]\n\"sql/drop-table\" = \"warning\"\n\"sql/truncate\" = \"off\"\n")
            .unwrap();
    assert_eq!(
        rules.get("sql/drop-table").unwrap().spec.severity,
        Severity::Warning
    );
    assert!(rules.get("sql/truncate").is_none());
    let found = analyze_text(&rules, Lang::Sql, "TRUNCATE t;\nDROP TABLE t;\n", "x.sql");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule.spec.severity, Severity::Warning);
}

#[test]
fn a_broken_repository_rule_names_the_file_the_rule_and_the_query_position() {
    let err = configured(
        r#"
[[rules]]
id = "acme/bad"
language = "sql"
category = "destructive"
severity = "error"
message = "m"
explanation = "e"
query = """
(drop_table) @finding
(no_such_node) @finding
"""
"#,
    )
    .unwrap_err();
    assert!(
        err.contains("repo/countersign.toml")
            && err.contains("acme/bad")
            && err.contains("line 2, column 2"),
        "{err}"
    );
}

#[test]
fn unknown_ids_languages_and_globs_are_reported() {
    let err = configured("[severity]\n\"sql/drop-tabel\" = \"off\"\n").unwrap_err();
    assert!(
        err.contains("sql/drop-tabel") && err.contains("rules list"),
        "{err}"
    );
    let err = configured(
        "[[rules]]\nid = \"a/b\"\nlanguage = \"cobol\"\ncategory = \"destructive\"\nseverity = \"error\"\nmessage = \"m\"\nexplanation = \"e\"\nquery = \"(x) @finding\"\n",
    )
    .unwrap_err();
    assert!(err.contains("cobol") && err.contains("a/b"), "{err}");
    let err = configured("[production]\nhosts = [\"db.[prod\"]\n").unwrap_err();
    assert!(err.contains("hosts") && err.contains("db.[prod"), "{err}");
    let err = configured("[[rules]]\nid = \"sql/drop-table\"\nlanguage = \"sql\"\ncategory = \"destructive\"\nseverity = \"error\"\nmessage = \"m\"\nexplanation = \"e\"\nquery = \"(drop_table) @finding\"\n").unwrap_err();
    assert!(err.contains("already used"), "{err}");
}

#[test]
fn configured_production_markers_drive_the_marker_rules() {
    let rules = configured(
        "[production]\ndefaults = false\nhosts = [\"*.live.acme.com\"]\nenv = [\"LIVE_*\"]\nwords = [\"live\"]\n",
    )
    .unwrap();
    let text =
        "a = 'https://api.live.acme.com'\nb = os.environ['LIVE_TOKEN']\nc = 'db.prod.acme.com'\n";
    let found = analyze_text(&rules, Lang::Python, text, "app/x.py");
    let ids: Vec<&str> = found.iter().map(|f| f.rule.id()).collect();
    assert!(ids.contains(&"production/host"), "{ids:?}");
    assert!(ids.contains(&"production/env-var"), "{ids:?}");
    assert!(
        !found.iter().any(|f| f.snippet.contains("prod.acme")),
        "{found:?}"
    );
    // The prefilter follows the configured globs.
    assert!(rules.may_match(Lang::Python, b"x = 'api.live.acme.com'"));
    // Test code stays quiet.
    let in_tests = analyze_text(&rules, Lang::Python, text, "tests/test_x.py");
    assert!(in_tests.is_empty(), "{in_tests:?}");
}

#[test]
fn overlapping_findings_are_shown_once() {
    let rules = RuleSet::builtin().unwrap();
    let text =
        "import os\nos.system(\"rm -rf /var/data\")\nurl = \"postgres://u@db.prod.acme.com/x\"\n";
    let found = analyze_text(&rules, Lang::Python, text, "app.py");
    let shown: Vec<&str> = deduplicate(&found).iter().map(|f| f.rule.id()).collect();
    assert!(found.len() > shown.len(), "{found:?}");
    assert_eq!(
        shown,
        ["shell/rm-rf", "production/database-url"],
        "{found:?}"
    );
}

#[test]
fn whole_word_triggers_skip_files_that_only_contain_longer_words() {
    let config = Config::parse(
        Path::new("countersign.toml"),
        "[production]\ndefaults = false\nwords = [\"prod\"]\n",
    )
    .unwrap();
    let rules = RuleSet::configured(&config, "countersign.toml").unwrap();
    let quiet: &[u8] = b"x = 1  # see the product page\n";
    let findings = analyze_text(
        &rules,
        Lang::Python,
        std::str::from_utf8(quiet).unwrap(),
        "a.py",
    );
    assert!(findings.is_empty());
    assert!(!rules.may_match(Lang::Python, quiet));
    for text in [
        "env = 'prod'\n",
        "x = 'prod_db'\n",
        "x = '--context=PROD'\n",
    ] {
        assert!(rules.may_match(Lang::Python, text.as_bytes()), "{text}");
        assert!(
            !analyze_text(&rules, Lang::Python, text, "a.py").is_empty(),
            "{text}"
        );
    }
}

/// Querying a whole file only around its trigger words finds exactly what walking every node
/// does, on every rule example and on the fixture tree.
#[test]
fn trigger_windows_find_what_a_full_walk_finds() {
    let windowed = RuleSet::builtin().unwrap();
    let full = RuleSet::builtin().unwrap().without_query_windows();
    let mut texts: Vec<(Lang, String)> = Vec::new();
    for rule in windowed.rules() {
        for &lang in &rule.langs {
            let (flag, ok) = rule.examples_for(lang);
            texts.extend(flag.iter().chain(&ok).map(|t| (lang, t.to_string())));
        }
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    for entry in ignore::WalkBuilder::new(&fixtures).hidden(false).build() {
        let path = entry.unwrap().into_path();
        if let (Some(lang), Ok(text)) = (Lang::from_path(&path), std::fs::read_to_string(&path)) {
            texts.push((lang, text));
        }
    }
    // Long files, where hits fall in several windows or in too many for windows.
    let long = |unit: &str, n: usize| unit.repeat(n);
    texts.push((
        Lang::Python,
        long("x = 1\nimport os\nos.system('rm -rf /')\n# filler\n", 300),
    ));
    texts.push((
        Lang::Bash,
        long("echo hi\nrm -rf \"$X/\"\n", 40) + &"echo\n".repeat(3000) + "git push --force\n",
    ));
    texts.push((Lang::Sql, "SELECT 1;\n".repeat(5000) + "DROP TABLE t;\n"));
    assert!(texts.len() > 900, "{}", texts.len());
    let key = |f: &Finding| {
        (
            f.rule.id().to_string(),
            f.range.clone(),
            f.fingerprint.clone(),
        )
    };
    for (lang, text) in &texts {
        let a: Vec<_> = analyze_text(&windowed, *lang, text, "x")
            .iter()
            .map(key)
            .collect();
        let b: Vec<_> = analyze_text(&full, *lang, text, "x")
            .iter()
            .map(key)
            .collect();
        assert_eq!(a, b, "{lang}: {text:?}");
    }
}
