//! `--demo`: a small, ready-to-use estate for the root account in
//! cn-hangzhou (a VPC, a vSwitch, a security group and two running
//! instances) and the HaVip permission, created once, so a new user can
//! associate an EIP with every kind of target right away.

use crate::{Controller, Ctx};
use eip_api::{Params, Product};
use eip_store::StoreExt;
use eip_types::{Error, Result};

/// Region of the demo estate.
pub const DEMO_REGION: &str = "cn-hangzhou";

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

fn field(b: &crate::Body, k: &str) -> Result<String> {
    b.get(k).and_then(|v| v.as_str()).map(str::to_owned).ok_or_else(|| Error::Internal(format!("demo: no {k}")))
}

/// Seeds the demo estate unless the account already has it. Returns the instance ids.
pub async fn seed(ctl: &Controller, account: &str) -> Result<Vec<String>> {
    let existing =
        ctl.store().read(|tx| Ok(tx.vpc_list(account, DEMO_REGION)?.into_iter().any(|v| v.name == "demo-vpc")))?;
    if existing {
        let ids = ctl.store().read(|tx| {
            Ok(tx
                .instance_list(account, DEMO_REGION)?
                .into_iter()
                .filter(|i| i.name.starts_with("demo-"))
                .map(|i| i.id)
                .collect())
        })?;
        return Ok(ids);
    }
    let ctx =
        |product, action| Ctx { account: account.to_owned(), product, action, request_id: "demo".into(), nonce: None };
    let vpc = ctl
        .call(
            &ctx(Product::Vpc, "CreateVpc"),
            &params(&[("RegionId", DEMO_REGION), ("CidrBlock", "172.16.0.0/12"), ("VpcName", "demo-vpc")]),
        )
        .await?;
    let vpc_id = field(&vpc, "VpcId")?;
    let vsw = ctl
        .call(
            &ctx(Product::Vpc, "CreateVSwitch"),
            &params(&[
                ("VpcId", &vpc_id),
                ("ZoneId", "cn-hangzhou-h"),
                ("CidrBlock", "172.16.1.0/24"),
                ("VSwitchName", "demo-vsw"),
            ]),
        )
        .await?;
    let vsw_id = field(&vsw, "VSwitchId")?;
    let sg = ctl
        .call(
            &ctx(Product::Ecs, "CreateSecurityGroup"),
            &params(&[("RegionId", DEMO_REGION), ("VpcId", &vpc_id), ("SecurityGroupName", "demo-sg")]),
        )
        .await?;
    let sg_id = field(&sg, "SecurityGroupId")?;
    let mut ids = Vec::new();
    for name in ["demo-1", "demo-2"] {
        let r = ctl
            .call(
                &ctx(Product::Ecs, "RunInstances"),
                &params(&[
                    ("RegionId", DEMO_REGION),
                    ("InstanceType", "ecs.g7.large"),
                    ("VSwitchId", &vsw_id),
                    ("SecurityGroupId", &sg_id),
                    ("InstanceName", name),
                ]),
            )
            .await?;
        let id = r
            .get("InstanceIdSets")
            .and_then(|v| v.get("InstanceIdSet"))
            .and_then(|v| v.get(0))
            .and_then(|v| v.as_str())
            .ok_or_else(|| Error::Internal("demo: no instance id".into()))?;
        ids.push(id.to_owned());
    }
    // The demo promises running instances: finish their start-up now rather
    // than after the task delay (the scheduled steps then find nothing to do).
    let started = ids.clone();
    let now = ctl.now();
    let owner = account.to_owned();
    ctl.store()
        .write(move |tx| {
            // HA-02: HaVips need a permission the cloud grants on application;
            // the demo grants it so every target can be tried at once.
            let perm = eip_domain::quotas::QuotaKind::HavipPermission.spec().name;
            if tx.quota_get(&owner, perm)?.is_none() {
                tx.quota_set(&owner, perm, 1)?;
            }
            for id in &started {
                if let Some(mut i) = tx.instance_get(id)? {
                    i.status = eip_types::InstanceStatus::Running;
                    i.started_at = Some(now);
                    tx.instance_update(&i)?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(ids)
}
