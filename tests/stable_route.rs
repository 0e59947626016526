//! A stable toolchain with a prebuilt `core` builds the C library for bare
//! metal: no cargo configuration that applies to such a build may carry a
//! `-Z` flag or need a nightly feature.
//!
//! rustup cannot download targets on the machines this project is tested
//! on, so the build cannot run to the end here. What it can show: for each
//! bare-metal target, a stable `cargo build` fails only because the target
//! is not installed ("can't find crate for `core`"), never because of a
//! flag or feature. Where the target is installed, the build must succeed.
//! The README's commands for that route, which this test stands for:
//!
//! ```sh
//! rustup target add thumbv7em-none-eabihf
//! cargo build -p iotx-coap-ffi --profile firmware --target thumbv7em-none-eabihf
//! ```

use std::process::Command;

const TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabihf",
    "thumbv8m.main-none-eabihf",
    "riscv32imc-unknown-none-elf",
    "riscv32imac-unknown-none-elf",
];

fn stable_cargo() -> Command {
    let mut c = Command::new("rustup");
    c.args(["run", "stable", "cargo"]);
    c
}

fn installed_targets() -> String {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed", "--toolchain", "stable"])
        .output()
        .expect("rustup (this test drives rustup's stable toolchain)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn stable_firmware_build_needs_only_the_target() {
    let installed = installed_targets();
    let root = env!("CARGO_MANIFEST_DIR");
    let target_dir = std::env::temp_dir().join(format!("iotx-stable-route-{}", std::process::id()));
    for target in TARGETS {
        let out = stable_cargo()
            .args([
                "build",
                "-p",
                "iotx-coap-ffi",
                "--profile",
                "firmware",
                "--target",
                target,
            ])
            .arg("--target-dir")
            .arg(&target_dir)
            .current_dir(root)
            // The route under test: no RUSTFLAGS or RUSTC of the caller's.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("RUSTC")
            .env_remove("RUSTC_BOOTSTRAP")
            .output()
            .expect("rustup run stable cargo");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if installed.lines().any(|l| l.trim() == *target) {
            assert!(
                out.status.success(),
                "{target}: stable build failed:\n{stderr}"
            );
            continue;
        }
        assert!(
            !out.status.success(),
            "{target}: built without its core?\n{stderr}"
        );
        for forbidden in [
            "only accepted on the nightly",
            "-Z",
            "unstable",
            "#![feature",
        ] {
            assert!(
                !stderr.contains(forbidden),
                "{target}: the stable route hit `{forbidden}`:\n{stderr}"
            );
        }
        assert!(
            stderr.contains("can't find crate for `core`"),
            "{target}: failed for another reason than the missing target:\n{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&target_dir);
}
