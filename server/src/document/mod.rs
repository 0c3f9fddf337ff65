//! An open document: its text as a rope, its syntax tree, who wrote which bytes, and its
//! findings, all kept in step by one edit path.
//!
//! Invariants: changes are applied one at a time, in the order the client sent them; after
//! [`Document::refresh`] every chunk's tree (where kept) is the parse of its text and the findings
//! are those of the chunks' parses (see [`chunks`]).

mod chunks;
pub mod position;
mod syntax_diff;

use std::ops::Range;

use countersign_grammars::Lang;
use ropey::Rope;
use tree_sitter::{InputEdit, Parser, Tree};

use crate::analysis::{Findings, RuleSet, MAX_ANALYSED_BYTES};
use crate::provenance::{Author, Authorship};
use chunks::Chunk;
pub use chunks::CHUNK_BYTES;
pub use position::{Encoding, LineCol};

pub struct Document {
    lang: Option<Lang>,
    rope: Rope,
    parser: Option<Parser>,
    /// Never empty; they tile the text.
    chunks: Vec<Chunk>,
    chunk_bytes: usize,
    /// Counts refreshes, to tell which chunks were parsed last.
    clock: u64,
    version: i32,
    /// Byte ranges edited since the last refresh, in current coordinates.
    dirty: Vec<Range<usize>>,
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
        Document {
            lang,
            rope: Rope::from_str(text),
            parser,
            // The first refresh parses and analyses all of it.
            chunks: vec![Chunk::new(0..text.len())],
            chunk_bytes: CHUNK_BYTES,
            clock: 0,
            version,
            dirty: std::iter::once(0..text.len()).collect(),
            authorship: Authorship::default(),
            findings: Findings::default(),
        }
    }

    /// The same document cut into chunks of about `bytes` instead of [`CHUNK_BYTES`] (tests cut
    /// small texts into many chunks).
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Document {
        self.chunk_bytes = bytes.max(1);
        self
    }

    pub fn lang(&self) -> Option<Lang> {
        self.lang
    }

    pub fn text(&self) -> &Rope {
        &self.rope
    }

    /// The syntax tree of the whole text, when the document is parsed in one piece (small
    /// documents are) and its tree is kept.
    pub fn tree(&self) -> Option<&Tree> {
        match &self.chunks[..] {
            [only] => only.tree.as_ref(),
            _ => None,
        }
    }

    /// The chunks the text is parsed in, each with its tree where it is kept.
    pub fn chunks(&self) -> impl Iterator<Item = (Range<usize>, Option<&Tree>)> {
        self.chunks
            .iter()
            .map(|c| (c.range.clone(), c.tree.as_ref()))
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
        self.edit_chunks(&InputEdit {
            start_byte: start,
            old_end_byte: old_end,
            new_end_byte: new_end,
            start_position,
            old_end_position,
            new_end_position,
        });
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

    /// Applies an edit to the chunks: the chunks it touches become one, to be parsed again;
    /// those after it move. An insertion belongs to the chunk it is in (at a boundary, the one
    /// starting there); a change touching a boundary joins both sides.
    fn edit_chunks(&mut self, edit: &InputEdit) {
        let (start, old_end, new_end) = (edit.start_byte, edit.old_end_byte, edit.new_end_byte);
        let (first, last) = if start == old_end {
            let i = self.chunks.partition_point(|c| c.range.end <= start);
            let i = i.min(self.chunks.len() - 1);
            (i, i)
        } else {
            let first = self.chunks.partition_point(|c| c.range.end < start);
            let last = self.chunks.partition_point(|c| c.range.start <= old_end) - 1;
            (first, last.max(first))
        };
        let end = self.chunks[last].range.end + new_end - old_end;
        let joined = self.chunks.drain(first + 1..=last).count() > 0;
        let chunk = &mut self.chunks[first];
        chunk.range.end = end;
        chunk.stale = true;
        if joined {
            chunk.tree = None;
        } else if let Some(tree) = &mut chunk.tree {
            tree.edit(edit);
        }
        for c in &mut self.chunks[first + 1..] {
            c.range = c.range.start + new_end - old_end..c.range.end + new_end - old_end;
            if let Some(tree) = &mut c.tree {
                tree.edit(edit);
            }
        }
        // A chunk whose text is all gone leaves its place to its neighbours.
        if self.chunks.len() > 1 && self.chunks[first].range.is_empty() {
            self.chunks.remove(first);
        }
    }

    /// Brings the trees and the findings up to date with the text: each edited chunk is
    /// parsed again (incrementally where its tree was kept), and its findings are looked for
    /// again where the edits and the syntax changed.
    ///
    /// A chunk with a syntax error is parsed again with its neighbours only up to
    /// [`chunks::GROWTH_CAP_CHUNKS`] chunks: an error typed a moment ago must not cost a parse
    /// of the whole document on the keystroke that made it. The document is then
    /// [unsettled](Document::unsettled) until [`Document::settle`] finishes the job.
    pub fn refresh(&mut self, rules: &RuleSet, rel_path: &str) {
        self.update(
            rules,
            rel_path,
            chunks::GROWTH_CAP_CHUNKS * self.chunk_bytes,
        );
    }

    /// Whether a syntax error was left in a chunk that a parse with more of the text around it
    /// might resolve (a comment opened here and closed far away): [`Document::settle`] decides.
    pub fn unsettled(&self) -> bool {
        self.chunks.iter().any(|c| c.unsettled)
    }

    /// Grows every chunk left with a syntax error until the error goes or the chunk is the
    /// whole document, so the findings are exactly those of a parse of the whole wherever it
    /// has no error. For when the user pauses; `reanalyse` does it at once.
    pub fn settle(&mut self, rules: &RuleSet, rel_path: &str) {
        for chunk in &mut self.chunks {
            if chunk.unsettled {
                chunk.stale = true;
            }
        }
        self.update(rules, rel_path, usize::MAX);
    }

    fn update(&mut self, rules: &RuleSet, rel_path: &str, growth_cap: usize) {
        let dirty = std::mem::take(&mut self.dirty);
        if !self.chunks.iter().any(|c| c.stale) {
            return;
        }
        if self.too_large() {
            // Without a tree, the parse once the text is small again is a first parse, which
            // analyses everything.
            self.chunks = vec![Chunk {
                stale: false,
                ..Chunk::new(0..self.rope.len_bytes())
            }];
            self.findings.clear();
            return;
        }
        let (Some(lang), Some(parser)) = (self.lang, &mut self.parser) else {
            self.chunks.iter_mut().for_each(|c| c.stale = false);
            return;
        };
        let mut i = 0;
        let mut kept = 0;
        while i < self.chunks.len() {
            if !self.chunks[i].stale {
                i += 1;
                continue;
            }
            let range = self.chunks[i].range.clone();
            // A long text not parsed yet (a document just opened) is cut as it is read, so no
            // tree of all of it is ever built.
            if self.chunks[i].tree.is_none() && range.len() > 2 * self.chunk_bytes {
                if let Some((cut, window)) =
                    chunks::first_cut(parser, &self.rope, &range, self.chunk_bytes)
                {
                    let chunk = &mut self.chunks[i];
                    chunk.range = range.start..cut;
                    // The window's parse is reused for the chunk's; all of its text is new.
                    chunk.tree = Some(window);
                    chunk.joined = true;
                    self.chunks.insert(i + 1, Chunk::new(cut..range.end));
                    continue;
                }
            }
            let old = self.chunks[i].tree.take();
            let Some(tree) = chunks::parse(parser, &self.rope, &range, old.as_ref()) else {
                self.chunks[i].stale = false;
                i += 1;
                continue;
            };
            // A syntax error may be an effect of the cut (a comment or string opened in one
            // chunk and closed in a later one): parse again with the neighbours, doubling the
            // text each time, until the error goes or the chunk is the whole document.
            let error = tree.root_node().has_error();
            self.chunks[i].unsettled = false;
            if error && self.chunks.len() > 1 && range.len() >= growth_cap {
                self.chunks[i].unsettled = true;
            } else if error && self.chunks.len() > 1 {
                let (from, to) = chunks::grow(&self.chunks, i);
                let end = self.chunks[to].range.end;
                let start = self.chunks[from].range.start;
                self.chunks.drain(i + 1..=to);
                self.chunks.drain(from..i);
                let chunk = &mut self.chunks[from];
                chunk.range = start..end;
                // The tree of the smaller text is reused for the part they share.
                chunk.tree = Some(tree);
                chunk.joined = true;
                i = from;
                continue;
            }
            let mut changed: Vec<Range<usize>> = dirty
                .iter()
                .filter(|r| r.start <= range.end && r.end >= range.start)
                .map(|r| r.start.max(range.start)..r.end.min(range.end))
                .collect();
            match &old {
                _ if std::mem::take(&mut self.chunks[i].joined) => changed.push(range.clone()),
                Some(old) => match syntax_diff::changed_near(old, &tree, &changed) {
                    Some(near) => changed.extend(near),
                    None => {
                        changed.extend(old.changed_ranges(&tree).map(|r| r.start_byte..r.end_byte))
                    }
                },
                // A first parse of this text: all of it is new.
                None => changed.push(range.clone()),
            }
            self.findings.refresh(
                rules,
                lang,
                &tree,
                &self.rope,
                rel_path,
                &changed,
                range.clone(),
            );
            let settled = growth_cap == usize::MAX;
            match chunks::split(&tree, &range, self.chunk_bytes, settled) {
                Some(parts) => {
                    let count = parts.len();
                    self.chunks.splice(
                        i..=i,
                        parts.into_iter().map(|r| Chunk {
                            stale: false,
                            ..Chunk::new(r)
                        }),
                    );
                    i += count;
                }
                None => {
                    let chunk = &mut self.chunks[i];
                    chunk.tree = Some(tree);
                    chunk.stale = false;
                    self.clock += 1;
                    chunk.used = self.clock;
                    kept += range.len();
                    // Trees are let go as soon as they are over the budget, so opening a long
                    // document never holds more than the budget's worth of them.
                    if kept > chunks::TREE_BUDGET_BYTES {
                        kept = chunks::evict(&mut self.chunks, chunks::TREE_BUDGET_BYTES);
                    }
                    i += 1;
                }
            }
        }
        chunks::evict(&mut self.chunks, chunks::TREE_BUDGET_BYTES);
    }

    /// Recomputes every finding from scratch (at open, after the path or the rules changed),
    /// settled.
    pub fn reanalyse(&mut self, rules: &RuleSet, rel_path: &str) {
        self.findings.clear();
        for chunk in &mut self.chunks {
            chunk.stale = true;
        }
        self.dirty = std::iter::once(0..self.rope.len_bytes()).collect();
        self.update(rules, rel_path, usize::MAX);
    }

    /// Converts a client position to a byte offset (clamped).
    pub fn offset(&self, pos: LineCol, enc: Encoding) -> usize {
        position::to_byte(&self.rope, pos, enc).0
    }

    /// Converts a byte range to client positions.
    pub fn positions(&self, bytes: Range<usize>, enc: Encoding) -> (LineCol, LineCol) {
        position::to_line_col_range(&self.rope, bytes, enc)
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
