//! Counters kept by the emulator, readable through [`crate::SimHandle::stats`].

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Fault counters of one direction.
#[derive(Default)]
pub(crate) struct DirCounters {
    pub dropped: AtomicU64,
    pub duplicated: AtomicU64,
    pub delayed: AtomicU64,
    pub reordered: AtomicU64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub received: AtomicU64,
    pub malformed: AtomicU64,
    pub duplicates: AtomicU64,
    pub auth_ok: AtomicU64,
    pub auth_rejected: AtomicU64,
    pub uplink_ok: AtomicU64,
    pub uplink_rejected: AtomicU64,
    pub other_rejected: AtomicU64,
    pub sent: AtomicU64,
    pub received_bytes: AtomicU64,
    pub sent_bytes: AtomicU64,
    pub retransmits: AtomicU64,
    pub inbound: DirCounters,
    pub outbound: DirCounters,
}

impl Counters {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(c: &AtomicU64, n: usize) {
        c.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Stats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let d = |c: &DirCounters| DirStats {
            dropped: g(&c.dropped),
            duplicated: g(&c.duplicated),
            delayed: g(&c.delayed),
            reordered: g(&c.reordered),
        };
        Stats {
            received: g(&self.received),
            malformed: g(&self.malformed),
            duplicates: g(&self.duplicates),
            auth_ok: g(&self.auth_ok),
            auth_rejected: g(&self.auth_rejected),
            uplink_ok: g(&self.uplink_ok),
            uplink_rejected: g(&self.uplink_rejected),
            other_rejected: g(&self.other_rejected),
            sent: g(&self.sent),
            received_bytes: g(&self.received_bytes),
            sent_bytes: g(&self.sent_bytes),
            retransmits: g(&self.retransmits),
            inbound: d(&self.inbound),
            outbound: d(&self.outbound),
        }
    }
}

/// Fault statistics of one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DirStats {
    pub dropped: u64,
    pub duplicated: u64,
    pub delayed: u64,
    pub reordered: u64,
}

/// A snapshot of the emulator's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Datagrams received (before inbound faults).
    pub received: u64,
    /// Datagrams that could not be decoded (dropped or answered with RST).
    pub malformed: u64,
    /// Requests recognised as retransmissions (response replayed, not handled again).
    pub duplicates: u64,
    pub auth_ok: u64,
    pub auth_rejected: u64,
    pub uplink_ok: u64,
    pub uplink_rejected: u64,
    /// Requests rejected before reaching /auth or /topic (4.04, bad Uri-Path).
    pub other_rejected: u64,
    /// Datagrams actually sent (after outbound faults).
    pub sent: u64,
    /// UDP payload bytes of the datagrams counted in `received` (for DTLS,
    /// of the records' plaintext).
    pub received_bytes: u64,
    /// UDP payload bytes of the datagrams counted in `sent`.
    pub sent_bytes: u64,
    /// Retransmissions of separate (CON) responses.
    pub retransmits: u64,
    /// Faults injected on datagrams from devices.
    pub inbound: DirStats,
    /// Faults injected on datagrams to devices.
    pub outbound: DirStats,
}
