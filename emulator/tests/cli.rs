//! The `iotx-coap-sim` binary: --help, the listening line, event lines, and
//! interop with libcoap's `coap-client` (Debian package libcoap3-bin).

mod common;
use common::*;

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_iotx-coap-sim");

struct Sim {
    child: Child,
    out: BufReader<ChildStdout>,
    plain: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(extra: &[&str]) -> Sim {
    let mut child = Command::new(BIN)
        .args(["--plain-port", "0", "--psk-port", "0", "--quiet"])
        .args(["--device", &format!("{PK}:{DN}:{SECRET}")])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the emulator binary");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).expect("listening line is JSON");
    assert_eq!(v["event"], "listening");
    assert!(line.starts_with(r#"{"event":"listening""#), "{line}");
    let plain = v["plain"].as_str().expect("plain address").to_string();
    assert!(v["psk"].as_str().unwrap().starts_with("127.0.0.1:"));
    Sim { child, out, plain }
}

impl Sim {
    fn next_event(&mut self) -> serde_json::Value {
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line:?}"))
    }
}

#[test]
fn help_documents_every_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--bind",
        "--plain-port",
        "--psk-port",
        "--no-plain",
        "--no-psk",
        "--device ",
        "--devices",
        "--token-ttl",
        "--accept-legacy",
        "--log",
        "--drop-in",
        "--drop-out",
        "--dup-in",
        "--dup-out",
        "--delay-in",
        "--delay-out",
        "--delay-ms",
        "--reorder-in",
        "--reorder-out",
        "--seed",
        "--auth-5xx",
        "--reply-payload",
        "--quiet",
        "--seq-offset",
        "--psk-random",
        "--dtls-port",
        "--no-dtls",
        "--ca-out",
        "--cert ",
        "--key ",
        "--chain",
        "--dtls-host",
        "--dtls-idle-timeout",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    let bad = Command::new(BIN).arg("--nope").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn binary_logs_json_events_and_log_file() {
    let dir = std::env::temp_dir().join(format!("iotx-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let devices = dir.join("devices.json");
    std::fs::write(
        &devices,
        r#"[{"productKey":"pk2","deviceName":"d2","deviceSecret":"s2","disabled":true}]"#,
    )
    .unwrap();
    let mut sim = spawn(&["--devices", devices.to_str().unwrap()]);
    let mut c = Client::new(sim.plain.parse().unwrap());
    c.auth(None);
    let e = sim.next_event();
    assert_eq!(e["event"], "auth_accepted");
    assert_eq!(e["productKey"], PK);
    assert!(e["ts_ms"].as_u64().unwrap() > 0);
    let content = "clientIdxdeviceNamed2productKeypk2";
    let body = serde_json::json!({"productKey":"pk2","deviceName":"d2","clientId":"x",
        "sign": hmac_md5("s2", content)});
    let r = c.call(auth_req(body.to_string().as_bytes(), Some(50), Some(50)));
    assert_eq!(code(&r), "4.03");
    let e = sim.next_event();
    assert_eq!(
        (e["event"].as_str(), e["code"].as_str()),
        (Some("auth_rejected"), Some("4.03"))
    );

    // --log FILE: listening still first on stdout; events in the file.
    let log = dir.join("events.jsonl");
    let sim2 = spawn(&["--log", log.to_str().unwrap()]);
    let mut c = Client::new(sim2.plain.parse().unwrap());
    c.auth(None);
    let mut found = false;
    for _ in 0..50 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text
            .lines()
            .any(|l| l.contains(r#""event":"auth_accepted""#))
        {
            found = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(found, "auth_accepted not in the --log file");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(SECRET));
    let _ = std::fs::remove_dir_all(&dir);
}

/// libcoap's coap-client binary (any TLS flavour).
fn coap_client() -> String {
    for name in [
        "coap-client",
        "coap-client-notls",
        "coap-client-gnutls",
        "coap-client-openssl",
    ] {
        if Command::new(name).arg("-h").output().is_ok() {
            return name.to_string();
        }
    }
    panic!(
        "libcoap's coap-client is not installed: this interop test needs it \
         (Debian/Ubuntu: apt-get install -y libcoap3-bin)"
    );
}

/// Runs coap-client with `-v 6` (prints the received PDU, e.g. `c:4.01`) and
/// returns stdout + stderr.
fn coap(client: &str, args: &[&str]) -> String {
    let out = Command::new(client)
        .args(["-v", "6", "-B", "5"])
        .args(args)
        .output()
        .expect("run coap-client");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn libcoap_coap_client_interop() {
    let client = coap_client();
    let sim = spawn(&[]);
    let base = format!("coap://{}", sim.plain);
    let auth_url = format!("{base}/auth");
    // Bad sign -> 4.01.
    let bad = &bad_sign_auth_json();
    let out = coap(
        &client,
        &["-m", "post", "-t", "50", "-A", "50", "-e", bad, &auth_url],
    );
    assert!(out.contains("c:4.01"), "coap-client output: {out}");
    // Wrong method -> 4.05.
    for m in ["get", "put"] {
        let out = coap(&client, &["-m", m, "-t", "50", "-e", bad, &auth_url]);
        assert!(out.contains("c:4.05"), "coap-client -m {m} output: {out}");
    }
    // A correct auth (sign computed here with the RustCrypto crates).
    let good = auth_json(None, None);
    let out = coap(
        &client,
        &["-m", "post", "-t", "50", "-A", "50", "-e", &good, &auth_url],
    );
    assert!(out.contains("c:2.05"), "coap-client output: {out}");
    let start = out.find(r#"{"token":""#).expect("token object in output") + 10;
    let token = &out[start..start + 32];
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    // Uplink with the token in option 2088 -> 2.05 (with option 2090).
    let topic_url = format!("{base}/topic/{PK}/{DN}/update");
    let opt = format!("2088,{token}");
    let out = coap(
        &client,
        &[
            "-m",
            "post",
            "-t",
            "50",
            "-A",
            "50",
            "-O",
            &opt,
            "-e",
            r#"{"t":21.5}"#,
            &topic_url,
        ],
    );
    assert!(out.contains("c:2.05"), "coap-client output: {out}");
    assert!(out.contains("2090:"), "no option 2090: {out}");
    // Without the token -> 4.01.
    let out = coap(&client, &["-m", "post", "-t", "50", "-e", "x", &topic_url]);
    assert!(out.contains("c:4.01"), "coap-client output: {out}");
}

#[test]
fn sigterm_logs_stats_and_exits_0() {
    let mut sim = spawn(&[]);
    let mut c = Client::new(sim.plain.parse().unwrap());
    c.auth(None);
    assert_eq!(sim.next_event()["event"], "auth_accepted");
    let pid = sim.child.id().to_string();
    let st = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(st.success());
    let stats = sim.next_event();
    assert_eq!(stats["event"], "stats");
    assert_eq!(stats["auth_ok"], 1);
    assert_eq!(stats["received"], 1);
    let status = sim.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn unread_stdout_never_stalls_the_listener() {
    // Nobody reads the events: the pipe fills up, the emulator keeps serving.
    let sim = spawn(&[]);
    let mut c = Client::new(sim.plain.parse().unwrap());
    let bad = auth_req(
        b"{not json at all, just a long enough body to make a long reason}",
        Some(50),
        Some(50),
    );
    for _ in 0..1500 {
        let r = c.call(bad.clone());
        assert_eq!(code(&r), "4.00");
    }
    assert!(c.auth(None)["token"].is_string());
}

/// Starts the binary with `args`, waits for the listening line (or exit),
/// stops it and returns (exit success, stdout, stderr).
fn run_briefly(args: &[&str]) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the emulator binary");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    let _ = out.read_line(&mut first);
    let _ = child.kill();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status.success(), first, err)
}

#[test]
fn warns_when_no_device_is_registered() {
    let ports = ["--plain-port", "0", "--psk-port", "0", "--no-dtls"];
    let (_, listening, err) = run_briefly(&ports);
    assert!(
        listening.starts_with(r#"{"event":"listening""#),
        "{listening}"
    );
    assert!(
        err.contains("warning: no device registered") && err.contains("--device PK:DN:SECRET"),
        "stderr: {err}"
    );
    let device = format!("{PK}:{DN}:{SECRET}");
    let with_device = [&ports[..], &["--device", &device]].concat();
    let (_, _, err) = run_briefly(&with_device);
    assert!(!err.contains("no device registered"), "stderr: {err}");
}

#[test]
fn bind_error_names_the_address_and_port() {
    let busy = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let device = format!("{PK}:{DN}:{SECRET}");
    let args = [
        "--plain-port",
        &port,
        "--psk-port",
        "0",
        "--no-dtls",
        "--device",
        &device,
    ];
    let (ok, stdout, err) = run_briefly(&args);
    assert!(!ok, "must fail to start; stdout: {stdout}");
    assert!(stdout.is_empty(), "no listening line: {stdout}");
    assert!(
        err.contains(&format!(
            "cannot bind the plain listener to 127.0.0.1 port {port}"
        )) && err.contains("in use"),
        "stderr: {err}"
    );
}
