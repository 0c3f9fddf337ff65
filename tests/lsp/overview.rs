//! What editors build their status item, their sign-off lists and their settings on:
//! `countersign/status`, `countersign.workspaceFindings`, and the user's editor settings.

use std::path::Path;

use serde_json::{json, Value};

use super::client::{git_repo, range, url, Client};
use super::{severity, ERROR, HINT, WARNING};

fn status(client: &mut Client, unsigned: u64, pending: u64) -> Value {
    client.wait_for(|m| {
        m["method"] == "countersign/status"
            && m["params"]["unsigned"] == unsigned
            && m["params"]["pending"] == pending
    })
}

fn findings(client: &mut Client, args: Value) -> Value {
    client.request(
        "workspace/executeCommand",
        json!({"command": "countersign.workspaceFindings", "arguments": args}),
    )
}

/// An agent's hook writes `text` to `rel`, as Claude Code's PostToolUse Write would.
fn agent_writes(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    let payload = json!({
        "session_id": "s1", "hook_event_name": "PostToolUse", "tool_name": "Write",
        "cwd": root, "tool_input": {"file_path": path, "content": text},
        "tool_response": {"type": "create", "filePath": path, "content": text},
    });
    let out = super::provenance::hook(root, &["claude-code"], &payload.to_string());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn status_counts_unsigned_then_pending_ai_code() {
    let repo = git_repo();
    let uri = url(&repo.path().join("db/001.sql"));
    let (mut client, init) = Client::initialized(repo.path(), Some(&["utf-8"]));
    let commands = &init["capabilities"]["executeCommandProvider"]["commands"];
    assert!(
        commands
            .as_array()
            .unwrap()
            .contains(&json!("countersign.workspaceFindings")),
        "{commands}"
    );
    status(&mut client, 0, 0);
    client.open(&uri, "sql", "SELECT 1;\n");
    client.change(
        &uri,
        1,
        json!([{"range": range(1, 0, 1, 0), "text": "DROP TABLE users;\nDROP TABLE orders;\n"}]),
    );
    let diags = client.diagnostics(&uri, 1);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    status(&mut client, 2, 0);

    let mut data = diags[0]["data"].clone();
    data["reason"] = json!("legacy tables, checked");
    client.request(
        "workspace/executeCommand",
        json!({"command": "countersign.requestSignoff", "arguments": [data]}),
    );
    status(&mut client, 1, 1);

    let listed = findings(&mut client, json!([]));
    assert_eq!(
        (listed["unsigned"].as_u64(), listed["pending"].as_u64()),
        (Some(1), Some(1))
    );
    let all = listed["findings"].as_array().unwrap();
    assert_eq!(all.len(), 2, "{listed:#}");
    let pending = findings(&mut client, json!([{"state": "pending"}]));
    let pending = pending["findings"].as_array().unwrap();
    assert_eq!(pending.len(), 1);
    let p = &pending[0];
    assert_eq!(p["state"], "pending");
    assert_eq!(p["rule"], "sql/drop-table");
    assert_eq!(p["path"], "db/001.sql");
    assert_eq!(p["uri"], uri.as_str());
    assert_eq!(p["range"], diags[0]["range"]);
    assert_eq!(p["reason"], "legacy tables, checked");
    assert_eq!(p["requestedBy"], "dev@example.com");
    assert_eq!(p["data"]["fingerprint"], diags[0]["data"]["fingerprint"]);
    let unsigned = findings(&mut client, json!([{"state": "unsigned"}]));
    let unsigned = &unsigned["findings"][0];
    assert_eq!(unsigned["snippet"], "DROP TABLE orders;");
    assert_eq!(unsigned["severity"], "error");
    assert!(unsigned.get("reason").is_none());

    let bad = client.request_raw(
        "workspace/executeCommand",
        json!({"command": "countersign.workspaceFindings", "arguments": [{"state": "done"}]}),
    );
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("state must be"),
        "{bad}"
    );
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn files_an_agent_wrote_count_before_they_are_opened() {
    let repo = git_repo();
    let migration = "BEGIN;\n-- ünïcödé\nDROP TABLE users;\nCOMMIT;\n";
    agent_writes(repo.path(), "db/002.sql", migration);
    agent_writes(repo.path(), "notes.sql", "SELECT 1;\nSELECT 2;\n");
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-16"]));
    status(&mut client, 1, 0);
    let listed = findings(&mut client, json!([]));
    let all = listed["findings"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{listed:#}");
    let f = &all[0];
    let file = repo.path().join("db/002.sql");
    assert_eq!(f["uri"], url(&file).as_str());
    assert_eq!(f["path"], "db/002.sql");
    assert_eq!(f["range"], range(2, 0, 2, 17));
    assert_eq!(f["agent"], "claude-code");
    assert_eq!(f["state"], "unsigned");

    // Opened, it is counted once, from the buffer; the request clears it from "unsigned".
    client.open(f["uri"].as_str().unwrap(), "sql", migration);
    let diags = client.diagnostics(f["uri"].as_str().unwrap(), 0);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(severity(&diags[0]), ERROR);
    let listed = findings(&mut client, json!([]));
    assert_eq!(
        listed["findings"].as_array().unwrap().len(),
        1,
        "{listed:#}"
    );

    // Another agent edit while the server runs: the watcher event brings it into the counts.
    agent_writes(repo.path(), "ops/clean.sh", "#!/bin/sh\nrm -rf \"$DIR/\"\n");
    let record = repo.path().join(".git/countersign/provenance.jsonl");
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": url(&record), "type": 2}]}),
    );
    status(&mut client, 2, 0);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn editor_settings_change_what_the_user_sees() {
    let repo = git_repo();
    let uri = url(&repo.path().join("schema.sql"));
    let (mut client, _) = Client::initialized_with_options(
        repo.path(),
        json!({"general": {"positionEncodings": ["utf-8"]}}),
        json!({"humanSeverity": "warning", "heuristics": {"bulkInsert": false}, "agent": "copilot"}),
    );
    client.open(&uri, "sql", "DROP TABLE a;\n");
    let diags = client.diagnostics(&uri, 0);
    assert_eq!(severity(&diags[0]), WARNING, "{diags:#?}");

    // With the bulk-insert heuristic off, a pasted block is the user's own.
    client.change(
        &uri,
        1,
        json!([{"range": range(1, 0, 1, 0), "text": "DROP TABLE b;\nDROP TABLE c;\n"}]),
    );
    let diags = client.diagnostics(&uri, 1);
    assert!(diags.iter().all(|d| severity(d) == WARNING), "{diags:#?}");

    // An AI edit the editor reports without an agent is the configured agent's.
    client.notify(
        "countersign/aiEdit",
        json!({"textDocument": {"uri": uri, "version": 1}, "ranges": [range(1, 0, 2, 0)]}),
    );
    let diags = client.diagnostics(&uri, 1);
    let ai = diags
        .iter()
        .find(|d| severity(d) == ERROR)
        .expect("one AI finding");
    assert!(
        ai["message"]
            .as_str()
            .unwrap()
            .contains("written by copilot (client)"),
        "{ai}"
    );

    // The user silences findings in code people wrote; the AI one stays.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"countersign": {"humanSeverity": "off"}}}),
    );
    let diags = client.diagnostics(&uri, 1);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(severity(&diags[0]), ERROR);

    // Back to the repository's setting (a hint), and a malformed setting is reported.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    let diags = client.diagnostics(&uri, 1);
    assert_eq!(
        diags.iter().filter(|d| severity(d) == HINT).count(),
        2,
        "{diags:#?}"
    );
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"countersign": {"humanSeverity": "loud"}}}),
    );
    let shown = client.wait_for(|m| m["method"] == "window/showMessage");
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains("editor settings ignored"),
        "{shown}"
    );
    assert_eq!(client.shutdown(), 0);
}
