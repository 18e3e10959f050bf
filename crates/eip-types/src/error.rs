//! The one domain error. Every failure a caller can see is a variant here;
//! the wire crate maps each variant to Alibaba's `Code`, `Message` and HTTP
//! status in a single function, so no handler invents codes of its own.

use crate::{EipStatus, InstanceStatus};
use std::fmt;

/// Result alias used across the workspace.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Kinds of resources that can be missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceKind {
    /// An EIP (`AllocationId`).
    Eip,
    /// An ECS instance.
    Instance,
    /// A VPC.
    Vpc,
    /// A vSwitch.
    VSwitch,
    /// A security group.
    SecurityGroup,
    /// A zone of a region.
    Zone,
    /// An access key.
    AccessKey,
    /// An elastic network interface.
    NetworkInterface,
    /// A NAT gateway.
    NatGateway,
    /// A NAT gateway's SNAT table.
    SnatTable,
    /// A NAT gateway's forward (DNAT) table.
    ForwardTable,
    /// An SNAT entry.
    SnatEntry,
    /// A DNAT entry.
    ForwardEntry,
    /// A HaVip.
    HaVip,
    /// A load balancer (CLB, ALB or NLB).
    LoadBalancer,
    /// An account (admin commands).
    Account,
}

/// What a delete would leave dangling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DependencyKind {
    /// A VPC still has vSwitches.
    VpcHasVSwitch,
    /// A VPC still has security groups.
    VpcHasSecurityGroup,
    /// A vSwitch still has instances or network interfaces.
    VSwitchHasInstance,
    /// A security group still has instances.
    SecurityGroupHasInstance,
    /// A NAT gateway still holds EIPs.
    NatGatewayHasEip,
    /// A NAT gateway still has SNAT entries.
    NatGatewayHasSnatEntry,
    /// A NAT gateway still has DNAT entries.
    NatGatewayHasForwardEntry,
    /// A HaVip still has an EIP or instances.
    HaVipInUse,
}

/// Every refusal the control plane can give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A required parameter is absent.
    MissingParameter(String),
    /// A parameter is malformed or out of range.
    InvalidParameter {
        /// Wire name of the parameter.
        name: String,
        /// Why, for the message.
        reason: String,
    },
    /// CreateForwardEntry `ExternalPort`/`InternalPort` is not a port, a
    /// range or `Any`, or the two do not fit together (NAT-01).
    MalformedPort {
        /// `ExternalPort` or `InternalPort`.
        name: &'static str,
        /// Why, for the message.
        reason: String,
    },
    /// An enumerated parameter has a value outside its set; the wire code
    /// depends on the parameter (e.g. `InvalidInstanceType.ValueNotSupported`).
    ValueNotSupported {
        /// Wire name of the parameter.
        name: &'static str,
        /// The value received.
        value: String,
    },
    /// DescribeEipAddresses `Filter.N.Key` is not a known key.
    InvalidFilterKey(String),
    /// DescribeEipAddresses `Filter.N.Value` does not parse.
    InvalidFilterValue(String),
    /// `DryRun=true` and the request would have succeeded.
    DryRunOperation,
    /// The region id is not in the catalogue.
    RegionNotFound(String),
    /// A resource does not exist (for this account).
    NotFound {
        /// What was looked up.
        kind: ResourceKind,
        /// The id given.
        id: String,
    },
    /// AssociateEipAddress: the target instance does not exist.
    AssociateTargetNotFound(String),
    /// The EIP is in a transitional status (GEN-04).
    TaskConflict,
    /// The EIP's status does not allow the operation.
    IncorrectEipStatus(EipStatus),
    /// The instance's status does not allow the operation (ECS-03).
    IncorrectInstanceStatus(InstanceStatus),
    /// UnassociateEipAddress from an instance in a transitional status.
    EcsStatusNotSupport(InstanceStatus),
    /// The instance already has an EIP (ECS-02, ECS-06).
    AssociationDuplicated,
    /// The instance has a static public IP (ECS-04).
    InstanceHasPublicIp,
    /// The instance is not in a VPC (ECS-01).
    InstanceNotInVpc,
    /// The EIP and the instance are in different regions (GEN-01).
    RegionMismatch,
    /// The EIP is not associated with the instance named.
    InvalidBindingStatus,
    /// The operation is not allowed on a subscription EIP.
    ChargeTypeIsPrepaid,
    /// Deletion protection is on.
    DeletionProtection,
    /// ModifyEipForwardMode: the EIP is in a transition.
    ForwardModeStatus,
    /// ModifyEipForwardMode: the EIP is on something other than an ENI.
    ForwardModeTarget,
    /// ModifyEipForwardMode: the EIP's ENI is attached to an instance.
    ForwardModeEniAttached,
    /// ModifyEipForwardMode: a subscription EIP cannot go to a visible mode.
    ForwardModePrepaid,
    /// A VPC has its five secondary CIDR blocks already.
    SecondaryCidrQuotaExceeded,
    /// A secondary CIDR block still holds vSwitches.
    CidrInUse,
    /// AllocateEipAddress `InstanceId` names no EIP the account released in
    /// the last seven days (often another kind of id, as footmark sends an
    /// instance's).
    UnretrievableEipId(String),
    /// A resource of a tag, protection or resource-group call does not exist
    /// (or is another account's, or in another region).
    ResourceIdNotFound(String),
    /// `ResourceType` (or DeletionProtection `Type`) names no type this call
    /// handles.
    UnsupportedResourceType(String),
    /// A resource would carry more than 20 tags.
    TooManyTags,
    /// A request names more resources than the call takes (50).
    TooManyResourceIds,
    /// The same tag key twice in one request.
    DuplicateTagKey,
    /// `NewResourceGroupId` is not a resource group id.
    InvalidResourceGroupId,
    /// DeletionProtection on a subscription resource.
    ProtectionOfPrepaid,
    /// A ClientToken was reused with different parameters.
    IdempotentParameterMismatch,
    /// A write's signature nonce was already used within the signing window.
    SignatureNonceUsed,
    /// AllocateEipAddress `IpAddress`: the address is held by someone.
    IpAllocated,
    /// AllocateEipAddress `Zone`: not a zone of the region.
    IllegalZone,
    /// AllocateEipAddress `IpAddress`: not an address this account released within 7 days (GEN-03).
    AllocateUnfamiliarIp,
    /// AllocateEipAddress `IpAddress`: not in any pool of the region.
    IpNotFound,
    /// The region's pool has no free address.
    InsufficientEip,
    /// A delete would leave dependants behind.
    DependencyViolation(DependencyKind),
    /// A CIDR block is malformed or outside what is allowed.
    InvalidCidrBlock(String),
    /// A vSwitch CIDR overlaps another one in the VPC.
    CidrOverlapped,
    /// No free private IP in the vSwitch.
    NoFreePrivateIp,
    /// A requested private IP is taken or outside the vSwitch.
    PrivateIpUnavailable(String),
    /// AllocatePublicIpAddress on an instance whose bandwidth is zero.
    InstanceBandwidthZero,
    /// AllocatePublicIpAddress on an instance that has one (or an EIP).
    InstanceAlreadyHasPublicIp,
    /// The zone exists but is not in the region / VPC mismatch etc.
    OperationDenied(String),
    /// An ENI would hold more private IPs than allowed (unattached: 10 secondary;
    /// attached: the instance type's `EniPrivateIpAddressQuantity - 1`).
    Ipv4CountExceeded,
    /// The instance already has as many ENIs as its type allows (ENI-02).
    EniPerInstanceLimitExceeded,
    /// The ENI and the instance are in different VPCs.
    EniVpcMismatch,
    /// The ENI and the instance are in different zones.
    EniZoneMismatch,
    /// The ENI's status does not allow the ECS operation.
    InvalidEniState,
    /// The ENI is attaching or detaching: no EIP operation until it settles.
    EniStatusNotSupport,
    /// DetachNetworkInterface on a primary ENI.
    DetachPrimaryEni,
    /// DeleteNetworkInterface while an EIP is on the ENI.
    EniHasEip,
    /// UnassignPrivateIpAddresses of an address an EIP maps to.
    PrivateIpHasEip,
    /// Visible mode on a primary or attached ENI, or unassociating BINDED while attached.
    EniAttached,
    /// BINDED on an ENI with secondary private IPs.
    EniHasSubIp,
    /// Two visible modes (or BINDED with anything else) on one ENI.
    ModeConflict,
    /// NAT and MULTI_BINDED EIPs on one ENI.
    EipBindModeConflict,
    /// More than 10 MULTI_BINDED EIPs on one ENI.
    MultiBindedQuotaExceeded,
    /// More NAT-mode EIPs than the ENI has free private IPs (batch).
    EniEipQuotaExceeded,
    /// A visible mode for a target that is not an ENI.
    DirectEipBindType,
    /// The NAT gateway is not Available.
    IncorrectNatGatewayStatus,
    /// A VPC (intranet) NAT gateway takes no EIPs.
    UnsupportedEipBindMode,
    /// More than 20 EIPs on a NAT gateway (NAT-02).
    NatEipQuotaExceeded,
    /// More than 10 pay-by-traffic EIPs on a NAT gateway.
    NatTrafficEipQuotaExceeded,
    /// No free private IP in the NAT gateway's vSwitch for a NAT-mode EIP (NAT-03).
    NoAvailablePrivateIp,
    /// The EIP is used by an SNAT entry of the gateway.
    EipUsedBySnat,
    /// The EIP is used by a DNAT entry of the gateway.
    EipUsedByForward,
    /// CreateSnatEntry with an address that is not an EIP of the gateway.
    SnatIpNotInNatGateway,
    /// A DNAT entry with the same external IP, port and protocol exists.
    ForwardEntryExists,
    /// CreateSnatEntry for a vSwitch or CIDR block another SNAT entry of the
    /// table already covers ("Each vSwitch or ECS instance can be specified in
    /// only one SNAT entry", NAT-01).
    SnatSourceDuplicated,
    /// CreateSnatEntry with an EIP that an IP-mapping (`IpProtocol=Any`) DNAT
    /// entry uses (NAT-01).
    SnatIpUsedByForwardEntry,
    /// CreateForwardEntry with an `InternalIp` outside the gateway VPC's CIDR (NAT-01).
    ForwardInternalIpOutOfVpc,
    /// CreateForwardEntry with the protocol, internal IP and internal port of
    /// another DNAT entry (NAT-01).
    ForwardDestinationDuplicated,
    /// The account may not create HaVips (quota `havip_permission` is 0, HA-02).
    HaVipNotEnabled,
    /// AllocateEipAddress beyond the account's EIP quota (`eip_count`).
    EipQuotaExceeded,
    /// The Quota Center knows no such product, quota or quota dimension.
    QuotaNotFound,
    /// A Quota Center call without its `ProductCode`.
    MissingProductCode,
    /// A `QuotaCategory` the Quota Center does not have.
    QuotaCategoryNotSupported,
    /// A quota dimension the quota does not have (`Dimensions.N.Key`).
    QuotaDimensionUnsupported,
    /// A dimension value the quota does not have (an unknown `regionId`).
    QuotaDimensionValueUnsupported,
    /// An application's `DesireValue` is not a whole number above the quota's
    /// value, within its range and at least what is in use.
    QuotaDesireIllegal,
    /// No quota application with this id (of this account).
    QuotaApplicationNotFound,
    /// The application was decided already (`eipd quota approve|reject`).
    QuotaApplicationDecided,
    /// The account holds as many HaVips as quota `havip_count` allows (HA-02).
    HaVipQuotaExceeded,
    /// The HaVip is neither Available nor InUse (HA-04).
    IncorrectHaVipStatus,
    /// An EIP on an internet-facing CLB.
    InternetLoadBalancer,
    /// The load balancer is not in a status that allows the change.
    IncorrectLoadBalancerStatus,
    /// DeleteLoadBalancer on a load balancer whose deletion protection is on.
    LoadBalancerDeleteProtection,
    /// AssociateEipAddress (or UnassociateEipAddress) with an ALB or NLB (LB-02).
    BindInstanceNotSupported(String),
    /// The store is busy; safe to retry.
    ServiceUnavailable,
    /// A write lost to concurrent ones every time it was tried (the store
    /// ran it again after each conflict); safe to retry. The message is for logs.
    StoreConflict(String),
    /// The store's database cannot be reached right now (a lost connection,
    /// a restarting server); safe to retry. The message is for logs.
    StoreUnavailable(String),
    /// A bug or an I/O failure; the message is for logs.
    Internal(String),
}

impl Error {
    /// Shorthand for [`Error::InvalidParameter`].
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidParameter { name: name.into(), reason: reason.into() }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(kind: ResourceKind, id: impl Into<String>) -> Self {
        Error::NotFound { kind, id: id.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Readable for the admin commands and logs; the wire message comes
        // from eip-api's mapping, not from here.
        match self {
            Error::InvalidParameter { name, reason } => write!(f, "invalid {name}: {reason}"),
            Error::NotFound { kind, id } => write!(f, "{kind:?} {id} not found"),
            Error::QuotaApplicationNotFound => f.write_str("no such quota application"),
            Error::QuotaApplicationDecided => f.write_str("the application was decided already"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for Error {}
