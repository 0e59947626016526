//! The embedded root CA's PEM text, made from its DER when a DTLS session
//! is created: the image keeps the 889 bytes of DER instead of the 1,262 of
//! PEM, and the encoder costs less than the difference.
//!
//! Self-contained (only `alloc`): `ffi/build.rs` includes this file too, to
//! check at build time that the DER it extracts from the PEM source encodes
//! back to that source byte for byte, and `tests/pem.rs` tests it against
//! the `base64` crate.

use alloc::vec::Vec;

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----\n";
const END: &[u8] = b"-----END CERTIFICATE-----\n";

/// `der` as one NUL-terminated PEM certificate (RFC 7468: padded base64 in
/// lines of 64 characters, each ended by `\n`).
// One loop over the output characters, each taking 6 bits of a bit
// accumulator fed a byte at a time (zeros past the end, whose characters
// are the padding): the smallest code measured on a Cortex-M4.
#[inline(never)]
pub fn certificate(der: &[u8]) -> Vec<u8> {
    let chars = der.len().div_ceil(3) * 4;
    // Room to spare: 4/3 for base64 and 1/48 for the line ends is below 3/2.
    let mut out = Vec::with_capacity(der.len() * 3 / 2 + 64);
    out.extend_from_slice(BEGIN);
    let (mut acc, mut bits, mut next) = (0u32, 0u32, 0usize);
    for k in 0..chars {
        if bits < 6 {
            acc = acc << 8 | der.get(next).map_or(0, |&b| u32::from(b));
            next += 1;
            bits += 8;
        }
        bits -= 6;
        out.push(if k * 6 < der.len() * 8 {
            digit((acc >> bits) as u8 & 63)
        } else {
            b'='
        });
        if k % 64 == 63 || k + 1 == chars {
            out.push(b'\n');
        }
    }
    out.extend_from_slice(END);
    out.push(0);
    out
}

/// The base64 digit of `v` (0..64): arithmetic, smaller than the table.
fn digit(v: u8) -> u8 {
    match v {
        0..=25 => b'A' + v,
        26..=51 => b'a' - 26 + v,
        52..=61 => v - 4, // b'0' - 52 + v
        62 => b'+',
        _ => b'/',
    }
}
