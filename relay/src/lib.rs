//! SLIP framing (RFC 1055) of the serial link between a device without an
//! IP stack and `iotx-coap-relay`, and the link's frame kinds.
//!
//! Every frame starts with a kind byte, so one serial line carries the
//! device's whole UDP HAL (`HAL_UDP_create`, `_write`, `_close`), not only
//! its datagrams:
//!
//! | kind | direction | rest of the frame |
//! |---|---|---|
//! | [`KIND_DATAGRAM`] | both | one UDP payload, boundaries preserved |
//! | [`KIND_OPEN`] | device → relay | port (big endian, 2 bytes), then the host the device asked for (text) |
//! | [`KIND_CLOSE`] | device → relay | nothing |

pub const END: u8 = 0xC0;
pub const ESC: u8 = 0xDB;
pub const ESC_END: u8 = 0xDC;
pub const ESC_ESC: u8 = 0xDD;

pub const KIND_DATAGRAM: u8 = 0x00;
pub const KIND_OPEN: u8 = 0x01;
pub const KIND_CLOSE: u8 = 0x02;

/// `frame` SLIP-encoded, between two END bytes (the leading END flushes
/// any line noise the receiver holds).
pub fn encode(frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + 8);
    out.push(END);
    for &b in frame {
        match b {
            END => out.extend_from_slice(&[ESC, ESC_END]),
            ESC => out.extend_from_slice(&[ESC, ESC_ESC]),
            b => out.push(b),
        }
    }
    out.push(END);
    out
}

/// Reassembles frames from a byte stream; empty frames (back-to-back END
/// bytes) are skipped.
#[derive(Default)]
pub struct Decoder {
    frame: Vec<u8>,
    escaped: bool,
}

impl Decoder {
    /// Feeds one byte; returns a frame when `b` completes one.
    pub fn push(&mut self, b: u8) -> Option<Vec<u8>> {
        if self.escaped {
            self.escaped = false;
            self.frame.push(match b {
                ESC_END => END,
                ESC_ESC => ESC,
                // A protocol violation: keep the byte, as RFC 1055 suggests.
                other => other,
            });
            return None;
        }
        match b {
            END if self.frame.is_empty() => None,
            END => Some(std::mem::take(&mut self.frame)),
            ESC => {
                self.escaped = true;
                None
            }
            b => {
                self.frame.push(b);
                None
            }
        }
    }
}

/// What a device frame asks the relay to do.
#[derive(Debug, PartialEq, Eq)]
pub enum DeviceFrame<'a> {
    Open { port: u16, host: &'a [u8] },
    Datagram(&'a [u8]),
    Close,
}

/// Parses a decoded device frame; `None` for an unknown kind or a short
/// open frame.
pub fn parse(frame: &[u8]) -> Option<DeviceFrame<'_>> {
    let (&kind, rest) = frame.split_first()?;
    match kind {
        KIND_DATAGRAM => Some(DeviceFrame::Datagram(rest)),
        KIND_OPEN if rest.len() >= 2 => Some(DeviceFrame::Open {
            port: u16::from_be_bytes([rest[0], rest[1]]),
            host: &rest[2..],
        }),
        KIND_CLOSE => Some(DeviceFrame::Close),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut d = Decoder::default();
        bytes.iter().filter_map(|&b| d.push(b)).collect()
    }

    #[test]
    fn round_trips_every_byte_value_and_keeps_boundaries() {
        let a: Vec<u8> = (0..=255).collect();
        let b = vec![END, ESC, END, 0, ESC_END, ESC_ESC];
        let mut stream = encode(&a);
        stream.extend(encode(&b));
        stream.extend(encode(&[KIND_CLOSE]));
        assert_eq!(decode_all(&stream), vec![a, b, vec![KIND_CLOSE]]);
    }

    #[test]
    fn escapes_only_end_and_esc() {
        assert_eq!(
            encode(&[1, END, ESC, 2]),
            vec![END, 1, ESC, ESC_END, ESC, ESC_ESC, 2, END]
        );
    }

    #[test]
    fn skips_empty_frames_and_parses_kinds() {
        let frames = decode_all(&[END, END, END, KIND_OPEN, 0x16, 0x33, b'h', END]);
        assert_eq!(frames.len(), 1);
        assert_eq!(
            parse(&frames[0]),
            Some(DeviceFrame::Open {
                port: 5683,
                host: b"h"
            })
        );
        assert_eq!(
            parse(&[KIND_DATAGRAM, 7]),
            Some(DeviceFrame::Datagram(&[7]))
        );
        assert_eq!(parse(&[KIND_OPEN, 1]), None);
        assert_eq!(parse(&[9]), None);
        assert_eq!(parse(&[]), None);
    }
}
