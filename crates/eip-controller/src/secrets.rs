//! AccessKey secrets at rest. A request's signature is an HMAC keyed by the
//! secret, so the server must be able to read it: secrets cannot be hashed,
//! they are sealed (ChaCha20-Poly1305) under a key kept outside the database
//! (`secrets.key` in the data directory, or `--secrets-key-file`). A copy of
//! the database alone, such as a PostgreSQL backup, signs nobody in.
//!
//! The store remembers a fingerprint of the key, so a node started with
//! another key (a second node whose key file was not copied) refuses to
//! start instead of failing every signature. Secrets written before sealing
//! existed are sealed when a sealing process first starts.

use crate::Controller;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use eip_store::StoreExt;
use eip_types::{Error, Result};
use sha2::Digest;
use std::io::Write;
use std::path::Path;

/// How a sealed secret starts in the database.
const SEALED: &str = "sealed1:";

/// The setting holding the key's fingerprint.
pub const FINGERPRINT_SETTING: &str = "secrets_key_fingerprint";

/// The sealing key.
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
    fingerprint: String,
}

impl SecretBox {
    /// A box with this key.
    pub fn from_key(key: [u8; 32]) -> SecretBox {
        let mut h = sha2::Sha256::new();
        h.update(b"openeip secrets key fingerprint\n");
        h.update(key);
        let fingerprint = hex::encode(&h.finalize()[..8]);
        SecretBox { cipher: ChaCha20Poly1305::new(Key::from_slice(&key)), fingerprint }
    }

    /// The key in `path` (64 hex digits), made (mode 0600) when there is none.
    pub fn load_or_create(path: &Path) -> std::result::Result<SecretBox, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| format!("{} does not hold a secrets key (64 hex digits)", path.display()))?;
                Ok(SecretBox::from_key(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                let mut f = std::fs::OpenOptions::new();
                f.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
                let mut file = f.open(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                writeln!(file, "{}", hex::encode(key)).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                file.sync_all().map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok(SecretBox::from_key(key))
            }
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// A short public digest of the key (safe to store and to show).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// `plain`, sealed for the database.
    pub fn seal(&self, plain: &str) -> String {
        let nonce: [u8; 12] = rand::random();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("sealing a short secret cannot fail");
        format!("{SEALED}{}{}", hex::encode(nonce), hex::encode(sealed))
    }

    /// What the database holds, opened. A secret stored before sealing
    /// existed is returned as it is.
    pub fn open(&self, stored: &str) -> Result<String> {
        let Some(rest) = stored.strip_prefix(SEALED) else { return Ok(stored.to_owned()) };
        let bad = || Error::Internal("a stored AccessKey secret does not open with this node's secrets key".into());
        let bytes = hex::decode(rest).map_err(|_| bad())?;
        if bytes.len() < 12 {
            return Err(bad());
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), sealed).map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }
}

/// Seals with a process's key, or keeps secrets as they are without one
/// (tests and tools that never set a key).
#[derive(Clone)]
pub(crate) struct Sealer(pub(crate) Option<std::sync::Arc<SecretBox>>);

impl Sealer {
    /// `plain` as the store keeps it.
    pub(crate) fn seal(&self, plain: &str) -> String {
        self.0.as_ref().map_or_else(|| plain.to_owned(), |b| b.seal(plain))
    }
}

/// Whether a stored secret is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED)
}

/// Makes `ctl` seal new secrets with `b` and open stored ones with it: checks
/// that `b` is the store's key (or records it as the store's, the first
/// time), then seals every secret still stored in the clear. Returns how
/// many it sealed.
pub async fn protect(ctl: &Controller, b: SecretBox) -> Result<usize> {
    let fp = b.fingerprint().to_owned();
    let b = std::sync::Arc::new(b);
    let sealer = b.clone();
    let sealed = ctl
        .store()
        .write(move |tx| {
            match tx.setting_get(FINGERPRINT_SETTING)? {
                Some(known) if known != fp => {
                    return Err(Error::invalid(
                        "secrets key",
                        format!(
                            "this node's key (fingerprint {fp}) is not the one the store's secrets are sealed with \
                             ({known}): give every node the same key file (--secrets-key-file)"
                        ),
                    ));
                }
                Some(_) => {}
                None => tx.setting_set(FINGERPRINT_SETTING, &fp)?,
            }
            let mut n = 0;
            for a in tx.account_list()? {
                for mut k in tx.access_key_list(&a.id)? {
                    if !is_sealed(&k.secret) {
                        k.secret = sealer.seal(&k.secret);
                        tx.access_key_update(&k)?;
                        n += 1;
                    }
                }
            }
            Ok(n)
        })
        .await?;
    ctl.set_secrets(b);
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_seal_and_open_and_only_with_their_key() {
        let b = SecretBox::from_key([7; 32]);
        let s = b.seal("abc123");
        assert!(is_sealed(&s) && !s.contains("abc123"));
        assert_ne!(s, b.seal("abc123"), "a fresh nonce each time");
        assert_eq!(b.open(&s).unwrap(), "abc123");
        assert_eq!(b.open("legacy-plain").unwrap(), "legacy-plain");
        let other = SecretBox::from_key([8; 32]);
        assert!(other.open(&s).is_err());
        assert_ne!(b.fingerprint(), other.fingerprint());
        assert!(b.open("sealed1:zz").is_err());
        assert!(b.open("sealed1:00").is_err());
    }

    #[test]
    fn the_key_file_is_made_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("eipd-secrets-{}", eip_types::EipId::generate()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secrets.key");
        let a = SecretBox::load_or_create(&path).unwrap();
        let b = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        assert!(SecretBox::load_or_create(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
