//! Fault injection statistics for a fixed seed, and malformed datagrams.

mod common;
use common::*;

use std::time::{Duration, Instant};

use iotx_coap_sim::{FaultRates, Stats};

const N: u32 = 600;

/// Sends N NON requests (to a path that yields 4.04) and collects what comes
/// back within a short grace period.
fn run(faults: Faults, seed: u64) -> (Stats, usize) {
    let s = sim(SimConfig::default().faults(faults).seed(seed));
    let mut c = Client::new(s.plain_addr());
    // Read concurrently so the client's receive buffer never overflows.
    let reader = c.sock.try_clone().unwrap();
    reader
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done2 = done.clone();
    let counter = std::thread::spawn(move || {
        let mut got = 0usize;
        let mut buf = [0u8; 2048];
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            match reader.recv_from(&mut buf) {
                Ok(_) => got += 1,
                Err(_) if done2.load(std::sync::atomic::Ordering::SeqCst) => break,
                Err(_) => {}
            }
        }
        got
    });
    for _ in 0..N {
        let mut p = request(coap_lite::RequestType::Post, "/nothing");
        p.header.set_type(coap_lite::MessageType::NonConfirmable);
        p.header.message_id = c.next_mid();
        c.send(&p);
        // Pace the traffic so no kernel buffer overflows.
        std::thread::sleep(Duration::from_micros(200));
    }
    // Wait until the emulator has seen everything (delayed/held ones included).
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.stats().received < N as u64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let got = counter.join().unwrap();
    (s.stop(), got)
}

fn within(n: u64, p: f64, total: u64) -> bool {
    let expect = p * total as f64;
    let tol = 5.0 * (total as f64 * p * (1.0 - p)).sqrt() + 3.0;
    (n as f64 - expect).abs() <= tol
}

#[test]
fn fault_statistics_fixed_seed() {
    let faults = Faults {
        inbound: FaultRates {
            drop: 0.2,
            dup: 0.1,
            delay: 0.1,
            reorder: 0.05,
        },
        outbound: FaultRates {
            drop: 0.1,
            dup: 0.1,
            delay: 0.0,
            reorder: 0.0,
        },
        delay: Duration::from_millis(50),
        link: None,
    };
    let (a, got_a) = run(faults.clone(), 7);
    assert_eq!(a.received, N as u64);
    let i = a.inbound;
    assert!(within(i.dropped, 0.2, N as u64), "{a:?}");
    let passed = N as u64 - i.dropped;
    assert!(within(i.duplicated, 0.1, passed), "{a:?}");
    assert!(within(i.delayed, 0.1, passed), "{a:?}");
    assert!(i.reordered > 0 && i.reordered <= passed / 10, "{a:?}");
    // Each delivered request is handled once (duplicates are dedup hits).
    let handled = passed;
    assert_eq!(a.other_rejected, handled, "{a:?}");
    assert_eq!(a.duplicates, i.duplicated, "{a:?}");
    // Every response (and each replay) went through the outbound faults.
    let out_total = handled + a.duplicates;
    assert!(within(a.outbound.dropped, 0.1, out_total), "{a:?}");
    assert!(
        within(a.outbound.duplicated, 0.1, out_total - a.outbound.dropped),
        "{a:?}"
    );
    assert_eq!(
        a.sent,
        out_total - a.outbound.dropped + a.outbound.duplicated
    );
    assert_eq!(got_a as u64, a.sent);
    // Same seed, same traffic: the same faults.
    let (b, _) = run(faults.clone(), 7);
    assert_eq!(a.inbound, b.inbound);
    assert_eq!(a.outbound, b.outbound);
    // Another seed: (almost surely) different.
    let (c, _) = run(faults, 8);
    assert_ne!((a.inbound, a.outbound), (c.inbound, c.outbound));
}

#[test]
fn malformed_datagrams_counted_and_survived() {
    let s = sim(SimConfig::default().seed(1));
    let mut c = Client::new(s.plain_addr());
    // A deterministic pseudo-random byte soup (xorshift), plus classic cases.
    let mut x: u64 = 0x1234_5678_9abc_def0;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut sent = 0u64;
    let mut datagrams: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x40],
        vec![0x48, 0x02, 0x00, 0x01], // token length 8, no token bytes
        vec![0x40, 0x02, 0x00, 0x01, 0xf0], // option delta 15
        vec![0x40, 0x02, 0x00, 0x01, 0x0d], // extended length missing
        vec![0x80, 0x02, 0x00, 0x01], // version 2
        vec![0x40, 0x02, 0x00, 0x01, 0xbd, 0xff], // truncated option
    ];
    for _ in 0..300 {
        let len = (next() % 64) as usize;
        datagrams.push((0..len).map(|_| next() as u8).collect());
    }
    for d in &datagrams {
        c.send_bytes(d);
        sent += 1;
        std::thread::sleep(Duration::from_micros(100));
    }
    // Drain whatever came back (RSTs, or 4.xx to soup that happened to decode).
    while c.recv_raw(Duration::from_millis(300)).is_some() {}
    let st = s.stats();
    assert_eq!(st.received, sent);
    assert!(st.malformed >= 6, "{st:?}");
    assert!(!s.events_named("malformed").is_empty());
    // Still serving.
    assert!(c.auth(None)["token"].is_string());
}

#[test]
fn undecodable_con_gets_rst() {
    let s = sim(SimConfig::default());
    let c = Client::new(s.plain_addr());
    c.send_bytes(&[0x40, 0x02, 0x12, 0x34, 0xf0]);
    let r = c.recv(Duration::from_secs(3)).expect("RST");
    assert_eq!(r.header.get_type(), coap_lite::MessageType::Reset);
    assert_eq!(r.header.message_id, 0x1234);
    assert_eq!(s.stats().malformed, 1);
}

/// `--link`: every datagram waits for the link model's delay (simulated
/// time here, so the test does not wait). An answer on loopback takes well
/// under a millisecond; over the NB-IoT profile no round trip is shorter
/// than its two one-way floors.
#[test]
fn link_model_delays_each_datagram() {
    let direct = virtual_sim(SimConfig::default().seed(3));
    let mut direct = direct;
    let p = request(coap_lite::RequestType::Post, "/nothing");
    let (fast, _) = virtual_call(&mut direct, &p, Duration::from_secs(1))
        .into_iter()
        .next()
        .expect("an answer without the link model");
    let faults = Faults {
        link: Some(iotx_coap_sim::link::LinkSpec::parse("nbiot").unwrap()),
        ..Faults::default()
    };
    let mut slow = virtual_sim(SimConfig::default().faults(faults).seed(3));
    let (at, _) = virtual_call(&mut slow, &p, Duration::from_secs(120))
        .into_iter()
        .next()
        .expect("an answer through the NB-IoT link within 120 s");
    assert!(fast < Duration::from_millis(10), "{fast:?}");
    assert!(
        at >= Duration::from_millis(500),
        "round trip over the link model: {at:?}"
    );
}
