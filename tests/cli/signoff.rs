//! `countersign signoff`: requests, signed approvals and every trust rule, with real
//! `ssh-keygen` keys and signatures, and a real HTTP server on 127.0.0.1 for notifications.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use countersign::signoff::approval::{self, Approval};
use countersign::signoff::SignoffRequest;
use serde_json::Value;

fn git(root: &Path, args: &[&str]) {
    assert!(Command::new("git")
        .args(args)
        .current_dir(root)
        .status()
        .unwrap()
        .success());
}

fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    assert!(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .unwrap()
        .success());
    key
}

fn public(key: &Path) -> String {
    std::fs::read_to_string(key.with_extension("pub"))
        .unwrap()
        .trim()
        .to_string()
}

/// `ssh-keygen -Y sign` of `message` with `key` in `namespace`.
fn ssh_sign(key: &Path, namespace: &str, message: &[u8]) -> String {
    let mut child = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(message).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

struct Repo {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
    keys: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        git(dir.path(), &["config", "user.name", "Dev"]);
        git(dir.path(), &["config", "user.email", "dev@example.com"]);
        Repo {
            dir,
            home: tempfile::tempdir().unwrap(),
            keys: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_countersign"))
            .args(args)
            .current_dir(self.root())
            .env("HOME", self.home.path())
            .output()
            .unwrap()
    }

    fn signoffs(&self) -> PathBuf {
        self.root().join(".countersign/signoffs")
    }

    fn request_file(&self) -> (PathBuf, SignoffRequest) {
        let path = std::fs::read_dir(self.signoffs())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "json"))
            .unwrap();
        let req = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        (path, req)
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Writes an approval file by hand, as a forger or a broken tool would.
fn forge(
    repo: &Repo,
    req: &SignoffRequest,
    (principal, approved_at): (&str, &str),
    key: &Path,
    namespace: &str,
    signed: &[u8],
    name: &str,
) {
    let approved_at = approved_at.to_string();
    let signature = ssh_sign(key, namespace, signed);
    let a = Approval {
        version: 1,
        fingerprint: req.fingerprint.clone(),
        principal: principal.into(),
        key: "SHA256:x".into(),
        approved_at,
        note: None,
        signature,
    };
    std::fs::write(
        repo.signoffs()
            .join(format!("{}.{name}.approval", req.fingerprint)),
        serde_json::to_string_pretty(&a).unwrap(),
    )
    .unwrap();
}

#[test]
fn request_then_approve_with_a_real_key_and_list_the_states() {
    let repo = Repo::new();
    let lead = keygen(repo.keys.path(), "lead");
    repo.write(
        ".countersign/allowed_signers",
        &format!("lead@example.com {}\n", public(&lead)),
    );
    repo.write("db/m.sql", "SELECT 1;\nDROP TABLE users;\n");
    let out = repo.run(&[
        "signoff",
        "request",
        "db/m.sql:2",
        "--reason",
        "table retired",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).starts_with("requested: "), "{}", text(&out));
    let again = repo.run(&["signoff", "request", "db/m.sql:2"]);
    assert!(
        text(&again).starts_with("already requested"),
        "{}",
        text(&again)
    );
    let (_, req) = repo.request_file();
    assert_eq!(req.reason.as_deref(), Some("table retired"));
    assert_eq!(req.reviewers, ["lead@example.com"]);
    assert!(text(&repo.run(&["signoff", "list", "--pending"])).contains("pending"));
    // The requester is no senior: their default key is not listed.
    std::fs::create_dir_all(repo.home.path().join(".ssh")).unwrap();
    keygen(&repo.home.path().join(".ssh"), "id_ed25519");
    let refused = repo.run(&["signoff", "approve", "--all-pending"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    // The lead approves.
    git(repo.root(), &["config", "user.email", "lead@example.com"]);
    let out = repo.run(&[
        "signoff",
        "approve",
        "--all-pending",
        "--key",
        lead.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("by lead@example.com"));
    let list = repo.run(&["signoff", "list", "--format", "json"]);
    let v: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v["signoffs"][0]["state"], "approved");
    assert_eq!(v["signoffs"][0]["approved_by"][0], "lead@example.com");
    assert_eq!(v["signoffs"][0]["stale"], false);
    let verify = repo.run(&["signoff", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    // Changed code: the approval stays in the ledger for history, the request is stale.
    repo.write("db/m.sql", "SELECT 1;\nDROP TABLE sessions;\n");
    let stale = repo.run(&["signoff", "list", "--stale"]);
    assert!(text(&stale).contains("(stale)"), "{}", text(&stale));
    let scan = repo.run(&["scan", "--format", "json", "db"]);
    let v: Value = serde_json::from_slice(&scan.stdout).unwrap();
    assert_eq!(v["findings"][0]["signoff"], "none");
}

#[test]
fn every_trust_rule_rejects_with_its_reason_and_the_rest_keep_working() {
    let repo = Repo::new();
    let lead = keygen(repo.keys.path(), "lead");
    let old = keygen(repo.keys.path(), "old");
    let outsider = keygen(repo.keys.path(), "outsider");
    let dev = keygen(repo.keys.path(), "dev");
    repo.write(
        ".countersign/allowed_signers",
        &format!(
            "lead@example.com {}\nold@example.com valid-before=\"20200101\" {}\ndev@example.com {}\n",
            public(&lead),
            public(&old),
            public(&dev)
        ),
    );
    repo.write("db/m.sql", "DROP TABLE users;\n");
    assert!(repo
        .run(&["signoff", "request", "db/m.sql"])
        .status
        .success());
    let (req_path, req) = repo.request_file();
    let at = jiff::Timestamp::now().to_string();
    let good = |p: &str| approval::signed_text(&req, p, &at);
    // Each forged approval names a principal and signs something.
    forge(
        &repo,
        &req,
        ("lead@example.com", &at),
        &outsider,
        "countersign",
        &good("lead@example.com"),
        "outsider",
    );
    forge(
        &repo,
        &req,
        ("lead@example.com", &at),
        &lead,
        "git",
        &good("lead@example.com"),
        "namespace",
    );
    forge(
        &repo,
        &req,
        ("lead@example.com", &at),
        &lead,
        "countersign",
        b"something else",
        "bytes",
    );
    forge(
        &repo,
        &req,
        ("old@example.com", &at),
        &old,
        "countersign",
        &good("old@example.com"),
        "expired",
    );
    forge(
        &repo,
        &req,
        ("dev@example.com", &at),
        &dev,
        "countersign",
        &good("dev@example.com"),
        "self",
    );
    // An approval for other code, and a hand-edited request.
    let mut other = req.clone();
    other.fingerprint = "f".repeat(64);
    std::fs::write(
        repo.signoffs()
            .join(format!("{}.x.approval", other.fingerprint)),
        "{\"version\":1}",
    )
    .unwrap();
    let mut edited = req.clone();
    edited.snippet = "DROP TABLE accounts;".into();
    let edited_path = repo.signoffs().join("0000.json");
    std::fs::write(&edited_path, serde_json::to_string(&edited).unwrap()).unwrap();
    std::fs::write(repo.signoffs().join("garbage.json"), "{ not json").unwrap();

    let out = repo.run(&["signoff", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = text(&out);
    for (file, why) in [
        ("outsider.approval", "not listed in the allowed signers"),
        ("namespace.approval", "namespace"),
        ("bytes.approval", "signature"),
        ("expired.approval", "expired"),
        ("self.approval", "approved their own request"),
        ("x.approval", "not a valid approval"),
        ("0000.json", "names fingerprint"),
        ("garbage.json", "not a valid sign-off request"),
    ] {
        let line = report
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file} not named:\n{report}"));
        assert!(
            line.to_lowercase().contains(why),
            "{file}: {line}\n{report}"
        );
    }
    // Nothing was rewritten, and the request itself still works: the lead's real approval counts.
    assert_eq!(
        std::fs::read_to_string(repo.signoffs().join("garbage.json")).unwrap(),
        "{ not json"
    );
    assert!(req_path.exists());
    git(repo.root(), &["config", "user.email", "lead@example.com"]);
    let ok = repo.run(&[
        "signoff",
        "approve",
        &req.fingerprint[..8],
        "--key",
        lead.to_str().unwrap(),
    ]);
    assert!(ok.status.success(), "{}", text(&ok));
    let list = repo.run(&["signoff", "list", "--approved"]);
    assert!(
        text(&list).contains("by lead@example.com"),
        "{}",
        text(&list)
    );
    // The requester cannot approve their own request from the CLI either.
    git(repo.root(), &["config", "user.email", "dev@example.com"]);
    repo.write("db/n.sql", "TRUNCATE logs;\n");
    assert!(repo
        .run(&["signoff", "request", "db/n.sql"])
        .status
        .success());
    let own = repo.run(&[
        "signoff",
        "approve",
        "--all-pending",
        "--key",
        dev.to_str().unwrap(),
    ]);
    assert_eq!(own.status.code(), Some(1), "{}", text(&own));
    assert!(
        text(&own).contains("another senior must approve"),
        "{}",
        text(&own)
    );
}

#[test]
fn concurrent_requests_lose_and_tear_nothing() {
    let repo = Repo::new();
    for i in 0..12 {
        repo.write(&format!("db/{i}.sql"), &format!("DROP TABLE t{i};\n"));
    }
    let bin = env!("CARGO_BIN_EXE_countersign");
    let children: Vec<_> = (0..24)
        .map(|i| {
            Command::new(bin)
                .args(["signoff", "request", &format!("db/{}.sql", i % 12)])
                .current_dir(repo.root())
                .env("HOME", repo.home.path())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let files: Vec<PathBuf> = std::fs::read_dir(repo.signoffs())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 12, "{files:?}");
    for f in files {
        let req: SignoffRequest =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        assert!(approval::check_request(&req).is_ok());
    }
    assert!(repo.run(&["signoff", "verify"]).status.success());
}

/// A one-request-at-a-time HTTP server on 127.0.0.1 that records bodies and answers `status`.
fn http_server(
    listener: TcpListener,
    status: u16,
    count: usize,
) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut bodies = Vec::new();
        for _ in 0..count {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = s.read(&mut chunk).unwrap();
                buf.extend_from_slice(&chunk[..n]);
                let t = String::from_utf8_lossy(&buf).to_string();
                if let Some(head_end) = t.find("\r\n\r\n") {
                    let len = t[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if buf.len() >= head_end + 4 + len {
                        bodies.push(t[head_end + 4..].to_string());
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let reply =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            s.write_all(reply.as_bytes()).unwrap();
        }
        bodies
    })
}

#[test]
fn a_webhook_that_was_down_gets_the_request_later() {
    let repo = Repo::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    repo.write(
        "countersign.toml",
        &format!("[signoff.notify]\nwebhook = \"http://127.0.0.1:{port}/hook\"\n"),
    );
    repo.write("db/a.sql", "DROP TABLE a;\n");
    let out = repo.run(&["signoff", "request", "db/a.sql"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("notification failed"), "{}", text(&out));
    // The server is back: the next request delivers the waiting one and its own.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let server = http_server(listener, 200, 2);
    repo.write("db/b.sql", "DROP TABLE b;\n");
    let out = repo.run(&["signoff", "request", "db/b.sql"]);
    assert!(
        !text(&out).contains("notification failed"),
        "{}",
        text(&out)
    );
    let bodies = server.join().unwrap();
    let texts: Vec<String> = bodies
        .iter()
        .map(|b| {
            serde_json::from_str::<Value>(b).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(texts.iter().any(|t| t.contains("db/a.sql")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("db/b.sql")), "{texts:?}");
}
