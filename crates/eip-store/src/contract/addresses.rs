//! Public address pools and the history of each public address: what the
//! allocator reads to hand out an address and to give one back (GEN-03).

use super::fixtures::*;
use super::harness::*;
use crate::*;

fn pool(region: &str, cidr: &str, cursor: i64) -> PoolRow {
    PoolRow { region_id: region.into(), cidr: cidr.into(), cursor }
}

fn held(ip: &str, region: &str, holder: &str) -> AddressRow {
    AddressRow {
        ip: ip.into(),
        region_id: region.into(),
        holder_kind: Some("eip".into()),
        holder_id: Some(holder.into()),
        last_account_id: Some(ACC.into()),
        released_at: Some(5),
    }
}

fn free(ip: &str, region: &str, released_at: Option<i64>) -> AddressRow {
    AddressRow {
        ip: ip.into(),
        region_id: region.into(),
        holder_kind: None,
        holder_id: None,
        last_account_id: Some(ACC2.into()),
        released_at,
    }
}

/// `pool_list` keeps a region's pools in insertion order (not by block);
/// the cursor moves; a deleted pool is gone and a new one goes last.
pub fn pools_list_in_insertion_order_and_move_their_cursor(s: &dyn Store) {
    assert_eq!(read(s, |tx| tx.pool_list(R)), vec![]);
    ok(s, |tx| {
        tx.pool_insert(&pool(R, "198.18.2.0/24", 3))?;
        tx.pool_insert(&pool(R2, "198.19.0.0/24", 0))?;
        tx.pool_insert(&pool(R, "198.18.1.0/24", 0))?;
        tx.pool_insert(&pool(R, "198.18.0.0/24", 9))
    });
    let want = vec![pool(R, "198.18.2.0/24", 3), pool(R, "198.18.1.0/24", 0), pool(R, "198.18.0.0/24", 9)];
    assert_eq!(read(s, |tx| tx.pool_list(R)), want);
    assert_eq!(read(s, |tx| tx.pool_list(R2)), vec![pool(R2, "198.19.0.0/24", 0)]);
    let mut all = want.clone();
    all.push(pool(R2, "198.19.0.0/24", 0));
    assert_eq!(sorted_by(read(s, |tx| tx.pool_list_all()), |p| (p.region_id.clone(), p.cidr.clone())), {
        sorted_by(all, |p| (p.region_id.clone(), p.cidr.clone()))
    });

    ok(s, |tx| tx.pool_set_cursor(R, "198.18.1.0/24", 42));
    ok(s, |tx| tx.pool_delete(R, "198.18.2.0/24"));
    ok(s, |tx| tx.pool_insert(&pool(R, "198.18.2.0/24", 1)));
    assert_eq!(
        read(s, |tx| tx.pool_list(R)),
        vec![pool(R, "198.18.1.0/24", 42), pool(R, "198.18.0.0/24", 9), pool(R, "198.18.2.0/24", 1)]
    );
    assert_eq!(read(s, |tx| tx.pool_list(R2)), vec![pool(R2, "198.19.0.0/24", 0)], "other regions untouched");
}

/// A region has a block once; a cursor is never negative.
pub fn pools_are_unique_per_region_and_block_and_cursors_never_negative(s: &dyn Store) {
    ok(s, |tx| tx.pool_insert(&pool(R, "198.18.0.0/24", 0)));
    unique(s, "same region and block", |tx| tx.pool_insert(&pool(R, "198.18.0.0/24", 5)));
    ok(s, |tx| tx.pool_insert(&pool(R2, "198.18.0.0/24", 0)));
    constraint(s, "negative cursor on insert", |tx| tx.pool_insert(&pool(R, "198.18.9.0/24", -1)));
    constraint(s, "negative cursor on update", |tx| tx.pool_set_cursor(R, "198.18.0.0/24", -1));
    assert_eq!(read(s, |tx| tx.pool_list(R)), vec![pool(R, "198.18.0.0/24", 0)]);
}

/// An address reads back as put; a second put replaces every column.
pub fn addresses_round_trip_and_are_replaced_whole(s: &dyn Store) {
    assert_eq!(read(s, |tx| tx.address_get("198.18.0.1")), None);
    ok(s, |tx| tx.address_put(&held("198.18.0.1", R, "eip-1")));
    assert_eq!(read(s, |tx| tx.address_get("198.18.0.1")), Some(held("198.18.0.1", R, "eip-1")));
    let released = AddressRow { last_account_id: None, ..free("198.18.0.1", R2, Some(99)) };
    let put = released.clone();
    ok(s, move |tx| tx.address_put(&put));
    assert_eq!(read(s, |tx| tx.address_get("198.18.0.1")), Some(released));
    let instance = AddressRow { holder_kind: Some("instance".into()), ..held("198.18.0.1", R, "i-1") };
    let put = instance.clone();
    ok(s, move |tx| tx.address_put(&put));
    assert_eq!(read(s, |tx| tx.address_get("198.18.0.1")), Some(instance));
}

/// The free address of a region released longest ago, holders and other
/// regions aside; an address without a release time counts as oldest.
pub fn the_oldest_free_address_is_the_one_released_longest_ago(s: &dyn Store) {
    assert_eq!(read(s, |tx| tx.address_oldest_free(R)), None);
    ok(s, |tx| {
        tx.address_put(&held("198.18.0.1", R, "eip-1"))?;
        tx.address_put(&free("198.18.0.2", R, Some(300)))?;
        tx.address_put(&free("198.18.0.3", R, Some(100)))?;
        tx.address_put(&free("198.18.0.4", R, Some(200)))?;
        tx.address_put(&free("198.19.0.1", R2, Some(50)))
    });
    assert_eq!(read(s, |tx| tx.address_oldest_free(R)), Some(free("198.18.0.3", R, Some(100))));
    assert_eq!(read(s, |tx| tx.address_oldest_free(R2)), Some(free("198.19.0.1", R2, Some(50))));
    ok(s, |tx| tx.address_put(&held("198.18.0.3", R, "eip-3")));
    assert_eq!(read(s, |tx| tx.address_oldest_free(R)), Some(free("198.18.0.4", R, Some(200))));
    // Equal times: the lower address (bytewise) first.
    ok(s, |tx| tx.address_put(&free("198.18.0.10", R, Some(200))));
    assert_eq!(read(s, |tx| tx.address_oldest_free(R)), Some(free("198.18.0.10", R, Some(200))));
    // NULL sorts first on both backends (PostgreSQL needs NULLS FIRST for it).
    ok(s, |tx| tx.address_put(&free("198.18.0.99", R, None)));
    assert_eq!(read(s, |tx| tx.address_oldest_free(R)), Some(free("198.18.0.99", R, None)));
}

/// `address_of_last_eip` finds the address an EIP released last; a later
/// put of the address does not forget it; an unknown address is ignored.
pub fn the_address_of_a_released_eip_is_found_by_its_id(s: &dyn Store) {
    ok(s, |tx| {
        tx.address_put(&free("198.18.0.1", R, Some(1)))?;
        tx.address_put(&free("198.18.0.2", R, Some(1)))
    });
    assert_eq!(read(s, |tx| tx.address_of_last_eip("eip-1")), None);
    ok(s, |tx| {
        tx.address_set_last_eip("198.18.0.1", "eip-1")?;
        tx.address_set_last_eip("198.18.0.2", "eip-2")?;
        tx.address_set_last_eip("198.18.0.77", "eip-77")
    });
    assert_eq!(read(s, |tx| tx.address_of_last_eip("eip-1")), Some("198.18.0.1".into()));
    assert_eq!(read(s, |tx| tx.address_of_last_eip("eip-2")), Some("198.18.0.2".into()));
    assert_eq!(read(s, |tx| tx.address_of_last_eip("eip-77")), None);
    assert_eq!(read(s, |tx| tx.address_get("198.18.0.77")), None, "setting the last EIP creates no address");
    ok(s, |tx| tx.address_put(&held("198.18.0.1", R, "eip-9")));
    assert_eq!(read(s, |tx| tx.address_of_last_eip("eip-1")), Some("198.18.0.1".into()));
    ok(s, |tx| tx.address_set_last_eip("198.18.0.1", "eip-9"));
    assert_eq!(read(s, |tx| tx.address_of_last_eip("eip-1")), None);
    assert_eq!(read(s, |tx| tx.address_get("198.18.0.1")), Some(held("198.18.0.1", R, "eip-9")));
}

/// An address is held by one holder at most, a kind comes with a holder
/// (and is one of `eip`, `instance`, `lb`), and a holder holds one address.
pub fn an_address_has_one_holder_and_a_holder_one_address(s: &dyn Store) {
    ok(s, |tx| tx.address_put(&held("198.18.0.1", R, "eip-1")));
    unique(s, "second address of one holder", |tx| tx.address_put(&held("198.18.0.2", R, "eip-1")));
    constraint(s, "kind without holder", |tx| {
        tx.address_put(&AddressRow { holder_id: None, ..held("198.18.0.3", R, "x") })
    });
    constraint(s, "holder without kind", |tx| {
        tx.address_put(&AddressRow { holder_kind: None, ..held("198.18.0.3", R, "eip-3") })
    });
    constraint(s, "unknown kind", |tx| {
        tx.address_put(&AddressRow { holder_kind: Some("nat".into()), ..held("198.18.0.3", R, "eip-3") })
    });
    ok(s, |tx| tx.address_put(&AddressRow { holder_kind: Some("lb".into()), ..held("198.18.0.3", R, "lb-1") }));
    assert_eq!(read(s, |tx| tx.address_get("198.18.0.2")), None);
}
