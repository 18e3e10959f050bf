//! The web console, served by eipd under `/console`: server-rendered pages
//! (askama templates checked at compile time, htmx vendored and embedded in
//! the binary, no JavaScript build) that follow the EIP association
//! document's console flows.
//!
//! Exists as its own crate so the API edge stays as it is: the console signs
//! in with an AccessKey pair, keeps a session (HttpOnly, SameSite=Strict,
//! expiring cookie; a CSRF token on every state-changing form), and then
//! calls the same controller actions as the API, with the same rules,
//! errors, ClientToken idempotency and asynchronous statuses. There is no
//! second implementation of anything.

mod session;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use eip_api::{Params, Product};
use eip_controller::accounts::KeyCache;
use eip_controller::{Controller, Ctx};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::Value;
use session::{Failures, SESSION_COOKIE, SIGNIN_COOKIE, Session, Sessions};
use std::sync::Arc;

/// What the console shares between requests.
pub struct ConsoleState {
    ctl: Arc<Controller>,
    keys: KeyCache,
    sessions: Mutex<Sessions>,
    failures: Mutex<Failures>,
}

impl ConsoleState {
    /// A console over a controller.
    pub fn new(ctl: Arc<Controller>) -> Arc<ConsoleState> {
        Arc::new(ConsoleState {
            ctl,
            keys: KeyCache::default(),
            sessions: Mutex::new(Sessions::default()),
            failures: Mutex::new(Failures::default()),
        })
    }
}

/// The console's routes, to be nested under `/console`.
pub fn router(state: Arc<ConsoleState>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/eips") }))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/region", post(set_region))
        .route("/eips", get(eips_page))
        .route("/eips/allocate", post(allocate))
        .route("/eips/{id}", get(eip_detail))
        .route("/eips/{id}/row", get(eip_row))
        .route("/eips/{id}/associate", get(associate_page).post(associate))
        .route("/eips/{id}/unassociate", get(unassociate_page).post(unassociate))
        .route("/eips/{id}/release", get(release_page).post(release))
        .route("/eips/retrieve", post(retrieve))
        .route("/assets/htmx.min.js", get(htmx))
        .route("/assets/console.css", get(css))
        .with_state(state)
}

const HTMX: &str = include_str!("../assets/htmx-2.0.11.min.js");
const CSS: &str = include_str!("../assets/console.css");

async fn htmx() -> Response {
    asset("text/javascript; charset=utf-8", HTMX)
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

fn now_ms() -> i64 {
    eip_controller::clock::real_now_ms()
}

/// A page: no caching, no framing, scripts only from the console itself.
fn page(status: StatusCode, html: String) -> Response {
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

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => page(StatusCode::OK, html),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, "The page could not be rendered.".into())
        }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(r: &mut Response, name: &str, value: &str, max_age_s: i64) {
    let c = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_s}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The signed-in session of a request, if any.
fn session_of(st: &ConsoleState, headers: &HeaderMap) -> Option<(String, Session)> {
    let id = cookie(headers, SESSION_COOKIE)?;
    let s = st.sessions.lock().get(&id, now_ms())?;
    Some((id, s))
}

/// Back to the list, with what was done.
fn done(notice: &str) -> Response {
    Redirect::to(&format!("/console/eips?notice={}", eip_api::sign::percent_encode(notice))).into_response()
}

fn to_signin() -> Response {
    Redirect::to("/console/signin").into_response()
}

fn forbidden() -> Response {
    page(StatusCode::FORBIDDEN, "The form's security token is missing or stale: reload the page and try again.".into())
}

// ---------------------------------------------------------------- sign-in

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    csrf: String,
    error: Option<String>,
    access_key_id: String,
}

async fn signin_page(State(st): State<Arc<ConsoleState>>, headers: HeaderMap) -> Response {
    if session_of(&st, &headers).is_some() {
        return Redirect::to("/console/eips").into_response();
    }
    signin_form(None, String::new(), StatusCode::OK)
}

/// The sign-in form with a fresh token, kept in its own cookie too (the
/// form's value must match it).
fn signin_form(error: Option<String>, access_key_id: String, status: StatusCode) -> Response {
    let csrf = session::token();
    let mut r = render(&SignInPage { csrf: csrf.clone(), error, access_key_id });
    *r.status_mut() = status;
    set_cookie(&mut r, SIGNIN_COOKIE, &csrf, 3600);
    r
}

#[derive(Deserialize)]
struct SignIn {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
}

async fn signin(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Form(f): Form<SignIn>) -> Response {
    if f.csrf.is_empty() || cookie(&headers, SIGNIN_COOKIE).as_deref() != Some(f.csrf.as_str()) {
        return forbidden();
    }
    let id = f.access_key_id.trim().to_owned();
    let delay = st.failures.lock().delay_ms(&id);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let key =
        if eip_api::bounds::is_plausible_access_key_id(&id) { st.keys.get(&st.ctl, &id).ok().flatten() } else { None };
    let ok = key.as_ref().is_some_and(|k| k.active && eip_api::sign::signatures_equal(&k.secret, &f.access_key_secret));
    let Some(key) = key.filter(|_| ok) else {
        st.failures.lock().failed(&id);
        return signin_form(
            Some("The AccessKey ID or secret is wrong, or the key is disabled.".into()),
            if id.len() <= 128 { id } else { String::new() },
            StatusCode::UNAUTHORIZED,
        );
    };
    st.failures.lock().succeeded(&id);
    let account_name = eip_controller::accounts::account_name(&st.ctl, &key.account)
        .ok()
        .flatten()
        .unwrap_or_else(|| key.account.clone());
    let s = Session {
        account: key.account.clone(),
        account_name,
        csrf: session::token(),
        region: eip_controller::demo::DEMO_REGION.to_owned(),
        expires: 0,
    };
    let Some(sid) = st.sessions.lock().create(s, now_ms()) else {
        return signin_form(
            Some("Too many people are signed in; try again later.".into()),
            String::new(),
            StatusCode::SERVICE_UNAVAILABLE,
        );
    };
    let mut r = Redirect::to("/console/eips").into_response();
    set_cookie(&mut r, SESSION_COOKIE, &sid, session::SESSION_TTL_MS / 1000);
    set_cookie(&mut r, SIGNIN_COOKIE, "", 0);
    r
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn signout(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Form(f): Form<CsrfOnly>) -> Response {
    let Some((sid, s)) = session_of(&st, &headers) else { return to_signin() };
    if f.csrf != s.csrf {
        return forbidden();
    }
    st.sessions.lock().remove(&sid);
    let mut r = to_signin();
    set_cookie(&mut r, SESSION_COOKIE, "", 0);
    r
}

#[derive(Deserialize)]
struct RegionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    region: String,
}

async fn set_region(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Form(f): Form<RegionForm>) -> Response {
    let Some((sid, s)) = session_of(&st, &headers) else { return to_signin() };
    if f.csrf != s.csrf {
        return forbidden();
    }
    if let Some(r) = eip_domain::catalogue::region(&f.region).map(|r| r.id) {
        st.sessions.lock().set_region(&sid, r);
    }
    Redirect::to("/console/eips").into_response()
}

/// The catalogue's regions as (id, English name), for the top bar.
fn regions() -> Vec<(&'static str, &'static str)> {
    eip_domain::catalogue::REGIONS.iter().map(|r| (r.id, r.local_name_en)).collect()
}

// ---------------------------------------------------------------- calling the controller

/// An error as the console shows it: Alibaba's code and message.
struct Shown {
    code: String,
    message: String,
}

async fn call(
    st: &ConsoleState,
    s: &Session,
    product: Product,
    action: &'static str,
    params: Vec<(String, String)>,
) -> Result<serde_json::Map<String, Value>, Shown> {
    let ctx =
        Ctx { account: s.account.clone(), product, action, request_id: eip_api::encode::new_request_id(), nonce: None };
    st.ctl.call(&ctx, &Params::new(params)).await.map_err(|e| {
        let w = eip_api::errors::to_wire(&e, product, action);
        Shown { code: w.code, message: w.message }
    })
}

fn text(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------- the EIP list

struct Top {
    csrf: String,
    region: String,
    /// (id, name, selected)
    regions: Vec<(&'static str, &'static str, bool)>,
    account: String,
    account_name: String,
}

fn top(s: &Session) -> Top {
    Top {
        csrf: s.csrf.clone(),
        region: s.region.clone(),
        regions: regions().into_iter().map(|(id, name)| (id, name, id == s.region)).collect(),
        account: s.account.clone(),
        account_name: s.account_name.clone(),
    }
}

/// One row of the list.
struct EipView {
    id: String,
    name: String,
    ip: String,
    bandwidth: String,
    metering: &'static str,
    status: String,
    transitional: bool,
    billing: &'static str,
    expires: String,
    instance_type: String,
    instance_id: String,
    private_ip: String,
    mode: String,
    protected: bool,
    tags: Vec<(String, String)>,
}

fn eip_view(v: &Value) -> EipView {
    let status = text(v, "Status");
    let instance_id = text(v, "InstanceId");
    let tags = v
        .pointer("/Tags/Tag")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|t| (text(t, "Key"), text(t, "Value"))).collect())
        .unwrap_or_default();
    EipView {
        id: text(v, "AllocationId"),
        name: text(v, "Name"),
        ip: text(v, "IpAddress"),
        bandwidth: text(v, "Bandwidth"),
        metering: if text(v, "InternetChargeType") == "PayByBandwidth" {
            "Pay-by-bandwidth"
        } else {
            "Pay-by-data-transfer"
        },
        transitional: matches!(status.as_str(), "Associating" | "Unassociating" | "Releasing"),
        billing: if text(v, "ChargeType") == "PrePaid" { "Subscription" } else { "Pay-as-you-go" },
        expires: text(v, "ExpiredTime"),
        instance_type: text(v, "InstanceType"),
        mode: if instance_id.is_empty() { String::new() } else { text(v, "Mode") },
        private_ip: text(v, "PrivateIpAddress"),
        instance_id,
        protected: v.get("DeletionProtection").and_then(Value::as_bool).unwrap_or(false),
        tags,
        status,
    }
}

#[derive(Template)]
#[template(path = "eips.html")]
struct EipsPage {
    top: Top,
    eips: Vec<EipView>,
    notice: Option<String>,
    error: Option<Shown>,
    allocate_open: bool,
    /// (status, selected)
    statuses: Vec<(&'static str, bool)>,
    filter_status: String,
    filter_q: String,
    page: i64,
    total: i64,
    has_next: bool,
}

#[derive(Template)]
#[template(path = "eip_row.html")]
struct EipRow {
    e: EipView,
}

const PAGE_SIZE: i64 = 50;
const STATUSES: &[&str] = &["Available", "Associating", "InUse", "Unassociating", "Releasing"];

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    notice: String,
}

async fn eips_page(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    list(&st, &s, q, None).await
}

async fn list(st: &ConsoleState, s: &Session, q: ListQuery, error: Option<Shown>) -> Response {
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let mut params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("PageNumber".to_owned(), page.to_string()),
        ("PageSize".to_owned(), PAGE_SIZE.to_string()),
    ];
    let status = if STATUSES.contains(&q.status.as_str()) { q.status.clone() } else { String::new() };
    if !status.is_empty() {
        params.push(("Status".into(), status.clone()));
    }
    let search = q.q.trim().chars().take(128).collect::<String>();
    if !search.is_empty() {
        let key = if search.starts_with("eip-") {
            "AllocationId"
        } else if search.parse::<std::net::Ipv4Addr>().is_ok() {
            "EipAddress"
        } else {
            "EipName"
        };
        params.push((key.into(), search.clone()));
    }
    let (eips, total, error) = match call(st, s, Product::Vpc, "DescribeEipAddresses", params).await {
        Ok(b) => {
            let items = b
                .get("EipAddresses")
                .and_then(|w| w.get("EipAddress"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = b.get("TotalCount").and_then(Value::as_i64).unwrap_or(0);
            (items.iter().map(eip_view).collect(), total, error)
        }
        Err(e) => (Vec::new(), 0, Some(e)),
    };
    let notice = (!q.notice.is_empty()).then(|| q.notice.chars().take(200).collect());
    render(&EipsPage {
        top: top(s),
        has_next: page * PAGE_SIZE < total,
        eips,
        notice,
        allocate_open: false,
        error,
        statuses: STATUSES.iter().map(|x| (*x, *x == status)).collect(),
        filter_status: status,
        filter_q: search,
        page,
        total,
    })
}

async fn eip_row(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return StatusCode::UNAUTHORIZED.into_response() };
    let params =
        vec![("RegionId".to_owned(), s.region.clone()), ("AllocationId".to_owned(), id.chars().take(64).collect())];
    match call(&st, &s, Product::Vpc, "DescribeEipAddresses", params).await {
        Ok(b) => match Value::Object(b).pointer("/EipAddresses/EipAddress/0") {
            Some(v) => render(&EipRow { e: eip_view(v) }),
            // Released: the row goes.
            None => page(StatusCode::OK, String::new()),
        },
        Err(e) => page(StatusCode::BAD_REQUEST, format!("{}: {}", e.code, e.message)),
    }
}

#[derive(Deserialize)]
struct AllocateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    metering: String,
    #[serde(default)]
    bandwidth: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    token: String,
}

async fn allocate(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Form(f): Form<AllocateForm>) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    if f.csrf != s.csrf {
        return forbidden();
    }
    let quantity: u32 = match f.quantity.trim().parse() {
        Ok(n @ 1..=20) => n,
        _ => {
            let e = Shown { code: "InvalidParameter".into(), message: "Quantity must be 1 to 20.".into() };
            return list(&st, &s, ListQuery::default(), Some(e)).await;
        }
    };
    // The form carries its own token, so submitting it twice allocates once.
    let token = if f.token.is_empty() { session::token() } else { f.token.chars().take(40).collect() };
    let mut made = Vec::new();
    for i in 0..quantity {
        let mut params = vec![
            ("RegionId".to_owned(), s.region.clone()),
            ("Bandwidth".to_owned(), f.bandwidth.clone()),
            (
                "InternetChargeType".to_owned(),
                if f.metering == "PayByBandwidth" { "PayByBandwidth".into() } else { "PayByTraffic".into() },
            ),
            ("ClientToken".to_owned(), format!("console-{token}-{i}")),
        ];
        if !f.name.is_empty() {
            params.push(("Name".into(), f.name.clone()));
        }
        match call(&st, &s, Product::Vpc, "AllocateEipAddress", params).await {
            Ok(b) => made.push(text(&Value::Object(b), "AllocationId")),
            Err(e) => return list(&st, &s, ListQuery::default(), Some(e)).await,
        }
    }
    let notice = format!("Created {}", made.join(", "));
    done(&notice)
}

// ---------------------------------------------------------------- associate and unassociate

/// A resource in the picker, with why it cannot take the EIP (and the rule
/// that says so), or an empty reason. `value` is what the form sends: the
/// id, or for an ENI's private IP `eni-…|address`.
struct Pick {
    value: String,
    id: String,
    name: String,
    status: String,
    private_ip: String,
    reason: String,
}

/// The resource types of the dialog, in the document's order.
const TYPES: &[(&str, &str)] = &[
    ("EcsInstance", "ECS instance"),
    ("NetworkInterface", "Elastic network interface"),
    ("Nat", "NAT gateway"),
    ("SlbInstance", "CLB instance"),
    ("HaVip", "High-availability virtual IP"),
];

fn ecs_pick(v: &Value) -> Pick {
    let status = text(v, "Status");
    let public = v.pointer("/PublicIpAddress/IpAddress").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    let has_eip = v.pointer("/EipAddress/AllocationId").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    let reason = if text(v, "InstanceNetworkType") != "vpc" {
        "is not in a VPC — ECS-01".to_owned()
    } else if has_eip {
        "already has an EIP — ECS-02".to_owned()
    } else if !matches!(status.as_str(), "Running" | "Stopped") {
        format!("is {status} — ECS-03")
    } else if public {
        "has a public IP address — ECS-04".to_owned()
    } else {
        String::new()
    };
    let private_ip =
        v.pointer("/VpcAttributes/PrivateIpAddress/IpAddress/0").and_then(Value::as_str).unwrap_or_default().to_owned();
    let id = text(v, "InstanceId");
    Pick { value: id.clone(), id, name: text(v, "InstanceName"), status, private_ip, reason }
}

/// One pick per private IP of each ENI (ENI-03: EIPs and private IPs map 1:1).
fn eni_picks(v: &Value) -> Vec<Pick> {
    let id = text(v, "NetworkInterfaceId");
    let sets = v.pointer("/PrivateIpSets/PrivateIpSet").and_then(Value::as_array).cloned().unwrap_or_default();
    sets.iter()
        .map(|set| {
            let ip = text(set, "PrivateIpAddress");
            let taken =
                set.pointer("/AssociatedPublicIp/AllocationId").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
            let primary = set.get("Primary").and_then(Value::as_bool).unwrap_or(false);
            Pick {
                value: format!("{id}|{ip}"),
                id: id.clone(),
                name: format!(
                    "{} ({})",
                    text(v, "NetworkInterfaceName"),
                    if primary { "primary IP" } else { "secondary IP" }
                ),
                status: text(v, "Status"),
                private_ip: ip,
                reason: if taken { "this private IP has an EIP — ENI-03".into() } else { String::new() },
            }
        })
        .collect()
}

fn nat_pick(v: &Value) -> Pick {
    let id = text(v, "NatGatewayId");
    let eips = v.pointer("/IpLists/IpList").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
    let status = text(v, "Status");
    let reason = if eips >= 20 {
        format!("NAT gateway holds {eips} EIPs — NAT-02")
    } else if status != "Available" {
        format!("is {status}")
    } else {
        String::new()
    };
    Pick { value: id.clone(), id, name: text(v, "Name"), status, private_ip: String::new(), reason }
}

fn clb_pick(v: &Value) -> Pick {
    let id = text(v, "LoadBalancerId");
    let internet = text(v, "AddressType") == "internet";
    Pick {
        value: id.clone(),
        id,
        name: text(v, "LoadBalancerName"),
        status: text(v, "LoadBalancerStatus"),
        private_ip: text(v, "Address"),
        reason: if internet { "is internet-facing: it has a public address already".into() } else { String::new() },
    }
}

fn havip_pick(v: &Value) -> Pick {
    let id = text(v, "HaVipId");
    let status = text(v, "Status");
    let has_eip = v
        .pointer("/AssociatedEipAddresses/associatedEipAddresse")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let reason = if has_eip {
        "already has an EIP — HA-03".to_owned()
    } else if !matches!(status.as_str(), "Available" | "InUse") {
        format!("is {status} — HA-04")
    } else {
        String::new()
    };
    Pick { value: id.clone(), id, name: text(v, "Name"), status, private_ip: text(v, "IpAddress"), reason }
}

#[derive(Template)]
#[template(path = "associate.html")]
struct AssociatePage {
    top: Top,
    eip: EipView,
    /// (type, label, selected)
    types: Vec<(&'static str, &'static str, bool)>,
    kind: &'static str,
    kind_name: &'static str,
    picks: Vec<Pick>,
    error: Option<Shown>,
    token: String,
}

#[derive(Template)]
#[template(path = "unassociate.html")]
struct UnassociatePage {
    top: Top,
    eip: EipView,
    error: Option<Shown>,
    token: String,
}

/// The session and EIP of a page about one EIP (or the response instead:
/// the sign-in page, or the list saying why not).
async fn eip_page(st: &ConsoleState, headers: &HeaderMap, id: &str) -> Result<(Session, EipView), Response> {
    let Some((_, s)) = session_of(st, headers) else { return Err(to_signin()) };
    let eip = eip_or_list(st, &s, id).await?;
    Ok((s, eip))
}

/// The same for a form posted about one EIP, whose CSRF token must match.
async fn eip_form(
    st: &ConsoleState,
    headers: &HeaderMap,
    id: &str,
    csrf: &str,
) -> Result<(Session, EipView), Response> {
    let Some((_, s)) = session_of(st, headers) else { return Err(to_signin()) };
    if csrf != s.csrf {
        return Err(forbidden());
    }
    let eip = eip_or_list(st, &s, id).await?;
    Ok((s, eip))
}

/// The caller's EIP `id`, or the list page showing why not.
async fn eip_or_list(st: &ConsoleState, s: &Session, id: &str) -> Result<EipView, Response> {
    match one_eip(st, s, id).await {
        Ok(e) => Ok(e),
        Err(e) => Err(list(st, s, ListQuery::default(), Some(e)).await),
    }
}

/// The caller's EIP `id` in the session's region.
async fn one_eip(st: &ConsoleState, s: &Session, id: &str) -> Result<EipView, Shown> {
    let params =
        vec![("RegionId".to_owned(), s.region.clone()), ("AllocationId".to_owned(), id.chars().take(64).collect())];
    let b = call(st, s, Product::Vpc, "DescribeEipAddresses", params).await?;
    match Value::Object(b).pointer("/EipAddresses/EipAddress/0") {
        Some(v) => Ok(eip_view(v)),
        None => Err(Shown {
            code: "InvalidAllocationId.NotFound".into(),
            message: format!("Specified allocation ID {id} is not found in {}.", s.region),
        }),
    }
}

#[derive(Deserialize, Default)]
struct TypeQuery {
    #[serde(default, rename = "type")]
    kind: String,
}

async fn associate_page(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TypeQuery>,
) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    show_associate(&st, &s, &id, &q.kind, None).await
}

/// Lists what a `kind` of resource the caller has in the region.
async fn picks(st: &ConsoleState, s: &Session, kind: &str) -> Result<Vec<Pick>, Shown> {
    let region = || ("RegionId".to_owned(), s.region.clone());
    let size = |n: &str| ("PageSize".to_owned(), n.to_owned());
    let items = |b: serde_json::Map<String, Value>, path: &str| -> Vec<Value> {
        Value::Object(b).pointer(path).and_then(Value::as_array).cloned().unwrap_or_default()
    };
    Ok(match kind {
        "NetworkInterface" => {
            let b = call(st, s, Product::Ecs, "DescribeNetworkInterfaces", vec![region(), size("100")]).await?;
            items(b, "/NetworkInterfaceSets/NetworkInterfaceSet").iter().flat_map(eni_picks).collect()
        }
        "Nat" => {
            let b = call(st, s, Product::Vpc, "DescribeNatGateways", vec![region(), size("50")]).await?;
            items(b, "/NatGateways/NatGateway").iter().map(nat_pick).collect()
        }
        "SlbInstance" => {
            let b = call(st, s, Product::Slb, "DescribeLoadBalancers", vec![region(), size("100")]).await?;
            items(b, "/LoadBalancers/LoadBalancer").iter().map(clb_pick).collect()
        }
        "HaVip" => {
            let b = call(st, s, Product::Vpc, "DescribeHaVips", vec![region(), size("50")]).await?;
            items(b, "/HaVips/HaVip").iter().map(havip_pick).collect()
        }
        _ => {
            let b = call(st, s, Product::Ecs, "DescribeInstances", vec![region(), size("100")]).await?;
            items(b, "/Instances/Instance").iter().map(ecs_pick).collect()
        }
    })
}

async fn show_associate(st: &ConsoleState, s: &Session, id: &str, kind: &str, error: Option<Shown>) -> Response {
    let eip = match one_eip(st, s, id).await {
        Ok(e) => e,
        Err(e) => return list(st, s, ListQuery::default(), Some(e)).await,
    };
    let (kind, kind_name) = TYPES.iter().copied().find(|(k, _)| *k == kind).unwrap_or(TYPES[0]);
    let picks = match picks(st, s, kind).await {
        Ok(p) => p,
        Err(e) => return list(st, s, ListQuery::default(), Some(e)).await,
    };
    let types = TYPES.iter().map(|(k, n)| (*k, *n, *k == kind)).collect();
    render(&AssociatePage { top: top(s), eip, types, kind, kind_name, picks, error, token: session::token() })
}

#[derive(Deserialize)]
struct AssociateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    instance_type: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    mode: String,
}

async fn associate(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<AssociateForm>,
) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    if f.csrf != s.csrf {
        return forbidden();
    }
    let Some((kind, _)) = TYPES.iter().copied().find(|(k, _)| *k == f.instance_type) else {
        return show_associate(&st, &s, &id, "", None).await;
    };
    if f.target.is_empty() {
        let e = Shown {
            code: "MissingParameter.InstanceId".into(),
            message: "Choose the resource to associate with.".into(),
        };
        return show_associate(&st, &s, &id, kind, Some(e)).await;
    }
    let (target, private_ip) = match f.target.split_once('|') {
        Some((t, ip)) => (t.to_owned(), Some(ip.to_owned())),
        None => (f.target.clone(), None),
    };
    let mut params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("AllocationId".to_owned(), id.clone()),
        ("InstanceId".to_owned(), target.clone()),
        ("InstanceType".to_owned(), kind.to_owned()),
        ("ClientToken".to_owned(), format!("console-{}", f.token.chars().take(40).collect::<String>())),
    ];
    if kind == "NetworkInterface" {
        let mode = if matches!(f.mode.as_str(), "BINDED" | "MULTI_BINDED") { f.mode.clone() } else { "NAT".to_owned() };
        // Cut-through mode takes the ENI's primary address itself.
        if mode != "BINDED"
            && let Some(ip) = private_ip
        {
            params.push(("PrivateIpAddress".into(), ip));
        }
        params.push(("Mode".into(), mode));
    }
    match call(&st, &s, Product::Vpc, "AssociateEipAddress", params).await {
        Ok(_) => done(&format!("Associating {id} with {target}")),
        Err(e) => show_associate(&st, &s, &id, kind, Some(e)).await,
    }
}

async fn unassociate_page(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match eip_page(&st, &headers, &id).await {
        Ok((s, eip)) => render(&UnassociatePage { top: top(&s), eip, error: None, token: session::token() }),
        Err(r) => r,
    }
}

async fn unassociate(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<AssociateForm>,
) -> Response {
    let (s, eip) = match eip_form(&st, &headers, &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("AllocationId".to_owned(), id.clone()),
        ("InstanceId".to_owned(), eip.instance_id.clone()),
        ("InstanceType".to_owned(), eip.instance_type.clone()),
        ("ClientToken".to_owned(), format!("console-{}", f.token.chars().take(40).collect::<String>())),
    ];
    match call(&st, &s, Product::Vpc, "UnassociateEipAddress", params).await {
        Ok(_) => done(&format!("Unassociating {id}")),
        Err(e) => render(&UnassociatePage { top: top(&s), eip, error: Some(e), token: session::token() }),
    }
}

// ---------------------------------------------------------------- release and retrieve

#[derive(Template)]
#[template(path = "release.html")]
struct ReleasePage {
    top: Top,
    eip: EipView,
    error: Option<Shown>,
}

async fn release_page(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match eip_page(&st, &headers, &id).await {
        Ok((s, eip)) => render(&ReleasePage { top: top(&s), eip, error: None }),
        Err(r) => r,
    }
}

async fn release(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let (s, eip) = match eip_form(&st, &headers, &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let params = vec![("RegionId".to_owned(), s.region.clone()), ("AllocationId".to_owned(), id.clone())];
    match call(&st, &s, Product::Vpc, "ReleaseEipAddress", params).await {
        Ok(_) => done(&format!("Releasing {id}")),
        Err(e) => render(&ReleasePage { top: top(&s), eip, error: Some(e) }),
    }
}

#[derive(Deserialize)]
struct RetrieveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ip_address: String,
    #[serde(default)]
    eip_id: String,
}

async fn retrieve(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Form(f): Form<RetrieveForm>) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    if f.csrf != s.csrf {
        return forbidden();
    }
    let mut params = vec![("RegionId".to_owned(), s.region.clone())];
    if !f.ip_address.trim().is_empty() {
        params.push(("IpAddress".into(), f.ip_address.trim().to_owned()));
    }
    if !f.eip_id.trim().is_empty() {
        params.push(("InstanceId".into(), f.eip_id.trim().to_owned()));
    }
    if params.len() == 1 {
        let e = Shown {
            code: "MissingParameter.IpAddress".into(),
            message: "Give the address or the released EIP's id.".into(),
        };
        return list(&st, &s, ListQuery::default(), Some(e)).await;
    }
    match call(&st, &s, Product::Vpc, "AllocateEipAddress", params).await {
        Ok(b) => {
            let b = Value::Object(b);
            let notice = format!("Retrieved {} as {}", text(&b, "EipAddress"), text(&b, "AllocationId"));
            done(&notice)
        }
        Err(e) => list(&st, &s, ListQuery::default(), Some(e)).await,
    }
}

// ---------------------------------------------------------------- the detail page

#[derive(Template)]
#[template(path = "eip_detail.html")]
struct DetailPage {
    top: Top,
    eip: EipView,
    /// EIP → resource → vSwitch → VPC, as (kind, id), as far as known.
    nodes: Vec<(String, String)>,
    /// Received and sent bytes per minute as SVG polyline points, or empty.
    chart: (String, String),
    peak: u64,
}

impl DetailPage {
    fn chart_is_empty(&self) -> bool {
        self.chart.0.is_empty()
    }
}

/// Where the associated resource sits: its vSwitch and VPC, from the same
/// Describe calls the API serves.
async fn placement(st: &ConsoleState, s: &Session, e: &EipView) -> Vec<(String, String)> {
    let region = ("RegionId".to_owned(), s.region.clone());
    let found = match e.instance_type.as_str() {
        "EcsInstance" => call(
            st,
            s,
            Product::Ecs,
            "DescribeInstances",
            vec![region, ("InstanceIds".into(), format!("[\"{}\"]", e.instance_id))],
        )
        .await
        .ok()
        .and_then(|b| Value::Object(b).pointer("/Instances/Instance/0/VpcAttributes").cloned())
        .map(|v| (text(&v, "VSwitchId"), text(&v, "VpcId"))),
        "NetworkInterface" => call(
            st,
            s,
            Product::Ecs,
            "DescribeNetworkInterfaces",
            vec![region, ("NetworkInterfaceId.1".into(), e.instance_id.clone())],
        )
        .await
        .ok()
        .and_then(|b| Value::Object(b).pointer("/NetworkInterfaceSets/NetworkInterfaceSet/0").cloned())
        .map(|v| (text(&v, "VSwitchId"), text(&v, "VpcId"))),
        _ => None,
    };
    found.map(|(vsw, vpc)| vec![("vSwitch".to_owned(), vsw), ("VPC".to_owned(), vpc)]).unwrap_or_default()
}

/// The last hour of DescribeEipMonitorData as two polylines (600×150).
async fn traffic(st: &ConsoleState, s: &Session, id: &str) -> ((String, String), u64) {
    let now = now_ms();
    let params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("AllocationId".to_owned(), id.to_owned()),
        ("StartTime".to_owned(), eip_types::time::format_iso(now - 3_600_000)),
        ("EndTime".to_owned(), eip_types::time::format_iso(now)),
        ("Period".to_owned(), "60".to_owned()),
    ];
    let points: Vec<(u64, u64)> = match call(st, s, Product::Vpc, "DescribeEipMonitorData", params).await {
        Ok(b) => Value::Object(b)
            .pointer("/EipMonitorDatas/EipMonitorData")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|p| (p["EipRX"].as_u64().unwrap_or(0), p["EipTX"].as_u64().unwrap_or(0))).collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let peak = points.iter().map(|(r, t)| *r.max(t)).max().unwrap_or(0);
    if peak == 0 || points.len() < 2 {
        return ((String::new(), String::new()), 0);
    }
    let line = |f: &dyn Fn(&(u64, u64)) -> u64| {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let x = i as f64 * 600.0 / (points.len() - 1) as f64;
                let y = 155.0 - f(p) as f64 * 135.0 / peak as f64;
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    ((line(&|p| p.0), line(&|p| p.1)), peak)
}

async fn eip_detail(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (s, eip) = match eip_page(&st, &headers, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut nodes = vec![("EIP".to_owned(), eip.ip.clone())];
    if !eip.instance_id.is_empty() {
        nodes.push((eip.instance_type.clone(), eip.instance_id.clone()));
        nodes.extend(placement(&st, &s, &eip).await);
    }
    let (chart, peak) = traffic(&st, &s, &eip.id).await;
    render(&DetailPage { top: top(&s), eip, nodes, chart, peak })
}
