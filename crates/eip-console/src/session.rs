//! Console sessions: who is signed in, their CSRF token and region, and the
//! growing delay after wrong keys. Everything here is bounded: at most
//! [`MAX_SESSIONS`] sessions (each expires after [`SESSION_TTL_MS`]), and at
//! most [`MAX_TRACKED_CLIENTS`] clients remembered for failed sign-ins.

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
    /// When it stops being valid (ms since the epoch).
    pub expires: i64,
}

/// A random token of 32 hex digits (128 bits).
pub fn token() -> String {
    let b: [u8; 16] = rand::random();
    hex::encode(b)
}

/// The session table.
#[derive(Default)]
pub struct Sessions {
    map: HashMap<String, Session>,
}

impl Sessions {
    /// Starts a session; `None` when the table is full of live sessions.
    pub fn create(&mut self, mut s: Session, now: i64) -> Option<String> {
        if self.map.len() >= MAX_SESSIONS {
            self.map.retain(|_, v| v.expires > now);
            if self.map.len() >= MAX_SESSIONS {
                return None;
            }
        }
        s.expires = now + SESSION_TTL_MS;
        let id = token();
        self.map.insert(id.clone(), s);
        Some(id)
    }

    /// The live session of `id`.
    pub fn get(&mut self, id: &str, now: i64) -> Option<Session> {
        match self.map.get(id) {
            Some(s) if s.expires > now => Some(s.clone()),
            Some(_) => {
                self.map.remove(id);
                None
            }
            None => None,
        }
    }

    /// Changes the region of a session.
    pub fn set_region(&mut self, id: &str, region: &str) {
        if let Some(s) = self.map.get_mut(id) {
            s.region = region.to_owned();
        }
    }

    /// Ends a session.
    pub fn remove(&mut self, id: &str) {
        self.map.remove(id);
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

    fn s() -> Session {
        Session {
            account: "acc-1".into(),
            account_name: "root".into(),
            csrf: token(),
            region: "cn-hangzhou".into(),
            expires: 0,
        }
    }

    #[test]
    fn sessions_expire_and_end() {
        let mut t = Sessions::default();
        let id = t.create(s(), 1_000).unwrap();
        assert!(t.get(&id, 2_000).is_some());
        assert!(t.get(&id, 1_000 + SESSION_TTL_MS).is_none());
        let id = t.create(s(), 1_000).unwrap();
        t.remove(&id);
        assert!(t.get(&id, 2_000).is_none());
        assert_eq!(token().len(), 32);
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
