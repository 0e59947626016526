//! Test support shared by the library's integration tests (`tests/`), the
//! emulator's tests (`emulator/tests/`) and the fuzz harnesses (`fuzz/`):
//! the test device of `docs/protocol.md`, a PSK oracle written apart from
//! the library's code, and builders of the CoAP answers a fake server sends.

pub mod coap;
pub mod device;
pub mod gen;
pub mod psk;
pub mod reference;
