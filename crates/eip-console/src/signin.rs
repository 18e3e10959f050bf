//! Signing in with an AccessKey pair, signing out, and the region chosen
//! in the top bar.

use crate::ConsoleState;
use crate::session::{self, SESSION_COOKIE, SIGNIN_COOKIE, Session, Sessions};
use crate::web::{CsrfOnly, cookie, forbidden, now_ms, render, session_of, set_cookie, to_signin};
use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::sync::Arc;

/// This module's routes.
pub(crate) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/region", post(set_region))
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
    };
    let sid = match Sessions::create(&st.ctl, s, now_ms()).await {
        Ok(Some(sid)) => sid,
        Ok(None) => {
            return signin_form(
                Some("Too many people are signed in; try again later.".into()),
                String::new(),
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "console session not stored");
            return signin_form(
                Some("The service cannot sign you in right now; try again later.".into()),
                String::new(),
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
    };
    let mut r = Redirect::to("/console/eips").into_response();
    set_cookie(&mut r, SESSION_COOKIE, &sid, session::SESSION_TTL_MS / 1000);
    set_cookie(&mut r, SIGNIN_COOKIE, "", 0);
    r
}

async fn signout(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Form(f): Form<CsrfOnly>) -> Response {
    let Some((sid, s)) = session_of(&st, &headers) else { return to_signin() };
    if f.csrf != s.csrf {
        return forbidden();
    }
    if let Err(e) = Sessions::remove(&st.ctl, &sid).await {
        // Not ended: say so rather than pretend (the cookie would still work).
        tracing::warn!(error = %e, "console session not ended");
        return (StatusCode::SERVICE_UNAVAILABLE, "The service cannot sign you out right now; try again.")
            .into_response();
    }
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
    if let Some(r) = eip_domain::catalogue::region(&f.region).map(|r| r.id)
        && let Err(e) = Sessions::set_region(&st.ctl, &sid, r).await
    {
        tracing::warn!(error = %e, "console region not changed");
    }
    Redirect::to("/console/eips").into_response()
}
