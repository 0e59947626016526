//! The C API from C: the programs in tests/c are compiled against
//! libiotx_coap.a and the reference Linux HAL, then run against the
//! emulator, each with a hard timeout so a deadlock fails instead of hanging.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Sim, TempDir};

/// Builds the library and emulator, then compiles `tests/c/<name>.c`.
fn build_c(dir: &TempDir, name: &str) -> PathBuf {
    common::build_lib_and_sim();
    let src = common::workspace_root()
        .join("tests/c")
        .join(format!("{name}.c"));
    let exe = dir.join(name);
    common::compile_c(&exe, &[src.as_path()], &[]);
    exe
}

fn misuse_command(exe: &Path, sim: &Sim, valgrind: bool) -> Command {
    if valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite",
        ])
        .arg(exe)
        .arg(sim.plain_url());
        c
    } else {
        let mut c = Command::new(exe);
        c.arg(sim.plain_url());
        c
    }
}

fn run_misuse(valgrind: bool) {
    let dir = TempDir::new("misuse");
    let exe = build_c(&dir, "misuse");
    let sim = Sim::start(&["--device", &common::test_device()]);
    let timeout = Duration::from_secs(if valgrind { 300 } else { 60 });
    let run = common::run_with_timeout(&mut misuse_command(&exe, &sim, valgrind), timeout);
    assert!(
        !run.timed_out(),
        "misuse hung:\n{}\n{}",
        run.describe(),
        sim.describe()
    );
    if valgrind {
        assert_ne!(
            run.status.and_then(|s| s.code()),
            Some(99),
            "valgrind reported errors:\n{}",
            run.describe()
        );
    }
    assert!(run.success(), "misuse failed:\n{}", run.describe());
    let summary = run
        .stdout
        .lines()
        .find(|l| l.starts_with("misuse: "))
        .unwrap_or_else(|| panic!("no summary line:\n{}", run.describe()));
    assert!(
        summary.ends_with(" passed, 0 failed") && !summary.starts_with("misuse: 0 passed"),
        "unexpected summary {summary:?}:\n{}",
        run.describe()
    );
}

#[test]
fn misuse() {
    run_misuse(false);
}

#[test]
fn misuse_under_valgrind() {
    let have = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        have,
        "valgrind is not installed: this test needs it (CI installs it; locally: apt-get install valgrind)"
    );
    run_misuse(true);
}

// Must match DEVICE_A_* / DEVICE_B_* in tests/c/two_contexts.c.
const A: (&str, &str, &str) = (
    "a1PlainPK01",
    "devPlainA",
    "plainSecretAplainSecretAplainSec",
);
const B: (&str, &str, &str) = ("a1PskPK0002", "devPskB", "pskSecretBpskSecretBpskSecretBps");
const UPLINKS: usize = 10;
const REPLY: &str = r#"{"reply":"two_contexts"}"#;

#[test]
fn two_contexts_each_line_attributed() {
    let dir = TempDir::new("two_contexts");
    let exe = build_c(&dir, "two_contexts");
    let dev = |d: (&str, &str, &str)| format!("{}:{}:{}", d.0, d.1, d.2);
    let sim = Sim::start(&[
        "--device",
        &dev(A),
        "--device",
        &dev(B),
        "--reply-payload",
        REPLY,
    ]);
    let run = common::run_with_timeout(
        Command::new(&exe).args([sim.plain_url(), sim.psk_url(), REPLY.to_owned()]),
        Duration::from_secs(90),
    );
    assert!(
        run.success(),
        "two_contexts failed:\n{}\n{}",
        run.describe(),
        sim.describe()
    );

    // The emulator may still be writing its last lines.
    let uplinks = |lines: &[serde_json::Value]| {
        lines
            .iter()
            .filter(|v| v["event"] == "uplink_accepted")
            .cloned()
            .collect::<Vec<_>>()
    };
    sim.wait_for_log(Duration::from_secs(5), |l| uplinks(l).len() >= 2 * UPLINKS);
    let lines = uplinks(&sim.log_lines());

    for (device, listener) in [(A, "plain"), (B, "psk")] {
        let (pk, dn, _) = device;
        let topic = format!("/{pk}/{dn}/update");
        // payload -> times seen, for this device's topic.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for v in lines.iter().filter(|v| v["topic"] == topic.as_str()) {
            assert_eq!(v["deviceName"], dn, "wrong device for {topic}: {v}");
            assert_eq!(v["productKey"], pk, "wrong product for {topic}: {v}");
            assert_eq!(v["listener"], listener, "wrong listener for {topic}: {v}");
            let payload = v["payload"]
                .as_str()
                .unwrap_or_else(|| panic!("no payload: {v}"));
            *seen.entry(payload.to_owned()).or_default() += 1;
        }
        let want: BTreeMap<String, usize> = (0..UPLINKS)
            .map(|i| (format!(r#"{{"device":"{dn}","n":{i}}}"#), 1))
            .collect();
        assert_eq!(
            seen,
            want,
            "uplinks of {pk}/{dn} (payload -> count)\n{}",
            sim.describe()
        );
    }
    assert_eq!(
        lines.len(),
        2 * UPLINKS,
        "uplinks on other topics:\n{}",
        sim.describe()
    );
}

/// The emulator (test device) and its URL for `mode` ("plain", "psk",
/// "dtls"); for DTLS, the CA file the reference HAL must trust.
fn sim_for(dir: &TempDir, mode: &str) -> (Sim, String, PathBuf) {
    let ca = dir.join("ca.pem");
    let sim = Sim::start(&[
        "--device",
        &common::test_device(),
        "--ca-out",
        ca.to_str().unwrap(),
    ]);
    let url = match mode {
        "plain" => sim.plain_url(),
        "psk" => sim.psk_url(),
        _ => format!("coaps://{}", sim.dtls.as_deref().expect("DTLS listener")),
    };
    (sim, url, ca)
}

fn run_threads(mode: &str) {
    let dir = TempDir::new("threads");
    let exe = build_c(&dir, "threads");
    let (sim, url, ca) = sim_for(&dir, mode);
    let run = common::run_with_timeout(
        Command::new(&exe).arg(url).env("IOTX_DTLS_CA_FILE", &ca),
        Duration::from_secs(120),
    );
    assert!(
        !run.timed_out(),
        "threads did not finish in 120 s (deadlock?):\n{}",
        run.describe()
    );
    assert!(
        run.success(),
        "threads failed:\n{}\n{}",
        run.describe(),
        sim.describe()
    );
    assert!(run.stdout.contains("threads: PASS"), "{}", run.describe());

    // Each of the 500 messages reached the platform exactly once (the
    // emulator logs retransmitted copies as "duplicate", not here).
    let accepted =
        |l: &[serde_json::Value]| l.iter().filter(|v| v["event"] == "uplink_accepted").count();
    sim.wait_for_log(Duration::from_secs(5), |l| accepted(l) >= 500);
    let lines = sim.events("uplink_accepted");
    let from = |who: &str| {
        let p = format!(r#"{{"from":"{who}"}}"#);
        lines.iter().filter(|v| v["payload"] == p.as_str()).count()
    };
    let listener = mode;
    assert!(
        lines.iter().all(|v| v["listener"] == listener),
        "uplinks on the wrong listener:\n{}",
        sim.describe()
    );
    assert_eq!(lines.len(), 500, "{}", sim.describe());
    assert_eq!(from("sender"), 400, "{}", sim.describe());
    assert_eq!(from("callback") + from("main"), 100, "{}", sim.describe());
    assert!(from("callback") > 0, "no send from inside a callback");
}

#[test]
fn threads_500_messages() {
    run_threads("plain");
}

/// The same over PSK, where every send encrypts and every response is
/// decrypted under the context's lock.
#[test]
fn threads_500_messages_psk() {
    run_threads("psk");
}

/// The same over DTLS, where one HAL session serves the Yield thread's
/// reads and the senders' writes.
#[test]
fn threads_500_messages_dtls() {
    run_threads("dtls");
}

/// A sender never waits for another thread's Yield (2 s wait): each
/// `IOT_CoAP_SendMessage` returns long before that Yield would (the bound
/// is a quarter of it: this checks who waits for whom, not speed), in
/// every mode; all 20 uplinks are answered.
fn run_send_during_yield(mode: &str) {
    let dir = TempDir::new("send-during-yield");
    let exe = build_c(&dir, "send_during_yield");
    let (sim, url, ca) = sim_for(&dir, mode);
    let run = common::run_with_timeout(
        Command::new(&exe).arg(url).env("IOTX_DTLS_CA_FILE", &ca),
        Duration::from_secs(120),
    );
    assert!(
        run.success(),
        "{mode}:\n{}\n{}",
        run.describe(),
        sim.describe()
    );
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("send_during_yield: 20/20 answered"))
        .unwrap_or_else(|| panic!("{mode}: {}", run.describe()));
    let longest: f64 = line
        .split("longest SendMessage ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{mode}: no figure in {line:?}"));
    println!("{mode}: {line}");
    assert!(
        longest < 500.0,
        "{mode}: a sender waited for the Yield: {line}"
    );
}

#[test]
fn send_never_waits_for_yield_plain() {
    run_send_during_yield("plain");
}

#[test]
fn send_never_waits_for_yield_psk() {
    run_send_during_yield("psk");
}

#[test]
fn send_never_waits_for_yield_dtls() {
    run_send_during_yield("dtls");
}
