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
    common::require_valgrind();
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

/// The shape of a `threads` run (tests/c/threads.c): Yield threads,
/// sender threads, messages per sender; the response callback adds 100.
struct Shape {
    yielders: u32,
    senders: u32,
    per_sender: u32,
}

impl Shape {
    fn total(&self) -> usize {
        (self.senders * self.per_sender + 100) as usize
    }
}

/// Several Yield threads: the vendor guide has firmware call Yield
/// wherever it needs to receive data, so two receivers on one context are
/// normal (issue 17: with two of them, a DTLS session deadlocked).
const MULTI_READER: Shape = Shape {
    yielders: 3,
    senders: 4,
    per_sender: 100,
};

/// One `threads` run in `mode` against a fresh emulator, killed after
/// `timeout` (a hang is a failure, not a stuck test): every message
/// answered once, and each reached the platform exactly once.
/// Under helgrind with `helgrind` (its exit code 99 on any report).
fn run_threads_once(
    dir: &TempDir,
    exe: &Path,
    mode: &str,
    shape: &Shape,
    timeout: Duration,
    helgrind: bool,
) {
    let (sim, url, ca) = sim_for(dir, mode);
    let mut cmd = if helgrind {
        let supp = common::workspace_root().join("tests/helgrind.supp");
        let mut c = Command::new("valgrind");
        c.args(["--tool=helgrind", "--error-exitcode=99"])
            .arg(format!("--suppressions={}", supp.display()))
            .arg(exe);
        c
    } else {
        Command::new(exe)
    };
    let run = common::run_with_timeout(
        cmd.arg(url)
            .args([shape.yielders, shape.senders, shape.per_sender].map(|n| n.to_string()))
            .env("IOTX_DTLS_CA_FILE", &ca),
        timeout,
    );
    assert_ne!(
        run.status.and_then(|s| s.code()),
        Some(99),
        "{mode}: helgrind reported errors:\n{}",
        run.describe()
    );
    assert!(
        !run.timed_out(),
        "{mode}: threads did not finish in {timeout:?} (deadlock?):\n{}",
        run.describe()
    );
    assert!(
        run.success(),
        "{mode}: threads failed:\n{}\n{}",
        run.describe(),
        sim.describe()
    );
    assert!(run.stdout.contains("threads: PASS"), "{}", run.describe());
    println!(
        "{mode}: {:?}: {}",
        run.elapsed,
        run.stdout
            .lines()
            .find(|l| l.starts_with("threads: ") && l.contains("responses"))
            .unwrap_or("")
    );

    // The emulator logs retransmitted copies as "duplicate", not here.
    let total = shape.total();
    let accepted =
        |l: &[serde_json::Value]| l.iter().filter(|v| v["event"] == "uplink_accepted").count();
    sim.wait_for_log(Duration::from_secs(5), |l| accepted(l) >= total);
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
    assert_eq!(lines.len(), total, "{}", sim.describe());
    assert_eq!(
        from("sender"),
        (shape.senders * shape.per_sender) as usize,
        "{}",
        sim.describe()
    );
    assert_eq!(from("callback") + from("main"), 100, "{}", sim.describe());
    assert!(from("callback") > 0, "no send from inside a callback");
}

fn run_threads(mode: &str, shape: &Shape, runs: usize, timeout: Duration) {
    let dir = TempDir::new("threads");
    let exe = build_c(&dir, "threads");
    for _ in 0..runs {
        run_threads_once(&dir, &exe, mode, shape, timeout, false);
    }
}

#[test]
fn threads_500_messages() {
    run_threads("plain", &MULTI_READER, 1, Duration::from_secs(120));
}

/// The same over PSK, where every send encrypts and every response is
/// decrypted under the context's lock.
#[test]
fn threads_500_messages_psk() {
    run_threads("psk", &MULTI_READER, 1, Duration::from_secs(120));
}

/// The same over DTLS, where one HAL session serves the Yield threads'
/// reads and the senders' writes.
#[test]
fn threads_500_messages_dtls() {
    run_threads("dtls", &MULTI_READER, 1, Duration::from_secs(120));
}

/// Issue 17's measurement, as a test: DTLS, 3 Yield threads and 4 senders
/// with 5,000 CON messages, 5 runs; each must finish (it hung in every run
/// when two readers could clear each other's "reading" mark).
#[test]
fn threads_dtls_many_readers_5000_messages_5_runs() {
    let shape = Shape {
        yielders: 3,
        senders: 4,
        per_sender: 1250,
    };
    run_threads("dtls", &shape, 5, Duration::from_secs(90));
}

/// The multi-reader shape in every mode under helgrind: no lock taken in
/// two orders, no unguarded access from two threads (a few seconds each).
#[test]
fn threads_under_helgrind() {
    common::require_valgrind();
    let dir = TempDir::new("threads-helgrind");
    let exe = build_c(&dir, "threads");
    for mode in ["dtls", "psk", "plain"] {
        run_threads_once(
            &dir,
            &exe,
            mode,
            &MULTI_READER,
            Duration::from_secs(300),
            true,
        );
    }
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
