//! The reference decoder the library's own zero-copy decoder is checked
//! against: coap-lite's `Packet::from_bytes`, plus the RFC 7252 rules it
//! does not enforce, stated here apart from the library's code. The
//! library's property tests (`tests/message_decode.rs`) and the fuzz
//! target `message_decode` decode every input with both and require the
//! same verdict and the same fields.

use coap_lite::Packet;

/// A message as plain fields, for comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The header's 2-bit type.
    pub ty: u8,
    pub code: u8,
    pub mid: u16,
    pub token: Vec<u8>,
    /// In order of appearance (ascending numbers; repeats in order).
    pub options: Vec<(u16, Vec<u8>)>,
    pub payload: Vec<u8>,
}

impl Decoded {
    /// From another decoder's fields (options as (number, value) in order).
    pub fn of<'a>(
        ty: u8,
        code: u8,
        mid: u16,
        token: &[u8],
        options: impl Iterator<Item = (u16, &'a [u8])>,
        payload: &[u8],
    ) -> Decoded {
        Decoded {
            ty,
            code,
            mid,
            token: token.to_vec(),
            options: options.map(|(n, v)| (n, v.to_vec())).collect(),
            payload: payload.to_vec(),
        }
    }
}

/// What the reference accepts, decoded; `None` for a message the client
/// must reject.
pub fn decode(data: &[u8]) -> Option<Decoded> {
    let p = Packet::from_bytes(data).ok()?;
    let first = data[0];
    let code = u8::from(p.header.code);
    let options: Vec<(u16, Vec<u8>)> = p
        .options()
        .flat_map(|(n, values)| values.iter().map(move |v| (*n, v.clone())))
        .collect();
    // RFC 7252 §3: only version 1 exists; the others are ignored.
    let version_ok = first >> 6 == 1;
    // §4.1: an Empty message (0.00) is the 4-byte header and nothing else.
    let empty_ok = code != 0 || data.len() == 4;
    // §3: a payload marker followed by a zero-length payload is an error.
    let marker_ok = !p.payload.is_empty() || !ends_in_marker(data, first);
    // §5.4.1: a critical (odd) option the client does not recognise
    // rejects the message; recognised are RFC 7252's own and the
    // platform's sequence number 2089 (not RFC 7959's Block1/Block2).
    const KNOWN_CRITICAL: [u16; 10] = [1, 3, 5, 7, 11, 15, 17, 35, 39, 2089];
    let critical_ok = options
        .iter()
        .all(|(n, _)| n % 2 == 0 || KNOWN_CRITICAL.contains(n));
    (version_ok && empty_ok && marker_ok && critical_ok).then(|| Decoded {
        ty: first >> 4 & 3,
        code,
        mid: p.header.message_id,
        token: p.get_token().to_vec(),
        options,
        payload: p.payload,
    })
}

/// Whether the options of a datagram coap-lite accepted end at a payload
/// marker that is its last byte: walked by hand, as coap-lite keeps no
/// trace of the marker.
fn ends_in_marker(data: &[u8], first: u8) -> bool {
    let mut i = 4 + usize::from(first & 0x0f);
    while let Some(&b) = data.get(i) {
        if b == 0xff {
            return i + 1 == data.len();
        }
        i += 1;
        let mut field = |nibble: u8| -> usize {
            match nibble {
                13 => {
                    let v = 13 + usize::from(data.get(i).copied().unwrap_or(0));
                    i += 1;
                    v
                }
                14 => {
                    let hi = usize::from(data.get(i).copied().unwrap_or(0));
                    let lo = usize::from(data.get(i + 1).copied().unwrap_or(0));
                    i += 2;
                    269 + (hi << 8 | lo)
                }
                n => usize::from(n),
            }
        };
        let _delta = field(b >> 4);
        let len = field(b & 0x0f);
        i += len;
    }
    false
}
