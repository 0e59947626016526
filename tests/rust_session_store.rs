//! The Rust API with the session store (feature `session-store`; run by
//! scripts/test.sh as `cargo test --test rust_session_store --features
//! session-store`): `StdPlatform::with_session_file` against the emulator,
//! one `Client` per "boot".
#![cfg(feature = "session-store")]

use std::time::{Duration, Instant};

use iotx_coap::client::{Client, ClientEvent, MessageType};
use iotx_coap::core::session::{Config, Event, FORMAT_JSON};
use iotx_coap::core::url::{self, Security};
use iotx_coap::platform::std_udp::StdPlatform;
use iotx_coap_sim::SimConfig;

use iotx_coap_testkit::device::{DN, PK, SECRET as DS, TOPIC};

/// Connect, authenticate (or resume), one CON uplink answered: its code.
fn boot(url: &str, file: &std::path::Path) -> u8 {
    let ep = url::parse(url).unwrap();
    let platform = StdPlatform::new().with_session_file(file);
    let c: Client<StdPlatform, u32> =
        Client::connect(platform, ep, Config::new(PK, DN, DS, Security::Psk), 100).unwrap();
    c.authenticate(&mut |_| {}).expect("auth or resume");
    c.send(TOPIC, &[b'x'; 64], FORMAT_JSON, MessageType::Con, 1)
        .map_err(|(e, _)| e)
        .unwrap();
    let start = Instant::now();
    let mut code = None;
    while code.is_none() && start.elapsed() < Duration::from_secs(20) {
        c.poll(&mut |e| {
            if let ClientEvent::Session(Event::Response { code: k, .. }) = e {
                code = Some(k);
            }
        });
    }
    code.expect("an answer")
}

#[test]
fn a_session_file_spares_the_auth_of_later_boots() {
    let sim = iotx_coap_sim::start(SimConfig {
        dtls_port: None,
        ..SimConfig::default().device(PK, DN, DS)
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("iotx-rust-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("session");
    let url = format!("coap-psk://{}", sim.psk_addr());
    for _ in 0..5 {
        assert_eq!(boot(&url, &file), 0x45);
    }
    assert_eq!(sim.events_named("auth_accepted").len(), 1);
    assert_eq!(sim.events_named("uplink_accepted").len(), 5);
    // A garbled file: a normal auth, and a good file again.
    std::fs::write(&file, b"garbage").unwrap();
    assert_eq!(boot(&url, &file), 0x45);
    assert_eq!(sim.events_named("auth_accepted").len(), 2);
    assert_eq!(sim.events_named("uplink_rejected").len(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
