//! Who wrote which bytes of a document: authorship spans that move with edits, and the
//! heuristics that attribute a change to an AI.
//!
//! Invariant: spans are sorted, non-empty and never overlap; bytes outside every span have
//! unknown authorship (e.g. the text a file had when it was opened).

use std::ops::Range;

use serde::{Deserialize, Serialize};

pub mod git;
pub mod history;
pub mod hooks;
pub mod record;

/// How we know a piece of code was written by an AI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AiSource {
    /// The editor integration said so (`countersign/aiEdit`).
    Client,
    /// An agent hook recorded the edit.
    Hook,
    /// One change inserted several lines at once: a bulk edit, likely AI.
    Heuristic,
    /// An open, clean buffer was reloaded after an agent wrote the file.
    Disk,
    /// Git history: a commit with an AI trailer added the line.
    Git,
}

impl AiSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AiSource::Client => "client",
            AiSource::Hook => "hook",
            AiSource::Heuristic => "heuristic",
            AiSource::Disk => "disk",
            AiSource::Git => "git",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Author {
    Human,
    Ai { agent: String, source: AiSource },
    Unknown,
}

impl Author {
    pub fn is_ai(&self) -> bool {
        matches!(self, Author::Ai { .. })
    }

    /// `ai`, `human` or `unknown`, as in the JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Author::Human => "human",
            Author::Ai { .. } => "ai",
            Author::Unknown => "unknown",
        }
    }

    /// How the attribution reads in a diagnostic: never claims more than we know.
    pub fn describe(&self) -> String {
        match self {
            Author::Human => "typed by a person".into(),
            Author::Unknown => "author unknown".into(),
            Author::Ai {
                source: AiSource::Heuristic,
                ..
            } => "bulk edit, likely AI".into(),
            Author::Ai { agent, source } => format!("written by {agent} ({})", source.as_str()),
        }
    }
}

/// When a single change counts as an AI bulk edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkEditHeuristic {
    pub enabled: bool,
    /// A change inserting at least this many lines is attributed to an AI.
    pub min_lines: usize,
    /// One change set writing different code in several places is attributed to an AI.
    pub multi_hunk: bool,
    /// Non-blank characters each such hunk must write.
    pub multi_hunk_min_chars: usize,
}

impl Default for BulkEditHeuristic {
    fn default() -> Self {
        BulkEditHeuristic {
            enabled: true,
            min_lines: 2,
            multi_hunk: true,
            multi_hunk_min_chars: 16,
        }
    }
}

impl BulkEditHeuristic {
    /// Who most likely made a change that inserted `text`: several lines at once is a bulk
    /// edit (paste, agent apply, completion accept), anything smaller is typing.
    pub fn classify(&self, text: &str) -> Author {
        if self.enabled && line_count(text) >= self.min_lines.max(1) {
            Author::Ai {
                agent: "unknown".into(),
                source: AiSource::Heuristic,
            }
        } else {
            Author::Human
        }
    }
}

impl BulkEditHeuristic {
    /// Whether one change set, given as the texts its changes insert, is an assistant applying
    /// a multi-hunk edit: at least two hunks each writing real code, not all the same (which is
    /// multi-cursor typing, or one paste repeated).
    pub fn is_multi_hunk(&self, inserted: &[&str]) -> bool {
        if !self.multi_hunk || inserted.len() < 2 {
            return false;
        }
        let substantial: Vec<&str> = inserted
            .iter()
            .copied()
            .filter(|t| {
                t.chars().filter(|c| !c.is_whitespace()).count() >= self.multi_hunk_min_chars
            })
            .collect();
        substantial.len() >= 2 && substantial.iter().any(|t| *t != substantial[0])
    }

    /// The author of every change in a multi-hunk change set.
    pub fn multi_hunk_author() -> Author {
        Author::Ai {
            agent: "unknown".into(),
            source: AiSource::Heuristic,
        }
    }
}

/// Lines in an inserted text: `"a\nb"` and `"a\nb\n"` are two lines, `"a\n"` is one.
pub fn line_count(text: &str) -> usize {
    let bytes = text.as_bytes();
    let breaks = (0..bytes.len())
        .filter(|&i| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count();
    let trailing_open = !text.is_empty() && !text.ends_with('\n') && !text.ends_with('\r');
    breaks + usize::from(trailing_open)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub range: Range<usize>,
    pub author: Author,
}

/// Authorship of a document's bytes.
#[derive(Debug, Clone, Default)]
pub struct Authorship {
    spans: Vec<Span>,
}

impl Authorship {
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Records that `start..old_end` was replaced by `new_len` bytes written by `author`.
    /// Spans after the edit move; spans inside it lose the replaced bytes.
    pub fn edit(&mut self, start: usize, old_end: usize, new_len: usize, author: Author) {
        let new_end = start + new_len;
        let mut out = Vec::with_capacity(self.spans.len() + 2);
        for span in self.spans.drain(..) {
            let Range { start: s, end: e } = span.range;
            if e <= start {
                out.push(Span {
                    range: s..e,
                    author: span.author,
                });
            } else if s >= old_end {
                out.push(Span {
                    range: s - old_end + new_end..e - old_end + new_end,
                    author: span.author,
                });
            } else {
                // The span overlaps the replaced bytes: keep what lies outside them.
                if s < start {
                    out.push(Span {
                        range: s..start,
                        author: span.author.clone(),
                    });
                }
                if e > old_end {
                    out.push(Span {
                        range: new_end..e - old_end + new_end,
                        author: span.author,
                    });
                }
            }
        }
        if new_len > 0 {
            let at = out.partition_point(|s| s.range.start < start);
            out.insert(
                at,
                Span {
                    range: start..new_end,
                    author,
                },
            );
        }
        // Adjacent spans of the same author merge so typing doesn't grow the list per key.
        let mut merged: Vec<Span> = Vec::with_capacity(out.len());
        for span in out {
            match merged.last_mut() {
                Some(last) if last.range.end == span.range.start && last.author == span.author => {
                    last.range.end = span.range.end;
                }
                _ => merged.push(span),
            }
        }
        self.spans = merged;
    }

    /// Marks `range` as written by `author`, without changing the text.
    pub fn mark(&mut self, range: Range<usize>, author: Author) {
        let len = range.end - range.start;
        self.edit(range.start, range.end, len, author);
    }

    /// The author of a range of code: AI if an AI wrote any of it (the risk is in the AI's
    /// part), else a person if a person typed any of it, else unknown.
    pub fn author_of(&self, range: Range<usize>) -> Author {
        let overlapping = self.spans.iter().filter(|s| {
            s.range.start < range.end.max(range.start + 1) && s.range.end > range.start
        });
        let mut best = Author::Unknown;
        for span in overlapping {
            match (&span.author, &best) {
                (Author::Ai { .. }, _) => return span.author.clone(),
                (Author::Human, Author::Unknown) => best = Author::Human,
                _ => {}
            }
        }
        best
    }

    pub fn clear(&mut self) {
        self.spans.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ai() -> Author {
        Author::Ai {
            agent: "unknown".into(),
            source: AiSource::Heuristic,
        }
    }

    #[test]
    fn line_counting_matches_what_an_editor_inserts() {
        assert_eq!(line_count(""), 0);
        assert_eq!(line_count("x"), 1);
        assert_eq!(line_count("a\n"), 1);
        assert_eq!(line_count("a\nb"), 2);
        assert_eq!(line_count("a\r\nb\r\n"), 2);
        assert_eq!(line_count("a\rb"), 2);
        assert_eq!(line_count("\n\n"), 2);
    }

    #[test]
    fn bulk_insert_is_ai_and_typing_is_human() {
        let h = BulkEditHeuristic::default();
        assert!(h.classify("DROP TABLE users;\nSELECT 1;\n").is_ai());
        assert_eq!(h.classify("D"), Author::Human);
        assert_eq!(h.classify("DROP TABLE users;\n"), Author::Human);
        let off = BulkEditHeuristic {
            enabled: false,
            ..h
        };
        assert_eq!(off.classify("a\nb\nc\n"), Author::Human);
        let strict = BulkEditHeuristic { min_lines: 5, ..h };
        assert_eq!(strict.classify("a\nb\nc\n"), Author::Human);
    }

    #[test]
    fn a_multi_hunk_apply_is_ai_and_multi_cursor_typing_is_not() {
        let h = BulkEditHeuristic::default();
        assert!(h.is_multi_hunk(&[
            "cleanup_old_backups(bucket)",
            "subprocess.run(['rm', '-rf', path])"
        ]));
        // The same text at every cursor: a person with several cursors.
        assert!(!h.is_multi_hunk(&["self.session.commit()", "self.session.commit()"]));
        assert!(!h.is_multi_hunk(&["x", "y", "z"]));
        assert!(!h.is_multi_hunk(&["subprocess.run(['rm', '-rf', path])"]));
        let off = BulkEditHeuristic {
            multi_hunk: false,
            ..h
        };
        assert!(!off.is_multi_hunk(&["cleanup_old_backups(bucket)", "drop_all_tables(engine)"]));
    }

    #[test]
    fn spans_move_with_edits_before_them() {
        let mut a = Authorship::default();
        a.edit(10, 10, 5, ai());
        a.edit(0, 0, 3, Author::Human);
        assert_eq!(a.author_of(13..18), ai());
        assert_eq!(a.author_of(0..3), Author::Human);
        assert_eq!(a.author_of(5..10), Author::Unknown);
        a.edit(0, 3, 0, Author::Human);
        assert_eq!(a.author_of(10..15), ai());
    }

    #[test]
    fn retyping_an_ai_line_makes_it_human() {
        let mut a = Authorship::default();
        a.edit(0, 0, 18, ai());
        a.edit(0, 18, 18, Author::Human);
        assert_eq!(a.author_of(0..18), Author::Human);
        assert_eq!(a.spans().len(), 1);
    }

    #[test]
    fn a_human_touch_inside_ai_code_keeps_the_rest_ai() {
        let mut a = Authorship::default();
        a.edit(0, 0, 20, ai());
        a.edit(5, 5, 1, Author::Human);
        assert_eq!(a.spans().len(), 3);
        assert_eq!(a.author_of(0..21), ai());
        assert_eq!(a.author_of(5..6), Author::Human);
        assert_eq!(a.author_of(6..21), ai());
    }

    #[test]
    fn typing_merges_into_one_span() {
        let mut a = Authorship::default();
        for i in 0..100 {
            a.edit(i, i, 1, Author::Human);
        }
        assert_eq!(a.spans().len(), 1);
        assert_eq!(a.spans()[0].range, 0..100);
    }
}
