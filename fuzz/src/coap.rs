//! The server side of CoAP, as far as the harnesses need it: decoding what
//! the client sent (with coap-lite) and encoding answers by hand (the test
//! kit's `encode`), so any field (type, code, token, message id, payload
//! marker) can be set to anything.

use coap_lite::{CoapOption, MessageType, Packet};

/// What a harness needs to know about a datagram the client sent.
#[derive(Clone, Debug)]
pub struct Sent {
    pub raw: Vec<u8>,
    pub ty: u8,
    pub code: u8,
    pub mid: u16,
    pub token: Vec<u8>,
    /// Uri-Path segments joined with '/'.
    pub path: String,
    pub payload: Vec<u8>,
}

impl Sent {
    pub fn is_auth(&self) -> bool {
        self.path == "auth"
    }
    pub fn is_request(&self) -> bool {
        self.code != 0 && self.code >> 5 == 0
    }
}

/// Every datagram the client builds must decode (it is ours).
pub fn decode_sent(raw: &[u8]) -> Sent {
    let p = Packet::from_bytes(raw)
        .unwrap_or_else(|e| panic!("client sent undecodable {raw:02x?}: {e:?}"));
    let ty = match p.header.get_type() {
        MessageType::Confirmable => 0,
        MessageType::NonConfirmable => 1,
        MessageType::Acknowledgement => 2,
        MessageType::Reset => 3,
    };
    let path = p
        .get_option(CoapOption::UriPath)
        .map(|segs| {
            segs.iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default();
    assert!(
        raw.len() <= 1280,
        "client sent {} bytes (> 1280)",
        raw.len()
    );
    Sent {
        raw: raw.to_vec(),
        ty,
        code: p.header.code.into(),
        mid: p.header.message_id,
        token: p.get_token().to_vec(),
        path,
        payload: p.payload.clone(),
    }
}

/// Answers are encoded by hand (any field set to anything): the test kit's.
pub use iotx_coap_testkit::coap::encode;

/// RFC 7252 §3: the datagram is a well-formed message whose code may be
/// delivered to the application as a response: 2.xx-5.xx, and a payload
/// marker only before a non-empty payload. `None` when coap-lite cannot
/// decode it at all.
pub fn deliverable_response(raw: &[u8]) -> Option<bool> {
    let p = Packet::from_bytes(raw).ok()?;
    let code: u8 = p.header.code.into();
    let class = code >> 5;
    Some((2..=5).contains(&class) && !marker_without_payload(raw))
}

/// The message has a payload marker with nothing after it. Walks the
/// options by hand (coap-lite does not say whether it saw a marker).
pub fn marker_without_payload(raw: &[u8]) -> bool {
    let Some(&first) = raw.first() else {
        return false;
    };
    let mut i = 4 + usize::from(first & 0x0f);
    while i < raw.len() {
        let b = raw[i];
        if b == 0xff {
            return i + 1 == raw.len();
        }
        i += 1;
        // Delta extension bytes come first, then the length's.
        let ext = |n: u8| match n {
            13 => 1,
            14 => 2,
            _ => 0,
        };
        let delta_ext = ext(b >> 4);
        let len_ext = ext(b & 0x0f);
        let len_at = i + delta_ext;
        let len = match b & 0x0f {
            13 => raw.get(len_at).map(|&x| usize::from(x) + 13),
            14 => raw
                .get(len_at..len_at + 2)
                .map(|x| usize::from(u16::from_be_bytes([x[0], x[1]])) + 269),
            n => Some(usize::from(n)),
        };
        let Some(len) = len else {
            return false;
        };
        i = len_at + len_ext + len;
    }
    false
}
