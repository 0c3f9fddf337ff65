//! What coding agents report through their hooks, turned into record entries: which file an
//! agent wrote and which lines of it are the agent's.
//!
//! Each agent's payload is read leniently (unknown fields ignored, missing ones tolerated), and
//! only the lines an edit added count: the context an edit repeats (`old_string` lines that
//! survive into `new_string`) stays with whoever wrote it.

use std::path::{Path, PathBuf};

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::record::{self, line_key, Entry, Record};
use super::{AiSource, Author};

/// One file an agent wrote, and the lines it added.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub file: PathBuf,
    pub agent: String,
    /// What reported it: `PostToolUse Edit`, `afterFileEdit`…
    pub detail: String,
    pub lines: Vec<String>,
}

/// Why a payload recorded nothing. Never an error for the agent: hooks log and exit 0.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Skip {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("no file path in the payload")]
    NoPath,
    #[error("{} is not inside a git repository", .0.display())]
    OutsideRepo(PathBuf),
}

/// The lines `new` adds to `old`, by a line diff.
pub fn added_lines(old: &str, new: &str) -> Vec<String> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .filter(|c| c.tag() == ChangeTag::Insert)
        .map(|c| c.value().to_string())
        .collect()
}

fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| v.get(*k).and_then(Value::as_str))
}

/// The `+` lines of a unified-diff-like `structuredPatch` (Claude Code's tool responses).
fn patch_additions(patch: &Value) -> Option<Vec<String>> {
    let hunks = patch.as_array()?;
    let mut out = Vec::new();
    for hunk in hunks {
        for line in hunk.get("lines")?.as_array()? {
            if let Some(added) = line.as_str().and_then(|l| l.strip_prefix('+')) {
                out.push(added.to_string());
            }
        }
    }
    Some(out)
}

/// `old_string`/`new_string` pairs, as Claude Code (Edit, MultiEdit), Cursor and Gemini send.
fn edit_pairs<'a>(edits: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    edits
        .into_iter()
        .flat_map(|e| {
            let old = str_at(e, &["old_string", "oldString"]).unwrap_or("");
            let new = str_at(e, &["new_string", "newString"]).unwrap_or("");
            added_lines(old, new)
        })
        .collect()
}

fn resolve(path: &str, cwd: Option<&str>) -> PathBuf {
    let p = Path::new(path);
    match cwd {
        Some(cwd) if p.is_relative() => Path::new(cwd).join(p),
        _ => p.to_path_buf(),
    }
}

fn parse(payload: &str) -> Result<Value, Skip> {
    serde_json::from_str(payload).map_err(|e| Skip::NotJson(e.to_string()))
}

/// Claude Code's PostToolUse payload for Edit, MultiEdit, Write and NotebookEdit.
pub fn claude_code(payload: &str) -> Result<Written, Skip> {
    let v = parse(payload)?;
    let tool = str_at(&v, &["tool_name"]).unwrap_or("");
    let input = v.get("tool_input").unwrap_or(&Value::Null);
    let response = v.get("tool_response").unwrap_or(&Value::Null);
    let path = str_at(input, &["file_path", "notebook_path"]).ok_or(Skip::NoPath)?;
    // The tool's own patch is what landed on disk (after `replace_all`, after the user
    // adjusted the edit); the input is the fallback.
    let from_patch = response.get("structuredPatch").and_then(patch_additions);
    let lines = match tool {
        "Edit" => from_patch.unwrap_or_else(|| edit_pairs([input])),
        "MultiEdit" => from_patch.unwrap_or_else(|| {
            let edits = input.get("edits").and_then(Value::as_array);
            edit_pairs(edits.into_iter().flatten())
        }),
        "Write" => match from_patch {
            Some(lines) if !lines.is_empty() => lines,
            _ => lines_of(str_at(input, &["content"]).unwrap_or("")),
        },
        "NotebookEdit" => lines_of(str_at(input, &["new_source"]).unwrap_or("")),
        other => {
            return Err(Skip::Unsupported(format!(
                "tool {other:?} does not write files"
            )))
        }
    };
    Ok(Written {
        file: resolve(path, str_at(&v, &["cwd"])),
        agent: "claude-code".into(),
        detail: format!("PostToolUse {tool}"),
        lines,
    })
}

/// Cursor's `afterFileEdit` payload.
pub fn cursor(payload: &str) -> Result<Written, Skip> {
    let v = parse(payload)?;
    let event = str_at(&v, &["hook_event_name"]).unwrap_or("afterFileEdit");
    if event != "afterFileEdit" {
        return Err(Skip::Unsupported(format!(
            "event {event:?} is not a file edit"
        )));
    }
    let path = str_at(&v, &["file_path"]).ok_or(Skip::NoPath)?;
    let edits = v.get("edits").and_then(Value::as_array);
    let lines = edit_pairs(edits.into_iter().flatten());
    let cwd = v
        .get("workspace_roots")
        .and_then(|r| r.get(0))
        .and_then(Value::as_str);
    Ok(Written {
        file: resolve(path, cwd),
        agent: "cursor".into(),
        detail: "afterFileEdit".into(),
        lines,
    })
}

/// Gemini CLI's `AfterTool` payload for its file tools (`write_file`, `replace`).
pub fn gemini(payload: &str) -> Result<Written, Skip> {
    let v = parse(payload)?;
    let tool = str_at(&v, &["tool_name"]).unwrap_or("");
    let input = v.get("tool_input").unwrap_or(&Value::Null);
    let path = str_at(input, &["file_path", "absolute_path", "path"]).ok_or(Skip::NoPath)?;
    let lines = match tool {
        "write_file" => lines_of(str_at(input, &["content"]).unwrap_or("")),
        "replace" | "edit" => edit_pairs([input]),
        other => {
            return Err(Skip::Unsupported(format!(
                "tool {other:?} does not write files"
            )))
        }
    };
    Ok(Written {
        file: resolve(path, str_at(&v, &["cwd"])),
        agent: "gemini".into(),
        detail: format!("AfterTool {tool}"),
        lines,
    })
}

fn lines_of(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// Records what an agent wrote in the record of the file's repository. Returns the record
/// written and how many identifiable lines it holds.
pub fn record(written: &Written) -> Result<(PathBuf, usize), Skip> {
    let file = crate::workspace::absolute(&written.file);
    let root = record::work_tree(&file).ok_or_else(|| Skip::OutsideRepo(file.clone()))?;
    let store = Record::for_root(&root).ok_or_else(|| Skip::OutsideRepo(file.clone()))?;
    let keys: Vec<String> = written.lines.iter().filter_map(|l| line_key(l)).collect();
    let author = Author::Ai {
        agent: written.agent.clone(),
        source: AiSource::Hook,
    };
    let rel = crate::workspace::relative_path(&root, &file);
    let n = keys.len();
    if n > 0 {
        store
            .append(&[Entry::new(&rel, &author, &written.detail, keys)])
            .map_err(|e| Skip::Unsupported(format!("{}: {e}", store.path().display())))?;
    }
    Ok((store.path(), n))
}

/// Where the last known content of each file is kept, for agents that report only that a
/// turn ended (Codex) and for `hook generic`.
const SNAPSHOTS: &str = "countersign/snapshots";

fn snapshot_path(git_dir: &Path, rel: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(rel.as_bytes());
    let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    git_dir.join(SNAPSHOTS).join(name)
}

/// The content `rel` had when last seen: the snapshot of the last hook run, else the staged
/// version, else the committed one, else nothing (a new file).
fn last_known(root: &Path, git_dir: &Path, rel: &str) -> String {
    if let Ok(text) = std::fs::read(snapshot_path(git_dir, rel)) {
        return String::from_utf8_lossy(&text).into_owned();
    }
    for spec in [format!(":{rel}"), format!("HEAD:{rel}")] {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["show", &spec])
            .stderr(std::process::Stdio::null())
            .output();
        if let Ok(out) = out {
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
        }
    }
    String::new()
}

/// What an agent wrote to `file` since it was last seen, by diffing it against its last known
/// content; remembers the content for next time.
pub fn diff_since_last_seen(file: &Path, agent: &str, detail: &str) -> Result<Written, Skip> {
    let file = crate::workspace::absolute(file);
    let root = record::work_tree(&file).ok_or_else(|| Skip::OutsideRepo(file.clone()))?;
    let git_dir = record::git_dir(&root).ok_or_else(|| Skip::OutsideRepo(file.clone()))?;
    let rel = crate::workspace::relative_path(&root, &file);
    let bytes =
        std::fs::read(&file).map_err(|e| Skip::Unsupported(format!("{}: {e}", file.display())))?;
    if bytes.contains(&0) {
        return Err(Skip::Unsupported(format!("{} is binary", file.display())));
    }
    let now = String::from_utf8_lossy(&bytes).into_owned();
    let before = last_known(&root, &git_dir, &rel);
    let lines = added_lines(&before, &now);
    let snapshot = snapshot_path(&git_dir, &rel);
    let saved = snapshot
        .parent()
        .map(std::fs::create_dir_all)
        .transpose()
        .and_then(|_| {
            let dir = snapshot.parent().unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            std::io::Write::write_all(&mut tmp, &bytes)?;
            tmp.persist(&snapshot).map_err(|e| e.error)?;
            Ok(())
        });
    if let Err(e) = saved {
        tracing::warn!("{}: snapshot not saved: {e}", snapshot.display());
    }
    Ok(Written {
        file,
        agent: agent.to_string(),
        detail: detail.to_string(),
        lines,
    })
}

/// Codex's `apply_patch` tool input: `*** Add File: p` / `*** Update File: p` sections whose
/// `+` lines are what the agent wrote.
fn codex_patch(v: &Value) -> Result<Vec<Written>, Skip> {
    let tool = str_at(v, &["tool_name"]).unwrap_or("");
    if tool != "apply_patch" {
        return Err(Skip::Unsupported(format!(
            "tool {tool:?} does not write files"
        )));
    }
    let input = v.get("tool_input").unwrap_or(&Value::Null);
    let patch = str_at(input, &["command", "patch", "input"])
        .or_else(|| input.as_str())
        .ok_or(Skip::NoPath)?;
    let cwd = str_at(v, &["cwd"]);
    let mut out: Vec<Written> = Vec::new();
    for line in patch.lines() {
        let header = ["*** Add File: ", "*** Update File: ", "*** Move to: "]
            .iter()
            .find_map(|h| line.strip_prefix(h));
        if let Some(path) = header {
            if line.starts_with("*** Move to: ") {
                if let Some(last) = out.last_mut() {
                    last.file = resolve(path.trim(), cwd);
                }
                continue;
            }
            out.push(Written {
                file: resolve(path.trim(), cwd),
                agent: "codex".into(),
                detail: "PostToolUse apply_patch".into(),
                lines: Vec::new(),
            });
        } else if line.starts_with("*** ") {
            continue;
        } else if let (Some(added), Some(current)) = (line.strip_prefix('+'), out.last_mut()) {
            current.lines.push(added.to_string());
        }
    }
    if out.is_empty() {
        return Err(Skip::NoPath);
    }
    Ok(out)
}

/// Codex's `notify` payload (passed as the last argument): at the end of each turn, every
/// file changed in the work tree since it was last seen is diffed against what it was.
///
/// Codex's `PostToolUse` hook for `apply_patch` names the files and lines itself: those are
/// recorded directly.
pub fn codex(payload: &str) -> Result<Vec<Written>, Skip> {
    let v = parse(payload)?;
    if str_at(&v, &["hook_event_name"]) == Some("PostToolUse") {
        return codex_patch(&v);
    }
    let kind = str_at(&v, &["type"]).unwrap_or("");
    if kind != "agent-turn-complete" {
        return Err(Skip::Unsupported(format!(
            "notification {kind:?} is not the end of a turn"
        )));
    }
    let cwd = str_at(&v, &["cwd"])
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .ok_or(Skip::NoPath)?;
    let root = record::work_tree(&cwd).ok_or_else(|| Skip::OutsideRepo(cwd.clone()))?;
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(&root)
        .args([
            "-c",
            "core.quotepath=off",
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
        ])
        .output()
        .map_err(|e| Skip::Unsupported(format!("git status: {e}")))?;
    if !out.status.success() {
        return Err(Skip::Unsupported(format!(
            "git status failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let mut written = Vec::new();
    let mut entries = out.stdout.split(|&b| b == 0).filter(|e| e.len() > 3);
    while let Some(entry) = entries.next() {
        let (status, path) = entry.split_at(3);
        // A rename lists its source next; the destination is what was written.
        if status[0] == b'R' || status[0] == b'C' {
            entries.next();
        }
        if status[0] == b'D' || status[1] == b'D' {
            continue;
        }
        let file = root.join(String::from_utf8_lossy(path).as_ref());
        match diff_since_last_seen(&file, "codex", "agent-turn-complete") {
            Ok(w) if !w.lines.is_empty() => written.push(w),
            Ok(_) => {}
            Err(e) => tracing::info!("codex hook: {e}"),
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_lines_an_edit_adds_are_the_agents() {
        let added = added_lines(
            "BEGIN;\nSELECT 1;\nCOMMIT;\n",
            "BEGIN;\nDROP TABLE users;\nCOMMIT;\n",
        );
        assert_eq!(added, ["DROP TABLE users;\n"]);
    }

    #[test]
    fn claude_code_prefers_the_structured_patch() {
        let payload = r#"{"cwd":"/r","tool_name":"Edit","tool_input":{"file_path":"a.sql","old_string":"x","new_string":"y"},
            "tool_response":{"structuredPatch":[{"lines":[" BEGIN;","-SELECT 1;","+DROP TABLE users;"]}]}}"#;
        let w = claude_code(payload).unwrap();
        assert_eq!(w.file, Path::new("/r/a.sql"));
        assert_eq!(w.lines, ["DROP TABLE users;"]);
    }

    #[test]
    fn unknown_tools_and_bad_json_are_skipped_with_a_reason() {
        assert!(matches!(claude_code("{not json"), Err(Skip::NotJson(_))));
        let bash = r#"{"tool_name":"Bash","tool_input":{"command":"ls","file_path":"x"}}"#;
        assert!(matches!(claude_code(bash), Err(Skip::Unsupported(_))));
        assert_eq!(cursor(r#"{"edits":[]}"#), Err(Skip::NoPath));
    }
}
