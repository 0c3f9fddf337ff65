//! SARIF 2.1.0 output of `scan` (and `check`), the format code-scanning services ingest
//! (GitHub code scanning, GitLab, Azure DevOps).

use serde_json::{json, Value};

use super::scan::JsonFinding;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// One run with the rules that produced findings and one result per finding.
pub fn report(findings: &[JsonFinding]) -> Value {
    let mut rule_ids: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let f = findings
                .iter()
                .find(|f| f.rule == *id)
                .expect("every id comes from a finding");
            json!({
                "id": id,
                "shortDescription": {"text": f.message},
                "fullDescription": {"text": f.explanation.trim()},
                "help": {"text": f.explanation.trim()},
                "helpUri": f.docs,
                "defaultConfiguration": {"level": level(f.severity)},
                "properties": {"category": f.category, "tags": [f.category]},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": rule_ids.binary_search(&f.rule.as_str()).unwrap_or_default(),
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&f.path)},
                        "region": {
                            "startLine": f.start.line,
                            "startColumn": f.start.column,
                            "endLine": f.end.line,
                            "endColumn": f.end.column,
                            "snippet": {"text": f.snippet},
                        },
                    },
                }],
                "partialFingerprints": {"countersign/v1": f.fingerprint},
                "properties": {
                    "category": f.category,
                    "author": f.author,
                    "signoff": f.signoff,
                },
            });
            // An approved finding stays in the log, marked as accepted by its reviewer.
            if f.signoff == "approved" {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": "approved by a senior sign-off in .countersign/signoffs",
                }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "countersign",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://countersign.dev",
                "rules": rules,
            }},
            // Columns count Unicode characters, as in the JSON output.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn level(severity: &str) -> &'static str {
    match severity {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    }
}

/// A relative path as a URI reference: forward slashes, everything but unreserved characters
/// percent-encoded; absolute paths become `file://` URIs.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if out.starts_with('/') {
        format!("file://{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("db/migrate/001 drop.sql"), "db/migrate/001%20drop.sql");
        assert_eq!(uri("/srv/app/x.py"), "file:///srv/app/x.py");
        assert_eq!(uri("dir\\ü.sh"), "dir/%C3%BC.sh");
    }
}
