//! Heap of the C library (no std, allocating through `HAL_Malloc`) for a
//! device session: Init, auth, 10 CON uplinks of 64 bytes in flight at
//! once, all answered, Deinit (tests/c/ram_peak.c), in PSK and plain mode.
//! Measured on the host, where pointers are twice as wide as on a
//! Cortex-M, so the firmware figure is lower. Budget: static RAM (gated at
//! 1 KB by bench/footprint.sh) plus this peak stays within 7 KB, plus the
//! receive buffer.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Sim, TempDir};

/// 7 KB for static RAM and heap together, less the 1 KB static budget,
/// plus the receive buffer (1,281 bytes, `RX_BUFFER_LEN`): it moved from the stack of the task
/// that calls `IOT_CoAP_Yield` into the context (allocated once, at Init),
/// so that an RTOS task needs at most 2 KB of stack (gated on every core by
/// scripts/qemu-test.sh). The RAM a device needs is the same; what was stack
/// is now heap, and this host figure counts it.
const PEAK_HEAP_BUDGET: usize = 6 * 1024 + iotx_coap::client::RX_BUFFER_LEN;

/// The numbers of each "memory: heap in use N bytes, peak M bytes, B
/// blocks, A allocations made" line: [in use, peak, blocks, allocations].
fn memory_lines(out: &str) -> Vec<[usize; 4]> {
    out.lines()
        .filter_map(|l| {
            let rest = l.split("heap in use ").nth(1)?;
            let mut nums = rest
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<usize>().unwrap());
            Some([nums.next()?, nums.next()?, nums.next()?, nums.next()?])
        })
        .collect()
}

/// (in use, peak) of each memory line.
fn heap_lines(out: &str) -> Vec<(usize, usize)> {
    memory_lines(out).iter().map(|m| (m[0], m[1])).collect()
}

/// Runs the C test program `name` once against each of the emulator's
/// plain and PSK listeners (in `modes` order), each run passing; its
/// output per mode.
fn run_each_mode(name: &str, modes: [&'static str; 2]) -> Vec<(&'static str, String)> {
    let dir = TempDir::new(name);
    let exe = common::c_test_program(&dir, name);
    let sim = Sim::start(&["--device", &common::test_device()]);
    modes
        .into_iter()
        .map(|mode| {
            let url = if mode == "psk" {
                sim.psk_url()
            } else {
                sim.plain_url()
            };
            let run =
                common::run_with_timeout(Command::new(&exe).arg(&url), Duration::from_secs(60));
            assert!(
                run.success(),
                "{mode}: {}\n{}",
                run.describe(),
                sim.describe()
            );
            (mode, run.stdout)
        })
        .collect()
}

#[test]
fn peak_heap_of_a_psk_and_a_plain_session() {
    for (mode, stdout) in run_each_mode("ram_peak", ["psk", "plain"]) {
        let lines = heap_lines(&stdout);
        assert_eq!(
            lines.len(),
            2,
            "{mode}: two memory lines expected:\n{stdout}"
        );
        let (in_use_before_deinit, peak) = lines[0];
        let (in_use_after, _) = lines[1];
        println!(
            "{mode}: peak heap {peak} bytes (in use before Deinit {in_use_before_deinit}, \
             after {in_use_after}); budget {PEAK_HEAP_BUDGET}"
        );
        assert!(peak > 0 && peak >= in_use_before_deinit);
        assert_eq!(in_use_after, 0, "{mode}: the context leaks after Deinit");
        assert!(
            peak <= PEAK_HEAP_BUDGET,
            "{mode}: peak heap {peak} bytes is over the {PEAK_HEAP_BUDGET}-byte budget"
        );
    }
}

/// What the library allocates per steady-state uplink (send, piggybacked
/// response, delivery to the callback): at most the exchange record and the
/// datagram (tests/c/allocs.c; the C library's own HAL_Malloc counters).
/// The receive path itself allocates nothing.
const ALLOCATIONS_PER_UPLINK: usize = 2;

#[test]
fn allocations_per_steady_state_uplink() {
    for (mode, stdout) in run_each_mode("allocs", ["plain", "psk"]) {
        let counts: Vec<usize> = memory_lines(&stdout).iter().map(|m| m[3]).collect();
        assert_eq!(
            counts.len(),
            3,
            "{mode}: three memory lines expected:\n{stdout}"
        );
        // The last two lines are back to back: their difference is what a
        // dump allocates for its own log line.
        let per_100 = (counts[1] - counts[0]) - (counts[2] - counts[1]);
        println!(
            "{mode}: {per_100} allocations for 100 uplinks ({}.{:02} per uplink; at most {ALLOCATIONS_PER_UPLINK})",
            per_100 / 100,
            per_100 % 100
        );
        assert!(
            per_100 <= 100 * ALLOCATIONS_PER_UPLINK,
            "{mode}: {per_100} allocations for 100 uplinks, over {ALLOCATIONS_PER_UPLINK} each"
        );
    }
}
