//! The contract's checklist, checked: every [`Tx`](crate::Tx) method is
//! called by some case, every case is in [`store_contract!`], and the macro
//! expands (here on a store that is never opened, so nothing runs).

use crate::{Store, Tx, WriteJob};

const LIB: &str = include_str!("../lib.rs");
const MACRO: &str = include_str!("mod.rs");
const FAMILIES: &[(&str, &str)] = &[
    ("accounts", include_str!("accounts.rs")),
    ("addresses", include_str!("addresses.rs")),
    ("compute", include_str!("compute.rs")),
    ("concurrency", include_str!("concurrency.rs")),
    ("eips", include_str!("eips.rs")),
    ("havip", include_str!("havip.rs")),
    ("housekeeping", include_str!("housekeeping.rs")),
    ("lb", include_str!("lb.rs")),
    ("leases", include_str!("leases.rs")),
    ("nat", include_str!("nat.rs")),
    ("network", include_str!("network.rs")),
    ("transactions", include_str!("transactions.rs")),
];

/// Names of the `fn`s declared between `start` and the next line that is `}`.
fn fns_in<'a>(src: &'a str, start: &str) -> Vec<&'a str> {
    let body = &src[src.find(start).unwrap_or_else(|| panic!("{start:?} not found"))..];
    let body = &body[..body.find("\n}").expect("the block ends")];
    body.lines().filter_map(|l| l.trim().strip_prefix("fn ")).map(|l| &l[..l.find(['(', '<']).expect("a fn")]).collect()
}

#[test]
fn every_tx_method_is_called_by_a_case() {
    let methods = fns_in(LIB, "pub trait Tx {");
    assert!(methods.len() > 100, "parsed {} Tx methods: the parser is off", methods.len());
    let missing: Vec<&str> =
        methods.iter().copied().filter(|m| !FAMILIES.iter().any(|(_, src)| src.contains(&format!(".{m}(")))).collect();
    assert!(missing.is_empty(), "Tx methods no contract case calls: {missing:?}");
}

#[test]
fn every_case_is_in_the_macro_once() {
    for (family, src) in FAMILIES {
        let cases: Vec<&str> =
            src.lines().filter_map(|l| l.strip_prefix("pub fn ")).map(|l| &l[..l.find('(').expect("a fn")]).collect();
        assert!(!cases.is_empty(), "{family} has no cases");
        let list = &MACRO[MACRO.find(&format!("__store_contract_family!({family}:")).expect("the family is listed")..];
        let list = &list[..list.find(");").expect("the list ends")];
        for case in &cases {
            let n = list.matches(&format!(" {case},")).count();
            assert_eq!(n, 1, "{family}::{case} is listed {n} times in store_contract!");
        }
        assert_eq!(list.matches(',').count(), cases.len(), "{family}: the macro lists a case the file lacks");
    }
}

/// A backend that is never opened.
struct NoStore;

impl Store for NoStore {
    fn submit(&self, _: WriteJob) {
        unreachable!()
    }
    fn read_dyn(&self, _: &mut (dyn FnMut(&mut dyn Tx) -> eip_types::Result<()> + Send)) -> eip_types::Result<()> {
        unreachable!()
    }
    fn backend(&self) -> &'static str {
        "none"
    }
}

// Every case compiles into a test that skips.
crate::store_contract!(|| None::<NoStore>);
