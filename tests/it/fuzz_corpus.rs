//! Replays the fuzz corpora (fuzz/corpus/<target>/, the seeds and what fuzzing kept) and any
//! crash reproducers (fuzz/regressions/<target>/) through the fuzz targets' functions on
//! stable Rust, so every input that ever mattered is checked by `cargo test`.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            let data = std::fs::read(&path).expect("read corpus file");
            run(&data);
            inputs += 1;
        }
    }
    assert!(inputs > 0, "no corpus for {target}");
}

#[test]
fn record_decode_corpus() {
    replay("record_decode", triage::fuzzing::record_decode);
}

#[test]
fn request_validation_corpus() {
    replay("request_validation", triage::fuzzing::request_validation);
}

#[test]
fn policy_parse_corpus() {
    replay("policy_parse", triage::fuzzing::policy_parse);
}
