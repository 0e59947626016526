//! Helpers shared by integration tests that drive the C API: building the
//! staticlib and the emulator, compiling C programs against them, running
//! processes with a hard timeout, and an emulator handle.
//!
//! Each test binary compiles its own copy of this module and uses only part
//! of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

pub mod rust_api;

/// The test device of docs/protocol.md ("Test vectors").
#[allow(unused_imports)]
pub use iotx_coap_testkit::device::{DN as TEST_DN, PK as TEST_PK, SECRET as TEST_DS};

/// `--device` argument for the test device of docs/protocol.md.
#[allow(unused_imports)]
pub use iotx_coap_testkit::device::triple as test_device;

/// The workspace root (the root crate's manifest directory).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `CARGO_TARGET_DIR` (relative to the root when relative) or `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                workspace_root().join(d)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// `target/debug/libiotx_coap.a`: the C library (`cargo build -p
/// iotx-coap-ffi`: no std, DTLS over the HAL), unoptimised.
pub fn staticlib_path() -> PathBuf {
    target_dir().join("debug").join("libiotx_coap.a")
}

/// `target/debug/iotx-coap-sim`.
pub fn sim_path() -> PathBuf {
    target_dir().join("debug").join("iotx-coap-sim")
}

fn cargo_build(args: &[&str]) -> Result<(), String> {
    let out = Command::new(env!("CARGO"))
        .arg("build")
        .args(args)
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo build {} failed ({}):\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `cargo build` arguments for the C library with extra `features`.
fn c_lib_args<'a>(features: &'a str, profile: &'a str) -> [&'a str; 6] {
    [
        "-p",
        "iotx-coap-ffi",
        "--features",
        features,
        "--profile",
        profile,
    ]
}

/// Builds `libiotx_coap.a` and the emulator (debug profile), once per
/// process; later callers get the first outcome.
pub fn build_lib_and_sim() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let r = BUILT.get_or_init(|| {
        cargo_build(&c_lib_args("dtls", "dev"))?;
        cargo_build(&["-p", "iotx-coap-sim", "--bin", "iotx-coap-sim"])
    });
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// The C library with the session store (feature `session-store`), built
/// as README "Battery devices" builds it (`cargo build -p iotx-coap-ffi
/// --release --features session-store`) into its own target dir
/// (`session-store/` under the target dir), once per process.
pub fn build_session_store_lib() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let r = BUILT.get_or_init(|| {
        let dir = target_dir().join("session-store");
        let mut args = c_lib_args("session-store", "release").to_vec();
        args.extend(["--target-dir", dir.to_str().expect("UTF-8 target dir")]);
        cargo_build(&args)?;
        Ok(dir.join("release").join("libiotx_coap.a"))
    });
    match r {
        Ok(p) => p.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// A fresh, empty directory under the system temp dir, unique per process
/// and call. Removed by [`TempDir`]'s `Drop` unless `IOTX_KEEP_TEMP` is set.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("iotx-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("IOTX_KEEP_TEMP").is_none() {
            let _ = fs::remove_dir_all(&self.0);
        } else {
            eprintln!("kept {}", self.0.display());
        }
    }
}

/// Compiles C `sources` with the reference Linux HAL against the debug
/// staticlib, as firmware would (strict warnings; OpenSSL when the HAL's
/// DTLS layer uses it). Panics with gcc's output
/// on failure. Call [`build_lib_and_sim`] first.
pub fn compile_c(out: &Path, sources: &[&Path], extra: &[&str]) {
    compile_c_with_lib(&staticlib_path(), out, sources, extra)
}

/// `tests/c/NAME.c` compiled into `dir` as [`compile_c`] does, after
/// building the C library and the emulator; the executable's path.
pub fn c_test_program(dir: &TempDir, name: &str) -> PathBuf {
    build_lib_and_sim();
    let exe = dir.join(name);
    let src = workspace_root().join("tests/c").join(format!("{name}.c"));
    compile_c(&exe, &[src.as_path()], &[]);
    exe
}

/// Fails, saying why, when valgrind is missing: the tests that call this
/// need it (CI installs it).
pub fn require_valgrind() {
    let have = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        have,
        "valgrind is not installed: this test needs it (CI installs it; locally: apt-get install valgrind)"
    );
}

/// [`compile_c`] against the staticlib at `lib` (a build with other
/// features).
pub fn compile_c_with_lib(lib: &Path, out: &Path, sources: &[&Path], extra: &[&str]) {
    let root = workspace_root();
    let mut hal: Vec<PathBuf> = fs::read_dir(root.join("hal/linux"))
        .expect("hal/linux")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    hal.sort();
    // hal_dtls.c is either a stub or built on OpenSSL; link OpenSSL only for
    // the latter (the same test as the top-level CMakeLists.txt).
    let openssl = hal.iter().any(|p| {
        fs::read_to_string(p).unwrap_or_default().lines().any(|l| {
            l.trim_start()
                .strip_prefix('#')
                .map(|r| r.trim_start())
                .and_then(|r| r.strip_prefix("include"))
                .is_some_and(|r| r.trim_start().starts_with("<openssl/"))
        })
    });
    let output = Command::new("gcc")
        .args([
            "-Wall",
            "-Wextra",
            "-Werror",
            "-std=c99",
            "-D_DEFAULT_SOURCE",
            "-g",
        ])
        .arg("-I")
        .arg(root.join("include"))
        .args(extra)
        .args(sources)
        .args(&hal)
        .arg(lib)
        .args(if openssl {
            &["-lssl", "-lcrypto"][..]
        } else {
            &[]
        })
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(out)
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run gcc: {e}"));
    assert!(
        output.status.success(),
        "gcc failed for {sources:?} ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What a process did, with its output captured to files (no pipe can fill
/// up and stall it).
#[derive(Debug)]
pub struct Run {
    /// `None` when it was killed for running past its timeout.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }

    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Both streams, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "status: {}\n---- stdout ----\n{}\n---- stderr ----\n{}\n----",
            match self.status {
                Some(s) => s.to_string(),
                None => format!("killed after {:?} (timeout)", self.elapsed),
            },
            self.stdout,
            self.stderr
        )
    }
}

/// Waits for `child` up to `timeout`, killing it when it runs over.
pub fn wait_or_kill(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for child: {e}"),
        }
    }
}

/// Runs `cmd` to completion or `timeout`, whichever comes first.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Run {
    let dir = TempDir::new("run");
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).expect("stdout file"))
        .stderr(fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let status = wait_or_kill(&mut child, timeout);
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
    Run {
        status,
        stdout: read(&out_path),
        stderr: read(&err_path),
        elapsed: start.elapsed(),
    }
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A running emulator on ephemeral ports, killed on drop.
pub struct Sim {
    child: Child,
    /// `127.0.0.1:P` of the plain listener (None when disabled).
    pub plain: Option<String>,
    /// `127.0.0.1:Q` of the PSK listener (None when disabled).
    pub psk: Option<String>,
    /// Address of the DTLS listener, when the emulator has one.
    pub dtls: Option<String>,
    log: PathBuf,
    stderr: PathBuf,
    _dir: TempDir,
}

impl Sim {
    /// Starts the emulator with `args` plus `--plain-port 0 --psk-port 0
    /// --log <tmp> --quiet`, and waits (10 s at most) for its listening line.
    pub fn start(args: &[&str]) -> Sim {
        let dir = TempDir::new("sim");
        let log = dir.join("sim.log");
        let stderr = dir.join("sim.err");
        let mut child = Command::new(sim_path())
            .args(args)
            .args(["--plain-port", "0", "--psk-port", "0", "--quiet", "--log"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&stderr).expect("sim stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", sim_path().display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining, so the emulator never writes into a closed pipe.
            let _ = std::io::copy(&mut r, &mut std::io::sink());
        });
        let line = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "emulator printed no listening line within 10 s; stderr:\n{}",
                    fs::read_to_string(&stderr).unwrap_or_default()
                );
            }
        };
        let v: serde_json::Value = match serde_json::from_str(line.trim()) {
            Ok(v) => v,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "emulator's first line is not JSON ({e}): {line:?}; stderr:\n{}",
                    fs::read_to_string(&stderr).unwrap_or_default()
                );
            }
        };
        assert_eq!(v["event"], "listening", "first line: {line}");
        let addr = |k: &str| v[k].as_str().map(str::to_owned);
        Sim {
            plain: addr("plain"),
            psk: addr("psk"),
            dtls: addr("dtls"),
            child,
            log,
            stderr,
            _dir: dir,
        }
    }

    /// `coap://127.0.0.1:P`.
    pub fn plain_url(&self) -> String {
        format!("coap://{}", self.plain.as_deref().expect("plain listener"))
    }

    /// `coap-psk://127.0.0.1:Q`.
    pub fn psk_url(&self) -> String {
        format!("coap-psk://{}", self.psk.as_deref().expect("psk listener"))
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The complete JSON lines of the log so far (a line still being
    /// written is left out).
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let complete = match text.rfind('\n') {
            Some(i) => &text[..=i],
            None => "",
        };
        complete
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad log line ({e}): {l}")))
            .collect()
    }

    /// Log lines whose `event` is `event`.
    pub fn events(&self, event: &str) -> Vec<serde_json::Value> {
        self.log_lines()
            .into_iter()
            .filter(|v| v["event"] == event)
            .collect()
    }

    /// Waits until `cond(log lines)` holds; false after `timeout`.
    pub fn wait_for_log(
        &self,
        timeout: Duration,
        mut cond: impl FnMut(&[serde_json::Value]) -> bool,
    ) -> bool {
        wait_until(timeout, || cond(&self.log_lines()))
    }

    /// The emulator's log and stderr, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "---- emulator log ({}) ----\n{}\n---- emulator stderr ----\n{}\n----",
            self.log.display(),
            fs::read_to_string(&self.log).unwrap_or_default(),
            fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
