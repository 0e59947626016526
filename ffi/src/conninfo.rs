//! `IOT_SetupConnInfo` and `IOT_Ioctl`: the process-wide settings that
//! vendor firmware of the 2.3 and 3.x lines sets around its CoAP calls.
//!
//! The option numbering is the vendor's 3.x `iotx_ioctl_option_t`, whose
//! first eleven values are 2.3's, so one entry point serves both lines.
//! Options that mean something for CoAP take effect or are stored; the
//! others (MQTT/HTTP domains, linkkit replies, OTA, subdevices) return
//! `FAIL_RETURN` and change nothing.
//!
//! The identity stored here (product key, device name, device secret,
//! product secret) fills whatever `IOT_CoAP_Init` finds empty in the
//! config's device info. It never appears in a log line.
#![allow(non_camel_case_types)]

use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_void};
use portable_atomic::{AtomicBool, Ordering};

use iotx_coap::platform::LogLevel;

use crate::boundary::{c_str, guard, hal_log};

const SUCCESS_RETURN: c_int = 0;
const FAIL_RETURN: c_int = -1;

/// `iotx_cloud_region_types_t`. Only Shanghai serves CoAP.
pub type iotx_cloud_region_types_t = c_int;
pub const IOTX_CLOUD_REGION_SHANGHAI: iotx_cloud_region_types_t = 0;
pub const IOTX_CLOUD_REGION_SINGAPORE: iotx_cloud_region_types_t = 1;
pub const IOTX_CLOUD_REGION_JAPAN: iotx_cloud_region_types_t = 2;
pub const IOTX_CLOUD_REGION_USA_WEST: iotx_cloud_region_types_t = 3;
pub const IOTX_CLOUD_REGION_GERMANY: iotx_cloud_region_types_t = 4;
pub const IOTX_CLOUD_REGION_CUSTOM: iotx_cloud_region_types_t = 5;
pub const IOTX_CLOUD_DOMAIN_MAX: iotx_cloud_region_types_t = 6;

/// `iotx_ioctl_option_t` (2.3 values 0..=10, 3.x adds the rest).
pub type iotx_ioctl_option_t = c_int;
pub const IOTX_IOCTL_SET_REGION: iotx_ioctl_option_t = 0;
pub const IOTX_IOCTL_GET_REGION: iotx_ioctl_option_t = 1;
pub const IOTX_IOCTL_SET_MQTT_DOMAIN: iotx_ioctl_option_t = 2;
pub const IOTX_IOCTL_SET_HTTP_DOMAIN: iotx_ioctl_option_t = 3;
pub const IOTX_IOCTL_SET_DYNAMIC_REGISTER: iotx_ioctl_option_t = 4;
pub const IOTX_IOCTL_GET_DYNAMIC_REGISTER: iotx_ioctl_option_t = 5;
pub const IOTX_IOCTL_RECV_PROP_REPLY: iotx_ioctl_option_t = 6;
pub const IOTX_IOCTL_RECV_EVENT_REPLY: iotx_ioctl_option_t = 7;
pub const IOTX_IOCTL_SEND_PROP_REPLY: iotx_ioctl_option_t = 8;
pub const IOTX_IOCTL_SET_SUBDEV_SIGN: iotx_ioctl_option_t = 9;
pub const IOTX_IOCTL_GET_SUBDEV_LOGIN: iotx_ioctl_option_t = 10;
pub const IOTX_IOCTL_SET_OTA_DEV_ID: iotx_ioctl_option_t = 11;
pub const IOTX_IOCTL_FOTA_TIMEOUT_MS: iotx_ioctl_option_t = 12;
pub const IOTX_IOCTL_SET_CUSTOMIZE_INFO: iotx_ioctl_option_t = 13;
pub const IOTX_IOCTL_SET_MQTT_PORT: iotx_ioctl_option_t = 14;
pub const IOTX_IOCTL_SET_AWSS_ENABLE_INTERVAL: iotx_ioctl_option_t = 15;
pub const IOTX_IOCTL_SET_AWSS_CHANNEL_SCAN_INTERVAL: iotx_ioctl_option_t = 16;
pub const IOTX_IOCTL_SET_PROXY_REGISTER: iotx_ioctl_option_t = 17;
pub const IOTX_IOCTL_QUERY_DEVID: iotx_ioctl_option_t = 18;
pub const IOTX_IOCTL_SUB_USER_TOPIC: iotx_ioctl_option_t = 19;
pub const IOTX_IOCTL_SET_PRODUCT_KEY: iotx_ioctl_option_t = 20;
pub const IOTX_IOCTL_GET_PRODUCT_KEY: iotx_ioctl_option_t = 21;
pub const IOTX_IOCTL_SET_PRODUCT_SECRET: iotx_ioctl_option_t = 22;
pub const IOTX_IOCTL_GET_PRODUCT_SECRET: iotx_ioctl_option_t = 23;
pub const IOTX_IOCTL_SET_DEVICE_NAME: iotx_ioctl_option_t = 24;
pub const IOTX_IOCTL_GET_DEVICE_NAME: iotx_ioctl_option_t = 25;
pub const IOTX_IOCTL_SET_DEVICE_SECRET: iotx_ioctl_option_t = 26;
pub const IOTX_IOCTL_GET_DEVICE_SECRET: iotx_ioctl_option_t = 27;

/// A NUL-terminated string of at most `N - 1` bytes.
#[derive(Clone, Copy)]
struct Field<const N: usize>([u8; N]);

impl<const N: usize> Field<N> {
    const EMPTY: Self = Field([0; N]);

    // One scan for the three sizes (and boundary::field's arrays), not one
    // copy per N.
    fn as_bytes(&self) -> &[u8] {
        crate::boundary::until_nul(&self.0)
    }

    fn set(&mut self, bytes: &[u8]) {
        self.0 = [0; N];
        self.0[..bytes.len()].copy_from_slice(bytes);
    }
}

/// What `IOT_SetupConnInfo`/`IOT_Ioctl` stored.
#[derive(Clone, Copy)]
pub(crate) struct Settings {
    product_key: Field<21>,
    device_name: Field<33>,
    device_secret: Field<65>,
    product_secret: Field<65>,
    region: c_int,
    dynamic_register: c_int,
}

impl Settings {
    const INITIAL: Self = Settings {
        product_key: Field::EMPTY,
        device_name: Field::EMPTY,
        device_secret: Field::EMPTY,
        product_secret: Field::EMPTY,
        region: IOTX_CLOUD_REGION_SHANGHAI,
        dynamic_register: 0,
    };

    pub(crate) fn product_key(&self) -> &[u8] {
        self.product_key.as_bytes()
    }
    pub(crate) fn device_name(&self) -> &[u8] {
        self.device_name.as_bytes()
    }
    pub(crate) fn device_secret(&self) -> &[u8] {
        self.device_secret.as_bytes()
    }
}

/// A spin lock: the critical sections are a few hundred bytes of copying,
/// and this must work before (and without) any HAL mutex. The settings live
/// on the heap from the first `IOT_SetupConnInfo`/`IOT_Ioctl` that stores
/// something, so firmware that never calls them pays one pointer of RAM.
struct Store {
    busy: AtomicBool,
    settings: UnsafeCell<Option<Box<Settings>>>,
}

// SAFETY: `settings` is only touched while `busy` is held.
unsafe impl Sync for Store {}

static STORE: Store = Store {
    busy: AtomicBool::new(false),
    settings: UnsafeCell::new(None),
};

fn locked<R>(f: impl FnOnce(&mut Option<Box<Settings>>) -> R) -> R {
    while STORE
        .busy
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    // SAFETY: exclusive while `busy` is held.
    let r = f(unsafe { &mut *STORE.settings.get() });
    STORE.busy.store(false, Ordering::Release);
    r
}

/// Changes the settings (allocating them on first use).
fn with_settings<R>(f: impl FnOnce(&mut Settings) -> R) -> R {
    locked(|s| f(s.get_or_insert_with(|| Box::new(Settings::INITIAL))))
}

/// Reads the settings (the initial ones when nothing was ever stored).
fn read_settings<R>(f: impl FnOnce(&Settings) -> R) -> R {
    locked(|s| f(s.as_deref().unwrap_or(&Settings::INITIAL)))
}

/// A copy of the stored settings (for `IOT_CoAP_Init`).
pub(crate) fn settings() -> Settings {
    read_settings(|s| *s)
}

/// Reads an identity string for a `Field<N>`: NULL, too long or empty is
/// refused.
///
/// # Safety
/// `p` NULL or NUL-terminated.
unsafe fn identity_arg(p: *const c_char, max: usize) -> Option<&'static [u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: NUL-terminated per the contract; bounded scan.
    match unsafe { c_str(p, max) } {
        Ok(b) if !b.is_empty() => Some(b),
        _ => None,
    }
}

/// Stores the device identity used by later `IOT_CoAP_Init` calls whose
/// device info leaves it empty. CoAP has no MQTT connection parameters to
/// return, so a non-NULL `info_ptr` receives NULL. 0 on success, -1 when a
/// string is NULL, empty or longer than its vendor length (nothing is
/// stored then).
///
/// # Safety
/// Strings NULL or NUL-terminated; `info_ptr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn IOT_SetupConnInfo(
    product_key: *const c_char,
    device_name: *const c_char,
    device_secret: *const c_char,
    info_ptr: *mut *mut c_void,
) -> c_int {
    guard(FAIL_RETURN, || {
        if !info_ptr.is_null() {
            // SAFETY: writable per the contract.
            unsafe { *info_ptr = core::ptr::null_mut() };
        }
        // SAFETY: forwarded contract.
        let (Some(pk), Some(dn), Some(ds)) = (
            unsafe { identity_arg(product_key, 20) },
            unsafe { identity_arg(device_name, 32) },
            unsafe { identity_arg(device_secret, 64) },
        ) else {
            hal_log(
                LogLevel::Error,
                &["IOT_SetupConnInfo: product key, device name and device secret are required and must fit 20/32/64 bytes"],
            );
            return FAIL_RETURN;
        };
        with_settings(|s| {
            s.product_key.set(pk);
            s.device_name.set(dn);
            s.device_secret.set(ds);
        });
        SUCCESS_RETURN
    })
}

/// Reads the `int` behind `data`.
///
/// # Safety
/// `data` NULL or pointing to an `int`.
unsafe fn int_arg(data: *mut c_void) -> Option<c_int> {
    // SAFETY: per the contract.
    (!data.is_null()).then(|| unsafe { *(data as *const c_int) })
}

/// Copies `bytes` and a NUL to `out`.
///
/// # Safety
/// `out` writable for `bytes.len() + 1` bytes.
unsafe fn put_str(out: *mut c_void, bytes: &[u8]) {
    let out = out as *mut u8;
    // SAFETY: per the contract.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), out, bytes.len());
        *out.add(bytes.len()) = 0;
    }
}

/// Sets or reads one setting (see `iotx_ioctl_option_t`). Returns 0, or -1
/// for a NULL/invalid value or an option CoAP does not use (nothing
/// changes then). A region other than `IOTX_CLOUD_REGION_SHANGHAI` is
/// refused: only that region serves CoAP.
///
/// # Safety
/// `data` NULL or what the option documents: `int *` for region and
/// dynamic-register options, a NUL-terminated string for `SET_PRODUCT_KEY`
/// and the other identity setters, a buffer of the vendor length + 1 for
/// the identity getters.
#[no_mangle]
pub unsafe extern "C" fn IOT_Ioctl(option: c_int, data: *mut c_void) -> c_int {
    guard(FAIL_RETURN, || {
        if data.is_null() {
            hal_log(LogLevel::Error, &["IOT_Ioctl: NULL data"]);
            return FAIL_RETURN;
        }
        // SAFETY: forwarded contract, per option below.
        unsafe { ioctl(option, data) }
    })
}

unsafe fn ioctl(option: c_int, data: *mut c_void) -> c_int {
    let text = data as *const c_char;
    let set = |max: usize, store: fn(&mut Settings, &[u8])| {
        // SAFETY: the setters take a NUL-terminated string.
        match unsafe { identity_arg(text, max) } {
            Some(b) => {
                with_settings(|s| store(s, b));
                SUCCESS_RETURN
            }
            None => {
                hal_log(
                    LogLevel::Error,
                    &["IOT_Ioctl: identity value empty or too long"],
                );
                FAIL_RETURN
            }
        }
    };
    let get = |read: fn(&Settings) -> &[u8]| {
        read_settings(|s| {
            // SAFETY: the getters take a buffer of the vendor length + 1,
            // and each field holds at most that length.
            unsafe { put_str(data, read(s)) }
        });
        SUCCESS_RETURN
    };
    match option {
        IOTX_IOCTL_SET_REGION => {
            // SAFETY: int * for this option.
            match unsafe { int_arg(data) } {
                Some(IOTX_CLOUD_REGION_SHANGHAI) => {
                    with_settings(|s| s.region = IOTX_CLOUD_REGION_SHANGHAI);
                    SUCCESS_RETURN
                }
                _ => {
                    hal_log(
                        LogLevel::Error,
                        &["IOT_Ioctl: only IOTX_CLOUD_REGION_SHANGHAI (cn-shanghai) serves CoAP"],
                    );
                    FAIL_RETURN
                }
            }
        }
        IOTX_IOCTL_GET_REGION => {
            let region = read_settings(|s| s.region);
            // SAFETY: int * for this option.
            unsafe { *(data as *mut c_int) = region };
            SUCCESS_RETURN
        }
        IOTX_IOCTL_SET_DYNAMIC_REGISTER => {
            // SAFETY: int * for this option.
            match unsafe { int_arg(data) } {
                Some(v @ (0 | 1)) => {
                    with_settings(|s| s.dynamic_register = v);
                    SUCCESS_RETURN
                }
                _ => FAIL_RETURN,
            }
        }
        IOTX_IOCTL_GET_DYNAMIC_REGISTER => {
            let v = read_settings(|s| s.dynamic_register);
            // SAFETY: int * for this option.
            unsafe { *(data as *mut c_int) = v };
            SUCCESS_RETURN
        }
        IOTX_IOCTL_SET_PRODUCT_KEY => set(20, |s, b| s.product_key.set(b)),
        IOTX_IOCTL_SET_DEVICE_NAME => set(32, |s, b| s.device_name.set(b)),
        IOTX_IOCTL_SET_DEVICE_SECRET => set(64, |s, b| s.device_secret.set(b)),
        IOTX_IOCTL_SET_PRODUCT_SECRET => set(64, |s, b| s.product_secret.set(b)),
        IOTX_IOCTL_GET_PRODUCT_KEY => get(|s| s.product_key.as_bytes()),
        IOTX_IOCTL_GET_DEVICE_NAME => get(|s| s.device_name.as_bytes()),
        IOTX_IOCTL_GET_DEVICE_SECRET => get(|s| s.device_secret.as_bytes()),
        IOTX_IOCTL_GET_PRODUCT_SECRET => get(|s| s.product_secret.as_bytes()),
        _ => {
            hal_log(
                LogLevel::Warning,
                &["IOT_Ioctl: option not used by the CoAP client; ignored"],
            );
            FAIL_RETURN
        }
    }
}
