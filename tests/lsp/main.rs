//! End-to-end tests of `countersign lsp`: the real binary over stdio, in real git repositories.

mod client;
mod overview;
mod provenance;
mod robustness;
mod signoff;

use client::{git_repo, range, url, Client};
use serde_json::{json, Value};

fn severity(d: &Value) -> i64 {
    d["severity"].as_i64().unwrap()
}

const ERROR: i64 = 1;
const WARNING: i64 = 2;
const INFORMATION: i64 = 3;
const HINT: i64 = 4;

#[test]
fn initialize_negotiates_utf8_when_the_client_offers_it() {
    let repo = git_repo();
    let (client, result) = Client::initialized(repo.path(), Some(&["utf-8", "utf-16"]));
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-8");
    assert_eq!(
        result["capabilities"]["textDocumentSync"]["change"], 2,
        "incremental sync"
    );
    assert_eq!(
        result["capabilities"]["executeCommandProvider"]["commands"],
        json!([
            "countersign.requestSignoff",
            "countersign.approveSignoff",
            "countersign.workspaceFindings"
        ])
    );
    assert_eq!(result["serverInfo"]["name"], "countersign");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn initialize_falls_back_to_utf16() {
    let repo = git_repo();
    let (client, result) = Client::initialized(repo.path(), None);
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn ai_bulk_insert_of_drop_table_warns() {
    let repo = git_repo();
    let uri = url(&repo.path().join("db/migrate/001.sql"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-16"]));
    client.open(&uri, "sql", "SELECT 1;\n");
    assert!(client.diagnostics(&uri, 0).is_empty());
    client.change(
        &uri,
        1,
        json!([{"range": range(1, 0, 1, 0), "text": "DROP TABLE users;\nSELECT 2;\n"}]),
    );
    let diags = client.diagnostics(&uri, 1);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = &diags[0];
    assert_eq!(severity(d), ERROR);
    assert_eq!(d["source"], "countersign");
    assert_eq!(d["code"], "sql/drop-table");
    assert_eq!(d["range"], range(1, 0, 1, 17));
    let message = d["message"].as_str().unwrap();
    assert!(
        message.contains("needs senior sign-off") && message.contains("bulk edit, likely AI"),
        "{message}"
    );
    assert_eq!(d["data"]["uri"], uri.as_str());
    assert_eq!(d["data"]["fingerprint"].as_str().unwrap().len(), 64);
    assert!(d["codeDescription"]["href"]
        .as_str()
        .unwrap()
        .ends_with("sql/drop-table"));
}

#[test]
fn typed_drop_table_is_only_a_hint() {
    let repo = git_repo();
    let uri = url(&repo.path().join("schema.sql"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(&uri, "sql", "");
    let typed = "DROP TABLE users;";
    for (i, ch) in typed.chars().enumerate() {
        let col = i as u32;
        client.change(
            &uri,
            i as i64 + 1,
            json!([{"range": range(0, col, 0, col), "text": ch.to_string()}]),
        );
    }
    let diags = client.diagnostics(&uri, typed.len() as i64);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(severity(&diags[0]), HINT);
    assert!(diags[0]["message"]
        .as_str()
        .unwrap()
        .contains("typed by a person"));
    assert!(!client
        .notifications
        .iter()
        .any(|m| m["params"]["diagnostics"]
            .as_array()
            .is_some_and(|ds| ds.iter().any(|d| severity(d) == ERROR))));
}

#[test]
fn every_analysed_version_is_published_with_its_version() {
    let repo = git_repo();
    let uri = url(&repo.path().join("a.sql"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    client.open(&uri, "sql", "");
    // A burst of changes may be analysed together; whatever is published carries the version
    // it describes, versions only increase, and the last change is always analysed.
    for v in 1..=200 {
        client.change(&uri, v, json!([{"range": range(0, 0, 0, 0), "text": "x"}]));
    }
    client.change(
        &uri,
        201,
        json!([{"range": range(0, 0, 0, 0), "text": "DROP TABLE t;\nSELECT 1;\n"}]),
    );
    let last = client.diagnostics(&uri, 201);
    assert_eq!(last.len(), 1, "{last:#?}");
    assert_eq!(last[0]["range"], range(0, 0, 0, 13));
    let versions: Vec<i64> = client
        .notifications
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .map(|m| m["params"]["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions[0], 0);
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
}

/// A long document is parsed in chunks. A comment opened near the top and closed at the end
/// hides everything between once the client pauses, as a parse of the whole file would, and
/// the findings come back when it is removed.
#[test]
fn a_comment_across_a_long_document_hides_its_findings_once_the_client_pauses() {
    let repo = git_repo();
    let uri = url(&repo.path().join("a.sql"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    let lines = 6000;
    let text: String = (0..lines)
        .map(|i| match i % 100 {
            0 => format!("DROP TABLE t{i};\n"),
            _ => format!("SELECT {i} FROM t;\n"),
        })
        .collect();
    client.open(&uri, "sql", &text);
    assert_eq!(client.diagnostics(&uri, 0).len(), lines / 100);
    client.change(
        &uri,
        1,
        json!([
            {"range": range(150, 0, 150, 0), "text": "/*\n"},
            {"range": range(lines as u32 + 1, 0, lines as u32 + 1, 0), "text": "*/\n"},
        ]),
    );
    // Two DROPs stay, those before line 150 (at once, or after the pause that settles it).
    let settled = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["version"] == 1
            && m["params"]["diagnostics"].as_array().map(Vec::len) == Some(2)
    });
    assert_eq!(settled["params"]["uri"], uri.as_str());
    client.change(
        &uri,
        2,
        json!([
            {"range": range(lines as u32 + 1, 0, lines as u32 + 2, 0), "text": ""},
            {"range": range(150, 0, 151, 0), "text": ""},
        ]),
    );
    client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["version"] == 2
            && m["params"]["diagnostics"].as_array().map(Vec::len) == Some(lines / 100)
    });
}

#[test]
fn code_action_requests_signoff_and_writes_the_ledger() {
    let repo = git_repo();
    let path = repo.path().join("db/migrate/002.sql");
    let uri = url(&path);
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(&uri, "sql", "");
    client.change(
        &uri,
        1,
        json!([{"range": range(0, 0, 0, 0), "text": "BEGIN;\nDROP TABLE users;\nCOMMIT;\n"}]),
    );
    let diags = client.diagnostics(&uri, 1);
    let diag = diags
        .iter()
        .find(|d| d["code"] == "sql/drop-table")
        .expect("drop-table diagnostic")
        .clone();
    let fingerprint = diag["data"]["fingerprint"].as_str().unwrap().to_string();

    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}}),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:#?}");
    let action = &actions[0];
    assert_eq!(action["kind"], "quickfix");
    assert!(action["title"]
        .as_str()
        .unwrap()
        .starts_with("Request senior sign-off"));
    assert_eq!(action["command"]["command"], "countersign.requestSignoff");

    let result = client.request(
        "workspace/executeCommand",
        json!({"command": action["command"]["command"], "arguments": action["command"]["arguments"]}),
    );
    assert_eq!(result["created"], true);
    let file = repo
        .path()
        .join(".countersign/signoffs")
        .join(format!("{fingerprint}.json"));
    assert_eq!(result["path"], file.to_str().unwrap());
    let request: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(request["fingerprint"], fingerprint.as_str());
    assert_eq!(request["rule"], "sql/drop-table");
    assert_eq!(request["path"], "db/migrate/002.sql");
    assert_eq!(request["line"], 2);
    assert_eq!(request["snippet"], "DROP TABLE users;");
    assert_eq!(request["author"]["kind"], "ai");
    assert_eq!(request["requested_by"]["email"], "dev@example.com");
    assert_eq!(request["status"], "pending");

    // The warning turns into "sign-off pending", and no second request is offered.
    let diags = client.diagnostics(&uri, 1);
    assert_eq!(severity(&diags[0]), INFORMATION);
    assert!(diags[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Sign-off pending"));
    let again = client.request("textDocument/codeAction", json!({"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": []}}));
    assert_eq!(again, json!([]));

    // Asking twice is harmless: the same file, not created again.
    let twice = client.request("workspace/executeCommand", json!({"command": "countersign.requestSignoff", "arguments": action["command"]["arguments"]}));
    assert_eq!(twice["created"], false);
    let files = std::fs::read_dir(repo.path().join(".countersign/signoffs"))
        .unwrap()
        .count();
    assert_eq!(files, 1);
}

#[test]
fn a_stale_signoff_command_fails_with_a_reason() {
    let repo = git_repo();
    let uri = url(&repo.path().join("x.sql"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    client.open(&uri, "sql", "");
    client.change(
        &uri,
        1,
        json!([{"range": range(0, 0, 0, 0), "text": "TRUNCATE logs;\nSELECT 1;\n"}]),
    );
    let diags = client.diagnostics(&uri, 1);
    let data = diags[0]["data"].clone();
    client.change(
        &uri,
        2,
        json!([{"range": range(0, 9, 0, 13), "text": "audit"}]),
    );
    client.diagnostics(&uri, 2);
    let response = client.request_raw(
        "workspace/executeCommand",
        json!({"command": "countersign.requestSignoff", "arguments": [data]}),
    );
    assert!(
        response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer in the document"),
        "{response}"
    );
    let bad = client.request_raw(
        "workspace/executeCommand",
        json!({"command": "countersign.requestSignoff", "arguments": [42]}),
    );
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("diagnostic's data"),
        "{bad}"
    );
    assert!(!repo.path().join(".countersign").exists());
}

#[test]
fn bad_positions_and_malformed_messages_leave_the_server_answering() {
    let repo = git_repo();
    let uri = url(&repo.path().join("a.sql"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-16"]));
    client.open(&uri, "sql", "SELECT 1;\n");
    // Far past the end, a reversed range, a position inside a surrogate pair.
    client.change(
        &uri,
        1,
        json!([{"range": range(9999, 9999, 99999, 0), "text": "DROP TABLE a;\nSELECT 3;\n"}]),
    );
    client.change(&uri, 2, json!([{"range": range(0, 5, 0, 2), "text": "😀"}]));
    client.change(&uri, 3, json!([{"range": range(0, 3, 0, 3), "text": "x"}]));
    let diags = client.diagnostics(&uri, 3);
    assert_eq!(diags.len(), 1);
    // Garbage on the wire, wrong shapes, unknown methods, unknown documents, stale versions.
    client.send_raw(b"Content-Length: 9\r\n\r\n{garbage}");
    client.send(&json!({"jsonrpc": "2.0", "id": "x", "method": 17}));
    client.notify("textDocument/didChange", json!({"textDocument": {"uri": "file:///nowhere.sql", "version": 1}, "contentChanges": [{"text": "x"}]}));
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 1}, "contentChanges": [{"text": "stale"}]}),
    );
    client.notify("textDocument/didChange", json!({"bogus": true}));
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": "file:///never-opened.sql"}}),
    );
    let unknown = client.request_raw("countersign/frobnicate", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let invalid = client.request_raw("textDocument/codeAction", json!({"nope": 1}));
    assert_eq!(invalid["error"]["code"], -32602);
    let parse_error = client.wait_for(|m| m["error"]["code"] == -32700);
    assert_eq!(parse_error["id"], Value::Null);
    let actions = client.request("textDocument/codeAction", json!({"textDocument": {"uri": uri}, "range": range(0, 0, 100, 0), "context": {"diagnostics": []}}));
    assert_eq!(
        actions.as_array().unwrap().len(),
        1,
        "the stale change was not applied"
    );
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn utf16_positions_around_emoji_point_at_the_right_code() {
    let repo = git_repo();
    let uri = url(&repo.path().join("u.sql"));
    for (encodings, col) in [(&["utf-16"][..], 14), (&["utf-8"][..], 18)] {
        let (mut client, _) = Client::initialized(repo.path(), Some(encodings));
        client.open(&uri, "sql", "");
        client.change(&uri, 1, json!([{"range": range(0, 0, 0, 0), "text": "-- 表 😀\nSELECT '😀表'; DROP TABLE t;\n"}]));
        let diags = client.diagnostics(&uri, 1);
        assert_eq!(
            diags[0]["range"],
            range(1, col, 1, col + 13),
            "{encodings:?}"
        );
    }
}

#[test]
fn requests_before_initialize_are_refused_and_exit_without_shutdown_is_code_1() {
    let repo = git_repo();
    let mut client = Client::start(repo.path());
    let early = client.request_raw("textDocument/codeAction", json!({}));
    assert_eq!(early["error"]["code"], -32002);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit(), 1);
}

#[test]
fn a_client_that_vanishes_ends_the_server() {
    let repo = git_repo();
    let (mut client, _) = Client::initialized(repo.path(), None);
    client.close_input();
    assert_eq!(client.wait_exit(), 1);
}

#[test]
fn closing_a_document_clears_its_diagnostics() {
    let repo = git_repo();
    let uri = url(&repo.path().join("run.sh"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    client.open(&uri, "shellscript", "set -e\nrm -rf \"$BUILD_DIR/\"\n");
    let diags = client.diagnostics(&uri, 0);
    assert_eq!(diags[0]["code"], "shell/rm-rf");
    assert_eq!(
        severity(&diags[0]),
        HINT,
        "text present at open has unknown authorship"
    );
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let cleared = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["diagnostics"] == json!([])
    });
    assert_eq!(cleared["params"]["uri"], uri.as_str());
}

#[test]
fn an_ai_edit_notification_attributes_existing_code_to_the_named_agent() {
    let repo = git_repo();
    let uri = url(&repo.path().join("deploy.sh"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(&uri, "shellscript", "echo start\nterraform destroy\n");
    assert_eq!(severity(&client.diagnostics(&uri, 0)[0]), HINT);
    // A version the document is not at is ignored...
    client.notify("countersign/aiEdit", json!({"textDocument": {"uri": uri, "version": 7}, "ranges": [range(1, 0, 2, 0)], "agent": "claude-code"}));
    // ...the current one is applied.
    client.notify("countersign/aiEdit", json!({"textDocument": {"uri": uri, "version": 0}, "ranges": [range(1, 0, 2, 0)], "agent": "claude-code"}));
    let diags = client.diagnostics(&uri, 0);
    assert_eq!(severity(&diags[0]), ERROR);
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("written by claude-code (client)"),
        "{diags:#?}"
    );
}

#[test]
fn identical_code_twice_requests_signoff_for_the_occurrence_acted_on() {
    let repo = git_repo();
    let uri = url(&repo.path().join("twice.sql"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(&uri, "sql", "DROP TABLE users;\n");
    client.change(
        &uri,
        1,
        json!([{"range": range(1, 0, 1, 0), "text": "SELECT 1;\nDROP TABLE users;\n"}]),
    );
    let diags = client.diagnostics(&uri, 1);
    assert_eq!(diags.len(), 2);
    let ai = diags
        .iter()
        .find(|d| severity(d) == ERROR)
        .expect("the inserted copy is AI");
    assert_eq!(ai["range"], range(2, 0, 2, 17));
    let actions = client.request("textDocument/codeAction", json!({"textDocument": {"uri": uri}, "range": ai["range"], "context": {"diagnostics": [ai]}}));
    let action = &actions[0];
    assert_eq!(action["diagnostics"][0]["range"], ai["range"]);
    client.request("workspace/executeCommand", json!({"command": "countersign.requestSignoff", "arguments": action["command"]["arguments"]}));
    let file = repo.path().join(".countersign/signoffs").join(format!(
        "{}.json",
        ai["data"]["fingerprint"].as_str().unwrap()
    ));
    let request: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(request["line"], 3);
    assert_eq!(request["author"]["kind"], "ai");
    assert_eq!(request["snippet"], "DROP TABLE users;");
}

#[test]
fn the_bulk_insert_threshold_comes_from_countersign_toml() {
    let repo = git_repo();
    std::fs::write(
        repo.path().join("countersign.toml"),
        "[provenance]\nbulk_insert_min_lines = 4\n",
    )
    .unwrap();
    let uri = url(&repo.path().join("m.sql"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    client.open(&uri, "sql", "");
    client.change(
        &uri,
        1,
        json!([{"range": range(0, 0, 0, 0), "text": "DROP TABLE a;\nSELECT 1;\n"}]),
    );
    assert_eq!(
        severity(&client.diagnostics(&uri, 1)[0]),
        HINT,
        "two lines are below the threshold"
    );
    client.change(&uri, 2, json!([{"range": range(2, 0, 2, 0), "text": "TRUNCATE b;\nSELECT 1;\nSELECT 2;\nSELECT 3;\n"}]));
    let diags = client.diagnostics(&uri, 2);
    let truncate = diags.iter().find(|d| d["code"] == "sql/truncate").unwrap();
    assert_eq!(severity(truncate), ERROR);
}

#[test]
fn a_broken_countersign_toml_is_reported_and_defaults_apply() {
    let repo = git_repo();
    std::fs::write(
        repo.path().join("countersign.toml"),
        "[provenance]\nbulk_insert_min_line = 4\n",
    )
    .unwrap();
    let uri = url(&repo.path().join("m.sql"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    client.open(&uri, "sql", "");
    let warning = client.wait_for(|m| m["method"] == "window/showMessage");
    let text = warning["params"]["message"].as_str().unwrap();
    assert!(
        text.contains("countersign.toml")
            && text.contains("bulk_insert_min_line")
            && text.contains("default"),
        "{text}"
    );
    client.change(
        &uri,
        1,
        json!([{"range": range(0, 0, 0, 0), "text": "DROP TABLE a;\nSELECT 1;\n"}]),
    );
    assert_eq!(severity(&client.diagnostics(&uri, 1)[0]), ERROR);
}

/// A tiny deterministic generator: the same "random" client every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }

    fn number(&mut self) -> Value {
        match self.next() % 6 {
            0 => json!(0),
            1 => json!(self.next() % 8),
            2 => json!(self.next() % 80),
            3 => json!(u32::MAX),
            4 => json!(-1),
            _ => json!(1.5),
        }
    }
}

#[test]
fn hostile_client_input_never_takes_the_server_down() {
    let repo = git_repo();
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-16"]));
    let uris = [
        url(&repo.path().join("a.sql")),
        url(&repo.path().join("b.sh")),
        "untitled:Untitled-1".to_string(),
    ];
    let texts = [
        "DROP TABLE t;\n",
        "😀",
        "e\u{301}",
        "\r\n",
        "\r",
        "'",
        "rm -rf /\n",
        "",
        "表\n表",
        "\u{feff}",
    ];
    let methods = [
        "textDocument/didOpen",
        "textDocument/didChange",
        "textDocument/didClose",
        "textDocument/didSave",
        "countersign/aiEdit",
    ];
    let mut rng = Lcg(7);
    for (i, uri) in uris.iter().enumerate() {
        client.open(uri, ["sql", "shellscript", "plaintext"][i], "SELECT 1;\n");
    }
    for step in 0..3000i64 {
        let uri = rng.pick(&uris.iter().map(String::as_str).collect::<Vec<_>>());
        let pos = |rng: &mut Lcg| json!({"line": rng.number(), "character": rng.number()});
        let range = json!({"start": pos(&mut rng), "end": pos(&mut rng)});
        let text = rng.pick(&texts);
        let version = if rng.next().is_multiple_of(10) {
            json!(rng.number())
        } else {
            json!(step + 1)
        };
        let method = rng.pick(&methods);
        let params = match method {
            "textDocument/didOpen" => {
                json!({"textDocument": {"uri": uri, "languageId": "sql", "version": version, "text": text}})
            }
            "textDocument/didChange" => {
                let change = if rng.next().is_multiple_of(5) {
                    json!({"text": text})
                } else {
                    json!({"range": range, "text": text})
                };
                json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change, change]})
            }
            "countersign/aiEdit" => {
                json!({"textDocument": {"uri": uri, "version": version}, "ranges": [range], "agent": "x"})
            }
            _ => json!({"textDocument": {"uri": uri}}),
        };
        client.notify(method, params);
        if step % 500 == 0 {
            let actions = client.request_raw("textDocument/codeAction", json!({"textDocument": {"uri": uri}, "range": range, "context": {"diagnostics": []}}));
            assert!(
                actions.get("result").is_some() || actions.get("error").is_some(),
                "{actions}"
            );
        }
    }
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(
        client.wait_exit(),
        0,
        "the server survived and shut down cleanly"
    );
    let log = client.final_log();
    assert!(
        !log.contains("panicked") && !log.contains("internal error"),
        "a handler panicked:\n{log}"
    );
    assert!(
        log.contains("outside the document; clamped"),
        "bad positions are logged:\n{log}"
    );
}

#[test]
fn shell_in_a_workflow_step_is_checked_as_shell() {
    let repo = git_repo();
    let uri = url(&repo.path().join(".github/workflows/deploy.yml"));
    let (mut client, _) = Client::initialized(repo.path(), Some(&["utf-8"]));
    client.open(
        &uri,
        "yaml",
        "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n",
    );
    let step = "      - name: Reset\n        run: |\n          terraform destroy -auto-approve\n";
    client.change(&uri, 1, json!([{"range": range(5, 0, 5, 0), "text": step}]));
    let diags = client.diagnostics(&uri, 1);
    let d = diags
        .iter()
        .find(|d| d["code"] == "shell/terraform-destroy")
        .expect("the injected shell is analysed");
    assert_eq!(severity(d), ERROR);
    assert_eq!(d["range"]["start"], json!({"line": 7, "character": 10}));
}

#[test]
fn ai_code_in_a_production_path_needs_signoff_and_configured_rules_apply() {
    let repo = git_repo();
    std::fs::write(
        repo.path().join("countersign.toml"),
        "[production]\npaths = [\"infra/live/**\"]\nhosts = [\"*.live.acme.io\"]\n\n[severity]\n\"sql/truncate\" = \"off\"\n",
    )
    .unwrap();
    let uri = url(&repo.path().join("infra/live/values.yaml"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    client.open(&uri, "yaml", "replicas: 2\n");
    assert!(
        client.diagnostics(&uri, 0).is_empty(),
        "typed code is quiet"
    );
    // A bulk (AI) insert: the whole block needs sign-off, and the marker inside it is not
    // reported a second time.
    client.change(
        &uri,
        1,
        json!([{"range": range(1, 0, 1, 0), "text": "image: api:2\nhost: db.live.acme.io\n"}]),
    );
    let diags = client.diagnostics(&uri, 1);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["code"], "production/path");
    assert_eq!(severity(&diags[0]), WARNING);
    assert_eq!(diags[0]["range"], range(1, 0, 2, 21));
    // One click records the request like any other finding.
    let reply = client.request(
        "workspace/executeCommand",
        json!({"command": "countersign.requestSignoff", "arguments": [diags[0]["data"]]}),
    );
    assert!(reply["error"].is_null(), "{reply}");
    assert_eq!(
        std::fs::read_dir(repo.path().join(".countersign/signoffs"))
            .unwrap()
            .count(),
        1
    );
    // The repository's severity overrides apply in the editor too.
    let sql = url(&repo.path().join("db/m.sql"));
    client.open(&sql, "sql", "TRUNCATE a;\nDROP TABLE b;\n");
    let codes: Vec<Value> = client
        .diagnostics(&sql, 0)
        .iter()
        .map(|d| d["code"].clone())
        .collect();
    assert_eq!(codes, vec![json!("sql/drop-table")]);
}

#[test]
fn saving_countersign_toml_applies_it_to_open_documents() {
    let repo = git_repo();
    let uri = url(&repo.path().join("db/m.sql"));
    let (mut client, _) = Client::initialized(repo.path(), None);
    client.open(&uri, "sql", "TRUNCATE a;\nDROP TABLE b;\n");
    assert_eq!(client.diagnostics(&uri, 0).len(), 2);
    let config = repo.path().join("countersign.toml");
    std::fs::write(&config, "[severity]\n\"sql/truncate\" = \"off\"\n").unwrap();
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": url(&config)}}),
    );
    let diags = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri.as_str()
            && m["params"]["diagnostics"].as_array().map(Vec::len) == Some(1)
    });
    assert_eq!(diags["params"]["diagnostics"][0]["code"], "sql/drop-table");
    // A broken file is reported, and the built-in rules stay in force.
    std::fs::write(&config, "[severity]\n\"sql/no-such\" = \"off\"\n").unwrap();
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": url(&config)}}),
    );
    let shown = client.wait_for(|m| m["method"] == "window/showMessage");
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains("sql/no-such"),
        "{shown}"
    );
    client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri.as_str()
            && m["params"]["diagnostics"].as_array().map(Vec::len) == Some(2)
    });
}
