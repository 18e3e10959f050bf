//! Response bodies. JSON is what every SDK parses; XML is served when a
//! caller asks `Format=XML`. Lists are always wrapped (`{"EipAddresses":
//! {"EipAddress": [...]}}`), so in XML an array under key `K` becomes
//! repeated `<K>` elements inside the wrapper.

use crate::errors::WireError;
use serde_json::{Map, Value};

/// A request id in Alibaba's shape (an uppercase UUID).
pub fn new_request_id() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode_upper(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Requested body format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/json;charset=utf-8` (the default).
    Json,
    /// `text/xml;charset=utf-8`.
    Xml,
}

impl Format {
    /// From the `Format` parameter (any case); JSON unless XML is asked for.
    pub fn from_param(v: Option<&str>) -> Format {
        match v {
            Some(v) if v.eq_ignore_ascii_case("xml") => Format::Xml,
            _ => Format::Json,
        }
    }

    /// The Content-Type header value.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json;charset=utf-8",
            Format::Xml => "text/xml;charset=utf-8",
        }
    }
}

/// Renders a success body. `body` must be a JSON object; `RequestId` is
/// added. Every object's keys come out in byte order, the order the official
/// SDKs' response models (`to_map`) use: clients that fill objects from a
/// response's keys in order (footmark) depend on it, e.g. an instance's
/// `EipAddress` must come before its `PublicIpAddress`.
pub fn success(format: Format, action: &str, request_id: &str, mut body: Map<String, Value>) -> Vec<u8> {
    body.insert("RequestId".into(), Value::String(request_id.into()));
    let obj = sorted(Value::Object(body));
    match format {
        Format::Json => serde_json::to_vec(&obj).unwrap_or_default(),
        Format::Xml => {
            let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            let root = format!("{action}Response");
            xml_element(&mut s, &root, &obj);
            s.into_bytes()
        }
    }
}

/// Renders an error body with `RequestId`, `HostId`, `Code`, `Message`, `Recommend`.
pub fn error(format: Format, request_id: &str, host_id: &str, e: &WireError) -> Vec<u8> {
    let mut obj = Map::new();
    obj.insert("RequestId".into(), request_id.into());
    obj.insert("HostId".into(), host_id.into());
    obj.insert("Code".into(), e.code.clone().into());
    obj.insert("Message".into(), e.message.clone().into());
    obj.insert(
        "Recommend".into(),
        format!("https://api.aliyun.com/troubleshoot?q={}&product=openeip&requestId={request_id}", e.code).into(),
    );
    match format {
        Format::Json => serde_json::to_vec(&Value::Object(obj)).unwrap_or_default(),
        Format::Xml => {
            let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            xml_element(&mut s, "Error", &Value::Object(obj));
            s.into_bytes()
        }
    }
}

/// `v` with the keys of every object in byte order (arrays keep theirs).
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn xml_escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry (the edge refuses them in
            // requests; this keeps even older stored values well-formed).
            '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
}

fn xml_element(out: &mut String, name: &str, v: &Value) {
    match v {
        Value::Array(items) => {
            for item in items {
                xml_element(out, name, item);
            }
        }
        Value::Object(map) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            for (k, v) in map {
                xml_element(out, k, v);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Value::String(s) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            xml_escape(out, s);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::Bool(_) | Value::Number(_) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            out.push_str(&v.to_string());
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_come_in_byte_order_at_every_level() {
        let body = json!({"TotalCount": 1, "Instances": {"Instance": [{"PublicIpAddress": {}, "EipAddress": {"IpAddress": "x", "AllocationId": "y"}, "ISP": "", "InstanceId": "i"}]}});
        let out = success(Format::Json, "DescribeInstances", "R1", body.as_object().unwrap().clone());
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            r#"{"Instances":{"Instance":[{"EipAddress":{"AllocationId":"y","IpAddress":"x"},"ISP":"","InstanceId":"i","PublicIpAddress":{}}]},"RequestId":"R1","TotalCount":1}"#
        );
    }

    #[test]
    fn xml_repeats_list_elements() {
        let body = json!({"EipAddresses": {"EipAddress": [{"IpAddress": "198.18.0.1"}, {"IpAddress": "a<b"}]}});
        let out = success(Format::Xml, "DescribeEipAddresses", "R1", body.as_object().unwrap().clone());
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("<DescribeEipAddressesResponse><EipAddresses><EipAddress><IpAddress>198.18.0.1</IpAddress></EipAddress><EipAddress><IpAddress>a&lt;b</IpAddress></EipAddress></EipAddresses><RequestId>R1</RequestId></DescribeEipAddressesResponse>"), "{s}");
    }

    #[test]
    fn xml_never_carries_what_xml_cannot() {
        let body = json!({"Name": "a\u{ffff}b\u{1}c\td"});
        let out = String::from_utf8(success(Format::Xml, "X", "R", body.as_object().unwrap().clone())).unwrap();
        assert!(out.contains("<Name>a\u{fffd}b\u{fffd}c\td</Name>"), "{out}");
    }

    #[test]
    fn error_envelope_has_every_field() {
        let e = WireError::new(404, "InvalidAllocationId.NotFound", "nope");
        let v: Value = serde_json::from_slice(&error(Format::Json, "R", "H", &e)).unwrap();
        for k in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        let x = String::from_utf8(error(Format::Xml, "R", "H", &e)).unwrap();
        assert!(
            x.contains("<Error><RequestId>R</RequestId><HostId>H</HostId><Code>InvalidAllocationId.NotFound</Code>")
        );
    }
}
