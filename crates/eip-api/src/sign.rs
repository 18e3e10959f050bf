//! Request signatures of the Alibaba Cloud RPC OpenAPI, as the official SDKs compute them.
//!
//! openeip has to accept requests from the unmodified official SDKs, and those SDKs sign every
//! request with one of two schemes:
//!
//! * **V1** (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`): the legacy RPC signature,
//!   used by the old Python SDK and by the new SDKs when configured with
//!   `signature_algorithm='v2'`. The signature travels as the `Signature` query parameter.
//! * **V3** (`ACS3-HMAC-SHA256`): the new SDKs' default. The signature travels in the
//!   `Authorization` header and covers the query, a chosen set of headers and the body hash.
//!
//! The server recomputes the signature from what it received and compares it with the one sent.
//! This module holds only the pure, allocation-conscious building blocks for that: percent
//! encoding and form decoding, the canonical strings, the HMACs and a constant-time comparison.
//! Deciding which scheme applies, looking up the secret and checking timestamps or nonces are
//! left to the caller.
//!
//! Both schemes canonicalise from *decoded* parameter values, never from the raw query text:
//! the SDKs disagree on how they escape the same value on the wire (`+` or `%20` for a space,
//! `*` raw or `%2A`), so the query is decoded with form semantics ([`decode_form`]) and then
//! re-encoded with one strict RFC 3986 encoder ([`percent_encode`]).

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The only V3 algorithm this module can verify; it is also the first line of the V3 string to sign.
pub const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// `hex(sha256(""))`: the `x-acs-content-sha256` value of every request with an empty body.
pub const EMPTY_BODY_SHA256_HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Uppercase hexadecimal digits, indexed by nibble.
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
/// Lowercase hexadecimal digits, indexed by nibble.
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Why a signature could not be computed or checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// The `Authorization` header does not have the `ALGO Credential=..,SignedHeaders=..,Signature=..`
    /// shape; the payload says what is wrong.
    MalformedAuthorization(String),
    /// The `Authorization` header names an algorithm other than [`V3_ALGORITHM`]; the payload is
    /// the algorithm as sent.
    UnsupportedAlgorithm(String),
    /// A header listed in `SignedHeaders` is not present in the request; the payload is its name.
    MissingSignedHeader(String),
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedAuthorization(why) => write!(f, "malformed Authorization header: {why}"),
            Self::UnsupportedAlgorithm(algo) => {
                write!(f, "unsupported signature algorithm: {algo}")
            }
            Self::MissingSignedHeader(name) => {
                write!(f, "signed header is missing from the request: {name}")
            }
        }
    }
}

impl std::error::Error for SignError {}

/// `true` for the RFC 3986 unreserved bytes `A-Z a-z 0-9 - _ . ~`, which [`percent_encode`] keeps.
#[inline]
const fn is_unreserved(b: u8) -> bool {
    matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~')
}

/// Length of [`percent_encode`]`(s)` without building it.
#[inline]
fn percent_encoded_len(s: &str) -> usize {
    s.bytes().map(|b| if is_unreserved(b) { 1 } else { 3 }).sum()
}

/// Length of `percent_encode(percent_encode(s))` without building it: every escaped byte
/// becomes `%25XX`.
#[inline]
fn double_encoded_len(s: &str) -> usize {
    s.bytes().map(|b| if is_unreserved(b) { 1 } else { 5 }).sum()
}

/// Appends `s` to `out`, copying runs of unreserved bytes unchanged and writing every other
/// byte as `escape_prefix` followed by its two uppercase hex digits.
///
/// With `escape_prefix = "%"` this is [`percent_encode`]; with `"%25"` it is the encoding applied
/// twice, which is what the V1 string to sign needs.
#[inline]
fn push_escaped(out: &mut String, s: &str, escape_prefix: &str) {
    let bytes = s.as_bytes();
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        if run_start < i {
            // The run holds only ASCII bytes and is followed by an ASCII byte or a UTF-8 lead
            // byte, so both ends are char boundaries.
            out.push_str(&s[run_start..i]);
        }
        out.push_str(escape_prefix);
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
        run_start = i + 1;
    }
    if run_start < bytes.len() {
        out.push_str(&s[run_start..]);
    }
}

/// Appends the RFC 3986 percent-encoding of `s` (see [`percent_encode`]) to `out`, so that
/// canonical strings can be built in one buffer.
#[inline]
pub fn push_percent_encoded(out: &mut String, s: &str) {
    push_escaped(out, s, "%");
}

/// RFC 3986 percent-encoding of UTF-8 bytes; unreserved A-Z a-z 0-9 - _ . ~ kept, everything else %XX uppercase.
///
/// A space becomes `%20`, `*` becomes `%2A`, `+` becomes `%2B` and `~` is kept. Strings that
/// need no escaping are copied without scanning twice.
pub fn percent_encode(s: &str) -> String {
    let len = percent_encoded_len(s);
    if len == s.len() {
        return s.to_owned();
    }
    let mut out = String::with_capacity(len);
    push_percent_encoded(&mut out, s);
    out
}

/// Decode a query string or x-www-form-urlencoded body with form semantics ('+' = space, then %XX as UTF-8). Returns pairs in order; invalid UTF-8 is replaced lossily.
///
/// Empty segments (`a=1&&b=2`) are skipped, a segment without `=` is a key with an empty value,
/// and a `%` not followed by two hex digits is kept literally. Every SDK sends a literal `+` as
/// `%2B`, so decoding `+` as a space is safe.
pub fn decode_form(s: &str) -> Vec<(String, String)> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(s.bytes().filter(|&b| b == b'&').count() + 1);
    out.extend(form_urlencoded::parse(s.as_bytes()).into_owned());
    out
}

/// V1 (HMAC-SHA1) string to sign: METHOD & pe("/") & pe(canonicalized), canonicalized = sorted (byte order by key, then value) pe(k)=pe(v) joined by '&'. `params` must already exclude "Signature".
///
/// `params` are the decoded query parameters plus, for `application/x-www-form-urlencoded`
/// requests, the decoded body parameters. Empty values are signed as `key=`. The outer
/// encoding of the canonicalized string is written directly (an escaped byte becomes `%25XX`,
/// `=` becomes `%3D`, `&` becomes `%26`), so the result is built in a single allocation.
pub fn v1_string_to_sign(method: &str, params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = params.iter().collect();
    // Tuples of &str order by key, then value, each by bytes.
    sorted.sort_unstable();

    let separators = 3 * (2 * sorted.len()).saturating_sub(1); // "%3D" per pair, "%26" between
    let pairs_len: usize = sorted.iter().map(|(k, v)| double_encoded_len(k) + double_encoded_len(v)).sum();
    let mut out = String::with_capacity(method.len() + "&%2F&".len() + pairs_len + separators);

    out.push_str(method);
    out.push_str("&%2F&");
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push_str("%26");
        }
        push_escaped(&mut out, k, "%25");
        out.push_str("%3D");
        push_escaped(&mut out, v, "%25");
    }
    out
}

/// Computes an HMAC over `message` with the key `key_parts` concatenated, without allocating
/// for the key when it is short.
fn hmac_with_key_parts<M: Mac + hmac::digest::KeyInit>(key_parts: &[&[u8]], message: &[u8]) -> M {
    let key_len: usize = key_parts.iter().map(|p| p.len()).sum();
    let mut stack = [0u8; 128];
    let heap;
    let key: &[u8] = if key_len <= stack.len() {
        let mut at = 0;
        for part in key_parts {
            stack[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        &stack[..key_len]
    } else {
        heap = key_parts.concat();
        &heap
    };
    let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac
}

/// base64(HMAC-SHA1(key = secret + "&", string_to_sign))
///
/// This is the value V1 clients send as the `Signature` parameter (percent-encoded on the wire).
pub fn v1_signature(secret: &str, string_to_sign: &str) -> String {
    let mac: Hmac<Sha1> = hmac_with_key_parts(&[secret.as_bytes(), b"&"], string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Parsed `Authorization: ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Authorization {
    /// The algorithm word before the first space; always [`V3_ALGORITHM`] once parsed.
    pub algorithm: String,
    /// The `Credential` field: the caller's AccessKey ID.
    pub access_key_id: String,
    /// The `SignedHeaders` field split on `;`, lowercased, in the order sent (the SDKs sort it).
    pub signed_headers: Vec<String>,
    /// The `Signature` field as sent (the SDKs send 64 lowercase hex digits).
    pub signature: String,
}

/// Parses the value of a V3 `Authorization` header.
///
/// Expects `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`. Whitespace around
/// the comma-separated fields is ignored, unknown fields are ignored, and header names in
/// `SignedHeaders` are lowercased. Errors:
/// [`SignError::UnsupportedAlgorithm`] when the first word is not [`V3_ALGORITHM`];
/// [`SignError::MalformedAuthorization`] when a field is missing, empty or repeated.
pub fn parse_v3_authorization(value: &str) -> Result<V3Authorization, SignError> {
    let malformed = |why: &str| SignError::MalformedAuthorization(why.to_owned());

    let value = value.trim();
    let Some((algorithm, rest)) = value.split_once(' ') else {
        return Err(malformed("expected `ALGORITHM Credential=...,SignedHeaders=...,Signature=...`"));
    };
    if algorithm != V3_ALGORITHM {
        return Err(SignError::UnsupportedAlgorithm(algorithm.to_owned()));
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in rest.split(',') {
        let field = field.trim();
        if field.is_empty() {
            continue;
        }
        let Some((name, field_value)) = field.split_once('=') else {
            return Err(SignError::MalformedAuthorization(format!("field without '=': {field}")));
        };
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(SignError::MalformedAuthorization(format!("repeated field: {name}")));
        }
        let field_value = field_value.trim();
        if field_value.is_empty() {
            return Err(SignError::MalformedAuthorization(format!("empty field: {name}")));
        }
        *slot = Some(field_value);
    }

    let access_key_id = credential.ok_or_else(|| malformed("missing Credential"))?;
    let signed_headers = signed_headers.ok_or_else(|| malformed("missing SignedHeaders"))?;
    let signature = signature.ok_or_else(|| malformed("missing Signature"))?;

    let mut names = Vec::with_capacity(signed_headers.bytes().filter(|&b| b == b';').count() + 1);
    for name in signed_headers.split(';') {
        let name = name.trim();
        if name.is_empty() {
            return Err(malformed("empty name in SignedHeaders"));
        }
        names.push(name.to_ascii_lowercase());
    }

    Ok(V3Authorization {
        algorithm: algorithm.to_owned(),
        access_key_id: access_key_id.to_owned(),
        signed_headers: names,
        signature: signature.to_owned(),
    })
}

/// Canonical request for V3. `query` = decoded query pairs (any order, sorted inside), `headers` = received headers as (name, value) with any case; `signed_headers` from the Authorization header. Errors with SignError::MissingSignedHeader(name) if a signed header is absent.
///
/// The result is `METHOD\nPATH\nCanonicalQuery\nCanonicalHeaders\nSignedHeaders\nHashedPayload`:
///
/// * `CanonicalQuery`: `pe(k)=pe(v)` sorted by key, then value (bytes), joined by `&`.
///   Body parameters are not part of it.
/// * `CanonicalHeaders`: for each signed name, in the order given, `name:value\n` where `value`
///   is the trimmed received value, or for a repeated header all trimmed values sorted and
///   joined by `,`. Names are matched case-insensitively and written lowercase.
/// * `SignedHeaders`: the signed names, lowercase, joined by `;`.
/// * `PATH` is used as given (`/` for RPC) and `hashed_payload` is `hex(sha256(body))`, see
///   [`sha256_hex`]; checking it against `x-acs-content-sha256` is the caller's job.
pub fn v3_canonical_request(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    signed_headers: &[String],
    hashed_payload: &str,
) -> Result<String, SignError> {
    let mut sorted: Vec<&(&str, &str)> = query.iter().collect();
    sorted.sort_unstable();

    let query_len: usize = sorted.iter().map(|(k, v)| percent_encoded_len(k) + 1 + percent_encoded_len(v) + 1).sum();
    // An upper bound for the header lines: every received header, plus the names twice.
    let headers_len: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let names_len: usize = signed_headers.iter().map(|n| 2 * (n.len() + 1)).sum();
    let mut out = String::with_capacity(
        method.len() + path.len() + query_len + headers_len + names_len + hashed_payload.len() + 8,
    );

    out.push_str(method);
    out.push('\n');
    out.push_str(path);
    out.push('\n');
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push_percent_encoded(&mut out, k);
        out.push('=');
        push_percent_encoded(&mut out, v);
    }
    out.push('\n');

    for name in signed_headers {
        let mut matching = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
        let Some(first) = matching.next() else {
            return Err(SignError::MissingSignedHeader(name.clone()));
        };
        push_lowercase(&mut out, name);
        out.push(':');
        match matching.next() {
            None => out.push_str(first),
            Some(second) => {
                let mut values: Vec<&str> = vec![first, second];
                values.extend(matching);
                values.sort_unstable();
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(value);
                }
            }
        }
        out.push('\n');
    }
    out.push('\n');

    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        push_lowercase(&mut out, name);
    }
    out.push('\n');
    out.push_str(hashed_payload);
    Ok(out)
}

/// Appends `s` with ASCII letters lowercased, without an intermediate copy when it already is.
#[inline]
fn push_lowercase(out: &mut String, s: &str) {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        out.extend(s.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        out.push_str(s);
    }
}

/// Appends the lowercase hex form of `bytes` to `out`.
#[inline]
fn push_hex_lower(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        out.push(char::from(HEX_LOWER[usize::from(b >> 4)]));
        out.push(char::from(HEX_LOWER[usize::from(b & 0x0f)]));
    }
}

/// "ACS3-HMAC-SHA256\n" + hex(sha256(canonical_request))
pub fn v3_string_to_sign(canonical_request: &str) -> String {
    let digest = Sha256::digest(canonical_request.as_bytes());
    let mut out = String::with_capacity(V3_ALGORITHM.len() + 1 + 2 * digest.len());
    out.push_str(V3_ALGORITHM);
    out.push('\n');
    push_hex_lower(&mut out, &digest);
    out
}

/// hex(HMAC-SHA256(key = secret (no '&'), string_to_sign)), lowercase
pub fn v3_signature(secret: &str, string_to_sign: &str) -> String {
    let mac: Hmac<Sha256> = hmac_with_key_parts(&[secret.as_bytes()], string_to_sign.as_bytes());
    let tag = mac.finalize().into_bytes();
    let mut out = String::with_capacity(2 * tag.len());
    push_hex_lower(&mut out, &tag);
    out
}

/// hex(sha256(body)) lowercase
///
/// For V3 this is the `HashedPayload`, which must equal the `x-acs-content-sha256` header.
pub fn sha256_hex(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut out = String::with_capacity(2 * digest.len());
    push_hex_lower(&mut out, &digest);
    out
}

/// Constant-time comparison of two ASCII signatures.
///
/// The time taken depends only on the lengths, never on where the strings first differ, so a
/// caller cannot find a valid signature byte by byte. Strings of different lengths are unequal
/// (signature lengths are public anyway).
pub fn signatures_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value the SDK captures use to exercise escaping.
    const AWKWARD: &str = "a b*~/+=&%é";

    fn owned_to_refs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    /// The plain definition of the V1 string to sign, to check the single-pass version against.
    fn naive_v1_string_to_sign(method: &str, params: &[(&str, &str)]) -> String {
        let mut sorted = params.to_vec();
        sorted.sort();
        let canon = sorted
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        format!("{method}&{}&{}", percent_encode("/"), percent_encode(&canon))
    }

    #[test]
    fn percent_encode_follows_rfc3986() {
        assert_eq!(percent_encode(AWKWARD), "a%20b%2A~%2F%2B%3D%26%25%C3%A9");
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode(""), "");
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode("!'()"), "%21%27%28%29");
        assert_eq!(percent_encode("\u{1F600}"), "%F0%9F%98%80");
        assert_eq!(percent_encode("é~é"), "%C3%A9~%C3%A9");
        assert_eq!(percent_encode("2024-01-01T00:00Z"), "2024-01-01T00%3A00Z");
    }

    #[test]
    fn percent_encode_fast_path_keeps_length_exact() {
        let plain = "DescribeEipAddresses";
        let encoded = percent_encode(plain);
        assert_eq!(encoded, plain);
        let escaped = percent_encode(AWKWARD);
        assert_eq!(escaped.len(), percent_encoded_len(AWKWARD));
        assert_eq!(escaped.capacity(), escaped.len());
    }

    #[test]
    fn push_percent_encoded_appends() {
        let mut out = String::from("x=");
        push_percent_encoded(&mut out, "a b");
        assert_eq!(out, "x=a%20b");
    }

    #[test]
    fn decode_form_handles_every_sdk_wire_form() {
        // pynew (quote_plus), node (encodeURIComponent), pyold: all mean the same value.
        for wire in [
            "EipName=a+b%2A~%2F%2B%3D%26%25%C3%A9",
            "EipName=a%20b*~%2F%2B%3D%26%25%C3%A9",
            "EipName=a%20b%2A~%2F%2B%3D%26%25%C3%A9",
        ] {
            assert_eq!(decode_form(wire), vec![("EipName".to_owned(), AWKWARD.to_owned())], "{wire}");
        }
    }

    #[test]
    fn decode_form_edge_cases() {
        assert!(decode_form("").is_empty());
        assert_eq!(
            decode_form("b=2&&a=&SignatureType=&c"),
            vec![
                ("b".to_owned(), "2".to_owned()),
                ("a".to_owned(), String::new()),
                ("SignatureType".to_owned(), String::new()),
                ("c".to_owned(), String::new()),
            ]
        );
        // Order and duplicates are preserved; '=' inside a value is kept.
        assert_eq!(
            decode_form("k=2&k=1&x=a=b"),
            vec![
                ("k".to_owned(), "2".to_owned()),
                ("k".to_owned(), "1".to_owned()),
                ("x".to_owned(), "a=b".to_owned()),
            ]
        );
        // Invalid escapes stay literal; invalid UTF-8 is replaced.
        assert_eq!(decode_form("a=%zz%4"), vec![("a".to_owned(), "%zz%4".to_owned())]);
        assert_eq!(decode_form("a=%FF"), vec![("a".to_owned(), "\u{FFFD}".to_owned())]);
        assert_eq!(decode_form("a%2Eb=%2b"), vec![("a.b".to_owned(), "+".to_owned())]);
    }

    #[test]
    fn v1_string_to_sign_sorts_by_key_then_value() {
        let params = [("b", "2"), ("a", "z"), ("B", "1"), ("a", "y"), ("a.1", "")];
        assert_eq!(v1_string_to_sign("POST", &params), "POST&%2F&B%3D1%26a%3Dy%26a%3Dz%26a.1%3D%26b%3D2");
        assert_eq!(v1_string_to_sign("GET", &[]), "GET&%2F&");
    }

    #[test]
    fn v1_string_to_sign_double_encodes_values() {
        let sts = v1_string_to_sign("POST", &[("EipName", AWKWARD)]);
        assert_eq!(sts, "POST&%2F&EipName%3Da%2520b%252A~%252F%252B%253D%2526%2525%25C3%25A9");
        assert_eq!(sts, naive_v1_string_to_sign("POST", &[("EipName", AWKWARD)]));
        assert_eq!(sts.capacity(), sts.len(), "capacity is computed exactly");
    }

    #[test]
    fn v1_signature_known_vector() {
        // base64(HMAC-SHA1("testsecret&", "POST&%2F&Action%3DDescribeEipAddresses")), computed
        // independently with Python's hmac module.
        assert_eq!(
            v1_signature("testsecret", "POST&%2F&Action%3DDescribeEipAddresses"),
            "iAZ0cd1Cj0ze4HvkGsJNa49KDf4="
        );
        // The key is secret + "&": a different secret gives a different signature.
        assert_ne!(
            v1_signature("testsecret&", "POST&%2F&Action%3DDescribeEipAddresses"),
            "iAZ0cd1Cj0ze4HvkGsJNa49KDf4="
        );
    }

    #[test]
    fn long_secrets_fall_back_to_a_heap_key() {
        let long = "s".repeat(300);
        let a = v1_signature(&long, "x");
        let b = v3_signature(&long, "x");
        assert_eq!(a.len(), 28);
        assert_eq!(b.len(), 64);
        assert_ne!(a, v1_signature(&long[..299], "x"));
        assert_ne!(b, v3_signature(&long[..299], "x"));
    }

    #[test]
    fn parse_v3_authorization_reads_all_fields() {
        let auth =
            parse_v3_authorization("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-date,Signature=abc123")
                .unwrap();
        assert_eq!(
            auth,
            V3Authorization {
                algorithm: "ACS3-HMAC-SHA256".to_owned(),
                access_key_id: "testid".to_owned(),
                signed_headers: vec!["host".to_owned(), "x-acs-date".to_owned()],
                signature: "abc123".to_owned(),
            }
        );
        // Tolerates spaces after commas, a different field order, unknown fields and case.
        let relaxed = parse_v3_authorization(
            "  ACS3-HMAC-SHA256 Signature=abc123, Extra=1, SignedHeaders=Host;X-Acs-Date , Credential=testid ",
        )
        .unwrap();
        assert_eq!(relaxed, auth);
    }

    #[test]
    fn parse_v3_authorization_rejects_bad_headers() {
        use SignError::*;
        /// Whether an error is the one expected for a case.
        type Expect = fn(&SignError) -> bool;
        let cases: &[(&str, Expect)] = &[
            ("", |e| matches!(e, MalformedAuthorization(_))),
            ("ACS3-HMAC-SHA256", |e| matches!(e, MalformedAuthorization(_))),
            ("ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=s", |e| {
                *e == UnsupportedAlgorithm("ACS3-HMAC-SM3".to_owned())
            }),
            ("Bearer token", |e| *e == UnsupportedAlgorithm("Bearer".to_owned())),
            ("ACS3-HMAC-SHA256 SignedHeaders=host,Signature=s", |e| {
                *e == MalformedAuthorization("missing Credential".to_owned())
            }),
            ("ACS3-HMAC-SHA256 Credential=a,Signature=s", |e| {
                *e == MalformedAuthorization("missing SignedHeaders".to_owned())
            }),
            ("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host", |e| {
                *e == MalformedAuthorization("missing Signature".to_owned())
            }),
            ("ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=s", |e| matches!(e, MalformedAuthorization(_))),
            ("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;;date,Signature=s", |e| {
                matches!(e, MalformedAuthorization(_))
            }),
            ("ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=host,Signature=s", |e| {
                matches!(e, MalformedAuthorization(_))
            }),
            ("ACS3-HMAC-SHA256 Credential=a,SignedHeaders,Signature=s", |e| matches!(e, MalformedAuthorization(_))),
        ];
        for (value, check) in cases {
            let err = parse_v3_authorization(value).unwrap_err();
            assert!(check(&err), "{value:?} gave {err:?}");
        }
    }

    #[test]
    fn v3_canonical_request_layout() {
        let query = [("b", "x y"), ("a", "2"), ("a", "1")];
        let headers = [
            ("Host", "127.0.0.1:1"),
            ("X-Acs-Date", "2026-01-01T00:00:00Z"),
            ("x-acs-multi", " b "),
            ("content-length", "0"),
            ("X-ACS-MULTI", "a"),
            ("x-acs-multi", "c  d"),
        ];
        let signed = vec!["host".to_owned(), "x-acs-date".to_owned(), "x-acs-multi".to_owned()];
        let creq = v3_canonical_request("POST", "/", &query, &headers, &signed, EMPTY_BODY_SHA256_HEX).unwrap();
        assert_eq!(
            creq,
            format!(
                "POST\n/\na=1&a=2&b=x%20y\n\
                 host:127.0.0.1:1\nx-acs-date:2026-01-01T00:00:00Z\nx-acs-multi:a,b,c  d\n\n\
                 host;x-acs-date;x-acs-multi\n{EMPTY_BODY_SHA256_HEX}"
            )
        );
    }

    #[test]
    fn v3_canonical_request_empty_query_and_uppercase_signed_names() {
        let creq = v3_canonical_request("GET", "/", &[], &[("host", "h")], &["HOST".to_owned()], EMPTY_BODY_SHA256_HEX)
            .unwrap();
        assert_eq!(creq, format!("GET\n/\n\nhost:h\n\nhost\n{EMPTY_BODY_SHA256_HEX}"));
    }

    #[test]
    fn v3_canonical_request_reports_missing_header() {
        let err = v3_canonical_request(
            "POST",
            "/",
            &[],
            &[("host", "h")],
            &["host".to_owned(), "x-acs-date".to_owned()],
            EMPTY_BODY_SHA256_HEX,
        )
        .unwrap_err();
        assert_eq!(err, SignError::MissingSignedHeader("x-acs-date".to_owned()));
        assert_eq!(err.to_string(), "signed header is missing from the request: x-acs-date");
    }

    #[test]
    fn v3_string_to_sign_and_signature_known_vectors() {
        // Independently computed with Python's hashlib/hmac.
        assert_eq!(
            v3_string_to_sign("abc"),
            "ACS3-HMAC-SHA256\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            v3_signature("testsecret", "abc"),
            "c40b3c8c5184ab305fec230dd366b20800a0e3309ce4eac8b048f8ee9cf0ac45"
        );
    }

    #[test]
    fn sha256_hex_of_empty_body() {
        assert_eq!(sha256_hex(b""), EMPTY_BODY_SHA256_HEX);
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn signatures_equal_compares_exactly() {
        assert!(signatures_equal("", ""));
        assert!(signatures_equal("abc=", "abc="));
        assert!(!signatures_equal("abc=", "abd="));
        assert!(!signatures_equal("abc", "abc="));
        assert!(!signatures_equal("ABC", "abc"));
    }

    #[test]
    fn sign_error_display_and_error_trait() {
        let e: Box<dyn std::error::Error> = Box::new(SignError::UnsupportedAlgorithm("ACS3-HMAC-SM3".to_owned()));
        assert_eq!(e.to_string(), "unsupported signature algorithm: ACS3-HMAC-SM3");
        assert_eq!(
            SignError::MalformedAuthorization("missing Signature".to_owned()).to_string(),
            "malformed Authorization header: missing Signature"
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn percent_encode_round_trips_through_decode_form(k in "\\PC*", v in "\\PC*") {
                let wire = format!("{}={}", percent_encode(&k), percent_encode(&v));
                prop_assert_eq!(decode_form(&wire), vec![(k, v)]);
            }

            #[test]
            fn percent_encode_output_is_unreserved_or_escape(s in any::<String>()) {
                let out = percent_encode(&s);
                prop_assert_eq!(out.len(), percent_encoded_len(&s));
                prop_assert!(out.bytes().all(|b| is_unreserved(b) || b == b'%'));
            }

            #[test]
            fn v1_single_pass_matches_definition(
                params in proptest::collection::vec((any::<String>(), any::<String>()), 0..8)
            ) {
                let refs = owned_to_refs(&params);
                let fast = v1_string_to_sign("POST", &refs);
                prop_assert_eq!(fast.capacity(), fast.len());
                prop_assert_eq!(fast, naive_v1_string_to_sign("POST", &refs));
            }
        }
    }
}
