//! The HTTP edge. One route serves every product's RPC calls: parse the
//! request, authenticate it (key, signature, 15-minute timestamp window,
//! nonce never reused within the window), dispatch it to the controller,
//! and write the result or the error envelope in the caller's format.
//! `/healthz` answers liveness (and the data plane's state under `--lab`) and
//! `/metrics` serves Prometheus text.

use crate::metrics::Metrics;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use eip_agent::health::DataplaneHealth;
use eip_api::auth::{self, RawRequest};
use eip_api::encode::{self, Format};
use eip_api::errors::{WireError, to_wire};
use eip_api::{Product, bounds, catalog};
use eip_controller::accounts::KeyCache;
use eip_controller::clock::real_now_ms;
use eip_controller::{Controller, Ctx};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Instant;

/// Signing times may be this far from the server's clock, either way.
pub const TIMESTAMP_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Largest accepted body.
const MAX_BODY: usize = 1 << 20;

/// Shared state of the edge.
pub struct AppState {
    /// The control plane.
    pub ctl: Arc<Controller>,
    /// AccessKey cache.
    pub keys: KeyCache,
    /// Seen nonces → expiry (real ms).
    pub nonces: Mutex<NonceCache>,
    /// Counters.
    pub metrics: Metrics,
    /// The data plane's health (`serve --lab`).
    pub dataplane: Option<Arc<DataplaneHealth>>,
    /// How long a client may take to send a request's body.
    pub client_timeout: std::time::Duration,
    /// The web console (`/console`).
    pub console: Arc<eip_console::ConsoleState>,
    /// Per-account rate limits (`serve --throttle`), if on.
    pub throttle: Option<crate::throttle::Throttle>,
}

/// Nonces seen within the timestamp window, as 128-bit keyed digests of
/// "AccessKeyId\nnonce" (16 bytes each whatever the nonce), each kept until
/// its request's timestamp leaves the window. At most [`MAX_NONCES`]: a
/// server taking more signed requests than that within one window answers
/// `Throttling` until old ones expire, rather than grow without bound.
pub struct NonceCache {
    keys: (RandomState, RandomState),
    seen: HashMap<u128, i64>,
    next_prune: i64,
}

/// Most nonces remembered at once (about 40 MiB; 2,200 signed requests a
/// second, sustained over a whole window).
pub const MAX_NONCES: usize = 2_000_000;

/// What [`NonceCache::insert`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum NonceSeen {
    /// First use: the request may go on.
    Fresh,
    /// Used within the window: a replay.
    Used,
    /// The cache is full of live nonces.
    Full,
}

impl Default for NonceCache {
    fn default() -> Self {
        NonceCache { keys: (RandomState::new(), RandomState::new()), seen: HashMap::new(), next_prune: 0 }
    }
}

impl NonceCache {
    fn digest(&self, key: &str) -> u128 {
        let (a, b) = (self.keys.0.hash_one(key), self.keys.1.hash_one(key));
        (u128::from(a) << 64) | u128::from(b)
    }

    /// Records a nonce refused again until `expires`.
    pub fn insert(&mut self, key: &str, expires: i64, now: i64) -> NonceSeen {
        // Expired nonces go every 10 s; when full, at most once a second
        // (a sweep of a full cache costs milliseconds).
        let full = self.seen.len() >= MAX_NONCES;
        if now >= self.next_prune || (full && now >= self.next_prune - 9_000) {
            self.seen.retain(|_, exp| *exp > now);
            self.next_prune = now + 10_000;
        }
        let d = self.digest(key);
        match self.seen.get(&d) {
            Some(exp) if *exp > now => NonceSeen::Used,
            _ if self.seen.len() >= MAX_NONCES => NonceSeen::Full,
            _ => {
                self.seen.insert(d, expires);
                NonceSeen::Fresh
            }
        }
    }

    /// Nonces recorded before a restart (acknowledged writes), refused
    /// until `expires`.
    pub fn restore(&mut self, nonces: impl IntoIterator<Item = (String, i64)>) {
        for (k, exp) in nonces {
            let d = self.digest(&k);
            self.seen.insert(d, exp);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.len()
    }
}

/// The router.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/", any(rpc))
        .nest_service("/console", eip_console::router(state.console.clone()))
        .fallback(any(not_found))
        .with_state(state)
}

async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let backlog = st.ctl.task_backlog().ok();
    let mut text = st.metrics.render(backlog);
    let store = st.ctl.store();
    let _ = writeln!(
        text,
        "# HELP eipd_store_write_retries_total Write transactions run again after a conflict.\n\
         # TYPE eipd_store_write_retries_total counter\neipd_store_write_retries_total{{backend=\"{}\"}} {}",
        store.backend(),
        store.write_retries()
    );
    if let Some(h) = &st.dataplane {
        h.render(&mut text);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Liveness: 503 while the store cannot be read (a PostgreSQL server down or
/// restarting: the requests get 503 ServiceUnavailable meanwhile, and a load
/// balancer should send them elsewhere); with a data plane, its state too
/// (503 while it keeps failing).
async fn healthz(State(st): State<Arc<AppState>>) -> Response {
    let store = st.ctl.store().clone();
    let probe = tokio::task::spawn_blocking(move || {
        eip_store::StoreExt::read(store.as_ref(), |tx| Ok(tx.setting_get("healthz")?))
    })
    .await;
    let failed = match probe {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(format!("store probe failed: {e}")),
    };
    if let Some(error) = failed {
        let body = serde_json::json!({ "status": "unavailable", "store": error }).to_string();
        return (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    match &st.dataplane {
        None => "ok\n".into_response(),
        Some(h) => {
            let (code, body) = h.healthz();
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}

async fn not_found(uri: Uri) -> Response {
    let e = WireError::new(
        404,
        "InvalidAction.NotFound",
        format!("Specified api is not found, please check your url and method: {}", bounds::echo(uri.path())),
    );
    reply_error(Format::Json, &new_request_id(), "openeip", &e)
}

pub use eip_api::encode::new_request_id;

fn host_id(product: Option<Product>) -> &'static str {
    match product {
        Some(Product::Vpc) => "vpc.aliyuncs.com",
        Some(Product::Ecs) => "ecs.aliyuncs.com",
        Some(Product::Slb) => "slb.aliyuncs.com",
        Some(Product::Alb) => "alb.aliyuncs.com",
        Some(Product::Nlb) => "nlb.aliyuncs.com",
        Some(Product::Sts) => "sts.aliyuncs.com",
        Some(Product::Quotas) => "quotas.aliyuncs.com",
        Some(Product::Bss) => "business.aliyuncs.com",
        None => "openeip",
    }
}

fn reply_error(format: Format, request_id: &str, host: &str, e: &WireError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = (status, encode::error(format, request_id, host, e)).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if e.code.starts_with("Throttling") {
        // The SDKs turn this header (ms) into their throttling error and wait.
        let ms = e.retry_after_ms.unwrap_or(1000).max(1);
        r.headers_mut().insert("x-acs-retry-after", HeaderValue::from(ms));
    }
    r
}

/// Reads a body of at most `MAX_BODY` bytes within `timeout`.
async fn read_body(body: Body, timeout: std::time::Duration) -> Result<Bytes, WireError> {
    let collect = async {
        let mut body = http_body_util::Limited::new(body, MAX_BODY);
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => {
                    if let Some(d) = f.data_ref() {
                        out.extend_from_slice(d);
                    }
                }
                Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                    return Err(WireError::new(413, "InvalidParameter", "The request body is too large."));
                }
                Err(_) => return Err(WireError::new(400, "InvalidParameter", "The request body could not be read.")),
            }
        }
        Ok(Bytes::from(out))
    };
    tokio::time::timeout(timeout, collect)
        .await
        .unwrap_or_else(|_| Err(WireError::new(408, "RequestTimeout", "The request body was not received in time.")))
}

/// Refusals of the request's head, before anything reads it: a query or a
/// set of headers beyond [`bounds`]' limits.
fn check_head(uri: &Uri, headers: &HeaderMap) -> Result<(), WireError> {
    if uri.query().map_or(0, str::len) > bounds::MAX_QUERY_LEN || uri.path().len() > 1024 {
        return Err(WireError::new(414, "InvalidParameter", "The request URI is too long."));
    }
    let bytes: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
    if headers.len() > bounds::MAX_HEADERS || bytes > bounds::MAX_HEADER_BYTES {
        return Err(WireError::new(431, "InvalidParameter", "The request headers are too large."));
    }
    Ok(())
}

async fn rpc(State(st): State<Arc<AppState>>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let request_id = new_request_id();
    let refuse = |e: WireError, query: &str| {
        let format =
            auth::format_of(&RawRequest { method: method.as_str(), path: "/", query, headers: &[], body: &[] });
        st.metrics.observe("unknown", "unknown", started.elapsed().as_secs_f64(), Some(&e.code));
        reply_error(format, &request_id, "openeip", &e)
    };
    if let Err(e) = check_head(&uri, &headers) {
        // The query is not read: it may be what is too long.
        return refuse(e, "");
    }
    let body = match read_body(body, st.client_timeout).await {
        Ok(b) => b,
        Err(e) => return refuse(e, uri.query().unwrap_or_default()),
    };
    // Header values that are not visible ASCII are read as ISO-8859-1, as
    // HTTP defines them (Python's http.client sends a non-ASCII User-Agent
    // that way, and the SDK signs it as text).
    let latin1: Vec<(&str, String)> = headers
        .iter()
        .filter(|(_, v)| v.to_str().is_err())
        .map(|(k, v)| (k.as_str(), v.as_bytes().iter().map(|&b| char::from(b)).collect()))
        .collect();
    let header_pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .chain(latin1.iter().map(|(k, v)| (*k, v.as_str())))
        .collect();
    let raw = RawRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or_default(),
        headers: &header_pairs,
        body: &body,
    };
    let outcome = handle(&st, &raw, &request_id).await;
    let elapsed = started.elapsed().as_secs_f64();
    match outcome {
        Ok((format, product, action, account, bytes)) => {
            st.metrics.observe(product.code(), action, elapsed, None);
            tracing::info!(request_id = %request_id, product = product.code(), action, account = %account, status = 200, micros = (elapsed * 1e6) as u64, "request");
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
            r
        }
        Err(f) => {
            let action = f.action.unwrap_or("unknown");
            let product = f.product.map(|p| p.code()).unwrap_or("unknown");
            st.metrics.observe(product, action, elapsed, Some(&f.error.code));
            if f.error.status >= 500 {
                tracing::error!(request_id = %request_id, product, action, account = %f.account, status = f.error.status, code = %f.error.code, detail = %f.detail, "request failed");
            } else {
                tracing::info!(request_id = %request_id, product, action, account = %f.account, status = f.error.status, code = %f.error.code, micros = (elapsed * 1e6) as u64, "request refused");
            }
            reply_error(f.format, &request_id, host_id(f.product), &f.error)
        }
    }
}

/// A refused request, with what is known about it for logs and metrics.
struct Failure {
    format: Format,
    product: Option<Product>,
    action: Option<&'static str>,
    account: String,
    error: WireError,
    detail: String,
}

type Handled = (Format, Product, &'static str, String, Vec<u8>);

async fn handle(st: &AppState, raw: &RawRequest<'_>, request_id: &str) -> Result<Handled, Failure> {
    let mut fail = Failure {
        format: Format::Json,
        product: None,
        action: None,
        account: String::new(),
        error: WireError::new(400, "", ""),
        detail: String::new(),
    };
    macro_rules! bail {
        ($e:expr) => {{
            fail.error = $e;
            return Err(fail);
        }};
    }
    if raw.method != "GET" && raw.method != "POST" {
        fail.format = auth::format_of(raw);
        bail!(WireError::new(405, "UnsupportedHTTPMethod", format!("HTTP method {} is not supported.", raw.method)));
    }
    let inc = match auth::parse(raw) {
        Ok(i) => i,
        Err(e) => {
            fail.format = auth::format_of(raw);
            bail!(e)
        }
    };
    fail.format = inc.format;
    if inc.version.is_empty() {
        bail!(to_wire(&eip_types::Error::MissingParameter("Version".into()), Product::Vpc, ""));
    }
    let Some(product) = Product::from_version(&inc.version) else {
        bail!(WireError::new(
            400,
            "InvalidVersion",
            format!("Specified parameter Version is not valid: {}", bounds::echo(&inc.version))
        ));
    };
    fail.product = Some(product);
    if inc.action.is_empty() {
        bail!(to_wire(&eip_types::Error::MissingParameter("Action".into()), product, ""));
    }
    let Some(spec) = catalog::find(product, &inc.action) else {
        bail!(WireError::new(
            404,
            "InvalidAction.NotFound",
            format!("Specified api is not found, please check your url and method: {}", bounds::echo(&inc.action))
        ));
    };
    fail.action = Some(spec.name);
    let unknown_key = || WireError::new(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    if !bounds::is_plausible_access_key_id(&inc.access_key_id) {
        bail!(unknown_key());
    }
    let key = match st.keys.get(&st.ctl, &inc.access_key_id) {
        Ok(Some(k)) => k,
        Ok(None) => bail!(unknown_key()),
        Err(e) => {
            fail.detail = e.to_string();
            bail!(to_wire(&e, product, spec.name))
        }
    };
    if !key.active {
        bail!(WireError::new(400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled."));
    }
    fail.account = key.account.clone();
    if let Err(e) = inc.verify(raw, &key.secret) {
        bail!(e);
    }
    let now = real_now_ms();
    if (now - inc.timestamp_ms).abs() > TIMESTAMP_WINDOW_MS {
        bail!(WireError::new(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."));
    }
    // Rate limits before the nonce is spent: the SDKs retry a throttled call
    // once told how long to wait.
    if let Some(t) = &st.throttle
        && let Err(wait_ms) = t.check(&key.account, spec.name, now)
    {
        bail!(
            WireError::new(400, "Throttling.User", "Request was denied due to user flow control.")
                .retry_after_ms(wait_ms)
        );
    }
    // A nonce can be replayed while its request's timestamp is inside the
    // window: until timestamp + window, which the check above puts at most
    // two windows from now.
    let nonce_key = format!("{}\n{}", inc.access_key_id, inc.nonce);
    let nonce_expires = inc.timestamp_ms + TIMESTAMP_WINDOW_MS + 1000;
    match st.nonces.lock().insert(&nonce_key, nonce_expires, now) {
        NonceSeen::Fresh => {}
        NonceSeen::Used => bail!(to_wire(&eip_types::Error::SignatureNonceUsed, product, spec.name)),
        NonceSeen::Full => bail!(WireError::new(400, "Throttling", "Request was denied due to request throttling.")),
    }
    let ctx = Ctx {
        account: key.account.clone(),
        product,
        action: spec.name,
        request_id: request_id.to_owned(),
        nonce: Some((nonce_key, nonce_expires)),
    };
    match st.ctl.call(&ctx, &inc.params).await {
        Ok(body) => {
            Ok((inc.format, product, spec.name, key.account, encode::success(inc.format, spec.name, request_id, body)))
        }
        Err(e) => {
            fail.detail = e.to_string();
            bail!(to_wire(&e, catalog::error_product(product, spec.name), spec.name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_single_use_within_the_window() {
        let mut c = NonceCache::default();
        let exp = 1000 + TIMESTAMP_WINDOW_MS;
        assert_eq!(c.insert("k\nn1", exp, 1000), NonceSeen::Fresh);
        assert_eq!(c.insert("k\nn1", exp, 2000), NonceSeen::Used);
        assert_eq!(c.insert("k\nn2", exp, 2000), NonceSeen::Fresh);
        assert_eq!(c.insert("k\nn1", exp + 2 * TIMESTAMP_WINDOW_MS, exp + 1), NonceSeen::Fresh);
    }

    /// Issue 9, defect 3: a nonce costs 16 bytes however long it is, and the
    /// cache stops at MAX_NONCES live entries instead of growing.
    #[test]
    fn nonce_memory_does_not_depend_on_the_nonce() {
        let mut c = NonceCache::default();
        let huge = "n".repeat(1 << 20);
        assert_eq!(c.insert(&huge, 10_000, 0), NonceSeen::Fresh);
        assert_eq!(c.insert(&huge, 10_000, 1), NonceSeen::Used);
        assert_eq!(std::mem::size_of::<(u128, i64)>(), 32);
        c.restore((0..MAX_NONCES).map(|i| (format!("k\n{i}"), 10_000)));
        assert_eq!(c.insert("k\nfresh", 10_000, 2), NonceSeen::Full);
        // Once those expire there is room again.
        assert_eq!(c.insert("k\nfresh", 30_000, 10_001), NonceSeen::Fresh);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn request_ids_look_like_alibabas() {
        let id = new_request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }
}
