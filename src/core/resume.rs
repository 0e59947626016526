//! The stored session's record (feature `session-store`): a codec, and
//! nothing else. It turns a [`Resumable`] into bytes bound to one device
//! [`Identity`] and endpoint, and checks bytes read back into one. What the
//! record holds and when it must be written (the sequence reservation and
//! its write-ahead rule) is the session's business
//! ([`super::session::Session::take_persist`]); keeping it there leaves
//! this module a pure function of its inputs, which the session never
//! needs to import. The driver ([`crate::client`]) asks the platform to
//! keep the bytes (the firmware's key-value store) and hands them back at
//! start-up.
//!
//! # Record (version 2)
//!
//! ```text
//!   version  u8      = 2 (1: the same without `rtt`, still read)
//!   mode     u8      0 = token only (coap://, coaps://), 1 = PSK (coap-psk://)
//!   token    u16 LE length, then the token (UTF-8, 1..=512 bytes)
//!   PSK only:
//!     random        u8 length, then the auth answer's `random` (1..=64 bytes)
//!     seq_offset    u64 LE, the auth answer's `seqOffset`
//!     seq_reserved  u64 LE, first sequence number not yet reserved
//!   rtt      optional (version 2): the measured RTT (core::rto),
//!            srtt_ms u32 LE, rttvar_ms u32 LE
//!   mac      16 bytes: HMAC-MD5 keyed with the device secret over a fixed
//!            label, the product key, device name, client id, the
//!            endpoint (scheme, host, port) and every byte above
//! ```
//!
//! The MAC binds the record to the device and the endpoint: a changed
//! product key, device name, secret or URL, a record written by another
//! device, a truncated or bit-flipped one all fail the same check, and the
//! device then authenticates as if nothing was stored. HMAC-MD5 is the
//! signing primitive the library already carries for `/auth`, so the check
//! costs no new code.

use alloc::string::String;
use alloc::vec::Vec;
use hmac::{Hmac, Mac};

use super::limits::{MAX_AUTH_TOKEN_LEN, MAX_RANDOM_LEN};
use super::rto::RttEstimate;
use super::session::{PskState, Resumable};
use super::url::{Endpoint, Security};

/// The format version this library writes and reads.
pub const RECORD_VERSION: u8 = 2;
const MAC_LEN: usize = 16;
/// Largest record: the fixed fields, the longest token and random, the MAC.
pub const MAX_RECORD_LEN: usize = 4 + MAX_AUTH_TOKEN_LEN + 1 + MAX_RANDOM_LEN + 16 + 8 + MAC_LEN;
/// Key of the record in the firmware's key-value store (short: some
/// stores limit keys to 15 characters).
pub const STORE_KEY: &str = "iotx_coap_sess";

const MODE_TOKEN: u8 = 0;
const MODE_PSK: u8 = 1;
const LABEL: &[u8] = b"iotx-coap stored session";

/// Whose record it is: the fields of the device's configuration that the
/// MAC binds (the secret keys it).
#[derive(Clone, Copy)]
pub struct Identity<'a> {
    pub product_key: &'a str,
    pub device_name: &'a str,
    pub client_id: &'a str,
    pub device_secret: &'a str,
}

/// Why a stored record is not used. Each one means "authenticate
/// normally"; none is an error the application must handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// Shorter than any record, or longer than [`MAX_RECORD_LEN`].
    Length,
    /// Written by a format this library does not read.
    Version,
    /// Corrupt, or written for another device, secret or endpoint.
    Mac,
    /// The fields do not add up to the record's length, or are out of
    /// range (empty or over-long token, non-UTF-8 text, a PSK record for
    /// a non-PSK endpoint, a reservation not above `seqOffset`).
    Malformed,
}

/// Encodes `state` for device `id` at `endpoint`.
pub fn encode(id: &Identity, endpoint: &Endpoint, state: &Resumable) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        4 + state.token.len() + state.psk.as_ref().map_or(0, |p| 17 + p.random.len()) + MAC_LEN,
    );
    out.push(RECORD_VERSION);
    out.push(if state.psk.is_some() {
        MODE_PSK
    } else {
        MODE_TOKEN
    });
    out.extend_from_slice(&(state.token.len() as u16).to_le_bytes());
    out.extend_from_slice(state.token.as_bytes());
    if let Some(p) = &state.psk {
        out.push(p.random.len() as u8);
        out.extend_from_slice(p.random.as_bytes());
        out.extend_from_slice(&p.seq_offset.to_le_bytes());
        out.extend_from_slice(&p.seq_reserved.to_le_bytes());
    }
    if let Some(e) = &state.rtt {
        out.extend_from_slice(&e.srtt_ms.to_le_bytes());
        out.extend_from_slice(&e.rttvar_ms.to_le_bytes());
    }
    let mac = binding_mac(id, endpoint, &out).finalize().into_bytes();
    out.extend_from_slice(&mac);
    out
}

/// Decodes and checks a record read back from storage.
pub fn decode(id: &Identity, endpoint: &Endpoint, record: &[u8]) -> Result<Resumable, RecordError> {
    if record.len() < 4 + MAC_LEN || record.len() > MAX_RECORD_LEN {
        return Err(RecordError::Length);
    }
    if record[0] != RECORD_VERSION && record[0] != 1 {
        return Err(RecordError::Version);
    }
    let (body, mac) = record.split_at(record.len() - MAC_LEN);
    binding_mac(id, endpoint, body)
        .verify_slice(mac)
        .map_err(|_| RecordError::Mac)?;
    // Authentic from here on, but still checked: a record from a future
    // writer with a bug must not become a panic or a bad session.
    let mut r = Reader(&body[1..]);
    let psk = match r.byte()? {
        MODE_TOKEN => false,
        MODE_PSK => true,
        _ => return Err(RecordError::Malformed),
    };
    if psk != (endpoint.security == Security::Psk) {
        return Err(RecordError::Malformed);
    }
    let token_len = u16::from_le_bytes([r.byte()?, r.byte()?]) as usize;
    if token_len == 0 || token_len > MAX_AUTH_TOKEN_LEN {
        return Err(RecordError::Malformed);
    }
    let token = r.text(token_len)?;
    let psk = if psk {
        let random_len = r.byte()? as usize;
        if random_len == 0 || random_len > MAX_RANDOM_LEN {
            return Err(RecordError::Malformed);
        }
        let random = r.text(random_len)?;
        let seq_offset = r.u64()?;
        let seq_reserved = r.u64()?;
        if seq_reserved <= seq_offset {
            return Err(RecordError::Malformed);
        }
        Some(PskState {
            random,
            seq_offset,
            seq_reserved,
        })
    } else {
        None
    };
    let rtt = match (record[0], r.0.len()) {
        (_, 0) => None,
        (RECORD_VERSION, 8) => Some(RttEstimate {
            srtt_ms: r.u32()?,
            rttvar_ms: r.u32()?,
        }),
        _ => return Err(RecordError::Malformed),
    };
    Ok(Resumable { token, psk, rtt })
}

/// The MAC state after the identity and endpoint, fed with `body`.
fn binding_mac(id: &Identity, endpoint: &Endpoint, body: &[u8]) -> Hmac<md5::Md5> {
    // Any key length is accepted by HMAC; this cannot fail.
    let mut mac = Hmac::<md5::Md5>::new_from_slice(id.device_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!());
    let scheme: u8 = match endpoint.security {
        Security::Plain => 0,
        Security::Psk => 1,
        Security::Dtls => 2,
    };
    mac.update(LABEL);
    // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
    for field in [
        id.product_key.as_bytes(),
        id.device_name.as_bytes(),
        id.client_id.as_bytes(),
        endpoint.host.as_bytes(),
    ] {
        mac.update(&(field.len() as u32).to_le_bytes());
        mac.update(field);
    }
    mac.update(&[scheme]);
    mac.update(&endpoint.port.to_le_bytes());
    mac.update(body);
    mac
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], RecordError> {
        if self.0.len() < n {
            return Err(RecordError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, RecordError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, RecordError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, RecordError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn text(&mut self, n: usize) -> Result<String, RecordError> {
        let bytes = self.take(n)?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| RecordError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::url;
    use alloc::vec;

    /// The test device of docs/protocol.md.
    const ID: Identity<'static> = Identity {
        product_key: "a1TestPK001",
        device_name: "dev-001",
        client_id: "a1TestPK001.dev-001",
        device_secret: "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB",
    };

    fn psk_ep() -> Endpoint {
        url::parse("coap-psk://127.0.0.1:5682").unwrap()
    }

    fn psk_state() -> Resumable {
        Resumable {
            token: "tok.en-123".into(),
            psk: Some(PskState {
                random: "ad2b3a5eb51d64f7".into(),
                seq_offset: 7,
                seq_reserved: 72,
            }),
            rtt: None,
        }
    }

    #[test]
    fn round_trip_plain_and_psk() {
        let ep = url::parse("coap://127.0.0.1:5683").unwrap();
        let plain = Resumable {
            token: "t".repeat(MAX_AUTH_TOKEN_LEN),
            psk: None,
            rtt: None,
        };
        let rec = encode(&ID, &ep, &plain);
        assert_eq!(decode(&ID, &ep, &rec), Ok(plain));

        let s = psk_state();
        let rec = encode(&ID, &psk_ep(), &s);
        assert_eq!(rec.len(), 4 + 10 + 1 + 16 + 16 + MAC_LEN);
        assert_eq!(decode(&ID, &psk_ep(), &rec), Ok(s));

        let longest = Resumable {
            token: "t".repeat(MAX_AUTH_TOKEN_LEN),
            psk: Some(PskState {
                random: "r".repeat(MAX_RANDOM_LEN),
                seq_offset: u64::MAX - 1,
                seq_reserved: u64::MAX,
            }),
            rtt: Some(RttEstimate {
                srtt_ms: u32::MAX,
                rttvar_ms: u32::MAX,
            }),
        };
        let rec = encode(&ID, &psk_ep(), &longest);
        assert_eq!(rec.len(), MAX_RECORD_LEN);
        assert_eq!(decode(&ID, &psk_ep(), &rec), Ok(longest));
    }

    #[test]
    fn every_single_bit_flip_and_every_truncation_is_rejected() {
        let rec = encode(&ID, &psk_ep(), &psk_state());
        for i in 0..rec.len() {
            for bit in 0..8 {
                let mut bad = rec.clone();
                bad[i] ^= 1 << bit;
                assert!(decode(&ID, &psk_ep(), &bad).is_err(), "byte {i} bit {bit}");
            }
        }
        for n in 0..rec.len() {
            assert!(decode(&ID, &psk_ep(), &rec[..n]).is_err(), "{n}");
        }
        let mut longer = rec.clone();
        longer.push(0);
        assert!(decode(&ID, &psk_ep(), &longer).is_err());
        assert_eq!(
            decode(&ID, &psk_ep(), &vec![0u8; MAX_RECORD_LEN + 1]),
            Err(RecordError::Length)
        );
    }

    #[test]
    fn random_bytes_never_decode_or_panic() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % (MAX_RECORD_LEN as u64 + 8)) as usize;
            let junk: Vec<u8> = (0..len)
                .map(|i| (x.rotate_left(i as u32 % 64) >> 3) as u8)
                .collect();
            assert!(decode(&ID, &psk_ep(), &junk).is_err());
        }
    }

    #[test]
    fn another_identity_or_endpoint_is_rejected() {
        let rec = encode(&ID, &psk_ep(), &psk_state());
        let variants = [
            Identity {
                product_key: "a1OtherPK01",
                ..ID
            },
            Identity {
                device_name: "dev-002",
                ..ID
            },
            Identity {
                device_secret: "another-secret",
                ..ID
            },
            Identity {
                client_id: "other.client",
                ..ID
            },
        ];
        for c in &variants {
            assert_eq!(decode(c, &psk_ep(), &rec), Err(RecordError::Mac));
        }
        for url in [
            "coap-psk://127.0.0.2:5682",
            "coap-psk://127.0.0.1:5683",
            "coap://127.0.0.1:5682",
            "coaps://127.0.0.1:5682",
        ] {
            let ep = url::parse(url).unwrap();
            assert_eq!(decode(&ID, &ep, &rec), Err(RecordError::Mac), "{url}");
        }
    }

    /// Records whose MAC is right but whose fields are not: refused all
    /// the same (a writer's bug must not become a session).
    #[test]
    fn authentic_but_malformed_records_are_rejected() {
        let c = ID;
        let ep = psk_ep();
        let seal = |body: &[u8]| {
            let mut r = body.to_vec();
            r.extend_from_slice(&binding_mac(&c, &ep, body).finalize().into_bytes());
            r
        };
        let good = encode(&c, &ep, &psk_state());
        let good_body = &good[..good.len() - MAC_LEN];
        assert!(decode(&c, &ep, &seal(good_body)).is_ok());
        let mut cases: Vec<Vec<u8>> = Vec::new();
        let mut version = good_body.to_vec();
        version[0] = 3;
        cases.push(version);
        let mut mode = good_body.to_vec();
        mode[1] = 9;
        cases.push(mode);
        let mut plain_mode = good_body.to_vec();
        plain_mode[1] = MODE_TOKEN;
        cases.push(plain_mode);
        let mut no_token = good_body.to_vec();
        no_token[2] = 0;
        cases.push(no_token);
        let mut token_past_end = good_body.to_vec();
        token_past_end[2] = 200;
        cases.push(token_past_end);
        let mut bad_utf8 = good_body.to_vec();
        bad_utf8[4] = 0xff;
        cases.push(bad_utf8);
        let mut reserved_low = good_body.to_vec();
        let n = reserved_low.len();
        reserved_low[n - 8..].copy_from_slice(&7u64.to_le_bytes());
        cases.push(reserved_low);
        let mut trailing = good_body.to_vec();
        trailing.push(0);
        cases.push(trailing);
        cases.push(good_body[..good_body.len() - 1].to_vec());
        for (i, body) in cases.iter().enumerate() {
            assert!(decode(&c, &ep, &seal(body)).is_err(), "case {i}");
        }
        // A token-only record is refused by a PSK endpoint, and the reverse.
        let plain_ep = url::parse("coap://127.0.0.1:5682").unwrap();
        let token_only = encode(
            &c,
            &ep,
            &Resumable {
                token: "t".into(),
                psk: None,
                rtt: None,
            },
        );
        assert_eq!(decode(&c, &ep, &token_only), Err(RecordError::Malformed));
        let psk_for_plain = encode(&c, &plain_ep, &psk_state());
        assert_eq!(
            decode(&c, &plain_ep, &psk_for_plain),
            Err(RecordError::Malformed)
        );
    }

    /// Reboots at every point of a run, through the codec: each boot
    /// resumes from the last record written and sends a few uplinks, some
    /// boots die right after a write. No number repeats under the token.
    #[test]
    fn power_cuts_skip_numbers_but_never_reuse_one() {
        use crate::core::session::tests::stored::{key, psk_authed};
        use crate::core::session::tests::{answer, cfg};
        use crate::core::session::{Session, FORMAT_JSON, OPTION_SEQ};
        use alloc::collections::BTreeSet;
        use coap_lite::{CoapOption, Packet, ResponseType};

        let ep = psk_ep();
        let mut s = psk_authed("tok");
        let mut flash = encode(&ID, &ep, &s.take_persist().unwrap());
        let mut sent = BTreeSet::new();
        let mut x = 7u32;
        for boot in 0..300u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let uplinks = (x >> 16) % 150;
            let state = decode(&ID, &ep, &flash).expect("valid record");
            let mut s: Session<u32> = Session::resumed(cfg(Security::Psk), state);
            for n in 0..uplinks {
                s.send(2, "/topic/a", b"x", FORMAT_JSON, true, n).unwrap();
                if let Some(w) = s.take_persist() {
                    flash = encode(&ID, &ep, &w);
                }
                // A cut between the write and the datagram: nothing sent.
                if boot % 7 == 0 && n == uplinks / 2 {
                    break;
                }
                let d = s.poll_transmit().unwrap();
                let p = Packet::from_bytes(&d).unwrap();
                let enc = p.get_first_option(CoapOption::Unknown(OPTION_SEQ)).unwrap();
                let seq: u64 = core::str::from_utf8(&key().decrypt(enc).unwrap())
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(sent.insert(seq), "seq {seq} reused at boot {boot}");
                answer(&mut s, 3, &d, ResponseType::Content, &key().encrypt(b""));
            }
        }
        assert!(sent.len() > 10_000, "{}", sent.len());
    }
    #[test]
    fn the_rtt_estimate_is_kept_and_version_1_records_still_read() {
        let ep = psk_ep();
        let rtt = RttEstimate {
            srtt_ms: 4200,
            rttvar_ms: 900,
        };
        let with_rtt = Resumable {
            rtt: Some(rtt),
            ..psk_state()
        };
        let rec = encode(&ID, &ep, &with_rtt);
        assert_eq!(rec.len(), 4 + 10 + 1 + 16 + 16 + 8 + MAC_LEN);
        assert_eq!(decode(&ID, &ep, &rec), Ok(with_rtt.clone()));
        // Version 1 (what the previous release wrote): no RTT, still read;
        // an RTT field in a version 1 record is not.
        let reseal = |body: &[u8]| {
            let mut sealed = body.to_vec();
            sealed.extend_from_slice(&binding_mac(&ID, &ep, body).finalize().into_bytes());
            sealed
        };
        let v1 = encode(&ID, &ep, &psk_state());
        let mut body = v1[..v1.len() - MAC_LEN].to_vec();
        body[0] = 1;
        assert_eq!(decode(&ID, &ep, &reseal(&body)), Ok(psk_state()));
        let mut body = rec[..rec.len() - MAC_LEN].to_vec();
        body[0] = 1;
        assert_eq!(
            decode(&ID, &ep, &reseal(&body)),
            Err(RecordError::Malformed)
        );
    }
}
