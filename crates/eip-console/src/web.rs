//! The HTTP plumbing every page shares: embedded assets, page headers
//! (no caching, no framing, scripts only from the console), cookies, the
//! signed-in session of a request, the top bar, and the redirects and
//! refusals the handlers return.

use crate::ConsoleState;
use crate::session::{SESSION_COOKIE, Session};
use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use std::sync::Arc;

/// This module's routes.
pub(crate) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
        .route("/assets/htmx.min.js", get(htmx))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
}

const HTMX: &str = include_str!("../assets/htmx-2.0.11.min.js");
const CSS: &str = include_str!("../assets/console.css");
const JS: &str = include_str!("../assets/console.js");

async fn htmx() -> Response {
    asset("text/javascript; charset=utf-8", HTMX)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

fn asset(ctype: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

pub(crate) fn now_ms() -> i64 {
    eip_controller::clock::real_now_ms()
}

/// A page: no caching, no framing, scripts only from the console itself.
pub(crate) fn page(status: StatusCode, html: String) -> Response {
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r
}

pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => page(StatusCode::OK, html),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, "The page could not be rendered.".into())
        }
    }
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

pub(crate) fn set_cookie(r: &mut Response, name: &str, value: &str, max_age_s: i64) {
    let c = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_s}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The signed-in session of a request, if any.
pub(crate) fn session_of(st: &ConsoleState, headers: &HeaderMap) -> Option<(String, Session)> {
    let id = cookie(headers, SESSION_COOKIE)?;
    let s = crate::session::Sessions::get(&st.ctl, &id, now_ms())?;
    Some((id, s))
}

/// Back to the list, with what was done.
pub(crate) fn done(notice: &str) -> Response {
    done_at("/console/eips", notice)
}

/// To `path`, with what was done.
pub(crate) fn done_at(path: &str, notice: &str) -> Response {
    Redirect::to(&format!("{path}?notice={}", eip_api::sign::percent_encode(notice))).into_response()
}

pub(crate) fn to_signin() -> Response {
    Redirect::to("/console/signin").into_response()
}

pub(crate) fn forbidden() -> Response {
    page(StatusCode::FORBIDDEN, "The form's security token is missing or stale: reload the page and try again.".into())
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    pub(crate) csrf: String,
}

/// The catalogue's regions as (id, English name), for the top bar.
fn regions() -> Vec<(&'static str, &'static str)> {
    eip_domain::catalogue::REGIONS.iter().map(|r| (r.id, r.local_name_en)).collect()
}

/// The top bar of every signed-in page.
pub(crate) struct Top {
    pub(crate) csrf: String,
    pub(crate) region: String,
    /// (id, name, selected)
    pub(crate) regions: Vec<(&'static str, &'static str, bool)>,
    pub(crate) account: String,
    pub(crate) account_name: String,
}

pub(crate) fn top(s: &Session) -> Top {
    Top {
        csrf: s.csrf.clone(),
        region: s.region.clone(),
        regions: regions().into_iter().map(|(id, name)| (id, name, id == s.region)).collect(),
        account: s.account.clone(),
        account_name: s.account_name.clone(),
    }
}

/// Logs each console request with its status and server time (the path
/// without its query, which may hold search text).
pub(crate) async fn log_request(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().chars().take(128).collect::<String>();
    let r = next.run(req).await;
    let micros = started.elapsed().as_micros() as u64;
    tracing::info!(%method, path = %path, status = r.status().as_u16(), micros, "console request");
    r
}

/// A field of a form read as pairs (forms whose fields repeat), trimmed;
/// empty when absent.
pub(crate) fn form_field(pairs: &[(String, String)], name: &str) -> String {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}
