//! CoAP answers as a fake server sends them.

use coap_lite::{MessageClass, MessageType, Packet};

/// A message with the given header fields, encoded by hand so any field
/// (type, code, token, message id, payload marker) can be set to anything;
/// `options` are raw option bytes (anything, even malformed); `marker`
/// forces a payload marker even before an empty payload (an RFC 7252 §3
/// format error).
pub fn encode(
    ty: u8,
    code: u8,
    mid: u16,
    token: &[u8],
    options: &[u8],
    payload: &[u8],
    marker: bool,
) -> Vec<u8> {
    let tkl = token.len().min(8);
    let mut v = vec![0x40 | ((ty & 3) << 4) | tkl as u8, code];
    v.extend_from_slice(&mid.to_be_bytes());
    v.extend_from_slice(&token[..tkl]);
    v.extend_from_slice(options);
    if marker || !payload.is_empty() {
        v.push(0xff);
        v.extend_from_slice(payload);
    }
    v
}

/// The piggybacked ACK answering `req` with `code` and `payload` (its
/// message id and token echoed; no marker when the payload is empty).
pub fn ack(req: &Packet, code: MessageClass, payload: &[u8]) -> Vec<u8> {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Acknowledgement);
    p.header.code = code;
    p.header.message_id = req.header.message_id;
    p.set_token(req.get_token().to_vec());
    p.payload = payload.to_vec();
    p.to_bytes_unlimited().expect("an ACK encodes")
}

/// An empty message (no code, token or payload): an empty ACK, an RST, or
/// with `Confirmable` a CoAP ping.
pub fn empty(ty: MessageType, mid: u16) -> Packet {
    let mut p = Packet::new();
    p.header.set_type(ty);
    p.header.code = MessageClass::Empty;
    p.header.message_id = mid;
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use coap_lite::ResponseType;

    #[test]
    fn builders_agree_with_coap_lite() {
        let mut req = Packet::new();
        req.header.message_id = 7;
        req.set_token(vec![1, 2]);
        let content = MessageClass::Response(ResponseType::Content);
        let a = ack(&req, content, b"x");
        assert_eq!(a, encode(2, 0x45, 7, &[1, 2], &[], b"x", false));
        let rst = empty(MessageType::Reset, 9).to_bytes().unwrap();
        assert_eq!(rst, encode(3, 0, 9, &[], &[], &[], false));
    }
}
