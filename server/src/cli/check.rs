//! `countersign check`: the CI gate. Risky findings in the lines a change adds (since a base
//! commit, plus the working tree) that an AI wrote and no senior approved fail the check.
//!
//! The verdict is the editor's: the same rules, the same attribution (the local record and git
//! trailers), the same ledger with verified approvals.

use std::collections::HashMap;
use std::io::Write;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use countersign_grammars::Lang;

use super::sarif;
use super::scan::{print_frames, JsonFinding, JsonReport, LineColumn, LineIndex};
use crate::analysis::{deduplicate, Finding, RuleSet, Side};
use crate::config::Config;
use crate::policy::SignoffState;
use crate::provenance::history;
use crate::provenance::record::Record;
use crate::provenance::Author;
use crate::signoff::Ledger;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The commit the change is compared with (default: the merge-base with the remote's
    /// default branch, else with the local main/master).
    #[arg(long)]
    base: Option<String>,
    /// Every author counts, not only AI-written code.
    #[arg(long)]
    all_changes: bool,
    /// Only what is committed (HEAD), not staged or unstaged changes.
    #[arg(long)]
    committed_only: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
}

/// Files larger than this are reported and not analysed.
const MAX_FILE_BYTES: usize = crate::analysis::MAX_ANALYSED_BYTES;

pub fn run(args: &CheckArgs) -> Result<u8> {
    let cwd = std::env::current_dir()?;
    let root = PathBuf::from(
        git(&cwd, &["rev-parse", "--show-toplevel"])
            .map_err(|_| anyhow!("{} is not inside a git repository", cwd.display()))?
            .trim(),
    );
    let base = match &args.base {
        Some(b) => resolve(&root, b)?,
        None => default_base(&root)?,
    };
    let changed = changes(&root, &base, args.committed_only)?;
    let config = Config::load_from_root(&root)?;
    let origin = root.join(crate::config::FILE_NAME);
    let rules = super::rule_set(&config, &origin)?;
    let removed_rules = super::rule_set(&config, &origin)?.reporting(Side::Removed);
    let ledger = Ledger::new(&root).load(config.signoff.allow_self_approval);
    for p in &ledger.problems {
        eprintln!("countersign: warning: {p}");
    }
    let record = Record::for_root(&root).and_then(|r| r.load().ok());
    // Git history is asked only when an AI commit is in the range: a person's branch costs no
    // blame at all.
    let mut git_rules = config.provenance.git.clone();
    let ai_commits = if git_rules.enabled {
        range_ai_commits(&root, &base, &git_rules)
    } else {
        HashMap::new()
    };
    if ai_commits.is_empty() {
        git_rules.enabled = false;
    }
    let ctx = FileContext {
        root: &root,
        base: &base,
        committed_only: args.committed_only,
        rules: &rules,
        removed_rules: &removed_rules,
        record: record.as_ref(),
        git: &git_rules,
        ai_commits: &ai_commits,
    };
    let mut paths: Vec<(&String, &FileChange)> = changed.iter().collect();
    paths.sort_by(|a, b| a.0.cmp(b.0));
    // Files are independent: read, parse and attribute them in parallel (blame is a process
    // per file, so this also overlaps git's work).
    let outcomes: Vec<FileOutcome> = {
        use rayon::prelude::*;
        paths
            .par_iter()
            .map(|(rel, change)| check_file(&ctx, rel, change))
            .collect()
    };
    // Who was a senior before the change: changes to the trust files need one of them.
    let signers_at_base = format!("{base}:{}", crate::signoff::approval::ALLOWED_SIGNERS);
    let base_signers = git_bytes(&root, &["show", &signers_at_base])
        .ok()
        .map(|b| crate::signoff::sshsig::AllowedSigners::parse(&String::from_utf8_lossy(&b)).0);
    let mut failing = Vec::new();
    let mut checked = 0;
    let mut passed = 0;
    for outcome in outcomes {
        for w in &outcome.warnings {
            eprintln!("countersign: warning: {w}");
        }
        checked += usize::from(outcome.checked);
        for item in outcome.items {
            let f = &item.finding;
            if item.trust && base_signers.is_none() && !item.author.is_ai() {
                // The first allowed_signers: nobody was a senior before it.
                continue;
            }
            if !args.all_changes && !item.author.is_ai() && !item.trust {
                continue;
            }
            let mut state = ledger.state(&f.fingerprint);
            if item.trust {
                state = trusted_state(
                    &ledger,
                    &f.fingerprint,
                    base_signers.as_ref(),
                    config.signoff.allow_self_approval,
                );
            }
            let approved_elsewhere = || {
                ledger.entries.values().any(|e| {
                    !e.approvals.is_empty()
                        && e.request.rule == f.rule.id()
                        && e.request.path != item.path
                        && crate::analysis::fingerprint(
                            &e.request.rule,
                            &e.request.path,
                            &f.snippet,
                        ) == e.request.fingerprint
                })
            };
            if state == SignoffState::None
                && config.signoff.approvals_follow_renames
                && approved_elsewhere()
            {
                // An approval given under one of the file's earlier names.
                for old in earlier_names(&root, &item.path) {
                    let moved = crate::analysis::fingerprint(f.rule.id(), &old, &f.snippet);
                    if let s @ SignoffState::Approved { .. } = ledger.state(&moved) {
                        state = s;
                        break;
                    }
                }
            }
            if matches!(state, SignoffState::Approved { .. }) {
                passed += 1;
                continue;
            }
            failing.push(JsonFinding {
                explanation: f.rule.spec.explanation.clone(),
                docs: f.rule.docs_url(),
                rule: f.rule.id().to_string(),
                category: f.rule.spec.category.as_str(),
                severity: f.rule.spec.severity.as_str(),
                path: item.path.clone(),
                start: item.start,
                end: item.end,
                message: format!("{}; needs senior sign-off", item.message),
                snippet: f.snippet.clone(),
                fingerprint: f.fingerprint.clone(),
                author: item.author.kind(),
                signoff: state.as_str(),
                line_text: item.line_text,
            });
        }
    }
    failing.sort_by(|a, b| {
        (&a.path, a.start.line, a.start.column).cmp(&(&b.path, b.start.line, b.start.column))
    });
    let mut out = std::io::stdout().lock();
    match args.format {
        CheckFormat::Json => {
            let any = !failing.is_empty();
            serde_json::to_writer_pretty(
                &mut out,
                &JsonReport {
                    version: 1,
                    findings: failing,
                },
            )?;
            writeln!(out)?;
            return Ok(u8::from(any));
        }
        CheckFormat::Sarif => {
            serde_json::to_writer_pretty(&mut out, &sarif::report(&failing))?;
            writeln!(out)?;
        }
        CheckFormat::Github => {
            for f in &failing {
                let level = if f.severity == "error" {
                    "error"
                } else {
                    "warning"
                };
                writeln!(
                    out,
                    "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                    escape_property(&f.path),
                    f.start.line,
                    f.start.column,
                    f.end.line,
                    f.end.column,
                    escape_property(&format!("Countersign {}", f.rule)),
                    escape_data(&f.message)
                )?;
            }
        }
        CheckFormat::Text => print_frames(&mut out, &failing)?,
    }
    let short = &base[..base.len().min(12)];
    let summary = if failing.is_empty() {
        format!("countersign check: passed ({checked} changed files since {short}; {passed} approved findings)")
    } else {
        format!(
            "countersign check: failed: {} risky finding{} without senior sign-off in {checked} changed files since {short}",
            failing.len(),
            if failing.len() == 1 { "" } else { "s" }
        )
    };
    match args.format {
        CheckFormat::Text => writeln!(out, "{summary}")?,
        _ => eprintln!("{summary}"),
    }
    Ok(u8::from(!failing.is_empty()))
}

/// The guards removed from `rel` (whose current text is `text`) since the merge-base with the
/// default branch, each with the line where it was: what `signoff request` asks about when the
/// finding is a removal.
pub(super) fn removals_in(
    root: &Path,
    rel: &str,
    text: &str,
    lang: Lang,
    removed_rules: &RuleSet,
) -> Result<Vec<(Finding, usize)>> {
    let base = default_base(root)?;
    let all = changes(root, &base, false)?;
    Ok(all
        .get(rel)
        .map(|change| removed_guards(root, &base, rel, change, text, lang, removed_rules))
        .unwrap_or_default())
}

/// Who removed code from `rel` since `base`: the agent of an AI commit that changed the file,
/// else unknown.
fn remover(root: &Path, base: &str, rel: &str, ai_commits: &HashMap<String, String>) -> Author {
    if ai_commits.is_empty() {
        return Author::Unknown;
    }
    let log = git(
        root,
        &["log", "--format=%H", &format!("{base}..HEAD"), "--", rel],
    )
    .unwrap_or_default();
    log.lines()
        .find_map(|hash| ai_commits.get(hash.trim()))
        .map_or(Author::Unknown, |agent| Author::Ai {
            agent: agent.clone(),
            source: crate::provenance::AiSource::Git,
        })
}

/// The names `rel` had before, following renames through history (and a rename not yet
/// committed, staged or not).
fn earlier_names(root: &Path, rel: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !name.is_empty() && name != rel && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    };
    if let Ok(status) = git(root, &["status", "--porcelain=v1", "-z"]) {
        let mut entries = status.split('\0');
        while let Some(e) = entries.next() {
            if e.starts_with('R') && e.get(3..) == Some(rel) {
                if let Some(from) = entries.next() {
                    add(from);
                }
            }
        }
    }
    if let Ok(log) = git(
        root,
        &["log", "--follow", "--name-only", "--format=", "--", rel],
    ) {
        for name in log.lines() {
            add(name.trim());
        }
    }
    names
}

/// What every file's check needs.
struct FileContext<'a> {
    root: &'a Path,
    base: &'a str,
    committed_only: bool,
    rules: &'a RuleSet,
    removed_rules: &'a RuleSet,
    record: Option<&'a crate::provenance::record::Attributions>,
    git: &'a crate::provenance::git::TrailerRules,
    /// The AI commits of `base..HEAD`, by hash: only their lines can be AI-written new code.
    ai_commits: &'a HashMap<String, String>,
}

/// A finding in a changed file, located and attributed.
struct Item {
    finding: Finding,
    path: String,
    author: Author,
    start: LineColumn,
    end: LineColumn,
    message: String,
    line_text: String,
    /// A change to a trust file: it counts whoever wrote it, and only a senior listed before
    /// the change can approve it.
    trust: bool,
}

#[derive(Default)]
struct FileOutcome {
    checked: bool,
    warnings: Vec<String>,
    items: Vec<Item>,
}

/// The findings a change brings into one file: in its added lines, and guards it removed.
fn check_file(ctx: &FileContext<'_>, rel: &str, change: &FileChange) -> FileOutcome {
    let mut outcome = FileOutcome::default();
    let path = ctx.root.join(rel);
    let lang = Lang::from_path(&path);
    // The ledger's own files are verified by their signatures, not by sign-off.
    let production =
        ctx.rules.markers().production_path(rel) && !rel.starts_with(crate::signoff::LEDGER_DIR);
    if lang.is_none() && !production {
        return outcome;
    }
    let bytes = if ctx.committed_only {
        match git_bytes(ctx.root, &["show", &format!("HEAD:{rel}")]) {
            Ok(b) => b,
            Err(_) => return outcome, // deleted
        }
    } else {
        match std::fs::read(&path) {
            Ok(b) => b,
            Err(_) => return outcome, // deleted in the working tree
        }
    };
    if bytes.len() > MAX_FILE_BYTES {
        outcome.warnings.push(format!(
            "{rel}: larger than {} MiB; not checked",
            MAX_FILE_BYTES >> 20
        ));
        return outcome;
    }
    if bytes[..bytes.len().min(8000)].contains(&0) {
        return outcome;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        outcome
            .warnings
            .push(format!("{rel}: not valid UTF-8; not checked"));
        return outcome;
    };
    outcome.checked = true;
    let found = match lang {
        Some(lang) => crate::analysis::analyze_text(ctx.rules, lang, &text, rel),
        None => Vec::new(),
    };
    let index = LineIndex::new(&text);
    let mut in_change: Vec<(Finding, Option<usize>)> = deduplicate(&found)
        .into_iter()
        .filter(|f| {
            let (s, e) = (
                index.at(&text, f.range.start).line,
                index
                    .at(&text, f.range.end.saturating_sub(1).max(f.range.start))
                    .line,
            );
            change
                .added
                .iter()
                .any(|r| *r.start() <= e && s <= *r.end())
        })
        .map(|f| (f.clone(), None))
        .collect();
    if let Some(lang) = lang {
        in_change.extend(
            removed_guards(
                ctx.root,
                ctx.base,
                rel,
                change,
                &text,
                lang,
                ctx.removed_rules,
            )
            .into_iter()
            .map(|(f, at)| (f, Some(at))),
        );
    }
    let blocks = if production {
        production_blocks(ctx.rules, rel, &text, &change.added)
    } else {
        Vec::new()
    };
    if in_change.is_empty() && blocks.is_empty() {
        return outcome;
    }
    let attributed = history::attribute_file_with(
        ctx.root,
        rel,
        &text,
        ctx.record,
        ctx.git,
        Some(ctx.ai_commits),
    );
    let mut located = Vec::new();
    for (f, removed_at) in in_change {
        let author = match removed_at {
            // Removed code has no line to attribute: the commits that changed the file do.
            Some(_) => remover(ctx.root, ctx.base, rel, ctx.ai_commits),
            None => history::author_in(&attributed, &f.range),
        };
        let (start, end, message) = match removed_at {
            Some(at) => {
                let line = at.min(index.line_count()).max(1);
                let width = index.line(&text, line).chars().count();
                (
                    LineColumn { line, column: 1 },
                    LineColumn {
                        line,
                        column: width + 1,
                    },
                    format!(
                        "{} (removed: `{}`; {})",
                        f.rule.spec.message,
                        f.snippet,
                        author.describe()
                    ),
                )
            }
            None => (
                index.at(&text, f.range.start),
                index.at(&text, f.range.end),
                format!("{} ({})", f.rule.spec.message, author.describe()),
            ),
        };
        located.push((f, author, start, end, message, false));
    }
    // Production paths: every block of added lines an AI wrote; the trust files: every block,
    // whoever wrote it (it decides who may approve and what is flagged).
    let trust = is_trust_file(rel);
    for f in blocks {
        let author = history::author_in(&attributed, &f.range);
        let (start, end) = (index.at(&text, f.range.start), index.at(&text, f.range.end));
        let message = if trust {
            format!(
                "A change to {rel}, which decides who may approve and what is flagged ({}); an existing senior must sign it off",
                author.describe()
            )
        } else {
            format!("{} ({})", f.rule.spec.message, author.describe())
        };
        located.push((f, author, start, end, message, trust));
    }
    outcome.items = located
        .into_iter()
        .map(|(finding, author, start, end, message, trust)| Item {
            line_text: index.line(&text, start.line).to_string(),
            finding,
            path: rel.to_string(),
            author,
            start,
            end,
            message,
            trust,
        })
        .collect();
    outcome
}

/// The production-path blocks (and trust-file changes) in `rel` added since the merge-base with
/// the default branch: what `signoff request` asks about in files without rule findings.
pub(super) fn blocks_in(
    root: &Path,
    rel: &str,
    text: &str,
    rules: &RuleSet,
) -> Result<Vec<Finding>> {
    if !rules.markers().production_path(rel) || rel.starts_with(crate::signoff::LEDGER_DIR) {
        return Ok(Vec::new());
    }
    let base = default_base(root)?;
    let all = changes(root, &base, false)?;
    Ok(all
        .get(rel)
        .map(|c| production_blocks(rules, rel, text, &c.added))
        .unwrap_or_default())
}

/// The files that decide who may approve and what is flagged.
fn is_trust_file(rel: &str) -> bool {
    rel == crate::config::FILE_NAME || rel == crate::signoff::approval::ALLOWED_SIGNERS
}

/// Each block of consecutive added lines of `rel`, as a `production/path` finding.
pub(super) fn production_blocks(
    rules: &RuleSet,
    rel: &str,
    text: &str,
    added: &[RangeInclusive<usize>],
) -> Vec<Finding> {
    let Some(rule) = rules.get(crate::analysis::markers::PATH_RULE_ID) else {
        return Vec::new();
    };
    let index = LineIndex::new(text);
    let lines = index.line_count();
    let mut out = Vec::new();
    for r in added {
        let (first, last) = ((*r.start()).max(1), (*r.end()).min(lines));
        if first > last {
            continue;
        }
        let start = index.offset_of_line(first);
        let end = index.offset_of_line(last + 1).min(text.len());
        let block = &text[start..end];
        let snippet = block.trim();
        if snippet.is_empty() {
            continue;
        }
        let lead = block.len() - block.trim_start().len();
        let range = start + lead..start + lead + snippet.len();
        out.push(Finding {
            fingerprint: crate::analysis::fingerprint(rule.id(), rel, snippet),
            rule: rule.clone(),
            match_range: range.clone(),
            range,
            snippet: snippet.to_string(),
            embedded: false,
        });
    }
    out
}

/// A trust-file change is approved only by an approval that verifies against the seniors of
/// the base: a change cannot make its own approver.
fn trusted_state(
    ledger: &crate::signoff::LedgerIndex,
    fingerprint: &str,
    base_signers: Option<&crate::signoff::sshsig::AllowedSigners>,
    allow_self: bool,
) -> SignoffState {
    let state = ledger.state(fingerprint);
    let (Some(signers), Some(entry)) = (base_signers, ledger.entries.get(fingerprint)) else {
        return state;
    };
    match entry.approvals.iter().find(|(_, a)| {
        crate::signoff::approval::verify(&entry.request, a, signers, allow_self).is_ok()
    }) {
        Some((_, a)) => SignoffState::Approved {
            by: a.principal.clone(),
        },
        None if matches!(state, SignoffState::None) => SignoffState::None,
        None => SignoffState::Pending,
    }
}

/// The commits of `base..HEAD` with an AI trailer, by full hash, with their agent.
fn range_ai_commits(
    root: &Path,
    base: &str,
    rules: &crate::provenance::git::TrailerRules,
) -> HashMap<String, String> {
    let range = format!("{base}..HEAD");
    let notes = rules.notes_args();
    let mut args = vec!["log", "-z", "--format=%H%n%B%x1f%N", &range];
    args.extend(notes.iter().map(String::as_str));
    let log = git(root, &args).unwrap_or_default();
    log.split('\0')
        .filter_map(|record| {
            let (hash, rest) = record.trim_start_matches('\n').split_once('\n')?;
            let (message, notes) = rest.split_once('\x1f').unwrap_or((rest, ""));
            Some((
                hash.trim().to_string(),
                rules.agent_of_commit(message, notes)?,
            ))
        })
        .collect()
}

/// GitHub's workflow-command escaping.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn git(root: &Path, args: &[&str]) -> Result<String> {
    Ok(String::from_utf8_lossy(&git_bytes(root, args)?).into_owned())
}

fn git_bytes(root: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "core.quotepath=off"])
        .args(args)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

fn resolve(root: &Path, rev: &str) -> Result<String> {
    let shallow = git(root, &["rev-parse", "--is-shallow-repository"]).unwrap_or_default();
    git(root, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
        .map(|s| s.trim().to_string())
        .map_err(|_| {
            if shallow.trim() == "true" {
                anyhow!("{rev} is not in this shallow clone: fetch it (`git fetch --depth=0 origin {rev}`, or `fetch-depth: 0` in actions/checkout)")
            } else {
                anyhow!("{rev} is not a commit in this repository")
            }
        })
}

/// The merge-base of HEAD with the remote's default branch, else with local main/master.
fn default_base(root: &Path) -> Result<String> {
    let mut candidates = Vec::new();
    if let Ok(head) = git(
        root,
        &["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"],
    ) {
        candidates.push(head.trim().trim_start_matches("refs/remotes/").to_string());
    }
    candidates.extend(["origin/main", "origin/master", "main", "master"].map(String::from));
    // The branch being checked is not its own base (a clone of one branch points origin/HEAD
    // at it): comparing HEAD with itself would pass everything.
    let current = git(root, &["symbolic-ref", "--quiet", "--short", "HEAD"])
        .map(|b| b.trim().to_string())
        .unwrap_or_default();
    candidates
        .retain(|c| current.is_empty() || (c != &current && c != &format!("origin/{current}")));
    if current == "main" || current == "master" {
        // On the default branch itself: what is not pushed yet.
        candidates.insert(0, "@{upstream}".into());
    }
    for c in &candidates {
        if let Ok(base) = git(root, &["merge-base", "HEAD", c]) {
            return Ok(base.trim().to_string());
        }
    }
    let shallow = git(root, &["rev-parse", "--is-shallow-repository"]).unwrap_or_default();
    if shallow.trim() == "true" {
        bail!("this is a shallow clone without the default branch's history: fetch more (`fetch-depth: 0` in actions/checkout, or `git fetch --unshallow`), or pass --base");
    }
    bail!("no default branch to compare with (origin/HEAD, main, master): pass --base REF")
}

/// What a change did to one file.
#[derive(Debug, Default)]
struct FileChange {
    /// The path at the base, when the file existed there.
    old_path: Option<String>,
    /// 1-based line ranges the change adds (in the new version).
    added: Vec<RangeInclusive<usize>>,
    /// Line ranges the change removes (in the base version), each with the new line where the
    /// removal happened.
    removed: Vec<(RangeInclusive<usize>, usize)>,
}

/// Per repo-relative path, what the change did.
fn changes(root: &Path, base: &str, committed_only: bool) -> Result<HashMap<String, FileChange>> {
    let mut args = vec![
        "diff",
        "--no-color",
        "--no-ext-diff",
        "-U0",
        "--find-renames",
        base,
    ];
    if committed_only {
        args.push("HEAD");
    }
    let diff = git_bytes(root, &args)?;
    let mut out: HashMap<String, FileChange> = HashMap::new();
    let mut old: Option<String> = None;
    let mut current: Option<String> = None;
    let count = |spec: &str| -> (usize, usize) {
        match spec.split_once(',') {
            Some((s, c)) => (s.parse().unwrap_or(0), c.parse().unwrap_or(0)),
            None => (spec.parse().unwrap_or(0), 1),
        }
    };
    for line in diff.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line);
        if let Some(path) = line.strip_prefix("--- ") {
            old = path.strip_prefix("a/").map(str::to_string);
        } else if let Some(path) = line.strip_prefix("+++ ") {
            current = path.strip_prefix("b/").map(str::to_string);
            if let Some(path) = &current {
                out.entry(path.clone()).or_default().old_path = old.clone();
            }
        } else if let (Some(hunk), Some(path)) = (line.strip_prefix("@@ "), &current) {
            // @@ -a,b +c,d @@
            let mut parts = hunk.split(' ');
            let (a, b) = count(parts.next().unwrap_or("-0,0").trim_start_matches('-'));
            let (c, d) = count(parts.next().unwrap_or("+0,0").trim_start_matches('+'));
            let change = out.entry(path.clone()).or_default();
            if d > 0 {
                change.added.push(c..=c + d - 1);
            }
            if b > 0 {
                change.removed.push((a..=a + b - 1, c.max(1)));
            }
        }
    }
    if !committed_only {
        let untracked = git_bytes(root, &["ls-files", "-z", "--others", "--exclude-standard"])?;
        for path in untracked.split(|&b| b == 0).filter(|p| !p.is_empty()) {
            out.insert(
                String::from_utf8_lossy(path).into_owned(),
                FileChange {
                    added: vec![1..=usize::MAX - 1],
                    ..FileChange::default()
                },
            );
        }
    }
    Ok(out)
}

/// Guards the change removes from `rel`: `removed` rules' matches in the base version, in the
/// removed lines, whose code is no longer in the new version. Each is reported on the new
/// line where the removal happened.
fn removed_guards(
    root: &Path,
    base: &str,
    rel: &str,
    change: &FileChange,
    new_text: &str,
    lang: Lang,
    removed_rules: &RuleSet,
) -> Vec<(Finding, usize)> {
    let Some(old_path) = &change.old_path else {
        return Vec::new();
    };
    if change.removed.is_empty() {
        return Vec::new();
    }
    let Ok(old_bytes) = git_bytes(root, &["show", &format!("{base}:{old_path}")]) else {
        return Vec::new();
    };
    let Ok(old_text) = String::from_utf8(old_bytes) else {
        return Vec::new();
    };
    let before = crate::analysis::analyze_text(removed_rules, lang, &old_text, rel);
    if before.is_empty() {
        return Vec::new();
    }
    let normalized = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let still: Vec<(String, String)> =
        crate::analysis::analyze_text(removed_rules, lang, new_text, rel)
            .into_iter()
            .map(|f| (f.rule.id().to_string(), normalized(&f.snippet)))
            .collect();
    let index = LineIndex::new(&old_text);
    let mut out = Vec::new();
    for f in before {
        let line = index.at(&old_text, f.range.start).line;
        let Some((_, at)) = change.removed.iter().find(|(r, _)| r.contains(&line)) else {
            continue;
        };
        if still.contains(&(f.rule.id().to_string(), normalized(&f.snippet))) {
            continue;
        }
        let fingerprint = crate::analysis::fingerprint(f.rule.id(), rel, &f.snippet);
        out.push((Finding { fingerprint, ..f }, *at));
    }
    out
}
