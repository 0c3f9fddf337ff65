//! Who wrote the code of open documents, beyond what the edits themselves tell: history when a
//! document opens, the editor reloading a file an agent wrote, the record kept up to date on
//! save, and the attribution trail a hover shows.
//!
//! The record only ever fills in what the session does not know better: lines a person typed
//! or an editor integration reported stay as they are.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use lsp_types::Url;
use ropey::Rope;
use similar::{ChangeTag, TextDiff};

use super::session::{OpenDocument, Session};
use crate::analysis::Source;
use crate::document::LineCol;
use crate::provenance::history;
use crate::provenance::record::{self, line_key, Attributions, Entry, Record};
use crate::provenance::{AiSource, Author};

/// A work tree's record as last read, and the file's state then.
pub struct CachedRecord {
    record: Record,
    stamp: Option<(SystemTime, u64)>,
    all: Arc<Attributions>,
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Only guesses give way to the record: what the session learnt first-hand stays.
fn record_may_override(current: &Author) -> bool {
    matches!(
        current,
        Author::Unknown
            | Author::Ai {
                source: AiSource::Heuristic | AiSource::Disk | AiSource::Git,
                ..
            }
    )
}

impl Session {
    /// The record of `work_tree`, re-read if the file changed since.
    pub fn record_of(&mut self, work_tree: &Path) -> Option<(Record, Arc<Attributions>)> {
        let cached = match self.records.get_mut(work_tree) {
            Some(c) => c,
            None => {
                let record = Record::for_root(work_tree)?;
                self.records.insert(
                    work_tree.to_path_buf(),
                    CachedRecord {
                        record,
                        stamp: None,
                        all: Arc::default(),
                    },
                );
                self.records.get_mut(work_tree)?
            }
        };
        let now = stamp(&cached.record.path());
        if now != cached.stamp || now.is_none() {
            match cached.record.load() {
                Ok(all) => cached.all = Arc::new(all),
                Err(e) => tracing::warn!("{}: {e}", cached.record.path().display()),
            }
            cached.stamp = now;
        }
        Some((cached.record.clone(), cached.all.clone()))
    }

    /// Attributes a document just opened from the record and git history.
    pub(super) fn attribute_from_history(&mut self, open: &mut OpenDocument, text: &str) {
        let Some(tree) = open.work_tree.clone() else {
            return;
        };
        // Nothing in a document too large to analyse needs an author, and hashing its
        // millions of lines would hold up every other document.
        if open.doc.too_large() {
            return;
        }
        let all = self.record_of(&tree).map(|(_, all)| all);
        let git = match &open.root {
            Some(root) => self.repo(root).config.provenance.git.clone(),
            None => Default::default(),
        };
        for a in history::attribute_file(&tree, &open.tree_path, text, all.as_deref(), &git) {
            if let Some(key) = line_key(&text[a.range.clone()]) {
                open.trail.insert(key, a.how.clone());
            }
            open.doc.authorship.mark(a.range, a.author);
        }
    }

    /// After a change to a buffer that equalled its file: if the buffer equals the file again,
    /// the editor reloaded what something else wrote. The lines that changed are the agent's
    /// when a hook recorded them, else of unknown authorship (or AI, if so configured).
    /// Returns whether it was a reload.
    pub fn after_clean_change(&mut self, uri: &Url, before: &Rope) -> bool {
        let Some(open) = self.docs.get(uri) else {
            return false;
        };
        let now = open.doc.text().to_string();
        let on_disk = open.file.as_ref().and_then(|f| std::fs::read(f).ok());
        let reloaded = on_disk.is_some_and(|d| d == now.as_bytes());
        let (tree, tree_path, root) = (
            open.work_tree.clone(),
            open.tree_path.clone(),
            open.root.clone(),
        );
        if !reloaded {
            if let Some(open) = self.docs.get_mut(uri) {
                open.clean = false;
            }
            return false;
        }
        let all = tree
            .as_deref()
            .and_then(|t| self.record_of(t))
            .map(|(_, a)| a);
        let unknown_is_ai = root
            .as_deref()
            .map(|r| self.repo(r).config.provenance.unknown_disk_edits_are_ai)
            .unwrap_or(false);
        let known = all.as_deref().and_then(|a| a.file(&tree_path));
        let Some(open) = self.docs.get_mut(uri) else {
            return true;
        };
        let old = before.to_string();
        let mut offset = 0;
        for change in TextDiff::from_lines(&old, &now).iter_all_changes() {
            let len = change.value().len();
            match change.tag() {
                ChangeTag::Delete => continue,
                ChangeTag::Equal => {}
                ChangeTag::Insert => {
                    let line = change.value();
                    let recorded = line_key(line).and_then(|k| known.and_then(|m| m.get(&k)));
                    let author = match recorded {
                        Some(a) => {
                            if let Some(key) = line_key(line) {
                                open.trail.insert(key, history::describe(a));
                            }
                            a.author.clone()
                        }
                        None if unknown_is_ai => Author::Ai {
                            agent: "unknown".into(),
                            source: AiSource::Disk,
                        },
                        None => Author::Unknown,
                    };
                    open.doc.authorship.mark(offset..offset + len, author);
                }
            }
            offset += len;
        }
        tracing::info!("{uri}: reloaded from disk; changed lines attributed");
        true
    }

    /// The provenance record changed (a hook wrote it): open documents of its work tree take
    /// what it now says where they only had a guess. Returns the documents to republish.
    pub fn record_changed(&mut self, path: &Path) -> Vec<Url> {
        let trees: Vec<PathBuf> = self
            .docs
            .values()
            .filter_map(|d| d.work_tree.clone())
            .filter(|t| record::git_dir(t).is_some_and(|g| g.join(record::RECORD_FILE) == path))
            .collect();
        let mut republish = Vec::new();
        for tree in trees {
            let Some((_, all)) = self.record_of(&tree) else {
                continue;
            };
            for (uri, open) in self.docs.iter_mut() {
                if open.work_tree.as_ref() != Some(&tree) {
                    continue;
                }
                let Some(known) = all.file(&open.tree_path) else {
                    continue;
                };
                let text = open.doc.text().to_string();
                let mut changed = false;
                for (range, a) in record::attribute(&text, known) {
                    let current = open.doc.authorship.author_of(range.clone());
                    if current != a.author && record_may_override(&current) {
                        if let Some(key) = line_key(&text[range.clone()]) {
                            open.trail.insert(key, history::describe(a));
                        }
                        open.doc.authorship.mark(range, a.author.clone());
                        changed = true;
                    }
                }
                if changed && !republish.contains(uri) {
                    republish.push(uri.clone());
                }
            }
        }
        republish
    }

    /// Writes what the session learnt about a document's lines to the record (on save and
    /// close), so it survives the editor: AI lines the record does not know yet, and lines a
    /// person took over from an AI.
    pub fn persist_authorship(&mut self, uri: &Url) {
        let Some(tree) = self.docs.get(uri).and_then(|d| d.work_tree.clone()) else {
            return;
        };
        let Some((record, all)) = self.record_of(&tree) else {
            return;
        };
        let Some(open) = self.docs.get(uri) else {
            return;
        };
        let known = all.file(&open.tree_path);
        let text = open.doc.text().to_string();
        let mut by_author: Vec<(Author, Vec<String>)> = Vec::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let Some(key) = line_key(line) else {
                continue;
            };
            let lead = line.len() - line.trim_start().len();
            let content = start + lead..start + line.trim_end().len();
            let author = open.doc.authorship.author_of(content);
            let recorded = known.and_then(|k| k.get(&key)).map(|a| &a.author);
            let write = match &author {
                // Git history says it again whenever asked.
                Author::Ai {
                    source: AiSource::Git,
                    ..
                } => false,
                Author::Ai { .. } => recorded != Some(&author),
                Author::Human => recorded.is_some_and(Author::is_ai),
                Author::Unknown => false,
            };
            if write {
                match by_author.iter_mut().find(|(a, _)| *a == author) {
                    Some((_, keys)) => keys.push(key),
                    None => by_author.push((author, vec![key])),
                }
            }
        }
        let entries: Vec<Entry> = by_author
            .into_iter()
            .map(|(author, keys)| {
                let detail = match &author {
                    Author::Ai {
                        source: AiSource::Client,
                        ..
                    } => "editor integration",
                    Author::Ai {
                        source: AiSource::Heuristic,
                        ..
                    } => "bulk edit in the editor",
                    Author::Ai {
                        source: AiSource::Disk,
                        ..
                    } => "changed on disk",
                    Author::Human => "edited by a person",
                    _ => "",
                };
                Entry::new(&open.tree_path, &author, detail, keys)
            })
            .collect();
        if entries.is_empty() {
            return;
        }
        match record.append(&entries) {
            Ok(()) => tracing::info!("{uri}: authorship recorded in {}", record.path().display()),
            Err(e) => {
                let message = format!(
                    "Countersign: could not write {}: {e}",
                    record.path().display()
                );
                self.notices.push(message);
            }
        }
    }

    /// The attribution trail of the code at `at`: who wrote it and every way we know it.
    pub fn trail_at(&self, uri: &Url, at: LineCol) -> Option<String> {
        let open = self.docs.get(uri)?;
        let offset = open.doc.offset(at, self.encoding);
        let text = open.doc.text();
        // The finding under the cursor, else the line.
        let findings = open.doc.findings.items();
        let range = findings
            .iter()
            .find(|f| f.range.start <= offset && offset <= f.range.end)
            .map(|f| f.range.clone())
            .unwrap_or_else(|| {
                let line = text.byte_to_line(offset.min(text.len_bytes()));
                text.line_to_byte(line)..text.line_to_byte((line + 1).min(text.len_lines()))
            });
        let author = open.doc.authorship.author_of(range.clone());
        if author == Author::Unknown && open.trail.is_empty() {
            return None;
        }
        let mut out = format!("**Countersign**: {}", author.describe());
        let code = String::from_utf8_lossy(&text.bytes_of(range)).into_owned();
        let mut seen = Vec::new();
        for line in code.lines() {
            if let Some(how) = line_key(line).and_then(|k| open.trail.get(&k)) {
                if !seen.contains(how) {
                    seen.push(how.clone());
                }
            }
        }
        if let Author::Ai {
            source: AiSource::Client | AiSource::Heuristic,
            ..
        } = &author
        {
            seen.insert(0, format!("{} (this editing session)", author.describe()));
        }
        for how in &seen {
            out.push_str("\n- ");
            out.push_str(how);
        }
        Some(out)
    }
}
