//! `iotx-coap-sim`: see `--help`.

use std::io::Write;
use std::sync::mpsc;

use iotx_coap_sim::config::{parse_args, Command, HELP};
use serde_json::json;

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
    let human = cfg.human;
    let logs_to_stdout = cfg.log == iotx_coap_sim::LogTarget::Stdout;
    let sim = match iotx_coap_sim::start(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("iotx-coap-sim: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let addr = |a: Option<std::net::SocketAddr>| a.map(|a| a.to_string());
    let listening = json!({
        "event": "listening",
        "plain": addr(sim.try_plain_addr()),
        "psk": addr(sim.try_psk_addr()),
        "dtls": null,
    });
    {
        // Always the first stdout line, even with --log.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", iotx_coap_sim::log::to_line(&listening));
        let _ = out.flush();
    }
    if human {
        eprintln!("{}", iotx_coap_sim::log::human_line(&listening));
    }
    let (tx, rx) = mpsc::channel();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = tx.send(());
    }) {
        eprintln!("iotx-coap-sim: cannot install the signal handler: {e}");
    }
    let _ = rx.recv();
    let stats = sim.stats();
    let fields = serde_json::to_value(stats).unwrap_or_default();
    sim.emit("stats", fields.clone());
    if !logs_to_stdout {
        let mut v = json!({"event": "stats"});
        if let (Some(o), serde_json::Value::Object(f)) = (v.as_object_mut(), fields) {
            o.extend(f);
        }
        println!("{}", iotx_coap_sim::log::to_line(&v));
    }
    sim.stop();
}
