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
}

impl WireError {
    /// Builds one.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> WireError {
        WireError { status, code: code.into(), message: message.into() }
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
        Error::ValueNotSupported { name, value } => {
            let code = match *name {
                "InstanceType" => "InvalidInstanceType.ValueNotSupported",
                "AssociatedInstanceType" => "InvalidIAssociatedInstanceType.ValueNotSupported",
                "ChargeType" => "InvalidChargeType.ValueNotSupported",
                "LockReason" => {
                    return w(404, "InvalidLockReason.NotFound", "The specified LockReason is not found");
                }
                "Mode" => "IllegalParam.Mode",
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
            Product::Vpc => {
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
        Error::DeletionProtection => {
            w(400, "InvalidOperation.DeletionProtection", "The instance cannnot delete because of deletion protecion.")
        }
        Error::IdempotentParameterMismatch => {
            w(400, "IdempotentParameterMismatch", "The request is retried with updated parameters.")
        }
        Error::IpAllocated => w(400, "Ip.Allocated", "The reserve ip has been allocated."),
        Error::AllocateUnfamiliarIp => w(
            400,
            "OperationFailed.AllocateUnfamiliarIp",
            "The operation failed because only IP addresses used within the last seven days can be allocated.",
        ),
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
        },
        Error::InvalidCidrBlock(why) => {
            w(400, "InvalidCidrBlock.Malformed", format!("Specified CIDR block is not valid: {why}"))
        }
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
        Error::ServiceUnavailable => {
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
    "IdempotentParameterMismatch",
    "Ip.Allocated",
    "OperationFailed.AllocateUnfamiliarIp",
    "ResourceNotFound.Ip",
    "OperationFailed.InsufficientEIP",
    "DependencyViolation.VSwitch",
    "DependencyViolation.SecurityGroup",
    "DependencyViolation",
    "InvalidCidrBlock.Malformed",
    "InvalidCidrBlock.Overlapped",
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
    }
}
