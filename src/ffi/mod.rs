//! The vendor SDK's C ABI: types of `iot_export.h`/`iot_export_coap.h`
//! ([`types`]), the exported functions (`api`), the 2.3/3.x connection
//! settings (`conninfo`) and the 3.x-only entry points (`v3`).
//! `include/iotx_coap.h` is generated from this module by cbindgen.
pub mod api;
pub mod conninfo;
pub mod types;
pub mod v3;
