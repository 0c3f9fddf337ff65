//! `countersign hook <agent>`: run by a coding agent's hook after it writes files; records
//! which lines the agent wrote. It must never get in the agent's way: every problem is one
//! line on stderr and the exit code is 0.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::provenance::hooks::{self, Skip, Written};

#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    agent: HookAgent,
}

#[derive(Debug, Subcommand)]
enum HookAgent {
    /// Claude Code PostToolUse (Edit, MultiEdit, Write, NotebookEdit); JSON on stdin.
    ClaudeCode,
    /// Cursor afterFileEdit; JSON on stdin.
    Cursor,
    /// Gemini CLI AfterTool (write_file, replace); JSON on stdin.
    Gemini,
    /// Codex `notify` (agent-turn-complete): the JSON is the last argument (or stdin). Files
    /// changed since the last turn are diffed against what they were.
    Codex {
        /// The notification JSON, as Codex passes it.
        payload: Option<String>,
    },
    /// Any other agent: diffs each file against its last known state (the last run's
    /// snapshot, else the staged or committed version) and records the added lines.
    Generic {
        /// The agent's name, as diagnostics will show it.
        #[arg(long)]
        agent: String,
        /// A file the agent wrote (repeatable).
        #[arg(long = "file", required = true)]
        files: Vec<PathBuf>,
    },
}

pub fn run(args: &HookArgs) -> u8 {
    let name = match &args.agent {
        HookAgent::ClaudeCode => "claude-code",
        HookAgent::Cursor => "cursor",
        HookAgent::Gemini => "gemini",
        HookAgent::Codex { .. } => "codex",
        HookAgent::Generic { agent, .. } => agent.as_str(),
    };
    let written: Vec<Result<Written, Skip>> = match &args.agent {
        HookAgent::ClaudeCode => vec![stdin().and_then(|p| hooks::claude_code(&p))],
        HookAgent::Cursor => vec![stdin().and_then(|p| hooks::cursor(&p))],
        HookAgent::Gemini => vec![stdin().and_then(|p| hooks::gemini(&p))],
        HookAgent::Codex { payload } => {
            match payload
                .clone()
                .map_or_else(stdin, Ok)
                .and_then(|p| hooks::codex(&p))
            {
                Ok(all) => all.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            }
        }
        HookAgent::Generic { agent, files } => files
            .iter()
            .map(|f| hooks::diff_since_last_seen(f, agent, "generic"))
            .collect(),
    };
    for w in written {
        match w.and_then(|w| hooks::record(&w).map(|r| (w, r))) {
            Ok((w, (record, n))) => tracing::info!(
                "{name}: {n} lines of {} recorded in {}",
                w.file.display(),
                record.display()
            ),
            Err(e) => eprintln!("countersign hook {name}: nothing recorded: {e}"),
        }
    }
    0
}

fn stdin() -> Result<String, Skip> {
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .map_err(|e| Skip::NotJson(format!("stdin: {e}")))?;
    Ok(buf)
}
