//! Seeded, reproducible fault injection, as a wrapper around a datagram
//! transport: [`Faulty`] drops, duplicates, delays and reorders what its
//! inner transport receives and what the listener sends, so the message
//! layer above sees a lossy network and nothing else.
//!
//! Every datagram draws exactly four numbers from its direction's own PRNG
//! (drop, duplicate, delay, reorder), whatever the outcome, so a fixed seed
//! and the same traffic give the same faults.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::clock::Clock;
use crate::config::{FaultRates, Faults};
use crate::link::LinkModel;
use crate::stats::{Counters, DirCounters};
use crate::transport::{DatagramTransport, Received};

/// What to do with one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    pub drop: bool,
    pub dup: bool,
    pub delay: bool,
    pub reorder: bool,
}

pub struct FaultInjector {
    rates: FaultRates,
    rng: StdRng,
}

impl FaultInjector {
    pub fn new(rates: FaultRates, seed: u64) -> Self {
        FaultInjector {
            rates,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    pub fn is_active(&self) -> bool {
        !self.rates.is_zero()
    }

    pub fn judge(&mut self) -> Verdict {
        if !self.is_active() {
            return Verdict::default();
        }
        let d: f64 = self.rng.gen();
        let u: f64 = self.rng.gen();
        let l: f64 = self.rng.gen();
        let r: f64 = self.rng.gen();
        if d < self.rates.drop {
            return Verdict {
                drop: true,
                ..Verdict::default()
            };
        }
        Verdict {
            drop: false,
            dup: u < self.rates.dup,
            delay: l < self.rates.delay,
            reorder: r < self.rates.reorder,
        }
    }
}

/// Direction of a datagram.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    In,
    Out,
}

struct Timed {
    at: Instant,
    n: u64,
    dir: Dir,
    peer: SocketAddr,
    bytes: Vec<u8>,
}
impl PartialEq for Timed {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.n) == (o.at, o.n)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timed {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.n).cmp(&(o.at, o.n))
    }
}

struct Held {
    until: Instant,
    peer: SocketAddr,
    bytes: Vec<u8>,
    copies: u8,
}

/// A transport with faults injected in both directions.
pub struct Faulty<T> {
    inner: T,
    clock: Arc<dyn Clock>,
    counters: Arc<Counters>,
    fault_in: FaultInjector,
    fault_out: FaultInjector,
    link: Option<LinkModel>,
    delay: Duration,
    timers: BinaryHeap<Reverse<Timed>>,
    timer_n: u64,
    held_in: Option<Held>,
    held_out: Option<Held>,
    /// Received datagrams through the faults, not yet handed up.
    ready: VecDeque<(SocketAddr, Vec<u8>)>,
}

impl<T: DatagramTransport> Faulty<T> {
    /// `seed` seeds both directions (each its own generator).
    pub(crate) fn new(
        inner: T,
        faults: &Faults,
        seed: u64,
        clock: Arc<dyn Clock>,
        counters: Arc<Counters>,
    ) -> Self {
        let link = (faults.link.as_ref()).map(|l| LinkModel::new(l, seed ^ 0x4c4b, clock.now()));
        Faulty {
            inner,
            clock,
            counters,
            fault_in: FaultInjector::new(faults.inbound, seed ^ 0x0001),
            fault_out: FaultInjector::new(faults.outbound, seed ^ 0x0002),
            link,
            delay: faults.delay,
            timers: BinaryHeap::new(),
            timer_n: 0,
            held_in: None,
            held_out: None,
            ready: VecDeque::new(),
        }
    }

    fn idle(&self) -> bool {
        self.timers.is_empty()
            && self.held_in.is_none()
            && self.held_out.is_none()
            && self.ready.is_empty()
    }

    /// Applies the direction's faults, then delivers (now or later).
    fn pass(&mut self, dir: Dir, peer: SocketAddr, bytes: Vec<u8>) {
        if self.link.is_some() {
            return self.pass_link(dir, peer, bytes);
        }
        let v = match dir {
            Dir::In => self.fault_in.judge(),
            Dir::Out => self.fault_out.judge(),
        };
        let dc: &DirCounters = match dir {
            Dir::In => &self.counters.inbound,
            Dir::Out => &self.counters.outbound,
        };
        if v.drop {
            Counters::inc(&dc.dropped);
            return;
        }
        let copies = if v.dup {
            Counters::inc(&dc.duplicated);
            2
        } else {
            1
        };
        let now = self.clock.now();
        if v.delay {
            Counters::inc(&dc.delayed);
            for _ in 0..copies {
                self.timer_n += 1;
                self.timers.push(Reverse(Timed {
                    at: now + self.delay,
                    n: self.timer_n,
                    dir,
                    peer,
                    bytes: bytes.clone(),
                }));
            }
            return;
        }
        let held = match dir {
            Dir::In => &mut self.held_in,
            Dir::Out => &mut self.held_out,
        };
        if v.reorder && held.is_none() {
            Counters::inc(&dc.reordered);
            *held = Some(Held {
                until: now + self.delay,
                peer,
                bytes,
                copies,
            });
            return;
        }
        let overtaken = held.take();
        for _ in 0..copies {
            self.deliver(dir, peer, bytes.clone());
        }
        if let Some(h) = overtaken {
            for _ in 0..h.copies {
                self.deliver(dir, h.peer, h.bytes.clone());
            }
        }
    }

    /// The link model's fate for a datagram: lost, or held for its delay.
    fn pass_link(&mut self, dir: Dir, peer: SocketAddr, bytes: Vec<u8>) {
        let now = self.clock.now();
        let Some(link) = &mut self.link else { return };
        let dc: &DirCounters = match dir {
            Dir::In => &self.counters.inbound,
            Dir::Out => &self.counters.outbound,
        };
        let Some(d) = link.delay(now, dir == Dir::In) else {
            return Counters::inc(&dc.dropped);
        };
        Counters::inc(&dc.delayed);
        self.timer_n += 1;
        self.timers.push(Reverse(Timed {
            at: now + d,
            n: self.timer_n,
            dir,
            peer,
            bytes,
        }));
    }

    fn deliver(&mut self, dir: Dir, peer: SocketAddr, bytes: Vec<u8>) {
        match dir {
            // A send error is the peer's problem, as on a real network.
            Dir::Out => drop(self.inner.send(&bytes, peer)),
            Dir::In => self.ready.push_back((peer, bytes)),
        }
    }

    /// Delivers what is due: delayed datagrams, and held ones nothing overtook.
    fn fire_due(&mut self) {
        let now = self.clock.now();
        while self.timers.peek().is_some_and(|Reverse(t)| t.at <= now) {
            let Reverse(t) = self.timers.pop().expect("peeked");
            self.deliver(t.dir, t.peer, t.bytes);
        }
        for dir in [Dir::In, Dir::Out] {
            let slot = match dir {
                Dir::In => &mut self.held_in,
                Dir::Out => &mut self.held_out,
            };
            if slot.as_ref().is_some_and(|h| h.until <= now) {
                let h = slot.take().expect("checked");
                for _ in 0..h.copies {
                    self.deliver(dir, h.peer, h.bytes.clone());
                }
            }
        }
    }

    /// How long until something held or delayed is due.
    fn next_due(&self, now: Instant) -> Option<Duration> {
        let timer = self.timers.peek().map(|Reverse(t)| t.at);
        let held = [&self.held_in, &self.held_out]
            .into_iter()
            .flatten()
            .map(|h| h.until);
        timer
            .into_iter()
            .chain(held)
            .min()
            .map(|at| at.saturating_duration_since(now))
    }

    fn hand_up(&mut self, buf: &mut [u8]) -> Option<(usize, SocketAddr)> {
        let (peer, d) = self.ready.pop_front()?;
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Some((n, peer))
    }
}

impl<T: DatagramTransport> DatagramTransport for Faulty<T> {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Received {
        // Without faults this is the inner transport, copy-free.
        if !self.fault_in.is_active() && self.link.is_none() && self.idle() {
            return self.inner.recv(buf, timeout);
        }
        self.fire_due();
        if let Some(got) = self.hand_up(buf) {
            return Ok(Some(got));
        }
        let wait = self
            .next_due(self.clock.now())
            .map_or(timeout, |d| d.min(timeout));
        if let Some((n, peer)) = self.inner.recv(buf, wait)? {
            self.pass(Dir::In, peer, buf[..n].to_vec());
        }
        self.fire_due();
        Ok(self.hand_up(buf))
    }

    fn send(&mut self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        if !self.fault_out.is_active() && self.link.is_none() && self.held_out.is_none() {
            return self.inner.send(datagram, peer);
        }
        self.pass(Dir::Out, peer, datagram.to_vec());
        Ok(())
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn take_reset_peers(&mut self) -> Vec<SocketAddr> {
        self.inner.take_reset_peers()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimClock;
    use crate::transport::MemTransport;

    #[test]
    fn reproducible_and_close_to_rates() {
        let rates = FaultRates {
            drop: 0.2,
            dup: 0.1,
            delay: 0.05,
            reorder: 0.0,
        };
        let mut a = FaultInjector::new(rates, 7);
        let mut b = FaultInjector::new(rates, 7);
        let va: Vec<_> = (0..10_000).map(|_| a.judge()).collect();
        let vb: Vec<_> = (0..10_000).map(|_| b.judge()).collect();
        assert_eq!(va, vb);
        let drops = va.iter().filter(|v| v.drop).count();
        assert!((1700..2300).contains(&drops), "{drops}");
        assert!(va.iter().all(|v| !v.reorder));
    }

    fn faulty(faults: Faults) -> (Faulty<MemTransport>, MemTransport, SimClock) {
        let clock = SimClock::new();
        let net = MemTransport::new("127.0.0.1:5683".parse().unwrap(), clock.clone());
        let f = Faulty::new(
            net.clone(),
            &faults,
            1,
            Arc::new(clock.clone()),
            Arc::default(),
        );
        (f, net, clock)
    }

    #[test]
    fn delayed_datagrams_come_after_the_delay_in_simulated_time() {
        let all = FaultRates {
            delay: 1.0,
            ..FaultRates::default()
        };
        let faults = Faults {
            delay: Duration::from_millis(200),
            ..Faults::both(all)
        };
        let (mut f, net, clock) = faulty(faults);
        let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let t0 = clock.now();
        net.push(peer, b"in");
        let mut buf = [0u8; 16];
        assert_eq!(f.recv(&mut buf, Duration::from_secs(1)).unwrap(), None);
        let got = f.recv(&mut buf, Duration::from_secs(1)).unwrap();
        assert_eq!(got, Some((2, peer)));
        assert_eq!(clock.now() - t0, Duration::from_millis(200));
        f.send(b"out", peer).unwrap();
        assert!(net.take_sent().is_empty());
        f.recv(&mut buf, Duration::from_secs(1)).unwrap();
        let sent = net.take_sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].at, Duration::from_millis(400));
    }
}
