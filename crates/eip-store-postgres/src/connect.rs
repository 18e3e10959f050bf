//! Connecting: the URL, the pool sizes, start-up errors that say what is
//! wrong (a bad URL, wrong credentials, a missing database, an unreachable
//! server), and the listener that counts other processes' writes.

use eip_store::StoreError;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, NoTls};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// How to reach the server and how many connections to use.
pub struct Settings {
    config: Config,
    /// Writer threads (each with a connection).
    pub writers: usize,
    /// Read connections kept open between reads.
    pub readers: usize,
    /// This process's id in change notifications (its own are not counted).
    pub node_id: String,
}

impl Settings {
    /// Parses a `postgres://user:password@host:port/database` URL (or a
    /// `key=value` connection string). A connect timeout of 5 s applies
    /// unless the URL sets one.
    pub fn from_url(url: &str) -> Result<Settings, StoreError> {
        let mut config = Config::from_str(url)
            .map_err(|e| StoreError::Other(format!("the database URL is not a PostgreSQL connection URL ({e})")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("eipd");
        }
        config.keepalives(true).keepalives_idle(Duration::from_secs(30));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Ok(Settings { config, writers: 4, readers: 8, node_id: format!("{:x}-{nanos:x}", std::process::id()) })
    }

    /// Host, port, database and user, without the password.
    pub fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                postgres::config::Host::Tcp(h) => h.clone(),
                postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!(
            "postgres://{}@{}:{port}/{}",
            self.config.get_user().unwrap_or(""),
            hosts.join(","),
            self.config.get_dbname().unwrap_or("")
        )
    }
}

/// Opens one connection; a failure says what went wrong and where.
pub(crate) fn connect(s: &Settings) -> Result<Client, StoreError> {
    s.config.connect(NoTls).map_err(|e| {
        use postgres::error::SqlState;
        let code = e.as_db_error().map(|d| d.code().clone());
        let why = match code {
            Some(c) if c == SqlState::INVALID_PASSWORD || c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                "the server refused the user name or password".to_owned()
            }
            Some(c) if c == SqlState::INVALID_CATALOG_NAME => "the database does not exist".to_owned(),
            Some(c) if c == SqlState::CANNOT_CONNECT_NOW => "the server is starting up or shutting down".to_owned(),
            Some(c) if c == SqlState::TOO_MANY_CONNECTIONS => "the server has no connection slots left".to_owned(),
            _ => match std::error::Error::source(&e) {
                Some(cause) => format!("cannot reach the server ({e}: {cause})"),
                None => format!("cannot reach the server ({e})"),
            },
        };
        StoreError::Unavailable(format!("PostgreSQL at {}: {why}", s.describe()))
    })
}

/// Listens on `channel` until the store is dropped (`changes` has no other
/// owner), counting notifications from other processes into `changes`. A lost
/// connection is retried every second, and counts as a change (notifications
/// may have been missed meanwhile).
pub(crate) fn listen(s: &Settings, channel: &str, changes: &Arc<AtomicI64>) {
    let dropped = || Arc::strong_count(changes) == 1;
    while !dropped() {
        match connect(s).and_then(|mut c| {
            c.batch_execute(&format!("LISTEN {channel}"))
                .map_err(|e| StoreError::Unavailable(e.to_string()))
                .map(|()| c)
        }) {
            Ok(mut client) => {
                changes.fetch_add(1, Ordering::AcqRel);
                loop {
                    let next = client.notifications().timeout_iter(Duration::from_secs(1)).next();
                    match next {
                        Ok(Some(note)) if note.payload() != s.node_id => {
                            changes.fetch_add(1, Ordering::AcqRel);
                        }
                        Ok(Some(_)) => {}
                        Ok(None) if dropped() => return,
                        Ok(None) if !client.is_closed() => {}
                        Ok(None) | Err(_) => break,
                    }
                }
                tracing::warn!(store = %s.describe(), "change listener lost its connection; reconnecting");
            }
            Err(e) => tracing::debug!(error = %e, "change listener cannot connect yet"),
        }
        changes.fetch_add(1, Ordering::AcqRel);
        std::thread::sleep(Duration::from_secs(1));
    }
}
