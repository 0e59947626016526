fn main() {
    println!("cargo:rerun-if-changed=csrc");
    cc::Build::new()
        .file("csrc/hal_printf.c")
        .warnings(true)
        .extra_warnings(true)
        .flag("-Werror")
        .compile("iotx_fuzz_hal_printf");
}
