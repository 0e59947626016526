//! Picks the build of the shared ABI sources: the `std`-free C library, or
//! the hosted twin (`std`, the program's allocator and panic runtime, each
//! entry point catching panics; cfg `iotx_ffi_hosted`).
//!
//! The twin is chosen when the `iotx-coap` crate is built with `std`, which
//! it reports through its `links` metadata. That is always so for the twin
//! package (`hosted/`), and also for this one when Cargo unifies features
//! across a workspace-wide build (`cargo clippy --workspace`): a `std`
//! dependency would clash with a `#[panic_handler]` of our own. A build of
//! this package alone (`cargo build -p iotx-coap-ffi`, CMake) never is.
fn main() {
    println!("cargo:rustc-check-cfg=cfg(iotx_ffi_hosted)");
    println!("cargo:rerun-if-env-changed=DEP_IOTX_COAP_STD");
    if std::env::var_os("DEP_IOTX_COAP_STD").is_some() {
        println!("cargo:rustc-cfg=iotx_ffi_hosted");
    }
}
