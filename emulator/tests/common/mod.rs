//! Test client: CoAP packets built with coap-lite, crypto done with the
//! RustCrypto crates and the test kit's PSK oracle (never the emulator's own
//! modules, nor the library's).
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use hmac::{Hmac, Mac};

#[allow(unused_imports)]
pub use iotx_coap_sim::{
    platform::Security, start, virtual_time::VirtualSim, Faults, SimConfig, SimHandle,
};

#[allow(unused_imports)]
pub use iotx_coap_testkit::coap::empty;
pub use iotx_coap_testkit::device::{CLIENT_ID, DN, PK, SECRET};
pub use iotx_coap_testkit::psk;

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub fn hmac_md5(secret: &str, content: &str) -> String {
    let mut m = <Hmac<md5::Md5> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(content.as_bytes());
    hex(&m.finalize().into_bytes())
}

pub fn hmac_sha1(secret: &str, content: &str) -> String {
    let mut m = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(content.as_bytes());
    hex(&m.finalize().into_bytes())
}

/// The standard auth JSON for the test device (hmacmd5).
pub fn auth_json(seq: Option<u64>, ack_mode: Option<u8>) -> String {
    let mut content = String::new();
    if let Some(a) = ack_mode {
        content += &format!("ackMode{a}");
    }
    content += &format!("clientId{CLIENT_ID}deviceName{DN}productKey{PK}");
    if let Some(s) = seq {
        content += &format!("seq{s}");
    }
    let sign = hmac_md5(SECRET, &content);
    let mut v = serde_json::json!({
        "productKey": PK, "deviceName": DN, "clientId": CLIENT_ID,
        "signmethod": "hmacmd5", "sign": sign,
    });
    if let Some(a) = ack_mode {
        v["ackMode"] = a.into();
    }
    if let Some(s) = seq {
        v["seq"] = s.to_string().into();
    }
    v.to_string()
}

/// An auth JSON of the test device with a wrong sign (answered 4.01).
pub fn bad_sign_auth_json() -> String {
    serde_json::json!({
        "productKey": PK, "deviceName": DN, "clientId": CLIENT_ID,
        "sign": "0".repeat(32),
    })
    .to_string()
}

/// `cfg` with the test device and a second one of the same product.
pub fn with_devices(cfg: SimConfig) -> SimConfig {
    cfg.device(PK, DN, SECRET)
        .device("a1TestPK001", "dev-002", "other-secret")
}

pub fn sim(cfg: SimConfig) -> SimHandle {
    start(with_devices(cfg)).expect("emulator starts")
}

/// The plain listener on simulated time, with the test devices.
pub fn virtual_sim(cfg: SimConfig) -> VirtualSim {
    VirtualSim::new(with_devices(cfg), Security::None).expect("emulator starts")
}

/// The peer address of the one device talking to a [`VirtualSim`].
pub fn virtual_peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

/// Sends `p` from [`virtual_peer`], runs `d` of simulated time and returns
/// what the emulator sent meanwhile, decoded, with when.
/// A message id 0 is replaced by a fresh one (so requests are not taken for
/// retransmissions).
pub fn virtual_call(v: &mut VirtualSim, p: &Packet, d: Duration) -> Vec<(Duration, Packet)> {
    static MID: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(1);
    let mut p = p.clone();
    if p.header.message_id == 0 {
        p.header.message_id = MID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    v.send(virtual_peer(), &p.to_bytes().unwrap());
    virtual_run(v, d)
}

/// Sends `p` and returns the emulator's answer (10 ms of simulated time).
pub fn virtual_answer(v: &mut VirtualSim, p: &Packet) -> Packet {
    let sent = virtual_call(v, p, Duration::from_millis(10));
    sent.into_iter().next().expect("an answer").1
}

/// Runs `d` of simulated time; what was sent, decoded.
pub fn virtual_run(v: &mut VirtualSim, d: Duration) -> Vec<(Duration, Packet)> {
    v.run_for(d)
        .into_iter()
        .map(|s| (s.at, Packet::from_bytes(&s.bytes).unwrap()))
        .collect()
}

pub struct Client {
    pub sock: UdpSocket,
    pub server: SocketAddr,
    mid: u16,
}

impl Client {
    pub fn new(server: SocketAddr) -> Client {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        Client {
            sock,
            server,
            mid: 1000,
        }
    }

    pub fn next_mid(&mut self) -> u16 {
        self.mid = self.mid.wrapping_add(1);
        self.mid
    }

    pub fn send_bytes(&self, b: &[u8]) {
        self.sock.send_to(b, self.server).unwrap();
    }

    pub fn send(&self, p: &Packet) {
        self.send_bytes(&p.to_bytes().unwrap());
    }

    pub fn recv_raw(&self, timeout: Duration) -> Option<Vec<u8>> {
        self.sock.set_read_timeout(Some(timeout)).unwrap();
        let mut buf = [0u8; 2048];
        match self.sock.recv_from(&mut buf) {
            Ok((n, _)) => Some(buf[..n].to_vec()),
            Err(_) => None,
        }
    }

    pub fn recv(&self, timeout: Duration) -> Option<Packet> {
        self.recv_raw(timeout)
            .map(|b| Packet::from_bytes(&b).unwrap())
    }

    /// Sends a request and waits (3 s at most) for its response.
    pub fn call(&mut self, mut p: Packet) -> Packet {
        if p.header.message_id == 0 {
            p.header.message_id = self.next_mid();
        }
        self.send(&p);
        self.recv(Duration::from_secs(3))
            .expect("a response within 3 s")
    }

    /// Authenticates the standard test device, returns the 2.05 payload.
    pub fn auth(&mut self, seq: Option<u64>) -> serde_json::Value {
        let r = self.call(auth_req(
            auth_json(seq, None).as_bytes(),
            Some(50),
            Some(50),
        ));
        assert_eq!(code(&r), "2.05", "auth failed");
        serde_json::from_slice(&r.payload).unwrap()
    }
}

pub fn code(p: &Packet) -> String {
    p.header.code.to_string()
}

pub fn request(method: RequestType, path: &str) -> Packet {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Request(method);
    p.set_token(vec![0xa1, 0xb2, 0xc3, 0xd4]);
    for seg in path.trim_start_matches('/').split('/') {
        p.add_option(CoapOption::UriPath, seg.as_bytes().to_vec());
    }
    p
}

fn uint(n: u16) -> Vec<u8> {
    if n == 0 {
        vec![]
    } else if n < 256 {
        vec![n as u8]
    } else {
        n.to_be_bytes().to_vec()
    }
}

pub fn auth_req(body: &[u8], cf: Option<u16>, accept: Option<u16>) -> Packet {
    let mut p = request(RequestType::Post, "/auth");
    if let Some(cf) = cf {
        p.add_option(CoapOption::ContentFormat, uint(cf));
    }
    if let Some(a) = accept {
        p.add_option(CoapOption::Accept, uint(a));
    }
    p.payload = body.to_vec();
    p
}

pub fn uplink_req(path: &str, token: Option<&str>, payload: &[u8]) -> Packet {
    let mut p = request(RequestType::Post, path);
    p.add_option(CoapOption::ContentFormat, uint(50));
    p.add_option(CoapOption::Accept, uint(50));
    if let Some(t) = token {
        p.add_option(CoapOption::Unknown(2088), t.as_bytes().to_vec());
    }
    p.payload = payload.to_vec();
    p
}

pub fn psk_uplink_req(path: &str, token: &str, key: &[u8; 16], seq: u64, payload: &[u8]) -> Packet {
    let mut p = uplink_req(path, Some(token), &psk::encrypt(key, payload));
    p.add_option(
        CoapOption::Unknown(2089),
        psk::encrypt(key, seq.to_string().as_bytes()),
    );
    p
}

pub fn opt(p: &Packet, n: u16) -> Option<Vec<u8>> {
    p.get_first_option(CoapOption::Unknown(n)).cloned()
}

pub fn is_code(p: &Packet, rt: ResponseType) -> bool {
    p.header.code == MessageClass::Response(rt)
}

pub fn wait_event(sim: &SimHandle, name: &str) -> serde_json::Value {
    sim.wait_for_event(Duration::from_secs(3), |e| e["event"] == name)
        .unwrap_or_else(|| panic!("no {name} event; events: {:?}", sim.events()))
}
