//! The ECS product's older EIP API (ECS 2014-05-26 `AllocateEipAddress`,
//! `DescribeEipAddresses`, `AssociateEipAddress`, `UnassociateEipAddress`,
//! `ReleaseEipAddress`, `ModifyEipAddressAttribute`), which legacy
//! `aliyunsdkecs` scripts and pop-core still call. Exists so those scripts
//! work unmodified: the same EIPs, the same rules and the same error table
//! as VPC's actions (they are VPC's actions under ECS's version), answered
//! with ECS's smaller field set.

use crate::{Body, Controller, Ctx, eip};
use eip_api::Params;
use eip_types::Result;
use serde_json::Value;

/// The fields of an EIP in ECS's DescribeEipAddresses.
const ECS_EIP_FIELDS: &[&str] = &[
    "AllocationId",
    "AllocationTime",
    "Bandwidth",
    "ChargeType",
    "EipBandwidth",
    "ExpiredTime",
    "InstanceId",
    "InstanceType",
    "InternetChargeType",
    "IpAddress",
    "OperationLocks",
    "RegionId",
    "Status",
];

/// AllocateEipAddress: `AllocationId` and `EipAddress` only.
pub(crate) async fn allocate(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let mut b = eip::allocate(ctl, ctx, p).await?;
    b.retain(|k, _| matches!(k.as_str(), "AllocationId" | "EipAddress"));
    Ok(b)
}

/// DescribeEipAddresses: each EIP with ECS's fields.
pub(crate) fn describe(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let mut b = eip::describe(ctl, ctx, p)?;
    if let Some(Value::Object(wrapper)) = b.get_mut("EipAddresses")
        && let Some(Value::Array(items)) = wrapper.get_mut("EipAddress")
    {
        for item in items.iter_mut() {
            if let Value::Object(m) = item {
                m.retain(|k, _| ECS_EIP_FIELDS.contains(&k.as_str()));
            }
        }
    }
    Ok(b)
}

/// ModifyEipAddressAttribute: ECS's takes only a bandwidth, and requires it.
pub(crate) async fn modify(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    p.req("Bandwidth")?;
    eip::modify(ctl, ctx, p).await
}
