//! The library's zero-copy decoder (`iotx_coap::core::message::decode`)
//! against the reference (coap-lite plus the RFC 7252 rules it does not
//! enforce, `iotx_coap_testkit::reference`): same verdict, same fields, on
//! random datagrams, on well-formed messages of every option class, and on
//! those mutated byte by byte. The fuzz target `message_decode` does the
//! same coverage-guided (scripts/fuzz.sh).

use iotx_coap::core::message::{self, RequestWriter, Type, CODE_POST};
use iotx_coap_testkit::gen::Gen;
use iotx_coap_testkit::reference::{self, Decoded};

fn ours(data: &[u8]) -> Option<Decoded> {
    let m = message::decode(data).ok()?;
    Some(Decoded::of(
        m.ty as u8,
        m.code,
        m.mid,
        m.token,
        m.options(),
        m.payload,
    ))
}

#[track_caller]
fn agree(data: &[u8]) -> bool {
    let (got, want) = (ours(data), reference::decode(data));
    assert_eq!(got, want, "datagram {data:02x?}");
    got.is_some()
}

/// A message built field by field, options encoded by hand so that every
/// delta and length class appears, critical options among them.
fn well_formed(g: &mut Gen) -> Vec<u8> {
    let token = g.bytes(8);
    let code = [0x45, 0x44, 0x84, 0x02, g.word() as u8][g.below(5) as usize];
    let mut d = vec![0x40 | (g.below(4) as u8) << 4 | token.len() as u8, code];
    d.extend_from_slice(&(g.word() as u16).to_be_bytes());
    d.extend_from_slice(&token);
    let mut number = 0u32;
    for _ in 0..g.below(6) {
        let class = g.below(4) as usize;
        let delta = [0, 1 + g.below(12), 13 + g.below(256), 269 + g.below(2500)][class];
        if number + delta as u32 > 65535 {
            break;
        }
        number += delta as u32;
        let max = [4, 20, 300][g.below(3) as usize];
        let value = g.bytes(max);
        let (dn, dext) = nibble(delta as u16);
        let (ln, lext) = nibble(value.len() as u16);
        d.push(dn << 4 | ln);
        d.extend_from_slice(&dext);
        d.extend_from_slice(&lext);
        d.extend_from_slice(&value);
    }
    if g.below(4) > 0 {
        d.push(0xff);
        d.extend_from_slice(&g.bytes(40));
    }
    d
}

fn nibble(v: u16) -> (u8, Vec<u8>) {
    match v {
        0..=12 => (v as u8, vec![]),
        13..=268 => (13, vec![(v - 13) as u8]),
        _ => (14, (v - 269).to_be_bytes().to_vec()),
    }
}

#[test]
fn random_datagrams_get_the_same_verdict() {
    let mut g = Gen(0x0dd_ba11);
    for _ in 0..200_000 {
        let mut d = g.bytes(24);
        // Mostly version 1, else the header check would end most of them.
        if let Some(first) = d.first_mut() {
            if g.below(8) > 0 {
                *first = 0x40 | (*first & 0x3f);
            }
        }
        agree(&d);
    }
}

#[test]
fn well_formed_and_mutated_messages_decode_alike() {
    let mut g = Gen(0x5eed_cafe);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let d = well_formed(&mut g);
        accepted += usize::from(agree(&d));
        for _ in 0..8 {
            let mut m = d.clone();
            match g.below(4) {
                0 => m.truncate(g.below(m.len() as u64 + 1) as usize),
                1 => m.push(g.word() as u8),
                _ => {
                    let i = g.below(m.len() as u64) as usize;
                    m[i] ^= 1 << g.below(8);
                }
            }
            agree(&m);
        }
    }
    // Both verdicts must be common (about half are rejected, mostly for
    // a critical option), or this test would compare only one kind.
    assert!(
        (5_000..15_000).contains(&accepted),
        "{accepted} of 20,000 accepted"
    );
}

#[test]
fn the_rules_coap_lite_lacks_are_applied() {
    // Version 2, an Empty message with a token, a marker with no payload,
    // Block2 (critical, not implemented): all rejected; coap-lite takes
    // each of them.
    for d in [
        &[0x80, 0x45, 0, 1][..],
        &[0x61, 0x00, 0, 1, 7],
        &[0x60, 0x45, 0, 1, 0xff],
        &[0x60, 0x45, 0, 1, 0xd1, 10, 0x06],
    ] {
        assert!(coap_lite::Packet::from_bytes(d).is_ok(), "{d:02x?}");
        assert_eq!(ours(d), None, "{d:02x?}");
        assert!(!agree(d));
    }
    // Elective unknown options are ignored, critical known ones taken.
    assert!(agree(&[0x60, 0x45, 0, 1, 0xd1, 11, 0x01, 0xff, b'x']));
    assert!(agree(&[0x60, 0x45, 0, 1, 0xb1, b'a']));
}

/// Everything this client encodes, its own decoder reads back as written.
#[test]
fn our_encodings_decode_to_what_was_written() {
    let mut g = Gen(0xfeed);
    for _ in 0..3000 {
        let ty = [Type::Confirmable, Type::NonConfirmable][g.below(2) as usize];
        let mid = g.word() as u16;
        let token = g.word().to_be_bytes();
        let mut w = RequestWriter::new(16, ty, CODE_POST, mid, &token);
        let mut expected = Vec::new();
        let mut number = 0u16;
        for _ in 0..g.below(8) {
            // Even numbers only: elective options, accepted whatever they are.
            number = number.saturating_add(2 * g.below(600) as u16) & !1;
            let max = [12, 268, 600][g.below(3) as usize];
            let value = g.bytes(max);
            w.option(number, &value);
            expected.push((number, value));
        }
        let payload = g.bytes(300);
        w.payload(&payload);
        let d = w.finish(usize::MAX).unwrap();
        let m = message::decode(&d).unwrap();
        assert_eq!(
            (m.ty, m.code, m.mid, m.token),
            (ty, CODE_POST, mid, &token[..])
        );
        let got: Vec<(u16, Vec<u8>)> = m.options().map(|(n, v)| (n, v.to_vec())).collect();
        assert_eq!(got, expected);
        assert_eq!(m.payload, &payload[..]);
        agree(&d);
    }
}
