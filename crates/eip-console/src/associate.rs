//! The "Associate with resource" dialog, per resource type in the
//! document's order, and "Unassociate".

use crate::ConsoleState;
use crate::api::{Shown, call, items, text};
use crate::eips::{EipView, ListQuery, eip_form, eip_page, list, one_eip, type_label};
use crate::session::{self, Session};
use crate::web::{Top, done, forbidden, render, session_of, to_signin, top};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use eip_api::Product;
use eip_types::AssociatedInstanceType;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// This module's routes.
pub(crate) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
        .route("/eips/{id}/associate", get(associate_page).post(associate))
        .route("/eips/{id}/unassociate", get(unassociate_page).post(unassociate))
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
const TYPES: &[AssociatedInstanceType] = &[
    AssociatedInstanceType::EcsInstance,
    AssociatedInstanceType::NetworkInterface,
    AssociatedInstanceType::Nat,
    AssociatedInstanceType::SlbInstance,
    AssociatedInstanceType::HaVip,
];

/// The dialog's type for a form or query value, if it is one of them.
fn dialog_type(v: &str) -> Option<AssociatedInstanceType> {
    AssociatedInstanceType::parse(v).filter(|t| TYPES.contains(t))
}

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
    kind: AssociatedInstanceType,
    kind_name: &'static str,
    picks: Vec<Pick>,
    error: Option<Shown>,
    token: String,
    page: i64,
    total: i64,
    has_next: bool,
}

#[derive(Template)]
#[template(path = "unassociate.html")]
struct UnassociatePage {
    top: Top,
    eip: EipView,
    error: Option<Shown>,
    token: String,
    /// For a NAT gateway EIP: the SNAT and DNAT entries that use its
    /// address, as (entry id, what it does).
    entries: Vec<(String, String)>,
}

impl UnassociatePage {
    async fn new(st: &ConsoleState, s: &Session, eip: EipView, error: Option<Shown>) -> UnassociatePage {
        let entries = if eip.instance_type == "Nat" { nat_entries(st, s, &eip).await } else { Vec::new() };
        UnassociatePage { top: top(s), eip, error, token: session::token(), entries }
    }
}

/// The SNAT and DNAT entries of the EIP's NAT gateway that use its address
/// (they hold it there unless the unassociation is forced).
async fn nat_entries(st: &ConsoleState, s: &Session, eip: &EipView) -> Vec<(String, String)> {
    let ask = |action: &'static str, ip_key: &str| {
        let params = vec![
            ("RegionId".to_owned(), s.region.clone()),
            ("NatGatewayId".to_owned(), eip.instance_id.clone()),
            (ip_key.to_owned(), eip.ip.clone()),
            ("PageSize".to_owned(), "50".to_owned()),
        ];
        call(st, s, Product::Vpc, action, params)
    };
    let mut out = Vec::new();
    if let Ok(b) = ask("DescribeSnatTableEntries", "SnatIp").await {
        for e in items(b, "/SnatTableEntries/SnatTableEntry") {
            out.push((text(&e, "SnatEntryId"), format!("SNAT for {}", text(&e, "SourceCIDR"))));
        }
    }
    if let Ok(b) = ask("DescribeForwardTableEntries", "ExternalIp").await {
        for e in items(b, "/ForwardTableEntries/ForwardTableEntry") {
            out.push((
                text(&e, "ForwardEntryId"),
                format!(
                    "DNAT {} port {} to {}:{}",
                    text(&e, "IpProtocol"),
                    text(&e, "ExternalPort"),
                    text(&e, "InternalIp"),
                    text(&e, "InternalPort")
                ),
            ));
        }
    }
    out
}

#[derive(Deserialize, Default)]
struct TypeQuery {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    page: Option<i64>,
}

async fn associate_page(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TypeQuery>,
) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    let kind = dialog_type(&q.kind).unwrap_or(AssociatedInstanceType::EcsInstance);
    show_associate(&st, &s, &id, kind, q.page.unwrap_or(1), None).await
}

/// Resources per page of the picker.
const PICKS_PER_PAGE: i64 = 50;

/// Page `page` of what a `kind` of resource the caller has in the region,
/// with how many there are in all.
async fn picks(
    st: &ConsoleState,
    s: &Session,
    kind: AssociatedInstanceType,
    page: i64,
) -> Result<(Vec<Pick>, i64), Shown> {
    let (product, action, path): (Product, &'static str, &str) = match kind {
        AssociatedInstanceType::NetworkInterface => {
            (Product::Ecs, "DescribeNetworkInterfaces", "/NetworkInterfaceSets/NetworkInterfaceSet")
        }
        AssociatedInstanceType::Nat => (Product::Vpc, "DescribeNatGateways", "/NatGateways/NatGateway"),
        AssociatedInstanceType::SlbInstance => (Product::Slb, "DescribeLoadBalancers", "/LoadBalancers/LoadBalancer"),
        AssociatedInstanceType::HaVip => (Product::Vpc, "DescribeHaVips", "/HaVips/HaVip"),
        AssociatedInstanceType::EcsInstance => (Product::Ecs, "DescribeInstances", "/Instances/Instance"),
        // Not in the dialog (LB-02 for ALB and NLB).
        AssociatedInstanceType::Alb | AssociatedInstanceType::Nlb | AssociatedInstanceType::IpAddress => {
            return Ok((Vec::new(), 0));
        }
    };
    let params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("PageNumber".to_owned(), page.to_string()),
        ("PageSize".to_owned(), PICKS_PER_PAGE.to_string()),
    ];
    let b = call(st, s, product, action, params).await?;
    let total = b.get("TotalCount").and_then(Value::as_i64).unwrap_or(0);
    let found = items(b, path);
    let picks = match kind {
        AssociatedInstanceType::NetworkInterface => found.iter().flat_map(eni_picks).collect(),
        AssociatedInstanceType::Nat => found.iter().map(nat_pick).collect(),
        AssociatedInstanceType::SlbInstance => found.iter().map(clb_pick).collect(),
        AssociatedInstanceType::HaVip => found.iter().map(havip_pick).collect(),
        AssociatedInstanceType::EcsInstance
        | AssociatedInstanceType::Alb
        | AssociatedInstanceType::Nlb
        | AssociatedInstanceType::IpAddress => found.iter().map(ecs_pick).collect(),
    };
    Ok((picks, total))
}

async fn show_associate(
    st: &ConsoleState,
    s: &Session,
    id: &str,
    kind: AssociatedInstanceType,
    page: i64,
    error: Option<Shown>,
) -> Response {
    let page = page.clamp(1, 1_000_000);
    let eip = match one_eip(st, s, id).await {
        Ok(e) => e,
        Err(e) => return list(st, s, ListQuery::default(), Some(e)).await,
    };
    let kind_name = type_label(kind);
    let (picks, total) = match picks(st, s, kind, page).await {
        Ok(p) => p,
        Err(e) => return list(st, s, ListQuery::default(), Some(e)).await,
    };
    let types = TYPES.iter().map(|k| (k.as_str(), type_label(*k), *k == kind)).collect();
    render(&AssociatePage {
        top: top(s),
        eip,
        types,
        kind,
        kind_name,
        picks,
        error,
        token: session::token(),
        has_next: page * PICKS_PER_PAGE < total,
        page,
        total,
    })
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
    /// Unassociate: also delete the NAT entries that use the address.
    #[serde(default)]
    force: String,
    /// The picker's page the form was sent from.
    #[serde(default = "first_page")]
    page: i64,
}

fn first_page() -> i64 {
    1
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
    let Some(kind) = dialog_type(&f.instance_type) else {
        return show_associate(&st, &s, &id, AssociatedInstanceType::EcsInstance, 1, None).await;
    };
    if f.target.is_empty() {
        let e = Shown {
            code: "MissingParameter.InstanceId".into(),
            message: "Choose the resource to associate with.".into(),
        };
        return show_associate(&st, &s, &id, kind, f.page, Some(e)).await;
    }
    let (target, private_ip) = match f.target.split_once('|') {
        Some((t, ip)) => (t.to_owned(), Some(ip.to_owned())),
        None => (f.target.clone(), None),
    };
    let mut params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("AllocationId".to_owned(), id.clone()),
        ("InstanceId".to_owned(), target.clone()),
        ("InstanceType".to_owned(), kind.as_str().to_owned()),
        ("ClientToken".to_owned(), format!("console-{}", f.token.chars().take(40).collect::<String>())),
    ];
    if kind == AssociatedInstanceType::NetworkInterface {
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
        Err(e) => show_associate(&st, &s, &id, kind, f.page, Some(e)).await,
    }
}

async fn unassociate_page(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match eip_page(&st, &headers, &id).await {
        Ok((s, eip)) => render(&UnassociatePage::new(&st, &s, eip, None).await),
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
    let mut params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("AllocationId".to_owned(), id.clone()),
        ("InstanceId".to_owned(), eip.instance_id.clone()),
        ("InstanceType".to_owned(), eip.instance_type.clone()),
        ("ClientToken".to_owned(), format!("console-{}", f.token.chars().take(40).collect::<String>())),
    ];
    if f.force == "on" {
        params.push(("Force".to_owned(), "true".to_owned()));
    }
    match call(&st, &s, Product::Vpc, "UnassociateEipAddress", params).await {
        Ok(_) => done(&format!("Unassociating {id}")),
        Err(e) => render(&UnassociatePage::new(&st, &s, eip, Some(e)).await),
    }
}
