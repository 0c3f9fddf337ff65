//! The server under input no editor should send and under conditions editors do create: huge
//! and binary-looking documents, deep nesting, out-of-range numbers, a document lifecycle out of
//! order, a workspace without git or without a writable ledger, two servers on one repository.
//! After each, the server still answers correctly and its log shows no panic.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::client::{git_repo, range, url, Client};

const ERROR: i64 = 1;
const INFORMATION: i64 = 3;

/// Shuts the server down and fails if any handler panicked on the way.
fn shutdown_without_panics(mut client: Client) {
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit(), 0, "the server shut down cleanly");
    let log = client.final_log();
    assert!(
        !log.contains("panicked") && !log.contains("internal error"),
        "a handler panicked:\n{log}"
    );
}

/// An AI-written DROP TABLE in a fresh document: proof that analysis still works.
fn assert_still_analyses(client: &mut Client, uri: &str) {
    client.open(uri, "sql", "SELECT 1;\n");
    client.diagnostics(uri, 0);
    client.change(
        uri,
        1,
        json!([{"range": range(1, 0, 1, 0), "text": "DROP TABLE late;\nSELECT 2;\n"}]),
    );
    let diags = client.diagnostics(uri, 1);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["code"], "sql/drop-table");
    assert_eq!(diags[0]["severity"], ERROR);
}

fn hover(client: &mut Client, uri: &str, line: Value, character: Value) -> Value {
    client.request_raw(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
    )
}

#[test]
fn control_characters_nul_and_replacement_characters_are_just_text() {
    let repo = git_repo();
    let uri = url(&repo.path().join("blob.sql"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-16"]));
    // Every C0 control but the line breaks, DEL, an escape sequence, U+FFFD (what a decoder
    // makes of invalid UTF-8, which JSON cannot carry) and a lone BOM.
    let junk: String = (0u8..32)
        .filter(|b| !matches!(b, b'\n' | b'\r'))
        .map(char::from)
        .collect::<String>()
        + "\u{fffd}\u{7f}\u{1b}[31m\u{feff}";
    client.open(&uri, "sql", &junk);
    client.diagnostics(&uri, 0);
    // Binary-looking text around risky code, inserted in one go: still found, at the right
    // column (the junk before it on the line counts in UTF-16 units).
    let text = format!("{junk}\n\u{fffd}\u{fffd}DROP TABLE t;\u{0}\u{0}\n{junk}\n");
    client.change(&uri, 1, json!([{"range": range(0, 0, 0, 0), "text": text}]));
    let diags = client.diagnostics(&uri, 1);
    let drop = diags
        .iter()
        .find(|d| d["code"] == "sql/drop-table")
        .unwrap_or_else(|| panic!("{diags:#?}"));
    assert_eq!(drop["range"]["start"], json!({"line": 1, "character": 2}));
    let answered = hover(&mut client, &uri, json!(1), json!(3));
    assert!(answered.get("error").is_none(), "{answered}");
    shutdown_without_panics(client);
}

#[test]
fn a_50_mb_document_is_kept_in_step_unchecked_and_does_not_stall_the_others() {
    let repo = git_repo();
    let big = url(&repo.path().join("dump.sql"));
    let small = url(&repo.path().join("small.sql"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    let text = "INSERT INTO t VALUES (1);\n".repeat(2_000_000) + "DROP TABLE t;\n";
    assert!(text.len() > 50_000_000);
    client.open(&big, "sql", &text);
    let warning = client.wait_for(|m| m["method"] == "window/showMessage");
    let message = warning["params"]["message"].as_str().unwrap();
    assert!(
        message.contains("dump.sql") && message.contains("larger than 8 MiB"),
        "{message}"
    );
    assert!(
        client.diagnostics(&big, 0).is_empty(),
        "an unchecked document has no findings"
    );
    // Other documents are answered at once.
    assert_still_analyses(&mut client, &small);
    // Edits to the big document still apply in order: cut it down below the limit (the
    // first 1.9 M lines go) and the rest is checked, the DROP TABLE included.
    client.change(
        &big,
        1,
        json!([{"range": range(0, 0, 1_900_000, 0), "text": ""}]),
    );
    let diags = client.diagnostics(&big, 1);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["range"], range(100_000, 0, 100_000, 13));
    // ...and growing past the limit again says so again and drops the findings.
    client.change(
        &big,
        2,
        json!([{"range": range(0, 0, 0, 0), "text": "-- x\n".repeat(2_000_000)}]),
    );
    assert!(client.diagnostics(&big, 2).is_empty());
    client.wait_for(|m| m["method"] == "window/showMessage");
    shutdown_without_panics(client);
}

#[test]
fn a_multi_megabyte_line_is_analysed_with_columns_past_u16() {
    let repo = git_repo();
    let uri = url(&repo.path().join("minified.sh"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-16"]));
    let pad = "a".repeat(6_000_000);
    client.open(&uri, "shellscript", "");
    client.diagnostics(&uri, 0);
    client.change(
        &uri,
        1,
        json!([{"range": range(0, 0, 0, 0), "text": format!("echo {pad}; rm -rf /var/lib/app\nexit 0\n")}]),
    );
    let diags = client.diagnostics(&uri, 1);
    let rm = diags
        .iter()
        .find(|d| d["code"] == "shell/rm-rf")
        .expect("the finding at the end of the long line");
    let column = 5 + 6_000_000 + 2;
    assert_eq!(
        rm["range"]["start"],
        json!({"line": 0, "character": column})
    );
    // Typing at the far end of the line is an ordinary incremental edit.
    let end = column as u32 + "rm -rf /var/lib/app".len() as u32;
    client.change(
        &uri,
        2,
        json!([{"range": range(0, end, 0, end), "text": "/"}]),
    );
    let diags = client.diagnostics(&uri, 2);
    assert_eq!(
        diags[0]["range"]["end"],
        json!({"line": 0, "character": end + 1})
    );
    shutdown_without_panics(client);
}

#[test]
fn ten_thousand_levels_of_nesting_are_parsed_edited_and_checked() {
    let repo = git_repo();
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    let depth = 10_000;
    let cases = [
        (
            "deep.py",
            "python",
            format!("x = {}1{}\n", "(".repeat(depth), ")".repeat(depth)),
            "import os\nos.system(\"rm -rf /srv/data\")\n",
        ),
        (
            "deep.js",
            "javascript",
            format!("const a = {}1{};\n", "[".repeat(depth), "]".repeat(depth)),
            "require(\"child_process\").execSync(\"rm -rf /srv/data\");\nexport {};\n",
        ),
        (
            "deep.yaml",
            "yaml",
            format!("a: {}1{}\n", "[".repeat(depth), "]".repeat(depth)),
            "steps:\n  - run: terraform destroy -auto-approve\n",
        ),
        (
            "deep.sql",
            "sql",
            format!("SELECT {}1{};\n", "(".repeat(depth), ")".repeat(depth)),
            "DROP TABLE t;\nSELECT 1;\n",
        ),
    ];
    for (name, language, nested, risky) in cases {
        let uri = url(&repo.path().join(name));
        client.open(&uri, language, &nested);
        client.diagnostics(&uri, 0);
        // An AI appends risky code after the nesting, then a person edits the innermost value:
        // an incremental reparse of the deepest node.
        client.change(
            &uri,
            1,
            json!([{"range": range(1, 0, 1, 0), "text": risky}]),
        );
        let found = client.diagnostics(&uri, 1);
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        assert_eq!(found[0]["severity"], ERROR, "{name}");
        let inner = nested.find('1').unwrap() as u32;
        client.change(
            &uri,
            2,
            json!([{"range": range(0, inner, 0, inner + 1), "text": "2"}]),
        );
        assert_eq!(client.diagnostics(&uri, 2), found, "{name}");
    }
    shutdown_without_panics(client);
}

#[test]
fn out_of_range_numbers_are_invalid_params_or_clamped_never_a_crash() {
    let repo = git_repo();
    let uri = url(&repo.path().join("a.sql"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-16"]));
    client.open(&uri, "sql", "SELECT 1;\n");
    client.diagnostics(&uri, 0);
    for (line, character) in [
        (json!(-1), json!(0)),
        (json!(0), json!(-1)),
        (json!(1.5), json!(0)),
    ] {
        let reply = hover(&mut client, &uri, line, character);
        assert_eq!(reply["error"]["code"], -32602, "{reply}");
    }
    let far = hover(&mut client, &uri, json!(u32::MAX), json!(u32::MAX));
    assert!(far.get("error").is_none(), "{far}");
    let beyond = hover(&mut client, &uri, json!(u64::from(u32::MAX) + 1), json!(0));
    assert_eq!(beyond["error"]["code"], -32602, "{beyond}");
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range(u32::MAX, u32::MAX, u32::MAX, u32::MAX), "context": {"diagnostics": []}}),
    );
    assert_eq!(actions, json!([]));
    // Versions outside i32 and negative positions in a change are rejected as a whole.
    for version in [json!(i64::from(i32::MAX) + 1), json!(-1.5), json!("7")] {
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": "DROP TABLE x;\n"}]}),
        );
    }
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 1}, "contentChanges": [{"range": range(0, 0, 0, 0), "text": "x"}, {"range": {"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "DROP TABLE x;\n"}]}),
    );
    // A request in between, so the server takes the next change on its own: queued changes
    // are merged, and a valid one merged with a rejected one would be rejected with it.
    hover(&mut client, &uri, json!(0), json!(0));
    // An edit at u32::MAX lands at the end of the document.
    client.change(
        &uri,
        2,
        json!([{"range": range(u32::MAX, u32::MAX, u32::MAX, u32::MAX), "text": "DROP TABLE end;\nSELECT 2;\n"}]),
    );
    let diags = client.diagnostics(&uri, 2);
    assert_eq!(diags.len(), 1, "only the valid change applied: {diags:#?}");
    assert_eq!(diags[0]["range"], range(1, 0, 1, 15));
    shutdown_without_panics(client);
}

#[test]
fn a_document_lifecycle_out_of_order_is_ignored_with_a_reason() {
    let repo = git_repo();
    let uri = url(&repo.path().join("life.sql"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    // A change before the open is dropped: the open's text is what counts.
    client.change(
        &uri,
        1,
        json!([{"range": range(0, 0, 0, 0), "text": "DROP TABLE early;\nSELECT 0;\n"}]),
    );
    client.open(&uri, "sql", "SELECT 1;\n");
    assert!(client.diagnostics(&uri, 0).is_empty());
    client.change(
        &uri,
        3,
        json!([{"range": range(1, 0, 1, 0), "text": "TRUNCATE a;\nSELECT 2;\n"}]),
    );
    assert_eq!(client.diagnostics(&uri, 3).len(), 1);
    // An equal and an older version are stale: neither applies.
    for version in [3, 2] {
        client.change(
            &uri,
            version,
            json!([{"range": range(0, 0, 0, 0), "text": "DROP TABLE stale;\nSELECT 9;\n"}]),
        );
    }
    client.change(
        &uri,
        4,
        json!([{"range": range(0, 0, 0, 0), "text": "-- "}]),
    );
    let diags = client.diagnostics(&uri, 4);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["code"], "sql/truncate");
    // Closing twice: the second is a no-op; reopening starts afresh.
    for _ in 0..2 {
        client.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
    }
    let hover_closed = hover(&mut client, &uri, json!(0), json!(0));
    assert_eq!(hover_closed["result"], Value::Null, "{hover_closed}");
    client.open(&uri, "sql", "SELECT 1;\n");
    assert!(client.diagnostics(&uri, 0).is_empty());
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit(), 0);
    let log = client.final_log();
    assert!(!log.contains("panicked"), "{log}");
    for reason in ["which is not open", "not newer than 3", "is not open"] {
        assert!(log.contains(reason), "no {reason:?} in:\n{log}");
    }
}

#[test]
fn requests_about_documents_never_opened_answer_cleanly() {
    let repo = git_repo();
    let (mut client, _) = Client::initialized(repo.path(), None);
    let ghost = url(&repo.path().join("ghost.sql"));
    for uri in [ghost.as_str(), "untitled:Untitled-9", "not a uri at all"] {
        let h = hover(&mut client, uri, json!(0), json!(0));
        assert!(
            h["result"].is_null() || h["error"]["code"] == -32602,
            "{uri}: {h}"
        );
        let a = client.request_raw(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range(0, 0, 0, 0), "context": {"diagnostics": []}}),
        );
        assert!(
            a["result"] == json!([]) || a["error"]["code"] == -32602,
            "{uri}: {a}"
        );
    }
    let data = json!({"uri": ghost, "fingerprint": "0".repeat(64), "rule": "sql/drop-table"});
    for command in ["countersign.requestSignoff", "countersign.approveSignoff"] {
        let reply = client.request_raw(
            "workspace/executeCommand",
            json!({"command": command, "arguments": [data]}),
        );
        let message = reply["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{command}: {reply}");
    }
    let missing_args = client.request_raw(
        "workspace/executeCommand",
        json!({"command": "countersign.requestSignoff"}),
    );
    assert!(
        missing_args["error"]["message"].is_string(),
        "{missing_args}"
    );
    let findings = client.request_raw(
        "workspace/executeCommand",
        json!({"command": "countersign.workspaceFindings", "arguments": [{"state": "nonsense"}]}),
    );
    assert!(
        findings["error"]["message"].is_string() || findings["result"]["findings"].is_array(),
        "{findings}"
    );
    assert!(!repo.path().join(".countersign").exists());
    assert_still_analyses(&mut client, &url(&repo.path().join("after.sql")));
    shutdown_without_panics(client);
}

#[test]
fn garbage_ai_edit_notifications_attribute_nothing() {
    let repo = git_repo();
    let uri = url(&repo.path().join("ops.sh"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(&uri, "shellscript", "echo hi\nterraform destroy\n");
    let typed = client.diagnostics(&uri, 0);
    assert_eq!(typed.len(), 1);
    let method = "countersign/aiEdit";
    let doc = json!({"uri": uri, "version": 0});
    for params in [
        json!(null),
        json!([1, 2, 3]),
        json!({"textDocument": doc}),
        json!({"textDocument": doc, "ranges": "all", "agent": "x"}),
        json!({"textDocument": doc, "ranges": [range(1, 0, 2, 0)], "agent": 7}),
        json!({"textDocument": {"uri": "file:///elsewhere.sh", "version": 0}, "ranges": [range(1, 0, 2, 0)], "agent": "x"}),
        json!({"textDocument": {"uri": uri, "version": -3}, "ranges": [range(1, 0, 2, 0)], "agent": "x"}),
        json!({"textDocument": doc, "ranges": [{"start": {"line": -1, "character": 0}, "end": {"line": 2, "character": 0}}], "agent": "x"}),
    ] {
        client.notify(method, params);
    }
    // Nothing of that was attributed: the line is still a person's.
    let probe = hover(&mut client, &uri, json!(1), json!(0));
    assert!(probe.get("error").is_none(), "{probe}");
    client.change(&uri, 1, json!([{"range": range(0, 0, 0, 0), "text": "#"}]));
    assert_eq!(
        client.diagnostics(&uri, 1)[0]["severity"],
        typed[0]["severity"]
    );
    // Ten thousand ranges, reversed and past the end, from one valid notification: they are
    // clamped and the one that covers the finding counts.
    let mut ranges: Vec<Value> = (0..10_000u32)
        .map(|i| range(i, 5, i.saturating_sub(1), 0))
        .collect();
    ranges.push(range(1, 0, 2, 0));
    client.notify(
        method,
        json!({"textDocument": {"uri": uri, "version": 1}, "ranges": ranges, "agent": "bot"}),
    );
    let diags = client.diagnostics(&uri, 1);
    assert_eq!(diags[0]["severity"], ERROR, "{diags:#?}");
    shutdown_without_panics(client);
}

#[test]
fn a_client_dying_mid_message_ends_the_server_promptly_with_code_1() {
    let repo = git_repo();
    let uri = url(&repo.path().join("a.sql"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    client.open(&uri, "sql", "DROP TABLE t;\n");
    client.diagnostics(&uri, 0);
    // Half a message: the header promises more than ever arrives.
    client.send_raw(b"Content-Length: 5000\r\n\r\n{\"jsonrpc\": \"2.0\", \"method\": \"textDoc");
    let died = Instant::now();
    client.close_input();
    assert_eq!(client.wait_exit(), 1);
    assert!(
        died.elapsed() < Duration::from_secs(3),
        "{:?}",
        died.elapsed()
    );
    assert!(!client.final_log().contains("panicked"));
}

/// The request a code action offers for the AI-written finding of `rule` in `uri`.
fn request_signoff(client: &mut Client, data: &Value) -> Value {
    client.request_raw(
        "workspace/executeCommand",
        json!({"command": "countersign.requestSignoff", "arguments": [data]}),
    )
}

fn ai_drop_table(client: &mut Client, uri: &str, table: &str) -> Value {
    client.open(uri, "sql", "SELECT 1;\n");
    client.diagnostics(uri, 0);
    client.change(
        uri,
        1,
        json!([{"range": range(1, 0, 1, 0), "text": format!("DROP TABLE {table};\nSELECT 2;\n")}]),
    );
    let diags = client.diagnostics(uri, 1);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    diags[0]["data"].clone()
}

#[test]
fn outside_a_git_repository_a_signoff_request_is_still_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let uri = url(&dir.path().join("m.sql"));
    let (mut client, _) = Client::initialized(dir.path(), None);
    let data = ai_drop_table(&mut client, &uri, "users");
    let reply = request_signoff(&mut client, &data);
    assert_eq!(reply["result"]["created"], true, "{reply}");
    let path = reply["result"]["path"].as_str().unwrap();
    assert!(path.starts_with(dir.path().join(".countersign/signoffs").to_str().unwrap()));
    let request: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(request["path"], "m.sql");
    assert_eq!(request["snippet"], "DROP TABLE users;");
    shutdown_without_panics(client);
}

#[test]
fn an_unwritable_ledger_fails_the_request_with_the_reason_and_writes_nothing() {
    let repo = git_repo();
    // Tests run as root, where permissions do not stop a write: a file where the ledger's
    // folder must go makes creating it fail for everyone.
    std::fs::write(repo.path().join(".countersign"), "not a folder\n").unwrap();
    let uri = url(&repo.path().join("db/m.sql"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    let data = ai_drop_table(&mut client, &uri, "users");
    let reply = request_signoff(&mut client, &data);
    let message = reply["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("the request cannot have succeeded: {reply}"));
    assert!(
        message.contains(".countersign") && message.contains("Not a directory"),
        "{message}"
    );
    let shown = client.wait_for(|m| m["method"] == "window/showMessage");
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains(".countersign"),
        "{shown}"
    );
    // The finding is still waiting for a request, nothing else appeared in the repository.
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range(1, 0, 1, 0), "context": {"diagnostics": []}}),
    );
    assert!(
        actions[0]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Request senior sign-off")),
        "{actions}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".countersign")).unwrap(),
        "not a folder\n"
    );
    let mut entries: Vec<String> = std::fs::read_dir(repo.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, [".countersign", ".git"]);
    shutdown_without_panics(client);
}

#[test]
fn two_servers_on_one_repository_share_the_ledger_without_tearing_it() {
    let repo = git_repo();
    let root = repo.path();
    let (mut one, _) = Client::initialized(root, None);
    let (mut two, _) = Client::initialized(root, None);
    let mut data = Vec::new();
    for (name, table) in [("a.sql", "a"), ("b.sql", "b"), ("both.sql", "shared")] {
        let uri = url(&root.join(name));
        let d1 = ai_drop_table(&mut one, &uri, table);
        let d2 = ai_drop_table(&mut two, &uri, table);
        assert_eq!(d1["fingerprint"], d2["fingerprint"]);
        data.push(d1);
    }
    // Both servers ask at once: one for a.sql, the other for b.sql, both for both.sql.
    for _ in 0..3 {
        let send = |client: &mut Client, id: i64, d: &Value| {
            client.send(
                &json!({"jsonrpc": "2.0", "id": 1000 + id, "method": "workspace/executeCommand",
                "params": {"command": "countersign.requestSignoff", "arguments": [d]}}),
            );
        };
        send(&mut one, 0, &data[0]);
        send(&mut one, 2, &data[2]);
        send(&mut two, 1, &data[1]);
        send(&mut two, 2, &data[2]);
        let mut created_shared = 0;
        for (client, ids) in [(&mut one, [0, 2]), (&mut two, [1, 2])] {
            for id in ids {
                let reply = client.wait_for(|m| m["id"] == json!(1000 + id));
                assert!(reply["error"].is_null(), "{reply}");
                if id == 2 && reply["result"]["created"] == true {
                    created_shared += 1;
                }
            }
        }
        assert!(created_shared <= 1, "one writer creates the shared request");
        let dir = root.join(".countersign/signoffs");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut expected: Vec<String> = data
            .iter()
            .map(|d| format!("{}.json", d["fingerprint"].as_str().unwrap()))
            .collect();
        expected.sort();
        assert_eq!(
            files, expected,
            "one file per finding, no temporary files left"
        );
        for f in &files {
            let body = std::fs::read_to_string(dir.join(f)).unwrap();
            let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(format!("{}.json", v["fingerprint"].as_str().unwrap()), *f);
        }
    }
    // Each learns of the other's request through its file watcher.
    for (client, other) in [(&mut one, 1), (&mut two, 0)] {
        let file = root.join(".countersign/signoffs").join(format!(
            "{}.json",
            data[other]["fingerprint"].as_str().unwrap()
        ));
        client.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": url(&file), "type": 1}]}),
        );
        let uri = data[other]["uri"].as_str().unwrap().to_string();
        let pending = client.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri.as_str()
                && m["params"]["diagnostics"][0]["severity"] == INFORMATION
        });
        assert!(pending["params"]["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Sign-off pending"));
    }
    shutdown_without_panics(one);
    shutdown_without_panics(two);
}
