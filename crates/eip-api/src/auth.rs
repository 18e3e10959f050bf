//! Turning an HTTP request into an authenticated RPC call. Decides the
//! signature scheme (V1: `Signature` parameter; V3: `Authorization:
//! ACS3-HMAC-SHA256` header), gathers the parameters (query plus form body),
//! and verifies the signature once the caller has found the key's secret.
//! Replay defence (timestamp window, nonce reuse) needs a clock and memory,
//! so the server does it with the values exposed here.

use crate::bounds;
use crate::catalog::Product;
use crate::encode::Format;
use crate::errors::{WireError, to_wire};
use crate::params::Params;
use crate::sign;
use eip_types::time;

/// What the server received.
#[derive(Debug)]
pub struct RawRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// Request path, `/` for RPC.
    pub path: &'a str,
    /// Raw query string, without `?`.
    pub query: &'a str,
    /// Headers as received (any case).
    pub headers: &'a [(&'a str, &'a str)],
    /// Raw body.
    pub body: &'a [u8],
}

impl RawRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    fn is_form(&self) -> bool {
        self.header("content-type")
            .map(|c| c.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
            .unwrap_or(false)
    }
}

#[derive(Debug)]
enum Scheme {
    V1 { signature: String },
    V3 { auth: sign::V3Authorization, content_sha256: String },
}

/// A parsed, not yet verified, request.
#[derive(Debug)]
pub struct Incoming {
    /// All parameters (query and form body).
    pub params: Params,
    /// The action name.
    pub action: String,
    /// The API version.
    pub version: String,
    /// Response format.
    pub format: Format,
    /// Claimed AccessKeyId.
    pub access_key_id: String,
    /// Claimed signing time (epoch ms).
    pub timestamp_ms: i64,
    /// Signature nonce.
    pub nonce: String,
    /// Whether the request carried an STS security token.
    pub security_token: Option<String>,
    scheme: Scheme,
    /// How many of `params` came from the query string (they come first); V3
    /// signs only those.
    query_len: usize,
}

fn incomplete(what: &str) -> WireError {
    WireError::new(
        400,
        "IncompleteSignature",
        format!("The request signature does not conform to Aliyun standards: {what}."),
    )
}

fn bad_nonce() -> WireError {
    incomplete(&format!("the signature nonce must be 1 to {} visible ASCII characters", bounds::MAX_NONCE_LEN))
}

fn bad_time() -> WireError {
    WireError::new(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
}

/// The response format a request asks for, read without validating anything
/// else: for errors found before [`parse`] succeeds.
pub fn format_of(raw: &RawRequest<'_>) -> Format {
    // A body that is not UTF-8 still leaves the query's Format.
    let params = request_params(raw).or_else(|_| request_params(&RawRequest { body: b"", ..*raw }));
    params.map(|(p, _)| Format::from_param(p.raw("Format"))).unwrap_or(Format::Json)
}

/// The query's parameters, then a form body's, and how many came from the
/// query.
fn request_params(raw: &RawRequest<'_>) -> Result<(Params, usize), WireError> {
    let mut all = sign::decode_form(raw.query);
    let query_len = all.len();
    if !raw.body.is_empty() && raw.is_form() {
        let body = std::str::from_utf8(raw.body)
            .map_err(|_| WireError::new(400, "InvalidParameter", "The form body is not valid UTF-8."))?;
        all.extend(sign::decode_form(body));
    }
    Ok((Params::new(all), query_len))
}

/// Parses a request. Fails for requests that name no action or carry no
/// recognisable signature.
pub fn parse(raw: &RawRequest<'_>) -> Result<Incoming, WireError> {
    let (params, query_len) = request_params(raw)?;
    let format = Format::from_param(params.raw("Format"));
    bounds::check_params(&params).map_err(|e| to_wire(&e, Product::Vpc, ""))?;
    if let Some(authz) = raw.header("authorization") {
        let auth = sign::parse_v3_authorization(authz).map_err(|e| incomplete(&e.to_string()))?;
        // The signature must cover the host and every x-acs-* header sent
        // (action, version, date, nonce, ...): otherwise a captured signature
        // could be replayed with a new nonce or date, or for another action.
        let signed = |name: &str| auth.signed_headers.iter().any(|s| s == name);
        if !signed("host") {
            return Err(incomplete("SignedHeaders must include host"));
        }
        if let Some((name, _)) = raw.headers.iter().find(|(name, _)| {
            name.len() > 6 && name[..6].eq_ignore_ascii_case("x-acs-") && !signed(&name.to_ascii_lowercase())
        }) {
            return Err(incomplete(&format!("SignedHeaders must include {}", name.to_ascii_lowercase())));
        }
        let action = raw.header("x-acs-action").or_else(|| params.opt("Action")).unwrap_or_default().to_owned();
        let version = raw.header("x-acs-version").or_else(|| params.opt("Version")).unwrap_or_default().to_owned();
        let date = raw.header("x-acs-date").ok_or_else(bad_time)?;
        let timestamp_ms = time::parse_iso(date).ok_or_else(bad_time)?;
        let nonce = raw.header("x-acs-signature-nonce").unwrap_or_default().to_owned();
        if nonce.is_empty() {
            return Err(incomplete("x-acs-signature-nonce is missing"));
        }
        if !bounds::is_plausible_nonce(&nonce) {
            return Err(bad_nonce());
        }
        let content_sha256 = raw.header("x-acs-content-sha256").unwrap_or_default().to_owned();
        let security_token = raw.header("x-acs-security-token").map(str::to_owned);
        return Ok(Incoming {
            access_key_id: auth.access_key_id.clone(),
            params,
            action,
            version,
            format,
            timestamp_ms,
            nonce,
            security_token,
            scheme: Scheme::V3 { auth, content_sha256 },
            query_len,
        });
    }
    let Some(signature) = params.opt("Signature").map(str::to_owned) else {
        return Err(incomplete("no Signature parameter and no Authorization header"));
    };
    let access_key_id = params.opt("AccessKeyId").ok_or_else(|| incomplete("AccessKeyId is missing"))?.to_owned();
    match params.opt("SignatureMethod") {
        Some("HMAC-SHA1") => {}
        _ => {
            return Err(WireError::new(
                400,
                "IncompleteSignature",
                "The specified parameter \"SignatureMethod\" is not valid.",
            ));
        }
    }
    let nonce = params.opt("SignatureNonce").ok_or_else(|| incomplete("SignatureNonce is missing"))?.to_owned();
    if !bounds::is_plausible_nonce(&nonce) {
        return Err(bad_nonce());
    }
    let timestamp_ms = params.opt("Timestamp").and_then(time::parse_iso).ok_or_else(bad_time)?;
    Ok(Incoming {
        action: params.opt("Action").unwrap_or_default().to_owned(),
        version: params.opt("Version").unwrap_or_default().to_owned(),
        security_token: params.opt("SecurityToken").map(str::to_owned),
        access_key_id,
        format,
        timestamp_ms,
        nonce,
        scheme: Scheme::V1 { signature },
        params,
        query_len,
    })
}

impl Incoming {
    /// `V1` or `V3`, for logs and metrics.
    pub fn scheme_name(&self) -> &'static str {
        match self.scheme {
            Scheme::V1 { .. } => "V1",
            Scheme::V3 { .. } => "V3",
        }
    }

    /// Checks the signature with the key's secret.
    pub fn verify(&self, raw: &RawRequest<'_>, secret: &str) -> Result<(), WireError> {
        match &self.scheme {
            Scheme::V1 { signature } => {
                let signed: Vec<(&str, &str)> = self
                    .params
                    .pairs()
                    .iter()
                    .filter(|(k, _)| k != "Signature")
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let sts = sign::v1_string_to_sign(raw.method, &signed);
                let expected = sign::v1_signature(secret, &sts);
                if sign::signatures_equal(&expected, signature) {
                    Ok(())
                } else {
                    // The legacy SDK compares the text after the first ':' with
                    // its own string to sign to diagnose a wrong secret.
                    Err(WireError::new(
                        400,
                        "SignatureDoesNotMatch",
                        format!(
                            "Specified signature is not matched with our calculation. server string to sign is:{sts}"
                        ),
                    ))
                }
            }
            Scheme::V3 { auth, content_sha256 } => {
                let mismatch = || {
                    WireError::new(
                        400,
                        "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided. Check your AccessKey secret and signing method.",
                    )
                };
                let body_hash = sign::sha256_hex(raw.body);
                if !content_sha256.is_empty() && !content_sha256.eq_ignore_ascii_case(&body_hash) {
                    return Err(mismatch());
                }
                let query: Vec<(&str, &str)> =
                    self.params.pairs()[..self.query_len].iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let hashed = if content_sha256.is_empty() { body_hash.as_str() } else { content_sha256.as_str() };
                let canonical =
                    sign::v3_canonical_request(raw.method, raw.path, &query, raw.headers, &auth.signed_headers, hashed)
                        .map_err(|e| incomplete(&e.to_string()))?;
                let expected = sign::v3_signature(secret, &sign::v3_string_to_sign(&canonical));
                if sign::signatures_equal(&expected, &auth.signature) { Ok(()) } else { Err(mismatch()) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1_request(secret: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("Action", "DescribeEipAddresses"),
            ("Version", "2016-04-28"),
            ("Format", "JSON"),
            ("AccessKeyId", "testid"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", "n1"),
            ("Timestamp", "2026-11-26T02:25:09Z"),
            ("RegionId", "cn-hangzhou"),
        ];
        pairs.extend_from_slice(extra);
        let sts = sign::v1_string_to_sign("POST", &pairs);
        let sig = sign::v1_signature(secret, &sts);
        let mut q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", sign::percent_encode(v))).collect();
        q.push(format!("Signature={}", sign::percent_encode(&sig)));
        q.join("&")
    }

    #[test]
    fn v1_round_trip_and_wrong_secret() {
        let q = v1_request("s3cret", &[("EipName", "a b")]);
        let raw = RawRequest { method: "POST", path: "/", query: &q, headers: &[], body: b"" };
        let inc = parse(&raw).unwrap();
        assert_eq!(
            (inc.action.as_str(), inc.version.as_str(), inc.scheme_name()),
            ("DescribeEipAddresses", "2016-04-28", "V1")
        );
        assert_eq!(inc.params.opt("EipName"), Some("a b"));
        assert!(inc.verify(&raw, "s3cret").is_ok());
        let err = inc.verify(&raw, "other").unwrap_err();
        assert_eq!(err.code, "SignatureDoesNotMatch");
        assert!(err.message.starts_with(
            "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&"
        ));
    }

    #[test]
    fn unsigned_requests_are_incomplete() {
        let raw = RawRequest { method: "POST", path: "/", query: "Action=DescribeRegions", headers: &[], body: b"" };
        assert_eq!(parse(&raw).unwrap_err().code, "IncompleteSignature");
    }

    /// A V3 request signed over `signed` (names), carrying `headers`.
    fn v3_request(secret: &str, headers: &[(&str, &str)], signed: &[&str]) -> (Vec<(String, String)>, String) {
        let names: Vec<String> = signed.iter().map(|s| s.to_string()).collect();
        let hashed = sign::sha256_hex(b"");
        let canonical = sign::v3_canonical_request("POST", "/", &[], headers, &names, &hashed).unwrap();
        let sig = sign::v3_signature(secret, &sign::v3_string_to_sign(&canonical));
        let authz = format!("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={},Signature={sig}", signed.join(";"));
        let mut all: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        all.push(("authorization".into(), authz.clone()));
        (all, authz)
    }

    #[test]
    fn v3_must_sign_the_host_and_every_acs_header() {
        let headers = [
            ("host", "127.0.0.1:8716"),
            ("x-acs-action", "DescribeRegions"),
            ("x-acs-version", "2016-04-28"),
            ("x-acs-date", "2026-11-26T02:25:09Z"),
            ("x-acs-signature-nonce", "n1"),
        ];
        let every = ["host", "x-acs-action", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"];
        let check = |signed: &[&str]| {
            let (all, _) = v3_request("s", &headers, signed);
            let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let raw = RawRequest { method: "POST", path: "/", query: "", headers: &pairs, body: b"" };
            parse(&raw).and_then(|inc| inc.verify(&raw, "s")).map_err(|e| (e.code, e.message))
        };
        assert_eq!(check(&every), Ok(()));
        // Leaving out the nonce (or the date, action, version) would let a
        // captured signature be replayed with a fresh one.
        let no_nonce: Vec<&str> = every.iter().copied().filter(|h| *h != "x-acs-signature-nonce").collect();
        let (code, message) = check(&no_nonce).unwrap_err();
        assert_eq!(code, "IncompleteSignature");
        assert!(message.contains("x-acs-signature-nonce"), "{message}");
        let no_host: Vec<&str> = every.iter().copied().filter(|h| *h != "host").collect();
        assert_eq!(check(&no_host).unwrap_err().0, "IncompleteSignature");
    }

    #[test]
    fn bad_timestamps_are_refused() {
        let q = v1_request("s", &[]).replace("2026-11-26T02%3A25%3A09Z", "yesterday");
        let raw = RawRequest { method: "POST", path: "/", query: &q, headers: &[], body: b"" };
        assert_eq!(parse(&raw).unwrap_err().code, "InvalidTimeStamp.Format");
    }
}
