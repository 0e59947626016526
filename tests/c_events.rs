//! `event_handle` through the C ABI (tests/c/events.c): AUTH_FAILED for a
//! refused device; RECV_FAILED and SEND_FAILED (carrying the message's
//! user_data) after the emulator is killed mid-session. Takes about as long
//! as RFC 7252's retransmission schedule (up to ~93 s).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Sim, TempDir};

#[test]
fn auth_recv_and_send_failures_reach_event_handle() {
    let dir = TempDir::new("events");
    let exe = common::c_test_program(&dir, "events");

    let sim = Sim::start(&["--device", &common::test_device()]);
    let mut child = Command::new(&exe)
        .arg(sim.plain_url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start events");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) if l == "READY" => break,
            Ok(l) => out.push(l),
            Err(_) => {
                let _ = child.kill();
                panic!("no READY from events; output so far: {out:?}");
            }
        }
    }
    drop(sim); // the platform goes away
    child.stdin.take().unwrap().write_all(b"GO\n").unwrap();
    let status = common::wait_or_kill(&mut child, Duration::from_secs(200));
    // The reader ends at EOF; take everything it read.
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(5)) {
        out.push(l);
    }
    assert!(
        status.is_some_and(|s| s.success()),
        "events failed: {out:#?}"
    );
    for want in [
        "AUTH_FAILED ok",
        "SEND_FAILED ok (user_data is the message's)",
        "events: all passed",
    ] {
        assert!(
            out.iter().any(|l| l == want),
            "missing {want:?} in {out:#?}"
        );
    }
}
