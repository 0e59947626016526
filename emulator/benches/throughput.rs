//! Throughput benchmark: many simulated devices authenticate and send
//! uplinks to an in-process emulator over loopback UDP, plain and PSK.
//! Prints uplinks per second and p50/p99 round-trip latency. No assertions.
//!
//! `cargo bench -p iotx-coap-sim` (defaults: 1000 devices x 50 uplinks, 8
//! client threads); override with SIM_BENCH_DEVICES, SIM_BENCH_UPLINKS,
//! SIM_BENCH_THREADS.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType};
use hmac::{Hmac, Mac};
use iotx_coap_sim::{start, Device, SimConfig};
use sha2::{Digest, Sha256};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn encrypt(key: &[u8; 16], pt: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<aes::Aes128>::new(key.into(), b"543yhjy97ae7fyfg".into())
        .encrypt_padded_vec_mut::<Pkcs7>(pt)
}

struct Conn {
    sock: UdpSocket,
    server: SocketAddr,
    mid: u16,
}

impl Conn {
    /// One CON exchange; retransmits after 1 s if needed. Returns the response.
    fn call(&mut self, mut p: Packet) -> Packet {
        self.mid = self.mid.wrapping_add(1);
        p.header.message_id = self.mid;
        let bytes = p.to_bytes().unwrap();
        let mut buf = [0u8; 2048];
        for _ in 0..5 {
            self.sock.send_to(&bytes, self.server).unwrap();
            while let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                let r = Packet::from_bytes(&buf[..n]).unwrap();
                if r.header.message_id == self.mid {
                    return r;
                }
            }
        }
        panic!("no response after 5 tries");
    }
}

fn request(path: &str) -> Packet {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Request(RequestType::Post);
    p.set_token(vec![1, 2, 3, 4]);
    for seg in path.trim_start_matches('/').split('/') {
        p.add_option(CoapOption::UriPath, seg.as_bytes().to_vec());
    }
    p.add_option(CoapOption::ContentFormat, vec![50]);
    p.add_option(CoapOption::Accept, vec![50]);
    p
}

struct Session {
    dev: Device,
    token: String,
    key: Option<[u8; 16]>,
    seq: u64,
}

fn auth(conn: &mut Conn, dev: &Device, psk: bool) -> Session {
    let client_id = format!("{}.{}", dev.product_key, dev.device_name);
    let seq = psk.then_some(1u64);
    let mut content = format!(
        "clientId{client_id}deviceName{}productKey{}",
        dev.device_name, dev.product_key
    );
    if let Some(s) = seq {
        content += &format!("seq{s}");
    }
    let mut mac = <Hmac<md5::Md5> as Mac>::new_from_slice(dev.device_secret.as_bytes()).unwrap();
    mac.update(content.as_bytes());
    let mut body = serde_json::json!({
        "productKey": dev.product_key, "deviceName": dev.device_name,
        "clientId": client_id, "sign": hex(&mac.finalize().into_bytes()),
    });
    if let Some(s) = seq {
        body["seq"] = s.to_string().into();
    }
    let mut p = request("/auth");
    p.payload = body.to_string().into_bytes();
    let r = conn.call(p);
    assert_eq!(r.header.code.to_string(), "2.05");
    let v: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
    let key = psk.then(|| {
        let d = Sha256::digest(
            format!("{},{}", dev.device_secret, v["random"].as_str().unwrap()).as_bytes(),
        );
        let k: [u8; 16] = d[8..24].try_into().unwrap();
        k
    });
    Session {
        dev: dev.clone(),
        token: v["token"].as_str().unwrap().to_string(),
        key,
        seq: v["seqOffset"].as_u64().unwrap_or(0),
    }
}

fn run(mode: &str, devices: usize, uplinks: usize, threads: usize) {
    let psk = mode == "psk";
    let devs: Vec<Device> = (0..devices)
        .map(|i| {
            Device::new(
                "a1BenchPK01",
                &format!("dev-{i:05}"),
                &format!("secret-{i}"),
            )
        })
        .collect();
    let cfg = SimConfig {
        devices: devs.clone(),
        capture_events: false,
        seed: Some(1),
        ..SimConfig::default()
    };
    let sim = start(cfg).expect("start emulator");
    let server = if psk {
        sim.psk_addr()
    } else {
        sim.plain_addr()
    };
    let chunks: Vec<Vec<Device>> = (0..threads)
        .map(|t| devs.iter().skip(t).step_by(threads).cloned().collect())
        .collect();
    let t0 = Instant::now();
    let handles: Vec<_> = chunks
        .into_iter()
        .enumerate()
        .map(|(t, chunk)| {
            std::thread::spawn(move || {
                let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
                sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
                let mut conn = Conn {
                    sock,
                    server,
                    mid: (t as u16) << 12,
                };
                let mut sessions: Vec<Session> =
                    chunk.iter().map(|d| auth(&mut conn, d, psk)).collect();
                let mut lat = Vec::with_capacity(sessions.len() * uplinks);
                for i in 0..uplinks {
                    for s in sessions.iter_mut() {
                        let topic =
                            format!("/topic/{}/{}/update", s.dev.product_key, s.dev.device_name);
                        let body = format!(r#"{{"n":{i},"temp":21.5}}"#);
                        let mut p = request(&topic);
                        p.add_option(CoapOption::Unknown(2088), s.token.as_bytes().to_vec());
                        match &s.key {
                            Some(k) => {
                                s.seq += 1;
                                p.add_option(
                                    CoapOption::Unknown(2089),
                                    encrypt(k, s.seq.to_string().as_bytes()),
                                );
                                p.payload = encrypt(k, body.as_bytes());
                            }
                            None => p.payload = body.into_bytes(),
                        }
                        let start = Instant::now();
                        let r = conn.call(p);
                        lat.push(start.elapsed());
                        assert_eq!(r.header.code.to_string(), "2.05");
                    }
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let elapsed = t0.elapsed();
    let stats = sim.stop();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{mode:5}: {devices} devices x {uplinks} uplinks ({threads} client threads): \
         {} uplinks in {:.2} s (auth included) = {:.0} uplinks/s; latency p50 {:?} p99 {:?}; \
         emulator counted {} uplinks, {} auths",
        lat.len(),
        elapsed.as_secs_f64(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        stats.uplink_ok,
        stats.auth_ok,
    );
}

fn main() {
    let devices = env("SIM_BENCH_DEVICES", 1000);
    let uplinks = env("SIM_BENCH_UPLINKS", 50);
    let threads = env("SIM_BENCH_THREADS", 8).max(1);
    for mode in ["plain", "psk"] {
        run(mode, devices, uplinks, threads);
    }
}
