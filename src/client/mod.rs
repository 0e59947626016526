//! A blocking driver that runs a [`Session`] over a [`Platform`].
//!
//! It is what `IOT_CoAP_*` use and what a Rust application uses directly.
//! All methods take `&self`: one thread may sit in [`Client::poll`] while
//! others [`Client::send`]. The session is behind the platform's lock, the
//! lock is never held across a blocking receive, and events are handed to
//! the caller's closure with no lock held, so that closure may call
//! [`Client::send`] again.
//!
//! This module does the blocking, locking and I/O; what to conclude from
//! silence, refusals and failed reconnects is decided by `link::Link`, a
//! sans-IO state machine this driver feeds and obeys.

mod link;

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
use link::{Link, Progress};
#[cfg(not(target_has_atomic = "ptr"))]
use portable_atomic_util::Arc;

/// How an uplink travels (RFC 7252 §4.2, §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// Confirmable: retransmitted until acknowledged, and reported either
    /// way (a response or [`Event::SendFailed`]).
    Con,
    /// Non-confirmable: sent once; a response may or may not come.
    Non,
}

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
    link: Link,
    /// Started from a stored session: the first `authenticate` is done.
    #[cfg(feature = "session-store")]
    resumed: bool,
    /// The receive buffer, allocated once with the context rather than on
    /// the stack of the task that calls Yield (an RTOS task's stack stays
    /// within 2 KB). Taken out for a read, which runs without the lock; a
    /// second reader at the same time gets one of its own.
    rx: Option<Box<[u8]>>,
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

/// What the session has counted, for the link's liveness rule.
fn progress<U>(session: &Session<U>) -> Progress {
    let st = session.stats();
    Progress {
        retransmissions: st.retransmissions,
        rx_datagrams: st.rx_datagrams,
    }
}

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

/// A batch's vectors once its datagrams are sent and its events delivered,
/// handed back to the session at the next lock ([`Session::recycle`]) so
/// that a steady stream of uplinks allocates nothing for them.
struct Spent<U> {
    transmit: Vec<Vec<u8>>,
    events: Vec<Event<U>>,
}

/// What a Yield starts with: the batch, the next deadline, the receive
/// buffer (see [`Client::begin_turn`]).
type Turn<P, U> = (Batch<P, U>, Option<u64>, Option<Box<[u8]>>);

impl<U> Spent<U> {
    fn give_back(self, session: &mut Session<U>) {
        session.recycle(self.transmit, self.events);
    }
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
        let link = Link::new(platform.now_ms(), transport.session_can_die());
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
                link,
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

    /// [`Client::with`], first giving a batch's used vectors back to the
    /// session.
    fn with_recycled<R>(
        &self,
        spent: Option<Spent<U>>,
        f: impl FnOnce(&mut Inner<P, U>) -> R,
    ) -> R {
        self.with(|i| {
            if let Some(s) = spent {
                s.give_back(&mut i.session);
            }
            f(i)
        })
    }

    pub fn is_authed(&self) -> bool {
        self.with(|i| i.session.is_authed())
    }

    /// The transmission parameters requests are sent with.
    pub fn timing(&self) -> crate::core::session::Timing {
        self.with(|i| i.session.config().timing())
    }

    /// New transmission parameters for requests sent from now on (see
    /// [`Session::set_timing`]); the caller checks them.
    pub fn set_timing(&self, t: crate::core::session::Timing) {
        self.with(|i| i.session.set_timing(t))
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

    /// Creates a new transport with no lock held (a DTLS handshake may
    /// take seconds; senders must not wait for it) and installs it, or
    /// schedules the next attempt. `Err(true)` when the failure is the
    /// first of an outage (to be reported).
    fn reconnect(&self) -> Result<(), (ConnectError, bool)> {
        let result = self.platform.connect(&self.endpoint);
        let now = self.platform.now_ms();
        let random = self.platform.random_u32();
        let result = self.with(|i| match result {
            Ok(t) => {
                i.transport = Some(Arc::new(t));
                i.session.retransmit_now(now);
                i.link.connected(now, progress(&i.session));
                Ok(())
            }
            Err(e) => Err((e, i.link.connect_failed(now, random))),
        });
        match result {
            Ok(()) => self.log(LogLevel::Info, &["reconnected"]),
            Err(_) => self.log(LogLevel::Warning, &["could not re-create the session"]),
        }
        result
    }

    /// Drops a session the link judges dead: a server that lost it
    /// (restart) silently drops our records, and UDP gives no other sign.
    fn check_liveness(&self, inner: &mut Inner<P, U>, now: u64) {
        let ack_timeout = inner.session.config().ack_timeout_ms;
        // Asked even without a transport: what came in still counts.
        if inner
            .link
            .is_dead(now, progress(&inner.session), ack_timeout)
            && inner.transport.is_some()
        {
            self.log(LogLevel::Warning, &["DTLS session silent; reconnecting"]);
            inner.transport = None;
        }
    }

    /// A receive error: reported once per outage; the link may conclude
    /// that nobody listens, and then every waiting request is given up.
    fn receive_failed(&self, e: TransportError, on_event: &mut dyn FnMut(ClientEvent<U>)) {
        let now = self.platform.now_ms();
        let (refusal, given_up) = self.with(|i| {
            let refusal = i.link.receive_failed(i.session.in_flight());
            if refusal.give_up {
                i.session.abort_all(now);
            }
            (refusal, refusal.give_up.then(|| self.drain(i)))
        });
        if refusal.report {
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

    /// Sends a batch's datagrams and delivers its events, with no lock
    /// held; returns its vectors, for the next lock to give back.
    fn run(&self, mut b: Batch<P, U>, on_event: &mut dyn FnMut(ClientEvent<U>)) -> Spent<U> {
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
        for e in b.events.drain(..) {
            on_event(ClientEvent::Session(e));
        }
        if let Some(e) = b.connect_failed {
            on_event(ClientEvent::ConnectFailed(e));
        }
        Spent {
            transmit: b.transmit,
            events: b.events,
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

    /// Queues an uplink and hands its datagram to the network. A
    /// [`MessageType::Con`] uplink gets exactly one outcome from
    /// [`Client::poll`]: its response, or [`Event::SendFailed`]. On error
    /// `user` comes back with the reason.
    pub fn send(
        &self,
        path: &str,
        payload: &[u8],
        format: u8,
        kind: MessageType,
        user: U,
    ) -> Result<(), (SendError, U)> {
        let confirmable = kind == MessageType::Con;
        let now = self.platform.now_ms();
        // Never connects: a sender does not wait for a handshake. Without a
        // transport the message waits for the next one (Client::poll
        // creates it and sends what waits).
        let batch = self.with(|i| {
            i.session
                .send(now, path, payload, format, confirmable, user)?;
            Ok(self.drain(i))
        })?;
        // The vectors go back under a lock of their own: a sender has no
        // later lock to hand them to.
        let spent = self.run(batch, &mut |_| {});
        self.with_recycled(Some(spent), |_| ());
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
        if self.with(|i| i.link.claim_connect(now, i.transport.is_some(), true)) {
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
        // The loop yields the outcome itself, so no `None` arm is left to
        // panic on (an unreachable!() linked core's panic path).
        let mut outcome = loop {
            if let Some(r) = result.get() {
                break r;
            }
            if self.is_closing() {
                // Torn down from a callback: the teardown reports the auth.
                break Err(AuthError::Rejected(None));
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
        };
        if outcome == Err(AuthError::Rejected(None)) && self.with(|i| i.link.unreachable()) {
            outcome = Err(AuthError::Unreachable);
        }
        match outcome {
            Ok(()) => {
                self.log(LogLevel::Info, &["authenticated"]);
                Ok(())
            }
            Err(e) => {
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
                    AuthError::Rejected(None) => {
                        self.log(LogLevel::Error, &[AUTH_FAILED, "no valid answer"])
                    }
                    AuthError::Connect(_) => {
                        self.log(LogLevel::Error, &[AUTH_FAILED, "not connected"])
                    }
                    // Named when the requests were given up (receive_failed).
                    AuthError::Unreachable => {}
                }
                Err(e)
            }
        }
    }

    /// One datagram from the transport: judged and dropped (counted, and
    /// named in a debug line) or processed. `truncated`: it filled the
    /// whole buffer, so it was (or may have been) cut short.
    /// `spent`: the last batch's vectors, given back under this lock and
    /// replaced by this batch's. Returns whether exchanges are still
    /// waiting for answers.
    fn receive(
        &self,
        data: &[u8],
        truncated: bool,
        spent: &mut Option<Spent<U>>,
        on_event: &mut dyn FnMut(ClientEvent<U>),
    ) -> bool {
        let now = self.platform.now_ms();
        let (batch, before, after, waiting) = self.with_recycled(spent.take(), |i| {
            i.link.datagram_received();
            let before = i.session.drops();
            if truncated {
                i.session.handle_truncated();
            } else {
                i.session.handle_datagram(now, data);
            }
            let waiting = i.session.in_flight() > 0;
            (self.drain(i), before, i.session.drops(), waiting)
        });
        if let Some(k) = (0..DROP_REASONS.len()).find(|&k| after[k] != before[k]) {
            self.log(LogLevel::Debug, &["datagram dropped: ", DROP_REASONS[k]]);
        }
        *spent = Some(self.run(batch, on_event));
        waiting
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

    /// A turn's start: timers, liveness, a transport if one is due; then
    /// the batch, the next deadline and the receive buffer. The receive
    /// buffer is taken under the same lock as the batch, and that is the
    /// lock of the timers too unless a transport must be made first (a
    /// concurrent reader finds no buffer and gets its own).
    // Not inlined: its temporaries would stay in `poll`'s frame, under every
    // datagram's processing (the deepest stack of a Yield).
    #[inline(never)]
    fn begin_turn(&self, start: u64) -> Turn<P, U> {
        let take = |i: &mut Inner<P, U>| (self.drain(i), i.session.poll_timeout(), i.rx.take());
        let first = self.with(|i| {
            i.session.handle_timeout(start);
            self.check_liveness(i, start);
            let connect = i.link.claim_connect(start, i.transport.is_some(), false);
            (!connect).then(|| take(i))
        });
        if let Some(taken) = first {
            return taken;
        }
        let failed = match self.reconnect() {
            Err((e, true)) => Some(e),
            _ => None,
        };
        let mut taken = self.with(take);
        taken.0.connect_failed = failed;
        taken
    }

    /// One turn of the loop (`IOT_CoAP_Yield`): retransmit what is due,
    /// wait up to `wait_ms` (less if a retransmission falls due) for
    /// traffic, process it, deliver events. Returns early once a burst of
    /// datagrams has been handled; never spins when idle.
    pub fn poll(&self, on_event: &mut dyn FnMut(ClientEvent<U>)) {
        let start = self.platform.now_ms();
        let (batch, deadline, rx) = self.begin_turn(start);
        let transport = batch.transport.clone();
        let mut spent = Some(self.run(batch, on_event));
        let Some(t) = transport.filter(|_| !self.is_closing()) else {
            if let Some(buf) = rx {
                self.give_back_rx(buf, spent);
            }
            // No transport and none to be had: don't spin.
            if !self.is_closing() {
                self.sleep_rest(start, u64::from(self.wait_ms), 0);
            }
            return;
        };
        let mut wait = u64::from(self.wait_ms);
        if let Some(d) = deadline {
            wait = wait.min(d.saturating_sub(start).max(1));
        }
        let mut buf = rx.unwrap_or_else(rx_buffer);
        let mut timeout = wait as u32;
        // After the first datagram, only drain what is already queued.
        for _ in 0..32 {
            match t.recv(&mut buf, timeout) {
                Ok(Some(n)) => {
                    let waiting = self.receive(
                        &buf[..n.min(buf.len())],
                        n >= buf.len(),
                        &mut spent,
                        on_event,
                    );
                    // Nothing more is expected once no exchange waits: the
                    // next Yield reads whatever comes (a read saved per
                    // answered uplink).
                    if self.is_closing() || !waiting {
                        break;
                    }
                    timeout = 0;
                }
                Ok(None) => {
                    // Some HALs report "no data" at once instead of waiting;
                    // Yield must still not spin when idle.
                    if timeout > 0 {
                        self.sleep_rest(start, wait, 1);
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
                    self.sleep_rest(start, wait, 0);
                    break;
                }
            }
        }
        self.give_back_rx(buf, spent);
    }

    /// Sleeps out what is left of `wait` ms since `start`, when that is
    /// more than `slack` ms. Out of line: one copy of the 64-bit clock
    /// arithmetic (register pairs on a 32-bit core) for poll's three ways
    /// out.
    #[inline(never)]
    fn sleep_rest(&self, start: u64, wait: u64, slack: u64) {
        let spent = self.platform.now_ms().saturating_sub(start);
        if spent + slack < wait {
            self.platform.sleep_ms((wait - spent) as u32);
        }
    }

    /// Returns a receive buffer to the client, unless a concurrent reader
    /// already put its own back, and the last batch's vectors.
    fn give_back_rx(&self, buf: Box<[u8]>, spent: Option<Spent<U>>) {
        self.with_recycled(spent, |i| {
            if i.rx.is_none() {
                i.rx = Some(buf);
            }
        });
    }
}

/// The largest datagram taken is [`MAX_PDU`] bytes, the largest sent (and
/// the vendor SDK's limit both ways); one byte more tells a longer one,
/// which fills the buffer and is dropped as truncated.
pub const RX_BUFFER_LEN: usize = MAX_PDU + 1;

fn rx_buffer() -> Box<[u8]> {
    alloc::vec![0u8; RX_BUFFER_LEN].into_boxed_slice()
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
        /// Its transports claim a session that can die (as DTLS's).
        can_die: bool,
        connects: AtomicU64,
    }

    impl Instant0 {
        fn new(can_die: bool) -> Self {
            Instant0 {
                clock: AtomicU64::new(1000),
                sleeps: AtomicU64::new(0),
                can_die,
                connects: AtomicU64::new(0),
            }
        }
    }

    struct Silent {
        can_die: bool,
    }

    impl Transport for Silent {
        fn send(&self, _: &[u8]) -> Result<(), TransportError> {
            Ok(())
        }
        fn recv(&self, _: &mut [u8], _: u32) -> Result<Option<usize>, TransportError> {
            Ok(None)
        }
        fn session_can_die(&self) -> bool {
            self.can_die
        }
    }

    impl Platform for Instant0 {
        type Transport = Silent;
        type Lock = StdLock;
        fn connect(&self, _: &Endpoint) -> Result<Silent, ConnectError> {
            self.connects.fetch_add(1, Ordering::SeqCst);
            Ok(Silent {
                can_die: self.can_die,
            })
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
        let p = Instant0::new(false);
        let ep = crate::core::url::parse("coap://127.0.0.1").unwrap();
        let c: Client<Instant0, u32> =
            Client::connect(p, ep, Config::new("p", "d", "s", Security::Plain), 250).unwrap();
        for _ in 0..4 {
            c.poll(&mut |_| {});
        }
        assert_eq!(c.platform().now_ms(), 1000 + 4 * 250);
        assert_eq!(c.platform().sleeps.load(Ordering::SeqCst), 4);
    }

    /// The transport's capability, not the URL, decides: the same silent
    /// auth over a `coap://` endpoint gets a new transport when the
    /// transport says its session can die (after two retransmissions and
    /// 8 s of silence), and none when it does not.
    #[test]
    fn a_silent_session_is_rebuilt_only_when_the_transport_says_it_can_die() {
        for can_die in [false, true] {
            let ep = crate::core::url::parse("coap://127.0.0.1").unwrap();
            let cfg = Config::new("p", "d", "s", Security::Plain);
            let c: Client<Instant0, u32> =
                Client::connect(Instant0::new(can_die), ep, cfg, 250).unwrap();
            let start = c.platform().now_ms();
            c.with(|i| i.session.start_auth(start));
            let mut rebuilt_at = None;
            while c.platform().now_ms() < start + 30_000 {
                c.poll(&mut |_| {});
                if rebuilt_at.is_none() && c.platform().connects.load(Ordering::SeqCst) > 1 {
                    rebuilt_at = Some(c.platform().now_ms() - start);
                    let retransmissions = c.stats().retransmissions;
                    assert!(retransmissions >= 2, "{retransmissions}");
                }
            }
            match rebuilt_at {
                // The second retransmission comes 6-9 s in; then 8 s of
                // silence counted from the start.
                Some(t) => assert!(can_die && (8000..=10_000).contains(&t), "{t}"),
                None => assert!(!can_die),
            }
        }
    }
}
