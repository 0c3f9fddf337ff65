use super::*;

fn lines(errors: &[RuleError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn builtin() -> RuleSet {
    RuleSet::builtin()
        .unwrap_or_else(|errors| panic!("built-in rules must load:\n{}", lines(&errors)))
}

/// Every rule's `flag` examples must produce a finding of that rule, its `ok` examples none,
/// and the scan prefilter must never skip a `flag` example.
#[test]
fn rule_examples_flag_and_pass_as_documented() {
    let all = builtin();
    let removed = builtin().reporting(Side::Removed);
    let mut failures = Vec::new();
    for rule in all.rules() {
        let rules = if rule.spec.on == Side::Removed {
            &removed
        } else {
            &all
        };
        for &lang in &rule.langs {
            let (flag, ok) = rule.examples_for(lang);
            for example in &flag {
                let found = analyze_text(rules, lang, example, "example");
                if !found.iter().any(|f| f.rule.id() == rule.id()) {
                    failures.push(format!("{} ({lang}) should flag: {example:?}", rule.id()));
                }
                if !rules.may_match(lang, example.as_bytes()) {
                    failures.push(format!(
                        "{}: no trigger word in flag example {example:?}",
                        rule.id()
                    ));
                }
            }
            for example in &ok {
                let found = analyze_text(rules, lang, example, "example");
                if let Some(f) = found.iter().find(|f| f.rule.id() == rule.id()) {
                    failures.push(format!(
                        "{} ({lang}) should not flag: {example:?} (matched {:?})",
                        rule.id(),
                        f.snippet
                    ));
                }
            }
            if flag.is_empty() || ok.is_empty() {
                failures.push(format!(
                    "{} ({lang}) needs both flag and ok examples",
                    rule.id()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "rule example failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_first_slice_of_the_catalogue_is_present() {
    let rules = builtin();
    for id in [
        "sql/drop-table",
        "sql/truncate",
        "sql/delete-without-where",
        "shell/rm-rf",
        "shell/terraform-destroy",
    ] {
        assert!(rules.get(id).is_some(), "missing {id}");
    }
}

#[test]
fn findings_report_the_finding_capture_and_snippet() {
    let rules = builtin();
    let text = "SELECT 1;\nDROP TABLE users;\n";
    let found = analyze_text(&rules, Lang::Sql, text, "db/001.sql");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].snippet, "DROP TABLE users;");
    assert_eq!(&text[found[0].range.clone()], "DROP TABLE users;");
    assert_eq!(
        found[0].fingerprint,
        fingerprint("sql/drop-table", "db/001.sql", "DROP TABLE users;")
    );
}

#[test]
fn fingerprint_ignores_whitespace_but_not_code_or_place() {
    let a = fingerprint("sql/drop-table", "a.sql", "DROP TABLE users");
    assert_eq!(
        a,
        fingerprint("sql/drop-table", "a.sql", "DROP  TABLE\n   users")
    );
    assert_ne!(a, fingerprint("sql/drop-table", "a.sql", "DROP TABLE user"));
    assert_ne!(
        a,
        fingerprint("sql/drop-table", "b.sql", "DROP TABLE users")
    );
    assert_ne!(a, fingerprint("sql/truncate", "a.sql", "DROP TABLE users"));
    assert_eq!(a.len(), 64);
}

#[test]
fn a_broken_query_names_the_rule_file_and_position() {
    let text = r#"
id = "sql/broken"
language = "sql"
category = "destructive"
severity = "error"
message = "m"
explanation = "e"
query = "(drop_table) @finding\n(no_such_node) @finding"
"#;
    let rule = Rule::from_toml("custom/broken.toml", text).unwrap();
    let errors = RuleSet::new(vec![rule]).expect_err("must fail");
    let msg = errors[0].to_string();
    assert!(
        msg.contains("custom/broken.toml") && msg.contains("sql/broken") && msg.contains("line 2"),
        "{msg}"
    );
}

#[test]
fn rule_files_with_unknown_keys_or_languages_are_rejected_clearly() {
    let err = Rule::from_toml("x.toml", "id = \"a/b\"\nlanguage = \"cobol\"\ncategory = \"destructive\"\nseverity = \"error\"\nmessage = \"m\"\nexplanation = \"e\"\nquery = \"(x) @finding\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("cobol") && err.contains("sql"), "{err}");
    let err = Rule::from_toml("x.toml", "id = \"a/b\"\nlang = \"sql\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("x.toml") && err.contains("lang"), "{err}");
}

#[test]
fn unsupported_predicates_are_rejected() {
    let text = "id = \"sql/x\"\nlanguage = \"sql\"\ncategory = \"destructive\"\nseverity = \"error\"\nmessage = \"m\"\nexplanation = \"e\"\nquery = \"((drop_table) @finding (#frobnicate? @finding x))\"\n";
    let errors =
        RuleSet::new(vec![Rule::from_toml("x.toml", text).unwrap()]).expect_err("must fail");
    assert!(
        errors[0].to_string().contains("#frobnicate?"),
        "{}",
        errors[0]
    );
}

#[test]
fn prefilter_is_case_insensitive() {
    let rules = builtin();
    assert!(rules.may_match(Lang::Sql, b"drop table x"));
    assert!(rules.may_match(Lang::Sql, b"DrOp TABLE x"));
    assert!(!rules.may_match(Lang::Sql, b"SELECT 1"));
    assert!(!rules.may_match(Lang::Python, b"anything"));
}

#[test]
fn every_builtin_query_compiles() {
    let rules = builtin();
    if let Err(errors) = rules.compile_all() {
        panic!("{}", lines(&errors));
    }
}

#[test]
fn one_rule_can_serve_several_grammars() {
    let text = r#"
id = "js/eval"
language = ["javascript", "typescript", "tsx"]
category = "safety-bypass"
severity = "warning"
message = "m"
explanation = "e"
triggers = ["eval"]
query = '((call_expression function: (identifier) @f) @finding (#eq? @f "eval"))'
"#;
    let rules = RuleSet::new(vec![Rule::from_toml("js/eval.toml", text).unwrap()]).unwrap();
    for lang in [Lang::JavaScript, Lang::TypeScript, Lang::Tsx] {
        let found = analyze_text(&rules, lang, "const x: any = eval(code);", "a");
        assert_eq!(found.len(), 1, "{lang}");
    }
    assert!(analyze_text(&rules, Lang::Python, "eval(code)", "a").is_empty());
}

/// `(language, host code, rule, the code the finding must cover)`: embedded SQL and shell are
/// analysed with their own language's rules and reported at host-file positions.
const INJECTED: &[(Lang, &str, &str, &str)] = &[
    (Lang::Python, "cur.execute(\"DROP TABLE users\")\n", "sql/drop-table", "DROP TABLE users"),
    (Lang::Python, "conn.execute(text('DELETE FROM sessions'))\n", "sql/delete-without-where", "DELETE FROM sessions"),
    (Lang::Python, "os.system(\"rm -rf $HOME/cache\")\n", "shell/rm-rf", "rm -rf $HOME/cache"),
    (Lang::JavaScript, "await db.query('TRUNCATE orders');\n", "sql/truncate", "TRUNCATE orders"),
    (Lang::TypeScript, "const r = await sql`DROP TABLE ${t}`;\n", "sql/drop-table", "DROP TABLE"),
    (Lang::Tsx, "execSync(`terraform destroy -auto-approve`);\n", "shell/terraform-destroy", "terraform destroy -auto-approve"),
    (Lang::Go, "package m\nfunc f() { db.Exec(\"DROP TABLE users\") }\n", "sql/drop-table", "DROP TABLE users"),
    (Lang::Go, "package m\nfunc f() { db.ExecContext(ctx, `TRUNCATE audit`) }\n", "sql/truncate", "TRUNCATE audit"),
    (
        Lang::Yaml,
        "jobs:\n  deploy:\n    steps:\n      - name: Tear down\n        run: |\n          echo bye\n          terraform destroy -auto-approve\n",
        "shell/terraform-destroy",
        "terraform destroy -auto-approve",
    ),
    (Lang::Yaml, "steps:\n  - run: rm -rf \"$DIR/\"\n", "shell/rm-rf", "rm -rf \"$DIR/\""),
    (Lang::Yaml, "cleanup:\n  script:\n    - git push --force origin main\n", "shell/git-push-force", "git push --force origin main"),
    (Lang::Dockerfile, "FROM debian\nRUN apt-get update && \\\n    rm -rf /var/lib/*\n", "shell/rm-rf", "rm -rf /var/lib/*"),
    (Lang::Rust, "async fn f() { sqlx::query!(\"DROP TABLE users\").execute(&pool).await; }\n", "sql/drop-table", "DROP TABLE users"),
    (Lang::Rust, "async fn f() { query_as!(User, r#\"DELETE FROM users\"#).fetch_all(&pool).await; }\n", "sql/delete-without-where", "DELETE FROM users"),
    (Lang::Rust, "async fn f() { sqlx::query_as::<_, Row>(\"TRUNCATE audit\").execute(&pool).await; }\n", "sql/truncate", "TRUNCATE audit"),
    (Lang::Rust, "async fn f() { client.batch_execute(r#\"DROP SCHEMA staging CASCADE\"#).await; }\n", "sql/drop-schema", "DROP SCHEMA staging CASCADE"),
    (Lang::Rust, "fn f() { diesel::sql_query(\"DROP TABLE legacy\").execute(conn); }\n", "sql/drop-table", "DROP TABLE legacy"),
    (Lang::Rust, "fn f() { Command::new(\"sh\").arg(\"-c\").arg(\"rm -rf /data\").status(); }\n", "shell/rm-rf", "rm -rf /data"),
    (
        Lang::Rust,
        "fn f() { std::process::Command::new(\"bash\").args([\"-c\", \"terraform destroy -auto-approve\"]).status(); }\n",
        "shell/terraform-destroy",
        "terraform destroy -auto-approve",
    ),
    (Lang::Rust, "fn f() { Command::new(\"/bin/sh\").args(&[\"-c\", r#\"redis-cli FLUSHALL\"#]).status(); }\n", "shell/redis-flush", "redis-cli FLUSHALL"),
    (Lang::Go, "package m\nfunc f() { exec.Command(\"sh\", \"-c\", \"rm -rf /srv/data\").Run() }\n", "shell/rm-rf", "rm -rf /srv/data"),
    (Lang::Go, "package m\nfunc f() { exec.CommandContext(ctx, \"bash\", \"-ec\", `kubectl delete ns staging`).Run() }\n", "shell/kubectl-delete", "kubectl delete ns staging"),
    (Lang::Yaml, "containers:\n  - name: reset\n    command: [sh, -c, dropdb -h db app]\n", "shell/dropdb", "dropdb -h db app"),
    (Lang::Yaml, "containers:\n  - name: wipe\n    command: [\"sh\", \"-c\", \"rm -rf /data/*\"]\n", "shell/rm-rf", "rm -rf /data/*"),
    (Lang::Yaml, "steps:\n  - run: 'git push --force origin main'\n", "shell/git-push-force", "git push --force origin main"),
    (
        Lang::Yaml,
        "containers:\n  - name: wipe\n    command:\n      - /bin/bash\n      - -c\n      - |\n        echo wiping\n        rm -rf /data/*\n",
        "shell/rm-rf",
        "rm -rf /data/*",
    ),
    (
        Lang::Yaml,
        "containers:\n  - name: flush\n    command: [\"/bin/sh\", \"-c\"]\n    args:\n      - redis-cli -h cache FLUSHALL\n",
        "shell/redis-flush",
        "redis-cli -h cache FLUSHALL",
    ),
    (
        Lang::Yaml,
        "services:\n  reset:\n    command: [docker volume rm pgdata]\n    entrypoint: [sh, -c]\n",
        "shell/docker-prune",
        "docker volume rm pgdata",
    ),
];

#[test]
fn embedded_sql_and_shell_are_checked_with_their_own_rules() {
    let rules = builtin();
    for (lang, text, rule, covered) in INJECTED {
        let found = analyze_text(&rules, *lang, text, "x");
        let f = found
            .iter()
            .find(|f| f.rule.id() == *rule)
            .unwrap_or_else(|| panic!("{lang}: {rule} not found in {text:?}; found {found:?}"));
        assert!(
            text[f.range.clone()].starts_with(covered),
            "{lang}: {rule} reported {:?}",
            &text[f.range.clone()]
        );
        assert!(
            rules.may_match(*lang, text.as_bytes()),
            "{lang}: the prefilter would skip {text:?}"
        );
    }
}

#[test]
fn words_in_ordinary_strings_and_keys_are_not_code() {
    let rules = builtin();
    for (lang, text) in [
        (
            Lang::Python,
            "print(\"DROP TABLE users\")\nlog.info('rm -rf /')\n",
        ),
        (Lang::JavaScript, "console.log('DROP TABLE users');\n"),
        (
            Lang::Yaml,
            "steps:\n  - name: rm -rf everything\n    with:\n      args: terraform destroy\n",
        ),
        (Lang::Dockerfile, "FROM debian\nLABEL note=\"rm -rf /\"\n"),
    ] {
        let found = analyze_text(&rules, lang, text, "x");
        assert!(found.is_empty(), "{lang}: {found:?}");
    }
}
