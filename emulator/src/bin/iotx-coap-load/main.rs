//! `iotx-coap-load`: a UDP load generator for the emulator, built on the
//! library's own sans-IO session (`iotx_coap::core::session::Session`).
//!
//! N simulated devices (one socket and one session each) authenticate, then
//! send confirmable JSON uplinks for a while, closed-loop (each device keeps
//! `--window` uplinks in flight) or at a total `--rate`. The same fleet runs
//! against the emulator and against libcoap's `coap-server-notls` (which
//! answers the same POSTs; it has no `/auth`, so there the sessions are
//! given a token locally), one after the other in the same run, and the
//! rates and p50/p99 latencies are printed side by side.
//!
//! `--auth-tokens N` also has the devices re-authenticate against the
//! emulator until N tokens were issued, printing the `/auth` rate per tenth
//! of the way: the rate must not fall as the token store grows.
//!
//! Linux only (epoll). See `--help` and the emulator README.

#[cfg(target_os = "linux")]
mod fleet;
#[cfg(target_os = "linux")]
mod poll;
#[cfg(target_os = "linux")]
mod run;

#[cfg(target_os = "linux")]
fn main() {
    match run::Options::parse(std::env::args().skip(1)) {
        Ok(Some(opts)) => {
            if let Err(e) = run::main(&opts) {
                eprintln!("iotx-coap-load: {e}");
                std::process::exit(1);
            }
        }
        Ok(None) => print!("{}", run::HELP),
        Err(e) => {
            eprintln!("iotx-coap-load: {e} (see --help)");
            std::process::exit(2);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("iotx-coap-load: Linux only (it uses epoll)");
    std::process::exit(2);
}
