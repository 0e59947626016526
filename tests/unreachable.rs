//! A wrong port fails fast; a silent network keeps the RFC 7252 schedule.
//!
//! Over plain UDP, a datagram to a port nobody listens on comes back as
//! "port unreachable", which a connected socket reports on the next
//! receive. The client takes the second such refusal while a request waits
//! as "nobody listens": the auth fails within seconds, named as such, with
//! one RECV_FAILED, instead of after the whole retransmission schedule
//! (~45-93 s). A network that drops datagrams silently raises no error and
//! gets the full schedule.

mod common;

use std::net::UdpSocket;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::rust_api::client;
use common::TempDir;
use iotx_coap::client::{AuthError, ClientEvent};
use iotx_coap::core::url::Security;

/// The tests here run one at a time: a port one of them just released must
/// not be handed to another's silent socket while it counts as closed.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A loopback port with nothing bound to it (bound once, then released).
fn closed_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn closed_port_fails_the_auth_fast_with_one_recv_failed() {
    let _one_at_a_time = serial();
    for (scheme, sec) in [("coap", Security::Plain), ("coap-psk", Security::Psk)] {
        let c = client(
            &format!("{scheme}://127.0.0.1:{}", closed_port()),
            sec,
            |_| {},
        );
        let started = Instant::now();
        let mut recv_failed = 0;
        let r = c.authenticate(&mut |e| {
            if matches!(e, ClientEvent::RecvFailed(_)) {
                recv_failed += 1;
            }
        });
        let took = started.elapsed();
        assert_eq!(r, Err(AuthError::Unreachable), "{scheme}");
        assert_eq!(recv_failed, 1, "{scheme}: one RECV_FAILED per outage");
        // The bound; it takes the first retransmission (2-3 s).
        assert!(took <= Duration::from_secs(5), "{scheme}: took {took:?}");
    }
}

#[test]
fn silent_network_keeps_the_retransmission_schedule() {
    let _one_at_a_time = serial();
    // Bound, never answering: no refusal ever comes back.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let c = client(
        &format!("coap://127.0.0.1:{port}"),
        Security::Plain,
        |cfg| {
            cfg.ack_timeout_ms = 50;
        },
    );
    let mut recv_failed = 0;
    let r = c.authenticate(&mut |e| {
        if matches!(e, ClientEvent::RecvFailed(_)) {
            recv_failed += 1;
        }
    });
    assert_eq!(r, Err(AuthError::Rejected(None)));
    assert_eq!(recv_failed, 0);
    let st = c.stats();
    assert_eq!(
        st.retransmissions, 4,
        "every RFC 7252 retransmission was spent"
    );
    let mut buf = [0u8; 2048];
    silent.set_nonblocking(true).unwrap();
    let mut received = 0;
    while silent.recv(&mut buf).is_ok() {
        received += 1;
    }
    assert_eq!(
        received, 5,
        "the request and its four retransmissions reached the peer"
    );
}

/// Through the C ABI: `IOT_CoAP_DeviceNameAuth` fails within 5 s, the error
/// line names the host and port, `event_handle` sees RECV_FAILED once.
#[test]
fn c_api_names_the_unreachable_endpoint() {
    let _one_at_a_time = serial();
    let dir = TempDir::new("unreachable");
    let exe = common::c_test_program(&dir, "unreachable");
    for scheme in ["coap", "coap-psk"] {
        let port = closed_port();
        let url = format!("{scheme}://127.0.0.1:{port}");
        let run = common::run_with_timeout(Command::new(&exe).arg(&url), Duration::from_secs(60));
        assert!(run.success(), "{url}: {}", run.describe());
        let expected = format!(
            "[err] iotx-coap: nothing answers at 127.0.0.1 port {port}: port unreachable \
             (wrong host, port or scheme?)"
        );
        assert!(
            run.stdout.contains(&expected),
            "{url}: no '{expected}' in:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("recv_failed=1 "),
            "{url}:\n{}",
            run.stdout
        );
    }
}
