//! The sign-off ledger: `.countersign/signoffs/<fingerprint>.json` at the repository root, one
//! file per request so concurrent requests never conflict in git.
//!
//! Invariants: files are written atomically (temp file + link, never overwritten), a request for
//! a fingerprint that already has one is a no-op, and a file that cannot be read is reported by
//! name and skipped, never rewritten.

pub mod codeowners;
pub mod notify;
pub mod sshsig;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

pub mod approval;

use crate::analysis::Finding;
use crate::policy::SignoffState;
use crate::provenance::Author;

pub const LEDGER_DIR: &str = ".countersign/signoffs";

/// Who asked, from git's `user.name` and `user.email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Who wrote the code under review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorRecord {
    /// `ai`, `human` or `unknown`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl From<&Author> for AuthorRecord {
    fn from(author: &Author) -> Self {
        match author {
            Author::Ai { agent, source } => AuthorRecord {
                kind: "ai".into(),
                agent: Some(agent.clone()),
                source: Some(source.as_str().into()),
            },
            other => AuthorRecord {
                kind: other.kind().into(),
                agent: None,
                source: None,
            },
        }
    }
}

/// A request for senior sign-off, as stored in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignoffRequest {
    pub version: u32,
    pub fingerprint: String,
    pub rule: String,
    pub category: String,
    /// Repo-relative path of the file, `/`-separated.
    pub path: String,
    /// 1-based line where the snippet starts (informational; the fingerprint binds the code).
    pub line: u32,
    pub snippet: String,
    pub author: AuthorRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<Person>,
    /// RFC 3339 UTC timestamp.
    pub requested_at: String,
    pub status: String,
    /// Why the requester thinks the code is right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who may approve: the path's CODEOWNERS, else the allowed signers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reviewers: Vec<String>,
}

impl SignoffRequest {
    pub fn new(
        finding: &Finding,
        rel_path: &str,
        line: u32,
        author: &Author,
        requested_by: Option<Person>,
    ) -> Self {
        SignoffRequest {
            version: 1,
            fingerprint: finding.fingerprint.clone(),
            rule: finding.rule.id().to_string(),
            category: finding.rule.spec.category.as_str().to_string(),
            path: rel_path.to_string(),
            line,
            snippet: finding.snippet.clone(),
            author: author.into(),
            requested_by,
            requested_at: jiff::Timestamp::now().to_string(),
            status: "pending".into(),
            reason: None,
            reviewers: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot create the sign-off ledger {dir}: {source}")]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The outcome of a request: where it is, and whether this call created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub path: PathBuf,
    pub created: bool,
}

/// A request in the ledger, with the approvals that verified.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub path: PathBuf,
    pub request: SignoffRequest,
    /// Valid approvals: (file, approval).
    pub approvals: Vec<(PathBuf, approval::Approval)>,
}

/// What the ledger says, by fingerprint, plus the files it could not use.
#[derive(Debug, Clone, Default)]
pub struct LedgerIndex {
    states: HashMap<String, SignoffState>,
    pub entries: std::collections::BTreeMap<String, LedgerEntry>,
    /// Files that could not be used, each naming the file and why.
    pub problems: Vec<String>,
}

impl LedgerIndex {
    pub fn state(&self, fingerprint: &str) -> SignoffState {
        self.states
            .get(fingerprint)
            .cloned()
            .unwrap_or(SignoffState::None)
    }

    pub fn set(&mut self, fingerprint: &str, state: SignoffState) {
        self.states.insert(fingerprint.to_string(), state);
    }
}

/// The ledger of one repository.
#[derive(Debug, Clone)]
pub struct Ledger {
    root: PathBuf,
}

impl Ledger {
    pub fn new(root: &Path) -> Ledger {
        Ledger {
            root: root.to_path_buf(),
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.root.join(LEDGER_DIR)
    }

    pub fn path_for(&self, fingerprint: &str) -> PathBuf {
        self.dir().join(format!("{fingerprint}.json"))
    }

    pub fn allowed_signers_path(&self) -> PathBuf {
        self.root.join(approval::ALLOWED_SIGNERS)
    }

    /// The seniors, and the problems of their file.
    pub fn signers(&self) -> (sshsig::AllowedSigners, Vec<String>) {
        let path = self.allowed_signers_path();
        let (signers, problems) = sshsig::AllowedSigners::load(&path);
        let problems = problems
            .into_iter()
            .map(|p| format!("{}: {p}", path.display()))
            .collect();
        (signers, problems)
    }

    /// Reads every request and approval. An approval counts only if its signature verifies
    /// against the allowed signers (and it is not a self-approval, unless `allow_self`).
    /// Unreadable, inconsistent or rejected files are listed in `problems` with the reason;
    /// the rest keep working. Nothing is rewritten.
    pub fn load(&self, allow_self: bool) -> LedgerIndex {
        let mut index = LedgerIndex::default();
        let Ok(entries) = std::fs::read_dir(self.dir()) else {
            return index;
        };
        let mut approvals = Vec::new();
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_some_and(|e| e == approval::EXTENSION) {
                approvals.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let parsed = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    serde_json::from_slice::<SignoffRequest>(&bytes).map_err(|e| e.to_string())
                });
            match parsed {
                Ok(req)
                    if path
                        .file_stem()
                        .is_some_and(|s| s == req.fingerprint.as_str()) =>
                {
                    if let Err(why) = approval::check_request(&req) {
                        index
                            .problems
                            .push(format!("{}: {why}; ignored", path.display()));
                        continue;
                    }
                    index
                        .states
                        .insert(req.fingerprint.clone(), SignoffState::Pending);
                    index.entries.insert(
                        req.fingerprint.clone(),
                        LedgerEntry {
                            path: path.clone(),
                            request: req,
                            approvals: Vec::new(),
                        },
                    );
                }
                Ok(req) => index.problems.push(format!(
                    "{}: names fingerprint {} but the file is named for another; ignored",
                    path.display(),
                    req.fingerprint
                )),
                Err(e) => index.problems.push(format!(
                    "{}: not a valid sign-off request ({e}); ignored",
                    path.display()
                )),
            }
        }
        if !approvals.is_empty() {
            let (signers, problems) = self.signers();
            index.problems.extend(problems);
            for path in approvals {
                let parsed = std::fs::read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| {
                        serde_json::from_slice::<approval::Approval>(&b).map_err(|e| e.to_string())
                    });
                let a = match parsed {
                    Ok(a) => a,
                    Err(e) => {
                        index.problems.push(format!(
                            "{}: not a valid approval ({e}); ignored",
                            path.display()
                        ));
                        continue;
                    }
                };
                let Some(entry) = index.entries.get_mut(&a.fingerprint) else {
                    index.problems.push(format!(
                        "{}: approves {}, which has no request in the ledger; ignored",
                        path.display(),
                        a.fingerprint
                    ));
                    continue;
                };
                match approval::verify(&entry.request, &a, &signers, allow_self) {
                    Ok(()) => {
                        index.states.insert(
                            a.fingerprint.clone(),
                            SignoffState::Approved {
                                by: a.principal.clone(),
                            },
                        );
                        entry.approvals.push((path, a));
                    }
                    Err(why) => index
                        .problems
                        .push(format!("{}: approval not accepted: {why}", path.display())),
                }
            }
        }
        index
    }

    /// Records a request. Idempotent: if the fingerprint already has a file, it is kept as is.
    pub fn request(&self, request: &SignoffRequest) -> Result<Requested, LedgerError> {
        let dir = self.dir();
        std::fs::create_dir_all(&dir).map_err(|source| LedgerError::CreateDir {
            dir: dir.clone(),
            source,
        })?;
        let path = self.path_for(&request.fingerprint);
        if path.exists() {
            return Ok(Requested {
                path,
                created: false,
            });
        }
        let mut body = serde_json::to_vec_pretty(request).expect("a request always serializes");
        body.push(b'\n');
        let created = write_new(&dir, &path, &body)?;
        Ok(Requested { path, created })
    }
}

/// Writes `body` to `path` in `dir` atomically (temp file, synced, then linked into place) unless
/// the file exists: when two writers race for the same file, the first one wins and the second
/// sees it there, which is the same outcome. Returns whether this call created it.
pub(crate) fn write_new(dir: &Path, path: &Path, body: &[u8]) -> Result<bool, LedgerError> {
    let write_err = |source| LedgerError::Write {
        path: path.to_path_buf(),
        source,
    };
    // Ledger files are shared through the repository: readable by all, like any file git checks
    // out (a temp file alone would be private to its writer).
    #[cfg(unix)]
    let permissions = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::Permissions::from_mode(0o644)
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".ledger-").suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(permissions);
    let mut tmp = builder.tempfile_in(dir).map_err(write_err)?;
    tmp.write_all(body).map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(write_err(e.error)),
    }
}

/// Who may approve code at `rel`: its CODEOWNERS, else every allowed signer.
pub fn reviewers_for(root: &Path, ledger: &Ledger, rel: &str) -> Vec<String> {
    let owners = codeowners::owners_for(root, rel);
    if !owners.is_empty() {
        return owners;
    }
    let (signers, _) = ledger.signers();
    let mut all: Vec<String> = Vec::new();
    for p in signers.entries.iter().flat_map(|e| e.principals.iter()) {
        if !all.contains(p) {
            all.push(p.clone());
        }
    }
    all
}

/// The notice for a request or an approval (`event`), with a one-line summary.
pub fn notice(event: &str, req: &SignoffRequest, author: &str) -> notify::Notice {
    let who = req
        .requested_by
        .as_ref()
        .and_then(|p| p.email.clone().or(p.name.clone()))
        .unwrap_or_else(|| "someone".into());
    let text = match event {
        "approved" => format!(
            "Sign-off approved: {} in {}:{}",
            req.rule, req.path, req.line
        ),
        _ => format!(
            "Sign-off requested: {} in {}:{} ({author}) by {who}{}: {}",
            req.rule,
            req.path,
            req.line,
            req.reason
                .as_ref()
                .map(|r| format!(", because {r}"))
                .unwrap_or_default(),
            req.snippet.lines().next().unwrap_or("")
        ),
    };
    notify::Notice {
        event: event.into(),
        request: serde_json::to_value(req).unwrap_or_default(),
        text,
    }
}

/// Delivers `notice` (after retrying what earlier runs could not deliver) to the configured
/// targets. Returns the failures; failed notices wait in the clone's outbox
/// (`.git/countersign/outbox`) for the next run.
pub fn deliver(root: &Path, config: &notify::NotifyConfig, notice: &notify::Notice) -> Vec<String> {
    if config.webhook.is_none() && config.command.is_none() {
        return Vec::new();
    }
    let Some(git_dir) = crate::provenance::record::work_tree(root)
        .and_then(|t| crate::provenance::record::git_dir(&t))
    else {
        return vec!["not in a git repository: nowhere to keep undelivered notices".into()];
    };
    let outbox = notify::Outbox::new(&git_dir.join("countersign/outbox"));
    let (_, mut failures) = outbox.retry(config);
    failures.extend(outbox.send(config, notice));
    failures
}

/// The git identity configured for `root`, if git and an identity are there.
pub fn git_identity(root: &Path) -> Option<Person> {
    let get = |key: &str| {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["config", "--get", key])
            .output()
            .ok()?;
        let value = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !value.is_empty()).then_some(value)
    };
    let person = Person {
        name: get("user.name"),
        email: get("user.email"),
    };
    (person.name.is_some() || person.email.is_some()).then_some(person)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze_text, RuleSet};
    use countersign_grammars::Lang;

    fn finding() -> Finding {
        let rules = RuleSet::builtin().unwrap();
        analyze_text(&rules, Lang::Sql, "DROP TABLE users;", "db/1.sql").remove(0)
    }

    #[cfg(unix)]
    #[test]
    fn ledger_files_are_as_readable_as_any_file_the_user_creates() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // A plain new file shows what the umask lets through.
        let plain = tmp.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let path = tmp.path().join("entry.json");
        assert!(write_new(tmp.path(), &path, b"{}").unwrap());
        assert_eq!(mode(&path), 0o644 & mode(&plain));
    }

    #[test]
    fn a_request_is_written_once_and_read_back_as_pending() {
        let tmp = tempfile::tempdir().unwrap();
        let ledger = Ledger::new(tmp.path());
        let f = finding();
        let req = SignoffRequest::new(&f, "db/1.sql", 1, &Author::Human, None);
        let first = ledger.request(&req).unwrap();
        assert!(first.created);
        assert_eq!(
            first.path,
            tmp.path()
                .join(LEDGER_DIR)
                .join(format!("{}.json", f.fingerprint))
        );
        let again = ledger.request(&req).unwrap();
        assert!(!again.created);
        let index = ledger.load(false);
        assert_eq!(index.state(&f.fingerprint), SignoffState::Pending);
        assert!(index.problems.is_empty());
        let leftovers: Vec<_> = std::fs::read_dir(ledger.dir())
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn corrupt_files_are_named_and_skipped_without_being_touched() {
        let tmp = tempfile::tempdir().unwrap();
        let ledger = Ledger::new(tmp.path());
        let f = finding();
        ledger
            .request(&SignoffRequest::new(
                &f,
                "db/1.sql",
                1,
                &Author::Human,
                None,
            ))
            .unwrap();
        let bad = ledger.dir().join("deadbeef.json");
        std::fs::write(&bad, b"{ not json").unwrap();
        let index = ledger.load(false);
        assert_eq!(index.state(&f.fingerprint), SignoffState::Pending);
        assert_eq!(index.problems.len(), 1);
        assert!(index.problems[0].contains("deadbeef.json"));
        assert_eq!(std::fs::read(&bad).unwrap(), b"{ not json");
    }

    #[test]
    fn concurrent_requests_for_one_fingerprint_leave_one_whole_file() {
        let tmp = tempfile::tempdir().unwrap();
        let f = finding();
        let created: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let req = SignoffRequest::new(&f, "db/1.sql", 1, &Author::Human, None);
                        usize::from(Ledger::new(tmp.path()).request(&req).unwrap().created)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(created, 1);
        let text =
            std::fs::read_to_string(Ledger::new(tmp.path()).path_for(&f.fingerprint)).unwrap();
        let parsed: SignoffRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.fingerprint, f.fingerprint);
    }
}
