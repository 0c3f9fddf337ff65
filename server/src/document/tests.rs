//! Differential tests: after any sequence of edits, the rope equals a reference string edited
//! by an independent implementation, the incremental tree equals a fresh parse, and the
//! incrementally maintained findings equal a full analysis.

use super::*;
use crate::analysis::RuleSet;
use crate::provenance::BulkEditHeuristic;
use proptest::prelude::*;

/// Byte offset of an LSP position in `s`, written without ropey: lines end at `\n`, `\r\n` or
/// `\r`; a column past the line's end clamps to it, one inside a character rounds down.
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

/// The LSP position of byte offset `b` (a char boundary) in `s`, without ropey.
fn reference_position(s: &str, b: usize, enc: Encoding) -> LineCol {
    let bytes = s.as_bytes();
    let (mut line, mut start) = (0, 0);
    for i in 0..b {
        if bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            line += 1;
            start = i + 1;
        }
    }
    let col: usize = s[start..b]
        .chars()
        .map(|c| match enc {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        })
        .sum();
    LineCol::new(line, col as u32)
}

fn fresh_sexp(lang: Lang, text: &str) -> String {
    let mut parser = Parser::new();
    parser.set_language(&lang.grammar()).unwrap();
    parser.parse(text, None).unwrap().root_node().to_sexp()
}

/// Whole statements: any concatenation is a program without syntax errors.
const SQL_STATEMENTS: &[&str] = &[
    "DROP TABLE users;\n",
    "DELETE FROM t WHERE id = 1;\n",
    "SELECT 'é😀' AS x;\n",
    "TRUNCATE orders;\n",
    "-- 注释 DROP TABLE x\n",
    "DELETE FROM t;\r\n",
    "SELECT id FROM users WHERE name = '表🚀';\n",
    "UPDATE t SET a = 1 WHERE id = 2;\n",
    "ALTER TABLE t DROP COLUMN c;\n",
];

/// Anything at all: half tokens, lone `\r`, combining marks.
const SQL_FRAGMENTS: &[&str] = &[
    "DROP TABLE users;\n",
    "DELETE FROM t",
    " WHERE id = 1",
    ";\n",
    "TRUNCATE orders;",
    "SELECT 'é😀' AS x;\n",
    "-- 注释 DROP TABLE x\n",
    "\r\n",
    "\n",
    "e\u{301}",
    "表",
    "🚀",
    " ",
    "users",
    "DROP",
    "(",
    ")",
    "'",
    "\r",
    "UPDATE t",
    " SET a = 1",
    "ALTER TABLE t DROP COLUMN c;",
];

const PY_STATEMENTS: &[&str] = &[
    "def f():\n    return 1\n",
    "class A:\n    x = '😀'\n",
    "import os\n",
    "os.system('rm -rf /')\n",
    "x = 'é中文e\u{301}'\n",
    "if x:\n    pass\r\n",
    "\n",
];

const PY_FRAGMENTS: &[&str] = &[
    "def f():\n",
    "    return 1\n",
    "class A:\n    x = '😀'\n",
    "if x:\n",
    "  ",
    "    ",
    "\t",
    "\n",
    "\r\n",
    "pass",
    "import os\n",
    "os.system('rm -rf /')\n",
    "é",
    "中文",
    "e\u{301}",
    "#",
    ":",
    "\"\"\"doc\n\"\"\"\n",
    "\r",
];

const SH_STATEMENTS: &[&str] = &[
    "set -euo pipefail\n",
    "rm -rf \"$BUILD_DIR/\"\n",
    "echo \"héllo 😀\"\n",
    "deploy() {\n  terraform destroy -auto-approve\n}\n",
    "cat <<EOF\nrm -rf /\nEOF\n",
    "if [ -n \"$X\" ]; then\n  rm -fr \"$X\"\nfi\n",
    "# rm -rf /\r\n",
];

const SH_FRAGMENTS: &[&str] = &[
    "rm -rf /tmp/x\n",
    "\"",
    "'",
    "$(",
    ")",
    "{",
    "}",
    "<<EOF\n",
    "EOF\n",
    "then",
    "fi",
    "\n",
    "\r\n",
    " ",
    "-rf",
    "terraform destroy",
    "😀",
    "é",
    "#",
    ";",
    "\\\n",
    "\r",
];

fn text_from(fragments: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(fragments), 0..12).prop_map(|v| v.concat())
}

#[derive(Debug, Clone)]
struct Edit {
    from: LineCol,
    to: LineCol,
    text: String,
    refresh_after: bool,
}

fn edits(fragments: &'static [&'static str]) -> impl Strategy<Value = Vec<Edit>> {
    let pos = (0u32..12, 0u32..30).prop_map(|(l, c)| LineCol::new(l, c));
    let edit = (pos.clone(), pos, text_from(fragments), any::<bool>()).prop_map(
        |(from, to, text, refresh_after)| Edit {
            from,
            to,
            text,
            refresh_after,
        },
    );
    prop::collection::vec(edit, 1..25)
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![Just(Encoding::Utf8), Just(Encoding::Utf16)]
}

/// The whole text as a query range. Not `None`, which queries only around trigger words: that
/// prefilter is an approximation made for `scan` (a trigger the grammar splits from a word glued
/// to it, as bash does after a heredoc's end, is not seen), and documents never use it.
fn whole(len: usize) -> std::ops::Range<usize> {
    0..len.max(1)
}

type Snapshot = Vec<(String, std::ops::Range<usize>, String)>;

fn incremental_findings(doc: &Document) -> Snapshot {
    doc.findings
        .items()
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

fn full_findings(rules: &RuleSet, lang: Lang, text: &str) -> Snapshot {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&lang.grammar()).unwrap();
    let tree = parser.parse(text, None).unwrap();
    rules
        .find(
            lang,
            &tree,
            text.as_bytes(),
            "db/x.sql",
            Some(whole(text.len())),
        )
        .into_iter()
        .map(|f| (f.rule.id().to_string(), f.range, f.fingerprint))
        .collect()
}

/// Applies `edits` to a document and to a reference string, checking the rope after every edit,
/// then undoes them all in reverse order, as tree-sitter's own randomized tests do. Tree-sitter
/// promises a tree equal to a fresh parse only for text without syntax errors (error recovery
/// depends on which subtrees were reused), so the tree and the findings are compared whenever
/// the text parses cleanly, and always after the undo, which restores the valid initial program.
/// The grammars whose incremental parse of error-free text always equals a fresh parse. The bash
/// grammar's does not always (around `\\` line continuations; reproduced with tree-sitter alone,
/// without Countersign code), so for it the findings are checked against a full query over the
/// document's own tree, not against a fresh parse.
fn reparse_matches_fresh_parse(lang: Lang) -> bool {
    lang != Lang::Bash
}

///
/// With a small `chunk_bytes` the document is cut into many chunks, which are joined, grown and
/// cut again as the edits go: then the chunks must tile the text, each kept tree must equal a
/// fresh parse of its chunk alone (where that is error-free), and whenever the whole text parses
/// without errors the findings must be those of a parse of the whole.
fn run_differential(
    lang: Lang,
    initial: &str,
    edits: &[Edit],
    enc: Encoding,
    chunk_bytes: usize,
) -> Result<(), TestCaseError> {
    let rules = RuleSet::builtin().unwrap();
    let heuristic = BulkEditHeuristic::default();
    let classify = |t: &str| heuristic.classify(t);
    let mut doc = Document::new(initial, Some(lang), 0).with_chunk_bytes(chunk_bytes);
    doc.refresh(&rules, "db/x.sql");
    let mut reference = initial.to_string();
    let mut undo: Vec<(usize, usize, String)> = Vec::new();
    let check = |doc: &mut Document, reference: &str, refresh: bool| -> Result<(), TestCaseError> {
        prop_assert_eq!(doc.text().to_string(), reference);
        if refresh {
            doc.refresh(&rules, "db/x.sql");
            // What the server does once the user pauses; until then an error may stay local.
            doc.settle(&rules, "db/x.sql");
            let fresh = fresh_sexp(lang, reference);
            if doc.tree().is_none() {
                return check_chunks(&rules, doc, lang, reference);
            }
            let tree = doc.tree().unwrap().root_node();
            prop_assert_eq!(tree.end_byte(), reference.len());
            // Whatever tree error recovery produced, the findings kept up to date edit by edit
            // are those of a full query over that same tree.
            let over_own_tree: Snapshot = rules
                .find(
                    lang,
                    doc.tree().unwrap(),
                    doc.text(),
                    "db/x.sql",
                    Some(whole(reference.len())),
                )
                .into_iter()
                .map(|f| (f.rule.id().to_string(), f.range, f.fingerprint))
                .collect();
            prop_assert_eq!(incremental_findings(doc), over_own_tree);
            if reparse_matches_fresh_parse(lang)
                && !fresh.contains("ERROR")
                && !fresh.contains("MISSING")
            {
                prop_assert_eq!(tree.to_sexp(), fresh);
                prop_assert_eq!(
                    incremental_findings(doc),
                    full_findings(&rules, lang, reference)
                );
            }
        }
        Ok(())
    };
    for (i, edit) in edits.iter().enumerate() {
        let a = reference_offset(&reference, edit.from, enc);
        let b = reference_offset(&reference, edit.to, enc);
        let (start, end) = (a.min(b), a.max(b));
        undo.push((
            start,
            start + edit.text.len(),
            reference[start..end].to_string(),
        ));
        reference.replace_range(start..end, &edit.text);
        doc.apply_change(Some((edit.from, edit.to)), &edit.text, enc, &classify);
        doc.set_version(i as i32 + 1);
        check(&mut doc, &reference, edit.refresh_after)?;
    }
    check(&mut doc, &reference, true)?;
    while let Some((start, end, text)) = undo.pop() {
        // Through positions where they can express the offsets; an offset between `\r` and `\n`
        // (left by inserting a lone `\r` before a `\n`) has no LSP position, so bytes are used.
        let (from, to) = (
            reference_position(&reference, start, enc),
            reference_position(&reference, end, enc),
        );
        let expressible = reference_offset(&reference, from, enc) == start
            && reference_offset(&reference, to, enc) == end;
        reference.replace_range(start..end, &text);
        if expressible {
            doc.apply_change(Some((from, to)), &text, enc, &classify);
        } else {
            doc.apply_bytes(start, end, &text, Author::Human);
        }
        check(&mut doc, &reference, undo.len().is_multiple_of(3))?;
    }
    prop_assert_eq!(&reference, initial);
    if reparse_matches_fresh_parse(lang) {
        if let Some(tree) = doc.tree() {
            prop_assert_eq!(tree.root_node().to_sexp(), fresh_sexp(lang, initial));
        }
        prop_assert_eq!(
            incremental_findings(&doc),
            full_findings(&rules, lang, initial)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sql_edits_keep_rope_tree_and_findings_equal_to_a_fresh_parse(
        initial in text_from(SQL_STATEMENTS), edits in edits(SQL_FRAGMENTS), enc in encoding()
    ) {
        run_differential(Lang::Sql, &initial, &edits, enc, CHUNK_BYTES)?;
    }

    #[test]
    fn shell_edits_keep_rope_tree_and_findings_equal_to_a_fresh_parse(
        initial in text_from(SH_STATEMENTS), edits in edits(SH_FRAGMENTS), enc in encoding()
    ) {
        run_differential(Lang::Bash, &initial, &edits, enc, CHUNK_BYTES)?;
    }

    #[test]
    fn python_edits_keep_rope_tree_and_findings_equal_to_a_fresh_parse(
        initial in text_from(PY_STATEMENTS), edits in edits(PY_FRAGMENTS), enc in encoding()
    ) {
        run_differential(Lang::Python, &initial, &edits, enc, CHUNK_BYTES)?;
    }

}

/// The parse of `range` of `text` alone, as a chunk is parsed.
fn fresh_chunk_sexp(lang: Lang, text: &str, range: std::ops::Range<usize>) -> String {
    let rope = Rope::from_str(text);
    let mut parser = Parser::new();
    parser.set_language(&lang.grammar()).unwrap();
    let included = [tree_sitter::Range {
        start_byte: range.start,
        end_byte: range.end,
        start_point: position::ts_point(&rope, range.start),
        end_point: position::ts_point(&rope, range.end),
    }];
    if range.start > 0 || range.end < text.len() {
        parser.set_included_ranges(&included).unwrap();
    }
    parser.parse(text, None).unwrap().root_node().to_sexp()
}

/// The checks of [`run_differential`] for a document in several chunks.
fn check_chunks(
    rules: &RuleSet,
    doc: &Document,
    lang: Lang,
    reference: &str,
) -> Result<(), TestCaseError> {
    let mut at = 0;
    for (range, tree) in doc.chunks() {
        prop_assert_eq!(range.start, at, "chunks tile the text");
        at = range.end;
        if let Some(tree) = tree {
            let fresh = fresh_chunk_sexp(lang, reference, range.clone());
            if reparse_matches_fresh_parse(lang)
                && !fresh.contains("ERROR")
                && !fresh.contains("MISSING")
            {
                prop_assert_eq!(tree.root_node().to_sexp(), fresh, "chunk {:?}", range);
            }
        }
    }
    prop_assert_eq!(at, reference.len(), "chunks tile the text");
    let fresh = fresh_sexp(lang, reference);
    if reparse_matches_fresh_parse(lang) && !fresh.contains("ERROR") && !fresh.contains("MISSING") {
        prop_assert_eq!(
            incremental_findings(doc),
            full_findings(rules, lang, reference)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sql_edits_in_chunks_keep_findings_equal_to_a_parse_of_the_whole(
        initial in text_from(SQL_STATEMENTS), edits in edits(SQL_FRAGMENTS), enc in encoding(),
        chunk_bytes in 8usize..80
    ) {
        run_differential(Lang::Sql, &initial, &edits, enc, chunk_bytes)?;
    }

    #[test]
    fn python_edits_in_chunks_keep_findings_equal_to_a_parse_of_the_whole(
        initial in text_from(PY_STATEMENTS), edits in edits(PY_FRAGMENTS), enc in encoding(),
        chunk_bytes in 8usize..80
    ) {
        run_differential(Lang::Python, &initial, &edits, enc, chunk_bytes)?;
    }

    #[test]
    fn shell_edits_in_chunks_keep_the_chunks_whole(
        initial in text_from(SH_STATEMENTS), edits in edits(SH_FRAGMENTS), enc in encoding(),
        chunk_bytes in 8usize..80
    ) {
        run_differential(Lang::Bash, &initial, &edits, enc, chunk_bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn whole_text_replacements_become_minimal_edits(
        initial in text_from(SQL_STATEMENTS), replacements in prop::collection::vec(text_from(SQL_STATEMENTS), 1..6)
    ) {
        let rules = RuleSet::builtin().unwrap();
        let mut doc = Document::new(&initial, Some(Lang::Sql), 0);
        for text in &replacements {
            doc.apply_change(None, text, Encoding::Utf16, &|_| Author::Human);
            doc.refresh(&rules, "a.sql");
            prop_assert_eq!(doc.text().to_string(), text.clone());
            prop_assert_eq!(doc.tree().unwrap().root_node().to_sexp(), fresh_sexp(Lang::Sql, text));
        }
    }

    #[test]
    fn positions_convert_like_the_reference(text in text_from(SQL_FRAGMENTS), line in 0u32..8, col in 0u32..40, enc in encoding()) {
        let rope = Rope::from_str(&text);
        let pos = LineCol::new(line, col);
        let byte = position::to_byte(&rope, pos, enc).0;
        prop_assert_eq!(byte, reference_offset(&text, pos, enc));
        let back = position::to_line_col(&rope, byte, enc);
        prop_assert_eq!(back, reference_position(&text, byte, enc));
        let end = position::to_byte(&rope, LineCol::new(line, col + 7), enc).0.max(byte);
        prop_assert_eq!(
            position::to_line_col_range(&rope, byte..end, enc),
            (back, reference_position(&text, end, enc))
        );
        prop_assert_eq!(position::to_byte(&rope, back, enc), (byte, false));
    }
}

#[test]
fn a_bulk_insert_is_attributed_to_ai_and_typing_to_a_person() {
    let rules = RuleSet::builtin().unwrap();
    let heuristic = BulkEditHeuristic::default();
    let mut doc = Document::new("SELECT 1;\n", Some(Lang::Sql), 1);
    let applied = doc.apply_change(
        Some((LineCol::new(1, 0), LineCol::new(1, 0))),
        "DROP TABLE users;\nTRUNCATE logs;\n",
        Encoding::Utf16,
        &|t| heuristic.classify(t),
    );
    assert_eq!(
        (applied.start, applied.new_end, applied.clamped),
        (10, 43, false)
    );
    doc.refresh(&rules, "a.sql");
    let found = doc.findings.items();
    assert_eq!(found.len(), 2);
    assert!(doc.authorship.author_of(found[0].range.clone()).is_ai());
    for (i, ch) in "DROP TABLE t;".chars().enumerate() {
        doc.apply_change(
            Some((LineCol::new(0, i as u32), LineCol::new(0, i as u32))),
            &ch.to_string(),
            Encoding::Utf16,
            &|t| heuristic.classify(t),
        );
        doc.refresh(&rules, "a.sql");
    }
    let typed = doc
        .findings
        .items()
        .iter()
        .find(|f| f.snippet == "DROP TABLE t;")
        .expect("typed DROP is found");
    assert_eq!(doc.authorship.author_of(typed.range.clone()), Author::Human);
}

#[test]
fn a_person_editing_an_ai_line_takes_over_that_line_only() {
    let heuristic = BulkEditHeuristic::default();
    let classify = |t: &str| heuristic.classify(t);
    let mut doc = Document::new("", Some(Lang::Bash), 1);
    doc.apply_change(
        Some((LineCol::new(0, 0), LineCol::new(0, 0))),
        "rm -rf \"$DIR/\"\ngit push --force\n",
        Encoding::Utf8,
        &classify,
    );
    assert!(doc.authorship.author_of(0..15).is_ai());
    // Adds `:?` to the variable: the first line is now the person's, the second still the AI's.
    doc.apply_change(
        Some((LineCol::new(0, 12), LineCol::new(0, 12))),
        ":?",
        Encoding::Utf8,
        &classify,
    );
    assert_eq!(doc.authorship.author_of(0..16), Author::Human);
    assert!(doc.authorship.author_of(17..33).is_ai());
}

#[test]
fn files_without_a_grammar_are_plain_text() {
    let rules = RuleSet::builtin().unwrap();
    let mut doc = Document::new("DROP TABLE users;", None, 1);
    doc.apply_change(None, "x", Encoding::Utf8, &|_| Author::Human);
    doc.refresh(&rules, "notes.txt");
    assert!(doc.tree().is_none());
    assert!(doc.findings.items().is_empty());
    assert_eq!(doc.text().to_string(), "x");
}

/// Neovim sends these for plain typing; none of them may look like a bulk (AI) insert.
#[test]
fn keystrokes_that_resend_neighbouring_text_stay_human() {
    let heuristic = BulkEditHeuristic::default();
    let classify = |t: &str| heuristic.classify(t);
    let mut doc = Document::new("DROP TABLE users;\n", Some(Lang::Sql), 0);
    // `o` below line 0: replaces the line break with two.
    let applied = doc.apply_change(
        Some((LineCol::new(0, 17), LineCol::new(1, 0))),
        "\n\n",
        Encoding::Utf8,
        &classify,
    );
    assert_eq!(
        (applied.start, applied.old_end, applied.new_end),
        (18, 18, 19)
    );
    // Enter inside the line: Neovim resends the rest of the line.
    doc.apply_change(
        Some((LineCol::new(0, 10), LineCol::new(0, 17))),
        "\nusers;",
        Encoding::Utf8,
        &classify,
    );
    // `yyp`: the copied line arrives with the line break before it.
    doc.apply_change(
        Some((LineCol::new(1, 6), LineCol::new(2, 0))),
        "\nDROP TABLE t;\n",
        Encoding::Utf8,
        &classify,
    );
    assert!(
        doc.authorship
            .spans()
            .iter()
            .all(|s| s.author == Author::Human),
        "{:?}",
        doc.authorship.spans()
    );
    assert_eq!(
        doc.text().to_string(),
        "DROP TABLE\nusers;\nDROP TABLE t;\n\n"
    );
}

/// A finding reported past its own nodes (`GRANT` plus the rest of the statement the grammar
/// split off) is checked again when only that rest changes.
#[test]
fn an_edit_in_the_extended_part_of_a_finding_rechecks_it() {
    let rules = RuleSet::builtin().unwrap();
    let human = |_: &str| Author::Human;
    let text = "SELECT 1;\nGRANT SELECT ON users TO PUBLIC;\nSELECT 2;\n";
    let mut doc = Document::new(text, Some(Lang::Sql), 1);
    doc.refresh(&rules, "a.sql");
    let grants = |doc: &Document| -> Vec<String> {
        doc.findings
            .items()
            .iter()
            .filter(|f| f.rule.id() == "sql/grant-all")
            .map(|f| f.snippet.clone())
            .collect()
    };
    assert_eq!(grants(&doc), ["GRANT SELECT ON users TO PUBLIC;"]);
    // `PUBLIC` → `alice`, at the end of the statement, far from the GRANT node.
    doc.apply_change(
        Some((LineCol::new(1, 25), LineCol::new(1, 31))),
        "alice",
        Encoding::Utf8,
        &human,
    );
    doc.refresh(&rules, "a.sql");
    assert!(grants(&doc).is_empty(), "{:?}", grants(&doc));
    doc.apply_change(
        Some((LineCol::new(1, 25), LineCol::new(1, 30))),
        "PUBLIC",
        Encoding::Utf8,
        &human,
    );
    doc.refresh(&rules, "a.sql");
    assert_eq!(grants(&doc), ["GRANT SELECT ON users TO PUBLIC;"]);
}

/// Fails naming only the findings that differ (whole lists run to thousands of lines).
#[track_caller]
fn assert_same_findings(incremental: Snapshot, full: Snapshot) {
    let only_incremental: Vec<_> = incremental.iter().filter(|f| !full.contains(f)).collect();
    let only_full: Vec<_> = full.iter().filter(|f| !incremental.contains(f)).collect();
    assert!(
        only_incremental.is_empty() && only_full.is_empty() && incremental.len() == full.len(),
        "kept up to date only: {only_incremental:?}\nparse of the whole only: {only_full:?}"
    );
}

#[test]
fn a_long_document_is_parsed_in_chunks_and_an_edit_reparses_only_its_own() {
    let rules = RuleSet::builtin().unwrap();
    let text: String = (0..200)
        .map(|i| format!("DELETE FROM t{i} WHERE id = {i};\nDROP TABLE old_{i};\n"))
        .collect();
    let mut doc = Document::new(&text, Some(Lang::Sql), 0).with_chunk_bytes(256);
    doc.refresh(&rules, "db/x.sql");
    let count = doc.chunks().count();
    assert!(count > 20, "{count} chunks");
    // Trees are kept only up to the budget, even while the document is first read.
    let kept_bytes = |doc: &Document| -> usize {
        doc.chunks()
            .filter(|(_, t)| t.is_some())
            .map(|(r, _)| r.len())
            .sum()
    };
    assert!(kept_bytes(&doc) <= chunks::TREE_BUDGET_BYTES);
    assert_eq!(doc.findings.items().len(), 200);
    let middle = text.find("DROP TABLE old_100").unwrap();
    doc.apply_bytes(middle + 11, middle + 11, "x", Author::Human);
    doc.refresh(&rules, "db/x.sql");
    assert_eq!(doc.chunks().count(), count, "the edit stays in its chunk");
    let edited: Vec<_> = doc
        .chunks()
        .filter(|(r, _)| r.contains(&middle))
        .map(|(_, t)| t.is_some())
        .collect();
    assert_eq!(edited, [true], "the edited chunk keeps its tree");
    assert!(kept_bytes(&doc) <= chunks::TREE_BUDGET_BYTES);
    let reference = doc.text().to_string();
    assert_same_findings(
        incremental_findings(&doc),
        full_findings(&rules, Lang::Sql, &reference),
    );
}

#[test]
fn an_unclosed_string_joins_the_chunks_it_runs_into_until_it_is_closed() {
    let rules = RuleSet::builtin().unwrap();
    let text: String = (0..60)
        .map(|i| format!("def f{i}():\n    os.system('rm -rf /srv/{i}')\n\n"))
        .collect();
    let mut doc = Document::new(&text, Some(Lang::Python), 0).with_chunk_bytes(200);
    doc.refresh(&rules, "db/x.sql");
    doc.settle(&rules, "db/x.sql");
    let before = doc.chunks().count();
    assert!(before > 5, "{before} chunks");
    let all = full_findings(&rules, Lang::Python, &text);
    assert!(all.len() >= 60);
    assert_eq!(incremental_findings(&doc), all);
    // A docstring opened before f30 and not yet closed: a parse of the whole reads everything
    // after it as a string.
    let at = text.find("def f30").unwrap();
    doc.apply_bytes(at, at, "\"\"\"\n", Author::Human);
    doc.refresh(&rules, "db/x.sql");
    doc.settle(&rules, "db/x.sql");
    let open = doc.text().to_string();
    assert_same_findings(
        incremental_findings(&doc),
        full_findings(&rules, Lang::Python, &open),
    );
    // Closed again: every function is code once more, and the text is cut into chunks again.
    let end = doc.text().len_bytes();
    doc.apply_bytes(end, end, "\"\"\"\n", Author::Human);
    doc.refresh(&rules, "db/x.sql");
    doc.settle(&rules, "db/x.sql");
    let closed = doc.text().to_string();
    assert_same_findings(
        incremental_findings(&doc),
        full_findings(&rules, Lang::Python, &closed),
    );
    let at = closed.find("\"\"\"").unwrap();
    doc.apply_bytes(at, at + 4, "", Author::Human);
    let end = doc.text().len_bytes();
    doc.apply_bytes(end - 4, end, "", Author::Human);
    doc.refresh(&rules, "db/x.sql");
    doc.settle(&rules, "db/x.sql");
    assert_eq!(doc.text().to_string(), text);
    assert_eq!(incremental_findings(&doc), all);
    assert!(doc.chunks().count() > 5);
}

#[test]
fn a_block_comment_across_chunks_hides_what_it_covers_and_chunks_come_back() {
    let rules = RuleSet::builtin().unwrap();
    let text: String = (0..400)
        .map(|i| format!("DELETE FROM t{i} WHERE id = {i};\nDROP TABLE old_{i};\n"))
        .collect();
    let mut doc = Document::new(&text, Some(Lang::Sql), 0).with_chunk_bytes(256);
    doc.refresh(&rules, "db/x.sql");
    doc.settle(&rules, "db/x.sql");
    let before = doc.chunks().count();
    assert!(before > 5, "{before} chunks");
    // Opened in one chunk, closed at the end: every chunk after the first is comment.
    let at = text.find("DELETE FROM t50 ").unwrap();
    doc.apply_bytes(at, at, "/*\n", Author::Human);
    let end = doc.text().len_bytes();
    doc.apply_bytes(end, end, "*/\n", Author::Human);
    doc.refresh(&rules, "db/x.sql");
    // The keystroke parsed only so much around the error; the pause settles it.
    assert!(doc.unsettled());
    doc.settle(&rules, "db/x.sql");
    assert!(!doc.unsettled());
    let commented = doc.text().to_string();
    assert_same_findings(
        incremental_findings(&doc),
        full_findings(&rules, Lang::Sql, &commented),
    );
    assert_eq!(doc.findings.items().len(), 50);
    // The comment, from `/*` to the end, is one top-level node: one chunk holds all of it.
    let holder: Vec<_> = doc.chunks().filter(|(r, _)| r.contains(&at)).collect();
    assert_eq!(holder[0].0.end, commented.len(), "{:?}", holder[0].0);
    doc.apply_bytes(at, at + 3, "", Author::Human);
    let end = doc.text().len_bytes();
    doc.apply_bytes(end - 3, end, "", Author::Human);
    doc.refresh(&rules, "db/x.sql");
    doc.settle(&rules, "db/x.sql");
    assert_eq!(doc.text().to_string(), text);
    assert_same_findings(
        incremental_findings(&doc),
        full_findings(&rules, Lang::Sql, &text),
    );
    assert_eq!(doc.findings.items().len(), 400);
    assert!(doc.chunks().count() > 5);
}
