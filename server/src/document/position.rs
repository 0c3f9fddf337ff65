//! Conversions between client positions (line + column in UTF-8 or UTF-16 code units) and byte
//! offsets into a rope. This is the only place where position encodings are handled.
//!
//! Lines end at `\n`, `\r\n` or `\r`, as the LSP specification says. Out-of-range positions are
//! clamped to the nearest valid offset, and the caller is told so it can log it.

use ropey::Rope;

/// The unit of the `character` field of a position, negotiated at initialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Utf8,
    Utf16,
}

/// A zero-based line and column in some [`Encoding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

impl LineCol {
    pub fn new(line: u32, col: u32) -> Self {
        LineCol { line, col }
    }
}

/// The byte offset of `pos`, and whether it was out of range (past a line's end or the
/// document's end, or inside a character) and had to be clamped.
pub fn to_byte(rope: &Rope, pos: LineCol, enc: Encoding) -> (usize, bool) {
    let line = pos.line as usize;
    if line >= rope.len_lines() {
        return (rope.len_bytes(), true);
    }
    let line_start_char = rope.line_to_char(line);
    let content_end_char = line_start_char + content_len_chars(rope, line);
    match enc {
        Encoding::Utf8 => {
            let line_start = rope.char_to_byte(line_start_char);
            let content_end = rope.char_to_byte(content_end_char);
            let target = line_start.saturating_add(pos.col as usize);
            if target > content_end {
                return (content_end, true);
            }
            let snapped = rope.char_to_byte(rope.byte_to_char(target));
            (snapped, snapped != target)
        }
        Encoding::Utf16 => {
            let line_start = rope.char_to_utf16_cu(line_start_char);
            let content_end = rope.char_to_utf16_cu(content_end_char);
            let target = line_start.saturating_add(pos.col as usize);
            if target > content_end {
                return (rope.char_to_byte(content_end_char), true);
            }
            let ch = rope.utf16_cu_to_char(target);
            (rope.char_to_byte(ch), rope.char_to_utf16_cu(ch) != target)
        }
    }
}

/// The position of byte offset `byte` (clamped to the document and rounded down to a char).
pub fn to_line_col(rope: &Rope, byte: usize, enc: Encoding) -> LineCol {
    let mut byte = byte.min(rope.len_bytes());
    // Rounded down within its rope chunk: chunks start on char boundaries.
    let (chunk, chunk_start, _, _) = rope.chunk_at_byte(byte);
    while byte > chunk_start && !chunk.is_char_boundary(byte - chunk_start) {
        byte -= 1;
    }
    let line = rope.byte_to_line(byte);
    let line_start = rope.line_to_byte(line);
    let col = match enc {
        Encoding::Utf8 => byte - line_start,
        // Publishing converts every finding's range on each change: reading a line's few chars
        // is quicker than three more walks down the rope, except on very long lines.
        Encoding::Utf16 if byte - line_start <= 1024 => rope
            .byte_slice(line_start..byte)
            .chars()
            .map(char::len_utf16)
            .sum(),
        Encoding::Utf16 => {
            rope.char_to_utf16_cu(rope.byte_to_char(byte))
                - rope.char_to_utf16_cu(rope.byte_to_char(line_start))
        }
    };
    LineCol {
        line: line as u32,
        col: col as u32,
    }
}

/// The positions of both ends of `range`. A range within one line (most findings) reads its
/// own few chars for the end instead of walking the rope again.
pub fn to_line_col_range(
    rope: &Rope,
    range: std::ops::Range<usize>,
    enc: Encoding,
) -> (LineCol, LineCol) {
    let start = to_line_col(rope, range.start, enc);
    let (from, to) = (
        range.start.min(rope.len_bytes()),
        range.end.min(rope.len_bytes()),
    );
    let on_char = |b: usize| {
        let (chunk, chunk_start, _, _) = rope.chunk_at_byte(b);
        chunk.is_char_boundary(b - chunk_start)
    };
    if from <= to && to - from <= 1024 && on_char(from) && on_char(to) {
        let slice = rope.byte_slice(from..to);
        if !slice.bytes().any(|b| b == b'\n' || b == b'\r') {
            let width: usize = match enc {
                Encoding::Utf8 => to - from,
                Encoding::Utf16 => slice.chars().map(char::len_utf16).sum(),
            };
            return (start, LineCol::new(start.line, start.col + width as u32));
        }
    }
    (start, to_line_col(rope, range.end, enc))
}

/// Chars in line `line` without its line break.
fn content_len_chars(rope: &Rope, line: usize) -> usize {
    let slice = rope.line(line);
    let mut len = slice.len_chars();
    if len > 0 && slice.char(len - 1) == '\n' {
        len -= 1;
    }
    if len > 0 && slice.char(len - 1) == '\r' {
        len -= 1;
    }
    len
}

/// The tree-sitter point of a byte: tree-sitter counts only `\n` as a line break, and scanners
/// that read the column (indentation in Python and YAML) need its byte count since that `\n`.
pub fn ts_point(rope: &Rope, byte: usize) -> tree_sitter::Point {
    let byte = byte.min(rope.len_bytes());
    let row = rope.byte_to_line(byte);
    let mut line = row;
    let mut line_start = rope.line_to_byte(line);
    while line > 0 && line_start > 0 && rope.byte(line_start - 1) == b'\r' {
        line -= 1;
        line_start = rope.line_to_byte(line);
    }
    tree_sitter::Point {
        row,
        column: byte - line_start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_counts_surrogate_pairs_and_utf8_counts_bytes() {
        let rope = Rope::from_str("a😀b\nδx\r\nlast");
        assert_eq!(
            to_byte(&rope, LineCol::new(0, 3), Encoding::Utf16),
            (5, false)
        );
        assert_eq!(
            to_byte(&rope, LineCol::new(0, 5), Encoding::Utf8),
            (5, false)
        );
        assert_eq!(
            to_byte(&rope, LineCol::new(1, 1), Encoding::Utf16),
            (9, false)
        );
        assert_eq!(
            to_byte(&rope, LineCol::new(1, 2), Encoding::Utf8),
            (9, false)
        );
        assert_eq!(to_line_col(&rope, 5, Encoding::Utf16), LineCol::new(0, 3));
        assert_eq!(to_line_col(&rope, 5, Encoding::Utf8), LineCol::new(0, 5));
        assert_eq!(to_line_col(&rope, 12, Encoding::Utf16), LineCol::new(2, 0));
    }

    #[test]
    fn out_of_range_positions_clamp_and_say_so() {
        let rope = Rope::from_str("ab\r\ncd");
        assert_eq!(
            to_byte(&rope, LineCol::new(0, 99), Encoding::Utf16),
            (2, true)
        );
        assert_eq!(
            to_byte(&rope, LineCol::new(0, 3), Encoding::Utf8),
            (2, true)
        );
        assert_eq!(
            to_byte(&rope, LineCol::new(7, 0), Encoding::Utf8),
            (6, true)
        );
        assert_eq!(
            to_byte(&rope, LineCol::new(u32::MAX, u32::MAX), Encoding::Utf16),
            (6, true)
        );
        let emoji = Rope::from_str("😀");
        assert_eq!(
            to_byte(&emoji, LineCol::new(0, 1), Encoding::Utf16),
            (0, true)
        );
        assert_eq!(
            to_byte(&emoji, LineCol::new(0, 2), Encoding::Utf8),
            (0, true)
        );
    }

    #[test]
    fn lone_carriage_returns_end_lines_for_clients_but_not_for_tree_sitter() {
        let rope = Rope::from_str("a\rbc\nd");
        assert_eq!(
            to_byte(&rope, LineCol::new(1, 1), Encoding::Utf8),
            (3, false)
        );
        assert_eq!(ts_point(&rope, 3).column, 3);
        assert_eq!(ts_point(&rope, 6).column, 1);
    }
}
