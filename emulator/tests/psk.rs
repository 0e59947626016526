//! PSK ("symmetric encryption") listener, using the test vectors of docs/protocol.md.

mod common;
use common::*;

use coap_lite::CoapOption;

const TOPIC: &str = "/topic/a1TestPK001/dev-001/update";
const RANDOM: &str = "ad2b3a5eb51d64f7";

#[test]
fn test_helpers_match_spec_vectors() {
    assert_eq!(
        hmac_md5(
            SECRET,
            "clientIda1TestPK001.dev-001deviceNamedev-001productKeya1TestPK001seq123"
        ),
        "f26059605918c10887ae873806553cbd"
    );
    let key = psk::derive(SECRET, RANDOM);
    assert_eq!(hex(&key), "53b89a5f8c7fa35052f25dec0144abf4");
    assert_eq!(
        hex(&psk::encrypt(&key, br#"{"name":"hello world"}"#)),
        "9a1dffa521023f7adbf2cac04354d65ae4d0ac8899c5f24b922004857c2a30a8"
    );
    assert_eq!(
        hex(&psk::encrypt(&key, b"124")),
        "747f2692ab4effb9d3d44b4f43989c9a"
    );
    assert_eq!(
        hex(&psk::encrypt(&key, b"0123456789abcdef")),
        "ac0482241a3b0f32394df5b7f9f3cb170756bf392dc24fd65c8b36888fefe5ed"
    );
}

#[test]
fn psk_auth_and_spec_vector_uplink() {
    let s = sim(SimConfig::default()
        .psk_random(RANDOM)
        .reply_payload(b"0123456789abcdef"));
    let mut c = Client::new(s.psk_addr());
    // The seq-123 sign vector of docs/protocol.md.
    let v = c.auth(Some(123));
    assert_eq!(v["random"], RANDOM);
    assert_eq!(v["seqOffset"], 1);
    let token = v["token"].as_str().unwrap().to_string();
    assert_eq!(wait_event(&s, "auth_accepted")["listener"], "psk");
    // Uplink made of the vector table's ciphertexts: seq 124, {"name":"hello world"}.
    let mut p = uplink_req(
        TOPIC,
        Some(&token),
        &unhex("9a1dffa521023f7adbf2cac04354d65ae4d0ac8899c5f24b922004857c2a30a8"),
    );
    p.add_option(
        CoapOption::Unknown(2089),
        unhex("747f2692ab4effb9d3d44b4f43989c9a"),
    );
    let r = c.call(p);
    assert_eq!(code(&r), "2.05");
    assert!(opt(&r, 2090).is_some());
    // The reply payload is encrypted: the vector for "0123456789abcdef".
    assert_eq!(
        hex(&r.payload),
        "ac0482241a3b0f32394df5b7f9f3cb170756bf392dc24fd65c8b36888fefe5ed"
    );
    let e = wait_event(&s, "uplink_accepted");
    assert_eq!(e["payload"], r#"{"name":"hello world"}"#);
    assert_eq!(e["seq"], 124);
    assert_eq!(e["listener"], "psk");
    let all = serde_json::to_string(&s.events()).unwrap();
    assert!(
        !all.contains("53b89a5f8c7fa35052f25dec0144abf4"),
        "PSK key printed"
    );
}

#[test]
fn psk_random_key_roundtrip_and_replay() {
    let s = sim(SimConfig::default().reply_payload(b"ok"));
    let mut c = Client::new(s.psk_addr());
    let v = c.auth(Some(10));
    let random = v["random"].as_str().unwrap();
    assert_eq!(random.len(), 16);
    assert!(random.bytes().all(|b| b.is_ascii_hexdigit()));
    let off = v["seqOffset"].as_u64().unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    let key = psk::derive(SECRET, random);
    let r = c.call(psk_uplink_req(TOPIC, &token, &key, off + 1, b"first"));
    assert_eq!(code(&r), "2.05");
    assert_eq!(
        psk::decrypt(&key, &r.payload).expect("valid padding"),
        b"ok"
    );
    let r = c.call(psk_uplink_req(TOPIC, &token, &key, off + 2, b"second"));
    assert_eq!(code(&r), "2.05");
    // Replay of an already used seq (new CoAP message id: not a dedup hit).
    let r = c.call(psk_uplink_req(TOPIC, &token, &key, off + 1, b"again"));
    assert_eq!(code(&r), "4.00");
    let e = wait_event(&s, "uplink_rejected");
    assert!(e["reason"].as_str().unwrap().contains("replay"), "{e}");
    // seq == seqOffset is rejected in strict mode, as is anything below.
    let r = c.call(psk_uplink_req(TOPIC, &token, &key, off, b"sdk3"));
    assert_eq!(code(&r), "4.00");
    // Higher unused seqs still work (they need not be consecutive).
    let r = c.call(psk_uplink_req(TOPIC, &token, &key, off + 10, b"later"));
    assert_eq!(code(&r), "2.05");
    let acc = s.events_named("uplink_accepted");
    assert_eq!(acc.len(), 3);
    assert_eq!(acc[1]["payload"], "second");
}

#[test]
fn psk_legacy_first_seq_equal_to_offset() {
    let s = sim(SimConfig::default().accept_legacy(true));
    let mut c = Client::new(s.psk_addr());
    let v = c.auth(Some(1));
    let key = psk::derive(SECRET, v["random"].as_str().unwrap());
    let token = v["token"].as_str().unwrap().to_string();
    let off = v["seqOffset"].as_u64().unwrap();
    let r = c.call(psk_uplink_req(TOPIC, &token, &key, off, b"sdk3"));
    assert_eq!(code(&r), "2.05");
    let e = wait_event(&s, "legacy");
    assert_eq!(e["reason"], "first PSK seq equal to seqOffset");
    // Still a replay when repeated.
    let r = c.call(psk_uplink_req(TOPIC, &token, &key, off, b"sdk3"));
    assert_eq!(code(&r), "4.00");
}

#[test]
fn psk_bad_ciphertexts_rejected() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.psk_addr());
    let v = c.auth(Some(1));
    let key = psk::derive(SECRET, v["random"].as_str().unwrap());
    let token = v["token"].as_str().unwrap().to_string();
    // Missing seq option.
    let r = c.call(uplink_req(TOPIC, Some(&token), &psk::encrypt(&key, b"x")));
    assert_eq!(code(&r), "4.00");
    // Payload not a multiple of 16.
    let mut p = uplink_req(TOPIC, Some(&token), b"plaintext!");
    p.add_option(CoapOption::Unknown(2089), psk::encrypt(&key, b"5"));
    assert_eq!(code(&c.call(p)), "4.00");
    // Encrypted with the wrong key: the padding check fails (with near certainty;
    // this fixed key and text give invalid padding).
    let wrong = psk::derive("wrong-secret", v["random"].as_str().unwrap());
    let p = psk_uplink_req(TOPIC, &token, &wrong, 7, b"x");
    assert_eq!(code(&c.call(p)), "4.00");
    // Bad padding in the payload: valid seq, payload's last block tampered.
    let mut ct = psk::encrypt(&key, b"0123456789abcdef");
    let n = ct.len();
    ct[n - 20] ^= 0x55;
    let mut p = uplink_req(TOPIC, Some(&token), &ct);
    p.add_option(CoapOption::Unknown(2089), psk::encrypt(&key, b"8"));
    assert_eq!(code(&c.call(p)), "4.00");
    let reasons: Vec<_> = s
        .events_named("uplink_rejected")
        .iter()
        .map(|e| e["reason"].as_str().unwrap().to_string())
        .collect();
    assert!(reasons[0].contains("2089"), "{reasons:?}");
    assert!(reasons.last().unwrap().contains("padding"), "{reasons:?}");
    // The failed attempts did not consume seq 8.
    let p = psk_uplink_req(TOPIC, &token, &key, 8, b"fine");
    assert_eq!(code(&c.call(p)), "2.05");
}
