//! `countersign hooks install <agent>`: registers Countersign's hook in an agent's settings file.
//! The merge only adds: other keys, hooks and (in TOML) comments stay as they are, a second run
//! finds the entry and writes nothing, and a file that does not parse is never touched.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Map, Value};

/// An agent whose edits Countersign can record through the agent's own hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    ClaudeCode,
    Cursor,
    Gemini,
    Codex,
}

impl Agent {
    /// The name on the command line, also the argument of `countersign hook <agent>`.
    pub fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Cursor => "cursor",
            Agent::Gemini => "gemini",
            Agent::Codex => "codex",
        }
    }
}

/// Which settings file gets the hook: the repository's or the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Project,
    User,
}

/// What `install` did. `path` is the settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Installed { path: PathBuf },
    AlreadyInstalled { path: PathBuf },
}

impl Outcome {
    pub fn path(&self) -> &Path {
        match self {
            Outcome::Installed { path } | Outcome::AlreadyInstalled { path } => path,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum InstallError {
    #[error(
        "{path} is not valid JSON: {message}\nIt was left unchanged. Fix it and run the command \
         again, or add this by hand:\n{snippet}"
    )]
    InvalidJson {
        path: PathBuf,
        message: String,
        snippet: String,
    },
    #[error(
        "{path} is not valid TOML: {message}\nIt was left unchanged. Fix it and run the command again."
    )]
    InvalidToml { path: PathBuf, message: String },
    #[error("{path}: `{key}` is {found} but should be {expected}; the file was left unchanged")]
    UnexpectedShape {
        path: PathBuf,
        key: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error(
        "{path} already sets `notify = {current}`. Codex runs a single notify program, so \
         Countersign did not replace it.\nTo keep both, point `notify` at a script that runs \
         each program with the same last argument, or remove the line and run this again to \
         install `notify = {ours}`."
    )]
    NotifyTaken {
        path: PathBuf,
        current: String,
        ours: String,
    },
}

/// Registers `<program> hook <agent>` in the agent's settings file for `scope`, creating the file
/// and its folders when missing.
///
/// `project` is the repository root, `home` the user's home directory, `program` the path or
/// name of the countersign binary. Claude Code, Cursor and Gemini run a shell command line, built
/// here as `<program> hook <agent>` with `program` quoted when it needs it; so does Codex's project
/// hooks file (PostToolUse for `apply_patch`). Codex's user config gets the `notify` program, an
/// argv to which Codex appends its JSON: `notify = [program, "hook", "codex"]`.
pub fn install(
    agent: Agent,
    scope: Scope,
    project: &Path,
    home: &Path,
    program: &str,
) -> Result<Outcome> {
    let path = settings_path(agent, scope, project, home)?;
    // A settings file linked from a dotfiles repository stays a link: edit what it points to.
    let target = follow_link(&path);
    let existing = read_existing(&target)?;
    let merged = match (agent, scope) {
        (Agent::Codex, Scope::User) => {
            merge_codex_notify(&target, existing.as_deref(), &codex_argv(program))?
        }
        _ => merge_json_hook(
            &target,
            existing.as_deref(),
            &JsonHook::for_agent(agent, program),
        )?,
    };
    match merged {
        None => Ok(Outcome::AlreadyInstalled { path }),
        Some(text) => {
            write_atomically(&target, &text)?;
            Ok(Outcome::Installed { path })
        }
    }
}

fn settings_path(agent: Agent, scope: Scope, project: &Path, home: &Path) -> Result<PathBuf> {
    let base = match scope {
        Scope::Project => project,
        Scope::User => home,
    };
    let path = match agent {
        Agent::ClaudeCode => base.join(".claude").join("settings.json"),
        Agent::Cursor => base.join(".cursor").join("hooks.json"),
        Agent::Gemini => base.join(".gemini").join("settings.json"),
        // Codex ignores `notify` in a project's config, but reads a project's hooks file.
        Agent::Codex => match scope {
            Scope::User => home.join(".codex").join("config.toml"),
            Scope::Project => project.join(".codex").join("hooks.json"),
        },
    };
    Ok(path)
}

/// The command line an agent runs through a shell.
fn shell_command(program: &str, agent: Agent) -> String {
    format!("{} hook {}", shell_quote(program), agent.name())
}

fn codex_argv(program: &str) -> Vec<String> {
    vec![
        program.to_string(),
        "hook".into(),
        Agent::Codex.name().into(),
    ]
}

/// `word` as one POSIX shell word: unchanged when it is plain, single-quoted otherwise.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%=,~".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Where one agent keeps the hook in its JSON settings.
struct JsonHook {
    event: &'static str,
    /// Claude Code and Gemini group hooks under a tool-name matcher; Cursor lists them directly.
    matcher: Option<&'static str>,
    command: String,
    /// The entry added: a hook inside a matcher group, or the event's list item for Cursor.
    entry: Value,
    /// Cursor requires `"version": 1` at the top.
    version: Option<u64>,
}

impl JsonHook {
    fn for_agent(agent: Agent, program: &str) -> JsonHook {
        let command = shell_command(program, agent);
        match agent {
            Agent::ClaudeCode => JsonHook {
                event: "PostToolUse",
                matcher: Some("Edit|MultiEdit|Write|NotebookEdit"),
                entry: json!({"type": "command", "command": command}),
                command,
                version: None,
            },
            Agent::Gemini => JsonHook {
                event: "AfterTool",
                matcher: Some("write_file|replace"),
                // `name` is what `/hooks disable countersign` refers to.
                entry: json!({"name": "countersign", "type": "command", "command": command}),
                command,
                version: None,
            },
            Agent::Cursor => JsonHook {
                event: "afterFileEdit",
                matcher: None,
                entry: json!({"command": command}),
                command,
                version: Some(1),
            },
            // A project's `.codex/hooks.json`: the patches Codex applies name their lines.
            Agent::Codex => JsonHook {
                event: "PostToolUse",
                matcher: Some("apply_patch"),
                entry: json!({"type": "command", "command": command}),
                command,
                version: None,
            },
        }
    }

    /// The item appended to `hooks.<event>`.
    fn event_item(&self) -> Value {
        match self.matcher {
            Some(matcher) => json!({"matcher": matcher, "hooks": [self.entry.clone()]}),
            None => self.entry.clone(),
        }
    }

    /// The smallest settings file holding the hook, shown when the real one cannot be edited.
    fn snippet(&self) -> String {
        let mut hooks = Map::new();
        hooks.insert(self.event.into(), Value::Array(vec![self.event_item()]));
        let mut root = Map::new();
        if let Some(version) = self.version {
            root.insert("version".into(), version.into());
        }
        root.insert("hooks".into(), Value::Object(hooks));
        serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default()
    }

    fn is_in(&self, items: &[Value]) -> bool {
        let runs_ours =
            |hook: &Value| hook.get("command").and_then(Value::as_str) == Some(&self.command);
        match self.matcher {
            None => items.iter().any(runs_ours),
            Some(matcher) => items.iter().any(|group| {
                group.get("matcher").and_then(Value::as_str) == Some(matcher)
                    && group
                        .get("hooks")
                        .and_then(Value::as_array)
                        .is_some_and(|hooks| hooks.iter().any(runs_ours))
            }),
        }
    }
}

/// The new text of a JSON settings file, or `None` when the hook is already there.
fn merge_json_hook(path: &Path, existing: Option<&str>, hook: &JsonHook) -> Result<Option<String>> {
    let text = existing.unwrap_or("");
    let mut root = if text.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str::<Value>(text).map_err(|e| InstallError::InvalidJson {
            path: path.to_path_buf(),
            message: e.to_string(),
            snippet: hook.snippet(),
        })?
    };
    let shape = |key: &str, expected: &'static str, found: &Value| InstallError::UnexpectedShape {
        path: path.to_path_buf(),
        key: key.to_string(),
        expected,
        found: json_type(found),
    };

    let Some(object) = root.as_object_mut() else {
        return Err(shape("(top level)", "an object", &root).into());
    };
    if let Some(version) = hook.version {
        if !object.contains_key("version") {
            // Keep `version` first, where Cursor's documentation puts it.
            let rest = std::mem::take(object);
            object.insert("version".into(), version.into());
            object.extend(rest);
        }
    }
    let hooks = object
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(hooks) = hooks.as_object_mut() else {
        return Err(shape("hooks", "an object", hooks).into());
    };
    let items = hooks
        .entry(hook.event)
        .or_insert_with(|| Value::Array(Vec::new()));
    let key = format!("hooks.{}", hook.event);
    let Some(items) = items.as_array_mut() else {
        return Err(shape(&key, "an array", items).into());
    };
    if hook.is_in(items) {
        return Ok(None);
    }
    items.push(hook.event_item());

    let mut out = serde_json::to_string_pretty(&root).context("cannot serialize the settings")?;
    out.push('\n');
    Ok(Some(out))
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The new text of Codex's config.toml, or `None` when `notify` already runs `argv`. Edited in
/// place with toml_edit so comments, order and formatting survive.
fn merge_codex_notify(
    path: &Path,
    existing: Option<&str>,
    argv: &[String],
) -> Result<Option<String>> {
    let mut doc = existing
        .unwrap_or("")
        .parse::<toml_edit::DocumentMut>()
        .map_err(|e| InstallError::InvalidToml {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
    let ours: toml_edit::Array = argv.iter().map(String::as_str).collect();

    if let Some(current) = doc.get("notify") {
        let current_argv: Option<Vec<&str>> = current
            .as_array()
            .and_then(|array| array.iter().map(toml_edit::Value::as_str).collect());
        if current_argv.is_some_and(|current| current == argv) {
            return Ok(None);
        }
        let shown = match current.as_value() {
            Some(value) => {
                // Show the value alone, without the comment that may follow it.
                let mut value = value.clone();
                value.decor_mut().clear();
                value.to_string()
            }
            None => current.to_string(),
        };
        return Err(InstallError::NotifyTaken {
            path: path.to_path_buf(),
            current: shown.trim().to_string(),
            ours: ours.to_string().trim().to_string(),
        }
        .into());
    }

    // A root key lands after the existing root keys and before the first table.
    doc.insert("notify", toml_edit::value(ours));
    let mut out = doc.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(Some(out))
}

/// The file a symbolic link points to, or `path` itself.
fn follow_link(path: &Path) -> PathBuf {
    let is_link = fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    if !is_link {
        return path.to_path_buf();
    }
    fs::canonicalize(path)
        .or_else(|_| {
            // A dangling link: resolve it by hand so the file is created where it points.
            fs::read_link(path).map(|target| match path.parent() {
                Some(dir) if target.is_relative() => dir.join(target),
                _ => target,
            })
        })
        .unwrap_or_else(|_| path.to_path_buf())
}

fn read_existing(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Replaces `path` with `text` in one rename, so an agent starting up never reads half a file.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".countersign-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    // Temporary files are private (0600); keep the mode the settings file had, or the usual one.
    let permissions = match fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => default_permissions(),
    };
    if let Some(permissions) = permissions {
        tmp.as_file()
            .set_permissions(permissions)
            .with_context(|| format!("cannot set the permissions of {}", tmp.path().display()))?;
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions() -> Option<fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<fs::Permissions> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dirs {
        _tmp: tempfile::TempDir,
        project: PathBuf,
        home: PathBuf,
    }

    fn dirs() -> Dirs {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("repo");
        let home = tmp.path().join("home");
        fs::create_dir_all(&project).unwrap();
        fs::create_dir_all(&home).unwrap();
        Dirs {
            _tmp: tmp,
            project,
            home,
        }
    }

    fn install_in(d: &Dirs, agent: Agent, scope: Scope) -> Result<Outcome> {
        install(agent, scope, &d.project, &d.home, "countersign")
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
    }

    fn install_error(result: Result<Outcome>) -> InstallError {
        result
            .expect_err("the install should fail")
            .downcast::<InstallError>()
            .expect("an InstallError")
    }

    #[test]
    fn claude_code_project_install_creates_settings_with_the_edit_matcher() {
        let d = dirs();
        let outcome = install_in(&d, Agent::ClaudeCode, Scope::Project).unwrap();
        let path = d.project.join(".claude/settings.json");
        assert_eq!(outcome, Outcome::Installed { path: path.clone() });
        assert_eq!(
            read_json(&path),
            json!({"hooks": {"PostToolUse": [{
                "matcher": "Edit|MultiEdit|Write|NotebookEdit",
                "hooks": [{"type": "command", "command": "countersign hook claude-code"}]
            }]}})
        );
    }

    #[test]
    fn claude_code_user_install_writes_the_home_settings() {
        let d = dirs();
        let outcome = install_in(&d, Agent::ClaudeCode, Scope::User).unwrap();
        assert_eq!(outcome.path(), d.home.join(".claude/settings.json"));
        assert!(outcome.path().is_file());
        assert!(!d.project.join(".claude").exists());
    }

    #[test]
    fn cursor_install_creates_a_version_1_hooks_file() {
        for scope in [Scope::Project, Scope::User] {
            let d = dirs();
            let outcome = install_in(&d, Agent::Cursor, scope).unwrap();
            let base = if scope == Scope::Project {
                &d.project
            } else {
                &d.home
            };
            assert_eq!(outcome.path(), base.join(".cursor/hooks.json"));
            let text = fs::read_to_string(outcome.path()).unwrap();
            assert!(
                text.trim_start().starts_with("{\n  \"version\": 1,"),
                "{text}"
            );
            assert_eq!(
                serde_json::from_str::<Value>(&text).unwrap(),
                json!({"version": 1, "hooks": {"afterFileEdit": [{"command": "countersign hook cursor"}]}})
            );
        }
    }

    #[test]
    fn gemini_install_adds_an_after_tool_hook_for_file_edits() {
        for scope in [Scope::Project, Scope::User] {
            let d = dirs();
            let outcome = install_in(&d, Agent::Gemini, scope).unwrap();
            let base = if scope == Scope::Project {
                &d.project
            } else {
                &d.home
            };
            assert_eq!(outcome.path(), base.join(".gemini/settings.json"));
            assert_eq!(
                read_json(outcome.path()),
                json!({"hooks": {"AfterTool": [{
                    "matcher": "write_file|replace",
                    "hooks": [{"name": "countersign", "type": "command", "command": "countersign hook gemini"}]
                }]}})
            );
        }
    }

    #[test]
    fn codex_user_install_sets_notify_to_the_hook_argv() {
        let d = dirs();
        let outcome = install_in(&d, Agent::Codex, Scope::User).unwrap();
        let path = d.home.join(".codex/config.toml");
        assert_eq!(outcome, Outcome::Installed { path: path.clone() });
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "notify = [\"countersign\", \"hook\", \"codex\"]\n"
        );
    }

    #[test]
    fn codex_project_install_adds_a_post_tool_use_hook_for_apply_patch() {
        let d = dirs();
        let outcome = install_in(&d, Agent::Codex, Scope::Project).unwrap();
        let path = d.project.join(".codex/hooks.json");
        assert_eq!(outcome, Outcome::Installed { path: path.clone() });
        let v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["hooks"]["PostToolUse"][0]["matcher"], "apply_patch");
        assert_eq!(
            v["hooks"]["PostToolUse"][0]["hooks"][0]["command"],
            "countersign hook codex"
        );
        // Codex ignores `notify` in a project's config: nothing is written there.
        assert!(!d.project.join(".codex/config.toml").exists());
        assert!(!d.home.join(".codex").exists());
    }

    #[test]
    fn claude_code_merge_keeps_other_hooks_matchers_and_keys() {
        let d = dirs();
        let path = d.project.join(".claude/settings.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let before = json!({
            "permissions": {"allow": ["Bash(npm run test:*)"]},
            "hooks": {
                "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./audit.sh"}]}],
                "PostToolUse": [{"matcher": "Write", "hooks": [{"type": "command", "command": "prettier --write"}]}]
            },
            "model": "opus"
        });
        fs::write(&path, serde_json::to_string_pretty(&before).unwrap()).unwrap();

        install_in(&d, Agent::ClaudeCode, Scope::Project).unwrap();

        let after = read_json(&path);
        assert_eq!(after["permissions"], before["permissions"]);
        assert_eq!(after["model"], "opus");
        assert_eq!(after["hooks"]["PreToolUse"], before["hooks"]["PreToolUse"]);
        let post = after["hooks"]["PostToolUse"].as_array().unwrap();
        assert_eq!(post.len(), 2);
        assert_eq!(post[0], before["hooks"]["PostToolUse"][0]);
        assert_eq!(post[1]["matcher"], "Edit|MultiEdit|Write|NotebookEdit");
        let keys: Vec<&String> = after.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["permissions", "hooks", "model"], "key order is kept");
    }

    #[test]
    fn cursor_merge_keeps_other_hooks_and_adds_ours_once() {
        let d = dirs();
        let path = d.project.join(".cursor/hooks.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(
            &path,
            r#"{"version": 1, "hooks": {"afterFileEdit": [{"command": "./format.sh"}], "stop": [{"command": "./notify.sh"}]}}"#,
        )
        .unwrap();

        install_in(&d, Agent::Cursor, Scope::Project).unwrap();
        install_in(&d, Agent::Cursor, Scope::Project).unwrap();

        assert_eq!(
            read_json(&path),
            json!({"version": 1, "hooks": {
                "afterFileEdit": [{"command": "./format.sh"}, {"command": "countersign hook cursor"}],
                "stop": [{"command": "./notify.sh"}]
            }})
        );
    }

    #[test]
    fn gemini_merge_keeps_other_settings_and_hooks() {
        let d = dirs();
        let path = d.home.join(".gemini/settings.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let before = json!({
            "theme": "GitHub",
            "hooksConfig": {"enabled": true},
            "hooks": {"AfterTool": [{"matcher": "*", "hooks": [{"name": "log", "type": "command", "command": "~/log.sh"}]}]}
        });
        fs::write(&path, before.to_string()).unwrap();

        install_in(&d, Agent::Gemini, Scope::User).unwrap();

        let after = read_json(&path);
        assert_eq!(after["theme"], "GitHub");
        assert_eq!(after["hooksConfig"], before["hooksConfig"]);
        let groups = after["hooks"]["AfterTool"].as_array().unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0], before["hooks"]["AfterTool"][0]);
        assert_eq!(groups[1]["hooks"][0]["command"], "countersign hook gemini");
    }

    #[test]
    fn second_install_reports_already_installed_and_leaves_the_file_byte_identical() {
        for agent in [
            Agent::ClaudeCode,
            Agent::Cursor,
            Agent::Gemini,
            Agent::Codex,
        ] {
            let d = dirs();
            let first = install_in(&d, agent, Scope::User).unwrap();
            let bytes = fs::read(first.path()).unwrap();
            let second = install_in(&d, agent, Scope::User).unwrap();
            assert_eq!(
                second,
                Outcome::AlreadyInstalled {
                    path: first.path().to_path_buf()
                },
                "{agent:?}"
            );
            assert_eq!(fs::read(second.path()).unwrap(), bytes, "{agent:?}");
        }
    }

    #[test]
    fn codex_merge_keeps_comments_tables_and_formatting() {
        let d = dirs();
        let path = d.home.join(".codex/config.toml");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let before = "# my Codex setup\nmodel = \"gpt-5-codex\"   # the default\napproval_policy = \"on-request\"\n\n# trusted repos\n[projects.\"/home/dev/shop\"]\ntrust_level = \"trusted\"\n";
        fs::write(&path, before).unwrap();

        install_in(&d, Agent::Codex, Scope::User).unwrap();

        let after = fs::read_to_string(&path).unwrap();
        assert_eq!(
            after,
            "# my Codex setup\nmodel = \"gpt-5-codex\"   # the default\napproval_policy = \"on-request\"\nnotify = [\"countersign\", \"hook\", \"codex\"]\n\n# trusted repos\n[projects.\"/home/dev/shop\"]\ntrust_level = \"trusted\"\n"
        );
        let parsed: toml::Value = toml::from_str(&after).unwrap();
        assert_eq!(parsed["notify"][2].as_str(), Some("codex"));
    }

    #[test]
    fn codex_notify_for_another_program_is_not_replaced() {
        let d = dirs();
        let path = d.home.join(".codex/config.toml");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let before = "notify = [\"python3\", \"/home/dev/.codex/notify.py\"] # desktop alerts\n";
        fs::write(&path, before).unwrap();

        let err = install_error(install_in(&d, Agent::Codex, Scope::User));

        assert!(matches!(err, InstallError::NotifyTaken { .. }));
        let message = err.to_string();
        assert!(message.contains("single notify program"), "{message}");
        assert!(
            message.contains(r#"`notify = ["python3", "/home/dev/.codex/notify.py"]`"#),
            "{message}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn malformed_json_settings_are_left_untouched_with_an_error_naming_the_file() {
        for agent in [Agent::ClaudeCode, Agent::Cursor, Agent::Gemini] {
            let d = dirs();
            let path = settings_path(agent, Scope::Project, &d.project, &d.home).unwrap();
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            let before = "{\n  \"hooks\": {\n    // a comment\n  }\n}\n";
            fs::write(&path, before).unwrap();

            let err = install_error(install_in(&d, agent, Scope::Project));

            assert!(matches!(err, InstallError::InvalidJson { .. }), "{agent:?}");
            let message = err.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(
                message.contains("line 3"),
                "the parse error is shown: {message}"
            );
            assert!(
                message.contains(&shell_command("countersign", agent)),
                "{message}"
            );
            assert_eq!(fs::read_to_string(&path).unwrap(), before);
            assert_eq!(
                fs::read_dir(path.parent().unwrap()).unwrap().count(),
                1,
                "no temp file left"
            );
        }
    }

    #[test]
    fn malformed_codex_config_is_left_untouched_with_an_error_naming_the_file() {
        let d = dirs();
        let path = d.home.join(".codex/config.toml");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let before = "model = \"gpt-5-codex\"\n[projects\n";
        fs::write(&path, before).unwrap();

        let err = install_error(install_in(&d, Agent::Codex, Scope::User));

        assert!(matches!(err, InstallError::InvalidToml { .. }));
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn settings_of_the_wrong_shape_are_refused_naming_the_key() {
        let d = dirs();
        let path = d.project.join(".claude/settings.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let before = r#"{"hooks": {"PostToolUse": {"matcher": "Edit"}}}"#;
        fs::write(&path, before).unwrap();

        let err = install_error(install_in(&d, Agent::ClaudeCode, Scope::Project));

        let message = err.to_string();
        assert!(
            message.contains("`hooks.PostToolUse` is an object"),
            "{message}"
        );
        assert!(message.contains("an array"), "{message}");
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn empty_settings_file_is_treated_as_empty_settings() {
        let d = dirs();
        let path = d.project.join(".claude/settings.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "").unwrap();
        let outcome = install_in(&d, Agent::ClaudeCode, Scope::Project).unwrap();
        assert!(matches!(outcome, Outcome::Installed { .. }));
        assert!(read_json(&path)["hooks"]["PostToolUse"].is_array());
    }

    #[test]
    fn program_path_with_spaces_is_quoted_for_the_shell() {
        let d = dirs();
        install(
            Agent::ClaudeCode,
            Scope::Project,
            &d.project,
            &d.home,
            "/opt/Count Sign/bin/countersign",
        )
        .unwrap();
        let settings = read_json(&d.project.join(".claude/settings.json"));
        assert_eq!(
            settings["hooks"]["PostToolUse"][0]["hooks"][0]["command"],
            "'/opt/Count Sign/bin/countersign' hook claude-code"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(
            shell_quote("/usr/local/bin/countersign"),
            "/usr/local/bin/countersign"
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_settings_stay_a_link_and_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let d = dirs();
        let dotfiles = d.home.join("dotfiles/claude-settings.json");
        fs::create_dir_all(dotfiles.parent().unwrap()).unwrap();
        fs::write(&dotfiles, "{\"model\": \"opus\"}").unwrap();
        fs::set_permissions(&dotfiles, fs::Permissions::from_mode(0o640)).unwrap();
        let link = d.home.join(".claude/settings.json");
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&dotfiles, &link).unwrap();

        let outcome = install_in(&d, Agent::ClaudeCode, Scope::User).unwrap();

        assert_eq!(outcome.path(), link);
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let target = read_json(&dotfiles);
        assert_eq!(target["model"], "opus");
        assert!(target["hooks"]["PostToolUse"].is_array());
        let mode = fs::metadata(&dotfiles).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn new_settings_files_are_world_readable_like_any_config() {
        use std::os::unix::fs::PermissionsExt;
        let d = dirs();
        let outcome = install_in(&d, Agent::Cursor, Scope::Project).unwrap();
        let mode = fs::metadata(outcome.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[test]
    fn agents_are_named_as_on_the_command_line() {
        use clap::ValueEnum;
        for agent in Agent::value_variants() {
            let name = agent.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(name, agent.name());
        }
    }
}
