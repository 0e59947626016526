//! # iotx-coap-ffi
//!
//! The C library: the vendor SDK's CoAP client ABI (`IOT_CoAP_*`, the log
//! calls, the 2.3/3.x connection settings) over the firmware's own `HAL_*`
//! platform layer, built as `libiotx_coap.a`, without `std`, for
//! microcontrollers and Linux alike. The protocol itself is the
//! `iotx-coap` crate's; this crate is the boundary, in the shape of
//! rustls-ffi: one module per C type or concern.
//!
//! Layers, each using only the ones below it:
//!
//! ```text
//!   v3            3.x entry points (3.0.x device info, tokens)
//!   send          IOT_CoAP_SendMessage
//!   transmission  IOT_CoAP_SetTransmission / GetTransmission (extension)
//!   context       the context: Init, Deinit, DeviceNameAuth, Yield, events
//!   response      the response message and its getters
//!   conninfo      IOT_SetupConnInfo / IOT_Ioctl settings
//!   logging       IOT_OpenLog, IOT_SetLogLevel, IOT_DumpMemoryStats
//!   errors        SendError / AuthError -> IOTX_ERR_*
//!   boundary      guard, C strings, char arrays, the log line
//!   types         the vendor's C types and constants
//!   hal           the Platform over HAL_* (UDP, DTLS, KV, locks, log)
//!   runtime       heap over HAL_Malloc, panic handler (not in the twin)
//! ```
//!
//! `include/iotx_coap.h` is generated from these sources by cbindgen
//! (`tests/header.rs`). The same sources also build as an ordinary `std`
//! rlib, the hosted twin in `hosted/` (cfg `iotx_ffi_hosted`), so Rust
//! harnesses such as the `c_abi` fuzz target can call the ABI in-process.
#![cfg_attr(not(iotx_ffi_hosted), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types, non_snake_case)]
#![warn(clippy::incompatible_msrv)]

extern crate alloc;

pub mod boundary;
pub mod conninfo;
pub mod context;
pub mod errors;
pub mod hal;
pub mod logging;
pub mod response;
#[cfg(not(iotx_ffi_hosted))]
mod runtime;
pub mod send;
pub mod transmission;
pub mod types;
pub mod v3;
