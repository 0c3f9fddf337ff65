//! JSON-RPC over stdio with `Content-Length` framing. Unlike a strict reader, a malformed
//! message does not end the session: it is answered with a JSON-RPC error and skipped.

use std::io::{self, BufRead, Read, Write};
use std::thread;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use lsp_server::Message;
use serde_json::{json, Value};

/// Larger messages are discarded unread: no editor sends a document this big.
const MAX_MESSAGE_BYTES: usize = 512 << 20;

/// What the writer thread sends: a message, or a raw error answer to a message that could not
/// be decoded (its id may be unknown, which `lsp_server` types can't express).
pub enum Outgoing {
    Message(Message),
    Raw(Value),
    /// Diagnostics, serialized here rather than on the main loop: a document with hundreds of
    /// findings is published on every change, and going through a `Value` doubles the work.
    Publish(Box<lsp_types::PublishDiagnosticsParams>),
    /// Flush and stop: the reader may still hold a sender while it blocks on stdin.
    Close,
}

impl From<Message> for Outgoing {
    fn from(m: Message) -> Self {
        Outgoing::Message(m)
    }
}

pub struct Connection {
    pub receiver: Receiver<Message>,
    pub sender: Sender<Outgoing>,
}

pub struct IoThreads {
    reader: thread::JoinHandle<()>,
    writer: thread::JoinHandle<io::Result<()>>,
}

impl IoThreads {
    /// Waits for the writer to flush everything; the reader may still block on stdin, so it is
    /// left to end with the process.
    pub fn join_writer(self, sender: &Sender<Outgoing>) -> io::Result<()> {
        drop(self.reader);
        let _ = sender.send(Outgoing::Close);
        self.writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")))
    }
}

pub fn stdio() -> (Connection, IoThreads) {
    let (out_tx, out_rx) = unbounded::<Outgoing>();
    let writer = thread::Builder::new()
        .name("lsp-writer".into())
        .spawn(move || {
            let stdout = io::stdout();
            let mut w = stdout.lock();
            for msg in out_rx {
                match msg {
                    Outgoing::Message(m) => m.write(&mut w)?,
                    Outgoing::Raw(v) => write_raw(&mut w, &v)?,
                    Outgoing::Publish(params) => write_notification(
                        &mut w,
                        <lsp_types::notification::PublishDiagnostics as lsp_types::notification::Notification>::METHOD,
                        &params,
                    )?,
                    Outgoing::Close => break,
                }
            }
            w.flush()
        })
        .expect("can spawn the writer thread");
    let (in_tx, in_rx) = bounded::<Message>(1024);
    let errors = out_tx.clone();
    let reader = thread::Builder::new()
        .name("lsp-reader".into())
        .spawn(move || {
            let stdin = io::stdin();
            read_loop(&mut stdin.lock(), &in_tx, &errors);
        })
        .expect("can spawn the reader thread");
    (
        Connection {
            receiver: in_rx,
            sender: out_tx,
        },
        IoThreads { reader, writer },
    )
}

fn write_raw(w: &mut impl Write, v: &Value) -> io::Result<()> {
    let body = serde_json::to_string(v)?;
    write!(w, "Content-Length: {}\r\n\r\n{}", body.len(), body)?;
    w.flush()
}

fn write_notification(
    w: &mut impl Write,
    method: &str,
    params: &impl serde::Serialize,
) -> io::Result<()> {
    #[derive(serde::Serialize)]
    struct Notification<'a, P> {
        jsonrpc: &'static str,
        method: &'a str,
        params: &'a P,
    }
    let body = serde_json::to_string(&Notification {
        jsonrpc: "2.0",
        method,
        params,
    })?;
    write!(w, "Content-Length: {}\r\n\r\n{}", body.len(), body)?;
    w.flush()
}

/// Reads messages until end of input. Returns when stdin closes or the receiver is gone.
pub fn read_loop(input: &mut impl BufRead, tx: &Sender<Message>, errors: &Sender<Outgoing>) {
    loop {
        match read_frame(input) {
            Ok(None) => return,
            Ok(Some(Frame::Body(body))) => match decode(&body) {
                Ok(msg) => {
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
                Err(answer) => {
                    let _ = errors.send(Outgoing::Raw(answer));
                }
            },
            Ok(Some(Frame::Bad(reason))) => {
                tracing::error!("dropped a malformed message: {reason}");
                let _ = errors.send(Outgoing::Raw(error_answer(Value::Null, -32700, &reason)));
            }
            Err(e) => {
                tracing::error!("cannot read from the client: {e}");
                return;
            }
        }
    }
}

enum Frame {
    Body(Vec<u8>),
    Bad(String),
}

fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Frame>> {
    let mut length: Option<usize> = None;
    let mut bad_header = None;
    let mut saw_header = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            continue; // stray blank lines between messages
        }
        saw_header = true;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse() {
                    Ok(n) => length = Some(n),
                    Err(_) => {
                        bad_header = Some(format!("invalid Content-Length {:?}", value.trim()))
                    }
                }
            }
            Some(_) => {} // Content-Type and unknown headers are allowed
            None => bad_header = Some(format!("invalid header line {text:?}")),
        }
    }
    if let Some(reason) = bad_header {
        return Ok(Some(Frame::Bad(reason)));
    }
    let Some(length) = length else {
        return Ok(Some(Frame::Bad("missing Content-Length header".into())));
    };
    if length > MAX_MESSAGE_BYTES {
        io::copy(&mut input.take(length as u64), &mut io::sink())?;
        return Ok(Some(Frame::Bad(format!(
            "message of {length} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit"
        ))));
    }
    let mut body = Vec::with_capacity(length.min(1 << 20));
    input.take(length as u64).read_to_end(&mut body)?;
    if body.len() < length {
        return Ok(None);
    }
    Ok(Some(Frame::Body(body)))
}

/// Decodes a message body, or builds the JSON-RPC error answer for it. The shape is checked
/// here because an untagged decode would read any object with an `id` as a response.
fn decode(body: &[u8]) -> Result<Message, Value> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        tracing::error!("dropped a message that is not JSON: {e}");
        error_answer(Value::Null, -32700, &format!("parse error: {e}"))
    })?;
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    let invalid = |why: String| {
        tracing::error!("dropped an invalid JSON-RPC message: {why}");
        error_answer(id.clone(), -32600, &format!("invalid request: {why}"))
    };
    let Some(object) = value.as_object() else {
        return Err(invalid("a message is a JSON object".into()));
    };
    let has_method = object.contains_key("method");
    if has_method && !object["method"].is_string() {
        return Err(invalid("`method` must be a string".into()));
    }
    if !(has_method || object.contains_key("result") || object.contains_key("error")) {
        return Err(invalid(
            "neither a request, a notification nor a response".into(),
        ));
    }
    if object
        .get("id")
        .is_some_and(|id| !(id.is_string() || id.is_i64()))
    {
        return Err(invalid("`id` must be a string or an integer".into()));
    }
    if has_method && object.contains_key("id") {
        return serde_json::from_value(value.clone())
            .map(Message::Request)
            .map_err(|e| invalid(e.to_string()));
    }
    if has_method {
        return serde_json::from_value(value.clone())
            .map(Message::Notification)
            .map_err(|e| invalid(e.to_string()));
    }
    serde_json::from_value(value.clone())
        .map(Message::Response)
        .map_err(|e| invalid(e.to_string()))
}

fn error_answer(id: Value, code: i32, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> (Vec<Message>, Vec<Value>) {
        let (tx, rx) = unbounded();
        let (etx, erx) = unbounded();
        read_loop(&mut io::Cursor::new(input.as_bytes().to_vec()), &tx, &etx);
        drop((tx, etx));
        let errors = erx.iter().map(|o| match o {
            Outgoing::Raw(v) => v,
            _ => panic!("only raw errors expected"),
        });
        (rx.iter().collect(), errors.collect())
    }

    fn framed(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{}", body.len(), body)
    }

    #[test]
    fn malformed_messages_are_answered_and_reading_goes_on() {
        let good = r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        let input = [
            framed("{not json"),
            framed(r#"{"jsonrpc":"2.0","id":7,"method":42}"#),
            "Content-Length: abc\r\n\r\n".to_string(),
            framed(good),
        ]
        .concat();
        let (msgs, errors) = frames(&input);
        assert_eq!(msgs.len(), 1);
        assert_eq!(errors.len(), 3);
        assert_eq!(errors[0]["error"]["code"], -32700);
        assert_eq!(errors[1]["id"], 7);
        assert_eq!(errors[1]["error"]["code"], -32600);
    }

    #[test]
    fn a_truncated_message_ends_the_stream_quietly() {
        let (msgs, errors) = frames("Content-Length: 100\r\n\r\n{\"jsonrpc\"");
        assert!(msgs.is_empty() && errors.is_empty());
    }
}
