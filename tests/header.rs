//! The committed C header must be what cbindgen makes of the C library's
//! sources (`ffi/src`) now.
//! Refresh it with `IOTX_UPDATE_HEADER=1 cargo test --test header`.

use std::path::Path;

/// The modules of `ffi/src` that declare C types and functions.
const ABI_MODULES: &[&str] = &[
    "types.rs",
    "context.rs",
    "send.rs",
    "response.rs",
    "logging.rs",
    "conninfo.rs",
    "v3.rs",
    "transmission.rs",
];

#[test]
fn committed_header_is_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(root.join("ffi/cbindgen.toml")).expect("cbindgen.toml");
    let mut out = Vec::new();
    let mut builder = cbindgen::Builder::new().with_config(config);
    // In the order the header declares them (the vendor's order).
    for module in ABI_MODULES {
        builder = builder.with_src(root.join("ffi/src").join(module));
    }
    builder.generate().expect("cbindgen").write(&mut out);
    let path = root.join("include/iotx_coap.h");
    if std::env::var_os("IOTX_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == out,
        "include/iotx_coap.h is stale: run `IOTX_UPDATE_HEADER=1 cargo test --test header` and commit it"
    );
}
