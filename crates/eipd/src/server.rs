//! The HTTP edge. One route serves every product's RPC calls: parse the
//! request, authenticate it (key, signature, 15-minute timestamp window,
//! nonce never reused within the window), dispatch it to the controller,
//! and write the result or the error envelope in the caller's format.
//! `/healthz` answers liveness (and the data plane's state under `--lab`) and
//! `/metrics` serves Prometheus text.

use crate::health::DataplaneHealth;
use crate::metrics::Metrics;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use eip_api::auth::{self, RawRequest};
use eip_api::encode::{self, Format};
use eip_api::errors::{WireError, to_wire};
use eip_api::{Product, catalog};
use eip_controller::accounts::KeyCache;
use eip_controller::clock::real_now_ms;
use eip_controller::{Controller, Ctx};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Signing times may be this far from the server's clock, either way.
pub const TIMESTAMP_WINDOW_MS: i64 = 15 * 60 * 1000;

/// How long a nonce stays refused: twice the window, so a request signed up
/// to 15 minutes in the future stays refusable until its window closes.
pub const NONCE_KEEP_MS: i64 = 2 * TIMESTAMP_WINDOW_MS;

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
}

/// Nonces seen within the timestamp window.
#[derive(Default)]
pub struct NonceCache {
    seen: HashMap<String, i64>,
    next_prune: i64,
}

impl NonceCache {
    /// Records a nonce; false if it was already used and has not expired.
    pub fn insert(&mut self, key: String, now: i64) -> bool {
        if now >= self.next_prune {
            self.seen.retain(|_, exp| *exp > now);
            self.next_prune = now + 10_000;
        }
        match self.seen.get(&key) {
            Some(exp) if *exp > now => false,
            _ => {
                self.seen.insert(key, now + NONCE_KEEP_MS);
                true
            }
        }
    }

    /// Nonces recorded before a restart (acknowledged writes), refused
    /// until `expires`.
    pub fn restore(&mut self, nonces: impl IntoIterator<Item = (String, i64)>) {
        self.seen.extend(nonces);
    }
}

/// The router.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/", any(rpc))
        .fallback(any(not_found))
        // One byte more than we accept, so an oversized body reaches `rpc`
        // and gets the error envelope instead of a bare 413.
        .layer(DefaultBodyLimit::max(MAX_BODY + 1))
        .with_state(state)
}

async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let backlog = st.ctl.task_backlog().ok();
    let mut text = st.metrics.render(backlog);
    if let Some(h) = &st.dataplane {
        h.render(&mut text);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Liveness; with a data plane, its state too (503 while it keeps failing).
async fn healthz(State(st): State<Arc<AppState>>) -> Response {
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
        format!("Specified api is not found, please check your url and method: {}", uri.path()),
    );
    reply_error(Format::Json, &new_request_id(), "openeip", &e)
}

/// A request id in Alibaba's shape (uppercase UUID).
pub fn new_request_id() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode_upper(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn host_id(product: Option<Product>) -> &'static str {
    match product {
        Some(Product::Vpc) => "vpc.aliyuncs.com",
        Some(Product::Ecs) => "ecs.aliyuncs.com",
        Some(Product::Slb) => "slb.aliyuncs.com",
        Some(Product::Alb) => "alb.aliyuncs.com",
        Some(Product::Nlb) => "nlb.aliyuncs.com",
        None => "openeip",
    }
}

fn reply_error(format: Format, request_id: &str, host: &str, e: &WireError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = (status, encode::error(format, request_id, host, e)).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    r
}

async fn rpc(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let request_id = new_request_id();
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let format = auth::format_of(&RawRequest {
                method: method.as_str(),
                path: uri.path(),
                query: uri.query().unwrap_or_default(),
                headers: &[],
                body: &[],
            });
            let e = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                WireError::new(413, "InvalidParameter", "The request body is too large.")
            } else {
                WireError::new(400, "InvalidParameter", "The request body could not be read.")
            };
            st.metrics.observe("unknown", "unknown", started.elapsed().as_secs_f64(), Some(&e.code));
            return reply_error(format, &request_id, "openeip", &e);
        }
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
    let outcome = handle(&st, &raw, &request_id, body.len()).await;
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

/// Characters no parameter may hold: C0 controls other than tab, LF and CR,
/// and DEL.
fn is_forbidden_control(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
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

async fn handle(st: &AppState, raw: &RawRequest<'_>, request_id: &str, body_len: usize) -> Result<Handled, Failure> {
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
    if body_len > MAX_BODY {
        fail.format = auth::format_of(raw);
        bail!(WireError::new(413, "InvalidParameter", "The request body is too large."));
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
            format!("Specified parameter Version is not valid: {}", inc.version)
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
            format!("Specified api is not found, please check your url and method: {}", inc.action)
        ));
    };
    fail.action = Some(spec.name);
    let key = match st.keys.get(&st.ctl, &inc.access_key_id) {
        Ok(Some(k)) => k,
        Ok(None) => bail!(WireError::new(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")),
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
    let nonce_key = format!("{}\n{}", inc.access_key_id, inc.nonce);
    if !st.nonces.lock().insert(nonce_key.clone(), now) {
        bail!(to_wire(&eip_types::Error::SignatureNonceUsed, product, spec.name));
    }
    // Control characters (other than tab and line breaks) have no place in
    // any parameter, and XML 1.0 cannot carry them back.
    if let Some((name, _)) = inc.params.pairs().iter().find(|(_, v)| v.chars().any(is_forbidden_control)) {
        bail!(to_wire(
            &eip_types::Error::invalid(name.as_str(), "control characters are not allowed"),
            product,
            spec.name
        ));
    }
    let ctx = Ctx {
        account: key.account.clone(),
        product,
        action: spec.name,
        request_id: request_id.to_owned(),
        nonce: Some((nonce_key, now + NONCE_KEEP_MS)),
    };
    match st.ctl.call(&ctx, &inc.params).await {
        Ok(body) => {
            Ok((inc.format, product, spec.name, key.account, encode::success(inc.format, spec.name, request_id, body)))
        }
        Err(e) => {
            fail.detail = e.to_string();
            bail!(to_wire(&e, product, spec.name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_single_use_within_the_window() {
        let mut c = NonceCache::default();
        assert!(c.insert("k\nn1".into(), 1000));
        assert!(!c.insert("k\nn1".into(), 2000));
        assert!(c.insert("k\nn2".into(), 2000));
        assert!(c.insert("k\nn1".into(), 1000 + 2 * TIMESTAMP_WINDOW_MS + 1));
    }

    #[test]
    fn request_ids_look_like_alibabas() {
        let id = new_request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }
}
