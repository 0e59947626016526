//! The DTLS 1.2 (`coaps://`) listener over real loopback UDP: a DTLS client
//! written here with the `openssl` crate (trusting the emulator's CA and
//! checking the host name), many concurrent sessions, restarts, timeouts,
//! loaded certificates, libcoap's `coap-client-openssl`, and the binary's
//! `--ca-out`.

mod common;
use common::*;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coap_lite::{MessageType, Packet};
use iotx_coap_sim::{DtlsCertFiles, FaultRates};
use openssl::ssl::{HandshakeError, SslConnector, SslMethod, SslStream, SslVersion};
use openssl::x509::X509;

const TOPIC: &str = "/topic/a1TestPK001/dev-001/update";

/// A connected UDP socket as the DTLS client's BIO.
#[derive(Debug)]
struct UdpConn(UdpSocket);

impl Read for UdpConn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.recv(buf)
    }
}
impl Write for UdpConn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.send(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How the client checks the server's name.
enum Verify<'a> {
    Host(&'a str),
    Ip(IpAddr),
}

struct DtlsClient {
    stream: SslStream<UdpConn>,
    mid: u16,
}

fn udp_to(server: SocketAddr, local: Option<SocketAddr>) -> UdpSocket {
    let sock = UdpSocket::bind(local.unwrap_or("127.0.0.1:0".parse().unwrap())).unwrap();
    sock.connect(server).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    sock
}

/// Handshakes (driving OpenSSL's retransmission timer) within 10 s.
fn handshake(sock: UdpSocket, ca_pem: &str, verify: Verify) -> Result<SslStream<UdpConn>, String> {
    let mut b = SslConnector::builder(SslMethod::dtls()).unwrap();
    b.set_min_proto_version(Some(SslVersion::DTLS1_2)).unwrap();
    b.cert_store_mut()
        .add_cert(X509::from_pem(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let conn = b.build();
    let mut cfg = conn.configure().unwrap();
    let domain = match verify {
        Verify::Host(h) => h.to_string(),
        Verify::Ip(ip) => {
            cfg.set_verify_hostname(false);
            cfg.param_mut().set_ip(ip).unwrap();
            ip.to_string()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut r = cfg.connect(&domain, UdpConn(sock));
    loop {
        match r {
            Ok(s) => return Ok(s),
            Err(HandshakeError::WouldBlock(mid)) => {
                if Instant::now() > deadline {
                    return Err("handshake timeout".into());
                }
                r = mid.handshake();
            }
            Err(HandshakeError::Failure(mid)) => {
                return Err(format!(
                    "{}; verify: {}",
                    mid.error(),
                    mid.ssl().verify_result()
                ))
            }
            Err(HandshakeError::SetupFailure(e)) => return Err(e.to_string()),
        }
    }
}

impl DtlsClient {
    fn connect(sim: &SimHandle) -> DtlsClient {
        DtlsClient::connect_from(sim, None)
    }

    fn connect_from(sim: &SimHandle, local: Option<SocketAddr>) -> DtlsClient {
        let ca = sim.ca_pem().expect("a generated CA");
        let stream = handshake(
            udp_to(sim.dtls_addr(), local),
            &ca,
            Verify::Host("localhost"),
        )
        .expect("DTLS handshake");
        DtlsClient { stream, mid: 100 }
    }

    fn send(&mut self, p: &Packet) {
        self.stream
            .ssl_write(&p.to_bytes_unlimited().unwrap())
            .unwrap();
    }

    fn recv(&mut self, timeout: Duration) -> Option<Packet> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            match self.stream.ssl_read(&mut buf) {
                Ok(n) if n > 0 => return Some(Packet::from_bytes(&buf[..n]).unwrap()),
                Ok(_) => {}
                Err(e) if e.code() == openssl::ssl::ErrorCode::WANT_READ => {}
                Err(e) => panic!("DTLS read: {e}"),
            }
        }
        None
    }

    fn call(&mut self, mut p: Packet) -> Packet {
        self.mid = self.mid.wrapping_add(1);
        p.header.message_id = self.mid;
        self.send(&p);
        let r = self
            .recv(Duration::from_secs(3))
            .expect("a response within 3 s");
        assert_eq!(r.header.message_id, self.mid);
        r
    }

    fn token(&mut self) -> String {
        let r = self.call(auth_req(
            auth_json(None, None).as_bytes(),
            Some(50),
            Some(50),
        ));
        assert_eq!(code(&r), "2.05");
        let v: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    fn close(mut self) {
        let _ = self.stream.shutdown();
    }
}

fn dtls_sim(cfg: SimConfig) -> SimHandle {
    sim(cfg.dtls(true))
}

#[test]
fn auth_and_uplink_over_dtls() {
    let s = dtls_sim(SimConfig::default());
    assert_eq!(
        s.listening_event()["dtls"],
        s.dtls_addr().to_string().as_str()
    );
    let mut c = DtlsClient::connect(&s);
    let e = wait_event(&s, "dtls_established");
    assert_eq!(e["listener"], "dtls");
    assert_eq!(e["version"], "DTLSv1.2");

    // A wrong sign: 4.01.
    let bad = serde_json::json!({"productKey": PK, "deviceName": DN, "clientId": CLIENT_ID,
        "sign": "00000000000000000000000000000000"});
    let r = c.call(auth_req(bad.to_string().as_bytes(), Some(50), Some(50)));
    assert_eq!(code(&r), "4.01");
    assert_eq!(r.header.get_type(), MessageType::Acknowledgement);

    let t = c.token();
    assert_eq!(t.len(), 32);
    let e = wait_event(&s, "auth_accepted");
    assert_eq!(e["listener"], "dtls");
    assert_eq!(e["productKey"], PK);

    let r = c.call(uplink_req(TOPIC, Some(&t), br#"{"temp":21.5}"#));
    assert_eq!(code(&r), "2.05");
    let mid = String::from_utf8(opt(&r, 2090).expect("option 2090")).unwrap();
    let e = wait_event(&s, "uplink_accepted");
    assert_eq!(e["listener"], "dtls");
    assert_eq!(e["payload"], r#"{"temp":21.5}"#);
    assert_eq!(e["messageId"], mid.as_str());

    // A token issued by the DTLS listener is not valid on the plain one.
    let mut plain = Client::new(s.plain_addr());
    let r = plain.call(uplink_req(TOPIC, Some(&t), b"x"));
    assert_eq!(code(&r), "4.01");

    // Near the SDK's 1280-byte PDU limit (a record above the DTLS MTU).
    let big = vec![b'x'; 1200];
    let r = c.call(uplink_req(TOPIC, Some(&t), &big));
    assert_eq!(code(&r), "2.05");

    // A retransmitted request is answered from the dedup cache.
    let mut p = uplink_req(TOPIC, Some(&t), b"again");
    p.header.message_id = 4242;
    c.send(&p);
    c.send(&p);
    for _ in 0..2 {
        let r = c.recv(Duration::from_secs(3)).expect("response");
        assert_eq!((code(&r).as_str(), r.header.message_id), ("2.05", 4242));
    }
    wait_event(&s, "duplicate");

    c.close();
    let e = wait_event(&s, "dtls_closed");
    assert_eq!(e["reason"], "close_notify from the peer");
    assert_eq!(e["listener"], "dtls");
    let stats = s.stop();
    assert_eq!(stats.auth_ok, 1);
    assert_eq!(stats.uplink_ok, 3);
}

#[test]
fn certificate_names_and_wrong_ca() {
    let s = dtls_sim(SimConfig::default().dtls_host("coap.example.test"));
    let ca = s.ca_pem().unwrap();
    let sock = || udp_to(s.dtls_addr(), None);
    // The SANs: localhost, 127.0.0.1 and --dtls-host names.
    handshake(sock(), &ca, Verify::Ip("127.0.0.1".parse().unwrap())).expect("IP SAN");
    handshake(sock(), &ca, Verify::Host("coap.example.test")).expect("extra DNS SAN");
    let e = handshake(sock(), &ca, Verify::Host("other.example.test")).unwrap_err();
    assert!(e.contains("certificate verify failed"), "{e}");
    // Another emulator's CA: the handshake fails on the client.
    let other = dtls_sim(SimConfig::default());
    let e = handshake(sock(), &other.ca_pem().unwrap(), Verify::Host("localhost")).unwrap_err();
    assert!(e.contains("certificate verify failed"), "{e}");
    let f = s
        .wait_for_event(Duration::from_secs(3), |e| {
            e["event"] == "dtls_handshake_failed" && e["reason"] == "tlsv1 alert unknown ca"
        })
        .unwrap_or_else(|| panic!("no unknown-ca failure: {:?}", s.events()));
    assert_eq!(f["listener"], "dtls");

    // The CA and the served certificate.
    let ca = X509::from_pem(ca.as_bytes()).unwrap();
    let text = String::from_utf8(ca.to_text().unwrap()).unwrap();
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(text.contains("Certificate Sign"), "{text}");
}

#[test]
fn twenty_concurrent_sessions() {
    let s = dtls_sim(SimConfig::default());
    let ts: Vec<_> = (0..20)
        .map(|i| {
            let ca = s.ca_pem().unwrap();
            let addr = s.dtls_addr();
            std::thread::spawn(move || {
                let stream = handshake(udp_to(addr, None), &ca, Verify::Host("localhost"))
                    .expect("DTLS handshake");
                let mut c = DtlsClient { stream, mid: 7 };
                let t = c.token();
                for k in 0..5 {
                    let body = format!(r#"{{"client":{i},"n":{k}}}"#);
                    let r = c.call(uplink_req(TOPIC, Some(&t), body.as_bytes()));
                    assert_eq!(code(&r), "2.05");
                }
                c.close();
            })
        })
        .collect();
    for t in ts {
        t.join().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while s.events_named("dtls_closed").len() < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(s.events_named("dtls_established").len(), 20);
    assert_eq!(s.events_named("dtls_closed").len(), 20);
    let stats = s.stop();
    assert_eq!((stats.auth_ok, stats.uplink_ok), (20, 100));
}

#[test]
fn restart_from_same_port_and_stalled_handshakes() {
    let s = dtls_sim(SimConfig {
        dtls_handshake_timeout: Duration::from_millis(600),
        ..SimConfig::default()
    });
    // A handshake that stops after the ClientHello does not hold up others.
    let stalled = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut hello = None;
    {
        // Capture a real ClientHello by letting a client send one.
        let sniff = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sniff_addr = sniff.local_addr().unwrap();
        let ca = s.ca_pem().unwrap();
        let t = std::thread::spawn(move || {
            let _ = handshake(udp_to(sniff_addr, None), &ca, Verify::Host("localhost"));
        });
        sniff
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let mut buf = [0u8; 2048];
        if let Ok((n, _)) = sniff.recv_from(&mut buf) {
            hello = Some(buf[..n].to_vec());
        }
        drop(sniff);
        t.join().unwrap();
    }
    stalled
        .send_to(&hello.expect("a ClientHello"), s.dtls_addr())
        .unwrap();
    // The cookie exchange: the answer is a HelloVerifyRequest (type 3).
    stalled
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut buf = [0u8; 2048];
    let n = stalled.recv(&mut buf).expect("HelloVerifyRequest");
    assert!(n > 13 && buf[0] == 22 && buf[13] == 3, "{:?}", &buf[..n]);

    let mut a = DtlsClient::connect(&s);
    let local = a.stream.get_ref().0.local_addr().unwrap();
    let t1 = a.token();
    // The stalled peer's session is dropped after the handshake timeout.
    let stalled_peer = stalled.local_addr().unwrap().to_string();
    s.wait_for_event(Duration::from_secs(5), |e| {
        e["event"] == "dtls_handshake_failed"
            && e["peer"] == stalled_peer.as_str()
            && e["reason"] == "handshake timeout"
    })
    .unwrap_or_else(|| panic!("no handshake timeout: {:?}", s.events()));

    // The client restarts on the same port (no close_notify): new session.
    drop(a);
    let mut b = DtlsClient::connect_from(&s, Some(local));
    let e = wait_event(&s, "dtls_closed");
    assert_eq!(e["peer"], local.to_string().as_str());
    assert_eq!(
        e["reason"],
        "replaced by a new ClientHello from the same address"
    );
    let t2 = b.token();
    assert_ne!(t1, t2);
    let r = b.call(uplink_req(TOPIC, Some(&t1), b"old token still valid"));
    assert_eq!(code(&r), "2.05");
    assert_eq!(s.events_named("dtls_established").len(), 2);
}

#[test]
fn idle_sessions_close_and_faults_apply_to_coap_messages() {
    let s = dtls_sim(SimConfig {
        dtls_idle_timeout: Duration::from_millis(400),
        ..SimConfig::default().faults(Faults {
            outbound: FaultRates {
                dup: 1.0,
                ..FaultRates::default()
            },
            ..Faults::default()
        })
    });
    let mut c = DtlsClient::connect(&s);
    let r = c.call(auth_req(
        auth_json(None, None).as_bytes(),
        Some(50),
        Some(50),
    ));
    assert_eq!(code(&r), "2.05");
    // --dup-out 1: every CoAP message is sent twice (as two DTLS records).
    let again = c.recv(Duration::from_secs(3)).expect("the duplicate");
    assert_eq!(again.header.message_id, r.header.message_id);
    let e = s
        .wait_for_event(Duration::from_secs(3), |e| e["event"] == "dtls_closed")
        .unwrap_or_else(|| panic!("no idle close: {:?}", s.events()));
    assert_eq!(e["reason"], "idle timeout");
    assert_eq!(s.stats().outbound.duplicated, 1);
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iotx-sim-dtls-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn openssl_cli(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl CLI");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn loaded_certificate_and_chain() {
    let d = tmpdir("load");
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    let (ca_key, ca_pem, key, csr, cert, ext) = (
        p("ca.key"),
        p("ca.pem"),
        p("srv.key"),
        p("srv.csr"),
        p("srv.pem"),
        p("ext.cnf"),
    );
    args.extend([
        "-keyout",
        &ca_key,
        "-out",
        &ca_pem,
        "-subj",
        "/CN=Test Root",
        "-days",
        "1",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl_cli(&args);
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]);
    openssl_cli(&args);
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl_cli(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca_pem,
        "-CAkey",
        &ca_key,
        "-set_serial",
        "7",
        "-days",
        "1",
        "-out",
        &cert,
        "-extfile",
        &ext,
    ]);
    let s = dtls_sim(SimConfig::default().dtls_cert(DtlsCertFiles {
        cert: cert.into(),
        key: key.into(),
        chain: Some(ca_pem.clone().into()),
    }));
    let root = std::fs::read_to_string(&ca_pem).unwrap();
    assert_eq!(s.ca_pem().as_deref(), Some(root.as_str()));
    let mut c = DtlsClient::connect(&s);
    c.token();
    c.close();
    let _ = std::fs::remove_dir_all(&d);
}

/// libcoap's coap-client built with OpenSSL (Debian package libcoap3-bin).
fn coap_client_openssl() -> &'static str {
    let name = "coap-client-openssl";
    if Command::new(name).arg("-h").output().is_err() {
        panic!(
            "{name} is not installed: this DTLS interop test needs it \
             (Debian/Ubuntu: apt-get install -y libcoap3-bin)"
        );
    }
    name
}

fn coap(args: &[&str]) -> String {
    let out = Command::new(coap_client_openssl())
        .args(["-v", "6", "-B", "5"])
        .args(args)
        .output()
        .expect("run coap-client-openssl");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn libcoap_coap_client_openssl_interop() {
    coap_client_openssl();
    let s = dtls_sim(SimConfig::default());
    let d = tmpdir("libcoap");
    let ca = d.join("ca.pem");
    std::fs::write(&ca, s.ca_pem().unwrap()).unwrap();
    let ca = ca.to_str().unwrap();
    let base = format!("coaps://{}", s.dtls_addr());
    let auth_url = format!("{base}/auth");
    let bad = &bad_sign_auth_json();
    let out = coap(&[
        "-R", ca, "-m", "post", "-t", "50", "-A", "50", "-e", bad, &auth_url,
    ]);
    assert!(out.contains("c:4.01"), "coap-client output: {out}");
    let good = auth_json(None, None);
    let out = coap(&[
        "-R", ca, "-m", "post", "-t", "50", "-A", "50", "-e", &good, &auth_url,
    ]);
    assert!(out.contains("c:2.05"), "coap-client output: {out}");
    let start = out.find(r#"{"token":""#).expect("token object in output") + 10;
    let token = &out[start..start + 32];
    let opt = format!("2088,{token}");
    let topic_url = format!("{base}{TOPIC}");
    let out = coap(&[
        "-R", ca, "-m", "post", "-t", "50", "-A", "50", "-O", &opt, "-e", "{}", &topic_url,
    ]);
    assert!(out.contains("c:2.05"), "coap-client output: {out}");
    assert!(out.contains("2090:"), "no option 2090: {out}");
    // Not trusting the CA: no response at all.
    let other = dtls_sim(SimConfig::default());
    let wrong = d.join("wrong.pem");
    std::fs::write(&wrong, other.ca_pem().unwrap()).unwrap();
    let out = coap(&[
        "-R",
        wrong.to_str().unwrap(),
        "-m",
        "post",
        "-t",
        "50",
        "-e",
        &good,
        &auth_url,
    ]);
    assert!(!out.contains("c:2.05"), "coap-client output: {out}");
    let events = s.events();
    for e in events
        .iter()
        .filter(|e| e["event"].as_str().unwrap().starts_with("auth_"))
    {
        assert_eq!(e["listener"], "dtls");
    }
    assert_eq!(s.events_named("auth_accepted").len(), 1);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn binary_ca_out_and_listening_line() {
    let d = tmpdir("bin");
    let ca = d.join("sub").join("ca.pem");
    std::fs::create_dir_all(ca.parent().unwrap()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_iotx-coap-sim"))
        .args([
            "--plain-port",
            "0",
            "--no-psk",
            "--dtls-port",
            "0",
            "--quiet",
        ])
        .args(["--device", &format!("{PK}:{DN}:{SECRET}")])
        .args(["--ca-out", ca.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let _guard = Kill(child);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with(r#"{"event":"listening""#), "{line}");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let addr: SocketAddr = v["dtls"].as_str().expect("dtls address").parse().unwrap();
    assert_ne!(addr.port(), 0);
    assert!(v["psk"].is_null());
    // The CA file is complete as soon as the listening line is out.
    let ca_pem = std::fs::read_to_string(&ca).expect("--ca-out file");
    let stream = handshake(udp_to(addr, None), &ca_pem, Verify::Host("localhost"))
        .expect("handshake trusting --ca-out");
    let served = stream.ssl().peer_certificate().unwrap();
    let leaf = d.join("leaf.pem");
    std::fs::write(&leaf, served.to_pem().unwrap()).unwrap();
    let st = Command::new("openssl")
        .args(["verify", "-purpose", "sslserver", "-CAfile"])
        .arg(&ca)
        .arg(&leaf)
        .output()
        .expect("openssl verify");
    assert!(
        st.status.success(),
        "openssl verify: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let mut c = DtlsClient { stream, mid: 1 };
    c.token();
    let mut next = || {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        serde_json::from_str::<serde_json::Value>(&l).unwrap()
    };
    let e = next();
    assert_eq!(
        (e["event"].as_str(), e["listener"].as_str()),
        (Some("dtls_established"), Some("dtls"))
    );
    let e = next();
    assert_eq!(
        (e["event"].as_str(), e["listener"].as_str()),
        (Some("auth_accepted"), Some("dtls"))
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn api_default_and_disabled() {
    let s = sim(SimConfig::default());
    assert!(s.try_dtls_addr().is_some());
    assert!(s
        .ca_pem()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    let off = sim(SimConfig::default().dtls(false));
    assert_eq!(off.try_dtls_addr(), None);
    assert_eq!(off.ca_pem(), None);
    assert!(off.listening_event()["dtls"].is_null());
}

#[test]
fn shutdown_sends_close_notify() {
    let s = dtls_sim(SimConfig::default());
    let mut c = DtlsClient::connect(&s);
    c.token();
    s.stop();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut buf = [0u8; 512];
    loop {
        match c.stream.ssl_read(&mut buf) {
            Err(e) if e.code() == openssl::ssl::ErrorCode::ZERO_RETURN => break,
            Err(e) if e.code() == openssl::ssl::ErrorCode::WANT_READ => {}
            other => panic!("expected close_notify, got {other:?}"),
        }
        assert!(Instant::now() < deadline, "no close_notify on shutdown");
    }
}
