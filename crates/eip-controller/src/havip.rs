//! High-availability virtual IPs (VPC 2016-04-28): a private address of a
//! vSwitch that floats between instances or ENIs of that same vSwitch
//! (HA-01), created under the account's permission and count quotas (HA-02),
//! taking one EIP (HA-03) while `Available` or `InUse` (HA-04).

use crate::bind::Binding;
use crate::tasks::{TaskKind, schedule};
use crate::{Body, Controller, Ctx, Env, body, paging, region_opt, region_param};
use eip_api::Params;
use eip_domain::rules::{EipFacts, check_eip_side, check_name};
use eip_domain::targets;
use eip_store::{EipRow, HaVipMemberRow, HaVipRow, StoreExt, Tx};
use eip_types::time::format_iso;
use eip_types::{AssociatedInstanceType, EipMode, EipStatus, Error, HaVipId, HaVipStatus, ResourceKind, Result};
use serde_json::json;

fn havip_of(tx: &mut dyn Tx, account: &str, id: &str, region: Option<&str>) -> Result<HaVipRow> {
    tx.havip_get(id)?
        .filter(|h| h.account_id == account && region.is_none_or(|r| r == h.region_id))
        .ok_or_else(|| Error::not_found(ResourceKind::HaVip, id))
}

fn havip_eip(tx: &mut dyn Tx, h: &HaVipRow) -> Result<Option<EipRow>> {
    Ok(tx.eip_list_by_target(&h.id)?.into_iter().find(|e| e.instance_type == Some(AssociatedInstanceType::HaVip)))
}

/// The HaVip side of AssociateEipAddress (`InstanceType=HaVip`).
pub(crate) fn check_associate(tx: &mut dyn Tx, env: &Env, eip: &EipRow, id: &str) -> Result<(EipStatus, Binding)> {
    let h = tx
        .havip_get(id)?
        .filter(|h| h.account_id == env.account)
        .ok_or_else(|| Error::AssociateTargetNotFound(id.to_owned()))?;
    let next = check_eip_side(EipFacts { status: eip.status, region: &eip.region_id }, &h.region_id)?;
    let has_eip = havip_eip(tx, &h)?.is_some();
    targets::check_associate_havip(h.status, has_eip)?;
    Ok((
        next,
        Binding {
            kind: AssociatedInstanceType::HaVip,
            instance_id: h.id.clone(),
            region: h.region_id.clone(),
            mode: EipMode::Nat,
            private: Some((h.vswitch_id.clone(), h.ip.clone())),
        },
    ))
}

/// The HaVip side of UnassociateEipAddress (HA-04).
pub(crate) fn check_unassociate(tx: &mut dyn Tx, eip: &EipRow) -> Result<()> {
    match tx.havip_get(eip.instance_id.as_deref().unwrap_or_default())? {
        Some(h) => targets::check_havip_usable(h.status),
        None => Ok(()),
    }
}

/// An instance or ENI is going away: it leaves every HaVip it was on.
pub(crate) fn forget_member(tx: &mut dyn Tx, instance: &str) -> Result<()> {
    for m in tx.havip_member_list_by_instance(instance)? {
        tx.havip_member_delete(&m.havip_id, instance)?;
        settle_status(tx, &m.havip_id)?;
    }
    Ok(())
}

/// `InUse` while the HaVip has instances, `Available` otherwise.
fn settle_status(tx: &mut dyn Tx, havip: &str) -> Result<()> {
    let Some(mut h) = tx.havip_get(havip)? else {
        return Ok(());
    };
    let members = tx.havip_member_list(havip)?.len();
    let next = match (h.status, members) {
        (HaVipStatus::Creating, _) => HaVipStatus::Creating,
        (HaVipStatus::Available | HaVipStatus::InUse, 0) => HaVipStatus::Available,
        (HaVipStatus::Available | HaVipStatus::InUse, _) => HaVipStatus::InUse,
    };
    if next != h.status {
        h.status = next;
        tx.havip_update(&h)?;
    }
    Ok(())
}

pub(crate) async fn create(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let vsw_id = p.req("VSwitchId")?.to_owned();
    let ip = p.opt("IpAddress").map(str::to_owned);
    let name = p.raw("Name").unwrap_or_default().to_owned();
    let description = p.raw("Description").unwrap_or_default().to_owned();
    check_name("Name", &name, 128)?;
    check_name("Description", &description, 256)?;
    ctl.write(ctx, p, move |tx, env| {
        use eip_domain::quotas::QuotaKind;
        let permission = crate::quotas::get(tx, &env.account, QuotaKind::HavipPermission)?;
        let limit = crate::quotas::get(tx, &env.account, QuotaKind::HavipCount)?;
        targets::check_create_havip(permission, tx.havip_count(&env.account)?, limit)?;
        let vsw = tx
            .vswitch_get(&env.account, &vsw_id)?
            .filter(|v| v.region_id == region)
            .ok_or_else(|| Error::not_found(ResourceKind::VSwitch, &vsw_id))?;
        let id = HaVipId::generate().to_string();
        let ip = crate::net::take_private(tx, &vsw, &id, ip.as_deref(), false)?;
        let row = HaVipRow {
            id,
            account_id: env.account.clone(),
            region_id: region.to_owned(),
            vpc_id: vsw.vpc_id.clone(),
            vswitch_id: vsw.id.clone(),
            ip,
            status: HaVipStatus::Creating,
            name: name.clone(),
            description: description.clone(),
            created_at: env.now,
        };
        tx.havip_insert(&row)?;
        schedule(tx, TaskKind::HaVipActivate, &row.id, env)?;
        Ok(body(json!({"HaVipId": row.id, "IpAddress": row.ip})))
    })
    .await
}

pub(crate) fn describe(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let mut filters: Vec<(String, Vec<String>)> = Vec::new();
    for f in p.struct_list("Filter")? {
        let key = f.get("Key").cloned().unwrap_or_default();
        match key.as_str() {
            "VpcId" | "VSwitchId" | "Status" | "HaVipId" | "HaVipAddress" => {}
            other => return Err(Error::InvalidFilterKey(other.to_owned())),
        }
        let values: Vec<String> = f.iter().filter(|(k, _)| k.starts_with("Value")).map(|(_, v)| v.clone()).collect();
        filters.push((key, values));
    }
    let (page, size) = paging(p, 10, 50)?;
    ctl.read(|tx| {
        let all: Vec<HaVipRow> = tx
            .havip_list(&ctx.account, region)?
            .into_iter()
            .filter(|h| {
                filters.iter().all(|(k, vals)| {
                    let v = match k.as_str() {
                        "VpcId" => &h.vpc_id,
                        "VSwitchId" => &h.vswitch_id,
                        "Status" => h.status.as_str(),
                        "HaVipId" => &h.id,
                        _ => &h.ip,
                    };
                    vals.is_empty() || vals.iter().any(|x| x == v)
                })
            })
            .collect();
        let tags = crate::tags::of_type(tx, &ctx.account, "HAVIP")?;
        let mut items = Vec::new();
        for h in all.iter().skip(((page - 1) * size) as usize).take(size as usize) {
            let members = tx.havip_member_list(&h.id)?;
            let eips: Vec<String> = havip_eip(tx, h)?.into_iter().map(|e| e.ip).collect();
            let kind = members.first().map(|m| m.instance_type.as_str()).unwrap_or_default();
            let rg = eip_types::default_resource_group(&eip_types::AccountId::from_trusted(h.account_id.clone()));
            items.push(json!({
                "HaVipId": h.id,
                "IpAddress": h.ip,
                "Status": h.status.as_str(),
                "VpcId": h.vpc_id,
                "VSwitchId": h.vswitch_id,
                "RegionId": h.region_id,
                "Name": h.name,
                "Description": h.description,
                "CreateTime": format_iso(h.created_at),
                "ChargeType": "PostPaid",
                "MasterInstanceId": members.first().map(|m| m.instance_id.clone()).unwrap_or_default(),
                "AssociatedInstanceType": kind,
                "AssociatedInstances": {"associatedInstance": members.iter().map(|m| m.instance_id.clone()).collect::<Vec<_>>()},
                "AssociatedEipAddresses": {"associatedEipAddresse": eips},
                "ResourceGroupId": rg,
                "Tags": {"Tag": []},
            }));
            if let Some(item) = items.last_mut() {
                crate::tags::show(item, "HaVipId", &tags, false);
            }
        }
        Ok(body(json!({
            "TotalCount": all.len(),
            "PageNumber": page,
            "PageSize": size,
            "HaVips": {"HaVip": items},
        })))
    })
}

fn member_kind(p: &Params) -> Result<AssociatedInstanceType> {
    match p.opt("InstanceType") {
        None | Some("EcsInstance") => Ok(AssociatedInstanceType::EcsInstance),
        Some("NetworkInterface") => Ok(AssociatedInstanceType::NetworkInterface),
        Some(v) => Err(Error::ValueNotSupported { name: "InstanceType", value: v.to_owned() }),
    }
}

pub(crate) async fn associate(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("HaVipId")?.to_owned();
    let instance = p.req("InstanceId")?.to_owned();
    let kind = member_kind(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let h = havip_of(tx, &env.account, &id, region)?;
        targets::check_havip_usable(h.status)?;
        // (VPC, vSwitch) of the instance's primary ENI, or of the ENI.
        let (vpc, vsw) = match kind {
            AssociatedInstanceType::NetworkInterface => {
                let eni = crate::eni::eni_of(tx, &env.account, &instance, Some(&h.region_id))?;
                (eni.vpc_id, eni.vswitch_id)
            }
            AssociatedInstanceType::EcsInstance
            | AssociatedInstanceType::SlbInstance
            | AssociatedInstanceType::Nat
            | AssociatedInstanceType::HaVip
            | AssociatedInstanceType::IpAddress
            | AssociatedInstanceType::Alb
            | AssociatedInstanceType::Nlb => {
                let i = tx
                    .instance_get(&instance)?
                    .filter(|i| i.account_id == env.account && i.region_id == h.region_id)
                    .ok_or_else(|| Error::not_found(ResourceKind::Instance, &instance))?;
                (i.vpc_id.unwrap_or_default(), i.vswitch_id.unwrap_or_default())
            }
        };
        if vpc != h.vpc_id {
            return Err(Error::OperationDenied("The instance is not in the HaVip's VPC.".into()));
        }
        // HA-01: the HaVip floats between servers of one zone; AssociateHaVip
        // says "The HaVip and ECS instance must belong to the same vSwitch."
        if vsw != h.vswitch_id {
            return Err(Error::OperationDenied(format!(
                "The instance is not in the HaVip's vSwitch {}; the HaVip and the instance must belong to the same vSwitch.",
                h.vswitch_id
            )));
        }
        if tx.havip_member_list(&h.id)?.iter().any(|m| m.instance_id == instance) {
            return Err(Error::AssociationDuplicated);
        }
        tx.havip_member_insert(&HaVipMemberRow {
            havip_id: h.id.clone(),
            instance_id: instance.clone(),
            instance_type: kind,
            created_at: env.now,
        })?;
        settle_status(tx, &h.id)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn unassociate(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("HaVipId")?.to_owned();
    let instance = p.req("InstanceId")?.to_owned();
    member_kind(p)?;
    p.bool("Force")?;
    ctl.write(ctx, p, move |tx, env| {
        let h = havip_of(tx, &env.account, &id, region)?;
        targets::check_havip_usable(h.status)?;
        if !tx.havip_member_list(&h.id)?.iter().any(|m| m.instance_id == instance) {
            return Err(Error::InvalidBindingStatus);
        }
        tx.havip_member_delete(&h.id, &instance)?;
        settle_status(tx, &h.id)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn delete(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("HaVipId")?.to_owned();
    ctl.write(ctx, p, move |tx, env| {
        let h = havip_of(tx, &env.account, &id, region)?;
        let has_eip = havip_eip(tx, &h)?.is_some();
        let members = tx.havip_member_list(&h.id)?.len();
        targets::check_delete_havip(h.status, has_eip, members)?;
        tx.private_ip_delete_holder(&h.id)?;
        tx.havip_delete(&h.id)?;
        Ok(Body::new())
    })
    .await
}

/// Makes `instance` the HaVip's master (operator failover, `eipd havip
/// failover`): DescribeHaVips' `MasterInstanceId` and the lab's holder of the
/// floating address are the first member, so the instance is moved to the
/// front of the member list. The instance must already be a member.
pub async fn set_master(ctl: &Controller, havip_id: &str, instance: &str) -> Result<()> {
    let (havip_id, instance) = (havip_id.to_owned(), instance.to_owned());
    ctl.store()
        .write(move |tx| {
            tx.havip_get(&havip_id)?.ok_or_else(|| Error::not_found(ResourceKind::HaVip, &havip_id))?;
            let members = tx.havip_member_list(&havip_id)?;
            let Some(m) = members.iter().find(|m| m.instance_id == instance) else {
                return Err(Error::invalid("InstanceId", format!("{instance} is not associated with {havip_id}")));
            };
            let first = members[0].created_at;
            if members[0].instance_id != instance {
                let mut row = m.clone();
                row.created_at = first - 1;
                tx.havip_member_delete(&havip_id, &instance)?;
                tx.havip_member_insert(&row)?;
            }
            Ok(())
        })
        .await
}
