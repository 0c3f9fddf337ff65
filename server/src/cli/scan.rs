//! `countersign scan`: every risky finding in the given files and folders, whoever wrote them.
//! Walks like ripgrep (respects `.gitignore`), skips files without a trigger word before
//! parsing, and parses the rest in parallel.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::Mutex;

use anyhow::{anyhow, Result};
use clap::Args;
use countersign_grammars::Lang;
use ignore::WalkState;
use rayon::prelude::*;
use serde::Serialize;

use super::{sarif, Format};
use crate::analysis::{deduplicate, Finding, RuleSet};
use crate::config::Config;
use crate::policy::SignoffState;
use crate::signoff::{Ledger, LedgerIndex};
use crate::workspace;

/// Files larger than this are skipped with a warning.
const MAX_FILE_BYTES: u64 = crate::analysis::MAX_ANALYSED_BYTES as u64;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Use this configuration file instead of each repository's countersign.toml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Files or folders to scan (default: the current folder).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// One finding in the JSON contract (1-based lines and columns, end exclusive; columns count
/// Unicode characters).
#[derive(Debug, Serialize)]
pub struct JsonFinding {
    pub rule: String,
    pub category: &'static str,
    pub severity: &'static str,
    pub path: String,
    pub start: LineColumn,
    pub end: LineColumn,
    pub message: String,
    pub snippet: String,
    pub fingerprint: String,
    pub author: &'static str,
    pub signoff: &'static str,
    /// The source line the finding starts on, for the text output's code frame.
    #[serde(skip)]
    pub line_text: String,
    /// The rule's explanation and documentation link, for SARIF's rule descriptions.
    #[serde(skip)]
    pub explanation: String,
    #[serde(skip)]
    pub docs: String,
}

#[derive(Debug, Serialize, Clone, Copy)]
pub struct LineColumn {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Serialize)]
pub struct JsonReport {
    pub version: u32,
    pub findings: Vec<JsonFinding>,
}

/// A file's findings with their start and end, or why it was skipped.
type FileResult = Result<Vec<(Finding, LineColumn, LineColumn, String)>, String>;

struct Input {
    path: PathBuf,
    display: String,
    lang: Lang,
    root: PathBuf,
}

pub fn run(args: &ScanArgs) -> Result<u8> {
    let builtin = Arc::new(
        RuleSet::builtin().map_err(|e| anyhow!("built-in rules failed to load: {}", e[0]))?,
    );
    let forced = match &args.config {
        Some(path) => Some(Arc::new(super::rule_set(&Config::load(path)?, path)?)),
        None => None,
    };
    let paths = super::input_paths(&args.paths);
    for p in &paths {
        if !p.exists() {
            return Err(anyhow!("{}: no such file or folder", p.display()));
        }
    }
    let (inputs, scanned) = collect_inputs(&paths, &builtin)?;
    let mut ledgers: HashMap<PathBuf, LedgerIndex> = HashMap::new();
    let mut rule_sets: HashMap<PathBuf, Arc<RuleSet>> = HashMap::new();
    for input in &inputs {
        if !rule_sets.contains_key(&input.root) {
            let rules = match &forced {
                Some(rules) => rules.clone(),
                None => super::rules_for_root(&input.root, &builtin)?,
            };
            rule_sets.insert(input.root.clone(), rules);
        }
        ledgers.entry(input.root.clone()).or_insert_with(|| {
            let allow_self = Config::load_from_root(&input.root)
                .map(|c| c.signoff.allow_self_approval)
                .unwrap_or(false);
            Ledger::new(&input.root).load(allow_self)
        });
    }
    for problem in ledgers.values().flat_map(|l| &l.problems) {
        eprintln!("countersign: warning: {problem}");
    }
    let results: Vec<(usize, FileResult)> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, input)| (i, scan_file(&rule_sets[&input.root], input)))
        .collect();
    let mut findings = Vec::new();
    for (i, result) in results {
        let input = &inputs[i];
        match result {
            Ok(found) => {
                for (f, start, end, line_text) in found {
                    let signoff = ledgers
                        .get(&input.root)
                        .map_or(SignoffState::None, |l| l.state(&f.fingerprint));
                    findings.push(JsonFinding {
                        explanation: f.rule.spec.explanation.clone(),
                        docs: f.rule.docs_url(),
                        rule: f.rule.id().to_string(),
                        category: f.rule.spec.category.as_str(),
                        severity: f.rule.spec.severity.as_str(),
                        path: input.display.clone(),
                        start,
                        end,
                        message: f.rule.spec.message.clone(),
                        snippet: f.snippet.clone(),
                        fingerprint: f.fingerprint.clone(),
                        author: "unknown",
                        signoff: signoff.as_str(),
                        line_text,
                    });
                }
            }
            Err(why) => eprintln!("countersign: warning: {}: {why}; skipped", input.display),
        }
    }
    findings.sort_by(|a, b| {
        (&a.path, a.start.line, a.start.column, &a.rule).cmp(&(
            &b.path,
            b.start.line,
            b.start.column,
            &b.rule,
        ))
    });
    let any = !findings.is_empty();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &JsonReport {
                    version: 1,
                    findings,
                },
            )?;
            writeln!(out)?;
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut out, &sarif::report(&findings))?;
            writeln!(out)?;
        }
        Format::Text => print_text(&mut out, &findings, scanned)?,
    }
    Ok(u8::from(any))
}

fn collect_inputs(paths: &[PathBuf], rules: &RuleSet) -> Result<(Vec<Input>, usize)> {
    let mut walk = ignore::WalkBuilder::new(&paths[0]);
    for p in &paths[1..] {
        walk.add(p);
    }
    // CI workflows live in `.github/`: scan hidden files too, but never git's own folder.
    walk.hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git");
    // Walking 10k files one by one takes longer than analysing the few that matter: walk in
    // parallel, then put the files in path order so the output does not depend on timing.
    let found: Mutex<Vec<(PathBuf, Lang)>> = Mutex::new(Vec::new());
    let scanned = AtomicUsize::new(0);
    let failure: Mutex<Option<ignore::Error>> = Mutex::new(None);
    walk.build_parallel().run(|| {
        Box::new(|entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    *failure.lock().unwrap() = Some(e);
                    return WalkState::Quit;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let path = entry.into_path();
            if let Some(lang) = Lang::from_path(&path) {
                scanned.fetch_add(1, Ordering::Relaxed);
                if rules.covers(lang) {
                    found.lock().unwrap().push((path, lang));
                }
            }
            WalkState::Continue
        })
    });
    if let Some(e) = failure.into_inner().unwrap() {
        return Err(anyhow::Error::new(e).context("walking the input"));
    }
    let mut found = found.into_inner().unwrap();
    found.sort();
    let absolute: Vec<PathBuf> = found.iter().map(|(p, _)| workspace::absolute(p)).collect();
    let dirs: BTreeSet<&Path> = absolute.iter().filter_map(|p| p.parent()).collect();
    let roots: HashMap<&Path, PathBuf> = dirs
        .into_par_iter()
        .map(|dir| (dir, workspace::root_for(dir, None)))
        .collect();
    let inputs = found
        .iter()
        .zip(&absolute)
        .map(|((path, lang), abs)| Input {
            display: path.to_string_lossy().trim_start_matches("./").to_string(),
            root: abs
                .parent()
                .and_then(|d| roots.get(d))
                .cloned()
                .unwrap_or_default(),
            path: abs.clone(),
            lang: *lang,
        })
        .collect();
    Ok((inputs, scanned.into_inner()))
}

fn scan_file(rules: &RuleSet, input: &Input) -> FileResult {
    let meta = std::fs::metadata(&input.path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {} MiB", MAX_FILE_BYTES >> 20));
    }
    let bytes = std::fs::read(&input.path).map_err(|e| e.to_string())?;
    if bytes[..bytes.len().min(8000)].contains(&0) {
        return Ok(Vec::new()); // binary
    }
    let Some(candidate) = rules.candidate(input.lang, &bytes) else {
        return Ok(Vec::new());
    };
    let text = String::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_string())?;
    let rel = workspace::relative_path(&input.root, &input.path);
    let found = rules.analyze_candidate(input.lang, &text, &rel, candidate);
    let lines = LineIndex::new(&text);
    Ok(deduplicate(&found)
        .into_iter()
        .cloned()
        .map(|f| {
            let (s, e) = (lines.at(&text, f.range.start), lines.at(&text, f.range.end));
            let line_text = lines.line(&text, s.line).to_string();
            (f, s, e, line_text)
        })
        .collect())
}

/// 1-based line and character column of byte offsets.
pub(super) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The text of 1-based line `line`, without its line break.
    /// The byte offset where 1-based `line` starts (`usize::MAX` past the last line).
    pub(super) fn offset_of_line(&self, line: usize) -> usize {
        self.starts.get(line - 1).copied().unwrap_or(usize::MAX)
    }

    pub(super) fn line_count(&self) -> usize {
        self.starts.len()
    }

    pub(super) fn line<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let start = self.starts[line - 1];
        let end = self.starts.get(line).map_or(text.len(), |&next| next - 1);
        text[start..end].trim_end_matches('\r')
    }

    pub(super) fn at(&self, text: &str, byte: usize) -> LineColumn {
        let line = self.starts.partition_point(|&s| s <= byte) - 1;
        let column = text[self.starts[line]..byte].chars().count() + 1;
        LineColumn {
            line: line + 1,
            column,
        }
    }
}

/// Ruff-style: the rule and message, a clickable `path:line:column`, and the line with the
/// finding underlined.
pub(super) fn print_text(
    out: &mut impl Write,
    findings: &[JsonFinding],
    scanned: usize,
) -> std::io::Result<()> {
    print_frames(out, findings)?;
    let mut files: Vec<&str> = findings.iter().map(|f| f.path.as_str()).collect();
    files.dedup();
    let noun = if findings.len() == 1 {
        "finding"
    } else {
        "findings"
    };
    writeln!(
        out,
        "{} risky {noun} in {} of {} scanned files.",
        findings.len(),
        files.len(),
        scanned
    )
}

/// Each finding with its code frame.
pub(super) fn print_frames(out: &mut impl Write, findings: &[JsonFinding]) -> std::io::Result<()> {
    for f in findings {
        let state = match f.signoff {
            "pending" => " (sign-off pending)",
            "approved" => " (approved)",
            _ => "",
        };
        writeln!(out, "{}[{}]: {}{}", f.severity, f.rule, f.message, state)?;
        let gutter = f.start.line.to_string().len();
        writeln!(
            out,
            "{:gutter$}--> {}:{}:{}",
            "", f.path, f.start.line, f.start.column
        )?;
        // Tabs print as one column so the underline stays under the code.
        let line = f.line_text.replace('\t', " ");
        let width = line.chars().count();
        let from = f.start.column - 1;
        let to = if f.end.line == f.start.line {
            f.end.column - 1
        } else {
            width
        };
        let carets = "^".repeat(to.saturating_sub(from).max(1));
        writeln!(out, "{:gutter$} |", "")?;
        writeln!(out, "{} | {}", f.start.line, line)?;
        // Padding by repetition: a format width above u16::MAX panics, and minified code has
        // findings past column 65535.
        writeln!(out, "{:gutter$} | {}{}", "", " ".repeat(from), carets)?;
        writeln!(out)?;
    }
    Ok(())
}
