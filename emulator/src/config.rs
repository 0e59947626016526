//! Configuration of the emulator: devices, listeners, fault injection, and
//! the command-line parser of the `iotx-coap-sim` binary.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// A device registered on the emulated platform. `Debug` leaves the secret out.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub product_key: String,
    pub device_name: String,
    pub device_secret: String,
    /// A disabled device is known but not allowed to authenticate (4.03).
    #[serde(default)]
    pub disabled: bool,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("product_key", &self.product_key)
            .field("device_name", &self.device_name)
            .field("device_secret", &"<redacted>")
            .field("disabled", &self.disabled)
            .finish()
    }
}

impl Device {
    pub fn new(pk: &str, dn: &str, secret: &str) -> Device {
        Device {
            product_key: pk.to_string(),
            device_name: dn.to_string(),
            device_secret: secret.to_string(),
            disabled: false,
        }
    }

    /// Parses `PK:DN:SECRET` (the secret may itself contain ':').
    pub fn parse_triple(s: &str) -> Result<Device, String> {
        let mut it = s.splitn(3, ':');
        match (it.next(), it.next(), it.next()) {
            (Some(pk), Some(dn), Some(secret))
                if !pk.is_empty() && !dn.is_empty() && !secret.is_empty() =>
            {
                Ok(Device::new(pk, dn, secret))
            }
            _ => Err(format!(
                "--device expects PK:DN:SECRET, got {:?}",
                redact_triple(s)
            )),
        }
    }
}

fn redact_triple(s: &str) -> String {
    // Never echo a secret back, even in an error message.
    let mut it = s.splitn(3, ':');
    let pk = it.next().unwrap_or("");
    let dn = it.next().unwrap_or("");
    if it.next().is_some() {
        format!("{pk}:{dn}:***")
    } else {
        format!("{pk}:{dn}")
    }
}

/// Loads a devices file: a JSON array of
/// `{"productKey","deviceName","deviceSecret", optional "disabled": bool}`.
pub fn load_devices_file(path: &std::path::Path) -> Result<Vec<Device>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read devices file {}: {e}", path.display()))?;
    serde_json::from_str::<Vec<Device>>(&text)
        .map_err(|e| format!("invalid devices file {}: {e}", path.display()))
}

/// Fault rates for one direction. Each is a probability in `[0, 1]`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultRates {
    pub drop: f64,
    pub dup: f64,
    pub delay: f64,
    pub reorder: f64,
}

impl FaultRates {
    pub fn is_zero(&self) -> bool {
        self.drop == 0.0 && self.dup == 0.0 && self.delay == 0.0 && self.reorder == 0.0
    }
}

/// Seeded, reproducible fault injection, per direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    /// Datagrams from devices to the emulator.
    pub inbound: FaultRates,
    /// Datagrams from the emulator to devices.
    pub outbound: FaultRates,
    /// How long a delayed datagram is held (also the longest a reordered
    /// datagram waits for a successor to overtake it).
    pub delay: Duration,
    /// `--link`: the link model on every datagram instead of the rates
    /// above (see [`crate::link`]).
    pub link: Option<crate::link::LinkSpec>,
}

impl Faults {
    /// The same rates in both directions, the default delay.
    pub fn both(rates: FaultRates) -> Faults {
        Faults {
            inbound: rates,
            outbound: rates,
            ..Faults::default()
        }
    }
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            inbound: FaultRates::default(),
            outbound: FaultRates::default(),
            delay: Duration::from_millis(200),
            link: None,
        }
    }
}

/// Files of a certificate for the DTLS listener to serve instead of a
/// generated one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DtlsCertFiles {
    /// PEM: the server certificate, optionally followed by its chain.
    pub cert: PathBuf,
    /// PEM: the server certificate's private key.
    pub key: PathBuf,
    /// PEM: more chain certificates (intermediates; a root is harmless).
    pub chain: Option<PathBuf>,
}

/// Where the JSON event lines go.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum LogTarget {
    /// Only kept in memory (see `SimHandle::events`).
    #[default]
    None,
    Stdout,
    File(PathBuf),
}

/// Everything the emulator needs to run.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub bind: IpAddr,
    /// Plain CoAP listener port (`Some(0)` = ephemeral; `None` = disabled).
    pub plain_port: Option<u16>,
    /// PSK ("symmetric encryption") listener port (`Some(0)` = ephemeral; `None` = disabled).
    pub psk_port: Option<u16>,
    /// DTLS 1.2 (`coaps://`) listener port (`Some(0)` = ephemeral, the API
    /// default: generating the certificates takes about a millisecond;
    /// `None` = disabled; see [`SimConfig::dtls`]).
    pub dtls_port: Option<u16>,
    /// Extra subject alternative names of the generated server certificate
    /// (DNS names; IP literals become IP SANs). It always has DNS:localhost,
    /// IP:127.0.0.1, IP:::1 and the bind address.
    pub dtls_hosts: Vec<String>,
    /// Serve this certificate and key instead of generating a CA and a
    /// server certificate.
    pub dtls_cert: Option<DtlsCertFiles>,
    /// Write the CA certificate (PEM) clients must trust to this file, before
    /// the `listening` line is printed.
    pub dtls_ca_out: Option<PathBuf>,
    /// An established DTLS session without traffic for this long is closed.
    pub dtls_idle_timeout: Duration,
    /// A DTLS handshake not finished within this is abandoned.
    pub dtls_handshake_timeout: Duration,
    pub devices: Vec<Device>,
    pub token_ttl: Duration,
    pub accept_legacy: bool,
    pub faults: Faults,
    /// Seed of every random choice (faults, tokens, randoms, message ids).
    /// `None` = seeded from the clock.
    pub seed: Option<u64>,
    /// Answer the first N auth requests with 5.00 (auth service timeout).
    pub auth_5xx: u32,
    /// Payload of successful uplink responses (encrypted in PSK mode).
    pub reply_payload: Option<Vec<u8>>,
    /// `seqOffset` returned by a PSK auth.
    pub seq_offset: u64,
    /// Fixed `random` returned by every PSK auth (tests, reproducing a
    /// capture); `None` = a fresh random per auth.
    pub psk_random: Option<String>,
    /// Where JSON event lines are written.
    pub log: LogTarget,
    /// Write a short human-readable line per event on stderr.
    pub human: bool,
    /// Keep events in memory for `SimHandle::events`.
    pub capture_events: bool,
    /// Print the `listening` line on stdout (always stdout, even with a log
    /// file) before any event can be logged. The binary sets it.
    pub print_listening: bool,
    /// Threads (each with its own `SO_REUSEPORT` socket on the same port)
    /// serving each of the plain and PSK listeners; 1 = one socket, as
    /// without the option. The kernel sends each peer's datagrams to one
    /// socket, so deduplication and separate responses stay per thread;
    /// a fixed `--seed` then fixes each thread's choices, not which thread
    /// a peer lands on.
    pub udp_threads: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            plain_port: Some(0),
            psk_port: Some(0),
            dtls_port: Some(0),
            dtls_hosts: Vec::new(),
            dtls_cert: None,
            dtls_ca_out: None,
            dtls_idle_timeout: Duration::from_secs(DEFAULT_DTLS_IDLE_SECS),
            dtls_handshake_timeout: Duration::from_secs(DEFAULT_DTLS_HANDSHAKE_SECS),
            devices: Vec::new(),
            token_ttl: Duration::from_secs(DEFAULT_TOKEN_TTL_SECS),
            accept_legacy: false,
            faults: Faults::default(),
            seed: None,
            auth_5xx: 0,
            reply_payload: None,
            seq_offset: 1,
            psk_random: None,
            log: LogTarget::None,
            human: false,
            capture_events: true,
            print_listening: false,
            udp_threads: 1,
        }
    }
}

impl SimConfig {
    pub fn device(mut self, pk: &str, dn: &str, secret: &str) -> Self {
        self.devices.push(Device::new(pk, dn, secret));
        self
    }
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }
    pub fn accept_legacy(mut self, on: bool) -> Self {
        self.accept_legacy = on;
        self
    }
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    pub fn auth_5xx(mut self, n: u32) -> Self {
        self.auth_5xx = n;
        self
    }
    pub fn psk_random(mut self, random: &str) -> Self {
        self.psk_random = Some(random.to_string());
        self
    }
    pub fn reply_payload(mut self, p: &[u8]) -> Self {
        self.reply_payload = Some(p.to_vec());
        self
    }
    /// Starts (`true`: on an ephemeral port) or disables the DTLS listener.
    pub fn dtls(mut self, on: bool) -> Self {
        self.dtls_port = if on { Some(0) } else { None };
        self
    }
    /// Adds a subject alternative name to the generated server certificate.
    pub fn dtls_host(mut self, name: &str) -> Self {
        self.dtls_hosts.push(name.to_string());
        self
    }
    /// Serves this certificate (PEM, optionally followed by its chain) and
    /// key instead of generated ones.
    pub fn dtls_cert(mut self, files: DtlsCertFiles) -> Self {
        self.dtls_cert = Some(files);
        self
    }
}

/// Default token lifetime: 24 hours.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 86_400;
/// Default DTLS (`coaps://`) port of the binary.
pub const DEFAULT_DTLS_PORT: u16 = 5684;
/// Default idle timeout of a DTLS session: 5 minutes.
pub const DEFAULT_DTLS_IDLE_SECS: u64 = 300;
/// Default limit of a DTLS handshake: 30 seconds.
pub const DEFAULT_DTLS_HANDSHAKE_SECS: u64 = 30;

/// Text of `iotx-coap-sim --help`.
pub const HELP: &str = "\
iotx-coap-sim: local emulator of the IoT platform's CoAP device endpoint

USAGE:
    iotx-coap-sim [OPTIONS]

The first stdout line is always
{\"event\":\"listening\",\"dtls\":\"ADDR\",\"plain\":\"ADDR\",\"psk\":\"ADDR\"}
with the bound addresses (null when a listener is disabled); it is printed after
the --ca-out file is written. Then one JSON line per event (stdout, or --log FILE)
and a short human line per event on stderr.

LISTENERS:
    --bind ADDR            address to bind (default 127.0.0.1)
    --plain-port N         plain CoAP port (default 5683; 0 = ephemeral)
    --psk-port N           PSK \"symmetric encryption\" port (default 5682; 0 = ephemeral)
    --no-plain             do not start the plain listener
    --no-psk               do not start the PSK listener
    --dtls-port N          DTLS 1.2 (coaps://) port (default 5684; 0 = ephemeral,
                           also the default when each --plain-port/--psk-port given is 0)
    --no-dtls              do not start the DTLS listener

DTLS CERTIFICATES (default: a fresh EC P-256 CA and server certificate per start,
valid 10 days; the server certificate names DNS:localhost, IP:127.0.0.1, IP:::1
and the --bind address):
    --ca-out FILE          write the CA certificate (PEM) clients must trust
                           (e.g. IOTX_DTLS_CA_FILE=FILE for the client's Linux HAL)
    --dtls-host NAME       another DNS name (or IP) in the generated server
                           certificate (repeatable)
    --cert FILE --key FILE serve this certificate (PEM, may be followed by its
                           chain) and private key (PEM) instead
    --chain FILE           more chain certificates (PEM) for --cert; with --cert,
                           --ca-out writes the chain's top certificate if self-signed
    --dtls-idle-timeout SECONDS
                           close DTLS sessions idle this long (default 300)

DEVICES:
    --device PK:DN:SECRET  register a device (repeatable)
    --devices FILE         JSON array of {\"productKey\",\"deviceName\",\"deviceSecret\",
                           optional \"disabled\": bool} (disabled devices get 4.03)

PROTOCOL:
    --token-ttl SECONDS    token lifetime (default 86400); expired tokens get 4.01
    --seq-offset N         seqOffset returned by PSK auth (default 1)
    --psk-random TEXT      fixed `random` in every PSK auth reply (default: fresh
                           16 hex chars per auth; for tests and replaying captures)
    --accept-legacy        also accept the vendor SDK's deviations from the guide
                           (token in option 61, uplink Accept 42, first PSK seq ==
                           seqOffset), logging each as a \"legacy\" event
    --auth-5xx N           answer the first N auth requests with 5.00
    --reply-payload TEXT   payload of successful uplink responses (encrypted in PSK mode)

FAULT INJECTION (probabilities 0..1, seeded and reproducible):
    --drop-in P  --drop-out P        drop datagrams device->sim / sim->device
    --dup-in P   --dup-out P         deliver a datagram twice
    --delay-in P --delay-out P       hold a datagram for --delay-ms
    --reorder-in P --reorder-out P   hold a datagram until the next one overtook it
                                     (at most --delay-ms)
    --drop P, --dup P, --delay P, --reorder P   set both directions at once
    --delay-ms N           delay in milliseconds (default 200)
    --seed N               seed of faults, tokens and randoms (default: from the clock)
    --link PROFILE[:SCALE] the link model of bench/link on every datagram instead:
                           fast, nbiot, nbiot-loss10, nbiot-bursts; SCALE
                           multiplies its delays (nbiot:0.25 = 4x faster)

OUTPUT:
    --log FILE             write JSON event lines to FILE instead of stdout
    --no-log               write no JSON event lines (the listening line still goes to stdout)
    --quiet                no human-readable lines on stderr
    --threads N            threads serving each of the plain and PSK listeners,
                           on SO_REUSEPORT sockets of one port (default 1)
    -h, --help             this help
    -V, --version          print the version

Secrets, signs, PSK keys and tokens are never printed.
";

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    Run(Box<SimConfig>),
    Help,
    Version,
}

fn parse_prob(flag: &str, v: &str) -> Result<f64, String> {
    let p: f64 = v
        .parse()
        .map_err(|_| format!("{flag} expects a probability, got {v:?}"))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(format!("{flag} expects a probability in 0..1, got {v}"));
    }
    Ok(p)
}

fn parse_num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{flag} expects a number, got {v:?}"))
}

/// Parses the binary's arguments (without the program name). Flags also
/// accept the `--flag=value` form.
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut st = ArgState::default();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it.next().ok_or_else(|| format!("{flag} needs a value")),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            _ if st.fault_flag(&flag, &mut value)? => {}
            _ => st.flag(&flag, &mut value)?,
        }
    }
    st.finish()
}

/// The command line read so far.
struct ArgState {
    cfg: SimConfig,
    no_plain: bool,
    no_psk: bool,
    no_dtls: bool,
    dtls_port: Option<u16>,
    /// Ports given for the plain and PSK listeners.
    other_ports: Vec<u16>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    chain: Option<PathBuf>,
}

impl Default for ArgState {
    fn default() -> Self {
        ArgState {
            cfg: SimConfig {
                plain_port: Some(5683),
                psk_port: Some(5682),
                log: LogTarget::Stdout,
                human: true,
                capture_events: false,
                print_listening: true,
                ..SimConfig::default()
            },
            no_plain: false,
            no_psk: false,
            no_dtls: false,
            dtls_port: None,
            other_ports: Vec::new(),
            cert: None,
            key: None,
            chain: None,
        }
    }
}

type Value<'a> = &'a mut dyn FnMut() -> Result<String, String>;

impl ArgState {
    /// The fault-injection flags; `false` when `flag` is not one of them.
    fn fault_flag(&mut self, flag: &str, value: Value<'_>) -> Result<bool, String> {
        if flag == "--link" {
            self.cfg.faults.link = Some(crate::link::LinkSpec::parse(&value()?)?);
            return Ok(true);
        }
        let f = &mut self.cfg.faults;
        let (inbound, outbound) = (&mut f.inbound, &mut f.outbound);
        let (dirs, kind): (Vec<&mut FaultRates>, &str) = match flag {
            "--delay-ms" => {
                f.delay = Duration::from_millis(parse_num(flag, &value()?)?);
                return Ok(true);
            }
            "--drop" | "--dup" | "--delay" | "--reorder" => (vec![inbound, outbound], &flag[2..]),
            _ => match flag.strip_suffix("-in").or(flag.strip_suffix("-out")) {
                Some(k) if flag.ends_with("-in") => (vec![inbound], &k[2..]),
                Some(k) => (vec![outbound], &k[2..]),
                None => return Ok(false),
            },
        };
        if !matches!(kind, "drop" | "dup" | "delay" | "reorder") {
            return Ok(false);
        }
        let p = parse_prob(flag, &value()?)?;
        for rates in dirs {
            *match kind {
                "drop" => &mut rates.drop,
                "dup" => &mut rates.dup,
                "delay" => &mut rates.delay,
                _ => &mut rates.reorder,
            } = p;
        }
        Ok(true)
    }

    /// Every other flag.
    fn flag(&mut self, flag: &str, value: Value<'_>) -> Result<(), String> {
        let cfg = &mut self.cfg;
        match flag {
            "--bind" => {
                let v = value()?;
                cfg.bind = v
                    .parse()
                    .map_err(|_| format!("--bind expects an IP address, got {v:?}"))?;
            }
            "--plain-port" => {
                let p = parse_num(flag, &value()?)?;
                self.other_ports.push(p);
                cfg.plain_port = Some(p);
            }
            "--psk-port" => {
                let p = parse_num(flag, &value()?)?;
                self.other_ports.push(p);
                cfg.psk_port = Some(p);
            }
            "--dtls-port" => self.dtls_port = Some(parse_num(flag, &value()?)?),
            "--no-plain" => self.no_plain = true,
            "--no-psk" => self.no_psk = true,
            "--no-dtls" => self.no_dtls = true,
            "--ca-out" => cfg.dtls_ca_out = Some(PathBuf::from(value()?)),
            "--dtls-host" => cfg.dtls_hosts.push(value()?),
            "--cert" => self.cert = Some(PathBuf::from(value()?)),
            "--key" => self.key = Some(PathBuf::from(value()?)),
            "--chain" => self.chain = Some(PathBuf::from(value()?)),
            "--dtls-idle-timeout" => {
                cfg.dtls_idle_timeout = Duration::from_secs(parse_num(flag, &value()?)?)
            }
            "--device" => cfg.devices.push(Device::parse_triple(&value()?)?),
            "--devices" => {
                let v = value()?;
                cfg.devices
                    .extend(load_devices_file(std::path::Path::new(&v))?);
            }
            "--token-ttl" => cfg.token_ttl = Duration::from_secs(parse_num(flag, &value()?)?),
            "--seq-offset" => cfg.seq_offset = parse_num(flag, &value()?)?,
            "--psk-random" => cfg.psk_random = Some(value()?),
            "--accept-legacy" => cfg.accept_legacy = true,
            "--auth-5xx" => cfg.auth_5xx = parse_num(flag, &value()?)?,
            "--reply-payload" => cfg.reply_payload = Some(value()?.into_bytes()),
            "--log" => cfg.log = LogTarget::File(PathBuf::from(value()?)),
            "--no-log" => cfg.log = LogTarget::None,
            "--quiet" => cfg.human = false,
            "--threads" => {
                cfg.udp_threads = parse_num(flag, &value()?)?;
                if cfg.udp_threads == 0 || cfg.udp_threads > 64 {
                    return Err("--threads must be 1 to 64".into());
                }
            }
            "--seed" => cfg.seed = Some(parse_num(flag, &value()?)?),
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
        Ok(())
    }

    /// Applies what only the whole command line decides.
    fn finish(self) -> Result<Command, String> {
        let mut cfg = self.cfg;
        if self.no_plain {
            cfg.plain_port = None;
        }
        if self.no_psk {
            cfg.psk_port = None;
        }
        // Scripts and tests that ask for ephemeral ports (to run side by side)
        // get an ephemeral DTLS port too unless they name one.
        let ports = &self.other_ports;
        let all_ephemeral = !ports.is_empty() && ports.iter().all(|p| *p == 0);
        cfg.dtls_port = match (self.no_dtls, self.dtls_port) {
            (true, _) => None,
            (false, Some(p)) => Some(p),
            (false, None) if all_ephemeral => Some(0),
            (false, None) => Some(DEFAULT_DTLS_PORT),
        };
        match (self.cert, self.key) {
            (Some(cert), Some(key)) => {
                let chain = self.chain;
                cfg.dtls_cert = Some(DtlsCertFiles { cert, key, chain })
            }
            (None, None) if self.chain.is_some() => {
                return Err("--chain needs --cert and --key".into())
            }
            (None, None) => {}
            _ => return Err("--cert and --key go together".into()),
        }
        let dtls_options =
            cfg.dtls_ca_out.is_some() || cfg.dtls_cert.is_some() || !cfg.dtls_hosts.is_empty();
        if cfg.dtls_port.is_none() && dtls_options {
            return Err(
                "--ca-out, --cert and --dtls-host need the DTLS listener (not --no-dtls)".into(),
            );
        }
        if cfg.plain_port.is_none() && cfg.psk_port.is_none() && cfg.dtls_port.is_none() {
            return Err("every listener is disabled (--no-plain, --no-psk and --no-dtls)".into());
        }
        Ok(Command::Run(Box::new(cfg)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> SimConfig {
        match parse_args(args.iter().map(|s| s.to_string())).unwrap() {
            Command::Run(c) => *c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn debug_leaves_the_secret_out() {
        let d = Device::new("a1TestPK001", "dev-001", "s3cr3tS3cr3t");
        let text = format!(
            "{d:?} {:?}",
            SimConfig::default().device("pk", "dn", "s3cr3tS3cr3t")
        );
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("dev-001"), "{text}");
    }

    #[test]
    fn defaults() {
        let c = run(&[]);
        assert_eq!(c.plain_port, Some(5683));
        assert_eq!(c.psk_port, Some(5682));
        assert_eq!(c.bind.to_string(), "127.0.0.1");
        assert_eq!(c.token_ttl, Duration::from_secs(86400));
        assert_eq!(c.dtls_port, Some(5684));
        assert_eq!(SimConfig::default().dtls_port, Some(0));
    }

    #[test]
    fn dtls_flags() {
        assert_eq!(
            run(&["--plain-port", "0", "--psk-port", "0"]).dtls_port,
            Some(0)
        );
        assert_eq!(run(&["--plain-port", "0"]).dtls_port, Some(0));
        assert_eq!(
            run(&["--plain-port", "0", "--psk-port", "1"]).dtls_port,
            Some(5684)
        );
        assert_eq!(
            run(&["--plain-port", "0", "--psk-port", "0", "--dtls-port", "7"]).dtls_port,
            Some(7)
        );
        assert_eq!(run(&["--no-dtls"]).dtls_port, None);
        let c = run(&[
            "--dtls-host",
            "a.example",
            "--dtls-host=10.0.0.1",
            "--ca-out",
            "/tmp/ca.pem",
            "--cert",
            "c.pem",
            "--key",
            "k.pem",
            "--chain",
            "ch.pem",
        ]);
        assert_eq!(c.dtls_hosts, ["a.example", "10.0.0.1"]);
        assert_eq!(c.dtls_ca_out, Some(PathBuf::from("/tmp/ca.pem")));
        let f = c.dtls_cert.unwrap();
        assert_eq!(
            (f.cert, f.key, f.chain),
            ("c.pem".into(), "k.pem".into(), Some("ch.pem".into()))
        );
        let err = |a: &[&str]| parse_args(a.iter().map(|s| s.to_string())).unwrap_err();
        err(&["--cert", "c.pem"]);
        err(&["--chain", "c.pem"]);
        err(&["--no-dtls", "--ca-out", "x"]);
        err(&["--no-dtls", "--no-plain", "--no-psk"]);
    }

    #[test]
    fn flags() {
        let c = run(&[
            "--device",
            "pk:dn:se:cret",
            "--device=a:b:c",
            "--no-psk",
            "--drop-in",
            "0.2",
            "--dup",
            "0.1",
            "--seed",
            "7",
            "--plain-port",
            "0",
        ]);
        assert_eq!(c.devices[0].device_secret, "se:cret");
        assert_eq!(c.devices[1].product_key, "a");
        assert_eq!(c.psk_port, None);
        assert_eq!(c.plain_port, Some(0));
        assert_eq!(c.faults.inbound.drop, 0.2);
        assert_eq!(c.faults.outbound.dup, 0.1);
        assert_eq!(c.seed, Some(7));
    }

    #[test]
    fn errors_do_not_leak_secrets() {
        let e = parse_args(["--device".to_string(), "pk:dn:".to_string()]).unwrap_err();
        assert!(!e.contains("secret"));
        assert!(parse_args(["--drop-in".to_string(), "2".to_string()]).is_err());
        assert!(parse_args(["--bogus".to_string()]).is_err());
    }
}
