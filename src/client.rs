//! A blocking driver that runs a [`Session`] over a [`Platform`].
//!
//! It is what `IOT_CoAP_*` use and what a Rust application uses directly.
//! All methods take `&self`: one thread may sit in [`Client::poll`] while
//! others [`Client::send`]. The session is behind the platform's lock, the
//! lock is never held across a blocking receive, and events are handed to
//! the caller's closure with no lock held, so that closure may call
//! [`Client::send`] again.

use alloc::boxed::Box;
#[cfg(target_has_atomic = "ptr")]
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::core::session::{
    code_text, AuthProblem, Config, Event, SendError, Session, DROP_REASONS, MAX_PDU,
};
use crate::core::url::Endpoint;
use crate::platform::{ConnectError, LogLevel, Platform, RawLock, Transport, TransportError};
// Cores without compare-and-swap (Cortex-M0/M0+, rv32imc): see Cargo.toml.
#[cfg(not(target_has_atomic = "ptr"))]
use portable_atomic_util::Arc;

/// What the driver reports: the session's events plus transport trouble.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientEvent<U> {
    Session(Event<U>),
    /// Receiving failed (`Closed`: the secure session died and will be
    /// re-created on the next call).
    RecvFailed(TransportError),
    /// A new transport (DTLS session) could not be created; retried on the
    /// next call.
    ConnectFailed(ConnectError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// The platform refused (`Some(code)`) or never answered (`None`).
    Rejected(Option<u8>),
    /// The network refused every datagram (ICMP port unreachable on a
    /// connected socket, as the HAL reports it): nobody listens there.
    Unreachable,
    /// No transport could be (re)connected.
    Connect(ConnectError),
}

struct Inner<P: Platform, U> {
    session: Session<U>,
    transport: Option<Arc<P::Transport>>,
    /// (retransmissions, datagrams received) when something last came in:
    /// a secure session that answers nothing through two retransmissions
    /// (and four ACK timeouts) is presumed dead (the server restarted and
    /// lost it).
    progress: (u32, u32),
    /// When that was (or the session began): silence is measured from it.
    progress_at: u64,
    /// Receive errors since a datagram last came in. The first one of an
    /// outage is reported (RECV_FAILED); the second while requests wait
    /// means nobody listens, and they are given up at once.
    refusals: u8,
    /// The last requests were given up that way (for the auth's message).
    unreachable: bool,
    /// RECV_FAILED was reported for the current outage (cleared by the
    /// next datagram that comes in): one report per outage, not per turn.
    outage_reported: bool,
    /// A thread is creating a new transport (outside the lock).
    connecting: bool,
    /// New transports that failed in a row, and when the next may be
    /// tried (exponential backoff with jitter).
    connect_failures: u32,
    connect_at: u64,
    /// Started from a stored session: the first `authenticate` is done.
    #[cfg(feature = "session-store")]
    resumed: bool,
    /// The receive buffer, allocated once with the context rather than on
    /// the stack of the task that calls Yield (an RTOS task's stack stays
    /// within 2 KB). Taken out for a read, which runs without the lock; a
    /// second reader at the same time gets one of its own.
    rx: Option<Box<[u8]>>,
}

/// Backoff between failed attempts at a new transport: the first retry
/// after 1 s, doubling up to 60 s, each drawn from the upper half of its
/// step so that a fleet that lost its server does not come back in step.
const RECONNECT_FIRST_MS: u32 = 1000;
const RECONNECT_MAX_MS: u32 = 60_000;

/// The wait before the next attempt after `failures` (>= 1) in a row.
fn reconnect_delay(failures: u32, random: u32) -> u64 {
    let step = RECONNECT_FIRST_MS
        .checked_shl(failures.saturating_sub(1).min(16))
        .map_or(RECONNECT_MAX_MS, |d| d.min(RECONNECT_MAX_MS));
    u64::from(step / 2 + random % (step / 2 + 1))
}

/// What the error lines say after "HOST port N": short, since every byte
/// is flash on a device. The guesses at a wrong scheme or port (all but
/// REFUSED) come with feature `hints`: the Linux build has them, the
/// firmware route leaves them out (~700 bytes of flash).
const REFUSED: &str = ": port unreachable (wrong host, port or scheme?)";
const NOT_PSK: &str = " sent no PSK parameters: a coap:// port?";
const PSK_PORT: &str = " expects PSK: a coap-psk:// port?";
/// The HAL says only that the handshake failed: its own line says why.
const NO_DTLS: &str = ": wrong CA, or not a coaps:// port?";

/// One error line: `lead`, "HOST port N", `tail`.
fn log_at_endpoint<P: Platform>(platform: &P, endpoint: &Endpoint, lead: &str, tail: &str) {
    if platform.log_enabled(LogLevel::Error) {
        let mut port = crate::core::sign::itoa_buf();
        let port = crate::core::sign::fmt_u64(&mut port, endpoint.port.into());
        platform.log(
            LogLevel::Error,
            &[lead, &endpoint.host, " port ", port, tail],
        );
    }
}

const AUTH_FAILED: &str = "authentication failed: ";

/// Receive errors in a row, with requests waiting, after which the
/// endpoint counts as unreachable. Each datagram sent to a closed port
/// earns one error, so this is the first retransmission (2-3 s).
const REFUSALS_UNREACHABLE: u8 = 2;

pub struct Client<P: Platform, U> {
    platform: P,
    endpoint: Endpoint,
    wait_ms: u32,
    lock: P::Lock,
    inner: UnsafeCell<Inner<P, U>>,
    /// Set by [`Client::close`]: a turn in progress stops reading.
    closing: AtomicBool,
}

// SAFETY: `inner` is only reached through `with`, under `lock`; U crosses
// threads inside the session, hence U: Send.
unsafe impl<P: Platform, U: Send> Sync for Client<P, U> {}
unsafe impl<P: Platform, U: Send> Send for Client<P, U> {}

struct Unlock<'a, L: RawLock>(&'a L);
impl<L: RawLock> Drop for Unlock<'_, L> {
    fn drop(&mut self) {
        // SAFETY: created right after locking, on this thread.
        unsafe { self.0.unlock() }
    }
}

/// Work taken out of the lock: datagrams to send and events to deliver.
struct Batch<P: Platform, U> {
    transmit: Vec<Vec<u8>>,
    events: Vec<Event<U>>,
    /// Reported after `events`.
    connect_failed: Option<ConnectError>,
    transport: Option<Arc<P::Transport>>,
}

impl<P: Platform, U: Send> Client<P, U> {
    /// Connects the transport at once (as the vendor's `IOT_CoAP_Init`
    /// does), so a bad host or a failed DTLS handshake shows up here.
    pub fn connect(
        platform: P,
        endpoint: Endpoint,
        mut cfg: Config,
        wait_ms: u32,
    ) -> Result<Self, ConnectError> {
        let transport = platform.connect(&endpoint).inspect_err(|e| {
            if *e == ConnectError::Handshake {
                let hint = if cfg!(feature = "hints") { NO_DTLS } else { "" };
                log_at_endpoint(
                    &platform,
                    &endpoint,
                    "DTLS session could not be created with ",
                    hint,
                );
            }
        })?;
        let lock = platform.new_lock().ok_or(ConnectError::Unreachable)?;
        cfg.seed = (u64::from(platform.random_u32()) << 32) | u64::from(platform.random_u32());
        #[cfg(feature = "session-store")]
        let (session, resumed) = crate::platform::session_store::restore(&platform, &endpoint, cfg);
        Ok(Client {
            endpoint,
            wait_ms: wait_ms.max(1),
            lock,
            inner: UnsafeCell::new(Inner {
                #[cfg(not(feature = "session-store"))]
                session: Session::new(cfg),
                #[cfg(feature = "session-store")]
                session,
                transport: Some(Arc::new(transport)),
                progress: (0, 0),
                progress_at: platform.now_ms(),
                refusals: 0,
                unreachable: false,
                outage_reported: false,
                connecting: false,
                connect_failures: 0,
                connect_at: 0,
                #[cfg(feature = "session-store")]
                resumed,
                rx: Some(rx_buffer()),
            }),
            closing: AtomicBool::new(false),
            platform,
        })
    }

    pub fn platform(&self) -> &P {
        &self.platform
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner<P, U>) -> R) -> R {
        self.lock.lock();
        let _unlock = Unlock(&self.lock);
        // SAFETY: the lock gives exclusive access until `_unlock` drops.
        f(unsafe { &mut *self.inner.get() })
    }

    pub fn is_authed(&self) -> bool {
        self.with(|i| i.session.is_authed())
    }

    pub fn stats(&self) -> crate::core::Stats {
        self.with(|i| i.session.stats())
    }

    /// One line through the platform's log, when `level` is enabled.
    pub fn log(&self, level: LogLevel, parts: &[&str]) {
        if self.platform.log_enabled(level) {
            self.platform.log(level, parts);
        }
    }

    /// Takes everything the session wants done, with the transport to do
    /// it on.
    fn drain(&self, inner: &mut Inner<P, U>) -> Batch<P, U> {
        // Write-ahead: stored before any of these datagrams leaves.
        #[cfg(feature = "session-store")]
        crate::platform::session_store::persist(&self.platform, &self.endpoint, &mut inner.session);
        Batch {
            transmit: inner.session.take_transmit(),
            events: inner.session.take_events(),
            connect_failed: None,
            transport: inner.transport.clone(),
        }
    }

    /// Under the lock: whether this thread should create a new transport
    /// now (none is live, no other thread is at it, and the backoff has
    /// passed unless `now_or_never`). The caller then calls
    /// [`Client::reconnect`], without the lock.
    fn claim_connect(&self, i: &mut Inner<P, U>, now: u64, now_or_never: bool) -> bool {
        if i.transport.is_some() || i.connecting || (!now_or_never && now < i.connect_at) {
            return false;
        }
        i.connecting = true;
        true
    }

    /// Creates a new transport with no lock held (a DTLS handshake may
    /// take seconds; senders must not wait for it) and installs it, or
    /// schedules the next attempt. `Err(true)` when the failure is the
    /// first of an outage (to be reported).
    fn reconnect(&self) -> Result<(), (ConnectError, bool)> {
        let result = self.platform.connect(&self.endpoint);
        let now = self.platform.now_ms();
        let random = self.platform.random_u32();
        let result = self.with(|i| {
            i.connecting = false;
            match result {
                Ok(t) => {
                    i.transport = Some(Arc::new(t));
                    i.connect_failures = 0;
                    i.session.retransmit_now(now);
                    let st = i.session.stats();
                    i.progress = (st.retransmissions, st.rx_datagrams);
                    i.progress_at = now;
                    Ok(())
                }
                Err(e) => {
                    i.connect_failures = i.connect_failures.saturating_add(1);
                    i.connect_at = now + reconnect_delay(i.connect_failures, random);
                    Err((e, !core::mem::replace(&mut i.outage_reported, true)))
                }
            }
        });
        match result {
            Ok(()) => self.log(LogLevel::Info, &["new session with the platform"]),
            Err(_) => self.log(LogLevel::Warning, &["could not re-create the session"]),
        }
        result
    }

    /// DTLS only: a server that lost our session (restart) silently drops
    /// our records, and UDP gives no other sign of it.
    fn check_liveness(&self, inner: &mut Inner<P, U>, now: u64) {
        let st = inner.session.stats();
        // Two retransmissions alone are no sign: many messages in flight
        // retransmit in bursts. Silence through two retransmissions of one
        // exchange is (about four ACK timeouts); a lossy but live server
        // answers something in that time.
        let silence = 4 * u64::from(inner.session.config().ack_timeout_ms);
        if st.rx_datagrams != inner.progress.1 {
            inner.progress = (st.retransmissions, st.rx_datagrams);
            inner.progress_at = now;
        } else if self.endpoint.security == crate::core::url::Security::Dtls
            && st.retransmissions >= inner.progress.0 + 2
            && now.saturating_sub(inner.progress_at) >= silence
            && inner.transport.is_some()
        {
            self.log(
                LogLevel::Warning,
                &["secure session silent; starting a new one"],
            );
            inner.transport = None;
        }
    }

    /// A receive error over plain UDP: reported once per outage; with
    /// requests waiting, a second one in a row gives them all up (see
    /// [`REFUSALS_UNREACHABLE`]).
    /// A network that drops silently raises no error and keeps the RFC 7252
    /// schedule.
    fn receive_failed(&self, e: TransportError, on_event: &mut dyn FnMut(ClientEvent<U>)) {
        if self.endpoint.security == crate::core::url::Security::Dtls {
            // A failed secure session is re-created and its requests sent
            // again (check_liveness); refusals say nothing there.
            if !self.with(|i| core::mem::replace(&mut i.outage_reported, true)) {
                on_event(ClientEvent::RecvFailed(e));
            }
            return;
        }
        let now = self.platform.now_ms();
        let (first, given_up) = self.with(|i| {
            i.refusals = i.refusals.saturating_add(1);
            let give_up = i.refusals >= REFUSALS_UNREACHABLE && i.session.in_flight() > 0;
            if give_up {
                i.unreachable = true;
                i.session.abort_all(now);
            }
            let first = !core::mem::replace(&mut i.outage_reported, true);
            (first, give_up.then(|| self.drain(i)))
        });
        if first {
            on_event(ClientEvent::RecvFailed(e));
        }
        if let Some(batch) = given_up {
            log_at_endpoint(
                &self.platform,
                &self.endpoint,
                "nothing answers at ",
                REFUSED,
            );
            self.run(batch, on_event);
        }
    }

    /// An auth answer that shows the URL names the wrong kind of endpoint.
    fn log_auth_problem(&self, problem: AuthProblem) {
        let tail = match problem {
            AuthProblem::NotPskEndpoint => NOT_PSK,
            AuthProblem::PskEndpoint => PSK_PORT,
            AuthProblem::UnusableToken => " sent a token no uplink can carry",
        };
        log_at_endpoint(&self.platform, &self.endpoint, AUTH_FAILED, tail);
    }

    fn run(&self, b: Batch<P, U>, on_event: &mut dyn FnMut(ClientEvent<U>)) {
        if let Some(t) = &b.transport {
            for d in &b.transmit {
                if let Err(e) = t.send(d) {
                    // The exchange stays registered: retransmission retries.
                    self.log(LogLevel::Warning, &["datagram not sent"]);
                    if e == TransportError::Closed {
                        self.drop_transport(t);
                    }
                }
            }
        }
        for e in b.events {
            on_event(ClientEvent::Session(e));
        }
        if let Some(e) = b.connect_failed {
            on_event(ClientEvent::ConnectFailed(e));
        }
    }

    fn drop_transport(&self, dead: &Arc<P::Transport>) {
        self.with(|i| {
            if i.transport.as_ref().is_some_and(|t| Arc::ptr_eq(t, dead)) {
                i.transport = None;
            }
        });
        self.log(LogLevel::Warning, &["secure session closed; reconnecting"]);
    }

    /// Queues an uplink and hands its datagram to the network.
    pub fn send(
        &self,
        path: &str,
        payload: &[u8],
        format: u8,
        confirmable: bool,
        user: U,
    ) -> Result<(), (SendError, U)> {
        let now = self.platform.now_ms();
        // Never connects: a sender does not wait for a handshake. Without a
        // transport the message waits for the next one (Client::poll
        // creates it and sends what waits).
        let batch = self.with(|i| {
            i.session
                .send(now, path, payload, format, confirmable, user)?;
            Ok(self.drain(i))
        })?;
        self.run(batch, &mut |_| {});
        Ok(())
    }

    /// Authenticates, blocking until the platform answers or the exchange
    /// times out (RFC 7252 retransmission). Other events that arrive
    /// meanwhile go to `on_event`.
    pub fn authenticate(&self, on_event: &mut dyn FnMut(ClientEvent<U>)) -> Result<(), AuthError> {
        // A stored session stands for the first auth: no traffic at all.
        #[cfg(feature = "session-store")]
        if self.with(|i| core::mem::take(&mut i.resumed) && i.session.is_authed()) {
            return Ok(());
        }
        let now = self.platform.now_ms();
        if self.with(|i| self.claim_connect(i, now, true)) {
            self.reconnect().map_err(|(e, _)| AuthError::Connect(e))?;
        }
        let batch = self.with(|i| {
            i.session.start_auth(now);
            self.drain(i)
        });
        let result = Cell::new(None);
        let mut handler = |e: ClientEvent<U>| match e {
            ClientEvent::Session(Event::Authenticated) if result.get().is_none() => {
                result.set(Some(Ok(())))
            }
            ClientEvent::Session(Event::AuthFailed { code }) if result.get().is_none() => {
                result.set(Some(Err(AuthError::Rejected(code))))
            }
            other => on_event(other),
        };
        self.run(batch, &mut handler);
        while result.get().is_none() {
            if self.is_closing() {
                // Torn down from a callback: the teardown reports the auth.
                result.set(Some(Err(AuthError::Rejected(None))));
                break;
            }
            self.poll(&mut handler);
            if result.get().is_none() && !self.with(|i| i.session.auth_in_progress()) {
                // Another thread's poll consumed the answer.
                result.set(Some(if self.is_authed() {
                    Ok(())
                } else {
                    Err(AuthError::Rejected(None))
                }));
            }
        }
        if result.get() == Some(Err(AuthError::Rejected(None))) && self.with(|i| i.unreachable) {
            result.set(Some(Err(AuthError::Unreachable)));
        }
        match result.get() {
            Some(Ok(())) => {
                self.log(LogLevel::Info, &["authenticated"]);
                Ok(())
            }
            Some(Err(e)) => {
                let mut buf = [0; 4];
                match e {
                    AuthError::Rejected(Some(code)) => {
                        match self.with(|i| i.session.auth_problem()) {
                            Some(problem) if cfg!(feature = "hints") => {
                                self.log_auth_problem(problem)
                            }
                            _ => self.log(
                                LogLevel::Error,
                                &[
                                    AUTH_FAILED,
                                    "the platform answered ",
                                    code_text(code, &mut buf),
                                ],
                            ),
                        }
                    }
                    AuthError::Rejected(None) => self.log(
                        LogLevel::Error,
                        &[AUTH_FAILED, "no valid answer from the platform"],
                    ),
                    AuthError::Connect(_) => self.log(
                        LogLevel::Error,
                        &[AUTH_FAILED, "no session with the platform"],
                    ),
                    // Named when the requests were given up (receive_failed).
                    AuthError::Unreachable => {}
                }
                Err(e)
            }
            None => unreachable!(),
        }
    }

    /// One datagram from the transport: judged and dropped (counted, and
    /// named in a debug line) or processed. `truncated`: it filled the
    /// whole buffer, so it was (or may have been) cut short.
    fn receive(&self, data: &[u8], truncated: bool, on_event: &mut dyn FnMut(ClientEvent<U>)) {
        let now = self.platform.now_ms();
        let (batch, before, after) = self.with(|i| {
            i.refusals = 0;
            i.unreachable = false;
            i.outage_reported = false;
            let before = i.session.drops();
            if truncated {
                i.session.handle_truncated();
            } else {
                i.session.handle_datagram(now, data);
            }
            (self.drain(i), before, i.session.drops())
        });
        if let Some(k) = (0..DROP_REASONS.len()).find(|&k| after[k] != before[k]) {
            self.log(LogLevel::Debug, &["datagram dropped: ", DROP_REASONS[k]]);
        }
        self.run(batch, on_event);
    }

    /// Stops a turn in progress from reading more datagrams (the C API's
    /// `IOT_CoAP_Deinit` called from a callback). Events already taken
    /// from the session are still delivered.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Gives up every request still waiting, each reported once through
    /// `on_event` (uplinks as `SendFailed`, an auth as `AuthFailed`), for
    /// a teardown: the "every request gets one outcome" contract covers
    /// it too.
    pub fn abort_all(&self, on_event: &mut dyn FnMut(ClientEvent<U>)) {
        let now = self.platform.now_ms();
        let events = self.with(|i| {
            i.session.abort_all(now);
            i.session.take_events()
        });
        for e in events {
            on_event(ClientEvent::Session(e));
        }
    }

    /// One turn of the loop (`IOT_CoAP_Yield`): retransmit what is due,
    /// wait up to `wait_ms` (less if a retransmission falls due) for
    /// traffic, process it, deliver events. Returns early once a burst of
    /// datagrams has been handled; never spins when idle.
    pub fn poll(&self, on_event: &mut dyn FnMut(ClientEvent<U>)) {
        let start = self.platform.now_ms();
        let connect = self.with(|i| {
            i.session.handle_timeout(start);
            self.check_liveness(i, start);
            self.claim_connect(i, start, false)
        });
        let connect_failed = match connect.then(|| self.reconnect()) {
            Some(Err((e, true))) => Some(e),
            _ => None,
        };
        let (mut batch, deadline) = self.with(|i| (self.drain(i), i.session.poll_timeout()));
        batch.connect_failed = connect_failed;
        let transport = batch.transport.clone();
        self.run(batch, on_event);
        let Some(t) = transport.filter(|_| !self.is_closing()) else {
            // No transport and none to be had: don't spin.
            let spent = self.platform.now_ms().saturating_sub(start);
            if spent < u64::from(self.wait_ms) && !self.is_closing() {
                self.platform.sleep_ms(self.wait_ms - spent as u32);
            }
            return;
        };
        let mut wait = u64::from(self.wait_ms);
        if let Some(d) = deadline {
            wait = wait.min(d.saturating_sub(start).max(1));
        }
        let mut buf = self.with(|i| i.rx.take()).unwrap_or_else(rx_buffer);
        let mut timeout = wait as u32;
        // After the first datagram, only drain what is already queued.
        for _ in 0..32 {
            match t.recv(&mut buf, timeout) {
                Ok(Some(n)) => {
                    self.receive(&buf[..n.min(buf.len())], n >= buf.len(), on_event);
                    if self.is_closing() {
                        break;
                    }
                    timeout = 0;
                }
                Ok(None) => {
                    // Some HALs report "no data" at once instead of waiting;
                    // Yield must still not spin when idle.
                    if timeout > 0 {
                        let spent = self.platform.now_ms().saturating_sub(start);
                        if spent + 1 < wait {
                            self.platform.sleep_ms((wait - spent) as u32);
                        }
                    }
                    break;
                }
                Err(e) => {
                    if e == TransportError::Closed {
                        self.drop_transport(&t);
                    }
                    self.receive_failed(e, on_event);
                    // An error that returns at once (ICMP refusal) must not
                    // turn Yield into a busy loop.
                    let spent = self.platform.now_ms().saturating_sub(start);
                    if spent < wait {
                        self.platform.sleep_ms((wait - spent) as u32);
                    }
                    break;
                }
            }
        }
        self.with(|i| {
            if i.rx.is_none() {
                i.rx = Some(buf);
            }
        });
    }
}

/// A datagram that fills it is dropped as truncated.
fn rx_buffer() -> Box<[u8]> {
    alloc::vec![0u8; MAX_PDU + 256].into_boxed_slice()
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::core::url::Security;
    use crate::platform::std_udp::{StdLock, StdPlatform};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A platform whose transport answers "no data" at once and whose clock
    /// only moves when someone sleeps: any busy loop would show as a Yield
    /// that took no (virtual) time.
    struct Instant0 {
        clock: AtomicU64,
        sleeps: AtomicU64,
    }
    struct Silent;

    impl Transport for Silent {
        fn send(&self, _: &[u8]) -> Result<(), TransportError> {
            Ok(())
        }
        fn recv(&self, _: &mut [u8], _: u32) -> Result<Option<usize>, TransportError> {
            Ok(None)
        }
    }

    impl Platform for Instant0 {
        type Transport = Silent;
        type Lock = StdLock;
        fn connect(&self, _: &Endpoint) -> Result<Silent, ConnectError> {
            Ok(Silent)
        }
        fn now_ms(&self) -> u64 {
            self.clock.load(Ordering::SeqCst)
        }
        fn random_u32(&self) -> u32 {
            7
        }
        fn new_lock(&self) -> Option<StdLock> {
            StdPlatform::new().new_lock()
        }
        fn sleep_ms(&self, ms: u32) {
            self.sleeps.fetch_add(1, Ordering::SeqCst);
            self.clock.fetch_add(u64::from(ms), Ordering::SeqCst);
        }
        fn log(&self, _: LogLevel, _: &[&str]) {}
        fn log_enabled(&self, _: LogLevel) -> bool {
            false
        }
    }

    #[test]
    fn idle_poll_waits_even_when_the_hal_does_not() {
        let p = Instant0 {
            clock: AtomicU64::new(1000),
            sleeps: AtomicU64::new(0),
        };
        let ep = crate::core::url::parse("coap://127.0.0.1").unwrap();
        let c: Client<Instant0, u32> =
            Client::connect(p, ep, Config::new("p", "d", "s", Security::Plain), 250).unwrap();
        for _ in 0..4 {
            c.poll(&mut |_| {});
        }
        assert_eq!(c.platform().now_ms(), 1000 + 4 * 250);
        assert_eq!(c.platform().sleeps.load(Ordering::SeqCst), 4);
    }
}
