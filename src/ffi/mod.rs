//! The vendor SDK's C ABI: types of `iot_export.h`/`iot_export_coap.h`
//! ([`types`]) and the exported functions (`api`). `include/iotx_coap.h`
//! is generated from this module by cbindgen.
pub mod api;
pub mod types;
