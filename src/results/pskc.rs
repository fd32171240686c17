//! PSKC (RFC 6030) key containers, the format token vendors deliver seeds in: each key's id,
//! secret, algorithm (HOTP or TOTP), digits, counter, time step and epoch.

use super::replay::SecretIn;
use super::table::FileError;
use crate::otp::encode_base32;

/// Standard Base64 (RFC 4648 s4), whitespace ignored, `=` padding optional.
fn base64(text: &str) -> Result<Vec<u8>, String> {
    static SPEC: std::sync::OnceLock<data_encoding::Encoding> = std::sync::OnceLock::new();
    let enc = SPEC.get_or_init(|| {
        let mut spec = data_encoding::BASE64_NOPAD.specification();
        spec.ignore.push_str(" \t\r\n");
        spec.check_trailing_bits = false;
        spec.encoding().expect("a valid Base64 specification")
    });
    let body = text.trim_end_matches(|c: char| c == '=' || c.is_ascii_whitespace());
    enc.decode(body.as_bytes()).map_err(|e| {
        // The crate checks the length first; a wrong character is the clearer message.
        let bad = |c: &char| !c.is_ascii_alphanumeric() && !"+/= \t\r\n".contains(*c);
        match body.chars().find(bad) {
            Some(c) => format!("`{c}` is not Base64"),
            None if e.kind == data_encoding::DecodeKind::Symbol => {
                "`=` is not Base64 inside the text".into()
            }
            None => format!(
                "{} Base64 characters are no whole number of bytes (4 characters make 3 bytes)",
                body.chars().filter(|c| !c.is_ascii_whitespace()).count()
            ),
        }
    })
}

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

/// The first child element of `n` named `name`.
fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// The keys of a PSKC document, as secrets rows (with the line of each `Key` element).
pub fn read(file: &str, text: &str) -> Result<Vec<(u64, SecretIn)>, FileError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        let p = e.pos();
        FileError::new(file, p.row as u64, p.col as usize, format!("not XML: {e}"))
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "KeyContainer" {
        return Err(FileError::new(
            file,
            1,
            0,
            format!(
                "expected a PSKC KeyContainer (RFC 6030), found <{}>",
                root.tag_name().name()
            ),
        ));
    }
    let plain = |n: Option<Node>| {
        n.and_then(|n| child(n, "PlainValue"))
            .and_then(|v| v.text())
            .map(|t| t.trim().to_string())
    };
    let mut out = Vec::new();
    for key in root
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "Key")
    {
        let line = doc.text_pos_at(key.range().start).row as u64;
        let bad = |msg: String| FileError::new(file, line, 0, msg);
        let id = key
            .attribute("Id")
            .or_else(|| key.attribute("KeyId"))
            .ok_or_else(|| bad("a Key without an Id".into()))?;
        let algorithm = key.attribute("Algorithm").unwrap_or("");
        let kind = if algorithm.ends_with("hotp") {
            "hotp"
        } else if algorithm.ends_with("totp") {
            "totp"
        } else {
            return Err(bad(format!(
                "key `{id}`: expected a HOTP or TOTP algorithm (…:pskc:hotp, …:pskc:totp), found `{algorithm}`"
            )));
        };
        let params = child(key, "AlgorithmParameters");
        let encoding = params
            .and_then(|p| child(p, "ResponseFormat"))
            .and_then(|r| r.attribute("Encoding"));
        if let Some(e) = encoding.filter(|e| !e.eq_ignore_ascii_case("DECIMAL")) {
            return Err(bad(format!(
                "key `{id}`: ResponseFormat Encoding `{e}`: only DECIMAL codes (RFC 4226) are decided"
            )));
        }
        let digits = params
            .and_then(|p| child(p, "ResponseFormat"))
            .and_then(|r| r.attribute("Length"))
            .map(|l| {
                l.parse::<u32>().map_err(|_| {
                    bad(format!(
                        "key `{id}`: ResponseFormat Length `{l}` is not a number"
                    ))
                })
            })
            .transpose()?;
        let hash = params
            .and_then(|p| child(p, "Suite"))
            .and_then(|s| s.text())
            .map(|s| s.trim().to_ascii_lowercase().replace("hmac-", ""));
        let data = child(key, "Data").ok_or_else(|| bad(format!("key `{id}` has no Data")))?;
        let secret =
            child(data, "Secret").ok_or_else(|| bad(format!("key `{id}` has no Secret")))?;
        if child(secret, "EncryptedValue").is_some() {
            return Err(bad(format!(
                "key `{id}`: the secret is encrypted; decrypt the container with the vendor's transport key first"
            )));
        }
        let bytes = plain(Some(secret))
            .ok_or_else(|| bad(format!("key `{id}`: expected a Secret PlainValue")))
            .and_then(|t| base64(&t).map_err(|e| bad(format!("key `{id}`: Secret: {e}"))))?;
        let number = |name: &str| -> Result<Option<i64>, FileError> {
            plain(child(data, name))
                .map(|t| {
                    t.parse::<i64>()
                        .map_err(|_| bad(format!("key `{id}`: {name} `{t}` is not a whole number")))
                })
                .transpose()
        };
        let positive = |name: &str, v: Option<i64>, least: i64| -> Result<Option<i64>, FileError> {
            match v {
                Some(x) if x < least || x > u32::MAX as i64 => Err(bad(format!(
                    "key `{id}`: {name} {x} is out of range (at least {least})"
                ))),
                _ => Ok(v),
            }
        };
        out.push((
            line,
            SecretIn {
                credential: id.to_string(),
                secret: encode_base32(&bytes),
                algorithm: hash,
                digits,
                step: positive("TimeInterval", number("TimeInterval")?, 1)?.map(|s| s as u32),
                // RFC 6030 s4.3.4: `Time` is the token's time when the container was made (or
                // the intervals since its start point), not the TOTP epoch, which stays 0.
                t0: None,
                kind: Some(kind.to_string()),
                counter: number("Counter")?
                    .map(|c| {
                        u64::try_from(c)
                            .map_err(|_| bad(format!("key `{id}`: Counter {c} is negative")))
                    })
                    .transpose()?,
                drift_steps: number("TimeDrift")?,
            },
        ));
    }
    if out.is_empty() {
        return Err(FileError::new(file, 0, 0, "the container holds no Key"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_of_rfc_4648_vectors() {
        assert_eq!(super::base64("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(super::base64("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(super::base64("Zm9v*").unwrap_err(), "`*` is not Base64");
        // Whitespace anywhere, padding optional, unused trailing bits allowed.
        assert_eq!(super::base64(" Zm9v\n YmE=\n").unwrap(), b"fooba");
        assert_eq!(super::base64("Zm9vYmE").unwrap(), b"fooba");
        assert_eq!(super::base64("Zm9vYh").unwrap(), b"foob");
        assert_eq!(
            super::base64("Zm9vY").unwrap_err(),
            "5 Base64 characters are no whole number of bytes (4 characters make 3 bytes)"
        );
    }
}
