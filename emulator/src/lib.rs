//! `iotx-coap-sim`: a local emulator of the IoT platform's CoAP device
//! endpoint (plain CoAP, PSK "symmetric encryption" and DTLS 1.2), with
//! seeded fault injection. See `README.md`, [`listener`] (the RFC 7252
//! message layer), [`platform`] (the `/auth` and `/topic` handling),
//! [`transport`] and [`dtls`] (the datagram transports), [`faults`] (the
//! fault-injecting transport wrapper), [`clock`] and [`virtual_time`] (the
//! listener on simulated time).
//!
//! ```no_run
//! use iotx_coap_sim::{start, SimConfig};
//! let sim = start(SimConfig::default().device("a1TestPK001", "dev-001", "secret")).unwrap();
//! println!("plain CoAP on {}", sim.plain_addr());
//! ```

pub mod auth;
mod checks;
pub mod clock;
pub mod config;
mod dedup;
pub mod dtls;
pub mod faults;
pub mod link;
pub mod listener;
pub mod log;
pub mod platform;
mod stack;
pub mod stats;
mod tokens;
pub mod transport;
pub mod virtual_time;

/// The Rust snippets of the READMEs, compiled as doctests (`cargo test
/// --doc -p iotx-coap-sim`); `scripts/doc-check.sh` runs the others.
#[cfg(doctest)]
mod readme_snippets {
    #[doc = include_str!("../README.md")]
    struct EmulatorReadme;
    #[doc = include_str!("../../README.md")]
    struct Readme;
}

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use config::{Device, DtlsCertFiles, FaultRates, Faults, LogTarget, SimConfig};
pub use serde_json::Value;
pub use stats::{DirStats, Stats};

use clock::SystemClock;
use platform::{Platform, Security};
use stack::Stacked;
use transport::{DatagramTransport, UdpTransport};

/// A running emulator. Dropping it (or [`SimHandle::stop`]) shuts it down.
pub struct SimHandle {
    platform: Arc<Platform>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    plain: Option<SocketAddr>,
    psk: Option<SocketAddr>,
    dtls: Option<SocketAddr>,
    ca_pem: Option<String>,
    stopped: bool,
}

/// Starts the emulator's listeners on their own threads. Ports 0 (the API
/// default) are ephemeral; read the bound addresses from the handle. With
/// the DTLS listener on, the certificates are generated (or loaded) and the
/// CA written to `dtls_ca_out` before this returns (and before the
/// `listening` line).
pub fn start(cfg: SimConfig) -> io::Result<SimHandle> {
    let seed = cfg.seed.unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        t ^ ((std::process::id() as u64) << 32)
    });
    let transports = bind_udp_listeners(&cfg)?;
    let dtls = prepare_dtls(&cfg)?;
    let log = log::EventLog::new(&cfg.log, cfg.human, cfg.capture_events)?;
    let (print_listening, human) = (cfg.print_listening, cfg.human);
    let timeouts = dtls::DtlsTimeouts {
        idle: cfg.dtls_idle_timeout,
        handshake: cfg.dtls_handshake_timeout,
    };
    let faults = cfg.faults.clone();
    let platform = Arc::new(Platform::new(cfg, log));
    let mut handle = SimHandle {
        platform: platform.clone(),
        stop: Arc::new(AtomicBool::new(false)),
        threads: Vec::new(),
        plain: None,
        psk: None,
        dtls: None,
        ca_pem: None,
        stopped: false,
    };
    let dtls = match dtls {
        Some((identity, sock)) => {
            let t = dtls::DtlsTransport::new(sock, &identity, platform.log().clone(), timeouts)?;
            handle.dtls = Some(t.local_addr()?);
            handle.ca_pem = identity.ca_pem;
            Some(t)
        }
        None => None,
    };
    for (_, security, transport, _, _) in &transports {
        let addr = transport.local_addr()?;
        match security {
            Security::None => handle.plain = Some(addr),
            Security::Psk => handle.psk = Some(addr),
        }
    }
    if print_listening {
        handle.print_listening(human)?;
    }
    let clock = Arc::new(SystemClock);
    for (name, security, transport, k, t) in transports {
        // Thread 0 keeps the listener's seed of a single-threaded emulator;
        // the others get seeds no other listener uses (k 1..=3).
        let k = k + 4 * t as u64;
        let listener = stack::listener(
            (name, k),
            security,
            transport,
            &platform,
            &faults,
            seed,
            clock.clone(),
        );
        handle.spawn(listener, t)?;
    }
    if let Some(transport) = dtls {
        // DTLS below the transport, so no CoAP-layer security.
        handle.spawn(
            stack::listener(
                ("dtls", 3),
                Security::None,
                transport,
                &platform,
                &faults,
                seed,
                clock,
            ),
            0,
        )?;
    }
    Ok(handle)
}

/// A UDP socket bound to `addr`; the error names the listener and address.
fn bind_udp(what: &str, addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    std::net::UdpSocket::bind(addr).map_err(|e| bind_error(what, addr, e))
}

/// A bind failure, naming the listener and the address.
fn bind_error(what: &str, addr: SocketAddr, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "cannot bind the {what} listener to {} port {}: {e}",
            addr.ip(),
            addr.port()
        ),
    )
}

/// A listener's name, security mode, one of its sockets, the listener
/// number (seeds it) and the thread's index among the listener's threads.
type UdpListener = (&'static str, Security, UdpTransport, u64, usize);

/// The plain and PSK listeners' sockets: `udp_threads` of each, sharing
/// the port through `SO_REUSEPORT` when more than one.
fn bind_udp_listeners(cfg: &SimConfig) -> io::Result<Vec<UdpListener>> {
    let mut out = Vec::new();
    let threads = cfg.udp_threads.max(1);
    for (name, security, port, k) in [
        ("plain", Security::None, cfg.plain_port, 1u64),
        ("psk", Security::Psk, cfg.psk_port, 2u64),
    ] {
        if let Some(port) = port {
            let addr = SocketAddr::new(cfg.bind, port);
            if threads == 1 {
                let sock = bind_udp(name, addr)?;
                out.push((name, security, UdpTransport::from_socket(sock), k, 0));
                continue;
            }
            let first = bind_reuseport(name, addr)?;
            let addr = first.local_addr()?;
            out.push((name, security, UdpTransport::from_socket(first), k, 0));
            for t in 1..threads {
                let sock = bind_reuseport(name, addr)?;
                out.push((name, security, UdpTransport::from_socket(sock), k, t));
            }
        }
    }
    Ok(out)
}

/// A UDP socket bound to `addr` with `SO_REUSEPORT`, so that several
/// threads each receive on a socket of their own: the kernel hashes each
/// peer to one of them, and no lock is shared on the receive path.
#[cfg(target_os = "linux")]
fn bind_reuseport(what: &str, addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    use std::os::fd::FromRawFd;
    let named = |e: io::Error| bind_error(what, addr, e);
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain syscalls; every result is checked and the descriptor
    // is owned by the UdpSocket (closed on drop) as soon as it exists.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(named(io::Error::last_os_error()));
        }
        let sock = std::net::UdpSocket::from_raw_fd(fd);
        let one: libc::c_int = 1;
        if libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) < 0
        {
            return Err(named(io::Error::last_os_error()));
        }
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let len = match addr {
            SocketAddr::V4(a) => {
                let sin = &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in);
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
                std::mem::size_of::<libc::sockaddr_in>()
            }
            SocketAddr::V6(a) => {
                let sin6 = &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6);
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                sin6.sin6_scope_id = a.scope_id();
                std::mem::size_of::<libc::sockaddr_in6>()
            }
        };
        if libc::bind(
            fd,
            (&ss as *const libc::sockaddr_storage).cast(),
            len as libc::socklen_t,
        ) < 0
        {
            return Err(named(io::Error::last_os_error()));
        }
        Ok(sock)
    }
}

#[cfg(not(target_os = "linux"))]
fn bind_reuseport(what: &str, _addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!("the {what} listener: more than one thread needs Linux (SO_REUSEPORT)"),
    ))
}

/// The DTLS listener's identity and socket, with the CA written to
/// `dtls_ca_out` when asked.
fn prepare_dtls(cfg: &SimConfig) -> io::Result<Option<(dtls::Identity, std::net::UdpSocket)>> {
    let dtls = match cfg.dtls_port {
        Some(port) => {
            let identity = match &cfg.dtls_cert {
                Some(files) => dtls::Identity::load(files)?,
                None => dtls::Identity::generate(cfg.bind, &cfg.dtls_hosts).map_err(|e| {
                    io::Error::other(format!("cannot generate the DTLS certificates: {e}"))
                })?,
            };
            let sock = bind_udp("DTLS", SocketAddr::new(cfg.bind, port))?;
            Some((identity, sock))
        }
        None => None,
    };
    if let Some(path) = &cfg.dtls_ca_out {
        let pem = dtls.as_ref().and_then(|(id, _)| id.ca_pem.as_deref());
        let Some(pem) = pem else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no CA certificate to write: the DTLS listener is off, or the \
                 loaded chain does not end in a self-signed certificate",
            ));
        };
        write_atomically(path, pem.as_bytes()).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
        })?;
    }
    Ok(dtls)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// reader never sees a partial file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

impl SimHandle {
    /// Prints the `listening` line: before any listener runs, so it is the
    /// first stdout line.
    fn print_listening(&self, human: bool) -> io::Result<()> {
        use std::io::Write;
        let v = self.listening_event();
        let mut out = io::stdout().lock();
        writeln!(out, "{}", log::to_line(&v))?;
        out.flush()?;
        if human {
            eprintln!("{}", log::human_line(&v));
        }
        Ok(())
    }

    /// Runs `listener` (its thread `t`) on its own thread until the handle stops.
    fn spawn<T: DatagramTransport + 'static>(
        &mut self,
        listener: Stacked<T>,
        t: usize,
    ) -> io::Result<()> {
        let stop = self.stop.clone();
        let name = match t {
            0 => format!("sim-{}", listener.name()),
            t => format!("sim-{}-{t}", listener.name()),
        };
        self.threads.push(
            std::thread::Builder::new()
                .name(name)
                .spawn(move || listener.run(&stop))?,
        );
        Ok(())
    }

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
    /// Address of the DTLS (`coaps://`) listener. Panics if it is disabled.
    pub fn dtls_addr(&self) -> SocketAddr {
        self.dtls
            .expect("the DTLS listener is disabled (SimConfig::dtls(true) starts it)")
    }
    pub fn try_dtls_addr(&self) -> Option<SocketAddr> {
        self.dtls
    }
    /// PEM of the CA certificate DTLS clients must trust: the generated CA,
    /// or with loaded certificates the chain's self-signed top (else `None`).
    /// `None` when the DTLS listener is disabled.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }
    /// Every event logged so far (needs `capture_events`, the API default).
    pub fn events(&self) -> Vec<Value> {
        self.platform.log().snapshot()
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
        self.platform.log().wait_for(timeout, pred)
    }
    pub fn stats(&self) -> Stats {
        self.platform.counters().snapshot()
    }
    /// Tokens the platform holds: issued and not yet retired (expired ones
    /// are retired a few at a time as new ones are issued).
    pub fn tokens_held(&self) -> usize {
        self.platform.tokens_held()
    }
    /// The `{"event":"listening",...}` line's object.
    pub fn listening_event(&self) -> Value {
        let a = |a: Option<SocketAddr>| a.map(|a| a.to_string());
        serde_json::json!({
            "event": "listening",
            "plain": a(self.plain),
            "psk": a(self.psk),
            "dtls": a(self.dtls),
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
        self.platform.log().emit("stats", stats);
        self.platform.log().close();
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
