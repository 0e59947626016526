//! Shared parts of the fuzz targets: a CoAP encoder/decoder for the fake
//! platform's side, an independent PSK oracle, the session harness with its
//! delivery-contract checks, and (for `c_abi`) an in-process fake HAL.

pub mod coap;
pub mod fake_hal;
pub mod session;
/// The PSK oracle, written apart from the library: the test kit's.
pub use iotx_coap_testkit::psk;
