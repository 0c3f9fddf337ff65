//! Any bytes as a sign-off request, an approval and the allowed signers file, read the way the
//! server and `signoff verify` read a repository's ledger: bad files become problems, never a
//! panic; an approval counts only for a request it names.
//!
//! The input is the three files separated by lines of `%%%%`: request, approval, signers.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use countersign::signoff::{Ledger, LEDGER_DIR};
use libfuzzer_sys::fuzz_target;

const SEPARATOR: &[u8] = b"\n%%%%\n";

/// One repository for the whole run; its ledger is rewritten for each input.
fn root() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("countersign-fuzz-ledger")
            .tempdir()
            .expect("a temp dir")
            .keep()
    })
}

fn split(data: &[u8]) -> [&[u8]; 3] {
    let mut parts = [&data[..0]; 3];
    let mut rest = data;
    for part in parts.iter_mut().take(2) {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(i) => {
                *part = &rest[..i];
                rest = &rest[i + SEPARATOR.len()..];
            }
            None => {
                *part = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    parts[2] = rest;
    parts
}

/// The file name the ledger gives a request: its fingerprint, when that can name a file.
fn fingerprint_of(request: &[u8]) -> String {
    let named = serde_json::from_slice::<serde_json::Value>(request)
        .ok()
        .and_then(|v| v.get("fingerprint")?.as_str().map(str::to_string))
        .filter(|f| {
            !f.is_empty() && f.len() <= 128 && f.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    named.unwrap_or_else(|| "0".repeat(64))
}

fuzz_target!(|data: &[u8]| {
    let [request, approval, signers] = split(data);
    let root = root();
    let dir = root.join(LEDGER_DIR);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fingerprint = fingerprint_of(request);
    std::fs::write(dir.join(format!("{fingerprint}.json")), request).unwrap();
    if !approval.is_empty() {
        std::fs::write(
            dir.join(format!("{fingerprint}.0123456789ab.approval")),
            approval,
        )
        .unwrap();
    }
    let ledger = Ledger::new(root);
    std::fs::write(ledger.allowed_signers_path(), signers).unwrap();
    for allow_self in [false, true] {
        let index = ledger.load(allow_self);
        for entry in index.entries.values() {
            assert_eq!(entry.request.fingerprint, fingerprint);
            for (_, a) in &entry.approvals {
                assert_eq!(a.fingerprint, entry.request.fingerprint);
            }
        }
        for p in &index.problems {
            assert!(!p.is_empty());
        }
    }
    let _ = ledger.signers();
});
