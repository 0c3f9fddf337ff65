//! One handler per notification method. Notifications have no reply, so problems are logged.

use lsp_server::Notification;
use lsp_types::notification::{
    DidChangeConfiguration, DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument,
    DidOpenTextDocument, DidSaveTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::{
    DidChangeConfigurationParams, DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams, MessageType,
    PublishDiagnosticsParams, Range, Url,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::convert;
use super::session::Session;
use super::settings::UserSettings;
use super::Client;
use crate::provenance::{AiSource, Author};

/// `countersign/aiEdit`: the client says these ranges were just written by an AI.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiEditParams {
    pub text_document: lsp_types::VersionedTextDocumentIdentifier,
    pub ranges: Vec<Range>,
    /// Empty or missing: the agent the user's settings name.
    #[serde(default)]
    pub agent: String,
}

pub const AI_EDIT: &str = "countersign/aiEdit";

pub fn dispatch(session: &mut Session, client: &Client, not: Notification) {
    match not.method.as_str() {
        DidOpenTextDocument::METHOD => with_params(not, |p: DidOpenTextDocumentParams| {
            let doc = p.text_document;
            session.open(doc.uri.clone(), &doc.language_id, doc.version, &doc.text);
            client.flush_notices(session);
            warn_if_too_large(session, client, &doc.uri, false);
            client.publish(session, &doc.uri);
        }),
        DidChangeTextDocument::METHOD => with_params(not, |p: DidChangeTextDocumentParams| {
            did_change(session, client, p)
        }),
        DidCloseTextDocument::METHOD => with_params(not, |p: DidCloseTextDocumentParams| {
            session.persist_authorship(&p.text_document.uri);
            client.flush_notices(session);
            if session.close(&p.text_document.uri) {
                client.notify::<PublishDiagnostics>(PublishDiagnosticsParams::new(
                    p.text_document.uri,
                    Vec::new(),
                    None,
                ));
                // A closed file the record names still counts, read from disk.
                session.refresh_unopened();
                client.send_status(session);
            } else {
                tracing::warn!("didClose for {} which is not open", p.text_document.uri);
            }
        }),
        DidSaveTextDocument::METHOD => with_params(not, |p: DidSaveTextDocumentParams| {
            did_save(session, client, p)
        }),
        AI_EDIT => with_params(not, |p: AiEditParams| ai_edit(session, client, p)),
        DidChangeWatchedFiles::METHOD => with_params(not, |p: DidChangeWatchedFilesParams| {
            let paths: Vec<_> = p
                .changes
                .iter()
                .filter_map(|c| c.uri.to_file_path().ok())
                .collect();
            for uri in session.files_changed(&paths) {
                client.publish(session, &uri);
            }
            session.refresh_unopened();
            client.send_status(session);
            client.flush_notices(session);
        }),
        DidChangeConfiguration::METHOD => with_params(not, |p: DidChangeConfigurationParams| {
            settings_changed(session, client, &p.settings)
        }),
        "initialized" => {
            if session.watch_files {
                client.register_file_watchers();
            }
            session.refresh_unopened();
            client.send_status(session);
            client.flush_notices(session);
        }
        "$/cancelRequest" | "$/setTrace" => {}
        other => tracing::debug!("ignored notification {other}"),
    }
}

/// Saving records what the session learnt of the document's authorship; saving a
/// repository's `countersign.toml` applies it: its rules, severities and markers.
fn did_save(session: &mut Session, client: &Client, p: DidSaveTextDocumentParams) {
    let uri = &p.text_document.uri;
    session.persist_authorship(uri);
    if let Some(open) = session.docs.get_mut(uri) {
        open.clean = true;
    }
    client.flush_notices(session);
    let Ok(path) = uri.to_file_path() else {
        return;
    };
    if path.file_name().and_then(|n| n.to_str()) != Some(crate::config::FILE_NAME) {
        return;
    }
    let Some(root) = path.parent() else {
        return;
    };
    let uris = session.reload_repo(root);
    tracing::info!(
        "{} saved: settings reloaded, {} open documents re-checked",
        path.display(),
        uris.len()
    );
    client.flush_notices(session);
    for uri in uris {
        client.publish(session, &uri);
    }
}

fn did_change(session: &mut Session, client: &Client, p: DidChangeTextDocumentParams) {
    let uri = p.text_document.uri;
    let version = p.text_document.version;
    let inserted: Vec<&str> = p
        .content_changes
        .iter()
        .filter(|c| c.range.is_some())
        .map(|c| c.text.as_str())
        .collect();
    let classify = session.classifier(&uri, &inserted);
    let (encoding, rules) = (session.encoding, session.rules_for(&uri));
    let Some(open) = session.docs.get_mut(&uri) else {
        tracing::error!("didChange for {uri}, which is not open: change ignored");
        return;
    };
    if version <= open.doc.version() {
        tracing::error!(
            "didChange for {uri} with version {version}, not newer than {}: stale change ignored",
            open.doc.version()
        );
        return;
    }
    let before = open.clean.then(|| open.doc.text().clone());
    let was_too_large = open.doc.too_large();
    for change in &p.content_changes {
        let range = change
            .range
            .map(|r| (convert::line_col(r.start), convert::line_col(r.end)));
        let applied = open
            .doc
            .apply_change(range, &change.text, encoding, &classify);
        if applied.clamped {
            tracing::error!(
                "didChange for {uri} v{version}: range {:?} is outside the document; clamped",
                change.range
            );
        }
    }
    open.doc.set_version(version);
    if let Some(before) = before {
        session.after_clean_change(&uri, &before);
    }
    let Some(open) = session.docs.get_mut(&uri) else {
        return;
    };
    let started = std::time::Instant::now();
    open.doc.refresh(&rules, &open.rel_path.clone());
    let analysed = started.elapsed();
    warn_if_too_large(session, client, &uri, was_too_large);
    client.publish(session, &uri);
    tracing::debug!(
        "{uri} v{version}: analysed in {analysed:?}, published after {:?}",
        started.elapsed()
    );
}

/// Whether an open document waits for [`settle`].
pub fn unsettled(session: &Session) -> bool {
    session.docs.values().any(|open| open.doc.unsettled())
}

/// Runs when the client has been quiet for a moment: documents left with a syntax error that a
/// parse of more of their text might resolve get that parse, and are published again if their
/// findings changed.
pub fn settle(session: &mut Session, client: &Client) {
    let uris: Vec<Url> = session
        .docs
        .iter()
        .filter(|(_, open)| open.doc.unsettled())
        .map(|(uri, _)| uri.clone())
        .collect();
    for uri in uris {
        let rules = session.rules_for(&uri);
        let Some(open) = session.docs.get_mut(&uri) else {
            continue;
        };
        let key = |open: &super::session::OpenDocument| -> Vec<(std::ops::Range<usize>, String)> {
            let items = open.doc.findings.items();
            items
                .iter()
                .map(|f| (f.range.clone(), f.fingerprint.clone()))
                .collect()
        };
        let before = key(open);
        let started = std::time::Instant::now();
        open.doc.settle(&rules, &open.rel_path.clone());
        tracing::debug!("{uri}: settled in {:?}", started.elapsed());
        if key(open) != before {
            client.publish(session, &uri);
        }
    }
}

/// Says once, when a document grows past the size the server analyses, that it goes unchecked:
/// silence would read as "no risky code here".
fn warn_if_too_large(session: &Session, client: &Client, uri: &Url, was_too_large: bool) {
    let Some(open) = session.docs.get(uri) else {
        return;
    };
    if open.doc.too_large() && !was_too_large {
        let message = format!(
            "Countersign: {} is larger than {} MiB and is not checked while it is",
            open.rel_path,
            crate::analysis::MAX_ANALYSED_BYTES >> 20
        );
        tracing::warn!("{message}");
        client.show_message(MessageType::WARNING, message);
    }
}

fn ai_edit(session: &mut Session, client: &Client, p: AiEditParams) {
    let uri = p.text_document.uri;
    let encoding = session.encoding;
    let author = Author::Ai {
        agent: session.user.agent_for(&p.agent),
        source: AiSource::Client,
    };
    let Some(open) = session.docs.get_mut(&uri) else {
        tracing::error!("{AI_EDIT} for {uri}, which is not open: ignored");
        return;
    };
    if p.text_document.version != open.doc.version() {
        tracing::warn!(
            "{AI_EDIT} for {uri} names version {} but the document is at {}: ignored",
            p.text_document.version,
            open.doc.version()
        );
        return;
    }
    for range in p.ranges {
        let (from, to) = (convert::line_col(range.start), convert::line_col(range.end));
        let (a, b) = (
            open.doc.offset(from, encoding),
            open.doc.offset(to, encoding),
        );
        // A range starting where the document has no text (stale, or a client bug) is not
        // guessed at; an end past the text is clamped, as editors send `(last line + 1, 0)`.
        if open.doc.position(a, encoding) != from {
            tracing::warn!(
                "{AI_EDIT} for {uri} v{}: range {range:?} is not in the document; dropped",
                open.doc.version()
            );
            continue;
        }
        open.doc.authorship.mark(a.min(b)..a.max(b), author.clone());
    }
    client.publish(session, &uri);
}

/// The user changed their editor settings: every open document is shown anew under them.
fn settings_changed(session: &mut Session, client: &Client, settings: &serde_json::Value) {
    match UserSettings::from_client(settings) {
        Ok(user) if user == session.user => return,
        Ok(user) => session.user = user,
        Err(e) => {
            session.notices.push(e);
            client.flush_notices(session);
            return;
        }
    }
    let uris: Vec<Url> = session.docs.keys().cloned().collect();
    for uri in &uris {
        client.publish(session, uri);
    }
    tracing::info!("editor settings changed: {:?}", session.user);
}

fn with_params<P: DeserializeOwned>(not: Notification, f: impl FnOnce(P)) {
    match serde_json::from_value::<P>(not.params) {
        Ok(p) => f(p),
        Err(e) => tracing::error!("invalid params for {}: {e}", not.method),
    }
}
