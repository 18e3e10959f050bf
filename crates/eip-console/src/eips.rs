//! The Elastic IP Addresses list and what is done from it directly:
//! allocating, releasing, retrieving a released address.

use crate::ConsoleState;
use crate::api::{Shown, call, text};
use crate::session::{self, Session};
use crate::web::{CsrfOnly, Top, done, forbidden, page, render, session_of, to_signin, top};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use eip_api::Product;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// This module's routes.
pub(crate) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
        .route("/eips", get(eips_page))
        .route("/eips/allocate", post(allocate))
        .route("/eips/{id}/row", get(eip_row))
        .route("/eips/{id}/release", get(release_page).post(release))
        .route("/eips/retrieve", post(retrieve))
}

pub(crate) struct EipView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) ip: String,
    pub(crate) bandwidth: String,
    pub(crate) metering: &'static str,
    pub(crate) status: String,
    pub(crate) transitional: bool,
    pub(crate) billing: &'static str,
    pub(crate) expires: String,
    pub(crate) instance_type: String,
    pub(crate) instance_id: String,
    pub(crate) private_ip: String,
    pub(crate) mode: String,
    pub(crate) protected: bool,
    pub(crate) tags: Vec<(String, String)>,
}

pub(crate) fn eip_view(v: &Value) -> EipView {
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
pub(crate) struct ListQuery {
    #[serde(default)]
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) q: String,
    #[serde(default)]
    pub(crate) page: Option<i64>,
    #[serde(default)]
    pub(crate) notice: String,
}

async fn eips_page(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    list(&st, &s, q, None).await
}

pub(crate) async fn list(st: &ConsoleState, s: &Session, q: ListQuery, error: Option<Shown>) -> Response {
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

pub(crate) async fn eip_page(st: &ConsoleState, headers: &HeaderMap, id: &str) -> Result<(Session, EipView), Response> {
    let Some((_, s)) = session_of(st, headers) else { return Err(to_signin()) };
    let eip = eip_or_list(st, &s, id).await?;
    Ok((s, eip))
}

/// The same for a form posted about one EIP, whose CSRF token must match.
pub(crate) async fn eip_form(
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
pub(crate) async fn eip_or_list(st: &ConsoleState, s: &Session, id: &str) -> Result<EipView, Response> {
    match one_eip(st, s, id).await {
        Ok(e) => Ok(e),
        Err(e) => Err(list(st, s, ListQuery::default(), Some(e)).await),
    }
}

/// The caller's EIP `id` in the session's region.
pub(crate) async fn one_eip(st: &ConsoleState, s: &Session, id: &str) -> Result<EipView, Shown> {
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
