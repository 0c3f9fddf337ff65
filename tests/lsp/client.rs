//! A small LSP client that drives the real `countersign lsp` binary over stdio.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(20);
/// Appended to the captured stderr when the server closes it.
const LOG_END: &str = "\n<end of stderr>";

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications seen while waiting for something else.
    pub notifications: Vec<Value>,
    /// What the server wrote to stderr so far.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Client {
    pub fn start(cwd: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
            .args(["lsp", "--stdio"])
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the countersign binary starts");
        let stdin = child.stdin.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
            sink.lock().unwrap().push_str(LOG_END);
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        length = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("server sends Content-Length")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let value: Value = serde_json::from_slice(&body).expect("server sends JSON");
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin: Some(stdin),
            incoming,
            next_id: 0,
            notifications: Vec::new(),
            log,
        }
    }

    /// Starts and initializes the server, offering `encodings` (None: no preference sent).
    pub fn initialized(root: &Path, encodings: Option<&[&str]>) -> (Client, Value) {
        let mut capabilities = json!({});
        if let Some(enc) = encodings {
            capabilities["general"] = json!({ "positionEncodings": enc });
        }
        Client::initialized_with(root, capabilities)
    }

    /// Starts and initializes the server with these client capabilities.
    pub fn initialized_with(root: &Path, capabilities: Value) -> (Client, Value) {
        Client::initialized_with_options(root, capabilities, Value::Null)
    }

    /// Starts and initializes the server with these capabilities and `initializationOptions`.
    pub fn initialized_with_options(
        root: &Path,
        capabilities: Value,
        options: Value,
    ) -> (Client, Value) {
        let mut client = Client::start(root);
        let uri = url(root);
        let mut params = json!({"processId": null, "rootUri": uri, "capabilities": capabilities,
                   "workspaceFolders": [{"uri": uri, "name": "ws"}]});
        if !options.is_null() {
            params["initializationOptions"] = options;
        }
        let result = client.request("initialize", params);
        client.notify("initialized", json!({}));
        (client, result)
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("input is open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_string(message).unwrap();
        self.send_raw(format!("Content-Length: {}\r\n\r\n{}", body.len(), body).as_bytes());
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns the whole response message.
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none())
    }

    /// Sends a request and returns its result; panics on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// Takes the first message matching `pred`, from those already seen or else waiting for it;
    /// other messages are kept in `notifications`.
    pub fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.notifications.iter().position(&pred) {
            return self.notifications.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(m) if pred(&m) => return m,
                Ok(m) => self.notifications.push(m),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out; seen: {:#?}", self.notifications)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("server exited; seen: {:#?}", self.notifications)
                }
            }
        }
    }

    /// Waits for diagnostics of `uri` at `version` and returns them.
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let m = self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }

    pub fn open(&mut self, uri: &str, language: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 0, "text": text}}),
        );
    }

    pub fn change(&mut self, uri: &str, version: i64, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
        );
    }

    /// The server's whole stderr, once it has exited.
    pub fn final_log(&self) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let log = self.log.lock().unwrap().clone();
            if let Some(log) = log.strip_suffix(LOG_END) {
                return log.to_string();
            }
            assert!(Instant::now() < deadline, "stderr did not close");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Shuts down cleanly and returns the exit code.
    pub fn shutdown(mut self) -> i32 {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.wait_exit()
    }

    pub fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Closes the server's input, as a client that dies without `shutdown` does.
    pub fn close_input(&mut self) {
        self.stdin.take();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn url(path: &Path) -> String {
    format!("file://{}", path.display())
}

pub fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

/// A real git repository in a temporary folder.
pub fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ok = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap()
        .success();
    assert!(ok, "git init");
    for (k, v) in [
        ("user.name", "Dev Eloper"),
        ("user.email", "dev@example.com"),
    ] {
        Command::new("git")
            .args(["config", k, v])
            .current_dir(dir.path())
            .status()
            .unwrap();
    }
    dir
}
