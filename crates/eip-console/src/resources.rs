//! Read-only lists of the resources the Associate dialog picks from (ECS
//! instances, ENIs with their private IPs, NAT gateways, CLBs, HaVips), each
//! row linking to the EIPs associated with it. They read the same Describe
//! actions the API serves; nothing is changed from here.

use crate::ConsoleState;
use crate::api::{Shown, call, items, text};
use crate::web::{Top, render, session_of, to_signin, top};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use eip_api::Product;
use eip_types::AssociatedInstanceType;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// This module's routes.
pub(crate) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new().route("/resources/{kind}", get(resource_page))
}

/// The resource lists, in the order of the navigation bar.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listed {
    Instances,
    Enis,
    NatGateways,
    Clbs,
    HaVips,
}

impl Listed {
    pub(crate) const ALL: &'static [Listed] =
        &[Listed::Instances, Listed::Enis, Listed::NatGateways, Listed::Clbs, Listed::HaVips];

    /// The path segment under `/console/resources/`.
    pub(crate) fn slug(self) -> &'static str {
        match self {
            Listed::Instances => "instances",
            Listed::Enis => "enis",
            Listed::NatGateways => "nat-gateways",
            Listed::Clbs => "clbs",
            Listed::HaVips => "havips",
        }
    }

    fn parse(s: &str) -> Option<Listed> {
        Listed::ALL.iter().copied().find(|k| k.slug() == s)
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            Listed::Instances => "ECS instances",
            Listed::Enis => "Elastic network interfaces",
            Listed::NatGateways => "NAT gateways",
            Listed::Clbs => "CLB instances",
            Listed::HaVips => "HaVips",
        }
    }

    /// The EIP list's `AssociatedInstanceType` for this resource.
    fn associated(self) -> AssociatedInstanceType {
        match self {
            Listed::Instances => AssociatedInstanceType::EcsInstance,
            Listed::Enis => AssociatedInstanceType::NetworkInterface,
            Listed::NatGateways => AssociatedInstanceType::Nat,
            Listed::Clbs => AssociatedInstanceType::SlbInstance,
            Listed::HaVips => AssociatedInstanceType::HaVip,
        }
    }

    /// (product, action, path of the items, id field).
    fn source(self) -> (Product, &'static str, &'static str, &'static str) {
        match self {
            Listed::Instances => (Product::Ecs, "DescribeInstances", "/Instances/Instance", "InstanceId"),
            Listed::Enis => (
                Product::Ecs,
                "DescribeNetworkInterfaces",
                "/NetworkInterfaceSets/NetworkInterfaceSet",
                "NetworkInterfaceId",
            ),
            Listed::NatGateways => (Product::Vpc, "DescribeNatGateways", "/NatGateways/NatGateway", "NatGatewayId"),
            Listed::Clbs => (Product::Slb, "DescribeLoadBalancers", "/LoadBalancers/LoadBalancer", "LoadBalancerId"),
            Listed::HaVips => (Product::Vpc, "DescribeHaVips", "/HaVips/HaVip", "HaVipId"),
        }
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            Listed::Instances => &["Name", "Status", "Zone", "VPC / vSwitch", "Private IP", "Public IP / EIP"],
            Listed::Enis => &["Name", "Status", "Type", "Attached to", "VPC / vSwitch", "Private IPs and their EIPs"],
            Listed::NatGateways => &["Name", "Status", "Type", "VPC / vSwitch", "EIPs"],
            Listed::Clbs => &["Name", "Status", "Address type", "Address", "VPC / vSwitch"],
            Listed::HaVips => &["Name", "Status", "IP address", "VPC / vSwitch", "EIPs"],
        }
    }

    /// The cells of a row, after the id.
    fn cells(self, v: &Value) -> Vec<String> {
        let list = |path: &str, key: &str| -> String {
            v.pointer(path)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|x| if key.is_empty() { x.as_str().unwrap_or_default().to_owned() } else { text(x, key) })
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        };
        let net = |vpc: String, vsw: String| if vpc.is_empty() { "-".to_owned() } else { format!("{vpc} / {vsw}") };
        match self {
            Listed::Instances => {
                let eip = v.pointer("/EipAddress/IpAddress").and_then(Value::as_str).unwrap_or_default();
                let public = list("/PublicIpAddress/IpAddress", "");
                let vpc = v.get("VpcAttributes").cloned().unwrap_or_default();
                vec![
                    text(v, "InstanceName"),
                    text(v, "Status"),
                    text(v, "ZoneId"),
                    net(text(&vpc, "VpcId"), text(&vpc, "VSwitchId")),
                    list("/VpcAttributes/PrivateIpAddress/IpAddress", ""),
                    match (eip.is_empty(), public.is_empty()) {
                        (false, _) => format!("{eip} (EIP)"),
                        (true, false) => format!("{public} (public IP)"),
                        (true, true) => "-".to_owned(),
                    },
                ]
            }
            Listed::Enis => {
                let ips = v
                    .pointer("/PrivateIpSets/PrivateIpSet")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|set| {
                                let eip = set.pointer("/AssociatedPublicIp/PublicIpAddress").and_then(Value::as_str);
                                let primary = set.get("Primary").and_then(Value::as_bool).unwrap_or(false);
                                format!(
                                    "{}{}{}",
                                    text(set, "PrivateIpAddress"),
                                    if primary { " (primary)" } else { "" },
                                    eip.filter(|e| !e.is_empty()).map(|e| format!(" → {e}")).unwrap_or_default()
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                vec![
                    text(v, "NetworkInterfaceName"),
                    text(v, "Status"),
                    text(v, "Type"),
                    Some(text(v, "InstanceId")).filter(|s| !s.is_empty()).unwrap_or_else(|| "-".into()),
                    net(text(v, "VpcId"), text(v, "VSwitchId")),
                    ips,
                ]
            }
            Listed::NatGateways => vec![
                text(v, "Name"),
                text(v, "Status"),
                text(v, "NatType"),
                net(
                    text(v, "VpcId"),
                    v.pointer("/NatGatewayPrivateInfo/VswitchId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                ),
                Some(list("/IpLists/IpList", "IpAddress")).filter(|s| !s.is_empty()).unwrap_or_else(|| "-".into()),
            ],
            Listed::Clbs => vec![
                text(v, "LoadBalancerName"),
                text(v, "LoadBalancerStatus"),
                text(v, "AddressType"),
                text(v, "Address"),
                net(text(v, "VpcId"), text(v, "VSwitchId")),
            ],
            Listed::HaVips => vec![
                text(v, "Name"),
                text(v, "Status"),
                text(v, "IpAddress"),
                net(text(v, "VpcId"), text(v, "VSwitchId")),
                Some(list("/AssociatedEipAddresses/associatedEipAddresse", ""))
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "-".into()),
            ],
        }
    }
}

struct ResourceRow {
    id: String,
    cells: Vec<String>,
    /// The EIP list filtered to this resource.
    eips: String,
}

#[derive(Template)]
#[template(path = "resources.html")]
struct ResourcePage {
    top: Top,
    title: &'static str,
    columns: &'static [&'static str],
    rows: Vec<ResourceRow>,
    error: Option<Shown>,
    slug: &'static str,
    page: i64,
    total: i64,
    has_next: bool,
}

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(default)]
    page: Option<i64>,
}

async fn resource_page(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    let Some(kind) = Listed::parse(&kind) else {
        return crate::web::page(StatusCode::NOT_FOUND, "No such page.".into());
    };
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let (product, action, path, id_key) = kind.source();
    let params = vec![
        ("RegionId".to_owned(), s.region.clone()),
        ("PageNumber".to_owned(), page.to_string()),
        ("PageSize".to_owned(), PAGE_SIZE.to_string()),
    ];
    let (rows, total, error) = match call(&st, &s, product, action, params).await {
        Ok(b) => {
            let total = b.get("TotalCount").and_then(Value::as_i64).unwrap_or(0);
            let assoc = kind.associated().as_str();
            let rows = items(b, path)
                .iter()
                .map(|v| {
                    let id = text(v, id_key);
                    ResourceRow {
                        eips: format!("/console/eips?kind={assoc}&instance={}", eip_api::sign::percent_encode(&id)),
                        cells: kind.cells(v),
                        id,
                    }
                })
                .collect();
            (rows, total, None)
        }
        Err(e) => (Vec::new(), 0, Some(e)),
    };
    render(&ResourcePage {
        top: top(&s),
        title: kind.title(),
        columns: kind.columns(),
        rows,
        error,
        slug: kind.slug(),
        has_next: page * PAGE_SIZE < total,
        page,
        total,
    })
}
