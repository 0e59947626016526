//! `IOT_CoAP_SetTransmission` through the C ABI (tests/c/transmission.c):
//! defaults, refused values, and settings that take effect, shown by
//! timing the retransmissions that reach a peer that never answers.

mod common;

use std::net::UdpSocket;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::TempDir;

/// When a datagram reached the silent peer, and its bytes.
type Arrival = (Instant, Vec<u8>);

#[test]
fn c_setter_validates_and_times_retransmissions() {
    let dir = TempDir::new("transmission");
    let exe = common::c_test_program(&dir, "transmission");

    // Bound, never answering: every datagram is timed, none answered.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    silent
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let arrivals: Arc<Mutex<Vec<Arrival>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listener = {
        let (arrivals, stop) = (arrivals.clone(), stop.clone());
        thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(n) = silent.recv(&mut buf) {
                    arrivals
                        .lock()
                        .unwrap()
                        .push((Instant::now(), buf[..n].to_vec()));
                }
            }
        })
    };
    let run = common::run_with_timeout(
        Command::new(&exe).arg(format!("coap://127.0.0.1:{port}")),
        Duration::from_secs(60),
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    listener.join().unwrap();
    assert!(run.success(), "{}", run.describe());
    assert!(
        run.stdout.contains("transmission: ") && run.stdout.contains(" passed, 0 failed"),
        "{}",
        run.stdout
    );

    // Group the datagrams by auth request (its message id, bytes 2..4):
    // each group is one request and its retransmissions.
    let arrivals = arrivals.lock().unwrap();
    let mut groups: Vec<(u16, Vec<Instant>)> = Vec::new();
    for (at, d) in arrivals.iter() {
        let mid = u16::from_be_bytes([d[2], d[3]]);
        match groups.last_mut() {
            Some((m, times)) if *m == mid => times.push(*at),
            _ => groups.push((mid, vec![*at])),
        }
    }
    let gaps: Vec<Vec<u64>> = groups
        .iter()
        .map(|(_, t)| {
            t.windows(2)
                .map(|w| (w[1] - w[0]).as_millis() as u64)
                .collect()
        })
        .collect();
    eprintln!("retransmission gaps (ms) per auth: {gaps:?}");
    // auth 1: ACK_TIMEOUT 300, factor 1.0, 3 retransmissions; auth 2: 500,
    // 1; auth 3: adaptive from 400 (no sample: silence), 2.
    let expected: [&[u64]; 3] = [&[300, 600, 1200], &[500], &[400, 800]];
    assert_eq!(gaps.len(), 3, "three auths: {gaps:?}");
    for (got, want) in gaps.iter().zip(expected) {
        assert_eq!(got.len(), want.len(), "{gaps:?}");
        for (g, w) in got.iter().zip(want) {
            // Never early; late by at most one scheduling slice.
            assert!(
                *g + 5 >= *w && *g <= *w + 120,
                "gap {g} ms, want {w}: {gaps:?}"
            );
        }
    }
}
