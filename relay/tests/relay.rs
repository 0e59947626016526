//! The relay binary over real loopback sockets: a TCP client plays QEMU's
//! serial port, a UDP socket plays the emulator.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use iotx_coap_relay::{encode, Decoder, END, ESC, KIND_CLOSE, KIND_DATAGRAM, KIND_OPEN};

const RELAY: &str = env!("CARGO_BIN_EXE_iotx-coap-relay");

fn start_relay() -> (Child, BufReader<std::process::ChildStdout>, SocketAddr) {
    let mut child = Command::new(RELAY)
        .arg("--quiet")
        .stdout(Stdio::piped())
        .spawn()
        .expect("relay starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .split("\"serial\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no serial address in {line:?}"))
        .parse()
        .unwrap();
    (child, out, addr)
}

fn read_frames(serial: &mut TcpStream, want: usize) -> Vec<Vec<u8>> {
    let mut decoder = Decoder::default();
    let mut frames = Vec::new();
    let mut buf = [0u8; 512];
    while frames.len() < want {
        let n = serial.read(&mut buf).expect("frames from the relay");
        assert!(n > 0, "relay closed the serial line early");
        frames.extend(buf[..n].iter().filter_map(|&b| decoder.push(b)));
    }
    frames
}

#[test]
fn carries_datagrams_both_ways_with_their_boundaries() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = peer.local_addr().unwrap().port();
    let (mut child, mut out, addr) = start_relay();
    let mut serial = TcpStream::connect(addr).unwrap();
    serial
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();

    // One write with an open frame and three datagrams, including the bytes
    // SLIP must escape: the peer must see three separate datagrams.
    let datagrams: [&[u8]; 3] = [b"first", &[END, ESC, 0, END], &[0x42; 300]];
    let mut open = vec![KIND_OPEN];
    open.extend_from_slice(&port.to_be_bytes());
    open.extend_from_slice(b"device-asked-for-this-host");
    let mut stream = encode(&open);
    for d in datagrams {
        let mut f = vec![KIND_DATAGRAM];
        f.extend_from_slice(d);
        stream.extend(encode(&f));
    }
    serial.write_all(&stream).unwrap();

    let mut buf = [0u8; 1024];
    let mut device_addr = None;
    for d in datagrams {
        let (n, from) = peer
            .recv_from(&mut buf)
            .expect("datagram through the relay");
        assert_eq!(&buf[..n], d);
        assert!(from.ip().is_loopback());
        device_addr = Some(from);
    }

    // Back: each datagram the peer sends is one frame on the serial line.
    let replies: [&[u8]; 2] = [&[END, END, ESC], b"second reply"];
    for r in replies {
        peer.send_to(r, device_addr.unwrap()).unwrap();
    }
    let frames = read_frames(&mut serial, replies.len());
    for (frame, r) in frames.iter().zip(replies) {
        assert_eq!(frame[0], KIND_DATAGRAM);
        assert_eq!(&frame[1..], r);
    }

    serial.write_all(&encode(&[KIND_CLOSE])).unwrap();
    drop(serial);
    let status = child.wait().unwrap();
    assert!(status.success());
    let mut stats = String::new();
    out.read_to_string(&mut stats).unwrap();
    assert!(
        stats.contains("\"opens\":1,\"to_udp\":3,\"to_serial\":2,\"bad_frames\":0"),
        "{stats}"
    );
}

#[test]
fn refuses_to_listen_beyond_loopback() {
    let out = Command::new(RELAY)
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}
