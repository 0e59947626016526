//! The Rust API (`Client` over `StdPlatform`) against the emulator, in
//! process, over real UDP on loopback.

use std::time::{Duration, Instant};

use iotx_coap::client::{Client, ClientEvent, MessageType};
use iotx_coap::core::session::{Event, FORMAT_JSON};
use iotx_coap::core::url::Security;
use iotx_coap::platform::std_udp::StdPlatform;
use iotx_coap_sim::{FaultRates, Faults};

mod common;
use common::rust_api::{client, sim, url};
use iotx_coap_testkit::device::TOPIC;

/// An uplink's id and its response (code, payload), or None for SEND_FAILED.
type Outcome = (u32, Option<(u8, Vec<u8>)>);

/// Polls until `n` uplinks have an outcome (or 60 s pass).
fn outcomes(c: &Client<StdPlatform, u32>, n: usize) -> Vec<Outcome> {
    let mut out = Vec::new();
    let start = Instant::now();
    while out.len() < n && start.elapsed() < Duration::from_secs(60) {
        c.poll(&mut |e| match e {
            ClientEvent::Session(Event::Response {
                user,
                code,
                payload,
            }) => out.push((user, Some((code, payload)))),
            ClientEvent::Session(Event::SendFailed { user }) => out.push((user, None)),
            _ => {}
        });
    }
    out
}

fn round_trip(sec: Security) {
    let s = sim(|c| c.reply_payload(b"{\"ok\":1}"));
    let c = client(&url(&s, sec), sec, |_| {});
    c.authenticate(&mut |_| {}).expect("auth");
    for i in 0..5u32 {
        let body = format!("{{\"n\":{i}}}");
        c.send(TOPIC, body.as_bytes(), FORMAT_JSON, MessageType::Con, i)
            .map_err(|e| e.0)
            .unwrap();
    }
    let got = outcomes(&c, 5);
    assert_eq!(got.len(), 5, "{got:?}");
    for (_, r) in &got {
        let (code, payload) = r.as_ref().expect("answered");
        assert_eq!(*code, 0x45);
        assert_eq!(payload, b"{\"ok\":1}", "decrypted in PSK mode");
    }
    let mut seen: Vec<String> = s
        .events_named("uplink_accepted")
        .iter()
        .map(|e| e["payload"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        (0..5).map(|i| format!("{{\"n\":{i}}}")).collect::<Vec<_>>()
    );
}

#[test]
fn plain_round_trip() {
    round_trip(Security::Plain);
}

#[test]
fn psk_round_trip() {
    round_trip(Security::Psk);
}

#[test]
fn expired_token_is_renewed_and_the_message_resent() {
    for sec in [Security::Plain, Security::Psk] {
        let s = sim(|c| c.token_ttl(Duration::from_secs(1)));
        let c = client(&url(&s, sec), sec, |_| {});
        c.authenticate(&mut |_| {}).unwrap();
        c.send(TOPIC, b"{\"a\":1}", FORMAT_JSON, MessageType::Con, 1)
            .map_err(|e| e.0)
            .unwrap();
        assert_eq!(outcomes(&c, 1)[0].1.as_ref().unwrap().0, 0x45);
        std::thread::sleep(Duration::from_millis(1300));
        c.send(TOPIC, b"{\"a\":2}", FORMAT_JSON, MessageType::Con, 2)
            .map_err(|e| e.0)
            .unwrap();
        let got = outcomes(&c, 1);
        assert_eq!(
            got[0].1.as_ref().map(|r| r.0),
            Some(0x45),
            "{sec:?}: {got:?}"
        );
        assert_eq!(c.stats().reauths, 1);
        assert_eq!(s.events_named("auth_accepted").len(), 2);
        let rejected = s.events_named("uplink_rejected");
        assert_eq!(
            rejected.len(),
            1,
            "the expired token was refused once: {rejected:?}"
        );
        assert_eq!(rejected[0]["code"], "4.01");
    }
}

#[test]
fn lossy_network_retransmits_until_delivered() {
    let lossy = FaultRates {
        drop: 0.2,
        ..FaultRates::default()
    };
    let faults = Faults::both(lossy);
    let s = sim(|c| c.faults(faults).seed(7));
    let c = client(&url(&s, Security::Psk), Security::Psk, |cfg| {
        cfg.ack_timeout_ms = 100
    });
    // Auth itself may need retries on a lossy path.
    c.authenticate(&mut |_| {}).expect("auth over a lossy path");
    let n = 20u32;
    for i in 0..n {
        c.send(
            TOPIC,
            format!("{{\"i\":{i}}}").as_bytes(),
            FORMAT_JSON,
            MessageType::Con,
            i,
        )
        .map_err(|e| e.0)
        .unwrap();
        let got = outcomes(&c, 1);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].1.as_ref().map(|r| r.0),
            Some(0x45),
            "message {i}: {got:?}"
        );
    }
    assert!(c.stats().retransmissions > 0, "{:?}", c.stats());
    // Each uplink reached the platform exactly once, however often it was sent.
    assert_eq!(s.events_named("uplink_accepted").len(), n as usize);
}

#[test]
fn unanswered_message_ends_in_send_failed() {
    let s = sim(|c| c);
    let c = client(&url(&s, Security::Plain), Security::Plain, |cfg| {
        cfg.ack_timeout_ms = 50
    });
    c.authenticate(&mut |_| {}).unwrap();
    let addr = s.plain_addr();
    s.stop();
    // A peer that stays silent: a closed port would answer "port
    // unreachable", which ends the exchange early (tests/unreachable.rs).
    let _silent = std::net::UdpSocket::bind(addr).expect("rebind the emulator's port");
    c.send(TOPIC, b"{}", FORMAT_JSON, MessageType::Con, 42)
        .map_err(|e| e.0)
        .unwrap();
    let got = outcomes(&c, 1);
    assert_eq!(got, vec![(42, None)]);
    assert_eq!(c.stats().retransmissions, 4);
}
