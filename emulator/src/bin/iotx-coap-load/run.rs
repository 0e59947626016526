//! Options, the servers under test, the phases and the report.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use iotx_coap_sim::{Device, SimConfig, SimHandle};

use crate::fleet::{identity, Fleet, Tally};

pub const HELP: &str = "\
iotx-coap-load: N simulated devices (the library's session) against the
emulator and libcoap's coap-server-notls, side by side.

    --devices N       simulated devices (default 200)
    --workers N       generator threads (default 2)
    --seconds S       uplink phase length per server (default 5)
    --window W        uplinks each device keeps in flight in the closed loop (default 1)
    --rate R          offered uplinks per second in total in the open-loop phase
                      (default 20000; 0: no open-loop phase)
    --sim-threads N   the emulator's listener threads (its --threads; default 1)
    --target T        sim, coap-server or both (default both)
    --coap-server P   the libcoap server binary (default coap-server-notls)
    --auth-tokens N   also re-authenticate until N tokens were issued and print
                      the /auth rate per tenth (emulator only; default 0: skip)
    -h, --help
";

pub struct Options {
    devices: usize,
    workers: usize,
    seconds: f64,
    window: usize,
    rate: f64,
    sim_threads: usize,
    sim: bool,
    coap_server: Option<String>,
    auth_tokens: u64,
}

impl Options {
    /// `Ok(None)` for --help.
    pub fn parse(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
        let mut o = Options {
            devices: 200,
            workers: 2,
            seconds: 5.0,
            window: 1,
            rate: 20_000.0,
            sim_threads: 1,
            sim: true,
            coap_server: Some("coap-server-notls".into()),
            auth_tokens: 0,
        };
        let mut server = o.coap_server.clone();
        let mut args = args.peekable();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(format!("{flag} needs a value"));
            let num = |v: String| v.parse::<f64>().map_err(|_| format!("not a number: {v}"));
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--devices" => o.devices = num(value()?)? as usize,
                "--workers" => o.workers = num(value()?)? as usize,
                "--seconds" => o.seconds = num(value()?)?,
                "--window" => o.window = num(value()?)? as usize,
                "--rate" => o.rate = num(value()?)?,
                "--sim-threads" => o.sim_threads = num(value()?)? as usize,
                "--auth-tokens" => o.auth_tokens = num(value()?)? as u64,
                "--coap-server" => server = Some(value()?),
                "--target" => match value()?.as_str() {
                    "sim" => (o.sim, o.coap_server) = (true, None),
                    "coap-server" => (o.sim, o.coap_server) = (false, Some(String::new())),
                    "both" => (o.sim, o.coap_server) = (true, Some(String::new())),
                    t => return Err(format!("unknown --target {t}")),
                },
                other => return Err(format!("unknown argument {other}")),
            }
        }
        if o.coap_server.is_some() {
            o.coap_server = server;
        }
        if o.devices == 0 || o.workers == 0 || o.window == 0 || o.sim_threads == 0 {
            return Err("--devices, --workers, --window and --sim-threads must be positive".into());
        }
        o.workers = o.workers.min(o.devices);
        Ok(Some(o))
    }
}

/// A phase's figures.
struct Figures {
    count: usize,
    secs: f64,
    p50: Duration,
    p99: Duration,
    tally: Tally,
}

impl Figures {
    fn new(mut tally: Tally, secs: f64) -> Figures {
        tally.latencies.sort();
        let pct = |p: f64| {
            let l = &tally.latencies;
            l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Figures {
            count: tally.latencies.len(),
            secs,
            p50: pct(0.50),
            p99: pct(0.99),
            tally,
        }
    }

    fn rate(&self) -> f64 {
        self.count as f64 / self.secs.max(1e-9)
    }

    fn codes(&self) -> String {
        let mut s: Vec<String> = self
            .tally
            .codes
            .iter()
            .map(|(c, n)| format!("{}.{:02}:{n}", c >> 5, c & 0x1f))
            .collect();
        if self.tally.failed > 0 {
            s.push(format!("failed:{}", self.tally.failed));
        }
        if self.tally.skipped > 0 {
            s.push(format!("skipped:{}", self.tally.skipped));
        }
        s.join(" ")
    }
}

/// The `stat` file of the emulator's plain listener thread (this process).
fn sim_thread_stat() -> Option<String> {
    // A new thread names itself once it runs: give it a moment.
    for _ in 0..100 {
        for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim() == "sim-plain" {
                return Some(task.path().join("stat").display().to_string());
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// CPU time (user + system) used so far by the thread or process whose
/// `stat` file this is. Unlike wall-clock rates, this hardly moves when
/// others load the machine.
fn cpu_time(stat: &str) -> Option<Duration> {
    let text = std::fs::read_to_string(stat).ok()?;
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: plain sysconf query.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_micros(ticks * 1_000_000 / hz))
}

/// The `stat` files of the emulator's plain listener threads (this
/// process), once all `n` run.
fn sim_thread_stats(n: usize) -> Vec<String> {
    let mut found = Vec::new();
    for _ in 0..100 {
        found.clear();
        for task in std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .flatten()
        {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            let comm = comm.trim();
            if comm == "sim-plain" || comm.starts_with("sim-plain-") {
                found.push(task.path().join("stat").display().to_string());
            }
        }
        if found.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    found
}

/// Where a server's CPU time is read, and whether it runs in this process
/// (the emulator) so that the generator's own time is the rest.
struct Cpu {
    server: Vec<String>,
    in_process: bool,
}

impl Cpu {
    /// (server, generator) CPU time so far.
    fn sample(&self) -> Option<(Duration, Duration)> {
        let mut server = Duration::ZERO;
        for stat in &self.server {
            server += cpu_time(stat)?;
        }
        let me = cpu_time("/proc/self/stat")?;
        let generator = if self.in_process {
            me.saturating_sub(server)
        } else {
            me
        };
        Some((server, generator))
    }
}

/// Server and generator CPU per completed request, in microseconds: the
/// generator's share shows when it, not the server, is what limits a rate.
fn cpu_per(cpu: &Cpu, before: Option<(Duration, Duration)>, count: usize) -> String {
    match (cpu.sample(), before) {
        (Some(after), Some(before)) if count > 0 && after.0 > before.0 => {
            let us =
                |a: Duration, b: Duration| a.saturating_sub(b).as_secs_f64() * 1e6 / count as f64;
            format!(
                "server CPU {:.1} us/req, generator {:.1} us/req",
                us(after.0, before.0),
                us(after.1, before.1)
            )
        }
        // /proc counts in clock ticks (10 ms): a short phase shows none.
        _ => "server CPU n/a".into(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The fleet split over the workers, every socket connected to `server`.
fn fleets(o: &Options, server: SocketAddr) -> std::io::Result<Vec<Fleet>> {
    (0..o.workers)
        .map(|w| Fleet::new((w..o.devices).step_by(o.workers), server))
        .collect()
}

/// Runs `phase` on every fleet at once; merges what they measured.
fn parallel(fleets: &mut [Fleet], phase: impl Fn(&mut Fleet) -> Tally + Sync) -> (Tally, f64) {
    let t0 = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let hs: Vec<_> = fleets.iter_mut().map(|f| s.spawn(|| phase(f))).collect();
        hs.into_iter().map(|h| h.join().expect("worker")).collect()
    });
    let secs = t0.elapsed().as_secs_f64();
    let mut all = Tally::default();
    for t in tallies {
        all.merge(t);
    }
    (all, secs)
}

/// Authenticates every device, at most 32 at a time per worker.
fn auth_phase(f: &mut Fleet) -> Tally {
    let mut tally = Tally::default();
    let mut next = 0;
    let mut running = 0usize;
    let total = f.devices.len();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut finished = 0;
    while finished < total && Instant::now() < deadline {
        while running < 32 && next < total {
            f.start_auth(next);
            next += 1;
            running += 1;
        }
        let mut ended = 0;
        f.pump(Duration::from_millis(10), &mut tally, |_, _| ended += 1);
        f.sweep(&mut tally, |_, _| ended += 1);
        running -= ended.min(running);
        finished += ended;
    }
    tally
}

/// Uplinks for `secs`: closed loop (`rate` 0: `window` in flight per
/// device, the next sent when one is answered) or open loop (`rate` per
/// second for this worker, round-robin over the devices, whatever is still
/// unanswered, up to `window` per device; a send the session refuses or a
/// full window is counted as skipped). In the open loop latency runs from
/// the time a request was due, not from when the generator got to it.
fn uplink_phase(f: &mut Fleet, secs: f64, window: usize, rate: f64) -> Tally {
    let mut tally = Tally::default();
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(secs);
    let mut n = 0u64;
    let mut sent = 0u64;
    if rate <= 0.0 {
        for i in 0..f.devices.len() {
            for _ in 0..window {
                n += 1;
                f.send_uplink(i, n, Instant::now());
            }
        }
    }
    let mut last_sweep = Instant::now();
    while Instant::now() < end {
        let refill = |f: &mut Fleet, i: usize| {
            if rate <= 0.0 && f.devices[i].outstanding < window && f.devices[i].session.is_authed()
            {
                f.send_uplink(i, 0, Instant::now());
            }
        };
        f.pump(Duration::from_millis(1), &mut tally, refill);
        if rate > 0.0 {
            let due = (t0.elapsed().as_secs_f64() * rate) as u64;
            let len = f.devices.len();
            while sent < due {
                let i = (sent as usize) % len;
                sent += 1;
                let at = t0 + Duration::from_secs_f64(sent as f64 / rate);
                if f.devices[i].outstanding >= window || !f.send_uplink(i, sent, at) {
                    tally.skipped += 1;
                }
            }
        }
        if last_sweep.elapsed() >= Duration::from_millis(10) {
            f.sweep(&mut tally, refill);
            last_sweep = Instant::now();
        }
    }
    tally
}

/// Re-authenticates (closed loop, every device) until `tokens` auths ended.
fn reauth_phase(f: &mut Fleet, tokens: u64) -> Tally {
    let mut tally = Tally::default();
    for i in 0..f.devices.len() {
        f.start_auth(i);
    }
    let mut done = 0u64;
    let mut last_sweep = Instant::now();
    while done < tokens {
        let mut again = |f: &mut Fleet, i: usize| {
            done += 1;
            f.start_auth(i);
        };
        f.pump(Duration::from_millis(10), &mut tally, &mut again);
        if last_sweep.elapsed() >= Duration::from_millis(10) {
            f.sweep(&mut tally, &mut again);
            last_sweep = Instant::now();
        }
    }
    tally
}

/// The emulator in this process: plain listener only, the fleet
/// registered, no event log (as `--no-log`).
fn start_sim(o: &Options) -> std::io::Result<SimHandle> {
    let devices = (0..o.devices)
        .map(|i| {
            let (pk, dn, secret) = identity(i);
            Device::new(&pk, &dn, &secret)
        })
        .collect();
    iotx_coap_sim::start(SimConfig {
        devices,
        plain_port: Some(0),
        psk_port: None,
        dtls_port: None,
        capture_events: false,
        udp_threads: o.sim_threads,
        ..SimConfig::default()
    })
}

/// libcoap's example server on a free loopback port, creating a resource
/// per topic on the first POST (`-d`), once it answers a CoAP ping.
fn start_coap_server(bin: &str, devices: usize) -> Result<(Child, SocketAddr), String> {
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = Command::new(bin)
        .args(["-A", "127.0.0.1", "-p", &port.to_string(), "-v", "0"])
        .args(["-d", &(devices + 16).to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {bin} (Debian: apt-get install -y libcoap3-bin): {e}"))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let probe = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    probe
        .set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(|e| e.to_string())?;
    for _ in 0..50 {
        // Empty CON (CoAP ping): any server answers it with RST.
        let _ = probe.send_to(&[0x40, 0x00, 0x12, 0x34], addr);
        if probe.recv_from(&mut [0u8; 64]).is_ok() {
            return Ok((child, addr));
        }
    }
    Err(format!("{bin} on {addr} does not answer"))
}

/// Gives every session a token as if `/auth` had answered (libcoap has no
/// `/auth`): the session's own auth request is answered locally.
fn local_auth(f: &mut Fleet) {
    for i in 0..f.devices.len() {
        let now = f.now_ms();
        let s = &mut f.devices[i].session;
        s.start_auth(now);
        let Some(req) = s.poll_transmit() else {
            continue;
        };
        let Ok(req) = coap_lite::Packet::from_bytes(&req) else {
            continue;
        };
        let mut resp = coap_lite::Packet::new();
        resp.header
            .set_type(coap_lite::MessageType::Acknowledgement);
        resp.header.message_id = req.header.message_id;
        resp.header.code = coap_lite::MessageClass::Response(coap_lite::ResponseType::Content);
        resp.set_token(req.get_token().to_vec());
        resp.payload = format!(r#"{{"token":"local-token-{i}"}}"#).into_bytes();
        s.handle_datagram(now, &resp.to_bytes().unwrap_or_default());
        while s.poll_event().is_some() {}
    }
}

/// A server under test: its fleet (authenticated) and where its CPU time
/// is read.
struct Target {
    name: &'static str,
    fleets: Vec<Fleet>,
    cpu: Cpu,
}

/// The fleet for `server`, authenticated: with real `/auth` requests (and
/// a row for them) when the server has `/auth`, else locally.
fn prepare(
    o: &Options,
    name: &'static str,
    server: SocketAddr,
    real_auth: bool,
    cpu: Cpu,
) -> std::io::Result<Target> {
    let mut fleets = fleets(o, server)?;
    if real_auth {
        let cpu0 = cpu.sample();
        let (auth, secs) = parallel(&mut fleets, auth_phase);
        let auth = Figures::new(auth, secs);
        println!(
            "{name:<18} /auth:  {:>8.0}/s  p50 {:>9}  p99 {:>9}  {}  ({} auths; {})",
            auth.rate(),
            ms(auth.p50),
            ms(auth.p99),
            cpu_per(&cpu, cpu0, auth.count),
            auth.count,
            auth.codes()
        );
    } else {
        fleets.iter_mut().for_each(local_auth);
    }
    Ok(Target { name, fleets, cpu })
}

/// One uplink row: closed loop (`open` false) or at the offered `--rate`.
fn uplink_row(o: &Options, t: &mut Target, open: bool) -> Figures {
    let (rate, window) = match open {
        // Room for a few in flight per device, so that a slow answer
        // does not silently lower the offered rate.
        true => (o.rate / o.workers as f64, o.window.max(8)),
        false => (0.0, o.window),
    };
    let cpu0 = t.cpu.sample();
    let (up, secs) = parallel(&mut t.fleets, |f| uplink_phase(f, o.seconds, window, rate));
    let up = Figures::new(up, secs);
    let mode = match open {
        true => format!("open {:.0}/s", o.rate),
        false => format!("closed x{}", o.window),
    };
    println!(
        "{:<18} uplink: {mode:<13} {:>8.0}/s  p50 {:>9}  p99 {:>9}  {}  ({} uplinks; {})",
        t.name,
        up.rate(),
        ms(up.p50),
        ms(up.p99),
        cpu_per(&t.cpu, cpu0, up.count),
        up.count,
        up.codes()
    );
    up
}

/// Rates over consecutive runs of `n` completions in `at` (sorted).
fn window_rates(at: &[Instant], n: usize) -> Vec<f64> {
    at.chunks(n)
        .filter(|c| c.len() == n && n > 1)
        .map(|c| (n - 1) as f64 / (c[n - 1] - c[0]).as_secs_f64().max(1e-9))
        .collect()
}

/// `/auth` rate per tenth of `tokens` issued: the median and the best of
/// the rates over runs of 2,000 auths in that tenth (the best shows the
/// emulator's own cost on a machine others share; the median, the noise).
fn auth_scale(o: &Options) -> std::io::Result<()> {
    let sim = start_sim(o)?;
    let stat = sim_thread_stat();
    let mut fleets = fleets(o, sim.plain_addr())?;
    let topic_before = topic_rate(o, &mut fleets);
    let held_before = sim.tokens_held();
    let per_worker = o.auth_tokens.div_ceil(o.workers as u64);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut samples = Vec::new();
    let (tally, secs) = std::thread::scope(|s| {
        let sampler = s.spawn(|| sample_cpu(&sim, stat.as_deref(), &stop));
        let r = parallel(&mut fleets, |f| reauth_phase(f, per_worker));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        samples = sampler.join().expect("sampler");
        r
    });
    let mut at = tally.done_at;
    at.sort();
    let tenth = (at.len() / 10).max(1);
    println!(
        "/auth while the store grows to {} tokens ({:.1} s; tokens held at the end: {}):",
        at.len(),
        secs,
        sim.tokens_held()
    );
    let mut best = Vec::new();
    for (k, part) in at.chunks(tenth).filter(|c| c.len() == tenth).enumerate() {
        let mut r = window_rates(part, 2_000.min(tenth));
        r.sort_by(f64::total_cmp);
        let (median, top) = (r[r.len() / 2], r[r.len() - 1]);
        best.push(top);
        println!(
            "  tokens {:>8}..{:<8} median {:>7.0} auths/s, best {:>7.0} auths/s",
            k * tenth,
            (k + 1) * tenth,
            median,
            top
        );
    }
    if let (Some(first), Some(last)) = (best.first(), best.last()) {
        println!("  best rate, last tenth / first tenth: {:.2}", last / first);
    }
    print_cpu_per_auth(&samples, tenth);
    let topic_after = topic_rate(o, &mut fleets);
    println!(
        "/topic uplinks: {topic_before:.0}/s with {held_before} tokens held, {topic_after:.0}/s with {} ({:.2}x)",
        sim.tokens_held(),
        topic_after / topic_before
    );
    Ok(())
}

/// Authenticates the fleet (waiting for auths still running), then
/// returns its closed-loop uplink rate over `--seconds`.
fn topic_rate(o: &Options, fleets: &mut [Fleet]) -> f64 {
    parallel(fleets, auth_phase);
    let (up, secs) = parallel(fleets, |f| uplink_phase(f, o.seconds, o.window, 0.0));
    Figures::new(up, secs).rate()
}

/// (tokens held, listener CPU time) every 50 ms until `stop`.
fn sample_cpu(
    sim: &SimHandle,
    stat: Option<&str>,
    stop: &std::sync::atomic::AtomicBool,
) -> Vec<(usize, Duration)> {
    let mut out = Vec::new();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        if let Some(cpu) = stat.and_then(cpu_time) {
            out.push((sim.tokens_held(), cpu));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    out
}

/// The listener thread's CPU per `/auth` in each tenth, and the rate one
/// core would sustain at that cost: the figure noise does not move.
fn print_cpu_per_auth(samples: &[(usize, Duration)], tenth: usize) {
    let mut per = Vec::new();
    for k in 0..10 {
        let inside: Vec<_> = samples
            .iter()
            .filter(|(n, _)| *n >= k * tenth && *n <= (k + 1) * tenth)
            .collect();
        if let (Some(a), Some(b)) = (inside.first(), inside.last()) {
            if b.0 > a.0 {
                per.push((b.1 - a.1).as_secs_f64() * 1e6 / (b.0 - a.0) as f64);
            }
        }
    }
    let text: Vec<String> = per.iter().map(|us| format!("{us:.1}")).collect();
    println!("  emulator CPU per /auth by tenth (us): {}", text.join(" "));
    if let (Some(first), Some(last)) = (per.first(), per.last()) {
        println!(
            "  one-core /auth capacity: {:.0}/s at the start, {:.0}/s at the end ({:.2}x)",
            1e6 / first,
            1e6 / last,
            first / last
        );
    }
}

pub fn main(o: &Options) -> Result<(), String> {
    println!(
        "iotx-coap-load: {} devices, {} workers, {} s per phase and server; closed loop \
         ({} in flight per device){}",
        o.devices,
        o.workers,
        o.seconds,
        o.window,
        match o.rate {
            r if r > 0.0 => format!(", then open loop at {r} uplinks/s offered in total"),
            _ => String::new(),
        }
    );
    // Both servers run for the whole measurement and the phases alternate
    // between them, so the machine's other load hits both alike.
    let sim = match o.sim {
        true => Some(start_sim(o).map_err(|e| e.to_string())?),
        false => None,
    };
    let mut child = None;
    let mut targets = Vec::new();
    if let Some(sim) = &sim {
        let cpu = Cpu {
            server: sim_thread_stats(o.sim_threads),
            in_process: true,
        };
        targets.push(
            prepare(o, "iotx-coap-sim", sim.plain_addr(), true, cpu).map_err(|e| e.to_string())?,
        );
    }
    if let Some(bin) = &o.coap_server {
        let (c, addr) = start_coap_server(bin, o.devices)?;
        let cpu = Cpu {
            server: vec![format!("/proc/{}/stat", c.id())],
            in_process: false,
        };
        child = Some(c);
        targets.push(prepare(o, "coap-server-notls", addr, false, cpu).map_err(|e| e.to_string())?);
    }
    let modes: &[bool] = if o.rate > 0.0 {
        &[false, true]
    } else {
        &[false]
    };
    for &open in modes {
        let rates: Vec<f64> = targets
            .iter_mut()
            .map(|t| uplink_row(o, t, open).rate())
            .collect();
        if let [sim, coap] = rates[..] {
            let mode = if open { "open-loop" } else { "closed-loop" };
            println!(
                "{mode} uplink rate, emulator / coap-server-notls: {:.2}x",
                sim / coap
            );
        }
    }
    drop(targets);
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
    drop(sim);
    if o.auth_tokens > 0 {
        auth_scale(o).map_err(|e| e.to_string())?;
    }
    Ok(())
}
