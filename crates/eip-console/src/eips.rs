//! The Elastic IP Addresses list and what is done from it directly:
//! allocating, releasing, retrieving a released address.

use crate::ConsoleState;
use crate::api::{Shown, call, items, text};
use crate::session::{self, Session};
use crate::web::{CsrfOnly, Top, done, forbidden, form_field, page, render, session_of, to_signin, top};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use eip_api::Product;
use eip_types::{AssociatedInstanceType, EipStatus};
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
        .route("/eips/batch", post(batch))
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
        transitional: EipStatus::parse(&status).is_some_and(EipStatus::is_transitional),
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
    /// (status, selected)
    statuses: Vec<(&'static str, bool)>,
    /// (associated type, label, selected)
    kinds: Vec<(&'static str, &'static str, bool)>,
    f: Filters,
    /// The Create form's ClientToken stem: submitting it twice allocates once.
    token: String,
    /// The filters as a query string, for the paging links.
    filter_qs: String,
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

/// What the list is filtered by: the query string of `/console/eips`.
#[derive(Deserialize, Default, Clone)]
pub(crate) struct ListQuery {
    #[serde(default)]
    pub(crate) status: String,
    /// The associated resource's type (`AssociatedInstanceType`).
    #[serde(default)]
    pub(crate) kind: String,
    /// The associated resource's id (`AssociatedInstanceId`): the resource
    /// pages link here.
    #[serde(default)]
    pub(crate) instance: String,
    /// `key` or `key=value`.
    #[serde(default)]
    pub(crate) tag: String,
    #[serde(default)]
    pub(crate) q: String,
    #[serde(default)]
    pub(crate) page: Option<i64>,
    #[serde(default)]
    pub(crate) notice: String,
}

/// The filters a list request carries, checked: unknown statuses and types
/// are dropped, free text is cut to what the API takes.
#[derive(Default)]
struct Filters {
    status: Option<EipStatus>,
    kind: Option<AssociatedInstanceType>,
    instance: String,
    tag: String,
    q: String,
}

impl Filters {
    fn of(q: &ListQuery) -> Filters {
        let cut = |s: &str, n: usize| s.trim().chars().take(n).collect::<String>();
        Filters {
            status: EipStatus::parse(&q.status),
            kind: AssociatedInstanceType::parse(&q.kind),
            instance: cut(&q.instance, 64),
            tag: cut(&q.tag, 256),
            q: cut(&q.q, 128),
        }
    }

    fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.kind.is_none()
            && self.instance.is_empty()
            && self.tag.is_empty()
            && self.q.is_empty()
    }

    fn status_str(&self) -> &'static str {
        self.status.map(EipStatus::as_str).unwrap_or_default()
    }

    /// DescribeEipAddresses parameters for these filters.
    fn params(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(s) = self.status {
            out.push(("Status".to_owned(), s.as_str().to_owned()));
        }
        if let Some(k) = self.kind {
            out.push(("AssociatedInstanceType".to_owned(), k.as_str().to_owned()));
        }
        if !self.instance.is_empty() {
            out.push(("AssociatedInstanceId".to_owned(), self.instance.clone()));
        }
        if !self.tag.is_empty() {
            let (k, v) = self.tag.split_once('=').unwrap_or((self.tag.as_str(), ""));
            out.push(("Tag.1.Key".to_owned(), k.trim().to_owned()));
            if !v.trim().is_empty() {
                out.push(("Tag.1.Value".to_owned(), v.trim().to_owned()));
            }
        }
        if !self.q.is_empty() {
            let key = if self.q.starts_with("eip-") {
                "AllocationId"
            } else if self.q.parse::<std::net::Ipv4Addr>().is_ok() {
                "EipAddress"
            } else {
                "EipName"
            };
            out.push((key.to_owned(), self.q.clone()));
        }
        out
    }

    /// The same filters as `/console/eips` query parameters.
    fn query_string(&self) -> String {
        let enc = eip_api::sign::percent_encode;
        let kind = self.kind.map(AssociatedInstanceType::as_str).unwrap_or_default();
        [
            ("status", self.status_str()),
            ("kind", kind),
            ("instance", &self.instance),
            ("tag", &self.tag),
            ("q", &self.q),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

async fn eips_page(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    list(&st, &s, q, None).await
}

pub(crate) async fn list(st: &ConsoleState, s: &Session, q: ListQuery, error: Option<Shown>) -> Response {
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let f = Filters::of(&q);
    let mut params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("PageNumber".to_owned(), page.to_string()),
        ("PageSize".to_owned(), PAGE_SIZE.to_string()),
    ];
    params.extend(f.params());
    let (eips, total, error) = match call(st, s, Product::Vpc, "DescribeEipAddresses", params).await {
        Ok(b) => {
            let total = b.get("TotalCount").and_then(Value::as_i64).unwrap_or(0);
            (items(b, "/EipAddresses/EipAddress").iter().map(eip_view).collect(), total, error)
        }
        Err(e) => (Vec::new(), 0, Some(e)),
    };
    let notice = (!q.notice.is_empty()).then(|| q.notice.chars().take(200).collect());
    let status = f.status_str();
    render(&EipsPage {
        top: top(s),
        has_next: page * PAGE_SIZE < total,
        eips,
        notice,
        error,
        statuses: EipStatus::ALL.iter().map(|x| (x.as_str(), x.as_str() == status)).collect(),
        kinds: LISTED_KINDS.iter().map(|k| (k.as_str(), type_label(*k), Some(*k) == f.kind)).collect(),
        filter_qs: f.query_string(),
        f,
        token: session::token(),
        page,
        total,
    })
}

/// The associated types the list's filter offers.
const LISTED_KINDS: &[AssociatedInstanceType] = &[
    AssociatedInstanceType::EcsInstance,
    AssociatedInstanceType::NetworkInterface,
    AssociatedInstanceType::Nat,
    AssociatedInstanceType::SlbInstance,
    AssociatedInstanceType::Alb,
    AssociatedInstanceType::Nlb,
    AssociatedInstanceType::HaVip,
];

/// How the console names a resource type.
pub(crate) fn type_label(t: AssociatedInstanceType) -> &'static str {
    match t {
        AssociatedInstanceType::EcsInstance => "ECS instance",
        AssociatedInstanceType::NetworkInterface => "Elastic network interface",
        AssociatedInstanceType::Nat => "NAT gateway",
        AssociatedInstanceType::SlbInstance => "CLB instance",
        AssociatedInstanceType::Alb => "ALB instance",
        AssociatedInstanceType::Nlb => "NLB instance",
        AssociatedInstanceType::HaVip => "High-availability virtual IP",
        AssociatedInstanceType::IpAddress => "IP address",
    }
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
    /// `PostPaid` (pay-as-you-go) or `PrePaid` (subscription).
    #[serde(default)]
    billing: String,
    /// Subscription: `Month` or `Year`, and how many.
    #[serde(default)]
    cycle: String,
    #[serde(default)]
    period: String,
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
        if f.billing == "PrePaid" {
            params.push(("InstanceChargeType".into(), "PrePaid".into()));
            params.push(("PricingCycle".into(), if f.cycle == "Year" { "Year".into() } else { "Month".into() }));
            params.push(("Period".into(), f.period.trim().to_owned()));
            params.push(("AutoPay".into(), "true".into()));
        }
        match call(&st, &s, Product::Vpc, "AllocateEipAddress", params).await {
            Ok(b) => made.push(text(&Value::Object(b), "AllocationId")),
            Err(e) => return list(&st, &s, ListQuery::default(), Some(e)).await,
        }
    }
    let notice = format!("Created {}", made.join(", "));
    done(&notice)
}

// ---------------------------------------------------------------- batch changes

/// What the checked rows get: a tag added or removed, or deletion
/// protection turned on or off.
#[derive(Clone, Copy)]
enum BatchOp {
    TagAdd,
    TagRemove,
    ProtectOn,
    ProtectOff,
}

impl BatchOp {
    fn parse(s: &str) -> Option<BatchOp> {
        match s {
            "tag_add" => Some(BatchOp::TagAdd),
            "tag_remove" => Some(BatchOp::TagRemove),
            "protect_on" => Some(BatchOp::ProtectOn),
            "protect_off" => Some(BatchOp::ProtectOff),
            _ => None,
        }
    }
}

/// The batch form, read as pairs: its `id` field repeats, once per checked
/// row.
async fn batch(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    let field = |name: &str| form_field(&pairs, name);
    if field("csrf") != s.csrf {
        return forbidden();
    }
    let ids: Vec<String> =
        pairs.iter().filter(|(k, _)| k == "id").map(|(_, v)| v.clone()).take(PAGE_SIZE as usize + 1).collect();
    let refuse = |code: &str, message: &str| Shown { code: code.into(), message: message.into() };
    let Some(op) = BatchOp::parse(&field("op")) else {
        return list(&st, &s, ListQuery::default(), Some(refuse("InvalidParameter", "Choose what to change."))).await;
    };
    if ids.is_empty() {
        let e = refuse("MissingParameter.ResourceId", "Select at least one EIP.");
        return list(&st, &s, ListQuery::default(), Some(e)).await;
    }
    let region = ("RegionId".to_owned(), s.region.clone());
    let resources = || ids.iter().enumerate().map(|(i, id)| (format!("ResourceId.{}", i + 1), id.clone()));
    let (key, value) = (field("tag_key"), field("tag_value"));
    let result = match op {
        BatchOp::TagAdd | BatchOp::TagRemove if key.is_empty() => {
            Err(refuse("MissingParameter.TagKey", "Give the tag key."))
        }
        BatchOp::TagAdd => {
            let mut params = vec![region, ("ResourceType".to_owned(), "EIP".to_owned())];
            params.extend(resources());
            params.push(("Tag.1.Key".to_owned(), key.clone()));
            params.push(("Tag.1.Value".to_owned(), value.clone()));
            call(&st, &s, Product::Vpc, "TagResources", params)
                .await
                .map(|_| format!("Tagged {} with {key}={value}", ids.join(", ")))
        }
        BatchOp::TagRemove => {
            let mut params = vec![region, ("ResourceType".to_owned(), "EIP".to_owned())];
            params.extend(resources());
            params.push(("TagKey.1".to_owned(), key.clone()));
            call(&st, &s, Product::Vpc, "UnTagResources", params)
                .await
                .map(|_| format!("Removed tag {key} from {}", ids.join(", ")))
        }
        BatchOp::ProtectOn | BatchOp::ProtectOff => {
            let on = matches!(op, BatchOp::ProtectOn);
            let mut outcome = Ok(());
            // One call per EIP, as the API takes them; the first refusal
            // stops the rest and is shown with the ids already changed.
            let mut changed = Vec::new();
            for id in &ids {
                let params = vec![
                    region.clone(),
                    ("Type".to_owned(), "EIP".to_owned()),
                    ("InstanceId".to_owned(), id.clone()),
                    ("ProtectionEnable".to_owned(), on.to_string()),
                ];
                match call(&st, &s, Product::Vpc, "DeletionProtection", params).await {
                    Ok(_) => changed.push(id.clone()),
                    Err(mut e) => {
                        if !changed.is_empty() {
                            e.message = format!("{} (already changed: {})", e.message, changed.join(", "));
                        }
                        outcome = Err(e);
                        break;
                    }
                }
            }
            outcome
                .map(|()| format!("Deletion protection {} for {}", if on { "on" } else { "off" }, changed.join(", ")))
        }
    };
    match result {
        Ok(notice) => done(&notice),
        Err(e) => list(&st, &s, ListQuery::default(), Some(e)).await,
    }
}

/// The session and EIP of a page about one EIP (or the response instead:
/// the sign-in page, or the list saying why not).
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
