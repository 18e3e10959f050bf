//! The one mapping from domain errors to Alibaba's wire errors: `Code`,
//! `Message` and HTTP status. Codes and messages follow the published error
//! tables of each action (see docs/errors.md); where an action's table
//! differs from another's for the same condition, the action decides.

use crate::catalog::Product;
use eip_types::{DependencyKind, Error, ResourceKind};

/// An error as the wire shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError {
    /// HTTP status.
    pub status: u16,
    /// `Code`.
    pub code: String,
    /// `Message`.
    pub message: String,
    /// For throttling: how long the client should wait (ms), sent as `x-acs-retry-after`.
    pub retry_after_ms: Option<u64>,
}

impl WireError {
    /// Builds one.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> WireError {
        WireError { status, code: code.into(), message: message.into(), retry_after_ms: None }
    }

    /// The same error, telling the client to wait `ms` before trying again.
    pub fn retry_after_ms(mut self, ms: u64) -> WireError {
        self.retry_after_ms = Some(ms);
        self
    }
}

fn w(status: u16, code: &str, message: impl Into<String>) -> WireError {
    WireError::new(status, code, message)
}

/// Maps a domain error raised while serving `action` of `product`.
pub fn to_wire(e: &Error, product: Product, action: &str) -> WireError {
    match e {
        Error::MissingParameter(name) => w(
            400,
            &format!("MissingParameter.{name}"),
            format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
        ),
        Error::InvalidParameter { name, reason } => {
            w(400, "InvalidParameter", format!("Specified value of \"{name}\" is not valid: {reason}."))
        }
        Error::MalformedPort { name, reason } => {
            w(400, &format!("Invalid{name}.Malformed"), format!("The specified {name} is not a valid port: {reason}."))
        }
        Error::ValueNotSupported { name, value } => {
            let code = match *name {
                "InstanceType" | "BindedInstanceType" => "InvalidInstanceType.ValueNotSupported",
                "AssociatedInstanceType" => "InvalidIAssociatedInstanceType.ValueNotSupported",
                "ChargeType" => "InvalidChargeType.ValueNotSupported",
                "LockReason" => {
                    return w(404, "InvalidLockReason.NotFound", "The specified LockReason is not found");
                }
                "Mode" => "IllegalParam.Mode",
                "DiskType" => "InvalidDiskType.ValueNotSupported",
                "Category" => "InvalidCategory.ValueNotSupported",
                "DiskStatus" => "InvalidStatus.ValueNotSupported",
                _ => "InvalidParameter",
            };
            w(400, code, format!("The specified value of {name} is not supported: {value}"))
        }
        Error::InvalidFilterKey(k) => {
            w(404, "InvalidFilterKey.NotFound", format!("The specified Filterkey is not supported: {k}"))
        }
        Error::InvalidFilterValue(v) => {
            w(404, "InvalidFilterValue", format!("The specified FilterValue is not supported: {v}"))
        }
        Error::DryRunOperation => w(400, "DryRunOperation", "Request validation has been passed with DryRun flag set."),
        Error::RegionNotFound(r) => match (product, action) {
            (
                Product::Vpc,
                "AssociateEipAddress"
                | "UnassociateEipAddress"
                | "ReleaseEipAddress"
                | "DescribeEipAddresses"
                | "ModifyEipAddressAttribute",
            ) => w(
                404,
                "Forbidden.RegionNotFound",
                format!("Specified region is not found during access authentication: {r}"),
            ),
            _ => {
                w(404, "InvalidRegionId.NotFound", format!("The RegionId provided does not exist in our records: {r}"))
            }
        },
        Error::NotFound { kind, id } => not_found(*kind, id, product, action),
        Error::AssociateTargetNotFound(id) => {
            w(404, "InvalidInstanId.NotFound", format!("Specified instance does not exist: {id}"))
        }
        Error::TaskConflict => w(400, "TaskConflict", "The eip operate too frequent, TaskConflict."),
        Error::IncorrectEipStatus(_) => {
            w(400, "IncorrectEipStatus", "Current elastic IP status does not support this operation.")
        }
        Error::IncorrectInstanceStatus(s) => match product {
            Product::Ecs => w(
                403,
                "IncorrectInstanceStatus",
                format!("The current status of the resource does not support this operation. (Status: {s})"),
            ),
            Product::Vpc
            | Product::Slb
            | Product::Alb
            | Product::Nlb
            | Product::Sts
            | Product::Quotas
            | Product::Bss => {
                w(400, "IncorrectInstanceStatus", "Current instance status does not support this operation.")
            }
        },
        Error::EcsStatusNotSupport(s) => w(
            400,
            "InvalidStatus.EcsStatusNotSupport",
            format!("The special instance status {s} is not support operate"),
        ),
        Error::AssociationDuplicated => {
            w(400, "InvalidAssociation.Duplicated", "Specified instance already is associated.")
        }
        Error::InstanceHasPublicIp => {
            w(400, "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP", "instance already bind natpublicip,cannot bind eip.")
        }
        Error::InstanceNotInVpc => w(400, "OperationDenied", "Specified instance is not in VPC."),
        Error::RegionMismatch => w(
            400,
            "InvalidParameter.Mismatch",
            "Specified elastic IP address and ECS instance are not in the same region.",
        ),
        Error::InvalidBindingStatus => w(400, "InvalidBindingStatus", "The eip binding status invalid."),
        Error::ChargeTypeIsPrepaid => match action {
            "ModifyEipAddressAttribute" => {
                w(400, "Forbidden.ChargeTypeIsPrepaid", "It's forbidden to change prepaid EIP's attribute by API.")
            }
            _ => w(400, "Forbidden.ChargeTypeIsPrepaid", "It's forbidden to release a prepaid EIP"),
        },
        Error::ResourceIdNotFound(id) => match action {
            "DeletionProtection" => w(400, "DeletionProtection.ResourceNotExist", "The resource is not exist."),
            _ => w(
                400,
                "InvalidResourceId.NotFound",
                format!("The specified ResourceIds are not found in our records: {id}"),
            ),
        },
        Error::UnsupportedResourceType(t) => match action {
            "DeletionProtection" => w(400, "DeletionProtection.TypeNotSupport", "The resource is not support."),
            "MoveResourceGroup" => w(400, "IllegalParam.ResourceType", "Invalid Resource Type value."),
            _ => w(400, "InvalidParameter.ResourceType", format!("The specified ResourceType is not valid: {t}")),
        },
        Error::TooManyTags => w(400, "NumberExceed.Tags", "The maximum number of Tags is exceeded. The maximum is 20."),
        Error::TooManyResourceIds => {
            w(400, "NumberExceed.ResourceIds", "The maximum number of ResourceIds is exceeded. The maximum is 50.")
        }
        Error::DuplicateTagKey => w(400, "Duplicate.TagKey", "The Tag.N.Key contains a duplicated key."),
        Error::InvalidResourceGroupId => {
            w(400, "InvalidResourceGroupId", "The specified ResourceGroupId does not exist.")
        }
        Error::ProtectionOfPrepaid => {
            w(400, "DeletionProtection.PrePaidNotSupport", "The prepaid resource is not support.")
        }
        Error::DeletionProtection => {
            w(400, "InvalidOperation.DeletionProtection", "The instance cannnot delete because of deletion protecion.")
        }
        Error::IdempotentParameterMismatch => {
            w(400, "IdempotentParameterMismatch", "The request is retried with updated parameters.")
        }
        Error::SignatureNonceUsed => w(400, "SignatureNonceUsed", "Specified signature nonce was used already."),
        Error::IpAllocated => w(400, "Ip.Allocated", "The reserve ip has been allocated."),
        Error::IllegalZone => w(400, "IllegalParam.Zone", "The specified zone is invalid."),
        Error::AllocateUnfamiliarIp => w(
            400,
            "OperationFailed.AllocateUnfamiliarIp",
            "The operation failed because only IP addresses used within the last seven days can be allocated.",
        ),
        Error::UnretrievableEipId(id) => {
            let what = match id.split_once('-').map(|(prefix, _)| prefix) {
                Some("eip") => "not an EIP this account released in the last seven days".to_owned(),
                Some(p @ ("i" | "eni" | "ngw" | "lb" | "alb" | "nlb" | "havip" | "vpc" | "vsw")) => format!(
                    "{} id, but InstanceId names the released EIP (eip-...) to retrieve",
                    match p {
                        "i" => "an ECS instance",
                        "eni" => "a network interface",
                        "ngw" => "a NAT gateway",
                        "lb" => "a CLB",
                        "alb" => "an ALB",
                        "nlb" => "an NLB",
                        "havip" => "a HaVip",
                        "vpc" => "a VPC",
                        _ => "a vSwitch",
                    }
                ),
                _ => "not an EIP id (eip-...)".to_owned(),
            };
            w(
                400,
                "OperationFailed.AllocateUnfamiliarIp",
                format!(
                    "The operation failed because only IP addresses used within the last seven days can be allocated: InstanceId {} is {what}.",
                    crate::bounds::echo(id)
                ),
            )
        }
        Error::IpNotFound => w(400, "ResourceNotFound.Ip", "The specified ip is not found."),
        Error::InsufficientEip => w(400, "OperationFailed.InsufficientEIP", "Eip resource is not enough."),
        Error::DependencyViolation(d) => match d {
            DependencyKind::VpcHasVSwitch => {
                w(400, "DependencyViolation.VSwitch", "Specified VPC has vSwitches. Delete them first.")
            }
            DependencyKind::VpcHasSecurityGroup => {
                w(400, "DependencyViolation.SecurityGroup", "Specified VPC has security groups. Delete them first.")
            }
            DependencyKind::VSwitchHasInstance => w(
                400,
                "DependencyViolation",
                "Specified vSwitch has resources (instances or network interfaces) in it.",
            ),
            DependencyKind::SecurityGroupHasInstance => {
                w(403, "DependencyViolation", "There are instances in the security group.")
            }
            DependencyKind::NatGatewayHasEip => {
                w(400, "DependencyViolation.EIPS", "The NAT gateway still has EIPs; unassociate them or use Force.")
            }
            DependencyKind::NatGatewayHasSnatEntry => w(
                400,
                "DependencyViolation.SnatEntries",
                "The NAT gateway still has SNAT entries; delete them or use Force.",
            ),
            DependencyKind::NatGatewayHasForwardEntry => w(
                400,
                "DependencyViolation.ForwardEntries",
                "The NAT gateway still has DNAT entries; delete them or use Force.",
            ),
            DependencyKind::HaVipInUse => {
                w(400, "DependencyViolation.HaVip", "The HaVip is still associated with an EIP or instances.")
            }
        },
        Error::InvalidCidrBlock(why) => {
            w(400, "InvalidCidrBlock.Malformed", format!("Specified CIDR block is not valid: {why}"))
        }
        Error::ForwardModeStatus => w(400, "IncorrectStatus.EipInstance", "Eip instance's status is invalid."),
        Error::ForwardModeTarget => {
            w(400, "BindInstance.NotSupport", "eip can only change mode when it is allocated or bind eni.")
        }
        Error::ForwardModeEniAttached => w(400, "ENI.BindEcs", "eni bind ecs."),
        Error::ForwardModePrepaid => w(400, "Forbidden.PrePaidBindedEip", "prepaid eip cannot be direct."),
        Error::SecondaryCidrQuotaExceeded => w(
            400,
            "QuotaExceeded.SecondaryCidrBlock",
            "The number of secondary CIDR blocks of the VPC exceeds the quota (5).",
        ),
        Error::CidrInUse => w(
            400,
            "OperationFailed.CidrInUse",
            "The secondary CIDR block is in use by a vSwitch. Delete the vSwitch first.",
        ),
        Error::CidrOverlapped => {
            w(400, "InvalidCidrBlock.Overlapped", "Specified CIDR block overlaps with other vSwitch CIDR blocks.")
        }
        Error::NoFreePrivateIp => {
            w(400, "InvalidVSwitchId.IpNotEnough", "The specified vSwitch has no available private IP address.")
        }
        Error::PrivateIpUnavailable(ip) => w(
            400,
            "InvalidPrivateIpAddress.Duplicated",
            format!("Specified private IP address is in use or not in the vSwitch: {ip}"),
        ),
        Error::InstanceBandwidthZero => w(
            403,
            "InvalidInstance.NoInternetBandwidth",
            "The bandwidth of the instance must be greater than 0 to allocate a public IP address.",
        ),
        Error::InstanceAlreadyHasPublicIp => {
            w(403, "InvalidOperation.HasPublicIpOrEip", "The instance already has a public IP address or an EIP.")
        }
        Error::OperationDenied(m) => w(400, "OperationDenied", m.clone()),
        Error::Ipv4CountExceeded => w(
            403,
            "InvalidOperation.Ipv4CountExceeded",
            "The number of private IP addresses of the network interface exceeds the limit.",
        ),
        Error::EniPerInstanceLimitExceeded => w(
            403,
            "EniPerInstanceLimitExceeded",
            "The number of network interfaces of the instance reaches the limit of its instance type.",
        ),
        Error::EniVpcMismatch => {
            w(403, "InvalidOperation.VpcMismatch", "The network interface and the instance are not in the same VPC.")
        }
        Error::EniZoneMismatch => {
            w(403, "InvalidOperation.ZoneMismatch", "The network interface and the instance are not in the same zone.")
        }
        Error::InvalidEniState => w(
            403,
            "InvalidOperation.InvalidEniState",
            "The current status of the network interface does not support this operation.",
        ),
        Error::EniStatusNotSupport => w(
            400,
            "InvalidStatus.EniStatusNotSupport",
            "The network interface is attaching or detaching; retry when it settles.",
        ),
        Error::DetachPrimaryEni => w(
            403,
            "InvalidOperation.DetachPrimaryEniNotAllowed",
            "A primary network interface cannot be detached from its instance.",
        ),
        Error::EniHasEip => {
            w(403, "InvalidOperation.EniHasEip", "The network interface has an EIP; unassociate it first.")
        }
        Error::PrivateIpHasEip => w(
            403,
            "InvalidOperation.PrivateIpHasEip",
            "An EIP is associated with the private IP address; unassociate it first.",
        ),
        Error::EniAttached => {
            w(400, "Eni.Attached", "The eni should be detached from ecs when associating with direct eip.")
        }
        Error::EniHasSubIp => w(400, "Eni.HasSubIp", "Eni has sub ip can not bind direct eip."),
        Error::ModeConflict => w(400, "Mode.Conflict", "The eni can bind only one mode of eip."),
        Error::EipBindModeConflict => w(
            400,
            "OperationFailed.EipBindModeConflict",
            "Eips can not bind Eni with NAT mode and MULTI_BINDED mode at the same time.",
        ),
        Error::MultiBindedQuotaExceeded => {
            w(400, "QuotaExceed.MultiBindedEip", "The number of multi binded eip is over limit.")
        }
        Error::EniEipQuotaExceeded => {
            w(400, "InvalidEip.EipQuotaExceeded", "The specified eni assigned eip is more than privateIp.")
        }
        Error::DirectEipBindType => {
            w(400, "Invalid.DirectEip.BindType", "The direct eip can be only associated with eni.")
        }
        Error::IncorrectNatGatewayStatus => {
            w(400, "IncorrectStatus.NatGateway", "The status of the NAT gateway does not support this operation.")
        }
        Error::UnsupportedEipBindMode => w(
            400,
            "OperationDenied.UnsupportedEipBindMode",
            "The operation is not supported for the NAT gateway due to its EIP binding mode.",
        ),
        Error::NatEipQuotaExceeded => w(400, "QuotaExceeded.NumberOfEip", "Binded eip Quota exceed on this NatGw."),
        Error::NatTrafficEipQuotaExceeded => {
            w(400, "QuotaExceeded.NumberOfTrafficEip", "The number of traffic eip on natgw exceed limitation.")
        }
        Error::NoAvailablePrivateIp => w(
            400,
            "OperationDenied.NoAvailablePrivateIp",
            "The operation is failed because of vSwitch has not availalbe private ip",
        ),
        Error::EipUsedBySnat => {
            w(400, "InvalidIpStatus.HasBeenUsedBySnatTable", "The removed ip address has been used by snat table.")
        }
        Error::EipUsedByForward => {
            w(400, "InvalidIpStatus.HasBeenUsedByForwardEntry", "The specified address has been used by forwardTable.")
        }
        Error::SnatIpNotInNatGateway => w(
            400,
            "OperationFailed.SnatIpNotInNatGateway",
            "The specified SnatIp is not an EIP associated with the NAT gateway.",
        ),
        Error::ForwardEntryExists => {
            w(400, "Forward.EntryAlreadyExist", "The forward entry with the same external IP and port already exists.")
        }
        Error::SnatSourceDuplicated => {
            w(400, "Forbidden.SourceVSwitchId.Duplicated", "The specified SourceCIDRis duplicated.")
        }
        Error::SnatIpUsedByForwardEntry => {
            w(400, "Forbidden.IpUsedInForwardTable", "The specified SnatIp already used in forward table")
        }
        Error::ForwardInternalIpOutOfVpc => {
            w(400, "Forbidden.DestnationIpOutOfVpcCIDR", "The specified Internal Ip is Out of VPC CIDR.")
        }
        Error::ForwardDestinationDuplicated => {
            w(400, "OperationUnsupported.ForwardEntry", "Duplicated destination ip port is unsupported.")
        }
        Error::HaVipNotEnabled => w(
            400,
            "OperationDenied.HaVipNotEnabled",
            "The account has no permission to create HaVips (quota havip_permission).",
        ),
        Error::HaVipQuotaExceeded => w(400, "QuotaExceeded.HaVip", "The number of HaVips reaches the quota."),
        Error::EipQuotaExceeded => w(400, "QuotaExceeded.Eip", "Elastic IP address quota exceeded."),
        Error::QuotaNotFound => w(400, "QUOTA.NOT.FOUND", "The quota does not exist."),
        Error::MissingProductCode => w(400, "MissingProductCode", "ProductCode is missing"),
        Error::QuotaCategoryNotSupported => w(400, "CATEGORY.NOT.SUPPORTED", "The quota category is not supported."),
        Error::QuotaDimensionUnsupported => {
            w(400, "QUOTA.DIMENSION.UNSUPPORT", "The quota dimension is not supported.")
        }
        Error::QuotaDimensionValueUnsupported => {
            w(400, "QUOTA.DIMENSION.VALUE.UNSUPPORT", "The value of the quota dimension is not supported.")
        }
        Error::QuotaDesireIllegal => w(400, "QUOTA.DESIREVALUE.ILLEGAL", "The applied quota value is invalid."),
        Error::QuotaApplicationNotFound => {
            w(400, "QUOTA.APPLICATION.NOT.FOUND", "The quota application does not exist.")
        }
        Error::QuotaApplicationDecided => {
            w(400, "QUOTA.APPLICATION.DECIDED", "The quota application has been approved or rejected already.")
        }
        Error::IncorrectHaVipStatus => match action {
            "UnassociateEipAddress" => w(
                400,
                "IncorrectHaVipStatus",
                "This operation is denied because satus of the specified HaVip is neither Available nor InUse.",
            ),
            _ => w(
                400,
                "IncorrectHaVipStatus",
                "HaVip can be operated by this action only when it's status is Available or InUse.",
            ),
        },
        Error::InternetLoadBalancer => w(
            400,
            "OperationDenied.InternetLoadBalancer",
            "An EIP can only be associated with an internal-facing CLB in a VPC.",
        ),
        Error::IncorrectLoadBalancerStatus => {
            w(400, "IncorrectStatus.LoadBalancer", "The status of the load balancer does not support this operation.")
        }
        Error::LoadBalancerDeleteProtection => w(
            400,
            "OperationDenied.DeleteProtectionIsOn",
            "The loadbalancer can't be deleted due to DeleteProtection is enabled.",
        ),
        Error::BindInstanceNotSupported(kind) => {
            w(400, "BindInstance.NotSupported", format!("bind instance type {kind} is not supported."))
        }
        // Both are temporary: clients (and Terraform) retry a 503.
        Error::ServiceUnavailable | Error::StoreConflict(_) | Error::StoreUnavailable(_) => {
            w(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
        }
        Error::Internal(_) => w(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        ),
    }
}

fn not_found(kind: ResourceKind, id: &str, product: Product, action: &str) -> WireError {
    match kind {
        ResourceKind::Eip => {
            w(404, "InvalidAllocationId.NotFound", format!("Specified allocation ID is not found: {id}"))
        }
        ResourceKind::Instance => match (product, action) {
            (Product::Vpc, "UnassociateEipAddress") => {
                w(400, "InvalidInstanceId.NotFound", format!("Specified instance does not exist: {id}"))
            }
            _ => w(404, "InvalidInstanceId.NotFound", format!("The specified InstanceId does not exist: {id}")),
        },
        ResourceKind::Vpc => w(404, "InvalidVpcId.NotFound", format!("Specified VPC does not exist: {id}")),
        ResourceKind::VSwitch => w(404, "InvalidVSwitchId.NotFound", format!("Specified vSwitch does not exist: {id}")),
        ResourceKind::SecurityGroup => {
            w(404, "InvalidSecurityGroupId.NotFound", format!("The specified SecurityGroupId does not exist: {id}"))
        }
        ResourceKind::Zone => w(404, "InvalidZoneId.NotFound", format!("The specified ZoneId does not exist: {id}")),
        ResourceKind::AccessKey => w(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."),
        ResourceKind::NetworkInterface => {
            w(404, "InvalidEniId.NotFound", format!("The specified NetworkInterfaceId does not exist: {id}"))
        }
        ResourceKind::NatGateway => {
            w(404, "InvalidNatGatewayId.NotFound", format!("The specified NAT gateway does not exist: {id}"))
        }
        ResourceKind::SnatTable => {
            w(404, "InvalidSnatTableId.NotFound", format!("The specified SNAT table does not exist: {id}"))
        }
        ResourceKind::ForwardTable => {
            w(404, "InvalidForwardTableId.NotFound", format!("The specified forward table does not exist: {id}"))
        }
        ResourceKind::SnatEntry => {
            w(404, "InvalidSnatEntryId.NotFound", format!("The specified SNAT entry does not exist: {id}"))
        }
        ResourceKind::ForwardEntry => {
            w(404, "InvalidForwardEntryId.NotFound", format!("The specified forward entry does not exist: {id}"))
        }
        ResourceKind::HaVip => w(404, "InvalidHaVipId.NotFound", format!("The specified HaVip does not exist: {id}")),
        ResourceKind::LoadBalancer => match product {
            Product::Alb | Product::Nlb => {
                w(404, "ResourceNotFound.LoadBalancer", format!("The specified resource {id} is not found."))
            }
            _ => w(404, "InvalidLoadBalancerId.NotFound", format!("The specified load balancer does not exist: {id}")),
        },
        ResourceKind::Account => w(404, "InvalidAccount.NotFound", format!("No such account: {id}")),
    }
}

/// Every wire code this module can produce, for docs/errors.md and its test.
pub const ALL_CODES: &[&str] = &[
    "MissingParameter.<Name>",
    "InvalidParameter",
    "InvalidInstanceType.ValueNotSupported",
    "InvalidIAssociatedInstanceType.ValueNotSupported",
    "InvalidChargeType.ValueNotSupported",
    "InvalidLockReason.NotFound",
    "IllegalParam.Mode",
    "InvalidFilterKey.NotFound",
    "InvalidFilterValue",
    "DryRunOperation",
    "Forbidden.RegionNotFound",
    "InvalidRegionId.NotFound",
    "InvalidInstanId.NotFound",
    "TaskConflict",
    "IncorrectEipStatus",
    "IncorrectInstanceStatus",
    "InvalidStatus.EcsStatusNotSupport",
    "InvalidAssociation.Duplicated",
    "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP",
    "OperationDenied",
    "InvalidParameter.Mismatch",
    "InvalidBindingStatus",
    "Forbidden.ChargeTypeIsPrepaid",
    "InvalidOperation.DeletionProtection",
    "DeletionProtection.ResourceNotExist",
    "InvalidResourceId.NotFound",
    "DeletionProtection.TypeNotSupport",
    "IllegalParam.ResourceType",
    "InvalidParameter.ResourceType",
    "NumberExceed.Tags",
    "NumberExceed.ResourceIds",
    "Duplicate.TagKey",
    "InvalidResourceGroupId",
    "DeletionProtection.PrePaidNotSupport",
    "InvalidDiskType.ValueNotSupported",
    "InvalidCategory.ValueNotSupported",
    "InvalidStatus.ValueNotSupported",
    "IdempotentParameterMismatch",
    "Ip.Allocated",
    "IllegalParam.Zone",
    "OperationFailed.AllocateUnfamiliarIp",
    "ResourceNotFound.Ip",
    "OperationFailed.InsufficientEIP",
    "DependencyViolation.VSwitch",
    "DependencyViolation.SecurityGroup",
    "DependencyViolation",
    "InvalidCidrBlock.Malformed",
    "InvalidCidrBlock.Overlapped",
    "QuotaExceeded.SecondaryCidrBlock",
    "OperationFailed.CidrInUse",
    "IncorrectStatus.EipInstance",
    "BindInstance.NotSupport",
    "ENI.BindEcs",
    "Forbidden.PrePaidBindedEip",
    "InvalidVSwitchId.IpNotEnough",
    "InvalidPrivateIpAddress.Duplicated",
    "InvalidInstance.NoInternetBandwidth",
    "InvalidOperation.HasPublicIpOrEip",
    "ServiceUnavailable",
    "InternalError",
    "InvalidAllocationId.NotFound",
    "InvalidInstanceId.NotFound",
    "InvalidVpcId.NotFound",
    "InvalidVSwitchId.NotFound",
    "InvalidSecurityGroupId.NotFound",
    "InvalidZoneId.NotFound",
    "InvalidAccessKeyId.NotFound",
    "InvalidEniId.NotFound",
    "InvalidNatGatewayId.NotFound",
    "InvalidSnatTableId.NotFound",
    "InvalidForwardTableId.NotFound",
    "InvalidSnatEntryId.NotFound",
    "InvalidForwardEntryId.NotFound",
    "InvalidHaVipId.NotFound",
    "InvalidLoadBalancerId.NotFound",
    "ResourceNotFound.LoadBalancer",
    "InvalidAccount.NotFound",
    // Association targets.
    "DependencyViolation.EIPS",
    "DependencyViolation.SnatEntries",
    "DependencyViolation.ForwardEntries",
    "DependencyViolation.HaVip",
    "InvalidOperation.Ipv4CountExceeded",
    "EniPerInstanceLimitExceeded",
    "InvalidOperation.VpcMismatch",
    "InvalidOperation.ZoneMismatch",
    "InvalidOperation.InvalidEniState",
    "InvalidStatus.EniStatusNotSupport",
    "InvalidOperation.DetachPrimaryEniNotAllowed",
    "InvalidOperation.EniHasEip",
    "InvalidOperation.PrivateIpHasEip",
    "Eni.Attached",
    "Eni.HasSubIp",
    "Mode.Conflict",
    "OperationFailed.EipBindModeConflict",
    "QuotaExceed.MultiBindedEip",
    "InvalidEip.EipQuotaExceeded",
    "Invalid.DirectEip.BindType",
    "IncorrectStatus.NatGateway",
    "OperationDenied.UnsupportedEipBindMode",
    "QuotaExceeded.NumberOfEip",
    "QuotaExceeded.NumberOfTrafficEip",
    "OperationDenied.NoAvailablePrivateIp",
    "InvalidIpStatus.HasBeenUsedBySnatTable",
    "InvalidIpStatus.HasBeenUsedByForwardEntry",
    "OperationFailed.SnatIpNotInNatGateway",
    "Forward.EntryAlreadyExist",
    "Forbidden.SourceVSwitchId.Duplicated",
    "Forbidden.IpUsedInForwardTable",
    "Forbidden.DestnationIpOutOfVpcCIDR",
    "OperationUnsupported.ForwardEntry",
    "InvalidExternalPort.Malformed",
    "InvalidInternalPort.Malformed",
    "OperationDenied.HaVipNotEnabled",
    "QuotaExceeded.HaVip",
    "QuotaExceeded.Eip",
    "QUOTA.NOT.FOUND",
    "MissingProductCode",
    "CATEGORY.NOT.SUPPORTED",
    "QUOTA.DIMENSION.UNSUPPORT",
    "QUOTA.DIMENSION.VALUE.UNSUPPORT",
    "QUOTA.DESIREVALUE.ILLEGAL",
    "QUOTA.APPLICATION.NOT.FOUND",
    "QUOTA.APPLICATION.DECIDED",
    "IncorrectHaVipStatus",
    "OperationDenied.InternetLoadBalancer",
    "IncorrectStatus.LoadBalancer",
    "OperationDenied.DeleteProtectionIsOn",
    "BindInstance.NotSupported",
    // Protocol errors (auth.rs / the server edge).
    "InvalidAccessKeyId.Inactive",
    "IncompleteSignature",
    "SignatureDoesNotMatch",
    "InvalidTimeStamp.Expired",
    "InvalidTimeStamp.Format",
    "SignatureNonceUsed",
    "MissingParameter",
    "InvalidAction.NotFound",
    "InvalidVersion",
    "UnsupportedHTTPMethod",
    "Throttling.User",
];

#[cfg(test)]
mod tests {
    use super::*;
    use eip_types::{EipStatus, InstanceStatus};

    #[test]
    fn statuses_follow_the_documented_tables() {
        let m = |e: Error| to_wire(&e, Product::Vpc, "AssociateEipAddress");
        assert_eq!(m(Error::not_found(ResourceKind::Eip, "eip-x")).status, 404);
        assert_eq!(m(Error::TaskConflict).code, "TaskConflict");
        assert_eq!(m(Error::IncorrectEipStatus(EipStatus::InUse)).status, 400);
        assert_eq!(m(Error::MissingParameter("AllocationId".into())).code, "MissingParameter.AllocationId");
        assert_eq!(m(Error::Internal("x".into())).status, 500);
        assert_eq!(m(Error::RegionNotFound("x".into())).code, "Forbidden.RegionNotFound");
        let ecs = to_wire(&Error::IncorrectInstanceStatus(InstanceStatus::Pending), Product::Ecs, "StartInstance");
        assert_eq!((ecs.status, ecs.code.as_str()), (403, "IncorrectInstanceStatus"));
        let alloc = to_wire(&Error::RegionNotFound("x".into()), Product::Vpc, "AllocateEipAddress");
        assert_eq!(alloc.code, "InvalidRegionId.NotFound");
    }

    #[test]
    fn internal_details_never_reach_the_wire() {
        let e = to_wire(&Error::Internal("disk I/O error at /secret/path".into()), Product::Vpc, "X");
        assert!(!e.message.contains("secret"));
        // A write that kept losing to others is a retryable 503, details kept for the log.
        let e = to_wire(&Error::StoreConflict("could not serialize access on eip".into()), Product::Vpc, "X");
        assert_eq!((e.status, e.code.as_str()), (503, "ServiceUnavailable"));
        assert!(!e.message.contains("serialize"));
    }
}
