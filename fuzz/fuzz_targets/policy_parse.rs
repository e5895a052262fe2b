//! libFuzzer on `triage::fuzzing::policy_parse` (see there for what it covers).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| triage::fuzzing::policy_parse(data));
