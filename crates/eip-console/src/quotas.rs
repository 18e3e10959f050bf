//! The quotas page: the account's quotas with their values and usage, a form
//! to apply for more, and the applications filed. Everything goes through
//! the Quota Center actions the API serves (ListProductQuotas,
//! CreateQuotaApplication, ListQuotaApplications), so the console decides
//! nothing the API would not.

use crate::ConsoleState;
use crate::api::{Shown, call, items, text};
use crate::web::{Top, done_at, forbidden, render, session_of, to_signin, top};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use eip_api::Product;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// The products whose quotas the page lists.
const PRODUCTS: &[&str] = &["eip", "vpc", "nat"];

/// This module's routes.
pub(crate) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new().route("/quotas", get(quotas_page)).route("/quotas/apply", post(apply))
}

struct QuotaRow {
    product: String,
    code: String,
    name: String,
    category: String,
    value: String,
    usage: String,
    adjustable: bool,
}

struct ApplicationRow {
    id: String,
    name: String,
    desired: String,
    approved: String,
    status: String,
    audit: String,
    applied: String,
}

#[derive(Template)]
#[template(path = "quotas.html")]
struct QuotasPage {
    top: Top,
    quotas: Vec<QuotaRow>,
    applications: Vec<ApplicationRow>,
    error: Option<Shown>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct Notice {
    #[serde(default)]
    notice: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// A number the Quota Center sends as a float, shown as a whole number.
fn whole(v: &Value, k: &str) -> String {
    match v.get(k).and_then(Value::as_f64) {
        Some(f) => format!("{}", f as i64),
        None => "-".to_owned(),
    }
}

async fn quotas_page(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Query(q): Query<Notice>) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    let mut quotas = Vec::new();
    let mut error = q.error.map(|m| {
        let (code, message) = m.split_once(": ").unwrap_or(("", m.as_str()));
        Shown { code: code.to_owned(), message: message.to_owned() }
    });
    for product in PRODUCTS {
        let params = vec![("ProductCode".to_owned(), (*product).to_owned())];
        match call(&st, &s, Product::Quotas, "ListProductQuotas", params).await {
            Ok(b) => quotas.extend(items(b, "/Quotas").iter().map(|v| QuotaRow {
                product: text(v, "ProductCode"),
                code: text(v, "QuotaActionCode"),
                name: text(v, "QuotaName"),
                category: text(v, "QuotaCategory"),
                value: whole(v, "TotalQuota"),
                usage: whole(v, "TotalUsage"),
                adjustable: v.get("Adjustable").and_then(Value::as_bool).unwrap_or(false),
            })),
            Err(e) => error = Some(e),
        }
    }
    let params = vec![("MaxResults".to_owned(), "50".to_owned())];
    let applications = match call(&st, &s, Product::Quotas, "ListQuotaApplications", params).await {
        Ok(b) => items(b, "/QuotaApplications")
            .iter()
            .map(|v| ApplicationRow {
                id: text(v, "ApplicationId"),
                name: text(v, "QuotaName"),
                desired: text(v, "DesireValue"),
                approved: v.get("ApproveValue").map_or_else(|| "-".to_owned(), |_| whole(v, "ApproveValue")),
                status: text(v, "Status"),
                audit: text(v, "AuditReason"),
                applied: text(v, "ApplyTime"),
            })
            .collect(),
        Err(e) => {
            error = Some(e);
            Vec::new()
        }
    };
    render(&QuotasPage { top: top(&s), quotas, applications, error, notice: q.notice })
}

#[derive(Deserialize)]
struct ApplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    quota: String,
    #[serde(default)]
    desire: String,
    #[serde(default)]
    reason: String,
}

async fn apply(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Form(f): Form<ApplyForm>) -> Response {
    let Some((_, s)) = session_of(&st, &headers) else { return to_signin() };
    if f.csrf != s.csrf {
        return forbidden();
    }
    let (product, code) = f.quota.split_once('/').unwrap_or(("", f.quota.as_str()));
    let params = vec![
        ("ProductCode".to_owned(), product.to_owned()),
        ("QuotaActionCode".to_owned(), code.to_owned()),
        ("DesireValue".to_owned(), f.desire.trim().to_owned()),
        ("Reason".to_owned(), f.reason.trim().to_owned()),
    ];
    match call(&st, &s, Product::Quotas, "CreateQuotaApplication", params).await {
        Ok(b) => {
            let status = text(&Value::Object(b.clone()), "Status");
            let id = text(&Value::Object(b), "ApplicationId");
            done_at("/console/quotas", &format!("Application {id}: {status}"))
        }
        Err(e) => done_at_error(&e),
    }
}

/// Back to the page with the refusal shown.
fn done_at_error(e: &Shown) -> Response {
    let msg = eip_api::sign::percent_encode(&format!("{}: {}", e.code, e.message));
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(&format!("/console/quotas?error={msg}")))
}
