//! Any bytes as the JSON each agent's hook sends (Claude Code, Cursor, Gemini CLI, Codex): the
//! payload is read into what the agent wrote, or skipped with a reason, never a panic. What is
//! read becomes a record entry that must round-trip through the record's JSON.
//!
//! Codex's end-of-turn notification runs `git status` in its `cwd` and snapshots the files it
//! finds; here that `cwd` is a directory outside any repository, so nothing real is touched.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use countersign::provenance::hooks::{self, Written};
use countersign::provenance::record::{line_key, Entry};
use countersign::provenance::{AiSource, Author};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn outside_any_repo() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("countersign-fuzz-hooks")
            .tempdir()
            .expect("a temp dir")
            .keep();
        assert!(
            countersign::provenance::record::work_tree(&dir).is_none(),
            "{} is inside a git repository; set TMPDIR elsewhere",
            dir.display()
        );
        dir
    })
}

fn entry_round_trips(w: &Written) {
    let keys: Vec<String> = w.lines.iter().filter_map(|l| line_key(l)).collect();
    let author = Author::Ai {
        agent: w.agent.clone(),
        source: AiSource::Hook,
    };
    let entry = Entry::new(&w.file.to_string_lossy(), &author, &w.detail, keys);
    let json = serde_json::to_string(&entry).expect("an entry serializes");
    assert!(!json.contains('\n'), "an entry is one line of the record");
    let back: Entry = serde_json::from_str(&json).expect("an entry reads back");
    assert_eq!(back, entry);
}

fuzz_target!(|data: &[u8]| {
    let payload = String::from_utf8_lossy(data);
    for parse in [hooks::claude_code, hooks::cursor, hooks::gemini] {
        if let Ok(w) = parse(&payload) {
            entry_round_trips(&w);
        }
    }
    // Keep Codex's end-of-turn path off the real file system: it would look for the repository
    // of `cwd` (or of the current directory when missing).
    let payload = match serde_json::from_str::<Value>(&payload) {
        Ok(mut v) if v.get("hook_event_name").and_then(Value::as_str) != Some("PostToolUse") => {
            if let Some(object) = v.as_object_mut() {
                let cwd = outside_any_repo().to_string_lossy().into_owned();
                object.insert("cwd".into(), Value::String(cwd));
            }
            v.to_string()
        }
        _ => payload.into_owned(),
    };
    if let Ok(all) = hooks::codex(&payload) {
        for w in &all {
            entry_round_trips(w);
        }
    }
});
