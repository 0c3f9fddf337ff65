//! The CLI on files no scanner should choke on, writers killed mid-write, a full disk and a
//! folder that is not a repository: every outcome is a clear message and an exit code from the
//! contract (0 clean, 1 findings, 2 error), never a panic or a torn file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use countersign::provenance::record::Record;
use countersign::signoff::SignoffRequest;
use serde_json::{json, Value};

use super::provenance::git;
use super::{countersign, finding_paths};

fn repo_in(dir: &Path) {
    git(dir, &["init", "-q"]);
    git(dir, &["config", "user.name", "Dev"]);
    git(dir, &["config", "user.email", "dev@example.com"]);
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    repo_in(dir.path());
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_no_panic(out: &Output) {
    assert!(
        !stderr(out).contains("panicked") && out.status.code() != Some(101),
        "{}",
        stderr(out)
    );
}

/// A deterministic stream of numbers, so a failing run can be repeated exactly.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }

    /// A moment within `span`: writers are killed at random points of their measured run, so
    /// the test hits them mid-write on a fast machine as on a slow one.
    fn moment(&mut self, span: Duration) -> Duration {
        Duration::from_micros(self.below(span.as_micros().max(1) as u64))
    }
}

/// How long one uncontended run of `spawn` takes, spawn to exit.
fn lifetime(spawn: impl FnOnce() -> std::process::Child) -> Duration {
    let start = std::time::Instant::now();
    let out = spawn().wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    start.elapsed()
}

/// SIGKILLs a random half of `children` at one random moment of a writer's run (a writer that
/// already finished is unaffected), then waits for them all.
fn kill_half<T>(
    mut children: Vec<(T, std::process::Child)>,
    rng: &mut Lcg,
    span: Duration,
) -> Vec<(T, Output)> {
    std::thread::sleep(rng.moment(span));
    for (_, child) in children.iter_mut() {
        if rng.below(2) == 0 {
            let _ = child.kill();
        }
    }
    children
        .into_iter()
        .map(|(tag, child)| (tag, child.wait_with_output().unwrap()))
        .collect()
}

/// Rounds of killing continue until one writer was killed (up to a bound), since a test in
/// which every writer finished first proves nothing.
fn another_round(round: usize, minimum: usize, killed: usize) -> bool {
    round < minimum || (killed == 0 && round < 40)
}

#[test]
fn scan_skips_huge_binary_and_non_utf8_files_with_a_note_and_reads_long_lines() {
    let repo = repo();
    let root = repo.path();
    let write = |rel: &str, bytes: &[u8]| std::fs::write(root.join(rel), bytes).unwrap();
    let mut dump = "INSERT INTO t VALUES (1);\n".repeat(2_000_000);
    dump.push_str("DROP TABLE t;\n");
    write("dump.sql", dump.as_bytes());
    write(
        "bundle.js",
        format!(
            "var a='{}';require('child_process').execSync('rm -rf /srv');",
            "x".repeat(10_000_000)
        )
        .as_bytes(),
    );
    write("blob.sql", b"DROP TABLE t;\n\0\x01\x02\xff\xfe");
    write("latin1.sql", b"-- caf\xe9\nDROP TABLE t;\n");
    // Under the size limit, one 6 MB line: the finding sits past column 65535.
    write(
        "minified.sh",
        format!("echo {}; rm -rf /var/lib/app\n", "a".repeat(6_000_000)).as_bytes(),
    );

    let expect_skipped = |file: &str, note: &str| {
        let out = countersign(root, &["scan", "--format", "json", file]);
        assert_no_panic(&out);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["findings"], json!([]), "{file}");
        assert!(
            stderr(&out).contains(file) && stderr(&out).contains(note),
            "{file}: {}",
            stderr(&out)
        );
    };
    expect_skipped("dump.sql", "larger than 8 MiB; skipped");
    expect_skipped("bundle.js", "larger than 8 MiB; skipped");
    expect_skipped("latin1.sql", "not valid UTF-8; skipped");
    // Binary files are not source code: nothing to say about them.
    let out = countersign(root, &["scan", "blob.sql"]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let column = 5 + 6_000_000 + 2 + 1;
    let out = countersign(root, &["scan", "--format", "json", "minified.sh"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["rule"], "shell/rm-rf");
    assert_eq!(
        report["findings"][0]["start"],
        json!({"line": 1, "column": column})
    );
    // The text report underlines the code however far along the line it is.
    let out = countersign(root, &["scan", "minified.sh"]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let underline = text
        .lines()
        .find(|l| l.trim_end().ends_with('^'))
        .expect("an underline");
    assert_eq!(underline.find('^'), Some("  | ".len() + column - 1));

    // All of it at once: the findings of the readable files, the notes, exit 1.
    let out = countersign(root, &["scan", "--format", "json", "."]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(finding_paths(&report), ["minified.sh"]);
}

#[test]
fn check_outside_a_git_repository_exits_2_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.sql"), "DROP TABLE t;\n").unwrap();
    for format in ["text", "json", "sarif", "github"] {
        let out = countersign(dir.path(), &["check", "--format", format]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(
            stderr(&out).contains("not inside a git repository"),
            "{format}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{format}: no half report on stdout");
    }
}

/// The sign-off requests in the ledger, each parsed; fails on any file that does not parse.
fn ledger_requests(root: &Path) -> Vec<(PathBuf, SignoffRequest)> {
    let dir = root.join(".countersign/signoffs");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let body = std::fs::read_to_string(&p).unwrap();
            let req = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{} is torn: {e}\n{body}", p.display()));
            (p, req)
        })
        .collect()
}

#[test]
fn signoff_requests_killed_mid_write_leave_only_whole_files_and_lose_no_acknowledged_one() {
    let repo = repo();
    let root = repo.path();
    let bin = env!("CARGO_BIN_EXE_countersign");
    let request = |i: usize| {
        std::fs::create_dir_all(root.join("db")).unwrap();
        std::fs::write(
            root.join(format!("db/{i}.sql")),
            format!("DROP TABLE t{i};\n"),
        )
        .unwrap();
        Command::new(bin)
            .args([
                "signoff",
                "request",
                &format!("db/{i}.sql"),
                "--reason",
                "migration",
            ])
            .current_dir(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let span = lifetime(|| request(0));
    let mut writers = 1;
    let mut rng = Lcg(11);
    let mut acknowledged = vec![(0, ledger_requests(root)[0].0.clone())];
    let mut killed = 0;
    let mut batch = 0;
    while another_round(batch, 3, killed) {
        batch += 1;
        let children: Vec<_> = (0..12)
            .map(|_| {
                writers += 1;
                (writers - 1, request(writers - 1))
            })
            .collect();
        for (i, out) in kill_half(children, &mut rng, span) {
            match out.status.code() {
                Some(0) => {
                    let stdout = String::from_utf8(out.stdout).unwrap();
                    let file = stdout
                        .split("-> ")
                        .nth(1)
                        .unwrap_or_else(|| panic!("{stdout}"))
                        .trim()
                        .to_string();
                    acknowledged.push((i, root.join(file)));
                }
                None => killed += 1,
                other => panic!("db/{i}.sql: exit {other:?}: {}", stderr(&out)),
            }
        }
    }
    assert!(
        killed > 0,
        "no writer was killed in {batch} batches (one run takes {span:?}); the test proves nothing"
    );
    let requests = ledger_requests(root);
    for (i, file) in &acknowledged {
        let found = requests.iter().find(|(p, _)| p == file);
        let (_, req) = found.unwrap_or_else(|| panic!("db/{i}.sql acknowledged but lost"));
        assert_eq!(req.path, format!("db/{i}.sql"));
    }
    // Readers see exactly the whole files; temporary files of killed writers are not requests.
    let list = countersign(root, &["signoff", "list", "--format", "json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let listed: Value = serde_json::from_slice(&list.stdout).unwrap();
    let listed = listed["signoffs"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .len();
    assert_eq!(listed, requests.len());
    let verify = countersign(root, &["signoff", "verify"]);
    assert_no_panic(&verify);
    assert!(verify.status.success(), "{}", stderr(&verify));
    // Every killed request can be made again.
    for i in 0..writers {
        let again = countersign(root, &["signoff", "request", &format!("db/{i}.sql")]);
        assert!(again.status.success(), "db/{i}.sql: {}", stderr(&again));
    }
    assert_eq!(ledger_requests(root).len(), writers);
}

fn hook(root: &Path, payload: &str) -> std::process::Child {
    super::spawn_hook(root, "claude-code", payload)
}

#[test]
fn concurrent_hooks_some_killed_keep_every_acknowledged_edit() {
    let repo = repo();
    let root = repo.path();
    let content = |tag: &str| -> String {
        (0..1500)
            .map(|i| format!("DELETE FROM audit_{tag}_{i} WHERE x < now();\n"))
            .collect()
    };
    let span = lifetime(|| {
        hook(
            root,
            &super::provenance::write_payload(root, "db/first.sql", &content("first")),
        )
    });
    let mut rng = Lcg(5);
    let mut acknowledged = vec!["db/first.sql".to_string()];
    let mut killed = 0;
    let mut round = 0;
    while another_round(round, 4, killed) {
        round += 1;
        let children: Vec<_> = (0..8)
            .map(|k| {
                let rel = format!("db/r{round}w{k}.sql");
                let content = content(&format!("{round}_{k}"));
                (
                    rel.clone(),
                    hook(
                        root,
                        &super::provenance::write_payload(root, &rel, &content),
                    ),
                )
            })
            .collect();
        for (rel, out) in kill_half(children, &mut rng, span) {
            match out.status.code() {
                Some(0) => acknowledged.push(rel),
                None => killed += 1,
                other => panic!("{rel}: exit {other:?}: {}", stderr(&out)),
            }
        }
    }
    assert!(
        killed > 0,
        "no writer was killed in {round} rounds (one run takes {span:?}); the test proves nothing"
    );
    let all = Record::for_root(root).unwrap().load().expect("readable");
    assert!(
        all.skipped <= killed,
        "{} torn entries from {killed} killed writers",
        all.skipped
    );
    for rel in &acknowledged {
        assert_eq!(
            all.file(rel).map(|f| f.len()),
            Some(1500),
            "{rel} was acknowledged"
        );
    }
}

/// A tmpfs of `size` mounted on a fresh folder, unmounted when dropped. None (with the reason
/// printed) where mounting is not permitted: the test then proves nothing and says so.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(out) if out.status.success() => Some(SmallDisk { dir }),
            Ok(out) => {
                eprintln!("skipped: cannot mount a tmpfs: {}", stderr(&out));
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk to the last byte.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        use std::io::Write;
        loop {
            if let Err(e) = f.write_all(&block) {
                assert_eq!(e.raw_os_error(), Some(28), "{e}"); // ENOSPC
                break;
            }
        }
        let mut byte = [0u8; 1];
        while f.write_all(&byte).is_ok() {
            byte[0] ^= 1;
        }
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_full_disk_fails_ledger_writes_clearly_and_corrupts_nothing() {
    let Some(disk) = SmallDisk::mount("2m") else {
        return;
    };
    let root = disk.path().join("repo");
    std::fs::create_dir(&root).unwrap();
    repo_in(&root);
    for name in ["a", "b"] {
        std::fs::write(
            root.join(format!("{name}.sql")),
            format!("DROP TABLE {name};\n"),
        )
        .unwrap();
    }
    let first = countersign(&root, &["signoff", "request", "a.sql"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let before = ledger_requests(&root);
    let bytes_before = std::fs::read(&before[0].0).unwrap();
    let hook_before = hook(
        &root,
        &super::provenance::write_payload(&root, "a.sql", "DROP TABLE a;\n"),
    )
    .wait_with_output()
    .unwrap();
    assert!(hook_before.status.success());

    let filler = disk.fill();
    let out = countersign(&root, &["signoff", "request", "b.sql"]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("No space left on device") && stderr(&out).contains(".countersign"),
        "{}",
        stderr(&out)
    );
    // A hook never fails the agent, but says what went wrong.
    let big: String = (0..2000).map(|i| format!("DELETE FROM t{i};\n")).collect();
    let out = hook(
        &root,
        &super::provenance::write_payload(&root, "b.sql", &big),
    )
    .wait_with_output()
    .unwrap();
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("No space left on device"),
        "{}",
        stderr(&out)
    );

    // What was there is intact, nothing half-written counts as a request, and once there is
    // room again both writes go through.
    let after = ledger_requests(&root);
    assert_eq!(after.len(), 1);
    assert_eq!(std::fs::read(&after[0].0).unwrap(), bytes_before);
    std::fs::remove_file(filler).unwrap();
    let all = Record::for_root(&root).unwrap().load().expect("readable");
    assert!(all.skipped <= 1, "at most the torn last entry");
    assert_eq!(all.file("a.sql").map(|f| f.len()), Some(1));
    let out = countersign(&root, &["signoff", "request", "b.sql"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ledger_requests(&root).len(), 2);
    let out = hook(
        &root,
        &super::provenance::write_payload(&root, "b.sql", &big),
    )
    .wait_with_output()
    .unwrap();
    assert!(out.status.success());
    let all = Record::for_root(&root).unwrap().load().unwrap();
    assert_eq!(all.file("b.sql").map(|f| f.len()), Some(2000));
    assert_eq!(all.file("a.sql").map(|f| f.len()), Some(1));
}
