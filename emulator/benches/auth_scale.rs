//! `/auth` cost with an empty token store and with a million tokens.
//!
//! Times the platform's request handling directly (no sockets, so neither
//! the network nor the load generator blurs it): platform A keeps its
//! store near empty (a zero token lifetime, so every issue retires the
//! expired ones), platform B is first filled with 1,000,000 live tokens.
//! Rounds of auths then alternate A, B, A, B... so that whatever else the
//! machine does hits both alike; the medians and their ratio are printed.
//! No assertions: `cargo bench -p iotx-coap-sim --bench auth_scale`
//! (AUTH_SCALE_TOKENS, AUTH_SCALE_ROUNDS override the sizes).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use hmac::{Hmac, Mac};
use iotx_coap_sim::log::EventLog;
use iotx_coap_sim::platform::{Origin, Platform, Security};
use iotx_coap_sim::{LogTarget, SimConfig};
use rand::rngs::StdRng;
use rand::SeedableRng;

const DEVICES: usize = 1000;
const ROUND: usize = 20_000;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn device(i: usize) -> (String, String, String) {
    (
        "a1BenchPK01".into(),
        format!("dev-{i:05}"),
        format!("secret-{i}"),
    )
}

/// A signed `POST /auth` of device `i`.
fn auth_request(i: usize) -> Packet {
    let (pk, dn, secret) = device(i);
    let client_id = format!("{pk}.{dn}");
    let content = format!("clientId{client_id}deviceName{dn}productKey{pk}");
    let mut mac = <Hmac<md5::Md5> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(content.as_bytes());
    let sign: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let body = serde_json::json!({
        "productKey": pk, "deviceName": dn, "clientId": client_id, "sign": sign,
    });
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Request(RequestType::Post);
    p.add_option(CoapOption::UriPath, b"auth".to_vec());
    p.add_option(CoapOption::ContentFormat, vec![50]);
    p.add_option(CoapOption::Accept, vec![50]);
    p.payload = body.to_string().into_bytes();
    p
}

fn platform(ttl: Duration) -> Platform {
    let mut cfg = SimConfig {
        capture_events: false,
        token_ttl: ttl,
        ..SimConfig::default()
    };
    for i in 0..DEVICES {
        let (pk, dn, secret) = device(i);
        cfg = cfg.device(&pk, &dn, &secret);
    }
    let log = EventLog::new(&LogTarget::None, false, false).unwrap();
    Platform::new(cfg, log)
}

/// Time per auth over `n` auths.
fn auths(p: &Platform, reqs: &[Packet], n: usize) -> Duration {
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let from = Origin {
        listener: "plain",
        security: Security::None,
        peer,
    };
    let mut rng = StdRng::seed_from_u64(1);
    let t0 = Instant::now();
    for k in 0..n {
        let r = p.handle(from, &reqs[k % reqs.len()], Instant::now(), &mut rng);
        assert_eq!(r.code, ResponseType::Content);
    }
    t0.elapsed() / n as u32
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let tokens = env("AUTH_SCALE_TOKENS", 1_000_000);
    let rounds = env("AUTH_SCALE_ROUNDS", 7);
    let reqs: Vec<Packet> = (0..DEVICES).map(auth_request).collect();
    let empty = platform(Duration::ZERO);
    let full = platform(Duration::from_secs(86_400));
    let t0 = Instant::now();
    let fill = auths(&full, &reqs, tokens);
    println!(
        "filled platform B with {} tokens in {:.1} s ({fill:?} per auth while filling)",
        full.tokens_held(),
        t0.elapsed().as_secs_f64()
    );
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        a.push(auths(&empty, &reqs, ROUND));
        b.push(auths(&full, &reqs, ROUND));
    }
    let (a, b) = (median(a), median(b));
    let rate = |d: Duration| 1.0 / d.as_secs_f64();
    println!(
        "/auth, store at ~{} tokens: {a:?} per auth ({:.0}/s on one core)",
        empty.tokens_held(),
        rate(a)
    );
    println!(
        "/auth, store at {} tokens: {b:?} per auth ({:.0}/s on one core)",
        full.tokens_held(),
        rate(b)
    );
    println!(
        "rate with the full store / rate with the empty one: {:.2} (medians of {rounds} alternating rounds of {ROUND})",
        rate(b) / rate(a)
    );
}
