//! Differential: every input is decoded by the library's zero-copy decoder
//! (`core::message::decode`) and by the reference (coap-lite plus the
//! RFC 7252 rules it leaves out, `iotx_coap_testkit::reference`). They must
//! agree on whether it is a message and, when it is, on every field: type,
//! code, message id, token, each option in order, payload.
#![no_main]
use iotx_coap::core::message::decode;
use iotx_coap_testkit::reference::{self, Decoded};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ours = decode(data)
        .ok()
        .map(|m| Decoded::of(m.ty as u8, m.code, m.mid, m.token, m.options(), m.payload));
    assert_eq!(ours, reference::decode(data), "datagram {data:02x?}");
});
