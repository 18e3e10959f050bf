//! The ALB and NLB pages: their lists, a detail page with each zone's
//! addresses, and "change network type", the only way an EIP reaches an
//! ALB or NLB (LB-02, CON-07): to Internet with one EIP per zone (an
//! Available one, or a new one allocated on the spot), or back to Intranet,
//! which unassociates them.

use crate::ConsoleState;
use crate::api::{Shown, call, items, text};
use crate::eips::eip_view;
use crate::session::{self, Session};
use crate::web::{Top, done_at, forbidden, form_field, page, render, session_of, to_signin, top};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use eip_api::Product;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// This module's routes.
pub(crate) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
        .route("/{lbs}", get(list_page))
        .route("/{lbs}/{id}", get(detail_page))
        .route("/{lbs}/{id}/zones", get(zones_fragment))
        .route("/{lbs}/{id}/network-type", get(network_type_page).post(change_network_type))
}

/// Which of the two load balancers a page is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lb {
    Alb,
    Nlb,
}

impl Lb {
    fn parse(slug: &str) -> Option<Lb> {
        match slug {
            "albs" => Some(Lb::Alb),
            "nlbs" => Some(Lb::Nlb),
            _ => None,
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Lb::Alb => "albs",
            Lb::Nlb => "nlbs",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Lb::Alb => "ALB",
            Lb::Nlb => "NLB",
        }
    }

    fn product(self) -> Product {
        match self {
            Lb::Alb => Product::Alb,
            Lb::Nlb => Product::Nlb,
        }
    }
}

/// One zone of a load balancer and its addresses.
struct ZoneView {
    zone_id: String,
    vswitch_id: String,
    private_ip: String,
    allocation_id: String,
    public_ip: String,
}

struct LbView {
    id: String,
    name: String,
    status: String,
    address_type: String,
    vpc_id: String,
    dns: String,
    zones: Vec<ZoneView>,
}

impl LbView {
    fn of(lb: Lb, v: &Value) -> LbView {
        let zones = v
            .get("ZoneMappings")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|z| {
                        let addr = z.pointer("/LoadBalancerAddresses/0").cloned().unwrap_or_default();
                        let (private_ip, public_ip) = match lb {
                            Lb::Alb => {
                                let allocated = !text(&addr, "AllocationId").is_empty();
                                (
                                    text(&addr, "IntranetAddress"),
                                    if allocated { text(&addr, "Address") } else { String::new() },
                                )
                            }
                            Lb::Nlb => (text(&addr, "PrivateIPv4Address"), text(&addr, "PublicIPv4Address")),
                        };
                        ZoneView {
                            zone_id: text(z, "ZoneId"),
                            vswitch_id: text(z, "VSwitchId"),
                            private_ip,
                            allocation_id: text(&addr, "AllocationId"),
                            public_ip,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        LbView {
            id: text(v, "LoadBalancerId"),
            name: text(v, "LoadBalancerName"),
            status: text(v, "LoadBalancerStatus"),
            address_type: text(v, "AddressType"),
            vpc_id: text(v, "VpcId"),
            dns: text(v, "DNSName"),
            zones,
        }
    }

    fn is_internet(&self) -> bool {
        self.address_type == "Internet"
    }

    /// Still changing: the page keeps refreshing its zones until it is not.
    fn settling(&self) -> bool {
        self.status != "Active"
    }
}

// ---------------------------------------------------------------- the list

#[derive(Template)]
#[template(path = "lbs.html")]
struct ListPage {
    top: Top,
    lb: &'static str,
    slug: &'static str,
    lbs: Vec<LbView>,
    error: Option<Shown>,
    next: String,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    next: String,
}

async fn list_page(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let Some(lb) = Lb::parse(&slug) else { return not_found() };
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    show_list(&st, &s, lb, &q.next, None).await
}

/// A page of the region's load balancers of one kind (from `next`, a
/// NextToken), with `error` shown above it when an action was refused.
async fn show_list(st: &ConsoleState, s: &Session, lb: Lb, next: &str, error: Option<Shown>) -> Response {
    let mut params = vec![("RegionId".to_owned(), s.region.clone()), ("MaxResults".to_owned(), "50".to_owned())];
    if !next.is_empty() {
        params.push(("NextToken".to_owned(), next.chars().take(64).collect()));
    }
    let refused = error.is_some();
    let (lbs, next, error) = match call(st, s, lb.product(), "ListLoadBalancers", params).await {
        Ok(b) => {
            let next = b.get("NextToken").and_then(Value::as_str).unwrap_or_default().to_owned();
            (items(b, "/LoadBalancers").iter().map(|v| LbView::of(lb, v)).collect(), next, error)
        }
        Err(e) => (Vec::new(), String::new(), error.or(Some(e))),
    };
    let mut r = render(&ListPage { top: top(s), lb: lb.name(), slug: lb.slug(), lbs, error, next });
    if refused {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    r
}

fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, "No such page.".into())
}

// ---------------------------------------------------------------- the detail page

#[derive(Template)]
#[template(path = "lb_detail.html")]
struct DetailPage {
    top: Top,
    lb: &'static str,
    slug: &'static str,
    v: LbView,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "lb_zones.html")]
struct ZonesFragment {
    slug: &'static str,
    v: LbView,
}

/// The caller's load balancer `id` in the session's region.
async fn one_lb(st: &ConsoleState, s: &Session, lb: Lb, id: &str) -> Result<LbView, Shown> {
    let params =
        vec![("RegionId".to_owned(), s.region.clone()), ("LoadBalancerId".to_owned(), id.chars().take(64).collect())];
    let b = call(st, s, lb.product(), "GetLoadBalancerAttribute", params).await?;
    Ok(LbView::of(lb, &Value::Object(b)))
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

async fn detail_page(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let Some(lb) = Lb::parse(&slug) else { return not_found() };
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    match one_lb(&st, &s, lb, &id).await {
        Ok(v) => {
            let notice = (!q.notice.is_empty()).then(|| q.notice.chars().take(200).collect());
            render(&DetailPage { top: top(&s), lb: lb.name(), slug: lb.slug(), v, notice })
        }
        Err(e) => refused_list(&st, &s, lb, e).await,
    }
}

async fn zones_fragment(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    let Some(lb) = Lb::parse(&slug) else { return not_found() };
    let Some((_, s)) = session_of(&st, &headers) else { return StatusCode::UNAUTHORIZED.into_response() };
    match one_lb(&st, &s, lb, &id).await {
        Ok(v) => render(&ZonesFragment { slug: lb.slug(), v }),
        Err(e) => page(StatusCode::BAD_REQUEST, format!("{}: {}", e.code, e.message)),
    }
}

/// The list page showing why an action on one load balancer was refused.
async fn refused_list(st: &ConsoleState, s: &Session, lb: Lb, e: Shown) -> Response {
    show_list(st, s, lb, "", Some(e)).await
}

// ---------------------------------------------------------------- change network type

/// An EIP offered for a zone: (allocation id, label).
type Offer = (String, String);

#[derive(Template)]
#[template(path = "lb_network_type.html")]
struct NetworkTypePage {
    top: Top,
    lb: &'static str,
    slug: &'static str,
    v: LbView,
    offers: Vec<Offer>,
    error: Option<Shown>,
    token: String,
}

/// The region's Available EIPs, which a zone can take.
async fn offers(st: &ConsoleState, s: &Session) -> Vec<Offer> {
    let params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("Status".to_owned(), "Available".to_owned()),
        ("PageSize".to_owned(), "100".to_owned()),
    ];
    match call(st, s, Product::Vpc, "DescribeEipAddresses", params).await {
        Ok(b) => items(b, "/EipAddresses/EipAddress")
            .iter()
            .map(eip_view)
            .map(|e| {
                let label = format!("{} ({}, {}, {} Mbit/s)", e.id, e.ip, e.metering, e.bandwidth);
                (e.id, label)
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

async fn show_network_type(st: &ConsoleState, s: &Session, lb: Lb, id: &str, error: Option<Shown>) -> Response {
    let v = match one_lb(st, s, lb, id).await {
        Ok(v) => v,
        Err(e) => return refused_list(st, s, lb, e).await,
    };
    let offers = if v.is_internet() { Vec::new() } else { offers(st, s).await };
    let failed = error.is_some();
    let mut r = render(&NetworkTypePage {
        top: top(s),
        lb: lb.name(),
        slug: lb.slug(),
        v,
        offers,
        error,
        token: session::token(),
    });
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    r
}

async fn network_type_page(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    let Some(lb) = Lb::parse(&slug) else { return not_found() };
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    show_network_type(&st, &s, lb, &id, None).await
}

/// The value of a zone's EIP choice that asks for a new EIP.
const NEW_EIP: &str = "new";

async fn change_network_type(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(lb) = Lb::parse(&slug) else { return not_found() };
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    let field = |name: &str| form_field(&pairs, name);
    if field("csrf") != s.csrf {
        return forbidden();
    }
    let v = match one_lb(&st, &s, lb, &id).await {
        Ok(v) => v,
        Err(e) => return refused_list(&st, &s, lb, e).await,
    };
    let token: String = field("token").chars().take(40).collect();
    let token = if token.is_empty() { session::token() } else { token };
    let mut params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("LoadBalancerId".to_owned(), v.id.clone()),
        ("ClientToken".to_owned(), format!("console-{token}")),
    ];
    let to_internet = !v.is_internet();
    params.push(("AddressType".to_owned(), if to_internet { "Internet" } else { "Intranet" }.to_owned()));
    if to_internet {
        for (n, z) in v.zones.iter().enumerate() {
            let choice = field(&format!("eip.{}", z.zone_id));
            let allocation = if choice == NEW_EIP {
                // A new pay-as-you-go, pay-by-data-transfer EIP for the zone;
                // the form's token makes a second submit reuse it.
                let alloc = vec![
                    ("RegionId".to_owned(), s.region.clone()),
                    ("InternetChargeType".to_owned(), "PayByTraffic".to_owned()),
                    ("Name".to_owned(), format!("{}-{}", v.id, z.zone_id)),
                    ("ClientToken".to_owned(), format!("console-{token}-{}", z.zone_id)),
                ];
                match call(&st, &s, Product::Vpc, "AllocateEipAddress", alloc).await {
                    Ok(b) => text(&Value::Object(b), "AllocationId"),
                    Err(e) => return show_network_type(&st, &s, lb, &id, Some(e)).await,
                }
            } else {
                choice
            };
            let n = n + 1;
            params.push((format!("ZoneMappings.{n}.ZoneId"), z.zone_id.clone()));
            params.push((format!("ZoneMappings.{n}.VSwitchId"), z.vswitch_id.clone()));
            if !allocation.is_empty() {
                params.push((format!("ZoneMappings.{n}.AllocationId"), allocation));
            }
        }
    }
    match call(&st, &s, lb.product(), "UpdateLoadBalancerAddressTypeConfig", params).await {
        Ok(_) => {
            let what = if to_internet { "Internet" } else { "Intranet" };
            done_at(&format!("/console/{}/{}", lb.slug(), v.id), &format!("Changing {} to {what}", v.id))
        }
        Err(e) => show_network_type(&st, &s, lb, &id, Some(e)).await,
    }
}
