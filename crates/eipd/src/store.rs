//! Which store a command works on: the SQLite file in the data directory
//! (the zero-setup default) or, with `--database-url`, a PostgreSQL server
//! that several `eipd` nodes share. Every subcommand that touches state takes
//! the same two options, so an admin command reaches the same state as the
//! servers it administers.

use eip_store::Store;
use eip_store_postgres::{PostgresStore, Settings};
use eip_store_sqlite::SqliteStore;
use std::path::PathBuf;
use std::sync::Arc;

/// `--data-dir` and `--database-url`.
#[derive(clap::Args, Clone)]
pub struct StoreArgs {
    /// Data directory: the SQLite database (eipd.db) unless --database-url is given,
    /// the root credentials file and the lab's record.
    #[arg(long, default_value = "./eipd-data", env = "EIPD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Keep the state in PostgreSQL instead of the data directory's SQLite file, shared
    /// by every eipd that names the same database: postgres://USER:PASSWORD@HOST:PORT/DB
    /// (or a key=value connection string).
    #[arg(long, env = "EIPD_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// The key AccessKey secrets are sealed with in the store (made at the first start):
    /// DATA_DIR/secrets.key unless given. Nodes sharing a store need the same key file.
    #[arg(long, env = "EIPD_SECRETS_KEY_FILE", value_name = "FILE")]
    pub secrets_key_file: Option<PathBuf>,
}

/// Whether the store may be created by opening it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// `eipd serve`: a new data directory gets a new database.
    Yes,
    /// Admin commands: the server must have made it first.
    No,
}

impl StoreArgs {
    /// Opens the store; the error says which store and why.
    pub fn open(&self, create: Create) -> Result<Arc<dyn Store>, String> {
        if let Some(url) = self.database_url.as_deref().filter(|u| !u.is_empty()) {
            let settings = Settings::from_url(url).map_err(|e| format!("--database-url: {e}"))?;
            let store = PostgresStore::open(settings).map_err(|e| format!("cannot open the store: {e}"))?;
            tracing::info!(store = %store.describe(), "PostgreSQL store open");
            return Ok(Arc::new(store));
        }
        let db = self.sqlite_path();
        if create == Create::No && !db.exists() {
            return Err(format!(
                "{} does not exist: start `eipd serve --data-dir {}` once first (or name the shared store with --database-url)",
                db.display(),
                self.data_dir.display()
            ));
        }
        let store = SqliteStore::open(&db).map_err(|e| format!("cannot open {}: {e}", db.display()))?;
        Ok(Arc::new(store))
    }

    /// Where the secrets key is.
    pub fn secrets_key_path(&self) -> PathBuf {
        self.secrets_key_file.clone().unwrap_or_else(|| self.data_dir.join("secrets.key"))
    }

    /// Seals the store's AccessKey secrets with this node's key (made when
    /// `create` and there is none), refusing a key the store was not sealed with.
    pub async fn protect_secrets(&self, ctl: &eip_controller::Controller, create: Create) -> Result<(), String> {
        use eip_controller::secrets::{self, SecretBox};
        let path = self.secrets_key_path();
        if create == Create::No && !path.exists() {
            let known =
                eip_store::StoreExt::read(ctl.store().as_ref(), |tx| Ok(tx.setting_get(secrets::FINGERPRINT_SETTING)?))
                    .map_err(|e| e.to_string())?;
            if known.is_some() {
                return Err(format!(
                    "no secrets key at {}: give this command the servers' key (--secrets-key-file)",
                    path.display()
                ));
            }
        }
        let b = SecretBox::load_or_create(&path)?;
        let sealed = secrets::protect(ctl, b).await.map_err(|e| e.to_string())?;
        if sealed > 0 {
            tracing::info!(sealed, "AccessKey secrets stored in the clear are now sealed");
        }
        Ok(())
    }

    /// The embedded database's file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("eipd.db")
    }

    /// Where the state is, for the start-up banner (no password).
    pub fn describe(&self) -> String {
        match self.database_url.as_deref().filter(|u| !u.is_empty()).map(Settings::from_url) {
            Some(Ok(s)) => s.describe(),
            Some(Err(_)) => "PostgreSQL (unparsable URL)".into(),
            None => self.sqlite_path().display().to_string(),
        }
    }

    /// Whether the state is in the data directory (no --database-url).
    pub fn embedded(&self) -> bool {
        self.database_url.as_deref().is_none_or(str::is_empty)
    }
}
