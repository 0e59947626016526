//! The emulator's plain or PSK listener on simulated time, driven from the
//! caller's thread: waiting for a retransmission, a delayed datagram or a
//! token's expiry moves a [`SimClock`] instead of sleeping, so a test of
//! the 2-3 s retransmission schedule runs in microseconds and always sees
//! the same times.
//!
//! ```
//! use std::time::Duration;
//! use iotx_coap_sim::{platform::Security, virtual_time::VirtualSim, SimConfig};
//! let mut sim = VirtualSim::new(SimConfig::default(), Security::None).unwrap();
//! sim.send("127.0.0.1:40000".parse().unwrap(), &[0x40, 0, 0, 1]); // a CoAP ping
//! let sent = sim.run_for(Duration::from_secs(1));
//! assert_eq!(sent[0].bytes, [0x70, 0, 0, 1]); // RST
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::clock::{Clock, SimClock};
use crate::config::SimConfig;
use crate::log::EventLog;
use crate::platform::{Platform, Security};
use crate::stack::{self, Stacked};
use crate::stats::Stats;
use crate::transport::{MemTransport, Sent};

/// One listener over an in-memory network on simulated time.
pub struct VirtualSim {
    listener: Stacked<MemTransport>,
    net: MemTransport,
    addr: SocketAddr,
    platform: Arc<Platform>,
}

impl VirtualSim {
    /// A `plain` (`Security::None`) or `psk` listener with `cfg`'s devices,
    /// faults, protocol settings and seed (0 when none).
    pub fn new(cfg: SimConfig, security: Security) -> io::Result<VirtualSim> {
        let clock = SimClock::new();
        let (name, k, port) = match security {
            Security::None => ("plain", 1, 5683),
            Security::Psk => ("psk", 2, 5682),
        };
        let addr = SocketAddr::new(cfg.bind, port);
        let net = MemTransport::new(addr, clock.clone());
        let (faults, seed) = (cfg.faults.clone(), cfg.seed.unwrap_or(0));
        let log = EventLog::new(&cfg.log, cfg.human, cfg.capture_events)?;
        let platform = Arc::new(Platform::new(cfg, log));
        let listener = stack::listener(
            (name, k),
            security,
            net.clone(),
            &platform,
            &faults,
            seed,
            Arc::new(clock),
        );
        Ok(VirtualSim {
            listener,
            net,
            addr,
            platform,
        })
    }

    /// The listener's (simulated) address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A datagram from `peer`, handled when the simulation next runs.
    pub fn send(&self, peer: SocketAddr, datagram: &[u8]) {
        self.net.push(peer, datagram);
    }

    /// Runs the listener for `d` of simulated time and returns what it sent
    /// meanwhile (each with its simulated send time).
    pub fn run_for(&mut self, d: Duration) -> Vec<Sent> {
        let clock = self.net.clock().clone();
        let deadline = clock.now() + d;
        self.net.set_limit(deadline);
        while clock.now() < deadline || self.net.has_input() {
            self.listener.step();
        }
        self.net.take_sent()
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.net.elapsed()
    }

    pub fn stats(&self) -> Stats {
        self.platform.counters().snapshot()
    }

    /// Every event logged so far (needs `capture_events`, the API default).
    pub fn events(&self) -> Vec<Value> {
        self.platform.log().snapshot()
    }
}
