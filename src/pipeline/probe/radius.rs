//! The `radius` transport: an RFC 2865 Access-Request with the code as a PAP User-Password,
//! signed with a Message-Authenticator (RFC 3579 s3.2, placed first as the BlastRADIUS advice
//! says), every reply checked against the shared secret before it is believed; an
//! Access-Challenge's State goes back with the next code.

use super::clock::Clock;
use crate::error::{Error, Result};
use crate::probe::{Answer, Credential, Transport};
use crate::time::Millis;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

const ACCESS_REQUEST: u8 = 1;
const ACCESS_ACCEPT: u8 = 2;
const ACCESS_REJECT: u8 = 3;
const ACCESS_CHALLENGE: u8 = 11;

const USER_NAME: u8 = 1;
const USER_PASSWORD: u8 = 2;
const REPLY_MESSAGE: u8 = 18;
const STATE: u8 = 24;
const NAS_IDENTIFIER: u8 = 32;
const MESSAGE_AUTHENTICATOR: u8 = 80;

/// A RADIUS shared secret, read from a file or `OTPDRIFT_RADIUS_SECRET` (never from the
/// command line). Not `Debug`: it is never printed.
#[derive(Clone)]
pub struct SharedSecret(Vec<u8>);

impl SharedSecret {
    /// The file's first line (a trailing newline is not part of the secret).
    pub fn from_file(path: &std::path::Path) -> Result<SharedSecret> {
        let text = std::fs::read(path).map_err(|e| {
            Error::input(format!(
                "cannot read the RADIUS shared secret file {}: {e}",
                path.display()
            ))
        })?;
        let line = text.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        SharedSecret::new(line.to_vec(), &path.display().to_string())
    }

    pub fn from_env() -> Option<Result<SharedSecret>> {
        let s = std::env::var_os("OTPDRIFT_RADIUS_SECRET")?;
        Some(SharedSecret::new(
            s.into_encoded_bytes(),
            "OTPDRIFT_RADIUS_SECRET",
        ))
    }

    fn new(bytes: Vec<u8>, from: &str) -> Result<SharedSecret> {
        if bytes.is_empty() {
            return Err(Error::input(format!(
                "{from}: the RADIUS shared secret is empty"
            )));
        }
        Ok(SharedSecret(bytes))
    }

    #[cfg(test)]
    pub fn for_tests(s: &str) -> SharedSecret {
        SharedSecret(s.as_bytes().to_vec())
    }
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hmac_md5(secret: &[u8], packet: &[u8]) -> [u8; 16] {
    let mut m = Hmac::<Md5>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(packet);
    m.finalize().into_bytes().into()
}

/// RFC 2865 s5.2: the password padded with NULs to a multiple of 16 bytes, each block XORed
/// with MD5(secret ‖ previous ciphertext block), the first with the Request Authenticator.
pub fn hide_password(password: &[u8], secret: &[u8], authenticator: &[u8; 16]) -> Vec<u8> {
    let mut out = password.to_vec();
    out.resize(password.len().div_ceil(16).max(1) * 16, 0);
    let mut prev: Vec<u8> = authenticator.to_vec();
    for block in out.chunks_mut(16) {
        let b = md5(&[secret, &prev]);
        for (c, k) in block.iter_mut().zip(b) {
            *c ^= k;
        }
        prev = block.to_vec();
    }
    out
}

/// The inverse of `hide_password` (tests' servers use it).
#[cfg(test)]
pub fn reveal_password(hidden: &[u8], secret: &[u8], authenticator: &[u8; 16]) -> Vec<u8> {
    let mut out = hidden.to_vec();
    let mut prev: Vec<u8> = authenticator.to_vec();
    for block in out.chunks_mut(16) {
        let next = block.to_vec();
        for (c, k) in block.iter_mut().zip(md5(&[secret, &prev])) {
            *c ^= k;
        }
        prev = next;
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

/// The attributes of a packet body (type, value); None when they do not add up.
pub fn attributes(mut body: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut v = Vec::new();
    while !body.is_empty() {
        let (&t, rest) = body.split_first()?;
        let len = *rest.first()? as usize;
        if len < 2 || len > body.len() {
            return None;
        }
        v.push((t, &body[2..len]));
        body = &body[len..];
    }
    Some(v)
}

fn push_attr(p: &mut Vec<u8>, t: u8, value: &[u8]) {
    p.push(t);
    p.push(value.len() as u8 + 2);
    p.extend_from_slice(value);
}

/// An Access-Request for `user` with `password`, Message-Authenticator first.
pub fn access_request(
    id: u8,
    authenticator: &[u8; 16],
    secret: &[u8],
    user: &str,
    password: &str,
    state: Option<&[u8]>,
) -> Vec<u8> {
    let mut p = vec![ACCESS_REQUEST, id, 0, 0];
    p.extend_from_slice(authenticator);
    push_attr(&mut p, MESSAGE_AUTHENTICATOR, &[0; 16]);
    push_attr(&mut p, USER_NAME, user.as_bytes());
    push_attr(
        &mut p,
        USER_PASSWORD,
        &hide_password(password.as_bytes(), secret, authenticator),
    );
    push_attr(&mut p, NAS_IDENTIFIER, b"otpdrift-probe");
    if let Some(s) = state {
        push_attr(&mut p, STATE, s);
    }
    let len = p.len() as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    let mac = hmac_md5(secret, &p);
    p[22..38].copy_from_slice(&mac);
    p
}

/// What a checked reply said.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub code: u8,
    pub state: Option<Vec<u8>>,
    pub message: Option<String>,
}

/// Why a datagram is not the reply to the request.
#[derive(Debug, PartialEq)]
pub enum Refused {
    /// Not an answer to this request (another id): keep listening.
    Stale,
    /// An answer that cannot be believed: the reason.
    Bad(String),
}

/// Checks a reply to the request with `id` and `authenticator`: its length and attributes,
/// its Response Authenticator (RFC 2865 s3) and, when present, its Message-Authenticator.
pub fn check_reply(
    buf: &[u8],
    id: u8,
    authenticator: &[u8; 16],
    secret: &[u8],
) -> std::result::Result<Reply, Refused> {
    if buf.len() < 20 {
        return Err(Refused::Bad(format!(
            "a {}-byte datagram is not a RADIUS reply",
            buf.len()
        )));
    }
    if buf[1] != id {
        return Err(Refused::Stale);
    }
    let len = u16::from_be_bytes([buf[2], buf[3]]) as usize;
    if !(20..=buf.len()).contains(&len) {
        return Err(Refused::Bad(format!(
            "the reply says it is {len} bytes long but {} arrived",
            buf.len()
        )));
    }
    let buf = &buf[..len];
    let wrong_secret = || {
        Refused::Bad(
            "the reply is not signed with this shared secret (its authenticator does not match): the shared secret is wrong, or something else answered"
                .into(),
        )
    };
    if md5(&[&buf[..4], authenticator, &buf[20..], secret]) != buf[4..20] {
        return Err(wrong_secret());
    }
    let attrs = attributes(&buf[20..])
        .ok_or_else(|| Refused::Bad("the reply's attributes do not add up".into()))?;
    let mut at = 20;
    for (t, v) in &attrs {
        if *t == MESSAGE_AUTHENTICATOR {
            if v.len() != 16 {
                return Err(wrong_secret());
            }
            let mut copy = buf.to_vec();
            copy[4..20].copy_from_slice(authenticator);
            copy[at + 2..at + 18].fill(0);
            if hmac_md5(secret, &copy) != **v {
                return Err(wrong_secret());
            }
        }
        at += v.len() + 2;
    }
    let find = |t: u8| attrs.iter().find(|a| a.0 == t).map(|a| a.1.to_vec());
    Ok(Reply {
        code: buf[0],
        state: find(STATE),
        message: find(REPLY_MESSAGE).map(|m| String::from_utf8_lossy(&m).into_owned()),
    })
}

/// A reply to the request with `id` and `authenticator`, as a server signs it (tests' servers).
#[cfg(test)]
pub fn reply(
    code: u8,
    id: u8,
    authenticator: &[u8; 16],
    secret: &[u8],
    attrs: &[(u8, &[u8])],
    with_message_authenticator: bool,
) -> Vec<u8> {
    let mut p = vec![code, id, 0, 0];
    p.extend_from_slice(authenticator);
    if with_message_authenticator {
        push_attr(&mut p, MESSAGE_AUTHENTICATOR, &[0; 16]);
    }
    for (t, v) in attrs {
        push_attr(&mut p, *t, v);
    }
    let len = p.len() as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    if with_message_authenticator {
        let mac = hmac_md5(secret, &p);
        p[22..38].copy_from_slice(&mac);
    }
    let ra = md5(&[&p[..4], authenticator, &p[20..], secret]);
    p[4..20].copy_from_slice(&ra);
    p
}

/// A RADIUS server reached over UDP; the credential's id is the User-Name.
pub struct RadiusTransport {
    server: SocketAddr,
    secret: SharedSecret,
    clock: Box<dyn Clock>,
    socket: UdpSocket,
    rng: ChaCha20Rng,
    id: u8,
    /// The State of an Access-Challenge, for the next request.
    state: Option<Vec<u8>>,
    /// How long to wait for each reply, and how many times to send a request.
    pub timeout: Duration,
    pub tries: u32,
}

impl RadiusTransport {
    pub fn new(server: &str, secret: SharedSecret, clock: Box<dyn Clock>) -> Result<Self> {
        let addr = server
            .to_socket_addrs()
            .map_err(|e| Error::input(format!("radius target {server}: {e}")))?
            .next()
            .ok_or_else(|| Error::input(format!("radius target {server}: no address")))?;
        let local = if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(local)
            .map_err(|e| Error::failed(format!("cannot open a UDP socket: {e}")))?;
        let mut rng = ChaCha20Rng::from_os_rng();
        let id = rng.next_u32() as u8;
        Ok(RadiusTransport {
            server: addr,
            secret,
            clock,
            socket,
            rng,
            id,
            state: None,
            timeout: Duration::from_secs(3),
            tries: 3,
        })
    }

    /// Sends one request (again after each silent timeout) and returns the checked reply.
    fn exchange(&mut self, user: &str, password: &str) -> Result<Reply> {
        self.id = self.id.wrapping_add(1);
        let mut authenticator = [0u8; 16];
        self.rng.fill_bytes(&mut authenticator);
        let packet = access_request(
            self.id,
            &authenticator,
            &self.secret.0,
            user,
            password,
            self.state.as_deref(),
        );
        let mut buf = [0u8; 4096];
        for _ in 0..self.tries {
            self.socket
                .send_to(&packet, self.server)
                .map_err(|e| Error::failed(format!("cannot send to {}: {e}", self.server)))?;
            let deadline = Instant::now() + self.timeout;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                if left.is_zero() {
                    break;
                }
                self.socket
                    .set_read_timeout(Some(left))
                    .map_err(|e| Error::failed(e.to_string()))?;
                let (n, from) = match self.socket.recv_from(&mut buf) {
                    Ok(x) => x,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        break
                    }
                    // A closed port answers with ICMP, which Linux reports here.
                    Err(e) => {
                        return Err(Error::failed(format!(
                            "no RADIUS server at {}: {e}",
                            self.server
                        )))
                    }
                };
                if from != self.server {
                    continue;
                }
                match check_reply(&buf[..n], self.id, &authenticator, &self.secret.0) {
                    Ok(r) => return Ok(r),
                    Err(Refused::Stale) => continue,
                    Err(Refused::Bad(why)) => {
                        return Err(Error::input(format!(
                            "RADIUS {}: {why}; nothing more was sent",
                            self.server
                        )))
                    }
                }
            }
        }
        Err(Error::failed(format!(
            "no answer from the RADIUS server at {} after {} tries {} s apart: it is not running, or it does not count this machine as a client (servers drop requests from unknown clients and with a wrong shared secret silently)",
            self.server,
            self.tries,
            self.timeout.as_secs_f64()
        )))
    }
}

impl Transport for RadiusTransport {
    fn now(&mut self) -> Millis {
        self.clock.now()
    }

    fn wait_until(&mut self, t: Millis) -> Result<()> {
        self.clock.wait_until(t)
    }

    fn verify(&mut self, cred: &Credential, code: &str) -> Result<Answer> {
        let r = self.exchange(&cred.id, code)?;
        self.state = None;
        match r.code {
            ACCESS_ACCEPT => Ok(Answer::Accept),
            ACCESS_REJECT => Ok(Answer::Reject),
            ACCESS_CHALLENGE => {
                self.state = r.state;
                Ok(Answer::Challenge)
            }
            other => Err(Error::failed(format!(
                "RADIUS {}: a reply with code {other} to an Access-Request (expected Accept, Reject or Challenge); nothing more was sent",
                self.server
            ))),
        }
    }

    fn describe(&self) -> String {
        format!(
            "RADIUS (RFC 2865 PAP with Message-Authenticator) at {}",
            self.server
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        data_encoding::HEXLOWER.decode(s.as_bytes()).unwrap()
    }

    const RA: &str = "0f403f9473978057bd83d5cb98f4227a";

    #[test]
    fn the_password_and_reply_are_signed_as_in_rfc_2865_section_7_1() {
        let ra: [u8; 16] = hex(RA).try_into().unwrap();
        assert_eq!(
            hide_password(b"arctangent", b"xyzzy5461", &ra),
            hex("0dbe708d93d413ce3196e43f782a0aee")
        );
        assert_eq!(
            reveal_password(&hex("0dbe708d93d413ce3196e43f782a0aee"), b"xyzzy5461", &ra),
            b"arctangent"
        );
        // The Access-Accept of the example: Service-Type, Login-Service, Login-IP-Host.
        let accept = hex(
            "0200002686fe220e7624ba2a1005f6bf9b55e0b2060600000001 0f06000000000e06c0a80103"
                .replace(' ', "")
                .as_str(),
        );
        let r = check_reply(&accept, 0, &ra, b"xyzzy5461").unwrap();
        assert_eq!((r.code, r.state, r.message), (2, None, None));
        assert!(matches!(
            check_reply(&accept, 0, &ra, b"xyzzy5462"),
            Err(Refused::Bad(w)) if w.contains("shared secret is wrong")
        ));
        assert_eq!(
            check_reply(&accept, 1, &ra, b"xyzzy5461"),
            Err(Refused::Stale)
        );
    }

    #[test]
    fn long_passwords_chain_blocks_and_requests_carry_a_valid_message_authenticator() {
        let ra = [7u8; 16];
        let pw = "a password longer than sixteen bytes, three blocks";
        let hidden = hide_password(pw.as_bytes(), b"s", &ra);
        assert_eq!(hidden.len(), 64);
        assert_eq!(reveal_password(&hidden, b"s", &ra), pw.as_bytes());
        let p = access_request(9, &ra, b"s", "alice", "123456", Some(b"st"));
        assert_eq!(u16::from_be_bytes([p[2], p[3]]) as usize, p.len());
        let attrs = attributes(&p[20..]).unwrap();
        let types: Vec<u8> = attrs.iter().map(|a| a.0).collect();
        assert_eq!(types, [80, 1, 2, 32, 24]);
        let mut zeroed = p.clone();
        zeroed[22..38].fill(0);
        assert_eq!(hmac_md5(b"s", &zeroed), p[22..38]);
        assert_eq!(reveal_password(attrs[2].1, b"s", &ra), b"123456");
    }
}
