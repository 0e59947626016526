//! A server that answers falsely, and teardown at awkward moments, through
//! the C ABI (tests/c/hostile.c) under valgrind: nothing false reaches the
//! application, and every message gets exactly one outcome.
//!
//! The server here is a plain-CoAP fake on loopback: it accepts the auth
//! with a fixed token and answers uplinks as each scenario says, bad
//! datagrams first and the true answer after.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use coap_lite::{MessageClass, MessageType, Packet, ResponseType};
use common::TempDir;
use iotx_coap_testkit::coap::ack;

/// How the fake server answers.
#[derive(Clone, Copy, PartialEq)]
enum Server {
    /// For each uplink: a 3,000-byte 2.05 (larger than any receive buffer),
    /// a 0.01 request code in an ACK, a 2.05 whose payload marker has no
    /// payload; then the true 2.05 "ok".
    BadThenTrue,
    /// The true 2.05 "ok" for each uplink, all three sent together.
    TrueBurst,
    /// Accepts the auth, answers nothing after it.
    Silent,
    /// Refuses the auth with 4.03.
    RefuseAuth,
    /// Accepts the auth with a 1,300-character token, too long for any
    /// uplink's option.
    LongToken,
}

struct FakeServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    fn start(mode: Server) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || serve(&sock, mode, &flag));
        FakeServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("coap://{}", self.addr)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn content() -> MessageClass {
    MessageClass::Response(ResponseType::Content)
}

fn serve(sock: &UdpSocket, mode: Server, stop: &AtomicBool) {
    let mut buf = [0u8; 2048];
    let mut uplinks = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let Ok((n, peer)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let Ok(req) = Packet::from_bytes(&buf[..n]) else {
            continue;
        };
        if req.header.get_type() != MessageType::Confirmable {
            continue;
        }
        let is_auth = req
            .get_option(coap_lite::CoapOption::UriPath)
            .is_some_and(|p| p.iter().any(|s| s == b"auth"));
        let send = |d: &[u8]| {
            sock.send_to(d, peer).unwrap();
        };
        if is_auth {
            if mode == Server::RefuseAuth {
                send(&ack(
                    &req,
                    MessageClass::Response(ResponseType::Forbidden),
                    b"",
                ));
            } else if mode == Server::LongToken {
                // Past MAX_AUTH_TOKEN_LEN (512), within a datagram the
                // client takes (1,280 bytes).
                let body = format!(r#"{{"token":"{}"}}"#, "t".repeat(600));
                send(&ack(&req, content(), body.as_bytes()));
            } else {
                send(&ack(&req, content(), br#"{"token":"hostile-test-token"}"#));
            }
            continue;
        }
        match mode {
            Server::BadThenTrue => {
                send(&ack(&req, content(), &vec![b'x'; 3000]));
                let mut request_code = ack(&req, content(), b"request code");
                request_code[1] = 0x01;
                send(&request_code);
                let mut marker_only = ack(&req, content(), b"");
                marker_only.push(0xff);
                send(&marker_only);
                send(&ack(&req, content(), b"ok"));
            }
            Server::TrueBurst => {
                if !uplinks
                    .iter()
                    .any(|u: &Packet| u.header.message_id == req.header.message_id)
                {
                    uplinks.push(req);
                }
                if uplinks.len() == 3 {
                    for u in uplinks.drain(..) {
                        send(&ack(&u, content(), b"ok"));
                    }
                }
            }
            Server::Silent | Server::RefuseAuth | Server::LongToken => {}
        }
    }
}

fn hostile_exe(dir: &TempDir) -> PathBuf {
    common::c_test_program(dir, "hostile")
}

/// Runs the scenario under valgrind (memory errors and definite leaks
/// fail it) and returns its stdout.
fn run(exe: &Path, server: &FakeServer, scenario: &str) -> String {
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--error-exitcode=99",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite",
        "--show-leak-kinds=definite",
    ])
    .arg(exe)
    .arg(server.url())
    .arg(scenario);
    let run = common::run_with_timeout(&mut cmd, Duration::from_secs(180));
    assert!(
        run.success(),
        "{scenario}: valgrind or the program failed:\n{}",
        run.describe()
    );
    run.stdout
}

fn lines<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.starts_with(prefix)).collect()
}

/// Cases 1, 2, 3 and 8 of the receive path: a datagram larger than the
/// buffer (the reference HAL reports its real length, 3,000 bytes, which
/// the library must clamp), an ACK carrying a request code, a payload
/// marker with no payload. Each is dropped, counted and named at debug
/// level; the application sees only the true answer, once per message.
#[test]
fn false_answers_are_dropped_and_the_true_one_delivered_once() {
    let dir = TempDir::new("hostile-answers");
    let exe = hostile_exe(&dir);
    let server = FakeServer::start(Server::BadThenTrue);
    let out = run(&exe, &server, "answers");
    let responses = lines(&out, "RESPONSE ");
    assert_eq!(responses.len(), 3, "{out}");
    for r in &responses {
        assert!(
            r.ends_with(" code=0x45 len=2"),
            "only the true answer: {out}"
        );
    }
    assert!(out.contains("outcomes: 1 1 1 (each exactly once)"), "{out}");
    for reason in ["truncated", "malformed"] {
        assert!(
            out.contains(&format!("datagram dropped: {reason}")),
            "no debug line for a {reason} datagram:\n{out}"
        );
    }
    // Each uplink's three bad answers are dropped: 3 truncated, 6 malformed.
    assert_eq!(
        lines(&out, "[dbg] iotx-coap: datagram dropped: truncated").len(),
        3,
        "{out}"
    );
    assert_eq!(
        lines(&out, "[dbg] iotx-coap: datagram dropped: malformed").len(),
        6,
        "{out}"
    );
}

/// Case 4: Deinit from inside a response callback while more answers wait
/// in the same Yield. No use after free (valgrind); the context takes no
/// more calls; the other messages still get exactly one outcome each.
#[test]
fn deinit_inside_a_response_callback_is_safe() {
    let dir = TempDir::new("hostile-deinit-cb");
    let exe = hostile_exe(&dir);
    let server = FakeServer::start(Server::TrueBurst);
    let out = run(&exe, &server, "deinit-in-callback");
    assert!(
        out.contains("deinit in callback: ctx NULL, Yield after it: -1"),
        "{out}"
    );
    assert!(out.contains("outcomes: 1 1 1 (each exactly once)"), "{out}");
    assert!(!lines(&out, "RESPONSE ").is_empty(), "{out}");
}

/// Case 5: Deinit with CON messages in flight: each gets SEND_FAILED with
/// its own user_data, during Deinit.
#[test]
fn deinit_reports_every_message_in_flight() {
    let dir = TempDir::new("hostile-deinit-flight");
    let exe = hostile_exe(&dir);
    let server = FakeServer::start(Server::Silent);
    let out = run(&exe, &server, "deinit-in-flight");
    let failed = lines(&out, "SEND_FAILED ");
    assert_eq!(failed.len(), 3, "{out}");
    for i in 0..3 {
        assert!(
            failed.contains(&format!("SEND_FAILED {i}").as_str()),
            "{out}"
        );
    }
    assert!(out.contains("deinit: ctx NULL"), "{out}");
    assert!(out.contains("outcomes: 1 1 1 (each exactly once)"), "{out}");
}

/// Deinit from an event handler (AUTH_FAILED, inside DeviceNameAuth).
#[test]
fn deinit_inside_an_event_handler_is_safe() {
    let dir = TempDir::new("hostile-deinit-event");
    let exe = hostile_exe(&dir);
    let server = FakeServer::start(Server::RefuseAuth);
    let out = run(&exe, &server, "deinit-in-event");
    assert!(out.contains("deinit in event: ctx NULL"), "{out}");
    assert!(out.contains("auth failed, ctx NULL"), "{out}");
}

/// Case 7: an auth answer whose token no uplink could carry fails the auth
/// at once, and says why, instead of every send failing afterwards.
#[test]
fn a_token_no_uplink_can_carry_fails_the_auth() {
    let dir = TempDir::new("hostile-long-token");
    let exe = hostile_exe(&dir);
    let server = FakeServer::start(Server::LongToken);
    let out = run(&exe, &server, "answers");
    assert!(out.contains("auth failed, ctx kept"), "{out}");
    assert!(out.contains("sent a token no uplink can carry"), "{out}");
    assert!(lines(&out, "RESPONSE ").is_empty(), "{out}");
}
