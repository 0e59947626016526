//! The DTLS 1.2 (`coaps://`) transport: certificates and per-peer sessions.
//!
//! [`DtlsTransport`] implements [`DatagramTransport`] over one UDP socket:
//! every peer address gets its own OpenSSL DTLS server session, fed the
//! peer's datagrams through an in-memory queue ([`PeerIo`], the session's
//! BIO: reads pop the queue, writes go straight to the socket). Everything
//! runs non-blocking on the listener's thread, so a slow or stalled
//! handshake never holds up another peer; OpenSSL's own handshake
//! retransmission timer is driven by polling mid-handshake sessions.
//!
//! The listener sees only decrypted application datagrams (CoAP messages),
//! so its fault injection, deduplication and `/auth` + `/topic` handling
//! apply to the CoAP messages inside DTLS, exactly as on the plain listener.
//!
//! Sessions:
//! - start on an epoch-0 ClientHello from an address without a session (the
//!   cookie exchange, HelloVerifyRequest, runs first);
//! - an epoch-0 ClientHello with a *different* client random from an address
//!   that has a session means the client restarted: the old session is
//!   dropped and a new one started (retransmitted ClientHellos, and the one
//!   answering the HelloVerifyRequest, keep the random and go to the session);
//! - a new session from an address whose earlier session ended less than
//!   EXCHANGE_LIFETIME ago makes the listener forget that address's
//!   deduplication entries and pending separate responses (a restarted
//!   client reusing message ids is not answered from the old cache);
//! - end on the peer's close_notify (answered with ours), on a fatal error,
//!   after `idle_timeout` without traffic, or when a handshake takes longer
//!   than `handshake_timeout`; on shutdown live sessions get a close_notify.
//!
//! Datagrams from addresses without a session that are not a ClientHello
//! are dropped silently.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    ErrorCode, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslStream, SslVersion,
};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Name, X509NameBuilder, X509VerifyResult, X509};
use rand::Rng;
use serde_json::{json, Value};
use sha2::Sha256;

pub use crate::config::DtlsCertFiles;
use crate::dedup::EXCHANGE_LIFETIME;
use crate::log::EventLog;
use crate::transport::{recv_from_timeout, DatagramTransport, Received};

/// DTLS MTU (path MTU the record layer fragments handshake messages to).
pub const DTLS_MTU: u32 = 1200;
/// At most this many sessions (handshaking or established) at once; further
/// ClientHellos are dropped (and logged) until some end.
pub const MAX_SESSIONS: usize = 20_000;
/// How often handshaking sessions are polled (OpenSSL's retransmission
/// timer) and sessions checked for timeouts.
const SWEEP: Duration = Duration::from_millis(100);

/// The server's certificate chain and key, plus the CA clients must trust
/// (when known).
pub struct Identity {
    pub cert: X509,
    pub chain: Vec<X509>,
    pub key: PKey<Private>,
    /// PEM of the CA certificate: the generated one, or with loaded files the
    /// topmost certificate of the chain if it is self-signed.
    pub ca_pem: Option<String>,
}

fn ssl_err(what: &str, e: ErrorStack) -> io::Error {
    io::Error::other(format!("{what}: {e}"))
}

fn name(cn: &str) -> Result<X509Name, ErrorStack> {
    let mut n = X509NameBuilder::new()?;
    n.append_entry_by_nid(Nid::ORGANIZATIONNAME, "iotx-coap-sim")?;
    n.append_entry_by_nid(Nid::COMMONNAME, cn)?;
    Ok(n.build())
}

fn ec_key() -> Result<PKey<Private>, ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn serial() -> Result<openssl::asn1::Asn1Integer, ErrorStack> {
    let mut bn = BigNum::new()?;
    bn.rand(127, MsbOption::MAYBE_ZERO, false)?;
    bn.to_asn1_integer()
}

fn validity() -> Result<(Asn1Time, Asn1Time), ErrorStack> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok((
        Asn1Time::from_unix(now - 3600)?,
        Asn1Time::from_unix(now + 10 * 86_400)?,
    ))
}

/// An X.509 v3 builder with a fresh serial, `subject`, `key` and the
/// validity every generated certificate has.
fn cert_builder(subject: &X509Name, key: &PKey<Private>) -> Result<X509Builder, ErrorStack> {
    let (not_before, not_after) = validity()?;
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let sn = serial()?;
    b.set_serial_number(&sn)?;
    b.set_subject_name(subject)?;
    b.set_pubkey(key)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    Ok(b)
}

/// The self-signed local CA and its key.
fn generate_ca() -> Result<(X509, PKey<Private>), ErrorStack> {
    let ca_key = ec_key()?;
    let ca_name = name("iotx-coap-sim local CA")?;
    let mut b = cert_builder(&ca_name, &ca_key)?;
    b.set_issuer_name(&ca_name)?;
    b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .digital_signature()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
    b.append_extension(ski)?;
    b.sign(&ca_key, MessageDigest::sha256())?;
    Ok((b.build(), ca_key))
}

/// The server certificate's SANs: localhost, the loopback addresses, the
/// bind address unless unspecified, and `hosts`, each once.
fn server_names(bind: IpAddr, hosts: &[String]) -> SubjectAlternativeName {
    let mut san = SubjectAlternativeName::new();
    let bind = (!bind.is_unspecified()).then(|| bind.to_string());
    let all = ["localhost", "127.0.0.1", "::1"]
        .into_iter()
        .chain(bind.as_deref())
        .chain(hosts.iter().map(String::as_str));
    let mut seen: Vec<&str> = Vec::new();
    for h in all {
        if h.is_empty() || seen.contains(&h) {
            continue;
        }
        seen.push(h);
        match h.trim_matches(|c| c == '[' || c == ']').parse::<IpAddr>() {
            Ok(ip) => san.ip(&ip.to_string()),
            Err(_) => san.dns(h),
        };
    }
    san
}

impl Identity {
    /// Generates a CA (EC P-256, CA:TRUE, keyCertSign) and a server
    /// certificate it signs, valid from an hour ago for 10 days, with
    /// SANs DNS:localhost, IP:127.0.0.1, IP:::1, the bind address (unless
    /// unspecified) and `hosts` (IP literals become IP SANs).
    pub fn generate(bind: IpAddr, hosts: &[String]) -> Result<Identity, ErrorStack> {
        let (ca, ca_key) = generate_ca()?;
        let key = ec_key()?;
        let mut b = cert_builder(&name("localhost")?, &key)?;
        b.set_issuer_name(ca.subject_name())?;
        b.append_extension(BasicConstraints::new().critical().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .key_agreement()
                .build()?,
        )?;
        b.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
        let san = server_names(bind, hosts).build(&b.x509v3_context(Some(&ca), None))?;
        b.append_extension(san)?;
        let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(Some(&ca), None))?;
        b.append_extension(ski)?;
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&b.x509v3_context(Some(&ca), None))?;
        b.append_extension(aki)?;
        b.sign(&ca_key, MessageDigest::sha256())?;
        let cert = b.build();
        let ca_pem = String::from_utf8(ca.to_pem()?).expect("PEM is ASCII");
        Ok(Identity {
            cert,
            chain: vec![ca],
            key,
            ca_pem: Some(ca_pem),
        })
    }

    /// Loads a server certificate (optionally followed by its chain), its
    /// key, and optionally more chain certificates, all PEM.
    pub fn load(files: &DtlsCertFiles) -> io::Result<Identity> {
        let read = |p: &Path| {
            std::fs::read(p)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", p.display())))
        };
        let bad = |p: &Path, e: ErrorStack| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not usable PEM: {e}", p.display()),
            )
        };
        let mut certs =
            X509::stack_from_pem(&read(&files.cert)?).map_err(|e| bad(&files.cert, e))?;
        if certs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: no certificate", files.cert.display()),
            ));
        }
        if let Some(c) = &files.chain {
            certs.extend(X509::stack_from_pem(&read(c)?).map_err(|e| bad(c, e))?);
        }
        let key = PKey::private_key_from_pem(&read(&files.key)?).map_err(|e| bad(&files.key, e))?;
        let cert = certs.remove(0);
        let top = certs.last().unwrap_or(&cert);
        let ca_pem = if top.issued(top) == X509VerifyResult::OK {
            top.to_pem()
                .ok()
                .map(|p| String::from_utf8_lossy(&p).into_owned())
        } else {
            None
        };
        Ok(Identity {
            cert,
            chain: certs,
            key,
            ca_pem,
        })
    }

    /// The server's DTLS 1.2 context: this identity, cookie exchange.
    fn context(&self, peer_idx: Index<Ssl, SocketAddr>) -> Result<SslContext, ErrorStack> {
        let mut b = SslContextBuilder::new(SslMethod::dtls_server())?;
        b.set_min_proto_version(Some(SslVersion::DTLS1_2))?;
        b.set_max_proto_version(Some(SslVersion::DTLS1_2))?;
        b.set_certificate(&self.cert)?;
        for c in &self.chain {
            b.add_extra_chain_cert(c.clone())?;
        }
        b.set_private_key(&self.key)?;
        b.check_private_key()?;
        b.set_options(SslOptions::COOKIE_EXCHANGE | SslOptions::NO_QUERY_MTU);
        let secret: [u8; 32] = rand::thread_rng().gen();
        let cookie = move |ssl: &openssl::ssl::SslRef| -> [u8; 16] {
            let peer = ssl
                .ex_data(peer_idx)
                .map(|p| p.to_string())
                .unwrap_or_default();
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&secret).expect("any key length");
            m.update(peer.as_bytes());
            let d = m.finalize().into_bytes();
            d[..16].try_into().expect("16 of 32 bytes")
        };
        let verify = cookie;
        b.set_cookie_generate_cb(move |ssl, out| {
            let c = cookie(ssl);
            let n = c.len().min(out.len());
            out[..n].copy_from_slice(&c[..n]);
            Ok(n)
        });
        b.set_cookie_verify_cb(move |ssl, got| {
            let want = verify(ssl);
            got.len() == want.len() && got.iter().zip(want).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
        });
        Ok(b.build())
    }
}

/// A session's BIO: reads pop the peer's queued datagrams (WouldBlock when
/// none), writes are sent to the peer at once.
pub struct PeerIo {
    sock: Arc<UdpSocket>,
    peer: SocketAddr,
    inbox: VecDeque<Vec<u8>>,
}

impl Read for PeerIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inbox.pop_front() {
            Some(d) => {
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                Ok(n)
            }
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for PeerIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // A datagram that cannot be sent is lost, as on the wire; failing the
        // write would kill the session instead.
        let _ = self.sock.send_to(buf, self.peer);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Session {
    stream: SslStream<PeerIo>,
    established: bool,
    started: Instant,
    last_activity: Instant,
    client_random: [u8; 32],
}

/// Timeouts of DTLS sessions.
#[derive(Clone, Copy, Debug)]
pub struct DtlsTimeouts {
    pub idle: Duration,
    pub handshake: Duration,
}

/// The DTLS 1.2 server transport (see the module documentation).
pub struct DtlsTransport {
    sock: Arc<UdpSocket>,
    ctx: SslContext,
    peer_idx: Index<Ssl, SocketAddr>,
    sessions: HashMap<SocketAddr, Session>,
    ready: VecDeque<(SocketAddr, Vec<u8>)>,
    log: Arc<EventLog>,
    timeouts: DtlsTimeouts,
    read_timeout: Option<Duration>,
    next_sweep: Instant,
    rbuf: Vec<u8>,
    full_logged: bool,
    /// Peers whose session ended within EXCHANGE_LIFETIME (the listener may
    /// still hold their exchanges), and when.
    ended: HashMap<SocketAddr, Instant>,
    reset: Vec<SocketAddr>,
}

/// If `d` starts with an epoch-0 DTLS record holding the first fragment of
/// a ClientHello, its client random.
pub fn client_hello_random(d: &[u8]) -> Option<[u8; 32]> {
    // Record: type(1)=22 version(2) epoch(2)=0 seq(6) length(2); handshake:
    // msg_type(1)=1 length(3) message_seq(2) fragment_offset(3)=0
    // fragment_length(3); body: client_version(2) random(32).
    if d.len() < 59 || d[0] != 22 || d[1] != 0xfe || d[3] != 0 || d[4] != 0 || d[13] != 1 {
        return None;
    }
    if d[19..22] != [0, 0, 0] {
        return None;
    }
    d[27..59].try_into().ok()
}

fn describe(e: &openssl::ssl::Error) -> String {
    match e.ssl_error() {
        Some(stack) => {
            let reasons: Vec<String> = stack
                .errors()
                .iter()
                .map(|x| x.reason().unwrap_or("unknown").to_string())
                .collect();
            if reasons.is_empty() {
                format!("{e}")
            } else {
                reasons.join("; ")
            }
        }
        None => format!("{e}"),
    }
}

impl DtlsTransport {
    /// Wraps a bound socket; `identity` is served to every peer.
    pub(crate) fn new(
        sock: UdpSocket,
        identity: &Identity,
        log: Arc<EventLog>,
        timeouts: DtlsTimeouts,
    ) -> io::Result<DtlsTransport> {
        let peer_idx = Ssl::new_ex_index::<SocketAddr>().map_err(|e| ssl_err("ex index", e))?;
        let ctx = identity
            .context(peer_idx)
            .map_err(|e| ssl_err("DTLS context (certificate and key)", e))?;
        Ok(DtlsTransport {
            sock: Arc::new(sock),
            ctx,
            peer_idx,
            sessions: HashMap::new(),
            ready: VecDeque::new(),
            log,
            timeouts,
            read_timeout: None,
            next_sweep: Instant::now() + SWEEP,
            rbuf: vec![0u8; 65_536],
            full_logged: false,
            ended: HashMap::new(),
            reset: Vec::new(),
        })
    }

    /// Number of sessions (handshaking or established).
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    fn emit(&self, event: &str, peer: SocketAddr, mut fields: Value) {
        fields["peer"] = Value::from(peer.to_string());
        fields["listener"] = Value::from("dtls");
        self.log.emit(event, fields);
    }

    fn end(&mut self, peer: SocketAddr, reason: &str, close_notify: bool) {
        if let Some(mut s) = self.sessions.remove(&peer) {
            self.ended.insert(peer, Instant::now());
            if close_notify && s.established {
                let _ = s.stream.shutdown();
            }
            if s.established {
                self.emit("dtls_closed", peer, json!({ "reason": reason }));
            } else {
                self.emit("dtls_handshake_failed", peer, json!({ "reason": reason }));
            }
        }
    }

    fn on_datagram(&mut self, peer: SocketAddr, d: &[u8]) {
        let hello = client_hello_random(d);
        if let (Some(r), Some(s)) = (hello, self.sessions.get(&peer)) {
            if s.client_random != r {
                self.end(
                    peer,
                    "replaced by a new ClientHello from the same address",
                    false,
                );
            }
        }
        if !self.sessions.contains_key(&peer) {
            let Some(random) = hello else { return };
            if self.sessions.len() >= MAX_SESSIONS {
                if !self.full_logged {
                    self.full_logged = true;
                    self.emit(
                        "dtls_handshake_failed",
                        peer,
                        json!({ "reason": format!("too many sessions ({MAX_SESSIONS}); ClientHellos dropped") }),
                    );
                }
                return;
            }
            self.full_logged = false;
            let made = Ssl::new(&self.ctx).and_then(|mut ssl| {
                ssl.set_ex_data(self.peer_idx, peer);
                ssl.set_mtu(DTLS_MTU)?;
                ssl.set_accept_state();
                SslStream::new(
                    ssl,
                    PeerIo {
                        sock: self.sock.clone(),
                        peer,
                        inbox: VecDeque::new(),
                    },
                )
            });
            let stream = match made {
                Ok(s) => s,
                Err(e) => {
                    self.emit(
                        "dtls_handshake_failed",
                        peer,
                        json!({ "reason": format!("cannot create a session: {e}") }),
                    );
                    return;
                }
            };
            let now = Instant::now();
            if self.ended.remove(&peer).is_some() {
                self.reset.push(peer);
            }
            self.sessions.insert(
                peer,
                Session {
                    stream,
                    established: false,
                    started: now,
                    last_activity: now,
                    client_random: random,
                },
            );
        }
        let s = self.sessions.get_mut(&peer).expect("present");
        s.last_activity = Instant::now();
        s.stream.get_mut().inbox.push_back(d.to_vec());
        self.drive(peer);
    }

    /// Advances a session's handshake and collects its application data.
    fn drive(&mut self, peer: SocketAddr) {
        let Some(s) = self.sessions.get_mut(&peer) else {
            return;
        };
        if !s.established {
            match s.stream.do_handshake() {
                Ok(()) => {
                    s.established = true;
                    let ssl = s.stream.ssl();
                    let f = json!({
                        "version": ssl.version_str(),
                        "cipher": ssl.current_cipher().map(|c| c.name()).unwrap_or("-"),
                    });
                    self.emit("dtls_established", peer, f);
                }
                Err(e) if matches!(e.code(), ErrorCode::WANT_READ | ErrorCode::WANT_WRITE) => {
                    return
                }
                Err(e) => {
                    let reason = describe(&e);
                    return self.end(peer, &reason, false);
                }
            }
        }
        let mut buf = [0u8; 16_384];
        loop {
            let Some(s) = self.sessions.get_mut(&peer) else {
                return;
            };
            match s.stream.ssl_read(&mut buf) {
                Ok(0) => return,
                Ok(n) => self.ready.push_back((peer, buf[..n].to_vec())),
                Err(e) if matches!(e.code(), ErrorCode::WANT_READ | ErrorCode::WANT_WRITE) => {
                    return
                }
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                    return self.end(peer, "close_notify from the peer", true)
                }
                Err(e) => {
                    let reason = format!("error: {}", describe(&e));
                    return self.end(peer, &reason, false);
                }
            }
        }
    }

    fn sweep(&mut self) {
        let now = Instant::now();
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + SWEEP;
        self.ended
            .retain(|_, t| now.duration_since(*t) < EXCHANGE_LIFETIME);
        let mut handshaking = Vec::new();
        let mut expired = Vec::new();
        for (peer, s) in &self.sessions {
            if s.established {
                if now.duration_since(s.last_activity) >= self.timeouts.idle {
                    expired.push((*peer, "idle timeout"));
                }
            } else if now.duration_since(s.started) >= self.timeouts.handshake {
                expired.push((*peer, "handshake timeout"));
            } else {
                handshaking.push(*peer);
            }
        }
        for (peer, reason) in expired {
            self.end(peer, reason, true);
        }
        // Lets OpenSSL retransmit its last flight when its timer expired.
        for peer in handshaking {
            self.drive(peer);
        }
    }
}

impl DatagramTransport for DtlsTransport {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Received {
        let deadline = Instant::now() + timeout;
        loop {
            self.sweep();
            if let Some((peer, d)) = self.ready.pop_front() {
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                return Ok(Some((n, peer)));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let wait = (deadline - now)
                .min(self.next_sweep.saturating_duration_since(now))
                .max(Duration::from_millis(1));
            if let Some((n, peer)) =
                recv_from_timeout(&self.sock, &mut self.read_timeout, &mut self.rbuf, wait)?
            {
                let d = self.rbuf[..n].to_vec();
                self.on_datagram(peer, &d);
            }
        }
    }

    fn send(&mut self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        match self.sessions.get_mut(&peer) {
            Some(s) if s.established => {
                s.last_activity = Instant::now();
                match s.stream.ssl_write(datagram) {
                    Ok(_) => Ok(()),
                    Err(e) => Err(io::Error::other(describe(&e))),
                }
            }
            _ => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "no DTLS session with this peer",
            )),
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    fn take_reset_peers(&mut self) -> Vec<SocketAddr> {
        std::mem::take(&mut self.reset)
    }
}

impl Drop for DtlsTransport {
    fn drop(&mut self) {
        let peers: Vec<SocketAddr> = self.sessions.keys().copied().collect();
        for peer in peers {
            self.end(peer, "emulator shutting down", true);
        }
    }
}
