//! The emulated platform: devices, tokens, and the handling of `/auth` and
//! `/topic/...` requests, shared by all listeners.
//!
//! This layer sees one deduplicated request at a time and says what to
//! answer ([`Reply`]); it knows nothing of sockets, message ids,
//! retransmission or DTLS (the listener does, and calls in here with its
//! time and its own random generator). The checks `/auth` and `/topic`
//! share live in `checks.rs`; the body parsing and the sign rule in
//! `auth.rs`; the token bookkeeping in `tokens.rs`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use coap_lite::{CoapOption, MessageClass, Packet, RequestType, ResponseType};
use iotx_coap::core::psk::PskKey;
use iotx_coap::core::session::{OPTION_MESSAGE_ID, OPTION_SEQ, OPTION_TOKEN};
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{json, Value};

use crate::auth::{self, AuthRequest, CF_CBOR, CF_JSON};
use crate::checks::{self, first_opt, Rejection, Route, Who};
use crate::config::{Device, SimConfig};
use crate::log::EventLog;
use crate::stats::Counters;
use crate::tokens::{self, PskSession, TokenError, TokenInfo, TokenStore};

/// The vendor SDK's token option (accepted only with `--accept-legacy`).
pub const OPT_LEGACY_TOKEN: u16 = 61;

/// What protects the payload on a listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Nothing at the CoAP layer (plain CoAP, or DTLS below the transport).
    None,
    /// The platform's "symmetric encryption": AES on payload and seq option.
    Psk,
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

/// Where a request came from: the listener (its name and security mode)
/// and the peer.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    pub listener: &'static str,
    pub security: Security,
    pub peer: SocketAddr,
}

/// One request, where it came from and when.
struct Request<'a> {
    listener: &'static str,
    security: Security,
    peer: SocketAddr,
    pkt: &'a Packet,
    now: Instant,
}

impl Request<'_> {
    /// The fields every event about this request carries.
    fn event(&self, who: &Who) -> Value {
        let mut v = json!({ "peer": self.peer.to_string(), "listener": self.listener });
        if let Some(pk) = &who.pk {
            v["productKey"] = Value::from(pk.as_str());
        }
        if let Some(dn) = &who.dn {
            v["deviceName"] = Value::from(dn.as_str());
        }
        v
    }
}

/// An uplink that passed every check, ready to be logged and answered.
struct Accepted {
    who: Who,
    topic: String,
    payload: Vec<u8>,
    seq: Option<u64>,
    key: Option<PskKey>,
    legacy: Vec<&'static str>,
}

/// The emulated platform; see the module docs.
pub struct Platform {
    cfg: SimConfig,
    devices: HashMap<(String, String), Arc<Device>>,
    tokens: Mutex<TokenStore>,
    auth_5xx_left: AtomicU32,
    uplink_counter: AtomicU64,
    log: Arc<EventLog>,
    counters: Arc<Counters>,
}

fn code_str(code: ResponseType) -> String {
    MessageClass::Response(code).to_string()
}

fn method_name(pkt: &Packet) -> String {
    match pkt.header.code {
        MessageClass::Request(m) => format!("{m:?}").to_uppercase(),
        other => other.to_string(),
    }
}

/// Which resource the request names (with the topic's segments), or why
/// it is refused; refusals of a known resource are logged as its own.
fn route(pkt: &Packet) -> (Route, Result<Vec<&str>, Rejection>) {
    let mut segs = Vec::new();
    for s in pkt.get_option(CoapOption::UriPath).into_iter().flatten() {
        match std::str::from_utf8(s) {
            Ok(s) => segs.push(s),
            Err(_) => {
                let r = Rejection::bad_request("Uri-Path is not UTF-8");
                return (Route::Other, Err(r));
            }
        }
    }
    let (route, name) = match segs.first().copied() {
        Some("auth") if segs.len() == 1 => (Route::Auth, "auth"),
        Some("topic") if segs.len() >= 2 => (Route::Topic, "topic"),
        _ => {
            let reason = format!("path /{} not found", segs.join("/"));
            return (
                Route::Other,
                Err(Rejection::new(ResponseType::NotFound, reason)),
            );
        }
    };
    if pkt.header.code != MessageClass::Request(RequestType::Post) {
        let reason = format!(
            "method {} not allowed on /{name} (POST only)",
            method_name(pkt)
        );
        return (
            route,
            Err(Rejection::new(ResponseType::MethodNotAllowed, reason)),
        );
    }
    segs.remove(0);
    (route, Ok(segs))
}

impl Platform {
    /// A platform without listeners. The emulator makes its own in
    /// [`crate::start`]; this is public for the benches, which time the
    /// request handling without the network.
    #[doc(hidden)]
    pub fn new(cfg: SimConfig, log: EventLog) -> Platform {
        let devices = cfg
            .devices
            .iter()
            .map(|d| {
                let key = (d.product_key.clone(), d.device_name.clone());
                (key, Arc::new(d.clone()))
            })
            .collect();
        Platform {
            auth_5xx_left: AtomicU32::new(cfg.auth_5xx),
            cfg,
            devices,
            tokens: Mutex::new(TokenStore::default()),
            uplink_counter: AtomicU64::new(0),
            log: Arc::new(log),
            counters: Arc::default(),
        }
    }

    /// The event log, shared with the listeners and the handle.
    pub(crate) fn log(&self) -> &Arc<EventLog> {
        &self.log
    }

    /// The counters, shared with the listeners and the handle.
    pub(crate) fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// Handles one (deduplicated) request at `now` and says what to answer.
    /// Tokens and randoms are drawn from `rng`, the listener's own.
    pub fn handle(&self, from: Origin, pkt: &Packet, now: Instant, rng: &mut StdRng) -> Reply {
        let req = Request {
            listener: from.listener,
            security: from.security,
            peer: from.peer,
            pkt,
            now,
        };
        let (route, segs) = route(pkt);
        let result = segs.and_then(|segs| match route {
            Route::Auth => self.auth(&req, rng),
            _ => self.topic(&req, &segs),
        });
        result.unwrap_or_else(|r| self.reject(&req, route, r))
    }

    /// Counts and logs a refusal, and answers it.
    fn reject(&self, req: &Request<'_>, route: Route, r: Rejection) -> Reply {
        let c = &self.counters;
        Counters::inc(match route {
            Route::Auth => &c.auth_rejected,
            Route::Topic => &c.uplink_rejected,
            Route::Other => &c.other_rejected,
        });
        if self.log.wanted() {
            let mut v = req.event(&r.who);
            v["code"] = Value::from(code_str(r.code));
            v["reason"] = Value::from(r.reason);
            self.log.emit(route.rejected_event(), v);
        }
        let mut reply = Reply::code(r.code);
        reply.separate = r.separate;
        reply
    }

    /// `POST /auth`: checks the request and the device's sign, then issues
    /// a token (and in PSK mode a session key).
    fn auth(&self, req: &Request<'_>, rng: &mut StdRng) -> Result<Reply, Rejection> {
        checks::no_query(req.pkt)?;
        let cf = checks::content_format(req.pkt)?;
        let accept = checks::accept(req.pkt, Route::Auth, false)?;
        if self
            .auth_5xx_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(Rejection::new(
                ResponseType::InternalServerError,
                "auth service timeout (injected by --auth-5xx)",
            ));
        }
        let params =
            auth::parse_body(&req.pkt.payload, cf).map_err(|e| Rejection::bad_request(e.reason))?;
        let areq = auth::validate(params, req.security == Security::Psk).map_err(|e| {
            Rejection::bad_request(e.reason).by(&Who {
                pk: e.product_key,
                dn: e.device_name,
            })
        })?;
        let who = Who::named(&areq.product_key, &areq.device_name);
        let separate = areq.ack_mode == 1;
        let device = self.authenticate(&areq).map_err(|r| Rejection {
            separate,
            ..r.by(&who)
        })?;
        let cbor = accept.format == Some(CF_CBOR);
        let payload = self.issue_token(req, device, cbor, rng);
        Counters::inc(&self.counters.auth_ok);
        if self.log.wanted() {
            let mut v = req.event(&who);
            v["clientId"] = Value::from(areq.client_id.as_str());
            v["signmethod"] = Value::from(areq.sign_method.name());
            v["ackMode"] = Value::from(areq.ack_mode);
            self.log.emit("auth_accepted", v);
        }
        Ok(Reply {
            code: ResponseType::Content,
            payload,
            content_format: Some(if cbor { CF_CBOR } else { CF_JSON }),
            options: Vec::new(),
            separate,
        })
    }

    /// The registered, enabled device whose secret signed the request.
    fn authenticate(&self, areq: &AuthRequest) -> Result<Arc<Device>, Rejection> {
        let key = (areq.product_key.clone(), areq.device_name.clone());
        let device = match self.devices.get(&key) {
            None => {
                return Err(Rejection::new(
                    ResponseType::Forbidden,
                    "device not registered",
                ))
            }
            Some(d) if d.disabled => {
                return Err(Rejection::new(ResponseType::Forbidden, "device disabled"))
            }
            Some(d) => d,
        };
        let content = auth::sign_content(&areq.params);
        if !auth::verify_sign(
            areq.sign_method,
            &device.device_secret,
            &content,
            &areq.sign,
        ) {
            return Err(Rejection::new(ResponseType::Unauthorized, "sign mismatch"));
        }
        Ok(device.clone())
    }

    /// Issues a token for `device` on the request's listener; returns the
    /// 2.05 payload (JSON or CBOR).
    fn issue_token(
        &self,
        req: &Request<'_>,
        device: Arc<Device>,
        cbor: bool,
        rng: &mut StdRng,
    ) -> Vec<u8> {
        let random: u128 = rng.gen();
        let psk_random = match (req.security, &self.cfg.psk_random) {
            (Security::None, _) => None,
            (Security::Psk, Some(r)) => Some(r.clone()),
            (Security::Psk, None) => Some(auth::hex(&rng.gen::<[u8; 8]>())),
        };
        let seq_offset = self.cfg.seq_offset;
        let psk = psk_random.as_ref().map(|r| {
            Box::new(PskSession {
                key: PskKey::derive(device.device_secret.as_bytes(), r.as_bytes()),
                seq_offset,
                used: HashSet::new(),
            })
        });
        let now = req.now;
        let info = TokenInfo {
            device,
            listener: req.listener,
            expires: tokens::expiry(now, self.cfg.token_ttl),
            psk,
        };
        let token = tokens::token_text(self.lock_tokens().issue(random, info, now));
        match &psk_random {
            None => auth::encode_reply(&auth::TokenReply { token: &token }, cbor),
            Some(random) => {
                let reply = auth::PskTokenReply {
                    random,
                    seq_offset,
                    token: &token,
                };
                auth::encode_reply(&reply, cbor)
            }
        }
    }

    /// Tokens held (expired ones not yet retired included).
    pub fn tokens_held(&self) -> usize {
        self.lock_tokens().len()
    }

    fn lock_tokens(&self) -> std::sync::MutexGuard<'_, TokenStore> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `POST /topic/...`: checks the token, the topic and (PSK) the
    /// sequence number, then accepts the uplink.
    fn topic(&self, req: &Request<'_>, topic_segs: &[&str]) -> Result<Reply, Rejection> {
        checks::no_query(req.pkt)?;
        let mut legacy = Vec::new();
        if checks::accept(req.pkt, Route::Topic, self.cfg.accept_legacy)?.legacy {
            legacy.push("uplink Accept application/octet-stream (42)");
        }
        let token = self.token_option(req.pkt, &mut legacy)?;
        let mut tokens = self.lock_tokens();
        let info = tokens.lookup(token, req.listener, req.now).map_err(|e| {
            let reason = match e {
                TokenError::Unknown => "unknown token".to_string(),
                TokenError::Expired => "token expired".to_string(),
                TokenError::OtherListener(l) => format!("token was issued on the {l} listener"),
            };
            Rejection::new(ResponseType::Unauthorized, reason)
        })?;
        let who = Who::named(&info.device.product_key, &info.device.device_name);
        let topic = publishable(&info.device, topic_segs).map_err(|r| r.by(&who))?;
        let (payload, seq) = match (&mut info.psk, req.security) {
            (Some(s), Security::Psk) => self
                .open_psk(s, req.pkt, &mut legacy)
                .map_err(|r| r.by(&who))?,
            // Plain uplinks' payload is only logged: not copied otherwise.
            _ if !self.log.wanted() => (Vec::new(), None),
            _ => (req.pkt.payload.clone(), None),
        };
        let key = info.psk.as_ref().map(|s| s.key.clone());
        drop(tokens);
        Ok(self.accept_uplink(
            req,
            Accepted {
                who,
                topic,
                payload,
                seq,
                key,
                legacy,
            },
        ))
    }

    /// The token option: 2088, or the vendor SDK's 61 with `--accept-legacy`.
    fn token_option<'p>(
        &self,
        pkt: &'p Packet,
        legacy: &mut Vec<&'static str>,
    ) -> Result<&'p [u8], Rejection> {
        let unauthorized = |reason: &str| Err(Rejection::new(ResponseType::Unauthorized, reason));
        match (first_opt(pkt, OPTION_TOKEN), first_opt(pkt, OPT_LEGACY_TOKEN)) {
            (Some(t), _) => Ok(t),
            (None, Some(t)) if self.cfg.accept_legacy => {
                legacy.push("token in option 61");
                Ok(t)
            }
            (None, Some(_)) => unauthorized(
                "token missing in option 2088 (option 61 is the vendor SDK's; accepted only with --accept-legacy)",
            ),
            (None, None) => unauthorized("token missing (option 2088)"),
        }
    }

    /// PSK: decrypts and checks the sequence number (above seqOffset, not
    /// used before under this token) and decrypts the payload.
    fn open_psk(
        &self,
        s: &mut PskSession,
        pkt: &Packet,
        legacy: &mut Vec<&'static str>,
    ) -> Result<(Vec<u8>, Option<u64>), Rejection> {
        let Some(enc_seq) = first_opt(pkt, OPTION_SEQ) else {
            return Err(Rejection::bad_request("seq option 2089 missing"));
        };
        let seq_text = decrypt(&s.key, "seq option 2089", enc_seq)?;
        let seq = std::str::from_utf8(&seq_text)
            .ok()
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or_else(|| Rejection::bad_request("seq option 2089 is not a decimal number"))?;
        let at_offset = seq == s.seq_offset;
        if seq < s.seq_offset || (at_offset && !self.cfg.accept_legacy) {
            let hint = if at_offset {
                " (the vendor SDK starts at seqOffset; accepted only with --accept-legacy)"
            } else {
                ""
            };
            return Err(Rejection::bad_request(format!(
                "replay: seq {seq} not above seqOffset {}{hint}",
                s.seq_offset
            )));
        }
        if s.used.contains(&seq) {
            return Err(Rejection::bad_request(format!(
                "replay: seq {seq} already used under this token"
            )));
        }
        let payload = decrypt(&s.key, "payload", &pkt.payload)?;
        if at_offset {
            legacy.push("first PSK seq equal to seqOffset");
        }
        s.used.insert(seq);
        Ok((payload, Some(seq)))
    }

    /// Logs an accepted uplink and answers 2.05 with the platform's
    /// message id (option 2090) and the configured reply payload.
    fn accept_uplink(&self, req: &Request<'_>, up: Accepted) -> Reply {
        let mid = (self.uplink_counter.fetch_add(1, Ordering::SeqCst) + 1).to_string();
        Counters::inc(&self.counters.uplink_ok);
        if self.log.wanted() {
            for reason in &up.legacy {
                let mut v = req.event(&up.who);
                v["reason"] = Value::from(*reason);
                self.log.emit("legacy", v);
            }
            let mut v = req.event(&up.who);
            v["topic"] = Value::from(up.topic);
            v["payload"] = Value::from(String::from_utf8_lossy(&up.payload).into_owned());
            v["payload_hex"] = Value::from(auth::hex(&up.payload));
            v["seq"] = up.seq.map(Value::from).unwrap_or(Value::Null);
            v["messageId"] = Value::from(mid.as_str());
            self.log.emit("uplink_accepted", v);
        }
        let mut reply = Reply::code(ResponseType::Content);
        reply.options.push((OPTION_MESSAGE_ID, mid.into_bytes()));
        if let Some(p) = &self.cfg.reply_payload {
            reply.payload = match &up.key {
                Some(k) => k.encrypt(p),
                None => p.clone(),
            };
        }
        reply
    }
}

/// The topic as a path, if this device may publish to it: under
/// `/PK/DN/`, not the prefix alone, no wildcard.
fn publishable(device: &Device, topic_segs: &[&str]) -> Result<String, Rejection> {
    let topic = format!("/{}", topic_segs.join("/"));
    // Below /PK/DN/ (something after it), checked without building the
    // prefix: this runs for every uplink.
    let below = topic[1..]
        .strip_prefix(device.product_key.as_str())
        .and_then(|r| r.strip_prefix('/'))
        .and_then(|r| r.strip_prefix(device.device_name.as_str()))
        .and_then(|r| r.strip_prefix('/'))
        .is_some_and(|rest| !rest.is_empty());
    if !below {
        let prefix = format!("/{}/{}/", device.product_key, device.device_name);
        return Err(Rejection::new(
            ResponseType::Forbidden,
            format!("topic {topic} is not publishable by this device (only {prefix}...)"),
        ));
    }
    if topic.contains('+') || topic.contains('#') {
        return Err(Rejection::new(
            ResponseType::Forbidden,
            format!("topic {topic} contains a wildcard"),
        ));
    }
    Ok(topic)
}

/// AES-CBC decryption (the library's, strict PKCS#7), with the reason of a
/// refusal told apart for the event log.
fn decrypt(key: &PskKey, what: &str, data: &[u8]) -> Result<Vec<u8>, Rejection> {
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(Rejection::bad_request(format!(
            "{what}: ciphertext length is not a positive multiple of 16"
        )));
    }
    key.decrypt(data)
        .map_err(|_| Rejection::bad_request(format!("{what}: invalid PKCS#7 padding")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PSK vectors of the protocol description, through the path the
    /// emulator uses (the library's key derivation and cipher).
    #[test]
    fn psk_vectors_and_refusal_reasons() {
        let key = PskKey::derive(b"s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB", b"ad2b3a5eb51d64f7");
        assert_eq!(
            auth::hex(key.as_bytes()),
            "53b89a5f8c7fa35052f25dec0144abf4"
        );
        let ct = key.encrypt(br#"{"name":"hello world"}"#);
        assert_eq!(
            auth::hex(&ct),
            "9a1dffa521023f7adbf2cac04354d65ae4d0ac8899c5f24b922004857c2a30a8"
        );
        assert_eq!(
            auth::hex(&key.encrypt(b"124")),
            "747f2692ab4effb9d3d44b4f43989c9a"
        );
        let ct = key.encrypt(b"0123456789abcdef");
        assert_eq!(
            auth::hex(&ct),
            "ac0482241a3b0f32394df5b7f9f3cb170756bf392dc24fd65c8b36888fefe5ed"
        );
        assert_eq!(decrypt(&key, "p", &ct).ok().unwrap(), b"0123456789abcdef");
        let short = decrypt(&key, "p", &ct[..15]).err().unwrap();
        assert_eq!(
            short.reason,
            "p: ciphertext length is not a positive multiple of 16"
        );
        // The last block decrypts (with a wrong IV chain) to garbage padding.
        let mut bad = ct.clone();
        bad[20] ^= 1;
        let bad = decrypt(&key, "p", &bad).err().unwrap();
        assert_eq!(bad.reason, "p: invalid PKCS#7 padding");
    }

    #[test]
    fn routes() {
        let mut p = Packet::new();
        p.header.code = MessageClass::Request(RequestType::Post);
        for s in ["topic", "pk", "dn", "x"] {
            p.add_option(CoapOption::UriPath, s.as_bytes().to_vec());
        }
        let (r, segs) = route(&p);
        assert!(r == Route::Topic);
        assert_eq!(segs.ok().unwrap(), ["pk", "dn", "x"]);
        p.header.code = MessageClass::Request(RequestType::Get);
        let (r, e) = route(&p);
        assert!(r == Route::Topic);
        assert_eq!(
            e.err().unwrap().reason,
            "method GET not allowed on /topic (POST only)"
        );
    }
}
