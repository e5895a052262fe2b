//! libFuzzer on `triage::fuzzing::request_validation` (see there for what it covers).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| triage::fuzzing::request_validation(data));
