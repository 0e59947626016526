//! What a `std`-free staticlib needs that `std` would otherwise provide:
//! the heap (the firmware's `HAL_Malloc`), its counters, and the panic
//! handler (bare metal or hosted). Absent from the hosted twin crate
//! (`hosted/`), where the program's `std` provides them.

#[cfg(all(target_arch = "arm", target_os = "none"))]
mod arm_eabi;
#[cfg(target_os = "none")]
mod bare_metal_panic;
mod heap;
pub mod heap_stats;
#[cfg(not(target_os = "none"))]
mod hosted_panic;
