//! Compiles `proto/triage/v1/triage.proto` with the vendored protoc, so a fresh
//! machine needs no system protobuf compiler.
use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // Build scripts run single threaded, so setting the variable here races nothing.
    env::set_var("PROTOC", protoc);
    let out = PathBuf::from(env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("triage_descriptor.bin"))
        .compile_protos(&["proto/triage/v1/triage.proto"], &["proto"])?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
