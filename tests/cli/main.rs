//! End-to-end tests of the CLI: the real binary on real files in real git repositories.

mod check;
mod faults;
mod provenance;
mod signoff;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn countersign(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

/// Starts `countersign hook <agent>` in `root` with `payload` on its stdin, as an agent does.
fn spawn_hook(root: &Path, agent: &str, payload: &str) -> std::process::Child {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["hook", agent])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    child
}

/// The `path` of each finding of a JSON `scan` report, in order.
fn finding_paths(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of `tests/fixtures/<name>` in a fresh git repository, so `.gitignore` applies as in
/// a real checkout.
fn fixture_repo(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name),
        dir.path(),
    );
    assert!(Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap()
        .success());
    dir
}

/// The demo workspace in a fresh git repository, plus files a scan must skip.
fn demo_repo() -> tempfile::TempDir {
    let dir = fixture_repo("demo");
    std::fs::create_dir_all(dir.path().join("build")).unwrap();
    std::fs::write(
        dir.path().join("build/generated.sql"),
        "DROP TABLE ignored;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("db/latin1.sql"),
        b"-- caf\xe9\nDROP TABLE x;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("db/blob.sql"), b"DROP TABLE \0\0\0 binary").unwrap();
    dir
}

fn json_report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn scan_reports_the_demo_findings_as_json() {
    let repo = demo_repo();
    let out = countersign(repo.path(), &["scan", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings exit 1; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_report(&out);
    insta::assert_json_snapshot!("demo_scan", report);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("db/latin1.sql") && stderr.contains("not valid UTF-8"),
        "{stderr}"
    );
}

#[test]
fn scan_text_names_file_line_rule_and_code() {
    let repo = demo_repo();
    let out = countersign(repo.path(), &["scan", "db", "scripts/cleanup.sh"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("demo_scan_text", text);
}

#[test]
fn scan_respects_gitignore_and_skips_binary_files() {
    let repo = demo_repo();
    let report = json_report(&countersign(
        repo.path(),
        &["scan", "--format", "json", "."],
    ));
    let paths = finding_paths(&report);
    assert!(!paths.iter().any(|p| p.starts_with("build/")), "{paths:?}");
    assert!(!paths.contains(&"db/blob.sql"), "{paths:?}");
}

#[test]
fn scan_of_clean_code_exits_zero() {
    let repo = demo_repo();
    let out = countersign(
        repo.path(),
        &[
            "scan",
            "--format",
            "json",
            "db/migrate/20261101_create_users.sql",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_report(&out)["findings"], serde_json::json!([]));
}

#[test]
fn scan_errors_exit_two_with_a_clear_message() {
    let repo = demo_repo();
    let out = countersign(repo.path(), &["scan", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir: no such file or folder"));
    std::fs::write(
        repo.path().join("bad.toml"),
        "[policy]\nhuman_severity = \"loud\"\n",
    )
    .unwrap();
    let out = countersign(repo.path(), &["scan", "--config", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("loud"), "{err}");
}

#[test]
fn scan_shows_pending_signoffs_from_the_ledger() {
    let repo = demo_repo();
    let first = json_report(&countersign(
        repo.path(),
        &["scan", "--format", "json", "db/migrate"],
    ));
    let drop = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "sql/drop-table")
        .unwrap()
        .clone();
    let fp = drop["fingerprint"].as_str().unwrap();
    let ledger = repo.path().join(".countersign/signoffs");
    std::fs::create_dir_all(&ledger).unwrap();
    let request = serde_json::json!({"version": 1, "fingerprint": fp, "rule": "sql/drop-table", "category": "destructive",
        "path": drop["path"], "line": 5, "snippet": drop["snippet"], "author": {"kind": "ai"},
        "requested_at": "2026-11-25T00:00:00Z", "status": "pending"});
    std::fs::write(ledger.join(format!("{fp}.json")), request.to_string()).unwrap();
    std::fs::write(ledger.join("broken.json"), "{").unwrap();
    let out = countersign(repo.path(), &["scan", "--format", "json", "db/migrate"]);
    let again = json_report(&out);
    let drop = again["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "sql/drop-table")
        .unwrap();
    assert_eq!(drop["signoff"], "pending");
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.json"));
}

#[test]
fn rules_list_and_explain_come_from_the_rule_files() {
    let dir = tempfile::tempdir().unwrap();
    let list = String::from_utf8(countersign(dir.path(), &["rules", "list"]).stdout).unwrap();
    for id in [
        "sql/drop-table",
        "sql/truncate",
        "sql/delete-without-where",
        "shell/rm-rf",
        "shell/terraform-destroy",
    ] {
        assert!(list.contains(id), "{list}");
    }
    let explain = countersign(dir.path(), &["rules", "explain", "sql/drop-table"]);
    let text = String::from_utf8(explain.stdout).unwrap();
    assert!(
        text.contains("(drop_table) @finding") && text.contains("Does not flag:"),
        "{text}"
    );
    let missing = countersign(dir.path(), &["rules", "explain", "sql/drop"]);
    assert_eq!(missing.status.code(), Some(2));
    let hint = String::from_utf8_lossy(&missing.stderr);
    assert!(
        hint.contains("did you mean") && hint.contains("sql/drop-table"),
        "{hint}"
    );
}

#[test]
fn help_documents_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let help = String::from_utf8(countersign(dir.path(), &["--help"]).stdout).unwrap();
    for cmd in [
        "lsp", "scan", "check", "signoff", "rules", "hook", "hooks", "blame", "init",
    ] {
        assert!(help.contains(cmd), "{help}");
    }
    assert!(countersign(dir.path(), &["lsp", "--help"]).status.success());
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["rules", "list"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away, like `| head -0`
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The multi-language fixture tree.
fn catalogue_repo() -> tempfile::TempDir {
    fixture_repo("catalogue")
}

#[test]
fn scan_of_every_language_as_text() {
    let repo = catalogue_repo();
    let out = countersign(repo.path(), &["scan"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!(
        "catalogue_scan_text",
        String::from_utf8(out.stdout).unwrap()
    );
}

#[test]
fn scan_of_every_language_as_json() {
    let repo = catalogue_repo();
    let report = json_report(&countersign(repo.path(), &["scan", "--format", "json"]));
    let findings = report["findings"].as_array().unwrap();
    let has = |rule: &str, path: &str| {
        findings
            .iter()
            .any(|f| f["rule"] == rule && f["path"].as_str().unwrap().starts_with(path))
    };
    // Embedded code, the repository's own rule and markers, and the severity override.
    assert!(has("shell/rm-rf", "app/maintenance.py"));
    assert!(has("sql/truncate", "app/maintenance.py"));
    assert!(has("sql/drop-schema", "cmd/cleanup/main.go"));
    assert!(has("shell/git-push-force", ".github/workflows/deploy.yml"));
    assert!(has("acme/truncate-ledger", "db/migrations"));
    assert!(has("production/host", "app/maintenance.py"));
    assert!(findings
        .iter()
        .any(|f| f["rule"] == "sql/rename" && f["severity"] == "info"));
    // Ignored files, test code for markers, and code that only mentions danger stay quiet.
    assert!(!findings
        .iter()
        .any(|f| f["path"].as_str().unwrap().starts_with("generated/")));
    assert!(!has("production/host", "tests/"));
    assert!(has("python/shutil-rmtree", "tests/"));
    assert!(!findings
        .iter()
        .any(|f| f["snippet"].as_str().unwrap().contains("DROP TABLE users")));
    // One finding per construct: the host call is not reported next to its embedded command.
    assert!(!has("python/subprocess-destructive-command", "app/"));
    insta::assert_json_snapshot!("catalogue_scan_json", report);
}

#[test]
fn scan_of_every_language_as_sarif() {
    let repo = catalogue_repo();
    let out = countersign(repo.path(), &["scan", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif = json_report(&out);
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let json = json_report(&countersign(repo.path(), &["scan", "--format", "json"]));
    assert_eq!(results.len(), json["findings"].as_array().unwrap().len());
    for r in results {
        // Every result points at a described rule by index, with a region and a fingerprint.
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() >= Some(1));
        assert!(r["partialFingerprints"]["countersign/v1"].is_string());
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
    }
    insta::assert_json_snapshot!("catalogue_scan_sarif", sarif, {
        ".runs[0].tool.driver.version" => "[version]",
    });
}

#[test]
fn repository_rules_with_errors_stop_the_scan_with_every_problem_named() {
    let repo = catalogue_repo();
    std::fs::write(
        repo.path().join("countersign.toml"),
        r#"
[severity]
"sql/no-such-rule" = "off"

[[rules]]
id = "acme/bad"
language = "sql"
category = "destructive"
severity = "error"
message = "m"
explanation = "e"
query = "(statement (no_such_node)) @finding"
"#,
    )
    .unwrap();
    let out = countersign(repo.path(), &["scan"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("countersign.toml") && err.contains("sql/no-such-rule"),
        "{err}"
    );
    std::fs::write(
        repo.path().join("countersign.toml"),
        "[[rules]]\nid = \"acme/bad\"\nlanguage = \"sql\"\ncategory = \"destructive\"\nseverity = \"error\"\nmessage = \"m\"\nexplanation = \"e\"\nquery = \"(statement (no_such_node)) @finding\"\n",
    )
    .unwrap();
    let out = countersign(repo.path(), &["scan"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("acme/bad")
            && err.contains("line 1, column 13")
            && err.contains("no node type `no_such_node`"),
        "{err}"
    );
    // `rules list` shows the repository's rules beside the built-in ones.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/catalogue/countersign.toml"),
        repo.path().join("countersign.toml"),
    )
    .unwrap();
    let list = String::from_utf8(countersign(repo.path(), &["rules", "list"]).stdout).unwrap();
    assert!(list.contains("acme/truncate-ledger"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with("sql/rename") && l.contains(" info ")),
        "{list}"
    );
}

#[test]
fn the_configuration_in_the_readme_is_valid() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = &readme[readme.find("## Configuration").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("countersign.toml"), block).unwrap();
    let out = countersign(dir.path(), &["rules", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("acme/truncate-ledger"));
}

#[test]
fn init_sets_up_a_repository_and_never_overwrites() {
    let repo = demo_repo();
    let sub = repo.path().join("db");
    let out = countersign(&sub, &["init"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let config = repo.path().join("countersign.toml");
    let signers = repo.path().join(".countersign/allowed_signers");
    assert!(
        stdout.contains("created") && stdout.contains("allowed_signers"),
        "{stdout}"
    );
    assert!(config.is_file() && signers.is_file(), "{stdout}");
    // What it wrote loads: the rules list and a scan run under it.
    assert!(countersign(repo.path(), &["rules", "list"])
        .status
        .success());
    let scan = countersign(repo.path(), &["scan", "--format", "json", "."]);
    assert_eq!(
        scan.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&scan.stderr)
    );

    std::fs::write(&config, "[policy]\nhuman_severity = \"off\"\n").unwrap();
    let again = countersign(repo.path(), &["init"]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("kept"));
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "[policy]\nhuman_severity = \"off\"\n"
    );

    // A broken configuration already there is kept and reported.
    std::fs::write(&config, "[policy]\nhuman_severity = \"loud\"\n").unwrap();
    let broken = countersign(repo.path(), &["init"]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("does not load"));
    assert!(std::fs::read_to_string(&config).unwrap().contains("loud"));
}
