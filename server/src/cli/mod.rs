//! The command line: `countersign lsp`, `scan` and `rules`. Every command runs the same core as
//! the language server.

mod rules;
mod scan;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

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
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Lsp { stdio: _ } => crate::lsp::run().map(|code| code as u8),
        Command::Scan(args) => scan::run(&args),
        Command::Rules { command } => rules::run(&command),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`countersign rules list | head`) is the reader being done, not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
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
