//! Battery devices (feature `session-store`): a C program that wakes,
//! sends one reading and exits, run as a new process per "boot" against the
//! emulator, with the reference HAL's file-backed key-value store.
//!
//! Also the wake-cycle bench (`bench/wake.sh` runs the ignored
//! `wake_cycle_bytes`): bytes on the wire, fresh vs resumed.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use common::rust_api;
use common::*;
use iotx_coap_sim::{SimConfig, SimHandle, Stats};

/// The KV store's file for the session record (`STORE_KEY`).
const RECORD_FILE: &str = "iotx_coap_sess";
const OTHER_DN: &str = "dev-002";
const OTHER_DS: &str = "an0th3rS3cr3tan0th3rS3cr3tan0th3";

/// tests/c/wake.c linked with the session-store library and hal/linux.
fn wake_exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let lib = build_session_store_lib();
        let exe = lib.with_file_name("wake-test");
        let src = workspace_root().join("tests/c/wake.c");
        let inc = workspace_root().join("tests/c");
        compile_c_with_lib(&lib, &exe, &[&src], &["-I", inc.to_str().unwrap()]);
        exe
    })
}

/// The emulator with the test device and a second one of its product.
fn sim(tweak: impl FnOnce(SimConfig) -> SimConfig) -> SimHandle {
    rust_api::sim(|c| tweak(c.device(TEST_PK, OTHER_DN, OTHER_DS)))
}

fn psk_url(s: &SimHandle) -> String {
    format!("coap-psk://{}", s.psk_addr())
}

fn plain_url(s: &SimHandle) -> String {
    format!("coap://{}", s.plain_addr())
}

/// One boot: the wake program as a new process, with `kv` as its store.
fn wake(kv: &Path, url: &str, device: Option<(&str, &str)>) -> Run {
    let mut cmd = std::process::Command::new(wake_exe());
    cmd.arg(url).env("IOTX_KV_DIR", kv);
    if let Some((dn, ds)) = device {
        cmd.args([dn, ds]);
    }
    run_with_timeout(&mut cmd, Duration::from_secs(30))
}

fn wake_ok(kv: &Path, url: &str) {
    let r = wake(kv, url, None);
    assert!(r.success(), "wake cycle failed:\n{}", r.describe());
}

fn record(kv: &Path) -> Option<Vec<u8>> {
    fs::read(kv.join(RECORD_FILE)).ok()
}

fn count(sim: &SimHandle, event: &str) -> usize {
    sim.events_named(event).len()
}

/// Rejected uplinks other than an expired token's 4.01.
fn bad_rejections(sim: &SimHandle) -> Vec<iotx_coap_sim::Value> {
    sim.events_named("uplink_rejected")
        .into_iter()
        .filter(|e| e["code"] != "4.01")
        .collect()
}

#[test]
fn fifty_wakes_authenticate_once_psk() {
    let sim = sim(|c| c);
    let kv = TempDir::new("kv");
    let url = psk_url(&sim);
    for boot in 0..50 {
        let r = wake(kv.path(), &url, None);
        assert!(r.success(), "boot {boot}:\n{}", r.describe());
    }
    assert_eq!(count(&sim, "auth_accepted"), 1, "{:?}", sim.events());
    assert_eq!(count(&sim, "uplink_accepted"), 50);
    assert_eq!(count(&sim, "uplink_rejected"), 0, "{:?}", sim.events());
    // Each boot resumed at a fresh reservation: numbers are unique and rise.
    let seqs: Vec<u64> = sim
        .events_named("uplink_accepted")
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[test]
fn expiring_tokens_are_renewed_transparently_and_the_store_follows() {
    let sim = sim(|c| c.token_ttl(Duration::from_millis(1500)));
    let kv = TempDir::new("kv");
    let url = psk_url(&sim);
    let mut renewals_stored = 0;
    for boot in 0..50 {
        let (auths, before) = (count(&sim, "auth_accepted"), record(kv.path()));
        let r = wake(kv.path(), &url, None);
        assert!(r.success(), "boot {boot}:\n{}", r.describe());
        if boot > 0 && count(&sim, "auth_accepted") > auths {
            assert_ne!(record(kv.path()), before, "boot {boot}: renewal not stored");
            renewals_stored += 1;
        }
        // Spread the run over several token lifetimes.
        std::thread::sleep(Duration::from_millis(80));
    }
    assert!(renewals_stored >= 2, "{renewals_stored} renewals");
    assert_eq!(count(&sim, "uplink_accepted"), 50);
    assert_eq!(bad_rejections(&sim), Vec::<iotx_coap_sim::Value>::new());
    // Every renewal came from a 4.01 on a resumed token (none from a
    // resume that failed), and later boots used the renewed token: an
    // un-refreshed store would cost an auth on every boot after the first
    // expiry.
    let auths = count(&sim, "auth_accepted");
    assert_eq!(auths, 1 + count(&sim, "uplink_rejected"));
    assert!(auths < 25, "{auths} auths in 50 boots");
}

/// Restoring a record from before the reservation moved on makes the
/// device send a number again, and the emulator refuses it: what the
/// write-ahead reservation exists to prevent.
#[test]
fn an_old_record_reuses_a_sequence_number_and_is_refused() {
    let sim = sim(|c| c);
    let kv = TempDir::new("kv");
    let url = psk_url(&sim);
    wake_ok(kv.path(), &url);
    let old = record(kv.path()).expect("record after the first boot");
    wake_ok(kv.path(), &url);
    assert_ne!(
        record(kv.path()).as_ref(),
        Some(&old),
        "second boot reserved"
    );
    fs::write(kv.path().join(RECORD_FILE), &old).unwrap();
    let r = wake(kv.path(), &url, None);
    assert!(!r.success(), "a reused sequence number was accepted");
    let rejected = sim.events_named("uplink_rejected");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("replay")),
        "{rejected:?}"
    );
    assert_eq!(count(&sim, "auth_accepted"), 1);
}

/// Power cuts: boots killed (SIGKILL) at random points, before, during or
/// after their record write and uplink; every later boot still numbers past
/// anything sent before.
#[test]
fn boots_killed_at_random_points_never_reuse_a_sequence_number() {
    let sim = sim(|c| c);
    let kv = TempDir::new("kv");
    let url = psk_url(&sim);
    wake_ok(kv.path(), &url);
    let mut x = 0x2545_f491u32;
    for _ in 0..30 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let mut child = std::process::Command::new(wake_exe())
            .arg(&url)
            .env("IOTX_KV_DIR", kv.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("wake");
        std::thread::sleep(Duration::from_micros(u64::from(x % 30_000)));
        let _ = child.kill();
        let _ = child.wait();
    }
    wake_ok(kv.path(), &url);
    assert_eq!(count(&sim, "uplink_rejected"), 0, "{:?}", sim.events());
    eprintln!(
        "30 killed boots: {} uplinks and {} auths reached the emulator",
        count(&sim, "uplink_accepted") - 2,
        count(&sim, "auth_accepted") - 1
    );
}

#[test]
fn a_corrupt_store_means_a_normal_auth() {
    let sim = sim(|c| c);
    let kv = TempDir::new("kv");
    let url = psk_url(&sim);
    wake_ok(kv.path(), &url);
    let good = record(kv.path()).unwrap();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x10;
    let mut version = good.clone();
    version[0] = 9;
    let mut junk = vec![0u8; 300];
    let mut x = 0x9e37_79b9u32;
    for b in &mut junk {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let cases: [(&str, Vec<u8>); 6] = [
        ("random bytes", junk),
        ("truncated", good[..good.len() - 5].to_vec()),
        ("header only", good[..3].to_vec()),
        ("empty", Vec::new()),
        ("one bit flipped", flipped),
        ("unknown version", version),
    ];
    for (i, (what, bytes)) in cases.iter().enumerate() {
        fs::write(kv.path().join(RECORD_FILE), bytes).unwrap();
        wake_ok(kv.path(), &url);
        assert_eq!(count(&sim, "auth_accepted"), 2 + i, "{what}");
        assert_ne!(record(kv.path()).as_ref(), Some(bytes), "{what}: rewritten");
    }
    // The rewritten record is used again.
    wake_ok(kv.path(), &url);
    assert_eq!(count(&sim, "auth_accepted"), 1 + cases.len());
    assert_eq!(count(&sim, "uplink_rejected"), 0);
}

#[test]
fn a_foreign_store_means_a_normal_auth() {
    let sim = sim(|c| c);
    let kv = TempDir::new("kv");
    // Another device's record.
    let r = wake(kv.path(), &psk_url(&sim), Some((OTHER_DN, OTHER_DS)));
    assert!(r.success(), "{}", r.describe());
    let foreign = record(kv.path()).unwrap();
    wake_ok(kv.path(), &psk_url(&sim));
    assert_eq!(count(&sim, "auth_accepted"), 2);
    assert_ne!(record(kv.path()), Some(foreign));
    // The same device at another endpoint (URL): the plain port.
    wake_ok(kv.path(), &plain_url(&sim));
    assert_eq!(count(&sim, "auth_accepted"), 3);
    // And another emulator (another port) for the plain URL's record.
    let other = self::sim(|c| c);
    wake_ok(kv.path(), &plain_url(&other));
    assert_eq!(count(&other, "auth_accepted"), 1);
    assert_eq!(
        count(&sim, "uplink_rejected") + count(&other, "uplink_rejected"),
        0
    );
    // Back at the same endpoint, it resumes.
    wake_ok(kv.path(), &plain_url(&other));
    assert_eq!(count(&other, "auth_accepted"), 1);
    assert_eq!(count(&other, "uplink_accepted"), 2);
}

/// Bytes and datagrams one wake cycle costs.
#[derive(Clone, Copy, Debug)]
struct Cycle {
    up_bytes: u64,
    down_bytes: u64,
    round_trips: u64,
}

impl Cycle {
    fn between(a: &Stats, b: &Stats) -> Cycle {
        Cycle {
            up_bytes: b.received_bytes - a.received_bytes,
            down_bytes: b.sent_bytes - a.sent_bytes,
            // On loopback every request is answered once.
            round_trips: b.received - a.received,
        }
    }

    fn bytes(&self) -> u64 {
        self.up_bytes + self.down_bytes
    }
}

/// One measured wake cycle.
fn measured(sim: &SimHandle, kv: &Path, url: &str) -> Cycle {
    let before = sim.stats();
    wake_ok(kv, url);
    // The last answer is counted once it is sent; the process has seen it.
    Cycle::between(&before, &sim.stats())
}

/// Fresh (empty store: Init, auth, uplink) vs resumed (stored session:
/// Init, uplink) wake cycles, plain and PSK. Run by bench/wake.sh; fails
/// when a resumed cycle costs more than half a fresh one's bytes.
#[test]
#[ignore = "bench: run by bench/wake.sh"]
fn wake_cycle_bytes() {
    let sim = sim(|c| c);
    println!("wake cycle: Init, DeviceNameAuth, one 64-byte CON uplink answered, Deinit");
    println!("(UDP payload bytes, both directions, counted by the emulator)");
    println!(
        "{:<6} {:<8} {:>9} {:>11} {:>7} {:>12}",
        "mode", "cycle", "bytes up", "bytes down", "total", "round trips"
    );
    let mut ok = true;
    for (mode, url) in [("plain", plain_url(&sim)), ("psk", psk_url(&sim))] {
        let kv = TempDir::new("kv");
        let fresh = measured(&sim, kv.path(), &url);
        let resumed = measured(&sim, kv.path(), &url);
        for (name, c) in [("fresh", fresh), ("resumed", resumed)] {
            println!(
                "{:<6} {:<8} {:>9} {:>11} {:>7} {:>12}",
                mode,
                name,
                c.up_bytes,
                c.down_bytes,
                c.bytes(),
                c.round_trips
            );
        }
        let ratio = resumed.bytes() as f64 / fresh.bytes() as f64;
        println!("{mode}: resumed/fresh = {ratio:.2} (limit 0.50)");
        ok &= resumed.bytes() * 2 <= fresh.bytes();
    }
    assert!(ok, "a resumed cycle costs more than half a fresh one");
}
