//! `countersign init`: the files a repository needs to start using sign-offs, written only where
//! nothing is yet, so running it again (or in a repository set up by hand) changes nothing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use crate::workspace;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository to set up (default: the git work tree around the current directory).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

const CONFIG: &str = r#"# Countersign settings for this repository. Every key is optional; the values shown are the
# defaults. See `countersign rules list` for the rules and the README for every key.

[policy]
human_severity = "hint"       # risky code a person wrote: off | hint | info | warning | error

[provenance]
# bulk_insert = true          # one change inserting several lines counts as AI-written
# bulk_insert_min_lines = 2
# multi_hunk = true           # one change set writing different code in several places
# unknown_disk_edits_are_ai = false

[production]                  # added to the built-in production markers
# hosts = ["*.prod.example.com"]
# env = ["PROD_*"]
# paths = ["deploy/**", "infra/prod/**"]

[signoff]
allow_self_approval = false   # whoever asked for a sign-off may not approve it

# [signoff.notify]            # tell reviewers about requests and approvals
# webhook = "https://hooks.slack.com/services/..."
# format = "slack"

# [severity]                  # per rule: off | hint | info | warning | error
# "sql/rename" = "info"
"#;

const ALLOWED_SIGNERS: &str = r#"# The seniors whose approvals count, in git's allowed_signers format, one per line:
#
#   lead@example.com namespaces="countersign" ssh-ed25519 AAAA...
#
# Their public key is the `.pub` of the key git signs with (`git config user.signingkey`).
# A change to this file needs an approval from a senior already listed here.
"#;

const SIGNOFFS_README: &str =
    "One file per sign-off request (`<fingerprint>.json`) and per approval \
(`<fingerprint>.<key>.approval`), written by `countersign signoff` and the editors. Commit them \
with the code they approve.\n";

/// Writes `body` to `path` unless something is already there. Returns whether it wrote.
fn create(path: &Path, body: &str) -> Result<bool> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(body.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

pub fn run(args: &InitArgs) -> Result<u8> {
    let cwd = std::env::current_dir()?;
    let start = args.dir.clone().unwrap_or(cwd);
    let root = crate::provenance::record::work_tree(&start)
        .unwrap_or_else(|| workspace::root_for(&start.join("."), None));
    let files = [
        (crate::config::FILE_NAME, CONFIG),
        (".countersign/allowed_signers", ALLOWED_SIGNERS),
        (".countersign/signoffs/README.md", SIGNOFFS_README),
    ];
    for (rel, body) in files {
        let path = root.join(rel);
        if create(&path, body)? {
            println!("created {}", path.display());
        } else {
            println!("kept    {} (already there)", path.display());
        }
    }
    // The configuration may predate this run: say now if it does not load.
    crate::config::Config::load_from_root(&root)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the existing configuration does not load")?;
    println!(
        "\nNext:\n  \
         - list your seniors' keys in .countersign/allowed_signers\n  \
         - record what agents write: countersign hooks install claude-code (or cursor, gemini, codex)\n  \
         - gate pull requests: countersign check (see the README's CI section)\n  \
         - commit countersign.toml and .countersign/"
    );
    Ok(0)
}
