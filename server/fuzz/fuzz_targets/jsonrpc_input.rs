//! Bytes from a client, through the server's `Content-Length` reader. Every frame must come out
//! as a message or as a JSON-RPC error answer, never a panic. The messages that decode are then
//! read into the parameter types the handlers use and, for the document methods, applied to a
//! session through its public methods.
//!
//! The main loop's dispatch is private to the server and runs on stdio, so this target drives
//! the same session methods the handlers call. Documents are kept off the disk: `file:` URIs
//! become `untitled:` ones, so no repository, ledger or record is read or written.
#![no_main]

use std::io::Cursor;
use std::sync::{Arc, OnceLock};

use countersign::analysis::RuleSet;
use countersign::document::{Encoding, LineCol};
use countersign::lsp::session::Session;
use countersign::lsp::transport::{read_loop, Outgoing};
use crossbeam_channel::unbounded;
use libfuzzer_sys::fuzz_target;
use lsp_server::Message;
use lsp_types::notification::{
    DidChangeConfiguration, DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument,
    DidOpenTextDocument, DidSaveTextDocument, Notification as _,
};
use lsp_types::request::{CodeActionRequest, ExecuteCommand, HoverRequest, Request as _};
use lsp_types::{
    CodeActionParams, DidChangeConfigurationParams, DidChangeTextDocumentParams,
    DidChangeWatchedFilesParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, ExecuteCommandParams, HoverParams, InitializeParams, Position, Url,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

fn rules() -> Arc<RuleSet> {
    static RULES: OnceLock<Arc<RuleSet>> = OnceLock::new();
    RULES
        .get_or_init(|| Arc::new(RuleSet::builtin().expect("built-in rules load")))
        .clone()
}

/// The shape of `countersign/aiEdit` (its handler's type is private to the server).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct AiEditParams {
    text_document: lsp_types::VersionedTextDocumentIdentifier,
    ranges: Vec<lsp_types::Range>,
    #[serde(default)]
    agent: String,
}

/// The shape of `countersign.requestSignoff`'s argument, as the client sends it back.
#[derive(Deserialize)]
#[allow(dead_code)]
struct FindingRef {
    uri: Url,
    fingerprint: String,
    rule: String,
    #[serde(default)]
    start: Option<Position>,
    #[serde(default)]
    reason: Option<String>,
}

fn params<P: DeserializeOwned>(v: Value) -> Option<P> {
    serde_json::from_value(v).ok()
}

fn offline(uri: Url) -> Url {
    if uri.scheme() == "untitled" {
        return uri;
    }
    Url::parse(&format!("untitled:{}", uri.path()))
        .unwrap_or_else(|_| Url::parse("untitled:Untitled-1").expect("a valid URI"))
}

fn line_col(p: Position) -> LineCol {
    LineCol::new(p.line, p.character)
}

fn request(session: &mut Session, method: &str, v: Value) {
    match method {
        "initialize" => {
            let _ = params::<InitializeParams>(v);
        }
        CodeActionRequest::METHOD => {
            if let Some(p) = params::<CodeActionParams>(v) {
                let uri = offline(p.text_document.uri);
                let actions =
                    session.code_actions(&uri, line_col(p.range.start), line_col(p.range.end));
                serde_json::to_value(actions).expect("code actions serialize");
            }
        }
        HoverRequest::METHOD => {
            if let Some(p) = params::<HoverParams>(v) {
                let at = p.text_document_position_params;
                let uri = offline(at.text_document.uri);
                let _ = session.trail_at(&uri, line_col(at.position));
            }
        }
        ExecuteCommand::METHOD => {
            // Requesting or approving a sign-off writes to a repository's ledger: only the
            // argument's decoding is exercised.
            if let Some(p) = params::<ExecuteCommandParams>(v) {
                if let Some(arg) = p.arguments.into_iter().next() {
                    let _ = serde_json::from_value::<FindingRef>(arg);
                }
            }
        }
        _ => {}
    }
}

fn notification(session: &mut Session, method: &str, v: Value) {
    match method {
        DidOpenTextDocument::METHOD => {
            if let Some(p) = params::<DidOpenTextDocumentParams>(v) {
                let doc = p.text_document;
                let uri = offline(doc.uri);
                session.open(uri.clone(), &doc.language_id, doc.version, &doc.text);
                let _ = session.diagnostics(&uri);
            }
        }
        DidChangeTextDocument::METHOD => {
            if let Some(p) = params::<DidChangeTextDocumentParams>(v) {
                let uri = offline(p.text_document.uri);
                let inserted: Vec<&str> = p
                    .content_changes
                    .iter()
                    .filter(|c| c.range.is_some())
                    .map(|c| c.text.as_str())
                    .collect();
                let classify = session.classifier(&uri, &inserted);
                let (encoding, rules) = (session.encoding, session.rules_for(&uri));
                let Some(open) = session.docs.get_mut(&uri) else {
                    return;
                };
                if p.text_document.version <= open.doc.version() {
                    return;
                }
                for change in &p.content_changes {
                    let range = change.range.map(|r| (line_col(r.start), line_col(r.end)));
                    open.doc
                        .apply_change(range, &change.text, encoding, &classify);
                }
                open.doc.set_version(p.text_document.version);
                open.doc.refresh(&rules, &open.rel_path.clone());
                let _ = session.diagnostics(&uri);
            }
        }
        DidCloseTextDocument::METHOD => {
            if let Some(p) = params::<DidCloseTextDocumentParams>(v) {
                session.close(&offline(p.text_document.uri));
            }
        }
        DidSaveTextDocument::METHOD => {
            let _ = params::<DidSaveTextDocumentParams>(v);
        }
        DidChangeWatchedFiles::METHOD => {
            let _ = params::<DidChangeWatchedFilesParams>(v);
        }
        DidChangeConfiguration::METHOD => {
            let _ = params::<DidChangeConfigurationParams>(v);
        }
        "countersign/aiEdit" => {
            let _ = params::<AiEditParams>(v);
        }
        _ => {}
    }
}

fuzz_target!(
    // Compile every rule query before the first input, whose time limit it would use up.
    init: {
        let _ = rules().compile_all();
    },
    |data: &[u8]| {
    let (tx, rx) = unbounded();
    let (etx, erx) = unbounded();
    read_loop(&mut Cursor::new(data), &tx, &etx);
    drop((tx, etx));
    for answer in erx.try_iter() {
        let Outgoing::Raw(v) = answer else {
            panic!("the reader answers only with raw errors");
        };
        assert!(v["error"]["code"].is_i64(), "an error answer has a code: {v}");
    }
    let enc = if data.last().is_some_and(|b| b & 1 == 1) {
        Encoding::Utf16
    } else {
        Encoding::Utf8
    };
    let mut session = Session::new(rules(), enc, None);
    for message in rx.try_iter() {
        match message {
            Message::Request(r) => request(&mut session, &r.method, r.params),
            Message::Notification(n) => notification(&mut session, &n.method, n.params),
            Message::Response(_) => {}
        }
    }
    let _ = session.workspace_findings();
    let _ = session.workspace_counts();
});
