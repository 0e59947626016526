//! Encoding of the messages this client sends (RFC 7252 §3): requests with
//! a handful of options, and empty ACK/RST.
//!
//! Written by hand because building a coap-lite `Packet` costs a tree map,
//! a linked list and a vector per option for every uplink (measured: about
//! half the instructions of an uplink, and its encoder's flash). Everything
//! *received* is still decoded by coap-lite; the tests below check that
//! coap-lite decodes every encoding made here to the message that was meant.

use alloc::vec::Vec;

/// RFC 7252 message types, as the 2-bit header field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Type {
    Confirmable = 0,
    NonConfirmable = 1,
    Acknowledgement = 2,
    Reset = 3,
}

/// 0.02 POST.
pub const CODE_POST: u8 = 0x02;
/// RFC 7252 §5.10 option numbers used by requests here.
pub const OPTION_URI_PATH: u16 = 11;
pub const OPTION_CONTENT_FORMAT: u16 = 12;
pub const OPTION_ACCEPT: u16 = 17;
/// The payload marker.
const PAYLOAD_MARKER: u8 = 0xff;
/// Largest option value length [`RequestWriter`] accepts (two-byte extended
/// length would allow more; none of ours come close).
pub const MAX_OPTION_LEN: usize = 1034;

/// The datagram would exceed the limit given to [`RequestWriter::finish`],
/// or an option is longer than [`MAX_OPTION_LEN`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong;

/// An empty message (ACK or RST) for `mid`: four bytes, no token.
pub fn empty(ty: Type, mid: u16) -> Vec<u8> {
    let [hi, lo] = mid.to_be_bytes();
    alloc::vec![0x40 | ((ty as u8) << 4), 0, hi, lo]
}

/// Builds one request in a single buffer. Options must be added in
/// ascending number order (RFC 7252 delta encoding), as every caller here
/// does by construction.
pub struct RequestWriter {
    buf: Vec<u8>,
    last_option: u16,
    too_long: bool,
}

impl RequestWriter {
    /// Header and token. `capacity` is a hint: a good guess saves the
    /// buffer from growing.
    pub fn new(capacity: usize, ty: Type, code: u8, mid: u16, token: &[u8; 8]) -> Self {
        let mut buf = Vec::with_capacity(capacity);
        // Version 1, type, token length 8.
        buf.push(0x40 | ((ty as u8) << 4) | token.len() as u8);
        buf.push(code);
        buf.extend_from_slice(&mid.to_be_bytes());
        buf.extend_from_slice(token);
        RequestWriter {
            buf,
            last_option: 0,
            too_long: false,
        }
    }

    /// Adds an option whose value is `value`.
    pub fn option(&mut self, number: u16, value: &[u8]) {
        if self.option_header(number, value.len()) {
            self.buf.extend_from_slice(value);
        }
    }

    /// Adds an unsigned-integer option in its shortest form (RFC 7252 §3.2).
    pub fn option_uint(&mut self, number: u16, value: u32) {
        let bytes = value.to_be_bytes();
        let skip = (value.leading_zeros() / 8) as usize;
        self.option(number, &bytes[skip..]);
    }

    /// Adds an option of `len` bytes and returns them to be written in
    /// place (so an encrypted value needs no buffer of its own); `None`
    /// when the option cannot be encoded (the message then fails at
    /// [`RequestWriter::finish`]).
    pub fn option_space(&mut self, number: u16, len: usize) -> Option<&mut [u8]> {
        self.option_header(number, len).then(|| self.grow(len))
    }

    /// Writes an option's header; false (and the message marked too long)
    /// when it cannot be encoded.
    fn option_header(&mut self, number: u16, len: usize) -> bool {
        debug_assert!(number >= self.last_option, "options out of order");
        if len > MAX_OPTION_LEN || number < self.last_option {
            self.too_long = true;
            return false;
        }
        let delta = number - self.last_option;
        self.last_option = number;
        let (delta_nibble, delta_ext) = nibble(delta);
        let (len_nibble, len_ext) = nibble(len as u16);
        self.buf.push((delta_nibble << 4) | len_nibble);
        self.buf.extend_from_slice(delta_ext.as_slice());
        self.buf.extend_from_slice(len_ext.as_slice());
        true
    }

    fn grow(&mut self, len: usize) -> &mut [u8] {
        let start = self.buf.len();
        self.buf.resize(start + len, 0);
        &mut self.buf[start..]
    }

    /// Adds the payload (nothing, not even the marker, when it is empty).
    pub fn payload(&mut self, payload: &[u8]) {
        if !payload.is_empty() {
            self.buf.push(PAYLOAD_MARKER);
            self.buf.extend_from_slice(payload);
        }
    }

    /// Adds a payload marker and `len` (> 0) bytes to be written in place.
    /// RFC 7252 §3: a marker followed by nothing is a format error, so an
    /// empty payload must use [`RequestWriter::payload`].
    pub fn payload_space(&mut self, len: usize) -> &mut [u8] {
        debug_assert!(len > 0);
        self.buf.push(PAYLOAD_MARKER);
        self.grow(len)
    }

    /// The datagram, if it is at most `limit` bytes.
    pub fn finish(self, limit: usize) -> Result<Vec<u8>, TooLong> {
        if self.too_long || self.buf.len() > limit {
            return Err(TooLong);
        }
        Ok(self.buf)
    }
}

/// Extended option length/delta: up to two bytes after the nibble.
struct Ext {
    bytes: [u8; 2],
    len: usize,
}

impl Ext {
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// RFC 7252 §3.1: values 0..=12 fit the nibble; 13 adds one byte (v - 13),
/// 14 adds two (v - 269).
fn nibble(v: u16) -> (u8, Ext) {
    match v {
        0..=12 => (
            v as u8,
            Ext {
                bytes: [0; 2],
                len: 0,
            },
        ),
        13..=268 => (
            13,
            Ext {
                bytes: [(v - 13) as u8, 0],
                len: 1,
            },
        ),
        _ => (
            14,
            Ext {
                bytes: (v - 269).to_be_bytes(),
                len: 2,
            },
        ),
    }
}

/// RFC 7252 rules that coap-lite's decoder lets through, checked on a
/// datagram it has decoded (`code` and `payload_empty` from that packet):
/// an Empty message (code 0.00) carries nothing after its message id
/// (§4.1), and a payload marker is followed by a payload (§3). Either is a
/// message format error.
pub fn format_error(data: &[u8], code: u8, payload_empty: bool) -> bool {
    if code == 0 {
        return data.len() != 4;
    }
    payload_empty && options_end(data) < data.len()
}

/// Where the options of a decodable datagram end: at its payload marker,
/// or at its end.
fn options_end(data: &[u8]) -> usize {
    let mut i = 4 + usize::from(data.first().map_or(0, |b| b & 0x0f));
    while let Some(&b) = data.get(i) {
        if b == PAYLOAD_MARKER {
            break;
        }
        i += 1 + ext_len(b >> 4);
        let byte = |k: usize| usize::from(data.get(k).copied().unwrap_or(0));
        let len = match b & 0x0f {
            13 => 13 + byte(i),
            14 => 269 + (byte(i) << 8 | byte(i + 1)),
            n => usize::from(n),
        };
        i += ext_len(b & 0x0f) + len;
    }
    i
}

/// Bytes of extended delta or length that follow an option's first byte
/// for this nibble (RFC 7252 §3.1), the delta's before the length's.
fn ext_len(nibble: u8) -> usize {
    match nibble {
        13 => 1,
        14 => 2,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType};

    /// A tiny deterministic generator: the property tests below need many
    /// varied inputs, not cryptographic ones.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn bytes(&mut self, max: u64) -> Vec<u8> {
            let n = self.below(max + 1) as usize;
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    fn coap_type(t: Type) -> MessageType {
        match t {
            Type::Confirmable => MessageType::Confirmable,
            Type::NonConfirmable => MessageType::NonConfirmable,
            Type::Acknowledgement => MessageType::Acknowledgement,
            Type::Reset => MessageType::Reset,
        }
    }

    #[test]
    fn empty_messages_decode_as_empty() {
        for (t, mid) in [(Type::Acknowledgement, 0u16), (Type::Reset, 0xbeef)] {
            let p = Packet::from_bytes(&empty(t, mid)).unwrap();
            assert_eq!(p.header.get_version(), 1);
            assert_eq!(p.header.get_type(), coap_type(t));
            assert_eq!(p.header.code, MessageClass::Empty);
            assert_eq!(p.header.message_id, mid);
            assert!(p.get_token().is_empty());
            assert!(p.payload.is_empty());
        }
    }

    /// Property: for random option sets (numbers spread over every delta
    /// class, lengths over every length class, repeated options) and
    /// payloads, coap-lite decodes our bytes to exactly what was written.
    #[test]
    fn coap_lite_decodes_every_encoding_to_the_same_message() {
        let mut g = Gen(0x1234_5678_9abc_def1);
        for _ in 0..3000 {
            let ty = [Type::Confirmable, Type::NonConfirmable][g.below(2) as usize];
            let mid = g.next() as u16;
            let token: [u8; 8] = (g.next()).to_be_bytes();
            let mut w = RequestWriter::new(16, ty, CODE_POST, mid, &token);
            let mut expected: Vec<(u16, Vec<u8>)> = Vec::new();
            let mut number = 0u16;
            for _ in 0..g.below(8) {
                // Deltas of 0 (repeat), small, one-byte and two-byte class.
                number = number.saturating_add(
                    [0, 1 + g.below(12), 13 + g.below(256), 269 + g.below(3000)]
                        [g.below(4) as usize] as u16,
                );
                let max_len = [12, 268, 600][g.below(3) as usize];
                let value = g.bytes(max_len);
                w.option(number, &value);
                expected.push((number, value));
            }
            let payload = g.bytes(300);
            w.payload(&payload);
            let bytes = w.finish(usize::MAX).unwrap();

            let p = Packet::from_bytes(&bytes).expect("coap-lite decodes it");
            assert_eq!(p.header.get_version(), 1);
            assert_eq!(p.header.get_type(), coap_type(ty));
            assert_eq!(p.header.code, MessageClass::Request(RequestType::Post));
            assert_eq!(p.header.message_id, mid);
            assert_eq!(p.get_token(), &token);
            assert_eq!(p.payload, payload);
            let mut got: Vec<(u16, Vec<u8>)> = Vec::new();
            for (n, values) in p.options() {
                for v in values {
                    got.push((*n, v.clone()));
                }
            }
            assert_eq!(got, expected);
            // And coap-lite's own encoding of what it decoded is ours.
            assert_eq!(p.to_bytes_with_limit(usize::MAX).unwrap(), bytes);
        }
    }

    /// `format_error` finds a payload marker with nothing after it behind
    /// any options this encoder writes (long ones included), and only then.
    #[test]
    fn empty_payload_marker_is_a_format_error_behind_any_options() {
        let mut g = Gen(0x5eed);
        for _ in 0..500 {
            let mut w = RequestWriter::new(64, Type::Acknowledgement, 0x45, 7, &[1; 8]);
            let mut number = 0;
            for _ in 0..g.below(4) {
                number += g.below(300) as u16;
                w.option(number, &g.bytes(600));
            }
            let payload = g.bytes(3);
            w.payload(&payload);
            let mut d = w.finish(4096).unwrap();
            let p = Packet::from_bytes(&d).unwrap();
            assert!(!format_error(&d, 0x45, p.payload.is_empty()), "{d:?}");
            if payload.is_empty() {
                d.push(PAYLOAD_MARKER);
                let p = Packet::from_bytes(&d).unwrap();
                assert!(format_error(&d, 0x45, p.payload.is_empty()), "{d:?}");
            }
        }
        assert!(!format_error(&empty(Type::Reset, 9), 0, true));
        assert!(format_error(&[0x70, 0, 0, 9, 0xff], 0, true));
    }

    #[test]
    fn uint_options_are_shortest() {
        for (v, len) in [
            (0u32, 0usize),
            (50, 1),
            (256, 2),
            (0x1_0000, 3),
            (u32::MAX, 4),
        ] {
            let mut w = RequestWriter::new(0, Type::Confirmable, CODE_POST, 1, &[0; 8]);
            w.option_uint(OPTION_CONTENT_FORMAT, v);
            let p = Packet::from_bytes(&w.finish(100).unwrap()).unwrap();
            let got = p.get_first_option(CoapOption::ContentFormat).unwrap();
            assert_eq!(got.len(), len);
            assert_eq!(
                got.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)),
                v,
                "{v}"
            );
        }
    }

    #[test]
    fn limits_and_empty_payloads() {
        let mut w = RequestWriter::new(0, Type::Confirmable, CODE_POST, 1, &[0; 8]);
        w.payload(&[]);
        assert_eq!(w.finish(12).unwrap().len(), 12, "no marker without payload");
        let mut w = RequestWriter::new(0, Type::Confirmable, CODE_POST, 1, &[0; 8]);
        w.payload(&[1; 100]);
        assert_eq!(w.finish(112), Err(TooLong));
        let mut w = RequestWriter::new(0, Type::Confirmable, CODE_POST, 1, &[0; 8]);
        w.option(OPTION_URI_PATH, &[b'a'; MAX_OPTION_LEN + 1]);
        assert_eq!(w.finish(usize::MAX), Err(TooLong));
    }
}
