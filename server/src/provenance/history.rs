//! Who wrote each line of a file before it was opened: the local record (hooks, editors) over
//! git history (AI trailers). The record is newer and local, so it wins where both speak.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use super::git::{self, TrailerRules};
use super::record::{attribute, line_key, Attribution, Attributions};
use super::{AiSource, Author};

/// A stretch of a file and what history says of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attributed {
    pub range: Range<usize>,
    pub author: Author,
    /// How we know, for the attribution trail: `hook PostToolUse Edit, 2026-11-25T…` or
    /// `git commit 1a2b3c4 "Add purge job"`.
    pub how: String,
}

/// The lines of `text` (the file `rel` of the work tree `root`) that history attributes.
/// Git is asked only when `git` is enabled; its failures (an untracked file, no git) mean it
/// knows nothing.
pub fn attribute_file(
    root: &Path,
    rel: &str,
    text: &str,
    record: Option<&Attributions>,
    git: &TrailerRules,
) -> Vec<Attributed> {
    attribute_file_with(root, rel, text, record, git, None)
}

/// [`attribute_file`], with the AI commits (hash → agent) already known when `commits` is
/// given: git is then asked only for blame.
pub fn attribute_file_with(
    root: &Path,
    rel: &str,
    text: &str,
    record: Option<&Attributions>,
    git: &TrailerRules,
    commits: Option<&HashMap<String, String>>,
) -> Vec<Attributed> {
    let mut known: HashMap<String, Attribution> = HashMap::new();
    if git.enabled {
        let lines = match commits {
            Some(agents) => git::ai_lines_of_commits(root, rel, agents),
            None => git::ai_lines(root, rel, git),
        };
        match lines {
            Ok(lines) => {
                for l in lines {
                    if let Some(key) = line_key(&l.text) {
                        known.insert(
                            key,
                            Attribution {
                                author: Author::Ai {
                                    agent: l.agent,
                                    source: AiSource::Git,
                                },
                                time: String::new(),
                                detail: format!(
                                    "commit {} \"{}\"",
                                    &l.commit[..l.commit.len().min(7)],
                                    l.summary
                                ),
                            },
                        );
                    }
                }
            }
            Err(e) => tracing::debug!("no git attribution for {rel}: {e:#}"),
        }
    }
    if let Some(lines) = record.and_then(|r| r.file(rel)) {
        known.extend(lines.iter().map(|(k, a)| (k.clone(), a.clone())));
    }
    attribute(text, &known)
        .into_iter()
        .map(|(range, a)| Attributed {
            range,
            author: a.author.clone(),
            how: describe(a),
        })
        .collect()
}

/// Who wrote `range`, by what history attributes: an AI if it wrote any of it, else unknown.
pub fn author_in(attributed: &[Attributed], range: &Range<usize>) -> Author {
    attributed
        .iter()
        .filter(|a| a.range.start < range.end && range.start < a.range.end)
        .map(|a| a.author.clone())
        .find(Author::is_ai)
        .unwrap_or(Author::Unknown)
}

/// One step of the attribution trail.
pub fn describe(a: &Attribution) -> String {
    let who = match &a.author {
        Author::Ai { agent, source } => format!("{agent} ({})", source.as_str()),
        Author::Human => "a person".into(),
        Author::Unknown => "unknown".into(),
    };
    let mut out = who;
    if !a.detail.is_empty() {
        out.push_str(": ");
        out.push_str(&a.detail);
    }
    if !a.time.is_empty() {
        out.push_str(", ");
        out.push_str(&a.time);
    }
    out
}
