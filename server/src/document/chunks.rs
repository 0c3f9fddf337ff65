//! A document parsed in pieces: runs of whole top-level nodes, each parsed on its own.
//!
//! Tree-sitter's incremental parse of one big tree costs time that grows with the file: it
//! rebuilds the long list of top-level nodes around every edit (the SQL grammar reuses almost
//! nothing at all), and a large tree costs tens of bytes per byte of text. A chunk is parsed
//! alone (`Parser::set_included_ranges`, so its nodes keep document positions), an edit
//! reparses only its own chunk, and trees are kept only for the chunks edited last.
//!
//! A chunk boundary sits before a top-level node that starts a line, in text without syntax
//! errors: a parse of the whole text would see the same nodes on both sides. An edit can break
//! that (a comment opened in one chunk and closed in another, an `else:` typed at a boundary):
//! a chunk whose parse has an error is parsed again with its neighbours, doubling its text each
//! time, until the error goes or it is the whole document. So on error-free text the findings
//! are those of a parse of the whole; while an error stays, the document is parsed as one
//! (incrementally, as a single tree would be), and cut again once the error is gone.

use std::ops::Range;

use ropey::Rope;
use tree_sitter::{Parser, Tree};

use super::position::ts_point;

/// A chunk grows to at least this many bytes of whole top-level nodes before a boundary: small,
/// since an edit in a chunk whose tree was let go parses the chunk afresh (1 KiB: ~0.3 ms).
pub const CHUNK_BYTES: usize = 1024;

/// While typing, a chunk with a syntax error is parsed again with its neighbours up to this many
/// chunks' worth of text (a statement typed across a boundary); the rest waits for
/// [`super::Document::settle`].
pub const GROWTH_CAP_CHUNKS: usize = 2;

/// Trees are kept for the chunks edited last, up to this many bytes of their text (the chunk
/// edited last keeps its tree whatever its size): a tree costs 20–40 bytes per byte of text.
pub const TREE_BUDGET_BYTES: usize = 64 * 1024;

pub struct Chunk {
    /// The bytes of the document it covers; chunks tile the document in order.
    pub range: Range<usize>,
    /// Its parse, with document positions, when kept; edited along with the text.
    pub tree: Option<Tree>,
    /// Edited (or new) since it was last parsed.
    pub stale: bool,
    /// Joined with its neighbours since it was last analysed: all of its text is to be queried.
    pub joined: bool,
    /// Its parse has a syntax error that a parse with more text around it might resolve.
    pub unsettled: bool,
    /// When it was last parsed, for keeping the trees of the chunks edited last.
    pub used: u64,
}

impl Chunk {
    pub fn new(range: Range<usize>) -> Chunk {
        Chunk {
            range,
            tree: None,
            stale: true,
            joined: false,
            unsettled: false,
            used: 0,
        }
    }
}

/// Parses `range` of `rope` alone, reusing `old` (already edited) where it can.
pub fn parse(
    parser: &mut Parser,
    rope: &Rope,
    range: &Range<usize>,
    old: Option<&Tree>,
) -> Option<Tree> {
    let len = rope.len_bytes();
    let included = if range.start == 0 && range.end >= len {
        // The whole text: the parser's default, which also covers an empty document.
        Vec::new()
    } else {
        vec![tree_sitter::Range {
            start_byte: range.start,
            end_byte: range.end,
            start_point: ts_point(rope, range.start),
            end_point: ts_point(rope, range.end),
        }]
    };
    parser.set_included_ranges(&included).ok()?;
    let mut read = |byte: usize, _: tree_sitter::Point| -> &[u8] {
        if byte >= len {
            return &[];
        }
        let (chunk, chunk_start, _, _) = rope.chunk_at_byte(byte);
        &chunk.as_bytes()[byte - chunk_start..]
    };
    parser.parse_with_options(&mut read, old, None)
}

/// The chunks, `from..=to` around chunk `i`, whose text together is at least twice chunk `i`'s
/// (or all of them), taken from both sides in turn.
pub fn grow(chunks: &[Chunk], i: usize) -> (usize, usize) {
    let (mut from, mut to) = (i, i);
    let target = 2 * chunks[i].range.len().max(1);
    let len = |from: usize, to: usize| chunks[to].range.end - chunks[from].range.start;
    while len(from, to) < target && (from > 0 || to + 1 < chunks.len()) {
        from = from.saturating_sub(1);
        if to + 1 < chunks.len() && len(from, to) < target {
            to += 1;
        }
    }
    (from, to)
}

/// Where to cut the first chunk off `range` (of a text not parsed yet) without parsing all of
/// it: a window twice the chunk size is parsed, and the cut goes before its last top-level node
/// that starts a line at least `chunk_bytes` in, with no error before it. The window doubles
/// until there is such a node. Returns the cut and the window's parse, `None` when the window
/// would be the whole range.
pub fn first_cut(
    parser: &mut Parser,
    rope: &Rope,
    range: &Range<usize>,
    chunk_bytes: usize,
) -> Option<(usize, Tree)> {
    let mut window = 2 * chunk_bytes;
    loop {
        let at = (range.start + window).min(rope.len_bytes());
        let line = rope.byte_to_line(at);
        let end = if line + 1 < rope.len_lines() {
            rope.line_to_byte(line + 1)
        } else {
            rope.len_bytes()
        };
        if end >= range.end {
            return None;
        }
        let tree = parse(parser, rope, &(range.start..end), None)?;
        if let Some(cut) = last_cut(&tree, range.start + chunk_bytes) {
            return Some((cut, tree));
        }
        window *= 2;
    }
}

/// The start of the last top-level node of `tree` that starts a line at or after `from`, with
/// no syntax error in any node before it.
fn last_cut(tree: &Tree, from: usize) -> Option<usize> {
    let root = tree.root_node();
    if root.is_error() {
        return None;
    }
    let mut cut = None;
    let mut cursor = root.walk();
    if !cursor.goto_first_child() {
        return None;
    }
    loop {
        let node = cursor.node();
        // Every node before this one is whole and error-free.
        if node.start_byte() >= from && node.start_position().column == 0 {
            cut = Some(node.start_byte());
        }
        if node.has_error() || !cursor.goto_next_sibling() {
            return cut;
        }
    }
}

/// Where to cut `range` (parsed as `tree`) into chunks of at least `chunk_bytes`: before
/// top-level nodes that start a line, between error-free nodes. A tree with syntax errors is
/// cut only when `settled` (its errors are those a parse of the whole text has). `None` when the
/// range is small enough or has no such place.
pub fn split(
    tree: &Tree,
    range: &Range<usize>,
    chunk_bytes: usize,
    settled: bool,
) -> Option<Vec<Range<usize>>> {
    let root = tree.root_node();
    if range.len() <= 2 * chunk_bytes || root.is_error() || (root.has_error() && !settled) {
        return None;
    }
    let mut cuts = vec![range.start];
    let mut cursor = root.walk();
    if !cursor.goto_first_child() {
        return None;
    }
    let mut prev_clean = !cursor.node().has_error();
    while cursor.goto_next_sibling() {
        let node = cursor.node();
        let clean = !node.has_error();
        let at = node.start_byte();
        let last = cuts[cuts.len() - 1];
        if prev_clean
            && clean
            && at >= last + chunk_bytes
            && at + chunk_bytes <= range.end
            && node.start_position().column == 0
        {
            cuts.push(at);
        }
        prev_clean = clean;
    }
    if cuts.len() < 2 {
        return None;
    }
    cuts.push(range.end);
    Some(cuts.windows(2).map(|w| w[0]..w[1]).collect())
}

/// Drops the trees of chunks parsed longest ago once the kept ones cover more than `budget`
/// bytes; the chunk parsed last keeps its tree. Returns the bytes the kept trees cover.
pub fn evict(chunks: &mut [Chunk], budget: usize) -> usize {
    let mut kept: Vec<(u64, usize)> = chunks
        .iter()
        .enumerate()
        .filter(|(_, c)| c.tree.is_some())
        .map(|(i, c)| (c.used, i))
        .collect();
    kept.sort_unstable_by(|a, b| b.cmp(a));
    let mut total = 0;
    for (n, (_, i)) in kept.into_iter().enumerate() {
        let len = chunks[i].range.len();
        if n > 0 && total + len > budget {
            chunks[i].tree = None;
        } else {
            total += len;
        }
    }
    total
}
