//! Hard limits on what one request may carry, checked in one place before
//! anything (a key lookup, a cache, the controller) looks at it.
//!
//! Exists because every other bound in the server is derived from these: a
//! cache keyed by a request value is bounded once the value is; an error
//! message that echoes a value stays small once the value is; XML stays
//! well-formed once no value carries a character XML 1.0 cannot hold. The
//! semantic rules of each action (a Name starts with a letter, at most 20
//! tags, ...) stay with the controller; these are the caps no real SDK call
//! comes near. `docs/security.md` lists them with what each refusal answers.

use crate::params::Params;
use eip_types::{Error, Result};

/// Most parameters one request may carry (query and form body together).
pub const MAX_PARAMS: usize = 2_000;
/// Longest parameter name (`Filter.1000.Value.1000` is 22).
pub const MAX_NAME_LEN: usize = 128;
/// Longest value of any parameter, in bytes.
pub const MAX_VALUE_LEN: usize = 32 * 1024;
/// Longest `UserData`: 32 KiB of data, Base64-encoded.
pub const MAX_USER_DATA_LEN: usize = 4 * (32 * 1024usize).div_ceil(3);
/// Longest resource id (`eip-` + 22; ENI, NAT gateway and ALB ids are similar).
pub const MAX_ID_LEN: usize = 64;
/// Longest AccessKeyId (`LTAI` + 20; STS ids `STS.` + 28).
pub const MAX_ACCESS_KEY_ID_LEN: usize = 128;
/// Longest signature nonce (the SDKs send 32 or 64 hex digits).
pub const MAX_NONCE_LEN: usize = 128;
/// Longest query string the API reads. The V3 SDKs put every parameter in
/// the query, so it must hold a full `UserData` (32 KiB, Base64 and
/// percent-encoded, about 47 KiB); hyper refuses URIs over 64 KiB itself.
pub const MAX_QUERY_LEN: usize = 62 * 1024;
/// Most header fields one request may carry.
pub const MAX_HEADERS: usize = 64;
/// Most bytes of header names and values together.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Parameters that hold a comma-separated list of ids, with the most items
/// their action reads: their length bound is that many ids.
const ID_LISTS: &[(&str, usize)] = &[("AllocationId", 50), ("LoadBalancerId", 100), ("VpcId", 20), ("VSwitchId", 50)];

/// Whether XML 1.0 can carry `c` and it is not a control character: tab,
/// LF and CR are the only controls allowed; DEL and the C1 block (terminal
/// escapes such as U+009B) are refused too, as are U+FFFE and U+FFFF.
pub fn is_allowed_char(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => true,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => false,
        _ => true,
    }
}

/// Whether `name` holds one resource id: `InstanceId`, `BackendServers.1.ServerId`,
/// or an item of an id list (`InstanceIds.3`). A whole JSON array of ids in
/// one parameter (ECS `InstanceIds`) is not one id.
fn is_single_id(name: &str) -> bool {
    let mut segs = name.rsplit('.');
    let last = segs.next().unwrap_or(name);
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        let list = segs.next().unwrap_or("");
        return list.ends_with("Id") || list.ends_with("Ids");
    }
    last.ends_with("Id")
}

/// The most bytes the value of `name` may hold.
fn value_limit(name: &str) -> usize {
    // These two get their own checks, which answer with the codes the SDKs
    // know (unknown key, incomplete signature) and never keep the value.
    if matches!(name, "AccessKeyId" | "SignatureNonce") {
        return usize::MAX;
    }
    if name == "UserData" {
        return MAX_USER_DATA_LEN;
    }
    if let Some((_, n)) = ID_LISTS.iter().find(|(k, _)| *k == name) {
        return n * (MAX_ID_LEN + 1);
    }
    if is_single_id(name) { MAX_ID_LEN } else { MAX_VALUE_LEN }
}

/// Checks the shape of every parameter: how many, how long, which
/// characters, and that no name appears twice (V1 signs sorted pairs, so the
/// order of two equal names is not protected and "the first wins" would let
/// a relay choose). The errors name the parameter and never echo its value.
pub fn check_params(p: &Params) -> Result<()> {
    let pairs = p.pairs();
    if pairs.len() > MAX_PARAMS {
        return Err(Error::invalid("Parameters", format!("a request may carry at most {MAX_PARAMS} parameters")));
    }
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::with_capacity(pairs.len());
    for (k, v) in pairs {
        if k.is_empty() || k.len() > MAX_NAME_LEN || !k.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                "Parameters",
                format!("parameter names are 1 to {MAX_NAME_LEN} visible ASCII characters"),
            ));
        }
        if !seen.insert(k.as_str()) {
            return Err(Error::invalid(k.as_str(), "is given more than once"));
        }
        let limit = value_limit(k);
        if v.len() > limit {
            return Err(Error::invalid(k.as_str(), format!("is longer than {limit} bytes")));
        }
        if !v.chars().all(is_allowed_char) {
            return Err(Error::invalid(k.as_str(), "control characters are not allowed"));
        }
    }
    Ok(())
}

/// Whether an AccessKeyId has a shape a real key can have: 1 to 128 of
/// letters, digits, `.`, `_` and `-`. Others are refused as unknown without
/// a lookup.
pub fn is_plausible_access_key_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ACCESS_KEY_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether a signature nonce is 1 to 128 visible ASCII characters.
pub fn is_plausible_nonce(nonce: &str) -> bool {
    !nonce.is_empty() && nonce.len() <= MAX_NONCE_LEN && nonce.bytes().all(|b| b.is_ascii_graphic())
}

/// A request value made safe to quote in an error message: visible ASCII
/// kept, anything else escaped as `\u{..}`, at most 64 characters (then `…`).
pub fn echo(value: &str) -> String {
    const MAX: usize = 64;
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c == ' ' || c.is_ascii_graphic() {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn refused(pairs: &[(&str, &str)]) -> String {
        match check_params(&p(pairs)) {
            Err(Error::InvalidParameter { name, reason }) => format!("{name}: {reason}"),
            other => panic!("{pairs:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn ordinary_requests_pass() {
        let long_list = vec!["eip-aaaaaaaaaaaaaaaaaaaaaa"; 50].join(",");
        check_params(&p(&[
            ("Action", "DescribeEipAddresses"),
            ("AllocationId", &long_list),
            ("Tag.1.Key", "env"),
            ("Name", "héllo\twörld"),
            ("InstanceIds.1", "i-bp1aaaaaaaaaaaaaaaaa"),
        ]))
        .unwrap();
    }

    /// Issue 9, defect 4: U+FFFF / U+FFFE made every later XML listing malformed.
    #[test]
    fn characters_xml_cannot_carry_are_refused_in_every_parameter() {
        for bad in ["\u{ffff}", "\u{fffe}", "\u{0}", "\u{1b}[2J", "\u{7f}", "\u{9b}"] {
            assert!(refused(&[("Name", bad)]).starts_with("Name:"), "{bad:?}");
            assert!(refused(&[("Version", bad)]).starts_with("Version:"), "{bad:?}");
        }
        assert!(is_allowed_char('\u{fffd}') && is_allowed_char('😀') && is_allowed_char('\n'));
    }

    /// Issue 9, defect 7: a repeated scalar parameter used to keep its first value.
    #[test]
    fn a_name_given_twice_is_refused() {
        assert_eq!(refused(&[("Name", "a"), ("Name", "b")]), "Name: is given more than once");
    }

    #[test]
    fn lengths_and_counts_are_capped() {
        assert!(refused(&[("InstanceId", &"i".repeat(65))]).contains("longer than 64"));
        assert!(refused(&[("BackendServers.1.ServerId", &"i".repeat(65))]).contains("longer than 64"));
        assert!(refused(&[("InstanceIds.3", &"i".repeat(65))]).contains("longer than 64"));
        assert!(refused(&[("Description", &"d".repeat(MAX_VALUE_LEN + 1))]).contains("longer than"));
        check_params(&p(&[("InstanceIds", &format!("[{}]", vec!["\"i-1\""; 100].join(",")))])).unwrap();
        let many: Vec<(String, String)> = (0..=MAX_PARAMS).map(|i| (format!("K{i}"), String::new())).collect();
        assert!(check_params(&Params::new(many)).is_err());
        assert!(refused(&[(&"N".repeat(129), "")]).contains("parameter names"));
        assert!(refused(&[("Na me", "")]).contains("parameter names"));
    }

    #[test]
    fn keys_and_nonces_have_real_shapes() {
        assert!(is_plausible_access_key_id("LTAI5tAbCdEfGhIjKlMnOpQr"));
        assert!(is_plausible_access_key_id("STS.NUgYrLnoC37mZZCNnAbez2Zgm"));
        assert!(!is_plausible_access_key_id(&"A".repeat(129)));
        assert!(!is_plausible_access_key_id("a\nb"));
        assert!(!is_plausible_access_key_id(""));
        assert!(is_plausible_nonce("4fd787407629f9c1e7f84aaf682d3a98"));
        assert!(is_plausible_nonce("6f3c0a5e-3c3a-4c1e-9d7e-2b1d4a6f8e90"));
        assert!(!is_plausible_nonce(&"n".repeat(129)));
        assert!(!is_plausible_nonce("a b"));
    }

    /// Issue 9, defect 5: values quoted in errors carried raw control bytes.
    #[test]
    fn echoed_values_are_printable_and_short() {
        assert_eq!(echo("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(echo("\u{ffff}"), "\\u{ffff}");
        assert_eq!(echo("2016-04-28"), "2016-04-28");
        assert_eq!(echo(&"x".repeat(100)).chars().count(), 65);
    }
}
