//! The command line: `countersign lsp`, `scan`, `check`, `signoff`, `rules`, `hook`, `hooks`,
//! `blame` and `init`. Every command runs the same core as the language server.

mod blame;
mod check;
mod hook;
pub mod hooks_install;
mod init;
mod rules;
mod sarif;
mod scan;
mod signoff;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::analysis::RuleSet;
use crate::config::{self, Config};
use crate::workspace;

#[derive(Debug, Parser)]
#[command(
    name = "countersign",
    version,
    about = "Flags risky AI-written code and binds senior sign-offs to it",
    long_about = "Countersign knows which code an AI assistant wrote, flags the AI-written code that deletes \
                  data or touches production, and records senior sign-off requests bound to the exact code.\n\n\
                  Exit codes: 0 no findings, 1 findings, 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the language server on stdin/stdout (for editors).
    Lsp {
        /// Accepted for clients that always pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Report every risky finding in files, whoever wrote them.
    Scan(scan::ScanArgs),
    /// CI gate: fail on risky AI-written code added since a base commit without a valid
    /// senior sign-off.
    Check(check::CheckArgs),
    /// Request, approve, list and verify senior sign-offs.
    Signoff(signoff::SignoffArgs),
    /// List the rules or explain one.
    Rules(rules::RulesArgs),
    /// Record what a coding agent wrote; run by the agent's hook. Never fails the agent.
    Hook(hook::HookArgs),
    /// Set up an agent's hook so its edits are recorded.
    Hooks {
        #[command(subcommand)]
        command: HooksCommand,
    },
    /// Show who wrote each line of a file, and how Countersign knows.
    Blame(blame::BlameArgs),
    /// Set up a repository: countersign.toml and the sign-off ledger, never overwriting.
    Init(init::InitArgs),
}

#[derive(Debug, Subcommand)]
enum HooksCommand {
    /// Add `countersign hook <agent>` to the agent's settings, keeping everything already there.
    Install {
        #[arg(value_enum)]
        agent: hooks_install::Agent,
        /// In the repository's settings (the default), shared with everyone who clones it.
        #[arg(long, conflicts_with = "user")]
        project: bool,
        /// In your own settings, for every repository.
        #[arg(long)]
        user: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Lsp { stdio: _ } => crate::lsp::run().map(|code| code as u8),
        Command::Scan(args) => scan::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Hook(args) => Ok(hook::run(&args)),
        Command::Hooks {
            command: HooksCommand::Install { agent, user, .. },
        } => install_hook(agent, user),
        Command::Blame(args) => blame::run(&args),
        Command::Signoff(args) => signoff::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Init(args) => init::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`countersign rules list | head`) is the reader being done, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("countersign: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn install_hook(agent: hooks_install::Agent, user: bool) -> Result<u8> {
    let scope = if user {
        hooks_install::Scope::User
    } else {
        hooks_install::Scope::Project
    };
    let cwd = std::env::current_dir()?;
    let project = crate::provenance::record::work_tree(&cwd)
        .unwrap_or_else(|| workspace::root_for(&cwd.join("."), None));
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("HOME is not set; cannot find the user settings"))?;
    let outcome = hooks_install::install(agent, scope, &project, &home, &program_name())?;
    match outcome {
        hooks_install::Outcome::Installed { path } => {
            println!("{} hook installed in {}", agent.name(), path.display())
        }
        hooks_install::Outcome::AlreadyInstalled { path } => {
            println!(
                "{} hook already installed in {}",
                agent.name(),
                path.display()
            )
        }
    }
    Ok(0)
}

/// How hooks should call this binary: by name when `countersign` on the PATH is this binary,
/// else by its full path.
fn program_name() -> String {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("countersign"))
            .find(|p| p.is_file())
            .and_then(|p| p.canonicalize().ok())
    });
    match (me, on_path) {
        (Some(me), Some(found)) if me == found => "countersign".into(),
        (Some(me), _) => me.display().to_string(),
        _ => "countersign".into(),
    }
}

fn init_logging() {
    // stdout belongs to the protocol in `lsp` and to results elsewhere: logs go to stderr.
    let filter = tracing_subscriber::EnvFilter::try_from_env("COUNTERSIGN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Resolved input paths; defaults to the current directory.
fn input_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    }
}

/// The rules a configuration asks for; every problem in it is reported at once.
fn rule_set(config: &Config, origin: &Path) -> Result<RuleSet> {
    RuleSet::configured(config, &origin.display().to_string()).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        anyhow!("the rules could not be loaded:\n{}", list.join("\n"))
    })
}

/// The rules for files under `root`: its `countersign.toml`, or the built-in set when the file
/// is missing or changes nothing about rules.
fn rules_for_root(root: &Path, builtin: &Arc<RuleSet>) -> Result<Arc<RuleSet>> {
    let config = Config::load_from_root(root)?;
    if config.uses_builtin_rules() {
        return Ok(builtin.clone());
    }
    rule_set(&config, &root.join(config::FILE_NAME)).map(Arc::new)
}

/// The rules of `--config FILE` if given, else of the repository around the current folder.
fn rules_for_cwd(config: Option<&Path>) -> Result<RuleSet> {
    match config {
        Some(path) => rule_set(&Config::load(path)?, path),
        None => {
            let cwd = std::env::current_dir()?;
            let root = workspace::root_for(&cwd.join("."), None);
            let path = root.join(config::FILE_NAME);
            rule_set(&Config::load_from_root(&root)?, &path)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let kind = e
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind)
        .or_else(|| {
            e.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
        });
    kind == Some(std::io::ErrorKind::BrokenPipe)
}
