//! Edits of any shape, in either position encoding, applied to a document and to a plain
//! string: the rope must equal the string after every edit, the incremental tree a fresh parse
//! (for text that parses cleanly) and the incremental findings a full analysis. Out-of-range
//! positions clamp. Documents are also cut into chunks of a few bytes, so joining, growing and
//! cutting chunks is fuzzed on small texts: their findings must equal a full analysis too.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use countersign::analysis::RuleSet;
use countersign::document::{Document, Encoding, LineCol};
use countersign::provenance::{Author, BulkEditHeuristic};
use countersign_grammars::Lang;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    lang: u8,
    utf16: bool,
    /// Chunks of `8 + n` bytes instead of the default.
    chunk_bytes: Option<u8>,
    initial: String,
    edits: Vec<Edit>,
}

#[derive(Arbitrary, Debug)]
enum Edit {
    /// What a client sends: an LSP range, possibly out of range or reversed.
    Range {
        from: (u16, u16),
        to: (u16, u16),
        text: String,
        refresh: bool,
    },
    /// A whole-text replacement.
    Full { text: String, refresh: bool },
    /// What the server applies itself: a byte range (rounded down to char boundaries here).
    Bytes {
        start: u16,
        len: u16,
        text: String,
        ai: bool,
        refresh: bool,
    },
}

const REL_PATH: &str = "db/x.sql";

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin().expect("built-in rules load"))
}

/// Byte offset of an LSP position in `s`, written without ropey (as the document's own
/// differential tests do): lines end at `\n`, `\r\n` or `\r`; a column past the line's end
/// clamps to it, one inside a character rounds down, a line past the end is the end.
fn reference_offset(s: &str, pos: LineCol, enc: Encoding) -> usize {
    let bytes = s.as_bytes();
    let mut starts = vec![0];
    for i in 0..bytes.len() {
        if bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    let line = pos.line as usize;
    if line >= starts.len() {
        return s.len();
    }
    let start = starts[line];
    let mut end = starts.get(line + 1).copied().unwrap_or(s.len());
    if end > start && line + 1 < starts.len() {
        end -= 1;
        if bytes[end] == b'\n' && end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
    }
    let mut units = 0usize;
    for (i, ch) in s[start..end].char_indices() {
        let w = match enc {
            Encoding::Utf8 => ch.len_utf8(),
            Encoding::Utf16 => ch.len_utf16(),
        };
        if units + w > pos.col as usize {
            return start + i;
        }
        units += w;
    }
    end
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn fresh_tree(lang: Lang, text: &str) -> tree_sitter::Tree {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&lang.grammar()).unwrap();
    parser.parse(text, None).unwrap()
}

type Snapshot = Vec<(String, std::ops::Range<usize>, String)>;

fn snapshot(findings: &[countersign::analysis::Finding]) -> Snapshot {
    findings
        .iter()
        .map(|f| {
            (
                f.rule.id().to_string(),
                f.range.clone(),
                f.fingerprint.clone(),
            )
        })
        .collect()
}

/// Grammars whose incremental parse of error-free text can differ from a fresh parse without
/// Countersign code involved (see the document's differential tests): their findings are
/// checked against the document's own tree only.
fn reparse_matches_fresh_parse(lang: Lang) -> bool {
    lang != Lang::Bash
}

fn check(doc: &mut Document, lang: Lang, reference: &str, refresh: bool) {
    assert_eq!(
        doc.text().to_string(),
        reference,
        "rope differs from the reference"
    );
    if !refresh {
        return;
    }
    let rules = rules();
    doc.refresh(rules, REL_PATH);
    // What the server does once the user pauses; until then an error may stay local.
    doc.settle(rules, REL_PATH);
    let Some(tree) = doc.tree() else {
        check_chunks(doc, lang, reference);
        return;
    };
    // The root need not span the whole text (YAML's stops before trailing blanks after an
    // error, lexers stop at a NUL byte); where it ends is compared with a fresh parse below.
    assert!(tree.root_node().end_byte() <= reference.len());
    // The query range is the whole text: `None` would use the trigger-word prefilter made for
    // `scan`, which documents never use.
    let whole = 0..reference.len().max(1);
    let over_own_tree = rules.find(lang, tree, doc.text(), REL_PATH, Some(whole.clone()));
    assert_eq!(
        snapshot(doc.findings.items()),
        snapshot(&over_own_tree),
        "incremental findings differ from a full query over the same tree"
    );
    let Some((fresh, fresh_sexp)) = clean_fresh_parse(lang, reference) else {
        return;
    };
    assert_eq!(
        tree.root_node().to_sexp(),
        fresh_sexp,
        "incremental tree differs from a fresh parse"
    );
    assert_eq!(
        tree.root_node().byte_range(),
        fresh.root_node().byte_range(),
        "incremental tree spans other bytes than a fresh parse"
    );
    let full = rules.find(lang, &fresh, reference.as_bytes(), REL_PATH, Some(whole));
    assert_eq!(
        snapshot(doc.findings.items()),
        snapshot(&full),
        "incremental findings differ from a fresh analysis"
    );
}

/// A fresh parse of `reference` and its s-expression, when it has one answer to compare with:
/// error recovery depends on which subtrees were reused, so only clean text has one.
fn clean_fresh_parse(lang: Lang, reference: &str) -> Option<(tree_sitter::Tree, String)> {
    if !reparse_matches_fresh_parse(lang) {
        return None;
    }
    let fresh = fresh_tree(lang, reference);
    let sexp = fresh.root_node().to_sexp();
    (!sexp.contains("ERROR") && !sexp.contains("MISSING")).then_some((fresh, sexp))
}

/// A document in several chunks: they tile the text, and on text without syntax errors the
/// findings are those of a parse of the whole.
fn check_chunks(doc: &Document, lang: Lang, reference: &str) {
    let mut at = 0;
    for (range, _) in doc.chunks() {
        assert_eq!(range.start, at, "chunks do not tile the text");
        at = range.end;
    }
    assert_eq!(at, reference.len(), "chunks do not cover the text");
    let Some((fresh, _)) = clean_fresh_parse(lang, reference) else {
        return;
    };
    let whole = 0..reference.len().max(1);
    let full = rules().find(lang, &fresh, reference.as_bytes(), REL_PATH, Some(whole));
    assert_eq!(
        snapshot(doc.findings.items()),
        snapshot(&full),
        "findings of the chunks differ from a fresh analysis of the whole"
    );
}

fuzz_target!(
    // Compile every rule query before the first input, whose time limit it would use up.
    init: {
        let _ = rules().compile_all();
    },
    |input: Input| {
    if input.edits.len() > 64 {
        return;
    }
    let lang = Lang::ALL[input.lang as usize % Lang::ALL.len()];
    let enc = if input.utf16 {
        Encoding::Utf16
    } else {
        Encoding::Utf8
    };
    let heuristic = BulkEditHeuristic::default();
    let classify = |t: &str| heuristic.classify(t);
    let mut doc = Document::new(&input.initial, Some(lang), 0);
    if let Some(n) = input.chunk_bytes {
        doc = doc.with_chunk_bytes(8 + usize::from(n));
    }
    let mut reference = input.initial.clone();
    check(&mut doc, lang, &reference, true);
    for (i, edit) in input.edits.iter().enumerate() {
        let refresh = match edit {
            Edit::Range {
                from,
                to,
                text,
                refresh,
            } => {
                let from = LineCol::new(from.0.into(), from.1.into());
                let to = LineCol::new(to.0.into(), to.1.into());
                let (a, b) = (
                    reference_offset(&reference, from, enc),
                    reference_offset(&reference, to, enc),
                );
                assert_eq!(doc.offset(from, enc), a, "offset of {from:?}");
                assert_eq!(doc.offset(to, enc), b, "offset of {to:?}");
                let (start, end) = (a.min(b), a.max(b));
                reference.replace_range(start..end, text);
                doc.apply_change(Some((from, to)), text, enc, &classify);
                *refresh
            }
            Edit::Full { text, refresh } => {
                reference.clone_from(text);
                doc.apply_change(None, text, enc, &classify);
                *refresh
            }
            Edit::Bytes {
                start,
                len,
                text,
                ai,
                refresh,
            } => {
                let start = floor_boundary(&reference, (*start).into());
                let end = floor_boundary(&reference, start + usize::from(*len));
                // A position the rope gives back for a byte must lead to that byte again, but
                // for the offset between `\r` and `\n`, which no LSP position names.
                let bytes = reference.as_bytes();
                let mid_crlf = start > 0 && bytes[start - 1] == b'\r' && bytes.get(start) == Some(&b'\n');
                let pos = doc.position(start, enc);
                if !mid_crlf {
                    assert_eq!(
                        reference_offset(&reference, pos, enc),
                        start,
                        "position {pos:?} of byte {start}"
                    );
                }
                let author = if *ai { classify(text) } else { Author::Human };
                reference.replace_range(start..end, text);
                doc.apply_bytes(start, end, text, author);
                *refresh
            }
        };
        doc.set_version(i as i32 + 1);
        check(&mut doc, lang, &reference, refresh);
    }
    check(&mut doc, lang, &reference, true);
});
