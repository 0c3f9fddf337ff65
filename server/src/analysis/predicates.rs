//! The query predicates tree-sitter leaves to the host (`#has-child? @x kind`), checked when a
//! query is compiled and evaluated on each match.
//!
//! They exist so queries stay linear: a pattern naming two unanchored siblings (`(block_mapping
//! (pair …) (pair …))`) makes tree-sitter track a partial match per sibling, quadratic in a
//! mapping of thousands of keys, because text predicates only run after a match completes. One
//! sibling in the pattern plus `#has-sibling?` on it costs one look at the siblings per match.

use std::collections::HashMap;

use regex::bytes::Regex;
use tree_sitter::{Node, Query, QueryMatch, QueryPredicateArg};

use super::{markers, Markers, Source};

/// Predicates taking a capture and a node kind.
const KIND_PREDICATES: [&str; 2] = ["has-child?", "not-has-child?"];
/// Predicates taking a capture and a regex: over a sibling's text, or over the text that
/// follows the capture (`#followed-by?`, for code a grammar splits into pieces).
const SIBLING_PREDICATES: [&str; 3] = ["has-sibling?", "not-has-sibling?", "followed-by?"];
/// How much of a sibling's text `#has-sibling?` reads: patterns look at its start (`Type: …`),
/// and a sibling can be a whole nested document.
const SIBLING_TEXT_LIMIT: usize = 4096;

/// The compiled regexes of a query's `#has-sibling?` predicates.
#[derive(Debug, Default)]
pub struct Predicates {
    regexes: HashMap<String, Regex>,
}

impl Predicates {
    /// Checks every host predicate of `query`; errors are `(pattern index, message)`.
    pub fn compile(query: &Query) -> Result<Predicates, Vec<(usize, String)>> {
        let mut out = Predicates::default();
        let mut errors = Vec::new();
        for p in 0..query.pattern_count() {
            for pred in query.general_predicates(p) {
                let op = &*pred.operator;
                match &*pred.args {
                    [QueryPredicateArg::Capture(_), QueryPredicateArg::String(_)]
                        if KIND_PREDICATES.contains(&op) => {}
                    [QueryPredicateArg::Capture(_), QueryPredicateArg::String(re)]
                        if SIBLING_PREDICATES.contains(&op) =>
                    {
                        match Regex::new(re) {
                            Ok(compiled) => {
                                out.regexes.insert(re.to_string(), compiled);
                            }
                            Err(e) => errors.push((p, format!("`#{op}`: bad regex: {e}"))),
                        }
                    }
                    [QueryPredicateArg::Capture(_)] if markers::PREDICATES.contains(&op) => {}
                    _ => errors.push((p, unsupported(op))),
                }
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Whether every host predicate of the match's pattern holds.
    pub fn hold<S: Source + ?Sized>(
        &self,
        query: &Query,
        m: &QueryMatch<'_, '_>,
        src: &S,
        markers: &Markers,
    ) -> bool {
        query
            .general_predicates(m.pattern_index)
            .iter()
            .all(|pred| {
                let op = &*pred.operator;
                let nodes = |cap: u32| {
                    m.captures
                        .iter()
                        .filter(move |c| c.index == cap)
                        .map(|c| c.node)
                };
                match &*pred.args {
                    [QueryPredicateArg::Capture(cap)] => nodes(*cap).any(|n| {
                        let text = src.bytes_of(n.byte_range());
                        markers.holds(op, &String::from_utf8_lossy(&text))
                    }),
                    [QueryPredicateArg::Capture(cap), QueryPredicateArg::String(arg)] => {
                        let found = match op {
                            "has-child?" | "not-has-child?" => {
                                nodes(*cap).any(|n| has_child_of_kind(n, arg))
                            }
                            "has-sibling?" | "not-has-sibling?" => match self.regexes.get(&**arg) {
                                Some(re) => nodes(*cap).any(|n| has_sibling_matching(n, re, src)),
                                None => false,
                            },
                            "followed-by?" => match self.regexes.get(&**arg) {
                                Some(re) => nodes(*cap).any(|n| re.is_match(&following(n, src))),
                                None => false,
                            },
                            _ => return false,
                        };
                        found != op.starts_with("not-")
                    }
                    _ => false,
                }
            })
    }
}

fn unsupported(op: &str) -> String {
    let supported: Vec<String> = KIND_PREDICATES
        .iter()
        .map(|p| format!("#{p} @capture node-kind"))
        .chain(
            SIBLING_PREDICATES
                .iter()
                .map(|p| format!("#{p} @capture \"regex\"")),
        )
        .chain(markers::PREDICATES.iter().map(|p| format!("#{p} @capture")))
        .collect();
    format!(
        "unsupported predicate `#{op}` (or wrong arguments); supported beyond tree-sitter's \
         own: {}",
        supported.join(", ")
    )
}

fn has_child_of_kind(node: Node<'_>, kind: &str) -> bool {
    let mut walk = node.walk();
    let found = node.named_children(&mut walk).any(|c| c.kind() == kind);
    found
}

/// The text after `node`, as much as `#followed-by?` and `report.extend` look at.
pub fn following<'s, S: Source + ?Sized>(node: Node<'_>, src: &'s S) -> std::borrow::Cow<'s, [u8]> {
    let end = node.end_byte();
    src.bytes_of(end..end + SIBLING_TEXT_LIMIT)
}

fn has_sibling_matching<S: Source + ?Sized>(node: Node<'_>, re: &Regex, src: &S) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    let mut walk = parent.walk();
    let found = parent
        .named_children(&mut walk)
        .filter(|s| s.id() != node.id())
        .any(|s| {
            let r = s.byte_range();
            let head = src.bytes_of(r.start..r.end.min(r.start + SIBLING_TEXT_LIMIT));
            re.is_match(&head)
        });
    found
}
