//! Accounts, their AccessKeys, settings and quotas: what authentication,
//! start-up and quota checks read back.

use super::fixtures::*;
use super::harness::*;
use crate::*;
use eip_types::QuotaApplicationStatus;

/// `account_list` returns every account, each as inserted.
pub fn accounts_are_listed_whole(s: &dyn Store) {
    assert_eq!(read(s, |tx| tx.account_list()), vec![]);
    let rows = vec![
        AccountRow { id: "acc-b".into(), name: text("root"), created_at: 30, active: true },
        AccountRow { id: "acc-a".into(), name: "second".into(), created_at: 10, active: false },
        AccountRow { id: "acc-C".into(), name: "third".into(), created_at: 10, active: true },
    ];
    let put = rows.clone();
    ok(s, move |tx| put.iter().try_for_each(|r| tx.account_insert(r)));
    assert_eq!(sorted_by(read(s, |tx| tx.account_list()), |a| a.id.clone()), sorted_by(rows.clone(), |a| a.id.clone()));
    // Disabling and enabling changes only that account's flag.
    assert!(ok(s, |tx| tx.account_set_active("acc-b", false)));
    assert!(ok(s, |tx| tx.account_set_active("acc-a", true)));
    assert!(!ok(s, |tx| tx.account_set_active("acc-none", false)), "no such account");
    let flipped: Vec<AccountRow> =
        rows.iter().map(|a| AccountRow { active: a.id == "acc-a" || a.id == "acc-C", ..a.clone() }).collect();
    assert_eq!(sorted_by(read(s, |tx| tx.account_list()), |a| a.id.clone()), sorted_by(flipped, |a| a.id.clone()));
}

/// Account ids (primary key) and names (UNIQUE) are unique.
pub fn account_ids_and_names_are_unique(s: &dyn Store) {
    ok(s, |tx| tx.account_insert(&account(ACC)));
    unique(s, "same id", |tx| tx.account_insert(&AccountRow { name: "other".into(), ..account(ACC) }));
    unique(s, "same name", |tx| tx.account_insert(&AccountRow { id: "acc-other".into(), ..account(ACC) }));
    assert_eq!(read(s, |tx| tx.account_list()), vec![account(ACC)]);
}

/// Keys round-trip, an update replaces the secret and activity only, and a
/// list has the keys of one account.
pub fn access_keys_round_trip_update_and_list_per_account(s: &dyn Store) {
    seed(s);
    let k1 = access_key("AK1", ACC, 100);
    let k2 = AccessKeyRow { active: false, ..access_key("AK2", ACC, 50) };
    let k3 = access_key("AK3", ACC2, 10);
    let put = [k1.clone(), k2.clone(), k3.clone()];
    ok(s, move |tx| put.iter().try_for_each(|k| tx.access_key_insert(k)));
    assert_eq!(read(s, |tx| tx.access_key_get("AK1")), Some(k1.clone()));
    assert_eq!(read(s, |tx| tx.access_key_get("AK2")), Some(k2.clone()));
    assert_eq!(read(s, |tx| tx.access_key_get("ak1")), None, "ids compare exactly");
    assert_eq!(sorted_by(read(s, |tx| tx.access_key_list(ACC)), |k| k.id.clone()), vec![k1.clone(), k2.clone()]);
    assert_eq!(read(s, |tx| tx.access_key_list(ACC2)), vec![k3]);
    assert_eq!(read(s, |tx| tx.access_key_list("acc-none")), vec![]);

    let rotated = AccessKeyRow { secret: "rotated".into(), active: false, ..k1.clone() };
    let put = rotated.clone();
    ok(s, move |tx| tx.access_key_update(&put));
    assert_eq!(read(s, |tx| tx.access_key_get("AK1")), Some(rotated.clone()));
    // Owner and creation time are not the update's to change.
    let moved = AccessKeyRow { account_id: ACC2.into(), created_at: 1, active: true, ..rotated.clone() };
    let put = moved.clone();
    ok(s, move |tx| tx.access_key_update(&put));
    assert_eq!(read(s, |tx| tx.access_key_get("AK1")), Some(AccessKeyRow { active: true, ..rotated }));
    assert_eq!(read(s, |tx| tx.access_key_get("AK2")), Some(k2.clone()), "other keys untouched");
    // Deleting a key removes it alone.
    assert!(ok(s, |tx| tx.access_key_delete("AK1")));
    assert!(!ok(s, |tx| tx.access_key_delete("AK1")), "deleted already");
    assert_eq!(read(s, |tx| tx.access_key_get("AK1")), None);
    assert_eq!(read(s, |tx| tx.access_key_list(ACC)), vec![k2]);
}

/// A key's id is unique and its account must exist.
pub fn access_keys_belong_to_an_account_and_have_unique_ids(s: &dyn Store) {
    seed(s);
    ok(s, |tx| tx.access_key_insert(&access_key("AK1", ACC, 1)));
    unique(s, "same key id", |tx| tx.access_key_insert(&access_key("AK1", ACC2, 2)));
    constraint(s, "key of a missing account", |tx| tx.access_key_insert(&access_key("AK2", "acc-none", 2)));
    assert_eq!(read(s, |tx| tx.access_key_get("AK2")), None);
}

fn console_session(n: char, account: &str, expires_at: i64) -> ConsoleSessionRow {
    ConsoleSessionRow {
        id_hash: n.to_string().repeat(64),
        account_id: account.into(),
        account_name: format!("name of {account}"),
        csrf: format!("csrf-{n}"),
        region_id: R.into(),
        expires_at,
    }
}

/// Console sessions round-trip by the hash of their id, change region, end
/// one by one or when expired (at their expiry time exactly), and are counted.
pub fn console_sessions_round_trip_change_region_and_expire(s: &dyn Store) {
    seed(s);
    let (a, b, c) = (console_session('a', ACC, 100), console_session('b', ACC2, 200), console_session('c', ACC, 300));
    let put = [a.clone(), b.clone(), c.clone()];
    ok(s, move |tx| put.iter().try_for_each(|r| tx.console_session_insert(r)));
    assert_eq!(read(s, |tx| tx.console_session_get(&"a".repeat(64))), Some(a.clone()));
    assert_eq!(read(s, |tx| tx.console_session_get(&"A".repeat(64))), None, "ids compare exactly");
    assert_eq!(read(s, |tx| tx.console_session_count()), 3);
    ok(s, |tx| tx.console_session_set_region(&"a".repeat(64), R2));
    assert_eq!(
        read(s, |tx| tx.console_session_get(&"a".repeat(64))),
        Some(ConsoleSessionRow { region_id: R2.into(), ..a.clone() })
    );
    assert_eq!(read(s, |tx| tx.console_session_get(&"b".repeat(64))), Some(b.clone()), "others untouched");
    assert_eq!(ok(s, |tx| tx.console_session_expire(200)), 2, "expired at or before 200");
    assert_eq!(read(s, |tx| tx.console_session_get(&"b".repeat(64))), None);
    assert_eq!(read(s, |tx| tx.console_session_get(&"c".repeat(64))), Some(c.clone()));
    ok(s, |tx| tx.console_session_delete(&"c".repeat(64)));
    assert_eq!(read(s, |tx| tx.console_session_count()), 0);
}

/// A session's id hash is unique and 64 hex digits long, its account exists,
/// and its CSRF token and region are not empty.
pub fn console_sessions_have_unique_ids_and_an_account(s: &dyn Store) {
    seed(s);
    ok(s, |tx| tx.console_session_insert(&console_session('a', ACC, 100)));
    unique(s, "same id hash", |tx| tx.console_session_insert(&console_session('a', ACC2, 200)));
    constraint(s, "session of a missing account", |tx| {
        tx.console_session_insert(&console_session('b', "acc-none", 100))
    });
    constraint(s, "short id hash", |tx| {
        tx.console_session_insert(&ConsoleSessionRow { id_hash: "abc".into(), ..console_session('c', ACC, 1) })
    });
    constraint(s, "empty CSRF token", |tx| {
        tx.console_session_insert(&ConsoleSessionRow { csrf: String::new(), ..console_session('d', ACC, 1) })
    });
    constraint(s, "empty region", |tx| {
        tx.console_session_insert(&ConsoleSessionRow { region_id: String::new(), ..console_session('e', ACC, 1) })
    });
    assert_eq!(read(s, |tx| tx.console_session_count()), 1);
}

fn application(id: &str, account: &str, applied_at: i64) -> QuotaApplicationRow {
    QuotaApplicationRow {
        id: id.into(),
        account_id: account.into(),
        quota_name: "eip_count".into(),
        product_code: "eip".into(),
        quota_action_code: "eip_quota_instances_num".into(),
        desire_value: 30,
        approve_value: None,
        status: QuotaApplicationStatus::Process,
        reason: format!("reason of {id}"),
        audit_reason: String::new(),
        dimension: "{}".into(),
        notice_type: 0,
        applied_at,
        decided_at: None,
    }
}

/// Quota applications round-trip, list per account newest first (or all),
/// and take their decision.
pub fn quota_applications_round_trip_list_newest_first_and_are_decided(s: &dyn Store) {
    seed(s);
    let (a, b, c) = (application("qa-a", ACC, 10), application("qa-b", ACC, 20), application("qa-c", ACC2, 15));
    let put = [a.clone(), b.clone(), c.clone()];
    ok(s, move |tx| put.iter().try_for_each(|r| tx.quota_application_insert(r)));
    assert_eq!(read(s, |tx| tx.quota_application_get("qa-a")), Some(a.clone()));
    assert_eq!(read(s, |tx| tx.quota_application_get("qa-none")), None);
    assert_eq!(read(s, |tx| tx.quota_application_list(Some(ACC))), vec![b.clone(), a.clone()]);
    assert_eq!(read(s, |tx| tx.quota_application_list(Some("acc-none"))), vec![]);
    assert_eq!(read(s, |tx| tx.quota_application_list(None)), vec![b.clone(), c.clone(), a.clone()]);
    let agreed = QuotaApplicationRow {
        status: QuotaApplicationStatus::Agree,
        approve_value: Some(25),
        audit_reason: "approved by the operator".into(),
        decided_at: Some(30),
        // Not the decision's to change:
        desire_value: 99,
        reason: "changed".into(),
        ..a.clone()
    };
    let put = agreed.clone();
    ok(s, move |tx| tx.quota_application_decide(&put));
    let want = QuotaApplicationRow { desire_value: 30, reason: a.reason.clone(), ..agreed };
    assert_eq!(read(s, |tx| tx.quota_application_get("qa-a")), Some(want));
    assert_eq!(read(s, |tx| tx.quota_application_get("qa-b")), Some(b), "others untouched");
}

/// An application's id is unique, its account exists, an approved one
/// carries its value and only an undecided one lacks a decision time.
pub fn quota_applications_keep_their_constraints(s: &dyn Store) {
    seed(s);
    ok(s, |tx| tx.quota_application_insert(&application("qa-a", ACC, 1)));
    unique(s, "same id", |tx| tx.quota_application_insert(&application("qa-a", ACC2, 2)));
    constraint(s, "missing account", |tx| tx.quota_application_insert(&application("qa-b", "acc-none", 1)));
    constraint(s, "approved without a value", |tx| {
        tx.quota_application_insert(&QuotaApplicationRow {
            status: QuotaApplicationStatus::Agree,
            decided_at: Some(2),
            ..application("qa-c", ACC, 1)
        })
    });
    constraint(s, "a value while in review", |tx| {
        tx.quota_application_insert(&QuotaApplicationRow { approve_value: Some(1), ..application("qa-d", ACC, 1) })
    });
    constraint(s, "rejected without a decision time", |tx| {
        tx.quota_application_insert(&QuotaApplicationRow {
            status: QuotaApplicationStatus::Disagree,
            ..application("qa-e", ACC, 1)
        })
    });
    constraint(s, "negative value", |tx| {
        tx.quota_application_insert(&QuotaApplicationRow { desire_value: -1, ..application("qa-f", ACC, 1) })
    });
    constraint(s, "unknown notice type", |tx| {
        tx.quota_application_insert(&QuotaApplicationRow { notice_type: 7, ..application("qa-g", ACC, 1) })
    });
    assert_eq!(read(s, |tx| tx.quota_application_list(None)).len(), 1);
}

/// A balance starts at zero, takes top-ups and charges (below zero too) and
/// stays within its bounds; a missing account has none.
pub fn balances_start_at_zero_and_move_by_their_deltas(s: &dyn Store) {
    seed(s);
    assert_eq!(read(s, |tx| tx.account_balance(ACC)), Some(0));
    assert_eq!(ok(s, |tx| tx.account_balance_add(ACC, 12_340_000)), Some(12_340_000));
    assert_eq!(ok(s, |tx| tx.account_balance_add(ACC, -20_000_000)), Some(-7_660_000), "overdue");
    assert_eq!(read(s, |tx| tx.account_balance(ACC2)), Some(0), "other accounts untouched");
    assert_eq!(read(s, |tx| tx.account_balance("acc-none")), None);
    assert_eq!(ok(s, |tx| tx.account_balance_add("acc-none", 1)), None);
    constraint(s, "beyond the bound", |tx| tx.account_balance_add(ACC, 2_000_000_000_000_000).map(drop));
    assert_eq!(read(s, |tx| tx.account_balance(ACC)), Some(-7_660_000));
}

/// A setting reads back; setting it again replaces it.
pub fn settings_read_back_and_are_overwritten(s: &dyn Store) {
    assert_eq!(read(s, |tx| tx.setting_get("k")), None);
    ok(s, |tx| tx.setting_set("k", &text("v1")));
    ok(s, |tx| tx.setting_set("other", ""));
    assert_eq!(read(s, |tx| tx.setting_get("k")), Some(text("v1")));
    ok(s, |tx| tx.setting_set("k", "v2"));
    assert_eq!(
        read(s, |tx| Ok((tx.setting_get("k")?, tx.setting_get("other")?))),
        (Some("v2".into()), Some("".into()))
    );
}

/// A quota is per account and name; setting it again replaces it; the
/// account must exist.
pub fn quotas_are_per_account_and_overwritten(s: &dyn Store) {
    seed(s);
    assert_eq!(read(s, |tx| tx.quota_get(ACC, "havip")), None);
    ok(s, |tx| {
        tx.quota_set(ACC, "havip", 5)?;
        tx.quota_set(ACC, "eip", 0)?;
        tx.quota_set(ACC2, "havip", -1)
    });
    ok(s, |tx| tx.quota_set(ACC, "havip", 7));
    let got = read(s, |tx| Ok((tx.quota_get(ACC, "havip")?, tx.quota_get(ACC, "eip")?, tx.quota_get(ACC2, "havip")?)));
    assert_eq!(got, (Some(7), Some(0), Some(-1)));
    constraint(s, "quota of a missing account", |tx| tx.quota_set("acc-none", "havip", 1));
}
