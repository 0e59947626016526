//! A URL whose scheme does not match the endpoint's port gets one error line
//! that names the likely cause, through the C ABI against the emulator:
//! `coap-psk://` to the plain listener (a 2.05 without PSK parameters),
//! `coap://` to the PSK listener (which refuses an auth without `seq` with
//! 4.00), `coaps://` to a plain listener (a failed handshake). A plain session
//! answered 2.05 with PSK parameters is covered by the session's unit
//! tests: the emulator never answers so.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Sim, TempDir};

fn run(exe: &std::path::Path, url: &str) -> String {
    let run = common::run_with_timeout(
        Command::new(exe)
            .arg(url)
            // The reference HAL's DTLS handshake bound (default 10 s).
            .env("IOTX_DTLS_HANDSHAKE_TIMEOUT_MS", "1500"),
        Duration::from_secs(60),
    );
    assert!(run.success(), "{url}: {}", run.describe());
    run.stdout
}

/// The error lines of `out`, each checked to appear once.
fn error_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with("[err]")).collect()
}

#[test]
fn wrong_scheme_for_the_port_says_so() {
    let dir = TempDir::new("mismatch");
    let exe = common::c_test_program(&dir, "mismatch");
    let sim = Sim::start(&["--device", &common::test_device()]);
    let plain = sim.plain_url().trim_start_matches("coap://").to_string();
    let psk = sim.psk_url().trim_start_matches("coap-psk://").to_string();
    let port = |addr: &str| addr.rsplit(':').next().unwrap().to_string();

    let cases = [
        (
            format!("coap-psk://{plain}"),
            "auth rc=",
            " sent no PSK parameters: a coap:// port?".to_string(),
        ),
        (
            format!("coap://{psk}"),
            "auth rc=",
            " expects PSK: a coap-psk:// port?".to_string(),
        ),
        (
            format!("coaps://{plain}"),
            "init failed",
            ": wrong CA, or not a coaps:// port?".to_string(),
        ),
    ];
    for (url, outcome, hint) in cases {
        let out = run(&exe, &url);
        assert!(
            out.contains(outcome),
            "{url}: expected '{outcome}' in:\n{out}"
        );
        let errors = error_lines(&out);
        assert_eq!(errors.len(), 1, "{url}: one error line expected:\n{out}");
        assert!(
            errors[0].contains(&hint),
            "{url}: no hint '{hint}' in:\n{out}"
        );
        let addr = url.split("://").nth(1).unwrap();
        assert!(
            errors[0].contains(&format!("127.0.0.1 port {}", port(addr))),
            "{url}: the line names the endpoint:\n{out}"
        );
    }
}
