//! What only the PostgreSQL backend has to prove: several processes on one
//! database (migrations once, each other's writes and change notices),
//! start-up errors that name the problem, and conflicts between concurrent
//! writers resolved by running the loser again.

mod common;

use common::*;
use eip_store::*;
use eip_store_postgres::{PostgresStore, Settings};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn account(id: &str) -> AccountRow {
    AccountRow { id: id.into(), name: id.into(), created_at: 1, active: true }
}

#[test]
fn nodes_starting_together_migrate_once_and_see_each_others_writes() {
    let Some(base) = server_url() else { return };
    let url = fresh_schema_url(&base);
    let opened: Vec<PostgresStore> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..4).map(|_| s.spawn(|| PostgresStore::open(Settings::from_url(&url).unwrap()))).collect();
        handles.into_iter().map(|h| h.join().unwrap().unwrap()).collect()
    });
    let (a, b) = (&opened[0], &opened[1]);
    let before = b.external_version();
    rt().block_on(a.write(|tx| Ok(tx.account_insert(&account("acc-1"))?))).unwrap();
    assert_eq!(b.read(|tx| Ok(tx.account_list()?)).unwrap(), vec![account("acc-1")]);
    // The other node hears of the write without polling the tables.
    let t = Instant::now();
    while b.external_version() == before {
        assert!(t.elapsed() < Duration::from_secs(5), "no change notice reached the other store");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Its own writes do not count as outside changes.
    std::thread::sleep(Duration::from_millis(200));
    let own = a.external_version();
    rt().block_on(a.write(|tx| Ok(tx.account_insert(&account("acc-2"))?))).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(a.external_version(), own);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let rows = c.query("SELECT version FROM schema_migration ORDER BY version", &[]).unwrap();
    let versions: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>(), "each migration recorded once");
    assert!(versions.len() >= 2);
}

#[test]
fn a_schema_newer_than_this_eipd_is_refused_with_its_version() {
    let Some(base) = server_url() else { return };
    let url = fresh_schema_url(&base);
    drop(PostgresStore::open(Settings::from_url(&url).unwrap()).unwrap());
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute("INSERT INTO schema_migration (version, applied_at) VALUES (999, 0)").unwrap();
    let e = PostgresStore::open(Settings::from_url(&url).unwrap()).err().expect("refused");
    assert!(e.to_string().contains("version 999, newer than this eipd"), "{e}");
}

#[test]
fn start_up_errors_name_the_problem_and_hide_the_password() {
    let Some(base) = server_url() else { return };
    let e = Settings::from_url("postgres://a:b@host:notaport/db").err().expect("bad URL refused");
    assert!(e.to_string().contains("not a PostgreSQL connection URL"), "{e}");

    let mut wrong: postgres::Config = base.parse().unwrap();
    wrong.password("not-the-password");
    let e = PostgresStore::open(Settings::from_url(&to_url(&wrong)).unwrap()).err().expect("refused");
    assert!(e.to_string().contains("refused the user name or password"), "{e}");
    assert!(!e.to_string().contains("not-the-password"), "{e}");

    let mut missing: postgres::Config = base.parse().unwrap();
    missing.dbname("no_such_database");
    let e = PostgresStore::open(Settings::from_url(&to_url(&missing)).unwrap()).err().expect("refused");
    assert!(e.to_string().contains("database does not exist"), "{e}");

    // A port nothing listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let t = Instant::now();
    let e = PostgresStore::open(Settings::from_url(&format!("postgres://u:p@127.0.0.1:{port}/db")).unwrap())
        .err()
        .expect("refused");
    assert!(e.to_string().contains("cannot reach the server"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(6));
}

/// Rebuilds a URL from a config (user, password, host, port, database).
fn to_url(c: &postgres::Config) -> String {
    let host = match &c.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        postgres::config::Host::Unix(p) => p.display().to_string(),
    };
    format!(
        "postgres://{}:{}@{host}:{}/{}",
        c.get_user().unwrap_or_default(),
        String::from_utf8_lossy(c.get_password().unwrap_or_default()),
        c.get_ports()[0],
        c.get_dbname().unwrap_or_default()
    )
}

#[test]
fn concurrent_read_modify_writes_on_two_stores_lose_no_update() {
    let Some(base) = server_url() else { return };
    let url = fresh_schema_url(&base);
    let stores: Vec<Arc<PostgresStore>> =
        (0..2).map(|_| Arc::new(PostgresStore::open(Settings::from_url(&url).unwrap()).unwrap())).collect();
    std::thread::scope(|s| {
        for i in 0..8 {
            let store = stores[i % 2].clone();
            s.spawn(move || {
                let rt = rt();
                for _ in 0..25 {
                    rt.block_on(store.write(|tx| {
                        let n: i64 = tx.setting_get("counter")?.map_or(0, |v| v.parse().unwrap());
                        tx.setting_set("counter", &(n + 1).to_string())?;
                        Ok(())
                    }))
                    .unwrap();
                }
            });
        }
    });
    let got = stores[0].read(|tx| Ok(tx.setting_get("counter")?)).unwrap();
    assert_eq!(got.as_deref(), Some("200"));
    assert!(stores.iter().map(|s| s.write_retries()).sum::<u64>() > 0, "8 writers on one row never conflicted?");
}

#[test]
fn what_a_write_noted_reaches_the_other_nodes_subscribers_and_nothing_of_its_own() {
    let Some(base) = server_url() else { return };
    let url = fresh_schema_url(&base);
    let a = PostgresStore::open(Settings::from_url(&url).unwrap()).unwrap();
    let b = PostgresStore::open(Settings::from_url(&url).unwrap()).unwrap();
    let heard = |s: &PostgresStore| {
        let got: Arc<parking_lot::Mutex<Vec<Changes>>> = Default::default();
        let sink = got.clone();
        assert!(s.subscribe(Arc::new(move |c: &Changes| sink.lock().push(c.clone()))));
        got
    };
    let (on_a, on_b) = (heard(&a), heard(&b));
    // Let the listeners' own "anything may have changed" on connecting pass.
    std::thread::sleep(Duration::from_millis(300));
    on_a.lock().clear();
    on_b.lock().clear();
    let note = Changes { eips: ["eip-1".to_string(), "eip-2".to_string()].into_iter().collect(), other: false };
    let sent = note.clone();
    rt().block_on(a.write(move |tx| {
        tx.note_changes(&sent);
        Ok(tx.account_insert(&account("acc-1"))?)
    }))
    .unwrap();
    // A write without a note says "anything".
    rt().block_on(a.write(|tx| Ok(tx.account_insert(&account("acc-2"))?))).unwrap();
    let t = Instant::now();
    while on_b.lock().len() < 2 {
        assert!(t.elapsed() < Duration::from_secs(5), "the notes did not reach the other node: {:?}", on_b.lock());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(*on_b.lock(), vec![note, Changes::anything()]);
    assert!(on_a.lock().is_empty(), "a node does not hear its own writes: {:?}", on_a.lock());
    assert!(a.shared() && b.shared());
}

#[test]
fn reads_beyond_the_kept_connections_wait_for_one_instead_of_opening_more() {
    let Some(base) = server_url() else { return };
    let name = format!("pool_{}", std::process::id());
    let url = format!("{}&application_name={name}", fresh_schema_url(&base));
    let mut settings = Settings::from_url(&url).unwrap();
    settings.readers = 2;
    let writers = settings.writers;
    let store = PostgresStore::open(settings).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut watch = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    let most = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut most = 0i64;
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let n: i64 = watch
                    .query_one("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", &[&name])
                    .unwrap()
                    .get(0);
                most = most.max(n);
                std::thread::sleep(Duration::from_millis(2));
            }
            most
        });
        let readers: Vec<_> = (0..12)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..5 {
                        // Each read holds its connection a while, so they pile up.
                        let rows = store
                            .read(|tx| {
                                std::thread::sleep(Duration::from_millis(20));
                                Ok(tx.account_list()?)
                            })
                            .unwrap();
                        assert_eq!(rows, vec![]);
                    }
                })
            })
            .collect();
        readers.into_iter().for_each(|h| h.join().unwrap());
        done.store(true, std::sync::atomic::Ordering::Release);
        watcher.join().unwrap()
    });
    // The writers, the change listener and at most the two kept readers.
    let bound = writers as i64 + 1 + 2;
    assert!(most <= bound, "{most} connections open at once; at most {bound} expected");
    assert!(most >= 3, "the watcher saw {most} connections: it did not watch this store");
}
