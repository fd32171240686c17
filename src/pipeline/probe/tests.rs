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

/// Serves `/validate/check`, `/auth`, `/token/reset` and `/token/resync` for credential PROBE1 until the test
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
            } else if path == "/token/resync" {
                let code = |k: &str| form[k].parse::<u32>().unwrap_or(u32::MAX - 1);
                let now = *clock.lock().unwrap();
                let ok = cfg
                    .sync(
                        &mut st.lock().unwrap(),
                        Scheme::Totp { step_s: 30, t0: 0 },
                        now,
                        &[code("otp1"), code("otp2")],
                        |s| cred.code_value(s),
                    )
                    .is_ok();
                (
                    200,
                    format!(
                        r#"{{"id":3,"jsonrpc":"2.0","result":{{"status":true,"value":{ok}}},"version":"privacyIDEA 3.14"}}"#
                    ),
                )
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

/// The live probe sent the codes the model's probe sends, at the same times, and found the
/// same configuration.
fn assert_probes_like_the_model(live: &Outcome, preset: &str, lim: &Limits) {
    let mut t = ModelTransport::new(presets::find(preset).unwrap().config, START);
    t.latency_ms = 0;
    t.can_unlock = lim.allow_lockout;
    let m = probe(&credential(), &mut t, lim, &|_, _| {}).unwrap();
    let key = |s: &Sent| {
        (
            s.at,
            s.step,
            s.code.clone(),
            s.code2.clone(),
            s.answer,
            s.purpose,
        )
    };
    assert_eq!(
        live.sent.iter().map(key).collect::<Vec<_>>(),
        m.sent.iter().map(key).collect::<Vec<_>>(),
        "{preset}"
    );
    assert_eq!(live.config, m.config, "{preset}");
    assert!(
        live.attempts() > 15,
        "{preset}: {} attempts",
        live.attempts()
    );
}

#[test]
fn probing_over_http_sends_the_same_codes_and_finds_the_same_configuration() {
    use crate::validator::SyncSearch;
    for (preset, resync) in [
        // privacyIDEA's 1000-step sync window, looked for out to the default 40 steps.
        ("privacyidea", Some((SyncSearch::Separate, true, false))),
        ("keycloak", None),
    ] {
        let live = through_http(preset);
        assert_probes_like_the_model(&live, preset, &limits());
        let window = if resync.is_some() { 40 } else { 0 };
        assert_eq!(live.facets.syncs, [(resync, (window, window))], "{preset}");
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

/// What the test RADIUS server does.
#[derive(Clone, Copy, PartialEq)]
enum Radius {
    /// Answers as a RADIUS server in front of the model, signing with the shared secret (and a
    /// Message-Authenticator on every other reply).
    Serve,
    /// Signs its replies with another secret.
    OtherSecret,
}

/// A RADIUS server for credential PROBE1 (User-Name) with shared secret `s3cret`, deciding with
/// the model on the shared clock; it checks every request's Message-Authenticator and drops
/// what fails. Returns its address.
fn serve_radius(
    cfg: crate::validator::ValidatorConfig,
    clock: Arc<Mutex<Millis>>,
    mode: Radius,
) -> String {
    use super::radius::{attributes, reply, reveal_password};
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    let cred = credential();
    let mut st = CredentialState::enrolled(START);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut n_replies = 0;
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                return;
            };
            let p = &buf[..n];
            let ra: [u8; 16] = p[4..20].try_into().unwrap();
            let attrs = attributes(&p[20..]).unwrap();
            let get = |t: u8| attrs.iter().find(|a| a.0 == t).map(|a| a.1);
            let mut zeroed = p.to_vec();
            zeroed[22..38].fill(0);
            let mut m = <hmac::Hmac<md5::Md5> as hmac::Mac>::new_from_slice(b"s3cret").unwrap();
            hmac::Mac::update(&mut m, &zeroed);
            if attrs[0].0 != 80 || hmac::Mac::finalize(m).into_bytes()[..] != *get(80).unwrap() {
                continue;
            }
            let code = if get(1) != Some(b"PROBE1".as_slice()) {
                3
            } else {
                let pass = reveal_password(get(2).unwrap(), b"s3cret", &ra);
                let pass: u32 = std::str::from_utf8(&pass)
                    .unwrap()
                    .parse()
                    .unwrap_or(u32::MAX - 1);
                let now = *clock.lock().unwrap();
                let d = cfg.verify(
                    &mut st,
                    Scheme::Totp { step_s: 30, t0: 0 },
                    now,
                    pass,
                    |s| cred.code_value(s),
                );
                if d.verdict == crate::validator::Verdict::Accepted {
                    2
                } else {
                    3
                }
            };
            let secret: &[u8] = if mode == Radius::OtherSecret {
                b"other"
            } else {
                b"s3cret"
            };
            n_replies += 1;
            let r = reply(
                code,
                p[1],
                &ra,
                secret,
                &[(18, b"time=1")],
                n_replies % 2 == 0,
            );
            sock.send_to(&r, from).unwrap();
        }
    });
    addr
}

fn radius_transport(addr: &str, clock: Arc<Mutex<Millis>>, secret: &str) -> RadiusTransport {
    let mut t = RadiusTransport::new(
        addr,
        SharedSecret::for_tests(secret),
        Box::new(SharedClock(clock)),
    )
    .unwrap();
    t.timeout = std::time::Duration::from_millis(300);
    t.tries = 2;
    t
}

#[test]
fn probing_over_radius_sends_the_same_codes_and_finds_the_same_configuration() {
    for preset in ["google-authenticator", "pam-oath"] {
        let cfg = presets::find(preset).unwrap().config;
        let clock = Arc::new(Mutex::new(START));
        let addr = serve_radius(cfg, clock.clone(), Radius::Serve);
        let mut t = radius_transport(&addr, clock, "s3cret");
        let lim = Limits::default();
        let r = probe(&credential(), &mut t, &lim, &|_, _| {}).unwrap();
        assert_probes_like_the_model(&r, preset, &lim);
    }
}

#[test]
fn a_wrong_shared_secret_or_a_silent_server_stops_the_radius_probe_with_a_clear_error() {
    let cfg = presets::find("pyotp").unwrap().config;
    let clock = Arc::new(Mutex::new(START));
    // The server drops requests signed with another secret: silence.
    let addr = serve_radius(cfg.clone(), clock.clone(), Radius::Serve);
    let mut t = radius_transport(&addr, clock.clone(), "not-it");
    let e = probe(&credential(), &mut t, &limits(), &|_, _| {}).unwrap_err();
    assert_eq!(e.status(), 1);
    assert!(
        e.to_string().contains(&format!(
            "no answer from the RADIUS server at {addr} after 2 tries"
        )),
        "{e}"
    );
    assert!(!e.to_string().contains("not-it"), "{e}");
    // A server whose replies are signed with another secret.
    let addr = serve_radius(cfg.clone(), clock.clone(), Radius::OtherSecret);
    let mut t = radius_transport(&addr, clock.clone(), "s3cret");
    let e = probe(&credential(), &mut t, &limits(), &|_, _| {}).unwrap_err();
    assert_eq!(e.status(), 2);
    assert!(e.to_string().contains("the shared secret is wrong"), "{e}");
    // A user the server does not know is refused like a wrong code: the baseline says so.
    let addr = serve_radius(cfg, clock.clone(), Radius::Serve);
    let mut t = radius_transport(&addr, clock, "s3cret");
    let mut other = credential();
    other.id = "NOPE".into();
    let e = probe(&other, &mut t, &limits(), &|_, _| {}).unwrap_err();
    assert_eq!(e.status(), 2);
    assert!(
        e.to_string()
            .contains("credential NOPE: the validator answered reject to the code of now"),
        "{e}"
    );
}
