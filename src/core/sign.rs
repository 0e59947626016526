//! `/auth` request: sign content, HMAC, and the JSON body.
//!
//! The body is serialised by serde-json-core from a typed struct, so any
//! device name is escaped correctly (the vendor SDK built it with
//! `snprintf`). serde-json-core rather than serde_json: the latter's error
//! formatting and f64 number path cost ~30 KB of flash on a Cortex-M4 that
//! typed structs cannot avoid (see docs/design.md).

use alloc::string::String;
use alloc::vec::Vec;
use hmac::{Hmac, Mac};
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignMethod {
    /// The vendor SDK's and the platform guide's default.
    HmacMd5,
    /// Opt-in (feature `hmacsha1`): costs SHA-1 in the image.
    #[cfg(feature = "hmacsha1")]
    HmacSha1,
}

impl SignMethod {
    pub const fn name(self) -> &'static str {
        match self {
            SignMethod::HmacMd5 => "hmacmd5",
            #[cfg(feature = "hmacsha1")]
            SignMethod::HmacSha1 => "hmacsha1",
        }
    }
}

/// What the device submits to `/auth`.
#[derive(Clone, Copy, Debug)]
pub struct AuthParams<'a> {
    pub product_key: &'a str,
    pub device_name: &'a str,
    pub client_id: &'a str,
    pub sign_method: SignMethod,
    /// PSK mode: the initial sequence number (takes part in the sign).
    pub seq: Option<u32>,
    /// Milliseconds; optional, not window-checked by the platform.
    pub timestamp: Option<u64>,
    /// `Some(1)`: separate response.
    pub ack_mode: Option<u8>,
}

/// `content`: every submitted parameter except version, sign, resources and
/// signmethod, sorted by name, each as name followed by value.
pub fn content(p: &AuthParams<'_>) -> String {
    let mut s =
        String::with_capacity(96 + p.product_key.len() + p.device_name.len() + p.client_id.len());
    let mut num = itoa_buf();
    // Names in ASCII order: ackMode < clientId < deviceName < productKey < seq < timestamp.
    if let Some(a) = p.ack_mode {
        s.push_str("ackMode");
        s.push_str(fmt_u64(&mut num, a.into()));
    }
    s.push_str("clientId");
    s.push_str(p.client_id);
    s.push_str("deviceName");
    s.push_str(p.device_name);
    s.push_str("productKey");
    s.push_str(p.product_key);
    if let Some(q) = p.seq {
        s.push_str("seq");
        s.push_str(fmt_u64(&mut num, q.into()));
    }
    if let Some(t) = p.timestamp {
        s.push_str("timestamp");
        s.push_str(fmt_u64(&mut num, t));
    }
    s
}

/// Lower-case hex of `HMAC(device_secret, content)`.
pub fn sign(p: &AuthParams<'_>, device_secret: &[u8]) -> String {
    let c = content(p);
    // HMAC accepts keys of any length: new_from_slice cannot fail.
    match p.sign_method {
        SignMethod::HmacMd5 => {
            let mut mac = Hmac::<md5::Md5>::new_from_slice(device_secret).expect("any key length");
            mac.update(c.as_bytes());
            hex(&mac.finalize().into_bytes())
        }
        #[cfg(feature = "hmacsha1")]
        SignMethod::HmacSha1 => {
            let mut mac =
                Hmac::<sha1::Sha1>::new_from_slice(device_secret).expect("any key length");
            mac.update(c.as_bytes());
            hex(&mac.finalize().into_bytes())
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)]);
        s.push(HEX[usize::from(b & 15)]);
    }
    // ASCII by construction.
    String::from_utf8(s).unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthBody<'a> {
    product_key: &'a str,
    device_name: &'a str,
    client_id: &'a str,
    sign: &'a str,
    signmethod: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<JsonNumber<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ack_mode: Option<JsonNumber<'a>>,
}

/// A number already written in decimal. serde-json-core emits
/// `serialize_bytes` verbatim, so this is a plain JSON number that skips
/// its u64 formatter (which needs a 64-bit division routine on a Cortex-M).
struct JsonNumber<'a>(&'a str);

impl Serialize for JsonNumber<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0.as_bytes())
    }
}

/// The JSON body of the `/auth` request.
pub fn auth_body(p: &AuthParams<'_>, device_secret: &[u8]) -> Vec<u8> {
    let sign = sign(p, device_secret);
    let (mut seq_buf, mut ts_buf, mut ack_buf) = (itoa_buf(), itoa_buf(), itoa_buf());
    let body = AuthBody {
        product_key: p.product_key,
        device_name: p.device_name,
        client_id: p.client_id,
        sign: &sign,
        signmethod: p.sign_method.name(),
        seq: p.seq.map(|q| fmt_u64(&mut seq_buf, q.into())),
        timestamp: p.timestamp.map(|t| JsonNumber(fmt_u64(&mut ts_buf, t))),
        ack_mode: p
            .ack_mode
            .map(|a| JsonNumber(fmt_u64(&mut ack_buf, a.into()))),
    };
    // Escaping grows a character to at most 6 bytes (`\u001f`).
    let strings = p.product_key.len() + p.device_name.len() + p.client_id.len();
    let mut out = alloc::vec![0u8; 6 * strings + sign.len() + 160];
    match serde_json_core::to_slice(&body, &mut out) {
        Ok(n) => out.truncate(n),
        // The buffer is sized for the worst case above: cannot happen.
        Err(_) => out.clear(),
    }
    out
}

/// The platform's 2.05 answer to `/auth`. PSK adds `random` and `seqOffset`.
/// `Debug` shows neither the token nor the random (both are credentials).
#[derive(Default, PartialEq, Eq)]
pub struct AuthResponse {
    pub token: String,
    pub random: Option<String>,
    pub seq_offset: Option<u64>,
}

impl core::fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuthResponse")
            .field("token", &"<redacted>")
            .field("random", &self.random.as_ref().map(|_| "<redacted>"))
            .field("seq_offset", &self.seq_offset)
            .finish()
    }
}

/// Read by hand rather than derived: keys and both text fields go through
/// one visitor type (`Text`), so serde-json-core's string reader (with
/// its unescaping) is instantiated once for them instead of once per
/// visitor (field names, `String`). Same rules as the derived reader:
/// unknown keys skipped, duplicates and a missing or null token refused.
impl<'de> Deserialize<'de> for AuthResponse {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AuthResponseVisitor)
    }
}

struct AuthResponseVisitor;

impl<'de> Visitor<'de> for AuthResponseVisitor {
    type Value = AuthResponse;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the /auth reply object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AuthResponse, A::Error> {
        let (mut token, mut random, mut seq_offset) = (None, None, None);
        while let Some(Text(key)) = map.next_key()? {
            let duplicate = match key.as_str() {
                "token" => token.replace(map.next_value::<Option<Text>>()?).is_some(),
                "random" => random.replace(map.next_value::<Option<Text>>()?).is_some(),
                "seqOffset" => seq_offset
                    .replace(map.next_value::<Option<u64>>()?)
                    .is_some(),
                _ => map.next_value::<IgnoredAny>().map(|_| false)?,
            };
            if duplicate {
                return Err(de::Error::custom("duplicate field"));
            }
        }
        let Some(Some(Text(token))) = token else {
            return Err(de::Error::missing_field("token"));
        };
        Ok(AuthResponse {
            token,
            random: random.flatten().map(|Text(r)| r),
            seq_offset: seq_offset.flatten(),
        })
    }
}

/// A JSON string (a key or a value), unescaped.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(String::from(v)))
    }
}

// Not inlined: the JSON deserializer's state (a few hundred bytes of
// stack) is gone before the answer is acted on (the PSK key expanded,
// held uplinks re-sent), deeper in the same call (a 2 KB task stack).
#[inline(never)]
pub fn parse_auth_response(payload: &[u8]) -> Option<AuthResponse> {
    // Unescaped text is never longer than its escaped form.
    let mut unescape = alloc::vec![0u8; payload.len()];
    let (r, _): (AuthResponse, usize) =
        serde_json_core::from_slice_escaped(payload, &mut unescape).ok()?;
    if r.token.is_empty() {
        return None;
    }
    Some(r)
}

/// Room for the decimal text of any `u64`.
pub type NumBuf = [u8; 20];

/// An empty [`NumBuf`].
pub const fn itoa_buf() -> NumBuf {
    [0; 20]
}

/// Decimal text of `v` without `core::fmt`, and without 64-bit division
/// (a library routine on a Cortex-M): long division of four 16-bit limbs
/// by ten, in 32-bit arithmetic.
pub fn fmt_u64(buf: &mut NumBuf, v: u64) -> &str {
    let mut limbs = [
        (v >> 48) as u16,
        (v >> 32) as u16,
        (v >> 16) as u16,
        v as u16,
    ];
    let mut i = buf.len();
    loop {
        let mut rem = 0u32;
        for limb in &mut limbs {
            let cur = (rem << 16) | u32::from(*limb);
            *limb = (cur / 10) as u16;
            rem = cur % 10;
        }
        i -= 1;
        buf[i] = b'0' + rem as u8;
        if limbs == [0; 4] {
            break;
        }
    }
    core::str::from_utf8(&buf[i..]).unwrap_or("0")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB";

    fn params(method: SignMethod) -> AuthParams<'static> {
        AuthParams {
            product_key: "a1TestPK001",
            device_name: "dev-001",
            client_id: "a1TestPK001.dev-001",
            sign_method: method,
            seq: None,
            timestamp: None,
            ack_mode: None,
        }
    }

    #[test]
    fn spec_vectors() {
        let p = params(SignMethod::HmacMd5);
        assert_eq!(
            content(&p),
            "clientIda1TestPK001.dev-001deviceNamedev-001productKeya1TestPK001"
        );
        assert_eq!(sign(&p, SECRET), "18fb2cad852b87646f6d14e978ba2ca4");
        #[cfg(feature = "hmacsha1")]
        {
            let p = params(SignMethod::HmacSha1);
            assert_eq!(sign(&p, SECRET), "f6b71a47103b144bf0ea88acf33f500c72bb7c3b");
        }
        let p = AuthParams {
            seq: Some(123),
            ..params(SignMethod::HmacMd5)
        };
        assert_eq!(
            content(&p),
            "clientIda1TestPK001.dev-001deviceNamedev-001productKeya1TestPK001seq123"
        );
        assert_eq!(sign(&p, SECRET), "f26059605918c10887ae873806553cbd");
        let p = AuthParams {
            timestamp: Some(1_700_000_000_000),
            ..params(SignMethod::HmacMd5)
        };
        assert!(content(&p).ends_with("productKeya1TestPK001timestamp1700000000000"));
        assert_eq!(sign(&p, SECRET), "17a4a209dfec83910e8e74ff8492bbcf");
    }

    #[test]
    fn ack_mode_sorts_first() {
        let p = AuthParams {
            ack_mode: Some(1),
            ..params(SignMethod::HmacMd5)
        };
        assert!(content(&p).starts_with("ackMode1clientId"));
    }

    #[test]
    fn body_escapes_hostile_names() {
        let p = AuthParams {
            device_name: "a\"b\\c",
            ..params(SignMethod::HmacMd5)
        };
        let body = auth_body(&p, SECRET);
        let s = core::str::from_utf8(&body).unwrap();
        assert!(s.contains(r#""deviceName":"a\"b\\c""#), "{s}");
        assert!(s.contains(r#""signmethod":"hmacmd5""#));
        let p = AuthParams {
            seq: Some(7),
            ..params(SignMethod::HmacMd5)
        };
        let s = String::from_utf8(auth_body(&p, SECRET)).unwrap();
        assert!(s.contains(r#""seq":"7""#), "{s}");
        let p = AuthParams {
            timestamp: Some(1_700_000_000_000),
            ack_mode: Some(1),
            ..params(SignMethod::HmacMd5)
        };
        let v: serde_json::Value = serde_json::from_slice(&auth_body(&p, SECRET)).unwrap();
        assert_eq!(v["timestamp"], 1_700_000_000_000u64);
        assert_eq!(v["ackMode"], 1);
    }

    #[test]
    fn body_escapes_control_and_unicode_names_as_json_reads_them() {
        // The worst case of the buffer estimate: every byte a control char.
        let name = "\u{1}\u{1f}\n\t\"\\ü名\u{7f}";
        let hostile = "\u{1f}".repeat(64);
        for dn in [name, hostile.as_str(), ""] {
            let p = AuthParams {
                device_name: dn,
                client_id: dn,
                ..params(SignMethod::HmacMd5)
            };
            let body = auth_body(&p, SECRET);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["deviceName"], dn);
            assert_eq!(v["clientId"], dn);
            assert_eq!(v["sign"], sign(&p, SECRET).as_str());
        }
    }

    #[test]
    fn auth_response_unescapes_and_skips_unknown_fields() {
        let r = parse_auth_response(
            br#"{"extra":{"a":[1,2.5,null]},"token":"ab\/c\u0041","seqOffset":7}"#,
        )
        .unwrap();
        assert_eq!(r.token, "ab/cA");
        assert_eq!(r.seq_offset, Some(7));
        assert!(parse_auth_response(br#"{"token":"t","seqOffset":-1}"#).is_none());
        assert!(parse_auth_response(br#"{"token":"t"} trailing"#).is_none());
    }

    #[test]
    fn auth_response_refuses_duplicates_and_null_token() {
        assert!(parse_auth_response(br#"{"token":"a","token":"b"}"#).is_none());
        assert!(parse_auth_response(br#"{"token":"a","seqOffset":1,"seqOffset":2}"#).is_none());
        assert!(parse_auth_response(br#"{"token":null}"#).is_none());
        assert!(parse_auth_response(br#"{"token":7}"#).is_none());
        assert!(parse_auth_response(br#"["t"]"#).is_none());
        let r =
            parse_auth_response(br#"{"tok\u0065n":"t","random":null,"seqOffset":null}"#).unwrap();
        assert_eq!(
            (r.token.as_str(), r.random, r.seq_offset),
            ("t", None, None)
        );
    }

    #[test]
    fn auth_response_debug_hides_credentials() {
        let r =
            parse_auth_response(br#"{"random":"ad2b3a5eb51d64f7","token":"MZ8m.ad2b"}"#).unwrap();
        let text = alloc::format!("{r:?}");
        assert!(!text.contains("MZ8m") && !text.contains("ad2b3a"), "{text}");
    }

    #[test]
    fn auth_response() {
        let r = parse_auth_response(
            br#"{"random":"ad2b3a5eb51d64f7","seqOffset":1,"token":"MZ8m.ad2b"}"#,
        )
        .unwrap();
        assert_eq!(r.token, "MZ8m.ad2b");
        assert_eq!(r.random.as_deref(), Some("ad2b3a5eb51d64f7"));
        assert_eq!(r.seq_offset, Some(1));
        assert!(parse_auth_response(b"{}").is_none());
        assert!(parse_auth_response(br#"{"token":""}"#).is_none());
        assert!(parse_auth_response(b"\xff").is_none());
    }

    #[test]
    fn decimal() {
        let mut b = itoa_buf();
        assert_eq!(fmt_u64(&mut b, 0), "0");
        assert_eq!(fmt_u64(&mut b, u64::MAX), "18446744073709551615");
        let mut x = 1u64;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for v in [
                x,
                x >> 7,
                x >> 33,
                x % 100_000,
                9,
                10,
                65_536,
                4_294_967_296,
            ] {
                assert_eq!(fmt_u64(&mut b, v), v.to_string());
            }
        }
    }
}
