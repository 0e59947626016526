//! `iotx-coap-sim`: a local emulator of the IoT platform's CoAP device
//! endpoint (plain CoAP and PSK "symmetric encryption"), with seeded fault
//! injection. See `README.md` ("Local emulator") and `server` for the
//! structure (and the seam where the DTLS listener plugs in).
//!
//! ```no_run
//! use iotx_coap_sim::{start, SimConfig};
//! let sim = start(SimConfig::default().device("a1TestPK001", "dev-001", "secret")).unwrap();
//! println!("plain CoAP on {}", sim.plain_addr());
//! ```

pub mod auth;
pub mod config;
pub mod faults;
pub mod log;
pub mod psk;
pub mod server;
pub mod stats;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use config::{Device, FaultRates, Faults, LogTarget, SimConfig};
pub use serde_json::Value;
pub use stats::{DirStats, Stats};

use server::{Listener, Platform, Security, UdpTransport};

/// A running emulator. Dropping it (or [`SimHandle::stop`]) shuts it down.
pub struct SimHandle {
    platform: Arc<Platform>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    plain: Option<SocketAddr>,
    psk: Option<SocketAddr>,
    stopped: bool,
}

/// Starts the emulator's listeners on their own threads. Ports 0 (the API
/// default) are ephemeral; read the bound addresses from the handle.
pub fn start(cfg: SimConfig) -> io::Result<SimHandle> {
    let seed = cfg.seed.unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        t ^ ((std::process::id() as u64) << 32)
    });
    let mut transports = Vec::new();
    if let Some(port) = cfg.plain_port {
        transports.push((
            "plain",
            Security::None,
            UdpTransport::bind(SocketAddr::new(cfg.bind, port))?,
            1u64,
        ));
    }
    if let Some(port) = cfg.psk_port {
        transports.push((
            "psk",
            Security::Psk,
            UdpTransport::bind(SocketAddr::new(cfg.bind, port))?,
            2u64,
        ));
    }
    let log = log::EventLog::new(&cfg.log, cfg.human, cfg.capture_events)?;
    let print_listening = cfg.print_listening;
    let human = cfg.human;
    let platform = Arc::new(Platform::new(cfg, log, seed));
    let stop = Arc::new(AtomicBool::new(false));
    let mut handle = SimHandle {
        platform: platform.clone(),
        stop: stop.clone(),
        threads: Vec::new(),
        plain: None,
        psk: None,
        stopped: false,
    };
    for (_, security, transport, _) in &transports {
        use server::DatagramTransport;
        let addr = transport.local_addr()?;
        match security {
            Security::None => handle.plain = Some(addr),
            Security::Psk => handle.psk = Some(addr),
        }
    }
    if print_listening {
        // Before any listener runs, so it is the first stdout line.
        use std::io::Write;
        let v = handle.listening_event();
        let mut out = io::stdout().lock();
        writeln!(out, "{}", log::to_line(&v))?;
        out.flush()?;
        if human {
            eprintln!("{}", log::human_line(&v));
        }
    }
    for (name, security, transport, k) in transports {
        let listener = Listener::new(
            name,
            security,
            transport,
            platform.clone(),
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(k << 8),
        );
        let stop = stop.clone();
        handle.threads.push(
            std::thread::Builder::new()
                .name(format!("sim-{name}"))
                .spawn(move || listener.run(&stop))?,
        );
    }
    Ok(handle)
}

impl SimHandle {
    /// Address of the plain CoAP listener. Panics if it is disabled.
    pub fn plain_addr(&self) -> SocketAddr {
        self.plain.expect("the plain listener is disabled")
    }
    /// Address of the PSK listener. Panics if it is disabled.
    pub fn psk_addr(&self) -> SocketAddr {
        self.psk.expect("the PSK listener is disabled")
    }
    pub fn try_plain_addr(&self) -> Option<SocketAddr> {
        self.plain
    }
    pub fn try_psk_addr(&self) -> Option<SocketAddr> {
        self.psk
    }
    /// Every event logged so far (needs `capture_events`, the API default).
    pub fn events(&self) -> Vec<Value> {
        self.platform.log.snapshot()
    }
    /// The events named `name` so far.
    pub fn events_named(&self, name: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == name)
            .collect()
    }
    /// Waits up to `timeout` for an event matching `pred` (past ones count).
    pub fn wait_for_event(
        &self,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        self.platform.log.wait_for(timeout, pred)
    }
    pub fn stats(&self) -> Stats {
        self.platform.counters.snapshot()
    }
    /// The `{"event":"listening",...}` line's object.
    pub fn listening_event(&self) -> Value {
        let a = |a: Option<SocketAddr>| a.map(|a| a.to_string());
        serde_json::json!({
            "event": "listening",
            "plain": a(self.plain),
            "psk": a(self.psk),
            "dtls": null,
        })
    }
    /// Stops the listeners, logs a `stats` event, flushes the log and
    /// returns the final counters.
    pub fn stop(mut self) -> Stats {
        self.shutdown();
        self.stats()
    }
    fn shutdown(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let stats = serde_json::to_value(self.stats()).unwrap_or_default();
        self.platform.log.emit("stats", stats);
        self.platform.log.close();
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
