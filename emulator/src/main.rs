//! `iotx-coap-sim`: see `--help`.

use std::sync::mpsc;

use iotx_coap_sim::config::{parse_args, Command, HELP};

fn main() {
    let cfg = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(cfg)) => *cfg,
        Ok(Command::Help) => {
            print!("{HELP}");
            return;
        }
        Ok(Command::Version) => {
            println!("iotx-coap-sim {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Err(e) => {
            eprintln!("iotx-coap-sim: {e}");
            std::process::exit(2);
        }
    };
    if cfg.devices.is_empty() {
        // Every /auth would be answered 4.03 without a word here.
        eprintln!(
            "iotx-coap-sim: warning: no device registered: every /auth will be refused \
             with 4.03 (register one with --device PK:DN:SECRET or --devices FILE)"
        );
    }
    // Before the listening line: whoever reads it may signal at once, and a
    // SIGTERM before the handler would end the process without its stats.
    let (tx, rx) = mpsc::channel::<()>();
    let keep = tx.clone();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = tx.send(());
    }) {
        eprintln!("iotx-coap-sim: cannot install the signal handler: {e}");
    }
    // Prints the listening line itself (first stdout line), then serves.
    let sim = match iotx_coap_sim::start(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("iotx-coap-sim: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let _ = rx.recv();
    drop(keep);
    // Stops the listeners, logs the stats line and flushes.
    sim.stop();
}
