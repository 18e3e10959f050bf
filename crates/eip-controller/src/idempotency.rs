//! `ClientToken`: a retry with the same token and the same parameters gets
//! the first result; the same token with other parameters is refused with
//! `IdempotentParameterMismatch`. The check, the work and the remembered
//! result share one transaction, so a crash cannot separate them.

use eip_api::Params;
use eip_store::{TokenRow, Tx};
use eip_types::{Error, Result};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Tokens are remembered this long.
pub const TOKEN_TTL_MS: i64 = 24 * 3600 * 1000;

/// The fingerprint of a request's business parameters (and region).
pub fn fingerprint(params: &Params) -> String {
    let mut h = Sha256::new();
    h.update(params.raw("RegionId").unwrap_or_default().as_bytes());
    for (k, v) in params.business() {
        h.update([0u8]);
        h.update(k.as_bytes());
        h.update([1u8]);
        h.update(v.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Validates a token: ASCII, 1 to 64 characters.
pub fn check_token(token: &str) -> Result<()> {
    if token.is_empty() || token.len() > 64 || !token.is_ascii() {
        return Err(Error::invalid("ClientToken", "must be 1 to 64 ASCII characters"));
    }
    Ok(())
}

/// What the token says about this request.
pub enum Seen {
    /// First time: do the work, then call [`remember`].
    New,
    /// A retry: return this body.
    Replay(Map<String, Value>),
}

/// Looks the token up inside the write transaction.
pub fn lookup(tx: &mut dyn Tx, account: &str, action: &str, token: &str, fp: &str) -> Result<Seen> {
    match tx.token_get(account, action, token)? {
        None => Ok(Seen::New),
        Some(row) if row.params_hash == fp => {
            let v: Value = serde_json::from_str(&row.response).map_err(|e| Error::Internal(e.to_string()))?;
            match v {
                Value::Object(m) => Ok(Seen::Replay(m)),
                _ => Err(Error::Internal("stored token response is not an object".into())),
            }
        }
        Some(_) => Err(Error::IdempotentParameterMismatch),
    }
}

/// Remembers the result of a first request.
pub fn remember(
    tx: &mut dyn Tx,
    account: &str,
    action: &str,
    token: &str,
    fp: &str,
    body: &Map<String, Value>,
    now: i64,
) -> Result<()> {
    let response = serde_json::to_string(body).map_err(|e| Error::Internal(e.to_string()))?;
    tx.token_insert(&TokenRow {
        account_id: account.to_owned(),
        action: action.to_owned(),
        token: token.to_owned(),
        params_hash: fp.to_owned(),
        response,
        created_at: now,
    })?;
    Ok(())
}
