//! Enumerations whose text appears on the wire exactly as Alibaba spells it.
//! Parsing is exact (case-sensitive) because the real API is; the one
//! exception, booleans, lives in the wire crate.

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the exact wire spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// Status of an EIP (DescribeEipAddresses `Status`).
    EipStatus {
        /// Allocated and not associated.
        Available => "Available",
        /// Association accepted, not yet in effect.
        Associating => "Associating",
        /// Associated and in effect.
        InUse => "InUse",
        /// Unassociation accepted, not yet in effect.
        Unassociating => "Unassociating",
        /// Release accepted; the EIP disappears when it completes.
        Releasing => "Releasing",
    }
);

impl EipStatus {
    /// Transitional statuses refuse every operation but queries (GEN-04).
    pub fn is_transitional(self) -> bool {
        match self {
            EipStatus::Associating | EipStatus::Unassociating | EipStatus::Releasing => true,
            EipStatus::Available | EipStatus::InUse => false,
        }
    }
}

wire_enum!(
    /// Status of an ECS instance.
    InstanceStatus {
        /// Being created.
        Pending => "Pending",
        /// Being started.
        Starting => "Starting",
        /// Running.
        Running => "Running",
        /// Being stopped.
        Stopping => "Stopping",
        /// Stopped.
        Stopped => "Stopped",
    }
);

wire_enum!(
    /// The kind of resource an EIP is associated with (`InstanceType`).
    AssociatedInstanceType {
        /// An ECS instance (the default).
        EcsInstance => "EcsInstance",
        /// A classic load balancer.
        SlbInstance => "SlbInstance",
        /// A public NAT gateway.
        Nat => "Nat",
        /// A high-availability virtual IP.
        HaVip => "HaVip",
        /// A secondary elastic network interface.
        NetworkInterface => "NetworkInterface",
        /// An IP address in a VPC with an IPv4 gateway.
        IpAddress => "IpAddress",
    }
);

wire_enum!(
    /// Association mode (`Mode`).
    EipMode {
        /// Addresses and ports translated; the NIC sees only its private IP.
        Nat => "NAT",
        /// Multi-EIP-to-ENI visible mode.
        MultiBinded => "MULTI_BINDED",
        /// Cut-through visible mode.
        Binded => "BINDED",
    }
);

wire_enum!(
    /// Billing method of an EIP (`ChargeType` / `InstanceChargeType`).
    ChargeType {
        /// Pay-as-you-go.
        PostPaid => "PostPaid",
        /// Subscription.
        PrePaid => "PrePaid",
    }
);

wire_enum!(
    /// Metering method of an EIP (`InternetChargeType`).
    InternetChargeType {
        /// Pay by bandwidth.
        PayByBandwidth => "PayByBandwidth",
        /// Pay by data transfer.
        PayByTraffic => "PayByTraffic",
    }
);

wire_enum!(
    /// Subscription period unit (`PricingCycle`).
    PricingCycle {
        /// Months.
        Month => "Month",
        /// Years.
        Year => "Year",
    }
);

wire_enum!(
    /// Network type of an ECS instance.
    InstanceNetworkType {
        /// In a VPC (the only kind that can take an EIP, ECS-01).
        Vpc => "vpc",
        /// The legacy classic network.
        Classic => "classic",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_value() {
        for s in EipStatus::ALL {
            assert_eq!(EipStatus::parse(s.as_str()), Some(*s));
        }
        for s in AssociatedInstanceType::ALL {
            assert_eq!(AssociatedInstanceType::parse(s.as_str()), Some(*s));
        }
        assert_eq!(EipMode::parse("MULTI_BINDED"), Some(EipMode::MultiBinded));
        assert_eq!(EipStatus::parse("inuse"), None);
    }

    #[test]
    fn gen_04_transitional_statuses() {
        assert!(EipStatus::Associating.is_transitional());
        assert!(EipStatus::Unassociating.is_transitional());
        assert!(EipStatus::Releasing.is_transitional());
        assert!(!EipStatus::InUse.is_transitional());
        assert!(!EipStatus::Available.is_transitional());
    }
}
