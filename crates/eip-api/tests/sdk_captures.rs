//! Checks `eip_api::sign` against requests captured from the unmodified official SDKs.
//!
//! Every fixture in `tests/fixtures/sdk-wire/` is one request as a server received it (method,
//! request target, headers in received order and case, body), signed with the secret
//! `testsecret`. Each one must verify with the scheme it uses (V1 `Signature` parameter or V3
//! `Authorization` header), and must stop verifying once a signed part is changed.

use std::fs;
use std::path::{Path, PathBuf};

use eip_api::sign::{
    SignError, decode_form, parse_v3_authorization, percent_encode, sha256_hex, signatures_equal, v1_signature,
    v1_string_to_sign, v3_canonical_request, v3_signature, v3_string_to_sign,
};
use serde_json::Value;

/// The AccessKey secret every capture was signed with.
const SECRET: &str = "testsecret";

/// Number of signed captures reported by the reference verifier's `--selftest`.
const SIGNED_CAPTURES: usize = 148;

/// One captured request, reduced to what a server sees on the wire.
#[derive(Debug, Clone)]
struct Capture {
    name: String,
    method: String,
    request_target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Capture {
    fn path(&self) -> &str {
        self.request_target.split_once('?').map_or(&self.request_target, |(p, _)| p)
    }

    fn raw_query(&self) -> &str {
        self.request_target.split_once('?').map_or("", |(_, q)| q)
    }

    fn header_values<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).next()
    }

    fn has_form_body(&self) -> bool {
        self.header_values("content-type").any(|v| v.to_ascii_lowercase().contains("application/x-www-form-urlencoded"))
    }

    /// Replaces the query with `pairs`, re-encoded with [`percent_encode`] (a wire form no SDK
    /// uses, which must not matter because signatures cover decoded values).
    fn with_query(&self, pairs: &[(String, String)]) -> Capture {
        let query: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect();
        let mut out = self.clone();
        out.request_target = format!("{}?{}", self.path(), query.join("&"));
        out
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdk-wire")
}

fn fixture_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(fixtures_dir())
        .expect("fixtures directory exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Capture {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let field = |name: &str| {
        json[name].as_str().unwrap_or_else(|| panic!("{}: no string field {name}", path.display())).to_owned()
    };
    let headers = json["headers"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: no headers list", path.display()))
        .iter()
        .map(|pair| {
            let name = pair[0].as_str().expect("header name is a string");
            let value = pair[1].as_str().expect("header value is a string");
            (name.to_owned(), value.to_owned())
        })
        .collect();
    Capture {
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        method: field("method"),
        request_target: field("request_target"),
        headers,
        body: field("body"),
    }
}

fn load_named(name: &str) -> Capture {
    load(&fixtures_dir().join(format!("{name}.json")))
}

fn load_all() -> Vec<Capture> {
    fixture_files().iter().map(|p| load(p)).collect()
}

fn refs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    V1,
    V3,
}

fn scheme_of(c: &Capture) -> Scheme {
    if c.header("authorization").is_some() {
        return Scheme::V3;
    }
    let in_query = decode_form(c.raw_query()).iter().any(|(k, _)| k == "Signature");
    let in_body = c.has_form_body() && decode_form(&c.body).iter().any(|(k, _)| k == "Signature");
    assert!(in_query || in_body, "{}: request is not signed", c.name);
    Scheme::V1
}

/// What the V1 check computed, for the explicit examples.
struct V1Outcome {
    string_to_sign: String,
    sent: String,
    computed: String,
}

fn compute_v1(c: &Capture, secret: &str) -> V1Outcome {
    let mut params = decode_form(c.raw_query());
    if c.has_form_body() {
        params.extend(decode_form(&c.body));
    }
    let mut sent: Vec<String> = Vec::new();
    params.retain(|(k, v)| {
        if k == "Signature" {
            sent.push(v.clone());
            false
        } else {
            true
        }
    });
    assert_eq!(sent.len(), 1, "{}: exactly one Signature parameter", c.name);
    let string_to_sign = v1_string_to_sign(&c.method, &refs(&params));
    let computed = v1_signature(secret, &string_to_sign);
    V1Outcome { string_to_sign, sent: sent.remove(0), computed }
}

/// What the V3 check computed, for the explicit examples.
struct V3Outcome {
    canonical_request: String,
    string_to_sign: String,
    sent: String,
    computed: String,
}

fn compute_v3(c: &Capture, secret: &str) -> Result<V3Outcome, String> {
    let auth_value = c.header("authorization").expect("V3 capture has Authorization");
    let auth = parse_v3_authorization(auth_value).map_err(|e| e.to_string())?;
    let hashed_payload = sha256_hex(c.body.as_bytes());
    let claimed = c.header("x-acs-content-sha256").unwrap_or_default();
    if claimed != hashed_payload {
        return Err(format!("payload hash mismatch: header {claimed}, body {hashed_payload}"));
    }
    let query = decode_form(c.raw_query());
    let headers = refs(&c.headers);
    let canonical_request =
        v3_canonical_request(&c.method, c.path(), &refs(&query), &headers, &auth.signed_headers, &hashed_payload)
            .map_err(|e| e.to_string())?;
    let string_to_sign = v3_string_to_sign(&canonical_request);
    let computed = v3_signature(secret, &string_to_sign);
    Ok(V3Outcome { canonical_request, string_to_sign, sent: auth.signature, computed })
}

/// Verifies `c` with `secret`; `Err` says why it does not verify.
fn verify_with(c: &Capture, secret: &str) -> Result<Scheme, String> {
    let scheme = scheme_of(c);
    let (sent, computed) = match scheme {
        Scheme::V1 => {
            let o = compute_v1(c, secret);
            (o.sent, o.computed)
        }
        Scheme::V3 => {
            let o = compute_v3(c, secret)?;
            (o.sent, o.computed)
        }
    };
    if signatures_equal(&sent, &computed) {
        Ok(scheme)
    } else {
        Err(format!("signature mismatch: sent {sent}, computed {computed}"))
    }
}

fn verify(c: &Capture) -> Result<Scheme, String> {
    verify_with(c, SECRET)
}

#[test]
fn every_signed_capture_verifies() {
    let files = fixture_files();
    assert_eq!(files.len(), SIGNED_CAPTURES, "every fixture is a signed capture");

    let (mut v1, mut v3) = (0, 0);
    for c in load_all() {
        match verify(&c) {
            Ok(Scheme::V1) => v1 += 1,
            Ok(Scheme::V3) => v3 += 1,
            Err(why) => panic!("{}: {why}", c.name),
        }
    }
    assert_eq!(v1 + v3, SIGNED_CAPTURES);
    assert_eq!((v1, v3), (86, 62), "(V1, V3) split of the captures");
}

#[test]
fn wrong_secret_never_verifies() {
    for c in load_all() {
        assert!(verify_with(&c, "testsecreT").is_err(), "{}", c.name);
        assert!(verify_with(&c, "testsecret&").is_err(), "{}", c.name);
    }
}

#[test]
fn reencoding_the_query_keeps_every_signature_valid() {
    for c in load_all() {
        let pairs = decode_form(c.raw_query());
        let reencoded = c.with_query(&pairs);
        assert!(verify(&reencoded).is_ok(), "{}: {}", c.name, reencoded.request_target);
    }
}

#[test]
fn changing_one_query_value_breaks_every_signature() {
    for c in load_all() {
        let mut pairs = decode_form(c.raw_query());
        match pairs.iter_mut().find(|(k, _)| k != "Signature") {
            Some((_, v)) => v.push('x'),
            None => pairs.push(("Tampered".to_owned(), "1".to_owned())),
        }
        let tampered = c.with_query(&pairs);
        assert!(verify(&tampered).is_err(), "{}: tampered query still verifies", c.name);

        // The same kind of change the reference verifier makes.
        let mut region = c.clone();
        if c.request_target.contains("RegionId=cn-hangzhou") {
            region.request_target = c.request_target.replace("RegionId=cn-hangzhou", "RegionId=cn-beijing");
        } else {
            region.request_target.push_str("&Tampered=1");
        }
        assert!(verify(&region).is_err(), "{}: changed region still verifies", c.name);
    }
}

#[test]
fn changing_any_signed_header_breaks_v3_signatures() {
    let mut checked = 0;
    for c in load_all().into_iter().filter(|c| scheme_of(c) == Scheme::V3) {
        let auth = parse_v3_authorization(c.header("authorization").unwrap()).unwrap();
        for name in &auth.signed_headers {
            let mut changed = c.clone();
            for (n, v) in &mut changed.headers {
                if n.eq_ignore_ascii_case(name) {
                    v.push('x');
                }
            }
            assert!(verify(&changed).is_err(), "{}: changed {name} still verifies", c.name);

            let mut dropped = c.clone();
            dropped.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            if name == "x-acs-content-sha256" {
                assert!(verify(&dropped).is_err(), "{}: dropped {name}", c.name);
            } else {
                let query = decode_form(dropped.raw_query());
                let err = v3_canonical_request(
                    &dropped.method,
                    dropped.path(),
                    &refs(&query),
                    &refs(&dropped.headers),
                    &auth.signed_headers,
                    &sha256_hex(dropped.body.as_bytes()),
                )
                .unwrap_err();
                assert_eq!(err, SignError::MissingSignedHeader(name.clone()), "{}", c.name);
            }
            checked += 1;
        }
    }
    assert!(checked >= 62 * 7, "every V3 capture signs at least 7 headers");
}

#[test]
fn unsigned_headers_and_header_case_do_not_matter() {
    for c in load_all() {
        let signed: Vec<String> = match scheme_of(&c) {
            Scheme::V3 => parse_v3_authorization(c.header("authorization").unwrap()).unwrap().signed_headers,
            Scheme::V1 => Vec::new(),
        };
        let mut changed = c.clone();
        for (n, v) in &mut changed.headers {
            let lower = n.to_ascii_lowercase();
            if lower == "authorization" || lower == "content-type" {
                continue;
            }
            if !signed.contains(&lower) {
                v.push_str("-changed");
            }
            *n = n.to_ascii_uppercase();
        }
        changed.headers.push(("X-Unsigned-Extra".to_owned(), "1".to_owned()));
        assert!(verify(&changed).is_ok(), "{}", c.name);
    }
}

#[test]
fn form_bodies_are_covered_by_both_schemes() {
    for name in ["pynew-v1-generic-formbody", "pynew-v3-generic-formbody"] {
        let c = load_named(name);
        assert!(c.has_form_body(), "{name}");
        assert_eq!(c.body, "AllocationId=eip-1&Name=x+y%2A~&Tag.1.Key=k&Tag.1.Value=v");
        verify(&c).unwrap_or_else(|e| panic!("{name}: {e}"));

        let mut changed = c.clone();
        changed.body = c.body.replace("eip-1", "eip-2");
        assert!(verify(&changed).is_err(), "{name}: changed body still verifies");

        // Same decoded body, different wire form: V1 signs the decoded parameters and still
        // verifies; V3 signs the raw bytes and does not.
        let mut reencoded = c.clone();
        reencoded.body = c.body.replace('+', "%20");
        assert_eq!(decode_form(&reencoded.body), decode_form(&c.body));
        assert_eq!(verify(&reencoded).is_ok(), name.contains("-v1-"), "{name}");
    }

    // V1 body parameters are only signed when the body is declared as a form.
    let mut not_a_form = load_named("pynew-v1-generic-formbody");
    not_a_form.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
    assert!(verify(&not_a_form).is_err());
}

#[test]
fn doc_section3_v1_string_to_sign() {
    let c = load_named("pyold-DescribeEipAddresses-tags");
    let o = compute_v1(&c, SECRET);
    assert_eq!(
        o.string_to_sign,
        "POST&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeEipAddresses%26DryRun%3DFalse\
         %26EipName%3Da%2520b%252A~%252F%252B%253D%2526%2525%25C3%25A9\
         %26Filter.1.Key%3DCreationStartTime%26Filter.1.Value%3D2024-01-01T00%253A00Z\
         %26Format%3DJSON%26IncludeReservationData%3DTrue%26PageNumber%3D2%26PageSize%3D10\
         %26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1\
         %26SignatureNonce%3D4b82eb94907ef0bc68e3aea4f41b96d6%26SignatureType%3D\
         %26SignatureVersion%3D1.0%26Tag.1.Key%3Denv%26Tag.1.Value%3Dprod\
         %26Tag.2.Key%3Dteam%2520x%26Tag.2.Value%3Da%252Fb\
         %26Timestamp%3D2026-11-26T02%253A25%253A09Z%26Version%3D2016-04-28"
    );
    assert_eq!(o.sent, "ClYwO49dGhe2kb6UEzU+pD4s5iA=");
    assert_eq!(o.computed, o.sent);
}

#[test]
fn doc_section2_v3_canonical_request() {
    let c = load_named("node-v3-DescribeEipAddresses-tags");
    // Node leaves '*' raw and sends spaces as %20; the canonical form has %2A.
    assert!(c.request_target.contains("EipName=a%20b*~%2F%2B%3D%26%25%C3%A9"));
    let o = compute_v3(&c, SECRET).unwrap();
    assert_eq!(
        o.canonical_request,
        "POST\n\
         /\n\
         DryRun=false&EipName=a%20b%2A~%2F%2B%3D%26%25%C3%A9&Filter.1.Key=CreationStartTime\
         &Filter.1.Value=2024-01-01T00%3A00Z&IncludeReservationData=true&PageNumber=2\
         &PageSize=10&RegionId=cn-hangzhou&Tag.1.Key=env&Tag.1.Value=prod&Tag.2.Key=team%20x\
         &Tag.2.Value=a%2Fb\n\
         host:127.0.0.1:37219\n\
         x-acs-action:DescribeEipAddresses\n\
         x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-acs-credentials-provider:static_ak\n\
         x-acs-date:2026-11-26T02:25:36Z\n\
         x-acs-signature-nonce:fb2d8d0de66e06098a1ee2326fb2d73f022af60cb5fbc1f30533efd645ce35e1\n\
         x-acs-version:2016-04-28\n\
         \n\
         host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;\
         x-acs-signature-nonce;x-acs-version\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(o.string_to_sign, "ACS3-HMAC-SHA256\n535dde31ba0fc5d56afe2a0705bfeb444bcdf679707ea4235d5e9ddddd1edcce");
    assert_eq!(o.sent, "5392a7999e3a86ab008affc9b8cdd7915b062d69f72f81e3c5afa27d3f0e6f0e");
    assert_eq!(o.computed, o.sent);
}

#[test]
fn all_three_sdk_encodings_of_the_same_value_agree() {
    // The same EipName, as sent by pynew (quote_plus), node (encodeURIComponent) and pyold.
    let mut names = Vec::new();
    for name in
        ["pynew-v3-DescribeEipAddresses-tags", "node-v3-DescribeEipAddresses-tags", "pyold-DescribeEipAddresses-tags"]
    {
        let c = load_named(name);
        let eip_name = decode_form(c.raw_query()).into_iter().find(|(k, _)| k == "EipName").map(|(_, v)| v).unwrap();
        names.push(eip_name);
    }
    assert!(names.iter().all(|n| n == "a b*~/+=&%é"), "{names:?}");
}
