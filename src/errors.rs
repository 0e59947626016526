//! `Display` (and, with `std`, `std::error::Error`) for the crate's error
//! types, in one place. Each message says what went wrong in terms of the
//! device and the platform; none contains a secret. Nothing in the crate
//! formats them itself (the C library logs fixed texts, and firmware
//! carries no `core::fmt`), so they cost nothing unless a program uses them.

use core::fmt;

use crate::client::AuthError;
use crate::core::psk::DecryptError;
#[cfg(feature = "session-store")]
use crate::core::resume::RecordError;
use crate::core::session::{AuthProblem, SendError};
use crate::core::url::UrlError;
use crate::platform::{ConnectError, TransportError};

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::NotAuthed => "not authenticated: authenticate before sending",
            SendError::UriTooLong => "path too long",
            SendError::InvalidPath => "invalid path (no segments, or a query string)",
            SendError::MessageTooLong => "message too long for one datagram",
            SendError::Busy => "too many requests waiting for an answer",
        })
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Rejected(Some(code)) => write!(
                f,
                "the platform refused the auth with {}.{:02}",
                code >> 5,
                code & 0x1f
            ),
            AuthError::Rejected(None) => {
                f.write_str("the platform never answered the auth, or its answer was unusable")
            }
            AuthError::Unreachable => {
                f.write_str("nobody listens at the endpoint (every datagram was refused)")
            }
            AuthError::Connect(e) => write!(f, "cannot connect: {e}"),
        }
    }
}

impl fmt::Display for AuthProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthProblem::NotPskEndpoint => {
                "the endpoint is not a PSK endpoint (no `random` in its answer)"
            }
            AuthProblem::PskEndpoint => "the endpoint is a PSK endpoint: use coap-psk://",
            AuthProblem::UnusableToken => "the auth token is too long to carry in an uplink",
        })
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectError::Unreachable => "cannot resolve the host or open a socket",
            ConnectError::Handshake => "the DTLS session could not be established",
            ConnectError::Unsupported => "this platform cannot speak that security mode",
        })
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportError::Io => "sending or receiving a datagram failed",
            TransportError::Closed => "the secure session was closed",
        })
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::Scheme => "unknown scheme (want coap://, coap-psk:// or coaps://)",
            UrlError::Host => "invalid host (empty, bad IPv6 brackets, or a path, query or user)",
            UrlError::Port => "invalid port (want 1 to 65535)",
        })
    }
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payload does not decrypt with the session key")
    }
}

#[cfg(feature = "session-store")]
impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordError::Length => "stored session record has an impossible length",
            RecordError::Version => "stored session record is of an unknown format",
            RecordError::Mac => "stored session record is corrupt or belongs to another device",
            RecordError::Malformed => "stored session record has inconsistent fields",
        })
    }
}

#[cfg(feature = "std")]
mod std_error {
    use super::*;

    impl std::error::Error for SendError {}
    impl std::error::Error for AuthError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            match self {
                AuthError::Connect(e) => Some(e),
                _ => None,
            }
        }
    }
    impl std::error::Error for AuthProblem {}
    impl std::error::Error for ConnectError {}
    impl std::error::Error for TransportError {}
    impl std::error::Error for UrlError {}
    impl std::error::Error for DecryptError {}
    #[cfg(feature = "session-store")]
    impl std::error::Error for RecordError {}
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn messages_name_the_cause() {
        assert_eq!(
            AuthError::Rejected(Some(0x81)).to_string(),
            "the platform refused the auth with 4.01"
        );
        assert_eq!(
            AuthError::Connect(ConnectError::Handshake).to_string(),
            "cannot connect: the DTLS session could not be established"
        );
        assert!(SendError::Busy.to_string().contains("waiting"));
        assert!(UrlError::Scheme.to_string().contains("coap-psk://"));
    }

    #[cfg(feature = "std")]
    #[test]
    fn auth_error_chains_its_connect_cause() {
        let e: &dyn std::error::Error = &AuthError::Connect(ConnectError::Unreachable);
        assert_eq!(
            e.source().map(|s| s.to_string()).as_deref(),
            Some("cannot resolve the host or open a socket")
        );
    }
}
