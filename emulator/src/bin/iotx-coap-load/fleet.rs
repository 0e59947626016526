//! A worker's share of the simulated devices: one UDP socket and one
//! library `Session` per device, driven over epoll.

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use iotx_coap::core::session::{Config, Event, Session, FORMAT_JSON};
use iotx_coap::core::url::Security;

use crate::poll::Epoll;

/// One simulated device.
pub struct Device {
    sock: UdpSocket,
    pub session: Session<Instant>,
    /// Uplinks sent and not yet answered.
    pub outstanding: usize,
    /// When the running auth started.
    auth_started: Option<Instant>,
    topic: String,
}

/// What a phase measured on one worker.
#[derive(Default)]
pub struct Tally {
    pub latencies: Vec<Duration>,
    /// When each auth or uplink completed (for rates over time).
    pub done_at: Vec<Instant>,
    /// Response codes (`0x45` is 2.05).
    pub codes: BTreeMap<u8, u64>,
    pub failed: u64,
    /// Open loop: sends that were due but not made (window full, or the
    /// session refused).
    pub skipped: u64,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.done_at.extend(other.done_at);
        for (c, n) in other.codes {
            *self.codes.entry(c).or_default() += n;
        }
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

/// A device's identity in the generated fleet.
pub fn identity(i: usize) -> (String, String, String) {
    (
        "a1LoadPK001".to_string(),
        format!("dev-{i:06}"),
        format!("secret-{i:06}-load"),
    )
}

pub struct Fleet {
    epoll: Epoll,
    pub devices: Vec<Device>,
    t0: Instant,
}

impl Fleet {
    /// Devices `ids`, each on its own socket connected to `server`.
    pub fn new(ids: impl Iterator<Item = usize>, server: SocketAddr) -> io::Result<Fleet> {
        let epoll = Epoll::new()?;
        let mut devices = Vec::new();
        for i in ids {
            let (pk, dn, secret) = identity(i);
            let sock = UdpSocket::bind("127.0.0.1:0")?;
            sock.connect(server)?;
            sock.set_nonblocking(true)?;
            epoll.add(sock.as_raw_fd(), devices.len() as u64)?;
            let mut cfg = Config::new(&pk, &dn, &secret, Security::Plain);
            cfg.seed = 0x5eed_0000_0000_0000 ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            devices.push(Device {
                sock,
                session: Session::new(cfg),
                outstanding: 0,
                auth_started: None,
                topic: format!("/topic/{pk}/{dn}/update"),
            });
        }
        Ok(Fleet {
            epoll,
            devices,
            t0: Instant::now(),
        })
    }

    /// The sessions' clock: milliseconds since the fleet was made.
    pub fn now_ms(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }

    pub fn start_auth(&mut self, i: usize) {
        let now = self.now_ms();
        let d = &mut self.devices[i];
        d.auth_started = Some(Instant::now());
        d.session.start_auth(now);
        flush(d);
    }

    /// Sends one JSON uplink from device `i`, its latency counted from
    /// `since`; false when the session refused.
    pub fn send_uplink(&mut self, i: usize, n: u64, since: Instant) -> bool {
        let now = self.now_ms();
        let d = &mut self.devices[i];
        let body = format!(r#"{{"n":{n},"temp":21.5}}"#);
        let sent = d
            .session
            .send(now, &d.topic, body.as_bytes(), FORMAT_JSON, true, since)
            .is_ok();
        if sent {
            d.outstanding += 1;
        }
        flush(d);
        sent
    }

    /// Waits up to `wait` for datagrams, feeds them (and due timeouts) to
    /// the sessions, and hands each completed exchange to `done`.
    pub fn pump(
        &mut self,
        wait: Duration,
        tally: &mut Tally,
        mut done: impl FnMut(&mut Fleet, usize),
    ) {
        let ready = self.epoll.wait(wait).unwrap_or_default();
        let mut buf = [0u8; 2048];
        let mut finished = Vec::new();
        for i in ready {
            let i = i as usize;
            let now = self.now_ms();
            let d = &mut self.devices[i];
            while let Ok(n) = d.sock.recv(&mut buf) {
                d.session.handle_datagram(now, &buf[..n]);
            }
            if collect(d, tally) {
                finished.push(i);
            }
            flush(d);
        }
        for i in finished {
            done(self, i);
        }
    }

    /// Runs due retransmissions and timeouts (all devices; call every ~10 ms).
    pub fn sweep(&mut self, tally: &mut Tally, mut done: impl FnMut(&mut Fleet, usize)) {
        let now = self.now_ms();
        let mut finished = Vec::new();
        for (i, d) in self.devices.iter_mut().enumerate() {
            if d.session.poll_timeout().is_some_and(|t| t <= now) {
                d.session.handle_timeout(now);
                if collect(d, tally) {
                    finished.push(i);
                }
                flush(d);
            }
        }
        for i in finished {
            done(self, i);
        }
    }
}

/// Records a device's events; true when an exchange ended.
fn collect(d: &mut Device, tally: &mut Tally) -> bool {
    let mut ended = false;
    while let Some(ev) = d.session.poll_event() {
        let now = Instant::now();
        ended = true;
        match ev {
            Event::Authenticated => {
                if let Some(t) = d.auth_started.take() {
                    tally.latencies.push(now - t);
                }
                tally.done_at.push(now);
                *tally.codes.entry(0x45).or_default() += 1;
            }
            Event::AuthFailed { code } => {
                d.auth_started = None;
                match code {
                    Some(c) => *tally.codes.entry(c).or_default() += 1,
                    None => tally.failed += 1,
                }
            }
            Event::Response { user, code, .. } => {
                d.outstanding = d.outstanding.saturating_sub(1);
                tally.latencies.push(now - user);
                tally.done_at.push(now);
                *tally.codes.entry(code).or_default() += 1;
            }
            Event::SendFailed { .. } => {
                d.outstanding = d.outstanding.saturating_sub(1);
                tally.failed += 1;
            }
        }
    }
    ended
}

/// Sends whatever the session has queued.
fn flush(d: &mut Device) {
    while let Some(datagram) = d.session.poll_transmit() {
        // A full socket buffer loses the datagram; the session retransmits.
        let _ = d.sock.send(&datagram);
    }
}
