//! The command line: `countersign lsp`, `scan` and `rules`. Every command runs the same core as
//! the language server.

mod rules;
mod sarif;
mod scan;

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
    /// List the rules or explain one.
    Rules(rules::RulesArgs),
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
