//! Lines an AI wrote according to git history: `git blame` of the working-tree file, and the
//! trailers of the commits it names.
//!
//! Invariant: a line is AI-written only when the commit that last touched it is an AI commit,
//! so a person's later commit to the line makes it theirs; lines not yet committed never are.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use serde::Deserialize;

/// Which commit trailers mark a commit as AI-written: `[provenance.git]` in
/// `countersign.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrailerRules {
    /// Read authorship from git history at all.
    pub enabled: bool,
    /// Case-insensitive substrings of a `Co-authored-by:` value that name an AI tool: its name
    /// or the address it commits with (`Claude <noreply@anthropic.com>`).
    pub coauthors: Vec<String>,
    /// Trailer keys (case-insensitive) that always mean AI, whose value names the agent:
    /// `Generated-by: cursor`. A value of `no`, `false` or `none` does not count.
    pub trailers: Vec<String>,
    /// Case-insensitive commit-subject prefixes that mean AI: aider starts its subjects with
    /// `aider: ` unless told otherwise. The agent is the prefix without its colon.
    pub subject_prefixes: Vec<String>,
    /// Git notes refs whose notes are read like trailers (`Generated-by: cursor` in a note
    /// added after the fact): `commits` is git's default notes ref, `ai` is `refs/notes/ai`.
    pub notes: Vec<String>,
}

impl Default for TrailerRules {
    fn default() -> Self {
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        TrailerRules {
            enabled: true,
            coauthors: strings(&[
                "claude",
                "noreply@anthropic.com",
                "copilot",
                "copilot@github.com",
                "cursor",
                "gemini",
                "codex",
                "devin",
                "aider",
                "noreply@aider.chat",
                "windsurf",
                "amazon q",
                "amazon-q",
                "junie",
                "jules",
                "openhands",
            ]),
            trailers: strings(&["Generated-by", "Assisted-by", "AI-assisted"]),
            subject_prefixes: strings(&["aider:"]),
            notes: strings(&["commits", "ai"]),
        }
    }
}

/// What the tools call themselves in trailers, and the short name a diagnostic shows for each;
/// the earliest match in a value wins. Only naming: whether a commit is AI is up to the rules.
const AGENT_NAMES: &[(&str, &str)] = &[
    ("claude", "claude"),
    ("anthropic", "claude"),
    ("copilot", "copilot"),
    ("cursor", "cursor"),
    ("gemini", "gemini"),
    ("codex", "codex"),
    ("devin", "devin"),
    ("aider", "aider"),
    ("windsurf", "windsurf"),
    ("codeium", "windsurf"),
    ("amazon q", "amazon-q"),
    ("amazon-q", "amazon-q"),
    ("junie", "junie"),
    ("jules", "jules"),
    ("openhands", "openhands"),
    ("all-hands", "openhands"),
    ("chatgpt", "chatgpt"),
];

/// Values of an always-AI trailer that say the opposite: `AI-assisted: no`.
const DENIALS: &[&str] = &["no", "false", "none", "n/a", "0"];

/// Values of an always-AI trailer that say yes without naming the agent: `AI-assisted: yes`.
const AFFIRMATIONS: &[&str] = &["yes", "true", "1"];

impl TrailerRules {
    /// The agent named by a commit's message, else by its notes (each note read as a block of
    /// trailers).
    pub fn agent_of_commit(&self, message: &str, notes: &str) -> Option<String> {
        self.agent_of(message).or_else(|| {
            let notes = notes.trim();
            (!notes.is_empty())
                .then(|| self.agent_of(&format!("note\n\n{notes}")))
                .flatten()
        })
    }

    /// `git log` arguments that show the configured notes (`%N`).
    pub fn notes_args(&self) -> Vec<String> {
        self.notes.iter().map(|n| format!("--notes={n}")).collect()
    }

    /// The agent named by a commit message's trailers (e.g. `claude`, `copilot`, `aider`), if
    /// any: a short lowercase name derived from the matched value. Trailers are read as git
    /// reads them, from the message's last paragraph; then the subject prefixes are tried.
    /// Always `None` when the rules are disabled.
    pub fn agent_of(&self, message: &str) -> Option<String> {
        if !self.enabled {
            return None;
        }
        for (key, value) in trailers(message) {
            if key.eq_ignore_ascii_case("co-authored-by") {
                let named = self
                    .coauthors
                    .iter()
                    .find(|p| !p.is_empty() && contains_ignore_case(&value, p));
                if let Some(pattern) = named {
                    return Some(agent_name(&value, pattern));
                }
            } else if self.trailers.iter().any(|t| t.eq_ignore_ascii_case(key)) {
                let is = |list: &[&str]| list.iter().any(|w| value.eq_ignore_ascii_case(w));
                if is(AFFIRMATIONS) {
                    return Some("unknown".into());
                }
                if !is(DENIALS) {
                    return Some(agent_name(&value, "unknown"));
                }
            }
        }
        let subject = message.trim_start().lines().next().unwrap_or("");
        self.subject_prefixes.iter().find_map(|prefix| {
            let prefix = prefix.trim();
            let head = subject.get(..prefix.len())?;
            (!prefix.is_empty() && head.eq_ignore_ascii_case(prefix)).then(|| {
                let name = prefix.trim_end_matches(|c: char| c == ':' || c.is_whitespace());
                agent_name(name, "unknown")
            })
        })
    }
}

/// Like [`ai_lines`] when the AI commits that matter are known already (`check` reads the
/// messages of a whole commit range at once): one `git blame`, no message lookup. Lines of
/// commits not in `agents` are not AI.
pub fn ai_lines_of_commits(
    root: &Path,
    rel_path: &str,
    agents: &HashMap<String, String>,
) -> anyhow::Result<Vec<AiLine>> {
    let blame = run_git(root, &["blame", "--porcelain", "--", rel_path], None)
        .with_context(|| format!("git blame of {rel_path} in {}", root.display()))?;
    let blame = parse_blame(&blame)
        .with_context(|| format!("reading git blame of {rel_path} in {}", root.display()))?;
    Ok(blame.ai_lines(|commit| agents.get(commit)))
}

/// A line of a working-tree file that an AI commit wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiLine {
    /// 1-based, in the working-tree file.
    pub line: usize,
    /// The line without its line break.
    pub text: String,
    pub agent: String,
    /// Full hash of the commit that last touched the line.
    pub commit: String,
    /// That commit's subject.
    pub summary: String,
}

/// The lines of `rel_path` (relative to the work tree `root`) that AI commits wrote, per
/// `git blame` of the working-tree file. Lines not yet committed are not included. Errors
/// (not a repo, file untracked, git missing) are returned as `Err`, never panic. Disabled rules
/// run no git at all.
///
/// Two git processes at most: `git blame` of the file, then one `git log` for the messages of
/// the distinct commits blame named. A cheaper-looking pre-check (`git log -- <path>` for any
/// AI commit, then blame only if there is one) is not cheaper where it matters: when an AI
/// touched the file it is a third process and a second walk of the file's history, and it
/// does not follow renames as blame does, so it would miss AI lines written before a move.
/// The fast paths kept are free ones: no committed line, no second process.
pub fn ai_lines(root: &Path, rel_path: &str, rules: &TrailerRules) -> anyhow::Result<Vec<AiLine>> {
    if !rules.enabled {
        return Ok(Vec::new());
    }
    let blame = run_git(root, &["blame", "--porcelain", "--", rel_path], None)
        .with_context(|| format!("git blame of {rel_path} in {}", root.display()))?;
    let blame = parse_blame(&blame)
        .with_context(|| format!("reading git blame of {rel_path} in {}", root.display()))?;
    if blame.lines.is_empty() {
        return Ok(Vec::new());
    }

    // Hashes go in on stdin, so a file with thousands of commits needs no argument chunking.
    let mut hashes: Vec<&str> = blame.summaries.keys().copied().collect();
    hashes.sort_unstable();
    let stdin = hashes.join("\n") + "\n";
    let notes = rules.notes_args();
    let mut args: Vec<&str> = vec![
        "log",
        "--no-walk=unsorted",
        "--stdin",
        "-z",
        "--format=%H%n%B%x1f%N",
    ];
    args.extend(notes.iter().map(String::as_str));
    let log = run_git(root, &args, Some(stdin.as_bytes())).with_context(|| {
        format!(
            "reading the commits that wrote {rel_path} in {}",
            root.display()
        )
    })?;
    let mut agents: HashMap<&str, String> = HashMap::new();
    for record in log.split(|&b| b == 0) {
        let record = String::from_utf8_lossy(record);
        let Some((hash, rest)) = record.split_once('\n') else {
            continue;
        };
        let (message, notes) = rest.split_once('\x1f').unwrap_or((rest, ""));
        if let (Some(agent), Some((&hash, _))) = (
            rules.agent_of_commit(message, notes),
            blame.summaries.get_key_value(hash.trim()),
        ) {
            agents.insert(hash, agent);
        }
    }

    Ok(blame.ai_lines(|commit| agents.get(commit)))
}

/// `git` in `root`, with output that does not depend on the user's configuration, and the
/// repository found from `root` even when we run inside a git hook (which exports `GIT_DIR`
/// and `GIT_INDEX_FILE` for its own repository).
fn run_git(root: &Path, args: &[&str], stdin: Option<&[u8]>) -> anyhow::Result<Vec<u8>> {
    let mut cmd = Command::new("git");
    cmd.arg("--no-pager")
        .arg("-C")
        .arg(root)
        .args(["-c", "core.quotepath=off"])
        .args(["-c", "i18n.logOutputEncoding=UTF-8"])
        .args(["-c", "log.showSignature=false"])
        .args(["-c", "color.ui=never"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        // Reading history must not take the index lock from the person's own git commands.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .context("could not run git: is it installed and on PATH?")?;
    // git log reads all of stdin before it writes, so writing first cannot deadlock; the pipe
    // is dropped with the match arm, which closes git's input.
    let written = match (stdin, child.stdin.take()) {
        (Some(input), Some(mut pipe)) => pipe.write_all(input),
        _ => Ok(()),
    };
    let out = child.wait_with_output().context("waiting for git")?;
    if !out.status.success() {
        // A git that failed early also broke the pipe: its own message says why.
        let stderr = String::from_utf8_lossy(&out.stderr);
        match stderr.trim() {
            "" => bail!("git exited with {}", out.status),
            message => bail!("{message}"),
        }
    }
    written.context("writing to git")?;
    Ok(out.stdout)
}

struct Blame<'a> {
    /// Committed lines only.
    lines: Vec<BlamedLine<'a>>,
    /// Subject of each commit named, by full hash; the all-zero hash is not one.
    summaries: HashMap<&'a str, String>,
}

impl Blame<'_> {
    /// The lines whose commit `agent_of` names an agent for.
    fn ai_lines<'s>(self, agent_of: impl Fn(&str) -> Option<&'s String>) -> Vec<AiLine> {
        let summaries = self.summaries;
        self.lines
            .into_iter()
            .filter_map(|line| {
                let agent = agent_of(line.commit)?;
                Some(AiLine {
                    line: line.line,
                    text: line.text,
                    agent: agent.clone(),
                    commit: line.commit.to_string(),
                    summary: summaries.get(line.commit).cloned().unwrap_or_default(),
                })
            })
            .collect()
    }
}

struct BlamedLine<'a> {
    line: usize,
    text: String,
    commit: &'a str,
}

/// Reads `git blame --porcelain`: per line a header `<hash> <orig-line> <final-line> [<n>]`,
/// the commit's `key value` lines the first time the commit appears, then the line's text
/// after a tab. Lines of the all-zero hash are not committed yet and are left out.
fn parse_blame(out: &[u8]) -> anyhow::Result<Blame<'_>> {
    let mut lines = Vec::new();
    let mut summaries = HashMap::new();
    let mut current: Option<(&str, usize)> = None;
    for raw in out.split(|&b| b == b'\n') {
        if let Some(text) = raw.strip_prefix(b"\t") {
            let Some((commit, line)) = current.take() else {
                bail!("a line's text without its header");
            };
            if summaries.contains_key(commit) {
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                lines.push(BlamedLine {
                    line,
                    text: String::from_utf8_lossy(text).into_owned(),
                    commit,
                });
            }
        } else if let Some((commit, _)) = current {
            if let Some(summary) = raw.strip_prefix(b"summary ") {
                if summaries.contains_key(commit) {
                    let summary = String::from_utf8_lossy(summary);
                    summaries.insert(commit, summary.trim_end().to_string());
                }
            }
        } else if !raw.is_empty() {
            let header = std::str::from_utf8(raw).ok();
            let mut fields = header.into_iter().flat_map(|h| h.split(' '));
            let commit = fields
                .next()
                .filter(|h| h.len() >= 40 && h.bytes().all(|b| b.is_ascii_hexdigit()));
            let line = fields.nth(1).and_then(|n| n.parse::<usize>().ok());
            let (Some(commit), Some(line)) = (commit, line) else {
                bail!("unexpected line {:?}", String::from_utf8_lossy(raw));
            };
            if commit.bytes().any(|b| b != b'0') {
                summaries.entry(commit).or_default();
            }
            current = Some((commit, line));
        }
    }
    Ok(Blame { lines, summaries })
}

/// The trailers of a commit message as `(key, value)`, continuation lines unfolded. Follows
/// git's own reading: trailers are the last paragraph, never the subject's, and that paragraph
/// counts only if all its lines are trailers, or a quarter of them are and one is git's own
/// (`Signed-off-by: `, `(cherry picked from commit `). CRLF messages read the same.
fn trailers(message: &str) -> Vec<(&str, String)> {
    let lines: Vec<&str> = message.lines().collect();
    let blank = |l: &&str| l.trim().is_empty();
    let Some(start) = lines.iter().position(|l| !blank(l)) else {
        return Vec::new();
    };
    let end = lines.iter().rposition(|l| !blank(l)).map_or(0, |i| i + 1);
    let Some(subject_end) = lines[start..end].iter().position(blank).map(|i| start + i) else {
        return Vec::new();
    };
    let block_start = lines[..end].iter().rposition(blank).map_or(0, |i| i + 1);
    if block_start <= subject_end {
        return Vec::new();
    }

    let mut found: Vec<(&str, String)> = Vec::new();
    let (mut trailer_lines, mut other_lines, mut gits_own) = (0usize, 0usize, false);
    let mut after_trailer = false;
    for line in &lines[block_start..end] {
        if line.starts_with(['\t', ' ']) {
            match found.last_mut() {
                Some((_, value)) if after_trailer => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                _ => other_lines += 1,
            }
            continue;
        }
        after_trailer = false;
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with("(cherry picked from commit ") {
            trailer_lines += 1;
            gits_own = true;
        } else if let Some((key, value)) = split_trailer(line) {
            trailer_lines += 1;
            gits_own |= line.starts_with("Signed-off-by: ");
            found.push((key, value.trim().to_string()));
            after_trailer = true;
        } else {
            other_lines += 1;
        }
    }
    let is_block =
        trailer_lines > 0 && (other_lines == 0 || (gits_own && trailer_lines * 3 >= other_lines));
    if is_block {
        found
    } else {
        Vec::new()
    }
}

/// `Key: value` as git's trailer parser accepts it: a key of letters, digits and dashes,
/// optional blanks, then the colon.
fn split_trailer(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let token = key.trim_end_matches([' ', '\t']);
    let valid = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then_some((token, value))
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// A short lowercase name for the agent a trailer value names: a known tool's name if the
/// value mentions one (`Copilot <175728472+Copilot@users.noreply.github.com>` is `copilot`),
/// else the display name without its address or `(model)`/`[bot]` notes, dashed
/// (`Acme Agent <bot@acme.dev>` is `acme-agent`), else the address's user, else `fallback`.
fn agent_name(value: &str, fallback: &str) -> String {
    let lower = value.to_lowercase();
    let known = AGENT_NAMES
        .iter()
        .filter_map(|(needle, name)| lower.find(needle).map(|at| (at, *name)))
        .min_by_key(|&(at, _)| at);
    if let Some((_, name)) = known {
        return name.to_string();
    }
    let (display, address) = match lower.split_once('<') {
        Some((display, rest)) => (display, rest.split('>').next().unwrap_or("")),
        None if !lower.contains(' ') && lower.contains('@') => ("", lower.as_str()),
        None => (lower.as_str(), ""),
    };
    let mut plain = String::new();
    let mut depth = 0usize;
    for c in display.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = plain.split_whitespace().take(4).collect();
    if !words.is_empty() {
        return words.join("-");
    }
    match address.split('@').next().map(str::trim) {
        Some(user) if !user.is_empty() => user.to_string(),
        _ => fallback.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const CLAUDE: &str = "Co-Authored-By: Claude <noreply@anthropic.com>";

    /// A real git repository in a temporary folder; git here reads an empty configuration
    /// file next to it instead of the machine's, so commits look the same everywhere.
    struct Repo {
        dir: tempfile::TempDir,
    }

    impl Repo {
        fn new() -> Repo {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("repo")).unwrap();
            std::fs::write(dir.path().join("gitconfig"), "").unwrap();
            let repo = Repo { dir };
            repo.git(&["init", "-q"]);
            repo
        }

        fn root(&self) -> PathBuf {
            self.dir.path().join("repo")
        }

        fn git(&self, args: &[&str]) -> String {
            let out = Command::new("git")
                .current_dir(self.root())
                .args(args)
                .env("GIT_CONFIG_GLOBAL", self.dir.path().join("gitconfig"))
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_AUTHOR_NAME", "Dev Eloper")
                .env("GIT_AUTHOR_EMAIL", "dev@example.com")
                .env("GIT_COMMITTER_NAME", "Dev Eloper")
                .env("GIT_COMMITTER_EMAIL", "dev@example.com")
                .env_remove("GIT_DIR")
                .env_remove("GIT_WORK_TREE")
                .env_remove("GIT_INDEX_FILE")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }

        fn write(&self, path: &str, text: &str) {
            let path = self.root().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }

        /// Commits everything with `message` kept byte for byte; returns the commit's hash.
        fn commit(&self, message: &str) -> String {
            self.git(&["add", "-A"]);
            self.git(&["commit", "-q", "--cleanup=verbatim", "-m", message]);
            self.git(&["rev-parse", "HEAD"]).trim().to_string()
        }

        fn ai_lines(&self, path: &str) -> Vec<AiLine> {
            ai_lines(&self.root(), path, &TrailerRules::default()).unwrap()
        }
    }

    fn numbers(lines: &[AiLine]) -> Vec<usize> {
        lines.iter().map(|l| l.line).collect()
    }

    fn agent(message: &str) -> Option<String> {
        TrailerRules::default().agent_of(message)
    }

    #[test]
    fn the_line_an_ai_commit_added_is_ai_and_the_rest_are_not() {
        let repo = Repo::new();
        repo.write("db/migrate.sql", "BEGIN;\nCOMMIT;\n");
        repo.commit("Start the migration\n");
        repo.write("db/migrate.sql", "BEGIN;\nDROP TABLE users;\nCOMMIT;\n");
        let ai = repo.commit(&format!(
            "Clean up old tables\n\nNo longer used.\n\n{CLAUDE}\n"
        ));

        let lines = repo.ai_lines("db/migrate.sql");
        assert_eq!(
            lines,
            vec![AiLine {
                line: 2,
                text: "DROP TABLE users;".into(),
                agent: "claude".into(),
                commit: ai,
                summary: "Clean up old tables".into(),
            }]
        );
    }

    #[test]
    fn a_person_committing_over_an_ai_line_makes_it_theirs() {
        let repo = Repo::new();
        repo.write("db/migrate.sql", "BEGIN;\nDROP TABLE users;\nCOMMIT;\n");
        repo.commit(&format!("Drop users\n\n{CLAUDE}\n"));
        assert_eq!(numbers(&repo.ai_lines("db/migrate.sql")), [1, 2, 3]);

        repo.write(
            "db/migrate.sql",
            "BEGIN;\nDROP TABLE IF EXISTS users;\nCOMMIT;\n",
        );
        repo.commit("Guard the drop\n");
        assert_eq!(numbers(&repo.ai_lines("db/migrate.sql")), [1, 3]);
    }

    #[test]
    fn uncommitted_edits_are_not_ai_and_shift_the_ai_lines() {
        let repo = Repo::new();
        repo.write("a.sql", "DROP TABLE users;\n");
        let ai = repo.commit(&format!("Drop users\n\n{CLAUDE}\n"));
        repo.write(
            "a.sql",
            "-- reviewed\nDROP TABLE users;\nDROP TABLE logs;\n",
        );

        let lines = repo.ai_lines("a.sql");
        assert_eq!(numbers(&lines), [2]);
        assert_eq!(lines[0].commit, ai);
        assert_eq!(lines[0].text, "DROP TABLE users;");
    }

    #[test]
    fn a_generated_by_trailer_names_the_agent() {
        let repo = Repo::new();
        repo.write("deploy.sh", "kubectl delete ns prod\n");
        repo.commit("Tear down\n\nGenerated-by: cursor\n");
        let lines = repo.ai_lines("deploy.sh");
        assert_eq!(numbers(&lines), [1]);
        assert_eq!(lines[0].agent, "cursor");
    }

    #[test]
    fn a_human_co_author_is_not_an_ai() {
        let repo = Repo::new();
        repo.write("a.sql", "DROP TABLE users;\n");
        repo.commit("Pair on the drop\n\nCo-authored-by: Jane <jane@example.com>\n");
        assert_eq!(repo.ai_lines("a.sql"), []);
    }

    #[test]
    fn a_trailer_in_the_middle_of_the_body_does_not_count() {
        let repo = Repo::new();
        repo.write("a.sql", "DROP TABLE users;\n");
        repo.commit(&format!(
            "Drop users\n\nLast time this was\n{CLAUDE}\nbut not now.\n\nSigned-off-by: Dev Eloper <dev@example.com>\n"
        ));
        assert_eq!(repo.ai_lines("a.sql"), []);
    }

    #[test]
    fn an_aider_subject_is_ai() {
        let repo = Repo::new();
        repo.write("app.py", "os.remove(path)\n");
        repo.commit("aider: Remove the cache file on exit\n");
        let lines = repo.ai_lines("app.py");
        assert_eq!(numbers(&lines), [1]);
        assert_eq!(lines[0].agent, "aider");
        assert_eq!(lines[0].summary, "aider: Remove the cache file on exit");
    }

    #[test]
    fn a_configured_co_author_is_ai() {
        let repo = Repo::new();
        repo.write("a.sql", "DROP TABLE users;\n");
        repo.commit("Drop users\n\nCo-authored-by: Acme Agent <bot@acme.dev>\n");
        assert_eq!(repo.ai_lines("a.sql"), []);

        let rules = TrailerRules {
            coauthors: vec!["@ACME.dev".into()],
            ..TrailerRules::default()
        };
        let lines = ai_lines(&repo.root(), "a.sql", &rules).unwrap();
        assert_eq!(numbers(&lines), [1]);
        assert_eq!(lines[0].agent, "acme-agent");

        let off = TrailerRules {
            enabled: false,
            ..rules
        };
        assert_eq!(ai_lines(&repo.root(), "a.sql", &off).unwrap(), []);
    }

    #[test]
    fn a_crlf_message_and_file_read_like_lf() {
        let repo = Repo::new();
        repo.write("a.sql", "BEGIN;\r\nDROP TABLE users;\r\n");
        repo.commit(&format!("Drop users\r\n\r\n{CLAUDE}\r\n"));
        let lines = repo.ai_lines("a.sql");
        assert_eq!(numbers(&lines), [1, 2]);
        assert_eq!(lines[1].text, "DROP TABLE users;");
        assert_eq!(lines[1].summary, "Drop users");
    }

    #[test]
    fn a_file_in_a_folder_with_a_space_is_found() {
        let repo = Repo::new();
        repo.write("db scripts/é.sql", "DROP TABLE users;\n");
        repo.commit(&format!("Drop users\n\n{CLAUDE}\n"));
        assert_eq!(numbers(&repo.ai_lines("db scripts/é.sql")), [1]);
    }

    #[test]
    fn a_file_moved_after_an_ai_commit_keeps_its_ai_lines() {
        let repo = Repo::new();
        repo.write("old.sql", "BEGIN;\nDROP TABLE users;\nCOMMIT;\n");
        let ai = repo.commit(&format!("Drop users\n\n{CLAUDE}\n"));
        std::fs::create_dir(repo.root().join("db")).unwrap();
        repo.git(&["mv", "old.sql", "db/new.sql"]);
        repo.commit("Move migrations into db/\n");
        let lines = repo.ai_lines("db/new.sql");
        assert_eq!(numbers(&lines), [1, 2, 3]);
        assert!(lines.iter().all(|l| l.commit == ai));
    }

    #[test]
    fn a_file_that_was_never_committed_is_an_error() {
        let repo = Repo::new();
        repo.write("a.sql", "DROP TABLE users;\n");
        repo.commit("Start\n");
        repo.write("new.sql", "DROP TABLE users;\n");
        let err = ai_lines(&repo.root(), "new.sql", &TrailerRules::default()).unwrap_err();
        assert!(format!("{err:#}").contains("new.sql"), "{err:#}");
        assert!(ai_lines(&repo.root(), "missing.sql", &TrailerRules::default()).is_err());
    }

    #[test]
    fn a_folder_outside_any_repository_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.sql"), "DROP TABLE users;\n").unwrap();
        // A temp folder could sit inside a repository on some machines; then the file is
        // untracked there, which is an error as well.
        let err = ai_lines(dir.path(), "a.sql", &TrailerRules::default()).unwrap_err();
        assert!(format!("{err:#}").contains("git blame of a.sql"), "{err:#}");
    }

    #[test]
    fn the_trailers_the_tools_write_name_their_agent() {
        let cases = [
            (CLAUDE, "claude"),
            ("Co-authored-by: Claude Opus 4.1 <noreply@anthropic.com>", "claude"),
            (
                "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
                "copilot",
            ),
            (
                "Co-authored-by: copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>",
                "copilot",
            ),
            ("Co-authored-by: GitHub <copilot@github.com>", "copilot"),
            ("Co-authored-by: aider (gpt-4o) <noreply@aider.chat>", "aider"),
            ("Co-authored-by: Cursor Agent <cursoragent@cursor.com>", "cursor"),
            ("Co-authored-by: Gemini <gemini@google.com>", "gemini"),
            ("Co-authored-by: Codex <codex@openai.com>", "codex"),
            ("Co-authored-by: Amazon Q Developer <q@amazon.com>", "amazon-q"),
            ("Co-authored-by: openhands <openhands@all-hands.dev>", "openhands"),
            ("co-authored-by: JULES <jules@google.com>", "jules"),
            ("Generated-by: cursor", "cursor"),
            ("Assisted-by: GitHub Copilot", "copilot"),
            ("AI-assisted: Claude Code", "claude"),
            ("generated-BY: SomeNewAgent 2.0", "somenewagent-2.0"),
            ("Assisted-by: <agent@tools.dev>", "agent"),
            ("AI-assisted: yes", "unknown"),
            ("Generated-by:", "unknown"),
        ];
        for (trailer, expected) in cases {
            let message = format!("Subject\n\nBody.\n\n{trailer}\n");
            assert_eq!(agent(&message).as_deref(), Some(expected), "{trailer}");
        }
    }

    #[test]
    fn what_is_not_an_ai_trailer() {
        for message in [
            "Subject\n\nCo-authored-by: Jane <jane@example.com>\n",
            "Subject\n\nReviewed-by: Claude Reviewer <claude@example.com>\n",
            "Subject\n\nAI-assisted: no\n",
            // The subject is never a trailer, nor a line without a blank line before it.
            &format!("{CLAUDE}\n"),
            &format!("Subject\n{CLAUDE}\n"),
            // A paragraph of prose that happens to contain one.
            &format!("Subject\n\nWe used to say\n{CLAUDE}\nhere.\n"),
            "Aider's docs: fix a typo\n",
            "",
        ] {
            assert_eq!(agent(message), None, "{message:?}");
        }
    }

    #[test]
    fn trailers_are_read_the_way_git_reads_them() {
        assert_eq!(
            agent(&format!(
                "Subject\n\nBody.\n\nSigned-off-by: A <a@x>\n{CLAUDE}\n\n\n"
            )),
            Some("claude".into())
        );
        assert_eq!(
            agent(&format!("Subject\r\n\r\nBody.\r\n\r\n{CLAUDE}\r\n")),
            Some("claude".into())
        );
        // A folded value is one value.
        assert_eq!(
            agent("Subject\n\nCo-authored-by: Helper\n  <noreply@anthropic.com>\n"),
            Some("claude".into())
        );
        // Git's own trailer lets a quarter of the paragraph be trailers.
        assert_eq!(
            agent(&format!(
                "Subject\n\nnote one\nnote two\nnote three\n{CLAUDE}\nSigned-off-by: A <a@x>\n"
            )),
            Some("claude".into())
        );
        assert_eq!(
            agent(&format!("Subject\n\nnote one\n{CLAUDE}\n")),
            None,
            "prose and a trailer, without git's own, are prose"
        );
    }

    #[test]
    fn rules_are_configurable_and_load_from_toml() {
        let rules: TrailerRules = toml::from_str(
            "coauthors = [\"acme-bot\"]\ntrailers = [\"Made-with\"]\nsubject_prefixes = []\n",
        )
        .unwrap();
        assert!(rules.enabled);
        let message = |t: &str| format!("Subject\n\n{t}\n");
        assert_eq!(rules.agent_of(&message(CLAUDE)), None);
        assert_eq!(
            rules.agent_of(&message("Co-authored-by: acme-bot <x@acme.dev>")),
            Some("acme-bot".into())
        );
        assert_eq!(
            rules.agent_of(&message("Made-with: Windsurf")),
            Some("windsurf".into())
        );
        assert_eq!(rules.agent_of("aider: do it\n"), None);
        assert_eq!(rules.agent_of(&message("Generated-by: cursor")), None);

        assert!(toml::from_str::<TrailerRules>("coauthor = []").is_err());
        let off: TrailerRules = toml::from_str("enabled = false").unwrap();
        assert_eq!(off.agent_of(&message(CLAUDE)), None);
        let empty = TrailerRules {
            coauthors: vec![String::new()],
            subject_prefixes: vec![" ".into()],
            ..TrailerRules::default()
        };
        assert_eq!(
            empty.agent_of("x\n\nCo-authored-by: Jane <jane@example.com>\n"),
            None,
            "an empty pattern matches nothing"
        );
    }
}
