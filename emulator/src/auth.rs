//! `POST /auth`: request body parsing (JSON or CBOR), the sign rule and its
//! constant-time verification.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::Serialize;

/// Content-Format / Accept numbers.
pub const CF_OCTET_STREAM: u16 = 42;
pub const CF_JSON: u16 = 50;
pub const CF_CBOR: u16 = 60;

/// Longest accepted clientId.
pub const MAX_CLIENT_ID: usize = 64;

/// Parameters excluded from the sign content.
const NOT_SIGNED: [&str; 4] = ["version", "sign", "resources", "signmethod"];

/// A parsed auth request. `params` holds every submitted parameter as text,
/// sorted by name (a `BTreeMap<String, _>` orders by bytes: ASCII ascending).
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub params: BTreeMap<String, String>,
    pub product_key: String,
    pub device_name: String,
    pub client_id: String,
    pub sign: String,
    pub sign_method: SignMethod,
    pub ack_mode: u8,
    pub seq: Option<u64>,
}

/// The sign methods this verifier checks. The default's name is the
/// library's; the verification below is written apart from the library's
/// signing on purpose, so the emulator remains a real check of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMethod {
    HmacMd5,
    HmacSha1,
}

impl SignMethod {
    pub const ALL: [SignMethod; 2] = [SignMethod::HmacMd5, SignMethod::HmacSha1];

    pub fn name(self) -> &'static str {
        match self {
            SignMethod::HmacMd5 => iotx_coap::core::sign::SignMethod::HmacMd5.name(),
            // The library offers SHA-1 only behind a feature (its C ABI signs
            // with MD5); the platform accepts it, so the emulator checks it
            // whatever the library is built with.
            SignMethod::HmacSha1 => "hmacsha1",
        }
    }

    /// The method named `name`; `None` when absent means the default (hmacmd5).
    fn from_name(name: Option<&str>) -> Option<SignMethod> {
        match name {
            None => Some(SignMethod::HmacMd5),
            Some(n) => SignMethod::ALL.into_iter().find(|m| m.name() == n),
        }
    }
}

/// Why a body was refused (all are 4.00), with the names when known.
#[derive(Debug, Clone)]
pub struct BadRequest {
    pub reason: String,
    pub product_key: Option<String>,
    pub device_name: Option<String>,
}

fn bad(reason: impl Into<String>) -> BadRequest {
    BadRequest {
        reason: reason.into(),
        product_key: None,
        device_name: None,
    }
}

/// Parses the raw body into name → text value. JSON numbers and booleans are
/// taken as their text; nested values are refused.
pub fn parse_body(
    body: &[u8],
    content_format: u16,
) -> Result<BTreeMap<String, String>, BadRequest> {
    let mut out = BTreeMap::new();
    if content_format == CF_CBOR {
        let v: ciborium::Value = ciborium::from_reader(body)
            .map_err(|e| bad(format!("payload is not valid CBOR: {e}")))?;
        let map = match v {
            ciborium::Value::Map(m) => m,
            _ => return Err(bad("payload is not a CBOR map")),
        };
        for (k, v) in map {
            let k = match k {
                ciborium::Value::Text(t) => t,
                _ => return Err(bad("CBOR map key is not text")),
            };
            let v = match v {
                ciborium::Value::Text(t) => t,
                ciborium::Value::Integer(i) => i128::from(i).to_string(),
                ciborium::Value::Bool(b) => b.to_string(),
                _ => return Err(bad(format!("field {k} has an unsupported CBOR type"))),
            };
            if out.insert(k.clone(), v).is_some() {
                return Err(bad(format!("field {k} given twice")));
            }
        }
    } else {
        let v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| bad(format!("payload is not valid JSON: {e}")))?;
        let map = match v {
            serde_json::Value::Object(m) => m,
            _ => return Err(bad("payload is not a JSON object")),
        };
        for (k, v) in map {
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return Err(bad(format!("field {k} has an unsupported JSON type"))),
            };
            out.insert(k, v);
        }
    }
    Ok(out)
}

/// Validates the fields (the table in docs/protocol.md). `psk` requires `seq`.
pub fn validate(params: BTreeMap<String, String>, psk: bool) -> Result<AuthRequest, BadRequest> {
    let pk = params.get("productKey").filter(|s| !s.is_empty()).cloned();
    let dn = params.get("deviceName").filter(|s| !s.is_empty()).cloned();
    let named = |reason: String| BadRequest {
        reason,
        product_key: pk.clone(),
        device_name: dn.clone(),
    };
    for field in ["productKey", "deviceName", "clientId", "sign"] {
        if params.get(field).map_or(true, |v| v.is_empty()) {
            return Err(named(format!("required field {field} missing or empty")));
        }
    }
    let client_id = params["clientId"].clone();
    if client_id.chars().count() > MAX_CLIENT_ID {
        return Err(named(format!(
            "clientId longer than {MAX_CLIENT_ID} characters"
        )));
    }
    let method_name = params.get("signmethod").map(|s| s.as_str());
    let Some(sign_method) = SignMethod::from_name(method_name) else {
        let other = method_name.unwrap_or_default();
        return Err(named(format!("unknown signmethod {other:?}")));
    };
    let ack_mode = match params.get("ackMode").map(|s| s.as_str()) {
        None | Some("0") => 0,
        Some("1") => 1,
        Some(other) => return Err(named(format!("ackMode must be 0 or 1, got {other:?}"))),
    };
    let seq = match params.get("seq") {
        None => None,
        Some(s) => match s.parse::<u64>() {
            Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return Err(named("seq is not a decimal number".to_string())),
        },
    };
    if psk && seq.is_none() {
        return Err(named("PSK auth without seq".to_string()));
    }
    Ok(AuthRequest {
        product_key: pk.unwrap_or_default(),
        device_name: dn.unwrap_or_default(),
        client_id,
        sign: params["sign"].clone(),
        sign_method,
        ack_mode,
        seq,
        params,
    })
}

/// The sign content: every parameter except version, sign, resources and
/// signmethod, sorted by name, name immediately followed by value.
pub fn sign_content(params: &BTreeMap<String, String>) -> String {
    let mut s = String::new();
    for (k, v) in params {
        if !NOT_SIGNED.contains(&k.as_str()) {
            s.push_str(k);
            s.push_str(v);
        }
    }
    s
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `sign` (hex, either case) against HMAC(secret, content) in
/// constant time (`Mac::verify_slice`).
pub fn verify_sign(method: SignMethod, secret: &str, content: &str, sign: &str) -> bool {
    let Some(expected) = hex_decode(sign) else {
        return false;
    };
    match method {
        SignMethod::HmacMd5 => {
            let mut mac = <Hmac<md5::Md5> as Mac>::new_from_slice(secret.as_bytes())
                .expect("HMAC takes any key length");
            mac.update(content.as_bytes());
            mac.verify_slice(&expected).is_ok()
        }
        SignMethod::HmacSha1 => {
            let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes())
                .expect("HMAC takes any key length");
            mac.update(content.as_bytes());
            mac.verify_slice(&expected).is_ok()
        }
    }
}

/// 2.05 payload of a plain (or DTLS) auth.
#[derive(Serialize)]
pub struct TokenReply<'a> {
    pub token: &'a str,
}

/// 2.05 payload of a PSK auth.
#[derive(Serialize)]
pub struct PskTokenReply<'a> {
    pub random: &'a str,
    #[serde(rename = "seqOffset")]
    pub seq_offset: u64,
    pub token: &'a str,
}

/// Encodes a reply in the format the client asked for (CBOR when Accept is 60).
pub fn encode_reply<T: Serialize>(value: &T, cbor: bool) -> Vec<u8> {
    if cbor {
        let mut out = Vec::new();
        ciborium::into_writer(value, &mut out).expect("CBOR encoding into a Vec cannot fail");
        out
    } else {
        serde_json::to_vec(value).expect("JSON encoding of a plain struct cannot fail")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB";

    fn params(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("productKey".into(), "a1TestPK001".into());
        m.insert("deviceName".into(), "dev-001".into());
        m.insert("clientId".into(), "a1TestPK001.dev-001".into());
        m.insert("signmethod".into(), "hmacmd5".into());
        m.insert("sign".into(), "x".into());
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        m
    }

    #[test]
    fn vectors() {
        let c = sign_content(&params(&[]));
        assert_eq!(
            c,
            "clientIda1TestPK001.dev-001deviceNamedev-001productKeya1TestPK001"
        );
        assert!(verify_sign(
            SignMethod::HmacMd5,
            SECRET,
            &c,
            "18fb2cad852b87646f6d14e978ba2ca4"
        ));
        assert!(verify_sign(
            SignMethod::HmacMd5,
            SECRET,
            &c,
            "18FB2CAD852B87646F6D14E978BA2CA4"
        ));
        assert!(!verify_sign(
            SignMethod::HmacMd5,
            SECRET,
            &c,
            "18fb2cad852b87646f6d14e978ba2ca5"
        ));
        assert!(verify_sign(
            SignMethod::HmacSha1,
            SECRET,
            &c,
            "f6b71a47103b144bf0ea88acf33f500c72bb7c3b"
        ));
        let c = sign_content(&params(&[("seq", "123")]));
        assert!(c.ends_with("productKeya1TestPK001seq123"));
        assert!(verify_sign(
            SignMethod::HmacMd5,
            SECRET,
            &c,
            "f26059605918c10887ae873806553cbd"
        ));
        let c = sign_content(&params(&[("timestamp", "1700000000000")]));
        assert!(verify_sign(
            SignMethod::HmacMd5,
            SECRET,
            &c,
            "17a4a209dfec83910e8e74ff8492bbcf"
        ));
    }

    #[test]
    fn json_numbers_as_text() {
        let p = parse_body(
            br#"{"ackMode":1,"timestamp":1700000000000,"seq":"5"}"#,
            CF_JSON,
        )
        .unwrap();
        assert_eq!(p["ackMode"], "1");
        assert_eq!(p["timestamp"], "1700000000000");
        assert_eq!(p["seq"], "5");
    }
}
