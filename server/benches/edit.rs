//! Server-side cost of editing a large document: what one `textDocument/didChange` costs before
//! diagnostics are published (apply the change, reparse incrementally, re-run the rules over the
//! dirty ranges), and, for reference, what opening the document costs.
//!
//! Run with `cargo bench -p countersign --bench edit`. The inputs are generated, deterministic
//! and parse without syntax errors (checked before measuring).

use std::hint::black_box;
use std::time::Duration;

use countersign::analysis::RuleSet;
use countersign::document::{Document, Encoding, LineCol};
use countersign::provenance::{Author, BulkEditHeuristic};
use countersign_grammars::Lang;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};

const SQL_PATH: &str = "db/migrations/0042_big.sql";
const PYTHON_PATH: &str = "app/big_module.py";
const BASH_PATH: &str = "scripts/deploy.sh";

/// A migration-like SQL file of at least `lines` lines: mostly harmless DDL and DML, with a
/// DROP TABLE, a TRUNCATE or a DELETE without WHERE every few blocks so there are findings.
fn sql_file(lines: usize) -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.lines().count() < lines {
        // Counting lines on a growing string is quadratic; do it per batch of blocks.
        for _ in 0..64 {
            out.push_str(&sql_block(i));
            i += 1;
        }
    }
    out
}

fn sql_block(i: usize) -> String {
    let mut s = format!(
        "-- step {i}: orders table\n\
         CREATE TABLE IF NOT EXISTS orders_{i} (\n\
         \x20   id BIGINT PRIMARY KEY,\n\
         \x20   customer_id BIGINT NOT NULL,\n\
         \x20   amount NUMERIC(12, 2) DEFAULT 0,\n\
         \x20   status VARCHAR(32) NOT NULL,\n\
         \x20   created_at TIMESTAMP NOT NULL\n\
         );\n\
         INSERT INTO orders_{i} (id, customer_id, amount, status, created_at) VALUES (1, 42, 10.50, 'new', '2024-01-01');\n\
         SELECT id, customer_id, amount FROM orders_{i} WHERE status = 'new' AND amount > 100;\n\
         UPDATE orders_{i} SET status = 'paid' WHERE id = {i};\n\
         DELETE FROM orders_{i} WHERE created_at < '2020-01-01';\n"
    );
    if i % 7 == 3 {
        s.push_str(&format!("DROP TABLE IF EXISTS legacy_orders_{i};\n"));
    }
    if i % 11 == 5 {
        s.push_str(&format!("TRUNCATE TABLE staging_{i};\n"));
    }
    if i % 13 == 8 {
        s.push_str(&format!("DELETE FROM sessions_{i};\n"));
    }
    s.push('\n');
    s
}

/// A Python module of at least `lines` lines: classes with methods, functions with nested
/// blocks, docstrings, f-strings and comments (the grammar's external scanner tracks the
/// indentation and the strings).
fn python_file(lines: usize) -> String {
    let mut out = String::from("import os\nimport sys\nfrom dataclasses import dataclass\n\n\n");
    let mut i = 0;
    while out.lines().count() < lines {
        for _ in 0..64 {
            out.push_str(&python_block(i));
            i += 1;
        }
    }
    out
}

fn python_block(i: usize) -> String {
    format!(
        "@dataclass\n\
         class Account{i}:\n\
         \x20   \"\"\"An account, number {i}.\"\"\"\n\
         \n\
         \x20   owner: str\n\
         \x20   balance: float = 0.0\n\
         \n\
         \x20   def deposit(self, amount):\n\
         \x20       if amount <= 0:\n\
         \x20           raise ValueError(f\"bad amount {{amount}} for {{self.owner}}\")\n\
         \x20       self.balance += amount\n\
         \x20       return self.balance\n\
         \n\
         \x20   def history(self, entries):\n\
         \x20       result = []\n\
         \x20       for entry in entries:\n\
         \x20           # skip the empty ones\n\
         \x20           if not entry:\n\
         \x20               continue\n\
         \x20           result.append({{\"id\": entry.id, \"value\": entry.value * {i}}})\n\
         \x20       return result\n\
         \n\
         \n\
         def summarize_{i}(accounts, limit=10):\n\
         \x20   total = sum(a.balance for a in accounts)\n\
         \x20   with open(os.path.join(\"/tmp\", \"report_{i}.txt\"), \"w\") as fh:\n\
         \x20       fh.write(f\"{{total:.2f}}\\n\")\n\
         \x20   try:\n\
         \x20       return [a for a in accounts if a.balance > limit]\n\
         \x20   except (TypeError, ValueError) as err:\n\
         \x20       print(err, file=sys.stderr)\n\
         \x20       return []\n\
         \n\
         \n"
    )
}

/// A shell script of at least `lines` lines: functions, conditionals, loops, a heredoc, and an
/// `rm -rf` every few blocks.
fn bash_file(lines: usize) -> String {
    let mut out = String::from("#!/usr/bin/env bash\nset -euo pipefail\n\n");
    let mut i = 0;
    while out.lines().count() < lines {
        for _ in 0..64 {
            out.push_str(&bash_block(i));
            i += 1;
        }
    }
    out
}

fn bash_block(i: usize) -> String {
    let mut s = format!(
        "deploy_{i}() {{\n\
         \x20 local target=\"${{1:-staging}}\"\n\
         \x20 local count=0\n\
         \x20 if [[ -d \"$BUILD_DIR/{i}\" ]]; then\n\
         \x20   echo \"deploying step {i} to $target\"\n\
         \x20 else\n\
         \x20   mkdir -p \"$BUILD_DIR/{i}\"\n\
         \x20 fi\n\
         \x20 for f in \"$BUILD_DIR\"/{i}/*.tar.gz; do\n\
         \x20   count=$((count + 1))\n\
         \x20   scp \"$f\" \"deploy@$target:/srv/releases/\" || return 1\n\
         \x20 done\n\
         \x20 cat <<EOF > \"/tmp/manifest_{i}.txt\"\n\
         step={i}\n\
         files=$count\n\
         EOF\n"
    );
    if i % 5 == 2 {
        s.push_str(&format!("  rm -rf \"$BUILD_DIR/{i}/old\"\n"));
    } else {
        s.push_str(&format!("  rm -f \"$BUILD_DIR/{i}/lock\"\n"));
    }
    s.push_str("}\n\n");
    s
}

/// A 50-line block pasted into the SQL file, with findings of its own.
fn sql_paste_block() -> String {
    let mut s = String::new();
    for j in 0..50 {
        let line = match j % 5 {
            0 => format!("INSERT INTO audit_log (id, note) VALUES ({j}, 'pasted {j}');\n"),
            1 => format!("SELECT id, note FROM audit_log WHERE id = {j};\n"),
            2 => format!("UPDATE audit_log SET note = 'seen' WHERE id = {j};\n"),
            3 if j % 2 == 1 => format!("DROP TABLE IF EXISTS pasted_{j};\n"),
            3 => format!("TRUNCATE TABLE pasted_{j};\n"),
            _ => format!("DELETE FROM audit_log WHERE id < {j};\n"),
        };
        s.push_str(&line);
    }
    assert_eq!(s.lines().count(), 50);
    s
}

/// The zero-based line of the first line at or after the middle that contains `needle`, and the
/// column just after `needle` on it (the text is ASCII, so UTF-16 columns equal byte columns).
fn typing_spot(text: &str, needle: &str) -> LineCol {
    let total = text.lines().count();
    let (line, col) = text
        .lines()
        .enumerate()
        .skip(total / 2)
        .find_map(|(n, l)| l.find(needle).map(|c| (n, c + needle.len())))
        .expect("the needle occurs after the middle of the file");
    LineCol::new(line as u32, col as u32)
}

/// Opens a document and checks the generated text is a clean parse with the expected findings.
fn open(text: &str, lang: Lang, rules: &RuleSet, path: &str, expect_findings: bool) -> Document {
    let mut doc = Document::new(text, Some(lang), 1);
    doc.reanalyse(rules, path);
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&lang.grammar()).unwrap();
    let tree = parser.parse(text, None).expect("the document parses");
    assert!(
        !tree.root_node().has_error(),
        "generated {lang} input has syntax errors"
    );
    assert_eq!(
        !doc.findings.items().is_empty(),
        expect_findings,
        "{lang}: unexpected findings count"
    );
    doc
}

/// One keystroke per iteration at the same spot: even iterations type `x`, odd ones delete it,
/// so the document stays the same size. Each iteration is exactly one change and one refresh.
/// In the `keystroke` group the spot is inside an identifier (the syntax stays valid); in
/// `keystroke-error` it is inside a keyword, so every other keystroke is a syntax error and
/// the parser's error recovery runs, as it does all the time while someone types.
#[allow(clippy::too_many_arguments)]
fn keystroke(
    c: &mut Criterion,
    group_name: &str,
    rules: &RuleSet,
    lang: Lang,
    path: &str,
    inputs: &[(&str, String)],
    needle: &str,
    expect_findings: bool,
) {
    let heuristic = BulkEditHeuristic::default();
    let classify = |t: &str| heuristic.classify(t);
    let mut group = c.benchmark_group(format!("{group_name}/{lang}"));
    group.warm_up_time(Duration::from_secs(1));
    for (label, text) in inputs {
        // Keystrokes on 100k lines take tens of milliseconds: fewer, flat samples keep the run
        // short without criterion asking for more time.
        if text.lines().count() >= 50_000 {
            group
                .sampling_mode(SamplingMode::Flat)
                .sample_size(20)
                .measurement_time(Duration::from_secs(8));
        } else {
            group
                .sampling_mode(SamplingMode::Auto)
                .sample_size(50)
                .measurement_time(Duration::from_secs(6));
        }
        let at = typing_spot(text, needle);
        let after = LineCol::new(at.line, at.col + 1);
        // Opened on first use, so running one benchmark by name doesn't open every document.
        let mut state: Option<(Document, usize)> = None;
        let mut typed = false;
        group.bench_function(*label, |b| {
            let (doc, _) = state.get_or_insert_with(|| {
                let doc = open(text, lang, rules, path, expect_findings);
                let count = doc.findings.items().len();
                (doc, count)
            });
            b.iter(|| {
                if typed {
                    doc.apply_change(Some((at, after)), "", Encoding::Utf16, &classify);
                } else {
                    doc.apply_change(Some((at, at)), "x", Encoding::Utf16, &classify);
                }
                typed = !typed;
                doc.refresh(rules, path);
                black_box(doc.findings.items().len())
            })
        });
        // The edit is inside an identifier: it must never change the findings.
        if let Some((doc, findings_before)) = state.as_ref().filter(|_| group_name == "keystroke") {
            assert_eq!(
                doc.findings.items().len(),
                *findings_before,
                "{lang}/{label}: findings drifted"
            );
        }
    }
    group.finish();
}

fn bench_keystrokes(c: &mut Criterion) {
    let rules = RuleSet::builtin().expect("the builtin rules compile");
    let sql = [("10k", sql_file(10_000)), ("100k", sql_file(100_000))];
    keystroke(
        c,
        "keystroke",
        &rules,
        Lang::Sql,
        SQL_PATH,
        &sql,
        "customer",
        true,
    );
    let python = [("10k", python_file(10_000)), ("100k", python_file(100_000))];
    keystroke(
        c,
        "keystroke",
        &rules,
        Lang::Python,
        PYTHON_PATH,
        &python,
        "    total",
        false,
    );
    let bash = [("10k", bash_file(10_000))];
    keystroke(
        c,
        "keystroke",
        &rules,
        Lang::Bash,
        BASH_PATH,
        &bash,
        "local targ",
        true,
    );
    let (sql_10k, python_10k) = (&sql[..1], &python[..1]);
    keystroke(
        c,
        "keystroke-error",
        &rules,
        Lang::Sql,
        SQL_PATH,
        sql_10k,
        "CREA",
        true,
    );
    keystroke(
        c,
        "keystroke-error",
        &rules,
        Lang::Python,
        PYTHON_PATH,
        python_10k,
        "de",
        false,
    );
}

/// A 50-line paste in the middle of the file, then its removal: each iteration is one change
/// (classified as a bulk edit) and one refresh.
fn bench_paste(c: &mut Criterion) {
    let rules = RuleSet::builtin().expect("the builtin rules compile");
    let heuristic = BulkEditHeuristic::default();
    let classify = |t: &str| heuristic.classify(t);
    let text = sql_file(10_000);
    let block = sql_paste_block();
    assert!(classify(&block).is_ai(), "the paste counts as a bulk edit");
    assert_eq!(classify("x"), Author::Human);
    // At the start of a line between two blocks, so the pasted statements stand on their own.
    let line = text
        .lines()
        .enumerate()
        .skip(text.lines().count() / 2)
        .find(|(_, l)| l.is_empty())
        .unwrap()
        .0 as u32;
    let at = LineCol::new(line + 1, 0);
    let end = LineCol::new(line + 1 + 50, 0);
    let mut state: Option<(Document, usize)> = None;
    let mut pasted = false;
    let mut group = c.benchmark_group("paste/sql");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    group.bench_function("10k", |b| {
        let (doc, _) = state.get_or_insert_with(|| {
            let doc = open(&text, Lang::Sql, &rules, SQL_PATH, true);
            let count = doc.findings.items().len();
            (doc, count)
        });
        b.iter(|| {
            if pasted {
                doc.apply_change(Some((at, end)), "", Encoding::Utf16, &classify);
            } else {
                doc.apply_change(Some((at, at)), &block, Encoding::Utf16, &classify);
            }
            pasted = !pasted;
            doc.refresh(&rules, SQL_PATH);
            black_box(doc.findings.items().len())
        })
    });
    group.finish();
    // Bring the document back to the original text to check the findings came back too.
    if let Some((mut doc, findings_before)) = state {
        if pasted {
            doc.apply_change(Some((at, end)), "", Encoding::Utf16, &classify);
            doc.refresh(&rules, SQL_PATH);
        }
        assert_eq!(doc.text().to_string(), text);
        assert_eq!(
            doc.findings.items().len(),
            findings_before,
            "paste/sql: findings drifted"
        );
    }
}

/// For reference: opening the file (a full parse and a full analysis).
fn bench_open(c: &mut Criterion) {
    let rules = RuleSet::builtin().expect("the builtin rules compile");
    let text = sql_file(10_000);
    let mut group = c.benchmark_group("open/sql");
    group
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("10k", |b| {
        // The documents are dropped outside the measurement.
        b.iter_with_large_drop(|| {
            let mut doc = Document::new(&text, Some(Lang::Sql), 1);
            doc.reanalyse(&rules, SQL_PATH);
            doc
        })
    });
    group.finish();
}

criterion_group!(benches, bench_keystrokes, bench_paste, bench_open);
criterion_main!(benches);
