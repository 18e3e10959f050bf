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

mod api;
mod associate;
mod detail;
mod eips;
mod lbs;
mod quotas;
mod resources;
mod session;
mod signin;
mod web;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use eip_controller::Controller;
use eip_controller::accounts::KeyCache;
use parking_lot::Mutex;
use session::Failures;
use std::sync::Arc;

/// What the console shares between requests.
pub struct ConsoleState {
    pub(crate) ctl: Arc<Controller>,
    pub(crate) keys: KeyCache,
    pub(crate) failures: Mutex<Failures>,
}

impl ConsoleState {
    /// A console over a controller.
    pub fn new(ctl: Arc<Controller>) -> Arc<ConsoleState> {
        Arc::new(ConsoleState { ctl, keys: KeyCache::default(), failures: Mutex::new(Failures::default()) })
    }
}

/// The console's routes, to be nested under `/console`.
pub fn router(state: Arc<ConsoleState>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/eips") }))
        .merge(signin::routes())
        .merge(eips::routes())
        .merge(associate::routes())
        .merge(detail::routes())
        .merge(resources::routes())
        .merge(quotas::routes())
        .merge(lbs::routes())
        .merge(web::routes())
        .layer(axum::middleware::from_fn(web::log_request))
        .with_state(state)
}
