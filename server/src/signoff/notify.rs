//! Tells reviewers about sign-off requests and approvals: a webhook POST and/or a command, as
//! `[signoff.notify]` in `countersign.toml` configures. Without either, the ledger alone speaks.
//!
//! Invariant: a notice is never lost. A target that fails leaves one file per notice and target
//! in the outbox (written atomically); `retry` claims a file by renaming it before sending, so
//! two processes retrying at once do not both send it, and a claim left behind by a process
//! that died mid-delivery goes back to the queue once it is stale.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Seconds a webhook or command gets when `timeout_secs` is 0 or absent.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

/// Marks an outbox file a process is delivering: `<queued name><CLAIM_MARK><unix secs>-<pid>-<n>`.
const CLAIM_MARK: &str = ".claimed-";

/// A claim older than this (plus twice the timeout) belongs to a process that died between
/// claiming and finishing; the notice goes back to the queue. A delivery that did go out just
/// before the crash is then sent again: a duplicate, never a loss.
const STALE_CLAIM: Duration = Duration::from_secs(5 * 60);

/// How much of a failing webhook's answer or command's stderr is read for the message.
const REASON_BYTES: u64 = 4096;

/// `[signoff.notify]`: who hears about sign-off requests and approvals.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Where to POST: a Slack incoming webhook or any HTTP(S) endpoint. Failure messages show
    /// only its scheme and host, as the rest of a webhook URL is usually its secret.
    pub webhook: Option<String>,
    /// `slack` (default): `{"text": "…"}`, as Slack-, Mattermost- and Teams-compatible incoming
    /// webhooks expect; `json`: the generic payload `{"event": …, "request": {…}, "text": …}`.
    pub format: WebhookFormat,
    /// A command run with `sh -c` in the current directory, the generic JSON payload on stdin
    /// and the summary in `$COUNTERSIGN_TEXT` (the event in `$COUNTERSIGN_EVENT`).
    pub command: Option<String>,
    /// Seconds before a webhook or command counts as failed; 0 or absent: 10.
    pub timeout_secs: u64,
}

impl NotifyConfig {
    /// How long a webhook or command may take.
    pub fn timeout(&self) -> Duration {
        match self.timeout_secs {
            0 => Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            secs => Duration::from_secs(secs),
        }
    }
}

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// `{"text": "…"}`.
    #[default]
    Slack,
    /// The whole [`Notice`].
    Json,
}

/// What happened, for the webhook and the command. Serialized, it is the generic payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `requested` or `approved`.
    pub event: String,
    /// The request file's JSON.
    pub request: serde_json::Value,
    /// A one-line summary for people, e.g. "Sign-off requested: sql/drop-table in db/m.sql:3
    /// (written by claude-code (hook)) by Dev <dev@example.com>".
    pub text: String,
}

/// Where a notice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Target {
    Webhook,
    Command,
}

impl Target {
    const ALL: [Target; 2] = [Target::Webhook, Target::Command];

    fn name(self) -> &'static str {
        match self {
            Target::Webhook => "webhook",
            Target::Command => "command",
        }
    }

    /// The configured URL or command; a blank one counts as none.
    fn spec(self, config: &NotifyConfig) -> Option<&str> {
        match self {
            Target::Webhook => config.webhook.as_deref(),
            Target::Command => config.command.as_deref(),
        }
        .filter(|s| !s.trim().is_empty())
    }

    /// How messages name the target without leaking a webhook's secret path or a command's
    /// arguments (which may carry a token).
    fn describe(self, spec: &str) -> String {
        match self {
            Target::Webhook => format!("webhook {}", redact_url(spec)),
            Target::Command => {
                let mut words = spec.split_whitespace();
                let first = words.next().unwrap_or_default();
                let more = if words.next().is_some() { " …" } else { "" };
                format!("command `{first}{more}`")
            }
        }
    }

    fn deliver(self, spec: &str, config: &NotifyConfig, notice: &Notice) -> Result<(), String> {
        match self {
            Target::Webhook => post(spec, config.format, config.timeout(), notice),
            Target::Command => run(spec, config.timeout(), notice),
        }
    }
}

/// An outbox file: one notice that one target has not received yet.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Queued {
    version: u32,
    target: Target,
    /// RFC 3339 UTC timestamp of the first failure.
    queued_at: String,
    /// Deliveries tried so far, all failed.
    attempts: u32,
    last_error: String,
    notice: Notice,
}

/// Notices that could not be delivered yet, one JSON file each, kept per clone (e.g.
/// `<git dir>/countersign/outbox`) so they are never committed.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: &Path) -> Outbox {
        Outbox {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Delivers `notice` to every configured target. A target that fails keeps the notice in
    /// the outbox (one file per notice and target, written atomically) and its failure is
    /// returned, e.g. "webhook http://127.0.0.1:8080/…: connection refused; will retry".
    pub fn send(&self, config: &NotifyConfig, notice: &Notice) -> Vec<String> {
        let mut failures = Vec::new();
        for target in Target::ALL {
            let Some(spec) = target.spec(config) else {
                continue;
            };
            let Err(why) = target.deliver(spec, config, notice) else {
                tracing::debug!("{} notified of {}", target.describe(spec), notice.event);
                continue;
            };
            let queued = Queued {
                version: 1,
                target,
                queued_at: jiff::Timestamp::now().to_string(),
                attempts: 1,
                last_error: why.clone(),
                notice: notice.clone(),
            };
            let what = target.describe(spec);
            failures.push(match self.enqueue(&queued) {
                Ok(_) => format!("{what}: {why}; will retry"),
                Err(e) => format!(
                    "{what}: {why}; and it cannot be kept for a retry in {}: {e}; this notice is lost",
                    self.dir.display()
                ),
            });
        }
        failures
    }

    /// Retries everything in the outbox, oldest first, with the targets configured now (so a
    /// corrected URL applies to queued notices too). Delivered notices are removed. A notice
    /// whose target is no longer configured is kept and reported, never dropped: configure the
    /// target again or delete the file. Returns how many were delivered and what still fails.
    ///
    /// Safe with several processes retrying at once: each file is claimed by renaming it
    /// before it is sent, so only one of them sends it.
    pub fn retry(&self, config: &NotifyConfig) -> (usize, Vec<String>) {
        let mut failures = Vec::new();
        let names = match self.names() {
            Ok(names) => names,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (0, failures),
            Err(e) => {
                failures.push(format!(
                    "cannot read the notification outbox {}: {e}",
                    self.dir.display()
                ));
                return (0, failures);
            }
        };
        let stale = STALE_CLAIM + 2 * config.timeout();
        let mut queued: Vec<String> = Vec::new();
        for name in names {
            match split_claim(&name) {
                None if is_queued_name(&name) => queued.push(name),
                None => {}
                Some((original, claimed_at)) => {
                    if now_secs().saturating_sub(claimed_at) < stale.as_secs() {
                        continue;
                    }
                    // Its process died mid-delivery; whoever renames it back first requeues it.
                    if std::fs::rename(self.dir.join(&name), self.dir.join(original)).is_ok() {
                        queued.push(original.to_string());
                    }
                }
            }
        }
        queued.sort();
        queued.dedup();

        let mut delivered = 0;
        for name in queued {
            let path = self.dir.join(&name);
            let claimed = self.dir.join(format!(
                "{name}{CLAIM_MARK}{}-{}-{}",
                now_secs(),
                std::process::id(),
                next_seq()
            ));
            match std::fs::rename(&path, &claimed) {
                Ok(()) => {}
                // Another process claimed (and maybe delivered) it since we listed the folder.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    failures.push(format!(
                        "{}: cannot claim it for a retry: {e}",
                        path.display()
                    ));
                    continue;
                }
            }
            let give_back = || {
                if let Err(e) = std::fs::rename(&claimed, &path) {
                    tracing::warn!(
                        "cannot return {} to the outbox ({e}); it is retried once its claim is stale",
                        claimed.display()
                    );
                }
            };
            let mut entry = match read_queued(&claimed) {
                Ok(entry) => entry,
                Err(why) => {
                    give_back();
                    failures.push(format!(
                        "{}: not a queued notice ({why}); left in place, delete it if it is not needed",
                        path.display()
                    ));
                    continue;
                }
            };
            let target = entry.target;
            let Some(spec) = target.spec(config) else {
                give_back();
                failures.push(format!(
                    "{}: queued for a {}, but [signoff.notify] has none now; kept (configure one \
                     again, or delete the file to drop the notice)",
                    path.display(),
                    target.name()
                ));
                continue;
            };
            let what = target.describe(spec);
            match target.deliver(spec, config, &entry.notice) {
                Ok(()) => {
                    delivered += 1;
                    tracing::debug!("{what} notified of {} from the outbox", entry.notice.event);
                    if let Err(e) = std::fs::remove_file(&claimed) {
                        tracing::warn!("delivered, but cannot remove {}: {e}", claimed.display());
                    }
                }
                Err(why) => {
                    entry.attempts += 1;
                    entry.last_error = why.clone();
                    // Update in place: write the new copy under the queued name, then drop the
                    // claim. A crash in between leaves a claim that later replaces the copy
                    // under the same name, so the notice is never doubled.
                    match self.write_atomically(&path, &entry) {
                        Ok(()) => {
                            if let Err(e) = std::fs::remove_file(&claimed) {
                                tracing::warn!("cannot remove {}: {e}", claimed.display());
                            }
                        }
                        Err(e) => {
                            tracing::warn!("cannot update {}: {e}", path.display());
                            give_back();
                        }
                    }
                    failures.push(format!(
                        "{what}: {why}; will retry ({} attempts so far)",
                        entry.attempts
                    ));
                }
            }
        }
        (delivered, failures)
    }

    /// Notices waiting in the outbox, including those a retry is delivering right now.
    pub fn pending(&self) -> usize {
        self.names().map_or(0, |names| {
            names
                .iter()
                .filter(|n| is_queued_name(n) || split_claim(n).is_some())
                .count()
        })
    }

    fn names(&self) -> std::io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            if let Ok(name) = entry?.file_name().into_string() {
                if !name.starts_with('.') {
                    names.push(name);
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Adds a file named so that names sort oldest first and never collide:
    /// `<unix millis>-<pid>-<n>-<event>-<target>.json`.
    fn enqueue(&self, entry: &Queued) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let event: String = entry
            .notice
            .event
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(20)
            .collect();
        let name = format!(
            "{millis:013}-{}-{}-{event}-{}.json",
            std::process::id(),
            next_seq(),
            entry.target.name()
        );
        let path = self.dir.join(name);
        self.write_atomically(&path, entry)?;
        Ok(path)
    }

    /// Temp file in the outbox + rename, so a reader sees a whole file or none.
    fn write_atomically(&self, path: &Path, entry: &Queued) -> std::io::Result<()> {
        let mut tmp = tempfile::Builder::new()
            .prefix(".notice-")
            .suffix(".tmp")
            .tempfile_in(&self.dir)?;
        let mut body = serde_json::to_vec_pretty(entry).map_err(std::io::Error::other)?;
        body.push(b'\n');
        tmp.write_all(&body)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

fn is_queued_name(name: &str) -> bool {
    name.ends_with(".json") && !name.starts_with('.')
}

/// `(queued name, unix secs of the claim)` if `name` is a claim.
fn split_claim(name: &str) -> Option<(&str, u64)> {
    let (original, rest) = name.rsplit_once(CLAIM_MARK)?;
    let secs = rest.split('-').next()?.parse().ok()?;
    is_queued_name(original).then_some((original, secs))
}

fn read_queued(path: &Path) -> Result<Queued, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Distinguishes names made by one process within one millisecond.
fn next_seq() -> u64 {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// POSTs the payload; anything but a 2xx answer is a failure. Redirects are not followed: a
/// POST turned into a GET would look delivered without being so.
fn post(
    url: &str,
    format: WebhookFormat,
    timeout: Duration,
    notice: &Notice,
) -> Result<(), String> {
    let payload = match format {
        WebhookFormat::Slack => serde_json::json!({ "text": notice.text }),
        WebhookFormat::Json => serde_json::to_value(notice).map_err(|e| e.to_string())?,
    };
    let body = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("countersign/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    let mut response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(&body[..])
        .map_err(|e| http_failure(e, timeout))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let mut answer = Vec::new();
    let _ = response
        .body_mut()
        .as_reader()
        .take(REASON_BYTES)
        .read_to_end(&mut answer);
    Err(match first_line(&answer) {
        Some(line) => format!("HTTP {status}: {line}"),
        None => format!("HTTP {status}"),
    })
}

fn http_failure(error: ureq::Error, timeout: Duration) -> String {
    match error {
        ureq::Error::Io(e) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::ConnectionReset => "connection reset".into(),
            std::io::ErrorKind::TimedOut => format!("no answer within {}s", timeout.as_secs()),
            _ => e.to_string(),
        },
        ureq::Error::Timeout(_) => format!("no answer within {}s", timeout.as_secs()),
        ureq::Error::HostNotFound => "host not found".into(),
        // Its text would repeat the URL, secret path included.
        ureq::Error::BadUri(_) => "not a valid http(s) URL; check [signoff.notify] webhook".into(),
        other => other.to_string(),
    }
}

/// Runs `sh -c command` with the generic payload on stdin; a non-zero exit or no exit within
/// `timeout` is a failure, reported with stderr's first line.
fn run(command: &str, timeout: Duration, notice: &Notice) -> Result<(), String> {
    let mut payload = serde_json::to_vec(notice).map_err(|e| e.to_string())?;
    payload.push(b'\n');
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("COUNTERSIGN_EVENT", &notice.event)
        .env("COUNTERSIGN_TEXT", &notice.text)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    // Both pipes are served by threads that are never joined: a command that ignores stdin,
    // or leaves a background child holding stderr, must not hang us past the timeout.
    if let Some(mut stdin) = child.stdin.take() {
        std::thread::spawn(move || {
            // A command that does not read its stdin is fine.
            let _ = stdin.write_all(&payload);
        });
    }
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(mut stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut head = Vec::new();
            let _ = (&mut stderr).take(REASON_BYTES).read_to_end(&mut head);
            let _ = tx.send(head);
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        });
    }
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no exit within {}s; stopped", timeout.as_secs()));
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
    };
    if status.success() {
        return Ok(());
    }
    let stderr = rx
        .recv_timeout(Duration::from_millis(500))
        .unwrap_or_default();
    let exit = exit_reason(status);
    Err(match first_line(&stderr) {
        Some(line) => format!("{exit}: {line}"),
        None => exit,
    })
}

fn exit_reason(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => format!("ended by {status}"),
    }
}

/// The first non-blank line of a program's output, trimmed and kept short.
fn first_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(if line.chars().count() > 200 {
        format!("{}…", line.chars().take(200).collect::<String>())
    } else {
        line.to_string()
    })
}

/// `scheme://host[:port]/…`: the path and query of a webhook URL are usually its secret.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".into();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if end < rest.len() {
        format!("{scheme}://{host}/…")
    } else {
        format!("{scheme}://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::{Arc, Barrier, Mutex};

    /// One request as the test server saw it.
    #[derive(Debug, Clone)]
    struct Seen {
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: serde_json::Value,
    }

    impl Seen {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    /// A real HTTP server on 127.0.0.1: answers the statuses in order (the last one for every
    /// request after) and records what it was sent.
    struct Hook {
        addr: SocketAddr,
        seen: Arc<Mutex<Vec<Seen>>>,
    }

    impl Hook {
        fn start(statuses: &[u16]) -> Hook {
            Hook::on(
                TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1"),
                statuses,
            )
        }

        fn on(listener: TcpListener, statuses: &[u16]) -> Hook {
            let addr = listener.local_addr().expect("listener address");
            let seen = Arc::new(Mutex::new(Vec::new()));
            let record = Arc::clone(&seen);
            let statuses = statuses.to_vec();
            std::thread::spawn(move || {
                for (n, stream) in listener.incoming().enumerate() {
                    let Ok(stream) = stream else { continue };
                    let status = statuses[n.min(statuses.len() - 1)];
                    answer(stream, status, &record);
                }
            });
            Hook { addr, seen }
        }

        fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.addr)
        }

        fn seen(&self) -> Vec<Seen> {
            self.seen.lock().expect("recorder lock").clone()
        }
    }

    /// Reads one request, records it, then answers: recorded before the client can see the
    /// answer, so a test may look at what was seen as soon as the delivery returns.
    fn answer(stream: TcpStream, status: u16, record: &Mutex<Vec<Seen>>) -> Option<()> {
        let mut reader = BufReader::new(stream.try_clone().ok()?);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let mut parts = line.split_whitespace();
        let method = parts.next()?.to_string();
        let path = parts.next()?.to_string();
        let mut headers = Vec::new();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':')?;
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().ok()?;
            }
            headers.push((name, value));
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        record.lock().expect("recorder lock").push(Seen {
            method,
            path,
            headers,
            body: serde_json::from_slice(&body).ok()?,
        });
        let text = if status == 200 { "ok" } else { "no_service" };
        let reply = format!(
            "HTTP/1.1 {status} Test\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        );
        (&stream).write_all(reply.as_bytes()).ok()
    }

    fn notice(text: &str) -> Notice {
        Notice {
            event: "requested".into(),
            request: serde_json::json!({
                "version": 1,
                "fingerprint": "3f2a9c",
                "rule": "sql/drop-table",
                "path": "db/m.sql",
                "line": 3,
                "status": "pending",
            }),
            text: text.into(),
        }
    }

    fn webhook(url: String, format: WebhookFormat) -> NotifyConfig {
        NotifyConfig {
            webhook: Some(url),
            format,
            timeout_secs: 5,
            ..NotifyConfig::default()
        }
    }

    fn command(command: String) -> NotifyConfig {
        NotifyConfig {
            command: Some(command),
            timeout_secs: 5,
            ..NotifyConfig::default()
        }
    }

    fn outbox() -> (tempfile::TempDir, Outbox) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let outbox = Outbox::new(&tmp.path().join("countersign/outbox"));
        (tmp, outbox)
    }

    fn queued_files(outbox: &Outbox) -> Vec<Queued> {
        outbox
            .names()
            .expect("outbox is readable")
            .iter()
            .map(|n| read_queued(&outbox.dir().join(n)).expect("a queued notice"))
            .collect()
    }

    #[test]
    fn config_reads_from_toml_with_a_default_timeout() {
        let config: NotifyConfig = toml::from_str(
            "webhook = \"https://hooks.slack.com/services/T0/B0/xyz\"\ncommand = \"notify-send Countersign\"",
        )
        .expect("valid config");
        assert_eq!(config.format, WebhookFormat::Slack);
        assert_eq!(config.timeout(), Duration::from_secs(DEFAULT_TIMEOUT_SECS));
        let json: NotifyConfig =
            toml::from_str("format = \"json\"\ntimeout_secs = 3").expect("valid config");
        assert_eq!(json.format, WebhookFormat::Json);
        assert_eq!(json.timeout(), Duration::from_secs(3));
        assert!(toml::from_str::<NotifyConfig>("url = \"x\"").is_err());
    }

    #[test]
    fn slack_webhook_receives_text_payload_as_json_post() {
        let hook = Hook::start(&[200]);
        let (_tmp, outbox) = outbox();
        let config = webhook(hook.url("/services/T0/B0/xyz"), WebhookFormat::Slack);

        let failures = outbox.send(&config, &notice("Sign-off requested: sql/drop-table"));

        assert_eq!(failures, Vec::<String>::new());
        let seen = hook.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].path, "/services/T0/B0/xyz");
        assert_eq!(seen[0].header("content-type"), Some("application/json"));
        assert_eq!(
            seen[0].body,
            serde_json::json!({"text": "Sign-off requested: sql/drop-table"})
        );
        assert_eq!(outbox.pending(), 0);
    }

    #[test]
    fn json_webhook_receives_event_request_and_text() {
        let hook = Hook::start(&[200]);
        let (_tmp, outbox) = outbox();
        let config = webhook(hook.url("/countersign"), WebhookFormat::Json);
        let sent = notice("Sign-off requested: sql/drop-table in db/m.sql:3");

        assert!(outbox.send(&config, &sent).is_empty());

        let seen = hook.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            seen[0].body,
            serde_json::json!({
                "event": "requested",
                "request": sent.request,
                "text": "Sign-off requested: sql/drop-table in db/m.sql:3",
            })
        );
    }

    #[test]
    fn webhook_answering_500_keeps_the_notice_and_says_why() {
        let hook = Hook::start(&[500]);
        let (_tmp, outbox) = outbox();
        let config = webhook(hook.url("/services/T0/B0/SECRET"), WebhookFormat::Slack);

        let failures = outbox.send(&config, &notice("requested"));

        assert_eq!(failures.len(), 1, "{failures:?}");
        let failure = &failures[0];
        assert!(failure.starts_with(&format!("webhook http://{}/…: HTTP 500", hook.addr)));
        assert!(failure.contains("no_service"), "{failure}");
        assert!(failure.ends_with("will retry"), "{failure}");
        assert!(
            !failure.contains("SECRET"),
            "the webhook's secret leaked: {failure}"
        );
        assert_eq!(outbox.pending(), 1);
        let queued = queued_files(&outbox);
        assert_eq!(queued[0].target, Target::Webhook);
        assert_eq!(queued[0].attempts, 1);
        assert_eq!(queued[0].notice, notice("requested"));
        assert!(queued[0].last_error.contains("HTTP 500"));
    }

    #[test]
    fn webhook_that_is_down_is_retried_once_it_is_up() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("listener address");
        drop(listener);
        let (_tmp, outbox) = outbox();
        let config = webhook(format!("http://{addr}/hook"), WebhookFormat::Slack);

        let failures = outbox.send(&config, &notice("while down"));
        assert_eq!(
            failures,
            vec![format!(
                "webhook http://{addr}/…: connection refused; will retry"
            )]
        );
        assert_eq!(outbox.pending(), 1);

        // Nothing else listens there: the port was just ours.
        let hook = Hook::on(
            TcpListener::bind(addr).expect("the port we just released"),
            &[200],
        );
        let (delivered, failures) = outbox.retry(&config);

        assert_eq!((delivered, failures), (1, Vec::new()));
        assert_eq!(outbox.pending(), 0);
        let seen = hook.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].body, serde_json::json!({"text": "while down"}));
    }

    #[test]
    fn webhook_that_recovers_gets_the_queued_notice_on_retry() {
        let hook = Hook::start(&[503, 503, 200]);
        let (_tmp, outbox) = outbox();
        let config = webhook(hook.url("/hook"), WebhookFormat::Json);

        assert_eq!(outbox.send(&config, &notice("flaky")).len(), 1);
        let (delivered, failures) = outbox.retry(&config);
        assert_eq!(delivered, 0);
        assert_eq!(failures.len(), 1);
        assert!(failures[0].contains("HTTP 503"), "{failures:?}");
        assert!(failures[0].contains("2 attempts so far"), "{failures:?}");
        assert_eq!(queued_files(&outbox)[0].attempts, 2);

        assert_eq!(outbox.retry(&config), (1, Vec::new()));
        assert_eq!(outbox.pending(), 0);
        assert_eq!(hook.seen().len(), 3);
        assert_eq!(hook.seen()[2].body["text"], "flaky");
    }

    #[test]
    fn command_receives_the_json_payload_on_stdin() {
        let (tmp, outbox) = outbox();
        let got = tmp.path().join("got.json");
        let env = tmp.path().join("env.txt");
        let config = command(format!(
            "cat > '{}'; printf '%s|%s' \"$COUNTERSIGN_EVENT\" \"$COUNTERSIGN_TEXT\" > '{}'",
            got.display(),
            env.display()
        ));
        let sent = notice("Sign-off requested: sql/drop-table");

        assert_eq!(outbox.send(&config, &sent), Vec::<String>::new());

        let payload: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&got).expect("the command wrote its stdin"))
                .expect("stdin was JSON");
        assert_eq!(payload, serde_json::to_value(&sent).expect("serializes"));
        assert_eq!(
            std::fs::read_to_string(&env).expect("the command wrote its environment"),
            "requested|Sign-off requested: sql/drop-table"
        );
        assert_eq!(outbox.pending(), 0);
    }

    #[test]
    fn failing_command_is_queued_with_its_reason() {
        let (_tmp, outbox) = outbox();
        let config = command("echo 'pager: no route to on-call' >&2; exit 3".into());

        let failures = outbox.send(&config, &notice("requested"));

        assert_eq!(
            failures,
            vec![
                "command `echo …`: exited with status 3: pager: no route to on-call; will retry"
                    .to_string()
            ]
        );
        let queued = queued_files(&outbox);
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].target, Target::Command);
        assert_eq!(
            queued[0].last_error,
            "exited with status 3: pager: no route to on-call"
        );
    }

    #[test]
    fn command_that_hangs_is_stopped_at_the_timeout_and_queued() {
        let (_tmp, outbox) = outbox();
        let config = NotifyConfig {
            timeout_secs: 1,
            ..command("sleep 30".into())
        };
        let started = Instant::now();

        let failures = outbox.send(&config, &notice("requested"));

        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(
            failures,
            vec!["command `sleep …`: no exit within 1s; stopped; will retry".to_string()]
        );
        assert_eq!(outbox.pending(), 1);
    }

    #[test]
    fn each_failing_target_keeps_its_own_copy() {
        let hook = Hook::start(&[500, 200]);
        let (tmp, outbox) = outbox();
        let got = tmp.path().join("got.json");
        let config = NotifyConfig {
            command: Some("exit 1".into()),
            ..webhook(hook.url("/hook"), WebhookFormat::Slack)
        };

        assert_eq!(outbox.send(&config, &notice("both")).len(), 2);
        assert_eq!(outbox.pending(), 2);

        // The command is fixed; the webhook recovered on its own.
        let fixed = NotifyConfig {
            command: Some(format!("cat > '{}'", got.display())),
            ..config
        };
        assert_eq!(outbox.retry(&fixed), (2, Vec::new()));
        assert_eq!(outbox.pending(), 0);
        assert_eq!(hook.seen().len(), 2);
        assert!(got.exists());
    }

    #[test]
    fn notice_for_a_target_no_longer_configured_is_kept() {
        let hook = Hook::start(&[500]);
        let (_tmp, outbox) = outbox();
        let config = webhook(hook.url("/hook"), WebhookFormat::Slack);
        assert_eq!(outbox.send(&config, &notice("orphan")).len(), 1);

        let (delivered, failures) = outbox.retry(&command("true".into()));

        assert_eq!(delivered, 0);
        assert_eq!(failures.len(), 1);
        assert!(
            failures[0].contains("queued for a webhook, but [signoff.notify] has none now"),
            "{failures:?}"
        );
        assert_eq!(outbox.pending(), 1);
        assert_eq!(queued_files(&outbox)[0].attempts, 1);
    }

    #[test]
    fn concurrent_retries_deliver_each_notice_exactly_once() {
        let (_tmp, outbox) = outbox();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let down = webhook(
            format!("http://{}/hook", listener.local_addr().expect("address")),
            WebhookFormat::Json,
        );
        drop(listener);
        let count = 24;
        for n in 0..count {
            assert_eq!(outbox.send(&down, &notice(&format!("notice {n}"))).len(), 1);
        }
        assert_eq!(outbox.pending(), count);

        let hook = Hook::start(&[200]);
        let up = webhook(hook.url("/hook"), WebhookFormat::Json);
        let barrier = Barrier::new(2);
        let delivered: usize = std::thread::scope(|s| {
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        outbox.retry(&up)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    let (delivered, failures) = w.join().expect("retry thread");
                    assert_eq!(failures, Vec::<String>::new());
                    delivered
                })
                .sum()
        });

        assert_eq!(delivered, count);
        assert_eq!(outbox.pending(), 0);
        let mut texts: Vec<String> = hook
            .seen()
            .iter()
            .map(|s| s.body["text"].as_str().unwrap_or_default().to_string())
            .collect();
        texts.sort();
        let mut expected: Vec<String> = (0..count).map(|n| format!("notice {n}")).collect();
        expected.sort();
        assert_eq!(texts, expected);
    }

    #[test]
    fn claim_abandoned_by_a_dead_process_goes_back_to_the_queue() {
        let hook = Hook::start(&[500, 200]);
        let (_tmp, outbox) = outbox();
        let config = webhook(hook.url("/hook"), WebhookFormat::Slack);
        assert_eq!(outbox.send(&config, &notice("abandoned")).len(), 1);
        let name = outbox.names().expect("outbox")[0].clone();
        let long_ago = now_secs() - 3600;
        std::fs::rename(
            outbox.dir().join(&name),
            outbox
                .dir()
                .join(format!("{name}{CLAIM_MARK}{long_ago}-99999-0")),
        )
        .expect("claim");
        assert_eq!(outbox.pending(), 1);

        assert_eq!(outbox.retry(&config), (1, Vec::new()));
        assert_eq!(outbox.pending(), 0);
    }

    #[test]
    fn fresh_claim_of_another_process_is_left_alone() {
        let hook = Hook::start(&[500, 200]);
        let (_tmp, outbox) = outbox();
        let config = webhook(hook.url("/hook"), WebhookFormat::Slack);
        assert_eq!(outbox.send(&config, &notice("in flight")).len(), 1);
        let name = outbox.names().expect("outbox")[0].clone();
        std::fs::rename(
            outbox.dir().join(&name),
            outbox
                .dir()
                .join(format!("{name}{CLAIM_MARK}{}-99999-0", now_secs())),
        )
        .expect("claim");

        assert_eq!(outbox.retry(&config), (0, Vec::new()));
        assert_eq!(outbox.pending(), 1);
        assert_eq!(hook.seen().len(), 1);
    }

    #[test]
    fn unreadable_outbox_file_is_reported_and_left_in_place() {
        let (_tmp, outbox) = outbox();
        std::fs::create_dir_all(outbox.dir()).expect("outbox dir");
        std::fs::write(
            outbox
                .dir()
                .join("0000000000000-1-0-requested-webhook.json"),
            "{",
        )
        .expect("write");

        let (delivered, failures) = outbox.retry(&command("true".into()));

        assert_eq!(delivered, 0);
        assert_eq!(failures.len(), 1);
        assert!(failures[0].contains("not a queued notice"), "{failures:?}");
        assert_eq!(outbox.pending(), 1);
    }

    #[test]
    fn missing_outbox_has_nothing_pending() {
        let (_tmp, outbox) = outbox();
        assert_eq!(outbox.pending(), 0);
        assert_eq!(outbox.retry(&command("true".into())), (0, Vec::new()));
    }

    #[test]
    fn webhook_urls_are_shown_without_their_secret() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T0/B0/xyz"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact_url("https://user:pw@example.com:8443?token=x"),
            "https://example.com:8443/…"
        );
        assert_eq!(redact_url("http://example.com"), "http://example.com");
        assert_eq!(redact_url("hooks.slack.com/services/x"), "(not a URL)");
    }
}
