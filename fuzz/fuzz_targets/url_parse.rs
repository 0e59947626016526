//! `core::url::parse` on arbitrary text. Besides "no panic", what is
//! accepted must be what the URL says:
//! * the scheme (any case) names the security mode;
//! * the host is a non-empty piece of the URL, free of the delimiters
//!   `/?#@ []`, with a `:` only when it was written in brackets (IPv6);
//! * the port is 1..=65535, the mode's default when none is written;
//! * printing the endpoint back as `scheme://host:port` parses to the same
//!   endpoint, with or without a trailing `/`.
#![no_main]
use iotx_coap::core::url::{parse, Security};
use libfuzzer_sys::fuzz_target;

fn scheme(s: Security) -> &'static str {
    match s {
        Security::Dtls => "coaps://",
        Security::Psk => "coap-psk://",
        Security::Plain => "coap://",
    }
}

fuzz_target!(|url: &str| {
    let Ok(ep) = parse(url) else { return };
    let prefix = scheme(ep.security);
    assert!(
        url.len() >= prefix.len() && url[..prefix.len()].eq_ignore_ascii_case(prefix),
        "{url:?} parsed as {:?}",
        ep.security
    );
    assert!(!ep.host.is_empty(), "{url:?}: empty host");
    assert!(
        url.contains(ep.host.as_str()),
        "{url:?}: host {:?} not in it",
        ep.host
    );
    assert!(
        !ep.host.bytes().any(|b| b"/?#@ []".contains(&b)),
        "{url:?}: host {:?} holds a delimiter",
        ep.host
    );
    if ep.host.contains(':') {
        assert!(
            url.contains(&format!("[{}]", ep.host)),
            "{url:?}: unbracketed IPv6 host"
        );
    }
    assert!(ep.port >= 1);
    let rest = &url[prefix.len()..];
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    let bare_host = authority == ep.host || authority == format!("[{}]", ep.host);
    if bare_host {
        assert_eq!(
            ep.port,
            ep.security.default_port(),
            "{url:?}: no port written"
        );
    } else {
        let digits = authority.rsplit(':').next().unwrap_or_default();
        assert_eq!(
            digits.parse::<u32>().ok(),
            Some(u32::from(ep.port)),
            "{url:?}: port is not the digits after the last ':'"
        );
    }
    let host = if ep.host.contains(':') {
        format!("[{}]", ep.host)
    } else {
        ep.host.clone()
    };
    let printed = format!("{prefix}{host}:{}", ep.port);
    assert_eq!(
        parse(&printed).as_ref(),
        Ok(&ep),
        "{url:?} printed as {printed:?}"
    );
    assert_eq!(
        parse(&format!("{printed}/")).as_ref(),
        Ok(&ep),
        "{printed:?} with a trailing /"
    );
});
