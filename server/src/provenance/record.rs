//! The local provenance record: which lines of which files an AI wrote, kept per clone in
//! `.git/countersign/provenance.jsonl` (inside the git directory, so it is never committed and
//! each worktree has its own).
//!
//! Lines are identified by a hash of their normalized content, not by number, so attribution
//! survives reloads, moved code and reformatted surroundings. The file is append-only JSON
//! Lines: one entry per write, appended in a single `write` under an exclusive lock on a
//! separate lock file, so two editors and an agent hook can write at once. A process killed
//! mid-write leaves at most a torn last line, which readers skip and the next writer closes.
//! When the file grows past [`COMPACT_AT`] bytes it is rewritten (temp file + rename, under the
//! same lock) with only the newest entry per file and line.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AiSource, Author};

/// The record's file inside the git directory.
pub const RECORD_FILE: &str = "countersign/provenance.jsonl";
const LOCK_FILE: &str = "countersign/provenance.lock";
/// Past this size a write compacts the record.
pub const COMPACT_AT: u64 = 4 << 20;
/// Line identities a compacted record keeps at most (the newest).
const KEEP_AT_MOST: usize = 200_000;

/// A line's identity: the hash of its content with whitespace runs collapsed and the ends
/// trimmed, so re-indenting or re-wrapping around it does not lose it. `None` for lines too
/// plain to identify (`}`, `fi`, blank): they would match everywhere.
pub fn line_key(line: &str) -> Option<String> {
    let normalized = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let meaningful = normalized.chars().filter(|c| c.is_alphanumeric()).count();
    if meaningful < 3 {
        return None;
    }
    let digest = Sha256::digest(normalized.as_bytes());
    Some(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// Who an entry says wrote its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Ai,
    Human,
}

/// One write to the record: these lines of this file were written by this author.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub time: String,
    /// Repo-relative, `/`-separated.
    pub path: String,
    pub author: Kind,
    /// The agent (`claude-code`, `cursor`…); empty for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub agent: String,
    /// How it was learnt: `hook`, `client`, `heuristic`, `disk`, `git`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<AiSource>,
    /// What reported it, for the attribution trail: `PostToolUse Edit`, `afterFileEdit`…
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// [`line_key`]s of the lines.
    pub lines: Vec<String>,
}

impl Entry {
    pub fn new(path: &str, author: &Author, detail: &str, lines: Vec<String>) -> Entry {
        let (kind, agent, source) = match author {
            Author::Ai { agent, source } => (Kind::Ai, agent.clone(), Some(*source)),
            Author::Human | Author::Unknown => (Kind::Human, String::new(), None),
        };
        Entry {
            time: jiff::Timestamp::now().to_string(),
            path: path.to_string(),
            author: kind,
            agent,
            source,
            detail: detail.to_string(),
            lines,
        }
    }

    pub fn author(&self) -> Author {
        match (self.author, self.source) {
            (Kind::Ai, Some(source)) => Author::Ai {
                agent: self.agent.clone(),
                source,
            },
            (Kind::Ai, None) => Author::Ai {
                agent: self.agent.clone(),
                source: AiSource::Hook,
            },
            (Kind::Human, _) => Author::Human,
        }
    }
}

/// What the record says of one line: the newest entry naming it wins.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub author: Author,
    pub time: String,
    pub detail: String,
}

/// The record, read: per repo-relative path, per line key, who wrote it.
#[derive(Debug, Default, Clone)]
pub struct Attributions {
    files: HashMap<String, HashMap<String, Attribution>>,
    /// Lines that could not be read (a torn write, a hand edit), for the log.
    pub skipped: usize,
}

impl Attributions {
    pub fn file(&self, path: &str) -> Option<&HashMap<String, Attribution>> {
        self.files.get(path)
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Every file the record names, with what it says of its lines.
    pub fn files(&self) -> impl Iterator<Item = (&str, &HashMap<String, Attribution>)> {
        self.files
            .iter()
            .map(|(path, lines)| (path.as_str(), lines))
    }

    fn add(&mut self, entry: Entry) {
        let author = entry.author();
        let lines = self.files.entry(entry.path).or_default();
        for key in entry.lines {
            lines.insert(
                key,
                Attribution {
                    author: author.clone(),
                    time: entry.time.clone(),
                    detail: entry.detail.clone(),
                },
            );
        }
    }
}

/// Attributes the lines of `text` by the record of its file: for each line the record knows,
/// its byte range and attribution. Plain lines (`}`, blank) between two lines of the same
/// author take that author, so a block reads as one span.
pub fn attribute<'a>(
    text: &str,
    known: &'a HashMap<String, Attribution>,
) -> Vec<(std::ops::Range<usize>, &'a Attribution)> {
    let mut out: Vec<(std::ops::Range<usize>, &Attribution)> = Vec::new();
    // Plain lines seen since the last identified one, waiting for their neighbour.
    let mut pending_plain: Option<std::ops::Range<usize>> = None;
    let mut last_author: Option<&Attribution> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let range = offset..offset + line.len();
        offset += line.len();
        match line_key(line) {
            None => {
                if last_author.is_some() {
                    pending_plain = Some(match pending_plain {
                        Some(p) => p.start..range.end,
                        None => range,
                    });
                }
            }
            Some(key) => {
                let here = known.get(&key);
                if let (Some(plain), Some(prev), Some(now)) =
                    (pending_plain.take(), last_author, here)
                {
                    if prev.author == now.author {
                        out.push((plain, now));
                    }
                }
                if let Some(now) = here {
                    out.push((range, now));
                }
                last_author = here;
            }
        }
    }
    out
}

/// The record of one clone (or worktree).
#[derive(Debug, Clone)]
pub struct Record {
    git_dir: PathBuf,
}

impl Record {
    /// The record of the repository whose git directory is `git_dir`.
    pub fn new(git_dir: &Path) -> Record {
        Record {
            git_dir: git_dir.to_path_buf(),
        }
    }

    /// The record of the work tree `root` (a clone or a linked worktree), if it is one.
    pub fn for_root(root: &Path) -> Option<Record> {
        git_dir(root).map(|d| Record::new(&d))
    }

    pub fn path(&self) -> PathBuf {
        self.git_dir.join(RECORD_FILE)
    }

    /// Appends entries in one write. Safe with concurrent writers (other threads, editors,
    /// hooks): they serialize on the lock file.
    pub fn append(&self, entries: &[Entry]) -> io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        for e in entries {
            serde_json::to_writer(&mut buf, e).map_err(io::Error::other)?;
            buf.push(b'\n');
        }
        let path = self.path();
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let lock = self.lock()?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)?;
        // A writer killed mid-line left a torn entry: start on a line of our own.
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                buf.insert(0, b'\n');
            }
        }
        file.write_all(&buf)?;
        file.sync_data()?;
        if len + buf.len() as u64 > COMPACT_AT {
            self.compact_locked()?;
        }
        drop(lock);
        Ok(())
    }

    /// Reads the record; a missing record is empty, unreadable lines are counted and skipped.
    pub fn load(&self) -> io::Result<Attributions> {
        let mut all = Attributions::default();
        let text = match fs::read(self.path()) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(all),
            Err(e) => return Err(e),
        };
        for line in text.split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Entry>(line) {
                Ok(entry) => all.add(entry),
                Err(_) => all.skipped += 1,
            }
        }
        if all.skipped > 0 {
            tracing::warn!(
                "{}: {} unreadable entries skipped",
                self.path().display(),
                all.skipped
            );
        }
        Ok(all)
    }

    /// Rewrites the record with only the newest entry per file and line.
    pub fn compact(&self) -> io::Result<()> {
        let lock = self.lock()?;
        let result = self.compact_locked();
        drop(lock);
        result
    }

    fn compact_locked(&self) -> io::Result<()> {
        let path = self.path();
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        // Newest first: the first time a (path, line) is seen is the entry that counts.
        let entries: Vec<Entry> = text
            .split(|&b| b == b'\n')
            .filter_map(|l| serde_json::from_slice::<Entry>(l).ok())
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut kept: Vec<Entry> = Vec::new();
        for mut entry in entries.into_iter().rev() {
            if seen.len() >= KEEP_AT_MOST {
                break;
            }
            entry
                .lines
                .retain(|k| seen.insert((entry.path.clone(), k.clone())));
            if !entry.lines.is_empty() {
                kept.push(entry);
            }
        }
        kept.reverse();
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        for e in &kept {
            serde_json::to_writer(&mut tmp, e).map_err(io::Error::other)?;
            tmp.write_all(b"\n")?;
        }
        tmp.as_file().sync_data()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }

    fn lock(&self) -> io::Result<File> {
        let path = self.git_dir.join(LOCK_FILE);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok(file)
    }
}

/// The work tree holding `path`: the nearest ancestor with a `.git` directory or file.
pub fn work_tree(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(usize::from(!path.is_dir()))
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The git directory of the work tree `root`: `.git` itself, or, in a linked worktree or a
/// submodule, the directory its `.git` file points to.
pub fn git_dir(root: &Path) -> Option<PathBuf> {
    let dot_git = root.join(".git");
    let meta = fs::metadata(&dot_git).ok()?;
    if meta.is_dir() {
        return Some(dot_git);
    }
    let text = fs::read_to_string(&dot_git).ok()?;
    let target = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
    let target = Path::new(target);
    Some(if target.is_absolute() {
        target.to_path_buf()
    } else {
        root.join(target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ai(agent: &str) -> Author {
        Author::Ai {
            agent: agent.into(),
            source: AiSource::Hook,
        }
    }

    fn keys(text: &str) -> Vec<String> {
        text.lines().filter_map(line_key).collect()
    }

    fn repo() -> (tempfile::TempDir, Record) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(".git")).unwrap();
        let record = Record::for_root(dir.path()).unwrap();
        (dir, record)
    }

    #[test]
    fn line_identity_ignores_layout_but_not_content() {
        assert_eq!(
            line_key("  DROP TABLE users;"),
            line_key("DROP   TABLE users;\r\n")
        );
        assert_ne!(
            line_key("DROP TABLE users;"),
            line_key("DROP TABLE orders;")
        );
        assert_eq!(line_key("}"), None);
        assert_eq!(line_key("  fi"), None);
        assert_eq!(line_key(""), None);
    }

    #[test]
    fn attribution_survives_moves_and_reindentation() {
        let (_dir, record) = repo();
        let written = "def purge(db):\n    db.execute(\"DROP TABLE users\")\n";
        record
            .append(&[Entry::new(
                "app/purge.py",
                &ai("claude-code"),
                "Write",
                keys(written),
            )])
            .unwrap();
        let all = record.load().unwrap();
        let known = all.file("app/purge.py").unwrap();
        let moved = "import os\n\nclass Jobs:\n    def purge(db):\n        db.execute(\"DROP TABLE users\")\n";
        let found = attribute(moved, known);
        let lines: Vec<&str> = found.iter().map(|(r, _)| &moved[r.clone()]).collect();
        assert_eq!(
            lines,
            [
                "    def purge(db):\n",
                "        db.execute(\"DROP TABLE users\")\n"
            ]
        );
        assert!(found.iter().all(|(_, a)| a.author == ai("claude-code")));
    }

    #[test]
    fn plain_lines_inside_an_ai_block_are_ai_and_outside_are_not() {
        let mut known = HashMap::new();
        for key in keys("if [ -n \"$X\" ]; then\n  rm -rf \"$X/\"\n") {
            known.insert(
                key,
                Attribution {
                    author: ai("cursor"),
                    time: String::new(),
                    detail: String::new(),
                },
            );
        }
        let text = "}\nif [ -n \"$X\" ]; then\n\n  rm -rf \"$X/\"\nfi\n";
        let spans: Vec<&str> = attribute(text, &known)
            .iter()
            .map(|(r, _)| &text[r.clone()])
            .collect();
        assert_eq!(
            spans,
            ["if [ -n \"$X\" ]; then\n", "\n", "  rm -rf \"$X/\"\n"]
        );
    }

    #[test]
    fn the_newest_entry_for_a_line_wins() {
        let (_dir, record) = repo();
        let line = keys("DROP TABLE users;");
        record
            .append(&[Entry::new("a.sql", &ai("claude-code"), "", line.clone())])
            .unwrap();
        record
            .append(&[Entry::new("a.sql", &Author::Human, "", line.clone())])
            .unwrap();
        let all = record.load().unwrap();
        assert_eq!(all.file("a.sql").unwrap()[&line[0]].author, Author::Human);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_the_next_write_starts_clean() {
        let (_dir, record) = repo();
        record
            .append(&[Entry::new("a.sql", &ai("codex"), "", keys("DROP TABLE a;"))])
            .unwrap();
        // What a writer killed mid-write leaves behind.
        let mut f = OpenOptions::new().append(true).open(record.path()).unwrap();
        f.write_all(br#"{"time":"2026-11-25T00:00:00Z","path":"a.s"#)
            .unwrap();
        drop(f);
        assert_eq!(record.load().unwrap().skipped, 1);
        record
            .append(&[Entry::new("b.sql", &ai("codex"), "", keys("DROP TABLE b;"))])
            .unwrap();
        let all = record.load().unwrap();
        assert_eq!(all.skipped, 1);
        assert!(all.file("a.sql").is_some() && all.file("b.sql").is_some());
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let (_dir, record) = repo();
        std::thread::scope(|s| {
            for t in 0..8 {
                let record = record.clone();
                s.spawn(move || {
                    for i in 0..50 {
                        let line = format!("DELETE FROM t{t} WHERE id = {i};");
                        let e = Entry::new("x.sql", &ai("hook"), "", keys(&line));
                        record.append(&[e]).unwrap();
                    }
                });
            }
        });
        let all = record.load().unwrap();
        assert_eq!(all.skipped, 0);
        assert_eq!(all.file("x.sql").unwrap().len(), 400);
    }

    #[test]
    fn compaction_keeps_the_newest_entry_per_line_only() {
        let (_dir, record) = repo();
        let line = keys("TRUNCATE orders;");
        for i in 0..100 {
            let author = if i % 2 == 0 {
                ai("cursor")
            } else {
                Author::Human
            };
            record
                .append(&[Entry::new("o.sql", &author, "", line.clone())])
                .unwrap();
        }
        record
            .append(&[Entry::new(
                "p.sql",
                &ai("cursor"),
                "",
                keys("DROP TABLE p;"),
            )])
            .unwrap();
        let before = record.load().unwrap();
        record.compact().unwrap();
        let after = record.load().unwrap();
        let text = fs::read_to_string(record.path()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            after.file("o.sql").unwrap()[&line[0]].author,
            before.file("o.sql").unwrap()[&line[0]].author
        );
        assert_eq!(after.file("o.sql").unwrap()[&line[0]].author, Author::Human);
        assert!(after.file("p.sql").is_some());
    }

    #[test]
    fn a_linked_worktree_keeps_its_record_in_its_own_git_dir() {
        let dir = tempfile::tempdir().unwrap();
        let wt_git = dir.path().join("main/.git/worktrees/feature");
        fs::create_dir_all(&wt_git).unwrap();
        let wt = dir.path().join("feature");
        fs::create_dir_all(&wt).unwrap();
        fs::write(wt.join(".git"), format!("gitdir: {}\n", wt_git.display())).unwrap();
        assert_eq!(git_dir(&wt).unwrap(), wt_git);
        assert_eq!(git_dir(dir.path()), None);
    }
}
