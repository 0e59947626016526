//! The vendor-style C sample, built by the real C compiler with
//! `-Wall -Wextra -Werror` against include/, linked with libiotx_coap.a and
//! the reference HAL, run against the emulator process by
//! tests/e2e/example_e2e.sh (the same script ctest runs).

mod common;

use std::process::Command;
use std::time::Duration;

use common::TempDir;

fn example_e2e(mode: &str, valgrind: bool) {
    common::build_lib_and_sim();
    let dir = TempDir::new(&format!("example-{mode}"));
    let exe = dir.join("coap-example");
    let src = common::workspace_root().join("examples-c/coap-example.c");
    common::compile_c(&exe, &[src.as_path()], &[]);
    let script = common::workspace_root().join("tests/e2e/example_e2e.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script).arg(&exe).arg(common::sim_path()).arg(mode);
    if valgrind {
        cmd.arg("valgrind");
    }
    let run = common::run_with_timeout(&mut cmd, Duration::from_secs(240));
    assert!(run.success(), "example_e2e {mode}:\n{}", run.describe());
    assert!(
        run.stdout.contains(&format!("PASS example_e2e {mode}")),
        "{}",
        run.describe()
    );
}

#[test]
fn example_plain() {
    example_e2e("plain", false);
}

#[test]
fn example_psk() {
    example_e2e("psk", false);
}

#[test]
fn example_psk_under_valgrind() {
    example_e2e("psk", true);
}
