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
        /// An internet-facing ALB's zone EIP (LB-02; Alibaba documents no value, this one is ours).
        Alb => "Alb",
        /// An internet-facing NLB's zone EIP (LB-02; ours, as for ALB).
        Nlb => "Nlb",
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

wire_enum!(
    /// Status of an elastic network interface.
    EniStatus {
        /// Not attached to an instance.
        Available => "Available",
        /// AttachNetworkInterface accepted, not yet in effect.
        Attaching => "Attaching",
        /// Attached to an instance.
        InUse => "InUse",
        /// DetachNetworkInterface accepted, not yet in effect.
        Detaching => "Detaching",
    }
);

impl EniStatus {
    /// Attaching and Detaching refuse changes until their task completes.
    pub fn is_transitional(self) -> bool {
        match self {
            EniStatus::Attaching | EniStatus::Detaching => true,
            EniStatus::Available | EniStatus::InUse => false,
        }
    }
}

wire_enum!(
    /// Kind of an elastic network interface (`Type`).
    EniType {
        /// Created with its instance and deleted with it; never detached.
        Primary => "Primary",
        /// Created by CreateNetworkInterface; attached and detached at will.
        Secondary => "Secondary",
    }
);

wire_enum!(
    /// Status of a NAT gateway.
    NatGatewayStatus {
        /// Being created.
        Creating => "Creating",
        /// Ready.
        Available => "Available",
    }
);

wire_enum!(
    /// Network type of a NAT gateway (`NetworkType`).
    NatNetworkType {
        /// Internet NAT gateway: takes EIPs.
        Internet => "internet",
        /// VPC NAT gateway: takes no EIPs.
        Intranet => "intranet",
    }
);

wire_enum!(
    /// How a NAT gateway holds its EIPs (`EipBindMode`).
    NatEipBindMode {
        /// Multi-EIP-to-NIC visible pattern (the default).
        MultiBinded => "MULTI_BINDED",
        /// EIP normal pattern: each EIP takes a private IP of the vSwitch (NAT-03).
        Nat => "NAT",
    }
);

wire_enum!(
    /// Protocol of a DNAT entry (`IpProtocol`).
    IpProtocol {
        /// TCP.
        Tcp => "TCP",
        /// UDP.
        Udp => "UDP",
        /// Every protocol (and every port).
        Any => "Any",
    }
);

wire_enum!(
    /// Status of a HaVip.
    HaVipStatus {
        /// Being created.
        Creating => "Creating",
        /// Ready, associated with no instance.
        Available => "Available",
        /// Associated with at least one instance or ENI.
        InUse => "InUse",
    }
);

wire_enum!(
    /// The three load balancer products.
    LoadBalancerKind {
        /// Classic load balancer (SLB 2014-05-15, `lb-`).
        Clb => "clb",
        /// Application load balancer (ALB 2020-06-16, `alb-`).
        Alb => "alb",
        /// Network load balancer (NLB 2022-04-30, `nlb-`).
        Nlb => "nlb",
    }
);

wire_enum!(
    /// Whether a load balancer faces the internet (stored in lower case; ALB and NLB
    /// spell it `Internet`/`Intranet` on the wire).
    LbAddressType {
        /// Internet-facing.
        Internet => "internet",
        /// Internal-facing.
        Intranet => "intranet",
    }
);

impl LbAddressType {
    /// ALB/NLB spelling.
    pub fn capitalized(self) -> &'static str {
        match self {
            LbAddressType::Internet => "Internet",
            LbAddressType::Intranet => "Intranet",
        }
    }

    /// Parses either spelling.
    pub fn parse_any_case(s: &str) -> Option<Self> {
        match s {
            "internet" | "Internet" => Some(LbAddressType::Internet),
            "intranet" | "Intranet" => Some(LbAddressType::Intranet),
            _ => None,
        }
    }
}

wire_enum!(
    /// Status of an ALB or NLB (CLBs are `active` from creation).
    LbStatus {
        /// Being created.
        Provisioning => "Provisioning",
        /// Serving.
        Active => "Active",
        /// Serving while a change (the zone EIPs of an address-type change)
        /// settles; shown, never stored.
        Configuring => "Configuring",
    }
);

wire_enum!(
    /// Health of a checked CLB backend server (DescribeHealthStatus
    /// `ServerHealthStatus`; an unchecked one reads `unavailable`).
    BackendHealth {
        /// Gets new connections.
        Normal => "normal",
        /// Failed `UnhealthyThreshold` probes in a row: no new connections.
        Abnormal => "abnormal",
    }
);

wire_enum!(
    /// Where a Quota Center application stands (`Status`).
    QuotaApplicationStatus {
        /// Waiting for a decision.
        Process => "Process",
        /// Approved: the quota has the approved value.
        Agree => "Agree",
        /// Rejected.
        Disagree => "Disagree",
        /// Withdrawn.
        Cancel => "Cancel",
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
