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
//!
//! It also turns the platform's root CA (`src/ca/*.pem`, the readable
//! source) into the DER that the library embeds (`src/hal/pem.rs` makes
//! the PEM again for the HAL), and refuses to build unless that gives back
//! the source byte for byte.

extern crate alloc;

use std::path::{Path, PathBuf};

#[path = "src/hal/pem.rs"]
#[allow(dead_code)]
mod pem;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(iotx_ffi_hosted)");
    println!("cargo:rerun-if-env-changed=DEP_IOTX_COAP_STD");
    if std::env::var_os("DEP_IOTX_COAP_STD").is_some() {
        println!("cargo:rustc-cfg=iotx_ffi_hosted");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    ca_der(
        &dir.join("src/ca/globalsign-root-ca.pem"),
        &out.join("root-ca.der"),
    );
    println!("cargo:rerun-if-changed=src/hal/pem.rs");
}

/// The one certificate of the PEM file `src` as DER, written to `dst`.
fn ca_der(src: &Path, dst: &Path) {
    println!("cargo:rerun-if-changed={}", src.display());
    let text = std::fs::read(src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let body: Vec<u8> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty() && !l.starts_with(b"-----"))
        .flatten()
        .copied()
        .collect();
    let der = base64_decode(&body).unwrap_or_else(|| panic!("{}: bad base64", src.display()));
    let mut want = text.clone();
    want.push(0);
    assert!(
        pem::certificate(&der) == want,
        "{}: not one certificate in the canonical PEM layout (64-character lines, LF, a final LF); \
         the library would hand the HAL a different text",
        src.display()
    );
    std::fs::write(dst, der).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
}

/// Padded standard base64; `None` on anything else.
fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if s.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::new();
    for group in s.chunks(4) {
        let pad = group.iter().rev().take_while(|&&c| c == b'=').count();
        let mut n = 0u32;
        for &c in &group[..4 - pad] {
            n = n << 6 | A.iter().position(|&a| a == c)? as u32;
        }
        n <<= 6 * pad;
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}
