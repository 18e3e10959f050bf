//! Every limit openeip enforces per account, in one place: its default, how
//! an operator names it (`eipd quota set`), and whether and how the Quota
//! Center (quotas 2020-05-10) shows it and takes applications for it.
//!
//! A quota's value for an account is its default until an operator sets it
//! or an application for it is approved; the controller reads every limit
//! through this catalogue, so the Quota Center, the CLI and the rules that
//! refuse an allocation agree.

use eip_types::{Error, Result};

/// A limit openeip enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuotaKind {
    /// EIPs an account holds, all regions together (`QuotaExceeded.Eip` on Allocate).
    EipCount,
    /// HA-02: whether the account may create HaVips (a privilege, 0 or 1).
    HavipPermission,
    /// HA-02: HaVips an account holds (not adjustable on the cloud).
    HavipCount,
    /// NAT-02: EIPs on one internet NAT gateway.
    NatGatewayEips,
    /// EIPs in MULTI_BINDED mode on one ENI.
    EniMultiBindedEips,
}

/// How the Quota Center lists a quota (`QuotaCategory`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaCategory {
    /// A number of resources.
    CommonQuota,
    /// A privilege: 1 granted, 0 not.
    WhiteListLabel,
}

impl QuotaCategory {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaCategory::CommonQuota => "CommonQuota",
            QuotaCategory::WhiteListLabel => "WhiteListLabel",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<QuotaCategory> {
        match s {
            "CommonQuota" => Some(QuotaCategory::CommonQuota),
            "WhiteListLabel" => Some(QuotaCategory::WhiteListLabel),
            _ => None,
        }
    }
}

/// Where the Quota Center shows a quota.
#[derive(Clone, Copy, Debug)]
pub struct Listing {
    /// `ProductCode`.
    pub product: &'static str,
    /// `QuotaActionCode`.
    pub code: &'static str,
    /// Other codes that name the same quota (GetProductQuota and applications accept them).
    pub aliases: &'static [&'static str],
    /// `QuotaName`.
    pub name: &'static str,
    /// `QuotaDescription`.
    pub description: &'static str,
    /// `QuotaCategory`.
    pub category: QuotaCategory,
    /// `QuotaUnit`.
    pub unit: &'static str,
    /// Largest value an application may ask for (`ApplicableRange`'s upper end).
    pub max: i64,
}

/// One quota.
#[derive(Clone, Copy, Debug)]
pub struct QuotaSpec {
    /// Which.
    pub kind: QuotaKind,
    /// The name `eipd quota set` takes (and the store keeps).
    pub name: &'static str,
    /// The value an account has until told otherwise.
    pub default: i64,
    /// Whether applications may change it.
    pub adjustable: bool,
    /// The Quota Center's view of it; `None` for limits the cloud does not
    /// list there (they change only by a ticket, here `eipd quota set`).
    pub listing: Option<Listing>,
}

/// Every quota. Codes and defaults: `../shared/spec/billing-quotas.md` §5.3
/// (and `docs/quotas.md` for the choices made where the record is silent).
pub const CATALOGUE: &[QuotaSpec] = &[
    QuotaSpec {
        kind: QuotaKind::EipCount,
        name: "eip_count",
        default: 20,
        adjustable: true,
        listing: Some(Listing {
            product: "eip",
            code: "eip_quota_instances_num",
            aliases: &[],
            name: "Maximum number of EIPs that can be held by an account",
            description: "The maximum number of EIPs that can be held by an Alibaba Cloud account.",
            category: QuotaCategory::CommonQuota,
            unit: "Count",
            max: 10_000,
        }),
    },
    QuotaSpec {
        kind: QuotaKind::HavipPermission,
        name: "havip_permission",
        default: 0,
        adjustable: true,
        listing: Some(Listing {
            product: "vpc",
            code: "vpc_whitelist/ha_vip_whitelist",
            aliases: &["vpc_privilege_allow_buy_havip_instance"],
            name: "Permission to create HaVips",
            description: "Whether the account may create high-availability virtual IP addresses (HaVips).",
            category: QuotaCategory::WhiteListLabel,
            unit: "",
            max: 1,
        }),
    },
    QuotaSpec { kind: QuotaKind::HavipCount, name: "havip_count", default: 50, adjustable: false, listing: None },
    QuotaSpec {
        kind: QuotaKind::NatGatewayEips,
        name: "nat_gateway_eips",
        default: 20,
        adjustable: true,
        listing: Some(Listing {
            product: "nat",
            code: "natgw_quota_eip_num_per_nat",
            aliases: &["q_gh61qw"],
            name: "Maximum number of EIPs that can be associated with an Internet NAT gateway",
            description: "The maximum number of EIPs that can be associated with one Internet NAT gateway.",
            category: QuotaCategory::CommonQuota,
            unit: "Count",
            max: 100,
        }),
    },
    QuotaSpec {
        kind: QuotaKind::EniMultiBindedEips,
        name: "eni_multi_binded_eips",
        default: 10,
        adjustable: false,
        listing: None,
    },
];

impl QuotaKind {
    /// Its entry in [`CATALOGUE`].
    pub fn spec(self) -> &'static QuotaSpec {
        CATALOGUE.iter().find(|s| s.kind == self).expect("every kind is in the catalogue")
    }
}

/// The quota `eipd quota set` calls `name`.
pub fn by_name(name: &str) -> Option<&'static QuotaSpec> {
    CATALOGUE.iter().find(|s| s.name == name)
}

/// The quota the Quota Center lists as `product` / `code` (or an alias).
pub fn by_code(product: &str, code: &str) -> Option<&'static QuotaSpec> {
    CATALOGUE
        .iter()
        .find(|s| s.listing.is_some_and(|l| l.product == product && (l.code == code || l.aliases.contains(&code))))
}

/// Whether the Quota Center knows `product` at all.
pub fn is_product(product: &str) -> bool {
    CATALOGUE.iter().any(|s| s.listing.is_some_and(|l| l.product == product))
}

/// A value `eipd quota set` may give `spec`: 0 or more, a privilege 0 or 1.
pub fn check_value(spec: &QuotaSpec, value: i64) -> Result<()> {
    let max = match spec.listing.map(|l| l.category) {
        Some(QuotaCategory::WhiteListLabel) => 1,
        _ => 1_000_000,
    };
    if !(0..=max).contains(&value) {
        return Err(Error::invalid("value", format!("{} takes 0 to {max}", spec.name)));
    }
    Ok(())
}

/// What becomes of an application when it is filed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Review {
    /// Approved at once (the policy's ceiling covers it).
    Agree,
    /// Left for an operator (`eipd quota approve|reject`).
    Process,
}

/// Checks an application for `desire` of a quota whose value is `current`
/// with `usage` in use, and decides it under the policy's `ceiling` (the
/// largest value approved without an operator; 0 approves nothing).
/// `QUOTA.DESIREVALUE.ILLEGAL` for a value that is not a whole number above
/// the current one and within the quota's range, or below what is in use.
pub fn review(spec: &QuotaSpec, desire: f64, current: i64, usage: i64, ceiling: i64) -> Result<(i64, Review)> {
    let listing = spec.listing.ok_or(Error::QuotaNotFound)?;
    let whole = desire.is_finite() && desire.fract() == 0.0 && (1.0..=listing.max as f64).contains(&desire);
    if !whole {
        return Err(Error::QuotaDesireIllegal);
    }
    let desire = desire as i64;
    if !spec.adjustable || desire <= current || desire < usage {
        return Err(Error::QuotaDesireIllegal);
    }
    Ok((desire, if desire <= ceiling { Review::Agree } else { Review::Process }))
}

/// The ceiling of the review policy when the operator set none: the HaVip
/// permission is granted on request, everything else waits for an operator.
pub fn default_ceiling(kind: QuotaKind) -> i64 {
    match kind {
        QuotaKind::HavipPermission => 1,
        QuotaKind::EipCount | QuotaKind::HavipCount | QuotaKind::NatGatewayEips | QuotaKind::EniMultiBindedEips => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_are_unique_and_found() {
        for (i, a) in CATALOGUE.iter().enumerate() {
            assert_eq!(a.kind.spec().name, a.name);
            assert_eq!(by_name(a.name).map(|s| s.kind), Some(a.kind));
            for b in &CATALOGUE[i + 1..] {
                assert_ne!(a.name, b.name);
            }
            if let Some(l) = a.listing {
                assert_eq!(by_code(l.product, l.code).map(|s| s.kind), Some(a.kind));
                for alias in l.aliases {
                    assert_eq!(by_code(l.product, alias).map(|s| s.kind), Some(a.kind));
                }
                assert!(l.max >= a.default);
            }
        }
        assert!(by_code("eip", "nope").is_none());
        assert!(by_code("vpc", "eip_quota_instances_num").is_none(), "codes belong to their product");
        assert!(is_product("nat") && !is_product("ecs"));
    }

    #[test]
    fn applications_are_checked_then_decided_by_the_ceiling() {
        let eip = QuotaKind::EipCount.spec();
        assert_eq!(review(eip, 30.0, 20, 3, 0).unwrap(), (30, Review::Process));
        assert_eq!(review(eip, 30.0, 20, 3, 50).unwrap(), (30, Review::Agree));
        assert_eq!(review(eip, 50.0, 20, 3, 50).unwrap(), (50, Review::Agree), "the ceiling is included");
        for bad in [20.0, 10.0, -1.0, 0.0, 25.5, f64::NAN, f64::INFINITY, 1e12] {
            assert_eq!(review(eip, bad, 20, 3, 0), Err(Error::QuotaDesireIllegal), "{bad}");
        }
        let perm = QuotaKind::HavipPermission.spec();
        assert_eq!(review(perm, 1.0, 0, 0, default_ceiling(QuotaKind::HavipPermission)).unwrap(), (1, Review::Agree));
        assert_eq!(review(perm, 2.0, 0, 0, 1), Err(Error::QuotaDesireIllegal));
        assert_eq!(review(perm, 1.0, 1, 0, 1), Err(Error::QuotaDesireIllegal), "granted already");
        assert_eq!(review(QuotaKind::HavipCount.spec(), 60.0, 50, 0, 100), Err(Error::QuotaNotFound));
    }

    #[test]
    fn set_values_are_bounded() {
        assert!(check_value(QuotaKind::HavipPermission.spec(), 1).is_ok());
        assert!(check_value(QuotaKind::HavipPermission.spec(), 2).is_err());
        assert!(check_value(QuotaKind::EipCount.spec(), -1).is_err());
        assert!(check_value(QuotaKind::EipCount.spec(), 5000).is_ok());
    }
}
