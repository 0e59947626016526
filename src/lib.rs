//! # iotx-coap
//!
//! A drop-in replacement for the IoT platform vendor SDK's CoAP client.
//!
//! * [`core`]: the protocol as a sans-IO state machine (`no_std` + `alloc`):
//!   URL parsing, auth signing, PSK crypto, message building, exchanges and
//!   retransmission, re-authentication. Bytes and time in, bytes, deadlines
//!   and events out.
//! * [`platform`]: the [`platform::Platform`] trait (transport, clock,
//!   randomness, log) with an implementation over the firmware's `HAL_*`
//!   functions and one over `std::net::UdpSocket`.
//! * [`client`]: a blocking driver that runs the core over a platform; used
//!   by the C ABI and by Rust applications.
//! * `ffi`: the vendor C ABI (`IOT_CoAP_*`), feature `capi`.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
// Keeps `rust-version` in Cargo.toml honest: clippy (run with -D warnings in
// scripts/test.sh) refuses APIs newer than the declared version.
#![warn(clippy::incompatible_msrv)]

extern crate alloc;

pub mod client;
pub mod core;
pub mod platform;

#[cfg(feature = "capi")]
pub mod ffi;
