//! The language server: one thread reads messages, the main loop handles them strictly in
//! arrival order (so `didChange` edits can never be reordered), a writer thread sends replies.
//!
//! Handlers are thin: they decode parameters, call the [`Session`], and encode the result.
//! A panic in a handler is caught and answered as an error; it never takes the server down.

mod convert;
mod notifications;
mod requests;
pub mod session;
pub mod transport;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crossbeam_channel::Sender;
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{PublishDiagnostics, ShowMessage};
use lsp_types::{MessageType, ShowMessageParams, Url};

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
            self.notify::<PublishDiagnostics>(params);
        }
    }

    /// Tells the user about configuration or ledger problems the session ran into.
    pub fn flush_notices(&self, session: &mut Session) {
        for notice in session.notices.drain(..) {
            tracing::warn!("{notice}");
            self.show_message(MessageType::WARNING, notice);
        }
    }
}

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
    };
    let mut code = 1;
    for message in &connection.receiver {
        let flow = catch_unwind(AssertUnwindSafe(|| state.handle(&client, message.clone())));
        match flow {
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
                if let Message::Request(req) = message {
                    client.send(Message::Response(Response::new_err(
                        req.id,
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

struct State {
    session: Option<Session>,
    shutdown: bool,
    rules: Arc<RuleSet>,
}

impl State {
    fn handle(&mut self, client: &Client, message: Message) -> Flow {
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
