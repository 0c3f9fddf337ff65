//! An open document: its text as a rope, its syntax tree, who wrote which bytes, and its
//! findings, all kept in step by one edit path.
//!
//! Invariants: changes are applied one at a time, in the order the client sent them; after
//! [`Document::refresh`] the tree is the parse of the rope and the findings are those of the tree.

pub mod position;
mod syntax_diff;

use std::ops::Range;

use countersign_grammars::Lang;
use ropey::Rope;
use tree_sitter::{InputEdit, Parser, Tree};

use crate::analysis::{Findings, RuleSet, MAX_ANALYSED_BYTES};
use crate::provenance::{Author, Authorship};
pub use position::{Encoding, LineCol};

pub struct Document {
    lang: Option<Lang>,
    rope: Rope,
    parser: Option<Parser>,
    tree: Option<Tree>,
    version: i32,
    /// Byte ranges edited since the last refresh, in current coordinates.
    dirty: Vec<Range<usize>>,
    /// The tree needs a reparse (edits were applied to it with `Tree::edit`).
    stale: bool,
    pub authorship: Authorship,
    pub findings: Findings,
}

/// What an applied change did, in bytes of the text before and after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
    /// A position was out of range and had to be clamped.
    pub clamped: bool,
}

impl Document {
    pub fn new(text: &str, lang: Option<Lang>, version: i32) -> Document {
        let parser = lang.and_then(|lang| {
            let mut parser = Parser::new();
            parser.set_language(&lang.grammar()).ok().map(|_| parser)
        });
        let mut doc = Document {
            lang,
            rope: Rope::from_str(text),
            parser,
            tree: None,
            version,
            dirty: std::iter::once(0..text.len()).collect(),
            stale: true,
            authorship: Authorship::default(),
            findings: Findings::default(),
        };
        // Parse now, but leave the whole text dirty: the first refresh analyses all of it.
        doc.dirty = doc.reparse();
        doc
    }

    pub fn lang(&self) -> Option<Lang> {
        self.lang
    }

    pub fn text(&self) -> &Rope {
        &self.rope
    }

    pub fn tree(&self) -> Option<&Tree> {
        self.tree.as_ref()
    }

    /// Whether the text is past [`MAX_ANALYSED_BYTES`]: it is kept in step with the client, but
    /// has no tree and no findings.
    pub fn too_large(&self) -> bool {
        self.rope.len_bytes() > MAX_ANALYSED_BYTES
    }

    pub fn version(&self) -> i32 {
        self.version
    }

    pub fn set_version(&mut self, version: i32) {
        self.version = version;
    }

    /// Applies one content change. `range` is `None` for a whole-text replacement.
    ///
    /// The part of the new text that equals what it replaces is kept, not re-inserted: clients
    /// often resend neighbouring text (Neovim's `o` replaces `\n` with `\n\n`), and only what
    /// really changed may be attributed to an author or re-parsed. `classify` decides who wrote it.
    pub fn apply_change(
        &mut self,
        range: Option<(LineCol, LineCol)>,
        text: &str,
        enc: Encoding,
        classify: &dyn Fn(&str) -> Author,
    ) -> Applied {
        let (start, old_end, clamped) = match range {
            Some((from, to)) => {
                let (a, ca) = position::to_byte(&self.rope, from, enc);
                let (b, cb) = position::to_byte(&self.rope, to, enc);
                // A reversed range is a client bug; applying it as the range it spans is the
                // reading that loses the least.
                (a.min(b), a.max(b), ca || cb || a > b)
            }
            None => (0, self.rope.len_bytes(), false),
        };
        let (prefix, suffix) = common_affixes(&self.rope, start, old_end, text);
        let inserted = &text[prefix..text.len() - suffix];
        let (start, old_end) = (start + prefix, old_end - suffix);
        let author = classify(inserted);
        self.apply_bytes(start, old_end, inserted, author);
        Applied {
            start,
            old_end,
            new_end: start + inserted.len(),
            clamped,
        }
    }

    /// Replaces `start..old_end` (char boundaries) with `text` written by `author`.
    pub fn apply_bytes(&mut self, start: usize, old_end: usize, text: &str, author: Author) {
        let start_position = position::ts_point(&self.rope, start);
        let old_end_position = position::ts_point(&self.rope, old_end);
        let start_char = self.rope.byte_to_char(start);
        let old_end_char = self.rope.byte_to_char(old_end);
        self.rope.remove(start_char..old_end_char);
        self.rope.insert(start_char, text);
        let new_end = start + text.len();
        let new_end_position = position::ts_point(&self.rope, new_end);
        if let Some(tree) = &mut self.tree {
            tree.edit(&InputEdit {
                start_byte: start,
                old_end_byte: old_end,
                new_end_byte: new_end,
                start_position,
                old_end_position,
                new_end_position,
            });
        }
        self.stale = true;
        for r in &mut self.dirty {
            *r = shift_range(r.clone(), start, old_end, new_end);
        }
        self.dirty.push(start..new_end);
        let human = author == Author::Human;
        self.authorship.edit(start, old_end, text.len(), author);
        if human {
            self.claim_lines(start..new_end);
        }
        self.findings.edit(start, old_end, text.len());
    }

    /// A person editing a line an AI wrote takes it over: the whole line becomes theirs, so
    /// the attribution matches what the record will say of the line's new content.
    fn claim_lines(&mut self, edited: Range<usize>) {
        let first = self.rope.byte_to_line(edited.start);
        let last = self.rope.byte_to_line(edited.end);
        let from = self.rope.line_to_byte(first);
        let mut to = self
            .rope
            .line_to_byte((last + 1).min(self.rope.len_lines()));
        while to > from && matches!(self.rope.byte(to - 1), b'\n' | b'\r') {
            to -= 1;
        }
        let lines = from..to.max(edited.end);
        if self.authorship.author_of(lines.clone()).is_ai() {
            self.authorship.mark(lines, Author::Human);
        }
    }

    /// Reparses after edits (incrementally) and returns the byte ranges to re-analyse: the
    /// edited ranges plus the ranges whose syntax changed.
    fn reparse(&mut self) -> Vec<Range<usize>> {
        let mut dirty = std::mem::take(&mut self.dirty);
        if !self.stale {
            return dirty;
        }
        self.stale = false;
        if self.too_large() {
            // Without a tree, the parse once the text is small again is a first parse, which
            // analyses everything.
            self.tree = None;
            self.findings.clear();
            return Vec::new();
        }
        let Some(parser) = &mut self.parser else {
            return dirty;
        };
        let rope = &self.rope;
        let len = rope.len_bytes();
        let mut read = |byte: usize, _: tree_sitter::Point| -> &[u8] {
            if byte >= len {
                return &[];
            }
            let (chunk, chunk_start, _, _) = rope.chunk_at_byte(byte);
            &chunk.as_bytes()[byte - chunk_start..]
        };
        let new_tree = parser.parse_with_options(&mut read, self.tree.as_ref(), None);
        match (&self.tree, &new_tree) {
            (Some(old), Some(new)) => match syntax_diff::changed_near(old, new, &dirty) {
                Some(changed) => dirty.extend(changed),
                None => dirty.extend(old.changed_ranges(new).map(|r| r.start_byte..r.end_byte)),
            },
            // A first parse: everything is new.
            _ => dirty.push(0..len),
        }
        self.tree = new_tree;
        dirty
    }

    /// Brings the tree and the findings up to date with the text.
    pub fn refresh(&mut self, rules: &RuleSet, rel_path: &str) {
        let dirty = self.reparse();
        if let (Some(lang), Some(tree)) = (self.lang, &self.tree) {
            self.findings
                .refresh(rules, lang, tree, &self.rope, rel_path, &dirty);
        }
    }

    /// Recomputes every finding from scratch (after the path or the rules changed).
    pub fn reanalyse(&mut self, rules: &RuleSet, rel_path: &str) {
        self.reparse();
        match (self.lang, &self.tree) {
            (Some(lang), Some(tree)) => self
                .findings
                .recompute(rules, lang, tree, &self.rope, rel_path),
            _ => self.findings.clear(),
        }
    }

    /// Converts a client position to a byte offset (clamped).
    pub fn offset(&self, pos: LineCol, enc: Encoding) -> usize {
        position::to_byte(&self.rope, pos, enc).0
    }

    /// Converts a byte offset to a client position.
    pub fn position(&self, byte: usize, enc: Encoding) -> LineCol {
        position::to_line_col(&self.rope, byte, enc)
    }
}

/// Maps a range through an edit that replaced `start..old_end` with `start..new_end`; a range
/// touching the edit grows to cover the new text.
fn shift_range(r: Range<usize>, start: usize, old_end: usize, new_end: usize) -> Range<usize> {
    let map = |x: usize| {
        if x <= start {
            x
        } else if x >= old_end {
            x - old_end + new_end
        } else {
            new_end
        }
    };
    if r.end < start || r.start > old_end {
        map(r.start)..map(r.end)
    } else {
        r.start.min(start)..map(r.end).max(new_end)
    }
}

/// The lengths of the longest common prefix and suffix of `rope[start..end]` and `new`, on
/// char boundaries and not overlapping: what a change leaves as it was.
fn common_affixes(rope: &Rope, start: usize, end: usize, new: &str) -> (usize, usize) {
    let new_bytes = new.as_bytes();
    let old_len = end - start;
    let mut prefix = 0;
    for (a, &b) in rope.bytes_at(start).take(old_len).zip(new_bytes) {
        if a != b {
            break;
        }
        prefix += 1;
    }
    // Equal bytes up to a char boundary of `new` are whole chars of the old text too.
    while prefix > 0 && !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = (old_len - prefix).min(new_bytes.len() - prefix);
    let mut suffix = 0;
    let mut old_rev = rope.bytes_at(end).reversed();
    for &b in new_bytes.iter().rev().take(max_suffix) {
        if old_rev.next() != Some(b) {
            break;
        }
        suffix += 1;
    }
    while suffix > 0 && !new.is_char_boundary(new_bytes.len() - suffix) {
        suffix -= 1;
    }
    (prefix, suffix)
}

#[cfg(test)]
mod tests;
