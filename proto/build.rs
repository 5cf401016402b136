//! Compiles the public contract with protox (no system `protoc`) and writes the descriptor set
//! to `OUT_DIR` for gRPC reflection.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "doan/membership/v1/membership.proto",
    "doan/membership/v1/year.proto",
    "doan/membership/v1/access.proto",
    "doan/membership/v1/bulk.proto",
    "doan/activities/v1/campaigns.proto",
    "doan/activities/v1/activities.proto",
    "doan/awards/v1/awards.proto",
    "doan/notifications/v1/notifications.proto",
    "doan/events/v1/events.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["."])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("doan_descriptor.bin"), prost::Message::encode_to_vec(&descriptors))?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    Ok(())
}
