//! `IOT_CoAP_SetTransmission` / `IOT_CoAP_GetTransmission`: the RFC 7252
//! transmission parameters of one context, and the RTT-adaptive timer.
//!
//! An extension of the vendor API (whose structs cannot change layout):
//! declared in `include/iotx_coap_ext.h`, which no vendor header
//! includes, and in the generated `include/iotx_coap.h`. Integers only:
//! ACK_RANDOM_FACTOR is given in thousandths.

use core::ffi::c_int;

use iotx_coap::core::session::Timing;

use crate::boundary::guard;
use crate::context::enter;
use crate::types::*;

/// The transmission parameters of a context (RFC 7252 §4.8). Defaults
/// (what a new context has): 2000, 1500, 4, 0, 30000, 30000. On NB-IoT:
/// `adaptive = 1` with `ack_timeout_ms = 15000` (README "On NB-IoT
/// links").
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct iotx_coap_transmission_t {
    /// ACK_TIMEOUT in ms, 100..=300000 (RFC 7252: 2000). With `adaptive`,
    /// the timeout before the first RTT sample and what an estimate left
    /// unused ages back to.
    pub ack_timeout_ms: u32,
    /// ACK_RANDOM_FACTOR in thousandths, 1000..=4000 (RFC 7252: 1500 = 1.5).
    pub ack_random_factor_permille: u32,
    /// MAX_RETRANSMIT, 1..=10 (RFC 7252: 4).
    pub max_retransmit: u32,
    /// 0: RFC 7252's timer; 1: RTT-adaptive (RTO = SRTT + 4 RTTVAR
    /// measured from ACKs, Karn's rule, 1 s to 60 s, backoff on loss).
    pub adaptive: u32,
    /// How long a CON waits for its separate response after the empty
    /// ACK, ms, 1000..=600000 (30000).
    pub separate_timeout_ms: u32,
    /// How long a NON request waits for a response, ms, 1000..=600000
    /// (30000).
    pub non_lifetime_ms: u32,
}

fn to_timing(t: &iotx_coap_transmission_t) -> Option<Timing> {
    let timing = Timing {
        ack_timeout_ms: t.ack_timeout_ms,
        ack_random_factor_permille: u16::try_from(t.ack_random_factor_permille).ok()?,
        max_retransmit: u8::try_from(t.max_retransmit).ok()?,
        adaptive: match t.adaptive {
            0 => false,
            1 => true,
            _ => return None,
        },
        separate_timeout_ms: t.separate_timeout_ms,
        non_lifetime_ms: t.non_lifetime_ms,
    };
    timing.is_valid().then_some(timing)
}

/// Sets the context's transmission parameters, for requests sent from now
/// on (those in flight keep their timers; a measured RTT is kept).
/// `IOTX_ERR_INVALID_PARAM`, with nothing changed, for a NULL pointer, a
/// dead context, or any value out of its range.
///
/// # Safety
/// `p_context` NULL or a live context; `p_params` NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_SetTransmission(
    p_context: *mut iotx_coap_context_t,
    p_params: *const iotx_coap_transmission_t,
) -> c_int {
    guard(IOTX_ERR_INVALID_PARAM, || {
        // SAFETY: forwarded contract.
        let Some(entered) = (unsafe { enter(p_context) }) else {
            return IOTX_ERR_INVALID_PARAM;
        };
        // SAFETY: NULL or readable per the contract.
        let Some(timing) = (unsafe { p_params.as_ref() }).and_then(to_timing) else {
            return IOTX_ERR_INVALID_PARAM;
        };
        entered.0.client.set_timing(timing);
        IOTX_SUCCESS
    })
}

/// Writes the context's transmission parameters to `*p_params`.
///
/// # Safety
/// `p_context` NULL or a live context; `p_params` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_GetTransmission(
    p_context: *mut iotx_coap_context_t,
    p_params: *mut iotx_coap_transmission_t,
) -> c_int {
    guard(IOTX_ERR_INVALID_PARAM, || {
        // SAFETY: forwarded contract.
        let Some(entered) = (unsafe { enter(p_context) }) else {
            return IOTX_ERR_INVALID_PARAM;
        };
        // SAFETY: NULL or writable per the contract.
        let Some(out) = (unsafe { p_params.as_mut() }) else {
            return IOTX_ERR_INVALID_PARAM;
        };
        let t = entered.0.client.timing();
        *out = iotx_coap_transmission_t {
            ack_timeout_ms: t.ack_timeout_ms,
            ack_random_factor_permille: t.ack_random_factor_permille.into(),
            max_retransmit: t.max_retransmit.into(),
            adaptive: t.adaptive.into(),
            separate_timeout_ms: t.separate_timeout_ms,
            non_lifetime_ms: t.non_lifetime_ms,
        };
        IOTX_SUCCESS
    })
}
