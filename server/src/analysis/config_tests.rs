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

/// Wide nodes (a mapping of thousands of keys, a command with hundreds of arguments) must not
/// make any query track partial matches per combination of children: tree-sitter evaluates
/// text predicates only once a match completes, so such a pattern costs O(n²) or worse. The
/// limit turns that into a failing check instead of a slow scan.
#[test]
fn no_query_tracks_a_partial_match_per_pair_of_children() {
    let many = |n: usize, f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<String>();
    let cases: Vec<(Lang, String)> = vec![
        (
            Lang::Yaml,
            format!(
                "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n{}    DeletionPolicy: Delete\n    command: [sh, -c]\n    args: [\"rm -rf /data\"]\n    environment: production\n    script: deploy\n",
                many(1500, &|i| format!("    key{i}: prod{i}\n"))
            ),
        ),
        (
            Lang::Bash,
            format!(
                "rm -rf {} \"$X/\"\ngit push {} --force\naws s3 rm {} --recursive\ndocker compose {} down -v\nfind {} -delete\nkubectl delete {} --all\n",
                many(300, &|i| format!("f{i} ")),
                many(300, &|i| format!("o{i} ")),
                many(300, &|i| format!("s3://b/{i} ")),
                many(300, &|i| format!("-f{i} ")),
                many(300, &|i| format!("d{i} ")),
                many(300, &|i| format!("pod{i} ")),
            ),
        ),
        (
            Lang::Python,
            format!(
                "import os, subprocess\nsubprocess.run([{}\"rm\", \"-rf\", \"/\"])\nrequests.get(url, {}verify=False)\nd = {{{}}}\n",
                many(300, &|i| format!("\"a{i}\", ")),
                many(300, &|i| format!("k{i}=1, ")),
                many(1000, &|i| format!("\"prod{i}\": os.remove(p{i}), "))
            ),
        ),
        (
            Lang::JavaScript,
            format!(
                "const o = {{{}}};\nexecSync([{}].join(' '));\nfs.rmSync(dir, {{{} recursive: true, force: true}});\n",
                many(1000, &|i| format!("k{i}: 'prod', "))
                    ,
                many(300, &|i| format!("'rm{i}', ")),
                many(300, &|i| format!("k{i}: 1, "))
            ),
        ),
        (
            Lang::Go,
            format!(
                "package main\nfunc f() {{\n\tos.RemoveAll(x)\n\texec.Command(\"sh\", \"-c\", {}\"rm -rf /\")\n\tdb.Exec(\"DROP TABLE t\", {})\n}}\n",
                many(300, &|i| format!("\"a{i}\", ")),
                many(300, &|i| format!("a{i}, "))
            ),
        ),
        (
            Lang::Hcl,
            format!(
                "resource \"aws_security_group_rule\" \"r\" {{\n{}  type = \"ingress\"\n  cidr_blocks = [\"0.0.0.0/0\"]\n  force_destroy = true\n}}\n",
                many(1500, &|i| format!("  a{i} = \"prod\"\n"))
            ),
        ),
        (
            Lang::Sql,
            format!(
                "INSERT INTO t VALUES {};\nSELECT {} FROM t;\nDELETE FROM t;\nGRANT ALL ON t TO PUBLIC;\n",
                many(1000, &|i| format!("({i}, 'prod'), ")) + "(0, 'x')",
                many(500, &|i| format!("c{i}, ")) + "c"
            ),
        ),
        (
            Lang::Rust,
            format!(
                "fn f() {{ let v = vec![{}]; sqlx::query!(\"DELETE FROM t\", {}); std::fs::remove_dir_all(p); }}\n",
                many(500, &|i| format!("\"prod{i}\", ")),
                many(300, &|i| format!("a{i}, "))
            ),
        ),
        (
            Lang::Dockerfile,
            format!("FROM debian\nRUN {} rm -rf /var/lib/x\n", many(300, &|i| format!("echo {i} && "))),
        ),
    ];
    let mut failed = Vec::new();
    for (lang, text) in &cases {
        let rules = RuleSet::builtin()
            .unwrap()
            .without_query_windows()
            .with_match_limit(512);
        analyze_text(&rules, *lang, text, "wide");
        if rules.exceeded_match_limit() {
            failed.push(lang.name());
        }
    }
    assert!(
        failed.is_empty(),
        "a query kept more than 512 partial matches on a wide node in: {failed:?}"
    );
}
