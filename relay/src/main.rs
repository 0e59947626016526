//! `iotx-coap-relay`: the network side of a device whose UDP HAL is a
//! serial line (e.g. the QEMU firmware images in `firmware/`).
//!
//! It listens on a loopback TCP port for the serial line (QEMU's
//! `-serial tcp:HOST:PORT`), takes one connection and, until it closes,
//! turns the device's SLIP frames into UDP and back: an open frame makes a
//! new UDP socket towards `127.0.0.1:PORT` (whatever host the device named:
//! traffic never leaves loopback), datagram frames are sent on it one
//! datagram each, and every datagram received on it goes back as one
//! frame. Prints `{"event":"listening","serial":"127.0.0.1:N"}` first, a
//! `stats` line at the end.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use iotx_coap_relay::{encode, parse, Decoder, DeviceFrame, KIND_DATAGRAM};

const USAGE: &str = "usage: iotx-coap-relay [--listen 127.0.0.1:PORT] [--quiet]
  --listen ADDR  loopback address for the serial line (default 127.0.0.1:0)
  --quiet        no per-frame lines on stderr";

#[derive(Default)]
struct Counters {
    opens: AtomicU64,
    to_udp: AtomicU64,
    to_serial: AtomicU64,
    bad_frames: AtomicU64,
}

/// The UDP socket of the device's current `HAL_UDP_create`, and the thread
/// copying what it receives back to the serial line.
struct Session {
    socket: UdpSocket,
    stop: Arc<AtomicBool>,
    reader: JoinHandle<()>,
}

impl Session {
    fn open(
        port: u16,
        serial: Arc<Mutex<TcpStream>>,
        counters: Arc<Counters>,
        quiet: bool,
    ) -> std::io::Result<Session> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        socket.connect((Ipv4Addr::LOCALHOST, port))?;
        // Bounded so the reader notices `stop` soon after a close frame.
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (rx, flag) = (socket.try_clone()?, stop.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !flag.load(Ordering::Relaxed) {
                let n = match rx.recv(&mut buf) {
                    Ok(n) => n,
                    // Timeouts, and ICMP port-unreachable from a peer not
                    // (yet) listening: keep waiting, as a device would.
                    Err(_) => continue,
                };
                let mut frame = Vec::with_capacity(n + 1);
                frame.push(KIND_DATAGRAM);
                frame.extend_from_slice(&buf[..n]);
                if serial.lock().unwrap().write_all(&encode(&frame)).is_err() {
                    break;
                }
                counters.to_serial.fetch_add(1, Ordering::Relaxed);
                if !quiet {
                    eprintln!("[relay] udp -> serial {n} bytes");
                }
            }
        });
        Ok(Session {
            socket,
            stop,
            reader,
        })
    }

    fn close(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.reader.join();
    }
}

fn main() {
    let mut listen: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
    let mut quiet = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => match args.next().and_then(|v| v.parse().ok()) {
                Some(addr) => listen = addr,
                None => fail("--listen needs an address such as 127.0.0.1:0"),
            },
            "--quiet" => quiet = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => fail(&format!("unknown argument {other}")),
        }
    }
    if !listen.ip().is_loopback() {
        fail("--listen must be a loopback address");
    }
    if let Err(e) = run(listen, quiet) {
        eprintln!("iotx-coap-relay: {e}");
        std::process::exit(1);
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("iotx-coap-relay: {msg}\n{USAGE}");
    std::process::exit(2);
}

fn run(listen: SocketAddr, quiet: bool) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen)?;
    println!(
        "{{\"event\":\"listening\",\"serial\":\"{}\"}}",
        listener.local_addr()?
    );
    std::io::stdout().flush()?;
    let (mut stream, _) = listener.accept()?;
    drop(listener);
    stream.set_nodelay(true)?;
    let serial = Arc::new(Mutex::new(stream.try_clone()?));
    let counters = Arc::new(Counters::default());
    let mut session: Option<Session> = None;
    let mut decoder = Decoder::default();
    let mut buf = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // QEMU exiting resets the connection: the run is over.
            Err(_) => break,
        };
        for &b in &buf[..n] {
            let Some(frame) = decoder.push(b) else {
                continue;
            };
            match parse(&frame) {
                Some(DeviceFrame::Open { port, host }) => {
                    if let Some(old) = session.take() {
                        old.close();
                    }
                    if !quiet {
                        let host = String::from_utf8_lossy(host);
                        eprintln!("[relay] open {host}:{port} -> 127.0.0.1:{port}");
                    }
                    counters.opens.fetch_add(1, Ordering::Relaxed);
                    session = Some(Session::open(
                        port,
                        serial.clone(),
                        counters.clone(),
                        quiet,
                    )?);
                }
                Some(DeviceFrame::Datagram(d)) => match &session {
                    Some(s) => {
                        // A refused send (nobody listening yet) is a lost
                        // datagram, which the device's CoAP layer retries.
                        let _ = s.socket.send(d);
                        counters.to_udp.fetch_add(1, Ordering::Relaxed);
                        if !quiet {
                            eprintln!("[relay] serial -> udp {} bytes", d.len());
                        }
                    }
                    None => {
                        counters.bad_frames.fetch_add(1, Ordering::Relaxed);
                    }
                },
                Some(DeviceFrame::Close) => {
                    if let Some(old) = session.take() {
                        old.close();
                    }
                    if !quiet {
                        eprintln!("[relay] close");
                    }
                }
                None => {
                    counters.bad_frames.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    if let Some(s) = session.take() {
        s.close();
    }
    println!(
        "{{\"event\":\"stats\",\"opens\":{},\"to_udp\":{},\"to_serial\":{},\"bad_frames\":{}}}",
        counters.opens.load(Ordering::Relaxed),
        counters.to_udp.load(Ordering::Relaxed),
        counters.to_serial.load(Ordering::Relaxed),
        counters.bad_frames.load(Ordering::Relaxed)
    );
    Ok(())
}
