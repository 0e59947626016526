//! The sans-IO session in PSK mode (encrypted seq and payloads): see
//! `iotx_coap_fuzz::session`.
#![no_main]
use iotx_coap::core::url::Security;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: iotx_coap_fuzz::session::Input| {
    iotx_coap_fuzz::session::run(Security::Psk, &input);
});
