//! The Rust API's side of the tests: the emulator in process with the test
//! device, and a `Client` over `StdPlatform` for it.

use iotx_coap::client::Client;
use iotx_coap::core::session::Config;
use iotx_coap::core::url::{self, Security};
use iotx_coap::platform::std_udp::StdPlatform;
use iotx_coap_sim::{SimConfig, SimHandle};

use super::{TEST_DN, TEST_DS, TEST_PK};

/// The emulator with the test device, no DTLS listener, then `tweak`.
pub fn sim(tweak: impl FnOnce(SimConfig) -> SimConfig) -> SimHandle {
    let cfg = SimConfig {
        dtls_port: None,
        ..SimConfig::default().device(TEST_PK, TEST_DN, TEST_DS)
    };
    iotx_coap_sim::start(tweak(cfg)).expect("emulator")
}

/// The URL of `sim`'s listener for `sec` (plain or PSK).
pub fn url(sim: &SimHandle, sec: Security) -> String {
    match sec {
        Security::Psk => format!("coap-psk://{}", sim.psk_addr()),
        _ => format!("coap://{}", sim.plain_addr()),
    }
}

/// A client of the test device for `url`, its config changed by `tweak`.
pub fn client(
    url: &str,
    sec: Security,
    tweak: impl FnOnce(&mut Config),
) -> Client<StdPlatform, u32> {
    let mut cfg = Config::new(TEST_PK, TEST_DN, TEST_DS, sec);
    tweak(&mut cfg);
    Client::connect(StdPlatform::new(), url::parse(url).unwrap(), cfg, 100).expect("connect")
}
