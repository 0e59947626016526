//! The session harness: a scripted auth, then the fuzzer's operations
//! (uplinks, answers derived from what the client sent with mutated fields,
//! replays, raw datagrams, clock ticks), then the end of time. The delivery
//! contract is checked after every step:
//!
//! * every user datum gets at most one outcome (`Response` or `SendFailed`);
//! * an outcome only for a datum that `send` accepted;
//! * a `Response` comes from the datagram just handled: its code, the
//!   datagram's; its payload, the datagram's (decrypted by the harness's own
//!   PSK code); its user, one whose request carried that token;
//! * nothing is transmitted for a datum after its outcome;
//! * at the end (clock run past every deadline, or `abort_all`) every CON
//!   accepted got exactly one outcome and nothing is left in flight.

use std::collections::{HashMap, HashSet};

use arbitrary::Arbitrary;
use iotx_coap::core::session::{Config, Event, Session, FORMAT_CBOR, FORMAT_JSON};
use iotx_coap::core::url::Security;

use crate::coap::{self, Sent};
use crate::psk;

pub use iotx_coap_testkit::device::{DN, PK, SECRET};
const PATHS: [&str; 3] = [
    iotx_coap_testkit::device::TOPIC,
    "/topic/x",
    "/sys/a1TestPK001/dev-001/thing/event/property/post",
];

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub seed: u64,
    /// ACK_TIMEOUT = 100 + 50 * this (ms).
    pub ack_timeout: u8,
    /// MAX_RETRANSMIT = this % 5.
    pub max_retransmit: u8,
    /// The first auth's answer.
    pub auth: AuthReply,
    pub ops: Vec<Op>,
    /// End with `abort_all` at once instead of running the clock out.
    pub abort_at_end: bool,
}

#[derive(Arbitrary, Debug)]
pub struct AuthReply {
    /// Token characters (mapped onto [A-Za-z0-9._-]); empty means "t".
    pub token: Vec<u8>,
    /// PSK: the 16 hex digits of `random` come from this.
    pub random: u64,
    pub seq_offset: u32,
}

#[derive(Arbitrary, Debug)]
pub enum Op {
    Send {
        con: bool,
        cbor: bool,
        path: u8,
        /// Filler after the datum's id; `big` adds 1,100 bytes (too long).
        filler: u8,
        big: bool,
    },
    /// An answer to the `which`-th request the client sent (modulo).
    Answer {
        which: u16,
        how: How,
        code: u8,
        body: Body,
        token: TokenMut,
        /// XORed into the message id (ACK/RST) or used as it (CON/NON).
        mid: u16,
        /// Raw option bytes inserted before the payload.
        options: Vec<u8>,
        /// A payload marker even before an empty payload.
        marker: bool,
    },
    /// The `which`-th datagram delivered so far, again.
    Replay {
        which: u16,
    },
    Raw(Vec<u8>),
    Advance(u16),
    AdvanceToDeadline,
    StartAuth,
    RetransmitNow,
    AbortAll,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum How {
    /// Piggybacked: ACK with the request's id and token.
    Ack,
    /// Separate response as a CON / NON with our own id.
    Con,
    Non,
    /// Empty ACK (separate response to follow).
    EmptyAck,
    Rst,
}

#[derive(Arbitrary, Debug)]
pub enum Body {
    /// What the platform would say: a usable auth reply to an auth, an
    /// (encrypted, in PSK mode) payload to an uplink.
    Proper(Vec<u8>),
    /// A payload as it is, never encrypted.
    Raw(Vec<u8>),
    Auth(AuthReply),
}

#[derive(Arbitrary, Debug)]
pub enum TokenMut {
    Same,
    Other(Vec<u8>),
    FlipBit(u8),
}

struct Datum {
    con: bool,
    outcomes: u32,
}

pub struct Harness {
    session: Session<u32>,
    security: Security,
    now: u64,
    next_user: u32,
    data: HashMap<u32, Datum>,
    /// Requests the client sent, oldest first.
    requests: Vec<Sent>,
    /// Token of each uplink request -> the user data it may belong to.
    token_users: HashMap<Vec<u8>, HashSet<u32>>,
    /// Every datagram delivered so far (for replays).
    delivered: Vec<Vec<u8>>,
    /// Keys of every auth reply handed out (PSK); the last one accepted is
    /// the session's.
    keys: Vec<[u8; 16]>,
    current_key: Option<[u8; 16]>,
}

fn token_text(raw: &[u8]) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
    if raw.is_empty() {
        return "t".into();
    }
    raw.iter()
        .take(600)
        .map(|b| CHARS[usize::from(*b) % CHARS.len()] as char)
        .collect()
}

impl Harness {
    pub fn new(security: Security, input: &Input) -> Self {
        let mut cfg = Config::new(PK, DN, SECRET, security);
        cfg.seed = input.seed;
        cfg.ack_timeout_ms = 100 + 50 * u32::from(input.ack_timeout);
        cfg.max_retransmit = input.max_retransmit % 5;
        // The RTT-adaptive timer for half the inputs (bit 7 is unused above).
        cfg.adaptive_rto = input.max_retransmit & 0x80 != 0;
        cfg.separate_timeout_ms = 5_000;
        cfg.non_lifetime_ms = 5_000;
        cfg.max_in_flight = 16;
        Harness {
            session: Session::new(cfg),
            security,
            now: 1_000,
            next_user: 1,
            data: HashMap::new(),
            requests: Vec::new(),
            token_users: HashMap::new(),
            delivered: Vec::new(),
            keys: Vec::new(),
            current_key: None,
        }
    }

    /// The script every run starts with: auth sent, answered 2.05.
    pub fn authenticate(&mut self, reply: &AuthReply) {
        self.session.start_auth(self.now);
        self.collect_transmit();
        let auth = self
            .requests
            .iter()
            .rev()
            .find(|s| s.is_auth())
            .cloned()
            .expect("start_auth sends /auth");
        assert_eq!(auth.ty, 0, "auth is CON");
        let mut reply = AuthReply {
            token: reply.token.clone(),
            random: reply.random,
            seq_offset: reply.seq_offset,
        };
        reply.token.truncate(64);
        let body = self.auth_body(&reply);
        let d = coap::encode(2, 0x45, auth.mid, &auth.token, &[], &body, false);
        self.deliver(&d);
        assert!(
            self.session.is_authed(),
            "a proper auth reply authenticates"
        );
    }

    fn auth_body(&mut self, r: &AuthReply) -> Vec<u8> {
        let token = token_text(&r.token);
        match self.security {
            Security::Psk => {
                let random = format!("{:016x}", r.random);
                let key = psk::derive(SECRET, &random);
                self.keys.push(key);
                format!(
                    r#"{{"token":"{token}","random":"{random}","seqOffset":{}}}"#,
                    r.seq_offset
                )
                .into_bytes()
            }
            _ => format!(r#"{{"token":"{token}"}}"#).into_bytes(),
        }
    }

    pub fn run(&mut self, input: &Input) {
        self.authenticate(&input.auth);
        for op in input.ops.iter().take(256) {
            self.step(op);
        }
        self.finish(input.abort_at_end);
    }

    fn step(&mut self, op: &Op) {
        match op {
            Op::Send {
                con,
                cbor,
                path,
                filler,
                big,
            } => self.send(*con, *cbor, *path, *filler, *big),
            Op::Answer {
                which,
                how,
                code,
                body,
                token,
                mid,
                options,
                marker,
            } => {
                if self.requests.is_empty() {
                    return;
                }
                let req = self.requests[usize::from(*which) % self.requests.len()].clone();
                let d = self.answer(&req, *how, *code, body, token, *mid, options, *marker);
                self.deliver(&d);
            }
            Op::Replay { which } => {
                if !self.delivered.is_empty() {
                    let d = self.delivered[usize::from(*which) % self.delivered.len()].clone();
                    self.deliver(&d);
                }
            }
            Op::Raw(bytes) => self.deliver(&bytes[..bytes.len().min(1600)]),
            Op::Advance(ms) => {
                self.now += u64::from(*ms);
                self.session.handle_timeout(self.now);
                self.after_step(None);
            }
            Op::AdvanceToDeadline => {
                if let Some(t) = self.session.poll_timeout() {
                    assert!(
                        t >= self.now.saturating_sub(1),
                        "deadline {t} in the past (now {})",
                        self.now
                    );
                    self.now = self.now.max(t);
                    self.session.handle_timeout(self.now);
                    self.after_step(None);
                }
            }
            Op::StartAuth => {
                self.session.start_auth(self.now);
                self.after_step(None);
            }
            Op::RetransmitNow => {
                self.session.retransmit_now(self.now);
                self.after_step(None);
            }
            Op::AbortAll => {
                self.session.abort_all(self.now);
                self.after_step(None);
            }
        }
    }

    fn send(&mut self, con: bool, cbor: bool, path: u8, filler: u8, big: bool) {
        let user = self.next_user;
        self.next_user += 1;
        let mut payload = format!("u{user:08}").into_bytes();
        payload.resize(
            payload.len() + usize::from(filler) + if big { 1100 } else { 0 },
            b'.',
        );
        let format = if cbor { FORMAT_CBOR } else { FORMAT_JSON };
        let path = PATHS[usize::from(path) % PATHS.len()];
        match self
            .session
            .send(self.now, path, &payload, format, con, user)
        {
            Ok(()) => {
                self.data.insert(user, Datum { con, outcomes: 0 });
            }
            Err((_, back)) => assert_eq!(back, user, "a refused send returns its user datum"),
        }
        self.after_step(None);
    }

    #[allow(clippy::too_many_arguments)]
    fn answer(
        &mut self,
        req: &Sent,
        how: How,
        code: u8,
        body: &Body,
        token: &TokenMut,
        mid: u16,
        options: &[u8],
        marker: bool,
    ) -> Vec<u8> {
        let token = match token {
            TokenMut::Same => req.token.clone(),
            TokenMut::Other(t) => t.iter().take(8).copied().collect(),
            TokenMut::FlipBit(b) => {
                let mut t = req.token.clone();
                if !t.is_empty() {
                    let i = usize::from(*b) % t.len();
                    t[i] ^= 1 << (b % 8);
                }
                t
            }
        };
        let payload = match body {
            Body::Raw(p) => p.clone(),
            Body::Auth(r) => self.auth_body(r),
            Body::Proper(p) if req.is_auth() => {
                let r = AuthReply {
                    token: p.clone(),
                    random: p
                        .iter()
                        .fold(7u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(*b))),
                    seq_offset: p.len() as u32,
                };
                self.auth_body(&r)
            }
            Body::Proper(p) => match self.current_key {
                Some(k) => psk::encrypt(&k, p),
                None => p.clone(),
            },
        };
        let options = &options[..options.len().min(64)];
        match how {
            How::Ack => coap::encode(2, code, req.mid ^ mid, &token, options, &payload, marker),
            How::Con => coap::encode(0, code, mid, &token, options, &payload, marker),
            How::Non => coap::encode(1, code, mid, &token, options, &payload, marker),
            How::EmptyAck => coap::encode(2, 0, req.mid ^ mid, &[], &[], &[], false),
            How::Rst => coap::encode(3, 0, req.mid ^ mid, &[], &[], &[], false),
        }
    }

    fn deliver(&mut self, d: &[u8]) {
        self.delivered.push(d.to_vec());
        if self.delivered.len() > 64 {
            self.delivered.remove(0);
        }
        self.session.handle_datagram(self.now, d);
        self.after_step(Some(d));
    }

    /// Drains transmissions and events and checks them. `datagram`: what
    /// was just handled, the only possible source of a `Response`.
    fn after_step(&mut self, datagram: Option<&[u8]>) {
        self.collect_transmit();
        for ev in self.session.take_events() {
            match ev {
                Event::Authenticated => {
                    if self.security == Security::Psk {
                        let d = datagram.expect("Authenticated outside handle_datagram");
                        self.current_key = Some(auth_reply_key(d));
                    }
                }
                Event::AuthFailed { .. } => {}
                Event::SendFailed { user } => self.outcome(user, "SendFailed"),
                Event::Response {
                    user,
                    code,
                    payload,
                } => {
                    let d = datagram
                        .unwrap_or_else(|| panic!("Response for {user} outside handle_datagram"));
                    self.check_response(d, user, code, &payload);
                    self.outcome(user, "Response");
                }
            }
        }
        self.collect_transmit();
    }

    fn outcome(&mut self, user: u32, what: &str) {
        let Some(datum) = self.data.get_mut(&user) else {
            panic!("{what} for user datum {user}, which was never sent");
        };
        datum.outcomes += 1;
        assert!(
            datum.outcomes == 1,
            "{what}: user datum {user} got a second outcome"
        );
    }

    fn check_response(&self, d: &[u8], user: u32, code: u8, payload: &[u8]) {
        let p = coap_lite::Packet::from_bytes(d).expect("a Response from an undecodable datagram");
        assert_eq!(
            code,
            u8::from(p.header.code),
            "Response code is not the datagram's"
        );
        let users = self.token_users.get(p.get_token());
        assert!(
            users.is_some_and(|u| u.contains(&user)),
            "Response for {user} from a datagram whose token {:02x?} was never sent for it",
            p.get_token()
        );
        let expected = match (self.current_key, p.payload.is_empty()) {
            (_, true) => Some(Vec::new()),
            (Some(k), false) => psk::decrypt(&k, &p.payload),
            (None, false) => Some(p.payload.clone()),
        };
        assert_eq!(
            Some(payload),
            expected.as_deref(),
            "Response payload for {user} is not what the datagram carried"
        );
        assert_eq!(
            coap::deliverable_response(d),
            Some(true),
            "RFC 7252: {d:02x?} (code {code:#04x}) is not a response to deliver"
        );
    }

    fn collect_transmit(&mut self) {
        for raw in self.session.take_transmit() {
            let s = coap::decode_sent(&raw);
            if !s.is_request() {
                continue; // ACK or RST of a separate response
            }
            if !s.is_auth() {
                let user = self.uplink_user(&s);
                let datum = self.data.get(&user).unwrap_or_else(|| {
                    panic!("uplink for user datum {user}, never accepted by send")
                });
                assert!(
                    datum.outcomes == 0,
                    "uplink for {user} sent after its outcome"
                );
                self.token_users
                    .entry(s.token.clone())
                    .or_default()
                    .insert(user);
            }
            self.requests.push(s);
            if self.requests.len() > 64 {
                self.requests.remove(0);
            }
        }
    }

    /// The user datum an uplink carries ("u%08d..." at the start of its
    /// payload, encrypted in PSK mode with one of the keys handed out).
    fn uplink_user(&self, s: &Sent) -> u32 {
        let id = |plain: &[u8]| -> Option<u32> {
            if plain.first() != Some(&b'u') {
                return None;
            }
            std::str::from_utf8(plain.get(1..9)?).ok()?.parse().ok()
        };
        if self.security == Security::Psk {
            // A wrong key passes the padding check now and then: the id
            // must parse too.
            self.keys
                .iter()
                .rev()
                .find_map(|k| psk::decrypt(k, &s.payload).as_deref().and_then(id))
                .unwrap_or_else(|| panic!("PSK uplink payload {:02x?} is none we sent", s.payload))
        } else {
            id(&s.payload)
                .unwrap_or_else(|| panic!("uplink payload {:02x?} is not one we sent", s.payload))
        }
    }

    /// Runs the clock past every deadline (the server silent), or aborts
    /// everything; then every CON must have exactly one outcome.
    fn finish(&mut self, abort: bool) {
        if !abort {
            for _ in 0..10_000 {
                let Some(t) = self.session.poll_timeout() else {
                    break;
                };
                self.now = self.now.max(t);
                self.session.handle_timeout(self.now);
                self.after_step(None);
            }
            assert_eq!(self.session.poll_timeout(), None, "deadlines never end");
        }
        self.session.abort_all(self.now);
        self.after_step(None);
        assert_eq!(
            self.session.in_flight(),
            0,
            "exchanges left after abort_all"
        );
        for (user, d) in &self.data {
            if d.con {
                assert_eq!(
                    d.outcomes, 1,
                    "CON user datum {user} ended with {} outcomes",
                    d.outcomes
                );
            }
        }
    }
}

/// The PSK key an accepted auth reply sets up, from its `random` (read with
/// a real JSON parser, so escapes the fuzzer writes count as the library
/// reads them).
fn auth_reply_key(d: &[u8]) -> [u8; 16] {
    let p = coap_lite::Packet::from_bytes(d).expect("authenticated by an undecodable datagram");
    let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap_or_else(|e| {
        panic!(
            "authenticated by a payload that is not JSON ({e}): {:02x?}",
            p.payload
        )
    });
    let random = v["random"]
        .as_str()
        .unwrap_or_else(|| panic!("PSK session authenticated without a random: {v}"));
    psk::derive(SECRET, random)
}

pub fn run(security: Security, input: &Input) {
    Harness::new(security, input).run(input);
}
