//! Accounts, AccessKeys and first-start bootstrap. The root account's key
//! pair comes from the environment when given (as MinIO's root variables
//! work) or is generated once; address pools get their defaults on first
//! start and keep whatever the operator configured afterwards.

use crate::Controller;
use eip_domain::catalogue::REGIONS;
use eip_domain::cidr::Cidr;
use eip_domain::pool::default_pool;
use eip_store::{AccessKeyRow, AccountRow, PoolRow, StoreExt};
use eip_types::{AccountId, Error, Result};
use parking_lot::RwLock;
use rand::Rng;
use std::collections::HashMap;

/// Name of the first account.
pub const ROOT: &str = "root";

/// What bootstrap did.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The root account id.
    pub root_account: String,
    /// The root key id.
    pub access_key_id: String,
    /// The root secret, only when it was created now (printed once).
    pub new_secret: Option<String>,
}

fn random_alnum(n: usize, alphabet: &[u8]) -> String {
    let mut r = rand::rng();
    (0..n).map(|_| alphabet[r.random_range(0..alphabet.len())] as char).collect()
}

/// A new AccessKeyId in Alibaba's shape (`LTAI` + 20).
pub fn new_key_id() -> String {
    format!("LTAI{}", random_alnum(20, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
}

/// A new secret (30 characters, as Alibaba's).
pub fn new_secret() -> String {
    random_alnum(30, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
}

/// Ensures the root account, its key, and the default pools exist.
/// `fixed` is the environment's key pair, which wins over a stored one.
pub async fn bootstrap(ctl: &Controller, fixed: Option<(String, String)>) -> Result<Bootstrap> {
    let now = ctl.now();
    let sealer = ctl.sealer();
    ctl.store()
        .write(move |tx| {
            // Default pools for regions that have none yet.
            let have: std::collections::HashSet<String> =
                tx.pool_list_all()?.into_iter().map(|p| p.region_id).collect();
            for r in REGIONS {
                if !have.contains(r.id)
                    && let Some(c) = default_pool(r.id)
                {
                    tx.pool_insert(&PoolRow { region_id: r.id.into(), cidr: c.to_string(), cursor: 0 })?;
                }
            }
            let accounts = tx.account_list()?;
            let root = match accounts.iter().find(|a| a.name == ROOT) {
                Some(a) => a.clone(),
                None => {
                    let a = AccountRow {
                        id: AccountId::generate().to_string(),
                        name: ROOT.into(),
                        created_at: now,
                        active: true,
                    };
                    tx.account_insert(&a)?;
                    a
                }
            };
            let keys = tx.access_key_list(&root.id)?;
            match fixed.clone() {
                Some((id, secret)) => {
                    match tx.access_key_get(&id)? {
                        Some(k) if k.account_id != root.id => {
                            return Err(Error::Internal(format!("access key {id} belongs to another account")));
                        }
                        Some(mut k) => {
                            k.secret = sealer.seal(&secret);
                            k.active = true;
                            tx.access_key_update(&k)?;
                        }
                        None => tx.access_key_insert(&AccessKeyRow {
                            id: id.clone(),
                            account_id: root.id.clone(),
                            secret: sealer.seal(&secret),
                            active: true,
                            created_at: now,
                        })?,
                    }
                    // The root account has exactly the pair from the
                    // environment: earlier pairs (generated, or an older
                    // environment) stop working.
                    for mut k in keys.into_iter().filter(|k| k.active && k.id != id) {
                        k.active = false;
                        tx.access_key_update(&k)?;
                    }
                    Ok(Bootstrap { root_account: root.id, access_key_id: id, new_secret: None })
                }
                None => match keys.into_iter().find(|k| k.active) {
                    Some(k) => Ok(Bootstrap { root_account: root.id, access_key_id: k.id, new_secret: None }),
                    None => {
                        let k = issue_key(tx, &sealer, &root.id, now)?;
                        Ok(Bootstrap { root_account: root.id, access_key_id: k.id, new_secret: Some(k.secret) })
                    }
                },
            }
        })
        .await
}

/// Creates an account with one new key pair.
pub async fn create_account(ctl: &Controller, name: &str) -> Result<AccessKeyRow> {
    if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::invalid("name", "1 to 64 characters of letters, digits, '-' and '_'"));
    }
    let now = ctl.now();
    let name = name.to_owned();
    let sealer = ctl.sealer();
    ctl.store()
        .write(move |tx| {
            if tx.account_list()?.iter().any(|a| a.name == name) {
                return Err(Error::invalid("name", format!("account {name} exists")));
            }
            let a =
                AccountRow { id: AccountId::generate().to_string(), name: name.clone(), created_at: now, active: true };
            tx.account_insert(&a)?;
            issue_key(tx, &sealer, &a.id, now)
        })
        .await
}

/// A new key pair for `account`, stored sealed; returned with the secret in
/// the clear, for the caller to show once.
fn issue_key(
    tx: &mut dyn eip_store::Tx,
    sealer: &crate::secrets::Sealer,
    account: &str,
    now: i64,
) -> Result<AccessKeyRow> {
    let secret = new_secret();
    let k = AccessKeyRow {
        id: new_key_id(),
        account_id: account.to_owned(),
        secret: sealer.seal(&secret),
        active: true,
        created_at: now,
    };
    tx.access_key_insert(&k)?;
    Ok(AccessKeyRow { secret, ..k })
}

/// The account named `name` (or with that id).
pub(crate) fn account_named(tx: &mut dyn eip_store::Tx, name: &str) -> Result<AccountRow> {
    tx.account_list()?
        .into_iter()
        .find(|a| a.name == name || a.id == name)
        .ok_or_else(|| Error::not_found(eip_types::ResourceKind::Account, name))
}

/// `eipd account disable|enable NAME`: its keys stop (or start again) signing requests.
pub async fn set_account_active(ctl: &Controller, name: &str, active: bool) -> Result<AccountRow> {
    let name = name.to_owned();
    ctl.store()
        .write(move |tx| {
            let a = account_named(tx, &name)?;
            tx.account_set_active(&a.id, active)?;
            Ok(AccountRow { active, ..a })
        })
        .await
}

/// `eipd accesskey create ACCOUNT`: a new key pair for an existing account.
pub async fn create_key(ctl: &Controller, account: &str) -> Result<AccessKeyRow> {
    let (account, now, sealer) = (account.to_owned(), ctl.now(), ctl.sealer());
    ctl.store()
        .write(move |tx| {
            let a = account_named(tx, &account)?;
            issue_key(tx, &sealer, &a.id, now)
        })
        .await
}

/// `eipd accesskey list ACCOUNT`: its keys (the caller shows no secrets).
pub fn list_keys(ctl: &Controller, account: &str) -> Result<Vec<AccessKeyRow>> {
    ctl.store().read(|tx| {
        let a = account_named(tx, account)?;
        Ok(tx.access_key_list(&a.id)?)
    })
}

/// `eipd accesskey disable|enable ID`.
pub async fn set_key_active(ctl: &Controller, id: &str, active: bool) -> Result<AccessKeyRow> {
    let id = id.to_owned();
    ctl.store()
        .write(move |tx| {
            let k = tx.access_key_get(&id)?.ok_or_else(|| Error::not_found(eip_types::ResourceKind::AccessKey, &id))?;
            let k = AccessKeyRow { active, ..k };
            tx.access_key_update(&k)?;
            Ok(k)
        })
        .await
}

/// `eipd accesskey delete ID`: only a disabled key, as on the cloud (disable
/// it first, check nothing breaks, then delete).
pub async fn delete_key(ctl: &Controller, id: &str) -> Result<()> {
    let id = id.to_owned();
    ctl.store()
        .write(move |tx| {
            let k = tx.access_key_get(&id)?.ok_or_else(|| Error::not_found(eip_types::ResourceKind::AccessKey, &id))?;
            if k.active {
                return Err(Error::invalid("AccessKeyId", format!("{id} is enabled: disable it before deleting it")));
            }
            tx.access_key_delete(&id)?;
            Ok(())
        })
        .await
}

/// An account's name (one read of the accounts, no keys).
pub fn account_name(ctl: &Controller, id: &str) -> Result<Option<String>> {
    ctl.store().read(|tx| Ok(tx.account_list()?.into_iter().find(|a| a.id == id).map(|a| a.name)))
}

/// Accounts with their key ids.
pub fn list_accounts(ctl: &Controller) -> Result<Vec<(AccountRow, Vec<String>)>> {
    ctl.store().read(|tx| {
        let mut out = Vec::new();
        for a in tx.account_list()? {
            let keys = tx.access_key_list(&a.id)?.into_iter().map(|k| k.id).collect();
            out.push((a, keys));
        }
        Ok(out)
    })
}

/// Sets a region's public address pools to exactly `cidrs` (operator
/// configuration, `--pool`). Pools no longer listed are dropped if no address
/// was ever handed out from them; a used pool is kept (its addresses still
/// belong to EIPs or carry retrieval history) and reported back.
pub async fn set_pools(ctl: &Controller, region: &str, cidrs: &[String]) -> Result<Vec<String>> {
    if eip_domain::catalogue::region(region).is_none() {
        return Err(Error::RegionNotFound(region.to_owned()));
    }
    let mut want = Vec::new();
    for cidr in cidrs {
        let c = Cidr::parse(cidr).ok_or_else(|| Error::invalid("pool", format!("{cidr} is not a CIDR block")))?;
        if c.len > 30 {
            return Err(Error::invalid("pool", format!("{cidr} must hold at least 4 addresses")));
        }
        want.push(c.to_string());
    }
    let region = region.to_owned();
    ctl.store()
        .write(move |tx| {
            let have = tx.pool_list(&region)?;
            let mut kept = Vec::new();
            for p in &have {
                if !want.contains(&p.cidr) {
                    if p.cursor == 0 {
                        tx.pool_delete(&region, &p.cidr)?;
                    } else {
                        kept.push(p.cidr.clone());
                    }
                }
            }
            for c in &want {
                if !have.iter().any(|p| &p.cidr == c) {
                    tx.pool_insert(&PoolRow { region_id: region.clone(), cidr: c.clone(), cursor: 0 })?;
                }
            }
            Ok(kept)
        })
        .await
}

/// STS GetCallerIdentity: the caller is an account's own AccessKey (openeip
/// has no RAM users or roles), so the identity is the account's root.
pub(crate) fn get_caller_identity(ctx: &crate::Ctx) -> Result<crate::Body> {
    Ok(crate::body(serde_json::json!({
        "AccountId": ctx.account,
        "Arn": format!("acs:ram::{}:root", ctx.account),
        "IdentityType": "Account",
        "PrincipalId": ctx.account,
        "UserId": ctx.account,
    })))
}

/// A key as the authenticator needs it.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    /// Owning account.
    pub account: String,
    /// Secret.
    pub secret: String,
    /// Whether it may sign requests.
    pub active: bool,
}

/// A small read-through cache of AccessKeys. Entries refresh after 5 s, and
/// the whole cache is dropped as soon as another process commits to the store
/// ([`eip_store::Store::external_version`]), so a key or account disabled by
/// `eipd accesskey|account disable` is refused from the next request on.
///
/// Only keys that exist are cached: an unknown id is looked up again each
/// time (one indexed read), so requests with made-up ids cannot fill memory.
/// Entries are bounded by [`KeyCache::MAX_ENTRIES`] and each by the size of a
/// stored key.
#[derive(Default)]
pub struct KeyCache {
    map: RwLock<HashMap<String, (i64, KeyInfo)>>,
    /// The store's external version the entries were read at.
    seen: parking_lot::Mutex<Option<i64>>,
}

impl KeyCache {
    /// Most keys kept; the cache starts over when full.
    pub const MAX_ENTRIES: usize = 10_000;

    /// Looks a key up, from memory when fresh.
    pub fn get(&self, ctl: &Controller, id: &str) -> Result<Option<KeyInfo>> {
        let now = crate::clock::real_now_ms();
        let version = ctl.store().external_version();
        {
            let mut seen = self.seen.lock();
            if version.is_none() || *seen != version {
                self.map.write().clear();
                *seen = version;
            }
        }
        if let Some((at, v)) = self.map.read().get(id)
            && now - at < 5000
        {
            return Ok(Some(v.clone()));
        }
        let row = ctl.read(|tx| {
            let Some(k) = tx.access_key_get(id)? else { return Ok(None) };
            let account_active = tx.account_list()?.iter().any(|a| a.id == k.account_id && a.active);
            Ok(Some((k, account_active)))
        })?;
        let Some((k, account_active)) = row else {
            self.map.write().remove(id);
            return Ok(None);
        };
        // A disabled account's keys are refused like disabled keys.
        let secret = ctl.open_secret(&k.secret)?;
        let info = KeyInfo { account: k.account_id, secret, active: k.active && account_active };
        let mut m = self.map.write();
        if m.len() >= Self::MAX_ENTRIES {
            m.clear();
        }
        m.insert(id.to_owned(), (now, info.clone()));
        Ok(Some(info))
    }
}
