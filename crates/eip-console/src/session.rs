//! Console sessions: who is signed in, their CSRF token and region (kept in
//! the store, shared by every node), and the growing delay after wrong keys
//! (per node). Everything here is bounded: at most [`MAX_SESSIONS`] sessions
//! (each expires after [`SESSION_TTL_MS`]), and at most
//! [`MAX_TRACKED_CLIENTS`] clients remembered for failed sign-ins.

use eip_controller::Controller;
use eip_store::{ConsoleSessionRow, StoreExt};
use eip_types::Result;
use std::collections::HashMap;

/// How long a session lasts (the cookie's Max-Age too).
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
/// Most sessions at once.
pub const MAX_SESSIONS: usize = 10_000;
/// Most AccessKeyIds whose failed sign-ins are counted.
pub const MAX_TRACKED_CLIENTS: usize = 10_000;
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "eipd_session";
/// Name of the cookie carrying the sign-in form's CSRF token.
pub const SIGNIN_COOKIE: &str = "eipd_signin";

/// One signed-in user.
#[derive(Clone, Debug)]
pub struct Session {
    /// The account the AccessKey belongs to.
    pub account: String,
    /// Its display name.
    pub account_name: String,
    /// Token every state-changing form must carry.
    pub csrf: String,
    /// The region chosen in the top bar.
    pub region: String,
}

/// A random token of 32 hex digits (128 bits).
pub fn token() -> String {
    let b: [u8; 16] = rand::random();
    hex::encode(b)
}

/// The session table, in the store: a browser signed in on one node is
/// signed in on every node that shares the store, and signing out anywhere
/// ends the session everywhere. The cookie's value is a random 128-bit token;
/// the store keeps only its SHA-256.
pub(crate) struct Sessions;

/// What the store keeps in place of a session id.
fn id_hash(id: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(id.as_bytes()))
}

impl Sessions {
    /// Starts a session (expired ones are dropped first); `Ok(None)` when
    /// [`MAX_SESSIONS`] live sessions exist.
    pub(crate) async fn create(ctl: &Controller, s: Session, now: i64) -> Result<Option<String>> {
        let id = token();
        let row = ConsoleSessionRow {
            id_hash: id_hash(&id),
            account_id: s.account,
            account_name: s.account_name,
            csrf: s.csrf,
            region_id: s.region,
            expires_at: now + SESSION_TTL_MS,
        };
        let made = ctl
            .store()
            .write(move |tx| {
                tx.console_session_expire(now)?;
                if tx.console_session_count()? >= MAX_SESSIONS as i64 {
                    return Ok(false);
                }
                tx.console_session_insert(&row)?;
                Ok(true)
            })
            .await?;
        Ok(made.then_some(id))
    }

    /// The live session of `id`, if any; a store that cannot be read counts
    /// as none (the browser is sent to sign in, where the failure shows).
    pub(crate) fn get(ctl: &Controller, id: &str, now: i64) -> Option<Session> {
        let hash = id_hash(id);
        // A disabled account's sessions end with it (`eipd account disable`).
        let read = ctl.store().read(move |tx| {
            let Some(row) = tx.console_session_get(&hash)? else { return Ok(None) };
            let active = tx.account_list()?.iter().any(|a| a.id == row.account_id && a.active);
            Ok(active.then_some(row))
        });
        let row = match read {
            Ok(r) => r?,
            Err(e) => {
                tracing::warn!(error = %e, "console session lookup failed");
                return None;
            }
        };
        (row.expires_at > now).then_some(Session {
            account: row.account_id,
            account_name: row.account_name,
            csrf: row.csrf,
            region: row.region_id,
        })
    }

    /// Changes the region of a session.
    pub(crate) async fn set_region(ctl: &Controller, id: &str, region: &str) -> Result<()> {
        let (hash, region) = (id_hash(id), region.to_owned());
        ctl.store().write(move |tx| Ok(tx.console_session_set_region(&hash, &region)?)).await
    }

    /// Ends a session.
    pub(crate) async fn remove(ctl: &Controller, id: &str) -> Result<()> {
        let hash = id_hash(id);
        ctl.store().write(move |tx| Ok(tx.console_session_delete(&hash)?)).await
    }
}

/// Failed sign-ins per AccessKeyId tried: each failure doubles the wait
/// before the next answer for that id (from 250 ms up to 8 s), so guessing a
/// secret is slow; a success clears it.
#[derive(Default)]
pub struct Failures {
    map: HashMap<String, u32>,
}

impl Failures {
    /// How long to wait before answering this client's sign-in, in ms.
    pub fn delay_ms(&self, key_id: &str) -> u64 {
        match self.map.get(key_id).copied().unwrap_or(0) {
            0 => 0,
            n => (250u64 << (n - 1).min(5)).min(8_000),
        }
    }

    /// Counts a failure.
    pub fn failed(&mut self, key_id: &str) {
        if self.map.len() >= MAX_TRACKED_CLIENTS && !self.map.contains_key(key_id) {
            self.map.clear();
        }
        *self.map.entry(key_id.to_owned()).or_default() += 1;
    }

    /// Forgets a client's failures.
    pub fn succeeded(&mut self, key_id: &str) {
        self.map.remove(key_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_128_bits_and_the_store_keeps_their_hash() {
        let t = token();
        assert_eq!(t.len(), 32);
        assert_ne!(token(), t);
        let h = id_hash(&t);
        assert_eq!(h.len(), 64, "the schema's CHECK");
        assert_eq!(h, id_hash(&t));
        assert!(!h.contains(&t));
    }

    #[test]
    fn failed_sign_ins_wait_longer_each_time() {
        let mut f = Failures::default();
        let ip = "LTAIexample";
        assert_eq!(f.delay_ms(ip), 0);
        f.failed(ip);
        assert_eq!(f.delay_ms(ip), 250);
        f.failed(ip);
        assert_eq!(f.delay_ms(ip), 500);
        for _ in 0..10 {
            f.failed(ip);
        }
        assert_eq!(f.delay_ms(ip), 8_000);
        f.succeeded(ip);
        assert_eq!(f.delay_ms(ip), 0);
    }
}
