//! The Rust API (`Client` over `StdPlatform`) against the emulator, in
//! process, over real UDP on loopback.

use std::time::{Duration, Instant};

use iotx_coap::client::{Client, ClientEvent, MessageType};
use iotx_coap::core::session::{Config, Event, FORMAT_JSON};
use iotx_coap::core::url::{self, Security};
use iotx_coap::platform::std_udp::StdPlatform;
use iotx_coap_sim::{FaultRates, Faults, SimConfig, SimHandle};

const PK: &str = "a1TestPK001";
const DN: &str = "dev-001";
const DS: &str = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB";
const TOPIC: &str = "/topic/a1TestPK001/dev-001/update";

fn sim(cfg: SimConfig) -> SimHandle {
    iotx_coap_sim::start(SimConfig {
        dtls_port: None,
        ..cfg.device(PK, DN, DS)
    })
    .expect("emulator")
}

fn client(
    sim: &SimHandle,
    sec: Security,
    tweak: impl FnOnce(&mut Config),
) -> Client<StdPlatform, u32> {
    let addr = match sec {
        Security::Psk => sim.psk_addr(),
        _ => sim.plain_addr(),
    };
    let scheme = if sec == Security::Psk {
        "coap-psk"
    } else {
        "coap"
    };
    let ep = url::parse(&format!("{scheme}://{addr}")).unwrap();
    let mut cfg = Config::new(PK, DN, DS, sec);
    tweak(&mut cfg);
    Client::connect(StdPlatform::new(), ep, cfg, 100).expect("connect")
}

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
    let s = sim(SimConfig::default().reply_payload(b"{\"ok\":1}"));
    let c = client(&s, sec, |_| {});
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
        let s = sim(SimConfig::default().token_ttl(Duration::from_secs(1)));
        let c = client(&s, sec, |_| {});
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
    let faults = Faults {
        inbound: lossy,
        outbound: lossy,
        ..Faults::default()
    };
    let s = sim(SimConfig::default().faults(faults).seed(7));
    let c = client(&s, Security::Psk, |cfg| cfg.ack_timeout_ms = 100);
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
    let s = sim(SimConfig::default());
    let c = client(&s, Security::Plain, |cfg| cfg.ack_timeout_ms = 50);
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
