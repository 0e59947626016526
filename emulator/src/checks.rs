//! Checks shared by `/auth` and `/topic` requests, each written once: the
//! query string, Content-Format and Accept options, and the rejection they
//! produce.

use coap_lite::{CoapOption, Packet, ResponseType};

use crate::auth::{CF_CBOR, CF_JSON, CF_OCTET_STREAM};

/// Names known for an event (product key and device name).
#[derive(Default, Clone, Debug)]
pub(crate) struct Who {
    pub pk: Option<String>,
    pub dn: Option<String>,
}

impl Who {
    pub fn named(pk: &str, dn: &str) -> Who {
        Who {
            pk: Some(pk.to_string()),
            dn: Some(dn.to_string()),
        }
    }
}

/// A request refused: the code to answer and the reason to log.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub code: ResponseType,
    pub reason: String,
    pub who: Who,
    /// Answer as a separate response (an `/auth` with `ackMode` 1).
    pub separate: bool,
}

impl Rejection {
    pub fn new(code: ResponseType, reason: impl Into<String>) -> Rejection {
        Rejection {
            code,
            reason: reason.into(),
            who: Who::default(),
            separate: false,
        }
    }

    pub fn bad_request(reason: impl Into<String>) -> Rejection {
        Rejection::new(ResponseType::BadRequest, reason)
    }

    /// The same rejection, naming the device.
    pub fn by(mut self, who: &Who) -> Rejection {
        self.who = who.clone();
        self
    }
}

/// Which of the platform's resources a request is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Auth,
    Topic,
    /// Neither (bad path): rejected before any resource sees it.
    Other,
}

impl Route {
    /// The event logged when a request to this resource is refused.
    pub fn rejected_event(self) -> &'static str {
        match self {
            Route::Auth => "auth_rejected",
            Route::Topic => "uplink_rejected",
            Route::Other => "request_rejected",
        }
    }
}

/// The first value of option `n`.
pub(crate) fn first_opt(pkt: &Packet, n: u16) -> Option<&Vec<u8>> {
    pkt.get_first_option(CoapOption::from(n))
}

/// An unsigned option value (`None` when longer than 4 bytes).
fn opt_uint(v: &[u8]) -> Option<u32> {
    if v.len() > 4 {
        return None;
    }
    Some(v.iter().fold(0u32, |acc, &b| acc << 8 | b as u32))
}

/// The value of a format option (Content-Format 12 or Accept 17):
/// `None` when absent, `Some(u32::MAX)` when unreadable.
fn format_opt(pkt: &Packet, n: u16) -> Option<u32> {
    first_opt(pkt, n).map(|v| opt_uint(v).unwrap_or(u32::MAX))
}

fn is_json_or_cbor(f: u32) -> bool {
    f == CF_JSON as u32 || f == CF_CBOR as u32
}

/// The platform takes no query strings.
pub(crate) fn no_query(pkt: &Packet) -> Result<(), Rejection> {
    match pkt.get_option(CoapOption::UriQuery) {
        Some(_) => Err(Rejection::bad_request("query strings are not supported")),
        None => Ok(()),
    }
}

/// The body's Content-Format: required, JSON (50) or CBOR (60).
pub(crate) fn content_format(pkt: &Packet) -> Result<u16, Rejection> {
    match format_opt(pkt, 12) {
        None => Err(Rejection::new(
            ResponseType::UnsupportedContentFormat,
            "Content-Format missing",
        )),
        Some(cf) if is_json_or_cbor(cf) => Ok(cf as u16),
        Some(cf) => Err(Rejection::new(
            ResponseType::UnsupportedContentFormat,
            format!("Content-Format {cf} not supported (50 json or 60 cbor)"),
        )),
    }
}

/// What the Accept option asked for.
pub(crate) struct Accept {
    /// JSON (50) or CBOR (60); `None` when absent or legacy.
    pub format: Option<u16>,
    /// The vendor SDK's octet-stream (42), let through by `--accept-legacy`.
    pub legacy: bool,
}

/// The Accept option: absent, JSON or CBOR; on `/topic`, the vendor SDK's
/// 42 too when `accept_legacy` is on.
pub(crate) fn accept(pkt: &Packet, route: Route, accept_legacy: bool) -> Result<Accept, Rejection> {
    let legacy_route = route == Route::Topic;
    match format_opt(pkt, 17) {
        None => Ok(Accept {
            format: None,
            legacy: false,
        }),
        Some(a) if is_json_or_cbor(a) => Ok(Accept {
            format: Some(a as u16),
            legacy: false,
        }),
        Some(a) if a == CF_OCTET_STREAM as u32 && legacy_route && accept_legacy => Ok(Accept {
            format: None,
            legacy: true,
        }),
        Some(a) => {
            let hint = if a == CF_OCTET_STREAM as u32 && legacy_route {
                " (the vendor SDK's 42 is accepted only with --accept-legacy)"
            } else {
                ""
            };
            Err(Rejection::new(
                ResponseType::NotAcceptable,
                format!("Accept {a} not supported (50 json or 60 cbor){hint}"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(opts: &[(u16, &[u8])]) -> Packet {
        let mut p = Packet::new();
        for (n, v) in opts {
            p.add_option(CoapOption::from(*n), v.to_vec());
        }
        p
    }

    #[test]
    fn formats() {
        assert_eq!(content_format(&with(&[(12, &[50])])).ok(), Some(50));
        assert_eq!(content_format(&with(&[(12, &[60])])).ok(), Some(60));
        let r = content_format(&with(&[])).err().unwrap();
        assert_eq!(r.reason, "Content-Format missing");
        let r = content_format(&with(&[(12, &[1, 2, 3, 4, 5])]))
            .err()
            .unwrap();
        assert!(r.reason.contains(&u32::MAX.to_string()), "{}", r.reason);
    }

    #[test]
    fn accept_legacy_only_on_topic() {
        let p = with(&[(17, &[42])]);
        assert!(accept(&p, Route::Topic, true).unwrap().legacy);
        let r = accept(&p, Route::Topic, false).err().unwrap();
        assert!(r.reason.contains("--accept-legacy"));
        let r = accept(&p, Route::Auth, true).err().unwrap();
        assert_eq!(r.reason, "Accept 42 not supported (50 json or 60 cbor)");
        assert_eq!(
            accept(&with(&[(17, &[60])]), Route::Auth, false)
                .unwrap()
                .format,
            Some(60)
        );
    }
}
