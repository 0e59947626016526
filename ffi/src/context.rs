//! The context (`iotx_coap_context_t`): `IOT_CoAP_Init`, `Deinit`,
//! `DeviceNameAuth` and `Yield`, and the events and responses handed to
//! the application's callbacks.
//!
//! Every pointer from C is checked for NULL; strings are read with a bound;
//! C enums arrive as `c_int` and unknown values are refused; no panic
//! unwinds into C (see [`crate::boundary::guard`]). Callbacks run with no
//! lock held: the client hands events out after it lets go.

use alloc::boxed::Box;
use alloc::string::String;
use core::ffi::{c_int, c_void};
use portable_atomic::{AtomicU32, Ordering};

use iotx_coap::client::{Client, ClientEvent};
use iotx_coap::core::session::{Config, Event};
use iotx_coap::core::sign::SignMethod;
use iotx_coap::core::url;
use iotx_coap::platform::{ConnectError, LogLevel};

use crate::boundary::{c_str, field, guard, hal_log};
use crate::errors::auth_error_code;
use crate::hal::HalPlatform;
use crate::response::ResponseMessage;
use crate::types::*;

/// How long one `IOT_CoAP_Yield` waits when `wait_time_ms` is 0 or negative.
const DEFAULT_WAIT_MS: u32 = 2000;
/// Marks a live context, so a stale or foreign pointer is (usually) refused.
const CONTEXT_MAGIC: u32 = 0x436f_4170; // "CoAp"
/// [`Context::users`]' flag for "Deinit was called".
const CLOSING: u32 = 1 << 31;
/// The device identity (given or stored) is not text.
const NOT_UTF8: &str = "device identity is not UTF-8";
/// Longest URL we scan for its NUL.
const URL_MAX: usize = 512;

/// The application's callback and argument for one uplink.
pub(crate) struct Pending {
    pub(crate) callback: iotx_response_callback_t,
    pub(crate) user_data: *mut c_void,
    /// This uplink's number for `IOT_CoAP_GetCurToken`/`GetMessageToken`.
    pub(crate) token: u32,
}
// SAFETY: the pointers are the application's, handed back to it on whatever
// thread runs Yield, as the vendor API does.
unsafe impl Send for Pending {}

pub(crate) struct Context {
    /// [`CONTEXT_MAGIC`] while the context takes calls; 0 from Deinit on.
    magic: AtomicU32,
    /// Entry points running on this context (a callback runs inside one
    /// and may call Deinit), plus [`CLOSING`] once Deinit was called: the
    /// context is freed by whoever brings this to exactly `CLOSING`.
    users: AtomicU32,
    pub(crate) client: Client<HalPlatform, Pending>,
    event_handle: iotx_event_handle_t,
    /// Tokens handed out so far.
    tokens: AtomicU32,
    /// The token of the most recent uplink (0 before the first).
    pub(crate) last_token: AtomicU32,
}

impl Context {
    /// A fresh token for an uplink; never 0, which means "none yet".
    pub(crate) fn next_token(&self) -> u32 {
        loop {
            let t = self.tokens.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if t != 0 {
                return t;
            }
        }
    }
}

fn log(ctx: &Context, level: LogLevel, parts: &[&str]) {
    ctx.client.log(level, parts);
}

/// # Safety
/// `p` NULL or a pointer returned by `IOT_CoAP_Init` and not yet freed.
pub(crate) unsafe fn context<'a>(p: *mut iotx_coap_context_t) -> Option<&'a Context> {
    if p.is_null() {
        return None;
    }
    // SAFETY: per the contract; the magic catches most stale pointers.
    let c = unsafe { &*(p as *const Context) };
    (c.magic.load(Ordering::Acquire) == CONTEXT_MAGIC).then_some(c)
}

/// A running entry point's claim on its context: the context outlives it,
/// even if a callback calls `IOT_CoAP_Deinit` meanwhile.
pub(crate) struct Entered<'a>(pub(crate) &'a Context);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        if self.0.users.fetch_sub(1, Ordering::AcqRel) == CLOSING | 1 {
            // SAFETY: Deinit was called and this was the last entry point
            // running: nothing else refers to the context any more.
            unsafe { teardown(self.0 as *const Context as *mut Context) }
        }
    }
}

/// `context` for an entry point that may run callbacks.
///
/// # Safety
/// As [`context`].
pub(crate) unsafe fn enter<'a>(p: *mut iotx_coap_context_t) -> Option<Entered<'a>> {
    // SAFETY: forwarded contract.
    let ctx = unsafe { context(p) }?;
    let entered = Entered(ctx);
    if ctx.users.fetch_add(1, Ordering::AcqRel) & CLOSING != 0 {
        return None; // dropping `entered` may finish a pending teardown
    }
    Some(entered)
}

/// Ends a context: every request still waiting is reported once (its
/// `SEND_FAILED` event, or `AUTH_FAILED` for an auth), then it is freed.
///
/// # Safety
/// `p` came from `IOT_CoAP_Init`, Deinit was called on it, and no entry
/// point is running on it any more.
unsafe fn teardown(p: *mut Context) {
    // SAFETY: per the contract, this is the last reference.
    let ctx = unsafe { Box::from_raw(p) };
    ctx.client.abort_all(&mut |e| dispatch(&ctx, e));
}

/// Creates a client and opens its transport (for `coaps://`, the DTLS
/// session). NULL on any failure, with the reason in the log.
///
/// # Safety
/// `p_config` NULL or a valid config whose `p_devinfo` points to at least an
/// `iotx_deviceinfo_t` and whose `p_url` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_Init(
    p_config: *mut iotx_coap_config_t,
) -> *mut iotx_coap_context_t {
    guard(core::ptr::null_mut(), || {
        // SAFETY: forwarded contract.
        unsafe { init(p_config, read_devinfo_v2) }
    })
}

/// The identity fields of a config's device info, as read from whichever
/// vendor layout the caller was compiled against.
pub(crate) struct DeviceFields {
    pub(crate) product_key: Option<String>,
    pub(crate) device_name: Option<String>,
    pub(crate) device_id: Option<String>,
    pub(crate) device_secret: Option<String>,
}

/// The 2.x (and 3.1+) layout: `iotx_deviceinfo_t`'s four fields.
///
/// # Safety
/// `p` points to at least an `iotx_deviceinfo_t`.
unsafe fn read_devinfo_v2(p: *const c_void) -> DeviceFields {
    // Applications pass an iotx_deviceinfo_t cast to iotx_device_info_t *:
    // read only the four-field prefix they really allocated.
    // SAFETY: per the contract.
    let dev = unsafe { &*(p as *const iotx_deviceinfo_t) };
    DeviceFields {
        product_key: field(&dev.product_key),
        device_name: field(&dev.device_name),
        device_id: field(&dev.device_id),
        device_secret: field(&dev.device_secret),
    }
}

/// Creates a context from `p_config`, reading its device info with
/// `read_devinfo`; NULL on failure.
///
/// # Safety
/// As `IOT_CoAP_Init`, with `p_devinfo` in the layout `read_devinfo` reads.
pub(crate) unsafe fn init(
    p_config: *mut iotx_coap_config_t,
    read_devinfo: unsafe fn(*const c_void) -> DeviceFields,
) -> *mut iotx_coap_context_t {
    // SAFETY: forwarded contract.
    unsafe { new_context(p_config, read_devinfo) }.map_or(core::ptr::null_mut(), |c| {
        Box::into_raw(c) as *mut iotx_coap_context_t
    })
}

/// `stored` when `given` is empty: the identity set through
/// `IOT_SetupConnInfo`/`IOT_Ioctl` fills what the device info leaves out.
fn or_stored(given: String, stored: &[u8]) -> Option<String> {
    if given.is_empty() {
        String::from_utf8(stored.to_vec()).ok()
    } else {
        Some(given)
    }
}

unsafe fn new_context(
    p_config: *mut iotx_coap_config_t,
    read_devinfo: unsafe fn(*const c_void) -> DeviceFields,
) -> Option<Box<Context>> {
    let fail = |why: &str| {
        hal_log(LogLevel::Error, &["IOT_CoAP_Init: ", why]);
        None
    };
    // SAFETY: NULL or valid, the caller's promise.
    let Some(cfg) = (unsafe { p_config.as_ref() }).filter(|c| !c.p_devinfo.is_null()) else {
        return fail("NULL config or p_devinfo");
    };
    // SAFETY: non-NULL, in the reader's layout per the contract.
    let dev = unsafe { read_devinfo(cfg.p_devinfo as *const c_void) };
    let (Some(pk), Some(dn), Some(id), Some(secret)) = (
        dev.product_key,
        dev.device_name,
        dev.device_id,
        dev.device_secret,
    ) else {
        return fail(NOT_UTF8);
    };
    let stored = crate::conninfo::settings();
    let (Some(pk), Some(dn), Some(secret)) = (
        or_stored(pk, stored.product_key()),
        or_stored(dn, stored.device_name()),
        or_stored(secret, stored.device_secret()),
    ) else {
        return fail(NOT_UTF8);
    };
    if pk.is_empty() || dn.is_empty() || secret.is_empty() {
        return fail("product key, device name and secret are required");
    }
    let endpoint = if cfg.p_url.is_null() {
        url::default_endpoint(&pk)
    } else {
        // SAFETY: NUL-terminated per the contract; scan is bounded.
        let raw = unsafe { c_str(cfg.p_url, URL_MAX) }.unwrap_or(b"");
        match core::str::from_utf8(raw).ok().map(url::parse) {
            Some(Ok(e)) => e,
            _ => return fail("bad URL (want coap://, coap-psk:// or coaps://host[:port])"),
        }
    };
    let client_id = (!id.is_empty()).then_some(id);
    let mut sc = Config::with_identity(pk, dn, client_id, secret, endpoint.security);
    // hmacmd5, as the vendor SDK signs and the platform guide defaults to.
    sc.sign_method = SignMethod::HmacMd5;
    let wait = if cfg.wait_time_ms > 0 {
        cfg.wait_time_ms as u32
    } else {
        DEFAULT_WAIT_MS
    };
    let platform = HalPlatform::default();
    let client = match Client::connect(platform, endpoint, sc, wait) {
        Ok(c) => c,
        // Named, with the likely cause, by Client::connect.
        Err(ConnectError::Handshake) => return None,
        Err(ConnectError::Unsupported) => return fail("scheme not in this build"),
        Err(ConnectError::Unreachable) => return fail("cannot reach the host"),
    };
    Some(Box::new(Context {
        magic: AtomicU32::new(CONTEXT_MAGIC),
        users: AtomicU32::new(0),
        client,
        event_handle: cfg.event_handle,
        tokens: AtomicU32::new(0),
        last_token: AtomicU32::new(0),
    }))
}

/// Ends the context and sets `*p_context` to NULL. NULL-safe; a second
/// call through the same `**` is a no-op. Requests still waiting get their
/// one outcome first: `SEND_FAILED` (with their `user_data`) through the
/// event handler, or `AUTH_FAILED` for an auth in progress.
///
/// Called from a callback (inside `IOT_CoAP_Yield`, `DeviceNameAuth` or
/// `SendMessage` on the same context), it returns at once: the calling
/// entry point reads nothing more and ends the context when the callback
/// returns (answers already received in that turn are still delivered).
/// Either way the context takes no calls from the moment Deinit is called
/// (they return `IOTX_ERR_INVALID_PARAM`).
///
/// # Safety
/// `p_context` NULL or pointing to NULL or to a context from
/// `IOT_CoAP_Init`, not already ended.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_Deinit(p_context: *mut *mut iotx_coap_context_t) {
    guard((), || {
        if p_context.is_null() {
            return;
        }
        // SAFETY: non-NULL per the contract.
        let p = unsafe { *p_context };
        // SAFETY: as above.
        let Some(ctx) = (unsafe { context(p) }) else {
            return;
        };
        if ctx.magic.swap(0, Ordering::AcqRel) != CONTEXT_MAGIC {
            return; // another thread's Deinit got there first
        }
        // SAFETY: non-NULL per the contract.
        unsafe { *p_context = core::ptr::null_mut() };
        ctx.client.close();
        if ctx.users.fetch_or(CLOSING, Ordering::AcqRel) == 0 {
            // SAFETY: no entry point runs on it: this call ends it.
            unsafe { teardown(p as *mut Context) }
        }
    })
}

/// Delivers driver events to the application's callbacks (no lock held).
fn dispatch(ctx: &Context, ev: ClientEvent<Pending>) {
    let notify = |event: iotx_coap_event_t, data: *mut c_void| {
        if let Some(h) = ctx.event_handle {
            // SAFETY: the application's callback with its own data.
            unsafe { h(ctx as *const Context as *mut c_void, event, data) };
        }
    };
    match ev {
        ClientEvent::Session(Event::Response {
            user,
            code,
            mut payload,
        }) => {
            let len = payload.len();
            payload.push(0);
            let msg = ResponseMessage::new(code, payload.as_ptr(), len, user.token);
            if let Some(cb) = user.callback {
                // SAFETY: msg outlives the call, as documented.
                unsafe {
                    cb(
                        user.user_data,
                        &msg as *const ResponseMessage as *mut c_void,
                    )
                };
            }
        }
        ClientEvent::Session(Event::SendFailed { user }) => {
            log(ctx, LogLevel::Warning, &["no response: SEND_FAILED"]);
            notify(IOTX_COAP_EVENT_SEND_FAILED, user.user_data);
        }
        ClientEvent::Session(Event::AuthFailed { .. }) => {
            log(ctx, LogLevel::Error, &["re-authentication failed"]);
            notify(IOTX_COAP_EVENT_AUTH_FAILED, core::ptr::null_mut());
        }
        ClientEvent::Session(Event::Authenticated) => {
            log(ctx, LogLevel::Info, &["re-authenticated"])
        }
        // The client logs each failed attempt itself.
        ClientEvent::ConnectFailed(_) => notify(IOTX_COAP_EVENT_RECV_FAILED, core::ptr::null_mut()),
        ClientEvent::RecvFailed(_) => {
            log(ctx, LogLevel::Debug, &["receive failed"]);
            notify(IOTX_COAP_EVENT_RECV_FAILED, core::ptr::null_mut());
        }
    }
}

/// Authenticates with the platform; blocks until it answers or the
/// request times out.
///
/// # Safety
/// `p_context` NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_DeviceNameAuth(p_context: *mut iotx_coap_context_t) -> c_int {
    guard(IOTX_ERR_AUTH_FAILED, || {
        // SAFETY: forwarded contract.
        let Some(entered) = (unsafe { enter(p_context) }) else {
            return IOTX_ERR_INVALID_PARAM;
        };
        let ctx = entered.0;
        match ctx.client.authenticate(&mut |e| dispatch(ctx, e)) {
            Ok(()) => IOTX_SUCCESS,
            Err(e) => {
                // After a Deinit from a callback, the teardown reports it.
                let live = ctx.magic.load(Ordering::Acquire) == CONTEXT_MAGIC;
                if let Some(h) = ctx.event_handle.filter(|_| live) {
                    // SAFETY: the application's callback.
                    unsafe {
                        h(
                            p_context,
                            IOTX_COAP_EVENT_AUTH_FAILED,
                            core::ptr::null_mut(),
                        )
                    };
                }
                auth_error_code(&e)
            }
        }
    })
}

/// Receives and dispatches responses, retransmits, times out. Waits up to
/// `wait_time_ms` for traffic when idle.
///
/// # Safety
/// `p_context` NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_Yield(p_context: *mut iotx_coap_context_t) -> c_int {
    guard(IOTX_ERR_INVALID_PARAM, || {
        // SAFETY: forwarded contract.
        let Some(entered) = (unsafe { enter(p_context) }) else {
            return IOTX_ERR_INVALID_PARAM;
        };
        let ctx = entered.0;
        ctx.client.poll(&mut |e| dispatch(ctx, e));
        IOTX_SUCCESS
    })
}
