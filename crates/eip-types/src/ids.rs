//! Resource id newtypes. Public ids use the cloud's format (`eip-` plus 22
//! lowercase alphanumerics) so SDK code and Terraform prefix inference work
//! unchanged; a function that takes an [`EipId`] cannot be handed an instance id.
//!
//! Keep this registry alphabetical and append-only.

use rand::Rng;
use std::fmt;

const ID_ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const ID_RANDOM_LEN: usize = 22;

/// Random suffix for a new id: 22 characters from `[0-9a-z]`.
fn random_suffix() -> String {
    let mut rng = rand::rng();
    (0..ID_RANDOM_LEN).map(|_| ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())] as char).collect()
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The prefix (without the dash) that every id of this kind carries.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh random id.
            pub fn generate() -> Self {
                Self(format!("{}-{}", $prefix, random_suffix()))
            }

            /// Accepts any string that starts with the kind's prefix and a dash,
            /// followed by 1 to 64 characters of `[0-9a-zA-Z_-]`.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?.strip_prefix('-')?;
                let ok = !rest.is_empty()
                    && rest.len() <= 64
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                ok.then(|| Self(s.to_owned()))
            }

            /// Wraps a value read back from the store, where it was validated on the way in.
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

define_id!(
    /// An account (tenant). Not an Alibaba wire id; shown by `eipctl`.
    AccountId,
    "acc"
);
define_id!(
    /// An application load balancer (ALB 2020-06-16).
    AlbId,
    "alb"
);
define_id!(
    /// An Elastic IP address (`AllocationId`).
    EipId,
    "eip"
);
define_id!(
    /// An elastic network interface.
    EniId,
    "eni"
);
define_id!(
    /// A DNAT entry of a NAT gateway's forward table.
    ForwardEntryId,
    "fwd"
);
define_id!(
    /// The forward (DNAT) table of a NAT gateway.
    ForwardTableId,
    "ftb"
);
define_id!(
    /// The FULLNAT table of a NAT gateway (reported, never used).
    FullNatTableId,
    "fulltb"
);
define_id!(
    /// A high-availability virtual IP.
    HaVipId,
    "havip"
);
define_id!(
    /// An ECS instance.
    InstanceId,
    "i"
);
define_id!(
    /// An asynchronous job of ALB/NLB (UpdateLoadBalancerAddressTypeConfig, DeleteLoadBalancer).
    JobId,
    "job"
);
define_id!(
    /// A classic load balancer (CLB, SLB 2014-05-15).
    LoadBalancerId,
    "lb"
);
define_id!(
    /// A NAT gateway.
    NatGatewayId,
    "ngw"
);
define_id!(
    /// A network load balancer (NLB 2022-04-30).
    NlbId,
    "nlb"
);
define_id!(
    /// A route table (returned by CreateVpc).
    RouteTableId,
    "vtb"
);
define_id!(
    /// A security group.
    SecurityGroupId,
    "sg"
);
define_id!(
    /// An SNAT entry of a NAT gateway's SNAT table.
    SnatEntryId,
    "snat"
);
define_id!(
    /// The SNAT table of a NAT gateway.
    SnatTableId,
    "stb"
);
define_id!(
    /// A virtual router (returned by CreateVpc).
    VRouterId,
    "vrt"
);
define_id!(
    /// A vSwitch.
    VSwitchId,
    "vsw"
);
define_id!(
    /// A virtual private cloud.
    VpcId,
    "vpc"
);
/// A resource group id. Alibaba accounts always have a default group; we
/// accept any `rg-` id and report one default group per account.
pub fn default_resource_group(account: &AccountId) -> String {
    format!("rg-{}", &account.as_str()[4..].chars().take(16).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_the_cloud_shape() {
        let id = EipId::generate();
        assert!(id.as_str().starts_with("eip-"));
        assert_eq!(id.as_str().len(), 4 + 22);
        assert_eq!(EipId::parse(id.as_str()), Some(id));
    }

    #[test]
    fn parse_checks_the_prefix() {
        assert!(EipId::parse("i-abc").is_none());
        assert!(EipId::parse("eip-").is_none());
        assert!(EipId::parse("eip-a b").is_none());
        assert!(InstanceId::parse("i-bp1abc").is_some());
        assert!(InstanceId::parse("eip-bp1abc").is_none());
    }
}
