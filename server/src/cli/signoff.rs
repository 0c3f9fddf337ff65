//! `countersign signoff request|approve|list|verify`: the sign-off workflow from the command
//! line, on the same ledger the editor writes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;

use super::Format;
use crate::analysis::{deduplicate, RuleSet};
use crate::config::Config;
use crate::policy::SignoffState;
use crate::provenance::history;
use crate::provenance::record::{self, Record};
use crate::signoff::approval;
use crate::signoff::{self, sshsig, Ledger, LedgerIndex, SignoffRequest};
use crate::workspace;

#[derive(Debug, Args)]
pub struct SignoffArgs {
    #[command(subcommand)]
    command: SignoffCommand,
}

#[derive(Debug, Subcommand)]
enum SignoffCommand {
    /// Ask a senior to sign off the risky code at FILE[:LINE].
    Request {
        /// The file, optionally with the 1-based line of the finding: `db/m.sql:3`.
        target: String,
        /// Only the finding of this rule.
        #[arg(long)]
        rule: Option<String>,
        /// Why the code is right, for the reviewer.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Approve requests with your SSH signing key (listed in .countersign/allowed_signers).
    Approve {
        /// Request fingerprints, or unique prefixes of them (see `signoff list`).
        ids: Vec<String>,
        /// Every pending request.
        #[arg(long, conflicts_with = "ids")]
        all_pending: bool,
        /// The key to sign with (private key or .pub for a key in ssh-agent); default: git's
        /// `user.signingkey`, else ~/.ssh/id_ed25519 and the other default keys.
        #[arg(long)]
        key: Option<PathBuf>,
        /// A note stored with the approval.
        #[arg(long)]
        note: Option<String>,
    },
    /// List the ledger's requests.
    List {
        /// Only requests waiting for approval.
        #[arg(long, group = "state")]
        pending: bool,
        /// Only approved requests.
        #[arg(long, group = "state")]
        approved: bool,
        /// Only requests for code that is no longer there (changed or removed).
        #[arg(long, group = "state")]
        stale: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Check every request and approval; exit 1 naming each one that is invalid and why.
    Verify,
}

pub fn run(args: &SignoffArgs) -> Result<u8> {
    let cwd = std::env::current_dir()?;
    match &args.command {
        SignoffCommand::Request {
            target,
            rule,
            reason,
        } => request(&cwd, target, rule.as_deref(), reason.clone()),
        SignoffCommand::Approve {
            ids,
            all_pending,
            key,
            note,
        } => approve(&cwd, ids, *all_pending, key.as_deref(), note.clone()),
        SignoffCommand::List {
            pending,
            approved,
            stale,
            format,
        } => list(&cwd, (*pending, *approved, *stale), *format),
        SignoffCommand::Verify => verify(&cwd),
    }
}

/// The repository the current folder belongs to, its settings and its rules.
fn repository(cwd: &Path) -> Result<(PathBuf, Config, RuleSet)> {
    let root = workspace::root_for(cwd, None);
    let config = Config::load_from_root(&root)?;
    let rules = super::rule_set(&config, &root.join(crate::config::FILE_NAME))?;
    Ok((root, config, rules))
}

fn request(cwd: &Path, target: &str, rule: Option<&str>, reason: Option<String>) -> Result<u8> {
    let (file, line) = match target.rsplit_once(':') {
        Some((f, l)) if l.parse::<u32>().is_ok() => (f, l.parse::<u32>().ok()),
        _ => (target, None),
    };
    let file = workspace::absolute(&cwd.join(file));
    let root = workspace::root_for(&file, None);
    let config = Config::load_from_root(&root)?;
    let rules = super::rule_set(&config, &root.join(crate::config::FILE_NAME))?;
    let rel = workspace::relative_path(&root, &file);
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let lang = countersign_grammars::Lang::from_path(&file);
    let findings = match lang {
        Some(lang) => crate::analysis::analyze_text(&rules, lang, &text, &rel),
        None => Vec::new(),
    };
    let line_of = |offset: usize| text[..offset].matches('\n').count() as u32 + 1;
    let mut chosen: Vec<(crate::analysis::Finding, u32)> = deduplicate(&findings)
        .into_iter()
        .filter(|f| rule.is_none_or(|r| f.rule.id() == r))
        .filter(|f| {
            line.is_none_or(|l| {
                (line_of(f.range.start)..=line_of(f.range.end.saturating_sub(1))).contains(&l)
            })
        })
        .map(|f| (f.clone(), line_of(f.range.start)))
        .collect();
    if let (true, Some(lang)) = (chosen.is_empty(), lang) {
        // A guard the change removed (`check` reports those at the line where they were).
        let removed_rules = super::rule_set(&config, &root.join(crate::config::FILE_NAME))?
            .reporting(crate::analysis::Side::Removed);
        let removals =
            super::check::removals_in(&root, &rel, &text, lang, &removed_rules).unwrap_or_default();
        chosen = removals
            .into_iter()
            .filter(|(f, _)| rule.is_none_or(|r| f.rule.id() == r))
            .filter(|(_, at)| line.is_none_or(|l| *at as u32 == l))
            .map(|(f, at)| (f, at as u32))
            .collect();
    }
    if chosen.is_empty() {
        // Added code in a production path, or a change to the trust files, as `check` sees it.
        chosen = super::check::blocks_in(&root, &rel, &text, &rules)
            .unwrap_or_default()
            .into_iter()
            .map(|f| {
                let at = line_of(f.range.start);
                (f, at)
            })
            .filter(|(f, at)| {
                rule.is_none_or(|r| f.rule.id() == r)
                    && line.is_none_or(|l| (*at..=line_of(f.range.end)).contains(&l))
            })
            .collect();
    }
    if chosen.is_empty() {
        bail!(
            "no finding in {target}{}; `countersign scan {}` lists them",
            rule.map(|r| format!(" for {r}")).unwrap_or_default(),
            rel
        );
    }
    // Who wrote it, as far as history knows.
    let tree = record::work_tree(&file);
    let attributed = tree
        .as_deref()
        .map(|t| {
            let all = Record::for_root(t).and_then(|r| r.load().ok());
            let tree_rel = workspace::relative_path(t, &file);
            history::attribute_file(t, &tree_rel, &text, all.as_ref(), &config.provenance.git)
        })
        .unwrap_or_default();
    let ledger = Ledger::new(&root);
    let reviewers = signoff::reviewers_for(&root, &ledger, &rel);
    for (f, at) in &chosen {
        let author = history::author_in(&attributed, &f.range);
        let mut req = SignoffRequest::new(f, &rel, *at, &author, signoff::git_identity(&root));
        req.reason = reason.clone();
        req.reviewers = reviewers.clone();
        let done = ledger.request(&req)?;
        let state = if done.created {
            "requested"
        } else {
            "already requested"
        };
        println!(
            "{state}: {} {} {}:{} -> {}",
            &req.fingerprint[..12],
            req.rule,
            req.path,
            req.line,
            workspace::relative_path(&root, &done.path)
        );
        if done.created {
            notify_all(&root, &config, "requested", &req, &author.describe());
        }
    }
    Ok(0)
}

/// Sends a notice; failures are warnings (the notice waits in the outbox for the next run).
fn notify_all(root: &Path, config: &Config, event: &str, req: &SignoffRequest, author: &str) {
    let notice = signoff::notice(event, req, author);
    for f in signoff::deliver(root, &config.signoff.notify, &notice) {
        eprintln!("countersign: warning: notification failed: {f}");
    }
}

fn load(root: &Path, config: &Config) -> (Ledger, LedgerIndex) {
    let ledger = Ledger::new(root);
    let index = ledger.load(config.signoff.allow_self_approval);
    (ledger, index)
}

fn approve(
    cwd: &Path,
    ids: &[String],
    all_pending: bool,
    key: Option<&Path>,
    note: Option<String>,
) -> Result<u8> {
    let (root, config, _) = repository(cwd)?;
    let (ledger, index) = load(&root, &config);
    for p in &index.problems {
        eprintln!("countersign: warning: {p}");
    }
    let targets: Vec<&signoff::LedgerEntry> = if all_pending {
        index
            .entries
            .values()
            .filter(|e| index.state(&e.request.fingerprint) == SignoffState::Pending)
            .collect()
    } else {
        if ids.is_empty() {
            bail!("name the requests to approve (see `countersign signoff list --pending`), or pass --all-pending");
        }
        ids.iter()
            .map(|id| {
                let found: Vec<_> = index
                    .entries
                    .values()
                    .filter(|e| e.request.fingerprint.starts_with(id.as_str()))
                    .collect();
                match found.as_slice() {
                    [one] => Ok(*one),
                    [] => Err(anyhow!("no request {id} in {}", ledger.dir().display())),
                    _ => Err(anyhow!(
                        "{id} names {} requests; give more of the fingerprint",
                        found.len()
                    )),
                }
            })
            .collect::<Result<_>>()?
    };
    if targets.is_empty() {
        println!("nothing to approve");
        return Ok(0);
    }
    let key = sshsig::find_signing_key(&root, key).map_err(|e| anyhow!(e))?;
    let (signers, problems) = ledger.signers();
    for p in problems {
        eprintln!("countersign: warning: {p}");
    }
    let email = signoff::git_identity(&root).and_then(|p| p.email);
    let principal =
        approval::principal_for(&signers, &key, email.as_deref()).map_err(|e| anyhow!(e))?;
    let mut failed = 0;
    for entry in targets {
        let req = &entry.request;
        let short = &req.fingerprint[..12];
        let allow_self = config.signoff.allow_self_approval;
        match approval::approve(
            &ledger.dir(),
            req,
            &key,
            &principal,
            &signers,
            allow_self,
            note.clone(),
        ) {
            Ok((path, created)) => {
                println!(
                    "{}: {short} {} {}:{} by {principal} -> {}",
                    if created {
                        "approved"
                    } else {
                        "already approved"
                    },
                    req.rule,
                    req.path,
                    req.line,
                    workspace::relative_path(&root, &path)
                );
                if created {
                    notify_all(&root, &config, "approved", req, "");
                }
            }
            Err(why) => {
                eprintln!("countersign: {short}: {why}");
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Fingerprints of the findings in each file the ledger names, for `--stale`.
fn current_fingerprints(root: &Path, rules: &RuleSet, index: &LedgerIndex) -> HashSet<String> {
    let paths: HashSet<&str> = index
        .entries
        .values()
        .map(|e| e.request.path.as_str())
        .collect();
    let mut out = HashSet::new();
    for rel in paths {
        let file = root.join(rel);
        let (Some(lang), Ok(text)) = (
            countersign_grammars::Lang::from_path(&file),
            std::fs::read_to_string(&file),
        ) else {
            continue;
        };
        for f in crate::analysis::analyze_text(rules, lang, &text, rel) {
            out.insert(f.fingerprint);
        }
    }
    out
}

fn list(cwd: &Path, (pending, approved, stale): (bool, bool, bool), format: Format) -> Result<u8> {
    let (root, config, rules) = repository(cwd)?;
    let (_, index) = load(&root, &config);
    for p in &index.problems {
        eprintln!("countersign: warning: {p}");
    }
    let current = current_fingerprints(&root, &rules, &index);
    let rows: Vec<_> = index
        .entries
        .values()
        .map(|e| {
            let fp = &e.request.fingerprint;
            let state = index.state(fp);
            (e, state, !current.contains(fp))
        })
        .filter(|(_, state, is_stale)| {
            (!pending || *state == SignoffState::Pending)
                && (!approved || matches!(state, SignoffState::Approved { .. }))
                && (!stale || *is_stale)
        })
        .collect();
    match format {
        Format::Json => {
            let items: Vec<_> = rows
                .iter()
                .map(|(e, state, is_stale)| {
                    json!({
                        "fingerprint": e.request.fingerprint,
                        "state": state.as_str(),
                        "stale": is_stale,
                        "rule": e.request.rule,
                        "path": e.request.path,
                        "line": e.request.line,
                        "snippet": e.request.snippet,
                        "requested_by": e.request.requested_by,
                        "approved_by": e.approvals.iter().map(|(_, a)| &a.principal).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"version": 1, "signoffs": items}))?
            );
        }
        Format::Text | Format::Sarif => {
            if format == Format::Sarif {
                bail!("signoff list prints text or json");
            }
            for (e, state, is_stale) in &rows {
                let by = match state {
                    SignoffState::Approved { by } => format!(" by {by}"),
                    _ => String::new(),
                };
                println!(
                    "{}  {:<8}{}  {}  {}:{}  {}{}",
                    &e.request.fingerprint[..12],
                    state.as_str(),
                    if *is_stale { " (stale)" } else { "" },
                    e.request.rule,
                    e.request.path,
                    e.request.line,
                    e.request.snippet.lines().next().unwrap_or(""),
                    by
                );
            }
            if rows.is_empty() {
                println!("no sign-off requests match");
            }
        }
    }
    Ok(0)
}

fn verify(cwd: &Path) -> Result<u8> {
    let (root, config, _) = repository(cwd)?;
    let (ledger, index) = load(&root, &config);
    let approved = index
        .entries
        .values()
        .filter(|e| !e.approvals.is_empty())
        .count();
    if index.problems.is_empty() {
        println!(
            "{}: {} requests, {approved} approved; every file verified",
            ledger.dir().display(),
            index.entries.len()
        );
        return Ok(0);
    }
    for p in &index.problems {
        println!("invalid: {p}");
    }
    println!(
        "{} invalid entries; {} requests, {approved} approved",
        index.problems.len(),
        index.entries.len()
    );
    Ok(1)
}
