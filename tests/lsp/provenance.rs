//! Provenance end to end: the real `countersign hook` binary fed each agent's recorded payload,
//! then the file opened in the real server; git history with AI trailers; the editor reloading
//! a file an agent wrote; what the session learns surviving a restart.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

use super::client::{git_repo, range, url, Client};
use super::{ERROR, HINT};

const MIGRATION: &str = "BEGIN;\nDROP TABLE users;\nCOMMIT;\n";
const CLEAN_SH: &str =
    "#!/bin/sh\n# Remove build output before a release build.\nset -eu\nDIR=\"${BUILD_DIR:-build}\"\nrm -rf \"$DIR/\"\n";

/// A recorded hook payload, pointed at `root`.
fn payload(name: &str, root: &Path) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/hooks")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap()
        .replace("$ROOT", &root.display().to_string())
}

pub(super) fn hook(root: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .arg("hook")
        .args(args)
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
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn git(root: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(args)
        .current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

fn message(d: &Value) -> &str {
    d["message"].as_str().unwrap()
}

/// Opens `rel` as it is on disk and returns the diagnostic with `code`.
fn open_and_find(root: &Path, rel: &str, language: &str, code: &str) -> Value {
    let uri = url(&root.join(rel));
    let (mut client, _) = Client::initialized(root, Some(&["utf-8"]));
    client.open(
        &uri,
        language,
        &std::fs::read_to_string(root.join(rel)).unwrap(),
    );
    let diags = client.diagnostics(&uri, 0);
    diags
        .into_iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {rel}"))
}

#[test]
fn each_agents_hook_payload_makes_the_opened_code_ai_written() {
    let cases = [
        (
            "claude-code/edit.json",
            "claude-code",
            "db/migrate/002_drop.sql",
            MIGRATION,
        ),
        (
            "claude-code/multiedit.json",
            "claude-code",
            "db/migrate/002_drop.sql",
            MIGRATION,
        ),
        (
            "claude-code/write.json",
            "claude-code",
            "scripts/clean.sh",
            CLEAN_SH,
        ),
        (
            "cursor/after-file-edit.json",
            "cursor",
            "db/migrate/002_drop.sql",
            MIGRATION,
        ),
        (
            "gemini/after-tool-replace.json",
            "gemini",
            "db/migrate/002_drop.sql",
            MIGRATION,
        ),
        (
            "gemini/after-tool-write-file.json",
            "gemini",
            "scripts/clean.sh",
            CLEAN_SH,
        ),
        (
            "codex/post-tool-use-apply-patch.json",
            "codex",
            "scripts/clean.sh",
            CLEAN_SH,
        ),
    ];
    for (fixture, agent, rel, text) in cases {
        let repo = git_repo();
        write(repo.path(), rel, text);
        let out = hook(repo.path(), &[agent], &payload(fixture, repo.path()));
        assert!(out.status.success(), "{fixture}: {out:?}");
        let (language, code) = if rel.ends_with(".sql") {
            ("sql", "sql/drop-table")
        } else {
            ("shellscript", "shell/rm-rf")
        };
        let d = open_and_find(repo.path(), rel, language, code);
        assert!(
            message(&d).contains(&format!("written by {agent} (hook)")),
            "{fixture}: {d:#}"
        );
        assert!(d["severity"].as_i64().unwrap() <= 2, "{fixture}: {d:#}");
    }
}

#[test]
fn codex_notify_attributes_what_changed_in_the_turn() {
    let repo = git_repo();
    write(
        repo.path(),
        "db/migrate/002_drop.sql",
        "BEGIN;\n\nCOMMIT;\n",
    );
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-qm", "Empty migration"]);
    // The agent's turn: it edits the migration and adds a script.
    write(repo.path(), "db/migrate/002_drop.sql", MIGRATION);
    write(repo.path(), "scripts/clean.sh", CLEAN_SH);
    let notify = payload("codex/notify-turn-complete.json", repo.path());
    let out = hook(repo.path(), &["codex", &notify], "");
    assert!(out.status.success(), "{out:?}");
    let d = open_and_find(
        repo.path(),
        "db/migrate/002_drop.sql",
        "sql",
        "sql/drop-table",
    );
    assert!(message(&d).contains("written by codex (hook)"), "{d:#}");
    // Lines that were already there stay unattributed: only BEGIN/COMMIT were, and they are
    // not findings; the script is new, so all of it is the agent's.
    let d = open_and_find(
        repo.path(),
        "scripts/clean.sh",
        "shellscript",
        "shell/rm-rf",
    );
    assert!(message(&d).contains("written by codex (hook)"), "{d:#}");
    // The next turn sees the snapshot: a person's later edit elsewhere is not the agent's.
    write(
        repo.path(),
        "db/migrate/002_drop.sql",
        &format!("{MIGRATION}TRUNCATE logs;\n"),
    );
    std::fs::remove_file(repo.path().join(".git/countersign/provenance.jsonl")).unwrap();
    let out = hook(repo.path(), &["codex", &notify], "");
    assert!(out.status.success());
    let d = open_and_find(
        repo.path(),
        "db/migrate/002_drop.sql",
        "sql",
        "sql/drop-table",
    );
    assert_eq!(d["severity"], HINT, "{d:#}");
}

#[test]
fn the_generic_hook_diffs_against_the_last_known_state() {
    let repo = git_repo();
    write(repo.path(), "ops/reset.sh", "echo reset\n");
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-qm", "Add reset script"]);
    write(
        repo.path(),
        "ops/reset.sh",
        "echo reset\ngit push --force origin main\n",
    );
    let out = hook(
        repo.path(),
        &["generic", "--agent", "aider", "--file", "ops/reset.sh"],
        "",
    );
    assert!(out.status.success(), "{out:?}");
    let d = open_and_find(
        repo.path(),
        "ops/reset.sh",
        "shellscript",
        "shell/git-push-force",
    );
    assert!(message(&d).contains("written by aider (hook)"), "{d:#}");
}

#[test]
fn a_hook_never_fails_the_agent() {
    let repo = git_repo();
    let outside = tempfile::tempdir().unwrap();
    let outside_payload = json!({"cwd": outside.path(), "tool_name": "Write",
        "tool_input": {"file_path": outside.path().join("x.sh"), "content": "rm -rf /\n"}})
    .to_string();
    for (args, stdin) in [
        (vec!["claude-code"], "{not json".to_string()),
        (
            vec!["claude-code"],
            r#"{"tool_name":"Bash","tool_input":{"command":"ls"}}"#.into(),
        ),
        (vec!["claude-code"], outside_payload),
        (vec!["cursor"], "".into()),
        (vec!["gemini"], r#"{"tool_name":"write_file"}"#.into()),
        (vec!["codex", "not json"], "".into()),
    ] {
        let out = hook(repo.path(), &args, &stdin);
        assert_eq!(out.status.code(), Some(0), "{args:?} {stdin}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("nothing recorded"), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
    assert!(!repo
        .path()
        .join(".git/countersign/provenance.jsonl")
        .exists());
}

#[test]
fn a_commit_with_an_ai_trailer_makes_its_lines_ai_written() {
    let repo = git_repo();
    write(repo.path(), "db/m.sql", "SELECT 1;\n");
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-qm", "Start"]);
    write(
        repo.path(),
        "db/m.sql",
        "SELECT 1;\nDROP TABLE users;\nTRUNCATE logs;\n",
    );
    git(repo.path(), &["add", "."]);
    git(
        repo.path(),
        &[
            "commit",
            "-qm",
            "Drop users\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
        ],
    );
    // A person's later commit takes one of the lines over.
    write(
        repo.path(),
        "db/m.sql",
        "SELECT 1;\nDROP TABLE users;\nTRUNCATE audit_logs;\n",
    );
    git(repo.path(), &["commit", "-qam", "Truncate the right table"]);
    let d = open_and_find(repo.path(), "db/m.sql", "sql", "sql/drop-table");
    assert!(message(&d).contains("written by claude (git)"), "{d:#}");
    assert_eq!(d["severity"], ERROR);
    let d = open_and_find(repo.path(), "db/m.sql", "sql", "sql/truncate");
    assert_eq!(d["severity"], HINT, "{d:#}");
}

/// The editor reloads a clean buffer after an agent wrote the file: one change that makes the
/// buffer equal the file again.
fn reload(client: &mut Client, uri: &str, version: i64, text: &str) -> Vec<Value> {
    client.change(uri, version, json!([{"text": text}]));
    client.diagnostics(uri, version)
}

#[test]
fn a_reload_from_disk_is_the_agents_when_its_hook_recorded_it() {
    let repo = git_repo();
    write(
        repo.path(),
        "db/migrate/002_drop.sql",
        "BEGIN;\n\nCOMMIT;\n",
    );
    let uri = url(&repo.path().join("db/migrate/002_drop.sql"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(&uri, "sql", "BEGIN;\n\nCOMMIT;\n");
    assert!(client.diagnostics(&uri, 0).is_empty());
    // Claude Code edits the file, its hook records the edit, the editor reloads.
    write(repo.path(), "db/migrate/002_drop.sql", MIGRATION);
    let out = hook(
        repo.path(),
        &["claude-code"],
        &payload("claude-code/edit.json", repo.path()),
    );
    assert!(out.status.success());
    let diags = reload(&mut client, &uri, 1, MIGRATION);
    assert!(
        message(&diags[0]).contains("written by claude-code (hook)"),
        "{diags:#?}"
    );
    // Without a record, the lines that changed on disk are of unknown authorship: a hint,
    // not an accusation (a `git pull` reloads buffers too).
    let pulled = format!("{MIGRATION}TRUNCATE logs;\n");
    write(repo.path(), "db/migrate/002_drop.sql", &pulled);
    let diags = reload(&mut client, &uri, 2, &pulled);
    let truncate = diags.iter().find(|d| d["code"] == "sql/truncate").unwrap();
    assert_eq!(truncate["severity"], HINT);
    assert!(message(truncate).contains("author unknown"), "{truncate:#}");
}

#[test]
fn a_record_written_after_the_reload_still_attributes_the_lines() {
    let repo = git_repo();
    let path = repo.path().join("db/migrate/002_drop.sql");
    write(
        repo.path(),
        "db/migrate/002_drop.sql",
        "BEGIN;\n\nCOMMIT;\n",
    );
    let uri = url(&path);
    let (mut client, init) = Client::initialized_with(
        repo.path(),
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}),
    );
    assert!(init["capabilities"]["hoverProvider"] == true);
    // The server asks to watch its files once the client is initialized.
    let registration = client.wait_for(|m| m["method"] == "client/registerCapability");
    let globs =
        registration["params"]["registrations"][0]["registerOptions"]["watchers"].to_string();
    assert!(
        globs.contains(".git/countersign/provenance.jsonl"),
        "{globs}"
    );
    client.open(&uri, "sql", "BEGIN;\n\nCOMMIT;\n");
    client.diagnostics(&uri, 0);
    // The editor is faster than the hook.
    write(repo.path(), "db/migrate/002_drop.sql", MIGRATION);
    let diags = reload(&mut client, &uri, 1, MIGRATION);
    assert_eq!(diags[0]["severity"], HINT);
    let out = hook(
        repo.path(),
        &["claude-code"],
        &payload("claude-code/edit.json", repo.path()),
    );
    assert!(out.status.success());
    let record = repo.path().join(".git/countersign/provenance.jsonl");
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": url(&record), "type": 2}]}),
    );
    let diags = client.diagnostics(&uri, 1);
    assert_eq!(diags[0]["severity"], ERROR, "{diags:#?}");
    // The hover shows how we know.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 3}}),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("written by claude-code (hook)"), "{text}");
    assert!(text.contains("PostToolUse Edit"), "{text}");
}

#[test]
fn what_the_editor_learnt_survives_a_restart_and_a_person_can_take_a_line_over() {
    let repo = git_repo();
    let path = repo.path().join("deploy.sh");
    write(repo.path(), "deploy.sh", "echo start\n");
    let uri = url(&path);
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(&uri, "shellscript", "echo start\n");
    client.diagnostics(&uri, 0);
    let pasted = "terraform destroy -auto-approve\nkubectl delete namespace prod\n";
    client.change(
        &uri,
        1,
        json!([{"range": range(1, 0, 1, 0), "text": pasted}]),
    );
    let diags = client.diagnostics(&uri, 1);
    assert!(
        diags
            .iter()
            .all(|d| message(d).contains("bulk edit, likely AI")),
        "{diags:#?}"
    );
    let text = format!("echo start\n{pasted}");
    write(repo.path(), "deploy.sh", &text);
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    // A person edits the kubectl line: it is theirs now.
    client.change(
        &uri,
        2,
        json!([{"range": range(2, 29, 2, 29), "text": "-staging"}]),
    );
    let edited =
        "echo start\nterraform destroy -auto-approve\nkubectl delete namespace prod-staging\n";
    write(repo.path(), "deploy.sh", edited);
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(client.shutdown(), 0);

    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(&uri, "shellscript", edited);
    let diags = client.diagnostics(&uri, 0);
    let destroy = diags
        .iter()
        .find(|d| d["code"] == "shell/terraform-destroy")
        .unwrap();
    assert!(
        message(destroy).contains("bulk edit, likely AI"),
        "{destroy:#}"
    );
    let kubectl = diags
        .iter()
        .find(|d| d["code"] == "shell/kubectl-delete")
        .unwrap();
    assert_eq!(kubectl["severity"], HINT, "{kubectl:#}");
}

#[test]
fn one_change_writing_different_code_in_several_places_is_ai() {
    let repo = git_repo();
    let uri = url(&repo.path().join("jobs.py"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(&uri, "python", "import os\n\n\ndef main():\n    pass\n");
    client.diagnostics(&uri, 0);
    client.change(
        &uri,
        1,
        json!([
            {"range": range(4, 4, 4, 8), "text": "os.system('rm -rf /var/lib/app')"},
            {"range": range(1, 0, 1, 0), "text": "import shutil  # cleanup helpers"},
        ]),
    );
    let diags = client.diagnostics(&uri, 1);
    assert!(!diags.is_empty());
    assert!(
        diags
            .iter()
            .all(|d| message(d).contains("bulk edit, likely AI")),
        "{diags:#?}"
    );
}

#[test]
fn an_ai_edit_range_outside_the_document_is_dropped() {
    let repo = git_repo();
    let uri = url(&repo.path().join("x.sh"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(&uri, "shellscript", "terraform destroy\n");
    client.diagnostics(&uri, 0);
    client.notify("countersign/aiEdit", json!({"textDocument": {"uri": uri, "version": 0}, "ranges": [range(40, 0, 41, 0)], "agent": "claude-code"}));
    let diags = client.diagnostics(&uri, 0);
    assert!(message(&diags[0]).contains("author unknown"), "{diags:#?}");
    client.notify("countersign/aiEdit", json!({"textDocument": {"uri": uri, "version": 0}, "ranges": [range(0, 0, 1, 0)], "agent": "cursor"}));
    let diags = client.diagnostics(&uri, 0);
    assert!(
        message(&diags[0]).contains("written by cursor (client)"),
        "{diags:#?}"
    );
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit(), 0);
    let log = client.final_log();
    assert!(log.contains("is not in the document; dropped"), "{log}");
}
