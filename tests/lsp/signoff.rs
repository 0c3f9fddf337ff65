//! The whole sign-off cycle through the real server, the real CLI and real SSH keys: an AI
//! edit warns, a request makes it pending, a senior's signed approval clears it, and any later
//! change to the code brings the warning back.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::client::{git_repo, range, url, Client};
use super::{ERROR, INFORMATION};

/// A real ed25519 key made by `ssh-keygen` in `dir`; returns the private key's path.
fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen");
    key
}

fn public(key: &Path) -> String {
    std::fs::read_to_string(key.with_extension("pub"))
        .unwrap()
        .trim()
        .to_string()
}

fn git(root: &Path, args: &[&str]) {
    assert!(Command::new("git")
        .args(args)
        .current_dir(root)
        .status()
        .unwrap()
        .success());
}

fn countersign(root: &Path, home: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(args)
        .current_dir(root)
        .env("HOME", home)
        .output()
        .unwrap()
}

fn code_actions(client: &mut Client, uri: &str, d: &Value) -> Vec<Value> {
    client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}}),
        )
        .as_array()
        .unwrap()
        .clone()
}

fn execute(client: &mut Client, action: &Value) -> Value {
    client.request(
        "workspace/executeCommand",
        json!({"command": action["command"]["command"], "arguments": action["command"]["arguments"]}),
    )
}

#[test]
fn ai_edit_request_approve_clear_and_edit_again() {
    let repo = git_repo();
    let root = repo.path();
    let keys = tempfile::tempdir().unwrap();
    let lead = keygen(keys.path(), "lead");
    std::fs::create_dir_all(root.join(".countersign")).unwrap();
    std::fs::write(
        root.join(".countersign/allowed_signers"),
        format!(
            "lead@example.com namespaces=\"countersign\" {}\n",
            public(&lead)
        ),
    )
    .unwrap();
    let path = root.join("db/migrate/002.sql");
    let uri = url(&path);
    let (mut client, _) = Client::initialized(root, Some(&["utf-8"]));
    client.open(&uri, "sql", "");
    client.change(
        &uri,
        1,
        json!([{"range": range(0, 0, 0, 0), "text": "BEGIN;\nDROP TABLE users;\nCOMMIT;\n"}]),
    );
    let d = client.diagnostics(&uri, 1).remove(0);
    assert_eq!(d["severity"], ERROR);
    let fingerprint = d["data"]["fingerprint"].as_str().unwrap().to_string();
    // The developer asks; they are not a senior, so no approval is offered to them.
    let actions = code_actions(&mut client, &uri, &d);
    assert_eq!(actions.len(), 1, "{actions:#?}");
    let mut args = actions[0]["command"]["arguments"][0].clone();
    args["reason"] = json!("the users table moved to the accounts service");
    let result = client.request(
        "workspace/executeCommand",
        json!({"command": "countersign.requestSignoff", "arguments": [args]}),
    );
    assert_eq!(result["created"], true);
    let request: Value =
        serde_json::from_str(&std::fs::read_to_string(result["path"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(
        request["reason"],
        "the users table moved to the accounts service"
    );
    assert_eq!(request["reviewers"], json!(["lead@example.com"]));
    let d = client.diagnostics(&uri, 1).remove(0);
    assert_eq!(d["severity"], INFORMATION);
    assert!(code_actions(&mut client, &uri, &d).is_empty());

    // The senior approves from the command line with their own key.
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "BEGIN;\nDROP TABLE users;\nCOMMIT;\n").unwrap();
    let home = tempfile::tempdir().unwrap();
    git(root, &["config", "user.email", "lead@example.com"]);
    let out = countersign(
        root,
        home.path(),
        &[
            "signoff",
            "approve",
            &fingerprint[..10],
            "--key",
            lead.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let approval = root
        .join(".countersign/signoffs")
        .read_dir()
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "approval"))
        .expect("an approval file")
        .path();
    // The real ssh-keygen accepts what was written.
    let a: Value = serde_json::from_str(&std::fs::read_to_string(&approval).unwrap()).unwrap();
    let sig = keys.path().join("sig");
    std::fs::write(&sig, a["signature"].as_str().unwrap()).unwrap();
    let signed = format!(
        "countersign sign-off v1\nfingerprint: {fingerprint}\nrule: sql/drop-table\npath: db/migrate/002.sql\nsnippet-sha256: {}\nrequested-at: {}\napproved-by: lead@example.com\napproved-at: {}\n",
        sha256_hex("DROP TABLE users;"),
        request["requested_at"].as_str().unwrap(),
        a["approved_at"].as_str().unwrap()
    );
    let verified = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf '%s' \"$MSG\" | ssh-keygen -Y verify -f {} -I lead@example.com -n countersign -s {}",
            root.join(".countersign/allowed_signers").display(),
            sig.display()
        ))
        .env("MSG", &signed)
        .output()
        .unwrap();
    assert!(verified.status.success(), "{verified:?}");

    // The editor learns of the approval through its file watcher: the diagnostic is gone.
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": url(&approval), "type": 1}]}),
    );
    assert!(client.diagnostics(&uri, 1).is_empty());
    // `signoff list` and `verify` agree.
    let list = countersign(root, home.path(), &["signoff", "list", "--approved"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("by lead@example.com"));
    assert!(countersign(root, home.path(), &["signoff", "verify"])
        .status
        .success());

    // The assistant changes the approved code: a new fingerprint, and the warning is back.
    client.change(
        &uri,
        2,
        json!([{"range": range(1, 0, 2, 0), "text": "DROP TABLE users CASCADE;\nDROP TABLE sessions;\n"}]),
    );
    let d = client.diagnostics(&uri, 2);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(d.iter().all(|d| d["severity"] == ERROR), "{d:#?}");
}

#[test]
fn a_senior_approves_from_the_editor_and_the_requester_cannot() {
    let repo = git_repo();
    let root = repo.path();
    let keys = tempfile::tempdir().unwrap();
    let lead = keygen(keys.path(), "lead");
    let dev = keygen(keys.path(), "dev");
    std::fs::create_dir_all(root.join(".countersign")).unwrap();
    std::fs::write(
        root.join(".countersign/allowed_signers"),
        format!(
            "lead@example.com {}\ndev@example.com {}\n",
            public(&lead),
            public(&dev)
        ),
    )
    .unwrap();
    let uri = url(&root.join("ops/reset.sh"));
    let text = "git push --force origin main\n";
    // The developer (a senior too) requests; their own approval is not offered.
    git(root, &["config", "user.signingkey", dev.to_str().unwrap()]);
    let (mut client, _) = Client::initialized(root, Some(&["utf-8"]));
    client.open(&uri, "shellscript", "");
    client.change(
        &uri,
        1,
        json!([{"range": range(0, 0, 0, 0), "text": format!("{text}{text}")}]),
    );
    let d = client.diagnostics(&uri, 1).remove(0);
    let request = code_actions(&mut client, &uri, &d).remove(0);
    assert_eq!(execute(&mut client, &request)["created"], true);
    let d = client.diagnostics(&uri, 1).remove(0);
    assert_eq!(d["severity"], INFORMATION);
    assert!(
        code_actions(&mut client, &uri, &d).is_empty(),
        "self-approval offered"
    );
    assert_eq!(client.shutdown(), 0);

    // The lead opens the same buffer state and approves with one click.
    git(root, &["config", "user.signingkey", lead.to_str().unwrap()]);
    git(root, &["config", "user.email", "lead@example.com"]);
    let (mut client, _) = Client::initialized(root, Some(&["utf-8"]));
    client.open(&uri, "shellscript", &format!("{text}{text}"));
    let d = client.diagnostics(&uri, 0).remove(0);
    assert_eq!(d["severity"], INFORMATION, "{d:#}");
    let actions = code_actions(&mut client, &uri, &d);
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(
        actions[0]["title"],
        "Approve sign-off (shell/git-push-force) as lead@example.com"
    );
    let result = execute(&mut client, &actions[0]);
    assert_eq!(result["created"], true, "{result:#}");
    assert_eq!(result["approvedBy"], "lead@example.com");
    assert!(client.diagnostics(&uri, 0).is_empty());
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn an_ai_edit_to_the_allowed_signers_or_the_settings_needs_signoff() {
    let repo = git_repo();
    let root = repo.path();
    let (mut client, _) = Client::initialized(root, Some(&["utf-8"]));
    for (rel, language, pasted) in [
        (
            ".countersign/allowed_signers",
            "plaintext",
            "intern@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq6\nbot@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq7\n",
        ),
        (
            "countersign.toml",
            "toml",
            "[signoff]\nallow_self_approval = true\n",
        ),
    ] {
        let uri = url(&root.join(rel));
        client.open(&uri, language, "");
        client.change(&uri, 1, json!([{"range": range(0, 0, 0, 0), "text": pasted}]));
        let d = client.diagnostics(&uri, 1);
        assert!(!d.is_empty(), "{rel}: no diagnostic");
        assert_eq!(d[0]["code"], "production/path", "{rel}: {d:#?}");
        assert!(d[0]["message"].as_str().unwrap().contains("needs senior sign-off"), "{d:#?}");
    }
}
