//! The PEM that the C library makes from its embedded root CA's DER for
//! `HAL_DTLSSession_create` (ffi/src/hal/pem.rs), against the `base64`
//! crate as the oracle, and the embedded CA's PEM as the HAL receives it:
//! byte for byte the repository's `ffi/src/ca/globalsign-root-ca.pem`.

extern crate alloc;

mod common;

#[path = "../ffi/src/hal/pem.rs"]
mod pem;

use base64::Engine;

/// What `pem::certificate` must give: RFC 7468 text, the way OpenSSL
/// writes it, with a NUL.
fn oracle(der: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap());
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n\0");
    s.into_bytes()
}

#[test]
fn every_length_and_byte_value() {
    // Every remainder mod 3 and mod 48 (the line), lines ending exactly at
    // the end, and every byte value in every position of a group.
    let bytes: Vec<u8> = (0..=255u8)
        .chain((0..=255u8).rev())
        .cycle()
        .take(1000)
        .collect();
    for len in 0..300 {
        assert_eq!(
            pem::certificate(&bytes[..len]),
            oracle(&bytes[..len]),
            "len {len}"
        );
    }
    for start in 0..3 {
        let d = &bytes[start..start + 999 - start];
        assert_eq!(pem::certificate(d), oracle(d));
    }
}

#[test]
fn the_embedded_ca_comes_back_as_its_source() {
    let src =
        std::fs::read(common::workspace_root().join("ffi/src/ca/globalsign-root-ca.pem")).unwrap();
    let b64: String = String::from_utf8(src.clone())
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(der.len(), 889);
    let mut want = src;
    want.push(0);
    assert_eq!(pem::certificate(&der), want);
}
