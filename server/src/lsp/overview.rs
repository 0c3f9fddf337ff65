//! The workspace at a glance: risky AI code still waiting for a senior, what is pending and what
//! was approved, over the open documents and the files the provenance record names. Feeds the
//! editors' status item (`countersign/status`) and their sign-off lists
//! (`countersign.workspaceFindings`).
//!
//! Files that are not open are attributed by the record alone (no git blame), read once per
//! change of the file or the record, and their sign-off states are looked up fresh each time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use lsp_types::{Range, Url};
use serde::Serialize;

use super::session::{FindingRef, OpenDocument, Session};
use crate::analysis::{deduplicate, Finding, Severity};
use crate::document::Document;
use crate::policy::{self, SignoffState};
use crate::provenance::record::{self, Attributions};
use crate::provenance::Author;
use crate::workspace;

/// Files bigger than this are not read for the overview (an editor opening them still checks
/// them).
const MAX_UNOPENED_BYTES: u64 = 4 << 20;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Risky AI code with no sign-off request.
    pub unsigned: usize,
    pub pending: usize,
    pub approved: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.unsigned += other.unsigned;
        self.pending += other.pending;
        self.approved += other.approved;
    }
}

/// One entry of `countersign.workspaceFindings`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    pub uri: Url,
    pub path: String,
    pub range: Range,
    pub rule: String,
    pub severity: &'static str,
    pub message: String,
    pub snippet: String,
    /// `unsigned`, `pending` or `approved`.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    pub data: FindingRef,
}

/// A finding as the overview keeps it, before its sign-off state is looked up.
#[derive(Debug, Clone)]
struct Candidate {
    root: Option<PathBuf>,
    ai: bool,
    listed: Listed,
}

/// A file that is not open, as last read.
pub struct Unopened {
    stamp: (SystemTime, u64),
    record: Arc<Attributions>,
    candidates: Vec<Candidate>,
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "information",
        Severity::Hint => "hint",
    }
}

fn stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl Session {
    /// The state of a finding for the overview, `None` for risky code a person wrote that
    /// nobody asked about.
    fn overview_state(
        &self,
        root: Option<&PathBuf>,
        fingerprint: &str,
        ai: bool,
    ) -> Option<SignoffState> {
        let state = root
            .and_then(|r| self.repos.get(r))
            .map_or(SignoffState::None, |repo| repo.signoffs.state(fingerprint));
        (ai || state != SignoffState::None).then_some(state)
    }

    fn candidates(&self, uri: &Url, open: &OpenDocument) -> Vec<Candidate> {
        let findings = self.findings_of(open);
        deduplicate(&findings)
            .into_iter()
            .map(|f| self.candidate(uri, open, f))
            .collect()
    }

    fn candidate(&self, uri: &Url, open: &OpenDocument, f: &Finding) -> Candidate {
        let author = open.doc.authorship.author_of(f.range.clone());
        let (range, data) = self.locate(uri, open, f);
        let verdict = policy::judge(f, &author, &SignoffState::None, &self.policy_config(open));
        let rule = &f.rule.spec;
        Candidate {
            root: open.root.clone(),
            ai: author.is_ai(),
            listed: Listed {
                uri: uri.clone(),
                path: open.rel_path.clone(),
                range,
                rule: f.rule.id().to_string(),
                severity: severity_name(verdict.as_ref().map_or(rule.severity, |v| v.severity)),
                message: verdict.map_or_else(|| rule.message.clone(), |v| v.message),
                snippet: f.snippet.clone(),
                state: "unsigned",
                agent: match author {
                    Author::Ai { agent, .. } => Some(agent),
                    _ => None,
                },
                requested_by: None,
                reason: None,
                approved_by: None,
                data,
            },
        }
    }

    /// A candidate with its sign-off state and who asked and approved, if it is listed at all.
    fn with_state(&self, c: &Candidate) -> Option<Listed> {
        let state = self.overview_state(c.root.as_ref(), &c.listed.data.fingerprint, c.ai)?;
        let mut listed = c.listed.clone();
        listed.state = match state {
            SignoffState::None => "unsigned",
            SignoffState::Pending => "pending",
            SignoffState::Approved { .. } => "approved",
        };
        let entry = c
            .root
            .as_ref()
            .and_then(|r| self.repos.get(r))
            .and_then(|repo| repo.signoffs.entries.get(&listed.data.fingerprint));
        if let Some(entry) = entry {
            listed.requested_by = entry
                .request
                .requested_by
                .as_ref()
                .and_then(|p| p.email.clone().or_else(|| p.name.clone()));
            listed.reason = entry.request.reason.clone();
            listed.approved_by = entry.approvals.first().map(|(_, a)| a.principal.clone());
        }
        if let SignoffState::Approved { by } = state {
            listed.approved_by.get_or_insert(by);
        }
        Some(listed)
    }

    /// The counts of one open document (cheap: no positions are computed).
    pub(super) fn counts_of(&self, open: &OpenDocument) -> Counts {
        let mut counts = Counts::default();
        let findings = self.findings_of(open);
        for f in deduplicate(&findings) {
            let ai = open.doc.authorship.author_of(f.range.clone()).is_ai();
            match self.overview_state(open.root.as_ref(), &f.fingerprint, ai) {
                Some(SignoffState::None) => counts.unsigned += 1,
                Some(SignoffState::Pending) => counts.pending += 1,
                Some(SignoffState::Approved { .. }) => counts.approved += 1,
                None => {}
            }
        }
        counts
    }

    /// Whether `path` is open in the editor.
    fn is_open(&self, path: &std::path::Path) -> bool {
        self.docs.values().any(|d| d.file.as_deref() == Some(path))
    }

    /// Rereads the files the provenance records name that changed since last time (or whose
    /// record changed), and forgets those that are gone or no longer named.
    pub fn refresh_unopened(&mut self) {
        let mut trees: Vec<PathBuf> = self
            .docs
            .values()
            .filter_map(|d| d.work_tree.clone())
            .chain(self.workspace_root.as_deref().and_then(record::work_tree))
            .collect();
        trees.sort();
        trees.dedup();
        let mut seen: Vec<PathBuf> = Vec::new();
        for tree in trees {
            let Some((_, all)) = self.record_of(&tree) else {
                continue;
            };
            let named: Vec<String> = all
                .files()
                .filter(|(_, lines)| lines.values().any(|a| a.author.is_ai()))
                .map(|(path, _)| path.to_string())
                .collect();
            for rel in named {
                let path = tree.join(&rel);
                if self.is_open(&path) {
                    continue;
                }
                let Some(now) = stamp(&path).filter(|s| s.1 <= MAX_UNOPENED_BYTES) else {
                    continue;
                };
                seen.push(path.clone());
                let fresh = self
                    .unopened
                    .get(&path)
                    .is_some_and(|u| u.stamp == now && Arc::ptr_eq(&u.record, &all));
                if fresh {
                    continue;
                }
                let candidates = self.read_unopened(&path, &rel, &all).unwrap_or_default();
                self.unopened.insert(
                    path,
                    Unopened {
                        stamp: now,
                        record: all.clone(),
                        candidates,
                    },
                );
            }
        }
        self.unopened.retain(|path, _| seen.contains(path));
    }

    /// The findings of a file that is not open, attributed by its record.
    fn read_unopened(
        &mut self,
        path: &std::path::Path,
        tree_rel: &str,
        all: &Attributions,
    ) -> Option<Vec<Candidate>> {
        let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
        let lang = countersign_grammars::Lang::from_path(path)?;
        let uri = Url::from_file_path(path).ok()?;
        let root = workspace::root_for(path, self.workspace_root.as_deref());
        let rel_path = workspace::relative_path(&root, path);
        let rules = self.repo(&root).rules.clone();
        let mut doc = Document::new(&text, Some(lang), 0);
        doc.reanalyse(&rules, &rel_path);
        if let Some(known) = all.file(tree_rel) {
            for (range, a) in record::attribute(&text, known) {
                doc.authorship.mark(range, a.author.clone());
            }
        }
        let open = OpenDocument {
            doc,
            root: Some(root),
            rel_path,
            file: Some(path.to_path_buf()),
            work_tree: None,
            tree_path: tree_rel.to_string(),
            clean: true,
            trail: HashMap::new(),
        };
        Some(self.candidates(&uri, &open))
    }

    /// Every listed finding in the workspace, open documents first, each group in path order.
    pub fn workspace_findings(&mut self) -> Vec<Listed> {
        self.refresh_unopened();
        let mut uris: Vec<&Url> = self.docs.keys().collect();
        uris.sort();
        let mut out: Vec<Listed> = Vec::new();
        for uri in uris {
            let open = &self.docs[uri];
            out.extend(
                self.candidates(uri, open)
                    .iter()
                    .filter_map(|c| self.with_state(c)),
            );
        }
        let mut paths: Vec<&PathBuf> = self.unopened.keys().collect();
        paths.sort();
        for path in paths {
            if self.is_open(path) {
                continue;
            }
            out.extend(
                self.unopened[path]
                    .candidates
                    .iter()
                    .filter_map(|c| self.with_state(c)),
            );
        }
        out
    }

    /// The counts over the workspace: each open document's last counts plus the files that
    /// are not open.
    pub fn workspace_counts(&self) -> Counts {
        let mut total = Counts::default();
        let per_doc = self.doc_counts.borrow();
        for uri in self.docs.keys() {
            if let Some(c) = per_doc.get(uri) {
                total += *c;
            }
        }
        for (path, file) in &self.unopened {
            if self.is_open(path) {
                continue;
            }
            for c in &file.candidates {
                match self.overview_state(c.root.as_ref(), &c.listed.data.fingerprint, c.ai) {
                    Some(SignoffState::None) => total.unsigned += 1,
                    Some(SignoffState::Pending) => total.pending += 1,
                    Some(SignoffState::Approved { .. }) => total.approved += 1,
                    None => {}
                }
            }
        }
        total
    }
}
