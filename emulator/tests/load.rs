//! The load generator runs against the emulator and libcoap's
//! `coap-server-notls` side by side and reports both (figures are not
//! checked here: the machine is shared; see the README for them).

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_iotx-coap-load");

#[test]
fn reports_the_emulator_and_coap_server_side_by_side() {
    let out = Command::new(BIN)
        .args([
            "--devices",
            "20",
            "--seconds",
            "0.5",
            "--auth-tokens",
            "2000",
        ])
        .output()
        .expect("run iotx-coap-load");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{text}\nstderr:\n{err}");
    for row in [
        "iotx-coap-sim      /auth:",
        "iotx-coap-sim      uplink:",
        "coap-server-notls  uplink:",
        "uplink rate, emulator / coap-server-notls:",
        "/auth while the store grows to",
    ] {
        assert!(text.contains(row), "no {row:?} in:\n{text}");
    }
    // Every auth and uplink was answered 2.05 by the emulator (and 2.01 or
    // 2.04 by libcoap); nothing failed.
    let sim_auth = text.lines().find(|l| l.contains("/auth:")).unwrap();
    assert!(sim_auth.contains("(20 auths; 2.05:20)"), "{sim_auth}");
    assert!(!text.contains("failed:"), "{text}");
    assert!(text.contains("2.04:"), "{text}");
}

#[test]
fn help_and_bad_arguments() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--devices", "--rate", "--target", "--auth-tokens"] {
        assert!(help.contains(flag), "{flag} not in --help");
    }
    let out = Command::new(BIN).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
