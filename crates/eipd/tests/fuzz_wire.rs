//! The fuzz harness over the wire and the dispatcher (issue 9): random
//! parameters, validly signed, against every registered action of a real
//! eipd edge (router, authentication, controller, SQLite file), plus
//! mutations of the signing parameters themselves. Any panic, any 5xx, any
//! body that is not the envelope in the format asked for (XML must parse), or
//! memory growth above a bound fails it.
//!
//! It is a proptest-driven harness so it runs on stable Rust. The suite runs a
//! short pass (`cargo test -p eipd --test fuzz_wire`); a longer run:
//! `EIPD_FUZZ_CASES=200000 cargo test --release -p eipd --test fuzz_wire -- --nocapture`.
//! proptest shrinks a failure to a minimal request and prints it.

use axum::Router;
use axum::body::Body;
use eip_api::catalog::ACTIONS;
use eip_api::sign;
use eip_controller::clock::SystemClock;
use eip_controller::{Config, Controller, accounts, demo, tasks};
use eip_store::StoreExt;
use eip_store_sqlite::SqliteStore;
use eipd::server::{self, AppState};
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

const AK: &str = "fuzzid";
const SECRET: &str = "fuzzsecret";

/// The controller's sources: every parameter name it reads, and every enum
/// word it knows, are string literals in them.
const SOURCES: &[&str] = &[
    include_str!("../../eip-controller/src/eip.rs"),
    include_str!("../../eip-controller/src/ecs.rs"),
    include_str!("../../eip-controller/src/eni.rs"),
    include_str!("../../eip-controller/src/havip.rs"),
    include_str!("../../eip-controller/src/lb.rs"),
    include_str!("../../eip-controller/src/monitor.rs"),
    include_str!("../../eip-controller/src/nat.rs"),
    include_str!("../../eip-controller/src/vpc.rs"),
    include_str!("../../eip-controller/src/lib.rs"),
    include_str!("../../eip-controller/src/bind.rs"),
    include_str!("../../eip-controller/src/render.rs"),
    include_str!("../../eip-types/src/enums.rs"),
];

/// String literals that look like parameter names or enum values.
fn words() -> Vec<String> {
    let mut out = BTreeSet::new();
    for src in SOURCES {
        for (i, lit) in src.split('"').enumerate() {
            let plausible = i % 2 == 1
                && (2..=48).contains(&lit.len())
                && lit.starts_with(|c: char| c.is_ascii_uppercase())
                && lit.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
            if plausible {
                out.insert(lit.to_owned());
            }
        }
    }
    for extra in ["StartTime", "EndTime", "InternetChargeType", "InstanceChargeType", "Tag", "Filter"] {
        out.insert(extra.to_owned());
    }
    out.into_iter().collect()
}

/// Ids and names that exist in the estate, so requests reach deep paths.
#[derive(Clone, Debug, Default)]
struct Estate {
    ids: Vec<String>,
}

struct Harness {
    rt: tokio::runtime::Runtime,
    app: Router,
    nonce: AtomicU64,
    _dir: std::path::PathBuf,
}

impl Harness {
    fn new() -> (Harness, Estate) {
        let dir = std::env::temp_dir().join(format!("eipd-fuzz-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (app, estate) = rt.block_on(async {
            let store = SqliteStore::open(&dir.join("eipd.db")).unwrap();
            let ctl = Controller::new(
                Arc::new(store),
                Arc::new(SystemClock::new()),
                Config { task_delay_ms: 1, dataplane: false },
            );
            let boot = accounts::bootstrap(&ctl, Some((AK.into(), SECRET.into()))).await.unwrap();
            let mut ids = demo::seed(&ctl, &boot.root_account).await.unwrap();
            let rows = ctl.store().read(|tx| {
                Ok((
                    tx.vpc_list(&boot.root_account, demo::DEMO_REGION)?,
                    tx.vswitch_list(&boot.root_account, demo::DEMO_REGION)?,
                ))
            });
            if let Ok((vpcs, vsws)) = rows {
                ids.extend(vpcs.into_iter().map(|v| v.id));
                ids.extend(vsws.into_iter().map(|v| v.id));
            }
            tokio::spawn(tasks::run(ctl.clone()));
            let state = Arc::new(AppState {
                console: eip_console::ConsoleState::new(ctl.clone()),
                throttle: None,
                ctl,
                keys: Default::default(),
                nonces: Default::default(),
                metrics: Default::default(),
                dataplane: None,
                client_timeout: std::time::Duration::from_secs(5),
            });
            (server::router(state), Estate { ids })
        });
        (Harness { rt, app, nonce: AtomicU64::new(0), _dir: dir }, estate)
    }

    /// Signs and sends; returns status, content type and body.
    fn call(&self, req: &Req) -> (u16, String, Vec<u8>) {
        let n = self.nonce.fetch_add(1, Ordering::Relaxed);
        let nonce = format!("fuzz{n:020}");
        let ts = eip_types::time::format_iso(eip_controller::clock::real_now_ms());
        let mut pairs: Vec<(String, String)> = vec![
            ("Action".into(), req.action.clone()),
            ("Version".into(), req.version.clone()),
            ("AccessKeyId".into(), AK.into()),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            ("SignatureNonce".into(), nonce),
            ("Timestamp".into(), ts),
        ];
        if req.xml {
            pairs.push(("Format".into(), "XML".into()));
        }
        pairs.extend(req.params.iter().cloned());
        // Mutations of the signing itself, applied after the business pairs.
        for (k, v) in &req.edge {
            match pairs.iter_mut().find(|(pk, _)| pk == k) {
                Some(p) => p.1 = v.clone(),
                None => pairs.push((k.clone(), v.clone())),
            }
        }
        // A URI over 64 KiB cannot be built (hyper refuses it before eipd,
        // and a test covers that): such requests go as a form body.
        let get =
            req.get && req.params.iter().chain(&req.edge).map(|(k, v)| k.len() + v.len() * 9).sum::<usize>() < 20_000;
        let method = if get { "GET" } else { "POST" };
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let sig = sign::v1_signature(SECRET, &sign::v1_string_to_sign(method, &borrowed));
        if !req.bad_signature {
            pairs.push(("Signature".into(), sig));
        } else {
            pairs.push(("Signature".into(), "AAAA".into()));
        }
        let encoded: String = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let builder = axum::http::Request::builder().header("host", "127.0.0.1:8716");
        let request = if get {
            builder.method("GET").uri(format!("/?{encoded}")).body(Body::empty())
        } else {
            builder
                .method("POST")
                .uri("/")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(encoded))
        }
        .unwrap();
        self.rt.block_on(async {
            let resp = self.app.clone().oneshot(request).await.unwrap();
            let status = resp.status().as_u16();
            let ctype = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let body = axum::body::to_bytes(resp.into_body(), 64 << 20).await.unwrap().to_vec();
            (status, ctype, body)
        })
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// One generated request.
#[derive(Clone, Debug)]
struct Req {
    action: String,
    version: String,
    params: Vec<(String, String)>,
    edge: Vec<(String, String)>,
    xml: bool,
    get: bool,
    bad_signature: bool,
}

impl Req {
    /// An ordinary VPC call in cn-hangzhou, validly signed.
    fn plain(action: &str) -> Req {
        Req {
            action: action.into(),
            version: "2016-04-28".into(),
            params: vec![("RegionId".into(), "cn-hangzhou".into())],
            edge: vec![],
            xml: false,
            get: false,
            bad_signature: false,
        }
    }
}

fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("true".to_owned()),
        Just("False".to_owned()),
        (-3i64..=1100).prop_map(|n| n.to_string()),
        prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1), Just(0), Just(u32::MAX as i64 + 1)]
            .prop_map(|n| n.to_string()),
        Just("1e309".to_owned()),
        Just("NaN".to_owned()),
        prop_oneof![
            Just("0000-01-01T00:00:00Z"),
            Just("292278000-01-01T00:00:00Z"),
            Just("1970-01-01T00:00:00Z"),
            Just("9999-12-31T23:59:59Z"),
            Just("2026-12-02T00:00Z"),
            Just("2026-02-30T00:00:00Z"),
        ]
        .prop_map(str::to_owned),
        prop_oneof![Just("198.18.0.1"), Just("10.0.0.5"), Just("256.1.1.1"), Just("10.0.0.0/8"), Just("::1")]
            .prop_map(str::to_owned),
        (1usize..40_000, any::<char>()).prop_map(|(n, c)| std::iter::repeat_n(c, n).collect()),
        "\\PC{0,40}",
        any::<String>(),
        prop::collection::vec("[a-z0-9-]{0,30}", 0..120).prop_map(|v| v.join(",")),
        prop::collection::vec("[a-z0-9-]{0,30}", 0..120).prop_map(|v| serde_json::to_string(&v).unwrap()),
        Just("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]".to_owned()),
        Just("{\"a\":1}".to_owned()),
    ]
}

fn request(words: Arc<Vec<String>>, estate: Arc<Estate>) -> impl Strategy<Value = Req> {
    let known = words.clone();
    let ids = estate.ids.clone();
    let name = prop_oneof![
        4 => prop::sample::select((*known).clone()),
        2 => (prop::sample::select((*known).clone()), prop_oneof![Just(0usize), Just(1), Just(2), Just(20), Just(1000), Just(1001)])
            .prop_map(|(n, i)| format!("{n}.{i}")),
        2 => (prop::sample::select((*known).clone()), 1usize..4, prop::sample::select(vec!["Key", "Value", "ServerId", "Weight", "Type", "ZoneId", "VSwitchId", "AllocationId"]))
            .prop_map(|(n, i, f)| format!("{n}.{i}.{f}")),
        1 => "[A-Za-z.]{1,20}",
    ];
    let mut values: Vec<String> = ids;
    values.extend(["cn-hangzhou", "cn-hangzhou-h", "cn-shanghai", "ap-southeast-1", "nowhere"].map(str::to_owned));
    let good = prop::sample::select(values);
    let word_values = prop::sample::select((*known).clone());
    let value = prop_oneof![3 => good, 2 => word_values, 4 => hostile_value()];
    let edge = prop::collection::vec(
        (
            prop::sample::select(vec![
                "AccessKeyId",
                "SignatureNonce",
                "Timestamp",
                "SignatureMethod",
                "Version",
                "Action",
                "Format",
            ]),
            hostile_value(),
        )
            .prop_map(|(k, v)| (k.to_owned(), v)),
        0..2,
    );
    (
        prop::sample::select((0..ACTIONS.len()).collect::<Vec<_>>()),
        prop::collection::vec((name, value), 0..10),
        prop::bool::weighted(0.85),
        prop_oneof![19 => Just(Vec::new()), 1 => edge],
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.02),
    )
        .prop_map(|(a, mut params, in_region, edge, xml, get, bad_signature)| {
            let spec = &ACTIONS[a];
            if in_region && !params.iter().any(|(k, _)| k == "RegionId") {
                params.insert(0, ("RegionId".to_owned(), "cn-hangzhou".to_owned()));
            }
            Req {
                action: spec.name.to_owned(),
                version: spec.product.version().to_owned(),
                params,
                edge,
                xml,
                get,
                bad_signature,
            }
        })
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0) * 4096
}

/// Checks one answer: never 5xx, always the envelope in the format asked for.
fn check(req: &Req, status: u16, ctype: &str, body: &[u8]) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "{status} for {req:?}: {}", String::from_utf8_lossy(&body[..body.len().min(400)]));
    let xml_asked = req.xml && !req.edge.iter().any(|(k, _)| k == "Format");
    if ctype.starts_with("text/xml") {
        let text = std::str::from_utf8(body).map_err(|e| TestCaseError::fail(format!("XML not UTF-8: {e}")))?;
        let doc = roxmltree::Document::parse(text)
            .map_err(|e| TestCaseError::fail(format!("malformed XML ({e}) for {req:?}: {text:.400}")))?;
        prop_assert!(doc.descendants().any(|n| n.has_tag_name("RequestId")), "no RequestId: {text:.400}");
    } else {
        prop_assert!(!xml_asked || status == 200 || ctype.starts_with("application/json"));
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| TestCaseError::fail(format!("not JSON ({e}) for {req:?}")))?;
        prop_assert!(v.get("RequestId").and_then(|r| r.as_str()).is_some_and(|r| r.len() == 36));
        if status != 200 {
            prop_assert!(v.get("Code").and_then(|c| c.as_str()).is_some_and(|c| !c.is_empty()));
            let message = v.get("Message").and_then(|m| m.as_str()).unwrap_or("");
            prop_assert!(!message.chars().any(|c| c.is_control() && c != '\n'), "raw control in {message:?}");
        }
    }
    Ok(())
}

#[test]
fn random_signed_requests_never_crash_5xx_or_hoard_memory() {
    let cases: u32 = std::env::var("EIPD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let (h, mut estate) = Harness::new();
    for _ in 0..6 {
        let alloc = Req::plain("AllocateEipAddress");
        let (status, _, body) = h.call(&alloc);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        estate.ids.push(v["AllocationId"].as_str().unwrap().to_owned());
    }
    let words = Arc::new(words());
    assert!(words.len() > 150, "the harvest of parameter names found only {}", words.len());
    // Warm up the caches and allocator before measuring.
    let warm = Req::plain("DescribeEipAddresses");
    for _ in 0..200 {
        let (status, _, _) = h.call(&warm);
        assert_eq!(status, 200);
    }
    let before = rss_bytes();
    let mut runner = TestRunner::new(PtConfig { cases, failure_persistence: None, ..PtConfig::default() });
    let ok = std::sync::atomic::AtomicU64::new(0);
    let result = runner.run(&request(words, Arc::new(estate)), |req| {
        let (status, ctype, body) = h.call(&req);
        if status == 200 {
            ok.fetch_add(1, Ordering::Relaxed);
        }
        check(&req, status, &ctype, &body)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let grown = rss_bytes().saturating_sub(before);
    eprintln!(
        "fuzz: {cases} cases, {} answered 200, RSS {} -> {} MiB",
        ok.load(Ordering::Relaxed),
        before >> 20,
        (before + grown) >> 20
    );
    assert!(grown < 96 << 20, "RSS grew {} MiB over {cases} fuzzed requests", grown >> 20);
    // And the edge still answers an ordinary request.
    assert_eq!(h.call(&warm).0, 200);
}
