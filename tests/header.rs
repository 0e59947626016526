//! The committed C header must be what cbindgen makes of `src/ffi` now.
//! Refresh it with `IOTX_UPDATE_HEADER=1 cargo test --test header`.

use std::path::Path;

#[test]
fn committed_header_is_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/types.rs"))
        .with_src(root.join("src/ffi/api.rs"))
        .with_src(root.join("src/ffi/conninfo.rs"))
        .with_src(root.join("src/ffi/v3.rs"))
        .generate()
        .expect("cbindgen")
        .write(&mut out);
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
