//! `POST /topic/...` on the plain listener: token checks, topic permission,
//! dedup, token expiry, legacy deviations.

mod common;
use common::*;

use std::time::Duration;

use coap_lite::{CoapOption, MessageClass, Packet, RequestType};

const TOPIC: &str = "/topic/a1TestPK001/dev-001/update";

fn token(c: &mut Client) -> String {
    c.auth(None)["token"].as_str().unwrap().to_string()
}

#[test]
fn uplink_accepted_with_message_id() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.plain_addr());
    let t = token(&mut c);
    let r = c.call(uplink_req(TOPIC, Some(&t), br#"{"name":"hello world"}"#));
    assert_eq!(code(&r), "2.05");
    let mid = String::from_utf8(opt(&r, 2090).expect("option 2090")).unwrap();
    assert!(!mid.is_empty());
    assert!(r.payload.is_empty(), "no payload without --reply-payload");
    let e = wait_event(&s, "uplink_accepted");
    assert_eq!(e["topic"], "/a1TestPK001/dev-001/update");
    assert_eq!(e["payload"], r#"{"name":"hello world"}"#);
    assert_eq!(e["payload_hex"], hex(br#"{"name":"hello world"}"#));
    assert_eq!(e["messageId"], mid.as_str());
    assert!(e["seq"].is_null());
    assert_eq!(e["productKey"], PK);
    assert_eq!(e["deviceName"], DN);
    // Token is never printed in full.
    assert!(!serde_json::to_string(&s.events()).unwrap().contains(&t));
}

#[test]
fn token_and_topic_checks() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.plain_addr());
    let t = token(&mut c);
    let check = |c: &mut Client, p, want: &str| {
        let r = c.call(p);
        assert_eq!(code(&r), want);
    };
    check(&mut c, uplink_req(TOPIC, None, b"x"), "4.01");
    check(
        &mut c,
        uplink_req(TOPIC, Some("0123456789abcdef0123456789abcdef"), b"x"),
        "4.01",
    );
    check(
        &mut c,
        uplink_req("/topic/a1TestPK001/dev-002/update", Some(&t), b"x"),
        "4.03",
    );
    check(
        &mut c,
        uplink_req("/topic/otherPK/dev-001/update", Some(&t), b"x"),
        "4.03",
    );
    check(
        &mut c,
        uplink_req("/topic/a1TestPK001/dev-001", Some(&t), b"x"),
        "4.03",
    );
    let mut q = uplink_req(TOPIC, Some(&t), b"x");
    q.add_option(CoapOption::UriQuery, b"a=b".to_vec());
    check(&mut c, q, "4.00");
    let mut g = uplink_req(TOPIC, Some(&t), b"x");
    g.header.code = MessageClass::Request(RequestType::Get);
    check(&mut c, g, "4.05");
    let mut a = uplink_req(TOPIC, Some(&t), b"x");
    a.clear_option(CoapOption::Accept);
    a.add_option(CoapOption::Accept, vec![0]);
    check(&mut c, a, "4.06");
    // The token of the plain listener is not valid on the PSK one.
    let mut p = Client::new(s.psk_addr());
    check(&mut p, uplink_req(TOPIC, Some(&t), b"x"), "4.01");
    // Content-Format is not checked on /topic; no Accept is fine.
    let mut ok = request(RequestType::Post, TOPIC);
    ok.add_option(CoapOption::Unknown(2088), t.as_bytes().to_vec());
    ok.payload = b"raw".to_vec();
    check(&mut c, ok, "2.05");
    let st = s.stats();
    assert_eq!((st.uplink_ok, st.uplink_rejected), (1, 9));
    let reasons: Vec<String> = s
        .events_named("uplink_rejected")
        .iter()
        .map(|e| e["reason"].as_str().unwrap().to_string())
        .collect();
    assert!(reasons[0].contains("token missing"), "{reasons:?}");
    assert!(reasons[1].contains("unknown token"), "{reasons:?}");
}

#[test]
fn dedup_same_mid_same_bytes_one_event() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.plain_addr());
    let t = token(&mut c);
    let mut req = uplink_req(TOPIC, Some(&t), b"once");
    req.header.message_id = 999;
    c.send(&req);
    let first = c.recv_raw(Duration::from_secs(3)).unwrap();
    c.send(&req);
    let second = c.recv_raw(Duration::from_secs(3)).unwrap();
    assert_eq!(first, second);
    wait_event(&s, "duplicate");
    assert_eq!(s.events_named("uplink_accepted").len(), 1);
    assert_eq!(s.stats().uplink_ok, 1);
    assert_eq!(s.stats().duplicates, 1);
    // A new message id is a new uplink.
    req.header.message_id = 1000;
    c.send(&req);
    let third = c.recv(Duration::from_secs(3)).unwrap();
    assert_eq!(code(&third), "2.05");
    assert_eq!(s.stats().uplink_ok, 2);
}

#[test]
fn token_expires() {
    // On simulated time: the listener's clock is the token store's.
    let mut v = virtual_sim(SimConfig::default().token_ttl(Duration::from_secs(1)));
    let auth = auth_req(auth_json(None, None).as_bytes(), Some(50), Some(50));
    let token = |r: Packet| -> String {
        let body: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
        body["token"].as_str().unwrap().to_string()
    };
    let t = token(virtual_answer(&mut v, &auth));
    let r = virtual_answer(&mut v, &uplink_req(TOPIC, Some(&t), b"1"));
    assert_eq!(code(&r), "2.05");
    virtual_run(&mut v, Duration::from_millis(1300));
    let r = virtual_answer(&mut v, &uplink_req(TOPIC, Some(&t), b"2"));
    assert_eq!(code(&r), "4.01");
    let rejected = v
        .events()
        .into_iter()
        .find(|e| e["event"] == "uplink_rejected");
    assert_eq!(
        rejected.expect("uplink_rejected")["reason"],
        "token expired"
    );
    // Re-authentication gives a fresh working token.
    let t2 = token(virtual_answer(&mut v, &auth));
    let r = virtual_answer(&mut v, &uplink_req(TOPIC, Some(&t2), b"3"));
    assert_eq!(code(&r), "2.05");
}

fn legacy_req(t: &str) -> coap_lite::Packet {
    let mut p = uplink_req(TOPIC, None, b"legacy");
    p.add_option(CoapOption::Unknown(61), t.as_bytes().to_vec());
    p.clear_option(CoapOption::Accept);
    p.add_option(CoapOption::Accept, vec![42]);
    p
}

#[test]
fn strict_rejects_legacy_deviations() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.plain_addr());
    let t = token(&mut c);
    assert_eq!(code(&c.call(legacy_req(&t))), "4.06");
    let mut p = uplink_req(TOPIC, None, b"x");
    p.add_option(CoapOption::Unknown(61), t.as_bytes().to_vec());
    assert_eq!(code(&c.call(p)), "4.01");
    assert!(s.events_named("legacy").is_empty());
}

#[test]
fn accept_legacy_accepts_and_logs() {
    let s = sim(SimConfig::default().accept_legacy(true));
    let mut c = Client::new(s.plain_addr());
    let t = token(&mut c);
    assert_eq!(code(&c.call(legacy_req(&t))), "2.05");
    wait_event(&s, "uplink_accepted");
    let reasons: Vec<_> = s
        .events_named("legacy")
        .iter()
        .map(|e| e["reason"].as_str().unwrap().to_string())
        .collect();
    assert!(
        reasons.contains(&"token in option 61".to_string()),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("(42)")), "{reasons:?}");
}

#[test]
fn reply_payload_plain() {
    let s = sim(SimConfig::default().reply_payload(b"pong"));
    let mut c = Client::new(s.plain_addr());
    let t = token(&mut c);
    let r = c.call(uplink_req(TOPIC, Some(&t), b"ping"));
    assert_eq!(r.payload, b"pong");
}

#[test]
fn handle_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<iotx_coap_sim::SimHandle>();
    check::<iotx_coap_sim::SimConfig>();
}

/// With several threads per listener (SO_REUSEPORT), every peer is served,
/// a token issued on one thread is valid on the others (they are one
/// listener), bursts from a peer all get answers (sent in batches), and a
/// retransmission still meets its peer's deduplication cache.
#[test]
fn threads_share_the_port_tokens_and_dedup() {
    let s = sim(SimConfig {
        udp_threads: 3,
        ..SimConfig::default()
    });
    let mut first = Client::new(s.plain_addr());
    let t = token(&mut first);
    let mut clients: Vec<Client> = (0..12).map(|_| Client::new(s.plain_addr())).collect();
    for c in &mut clients {
        let r = c.call(uplink_req(TOPIC, Some(&t), b"x"));
        assert_eq!(code(&r), "2.05");
    }
    // A burst of 20 from each peer before reading any answer.
    for c in &clients {
        for mid in 1..=20u16 {
            let mut req = uplink_req(TOPIC, Some(&t), b"burst");
            req.header.message_id = mid;
            c.send(&req);
        }
    }
    for c in &clients {
        let mut mids: Vec<u16> = (0..20)
            .map(|_| {
                c.recv(Duration::from_secs(3))
                    .expect("an answer")
                    .header
                    .message_id
            })
            .collect();
        mids.sort();
        assert_eq!(mids, (1..=20).collect::<Vec<u16>>());
    }
    let mut again = uplink_req(TOPIC, Some(&t), b"burst");
    again.header.message_id = 7;
    clients[0].send(&again);
    assert_eq!(
        code(&clients[0].recv(Duration::from_secs(3)).unwrap()),
        "2.05"
    );
    wait_event(&s, "duplicate");
    assert_eq!(s.stats().uplink_ok, 12 + 12 * 20);
    assert_eq!(s.stats().duplicates, 1);
}
