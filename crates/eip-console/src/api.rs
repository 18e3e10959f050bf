//! The console's one way into the controller: the same actions the API
//! serves, called as the signed-in account, with errors shown as Alibaba's
//! code and message.

use crate::ConsoleState;
use crate::session::Session;
use eip_api::{Params, Product};
use eip_controller::Ctx;
use serde_json::Value;

// ---------------------------------------------------------------- calling the controller

/// An error as the console shows it: Alibaba's code and message.
pub(crate) struct Shown {
    pub(crate) code: String,
    pub(crate) message: String,
}

pub(crate) async fn call(
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

pub(crate) fn text(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// The array at `path` of a response body (empty when absent).
pub(crate) fn items(b: serde_json::Map<String, Value>, path: &str) -> Vec<Value> {
    match Value::Object(b).pointer_mut(path) {
        Some(Value::Array(a)) => std::mem::take(a),
        _ => Vec::new(),
    }
}
