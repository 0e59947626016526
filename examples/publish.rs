//! Authenticates with the platform (or the local emulator) and publishes a
//! few confirmable uplinks, printing each answer.
//!
//! ```sh
//! cargo run -p iotx-coap-sim -- --device a1TestPK001:dev-001:s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB &
//! cargo run --example publish -- coap-psk://127.0.0.1:5682 a1TestPK001 dev-001 \
//!     s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB 3
//! ```
//!
//! Exits 0 when every uplink was answered 2.05, 1 otherwise.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use iotx_coap::client::{Client, ClientEvent, MessageType};
use iotx_coap::core::session::{Config, Event, FORMAT_JSON};
use iotx_coap::core::url;
use iotx_coap::platform::std_udp::StdPlatform;

/// 2.05 Content, as the platform answers an accepted uplink.
const CONTENT: u8 = 0x45;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, pk, dn, ds, count] = args.as_slice() else {
        eprintln!("usage: publish URL PRODUCT_KEY DEVICE_NAME DEVICE_SECRET COUNT");
        return ExitCode::from(2);
    };
    match run(url, pk, dn, ds, count.parse().unwrap_or(1)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("publish: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    url: &str,
    pk: &str,
    dn: &str,
    ds: &str,
    count: u32,
) -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = url::parse(url)?;
    let cfg = Config::new(pk, dn, ds, endpoint.security);
    let client: Client<StdPlatform, u32> = Client::connect(StdPlatform::new(), endpoint, cfg, 200)?;
    client.authenticate(&mut |_| {})?;
    let topic = format!("/topic/{pk}/{dn}/update");
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in 1..=count {
        let body = format!("{{\"n\":{n}}}");
        client
            .send(&topic, body.as_bytes(), FORMAT_JSON, MessageType::Con, n)
            .map_err(|(e, _)| e)?;
        let mut outcome = None;
        while outcome.is_none() && Instant::now() < deadline {
            client.poll(&mut |e| match e {
                ClientEvent::Session(Event::Response {
                    user,
                    code,
                    payload,
                }) if user == n => {
                    println!(
                        "uplink {n}: {}.{:02} {}",
                        code >> 5,
                        code & 0x1f,
                        String::from_utf8_lossy(&payload)
                    );
                    outcome = Some(code == CONTENT);
                }
                ClientEvent::Session(Event::SendFailed { user }) if user == n => {
                    println!("uplink {n}: no answer");
                    outcome = Some(false);
                }
                _ => {}
            });
        }
        if outcome != Some(true) {
            return Err(format!("uplink {n} was not answered 2.05").into());
        }
    }
    Ok(())
}
