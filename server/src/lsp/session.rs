//! The server's state: settings negotiated at initialization, the open documents, and per
//! repository its configuration and sign-off ledger. Handlers call into this; it calls the core.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use countersign_grammars::Lang;
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeDescription, Command, Diagnostic,
    NumberOrString, PublishDiagnosticsParams, Url,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::convert;
use super::overview::Counts;
use super::settings::UserSettings;
use crate::analysis::{
    deduplicate, fingerprint, markers, sort_by_position, Finding, RuleSet, Source,
};
use crate::config::Config;
use crate::document::{Document, Encoding, LineCol};
use crate::policy::{self, SignoffState};
use crate::provenance::{record, Author, BulkEditHeuristic};
use crate::signoff::{self, approval, sshsig, Ledger, LedgerIndex, SignoffRequest};
use crate::workspace;

pub const REQUEST_SIGNOFF: &str = "countersign.requestSignoff";
pub const APPROVE_SIGNOFF: &str = "countersign.approveSignoff";
pub const WORKSPACE_FINDINGS: &str = "countersign.workspaceFindings";

/// The `data` of every diagnostic, and the argument of the sign-off command.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingRef {
    pub uri: Url,
    pub fingerprint: String,
    pub rule: String,
    /// Where the finding starts: identical code twice in a file shares a fingerprint, and the
    /// request should describe the occurrence the user acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<lsp_types::Position>,
    /// Why the code is right, when the editor asked the requester.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Who this user can approve as: their signing key, listed in the allowed signers.
pub struct Approver {
    pub key: sshsig::SigningKey,
    pub principal: String,
}

/// Per repository: its configuration, the rules it asks for and what its ledger says.
pub struct Repo {
    pub config: Config,
    pub rules: Arc<RuleSet>,
    pub ledger: Ledger,
    pub signoffs: LedgerIndex,
    /// Found on first need: looking for the key runs git.
    pub approver: std::cell::OnceCell<Option<Approver>>,
}

impl Repo {
    /// This user as an approver, if their signing key is an allowed signer.
    pub fn approver(&self, root: &Path) -> Option<&Approver> {
        self.approver
            .get_or_init(|| {
                let key = sshsig::find_signing_key(root, None).ok()?;
                let (signers, _) = self.ledger.signers();
                let email = signoff::git_identity(root).and_then(|p| p.email);
                let principal = approval::principal_for(&signers, &key, email.as_deref()).ok()?;
                Some(Approver { key, principal })
            })
            .as_ref()
    }
}

pub struct OpenDocument {
    pub doc: Document,
    pub root: Option<PathBuf>,
    /// Repo-relative path, or the URI for documents that aren't files.
    pub rel_path: String,
    /// The file on disk, for documents that are files.
    pub file: Option<PathBuf>,
    /// The git work tree holding the file, whose provenance record speaks of it.
    pub work_tree: Option<PathBuf>,
    /// The path relative to `work_tree`, as the record names it.
    pub tree_path: String,
    /// The buffer equals the file on disk (just opened or saved): a change that makes it equal
    /// the disk again is the editor reloading a file something else wrote.
    pub clean: bool,
    /// What history said of the document's lines when it was opened, by line key: the
    /// attribution trail hovers show.
    pub trail: HashMap<String, String>,
}

pub struct Session {
    pub encoding: Encoding,
    pub workspace_root: Option<PathBuf>,
    pub rules: Arc<RuleSet>,
    pub docs: HashMap<Url, OpenDocument>,
    pub repos: HashMap<PathBuf, Repo>,
    /// Messages for the user (config errors, ledger problems), drained by the main loop.
    pub notices: Vec<String>,
    /// Provenance records read, per git work tree.
    pub records: HashMap<PathBuf, super::authors::CachedRecord>,
    /// Notifications to deliver off the main loop: (repository root, targets, notice).
    pub outgoing: Vec<(
        PathBuf,
        signoff::notify::NotifyConfig,
        signoff::notify::Notice,
    )>,
    /// The client watches files for us (`workspace/didChangeWatchedFiles`, registered
    /// dynamically once initialized).
    pub watch_files: bool,
    /// What this user asked for in their editor's settings.
    pub user: UserSettings,
    /// Files the provenance record names that are not open, for the workspace overview.
    pub unopened: HashMap<PathBuf, super::overview::Unopened>,
    /// Each open document's counts as last published.
    pub doc_counts: RefCell<HashMap<Url, Counts>>,
    /// The counts last sent in `countersign/status`.
    pub status_sent: Cell<Option<Counts>>,
}

impl Session {
    pub fn new(
        rules: Arc<RuleSet>,
        encoding: Encoding,
        workspace_root: Option<PathBuf>,
    ) -> Session {
        Session {
            encoding,
            workspace_root,
            rules,
            docs: HashMap::new(),
            repos: HashMap::new(),
            notices: Vec::new(),
            records: HashMap::new(),
            outgoing: Vec::new(),
            watch_files: false,
            user: UserSettings::default(),
            unopened: HashMap::new(),
            doc_counts: RefCell::new(HashMap::new()),
            status_sent: Cell::new(None),
        }
    }

    pub(super) fn repo(&mut self, root: &Path) -> &mut Repo {
        let notices = &mut self.notices;
        let builtin = &self.rules;
        self.repos.entry(root.to_path_buf()).or_insert_with(|| {
            let mut config = Config::load_from_root(root).unwrap_or_else(|e| {
                notices.push(format!("Countersign: {e}. Using the default settings."));
                Config::default()
            });
            let rules = if config.uses_builtin_rules() {
                builtin.clone()
            } else {
                let origin = root.join(crate::config::FILE_NAME);
                match RuleSet::configured(&config, &origin.display().to_string()) {
                    Ok(rules) => Arc::new(rules),
                    Err(errors) => {
                        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                        notices.push(format!(
                            "Countersign: {}. Using the built-in rules.",
                            list.join("; ")
                        ));
                        // Keep the settings that did load; drop only the rule changes.
                        config.rules.clear();
                        config.severity.clear();
                        config.production = Default::default();
                        builtin.clone()
                    }
                }
            };
            let ledger = Ledger::new(root);
            let signoffs = ledger.load(config.signoff.allow_self_approval);
            notices.extend(
                signoffs
                    .problems
                    .iter()
                    .map(|p| format!("Countersign ledger: {p}")),
            );
            Repo {
                config,
                rules,
                ledger,
                signoffs,
                approver: std::cell::OnceCell::new(),
            }
        })
    }

    pub fn open(&mut self, uri: Url, language_id: &str, version: i32, text: &str) {
        let path = uri.to_file_path().ok();
        let lang = Lang::from_language_id(language_id)
            .or_else(|| path.as_deref().and_then(Lang::from_path));
        let root = path
            .as_deref()
            .map(|p| workspace::root_for(p, self.workspace_root.as_deref()));
        let rel_path = match (&root, &path) {
            (Some(root), Some(path)) => workspace::relative_path(root, path),
            _ => uri.to_string(),
        };
        let rules = match &root {
            Some(root) => self.repo(root).rules.clone(),
            None => self.rules.clone(),
        };
        let mut doc = Document::new(text, lang, version);
        doc.reanalyse(&rules, &rel_path);
        let work_tree = path.as_deref().and_then(record::work_tree);
        let tree_path = match (&work_tree, &path) {
            (Some(tree), Some(path)) => workspace::relative_path(tree, path),
            _ => rel_path.clone(),
        };
        let mut open = OpenDocument {
            doc,
            root,
            rel_path,
            file: path,
            work_tree,
            tree_path,
            clean: true,
            trail: HashMap::new(),
        };
        self.attribute_from_history(&mut open, text);
        self.docs.insert(uri, open);
    }

    pub fn close(&mut self, uri: &Url) -> bool {
        self.doc_counts.borrow_mut().remove(uri);
        self.docs.remove(uri).is_some()
    }

    /// Rereads a repository's configuration and ledger and re-checks its open documents.
    /// Returns the documents to republish (none if no open document belongs to `root`).
    pub fn reload_repo(&mut self, root: &Path) -> Vec<Url> {
        let uris: Vec<Url> = self
            .docs
            .iter()
            .filter(|(_, d)| d.root.as_deref() == Some(root))
            .map(|(uri, _)| uri.clone())
            .collect();
        if uris.is_empty() && !self.repos.contains_key(root) {
            return uris;
        }
        self.repos.remove(root);
        let rules = self.repo(root).rules.clone();
        for uri in &uris {
            if let Some(open) = self.docs.get_mut(uri) {
                open.doc.reanalyse(&rules, &open.rel_path);
            }
        }
        uris
    }

    /// The rules that apply to an open document: its repository's.
    pub fn rules_for(&self, uri: &Url) -> Arc<RuleSet> {
        self.docs
            .get(uri)
            .and_then(|d| d.root.as_ref())
            .and_then(|r| self.repos.get(r))
            .map_or_else(|| self.rules.clone(), |r| r.rules.clone())
    }

    /// Who wrote each change of a change set (given as the texts it inserts), by the
    /// configured heuristics of the document's repository.
    pub fn classifier(&self, uri: &Url, inserted: &[&str]) -> impl Fn(&str) -> Author {
        let heuristic = self
            .docs
            .get(uri)
            .and_then(|d| d.root.as_ref())
            .and_then(|r| self.repos.get(r))
            .map(|r| r.config.provenance.bulk_edit())
            .unwrap_or_default();
        let heuristic = self.user.heuristic(heuristic);
        let multi_hunk = heuristic.is_multi_hunk(inserted);
        move |text: &str| {
            if multi_hunk && !text.is_empty() {
                BulkEditHeuristic::multi_hunk_author()
            } else {
                heuristic.classify(text)
            }
        }
    }

    /// Files changed on disk, as the client's watcher reports them: settings and ledger files
    /// reload their repository, the provenance record re-attributes open documents. Returns
    /// the documents to republish.
    pub fn files_changed(&mut self, paths: &[PathBuf]) -> Vec<Url> {
        let mut republish: Vec<Url> = Vec::new();
        let mut reload: Vec<PathBuf> = Vec::new();
        for path in paths {
            if path.ends_with(record::RECORD_FILE) {
                republish.extend(self.record_changed(path));
                continue;
            }
            let is_config =
                path.file_name().and_then(|n| n.to_str()) == Some(crate::config::FILE_NAME);
            let ledger_root = path
                .ancestors()
                .find(|a| a.file_name().and_then(|n| n.to_str()) == Some(".countersign"))
                .and_then(Path::parent);
            let root = if is_config {
                path.parent()
            } else {
                ledger_root
            };
            if let Some(root) = root {
                if !reload.iter().any(|r| r == root) {
                    reload.push(root.to_path_buf());
                }
            }
        }
        for root in reload {
            republish.extend(self.reload_repo(&root));
        }
        republish.sort();
        republish.dedup();
        republish
    }

    /// The document's findings and, in a production path, one for each AI-written block.
    pub(super) fn findings_of<'d>(&self, open: &'d OpenDocument) -> Cow<'d, [Finding]> {
        let items = open.doc.findings.items();
        let Some(rules) = open
            .root
            .as_ref()
            .and_then(|r| self.repos.get(r))
            .map(|r| &r.rules)
        else {
            return Cow::Borrowed(items);
        };
        let rule = match rules.get(markers::PATH_RULE_ID) {
            Some(rule) if rules.markers().production_path(&open.rel_path) => rule,
            _ => return Cow::Borrowed(items),
        };
        let mut all = items.to_vec();
        for span in open.doc.authorship.spans() {
            if !span.author.is_ai() {
                continue;
            }
            let bytes = open.doc.text().bytes_of(span.range.clone());
            let text = String::from_utf8_lossy(&bytes);
            let lead = text.len() - text.trim_start().len();
            let snippet = text.trim().to_string();
            if snippet.is_empty() {
                continue;
            }
            let start = span.range.start + lead;
            let range = start..start + snippet.len();
            all.push(Finding {
                fingerprint: fingerprint(rule.id(), &open.rel_path, &snippet),
                rule: rule.clone(),
                match_range: range.clone(),
                range,
                snippet,
                embedded: false,
            });
        }
        sort_by_position(&mut all);
        Cow::Owned(all)
    }

    fn signoff_state(&self, open: &OpenDocument, finding: &Finding) -> SignoffState {
        open.root
            .as_ref()
            .and_then(|r| self.repos.get(r))
            .map_or(SignoffState::None, |repo| {
                repo.signoffs.state(&finding.fingerprint)
            })
    }

    /// The repository's policy, with what the user asked for in their editor.
    pub(super) fn policy_config(&self, open: &OpenDocument) -> crate::config::PolicyConfig {
        let repo = open
            .root
            .as_ref()
            .and_then(|r| self.repos.get(r))
            .map(|r| r.config.policy.clone())
            .unwrap_or_default();
        self.user.policy(&repo)
    }

    /// A finding's range in the client's encoding, and the reference that names it.
    pub(super) fn locate(
        &self,
        uri: &Url,
        open: &OpenDocument,
        f: &Finding,
    ) -> (lsp_types::Range, FindingRef) {
        let range = convert::range(&open.doc, f.range.clone(), self.encoding);
        let data = FindingRef {
            uri: uri.clone(),
            fingerprint: f.fingerprint.clone(),
            rule: f.rule.id().to_string(),
            start: Some(range.start),
            reason: None,
        };
        (range, data)
    }

    /// The diagnostics of a document, for its current version.
    pub fn diagnostics(&self, uri: &Url) -> Option<PublishDiagnosticsParams> {
        let open = self.docs.get(uri)?;
        let policy = self.policy_config(open);
        let findings = self.findings_of(open);
        // One parse of each rule's page address, not one per finding.
        let mut pages: HashMap<&str, Option<Url>> = HashMap::new();
        let diagnostics = deduplicate(&findings)
            .into_iter()
            .filter_map(|f| {
                let author = open.doc.authorship.author_of(f.range.clone());
                let verdict = policy::judge(f, &author, &self.signoff_state(open, f), &policy)?;
                let (range, data) = self.locate(uri, open, f);
                let page = pages
                    .entry(f.rule.id())
                    .or_insert_with(|| Url::parse(&f.rule.docs_url()).ok());
                Some(Diagnostic {
                    range,
                    severity: Some(convert::severity(verdict.severity)),
                    code: Some(NumberOrString::String(f.rule.id().to_string())),
                    code_description: page.clone().map(|href| CodeDescription { href }),
                    source: Some("countersign".into()),
                    message: verdict.message,
                    data: serde_json::to_value(data).ok(),
                    ..Diagnostic::default()
                })
            })
            .collect();
        Some(PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics,
            version: Some(open.doc.version()),
        })
    }

    /// "Request senior sign-off" for each finding in `range` that can still be requested.
    pub fn code_actions(&self, uri: &Url, from: LineCol, to: LineCol) -> Vec<CodeActionOrCommand> {
        let Some(open) = self.docs.get(uri) else {
            return Vec::new();
        };
        let (a, b) = (
            open.doc.offset(from, self.encoding),
            open.doc.offset(to, self.encoding),
        );
        let (start, end) = (a.min(b), a.max(b));
        let policy = self.policy_config(open);
        let published = self
            .diagnostics(uri)
            .map(|p| p.diagnostics)
            .unwrap_or_default();
        let findings = self.findings_of(open);
        let repo = open
            .root
            .as_ref()
            .and_then(|r| self.repos.get(r).map(|repo| (r, repo)));
        deduplicate(&findings)
            .into_iter()
            .filter(|f| f.range.start <= end && f.range.end >= start)
            .filter_map(|f| {
                let author = open.doc.authorship.author_of(f.range.clone());
                let state = self.signoff_state(open, f);
                if state == SignoffState::Pending {
                    return self.approve_action(uri, open, f, repo?);
                }
                let verdict = policy::judge(f, &author, &state, &policy)?;
                if !verdict.can_request {
                    return None;
                }
                let (range, data) = self.locate(uri, open, f);
                let diagnostic = published.iter().find(|d| {
                    d.range == range
                        && d.data.as_ref().and_then(|v| v.get("fingerprint"))
                            == Some(&json!(f.fingerprint))
                });
                let title = format!("Request senior sign-off ({})", f.rule.id());
                Some(CodeActionOrCommand::CodeAction(CodeAction {
                    title: title.clone(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: diagnostic.map(|d| vec![d.clone()]),
                    command: Some(Command {
                        title,
                        command: REQUEST_SIGNOFF.into(),
                        arguments: Some(vec![json!(data)]),
                    }),
                    is_preferred: Some(author.is_ai()),
                    ..CodeAction::default()
                }))
            })
            .collect()
    }

    /// "Approve sign-off", for a pending finding, offered only to a senior: someone whose
    /// signing key is an allowed signer, and who did not ask for it (unless allowed).
    fn approve_action(
        &self,
        uri: &Url,
        open: &OpenDocument,
        f: &Finding,
        (root, repo): (&PathBuf, &Repo),
    ) -> Option<CodeActionOrCommand> {
        let approver = repo.approver(root)?;
        let entry = repo.signoffs.entries.get(&f.fingerprint)?;
        if !repo.config.signoff.allow_self_approval
            && approval::is_requester(&entry.request, &approver.principal)
        {
            return None;
        }
        let (_, data) = self.locate(uri, open, f);
        let title = format!(
            "Approve sign-off ({}) as {}",
            f.rule.id(),
            approver.principal
        );
        Some(CodeActionOrCommand::CodeAction(CodeAction {
            title: title.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            command: Some(Command {
                title,
                command: APPROVE_SIGNOFF.into(),
                arguments: Some(vec![json!(data)]),
            }),
            ..CodeAction::default()
        }))
    }

    /// Signs and records an approval of the pending request for `target`, as this user.
    /// Returns the approval file and the URIs to republish.
    pub fn approve_signoff(
        &mut self,
        target: &FindingRef,
    ) -> Result<(serde_json::Value, Vec<Url>), String> {
        // Approving needs only the request, so a pending sign-off listed from a file that is
        // not open can be approved too.
        let root = match self.docs.get(&target.uri) {
            Some(open) => open.root.clone(),
            None => target
                .uri
                .to_file_path()
                .ok()
                .map(|p| workspace::root_for(&p, self.workspace_root.as_deref())),
        }
        .ok_or("sign-off needs a file inside a folder")?;
        let repo = self.repo(&root);
        let entry = repo
            .signoffs
            .entries
            .get(&target.fingerprint)
            .cloned()
            .ok_or(
                "there is no pending request for that code (it changed, or was never requested)",
            )?;
        let approver = repo
            .approver(&root)
            .ok_or("your signing key is not in .countersign/allowed_signers: only the seniors listed there can approve")?;
        let (signers, _) = repo.ledger.signers();
        let (path, created) = approval::approve(
            &repo.ledger.dir(),
            &entry.request,
            &approver.key,
            &approver.principal,
            &signers,
            repo.config.signoff.allow_self_approval,
            None,
        )?;
        let principal = approver.principal.clone();
        if created {
            let notice = signoff::notice("approved", &entry.request, "");
            let config = repo.config.signoff.notify.clone();
            self.outgoing.push((root.clone(), config, notice));
        }
        let uris = self.reload_repo(&root);
        Ok((
            json!({"path": path, "created": created, "fingerprint": target.fingerprint, "approvedBy": principal}),
            uris,
        ))
    }

    /// Records a sign-off request for the finding `target` names, as it is in the buffer now.
    /// Returns the request file and whether it was created, and the URIs to republish.
    pub fn request_signoff(
        &mut self,
        target: &FindingRef,
    ) -> Result<(serde_json::Value, Vec<Url>), String> {
        let open = self
            .docs
            .get(&target.uri)
            .ok_or_else(|| format!("{} is not open", target.uri))?;
        let encoding = self.encoding;
        let findings = self.findings_of(open);
        let mut candidates = findings
            .iter()
            .filter(|f| f.fingerprint == target.fingerprint);
        let finding = match target.start {
            Some(at) => candidates.find(|f| open.doc.offset(convert::line_col(at), encoding) == f.range.start),
            None => candidates.next(),
        }
        .ok_or("that finding is no longer in the document (the code changed); run the code action again")?;
        let root = open
            .root
            .clone()
            .ok_or("sign-off needs a file inside a folder; save the document to disk first")?;
        let author = open.doc.authorship.author_of(finding.range.clone());
        let line = open.doc.position(finding.range.start, Encoding::Utf8).line + 1;
        let request = SignoffRequest::new(
            finding,
            &open.rel_path,
            line,
            &author,
            signoff::git_identity(&root),
        );
        let mut request = request;
        request.reason = target.reason.clone();
        let repo = self.repo(&root);
        request.reviewers = signoff::reviewers_for(&root, &repo.ledger, &request.path);
        let done = repo.ledger.request(&request).map_err(|e| e.to_string())?;
        repo.signoffs
            .set(&request.fingerprint, SignoffState::Pending);
        // Until the watcher reloads the ledger, the entry answers who asked and why.
        repo.signoffs
            .entries
            .entry(request.fingerprint.clone())
            .or_insert_with(|| signoff::LedgerEntry {
                path: done.path.clone(),
                request: request.clone(),
                approvals: Vec::new(),
            });
        let affected = self
            .docs
            .iter()
            .filter(|(_, d)| d.root.as_ref() == Some(&root))
            .map(|(u, _)| u.clone())
            .collect();
        let result = json!({
            "path": done.path,
            "created": done.created,
            "fingerprint": request.fingerprint,
        });
        if done.created {
            let notice = signoff::notice("requested", &request, &author.describe());
            let config = self.repo(&root).config.signoff.notify.clone();
            self.outgoing.push((root.clone(), config, notice));
        }
        Ok((result, affected))
    }
}
