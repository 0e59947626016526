//! `POST /auth` over real UDP: sign methods, JSON/CBOR, every error code,
//! ackMode 1, NON.

mod common;
use common::*;

use std::time::Duration;

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType};
use serde_json::json;

fn body(v: serde_json::Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

#[test]
fn hmacmd5_spec_vector_accepted_piggybacked() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.plain_addr());
    assert_eq!(
        hmac_md5(
            SECRET,
            "clientIda1TestPK001.dev-001deviceNamedev-001productKeya1TestPK001"
        ),
        "18fb2cad852b87646f6d14e978ba2ca4"
    );
    let req = auth_req(
        &body(json!({"productKey":PK,"deviceName":DN,"clientId":CLIENT_ID,
                     "sign":"18fb2cad852b87646f6d14e978ba2ca4"})),
        Some(50),
        Some(50),
    );
    let r = c.call(req);
    assert_eq!(r.header.get_type(), MessageType::Acknowledgement);
    assert_eq!(code(&r), "2.05");
    assert_eq!(r.get_token(), &[0xa1, 0xb2, 0xc3, 0xd4]);
    let v: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
    assert_eq!(v["token"].as_str().unwrap().len(), 32);
    let e = wait_event(&s, "auth_accepted");
    assert_eq!(e["productKey"], PK);
    assert_eq!(e["deviceName"], DN);
    assert_eq!(e["clientId"], CLIENT_ID);
    assert_eq!(e["signmethod"], "hmacmd5");
    assert_eq!(e["ackMode"], 0);
    assert_eq!(e["listener"], "plain");
    // Secrets and signs are never logged.
    let all = serde_json::to_string(&s.events()).unwrap();
    assert!(!all.contains(SECRET) && !all.contains("18fb2cad852b87646f6d14e978ba2ca4"));
}

#[test]
fn hmacsha1_and_uppercase_sign_and_timestamp() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.plain_addr());
    let r = c.call(auth_req(
        &body(json!({"productKey":PK,"deviceName":DN,"clientId":CLIENT_ID,
                     "signmethod":"hmacsha1","sign":"f6b71a47103b144bf0ea88acf33f500c72bb7c3b"})),
        Some(50),
        Some(50),
    ));
    assert_eq!(code(&r), "2.05");
    assert_eq!(wait_event(&s, "auth_accepted")["signmethod"], "hmacsha1");
    // timestamp (a JSON number) takes part in the sign content.
    let r = c.call(auth_req(
        &body(json!({"productKey":PK,"deviceName":DN,"clientId":CLIENT_ID,
                     "timestamp":1700000000000u64,"sign":"17A4A209DFEC83910E8E74FF8492BBCF"})),
        Some(50),
        None,
    ));
    assert_eq!(code(&r), "2.05");
    // Without it in the content, the same sign does not match.
    let r = c.call(auth_req(
        &body(json!({"productKey":PK,"deviceName":DN,"clientId":CLIENT_ID,
                     "timestamp":1700000000001u64,"sign":"17a4a209dfec83910e8e74ff8492bbcf"})),
        Some(50),
        None,
    ));
    assert_eq!(code(&r), "4.01");
}

#[test]
fn cbor_request_and_cbor_reply() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.plain_addr());
    let map = ciborium::Value::Map(vec![
        ("productKey".into(), PK.into()),
        ("deviceName".into(), DN.into()),
        ("clientId".into(), CLIENT_ID.into()),
        ("sign".into(), "18fb2cad852b87646f6d14e978ba2ca4".into()),
    ]);
    let mut buf = Vec::new();
    ciborium::into_writer(&map, &mut buf).unwrap();
    let r = c.call(auth_req(&buf, Some(60), Some(60)));
    assert_eq!(code(&r), "2.05");
    let cf = r.get_first_option(CoapOption::ContentFormat).unwrap();
    assert_eq!(cf, &vec![60u8]);
    let v: ciborium::Value = ciborium::from_reader(&r.payload[..]).unwrap();
    let m = v.as_map().expect("CBOR map");
    assert_eq!(m[0].0.as_text(), Some("token"));
    // CBOR body, JSON reply.
    let r = c.call(auth_req(&buf, Some(60), Some(50)));
    let v: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
    assert!(v["token"].is_string());
}

fn expect_code(c: &mut Client, req: Packet, want: &str) {
    let r = c.call(req);
    assert_eq!(code(&r), want);
    assert!(r.payload.is_empty(), "error responses carry no payload");
}

#[test]
fn every_error_code() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.plain_addr());
    let good = auth_json(None, None);
    // 4.00: unparseable, missing/empty field, long clientId, unknown signmethod.
    expect_code(&mut c, auth_req(b"{not json", Some(50), Some(50)), "4.00");
    expect_code(&mut c, auth_req(b"[1,2]", Some(50), Some(50)), "4.00");
    for field in ["productKey", "deviceName", "clientId", "sign"] {
        let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
        v.as_object_mut().unwrap().remove(field);
        expect_code(
            &mut c,
            auth_req(&body(v.clone()), Some(50), Some(50)),
            "4.00",
        );
        v[field] = "".into();
        expect_code(&mut c, auth_req(&body(v), Some(50), Some(50)), "4.00");
    }
    let long = "x".repeat(65);
    let content = format!("clientId{long}deviceName{DN}productKey{PK}");
    let v =
        json!({"productKey":PK,"deviceName":DN,"clientId":long,"sign":hmac_md5(SECRET,&content)});
    expect_code(&mut c, auth_req(&body(v), Some(50), Some(50)), "4.00");
    let v = json!({"productKey":PK,"deviceName":DN,"clientId":CLIENT_ID,"signmethod":"hmacsha256",
                   "sign":"18fb2cad852b87646f6d14e978ba2ca4"});
    expect_code(&mut c, auth_req(&body(v), Some(50), Some(50)), "4.00");
    // 4.01: sign mismatch.
    let v = json!({"productKey":PK,"deviceName":DN,"clientId":CLIENT_ID,"sign":"00fb2cad852b87646f6d14e978ba2ca4"});
    expect_code(&mut c, auth_req(&body(v), Some(50), Some(50)), "4.01");
    let e = wait_event(&s, "auth_rejected");
    assert_eq!(e["code"], "4.00");
    let e = s
        .wait_for_event(Duration::from_secs(3), |e| e["code"] == "4.01")
        .unwrap();
    assert_eq!(e["reason"], "sign mismatch");
    assert_eq!(e["productKey"], PK);
    // 4.03: unknown device, disabled device.
    let content = format!("clientId{CLIENT_ID}deviceNamenobodyproductKey{PK}");
    let v = json!({"productKey":PK,"deviceName":"nobody","clientId":CLIENT_ID,"sign":hmac_md5(SECRET,&content)});
    expect_code(&mut c, auth_req(&body(v), Some(50), Some(50)), "4.03");
    // 4.04: unknown path.
    expect_code(
        &mut c,
        {
            let mut p = request(RequestType::Post, "/authx");
            p.payload = good.clone().into_bytes();
            p
        },
        "4.04",
    );
    expect_code(&mut c, request(RequestType::Post, "/topic"), "4.04");
    // 4.05: GET, PUT, DELETE on /auth.
    for m in [RequestType::Get, RequestType::Put, RequestType::Delete] {
        let mut p = auth_req(good.as_bytes(), Some(50), Some(50));
        p.header.code = MessageClass::Request(m);
        expect_code(&mut c, p, "4.05");
    }
    // 4.06: Accept not json/cbor (42 is not legacy-accepted on /auth).
    expect_code(
        &mut c,
        auth_req(good.as_bytes(), Some(50), Some(42)),
        "4.06",
    );
    expect_code(&mut c, auth_req(good.as_bytes(), Some(50), Some(0)), "4.06");
    // 4.15: Content-Format missing or not json/cbor.
    expect_code(&mut c, auth_req(good.as_bytes(), None, Some(50)), "4.15");
    expect_code(&mut c, auth_req(good.as_bytes(), Some(0), Some(50)), "4.15");
    expect_code(
        &mut c,
        auth_req(good.as_bytes(), Some(42), Some(50)),
        "4.15",
    );
    // Still works.
    assert!(c.auth(None)["token"].is_string());
    let st = s.stats();
    assert_eq!(st.auth_ok, 1);
    assert!(st.auth_rejected >= 18, "{st:?}");
}

#[test]
fn disabled_device_is_forbidden() {
    let mut cfg = SimConfig::default();
    cfg.devices.push(iotx_coap_sim::Device {
        product_key: PK.into(),
        device_name: "off".into(),
        device_secret: "x".into(),
        disabled: true,
    });
    let s = sim(cfg);
    let mut c = Client::new(s.plain_addr());
    let content = format!("clientId{CLIENT_ID}deviceNameoffproductKey{PK}");
    let v = json!({"productKey":PK,"deviceName":"off","clientId":CLIENT_ID,"sign":hmac_md5("x",&content)});
    expect_code(&mut c, auth_req(&body(v), Some(50), Some(50)), "4.03");
    assert_eq!(wait_event(&s, "auth_rejected")["reason"], "device disabled");
}

#[test]
fn psk_auth_requires_seq() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.psk_addr());
    expect_code(
        &mut c,
        auth_req(auth_json(None, None).as_bytes(), Some(50), Some(50)),
        "4.00",
    );
    assert_eq!(
        wait_event(&s, "auth_rejected")["reason"],
        "PSK auth without seq"
    );
}

#[test]
fn auth_5xx_first_n() {
    let s = sim(SimConfig::default().auth_5xx(2));
    let mut c = Client::new(s.plain_addr());
    let good = auth_json(None, None);
    expect_code(
        &mut c,
        auth_req(good.as_bytes(), Some(50), Some(50)),
        "5.00",
    );
    expect_code(
        &mut c,
        auth_req(good.as_bytes(), Some(50), Some(50)),
        "5.00",
    );
    assert!(c.auth(None)["token"].is_string());
}

// On simulated time: the whole retransmission schedule (up to 93 s) runs
// in milliseconds.
#[test]
fn ack_mode_1_separate_response() {
    let mut v = virtual_sim(SimConfig::default());
    let mut req = auth_req(auth_json(None, Some(1)).as_bytes(), Some(50), Some(50));
    req.header.message_id = 4242;
    let sent = virtual_call(&mut v, &req, Duration::from_millis(10));
    let [(_, ack), (_, con)] = &sent[..] else {
        panic!("an empty ACK and a separate response, got {sent:?}");
    };
    assert_eq!(ack.header.get_type(), MessageType::Acknowledgement);
    assert_eq!(ack.header.code, MessageClass::Empty);
    assert_eq!(ack.header.message_id, 4242);
    assert_eq!(con.header.get_type(), MessageType::Confirmable);
    assert_eq!(code(con), "2.05");
    assert_eq!(con.get_token(), &[0xa1, 0xb2, 0xc3, 0xd4]);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&con.payload).unwrap()["token"].is_string()
    );
    let accepted = v
        .events()
        .into_iter()
        .find(|e| e["event"] == "auth_accepted");
    assert_eq!(accepted.expect("auth_accepted")["ackMode"], 1);
    // ACK it: no retransmission follows, however long.
    let ack = empty(MessageType::Acknowledgement, con.header.message_id);
    let later = virtual_call(&mut v, &ack, Duration::from_secs(200));
    assert!(later.is_empty(), "retransmitted after ACK: {later:?}");
    assert_eq!(v.stats().retransmits, 0);
}

#[test]
fn ack_mode_1_retransmitted_until_acked() {
    let req = auth_req(auth_json(None, Some(1)).as_bytes(), Some(50), Some(50));
    // Never ACKed: sent again after T in 2..3 s, then 2T, 4T, 8T later,
    // and given up 16T after the last.
    let mut v = virtual_sim(SimConfig::default());
    let first = virtual_call(&mut v, &req, Duration::from_millis(10));
    let con = &first[1].1;
    let again = virtual_run(&mut v, Duration::from_secs(100));
    let times: Vec<f64> = again.iter().map(|(at, _)| at.as_secs_f64()).collect();
    assert_eq!(times.len(), 4, "{times:?}");
    assert!(again.iter().all(|(_, p)| p == con));
    let t = times[0];
    assert!((2.0..=3.0).contains(&t), "{times:?}");
    for (k, want) in [3.0, 7.0, 15.0].into_iter().enumerate() {
        assert!((times[k + 1] - want * t).abs() < 0.05, "{times:?}");
    }
    assert_eq!(v.stats().retransmits, 4);
    let timeout = v
        .events()
        .into_iter()
        .find(|e| e["event"] == "separate_response_timeout");
    assert_eq!(timeout.expect("gave up")["mid"], con.header.message_id);

    // RST also stops it.
    let mut v = virtual_sim(SimConfig::default());
    let first = virtual_call(&mut v, &req, Duration::from_millis(10));
    let con = &first[1].1;
    assert_eq!(virtual_run(&mut v, Duration::from_secs(3)).len(), 1);
    let rst = empty(MessageType::Reset, con.header.message_id);
    assert!(virtual_call(&mut v, &rst, Duration::from_secs(200)).is_empty());
    assert_eq!(v.stats().retransmits, 1);
}

#[test]
fn non_request_gets_non_response() {
    let s = sim(SimConfig::default());
    let mut c = Client::new(s.plain_addr());
    let mut req = auth_req(auth_json(None, None).as_bytes(), Some(50), Some(50));
    req.header.set_type(MessageType::NonConfirmable);
    let r = c.call(req);
    assert_eq!(r.header.get_type(), MessageType::NonConfirmable);
    assert_eq!(code(&r), "2.05");
    assert_eq!(r.get_token(), &[0xa1, 0xb2, 0xc3, 0xd4]);
}

#[test]
fn ping_gets_rst() {
    let s = sim(SimConfig::default());
    let c = Client::new(s.plain_addr());
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Empty;
    p.header.message_id = 77;
    c.send(&p);
    let r = c.recv(Duration::from_secs(3)).unwrap();
    assert_eq!(r.header.get_type(), MessageType::Reset);
    assert_eq!(r.header.message_id, 77);
}
