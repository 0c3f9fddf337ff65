//! The language server: one thread reads messages, the main loop handles them strictly in
//! arrival order (so `didChange` edits can never be reordered), a writer thread sends replies.
//!
//! Handlers are thin: they decode parameters, call the [`Session`], and encode the result.
//! A panic in a handler is caught and answered as an error; it never takes the server down.

mod authors;
mod convert;
mod notifications;
mod overview;
mod requests;
pub mod session;
mod settings;
pub mod transport;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crossbeam_channel::Sender;
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::ShowMessage;
use lsp_types::{DidChangeTextDocumentParams, MessageType, ShowMessageParams, Url};
use serde::Deserialize;

use crate::analysis::RuleSet;
use session::Session;
use transport::Outgoing;

/// The handle handlers use to talk to the client.
#[derive(Clone)]
pub struct Client {
    sender: Sender<Outgoing>,
}

impl Client {
    pub fn send(&self, message: Message) {
        if self.sender.send(message.into()).is_err() {
            tracing::warn!("client connection closed; message dropped");
        }
    }

    pub fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        self.send(Message::Notification(Notification::new(
            N::METHOD.to_string(),
            params,
        )));
    }

    pub fn show_message(&self, typ: MessageType, message: String) {
        self.notify::<ShowMessage>(ShowMessageParams { typ, message });
    }

    pub fn publish(&self, session: &Session, uri: &Url) {
        if let Some(params) = session.diagnostics(uri) {
            if self
                .sender
                .send(Outgoing::Publish(Box::new(params)))
                .is_err()
            {
                tracing::warn!("client connection closed; diagnostics dropped");
            }
        }
        if let Some(open) = session.docs.get(uri) {
            let counts = session.counts_of(open);
            session.doc_counts.borrow_mut().insert(uri.clone(), counts);
        }
        self.send_status(session);
    }

    /// `countersign/status`, when the workspace's counts changed since last sent: what an
    /// editor's status item shows.
    pub fn send_status(&self, session: &Session) {
        let counts = session.workspace_counts();
        if session.status_sent.get() == Some(counts) {
            return;
        }
        session.status_sent.set(Some(counts));
        self.send(Message::Notification(Notification::new(
            STATUS.to_string(),
            counts,
        )));
    }

    /// Asks the client to watch the files whose changes matter while documents are open:
    /// settings, the sign-off ledger and the provenance record hooks write.
    pub fn register_file_watchers(&self) {
        let watchers: Vec<serde_json::Value> = [
            "**/countersign.toml",
            "**/.countersign/**",
            "**/.git/countersign/provenance.jsonl",
        ]
        .iter()
        .map(|g| serde_json::json!({ "globPattern": g }))
        .collect();
        let params = serde_json::json!({"registrations": [{
            "id": "countersign-files",
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": { "watchers": watchers },
        }]});
        self.send(Message::Request(Request::new(
            RequestId::from("countersign/register-watchers".to_string()),
            "client/registerCapability".into(),
            params,
        )));
    }

    /// Tells the user about configuration or ledger problems the session ran into.
    /// Also sends the sign-off notifications the session queued, off the main loop: a slow
    /// webhook must not hold up diagnostics.
    pub fn flush_notices(&self, session: &mut Session) {
        for notice in session.notices.drain(..) {
            tracing::warn!("{notice}");
            self.show_message(MessageType::WARNING, notice);
        }
        let outgoing = std::mem::take(&mut session.outgoing);
        if outgoing.is_empty() {
            return;
        }
        let client = self.clone();
        let spawned = std::thread::Builder::new()
            .name("notify".into())
            .spawn(move || {
                for (root, config, notice) in outgoing {
                    for failure in crate::signoff::deliver(&root, &config, &notice) {
                        tracing::warn!("notification failed: {failure}");
                        client.show_message(
                            MessageType::WARNING,
                            format!("Countersign: notification failed (kept for retry): {failure}"),
                        );
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("notifications not sent: {e}");
        }
    }
}

/// Server→client notification with the workspace's [`overview::Counts`].
pub const STATUS: &str = "countersign/status";

/// What ends the main loop.
enum Flow {
    Continue,
    Exit,
}

/// Runs the server on stdin/stdout until the client says `exit` or closes the connection.
/// Returns the process exit code: 0 after `shutdown` + `exit`, 1 otherwise (as the spec says).
pub fn run() -> anyhow::Result<i32> {
    let rules = Arc::new(RuleSet::builtin().map_err(|errors| {
        anyhow::anyhow!(
            "built-in rules failed to load: {}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?);
    // Compile the rule queries while the client is still initializing; the first document of
    // a language waits only for what is left of its own compile.
    let warm = rules.clone();
    std::thread::Builder::new()
        .name("rules-compile".into())
        .spawn(move || {
            if let Err(errors) = warm.compile_all() {
                for e in errors {
                    tracing::error!("rule not loaded: {e}");
                }
            }
        })?;
    let (connection, io_threads) = transport::stdio();
    let client = Client {
        sender: connection.sender.clone(),
    };
    let mut state = State {
        session: None,
        shutdown: false,
        rules,
        settle_failed: false,
    };
    let mut code = 1;
    let mut next: Option<Message> = None;
    loop {
        let message = match next.take() {
            Some(m) => m,
            None if state.unsettled() => match connection.receiver.recv_timeout(SETTLE_AFTER) {
                Ok(m) => m,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    state.settle(&client);
                    continue;
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            },
            None => match connection.receiver.recv() {
                Ok(m) => m,
                Err(_) => break,
            },
        };
        let (message, after) = coalesce_changes(message, &connection.receiver);
        next = after;
        let request_id = match &message {
            Message::Request(req) => Some(req.id.clone()),
            _ => None,
        };
        match catch_unwind(AssertUnwindSafe(|| state.handle(&client, message))) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Exit) => {
                code = if state.shutdown { 0 } else { 1 };
                break;
            }
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!("internal error while handling a message: {what}");
                if let Some(id) = request_id {
                    client.send(Message::Response(Response::new_err(
                        id,
                        ErrorCode::InternalError as i32,
                        format!("internal error: {what}"),
                    )));
                }
            }
        }
    }
    io_threads.join_writer(&connection.sender)?;
    Ok(code)
}

/// How long the client must be quiet before documents left with a syntax error are parsed
/// with more of their text around the error (see `Document::settle`).
const SETTLE_AFTER: std::time::Duration = std::time::Duration::from_millis(300);

/// The most `didChange` notifications merged into one analysis.
const MAX_COALESCED: usize = 256;

/// When a client sends changes faster than they are analysed (fast typing, an agent applying
/// many edits), the queued `didChange`s of one document are merged into one: their content
/// changes apply in the same order either way, and the document is analysed and published once,
/// at the last version. Returns the merged message and the first message that did not merge.
fn coalesce_changes(
    first: Message,
    queue: &crossbeam_channel::Receiver<Message>,
) -> (Message, Option<Message>) {
    let Message::Notification(mut merged) = first else {
        return (first, None);
    };

    // Only well-formed changes merge: a malformed one must fail on its own, not take the
    // valid changes merged with it down too.
    let well_formed =
        |n: &Notification| DidChangeTextDocumentParams::deserialize(&n.params).is_ok();
    let same_document = |n: &Notification, merged: &Notification| {
        let version = |n: &Notification| n.params["textDocument"]["version"].as_i64();
        n.method == DID_CHANGE
            && n.params["textDocument"]["uri"] == merged.params["textDocument"]["uri"]
            && n.params["contentChanges"].is_array()
            && matches!((version(n), version(merged)), (Some(new), Some(old)) if new > old)
            && well_formed(n)
    };
    if merged.method != DID_CHANGE
        || !merged.params["contentChanges"].is_array()
        || !well_formed(&merged)
    {
        return (Message::Notification(merged), None);
    }
    for _ in 1..MAX_COALESCED {
        match queue.try_recv() {
            Ok(Message::Notification(mut n)) if same_document(&n, &merged) => {
                let changes = std::mem::take(&mut n.params["contentChanges"]);
                if let (Some(all), serde_json::Value::Array(more)) =
                    (merged.params["contentChanges"].as_array_mut(), changes)
                {
                    all.extend(more);
                }
                merged.params["textDocument"]["version"] =
                    n.params["textDocument"]["version"].take();
            }
            Ok(other) => return (Message::Notification(merged), Some(other)),
            Err(_) => break,
        }
    }
    (Message::Notification(merged), None)
}

const DID_CHANGE: &str = "textDocument/didChange";

struct State {
    session: Option<Session>,
    shutdown: bool,
    rules: Arc<RuleSet>,
    /// Settling panicked: not tried again until the next message.
    settle_failed: bool,
}

impl State {
    fn unsettled(&self) -> bool {
        !self.settle_failed && self.session.as_ref().is_some_and(notifications::unsettled)
    }

    fn settle(&mut self, client: &Client) {
        if let Some(session) = &mut self.session {
            let settled = catch_unwind(AssertUnwindSafe(|| notifications::settle(session, client)));
            if settled.is_err() {
                tracing::error!("internal error while settling documents");
                self.settle_failed = true;
            }
        }
    }

    fn handle(&mut self, client: &Client, message: Message) -> Flow {
        self.settle_failed = false;
        match message {
            Message::Request(req) => {
                let response = self.request(client, req);
                client.send(Message::Response(response));
            }
            Message::Notification(not) => {
                if not.method == "exit" {
                    return Flow::Exit;
                }
                match &mut self.session {
                    Some(session) if !self.shutdown => {
                        notifications::dispatch(session, client, not)
                    }
                    _ => tracing::debug!("ignored {} outside of a session", not.method),
                }
            }
            Message::Response(resp) => tracing::debug!("ignored a response to {:?}", resp.id),
        }
        Flow::Continue
    }

    fn request(&mut self, client: &Client, req: Request) -> Response {
        if req.method == "initialize" {
            if self.session.is_some() {
                return error(
                    req.id,
                    ErrorCode::InvalidRequest,
                    "initialize was already called",
                );
            }
            return match requests::initialize(&self.rules, req.params) {
                Ok((session, result)) => {
                    self.session = Some(session);
                    Response::new_ok(req.id, result)
                }
                Err(e) => error(req.id, ErrorCode::InvalidParams, &e),
            };
        }
        let Some(session) = &mut self.session else {
            return error(
                req.id,
                ErrorCode::ServerNotInitialized,
                "the server is not initialized",
            );
        };
        if self.shutdown {
            return error(
                req.id,
                ErrorCode::InvalidRequest,
                "the server is shutting down",
            );
        }
        if req.method == "shutdown" {
            self.shutdown = true;
            return Response::new_ok(req.id, ());
        }
        requests::dispatch(session, client, req)
    }
}

fn error(id: RequestId, code: ErrorCode, message: &str) -> Response {
    Response::new_err(id, code as i32, message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(uri: &str, version: i64, text: &str) -> Message {
        Message::Notification(Notification::new(
            DID_CHANGE.into(),
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        ))
    }

    #[test]
    fn queued_changes_to_one_document_merge_in_order() {
        let (tx, rx) = crossbeam_channel::unbounded();
        for (v, t) in [(3, "b"), (4, "c"), (4, "stale"), (5, "d")] {
            tx.send(change("file:///a.sql", v, t)).unwrap();
        }
        let (merged, next) = coalesce_changes(change("file:///a.sql", 2, "a"), &rx);
        let Message::Notification(merged) = merged else {
            panic!("a notification")
        };
        assert_eq!(merged.params["textDocument"]["version"], 4);
        let texts: Vec<&str> = merged.params["contentChanges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["a", "b", "c"]);
        let Some(Message::Notification(next)) = next else {
            panic!("the stale change is handled on its own")
        };
        assert_eq!(next.params["contentChanges"][0]["text"], "stale");
    }

    #[test]
    fn a_malformed_change_is_not_merged_with_valid_ones() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut bad = change("file:///a.sql", 3, "x");
        if let Message::Notification(n) = &mut bad {
            n.params["contentChanges"][0]["range"] =
                json!({"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 0}});
        }
        tx.send(change("file:///a.sql", 2, "b")).unwrap();
        tx.send(bad).unwrap();
        let (merged, next) = coalesce_changes(change("file:///a.sql", 1, "a"), &rx);
        let Message::Notification(merged) = merged else {
            panic!("a notification")
        };
        assert_eq!(merged.params["textDocument"]["version"], 2);
        assert_eq!(merged.params["contentChanges"].as_array().unwrap().len(), 2);
        let Some(Message::Notification(next)) = next else {
            panic!("the malformed change is handled on its own")
        };
        assert_eq!(next.params["textDocument"]["version"], 3);
    }

    #[test]
    fn changes_to_another_document_are_not_merged() {
        let (tx, rx) = crossbeam_channel::unbounded();
        tx.send(change("file:///b.sql", 9, "x")).unwrap();
        let (merged, next) = coalesce_changes(change("file:///a.sql", 1, "a"), &rx);
        let Message::Notification(merged) = merged else {
            panic!("a notification")
        };
        assert_eq!(merged.params["contentChanges"].as_array().unwrap().len(), 1);
        assert!(next.is_some());
    }
}
