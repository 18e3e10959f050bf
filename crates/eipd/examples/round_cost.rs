//! Times the parts of a data-plane full round on an existing data directory
//! (`round_cost DATA_DIR`): the store snapshot, building the desired state,
//! and comparing it with itself as the reconciler does. No kernel is touched.

use eip_dataplane::desired;
use eip_dataplane::render;
use eip_store::StoreExt;
use eip_store_sqlite::SqliteStore;
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: round_cost DATA_DIR");
    let store = SqliteStore::open(&std::path::Path::new(&dir).join("eipd.db")).expect("open store");
    store
        .read(|tx| {
            let lap = |what: &str, t: &mut Instant| {
                println!("  {what}: {:?}", t.elapsed());
                *t = Instant::now();
            };
            let mut t = Instant::now();
            tx.pool_list_all()?;
            lap("pools", &mut t);
            tx.eip_list_associated()?;
            lap("associated EIPs", &mut t);
            tx.private_ip_list_all()?;
            lap("private IPs", &mut t);
            tx.instance_list_all()?;
            lap("instances", &mut t);
            tx.eni_list_all()?;
            lap("ENIs", &mut t);
            tx.account_list()?;
            lap("accounts", &mut t);
            Ok(())
        })
        .expect("timed reads");
    for _ in 0..3 {
        let t = Instant::now();
        let rows = store.read(desired::read_rows).expect("read rows");
        let read = t.elapsed();
        let t = Instant::now();
        let d = desired::build(1, &rows);
        let build = t.elapsed();
        let t = Instant::now();
        for g in d.gateways.values() {
            assert!(render::delta(g, g).is_none());
            let _ = render::unmapped(g, g);
        }
        let diff = t.elapsed();
        let t = Instant::now();
        let copy = d.gateways.clone();
        let clone = t.elapsed();
        drop(copy);
        println!(
            "eips {} instances {} enis {}: read {:?}, build {:?}, diff {:?}, clone {:?}",
            rows.eips.len(),
            rows.instances.len(),
            rows.enis.len(),
            read,
            build,
            diff,
            clone
        );
    }
}
