//! One device's CoAP session with the platform: auth, uplinks, retransmission,
//! re-authentication. A pure state machine (see the module docs of
//! [`crate::core`]).
//!
//! Design points, each fixing a defect of the vendor SDK:
//! * retransmission runs on the caller's clock (RFC 7252 timers), not on a
//!   count of `Yield` calls;
//! * a CON message that is never answered ends in [`Event::SendFailed`];
//! * an uplink answered 4.01 (token expired) is held, the session
//!   re-authenticates once, and the message is sent again with the new token;
//! * the PSK key lives in the session, so any number of sessions coexist;
//! * PSK padding is validated before anything is stripped.

use alloc::string::String;
use alloc::vec::Vec;

pub use super::exchange::Timing;
use super::exchange::{EndReason, Exchanges, Incoming};
use super::handoff::Handoff;
use super::message::{self, RequestWriter, Type};
use super::psk::{self, PskKey};
pub use super::rto::RttEstimate;
use super::sign::{self, AuthParams, SignMethod};
use super::url::Security;

/// CoAP option carrying the auth token.
pub const OPTION_TOKEN: u16 = 2088;
/// CoAP option carrying the (encrypted) PSK sequence number.
pub const OPTION_SEQ: u16 = 2089;
/// CoAP option in which the platform returns its message id.
pub const OPTION_MESSAGE_ID: u16 = 2090;
/// Largest datagram we build (the SDK's hard PDU limit).
pub const MAX_PDU: usize = 1280;
/// Longest uplink path accepted (`IOTX_URI_MAX_LEN`).
pub const URI_MAX_LEN: usize = 135;
/// RFC 7252: 2.05 Content.
pub const CODE_CONTENT: u8 = 0x45;
/// RFC 7252: 4.00 Bad Request.
pub const CODE_BAD_REQUEST: u8 = 0x80;
/// RFC 7252: 4.01 Unauthorized.
pub const CODE_UNAUTHORIZED: u8 = 0x81;
/// Content-Format / Accept values.
pub const FORMAT_JSON: u8 = 50;
pub const FORMAT_CBOR: u8 = 60;

/// Static configuration of a session. Its `Debug` output leaves the device
/// secret out.
#[derive(Clone)]
pub struct Config {
    pub product_key: String,
    pub device_name: String,
    /// `clientId` of `/auth` (the SDK's `device_id`, usually `PK.DN`).
    pub client_id: String,
    pub device_secret: String,
    pub security: Security,
    pub sign_method: SignMethod,
    /// RFC 7252 ACK_TIMEOUT (ms); the first timeout is random in
    /// `[ack_timeout, ack_timeout * 1.5]`, doubling on each retransmission.
    pub ack_timeout_ms: u32,
    /// RFC 7252 ACK_RANDOM_FACTOR in thousandths (1500 = 1.5).
    pub ack_random_factor_permille: u16,
    /// RFC 7252 MAX_RETRANSMIT.
    pub max_retransmit: u8,
    /// The RTT-adaptive timer ([`super::rto`]) instead of ACK_TIMEOUT.
    pub adaptive_rto: bool,
    /// How long to wait for a separate (CON) response after its empty ACK.
    pub separate_timeout_ms: u32,
    /// How long a NON request waits for a response before it is forgotten.
    pub non_lifetime_ms: u32,
    /// Requests in flight at once; `send` refuses more.
    pub max_in_flight: usize,
    /// Seed of the non-cryptographic PRNG for timeouts, message ids and
    /// tokens; give it real randomness.
    pub seed: u64,
}

impl core::fmt::Debug for Config {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The secret never reaches a log, however a Config is printed.
        f.debug_struct("Config")
            .field("product_key", &self.product_key)
            .field("device_name", &self.device_name)
            .field("client_id", &self.client_id)
            .field("device_secret", &"<redacted>")
            .field("security", &self.security)
            .field("sign_method", &self.sign_method)
            .field("ack_timeout_ms", &self.ack_timeout_ms)
            .field(
                "ack_random_factor_permille",
                &self.ack_random_factor_permille,
            )
            .field("max_retransmit", &self.max_retransmit)
            .field("adaptive_rto", &self.adaptive_rto)
            .field("separate_timeout_ms", &self.separate_timeout_ms)
            .field("non_lifetime_ms", &self.non_lifetime_ms)
            .field("max_in_flight", &self.max_in_flight)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn new(
        product_key: &str,
        device_name: &str,
        device_secret: &str,
        security: Security,
    ) -> Self {
        Config::with_identity(
            product_key.into(),
            device_name.into(),
            None,
            device_secret.into(),
            security,
        )
    }

    /// [`Config::new`] taking the strings it keeps; `client_id` defaults to
    /// `product_key.device_name`.
    pub fn with_identity(
        product_key: String,
        device_name: String,
        client_id: Option<String>,
        device_secret: String,
        security: Security,
    ) -> Self {
        let client_id = client_id.unwrap_or_else(|| {
            let mut id = String::with_capacity(product_key.len() + 1 + device_name.len());
            for part in [&product_key, ".", &device_name] {
                id.push_str(part);
            }
            id
        });
        Config {
            product_key,
            device_name,
            client_id,
            device_secret,
            security,
            sign_method: SignMethod::HmacMd5,
            ack_timeout_ms: Timing::RFC7252.ack_timeout_ms,
            ack_random_factor_permille: Timing::RFC7252.ack_random_factor_permille,
            max_retransmit: Timing::RFC7252.max_retransmit,
            adaptive_rto: false,
            separate_timeout_ms: Timing::RFC7252.separate_timeout_ms,
            non_lifetime_ms: Timing::RFC7252.non_lifetime_ms,
            max_in_flight: 128,
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// The message layer's transmission parameters.
    pub fn timing(&self) -> Timing {
        Timing {
            ack_timeout_ms: self.ack_timeout_ms,
            ack_random_factor_permille: self.ack_random_factor_permille,
            max_retransmit: self.max_retransmit,
            adaptive: self.adaptive_rto,
            separate_timeout_ms: self.separate_timeout_ms,
            non_lifetime_ms: self.non_lifetime_ms,
        }
    }
}

/// What the session reports to its driver.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<U> {
    /// `/auth` answered 2.05 with a usable token.
    Authenticated,
    /// `/auth` failed: `Some(code)` when the platform answered, `None` when
    /// it never did (all retransmissions spent) or the answer was unusable.
    AuthFailed { code: Option<u8> },
    /// An uplink's response; `payload` is decrypted in PSK mode.
    Response { user: U, code: u8, payload: Vec<u8> },
    /// A CON uplink got no response after all retransmissions, was reset,
    /// or could not be re-sent after a failed re-authentication.
    SendFailed { user: U },
}

/// An auth answer that points at the wrong kind of endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthProblem {
    /// A PSK session got no `random`: the endpoint is not a PSK one.
    NotPskEndpoint,
    /// A plain session got `random`/`seqOffset`, or a 4.00 (the refusal of
    /// an auth without `seq`): the endpoint is a PSK one.
    PskEndpoint,
    /// The token would not fit an uplink ([`MAX_AUTH_TOKEN_LEN`]).
    UnusableToken,
}

pub use super::limits::MAX_AUTH_TOKEN_LEN;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// No token yet: call `start_auth` and wait for `Authenticated`.
    NotAuthed,
    /// Path over [`URI_MAX_LEN`] bytes.
    UriTooLong,
    /// Path has no segments, or a query string.
    InvalidPath,
    /// The datagram would exceed [`MAX_PDU`].
    MessageTooLong,
    /// `max_in_flight` requests are already waiting.
    Busy,
}

/// Counters of what came in and went out; hostile input shows up here.
/// 32-bit (wrapping): 64-bit arithmetic doubles every increment's code on
/// a Cortex-M, and four billion datagrams outlive most devices' uptime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub tx_datagrams: u32,
    pub retransmissions: u32,
    pub rx_datagrams: u32,
    /// Not decodable as CoAP.
    pub rx_malformed: u32,
    /// Well-formed but matching no exchange (late, duplicate or forged).
    pub rx_unmatched: u32,
    /// Repeated CON/NON responses (same message id) processed once.
    pub rx_duplicates: u32,
    /// PSK payloads that failed decryption or padding checks.
    pub rx_decrypt_failed: u32,
    /// Larger than the receive buffer: cut short, dropped.
    pub rx_truncated: u32,
    pub reauths: u32,
}

/// Why received datagrams were dropped, in the order of
/// [`Session::drops`].
pub const DROP_REASONS: [&str; 5] = [
    "truncated",
    "malformed",
    "duplicate",
    "undecryptable",
    "unmatched",
];

enum Kind<U> {
    Auth,
    Uplink(Uplink<U>),
}

/// An uplink's path and payload are not here. Encoded, its datagram holds
/// its path (as Uri-Path options) and, in plain mode, its payload; in PSK
/// mode the plaintext payload follows the datagram in the exchange's buffer
/// (one allocation per uplink). Parked before it could be encoded, the
/// buffer holds `path_len` bytes of path, then the payload. It is encoded
/// again from there ([`Session::relaunch`]).
struct Uplink<U> {
    user: U,
    path_len: u8,
    format: u8,
    confirmable: bool,
    /// Already re-sent once after a 4.01: a second 4.01 is delivered.
    reauthed: bool,
    /// Which authentication's token it was encoded with.
    auth_gen: u32,
}

enum Auth {
    None,
    InProgress { reauth: bool },
    Done(Authed),
}

struct Authed {
    token: String,
    key: Option<PskKey>,
    next_seq: u64,
    /// PSK: what a stored session needs, with the sequence reservation.
    #[cfg(feature = "session-store")]
    kept: Option<PskState>,
}

pub struct Session<U> {
    cfg: Config,
    auth: Auth,
    exchanges: Exchanges<Kind<U>>,
    // A plain vector used as a queue: it holds a handful of events between
    // two drains, and VecDeque's ring logic costs flash on a Cortex-M.
    events: Handoff<Event<U>>,
    rx_decrypt_failed: u32,
    reauths: u32,
    /// Counts successful authentications.
    auth_gen: u32,
    /// PSK: the key of the authentication a newer one replaced (or a
    /// running one is replacing): answers to uplinks sent under it still
    /// decrypt.
    old_key: Option<PskKey>,
    /// Why the last auth answer was unusable, when the answer says more
    /// than its code.
    auth_problem: Option<AuthProblem>,
    /// The stored session must be written before the next transmission.
    #[cfg(feature = "session-store")]
    persist: bool,
    /// The RTO of the stored RTT estimate (0: none stored).
    #[cfg(feature = "session-store")]
    stored_rto: u32,
}

impl<U> Session<U> {
    pub fn new(cfg: Config) -> Self {
        Session {
            exchanges: Exchanges::new(cfg.timing(), cfg.seed),
            cfg,
            auth: Auth::None,
            events: Handoff::new(),
            rx_decrypt_failed: 0,
            reauths: 0,
            auth_gen: 0,
            old_key: None,
            auth_problem: None,
            #[cfg(feature = "session-store")]
            persist: false,
            #[cfg(feature = "session-store")]
            stored_rto: 0,
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// New transmission parameters (from `cfg`'s timing fields), for
    /// requests sent from now on; the RTT estimate is kept.
    pub fn set_timing(&mut self, t: Timing) {
        self.cfg.ack_timeout_ms = t.ack_timeout_ms;
        self.cfg.ack_random_factor_permille = t.ack_random_factor_permille;
        self.cfg.max_retransmit = t.max_retransmit;
        self.cfg.adaptive_rto = t.adaptive;
        self.cfg.separate_timeout_ms = t.separate_timeout_ms;
        self.cfg.non_lifetime_ms = t.non_lifetime_ms;
        self.exchanges.set_timing(t);
    }

    /// The measured RTT, once there is a sample.
    pub fn rtt_estimate(&self) -> Option<RttEstimate> {
        self.exchanges.rtt_estimate()
    }

    pub fn stats(&self) -> Stats {
        let c = self.exchanges.counters();
        Stats {
            tx_datagrams: c.tx_datagrams,
            retransmissions: c.retransmissions,
            rx_datagrams: c.rx_datagrams,
            rx_malformed: c.rx_malformed,
            rx_unmatched: c.rx_unmatched,
            rx_duplicates: c.rx_duplicates,
            rx_decrypt_failed: self.rx_decrypt_failed,
            rx_truncated: c.rx_truncated,
            reauths: self.reauths,
        }
    }

    /// Datagrams dropped so far, per reason ([`DROP_REASONS`]): cheaper
    /// to compare before and after a datagram than [`Session::stats`].
    pub fn drops(&self) -> [u32; 5] {
        let c = self.exchanges.counters();
        [
            c.rx_truncated,
            c.rx_malformed,
            c.rx_duplicates,
            self.rx_decrypt_failed,
            c.rx_unmatched,
        ]
    }

    /// True once a token is held (also while a 4.01 re-authentication runs:
    /// uplinks sent then are queued behind it).
    pub fn is_authed(&self) -> bool {
        matches!(self.auth, Auth::Done(_) | Auth::InProgress { reauth: true })
    }

    pub fn auth_in_progress(&self) -> bool {
        matches!(self.auth, Auth::InProgress { .. })
    }

    /// Requests still waiting for an answer (auth included).
    pub fn in_flight(&self) -> usize {
        self.exchanges.len()
    }

    /// Why the last auth failed, when its answer tells more than a code:
    /// the likely cause is a URL that names the wrong kind of endpoint.
    pub fn auth_problem(&self) -> Option<AuthProblem> {
        self.auth_problem
    }

    /// Queues a `POST /auth`. A no-op while one is already running.
    pub fn start_auth(&mut self, now: u64) {
        if self.auth_in_progress() {
            return;
        }
        self.begin_auth(now, false);
    }

    fn begin_auth(&mut self, now: u64, reauth: bool) {
        let seq = match self.cfg.security {
            // Any start value works: the platform answers with the seqOffset
            // to count from. Keep it small and positive.
            Security::Psk => Some(self.exchanges.random_below(10_000) + 1),
            _ => None,
        };
        let params = AuthParams {
            product_key: &self.cfg.product_key,
            device_name: &self.cfg.device_name,
            client_id: &self.cfg.client_id,
            sign_method: self.cfg.sign_method,
            seq,
            timestamp: None,
            ack_mode: None,
        };
        let body = sign::auth_body(&params, self.cfg.device_secret.as_bytes());
        let ids = self.exchanges.next_ids();
        let mut w = RequestWriter::new(
            32 + body.len(),
            Type::Confirmable,
            message::CODE_POST,
            ids.0,
            &ids.1,
        );
        w.option(message::OPTION_URI_PATH, b"auth");
        w.option_uint(message::OPTION_CONTENT_FORMAT, FORMAT_JSON.into());
        w.option_uint(message::OPTION_ACCEPT, FORMAT_JSON.into());
        w.payload(&body);
        let Ok(datagram) = w.finish(MAX_PDU) else {
            // Only a device name of ~1 KB gets here.
            self.auth = Auth::None;
            self.event(Event::AuthFailed { code: None });
            return;
        };
        self.auth_problem = None;
        // A previous auth exchange (if any) is superseded.
        self.exchanges.cancel_first(|k| matches!(k, Kind::Auth));
        if let Auth::Done(old) = core::mem::replace(&mut self.auth, Auth::InProgress { reauth }) {
            self.old_key = old.key;
        }
        let wire = datagram.len();
        self.exchanges
            .start(now, Kind::Auth, ids, datagram, wire, true);
    }

    /// Queues an uplink `POST <path>`. `format` is [`FORMAT_JSON`] or
    /// [`FORMAT_CBOR`] and is sent as both Content-Format and Accept.
    pub fn send(
        &mut self,
        now: u64,
        path: &str,
        payload: &[u8],
        format: u8,
        confirmable: bool,
        user: U,
    ) -> Result<(), (SendError, U)> {
        if !self.is_authed() {
            return Err((SendError::NotAuthed, user));
        }
        if let Err(e) = check_path(path) {
            return Err((e, user));
        }
        if self.exchanges.len() >= self.cfg.max_in_flight {
            return Err((SendError::Busy, user));
        }
        let up = Uplink {
            user,
            // check_path bounds a path to MAX_PATH_LEN (< 256) bytes.
            path_len: path.len() as u8,
            format,
            confirmable,
            reauthed: false,
            auth_gen: self.auth_gen,
        };
        if let Auth::InProgress { reauth: true } = self.auth {
            // Size check now, so the caller hears about it synchronously.
            if estimated_size(path.len(), payload, 64, true) > MAX_PDU {
                return Err((SendError::MessageTooLong, up.user));
            }
            let mut kept = Vec::with_capacity(path.len() + payload.len());
            kept.extend_from_slice(path.as_bytes());
            kept.extend_from_slice(payload);
            self.exchanges.park(Kind::Uplink(up), kept);
            return Ok(());
        }
        self.launch(now, up, UriPath::Text(path.as_bytes()), payload)
    }

    /// Encodes `up` with fresh ids and the current token, and sends it.
    fn launch(
        &mut self,
        now: u64,
        up: Uplink<U>,
        path: UriPath,
        payload: &[u8],
    ) -> Result<(), (SendError, U)> {
        let ids = self.exchanges.next_ids();
        match self.encode_uplink(&up, path, payload, ids) {
            Ok((datagram, wire)) => {
                let confirmable = up.confirmable;
                self.exchanges
                    .start(now, Kind::Uplink(up), ids, datagram, wire, confirmable);
                Ok(())
            }
            Err(e) => Err((e, up.user)),
        }
    }

    /// Sends a message again after a new token, from its exchange's buffer:
    /// its old datagram (the first `wire` bytes) and what follows it (see
    /// [`Uplink`]); one that no longer encodes is reported as failed.
    fn relaunch(&mut self, now: u64, up: Uplink<U>, buf: &[u8], wire: usize) {
        let (old, body) = buf.split_at(wire.min(buf.len()));
        let launched = if old.is_empty() {
            let (path, payload) = body.split_at(usize::from(up.path_len).min(body.len()));
            self.launch(now, up, UriPath::Text(path), payload)
        } else {
            match message::decode(old) {
                Ok(m) => {
                    let payload = if self.cfg.security == Security::Psk {
                        body
                    } else {
                        m.payload
                    };
                    self.launch(now, up, UriPath::Options(m), payload)
                }
                Err(_) => Err((SendError::MessageTooLong, up.user)),
            }
        };
        if let Err((_, user)) = launched {
            self.event(Event::SendFailed { user });
        }
    }

    /// Builds the uplink datagram with the current token (and, in PSK mode,
    /// the next sequence number and the encrypted payload).
    /// Returns the buffer and the datagram's length in it: in PSK mode the
    /// plaintext payload follows, kept for [`Session::relaunch`].
    fn encode_uplink(
        &mut self,
        up: &Uplink<U>,
        path: UriPath,
        payload: &[u8],
        (mid, token): (u16, [u8; 8]),
    ) -> Result<(Vec<u8>, usize), SendError> {
        let Auth::Done(authed) = &mut self.auth else {
            return Err(SendError::NotAuthed);
        };
        let ty = if up.confirmable {
            Type::Confirmable
        } else {
            Type::NonConfirmable
        };
        let psk = authed.key.is_some();
        let capacity = estimated_size(path.len(), payload, authed.token.len(), psk);
        // In PSK mode, room for the plaintext payload kept after it.
        let room = capacity + if psk { payload.len() } else { 0 };
        let mut w = RequestWriter::new(room, ty, message::CODE_POST, mid, &token);
        path.for_each_segment(|seg| w.option(message::OPTION_URI_PATH, seg));
        w.option_uint(message::OPTION_CONTENT_FORMAT, up.format.into());
        w.option_uint(message::OPTION_ACCEPT, up.format.into());
        w.option(OPTION_TOKEN, authed.token.as_bytes());
        let Some(key) = &authed.key else {
            w.payload(payload);
            let d = w.finish(MAX_PDU).map_err(|_| SendError::MessageTooLong)?;
            debug_assert!(d.len() <= capacity, "estimated_size is an upper bound");
            let wire = d.len();
            return Ok((d, wire));
        };
        let mut num = sign::itoa_buf();
        #[cfg(feature = "session-store")]
        if let Some(kept) = &mut authed.kept {
            // Write-ahead: the reservation is stored before this number
            // goes out (see "Stored sessions" below).
            if authed.next_seq >= kept.seq_reserved {
                kept.seq_reserved = authed.next_seq.saturating_add(SEQ_BLOCK);
                self.persist = true;
            }
        }
        let seq = sign::fmt_u64(&mut num, authed.next_seq).as_bytes();
        if let Some(out) = w.option_space(OPTION_SEQ, psk::cipher_len(seq.len())) {
            key.encrypt_to(seq, out);
        }
        // PKCS#7 pads even an empty payload to a block.
        key.encrypt_to(payload, w.payload_space(psk::cipher_len(payload.len())));
        let d = w.finish(MAX_PDU).map_err(|_| SendError::MessageTooLong)?;
        // Spent only when the message goes out, so the numbers stay dense.
        authed.next_seq += 1;
        debug_assert!(d.len() <= capacity, "estimated_size is an upper bound");
        let wire = d.len();
        let mut d = d;
        d.extend_from_slice(payload);
        Ok((d, wire))
    }

    /// Next datagram to hand to the transport.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.exchanges.poll_transmit()
    }

    /// Every datagram waiting to go out, oldest first (what repeated
    /// [`Session::poll_transmit`] calls would return).
    pub fn take_transmit(&mut self) -> Vec<Vec<u8>> {
        self.exchanges.take_transmit()
    }

    /// Every pending event, oldest first (what repeated
    /// [`Session::poll_event`] calls would return).
    pub fn take_events(&mut self) -> Vec<Event<U>> {
        self.events.take()
    }

    fn event(&mut self, e: Event<U>) {
        self.events.push(e);
    }

    /// Takes back the vectors [`Session::take_transmit`] and
    /// [`Session::take_events`] gave, once their datagrams are sent and
    /// their events delivered, to reuse their memory: a driver that does so
    /// allocates nothing per uplink beyond its exchange (record and
    /// datagram). Events still in `events` are dropped.
    pub fn recycle(&mut self, transmit: Vec<Vec<u8>>, events: Vec<Event<U>>) {
        self.exchanges.recycle(transmit);
        self.events.give_back(events);
    }

    /// Next event for the application.
    pub fn poll_event(&mut self) -> Option<Event<U>> {
        self.events.pop_front()
    }

    /// Sends every unanswered CON again at once, without spending one of
    /// its retransmissions, and restarts its current timeout from `now`:
    /// used when the transport was re-created (a new DTLS session).
    pub fn retransmit_now(&mut self, now: u64) {
        self.exchanges.retransmit_now(now);
    }

    /// When `handle_timeout` must next be called (absolute ms), if ever.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.exchanges.poll_timeout()
    }

    /// Retransmits and expires what is due at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        self.exchanges.handle_timeout(now);
        self.report_ended(now);
    }

    /// Gives up every exchange now (each reported once: the auth as
    /// `AuthFailed`, uplinks as `SendFailed`): the driver learned that
    /// nobody listens at the endpoint.
    pub fn abort_all(&mut self, now: u64) {
        self.exchanges.end_all();
        self.report_ended(now);
    }

    /// Turns exchanges that ended without a response into events.
    #[inline]
    fn report_ended(&mut self, now: u64) {
        while let Some(ended) = self.exchanges.pop_ended() {
            match (ended.data, ended.reason) {
                (Kind::Auth, _) => self.auth_failed(now, None),
                // No answer to a NON is normal: nothing to report.
                (Kind::Uplink(_), EndReason::Expired) => {}
                (Kind::Uplink(u), _) => self.event(Event::SendFailed { user: u.user }),
            }
        }
    }

    fn auth_failed(&mut self, _now: u64, code: Option<u8>) {
        self.auth = Auth::None;
        self.event(Event::AuthFailed { code });
        // Messages held for a re-authentication cannot be sent any more.
        while let Some((kind, ..)) = self.exchanges.pop_held() {
            if let Kind::Uplink(u) = kind {
                self.event(Event::SendFailed { user: u.user });
            }
        }
    }

    /// Processes one datagram from the platform. Anything that is not a
    /// well-formed answer to one of our exchanges is counted and dropped.
    // Not inlined: in the firmware's LTO build, the decode and decrypt
    // frames would otherwise join the poll loop's, next to its receive
    // buffer, on the stack of every Yield (measured in QEMU: +680 bytes).
    #[inline(never)]
    pub fn handle_datagram(&mut self, now: u64, data: &[u8]) {
        if let Some(incoming) = receive(&mut self.exchanges, now, data) {
            // An auth answer and a renewal are handled once `respond`'s
            // frame is gone: under it, deriving the PSK key or signing a
            // new auth would be the deepest stack of a Yield.
            match self.respond(now, incoming) {
                Next::Nothing => {}
                Next::Reauth => {
                    self.reauths = self.reauths.wrapping_add(1);
                    self.begin_auth(now, true);
                }
                Next::AuthAnswer(code, payload) => {
                    if let Some((authed, key)) = self.auth_answered(now, code, payload) {
                        self.install_auth(now, authed, key);
                    }
                }
            }
        }
        #[cfg(feature = "session-store")]
        self.note_rtt();
        self.report_ended(now);
    }

    /// A datagram the transport could not receive whole: dropped, counted.
    pub fn handle_truncated(&mut self) {
        self.exchanges.truncated();
    }

    /// A response to one of our exchanges: the auth's, or an uplink's;
    /// what must follow.
    #[inline(never)]
    fn respond<'a>(&mut self, now: u64, incoming: Incoming<'a>) -> Next<'a> {
        let code = incoming.code;
        match self.exchanges.data(&incoming) {
            Kind::Auth => {
                self.exchanges.accept(&incoming);
                return Next::AuthAnswer(code, incoming.message.payload);
            }
            Kind::Uplink(u) if code == CODE_UNAUTHORIZED && !u.reauthed => {
                let stale = u.auth_gen != self.auth_gen;
                if self.token_rejected(now, incoming, stale) {
                    return Next::Reauth;
                }
            }
            Kind::Uplink(_) => self.deliver(incoming),
        }
        Next::Nothing
    }

    /// An uplink answered 4.01, for the first time. True when a
    /// re-authentication must start.
    #[inline]
    fn token_rejected(&mut self, now: u64, incoming: Incoming, stale: bool) -> bool {
        if stale && matches!(self.auth, Auth::Done(_)) {
            // Sent with a token that a re-authentication has already
            // replaced: just send it again with the new one.
            if let (Kind::Uplink(mut up), buf, wire) = self.exchanges.accept(&incoming) {
                up.reauthed = true;
                up.auth_gen = self.auth_gen;
                self.relaunch(now, up, &buf, wire);
            }
            return false;
        }
        // Token expired or revoked: hold the message, get a new token, send
        // it again (once).
        self.exchanges.hold(&incoming, |k| {
            if let Kind::Uplink(u) = k {
                u.reauthed = true;
            }
        });
        !self.auth_in_progress()
    }

    /// Hands an uplink's response to the application; a PSK payload that
    /// does not decrypt is dropped and the exchange goes on.
    ///
    /// The payload (decrypted in PSK mode) is delivered in the exchange's
    /// own buffer, which its datagram no longer needs: usually its capacity
    /// holds the payload, so a response costs no allocation. A PSK payload
    /// is decrypted after what the buffer holds (one that fails leaves the
    /// exchange as it was), then moved to the front.
    #[inline]
    fn deliver(&mut self, incoming: Incoming) {
        let body = incoming.message.payload;
        let code = incoming.code;
        let (kind, payload) = if self.cfg.security != Security::Psk || body.is_empty() {
            let (kind, mut buf, _) = self.exchanges.accept(&incoming);
            buf.clear();
            buf.extend_from_slice(body);
            (kind, buf)
        } else {
            let sent_under = match self.exchanges.data(&incoming) {
                Kind::Uplink(u) => Some(u.auth_gen),
                Kind::Auth => None,
            };
            let key = reply_key(&self.auth, self.old_key.as_ref(), self.auth_gen, sent_under);
            let buf = self.exchanges.buffer_of(&incoming);
            let kept = buf.len();
            if !matches!(key.map(|k| k.decrypt_append(body, buf)), Some(Ok(()))) {
                buf.truncate(kept);
                self.rx_decrypt_failed = self.rx_decrypt_failed.wrapping_add(1);
                return;
            }
            let (kind, mut buf, _) = self.exchanges.accept(&incoming);
            buf.drain(..kept);
            (kind, buf)
        };
        if let Kind::Uplink(u) = kind {
            self.event(Event::Response {
                user: u.user,
                code,
                payload,
            });
        }
    }

    /// Judges the auth's answer: the new authentication (without its PSK
    /// key) and, in PSK mode, the raw key, for [`Session::install_auth`].
    // Not inlined: `handle_datagram` is on the stack of every datagram, and
    // this frame is gone before the key is expanded.
    #[inline(never)]
    fn auth_answered(
        &mut self,
        now: u64,
        code: u8,
        payload: &[u8],
    ) -> Option<(Authed, Option<[u8; 16]>)> {
        let resp = match sign::parse_auth_response(payload) {
            Some(r) if code == CODE_CONTENT => r,
            _ => {
                // A PSK endpoint refuses an auth without `seq` with 4.00.
                if code == CODE_BAD_REQUEST && self.cfg.security == Security::Plain {
                    self.auth_problem = Some(AuthProblem::PskEndpoint);
                }
                self.auth_failed(now, Some(code));
                return None;
            }
        };
        let problem = if resp.token.len() > MAX_AUTH_TOKEN_LEN {
            Some(AuthProblem::UnusableToken)
        } else {
            match (self.cfg.security, &resp.random) {
                (Security::Psk, Some(_)) => None,
                (Security::Psk, None) => Some(AuthProblem::NotPskEndpoint),
                // A PSK endpoint would expect encrypted uplinks: every one
                // would fail. Say so now.
                _ if resp.random.is_some() || resp.seq_offset.is_some() => {
                    Some(AuthProblem::PskEndpoint)
                }
                _ => None,
            }
        };
        if problem.is_some() {
            self.auth_problem = problem;
            self.auth_failed(now, Some(code));
            return None;
        }
        let key = resp
            .random
            .as_ref()
            .filter(|_| self.cfg.security == Security::Psk)
            .map(|random| psk::derive_key(self.cfg.device_secret.as_bytes(), random.as_bytes()));
        // The guide: seq must be larger than seqOffset.
        let next_seq = resp.seq_offset.unwrap_or(0).saturating_add(1);
        #[cfg(feature = "session-store")]
        let kept = self.keep_auth(&resp, next_seq);
        let authed = Authed {
            token: resp.token,
            key: None,
            next_seq,
            #[cfg(feature = "session-store")]
            kept,
        };
        Some((authed, key))
    }

    /// Takes a new authentication into use: its PSK key expanded, then what
    /// waited for the new token sent.
    fn install_auth(&mut self, now: u64, mut authed: Authed, key: Option<[u8; 16]>) {
        authed.key = key.map(PskKey::from_bytes);
        self.auth = Auth::Done(authed);
        self.auth_gen = self.auth_gen.wrapping_add(1);
        self.event(Event::Authenticated);
        // Send what waited for the new token, with fresh ids.
        while let Some((kind, buf, wire)) = self.exchanges.pop_held() {
            if let Kind::Uplink(mut up) = kind {
                up.auth_gen = self.auth_gen;
                self.relaunch(now, up, &buf, wire);
            }
        }
    }
}

// Stored sessions (feature `session-store`): what survives a reboot so
// that the next wake sends its uplink without authenticating first, and
// when it must be written. The bytes are the `resume` module's; this is
// the rule that makes them safe.
//
// In PSK mode the platform refuses a sequence number used before under the
// same token. The session reserves numbers in blocks of `SEQ_BLOCK`: before
// it sends a number at or past `seq_reserved`, it raises `seq_reserved` by a
// block and asks the driver to write the state (`take_persist`), and the
// driver writes it before the datagram leaves (write-ahead). A resumed
// session starts at the stored `seq_reserved`. A power cut can therefore
// skip numbers (the rest of a block) but never send one twice. A device
// that sends one uplink per wake writes once per wake.

/// Sequence numbers reserved by one write of the stored session.
#[cfg(feature = "session-store")]
pub const SEQ_BLOCK: u64 = 64;

/// What a session needs to go on after a reboot. `Debug` leaves the token
/// out.
#[cfg(feature = "session-store")]
#[derive(Clone, PartialEq, Eq)]
pub struct Resumable {
    pub token: String,
    /// PSK mode only.
    pub psk: Option<PskState>,
    /// The RTT measured so far (kept so a wake starts with it).
    pub rtt: Option<RttEstimate>,
}

#[cfg(feature = "session-store")]
impl core::fmt::Debug for Resumable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Resumable")
            .field("token", &"<redacted>")
            .field("psk", &self.psk)
            .field("rtt", &self.rtt)
            .finish()
    }
}

/// The PSK half of a stored session. The key is derived again from the
/// device secret and `random`, as after a real auth; it is never stored.
#[cfg(feature = "session-store")]
#[derive(Clone, PartialEq, Eq)]
pub struct PskState {
    pub random: String,
    pub seq_offset: u64,
    /// Every number below this may have been sent; a resumed session
    /// starts here.
    pub seq_reserved: u64,
}

#[cfg(feature = "session-store")]
impl core::fmt::Debug for PskState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PskState")
            .field("random", &"<redacted>")
            .field("seq_offset", &self.seq_offset)
            .field("seq_reserved", &self.seq_reserved)
            .finish()
    }
}

#[cfg(feature = "session-store")]
impl<U> Session<U> {
    /// A session that goes on with a stored token, as authenticated, without
    /// network traffic. In PSK mode the key is derived from `random` as
    /// after a real auth, and numbering starts at the stored reservation.
    pub fn resumed(cfg: Config, state: Resumable) -> Self {
        let mut s = Session::new(cfg);
        let key = state
            .psk
            .as_ref()
            .map(|p| PskKey::derive(s.cfg.device_secret.as_bytes(), p.random.as_bytes()));
        s.auth = Auth::Done(Authed {
            token: state.token,
            key,
            next_seq: state.psk.as_ref().map_or(1, |p| p.seq_reserved),
            kept: state.psk,
        });
        s.auth_gen = 1;
        if let Some(e) = state.rtt {
            s.exchanges.restore_rtt(0, e);
            s.stored_rto = e.rto();
        }
        s
    }

    /// Asks for a write when the RTO moved by more than a quarter since
    /// the stored one: a wake then starts with what the link is like,
    /// without a flash write per sample.
    fn note_rtt(&mut self) {
        let Some(rto) = self.exchanges.rtt_estimate().map(|e| e.rto()) else {
            return;
        };
        if rto.abs_diff(self.stored_rto) > self.stored_rto / 4 {
            self.stored_rto = rto;
            self.persist |= matches!(self.auth, Auth::Done(_));
        }
    }

    /// What to store, when it changed since the last call: after every
    /// successful auth, and before the first PSK uplink whose number lies
    /// past the stored reservation. The driver must write it before it
    /// transmits anything the session produced since.
    pub fn take_persist(&mut self) -> Option<Resumable> {
        if !core::mem::take(&mut self.persist) {
            return None;
        }
        match &self.auth {
            Auth::Done(a) => Some(Resumable {
                token: a.token.clone(),
                psk: a.kept.clone(),
                rtt: self.exchanges.rtt_estimate(),
            }),
            _ => None,
        }
    }

    /// The stored half of a new auth: a first block of numbers reserved
    /// at once, so the first uplink needs no second write.
    fn keep_auth(&mut self, resp: &sign::AuthResponse, next_seq: u64) -> Option<PskState> {
        self.persist = true;
        // A `random` no record can hold stores a session that no boot
        // resumes (a PSK endpoint refuses a token-only record).
        let random = resp.random.clone().filter(|r| {
            self.cfg.security == Security::Psk && r.len() <= super::limits::MAX_RANDOM_LEN
        })?;
        Some(PskState {
            random,
            seq_offset: resp.seq_offset.unwrap_or(0),
            seq_reserved: next_seq.saturating_add(SEQ_BLOCK),
        })
    }
}

/// A CoAP code as RFC 7252 writes it ("4.01"), without `core::fmt`.
pub fn code_text(code: u8, buf: &mut [u8; 4]) -> &str {
    let detail = code & 0x1f;
    *buf = [
        b'0' + (code >> 5),
        b'.',
        b'0' + detail / 10,
        b'0' + detail % 10,
    ];
    core::str::from_utf8(buf).unwrap_or("?")
}

/// Path rules of the C ABI: at most [`URI_MAX_LEN`] bytes (so every segment
/// fits a CoAP option), at least one segment, no query.
pub fn check_path(path: &str) -> Result<(), SendError> {
    if path.len() > URI_MAX_LEN {
        return Err(SendError::UriTooLong);
    }
    let bytes = path.as_bytes();
    if has_query_or_fragment(bytes) || bytes.iter().all(|&b| b == b'/') {
        return Err(SendError::InvalidPath);
    }
    Ok(())
}

/// Whether `bytes` hold a `?` or a `#`. On a host, eight bytes at a time
/// (every uplink is checked, and its path is most of what it sends); on a
/// microcontroller, byte by byte: the smaller code.
#[cfg(target_os = "none")]
fn has_query_or_fragment(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b == b'?' || b == b'#')
}

#[cfg(not(target_os = "none"))]
fn has_query_or_fragment(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A byte of `w` equal to `b` is a zero byte of `w ^ b...b`, which the
    // classic test finds: (x - 0x01..) & !x & 0x80.. is non-zero.
    let has = |w: u64, b: u8| {
        let x = w ^ (ONES * u64::from(b));
        x.wrapping_sub(ONES) & !x & (ONES << 7) != 0
    };
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        // Always 8 bytes here: the fallback is never taken.
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        if has(w, b'?') || has(w, b'#') {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b == b'?' || b == b'#')
}

/// Calls `f` with each non-empty `/`-separated segment of a path (the
/// Uri-Path values). A loop over `position`: `split().filter()` cost twice
/// as much per uplink.
fn for_each_segment(path: &[u8], mut f: impl FnMut(&[u8])) {
    let mut rest = path;
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
        let seg = rest.get(..end).unwrap_or_default();
        if !seg.is_empty() {
            f(seg);
        }
        rest = rest.get(end + 1..).unwrap_or_default();
    }
}

/// Upper bound of an uplink's datagram size, close enough to serve as the
/// buffer's capacity: header and token 12; path segments (each at least one
/// byte, so at most `(len + 1) / 2` of them) with 1-2 bytes of option
/// header each (a path is at most 135 bytes); Content-Format and Accept 2
/// each; the token option 5; in PSK mode the seq option (at most 2 + 32)
/// and a block of padding.
fn estimated_size(path_len: usize, payload: &[u8], token_len: usize, psk: bool) -> usize {
    let path = path_len + 2 * path_len.div_ceil(2);
    let psk_extra = if psk { 34 + 16 } else { 0 };
    12 + path + 4 + 5 + token_len + 1 + payload.len() + psk_extra
}

/// What must follow a response, once [`Session::respond`] has returned.
enum Next<'a> {
    Nothing,
    Reauth,
    /// The auth's answer: code and payload.
    AuthAnswer(u8, &'a [u8]),
}

/// PSK: the key an uplink's answer is encrypted with, the one of the
/// authentication the uplink was sent under (`sent_under`, its generation):
/// the current one, or the one before it (a re-authentication may be
/// running or just done). Over the session's fields, not `&self`, so the
/// exchange's buffer can be borrowed beside it.
fn reply_key<'k>(
    auth: &'k Auth,
    old_key: Option<&'k PskKey>,
    auth_gen: u32,
    sent_under: Option<u32>,
) -> Option<&'k PskKey> {
    let current = match auth {
        Auth::Done(a) if sent_under == Some(auth_gen) => a.key.as_ref(),
        _ => None,
    };
    current.or(old_key)
}

/// Where an uplink's Uri-Path values come from: the path the application
/// gave, or the options of the datagram it was sent in before.
enum UriPath<'a> {
    Text(&'a [u8]),
    Options(message::Message<'a>),
}

impl UriPath<'_> {
    /// What [`estimated_size`] takes for the path: its length as text.
    fn len(&self) -> usize {
        match self {
            UriPath::Text(p) => p.len(),
            UriPath::Options(m) => m.options().map(|(_, v)| v.len() + 1).sum(),
        }
    }

    fn for_each_segment(&self, mut f: impl FnMut(&[u8])) {
        match self {
            UriPath::Text(p) => for_each_segment(p, f),
            UriPath::Options(m) => m
                .options()
                .filter(|&(n, _)| n == message::OPTION_URI_PATH)
                .for_each(|(_, v)| f(v)),
        }
    }
}

/// The message layer's judgement of a datagram, not inlined: its decoding
/// temporaries are gone before the response is acted on (an auth answer
/// derives the PSK key, a renewal re-sends held uplinks), which keeps the
/// stack of the task that calls `IOT_CoAP_Yield` within 2 KB.
#[inline(never)]
fn receive<'a, U>(
    exchanges: &mut Exchanges<Kind<U>>,
    now: u64,
    data: &'a [u8],
) -> Option<Incoming<'a>> {
    exchanges.receive(now, data)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn query_and_fragment_are_found_anywhere() {
        let base = b"/topic/a1TestPK001/dev-001/update/x".to_vec();
        assert!(!has_query_or_fragment(&base));
        for i in 0..base.len() {
            for c in [b'?', b'#'] {
                let mut p = base.clone();
                p[i] = c;
                assert!(has_query_or_fragment(&p), "{c} at {i}");
                assert!(has_query_or_fragment(&p[..=i]), "{c} at the end, {i}");
            }
        }
        // Bytes one off from either (0x22, 0x24, 0x3e, 0x40) and high ones.
        assert!(!has_query_or_fragment(b"\"$>@\"$>@\xa3\xbf\xff\x80"));
    }
    use crate::core::exchange::xorshift;
    use alloc::vec;
    use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};

    /// The test device of docs/protocol.md.
    pub(crate) fn cfg(sec: Security) -> Config {
        Config::new(
            "a1TestPK001",
            "dev-001",
            "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB",
            sec,
        )
    }

    pub(crate) fn reply(
        req: &[u8],
        ty: MessageType,
        code: ResponseType,
        payload: &[u8],
    ) -> Vec<u8> {
        let r = Packet::from_bytes(req).unwrap();
        let mut p = Packet::new();
        p.header.set_type(ty);
        p.header.code = MessageClass::Response(code);
        p.header.message_id = r.header.message_id;
        p.set_token(r.get_token().to_vec());
        p.payload = payload.to_vec();
        p.to_bytes().unwrap()
    }

    pub(crate) fn answer(
        s: &mut Session<u32>,
        now: u64,
        req: &[u8],
        code: ResponseType,
        payload: &[u8],
    ) {
        s.handle_datagram(
            now,
            &reply(req, MessageType::Acknowledgement, code, payload),
        );
    }

    /// Answers `req` with 4.01, then the re-auth that follows with `token_json`.
    fn expire_and_renew(s: &mut Session<u32>, req: &[u8], token_json: &[u8]) {
        answer(s, 1, req, ResponseType::Unauthorized, b"");
        let auth = s.poll_transmit().unwrap();
        answer(s, 2, &auth, ResponseType::Content, token_json);
        assert_eq!(s.poll_event(), Some(Event::Authenticated));
    }

    pub(crate) fn authed(sec: Security, token_json: &[u8]) -> Session<u32> {
        let mut s = Session::new(cfg(sec));
        s.start_auth(0);
        let req = s.poll_transmit().unwrap();
        answer(&mut s, 10, &req, ResponseType::Content, token_json);
        assert_eq!(s.poll_event(), Some(Event::Authenticated));
        s
    }

    /// PSK: an answer to an uplink sent under the previous authentication
    /// decrypts with that authentication's key, while a new auth runs and
    /// after it is done (found by fuzz/session_psk: it was handed over
    /// still encrypted).
    #[test]
    fn answers_decrypt_with_the_key_they_were_sent_under() {
        let first = br#"{"token":"t1","random":"ad2b3a5eb51d64f7","seqOffset":1}"#;
        let mut s = authed(Security::Psk, first);
        let old = PskKey::derive(b"s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB", b"ad2b3a5eb51d64f7");
        s.send(20, "/topic/x", b"a", FORMAT_JSON, false, 1).unwrap();
        let during = s.poll_transmit().unwrap();
        s.send(21, "/topic/x", b"b", FORMAT_JSON, false, 2).unwrap();
        let after = s.poll_transmit().unwrap();
        s.start_auth(22);
        let auth = s.poll_transmit().unwrap();
        answer(
            &mut s,
            23,
            &during,
            ResponseType::Content,
            &old.encrypt(b"one"),
        );
        let second = br#"{"token":"t2","random":"0123456789abcdef","seqOffset":5}"#;
        answer(&mut s, 24, &auth, ResponseType::Content, second);
        answer(
            &mut s,
            25,
            &after,
            ResponseType::Content,
            &old.encrypt(b"two"),
        );
        let events: Vec<_> = core::iter::from_fn(|| s.poll_event()).collect();
        assert_eq!(
            events,
            [
                Event::Response {
                    user: 1,
                    code: 0x45,
                    payload: b"one".to_vec()
                },
                Event::Authenticated,
                Event::Response {
                    user: 2,
                    code: 0x45,
                    payload: b"two".to_vec()
                },
            ]
        );
        assert_eq!(s.stats().rx_decrypt_failed, 0);
    }

    #[test]
    fn config_debug_hides_the_secret() {
        let c = cfg(Security::Psk);
        let text = alloc::format!("{c:?}");
        assert!(!text.contains(&c.device_secret), "{text}");
        assert!(
            text.contains("<redacted>") && text.contains("a1TestPK001"),
            "{text}"
        );
    }

    /// Auth answers that are 2.05 but unusable, and why.
    #[test]
    fn auth_answers_that_name_the_wrong_endpoint() {
        let long = alloc::format!(r#"{{"token":"{}"}}"#, "t".repeat(MAX_AUTH_TOKEN_LEN + 1));
        let cases: [(Security, &[u8], AuthProblem); 3] = [
            (
                Security::Psk,
                br#"{"token":"t"}"#,
                AuthProblem::NotPskEndpoint,
            ),
            (
                Security::Plain,
                br#"{"token":"t","random":"ad2b3a5eb51d64f7","seqOffset":1}"#,
                AuthProblem::PskEndpoint,
            ),
            (Security::Plain, long.as_bytes(), AuthProblem::UnusableToken),
        ];
        for (sec, body, problem) in cases {
            let mut s: Session<u32> = Session::new(cfg(sec));
            s.start_auth(0);
            let req = s.poll_transmit().unwrap();
            answer(&mut s, 1, &req, ResponseType::Content, body);
            assert_eq!(s.poll_event(), Some(Event::AuthFailed { code: Some(0x45) }));
            assert_eq!(s.auth_problem(), Some(problem));
            assert!(!s.is_authed());
            s.start_auth(2);
            assert_eq!(s.auth_problem(), None, "a new auth forgets the old problem");
        }
        let ok = alloc::format!(r#"{{"token":"{}"}}"#, "t".repeat(MAX_AUTH_TOKEN_LEN));
        let s = authed(Security::Plain, ok.as_bytes());
        assert!(s.is_authed() && s.auth_problem().is_none());
    }

    #[test]
    fn auth_request_shape() {
        let mut s: Session<u32> = Session::new(cfg(Security::Plain));
        assert_eq!(
            s.send(0, "/topic/a/b", b"x", FORMAT_JSON, true, 1),
            Err((SendError::NotAuthed, 1))
        );
        s.start_auth(0);
        let p = Packet::from_bytes(&s.poll_transmit().unwrap()).unwrap();
        assert_eq!(p.header.get_type(), MessageType::Confirmable);
        assert_eq!(p.header.code, MessageClass::Request(RequestType::Post));
        assert_eq!(p.get_first_option(CoapOption::UriPath).unwrap(), b"auth");
        assert_eq!(
            p.get_first_option(CoapOption::ContentFormat).unwrap(),
            &vec![50]
        );
        assert_eq!(p.get_first_option(CoapOption::Accept).unwrap(), &vec![50]);
        let body = core::str::from_utf8(&p.payload).unwrap();
        assert!(
            body.contains(r#""clientId":"a1TestPK001.dev-001""#),
            "{body}"
        );
        assert!(
            body.contains(r#""sign":"18fb2cad852b87646f6d14e978ba2ca4""#),
            "{body}"
        );
        assert!(body.contains(r#""signmethod":"hmacmd5""#), "{body}");
        assert!(!body.contains("seq"));
    }

    #[test]
    fn uplink_plain_and_response() {
        let mut s = authed(Security::Plain, br#"{"token":"tok123"}"#);
        s.send(
            20,
            "/topic/a1TestPK001/dev-001/update/",
            b"{}",
            FORMAT_JSON,
            true,
            7,
        )
        .unwrap();
        let d = s.poll_transmit().unwrap();
        let p = Packet::from_bytes(&d).unwrap();
        let segs: Vec<_> = p
            .get_option(CoapOption::UriPath)
            .unwrap()
            .iter()
            .cloned()
            .collect();
        assert_eq!(
            segs,
            vec![
                b"topic".to_vec(),
                b"a1TestPK001".to_vec(),
                b"dev-001".to_vec(),
                b"update".to_vec()
            ]
        );
        assert_eq!(
            p.get_first_option(CoapOption::Unknown(OPTION_TOKEN))
                .unwrap(),
            b"tok123"
        );
        assert_eq!(p.payload, b"{}");
        // A response with a wrong token is ignored; the right one delivered once.
        let mut bad = Packet::from_bytes(&reply(
            &d,
            MessageType::Acknowledgement,
            ResponseType::Content,
            b"",
        ))
        .unwrap();
        bad.set_token(vec![1, 2, 3]);
        s.handle_datagram(30, &bad.to_bytes().unwrap());
        assert_eq!(s.poll_event(), None);
        let ok = reply(
            &d,
            MessageType::Acknowledgement,
            ResponseType::Content,
            b"hi",
        );
        s.handle_datagram(31, &ok);
        s.handle_datagram(32, &ok);
        assert_eq!(
            s.poll_event(),
            Some(Event::Response {
                user: 7,
                code: 0x45,
                payload: b"hi".to_vec()
            })
        );
        assert_eq!(s.poll_event(), None);
        assert_eq!(s.stats().rx_unmatched, 2);
    }

    #[test]
    fn psk_seq_and_encryption() {
        let mut s = authed(
            Security::Psk,
            br#"{"random":"ad2b3a5eb51d64f7","seqOffset":123,"token":"t.ad2b"}"#,
        );
        s.send(
            20,
            "/topic/a1TestPK001/dev-001/update",
            br#"{"name":"hello world"}"#,
            FORMAT_JSON,
            true,
            1,
        )
        .unwrap();
        let d = s.poll_transmit().unwrap();
        let p = Packet::from_bytes(&d).unwrap();
        assert_eq!(
            sign::hex(p.get_first_option(CoapOption::Unknown(OPTION_SEQ)).unwrap()),
            "747f2692ab4effb9d3d44b4f43989c9a"
        );
        assert_eq!(
            sign::hex(&p.payload),
            "9a1dffa521023f7adbf2cac04354d65ae4d0ac8899c5f24b922004857c2a30a8"
        );
        // Encrypted response payload is decrypted; garbage is refused and counted.
        let key = PskKey::derive(b"s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB", b"ad2b3a5eb51d64f7");
        answer(&mut s, 30, &d, ResponseType::Content, &[7u8; 16]);
        assert_eq!(s.stats().rx_decrypt_failed, 1);
        assert_eq!(s.poll_event(), None);
        // The exchange goes on with its datagram intact (the failed
        // plaintext was written after it in its buffer, then cut off).
        s.handle_timeout(10_000);
        assert_eq!(s.poll_transmit().as_deref(), Some(&d[..]));
        answer(
            &mut s,
            10_001,
            &d,
            ResponseType::Content,
            &key.encrypt(b"ok"),
        );
        assert_eq!(
            s.poll_event(),
            Some(Event::Response {
                user: 1,
                code: 0x45,
                payload: b"ok".to_vec()
            })
        );
        s.send(40, "/topic/x", b"", FORMAT_CBOR, true, 2).unwrap();
        let p = Packet::from_bytes(&s.poll_transmit().unwrap()).unwrap();
        let seq = key
            .decrypt(p.get_first_option(CoapOption::Unknown(OPTION_SEQ)).unwrap())
            .unwrap();
        assert_eq!(seq, b"125");
        assert_eq!(
            p.get_first_option(CoapOption::ContentFormat).unwrap(),
            &vec![60]
        );
    }

    #[test]
    fn retransmission_by_time_then_send_failed() {
        let mut s = authed(Security::Plain, br#"{"token":"t"}"#);
        s.send(1000, "/topic/a", b"x", FORMAT_JSON, true, 9)
            .unwrap();
        let first = s.poll_transmit().unwrap();
        let mut now = 1000;
        let mut gaps = Vec::new();
        for _ in 0..4 {
            let due = s.poll_timeout().unwrap();
            s.handle_timeout(due - 1);
            assert!(s.poll_transmit().is_none(), "not before the deadline");
            gaps.push(due - now);
            now = due;
            s.handle_timeout(now);
            assert_eq!(s.poll_transmit().unwrap(), first);
        }
        assert!((2000..=3000).contains(&gaps[0]), "{gaps:?}");
        for w in gaps.windows(2) {
            assert_eq!(w[1], w[0] * 2);
        }
        let due = s.poll_timeout().unwrap();
        s.handle_timeout(due);
        assert!(s.poll_transmit().is_none());
        assert_eq!(s.poll_event(), Some(Event::SendFailed { user: 9 }));
        assert_eq!(s.stats().retransmissions, 4);
        assert_eq!(s.in_flight(), 0);
    }

    #[test]
    fn separate_response_is_acked_and_deduplicated() {
        let mut s = authed(Security::Plain, br#"{"token":"t"}"#);
        s.send(0, "/topic/a", b"x", FORMAT_JSON, true, 3).unwrap();
        let d = s.poll_transmit().unwrap();
        let req = Packet::from_bytes(&d).unwrap();
        let mut ack = Packet::new();
        ack.header.set_type(MessageType::Acknowledgement);
        ack.header.code = MessageClass::Empty;
        ack.header.message_id = req.header.message_id;
        s.handle_datagram(5, &ack.to_bytes().unwrap());
        assert!(s.poll_timeout().unwrap() >= 30_000);
        let mut resp = Packet::from_bytes(&reply(
            &d,
            MessageType::Confirmable,
            ResponseType::Content,
            b"z",
        ))
        .unwrap();
        resp.header.message_id = 0x4242;
        let resp = resp.to_bytes().unwrap();
        s.handle_datagram(6, &resp);
        let a = Packet::from_bytes(&s.poll_transmit().unwrap()).unwrap();
        assert_eq!(
            (a.header.get_type(), a.header.message_id),
            (MessageType::Acknowledgement, 0x4242)
        );
        assert_eq!(
            s.poll_event(),
            Some(Event::Response {
                user: 3,
                code: 0x45,
                payload: b"z".to_vec()
            })
        );
        s.handle_datagram(7, &resp);
        assert!(s.poll_transmit().is_some(), "duplicate CON is ACKed again");
        assert_eq!(s.poll_event(), None);
        assert_eq!(s.stats().rx_duplicates, 1);
    }

    #[test]
    fn unauthorized_reauths_and_resends() {
        let mut s = authed(Security::Plain, br#"{"token":"old"}"#);
        s.send(0, "/topic/a", b"keep", FORMAT_JSON, true, 5)
            .unwrap();
        let d = s.poll_transmit().unwrap();
        answer(&mut s, 1, &d, ResponseType::Unauthorized, b"");
        assert!(s.is_authed());
        let auth = s.poll_transmit().unwrap();
        assert_eq!(
            Packet::from_bytes(&auth)
                .unwrap()
                .get_first_option(CoapOption::UriPath)
                .unwrap(),
            b"auth"
        );
        // Sent during re-auth: queued, not refused.
        s.send(2, "/topic/b", b"later", FORMAT_JSON, true, 6)
            .unwrap();
        assert!(s.poll_transmit().is_none());
        answer(
            &mut s,
            3,
            &auth,
            ResponseType::Content,
            br#"{"token":"new"}"#,
        );
        assert_eq!(s.poll_event(), Some(Event::Authenticated));
        let mut bodies = Vec::new();
        while let Some(d) = s.poll_transmit() {
            let p = Packet::from_bytes(&d).unwrap();
            assert_eq!(
                p.get_first_option(CoapOption::Unknown(OPTION_TOKEN))
                    .unwrap(),
                b"new"
            );
            bodies.push((uri_path(&p), p.payload.clone()));
        }
        bodies.sort();
        assert_eq!(
            bodies,
            vec![
                ("topic/a".into(), b"keep".to_vec()),
                ("topic/b".into(), b"later".to_vec())
            ]
        );
        assert_eq!(s.stats().reauths, 1);
    }

    fn uri_path(p: &Packet) -> String {
        let segs: Vec<String> = p
            .get_option(CoapOption::UriPath)
            .into_iter()
            .flatten()
            .map(|v| String::from_utf8(v.clone()).unwrap())
            .collect();
        segs.join("/")
    }

    /// The PSK twin: the message answered 4.01 is encoded again from its
    /// old datagram (path) and the plaintext kept beside it (payload), and
    /// encrypted under the new key.
    #[test]
    fn unauthorized_psk_uplinks_are_encrypted_again_under_the_new_key() {
        let mut s = authed(
            Security::Psk,
            br#"{"random":"ad2b3a5eb51d64f7","seqOffset":1,"token":"old"}"#,
        );
        s.send(0, "/topic/a//x/", b"keep", FORMAT_JSON, true, 5)
            .unwrap();
        let d = s.poll_transmit().unwrap();
        answer(&mut s, 1, &d, ResponseType::Unauthorized, b"");
        let auth = s.poll_transmit().unwrap();
        answer(
            &mut s,
            3,
            &auth,
            ResponseType::Content,
            br#"{"random":"00112233aabbccdd","seqOffset":9,"token":"new"}"#,
        );
        assert_eq!(s.poll_event(), Some(Event::Authenticated));
        let p = Packet::from_bytes(&s.poll_transmit().unwrap()).unwrap();
        let key = PskKey::derive(b"s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB", b"00112233aabbccdd");
        assert_eq!(uri_path(&p), "topic/a/x");
        assert_eq!(key.decrypt(&p.payload).unwrap(), b"keep");
        assert_eq!(s.poll_transmit(), None);
    }

    #[test]
    fn late_unauthorized_for_an_old_token_resends_without_reauth() {
        let mut s = authed(Security::Plain, br#"{"token":"old"}"#);
        s.send(0, "/topic/a", b"A", FORMAT_JSON, true, 1).unwrap();
        let a = s.poll_transmit().unwrap();
        s.send(0, "/topic/b", b"B", FORMAT_JSON, true, 2).unwrap();
        let b = s.poll_transmit().unwrap();
        expire_and_renew(&mut s, &a, br#"{"token":"new"}"#);
        let _a_again = s.poll_transmit().unwrap();
        // B's 4.01 (for the old token) arrives after the new token.
        answer(&mut s, 3, &b, ResponseType::Unauthorized, b"");
        let b_again = Packet::from_bytes(&s.poll_transmit().unwrap()).unwrap();
        assert_eq!(
            b_again
                .get_first_option(CoapOption::Unknown(OPTION_TOKEN))
                .unwrap(),
            b"new"
        );
        assert_eq!(b_again.payload, b"B");
        assert_eq!(s.stats().reauths, 1);
        assert!(s.poll_transmit().is_none());
    }

    #[test]
    fn second_unauthorized_is_delivered() {
        let mut s = authed(Security::Plain, br#"{"token":"old"}"#);
        s.send(0, "/topic/a", b"x", FORMAT_JSON, true, 5).unwrap();
        let d = s.poll_transmit().unwrap();
        expire_and_renew(&mut s, &d, br#"{"token":"new"}"#);
        let d = s.poll_transmit().unwrap();
        answer(&mut s, 3, &d, ResponseType::Unauthorized, b"");
        assert_eq!(
            s.poll_event(),
            Some(Event::Response {
                user: 5,
                code: 0x81,
                payload: vec![]
            })
        );
    }

    #[test]
    fn failed_reauth_fails_held_messages() {
        let mut s = authed(Security::Plain, br#"{"token":"old"}"#);
        s.send(0, "/topic/a", b"x", FORMAT_JSON, true, 5).unwrap();
        let d = s.poll_transmit().unwrap();
        answer(&mut s, 1, &d, ResponseType::Unauthorized, b"");
        let auth = s.poll_transmit().unwrap();
        answer(&mut s, 2, &auth, ResponseType::Forbidden, b"");
        assert_eq!(s.poll_event(), Some(Event::AuthFailed { code: Some(0x83) }));
        assert_eq!(s.poll_event(), Some(Event::SendFailed { user: 5 }));
        assert!(!s.is_authed());
    }

    #[test]
    fn limits() {
        let mut s = authed(Security::Plain, br#"{"token":"t"}"#);
        let long = alloc::format!("/topic/{}", "a".repeat(130));
        assert_eq!(
            s.send(0, &long, b"", FORMAT_JSON, true, 1),
            Err((SendError::UriTooLong, 1))
        );
        assert_eq!(
            s.send(0, "/topic/a?x=1", b"", FORMAT_JSON, true, 1),
            Err((SendError::InvalidPath, 1))
        );
        assert_eq!(
            s.send(0, "///", b"", FORMAT_JSON, true, 1),
            Err((SendError::InvalidPath, 1))
        );
        assert_eq!(
            s.send(0, "/topic/a", &[0u8; 1300], FORMAT_JSON, true, 1),
            Err((SendError::MessageTooLong, 1))
        );
        assert!(s
            .send(0, "/topic/a", &[0u8; 1000], FORMAT_JSON, true, 1)
            .is_ok());
    }

    #[test]
    fn hostile_datagrams_are_counted() {
        let mut s = authed(
            Security::Psk,
            br#"{"random":"ad2b3a5eb51d64f7","seqOffset":1,"token":"t"}"#,
        );
        s.send(0, "/topic/a", b"x", FORMAT_JSON, true, 1).unwrap();
        let _ = s.poll_transmit();
        let mut rng = 12345u64;
        for n in 0..2000 {
            let len = (xorshift(&mut rng) % 64) as usize;
            let mut d: Vec<u8> = (0..len).map(|_| xorshift(&mut rng) as u8).collect();
            if n % 2 == 0 && !d.is_empty() {
                d[0] = 0x40 | (d[0] & 0x3f); // version 1, to get past the header
            }
            s.handle_datagram(1, &d);
        }
        let st = s.stats();
        assert_eq!(st.rx_datagrams, 2001);
        assert!(
            st.rx_malformed + st.rx_unmatched + st.rx_duplicates >= 1900,
            "{st:?}"
        );
        assert_eq!(s.in_flight(), 1, "the real exchange is untouched");
    }

    #[test]
    fn code_texts() {
        let mut b = [0; 4];
        assert_eq!(code_text(0x45, &mut b), "2.05");
        assert_eq!(code_text(0x81, &mut b), "4.01");
        assert_eq!(code_text(0x8f, &mut b), "4.15");
        assert_eq!(code_text(0xa0, &mut b), "5.00");
    }

    /// Stored sessions: when the session asks for a write (feature
    /// `session-store`; the record's codec is tested in `resume`).
    #[cfg(feature = "session-store")]
    pub(crate) mod stored {
        use super::*;

        pub(crate) const RANDOM: &str = "ad2b3a5eb51d64f7";

        /// A PSK session authenticated with `token`, `seqOffset` 5.
        pub(crate) fn psk_authed(token: &str) -> Session<u32> {
            let body = alloc::format!(r#"{{"random":"{RANDOM}","seqOffset":5,"token":"{token}"}}"#);
            authed(Security::Psk, body.as_bytes())
        }

        pub(crate) fn key() -> PskKey {
            PskKey::derive(
                cfg(Security::Psk).device_secret.as_bytes(),
                RANDOM.as_bytes(),
            )
        }

        /// Sends one uplink and answers it; its sequence number, decrypted.
        fn uplink(s: &mut Session<u32>, n: u32) -> u64 {
            s.send(20, "/topic/a", b"x", FORMAT_JSON, true, n).unwrap();
            let d = s.poll_transmit().unwrap();
            let p = Packet::from_bytes(&d).unwrap();
            let enc = p.get_first_option(CoapOption::Unknown(OPTION_SEQ)).unwrap();
            let text = key().decrypt(enc).unwrap();
            answer(s, 21, &d, ResponseType::Content, &key().encrypt(b"ok"));
            core::str::from_utf8(&text).unwrap().parse().unwrap()
        }

        #[test]
        fn auth_reserves_a_block_and_writes_again_only_when_it_is_used_up() {
            let mut s = psk_authed("tok");
            let first = s.take_persist().expect("written after auth");
            let kept = first.psk.clone().unwrap();
            assert_eq!((first.token.as_str(), kept.seq_offset), ("tok", 5));
            assert_eq!(kept.seq_reserved, 6 + SEQ_BLOCK);
            for n in 0..SEQ_BLOCK {
                assert_eq!(uplink(&mut s, n as u32), 6 + n);
                assert_eq!(s.take_persist(), None, "uplink {n}");
            }
            assert_eq!(uplink(&mut s, 99), 6 + SEQ_BLOCK);
            let next = s.take_persist().expect("a new block");
            assert_eq!(next.psk.unwrap().seq_reserved, 6 + 2 * SEQ_BLOCK);
            assert_eq!(s.take_persist(), None);
        }

        #[test]
        fn resumed_session_starts_at_the_reservation_and_reserves_first() {
            let state = Resumable {
                token: "stored".into(),
                psk: Some(PskState {
                    random: RANDOM.into(),
                    seq_offset: 5,
                    seq_reserved: 200,
                }),
                rtt: None,
            };
            let mut s: Session<u32> = Session::resumed(cfg(Security::Psk), state);
            assert!(s.is_authed() && !s.auth_in_progress());
            assert_eq!(s.poll_transmit(), None, "no traffic to resume");
            assert_eq!(s.take_persist(), None);
            s.send(2, "/topic/a", b"x", FORMAT_JSON, true, 1).unwrap();
            let written = s.take_persist().expect("reserved before it goes out");
            assert_eq!(written.psk.unwrap().seq_reserved, 200 + SEQ_BLOCK);
            let p = Packet::from_bytes(&s.poll_transmit().unwrap()).unwrap();
            assert_eq!(
                p.get_first_option(CoapOption::Unknown(OPTION_TOKEN))
                    .unwrap(),
                b"stored"
            );
        }

        #[test]
        fn renewal_after_unauthorized_is_written() {
            let mut s = psk_authed("old");
            let _ = s.take_persist();
            s.send(20, "/topic/a", b"x", FORMAT_JSON, true, 1).unwrap();
            let d = s.poll_transmit().unwrap();
            answer(&mut s, 21, &d, ResponseType::Unauthorized, b"");
            let auth = s.poll_transmit().unwrap();
            let body = alloc::format!(r#"{{"random":"{RANDOM}","seqOffset":50,"token":"new"}}"#);
            answer(&mut s, 22, &auth, ResponseType::Content, body.as_bytes());
            let w = s.take_persist().expect("the new token is stored");
            assert_eq!(w.token, "new");
            assert_eq!(w.psk.unwrap().seq_reserved, 51 + SEQ_BLOCK);
        }

        #[test]
        fn a_resumed_session_keeps_the_rtt_and_stores_large_changes() {
            let rtt = crate::core::rto::RttEstimate {
                srtt_ms: 4200,
                rttvar_ms: 900,
            };
            let state = Resumable {
                token: "stored".into(),
                psk: Some(PskState {
                    random: RANDOM.into(),
                    seq_offset: 5,
                    seq_reserved: 1000,
                }),
                rtt: Some(rtt),
            };
            let mut s: Session<u32> = Session::resumed(cfg(Security::Psk), state);
            assert_eq!(s.rtt_estimate(), Some(rtt));
            let mut persisted = 0;
            for (n, rtt_ms) in [(1u32, 4000u64), (2, 4400), (3, 30_000)] {
                let t = 10_000 * u64::from(n);
                s.send(t, "/topic/a", b"x", FORMAT_JSON, true, n).unwrap();
                let _ = s.take_persist(); // the first uplink reserves a block
                let d = s.poll_transmit().unwrap();
                answer(
                    &mut s,
                    t + rtt_ms,
                    &d,
                    ResponseType::Content,
                    &key().encrypt(b""),
                );
                if let Some(w) = s.take_persist() {
                    persisted += 1;
                    assert_eq!(w.rtt, s.rtt_estimate());
                }
            }
            // 4.0 s and 4.4 s move the RTO by less than a quarter; 30 s does.
            assert_eq!(persisted, 1);
        }

        #[test]
        fn debug_hides_token_and_random() {
            let state = Resumable {
                token: "tok.en-123".into(),
                psk: Some(PskState {
                    random: RANDOM.into(),
                    seq_offset: 7,
                    seq_reserved: 72,
                }),
                rtt: None,
            };
            let text = alloc::format!("{state:?}");
            assert!(
                !text.contains("tok.en") && !text.contains("ad2b3a"),
                "{text}"
            );
        }
    }
}
