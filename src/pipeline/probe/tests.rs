//! The HTTP transport against an in-process server on this machine that answers as
//! privacyIDEA's `/validate/check` does (its JSON recorded from privacyIDEA 3.14), deciding with
//! otpdrift's model on a clock shared with the probe: the probe through HTTP must send the same
//! codes at the same times and find the same configuration as through the model transport.

use super::*;
use crate::otp::Algorithm;
use crate::probe::model::ModelTransport;
use crate::probe::{Outcome, Sent};
use crate::validator::{presets, CredentialState, Scheme};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const START: Millis = 1_772_323_200_000;

fn credential() -> Credential {
    Credential {
        id: "PROBE1".into(),
        keyed: crate::otp::Keyed::new(Algorithm::Sha1, b"12345678901234567890"),
        digits: 6,
        step_s: 30,
        t0: 0,
    }
}

/// What the test server does.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    PrivacyIdea,
    Html,
}

/// Serves `/validate/check`, `/auth` and `/token/reset` for credential PROBE1 until the test
/// ends; returns the base URL.
fn serve(cfg: crate::validator::ValidatorConfig, clock: Arc<Mutex<Millis>>, mode: Mode) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cred = credential();
    let st = Arc::new(Mutex::new(CredentialState::enrolled(START)));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            let mut len = 0;
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let form: std::collections::HashMap<String, String> = String::from_utf8(body)
                .unwrap()
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.replace("%40", "@")))
                .collect();
            let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
            let (status, json) = if mode == Mode::Html {
                (502, "<html><body>Bad Gateway</body></html>".to_string())
            } else if path == "/auth" {
                (
                    200,
                    r#"{"result":{"status":true,"value":{"token":"jwt"}}}"#.to_string(),
                )
            } else if path == "/token/reset" {
                st.lock().unwrap().unlock();
                (200, r#"{"result":{"status":true,"value":1}}"#.to_string())
            } else if form.get("serial").map(String::as_str) != Some("PROBE1") {
                (404, r#"{"detail":null,"id":1,"jsonrpc":"2.0","result":{"error":{"code":601,"message":"The requested token could not be found."},"status":false},"version":"privacyIDEA 3.14"}"#.to_string())
            } else {
                let code: u32 = form["pass"].parse().unwrap_or(u32::MAX - 1);
                let now = *clock.lock().unwrap();
                let d = cfg.verify(
                    &mut st.lock().unwrap(),
                    Scheme::Totp { step_s: 30, t0: 0 },
                    now,
                    code,
                    |s| cred.code_value(s),
                );
                let ok = d.verdict == crate::validator::Verdict::Accepted;
                (
                    200,
                    format!(
                        r#"{{"detail":{{"message":"{}","serial":"PROBE1","type":"totp"}},"id":2,"jsonrpc":"2.0","result":{{"authentication":"{}","status":true,"value":{ok}}},"time":{},"version":"privacyIDEA 3.14"}}"#,
                        if ok {
                            "matching 1 tokens"
                        } else {
                            "wrong otp value"
                        },
                        if ok { "ACCEPT" } else { "REJECT" },
                        now as f64 / 1000.0
                    ),
                )
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                json.len()
            );
        }
    });
    base
}

fn limits() -> Limits {
    Limits {
        allow_lockout: true,
        ..Limits::default()
    }
}

fn through_http(preset: &str) -> Outcome {
    let cfg = presets::find(preset).unwrap().config;
    let clock = Arc::new(Mutex::new(START));
    let base = serve(cfg, clock.clone(), Mode::PrivacyIdea);
    let mut t = HttpTransport::new(
        &base,
        Flavour::PrivacyIdea,
        Box::new(SharedClock(clock)),
        Some(http::Admin::for_tests()),
    );
    probe(&credential(), &mut t, &limits(), &|_, _| {}).unwrap()
}

fn through_model(preset: &str) -> Outcome {
    let mut t = ModelTransport::new(presets::find(preset).unwrap().config, START);
    t.latency_ms = 0;
    t.can_unlock = true;
    probe(&credential(), &mut t, &limits(), &|_, _| {}).unwrap()
}

#[test]
fn probing_over_http_sends_the_same_codes_and_finds_the_same_configuration() {
    for preset in ["privacyidea", "keycloak"] {
        let (h, m) = (through_http(preset), through_model(preset));
        let key = |s: &Sent| (s.at, s.step, s.code.clone(), s.answer, s.purpose);
        assert_eq!(
            h.sent.iter().map(key).collect::<Vec<_>>(),
            m.sent.iter().map(key).collect::<Vec<_>>(),
            "{preset}"
        );
        assert_eq!(h.config, m.config, "{preset}");
        assert!(h.attempts() > 15, "{preset}: {} attempts", h.attempts());
    }
}

#[test]
fn answers_that_are_not_the_products_stop_the_probe_with_a_clear_error() {
    let clock = Arc::new(Mutex::new(START));
    let cfg = presets::find("pyotp").unwrap().config;
    let base = serve(cfg.clone(), clock.clone(), Mode::Html);
    let mut t = HttpTransport::new(
        &base,
        Flavour::PrivacyIdea,
        Box::new(SharedClock(clock.clone())),
        None,
    );
    let e = probe(&credential(), &mut t, &limits(), &|_, _| {}).unwrap_err();
    assert_eq!(e.status(), 1);
    assert!(
        e.to_string().contains("HTTP 502 with an answer that is not privacyIDEA JSON (it begins `<html><body>Bad Gateway"),
        "{e}"
    );
    let base = serve(cfg, clock.clone(), Mode::PrivacyIdea);
    let mut t = HttpTransport::new(
        &base,
        Flavour::PrivacyIdea,
        Box::new(SharedClock(clock)),
        None,
    );
    let mut other = credential();
    other.id = "NOPE".into();
    let e = probe(&other, &mut t, &limits(), &|_, _| {}).unwrap_err();
    assert_eq!(e.status(), 2);
    assert!(
        e.to_string()
            .contains("does not know credential NOPE (privacyIDEA error 601"),
        "{e}"
    );
    // Nobody listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut t = HttpTransport::new(
        &format!("http://127.0.0.1:{port}"),
        Flavour::PrivacyIdea,
        Box::new(SharedClock(Arc::new(Mutex::new(START)))),
        None,
    );
    let e = probe(&credential(), &mut t, &limits(), &|_, _| {}).unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "cannot reach http://127.0.0.1:{port}/validate/check"
        )),
        "{e}"
    );
}
