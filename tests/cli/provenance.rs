//! Provenance from the command line: `blame`, `hooks install`, and the record under several
//! writers at once and under a writer killed mid-write.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use countersign::provenance::record::Record;
use serde_json::{json, Value};

pub(super) fn git(root: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.com"])
        .args(args)
        .current_dir(root)
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    dir
}

fn hook_with(root: &Path, agent: &str, payload: &str) -> std::process::Output {
    super::spawn_hook(root, agent, payload)
        .wait_with_output()
        .unwrap()
}

pub(super) fn write_payload(root: &Path, rel: &str, content: &str) -> String {
    json!({"cwd": root, "hook_event_name": "PostToolUse", "tool_name": "Write",
           "tool_input": {"file_path": root.join(rel), "content": content}})
    .to_string()
}

#[test]
fn blame_names_the_agent_and_how_it_is_known() {
    let repo = repo();
    let root = repo.path();
    std::fs::create_dir_all(root.join("db")).unwrap();
    std::fs::write(root.join("db/m.sql"), "SELECT 1;\n").unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Start"]);
    std::fs::write(root.join("db/m.sql"), "SELECT 1;\nDROP TABLE users;\n").unwrap();
    git(
        root,
        &[
            "commit",
            "-qam",
            "Drop users\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
        ],
    );
    std::fs::write(
        root.join("db/m.sql"),
        "SELECT 1;\nDROP TABLE users;\nTRUNCATE logs;\n",
    )
    .unwrap();
    let out = hook_with(
        root,
        "cursor",
        &json!({"hook_event_name": "afterFileEdit", "file_path": root.join("db/m.sql"),
                "edits": [{"old_string": "DROP TABLE users;\n", "new_string": "DROP TABLE users;\nTRUNCATE logs;\n"}]})
        .to_string(),
    );
    assert!(out.status.success());
    let out = super::countersign(root, &["blame", "db/m.sql"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(!lines[0].contains('('), "{text}");
    assert!(
        lines[1].contains("copilot (git)") && lines[1].ends_with("| DROP TABLE users;"),
        "{text}"
    );
    assert!(
        lines[2].contains("cursor (hook)") && lines[2].ends_with("| TRUNCATE logs;"),
        "{text}"
    );
    let out = super::countersign(root, &["blame", "--format", "json", "db/m.sql"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lines"][1]["author"], "ai");
    assert_eq!(v["lines"][1]["source"], "git");
    assert!(v["lines"][1]["how"]
        .as_str()
        .unwrap()
        .contains("Drop users"));
    assert_eq!(v["lines"][2]["agent"], "cursor");
    assert_eq!(v["lines"][0]["author"], "unknown");
    // Outside a repository: a clear error, exit 2.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("a.sql"), "SELECT 1;\n").unwrap();
    let out = super::countersign(outside.path(), &["blame", "a.sql"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not inside a git repository"));
}

#[test]
fn hooks_install_keeps_existing_settings_and_runs_once() {
    let repo = repo();
    let root = repo.path();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.join(".claude")).unwrap();
    let existing = json!({"permissions": {"allow": ["Bash(npm test)"]},
        "hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./lint.sh"}]}]}});
    std::fs::write(root.join(".claude/settings.json"), existing.to_string()).unwrap();
    let install = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_countersign"))
            .args(["hooks", "install"])
            .args(args)
            .current_dir(root)
            .env("HOME", home.path())
            .output()
            .unwrap()
    };
    let out = install(&["claude-code"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("installed"));
    let after = std::fs::read(root.join(".claude/settings.json")).unwrap();
    let v: Value = serde_json::from_slice(&after).unwrap();
    assert_eq!(v["permissions"], existing["permissions"]);
    let post = v["hooks"]["PostToolUse"].as_array().unwrap();
    assert_eq!(post.len(), 2, "{v:#}");
    assert_eq!(post[0], existing["hooks"]["PostToolUse"][0]);
    assert!(post[1].to_string().contains("hook claude-code"), "{v:#}");
    let out = install(&["claude-code"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("already installed"));
    assert_eq!(
        std::fs::read(root.join(".claude/settings.json")).unwrap(),
        after
    );
    // The user's own settings, for Cursor.
    let out = install(&["cursor", "--user"]);
    assert!(out.status.success(), "{out:?}");
    let v: Value =
        serde_json::from_slice(&std::fs::read(home.path().join(".cursor/hooks.json")).unwrap())
            .unwrap();
    assert!(
        v["hooks"]["afterFileEdit"]
            .to_string()
            .contains("hook cursor"),
        "{v:#}"
    );
    // A settings file that is not JSON is left alone, and the error says where.
    std::fs::write(root.join(".claude/settings.json"), "{ oops").unwrap();
    let out = install(&["claude-code"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("settings.json"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".claude/settings.json")).unwrap(),
        "{ oops"
    );
}

#[test]
fn hook_processes_writing_at_once_lose_nothing() {
    let repo = repo();
    let root = repo.path().to_path_buf();
    std::thread::scope(|s| {
        for t in 0..6 {
            let root = root.clone();
            s.spawn(move || {
                for i in 0..8 {
                    let rel = format!("db/{t}.sql");
                    let payload =
                        write_payload(&root, &rel, &format!("DELETE FROM t{t} WHERE id = {i};\n"));
                    assert!(hook_with(&root, "claude-code", &payload).status.success());
                }
            });
        }
    });
    let all = Record::for_root(&root).unwrap().load().unwrap();
    assert_eq!(all.skipped, 0);
    for t in 0..6 {
        assert_eq!(all.file(&format!("db/{t}.sql")).unwrap().len(), 8);
    }
}

#[test]
fn a_writer_killed_mid_write_leaves_a_readable_record() {
    let repo = repo();
    let root = repo.path();
    // Big entries, so a kill is likely to land inside a write.
    let content: String = (0..4000)
        .map(|i| format!("DELETE FROM audit_{i} WHERE created_at < now();\n"))
        .collect();
    std::fs::write(
        root.join("payload.json"),
        write_payload(root, "db/purge.sql", &content),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_countersign");
    for round in 0..5 {
        let mut writer = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while :; do '{bin}' hook claude-code < payload.json; done"
            ))
            .current_dir(root)
            .process_group(0)
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150 + 70 * round));
        // SIGKILL the loop and the hook it is running.
        let pgid = writer.id() as i32;
        assert!(Command::new("kill")
            .args(["-9", "--", &format!("-{pgid}")])
            .status()
            .unwrap()
            .success());
        let _ = writer.wait();
        let record = Record::for_root(root).unwrap();
        let all = record.load().expect("the record stays readable");
        assert!(
            all.skipped <= round as usize + 1,
            "only torn last lines are lost"
        );
        // The next writer carries on, and what it writes is read back whole.
        let after = write_payload(
            root,
            "db/after.sql",
            &format!("DROP TABLE after_{round};\n"),
        );
        assert!(hook_with(root, "claude-code", &after).status.success());
        let all = record.load().unwrap();
        assert_eq!(all.file("db/after.sql").unwrap().len(), round as usize + 1);
        assert_eq!(all.file("db/purge.sql").map_or(4000, |f| f.len()), 4000);
    }
}

#[test]
fn a_linked_worktree_keeps_its_own_record() {
    let repo = repo();
    let root = repo.path();
    std::fs::write(root.join("README"), "hello\n").unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "Start"]);
    let parent = tempfile::tempdir().unwrap();
    let wt = parent.path().join("feature");
    git(
        root,
        &["worktree", "add", "-q", "--detach", wt.to_str().unwrap()],
    );
    let wt = wt.canonicalize().unwrap();
    std::fs::create_dir_all(wt.join("db")).unwrap();
    std::fs::write(wt.join("db/m.sql"), "DROP TABLE users;\n").unwrap();
    let out = hook_with(
        &wt,
        "claude-code",
        &write_payload(&wt, "db/m.sql", "DROP TABLE users;\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let blame = super::countersign(&wt, &["blame", "db/m.sql"]);
    assert!(
        String::from_utf8_lossy(&blame.stdout).contains("claude-code (hook)"),
        "{blame:?}"
    );
    // The record is the worktree's, inside the main repository's git directory.
    let wt_git = countersign::provenance::record::git_dir(&wt).unwrap();
    assert!(
        wt_git.starts_with(root.join(".git/worktrees")),
        "{}",
        wt_git.display()
    );
    assert!(wt_git.join("countersign/provenance.jsonl").is_file());
    assert!(!root.join(".git/countersign/provenance.jsonl").exists());
}
