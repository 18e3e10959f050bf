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
/// What the change listener heard of other processes' commits.
#[derive(Default)]
pub(crate) struct Heard {
    /// Counts their commits and every reconnection ([`eip_store::Store::external_version`]).
    pub version: AtomicI64,
    /// Told what each of their commits changed ([`eip_store::Store::subscribe`]).
    pub sinks: parking_lot::Mutex<Vec<eip_store::ChangeSink>>,
}

impl Heard {
    fn tell(&self, c: &eip_store::Changes) {
        self.version.fetch_add(1, Ordering::AcqRel);
        for sink in self.sinks.lock().iter() {
            sink(c);
        }
    }
}

/// The change listener's thread: LISTENs on `channel`, and hears each
/// notice other processes' commits send (`<node id> <encoded changes>`).
/// Whenever it has been disconnected it tells "anything may have changed",
/// since notices sent meanwhile are lost. Stops once the store is dropped.
pub(crate) fn listen(s: &Settings, channel: &str, heard: &Arc<Heard>) {
    let dropped = || Arc::strong_count(heard) == 1;
    while !dropped() {
        match connect(s).and_then(|mut c| {
            c.batch_execute(&format!("LISTEN {channel}"))
                .map_err(|e| StoreError::Unavailable(e.to_string()))
                .map(|()| c)
        }) {
            Ok(mut client) => {
                heard.tell(&eip_store::Changes::anything());
                loop {
                    let next = client.notifications().timeout_iter(Duration::from_secs(1)).next();
                    match next {
                        Ok(Some(note)) => {
                            let (node, body) = note.payload().split_once(' ').unwrap_or((note.payload(), "*"));
                            if node != s.node_id {
                                heard.tell(&eip_store::Changes::decode(body));
                            }
                        }
                        Ok(None) if dropped() => return,
                        Ok(None) if !client.is_closed() => {}
                        Ok(None) | Err(_) => break,
                    }
                }
                tracing::warn!(store = %s.describe(), "change listener lost its connection; reconnecting");
            }
            Err(e) => tracing::debug!(error = %e, "change listener cannot connect yet"),
        }
        heard.tell(&eip_store::Changes::anything());
        std::thread::sleep(Duration::from_secs(1));
    }
}
