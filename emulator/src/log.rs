//! Event output: one JSON line per event (stdout or a file, flushed after
//! every line), a short human line on stderr, and an in-memory copy for the
//! Rust API. Events are built with `serde_json`, never by string pasting.
//!
//! Lines are written by a dedicated writer thread, so a listener never
//! blocks on a full stdout/stderr pipe that nobody reads.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::config::LogTarget;

enum Line {
    Json(String),
    Human(String),
}

pub struct EventLog {
    writer: Mutex<Option<(Sender<Line>, JoinHandle<()>)>>,
    json: bool,
    human: bool,
    capture: bool,
    events: Mutex<Vec<Value>>,
    cond: Condvar,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl EventLog {
    pub fn new(target: &LogTarget, human: bool, capture: bool) -> io::Result<EventLog> {
        let sink: Option<Box<dyn Write + Send>> = match target {
            LogTarget::None => None,
            LogTarget::Stdout => Some(Box::new(io::stdout())),
            LogTarget::File(p) => Some(Box::new(File::create(p)?)),
        };
        let json = sink.is_some();
        let writer = if json || human {
            let (tx, rx) = channel::<Line>();
            let sink = sink;
            let t = std::thread::Builder::new()
                .name("sim-log".into())
                .spawn(move || {
                    // Lines already queued are written together and flushed
                    // once, before the writer waits for more: every line is
                    // out as soon as the writer is idle, without a write
                    // system call per line at load.
                    let mut sink = sink.map(|w| io::BufWriter::with_capacity(64 * 1024, w));
                    while let Ok(first) = rx.recv() {
                        let mut next = Some(first);
                        while let Some(line) = next {
                            match line {
                                Line::Json(l) => {
                                    if let Some(w) = sink.as_mut() {
                                        let _ = writeln!(w, "{l}");
                                    }
                                }
                                Line::Human(l) => {
                                    let _ = writeln!(io::stderr(), "{l}");
                                }
                            }
                            next = rx.try_recv().ok();
                        }
                        if let Some(w) = sink.as_mut() {
                            let _ = w.flush();
                        }
                    }
                })?;
            Some((tx, t))
        } else {
            None
        };
        Ok(EventLog {
            writer: Mutex::new(writer),
            json,
            human,
            capture,
            events: Mutex::new(Vec::new()),
            cond: Condvar::new(),
        })
    }

    /// Whether events go anywhere; callers skip building them when not.
    pub fn wanted(&self) -> bool {
        self.json || self.human || self.capture
    }

    /// Emits `{"event":name,"ts_ms":..}` plus `fields` (a JSON object).
    pub fn emit(&self, name: &str, fields: Value) {
        let mut obj = Map::new();
        obj.insert("event".into(), Value::from(name));
        obj.insert("ts_ms".into(), Value::from(now_ms()));
        if let Value::Object(m) = fields {
            obj.extend(m);
        }
        let v = Value::Object(obj);
        if self.json || self.human {
            let w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((tx, _)) = w.as_ref() {
                if self.json {
                    let _ = tx.send(Line::Json(to_line(&v)));
                }
                if self.human {
                    let _ = tx.send(Line::Human(human_line(&v)));
                }
            }
        }
        if self.capture {
            let mut ev = self.events.lock().unwrap_or_else(|e| e.into_inner());
            ev.push(v);
            self.cond.notify_all();
        }
    }

    /// Writes out every pending line and stops the writer thread; later
    /// events are only kept in memory.
    pub fn close(&self) {
        let w = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((tx, t)) = w {
            drop(tx);
            let _ = t.join();
        }
    }

    pub fn snapshot(&self) -> Vec<Value> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until an event satisfying `pred` exists (checking events
    /// already logged too), or `timeout` passes.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        let mut ev = self.events.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(v) = ev.iter().find(|v| pred(v)) {
                return Some(v.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            ev = self
                .cond
                .wait_timeout(ev, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Serializes an event object with `event` (and `ts_ms`) first, the other
/// keys after them in name order.
pub fn to_line(v: &Value) -> String {
    struct Ordered<'a>(&'a Map<String, Value>);
    impl serde::Serialize for Ordered<'_> {
        fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut m = ser.serialize_map(Some(self.0.len()))?;
            for k in ["event", "ts_ms"] {
                if let Some(v) = self.0.get(k) {
                    m.serialize_entry(k, v)?;
                }
            }
            for (k, v) in self.0 {
                if k != "event" && k != "ts_ms" {
                    m.serialize_entry(k, v)?;
                }
            }
            m.end()
        }
    }
    match v {
        Value::Object(m) => serde_json::to_string(&Ordered(m)),
        other => serde_json::to_string(other),
    }
    .expect("a JSON value always serializes")
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("-")
}

fn who(v: &Value) -> String {
    match (v.get("productKey"), v.get("deviceName")) {
        (Some(Value::String(pk)), Some(Value::String(dn))) => format!(" {pk}/{dn}"),
        _ => String::new(),
    }
}

/// The short human-readable form of an event.
pub fn human_line(v: &Value) -> String {
    let peer = format!("{} {}", s(v, "listener"), s(v, "peer"));
    match s(v, "event") {
        "auth_accepted" => format!(
            "[sim] AUTH OK      {peer}{} client={} {} ackMode={}",
            who(v),
            s(v, "clientId"),
            s(v, "signmethod"),
            v.get("ackMode").cloned().unwrap_or(Value::Null)
        ),
        "auth_rejected" => format!(
            "[sim] AUTH {}     {peer}{}: {}",
            s(v, "code"),
            who(v),
            s(v, "reason")
        ),
        "uplink_accepted" => {
            let mut p = s(v, "payload").to_string();
            if p.chars().count() > 80 {
                p = p.chars().take(80).collect::<String>() + "…";
            }
            let seq = match v.get("seq") {
                Some(Value::Number(n)) => format!(" seq={n}"),
                _ => String::new(),
            };
            format!(
                "[sim] UPLINK OK    {peer}{} {}{seq} mid={} {p}",
                who(v),
                s(v, "topic"),
                s(v, "messageId")
            )
        }
        "uplink_rejected" => format!(
            "[sim] UPLINK {}   {peer}{}: {}",
            s(v, "code"),
            who(v),
            s(v, "reason")
        ),
        "legacy" => format!("[sim] LEGACY       {peer}{}: {}", who(v), s(v, "reason")),
        "malformed" => format!("[sim] MALFORMED    {peer}: {}", s(v, "reason")),
        "duplicate" => format!(
            "[sim] DUPLICATE    {peer} mid={} (response replayed)",
            v.get("mid").cloned().unwrap_or(Value::Null)
        ),
        "listening" => format!(
            "[sim] listening plain={} psk={} dtls={}",
            v.get("plain").cloned().unwrap_or(Value::Null),
            v.get("psk").cloned().unwrap_or(Value::Null),
            v.get("dtls").cloned().unwrap_or(Value::Null)
        ),
        "dtls_established" => format!(
            "[sim] DTLS UP      {peer} {} {}",
            s(v, "version"),
            s(v, "cipher")
        ),
        "dtls_closed" => format!("[sim] DTLS CLOSED  {peer}: {}", s(v, "reason")),
        "dtls_handshake_failed" => {
            format!("[sim] DTLS FAILED  {peer}: handshake: {}", s(v, "reason"))
        }
        "stats" => {
            let n = |k: &str| v.get(k).cloned().unwrap_or(Value::Null);
            format!(
                "[sim] stats received={} auth ok/rejected={}/{} uplink ok/rejected={}/{} malformed={} duplicates={}",
                n("received"),
                n("auth_ok"),
                n("auth_rejected"),
                n("uplink_ok"),
                n("uplink_rejected"),
                n("malformed"),
                n("duplicates")
            )
        }
        other => format!("[sim] {other} {v}"),
    }
}
