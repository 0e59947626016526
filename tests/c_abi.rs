//! The public C types against the vendor SDK's figures (sizes, offsets, enum
//! values: static assertions in tests/c/abi_layout.c), compiled as C11 and
//! as C++11, and the headers compiled on their own; the same for the 3.x
//! header sets (tests/c/abi_layout_v3.c).

mod common;

use std::process::Command;
use std::time::Duration;

use common::TempDir;

fn compile_and_run(compiler: &str, std: &str, lang: &[&str], dir: &TempDir, name: &str) {
    let root = common::workspace_root();
    let exe = dir.join(name);
    let mut cc = Command::new(compiler);
    cc.args(lang)
        .arg(format!("-std={std}"))
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(root.join("include"))
        .arg(root.join("tests/c/abi_layout.c"))
        .arg("-o")
        .arg(&exe);
    let build = common::run_with_timeout(&mut cc, Duration::from_secs(120));
    assert!(build.success(), "{compiler} {std}: {}", build.describe());
    let run = common::run_with_timeout(&mut Command::new(&exe), Duration::from_secs(30));
    assert!(
        run.success() && run.stdout.contains("abi_layout OK"),
        "{}",
        run.describe()
    );
}

#[test]
fn layouts_match_the_vendor_abi_in_c() {
    let dir = TempDir::new("abi-c");
    compile_and_run("gcc", "c11", &[], &dir, "abi_c");
}

#[test]
fn layouts_match_the_vendor_abi_in_cpp() {
    let dir = TempDir::new("abi-cpp");
    compile_and_run("g++", "c++11", &["-x", "c++"], &dir, "abi_cpp");
}

/// The 3.x header sets against the vendor's 3.x figures
/// (tests/c/abi_layout_v3.c): `include/v3` (3.1/3.2) and `include/v3.0`
/// (3.0.x, whose device info differs), each alone on the include path.
fn compile_and_run_v3(compiler: &str, std: &str, lang: &[&str], set: &str, name: &str) {
    let root = common::workspace_root();
    let dir = TempDir::new(name);
    let exe = dir.join(name);
    let mut cc = Command::new(compiler);
    cc.args(lang)
        .arg(format!("-std={std}"))
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(root.join("include").join(set))
        .args(if set == "v3.0" {
            &["-DIOTX_ABI_V30"][..]
        } else {
            &[]
        })
        .arg(root.join("tests/c/abi_layout_v3.c"))
        .arg("-o")
        .arg(&exe);
    let build = common::run_with_timeout(&mut cc, Duration::from_secs(120));
    assert!(
        build.success(),
        "{compiler} {std} {set}: {}",
        build.describe()
    );
    let run = common::run_with_timeout(&mut Command::new(&exe), Duration::from_secs(30));
    assert!(
        run.success() && run.stdout.contains("abi_layout_v3") && run.stdout.contains("OK"),
        "{}",
        run.describe()
    );
}

#[test]
fn v3_layouts_match_the_vendor_abi() {
    for set in ["v3", "v3.0"] {
        compile_and_run_v3("gcc", "c11", &[], set, &format!("abi-v3-c-{set}"));
        compile_and_run_v3(
            "g++",
            "c++11",
            &["-x", "c++"],
            set,
            &format!("abi-v3-cpp-{set}"),
        );
    }
}
