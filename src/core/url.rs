//! Endpoint URLs: `coaps://`, `coap-psk://`, `coap://`.

use alloc::string::String;

/// How the payload is protected (docs/protocol.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// `coaps://`: DTLS 1.2 through the platform's `HAL_DTLSSession_*`.
    Dtls,
    /// `coap-psk://`: plain UDP, AES-128-CBC on payload and seq.
    Psk,
    /// `coap://`: nothing (test environments only).
    Plain,
}

impl Security {
    pub const fn default_port(self) -> u16 {
        match self {
            Security::Dtls => 5684,
            Security::Psk => 5682,
            Security::Plain => 5683,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub security: Security,
    pub host: String,
    pub port: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// Not one of `coaps://`, `coap-psk://`, `coap://`.
    Scheme,
    /// Empty host, bad IPv6 brackets, or a path/query/userinfo we don't take.
    Host,
    /// Port not a number in 1..=65535.
    Port,
}

/// Host suffix of the platform's CoAP endpoint; only cn-shanghai serves CoAP.
pub const PLATFORM_HOST_SUFFIX: &str = ".coap.cn-shanghai.link.aliyuncs.com";

/// The endpoint used when the application passes no URL: DTLS on the
/// product's own host.
pub fn default_endpoint(product_key: &str) -> Endpoint {
    let mut host = String::with_capacity(product_key.len() + PLATFORM_HOST_SUFFIX.len());
    host.push_str(product_key);
    host.push_str(PLATFORM_HOST_SUFFIX);
    Endpoint {
        security: Security::Dtls,
        host,
        port: Security::Dtls.default_port(),
    }
}

/// Parses `scheme://host[:port][/]`. IPv6 literals go in brackets.
pub fn parse(url: &str) -> Result<Endpoint, UrlError> {
    let (security, rest) = if let Some(r) = strip_prefix_ci(url, "coaps://") {
        (Security::Dtls, r)
    } else if let Some(r) = strip_prefix_ci(url, "coap-psk://") {
        (Security::Psk, r)
    } else if let Some(r) = strip_prefix_ci(url, "coap://") {
        (Security::Plain, r)
    } else {
        return Err(UrlError::Scheme);
    };
    // A trailing "/" is harmless; any real path or query is not ours to take.
    // Byte searches only: the delimiters are ASCII, so every index found is
    // a char boundary (and no char-pattern machinery reaches the firmware).
    let authority = rest.strip_suffix("/").unwrap_or(rest);
    if authority.is_empty() || has_any(authority, b"/?#@ ") {
        return Err(UrlError::Host);
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix("[") {
        let end = v6.bytes().position(|b| b == b']').ok_or(UrlError::Host)?;
        // `get`, not indexing: the bound is only known from the search above,
        // and a failed slice would link core's char-boundary error path.
        let host = v6.get(..end).ok_or(UrlError::Host)?;
        let after = v6.get(end + 1..).ok_or(UrlError::Host)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(":").ok_or(UrlError::Host)?),
        };
        (host, port)
    } else {
        match authority.bytes().rposition(|b| b == b':') {
            Some(i) => (
                authority.get(..i).ok_or(UrlError::Host)?,
                Some(authority.get(i + 1..).ok_or(UrlError::Host)?),
            ),
            None => (authority, None),
        }
    };
    if host.is_empty()
        || has_any(host, b"[]")
        || (!authority.starts_with("[") && has_any(host, b":"))
    {
        return Err(UrlError::Host);
    }
    let port = match port {
        None => security.default_port(),
        Some(p) => parse_port(p)?,
    };
    Ok(Endpoint {
        security,
        host: String::from(host),
        port,
    })
}

fn parse_port(p: &str) -> Result<u16, UrlError> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::Port);
    }
    let v: u32 = p.bytes().fold(0, |acc, b| acc * 10 + u32::from(b - b'0'));
    if v == 0 || v > 65535 {
        return Err(UrlError::Port);
    }
    Ok(v as u16)
}

fn has_any(s: &str, set: &[u8]) -> bool {
    s.bytes().any(|b| set.contains(&b))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.as_bytes().get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix.as_bytes()) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_default_ports() {
        let e = parse("coap://127.0.0.1").unwrap();
        assert_eq!(
            (e.security, e.host.as_str(), e.port),
            (Security::Plain, "127.0.0.1", 5683)
        );
        let e = parse("coap-psk://h.example:1234/").unwrap();
        assert_eq!(
            (e.security, e.host.as_str(), e.port),
            (Security::Psk, "h.example", 1234)
        );
        let e = parse("COAPS://a1B2.coap.cn-shanghai.link.aliyuncs.com").unwrap();
        assert_eq!((e.security, e.port), (Security::Dtls, 5684));
        let e = parse("coap://[::1]:5699").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 5699));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse("http://x"), Err(UrlError::Scheme));
        assert_eq!(parse("coap://"), Err(UrlError::Host));
        assert_eq!(parse("coap://h:0"), Err(UrlError::Port));
        assert_eq!(parse("coap://h:70000"), Err(UrlError::Port));
        assert_eq!(parse("coap://h:x"), Err(UrlError::Port));
        assert_eq!(parse("coap://h/topic"), Err(UrlError::Host));
        assert_eq!(parse("coap://h?a=b"), Err(UrlError::Host));
        assert_eq!(parse("coap://::1"), Err(UrlError::Host));
    }

    #[test]
    fn default_is_dtls_on_product_host() {
        let e = default_endpoint("a1TestPK001");
        assert_eq!(e.host, "a1TestPK001.coap.cn-shanghai.link.aliyuncs.com");
        assert_eq!((e.security, e.port), (Security::Dtls, 5684));
    }
}
