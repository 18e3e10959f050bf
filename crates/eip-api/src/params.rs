//! Reading an RPC request's parameters. The SDKs flatten lists as `Name.N`
//! and structs as `Name.N.Field` (1-based), send booleans as `true`/`True`,
//! and some ECS parameters are JSON arrays inside one string. Every accessor
//! turns absence into `MissingParameter.<Name>` and bad values into
//! `InvalidParameter` (or the parameter's documented code), never a panic.

use eip_types::{Error, Result};
use std::collections::BTreeMap;

/// Parameters common to every request that the business logic ignores.
pub const COMMON: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "SecurityToken",
    "RegionId",
    "ClientToken",
    "OwnerId",
    "OwnerAccount",
    "ResourceOwnerId",
    "ResourceOwnerAccount",
    "DryRun",
];

/// Decoded request parameters (query and form body merged, in arrival order).
#[derive(Clone, Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Most items a `Name.N` list may hold; larger indexes are refused.
const MAX_LIST: usize = 1000;

impl Params {
    /// Wraps decoded pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
    }

    /// All pairs.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `name`, as sent (possibly empty).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A non-empty value of `name`.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    /// A required, non-empty value.
    pub fn req(&self, name: &str) -> Result<&str> {
        self.opt(name).ok_or_else(|| Error::MissingParameter(name.to_owned()))
    }

    /// An optional integer within `[min, max]`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
        let Some(v) = self.opt(name) else {
            return Ok(None);
        };
        let n: i64 = v.trim().parse().map_err(|_| Error::invalid(name, "must be an integer"))?;
        if n < min || n > max {
            return Err(Error::invalid(name, format!("must be between {min} and {max}")));
        }
        Ok(Some(n))
    }

    /// An optional boolean; `true`, `false` in any letter case.
    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        let Some(v) = self.opt(name) else {
            return Ok(None);
        };
        if v.eq_ignore_ascii_case("true") {
            Ok(Some(true))
        } else if v.eq_ignore_ascii_case("false") {
            Ok(Some(false))
        } else {
            Err(Error::invalid(name, "must be true or false"))
        }
    }

    /// An optional enumerated value; unknown values give `err(value)`.
    pub fn enumerated<T>(&self, name: &str, parse: fn(&str) -> Option<T>, err: fn(&str) -> Error) -> Result<Option<T>> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) => parse(v).map(Some).ok_or_else(|| err(v)),
        }
    }

    /// `Name.1`, `Name.2`, … in index order (gaps allowed, duplicates refused).
    pub fn list(&self, name: &str) -> Result<Vec<String>> {
        let mut items: BTreeMap<usize, String> = BTreeMap::new();
        for (k, v) in &self.pairs {
            let Some(rest) = k.strip_prefix(name).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            if rest.contains('.') {
                continue;
            }
            let idx = index(name, rest)?;
            if items.insert(idx, v.clone()).is_some() {
                return Err(Error::invalid(k.as_str(), "is repeated"));
            }
        }
        Ok(items.into_values().collect())
    }

    /// `Name.N.Field` structs in index order; each map holds the fields sent.
    pub fn struct_list(&self, name: &str) -> Result<Vec<BTreeMap<String, String>>> {
        let mut items: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in &self.pairs {
            let Some(rest) = k.strip_prefix(name).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            let Some((n, field)) = rest.split_once('.') else {
                continue;
            };
            let idx = index(name, n)?;
            items.entry(idx).or_default().insert(field.to_owned(), v.clone());
        }
        Ok(items.into_values().collect())
    }

    /// A JSON array of strings carried in one parameter (ECS `InstanceIds`).
    pub fn json_list(&self, name: &str, max: usize) -> Result<Option<Vec<String>>> {
        let Some(v) = self.opt(name) else {
            return Ok(None);
        };
        let parsed: Vec<serde_json::Value> =
            serde_json::from_str(v).map_err(|_| Error::invalid(name, "must be a JSON array of strings"))?;
        if parsed.len() > max {
            return Err(Error::invalid(name, format!("must hold at most {max} items")));
        }
        parsed
            .into_iter()
            .map(|x| match x {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(Error::invalid(name, "must be a JSON array of strings")),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// A comma-separated list (DescribeEipAddresses `AllocationId`).
    pub fn comma_list(&self, name: &str, max: usize) -> Result<Vec<String>> {
        let Some(v) = self.opt(name) else {
            return Ok(Vec::new());
        };
        let items: Vec<String> = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if items.is_empty() {
            return Err(Error::invalid(name, "lists no values"));
        }
        if items.len() > max {
            return Err(Error::invalid(name, format!("must list at most {max} values")));
        }
        Ok(items)
    }

    /// The business parameters (everything but the common ones), sorted: the
    /// input of the ClientToken fingerprint.
    pub fn business(&self) -> Vec<(&str, &str)> {
        let mut v: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(k, _)| !COMMON.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        v.sort_unstable();
        v
    }
}

fn index(name: &str, n: &str) -> Result<usize> {
    let bad = || Error::invalid(format!("{name}.{n}"), format!("list index must be a number from 1 to {MAX_LIST}"));
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match n.parse::<usize>() {
        Ok(idx) if (1..=MAX_LIST).contains(&idx) => Ok(idx),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn required_and_optional() {
        let ps = p(&[("AllocationId", "eip-1"), ("Name", "")]);
        assert_eq!(ps.req("AllocationId"), Ok("eip-1"));
        assert_eq!(ps.req("InstanceId"), Err(Error::MissingParameter("InstanceId".into())));
        assert_eq!(ps.req("Name"), Err(Error::MissingParameter("Name".into())));
        assert_eq!(ps.raw("Name"), Some(""));
    }

    #[test]
    fn booleans_in_both_cases() {
        let ps = p(&[("A", "True"), ("B", "false"), ("C", "yes")]);
        assert_eq!(ps.bool("A"), Ok(Some(true)));
        assert_eq!(ps.bool("B"), Ok(Some(false)));
        assert!(ps.bool("C").is_err());
        assert_eq!(ps.bool("D"), Ok(None));
    }

    #[test]
    fn lists_and_structs() {
        let ps = p(&[
            ("InstanceIds.2", "eip-b"),
            ("InstanceIds.1", "eip-a"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
            ("Tag.2.Key", "team x"),
        ]);
        assert_eq!(ps.list("InstanceIds").unwrap(), vec!["eip-a", "eip-b"]);
        let tags = ps.struct_list("Tag").unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0]["Key"], "env");
        assert_eq!(tags[1].get("Value"), None);
        assert!(p(&[("Tag.x.Key", "a")]).struct_list("Tag").is_err());
        assert!(p(&[("Tag.0.Key", "a")]).struct_list("Tag").is_err());
    }

    #[test]
    fn json_lists() {
        let ps = p(&[("InstanceIds", r#"["i-1","i-2"]"#), ("Bad", "[1]"), ("Worse", "i-1")]);
        assert_eq!(ps.json_list("InstanceIds", 100).unwrap(), Some(vec!["i-1".into(), "i-2".into()]));
        assert!(ps.json_list("Bad", 100).is_err());
        assert!(ps.json_list("Worse", 100).is_err());
        assert!(ps.json_list("InstanceIds", 1).is_err());
    }

    #[test]
    fn integers() {
        let ps = p(&[("PageSize", "101"), ("PageNumber", "x"), ("Bandwidth", "5")]);
        assert!(ps.int("PageSize", 1, 100).is_err());
        assert!(ps.int("PageNumber", 1, i64::MAX).is_err());
        assert_eq!(ps.int("Bandwidth", 1, 500), Ok(Some(5)));
    }

    #[test]
    fn business_parameters_exclude_signing() {
        let ps = p(&[("Signature", "x"), ("Timestamp", "t"), ("B", "2"), ("A", "1"), ("ClientToken", "c")]);
        assert_eq!(ps.business(), vec![("A", "1"), ("B", "2")]);
    }
}
