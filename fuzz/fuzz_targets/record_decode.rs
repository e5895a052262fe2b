//! libFuzzer on `triage::fuzzing::record_decode` (see there for what it covers).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| triage::fuzzing::record_decode(data));
