//! Builds the reference Linux HAL (hal/linux/*.c) into OUT_DIR for this
//! crate's own integration tests only.
//!
//! The library itself never defines a `HAL_*` symbol: the archive is not
//! bundled into the staticlib/rlib (no `rustc-link-lib`), only handed to the
//! linker of this package's executables (tests, benches), which need a
//! platform layer to run.
use std::path::Path;

fn main() {
    // Tells the C library crate's build script whether this crate links
    // `std` (see ffi/build.rs).
    if std::env::var_os("CARGO_FEATURE_STD").is_some() {
        println!("cargo:std=1");
    }
    println!("cargo:rerun-if-changed=hal/linux");
    println!("cargo:rerun-if-changed=include");
    let hal = Path::new("hal/linux");
    let mut files: Vec<_> = match std::fs::read_dir(hal) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect(),
        Err(_) => return,
    };
    if files.is_empty() || std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    files.sort();
    let mut build = cc::Build::new();
    build
        .files(&files)
        .include("include")
        .warnings(true)
        .extra_warnings(true)
        .flag("-Werror")
        .define("_DEFAULT_SOURCE", None)
        .cargo_metadata(false);
    if let Err(e) = build.try_compile("iotx_hal_linux_test") {
        // The library builds without it; only the tests need it, and they
        // then fail to link with the HAL symbols named.
        println!("cargo:warning=reference HAL not built: {e}");
        return;
    }
    let out = std::env::var("OUT_DIR").unwrap();
    let archive = format!("{out}/libiotx_hal_linux_test.a");
    // `rustc-link-arg` only reaches real link steps (tests, benches,
    // examples); archiving the staticlib/rlib ignores it.
    println!("cargo:rustc-link-arg={archive}");
    // hal_dtls.c is OpenSSL-backed; these must follow the archive.
    println!("cargo:rustc-link-arg=-lssl");
    println!("cargo:rustc-link-arg=-lcrypto");
    println!("cargo:rustc-link-arg=-lpthread");
    println!("cargo:rustc-env=IOTX_HAL_TEST_ARCHIVE={archive}");
}
