//! The store contract: one test suite that every backend runs.
//!
//! Why it exists: the backends share the statements ([`crate::sql`]) but not
//! the rest. Each has its own migrations, transaction handling, error
//! mapping and retry loop, and a difference in any of them (a constraint
//! one schema has and the other lacks, an error sorted into the wrong
//! [`StoreError`](crate::StoreError) kind, a retry limit, an isolation
//! level) shows up only on the backend that has it. The cases here say what
//! the controller may rely on whatever the backend. A backend's test file
//! only says how to open a fresh, empty store:
//!
//! ```ignore
//! eip_store::store_contract!(|| Some(open_a_fresh_empty_store()));
//! ```
//!
//! The macro expands into one `#[test]` per case, grouped in one module per
//! resource family (`accounts::keys_round_trip`, …). Every case opens its
//! own store. The opener returns `Option<_>`: `None` skips the case (the
//! PostgreSQL suite without a test server). It may return the store itself
//! or a [`Fresh`] that also cleans up after it (a temporary directory).
//!
//! Each family's file holds the cases of its tables: row round trips with
//! every field compared, the list orders the [`Tx`](crate::Tx) docs promise,
//! and every UNIQUE, PRIMARY KEY, CHECK and FOREIGN KEY constraint both
//! schemas declare. [`transactions`] and [`concurrency`] hold what a write
//! and a read promise as a whole. A unit test of this crate
//! (`coverage.rs`, with `--features contract`) fails when a `Tx` method is
//! called by no case, or a case is missing from the macro.
//!
//! Compiled only with the `contract` feature: backends take it as a
//! dev-dependency feature, so no production build carries it.

mod fixtures;
mod harness;

pub mod accounts;
pub mod addresses;
pub mod compute;
pub mod concurrency;
pub mod eips;
pub mod havip;
pub mod housekeeping;
pub mod lb;
pub mod leases;
pub mod nat;
pub mod network;
pub mod transactions;

#[cfg(test)]
mod coverage;

use crate::Store;

/// A fresh, empty store for one case, and what to do once it is dropped.
pub struct Fresh {
    store: Option<Box<dyn Store>>,
    cleanup: Option<Box<dyn FnOnce()>>,
}

impl Fresh {
    /// A store that needs no cleaning up.
    pub fn new(store: impl Store) -> Fresh {
        Fresh { store: Some(Box::new(store)), cleanup: None }
    }

    /// Runs `cleanup` after the store is dropped (also when the case fails).
    pub fn then(mut self, cleanup: impl FnOnce() + 'static) -> Fresh {
        self.cleanup = Some(Box::new(cleanup));
        self
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        match &self.store {
            Some(s) => s.as_ref(),
            None => unreachable!("the store is only taken when Fresh is dropped"),
        }
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        drop(self.store.take());
        if let Some(cleanup) = self.cleanup.take() {
            cleanup();
        }
    }
}

/// What an opener may return: a store, or a [`Fresh`].
pub trait IntoFresh {
    /// As a [`Fresh`].
    fn into_fresh(self) -> Fresh;
}

impl<S: Store> IntoFresh for S {
    fn into_fresh(self) -> Fresh {
        Fresh::new(self)
    }
}

impl IntoFresh for Fresh {
    fn into_fresh(self) -> Fresh {
        self
    }
}

/// Runs one case on a store from `open` (nothing when it gives none).
#[doc(hidden)]
pub fn run(open: fn() -> Option<Fresh>, case: fn(&dyn Store)) {
    let Some(fresh) = open() else { return };
    case(fresh.store());
}

/// Expands into one `#[test]` per contract case; `$open` is a closure (or
/// function) giving `Option<S>` where `S` is a fresh, empty store or a
/// [`Fresh`](crate::contract::Fresh). See [the module](crate::contract).
#[macro_export]
macro_rules! store_contract {
    ($open:expr) => {
        fn __store_contract_open() -> ::core::option::Option<$crate::contract::Fresh> {
            let open = $open;
            open().map($crate::contract::IntoFresh::into_fresh)
        }

        $crate::__store_contract_family!(accounts:
            accounts_are_listed_whole,
            account_ids_and_names_are_unique,
            access_keys_round_trip_update_and_list_per_account,
            access_keys_belong_to_an_account_and_have_unique_ids,
            console_sessions_round_trip_change_region_and_expire,
            balances_start_at_zero_and_move_by_their_deltas,
            console_sessions_have_unique_ids_and_an_account,
            quota_applications_round_trip_list_newest_first_and_are_decided,
            quota_applications_keep_their_constraints,
            settings_read_back_and_are_overwritten,
            quotas_are_per_account_and_overwritten,
        );
        $crate::__store_contract_family!(addresses:
            pools_list_in_insertion_order_and_move_their_cursor,
            pools_are_unique_per_region_and_block_and_cursors_never_negative,
            addresses_round_trip_and_are_replaced_whole,
            the_oldest_free_address_is_the_one_released_longest_ago,
            the_address_of_a_released_eip_is_found_by_its_id,
            an_address_has_one_holder_and_a_holder_one_address,
        );
        $crate::__store_contract_family!(network:
            vpcs_round_trip_list_oldest_first_rename_and_delete,
            vswitches_round_trip_list_oldest_first_rename_and_delete,
            security_groups_round_trip_list_and_delete,
            secondary_cidrs_list_oldest_first_and_go_with_their_vpc,
            resource_tags_list_by_resource_then_key_and_replace_values,
            resource_tag_keys_and_values_have_bounded_lengths_in_characters,
            network_rows_need_their_parents_and_unique_ids,
        );
        $crate::__store_contract_family!(compute:
            instances_round_trip_list_oldest_first_update_and_delete,
            instances_using_a_vswitch_or_security_group_are_counted,
            user_data_is_replaced_bounded_and_goes_with_its_instance,
            instance_constraints_hold,
            enis_round_trip_list_update_and_delete_with_their_private_ips,
            private_ips_are_listed_per_vswitch_and_holder_and_given_back,
            ecs_targets_carry_their_primary_address_and_the_eips_holding_either,
            eni_constraints_hold,
        );
        $crate::__store_contract_family!(eips:
            eips_round_trip_with_tags_sorted_by_key,
            eip_updates_leave_tags_alone_and_tags_are_replaced_whole,
            eips_are_found_by_target_private_ip_and_association,
            eip_query_filters_every_field,
            eip_query_pages_newest_first_with_the_total,
            eips_are_unique_per_id_and_address,
            eip_association_constraints_hold,
            eip_tags_belong_to_an_eip_and_have_unique_keys,
        );
        $crate::__store_contract_family!(nat:
            nat_gateways_round_trip_list_oldest_first_and_are_found_by_table,
            snat_and_forward_entries_round_trip_and_list_oldest_first,
            nat_constraints_hold,
        );
        $crate::__store_contract_family!(lb:
            load_balancers_round_trip_list_by_kind_and_delete_with_their_parts,
            lb_zones_list_by_zone_and_keep_their_eip_unique,
            clb_listeners_are_replaced_by_port_and_health_checks_bounded,
            clb_backends_are_reweighted_and_listed_by_server,
            load_balancer_constraints_hold,
        );
        $crate::__store_contract_family!(havip:
            havips_round_trip_list_oldest_first_count_and_delete_with_their_members,
            havip_members_list_oldest_first_per_havip_and_per_instance,
            havip_constraints_hold,
        );
        $crate::__store_contract_family!(housekeeping:
            tasks_come_due_earliest_first_up_to_the_limit,
            due_tasks_are_claimed_by_one_holder_until_the_claim_lapses,
            client_tokens_round_trip_are_unique_and_expire,
            a_nonce_is_claimed_once_while_live_and_again_after_expiry,
            traffic_keeps_the_last_sample_of_each_minute,
            traffic_of_one_eip_starts_at_its_totals_then,
            backend_health_is_replaced_per_region,
        );
        $crate::__store_contract_family!(leases:
            leases_list_by_region_and_a_put_replaces_the_regions_lease,
            a_lease_is_released_only_by_its_holder_while_it_runs,
            lease_constraints_hold,
            a_write_commits_whatever_its_change_note_says,
        );
        $crate::__store_contract_family!(transactions:
            a_refused_write_leaves_nothing_behind,
            a_failed_statement_propagated_rolls_back_the_whole_write,
            a_swallowed_failed_statement_never_commits_half_a_write,
            a_write_sees_its_own_rows,
            a_panicking_write_is_rolled_back_and_the_store_stays_usable,
            a_redoable_write_lands_like_any_other,
            a_read_sees_one_snapshot,
            a_read_returns_its_closures_error,
            a_read_cannot_write,
            a_conflict_runs_the_write_again_and_only_the_last_run_counts,
            a_refusal_is_not_retried,
            a_conflict_on_every_run_reaches_the_caller_after_a_bounded_number_of_runs,
        );
        $crate::__store_contract_family!(concurrency:
            concurrent_read_modify_writes_lose_no_update,
            concurrent_writers_checking_one_unique_slot_have_one_winner,
            concurrent_nonce_claims_have_one_winner,
            concurrent_task_claims_split_the_tasks,
        );
    };
}

/// One family's module of tests (part of [`store_contract!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __store_contract_family {
    ($family:ident: $($case:ident),* $(,)?) => {
        mod $family {
            $(
                #[test]
                fn $case() {
                    $crate::contract::run(super::__store_contract_open, $crate::contract::$family::$case);
                }
            )*
        }
    };
}
