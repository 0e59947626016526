//! # iotx-coap
//!
//! A drop-in replacement for the IoT platform vendor SDK's CoAP client.
//!
//! * [`core`]: the protocol as a sans-IO state machine (`no_std` + `alloc`):
//!   URL parsing, auth signing, PSK crypto, message building, exchanges and
//!   retransmission, re-authentication. Bytes and time in, bytes, deadlines
//!   and events out.
//! * [`platform`]: the [`platform::Platform`] trait (transport, clock,
//!   randomness, log), with an implementation over `std::net::UdpSocket`
//!   (feature `std`).
//! * [`client`]: a blocking driver that runs the core over a platform; used
//!   by Rust applications and by the C library.
//!
//! The vendor C ABI (`IOT_CoAP_*` over the firmware's `HAL_*` functions) is
//! the separate `iotx-coap-ffi` crate, which builds `libiotx_coap.a`.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
// Keeps `rust-version` in Cargo.toml honest: clippy (run with -D warnings in
// scripts/test.sh) refuses APIs newer than the declared version.
#![warn(clippy::incompatible_msrv)]

extern crate alloc;

pub mod client;
pub mod core;
mod errors;
pub mod platform;
