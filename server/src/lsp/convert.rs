//! Conversions between `lsp_types` and the core's types, at the edge of the server.

use lsp_types::{Position, PositionEncodingKind, Range};

use crate::analysis::Severity;
use crate::document::{Document, Encoding, LineCol};

pub fn line_col(p: Position) -> LineCol {
    LineCol::new(p.line, p.character)
}

pub fn range(doc: &Document, bytes: std::ops::Range<usize>, enc: Encoding) -> Range {
    let (start, end) = doc.positions(bytes, enc);
    Range::new(
        Position::new(start.line, start.col),
        Position::new(end.line, end.col),
    )
}

pub fn severity(s: Severity) -> lsp_types::DiagnosticSeverity {
    match s {
        Severity::Error => lsp_types::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp_types::DiagnosticSeverity::WARNING,
        Severity::Info => lsp_types::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp_types::DiagnosticSeverity::HINT,
    }
}

/// UTF-8 when the client offers it (no conversion work on our side), else the mandatory UTF-16.
pub fn negotiate_encoding(
    offered: Option<&[PositionEncodingKind]>,
) -> (Encoding, PositionEncodingKind) {
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => {
            (Encoding::Utf8, PositionEncodingKind::UTF8)
        }
        _ => (Encoding::Utf16, PositionEncodingKind::UTF16),
    }
}
