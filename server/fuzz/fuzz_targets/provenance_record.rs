//! Any bytes as a clone's provenance record (`.git/countersign/provenance.jsonl`): loading it
//! skips what it cannot read and never panics; attributing text by what loaded never panics and
//! gives ranges that lie on line boundaries of that text, in order.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use countersign::provenance::record::{self, Record, RECORD_FILE};
use libfuzzer_sys::fuzz_target;

/// One git directory for the whole run: the record file is rewritten for each input.
fn git_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("countersign-fuzz-record")
            .tempdir()
            .expect("a temp dir")
            .keep();
        let git = dir.join(".git");
        std::fs::create_dir_all(git.join(RECORD_FILE).parent().unwrap()).unwrap();
        git
    })
}

fuzz_target!(|data: &[u8]| {
    let git = git_dir();
    let store = Record::new(git);
    std::fs::write(store.path(), data).expect("the record is written");
    let all = store.load().expect("a readable record loads");
    // The text attributed: the input itself (its lines are the record's own lines, whose keys
    // rarely match) and the text of the lines the record names, which do.
    let text = String::from_utf8_lossy(data);
    for (_, known) in all.files().take(4) {
        let attributed = record::attribute(&text, known);
        let mut last_end = 0;
        for (range, _) in &attributed {
            assert!(range.start >= last_end, "ranges in order");
            assert!(range.end <= text.len());
            assert!(range.start == 0 || text.as_bytes()[range.start - 1] == b'\n');
            last_end = range.end;
        }
    }
});
