//! `link-bench`: uplinks through the link model ([`iotx_coap_link`]), the
//! core's `Session` on one side and a platform stand-in that answers every
//! CON with a piggybacked 2.05 on the other, on a simulated clock.
//!
//!   link-bench [--uplinks N] [--seed S] [--think-ms MS] [--profile NAME]... [--timer NAME]...
//!
//! One line per (profile, timer) cell: delivered and SEND_FAILED counts,
//! datagrams the device sent per delivered uplink, spurious
//! retransmissions (an earlier copy of the message was answered), and the
//! mean and p95 time from send to response.

use std::collections::HashMap;

use coap_lite::{MessageClass, MessageType, Packet, ResponseType};
use iotx_coap::core::session::{Config, Event, Session, Timing, FORMAT_JSON};
use iotx_coap::core::url::Security;
use iotx_coap_link::{Dir, Link, Profile};

/// The timer settings compared.
const TIMERS: [(&str, Timing); 4] = [
    ("rfc7252", Timing::RFC7252),
    (
        "static-15s",
        Timing {
            ack_timeout_ms: 15_000,
            ..Timing::RFC7252
        },
    ),
    (
        "adaptive",
        Timing {
            adaptive: true,
            ..Timing::RFC7252
        },
    ),
    (
        "adaptive-15s",
        Timing {
            adaptive: true,
            ack_timeout_ms: 15_000,
            ..Timing::RFC7252
        },
    ),
];

/// Default time between an uplink's outcome and the next uplink.
const THINK_MS: u64 = 5000;

#[derive(Default)]
struct Cell {
    delivered: u32,
    failed: u32,
    datagrams: u64,
    spurious: u64,
    times: Vec<u64>,
}

/// A datagram on the link and which copy of its message it is (0: the
/// original), so answers can be traced to the copy they answer.
struct Item {
    bytes: Vec<u8>,
    copy: u32,
}

fn answer(req: &Packet, payload: &[u8]) -> Vec<u8> {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Acknowledgement);
    p.header.code = MessageClass::Response(ResponseType::Content);
    p.header.message_id = req.header.message_id;
    p.set_token(req.get_token().to_vec());
    p.payload = payload.to_vec();
    p.to_bytes().unwrap()
}

fn run(profile: Profile, timing: Timing, uplinks: u32, seed: u64, think_ms: u64) -> Cell {
    let mut cfg = Config::new("a1TestPK001", "dev-001", "s3cr3tS3cr3t", Security::Plain);
    cfg.seed = seed;
    let mut s: Session<u64> = Session::new(cfg);
    s.set_timing(timing);
    let mut link: Link<Item> = Link::new(profile, seed);
    let mut cell = Cell::default();
    // Per message id: copies sent, and the first copy answered.
    let mut copies: HashMap<u16, u32> = HashMap::new();
    let mut answered: HashMap<u16, u32> = HashMap::new();
    let mut uplink_mids: Vec<u16> = Vec::new();
    let mut now: u64 = 0;
    let mut started = 0u32;
    let mut outstanding: Option<u64> = None;
    let mut next_send = 0u64;
    s.start_auth(now);
    let mut authing = true;
    loop {
        // Device: transmit what the session queued.
        for d in s.take_transmit() {
            let mid = u16::from_be_bytes([d[2], d[3]]);
            let con = d[0] >> 4 & 3 == 0;
            let copy = if con {
                let c = copies.entry(mid).or_insert(0);
                *c += 1;
                *c - 1
            } else {
                0
            };
            if !authing && con {
                cell.datagrams += 1;
                if copy == 0 {
                    uplink_mids.push(mid);
                }
            }
            link.send(now, Dir::Up, Item { bytes: d, copy });
        }
        for e in s.take_events() {
            match e {
                Event::Authenticated => authing = false,
                Event::AuthFailed { .. } => s.start_auth(now),
                Event::Response { user, .. } => {
                    cell.delivered += 1;
                    cell.times.push(now - user);
                    outstanding = None;
                    next_send = now + think_ms;
                }
                Event::SendFailed { .. } => {
                    cell.failed += 1;
                    outstanding = None;
                    next_send = now + think_ms;
                }
            }
        }
        if !authing && outstanding.is_none() && now >= next_send {
            if started == uplinks {
                break;
            }
            started += 1;
            s.send(
                now,
                "/topic/a1TestPK001/dev-001/update",
                b"{\"t\":21}",
                FORMAT_JSON,
                true,
                now,
            )
            .expect("send");
            outstanding = Some(now);
            continue;
        }
        // Next event.
        let mut next = [link.next_arrival(), s.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        if !authing && outstanding.is_none() {
            next = Some(next.map_or(next_send, |n| n.min(next_send)));
        }
        let Some(t) = next else { break };
        now = now.max(t);
        while let Some((dir, item)) = link.poll(now) {
            match dir {
                Dir::Up => {
                    // The platform: every CON answered, duplicates too (as
                    // its deduplication replays the answer).
                    let Ok(req) = Packet::from_bytes(&item.bytes) else {
                        continue;
                    };
                    if req.header.get_type() != MessageType::Confirmable {
                        continue;
                    }
                    let auth = req
                        .get_option(coap_lite::CoapOption::UriPath)
                        .and_then(|p| p.front())
                        .is_some_and(|p| p == b"auth");
                    let payload: &[u8] = if auth { br#"{"token":"tok"}"# } else { b"" };
                    link.send(
                        now,
                        Dir::Down,
                        Item {
                            bytes: answer(&req, payload),
                            copy: item.copy,
                        },
                    );
                }
                Dir::Down => {
                    let mid = u16::from_be_bytes([item.bytes[2], item.bytes[3]]);
                    let first = answered.entry(mid).or_insert(item.copy);
                    *first = (*first).min(item.copy);
                    s.handle_datagram(now, &item.bytes);
                }
            }
        }
        if s.poll_timeout().is_some_and(|t| t <= now) {
            s.handle_timeout(now);
        }
    }
    // Answers still in flight count for spurious: drain them.
    while let Some(t) = link.next_arrival() {
        while let Some((dir, item)) = link.poll(t) {
            if dir == Dir::Down {
                let mid = u16::from_be_bytes([item.bytes[2], item.bytes[3]]);
                let first = answered.entry(mid).or_insert(item.copy);
                *first = (*first).min(item.copy);
            }
        }
    }
    for mid in uplink_mids {
        let sent = copies[&mid];
        if let Some(&first) = answered.get(&mid) {
            // Copies after the first answered one were not needed.
            cell.spurious += u64::from(sent.saturating_sub(first + 1));
        }
    }
    cell
}

fn mean_p95(times: &mut [u64]) -> (f64, u64) {
    if times.is_empty() {
        return (0.0, 0);
    }
    times.sort_unstable();
    let mean = times.iter().sum::<u64>() as f64 / times.len() as f64;
    let p95 = times[((times.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)];
    (mean, p95)
}

fn main() {
    let mut uplinks = 1000u32;
    let mut seed = 1u64;
    let mut think_ms = THINK_MS;
    let mut profiles: Vec<Profile> = Vec::new();
    let mut timers: Vec<(&str, Timing)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--uplinks" => uplinks = value().parse().expect("--uplinks N"),
            "--seed" => seed = value().parse().expect("--seed N"),
            "--think-ms" => think_ms = value().parse().expect("--think-ms MS"),
            "--profile" => {
                let v = value();
                profiles.push(Profile::by_name(&v).unwrap_or_else(|| panic!("no profile {v}")))
            }
            "--timer" => {
                let v = value();
                timers.push(
                    *TIMERS
                        .iter()
                        .find(|t| t.0 == v)
                        .unwrap_or_else(|| panic!("no timer {v}")),
                )
            }
            _ => {
                eprintln!("usage: link-bench [--uplinks N] [--seed S] [--think-ms MS] [--profile NAME]... [--timer NAME]...");
                std::process::exit(2);
            }
        }
    }
    if profiles.is_empty() {
        profiles = Profile::ALL.to_vec();
    }
    if timers.is_empty() {
        timers = TIMERS.to_vec();
    }
    println!("link-bench: {uplinks} CON uplinks per cell, one at a time, {think_ms} ms apart, seed {seed}");
    println!(
        "| {:<12} | {:<12} | {:>9} | {:>11} | {:>18} | {:>8} | {:>9} | {:>8} |",
        "link",
        "timer",
        "delivered",
        "SEND_FAILED",
        "datagrams/delivered",
        "spurious",
        "mean (s)",
        "p95 (s)"
    );
    println!(
        "|{:-<14}|{:-<14}|{:->11}|{:->13}|{:->21}|{:->10}|{:->11}|{:->10}|",
        "", "", ":", ":", ":", ":", ":", ":"
    );
    for p in &profiles {
        for (name, timing) in &timers {
            let mut c = run(*p, *timing, uplinks, seed, think_ms);
            let (mean, p95) = mean_p95(&mut c.times);
            println!(
                "| {:<12} | {:<12} | {:>9} | {:>11} | {:>19.3} | {:>8} | {:>9.3} | {:>8.3} |",
                p.name,
                name,
                c.delivered,
                c.failed,
                c.datagrams as f64 / f64::from(c.delivered.max(1)),
                c.spurious,
                mean / 1000.0,
                p95 as f64 / 1000.0
            );
        }
    }
}
