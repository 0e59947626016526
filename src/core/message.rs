//! The RFC 7252 message layer's bytes: encoding of the messages this client
//! sends (requests with a handful of options, and empty ACK/RST), and
//! decoding of everything it receives.
//!
//! Both are written by hand for the footprint. Building a coap-lite
//! `Packet` costs a tree map, a linked list and a vector per option, for
//! every message sent or received; decoding one costs about 2 KB of flash
//! and a dozen heap blocks per datagram, which fragment a small firmware
//! heap. [`decode`] parses a datagram in place, the way the
//! microcontroller stacks (nanocoap, Zephyr's CoAP library, mbed-coap) do:
//! header, token, options and payload as slices of the datagram, with the
//! checks of RFC 7252 §3, §4.1 and §5.4.1.
//!
//! coap-lite remains the reference: the tests below (and the fuzz target
//! `message_decode`) decode every input with both and require the same
//! verdict and the same fields, and check that coap-lite decodes every
//! encoding made here to the message that was meant.

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
    let mut v = Vec::new();
    empty_into(&mut v, ty, mid);
    v
}

/// [`empty`], appended to `buf` (a recycled buffer).
pub fn empty_into(buf: &mut Vec<u8>, ty: Type, mid: u16) {
    let [hi, lo] = mid.to_be_bytes();
    buf.extend_from_slice(&[0x40 | ((ty as u8) << 4), 0, hi, lo]);
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
        let mut buf = Vec::with_capacity(capacity.max(12));
        let [hi, lo] = mid.to_be_bytes();
        // Version 1, type, token length 8; then the token.
        let mut head = [
            0x40 | ((ty as u8) << 4) | token.len() as u8,
            code,
            hi,
            lo,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        for (d, s) in head[4..].iter_mut().zip(token) {
            *d = *s;
        }
        buf.extend_from_slice(&head);
        RequestWriter {
            buf,
            last_option: 0,
            too_long: false,
        }
    }

    /// Adds an option whose value is `value`.
    // Inlined for its one-byte header, the common case (an uplink has a
    // dozen options): a call per option cost more than the header.
    #[inline]
    pub fn option(&mut self, number: u16, value: &[u8]) {
        let delta = number.wrapping_sub(self.last_option);
        if delta < 13 && value.len() < 13 {
            self.last_option = number;
            self.buf.push((delta as u8) << 4 | value.len() as u8);
            self.buf.extend_from_slice(value);
        } else if self.option_header(number, value.len()) {
            self.buf.extend_from_slice(value);
        }
    }

    /// Adds an unsigned-integer option in its shortest form (RFC 7252 §3.2).
    #[inline]
    pub fn option_uint(&mut self, number: u16, value: u32) {
        let delta = number.wrapping_sub(self.last_option);
        if delta < 13 && (1..256).contains(&value) {
            // A Content-Format or Accept: two bytes.
            self.last_option = number;
            self.buf.push((delta as u8) << 4 | 1);
            self.buf.push(value as u8);
            return;
        }
        let len = 4 - (value.leading_zeros() / 8) as usize;
        if self.option_header(number, len) {
            for k in (0..len).rev() {
                self.buf.push((value >> (8 * k)) as u8);
            }
        }
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
        let len = len as u16;
        if delta < 13 && len < 13 {
            // Most options: one byte, no extended fields.
            self.buf.push((delta as u8) << 4 | len as u8);
            return true;
        }
        let mut h = [0u8; 5];
        let mut n = 1;
        let delta_nibble = extended_field(delta, &mut h, &mut n);
        let len_nibble = extended_field(len, &mut h, &mut n);
        h[0] = delta_nibble << 4 | len_nibble;
        self.buf.extend_from_slice(h.get(..n).unwrap_or_default());
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

/// RFC 7252 §3.1: a delta or length of 0..=12 fits the nibble; 13 adds one
/// byte (v - 13), 14 adds two (v - 269). Appends the extended bytes to `h`
/// at `*n` and returns the nibble.
fn extended_field(v: u16, h: &mut [u8; 5], n: &mut usize) -> u8 {
    let (nibble, ext): (u8, &[u8]) = match v {
        0..=12 => return v as u8,
        13..=268 => (13, &[(v - 13) as u8]),
        _ => (14, &(v - 269).to_be_bytes()),
    };
    for &b in ext {
        if let Some(slot) = h.get_mut(*n) {
            *slot = b;
        }
        *n += 1;
    }
    nibble
}

/// Why a datagram is not a message this client accepts (RFC 7252 §3,
/// §4.1, §5.4.1). Every one is handled alike: counted, and a CON whose
/// header is readable answered with RST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// Shorter than its 4-byte header, or than the token it announces.
    Truncated,
    /// A version other than 1 (§3: to be silently ignored).
    Version,
    /// Token length 9 to 15, reserved (§3).
    TokenLength,
    /// An option with the reserved nibble 15, a number past 65,535, or a
    /// value running past the end (§3.1).
    Option,
    /// A payload marker followed by nothing (§3).
    EmptyPayload,
    /// A code 0.00 (Empty) message with a token, options or payload (§4.1).
    NotEmpty,
    /// An option of class critical this client does not recognise (§5.4.1):
    /// the message must be rejected. Block-wise transfer (RFC 7959) is one:
    /// taking a Block2 response for the whole answer would be wrong.
    UnrecognisedCritical(u16),
}

/// A received datagram decoded in place (RFC 7252 §3): the token, the
/// options and the payload are slices of it, nothing is copied and nothing
/// allocated. [`decode`] has checked every option, so [`Message::options`]
/// walks them without failing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub ty: Type,
    /// The code byte: class in the top three bits, detail in the low five.
    pub code: u8,
    pub mid: u16,
    pub token: &'a [u8],
    /// The options' bytes, from the first option to the payload marker.
    options: &'a [u8],
    pub payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// The options in order, as (number, value); repeated options appear
    /// once per occurrence.
    pub fn options(&self) -> Options<'a> {
        Options(OptionWalk {
            rest: self.options,
            number: 0,
        })
    }
}

/// Iterator over a decoded message's options.
pub struct Options<'a>(OptionWalk<'a>);

impl<'a> Iterator for Options<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.step().ok().flatten()
    }
}

/// Decodes a datagram in one pass over its bytes.
pub fn decode(data: &[u8]) -> Result<Message<'_>, FormatError> {
    let [first, code, hi, lo, rest @ ..] = data else {
        return Err(FormatError::Truncated);
    };
    if first >> 6 != 1 {
        return Err(FormatError::Version);
    }
    let token_len = usize::from(first & 0x0f);
    if token_len > 8 {
        return Err(FormatError::TokenLength);
    }
    let Some((token, after_token)) = split_at(rest, token_len) else {
        return Err(FormatError::Truncated);
    };
    if *code == 0 && !(token.is_empty() && after_token.is_empty()) {
        return Err(FormatError::NotEmpty);
    }
    let mut walk = OptionWalk {
        rest: after_token,
        number: 0,
    };
    while let Some((number, _)) = walk.step()? {
        if !recognised(number) {
            return Err(FormatError::UnrecognisedCritical(number));
        }
    }
    let payload = match walk.rest {
        [] => &[][..],
        [_, payload @ ..] if !payload.is_empty() => payload,
        _ => return Err(FormatError::EmptyPayload),
    };
    let options_len = after_token.len() - walk.rest.len();
    let ty = match first >> 4 & 3 {
        0 => Type::Confirmable,
        1 => Type::NonConfirmable,
        2 => Type::Acknowledgement,
        _ => Type::Reset,
    };
    Ok(Message {
        ty,
        code: *code,
        mid: u16::from_be_bytes([*hi, *lo]),
        token,
        options: after_token.get(..options_len).unwrap_or_default(),
        payload,
    })
}

/// RFC 7252 §5.4.1: an option is recognised unless it is critical (odd
/// number) and not one this client knows: those of RFC 7252 and the
/// platform's sequence number (2089). Elective options are ignored
/// whatever they are.
fn recognised(number: u16) -> bool {
    number % 2 == 0 || matches!(number, 1 | 3 | 5 | 7 | 11 | 15 | 17 | 35 | 39 | 2089)
}

/// The option parser behind [`decode`] and [`Options`].
struct OptionWalk<'a> {
    /// From the next option on (or the payload marker).
    rest: &'a [u8],
    number: u16,
}

impl<'a> OptionWalk<'a> {
    /// The next option; `None` at the payload marker or the end.
    fn step(&mut self) -> Result<Option<(u16, &'a [u8])>, FormatError> {
        let [head, tail @ ..] = self.rest else {
            return Ok(None);
        };
        if *head == PAYLOAD_MARKER {
            return Ok(None);
        }
        let (delta, tail) = extended(head >> 4, tail)?;
        let (len, tail) = extended(head & 0x0f, tail)?;
        let number = self.number.checked_add(delta).ok_or(FormatError::Option)?;
        let (value, tail) = split_at(tail, usize::from(len)).ok_or(FormatError::Option)?;
        self.number = number;
        self.rest = tail;
        Ok(Some((number, value)))
    }
}

/// `data` split after `n` bytes, if it has them (`split_at_checked` is
/// newer than the crate's minimum Rust).
fn split_at(data: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    Some((data.get(..n)?, data.get(n..)?))
}

/// RFC 7252 §3.1: an option delta or length from its nibble and the
/// extended bytes that follow it (13: one byte, value + 13; 14: two
/// bytes, value + 269; 15: reserved).
fn extended(nibble: u8, data: &[u8]) -> Result<(u16, &[u8]), FormatError> {
    match (nibble, data) {
        (0..=12, _) => Ok((u16::from(nibble), data)),
        (13, [b, tail @ ..]) => Ok((13 + u16::from(*b), tail)),
        (14, [hi, lo, tail @ ..]) => u16::from_be_bytes([*hi, *lo])
            .checked_add(269)
            .map(|v| (v, tail))
            .ok_or(FormatError::Option),
        _ => Err(FormatError::Option),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType};

    use iotx_coap_testkit::gen::Gen;

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
            let mid = g.word() as u16;
            let token: [u8; 8] = (g.word()).to_be_bytes();
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

    /// A payload marker with nothing after it is a format error behind any
    /// options this encoder writes (long ones included), and only then.
    #[test]
    fn empty_payload_marker_is_a_format_error_behind_any_options() {
        let mut g = Gen(0x5eed);
        for _ in 0..500 {
            let mut w = RequestWriter::new(64, Type::Acknowledgement, 0x45, 7, &[1; 8]);
            let mut number = 0;
            for _ in 0..g.below(4) {
                number += 2 * g.below(150) as u16;
                w.option(number, &g.bytes(600));
            }
            let payload = g.bytes(3);
            w.payload(&payload);
            let mut d = w.finish(4096).unwrap();
            assert_eq!(decode(&d).map(|m| m.payload), Ok(&payload[..]), "{d:?}");
            if payload.is_empty() {
                d.push(PAYLOAD_MARKER);
                assert_eq!(decode(&d), Err(FormatError::EmptyPayload), "{d:?}");
            }
        }
        assert!(decode(&empty(Type::Reset, 9)).is_ok());
        assert_eq!(decode(&[0x70, 0, 0, 9, 0xff]), Err(FormatError::NotEmpty));
    }

    #[test]
    fn each_format_error_is_named() {
        for (d, e) in [
            (&[0x40, 0x45, 0][..], FormatError::Truncated),
            (&[0x42, 0x45, 0, 1, 9], FormatError::Truncated),
            (&[0x00, 0x45, 0, 1], FormatError::Version),
            (
                &[0x49, 0x45, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                FormatError::TokenLength,
            ),
            (&[0x60, 0x45, 0, 1, 0xf0], FormatError::Option),
            (&[0x60, 0x45, 0, 1, 0x0f], FormatError::Option),
            (&[0x60, 0x45, 0, 1, 0x02, 1], FormatError::Option),
            (&[0x60, 0x45, 0, 1, 0xd0], FormatError::Option),
            (&[0x60, 0x45, 0, 1, 0xe0, 0xff, 0xff], FormatError::Option),
            (
                &[0x60, 0x45, 0, 1, 0xd0, 10],
                FormatError::UnrecognisedCritical(23),
            ),
        ] {
            assert_eq!(decode(d), Err(e), "{d:02x?}");
        }
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
