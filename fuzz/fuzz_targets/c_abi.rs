//! The C ABI (`IOT_CoAP_*`, `IOT_Ioctl`, `IOT_SetupConnInfo`) called as a
//! careless or hostile application would: NULLs, garbage lengths, garbage
//! structs and pointers into readable memory that is not what they should
//! be, over the fake HAL of `iotx_coap_fuzz::fake_hal` (plain, PSK and DTLS
//! "sockets" fed with fuzzed and derived datagrams). Well-formed uplinks are
//! common (`Call::Uplink`), each answered by the fake server per its fuzzed
//! policy: an ACK with any code, silence, RST, an empty ACK then a separate
//! CON/NON answer, the answer twice, or only to a retransmission.
//!
//! Checked: every call returns a code its documentation allows (and the
//! specific one for NULL/invalid arguments); no panic anywhere (the
//! libFuzzer panic hook aborts even on a panic the library would catch);
//! each message's response callback or SEND_FAILED event comes at most
//! once, only for a message `IOT_CoAP_SendMessage` accepted, and with its
//! own `user_data`; after the clock runs past every deadline each accepted
//! CON has had exactly one; Deinit releases every socket, session and
//! mutex the context took.
#![no_main]

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uchar, c_void};

use arbitrary::Arbitrary;
use iotx_coap_ffi::conninfo::{IOT_Ioctl, IOT_SetupConnInfo};
use iotx_coap_ffi::context::*;
use iotx_coap_ffi::logging::*;
use iotx_coap_ffi::response::*;
use iotx_coap_ffi::send::*;
use iotx_coap_ffi::types::*;
use iotx_coap_fuzz::coap::{self, decode_sent};
use iotx_coap_fuzz::fake_hal::{self, ReadFault, State};
use iotx_coap_fuzz::psk;
use iotx_coap_fuzz::session::{DN, PK, SECRET};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    seed: u64,
    url: Url,
    dev: Dev,
    wait_time_ms: i16,
    null_config: bool,
    null_devinfo: bool,
    /// Settings calls before Init (the identity may come from them).
    setup: Vec<Call>,
    auth: AuthMode,
    ops: Vec<Call>,
}

#[derive(Arbitrary, Debug)]
enum Url {
    Plain,
    Psk,
    Dtls,
    Null,
    Text(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Dev {
    Proper,
    /// Whole struct of fuzz bytes (not necessarily NUL-terminated fields).
    Garbage(Vec<u8>),
    /// Proper, with empty fields filled from `IOT_Ioctl`/`SetupConnInfo`.
    Empty,
}

#[derive(Arbitrary, Debug, Clone)]
enum AuthMode {
    Proper { token: u32, random: u64 },
    Code(u8, Vec<u8>),
    Silent,
}

#[derive(Arbitrary, Debug)]
enum Call {
    /// A well-formed uplink with a response callback, as an application
    /// sends it (so that exchanges, and their outcomes, are common).
    Uplink {
        con: bool,
        cbor: bool,
        payload_len: u8,
        reply: Reply,
    },
    Send {
        null_ctx: bool,
        path: Path,
        null_msg: bool,
        msg_type: i32,
        content_type: i32,
        payload_len: u16,
        null_payload: bool,
        callback: bool,
    },
    Yield {
        null_ctx: bool,
    },
    Auth {
        null_ctx: bool,
    },
    /// A garbage context: readable memory that is not a context.
    GarbageCtx(Vec<u8>),
    /// Getters outside a callback, on NULL or a garbage message.
    GetOutside(Vec<u8>, bool),
    Ioctl {
        option: i32,
        data: Vec<u8>,
        null: bool,
    },
    SetupConnInfo {
        pk: Option<Vec<u8>>,
        dn: Option<Vec<u8>>,
        ds: Option<Vec<u8>>,
        info: bool,
    },
    /// Answers the `which`-th request sent so far (derived datagram).
    Answer {
        which: u16,
        ty: u8,
        code: u8,
        mid: u16,
        same_token: bool,
        payload: Vec<u8>,
        encrypt: bool,
    },
    AutoAnswer(Option<u8>),
    Raw(Vec<u8>),
    ReadFault(bool),
    CreateFails(bool),
    Advance(u16),
    SetLogLevel(i32),
    DumpMemoryStats(i32),
}

/// How the fake server treats one uplink (every transmission of its
/// message id).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Reply {
    /// Piggybacked answer with this code.
    Ack(u8),
    Silent,
    Rst,
    /// Empty ACK, then the answer as a CON (true) or NON with its own id.
    Separate(u8, bool),
    /// The answer, twice.
    Twice(u8),
    /// Nothing to the first transmission, the answer to the others.
    Late(u8),
}

#[derive(Arbitrary, Debug)]
enum Path {
    Proper,
    Null,
    Text(Vec<u8>),
    Long(u16),
}

/// The outcome bookkeeping the callbacks write to.
#[derive(Default)]
struct Book {
    /// Accepted messages: (CON with a response callback?, outcomes). A
    /// CON without a callback has an outcome only when it fails.
    sent: HashMap<usize, (bool, u32)>,
    /// `user_data` of the message being sent (not accepted yet).
    in_send: Option<usize>,
    ctx: usize,
}

thread_local! {
    static BOOK: RefCell<Book> = RefCell::new(Book::default());
}

/// The harness's view of the server: auth answer mode, uplink auto-answer,
/// and the PSK key of the reply it gave.
struct Server {
    auth: AuthMode,
    auto: Option<u8>,
    /// The reply policy of the uplink being sent, then of its message id.
    next: Option<Reply>,
    policies: HashMap<u16, (Reply, u32)>,
    next_mid: u16,
    key: Option<[u8; 16]>,
    psk: bool,
}

static SERVER: std::sync::Mutex<Option<Server>> = std::sync::Mutex::new(None);

fn server<R>(f: impl FnOnce(&mut Server) -> R) -> Option<R> {
    SERVER
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_mut()
        .map(f)
}

/// Answers what the library writes: its `/auth` per the auth mode, its
/// uplinks per their reply policy (the auto-answer code for those sent by
/// `Call::Send`).
fn on_write(hal: &mut State, d: &[u8]) {
    let s = decode_sent(d);
    if !s.is_request() {
        return;
    }
    let replies = server(|srv| {
        if s.is_auth() {
            auth_reply(srv, &s)
        } else {
            uplink_reply(srv, &s)
        }
    });
    hal.inbox.extend(replies.into_iter().flatten());
}

fn auth_reply(srv: &mut Server, s: &coap::Sent) -> Vec<Vec<u8>> {
    let body = match &srv.auth {
        AuthMode::Proper { token, random } if srv.psk => {
            let random = format!("{random:016x}");
            srv.key = Some(psk::derive(SECRET, &random));
            format!(r#"{{"token":"t{token}","random":"{random}","seqOffset":3}}"#).into_bytes()
        }
        AuthMode::Proper { token, .. } => format!(r#"{{"token":"t{token}"}}"#).into_bytes(),
        AuthMode::Code(code, body) => {
            return vec![coap::encode(2, *code, s.mid, &s.token, &[], body, false)]
        }
        AuthMode::Silent => return Vec::new(),
    };
    vec![coap::encode(2, 0x45, s.mid, &s.token, &[], &body, false)]
}

fn uplink_reply(srv: &mut Server, s: &coap::Sent) -> Vec<Vec<u8>> {
    let auto = srv.auto.map_or(Reply::Silent, Reply::Ack);
    let fresh = srv.next.take().unwrap_or(auto);
    let (policy, count) = srv.policies.entry(s.mid).or_insert((fresh, 0));
    *count += 1;
    let (policy, count) = (*policy, *count);
    let body = match srv.key {
        Some(k) => psk::encrypt(&k, b"{\"code\":200}"),
        None => b"{\"code\":200}".to_vec(),
    };
    let ack = |code| coap::encode(2, code, s.mid, &s.token, &[], &body, false);
    match policy {
        Reply::Ack(code) => vec![ack(code)],
        Reply::Silent => Vec::new(),
        Reply::Rst => vec![coap::encode(3, 0, s.mid, &[], &[], &[], false)],
        Reply::Separate(code, con) => {
            srv.next_mid = srv.next_mid.wrapping_add(1);
            vec![
                coap::encode(2, 0, s.mid, &[], &[], &[], false),
                coap::encode(
                    u8::from(!con),
                    code,
                    srv.next_mid,
                    &s.token,
                    &[],
                    &body,
                    false,
                ),
            ]
        }
        Reply::Twice(code) => vec![ack(code), ack(code)],
        Reply::Late(code) if count > 1 => vec![ack(code)],
        Reply::Late(_) => Vec::new(),
    }
}

unsafe extern "C" fn on_response(arg: *mut c_void, msg: *mut c_void) {
    let id = arg as usize;
    let mut payload: *mut c_uchar = std::ptr::null_mut();
    let mut len: c_int = -1;
    let mut code: iotx_coap_resp_code_t = -1;
    // SAFETY: msg as given to the callback; out-pointers are locals or NULL.
    unsafe {
        assert_eq!(
            IOT_CoAP_GetMessagePayload(msg, &mut payload, &mut len),
            IOTX_SUCCESS
        );
        assert_eq!(IOT_CoAP_GetMessageCode(msg, &mut code), IOTX_SUCCESS);
        assert_eq!(
            IOT_CoAP_GetMessagePayload(msg, std::ptr::null_mut(), &mut len),
            IOTX_ERR_INVALID_PARAM
        );
        assert_eq!(
            IOT_CoAP_GetMessagePayload(msg, &mut payload, std::ptr::null_mut()),
            IOTX_ERR_INVALID_PARAM
        );
        assert_eq!(
            IOT_CoAP_GetMessageCode(msg, std::ptr::null_mut()),
            IOTX_ERR_INVALID_PARAM
        );
        assert!(
            len >= 0 && !payload.is_null(),
            "payload {payload:?} len {len}"
        );
        // Readable to its end, and NUL-terminated just past it.
        let bytes = std::slice::from_raw_parts(payload, len as usize + 1);
        assert_eq!(bytes[len as usize], 0, "payload not followed by a NUL");
    }
    assert!((0..=0xff).contains(&code), "code {code:#x}");
    assert!(
        (2..=5).contains(&(code >> 5)),
        "delivered code {code:#04x} is not a response code"
    );
    outcome(id, "response callback");
}

unsafe extern "C" fn on_event(ctx: *mut c_void, event: iotx_coap_event_t, data: *mut c_void) {
    BOOK.with(|b| {
        let b = b.borrow();
        assert!(
            b.ctx == 0 || ctx as usize == b.ctx,
            "event for another context {ctx:?}"
        );
    });
    match event {
        IOTX_COAP_EVENT_SEND_FAILED => outcome(data as usize, "SEND_FAILED"),
        IOTX_COAP_EVENT_RECV_FAILED | IOTX_COAP_EVENT_AUTH_FAILED => {
            assert!(data.is_null(), "event {event} with data {data:?}")
        }
        other => panic!("undocumented event {other}"),
    }
}

fn outcome(id: usize, what: &str) {
    BOOK.with(|b| {
        let mut b = b.borrow_mut();
        assert!(
            b.in_send != Some(id),
            "{what} for message {id} inside its own SendMessage"
        );
        let Some(entry) = b.sent.get_mut(&id) else {
            panic!("{what} for user_data {id}, never accepted by IOT_CoAP_SendMessage");
        };
        entry.1 += 1;
        assert_eq!(entry.1, 1, "{what}: message {id} got a second outcome");
    });
}

/// NUL-terminated copy of fuzz bytes (interior NULs cut the string short,
/// as C would).
fn c_string(bytes: &[u8], max: usize) -> Vec<u8> {
    let mut v: Vec<u8> = bytes.iter().take(max).copied().collect();
    v.push(0);
    v
}

/// Memory that is readable but is not a live context/message: fuzz bytes
/// with any word equal to a magic number disturbed.
fn garbage(bytes: &[u8], len: usize) -> Vec<u64> {
    const MAGICS: [u32; 2] = [0x436f_4170, 0x4d73_6752];
    let mut v = vec![0u64; len / 8 + 1];
    for (i, b) in bytes.iter().take(len).enumerate() {
        v[i / 8] |= u64::from(*b) << (8 * (i % 8));
    }
    for w in v.iter_mut() {
        for half in [*w as u32, (*w >> 32) as u32] {
            if MAGICS.contains(&half) {
                *w ^= 0x0101_0101_0101_0101;
            }
        }
    }
    v
}

struct Run {
    ctx: *mut iotx_coap_context_t,
    next_id: usize,
    payload_buf: Vec<u8>,
}

impl Run {
    fn ctx_or_null(&self, null: bool) -> *mut iotx_coap_context_t {
        if null {
            std::ptr::null_mut()
        } else {
            self.ctx
        }
    }

    fn call(&mut self, c: &Call) {
        match c {
            Call::Uplink {
                con,
                cbor,
                payload_len,
                reply,
            } => {
                server(|s| s.next = Some(*reply));
                self.call(&Call::Send {
                    null_ctx: false,
                    path: Path::Proper,
                    null_msg: false,
                    msg_type: if *con {
                        IOTX_MESSAGE_CON
                    } else {
                        IOTX_MESSAGE_NON
                    },
                    content_type: if *cbor {
                        IOTX_CONTENT_TYPE_CBOR
                    } else {
                        IOTX_CONTENT_TYPE_JSON
                    },
                    payload_len: u16::from(*payload_len),
                    null_payload: false,
                    callback: true,
                });
                server(|s| s.next = None);
            }
            Call::Send {
                null_ctx,
                path,
                null_msg,
                msg_type,
                content_type,
                payload_len,
                null_payload,
                callback,
            } => {
                let mut path_buf = match path {
                    Path::Proper => c_string(format!("/topic/{PK}/{DN}/update").as_bytes(), 200),
                    Path::Null => Vec::new(),
                    Path::Text(t) => c_string(t, 300),
                    Path::Long(n) => c_string(&vec![b'a'; usize::from(*n % 400)], 400),
                };
                let p_path = if path_buf.is_empty() {
                    std::ptr::null_mut()
                } else {
                    path_buf.as_mut_ptr().cast::<c_char>()
                };
                let len = usize::from(*payload_len) % (self.payload_buf.len() + 1);
                let id = self.next_id;
                self.next_id += 1;
                let mut msg = iotx_message_t {
                    p_payload: if *null_payload {
                        std::ptr::null_mut()
                    } else {
                        self.payload_buf.as_mut_ptr()
                    },
                    payload_len: len as u16,
                    content_type: *content_type % 3,
                    msg_type: *msg_type % 3,
                    user_data: id as *mut c_void,
                    resp_callback: if *callback { Some(on_response) } else { None },
                };
                let p_msg = if *null_msg {
                    std::ptr::null_mut()
                } else {
                    &mut msg as *mut iotx_message_t
                };
                let ctx = self.ctx_or_null(*null_ctx);
                BOOK.with(|b| b.borrow_mut().in_send = Some(id));
                // SAFETY: every pointer is NULL or valid for what it claims.
                let rc = unsafe { IOT_CoAP_SendMessage(ctx, p_path, p_msg) };
                BOOK.with(|b| b.borrow_mut().in_send = None);
                let invalid = ctx.is_null()
                    || p_path.is_null()
                    || p_msg.is_null()
                    || !(0..=1).contains(&msg.msg_type)
                    || !(0..=1).contains(&msg.content_type)
                    || (*null_payload && len > 0);
                if invalid {
                    assert_eq!(
                        rc, IOTX_ERR_INVALID_PARAM,
                        "SendMessage with invalid arguments"
                    );
                } else {
                    assert!(
                        [
                            IOTX_SUCCESS,
                            IOTX_ERR_INVALID_PARAM,
                            IOTX_ERR_NOT_AUTHED,
                            IOTX_ERR_URI_TOO_LOOG,
                            IOTX_ERR_MSG_TOO_LOOG,
                            IOTX_ERR_NO_MEM,
                        ]
                        .contains(&rc),
                        "SendMessage returned {rc}"
                    );
                }
                if rc == IOTX_SUCCESS {
                    let must_end = msg.msg_type == IOTX_MESSAGE_CON && *callback;
                    BOOK.with(|b| b.borrow_mut().sent.insert(id, (must_end, 0)));
                }
                drop(path_buf);
            }
            Call::Yield { null_ctx } => {
                let ctx = self.ctx_or_null(*null_ctx);
                // SAFETY: NULL or the live context.
                let rc = unsafe { IOT_CoAP_Yield(ctx) };
                let want = if ctx.is_null() {
                    IOTX_ERR_INVALID_PARAM
                } else {
                    IOTX_SUCCESS
                };
                assert_eq!(rc, want, "Yield");
            }
            Call::Auth { null_ctx } => {
                let ctx = self.ctx_or_null(*null_ctx);
                // SAFETY: NULL or the live context.
                let rc = unsafe { IOT_CoAP_DeviceNameAuth(ctx) };
                if ctx.is_null() {
                    assert_eq!(rc, IOTX_ERR_INVALID_PARAM);
                } else {
                    assert!(
                        [IOTX_SUCCESS, IOTX_ERR_AUTH_FAILED, IOTX_ERR_SEND_MSG_FAILED]
                            .contains(&rc),
                        "DeviceNameAuth returned {rc}"
                    );
                }
            }
            Call::GarbageCtx(bytes) => {
                let mut g = garbage(bytes, 4096);
                let p = g.as_mut_ptr().cast::<c_void>();
                let mut m = iotx_message_t {
                    p_payload: std::ptr::null_mut(),
                    payload_len: 0,
                    content_type: 0,
                    msg_type: 0,
                    user_data: std::ptr::null_mut(),
                    resp_callback: None,
                };
                let mut path = *b"/topic/x\0";
                let mut pp = p;
                // SAFETY: p is readable for 4 KiB and holds no magic number.
                unsafe {
                    assert_eq!(IOT_CoAP_Yield(p), IOTX_ERR_INVALID_PARAM);
                    assert_eq!(IOT_CoAP_DeviceNameAuth(p), IOTX_ERR_INVALID_PARAM);
                    assert_eq!(
                        IOT_CoAP_SendMessage(p, path.as_mut_ptr().cast(), &mut m),
                        IOTX_ERR_INVALID_PARAM
                    );
                    assert_eq!(
                        iotx_coap_ffi::v3::IOT_CoAP_GetCurToken(p),
                        IOTX_ERR_INVALID_PARAM as u32
                    );
                    IOT_CoAP_Deinit(&mut pp);
                }
                assert_eq!(pp, p, "Deinit of a garbage context must leave it alone");
            }
            Call::GetOutside(bytes, null) => {
                let mut g = garbage(bytes, 256);
                let msg = if *null {
                    std::ptr::null_mut()
                } else {
                    g.as_mut_ptr().cast::<c_void>()
                };
                let mut payload: *mut c_uchar = std::ptr::null_mut();
                let mut len = 0;
                let mut code = 0;
                // SAFETY: msg NULL or readable garbage without the magic.
                unsafe {
                    assert_eq!(
                        IOT_CoAP_GetMessagePayload(msg, &mut payload, &mut len),
                        IOTX_ERR_INVALID_PARAM
                    );
                    assert_eq!(
                        IOT_CoAP_GetMessageCode(msg, &mut code),
                        IOTX_ERR_INVALID_PARAM
                    );
                }
            }
            Call::Ioctl { option, data, null } => {
                // Room for any getter (vendor length + 1) and a NUL within
                // it for the setters.
                let mut buf = vec![0u8; 128];
                let n = data.len().min(100);
                buf[..n].copy_from_slice(&data[..n]);
                let p = if *null {
                    std::ptr::null_mut()
                } else {
                    buf.as_mut_ptr().cast::<c_void>()
                };
                // Spread the option over the real ones (0..=~12) and beyond.
                let option = option % 16;
                // SAFETY: NULL or a 128-byte buffer (int-aligned: Vec<u8> of
                // 128 bytes from the global allocator is 8-aligned).
                let rc = unsafe { IOT_Ioctl(option, p) };
                assert!(rc == 0 || rc == -1, "IOT_Ioctl returned {rc}");
                if *null {
                    assert_eq!(rc, -1);
                }
            }
            Call::SetupConnInfo { pk, dn, ds, info } => {
                let s = |o: &Option<Vec<u8>>| o.as_ref().map(|v| c_string(v, 80));
                let (pk, dn, ds) = (s(pk), s(dn), s(ds));
                let ptr = |o: &Option<Vec<u8>>| {
                    o.as_ref()
                        .map_or(std::ptr::null(), |v| v.as_ptr().cast::<c_char>())
                };
                // Not NULL, so a library that leaves it alone is caught.
                let mut out: *mut c_void = std::ptr::NonNull::<c_void>::dangling().as_ptr();
                let p_out = if *info {
                    &mut out as *mut *mut c_void
                } else {
                    std::ptr::null_mut()
                };
                // SAFETY: NULL or NUL-terminated strings; p_out NULL or writable.
                let rc = unsafe { IOT_SetupConnInfo(ptr(&pk), ptr(&dn), ptr(&ds), p_out) };
                assert!(rc == 0 || rc == -1, "IOT_SetupConnInfo returned {rc}");
                if *info {
                    assert!(out.is_null(), "info_ptr not set to NULL");
                }
            }
            Call::Answer {
                which,
                ty,
                code,
                mid,
                same_token,
                payload,
                encrypt,
            } => {
                fake_hal::with(|hal| {
                    let sent: Vec<_> = hal
                        .outbox
                        .iter()
                        .map(|d| decode_sent(d))
                        .filter(|s| s.is_request())
                        .collect();
                    if sent.is_empty() {
                        return;
                    }
                    let req = &sent[usize::from(*which) % sent.len()];
                    let body = match (encrypt, server(|s| s.key).flatten()) {
                        (true, Some(k)) => psk::encrypt(&k, payload),
                        _ => payload.clone(),
                    };
                    let token = if *same_token {
                        req.token.clone()
                    } else {
                        vec![0xee; 4]
                    };
                    let mid = if ty % 4 >= 2 { req.mid ^ mid } else { *mid };
                    let d = coap::encode(ty % 4, *code, mid, &token, &[], &body, false);
                    hal.inbox.push_back(d);
                });
            }
            Call::AutoAnswer(code) => {
                server(|s| s.auto = *code);
            }
            Call::Raw(bytes) => fake_hal::with(|hal| {
                hal.inbox
                    .push_back(bytes.iter().take(1600).copied().collect())
            }),
            Call::ReadFault(closed) => fake_hal::with(|hal| {
                hal.faults.push_back(if *closed {
                    ReadFault::Closed
                } else {
                    ReadFault::Error
                })
            }),
            Call::CreateFails(f) => fake_hal::with(|hal| hal.create_fails = *f),
            Call::Advance(ms) => fake_hal::with(|hal| hal.now += u64::from(*ms) * 10),
            Call::SetLogLevel(l) => IOT_SetLogLevel(*l),
            Call::DumpMemoryStats(l) => IOT_DumpMemoryStats(*l),
        }
    }

    /// The server falls silent and the clock runs past every deadline; then
    /// each accepted CON must have had its one outcome.
    fn finish(&mut self) {
        server(|s| {
            s.auth = AuthMode::Silent;
            s.auto = None;
        });
        fake_hal::with(|hal| {
            hal.inbox.clear();
            hal.faults.clear();
        });
        for _ in 0..40 {
            fake_hal::with(|hal| hal.now += 20_000);
            // SAFETY: the live context.
            assert_eq!(unsafe { IOT_CoAP_Yield(self.ctx) }, IOTX_SUCCESS);
        }
        BOOK.with(|b| {
            for (id, (must_end, outcomes)) in &b.borrow().sent {
                if *must_end {
                    assert_eq!(
                        *outcomes, 1,
                        "CON message {id} ended with {outcomes} outcomes"
                    );
                }
            }
        });
    }
}

fn devinfo(dev: &Dev) -> iotx_deviceinfo_t {
    let mut d: iotx_deviceinfo_t = unsafe { std::mem::zeroed() };
    let put = |dst: &mut [c_char], s: &str| {
        for (o, b) in dst.iter_mut().zip(s.bytes()) {
            *o = b as c_char;
        }
    };
    match dev {
        Dev::Proper => {
            put(&mut d.product_key, PK);
            put(&mut d.device_name, DN);
            put(&mut d.device_id, &format!("{PK}.{DN}"));
            put(&mut d.device_secret, SECRET);
        }
        Dev::Empty => put(&mut d.device_name, DN),
        Dev::Garbage(bytes) => {
            let size = std::mem::size_of::<iotx_deviceinfo_t>();
            // SAFETY: d is plain bytes of that size.
            let raw = unsafe {
                std::slice::from_raw_parts_mut(
                    (&mut d as *mut iotx_deviceinfo_t).cast::<u8>(),
                    size,
                )
            };
            for (o, b) in raw.iter_mut().zip(bytes.iter().cycle()) {
                *o = *b;
            }
        }
    }
    d
}

fuzz_target!(|input: Input| {
    fake_hal::reset(input.seed);
    BOOK.with(|b| *b.borrow_mut() = Book::default());
    let psk_mode = matches!(input.url, Url::Psk);
    *SERVER.lock().unwrap_or_else(|e| e.into_inner()) = Some(Server {
        auth: input.auth.clone(),
        auto: Some(0x45),
        next: None,
        policies: HashMap::new(),
        next_mid: 0x7000,
        key: None,
        psk: psk_mode,
    });
    fake_hal::with(|hal| hal.on_write = Some(on_write));
    // The stored identity is process-wide: start every run from the same.
    let (pk, dn, ds) = (
        c_string(PK.as_bytes(), 64),
        c_string(DN.as_bytes(), 64),
        c_string(SECRET.as_bytes(), 64),
    );
    // SAFETY: NUL-terminated strings.
    let rc = unsafe {
        IOT_SetupConnInfo(
            pk.as_ptr().cast(),
            dn.as_ptr().cast(),
            ds.as_ptr().cast(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0);
    let mut run = Run {
        ctx: std::ptr::null_mut(),
        next_id: 1,
        payload_buf: vec![b'x'; 1400],
    };
    for c in input.setup.iter().take(8) {
        if matches!(
            c,
            Call::Ioctl { .. } | Call::SetupConnInfo { .. } | Call::SetLogLevel(_)
        ) {
            run.call(c);
        }
    }
    let mut url = match &input.url {
        Url::Plain => Some(c_string(b"coap://127.0.0.1:5683", 64)),
        Url::Psk => Some(c_string(b"coap-psk://127.0.0.1:5682", 64)),
        Url::Dtls => Some(c_string(b"coaps://127.0.0.1:5684", 64)),
        Url::Null => None,
        Url::Text(t) => Some(c_string(t, 600)),
    };
    let mut dev = devinfo(&input.dev);
    let mut cfg = iotx_coap_config_t {
        p_url: url
            .as_mut()
            .map_or(std::ptr::null_mut(), |u| u.as_mut_ptr().cast()),
        wait_time_ms: c_int::from(input.wait_time_ms),
        p_devinfo: if input.null_devinfo {
            std::ptr::null_mut()
        } else {
            (&mut dev as *mut iotx_deviceinfo_t).cast()
        },
        event_handle: Some(on_event),
    };
    let p_cfg = if input.null_config {
        std::ptr::null_mut()
    } else {
        &mut cfg as *mut iotx_coap_config_t
    };
    // SAFETY: NULL or a valid config (the device info has the 4-field layout).
    run.ctx = unsafe { IOT_CoAP_Init(p_cfg) };
    if input.null_config || input.null_devinfo {
        assert!(run.ctx.is_null(), "Init accepted a NULL config/devinfo");
    }
    BOOK.with(|b| b.borrow_mut().ctx = run.ctx as usize);
    if !run.ctx.is_null() {
        // SAFETY: the live context.
        let rc = unsafe { IOT_CoAP_DeviceNameAuth(run.ctx) };
        assert!(
            [IOTX_SUCCESS, IOTX_ERR_AUTH_FAILED, IOTX_ERR_SEND_MSG_FAILED].contains(&rc),
            "auth returned {rc}"
        );
        for c in input.ops.iter().take(128) {
            run.call(c);
        }
        run.finish();
    } else {
        // Everything refuses a NULL context.
        for c in input.ops.iter().take(16) {
            run.call(c);
        }
    }
    let mut ctx = run.ctx;
    // SAFETY: the live context or NULL; the second call must be a no-op.
    unsafe {
        IOT_CoAP_Deinit(&mut ctx);
        assert!(ctx.is_null());
        IOT_CoAP_Deinit(&mut ctx);
        IOT_CoAP_Deinit(std::ptr::null_mut());
    }
    fake_hal::with(|hal| {
        assert_eq!(
            (hal.open_sockets, hal.open_sessions, hal.live_mutexes),
            (0, 0, 0),
            "sockets/sessions/mutexes left after Deinit"
        );
        hal.on_write = None;
    });
});
