//! The listeners and the platform's request handling.
//!
//! # Structure (and the seam for DTLS)
//!
//! A [`Listener`] owns a [`DatagramTransport`] (something that receives and
//! sends whole datagrams from/to peers) and a [`Security`] mode, and runs the
//! RFC 7252 message layer: fault injection, deduplication, piggybacked /
//! separate / NON responses, retransmission of separate CON responses, and
//! the RST answers. It hands every request to [`Platform::handle`], which
//! implements `/auth` and `/topic/...` and knows nothing about sockets.
//!
//! There are two listeners over [`UdpTransport`]: `plain`
//! (`Security::None`) and `psk` (`Security::Psk`, payload/seq AES), and the
//! DTLS listener (port 5684): a `Listener` named `"dtls"` with
//! `Security::None` over [`crate::dtls::DtlsTransport`], which implements
//! [`DatagramTransport`] over the DTLS record layer (one session per peer)
//! and hands up decrypted CoAP messages: the `/auth` and `/topic` handling
//! is shared unchanged.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::auth::{self, CF_CBOR, CF_JSON, CF_OCTET_STREAM};
use crate::config::{Device, SimConfig};
use crate::faults::FaultInjector;
use crate::log::EventLog;
use crate::psk;
use crate::stats::Counters;

/// Custom option numbers of the platform.
pub const OPT_TOKEN: u16 = 2088;
pub const OPT_SEQ: u16 = 2089;
pub const OPT_MESSAGE_ID: u16 = 2090;
/// The vendor SDK's token option (accepted only with `--accept-legacy`).
pub const OPT_LEGACY_TOKEN: u16 = 61;

/// RFC 7252 EXCHANGE_LIFETIME.
pub const EXCHANGE_LIFETIME: Duration = Duration::from_secs(247);
/// Bound of the deduplication cache.
const DEDUP_MAX: usize = 200_000;
const MAX_RETRANSMIT: u32 = 4;

/// What protects the payload on a listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Nothing at the CoAP layer (plain CoAP, or DTLS below the transport).
    None,
    /// The platform's "symmetric encryption": AES on payload and seq option.
    Psk,
}

/// A datagram transport a listener runs over (UDP, or DTLS sessions).
pub trait DatagramTransport: Send {
    /// Receives one datagram, waiting at most `timeout`; `Ok(None)` on timeout.
    fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, SocketAddr)>>;
    fn send(&mut self, datagram: &[u8], peer: SocketAddr) -> io::Result<()>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
    /// Peers whose earlier exchanges must be forgotten because a new
    /// session started from their address (DTLS: a client restarted on the
    /// same port); the listener drops their deduplication entries and
    /// pending separate responses before handling the new session's
    /// messages. Plain UDP has no sessions and reports none.
    fn take_reset_peers(&mut self) -> Vec<SocketAddr> {
        Vec::new()
    }
}

/// Plain UDP.
pub struct UdpTransport {
    sock: UdpSocket,
    timeout: Option<Duration>,
}

/// `recv_from` waiting at most `timeout` (`current` caches the socket's
/// read timeout, so it is only changed when it differs). A timeout, and an
/// ICMP refusal caused by an earlier send to a peer that has gone, read as
/// "nothing received".
pub(crate) fn recv_from_timeout(
    sock: &UdpSocket,
    current: &mut Option<Duration>,
    buf: &mut [u8],
    timeout: Duration,
) -> io::Result<Option<(usize, SocketAddr)>> {
    let t = timeout.max(Duration::from_millis(1));
    if *current != Some(t) {
        sock.set_read_timeout(Some(t))?;
        *current = Some(t);
    }
    match sock.recv_from(buf) {
        Ok(r) => Ok(Some(r)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::Interrupted
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionRefused
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

impl UdpTransport {
    pub fn bind(addr: SocketAddr) -> io::Result<UdpTransport> {
        Ok(UdpTransport {
            sock: UdpSocket::bind(addr)?,
            timeout: None,
        })
    }
}

impl DatagramTransport for UdpTransport {
    fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, SocketAddr)>> {
        recv_from_timeout(&self.sock, &mut self.timeout, buf, timeout)
    }

    fn send(&mut self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        self.sock.send_to(datagram, peer).map(|_| ())
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }
}

struct PskSession {
    key: [u8; 16],
    seq_offset: u64,
    used: HashSet<u64>,
}

struct TokenInfo {
    product_key: String,
    device_name: String,
    listener: &'static str,
    expires: Instant,
    psk: Option<PskSession>,
}

/// The emulated platform: devices, tokens, and the `/auth` and `/topic`
/// handling shared by all listeners.
pub struct Platform {
    pub(crate) cfg: SimConfig,
    devices: HashMap<(String, String), Device>,
    tokens: Mutex<HashMap<String, TokenInfo>>,
    auth_5xx_left: AtomicU32,
    uplink_counter: AtomicU64,
    rng: Mutex<StdRng>,
    pub(crate) log: EventLog,
    pub(crate) counters: Counters,
}

/// A response to build: code, payload and options.
pub struct Reply {
    pub code: ResponseType,
    pub payload: Vec<u8>,
    pub content_format: Option<u16>,
    pub options: Vec<(u16, Vec<u8>)>,
    /// Send as a separate response (`ackMode` 1).
    pub separate: bool,
}

impl Reply {
    fn code(code: ResponseType) -> Reply {
        Reply {
            code,
            payload: Vec::new(),
            content_format: None,
            options: Vec::new(),
            separate: false,
        }
    }
}

fn code_str(code: ResponseType) -> String {
    MessageClass::Response(code).to_string()
}

fn opt_uint(v: &[u8]) -> Option<u32> {
    if v.len() > 4 {
        return None;
    }
    Some(v.iter().fold(0u32, |acc, &b| acc << 8 | b as u32))
}

fn method_name(pkt: &Packet) -> String {
    match pkt.header.code {
        MessageClass::Request(m) => format!("{m:?}").to_uppercase(),
        other => other.to_string(),
    }
}

fn first_opt(pkt: &Packet, n: u16) -> Option<&Vec<u8>> {
    pkt.get_first_option(CoapOption::from(n))
}

/// Names known for an event.
#[derive(Default, Clone)]
struct Who {
    pk: Option<String>,
    dn: Option<String>,
}

impl Who {
    fn add(&self, v: &mut Value) {
        if let Some(pk) = &self.pk {
            v["productKey"] = Value::from(pk.as_str());
        }
        if let Some(dn) = &self.dn {
            v["deviceName"] = Value::from(dn.as_str());
        }
    }
}

impl Platform {
    pub(crate) fn new(cfg: SimConfig, log: EventLog, seed: u64) -> Platform {
        let devices = cfg
            .devices
            .iter()
            .map(|d| ((d.product_key.clone(), d.device_name.clone()), d.clone()))
            .collect();
        Platform {
            auth_5xx_left: AtomicU32::new(cfg.auth_5xx),
            cfg,
            devices,
            tokens: Mutex::new(HashMap::new()),
            uplink_counter: AtomicU64::new(0),
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x746f_6b65_6e73)),
            log,
            counters: Counters::default(),
        }
    }

    fn random_hex(&self, nbytes: usize) -> String {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let bytes: Vec<u8> = (0..nbytes).map(|_| rng.gen()).collect();
        auth::hex(&bytes)
    }

    fn base(listener: &str, peer: SocketAddr) -> Value {
        json!({ "peer": peer.to_string(), "listener": listener })
    }

    fn legacy(&self, listener: &str, peer: SocketAddr, who: &Who, reason: &str) {
        let mut v = Self::base(listener, peer);
        v["reason"] = Value::from(reason);
        who.add(&mut v);
        self.log.emit("legacy", v);
    }

    fn reject(
        &self,
        event: &str,
        listener: &str,
        peer: SocketAddr,
        code: ResponseType,
        reason: &str,
        who: &Who,
    ) -> Reply {
        let mut v = Self::base(listener, peer);
        v["code"] = Value::from(code_str(code));
        v["reason"] = Value::from(reason);
        who.add(&mut v);
        match event {
            "auth_rejected" => Counters::inc(&self.counters.auth_rejected),
            "uplink_rejected" => Counters::inc(&self.counters.uplink_rejected),
            _ => Counters::inc(&self.counters.other_rejected),
        }
        self.log.emit(event, v);
        Reply::code(code)
    }

    /// Handles one (deduplicated) request and says what to answer.
    pub fn handle(
        &self,
        listener: &'static str,
        security: Security,
        peer: SocketAddr,
        pkt: &Packet,
    ) -> Reply {
        let mut segs = Vec::new();
        if let Some(list) = pkt.get_option(CoapOption::UriPath) {
            for s in list {
                match std::str::from_utf8(s) {
                    Ok(s) => segs.push(s.to_string()),
                    Err(_) => {
                        return self.reject(
                            "request_rejected",
                            listener,
                            peer,
                            ResponseType::BadRequest,
                            "Uri-Path is not UTF-8",
                            &Who::default(),
                        )
                    }
                }
            }
        }
        let is_post = pkt.header.code == MessageClass::Request(RequestType::Post);
        if segs.len() == 1 && segs[0] == "auth" {
            if !is_post {
                return self.reject(
                    "auth_rejected",
                    listener,
                    peer,
                    ResponseType::MethodNotAllowed,
                    &format!(
                        "method {} not allowed on /auth (POST only)",
                        method_name(pkt)
                    ),
                    &Who::default(),
                );
            }
            self.auth(listener, security, peer, pkt)
        } else if segs.len() >= 2 && segs[0] == "topic" {
            if !is_post {
                return self.reject(
                    "uplink_rejected",
                    listener,
                    peer,
                    ResponseType::MethodNotAllowed,
                    &format!(
                        "method {} not allowed on /topic (POST only)",
                        method_name(pkt)
                    ),
                    &Who::default(),
                );
            }
            self.topic(listener, security, peer, pkt, &segs[1..])
        } else {
            self.reject(
                "request_rejected",
                listener,
                peer,
                ResponseType::NotFound,
                &format!("path /{} not found", segs.join("/")),
                &Who::default(),
            )
        }
    }

    fn auth(
        &self,
        listener: &'static str,
        security: Security,
        peer: SocketAddr,
        pkt: &Packet,
    ) -> Reply {
        let none = Who::default();
        let rej = |code, reason: &str, who: &Who| {
            self.reject("auth_rejected", listener, peer, code, reason, who)
        };
        if pkt.get_option(CoapOption::UriQuery).is_some() {
            return rej(
                ResponseType::BadRequest,
                "query strings are not supported",
                &none,
            );
        }
        let cf = match first_opt(pkt, 12).map(|v| opt_uint(v)) {
            None => {
                return rej(
                    ResponseType::UnsupportedContentFormat,
                    "Content-Format missing",
                    &none,
                )
            }
            Some(Some(cf)) if cf == CF_JSON as u32 || cf == CF_CBOR as u32 => cf as u16,
            Some(cf) => {
                return rej(
                    ResponseType::UnsupportedContentFormat,
                    &format!(
                        "Content-Format {} not supported (50 json or 60 cbor)",
                        cf.unwrap_or(u32::MAX)
                    ),
                    &none,
                )
            }
        };
        let accept = match first_opt(pkt, 17).map(|v| opt_uint(v)) {
            None => None,
            Some(Some(a)) if a == CF_JSON as u32 || a == CF_CBOR as u32 => Some(a as u16),
            Some(a) => {
                return rej(
                    ResponseType::NotAcceptable,
                    &format!(
                        "Accept {} not supported (50 json or 60 cbor)",
                        a.unwrap_or(u32::MAX)
                    ),
                    &none,
                )
            }
        };
        if self
            .auth_5xx_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return rej(
                ResponseType::InternalServerError,
                "auth service timeout (injected by --auth-5xx)",
                &none,
            );
        }
        let params = match auth::parse_body(&pkt.payload, cf) {
            Ok(p) => p,
            Err(e) => return rej(ResponseType::BadRequest, &e.reason, &none),
        };
        let req = match auth::validate(params, security == Security::Psk) {
            Ok(r) => r,
            Err(e) => {
                let who = Who {
                    pk: e.product_key,
                    dn: e.device_name,
                };
                return rej(ResponseType::BadRequest, &e.reason, &who);
            }
        };
        let who = Who {
            pk: Some(req.product_key.clone()),
            dn: Some(req.device_name.clone()),
        };
        let separate = req.ack_mode == 1;
        let fail = |code, reason: &str| {
            let mut r = rej(code, reason, &who);
            r.separate = separate;
            r
        };
        let device = match self
            .devices
            .get(&(req.product_key.clone(), req.device_name.clone()))
        {
            None => return fail(ResponseType::Forbidden, "device not registered"),
            Some(d) if d.disabled => return fail(ResponseType::Forbidden, "device disabled"),
            Some(d) => d,
        };
        let content = auth::sign_content(&req.params);
        if !auth::verify_sign(req.sign_method, &device.device_secret, &content, &req.sign) {
            return fail(ResponseType::Unauthorized, "sign mismatch");
        }
        let token = self.random_hex(16);
        let cbor = accept == Some(CF_CBOR);
        let (payload, session) = match security {
            Security::None => (
                auth::encode_reply(&auth::TokenReply { token: &token }, cbor),
                None,
            ),
            Security::Psk => {
                let random = match &self.cfg.psk_random {
                    Some(r) => r.clone(),
                    None => self.random_hex(8),
                };
                let seq_offset = self.cfg.seq_offset;
                let p = auth::encode_reply(
                    &auth::PskTokenReply {
                        random: &random,
                        seq_offset,
                        token: &token,
                    },
                    cbor,
                );
                let s = PskSession {
                    key: psk::derive_key(&device.device_secret, &random),
                    seq_offset,
                    used: HashSet::new(),
                };
                (p, Some(s))
            }
        };
        {
            let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if tokens.len() > 100_000 {
                tokens.retain(|_, t| t.expires > now);
            }
            tokens.insert(
                token,
                TokenInfo {
                    product_key: req.product_key.clone(),
                    device_name: req.device_name.clone(),
                    listener,
                    expires: now + self.cfg.token_ttl,
                    psk: session,
                },
            );
        }
        Counters::inc(&self.counters.auth_ok);
        let mut v = Self::base(listener, peer);
        v["productKey"] = Value::from(req.product_key.as_str());
        v["deviceName"] = Value::from(req.device_name.as_str());
        v["clientId"] = Value::from(req.client_id.as_str());
        v["signmethod"] = Value::from(req.sign_method.name());
        v["ackMode"] = Value::from(req.ack_mode);
        self.log.emit("auth_accepted", v);
        Reply {
            code: ResponseType::Content,
            payload,
            content_format: Some(if cbor { CF_CBOR } else { CF_JSON }),
            options: Vec::new(),
            separate,
        }
    }

    fn topic(
        &self,
        listener: &'static str,
        security: Security,
        peer: SocketAddr,
        pkt: &Packet,
        topic_segs: &[String],
    ) -> Reply {
        let mut who = Who::default();
        let rej = |code, reason: &str, who: &Who| {
            self.reject("uplink_rejected", listener, peer, code, reason, who)
        };
        if pkt.get_option(CoapOption::UriQuery).is_some() {
            return rej(
                ResponseType::BadRequest,
                "query strings are not supported",
                &who,
            );
        }
        let mut legacy = Vec::new();
        match first_opt(pkt, 17).map(|v| opt_uint(v)) {
            None => {}
            Some(Some(a)) if a == CF_JSON as u32 || a == CF_CBOR as u32 => {}
            Some(Some(a)) if a == CF_OCTET_STREAM as u32 && self.cfg.accept_legacy => {
                legacy.push("uplink Accept application/octet-stream (42)");
            }
            Some(a) => {
                let hint = if a == Some(CF_OCTET_STREAM as u32) {
                    " (the vendor SDK's 42 is accepted only with --accept-legacy)"
                } else {
                    ""
                };
                return rej(
                    ResponseType::NotAcceptable,
                    &format!(
                        "Accept {} not supported (50 json or 60 cbor){hint}",
                        a.unwrap_or(u32::MAX)
                    ),
                    &who,
                );
            }
        }
        let token = match (first_opt(pkt, OPT_TOKEN), first_opt(pkt, OPT_LEGACY_TOKEN)) {
            (Some(t), _) => t,
            (None, Some(t)) if self.cfg.accept_legacy => {
                legacy.push("token in option 61");
                t
            }
            (None, Some(_)) => {
                return rej(
                    ResponseType::Unauthorized,
                    "token missing in option 2088 (option 61 is the vendor SDK's; accepted only with --accept-legacy)",
                    &who,
                )
            }
            (None, None) => return rej(ResponseType::Unauthorized, "token missing (option 2088)", &who),
        };
        let token = String::from_utf8_lossy(token).into_owned();
        let now = Instant::now();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let info = match tokens.get_mut(&token) {
            None => return rej(ResponseType::Unauthorized, "unknown token", &who),
            Some(t) if t.expires <= now => {
                tokens.remove(&token);
                return rej(ResponseType::Unauthorized, "token expired", &who);
            }
            Some(t) if t.listener != listener => {
                return rej(
                    ResponseType::Unauthorized,
                    &format!("token was issued on the {} listener", t.listener),
                    &who,
                )
            }
            Some(t) => t,
        };
        who.pk = Some(info.product_key.clone());
        who.dn = Some(info.device_name.clone());
        let topic = format!("/{}", topic_segs.join("/"));
        let prefix = format!("/{}/{}/", info.product_key, info.device_name);
        if !topic.starts_with(&prefix) || topic.len() == prefix.len() {
            return rej(
                ResponseType::Forbidden,
                &format!("topic {topic} is not publishable by this device (only {prefix}...)"),
                &who,
            );
        }
        if topic.contains('+') || topic.contains('#') {
            return rej(
                ResponseType::Forbidden,
                &format!("topic {topic} contains a wildcard"),
                &who,
            );
        }
        let (payload, seq) = match (&mut info.psk, security) {
            (Some(s), Security::Psk) => {
                let Some(enc_seq) = first_opt(pkt, OPT_SEQ) else {
                    return rej(ResponseType::BadRequest, "seq option 2089 missing", &who);
                };
                let seq_text = match psk::decrypt(&s.key, enc_seq) {
                    Ok(t) => t,
                    Err(e) => {
                        return rej(
                            ResponseType::BadRequest,
                            &format!("seq option 2089: {e}"),
                            &who,
                        )
                    }
                };
                let seq = match std::str::from_utf8(&seq_text).ok().and_then(|t| {
                    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                        t.parse::<u64>().ok()
                    } else {
                        None
                    }
                }) {
                    Some(n) => n,
                    None => {
                        return rej(
                            ResponseType::BadRequest,
                            "seq option 2089 is not a decimal number",
                            &who,
                        )
                    }
                };
                if seq < s.seq_offset || (seq == s.seq_offset && !self.cfg.accept_legacy) {
                    let hint = if seq == s.seq_offset {
                        " (the vendor SDK starts at seqOffset; accepted only with --accept-legacy)"
                    } else {
                        ""
                    };
                    return rej(
                        ResponseType::BadRequest,
                        &format!(
                            "replay: seq {seq} not above seqOffset {}{hint}",
                            s.seq_offset
                        ),
                        &who,
                    );
                }
                if s.used.contains(&seq) {
                    return rej(
                        ResponseType::BadRequest,
                        &format!("replay: seq {seq} already used under this token"),
                        &who,
                    );
                }
                let payload = match psk::decrypt(&s.key, &pkt.payload) {
                    Ok(p) => p,
                    Err(e) => return rej(ResponseType::BadRequest, &format!("payload: {e}"), &who),
                };
                if seq == s.seq_offset {
                    legacy.push("first PSK seq equal to seqOffset");
                }
                s.used.insert(seq);
                (payload, Some(seq))
            }
            _ => (pkt.payload.clone(), None),
        };
        let key = info.psk.as_ref().map(|s| s.key);
        drop(tokens);
        for reason in legacy {
            self.legacy(listener, peer, &who, reason);
        }
        let mid = self.uplink_counter.fetch_add(1, Ordering::SeqCst) + 1;
        let mid = format!("{mid}");
        Counters::inc(&self.counters.uplink_ok);
        let mut v = Self::base(listener, peer);
        who.add(&mut v);
        v["topic"] = Value::from(topic);
        v["payload"] = Value::from(String::from_utf8_lossy(&payload).into_owned());
        v["payload_hex"] = Value::from(auth::hex(&payload));
        v["seq"] = seq.map(Value::from).unwrap_or(Value::Null);
        v["messageId"] = Value::from(mid.as_str());
        self.log.emit("uplink_accepted", v);
        let mut reply = Reply::code(ResponseType::Content);
        reply.options.push((OPT_MESSAGE_ID, mid.into_bytes()));
        if let Some(p) = &self.cfg.reply_payload {
            reply.payload = match key {
                Some(k) => psk::encrypt(&k, p),
                None => p.clone(),
            };
        }
        reply
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

struct Pending {
    peer: SocketAddr,
    bytes: Vec<u8>,
    sent: u32,
    timeout: Duration,
    next_at: Instant,
}

/// One listener: a transport, a security mode and the message layer.
pub struct Listener<T: DatagramTransport> {
    name: &'static str,
    security: Security,
    transport: T,
    platform: Arc<Platform>,
    fault_in: FaultInjector,
    fault_out: FaultInjector,
    delay: Duration,
    timers: BinaryHeap<Reverse<Timed>>,
    timer_n: u64,
    held_in: Option<Held>,
    held_out: Option<Held>,
    dedup: HashMap<(SocketAddr, u16), Vec<Vec<u8>>>,
    dedup_order: VecDeque<(Instant, (SocketAddr, u16))>,
    pending: HashMap<u16, Pending>,
    next_mid: u16,
    rng: StdRng,
}

impl<T: DatagramTransport> Listener<T> {
    pub(crate) fn new(
        name: &'static str,
        security: Security,
        transport: T,
        platform: Arc<Platform>,
        seed: u64,
    ) -> Self {
        let faults = platform.cfg.faults.clone();
        let mut rng = StdRng::seed_from_u64(seed ^ 0x6d69_6473);
        Listener {
            name,
            security,
            transport,
            fault_in: FaultInjector::new(faults.inbound, seed ^ 0x0001),
            fault_out: FaultInjector::new(faults.outbound, seed ^ 0x0002),
            delay: faults.delay,
            platform,
            timers: BinaryHeap::new(),
            timer_n: 0,
            held_in: None,
            held_out: None,
            dedup: HashMap::new(),
            dedup_order: VecDeque::new(),
            pending: HashMap::new(),
            next_mid: rng.gen(),
            rng,
        }
    }

    /// Runs until `stop` is set.
    pub(crate) fn run(mut self, stop: &std::sync::atomic::AtomicBool) {
        let mut buf = vec![0u8; 65_536];
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let mut wait = Duration::from_millis(20);
            if let Some(Reverse(t)) = self.timers.peek() {
                wait = wait.min(t.at.saturating_duration_since(now));
            }
            for h in [&self.held_in, &self.held_out].into_iter().flatten() {
                wait = wait.min(h.until.saturating_duration_since(now));
            }
            for p in self.pending.values() {
                wait = wait.min(p.next_at.saturating_duration_since(now));
            }
            let got = self.transport.recv(&mut buf, wait);
            for peer in self.transport.take_reset_peers() {
                self.forget_peer(peer);
            }
            match got {
                Ok(Some((n, peer))) => {
                    let bytes = buf[..n].to_vec();
                    Counters::inc(&self.platform.counters.received);
                    // Whatever a datagram contains, it must not take the listener down.
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.pass(Dir::In, peer, bytes)
                    }));
                    if r.is_err() {
                        self.malformed(peer, "internal error while handling the datagram".into());
                    }
                }
                Ok(None) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
            self.fire_timers();
        }
    }

    /// Forgets a peer's exchanges (its new session starts afresh).
    fn forget_peer(&mut self, peer: SocketAddr) {
        self.dedup.retain(|(p, _), _| *p != peer);
        self.dedup_order.retain(|(_, (p, _))| *p != peer);
        self.pending.retain(|_, p| p.peer != peer);
    }

    fn counters(&self) -> &Counters {
        &self.platform.counters
    }

    /// Applies the direction's faults, then delivers (now or later).
    fn pass(&mut self, dir: Dir, peer: SocketAddr, bytes: Vec<u8>) {
        let v = match dir {
            Dir::In => self.fault_in.judge(),
            Dir::Out => self.fault_out.judge(),
        };
        let c = &self.platform.counters;
        let dc = match dir {
            Dir::In => &c.inbound,
            Dir::Out => &c.outbound,
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
        let now = Instant::now();
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

    fn fire_timers(&mut self) {
        let now = Instant::now();
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
        let due: Vec<u16> = self
            .pending
            .iter()
            .filter(|(_, p)| p.next_at <= now)
            .map(|(m, _)| *m)
            .collect();
        for mid in due {
            let p = self.pending.get_mut(&mid).expect("listed");
            if p.sent > MAX_RETRANSMIT {
                let p = self.pending.remove(&mid).expect("listed");
                self.platform.log.emit(
                    "separate_response_timeout",
                    json!({"peer": p.peer.to_string(), "listener": self.name, "mid": mid}),
                );
                continue;
            }
            p.sent += 1;
            p.timeout *= 2;
            p.next_at = now + p.timeout;
            let (peer, bytes) = (p.peer, p.bytes.clone());
            Counters::inc(&self.counters().retransmits);
            self.pass(Dir::Out, peer, bytes);
        }
    }

    fn deliver(&mut self, dir: Dir, peer: SocketAddr, bytes: Vec<u8>) {
        match dir {
            Dir::Out => {
                Counters::inc(&self.counters().sent);
                let _ = self.transport.send(&bytes, peer);
            }
            Dir::In => self.process(peer, &bytes),
        }
    }

    fn malformed(&mut self, peer: SocketAddr, reason: String) {
        Counters::inc(&self.counters().malformed);
        self.platform.log.emit(
            "malformed",
            json!({"peer": peer.to_string(), "listener": self.name, "reason": reason}),
        );
    }

    fn mid(&mut self) -> u16 {
        self.next_mid = self.next_mid.wrapping_add(1);
        self.next_mid
    }

    fn send_rst(&mut self, peer: SocketAddr, mid: u16) {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Reset);
        p.header.code = MessageClass::Empty;
        p.header.message_id = mid;
        if let Ok(b) = p.to_bytes() {
            self.pass(Dir::Out, peer, b);
        }
    }

    fn process(&mut self, peer: SocketAddr, bytes: &[u8]) {
        let pkt = match Packet::from_bytes(bytes) {
            Ok(p) if p.header.get_version() == 1 => p,
            Ok(_) => return self.malformed(peer, "unsupported CoAP version".into()),
            Err(e) => {
                self.malformed(peer, format!("undecodable CoAP message: {e:?}"));
                // RFC 7252 4.2: a CON that cannot be processed is rejected with RST.
                if bytes.len() >= 4 && bytes[0] >> 6 == 1 && (bytes[0] >> 4) & 3 == 0 {
                    self.send_rst(peer, u16::from_be_bytes([bytes[2], bytes[3]]));
                }
                return;
            }
        };
        let ty = pkt.header.get_type();
        let mid = pkt.header.message_id;
        match pkt.header.code {
            MessageClass::Empty => match ty {
                MessageType::Confirmable => self.send_rst(peer, mid), // CoAP ping
                MessageType::Acknowledgement | MessageType::Reset => {
                    if self.pending.get(&mid).is_some_and(|p| p.peer == peer) {
                        self.pending.remove(&mid);
                    }
                }
                MessageType::NonConfirmable => {}
            },
            MessageClass::Request(_) => self.request(peer, pkt),
            MessageClass::Reserved(c) if c >> 5 == 0 => self.request(peer, pkt),
            MessageClass::Response(_) => {
                if ty == MessageType::Confirmable {
                    self.send_rst(peer, mid);
                }
            }
            MessageClass::Reserved(c) => {
                self.malformed(peer, format!("reserved code class {}", c >> 5));
                if ty == MessageType::Confirmable {
                    self.send_rst(peer, mid);
                }
            }
        }
    }

    fn build(&self, ty: MessageType, mid: u16, token: &[u8], r: &Reply) -> Vec<u8> {
        let mut p = Packet::new();
        p.header.set_type(ty);
        p.header.message_id = mid;
        p.header.code = MessageClass::Response(r.code);
        p.set_token(token.to_vec());
        if let Some(cf) = r.content_format {
            p.add_option(
                CoapOption::ContentFormat,
                cf.to_be_bytes()
                    .iter()
                    .copied()
                    .skip_while(|b| *b == 0)
                    .collect(),
            );
        }
        for (n, v) in &r.options {
            p.add_option(CoapOption::from(*n), v.clone());
        }
        p.payload = r.payload.clone();
        p.to_bytes_unlimited().unwrap_or_default()
    }

    fn request(&mut self, peer: SocketAddr, pkt: Packet) {
        let ty = pkt.header.get_type();
        let mid = pkt.header.message_id;
        if matches!(ty, MessageType::Acknowledgement | MessageType::Reset) {
            return self.malformed(peer, "request code in an ACK/RST message".into());
        }
        let key = (peer, mid);
        if let Some(cached) = self.dedup.get(&key).cloned() {
            Counters::inc(&self.counters().duplicates);
            self.platform.log.emit(
                "duplicate",
                json!({"peer": peer.to_string(), "listener": self.name, "mid": mid}),
            );
            for b in cached {
                self.pass(Dir::Out, peer, b);
            }
            return;
        }
        let reply = self.platform.handle(self.name, self.security, peer, &pkt);
        let token = pkt.get_token().to_vec();
        let mut out = Vec::new();
        match ty {
            MessageType::Confirmable if reply.separate => {
                let mut ack = Packet::new();
                ack.header.set_type(MessageType::Acknowledgement);
                ack.header.code = MessageClass::Empty;
                ack.header.message_id = mid;
                out.push(ack.to_bytes().unwrap_or_default());
                let rmid = self.mid();
                let con = self.build(MessageType::Confirmable, rmid, &token, &reply);
                let timeout = Duration::from_millis(self.rng.gen_range(2000..=3000));
                self.pending.insert(
                    rmid,
                    Pending {
                        peer,
                        bytes: con.clone(),
                        sent: 1,
                        timeout,
                        next_at: Instant::now() + timeout,
                    },
                );
                self.cache(key, out.clone());
                for b in out {
                    self.pass(Dir::Out, peer, b);
                }
                self.pass(Dir::Out, peer, con);
                return;
            }
            MessageType::Confirmable => {
                out.push(self.build(MessageType::Acknowledgement, mid, &token, &reply));
            }
            _ => {
                let rmid = self.mid();
                out.push(self.build(MessageType::NonConfirmable, rmid, &token, &reply));
            }
        }
        self.cache(key, out.clone());
        for b in out {
            self.pass(Dir::Out, peer, b);
        }
    }

    fn cache(&mut self, key: (SocketAddr, u16), responses: Vec<Vec<u8>>) {
        let now = Instant::now();
        while let Some((t, k)) = self.dedup_order.front() {
            if now.duration_since(*t) < EXCHANGE_LIFETIME && self.dedup_order.len() < DEDUP_MAX {
                break;
            }
            self.dedup.remove(k);
            self.dedup_order.pop_front();
        }
        if self.dedup.insert(key, responses).is_none() {
            self.dedup_order.push_back((now, key));
        }
    }
}
