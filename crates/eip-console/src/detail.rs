//! An EIP's detail page: its attributes, where its resource sits (drawn as
//! SVG), and the last hour of traffic from DescribeEipMonitorData.

use crate::ConsoleState;
use crate::api::{call, text};
use crate::eips::{EipView, eip_page};
use crate::session::Session;
use crate::web::{Top, now_ms, render, top};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use eip_api::Product;
use serde_json::Value;
use std::sync::Arc;

/// This module's routes.
pub(crate) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new().route("/eips/{id}", get(eip_detail))
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
