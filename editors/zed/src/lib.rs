//! Zed extension that starts `countersign lsp` for the languages in extension.toml.
//! The binary is not downloaded: it comes from `lsp.countersign.binary.path` or the PATH of
//! the worktree's shell, so the editor runs the same Countersign as the CLI and git hooks.

use zed_extension_api::{self as zed, serde_json, settings::LspSettings, LanguageServerId, Result};

const SERVER: &str = "countersign";

struct Countersign;

impl Countersign {
    fn settings(worktree: &zed::Worktree) -> Option<LspSettings> {
        LspSettings::for_worktree(SERVER, worktree).ok()
    }
}

impl zed::Extension for Countersign {
    fn new() -> Self {
        Countersign
    }

    fn language_server_command(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<zed::Command> {
        let binary = Self::settings(worktree).and_then(|s| s.binary);
        let configured = binary.as_ref().and_then(|b| b.path.clone());
        let command = configured
            .or_else(|| worktree.which(SERVER))
            .ok_or_else(|| {
                "countersign is not on PATH: install it (cargo install --path server) or set \
             lsp.countersign.binary.path in Zed's settings"
                    .to_string()
            })?;
        let args = binary
            .as_ref()
            .and_then(|b| b.arguments.clone())
            .unwrap_or_else(|| vec!["lsp".to_string()]);
        let mut env = worktree.shell_env();
        if let Some(extra) = binary.and_then(|b| b.env) {
            env.extend(extra);
        }
        Ok(zed::Command { command, args, env })
    }

    fn language_server_initialization_options(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<serde_json::Value>> {
        Ok(Self::settings(worktree).and_then(|s| s.initialization_options))
    }

    // Sent as workspace/didChangeConfiguration {"settings": ...}: the server reads its
    // settings under the "countersign" key.
    fn language_server_workspace_configuration(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<serde_json::Value>> {
        Ok(Self::settings(worktree)
            .and_then(|s| s.settings)
            .map(|settings| serde_json::json!({ SERVER: settings })))
    }
}

zed::register_extension!(Countersign);
