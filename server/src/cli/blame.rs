//! `countersign blame FILE`: who wrote each line, as Countersign knows it from the provenance
//! record and git history, with how it knows.

use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use serde_json::json;

use super::Format;
use crate::config::Config;
use crate::provenance::history::{self, Attributed};
use crate::provenance::record::{self, Record};
use crate::provenance::{AiSource, Author};
use crate::workspace;

#[derive(Debug, Args)]
pub struct BlameArgs {
    /// The file to attribute.
    file: PathBuf,
    /// Output format (`sarif` is not available here).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub fn run(args: &BlameArgs) -> Result<u8> {
    let file = workspace::absolute(&args.file);
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let text =
        String::from_utf8(bytes).map_err(|_| anyhow!("{} is not UTF-8 text", file.display()))?;
    let tree = record::work_tree(&file)
        .ok_or_else(|| anyhow!("{} is not inside a git repository", file.display()))?;
    let rel = workspace::relative_path(&tree, &file);
    let config = Config::load_from_root(&workspace::root_for(&file, None))?;
    let all = match Record::for_root(&tree) {
        Some(r) => Some(
            r.load()
                .with_context(|| format!("reading {}", r.path().display()))?,
        ),
        None => None,
    };
    let found = history::attribute_file(&tree, &rel, &text, all.as_ref(), &config.provenance.git);
    let lines = per_line(&text, &found);
    match args.format {
        Format::Json => {
            let rows: Vec<_> = lines
                .iter()
                .enumerate()
                .map(|(i, (_, a))| {
                    let (agent, source) = match a.map(|a| &a.author) {
                        Some(Author::Ai { agent, source }) => {
                            (Some(agent.as_str()), Some(source.as_str()))
                        }
                        _ => (None, None),
                    };
                    json!({
                        "line": i + 1,
                        "author": a.map_or("unknown", |a| a.author.kind()),
                        "agent": agent,
                        "source": source,
                        "how": a.map(|a| a.how.as_str()),
                    })
                })
                .collect();
            let out = json!({"version": 1, "path": rel, "lines": rows});
            serde_json::to_writer_pretty(std::io::stdout().lock(), &out)?;
            println!();
        }
        Format::Text | Format::Sarif => {
            if args.format == Format::Sarif {
                return Err(anyhow!("blame prints text or json"));
            }
            let width = lines.len().to_string().len();
            let mut out = String::new();
            for (i, (line, a)) in lines.iter().enumerate() {
                let who = match a.map(|a| &a.author) {
                    Some(Author::Ai { agent, source }) => {
                        format!("{agent} ({})", source_name(*source))
                    }
                    Some(Author::Human) => "human".into(),
                    _ => String::new(),
                };
                out.push_str(&format!(
                    "{:>width$} {:<24} | {}\n",
                    i + 1,
                    who,
                    line.trim_end_matches(['\n', '\r'])
                ));
            }
            use std::io::Write;
            std::io::stdout().lock().write_all(out.as_bytes())?;
        }
    }
    Ok(0)
}

fn source_name(s: AiSource) -> &'static str {
    s.as_str()
}

/// Each line of `text` with what history says of it.
fn per_line<'a>(text: &'a str, found: &'a [Attributed]) -> Vec<(&'a str, Option<&'a Attributed>)> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut next = found.iter().peekable();
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        while next.peek().is_some_and(|a| a.range.end <= start) {
            next.next();
        }
        let here = next
            .peek()
            .copied()
            .filter(|a| a.range.start <= start && a.range.end > start);
        out.push((line, here));
    }
    out
}
