//! `countersign check` on real git repositories: what a pull request adds, who wrote it, and
//! whether a senior signed it off.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn git(root: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(root: &Path, rel: &str, text: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn run(root: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(args)
        .current_dir(root)
        .env("HOME", home)
        .output()
        .unwrap()
}

/// The paths of the findings in `check --format json` output.
fn finding_paths(out: &Output) -> Vec<String> {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A repository with one commit on `main` and a `feature` branch checked out.
fn repo() -> (tempfile::TempDir, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Dev"]);
    git(root, &["config", "user.email", "dev@example.com"]);
    write(root, "README.md", b"# app\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Start"]);
    git(root, &["checkout", "-qb", "feature"]);
    (dir, tempfile::tempdir().unwrap())
}

fn keygen(dir: &Path) -> PathBuf {
    keygen_named(dir, "lead")
}

fn keygen_named(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    assert!(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success());
    key
}

#[test]
fn human_code_passes_unless_every_change_counts() {
    let (dir, home) = repo();
    let root = dir.path();
    write(root, "db/m.sql", b"DROP TABLE users;\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Drop users"]);
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("passed"), "{}", text(&out));
    let out = run(root, home.path(), &["check", "--all-changes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("sql/drop-table"), "{}", text(&out));
}

#[test]
fn an_ai_commit_fails_until_a_senior_approves_and_fails_again_when_the_code_changes() {
    let (dir, home) = repo();
    let root = dir.path();
    write(root, "db/m.sql", b"SELECT 1;\nDROP TABLE users;\n");
    git(root, &["add", "."]);
    git(
        root,
        &[
            "commit",
            "-qm",
            "Drop users\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    let out = run(root, home.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "sql/drop-table");
    assert_eq!(f["author"], "ai");
    assert_eq!(f["signoff"], "none");
    assert_eq!(f["start"]["line"], 2);
    // GitHub annotations.
    let out = run(root, home.path(), &["check", "--format", "github"]);
    let gh = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        gh.starts_with("::error file=db/m.sql,line=2,col=1,"),
        "{gh}"
    );
    // SARIF for code scanning.
    let out = run(root, home.path(), &["check", "--format", "sarif"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "sql/drop-table");

    // A request, and a senior's signed approval.
    let keys = tempfile::tempdir().unwrap();
    let lead = keygen(keys.path());
    let public = std::fs::read_to_string(lead.with_extension("pub")).unwrap();
    write(
        root,
        ".countersign/allowed_signers",
        format!("lead@example.com {public}").as_bytes(),
    );
    assert!(
        run(root, home.path(), &["signoff", "request", "db/m.sql:2"])
            .status
            .success()
    );
    git(root, &["config", "user.email", "lead@example.com"]);
    let ok = run(
        root,
        home.path(),
        &[
            "signoff",
            "approve",
            "--all-pending",
            "--key",
            lead.to_str().unwrap(),
        ],
    );
    assert!(ok.status.success(), "{}", text(&ok));
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Sign-off"]);
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("1 approved"), "{}", text(&out));

    // The AI edits the approved statement: the approval no longer matches.
    write(root, "db/m.sql", b"SELECT 1;\nDROP TABLE users CASCADE;\n");
    git(
        root,
        &[
            "commit",
            "-qam",
            "Cascade\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn the_working_tree_counts_unless_committed_only() {
    let (dir, home) = repo();
    let root = dir.path();
    write(root, "ops/clean.sh", b"rm -rf \"$DIR/\"\n");
    // An agent hook recorded the edit; nothing is committed yet.
    let payload = serde_json::json!({"cwd": root, "tool_name": "Write",
        "tool_input": {"file_path": root.join("ops/clean.sh"), "content": "rm -rf \"$DIR/\"\n"}});
    let mut hook = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["hook", "claude-code"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    hook.stdin
        .take()
        .unwrap()
        .write_all(payload.to_string().as_bytes())
        .unwrap();
    assert!(hook.wait().unwrap().success());
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("written by claude-code (hook)"),
        "{}",
        text(&out)
    );
    let out = run(root, home.path(), &["check", "--committed-only"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn binary_and_non_utf8_files_are_skipped_and_errors_exit_two() {
    let (dir, home) = repo();
    let root = dir.path();
    write(root, "bin/blob.sql", b"DROP TABLE x;\0\x01\x02");
    write(root, "db/latin1.sql", b"-- caf\xe9\nDROP TABLE y;\n");
    git(root, &["add", "."]);
    git(
        root,
        &[
            "commit",
            "-qm",
            "Files\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("db/latin1.sql: not valid UTF-8"),
        "{}",
        text(&out)
    );
    let bad = run(root, home.path(), &["check", "--base", "no-such-ref"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad).contains("no-such-ref is not a commit"),
        "{}",
        text(&bad)
    );
    let outside = tempfile::tempdir().unwrap();
    let out = run(outside.path(), home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("not inside a git repository"),
        "{}",
        text(&out)
    );
}

/// Approves every pending request with a fresh senior key; returns nothing, commits the ledger.
fn approve_all(root: &Path, home: &Path) {
    let keys = tempfile::tempdir().unwrap();
    let lead = keygen(keys.path());
    let public = std::fs::read_to_string(lead.with_extension("pub")).unwrap();
    write(
        root,
        ".countersign/allowed_signers",
        format!("lead@example.com {public}").as_bytes(),
    );
    git(root, &["config", "user.email", "lead@example.com"]);
    let ok = run(
        root,
        home,
        &[
            "signoff",
            "approve",
            "--all-pending",
            "--key",
            lead.to_str().unwrap(),
        ],
    );
    assert!(ok.status.success(), "{}", text(&ok));
    git(root, &["config", "user.email", "dev@example.com"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Sign-off"]);
}

#[test]
fn renaming_a_file_with_approved_code_adds_no_code_to_check() {
    let (dir, home) = repo();
    let root = dir.path();
    let body = "BEGIN;\nDROP TABLE users;\nDELETE FROM sessions WHERE user_id IS NULL;\nCOMMIT;\n";
    write(root, "db/old.sql", body.as_bytes());
    git(root, &["add", "."]);
    git(
        root,
        &[
            "commit",
            "-qm",
            "Drop\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    assert!(
        run(root, home.path(), &["signoff", "request", "db/old.sql:2"])
            .status
            .success()
    );
    approve_all(root, home.path());
    assert_eq!(run(root, home.path(), &["check"]).status.code(), Some(0));
    // A rename, with an unrelated edit in the same file (git still sees the rename).
    git(root, &["mv", "db/old.sql", "db/new.sql"]);
    write(
        root,
        "db/new.sql",
        format!("-- retire the users table\n{body}").as_bytes(),
    );
    git(
        root,
        &[
            "commit",
            "-qam",
            "Rename\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_merge_of_the_default_branch_brings_in_nothing_to_check() {
    let (dir, home) = repo();
    let root = dir.path();
    // The default branch moves on with someone else's AI change.
    git(root, &["checkout", "-q", "main"]);
    write(root, "db/main.sql", b"TRUNCATE audit;\n");
    git(root, &["add", "."]);
    git(
        root,
        &[
            "commit",
            "-qm",
            "Truncate\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    git(root, &["checkout", "-q", "feature"]);
    write(root, "db/feature.sql", b"DROP TABLE sessions;\n");
    git(root, &["add", "."]);
    git(
        root,
        &[
            "commit",
            "-qm",
            "Drop sessions\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    git(root, &["merge", "-q", "--no-edit", "main"]);
    let out = run(root, home.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(finding_paths(&out), ["db/feature.sql"]);
}

#[test]
fn approvals_need_not_follow_renames_when_configured_so() {
    let (dir, home) = repo();
    let root = dir.path();
    write(
        root,
        "countersign.toml",
        b"[signoff]\napprovals_follow_renames = false\n",
    );
    write(root, "db/old.sql", b"DROP TABLE users;\n");
    git(root, &["add", "."]);
    git(
        root,
        &[
            "commit",
            "-qm",
            "Drop\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    assert!(
        run(root, home.path(), &["signoff", "request", "db/old.sql"])
            .status
            .success()
    );
    approve_all(root, home.path());
    git(root, &["mv", "db/old.sql", "db/new.sql"]);
    git(root, &["commit", "-qm", "Rename"]);
    assert_eq!(run(root, home.path(), &["check"]).status.code(), Some(1));
}

#[test]
fn removing_a_guard_or_a_where_clause_is_itself_a_finding() {
    let (dir, home) = repo();
    let root = dir.path();
    git(root, &["checkout", "-q", "main"]);
    write(
        root,
        "infra/db.tf",
        b"resource \"aws_db_instance\" \"main\" {\n  engine              = \"postgres\"\n  deletion_protection = true\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n",
    );
    write(
        root,
        "db/purge.sql",
        b"DELETE FROM sessions WHERE expires_at < now();\n",
    );
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Database"]);
    git(root, &["checkout", "-qb", "cleanup"]);
    // The assistant drops both guards (no unsafe value is written: the lines just go) and the
    // WHERE clause.
    write(
        root,
        "infra/db.tf",
        b"resource \"aws_db_instance\" \"main\" {\n  engine              = \"postgres\"\n}\n",
    );
    write(root, "db/purge.sql", b"DELETE FROM sessions;\n");
    git(
        root,
        &[
            "commit",
            "-qam",
            "Simplify\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    let out = run(root, home.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        found.iter().any(|(r, _)| r == "sql/delete-without-where"),
        "{found:#?}"
    );
    let removed: Vec<&String> = found
        .iter()
        .filter(|(r, _)| r == "terraform/protection-removed")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(removed.len(), 2, "{found:#?}");
    assert!(
        removed
            .iter()
            .any(|m| m.contains("removed: `deletion_protection = true`")),
        "{removed:?}"
    );
    assert!(
        removed
            .iter()
            .all(|m| m.contains("written by claude (git)")),
        "{removed:?}"
    );
    // A senior signs the removal off, as any finding: the request names the removed code.
    let out = run(root, home.path(), &["signoff", "request", "infra/db.tf:2"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        text(&out).matches("terraform/protection-removed").count(),
        2,
        "{}",
        text(&out)
    );
    approve_all(root, home.path());
    let out = run(root, home.path(), &["check", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["sql/delete-without-where"]);
    // Moving a guard within the file is not removing it.
    git(root, &["checkout", "-q", "main"]);
    git(root, &["checkout", "-qb", "reorder"]);
    write(
        root,
        "infra/db.tf",
        b"resource \"aws_db_instance\" \"main\" {\n  deletion_protection = true\n  engine              = \"postgres\"\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n",
    );
    git(
        root,
        &[
            "commit",
            "-qam",
            "Reorder\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_git_note_naming_an_agent_counts_like_a_trailer() {
    let (dir, home) = repo();
    let root = dir.path();
    write(root, "ops/reset.sh", b"git push --force origin main\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Reset script"]);
    assert_eq!(run(root, home.path(), &["check"]).status.code(), Some(0));
    // The agent's involvement is recorded afterwards, in the `ai` notes ref.
    git(
        root,
        &[
            "notes",
            "--ref=ai",
            "add",
            "-m",
            "Generated-by: cursor",
            "HEAD",
        ],
    );
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("written by cursor (git)"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_shallow_clone_without_the_base_says_how_to_fetch_it() {
    let (dir, home) = repo();
    let root = dir.path();
    write(root, "db/m.sql", b"DROP TABLE users;\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Drop"]);
    let clones = tempfile::tempdir().unwrap();
    let url = format!("file://{}", root.display());
    git(
        clones.path(),
        &[
            "clone", "-q", "--depth", "1", "--branch", "feature", &url, "c",
        ],
    );
    let clone = clones.path().join("c");
    let out = run(&clone, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("shallow clone"), "{}", text(&out));
    assert!(text(&out).contains("fetch-depth: 0"), "{}", text(&out));
    let out = run(&clone, home.path(), &["check", "--base", "main~5"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("not in this shallow clone"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_huge_change_is_checked_file_by_file_and_oversized_files_are_named() {
    let (dir, home) = repo();
    let root = dir.path();
    for i in 0..300 {
        write(
            root,
            &format!("gen/f{i}.sql"),
            format!("SELECT {i};\n").repeat(50).as_bytes(),
        );
    }
    write(root, "gen/risky.sql", b"TRUNCATE audit;\n");
    let mut huge = "SELECT 1;\n".repeat(1_000_000);
    huge.push_str("DROP TABLE users;\n");
    write(root, "gen/huge.sql", huge.as_bytes());
    git(root, &["add", "."]);
    git(
        root,
        &[
            "commit",
            "-qm",
            "Generated\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    let out = run(root, home.path(), &["check", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("gen/huge.sql: larger than 8 MiB"));
    assert_eq!(finding_paths(&out), ["gen/risky.sql"]);
}

#[test]
fn ai_code_in_a_production_path_needs_signoff_in_check_too() {
    let (dir, home) = repo();
    let root = dir.path();
    write(
        root,
        "deploy/release.sh",
        b"echo releasing\n./migrate --all\n",
    );
    git(root, &["add", "."]);
    git(
        root,
        &[
            "commit",
            "-qm",
            "Release\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    let out = run(root, home.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["rule"], "production/path");
    assert_eq!(
        v["findings"][0]["snippet"],
        "echo releasing\n./migrate --all"
    );
    assert!(run(
        root,
        home.path(),
        &["signoff", "request", "deploy/release.sh:1"]
    )
    .status
    .success());
    approve_all(root, home.path());
    assert_eq!(run(root, home.path(), &["check"]).status.code(), Some(0));
}

#[test]
fn a_change_to_the_allowed_signers_needs_a_senior_who_was_one_before() {
    let (dir, home) = repo();
    let root = dir.path();
    let keys = tempfile::tempdir().unwrap();
    let lead = keygen(keys.path());
    let lead_pub = std::fs::read_to_string(lead.with_extension("pub")).unwrap();
    // Bootstrapping: the first allowed_signers, by a person, is not held up.
    git(root, &["checkout", "-q", "main"]);
    write(
        root,
        ".countersign/allowed_signers",
        format!("lead@example.com {lead_pub}").as_bytes(),
    );
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Seniors"]);
    git(root, &["checkout", "-q", "feature"]);
    git(root, &["rebase", "-q", "main"]);
    // Someone adds themselves, and approves their own entry with the key they just added.
    let mallory_keys = tempfile::tempdir().unwrap();
    let mallory = keygen_named(mallory_keys.path(), "mallory");
    let mallory_pub = std::fs::read_to_string(mallory.with_extension("pub")).unwrap();
    write(
        root,
        ".countersign/allowed_signers",
        format!("lead@example.com {lead_pub}mallory@example.com {mallory_pub}").as_bytes(),
    );
    git(root, &["commit", "-qam", "Add a senior"]);
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("an existing senior must sign it off"),
        "{}",
        text(&out)
    );
    let req = run(
        root,
        home.path(),
        &["signoff", "request", ".countersign/allowed_signers:2"],
    );
    assert!(req.status.success(), "{}", text(&req));
    git(root, &["config", "user.email", "mallory@example.com"]);
    let own = run(
        root,
        home.path(),
        &[
            "signoff",
            "approve",
            "--all-pending",
            "--key",
            mallory.to_str().unwrap(),
        ],
    );
    assert!(own.status.success(), "{}", text(&own));
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Approve myself"]);
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // The lead, a senior before the change, approves: now it passes.
    git(root, &["config", "user.email", "lead@example.com"]);
    let list = run(root, home.path(), &["signoff", "list", "--format", "json"]);
    let v: Value = serde_json::from_slice(&list.stdout).unwrap();
    let fp = v["signoffs"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = run(
        root,
        home.path(),
        &["signoff", "approve", &fp, "--key", lead.to_str().unwrap()],
    );
    assert!(ok.status.success(), "{}", text(&ok));
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Lead approves"]);
    let out = run(root, home.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn removing_a_retain_policy_from_a_volume_is_a_finding() {
    let (dir, home) = repo();
    let root = dir.path();
    git(root, &["checkout", "-q", "main"]);
    let pv = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pg-data\nspec:\n  capacity:\n    storage: 100Gi\n  persistentVolumeReclaimPolicy: Retain\n";
    write(root, "k8s/pv.yaml", pv.as_bytes());
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Volume"]);
    git(root, &["checkout", "-qb", "tidy"]);
    write(
        root,
        "k8s/pv.yaml",
        pv.replace("  persistentVolumeReclaimPolicy: Retain\n", "")
            .as_bytes(),
    );
    git(
        root,
        &[
            "commit",
            "-qam",
            "Tidy\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        ],
    );
    let out = run(root, home.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["rule"], "k8s/retain-policy-removed");
    assert_eq!(
        v["findings"][0]["snippet"],
        "persistentVolumeReclaimPolicy: Retain"
    );
}
