//! Controller tests against a real SQLite file and a fake clock. Each test
//! names the rule it proves.

use crate::clock::FakeClock;
use crate::{Body, Changes, Config, Controller, Ctx, accounts, demo, tasks};
use eip_api::{Params, Product};
use eip_store::{StoreError, StoreExt};
use eip_store_sqlite::SqliteStore;
use eip_types::{Error, time::DAY_MS};
use std::path::PathBuf;
use std::sync::Arc;

struct Env {
    ctl: Arc<Controller>,
    clock: Arc<FakeClock>,
    account: String,
    instances: Vec<String>,
    dir: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const DELAY: i64 = 1000;

async fn env() -> Env {
    env_with(false).await
}

async fn env_with(dataplane: bool) -> Env {
    let dir = std::env::temp_dir().join(format!("eipctl-test-{}", eip_types::EipId::generate()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&dir.join("eipd.db")).unwrap();
    let clock = Arc::new(FakeClock::new(1_795_651_200_000));
    let ctl = Controller::new(Arc::new(store), clock.clone(), Config { task_delay_ms: DELAY, dataplane });
    let boot = accounts::bootstrap(&ctl, Some(("testid".into(), "testsecret".into()))).await.unwrap();
    let instances = demo::seed(&ctl, &boot.root_account).await.unwrap();
    // Tests allocate more EIPs than the cloud's default quota of 20.
    crate::quotas::set_quota(&ctl, accounts::ROOT, "eip_count", 1000).await.unwrap();
    let e = Env { ctl, clock, account: boot.root_account, instances, dir };
    e.settle().await;
    e
}

impl Env {
    async fn call(&self, product: Product, action: &'static str, pairs: &[(&str, &str)]) -> Result<Body, Error> {
        self.call_on(&self.ctl, product, action, pairs).await
    }

    /// A call as this account on another controller (another node on the store).
    async fn call_on(
        &self,
        ctl: &Controller,
        product: Product,
        action: &'static str,
        pairs: &[(&str, &str)],
    ) -> Result<Body, Error> {
        let ctx = Ctx { account: self.account.clone(), product, action, request_id: "test".into(), nonce: None };
        let p = Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        ctl.call(&ctx, &p).await
    }

    async fn vpc(&self, action: &'static str, pairs: &[(&str, &str)]) -> Result<Body, Error> {
        self.call(Product::Vpc, action, pairs).await
    }

    /// Moves time past every pending task and completes them all.
    async fn settle(&self) {
        for _ in 0..4 {
            self.clock.advance(DELAY);
            tasks::run_due(&self.ctl).await.unwrap();
        }
    }

    async fn allocate(&self) -> (String, String) {
        let b = self.vpc("AllocateEipAddress", &[("RegionId", "cn-hangzhou")]).await.unwrap();
        (b["AllocationId"].as_str().unwrap().to_owned(), b["EipAddress"].as_str().unwrap().to_owned())
    }

    async fn status(&self, id: &str) -> Option<String> {
        let b = self.vpc("DescribeEipAddresses", &[("RegionId", "cn-hangzhou"), ("AllocationId", id)]).await.unwrap();
        b["EipAddresses"]["EipAddress"].get(0).map(|e| e["Status"].as_str().unwrap().to_owned())
    }
}

#[tokio::test]
async fn gen_04_association_is_asynchronous() {
    let e = env().await;
    let (id, _) = e.allocate().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &id), ("InstanceId", &e.instances[0])]).await.unwrap();
    assert_eq!(e.status(&id).await.as_deref(), Some("Associating"));
    // A second write during the task is a retryable conflict.
    let err = e.vpc("UnassociateEipAddress", &[("AllocationId", &id)]).await.unwrap_err();
    assert_eq!(err, Error::TaskConflict);
    e.settle().await;
    assert_eq!(e.status(&id).await.as_deref(), Some("InUse"));
    e.vpc("UnassociateEipAddress", &[("AllocationId", &id)]).await.unwrap();
    assert_eq!(e.status(&id).await.as_deref(), Some("Unassociating"));
    e.settle().await;
    assert_eq!(e.status(&id).await.as_deref(), Some("Available"));
    e.vpc("ReleaseEipAddress", &[("AllocationId", &id)]).await.unwrap();
    assert_eq!(e.status(&id).await.as_deref(), Some("Releasing"));
    e.settle().await;
    assert_eq!(e.status(&id).await, None);
}

#[tokio::test]
async fn with_a_data_plane_only_the_acknowledgement_completes_an_association() {
    let e = env_with(true).await;
    let (id, _) = e.allocate().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &id), ("InstanceId", &e.instances[0])]).await.unwrap();
    e.settle().await;
    assert_eq!(e.status(&id).await.as_deref(), Some("Associating"), "the timer must not complete it");
    let row = e.ctl.store().read(|tx| Ok(tx.eip_get(&id)?.unwrap())).unwrap();
    // An acknowledgement for an older row version is stale and ignored.
    let stale = vec![(id.clone(), row.version - 1, row.status)];
    assert_eq!(tasks::complete_eip_transitions(&e.ctl, stale).await.unwrap(), 0);
    let ack = vec![(id.clone(), row.version, row.status)];
    assert_eq!(tasks::complete_eip_transitions(&e.ctl, ack).await.unwrap(), 1);
    assert_eq!(e.status(&id).await.as_deref(), Some("InUse"));
    e.vpc("UnassociateEipAddress", &[("AllocationId", &id)]).await.unwrap();
    e.settle().await;
    assert_eq!(e.status(&id).await.as_deref(), Some("Unassociating"));
    let row = e.ctl.store().read(|tx| Ok(tx.eip_get(&id)?.unwrap())).unwrap();
    tasks::complete_eip_transitions(&e.ctl, vec![(id.clone(), row.version, row.status)]).await.unwrap();
    assert_eq!(e.status(&id).await.as_deref(), Some("Available"));
    let row = e.ctl.store().read(|tx| Ok(tx.eip_get(&id)?.unwrap())).unwrap();
    assert_eq!(row.instance_id, None);
}

#[tokio::test]
async fn without_a_data_plane_no_changes_pile_up() {
    let e = env().await;
    let (id, _) = e.allocate().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &id), ("InstanceId", &e.instances[0])]).await.unwrap();
    assert_eq!(e.ctl.take_changes(), Changes::default());
}

#[tokio::test]
async fn eip_actions_report_their_eips_and_other_writes_report_other() {
    let e = env_with(true).await;
    e.ctl.take_changes();
    let (id, _) = e.allocate().await;
    assert_eq!(e.ctl.take_changes(), Changes::default(), "a new, unassociated EIP changes no table");
    e.vpc("AssociateEipAddress", &[("AllocationId", &id), ("InstanceId", &e.instances[0])]).await.unwrap();
    e.settle().await; // the association's timer is a no-op under a data plane
    let c = e.ctl.take_changes();
    assert_eq!(c.eips.iter().collect::<Vec<_>>(), [&id]);
    assert!(!c.other);
    // A refused write changes nothing and reports nothing.
    e.vpc("AssociateEipAddress", &[("AllocationId", &id), ("InstanceId", &e.instances[1])]).await.unwrap_err();
    assert_eq!(e.ctl.take_changes(), Changes::default());
    let row = e.ctl.store().read(|tx| Ok(tx.eip_get(&id)?.unwrap())).unwrap();
    tasks::complete_eip_transitions(&e.ctl, vec![(id.clone(), row.version, row.status)]).await.unwrap();
    assert_eq!(e.ctl.take_changes(), Changes::default(), "Associating -> InUse translates the same");
    e.call(Product::Ecs, "StopInstance", &[("InstanceId", &e.instances[1])]).await.unwrap();
    assert!(e.ctl.take_changes().other);
    e.settle().await; // Stopping -> Stopped: an instance timer
    assert!(e.ctl.take_changes().other);
    assert_eq!(e.ctl.store().external_version(), e.ctl.store().external_version(), "own writes do not move it");
}

#[tokio::test]
async fn with_a_data_plane_the_lab_completes_eni_attachment_and_detachment() {
    use eip_types::EniStatus;
    let e = env_with(true).await;
    let (eni, _) = e.eni(0).await;
    let inst = e.instances[0].clone();
    let status = |e: &Env, id: &str| e.ctl.store().read(|tx| Ok(tx.eni_get(id)?.unwrap().status)).unwrap();
    e.ecs("AttachNetworkInterface", &[("NetworkInterfaceId", &eni), ("InstanceId", &inst)]).await.unwrap();
    e.settle().await;
    assert_eq!(status(&e, &eni), EniStatus::Attaching, "the timer must not complete it");
    // An acknowledgement for a status the ENI no longer has is ignored.
    assert_eq!(tasks::complete_eni_transitions(&e.ctl, vec![(eni.clone(), EniStatus::Detaching)]).await.unwrap(), 0);
    assert_eq!(tasks::complete_eni_transitions(&e.ctl, vec![(eni.clone(), EniStatus::Attaching)]).await.unwrap(), 1);
    assert_eq!(status(&e, &eni), EniStatus::InUse);
    e.ecs("DetachNetworkInterface", &[("NetworkInterfaceId", &eni), ("InstanceId", &inst)]).await.unwrap();
    e.settle().await;
    assert_eq!(status(&e, &eni), EniStatus::Detaching);
    tasks::complete_eni_transitions(&e.ctl, vec![(eni.clone(), EniStatus::Detaching)]).await.unwrap();
    let row = e.ctl.store().read(|tx| Ok(tx.eni_get(&eni)?.unwrap())).unwrap();
    assert_eq!((row.status, row.instance_id), (EniStatus::Available, None));
}

#[tokio::test]
async fn ecs_02_concurrent_associations_have_one_winner() {
    let e = env().await;
    let mut ids = Vec::new();
    for _ in 0..24 {
        ids.push(e.allocate().await.0);
    }
    let target = e.instances[1].clone();
    let mut joins = Vec::new();
    let e = Arc::new(e);
    for id in ids {
        let e = e.clone();
        let target = target.clone();
        joins.push(tokio::spawn(async move {
            e.vpc("AssociateEipAddress", &[("AllocationId", &id), ("InstanceId", &target)]).await
        }));
    }
    let mut ok = 0;
    for j in joins {
        match j.await.unwrap() {
            Ok(_) => ok += 1,
            Err(err) => assert_eq!(err, Error::AssociationDuplicated),
        }
    }
    assert_eq!(ok, 1, "exactly one association wins");
    let b =
        e.vpc("DescribeEipAddresses", &[("RegionId", "cn-hangzhou"), ("AssociatedInstanceId", &target)]).await.unwrap();
    assert_eq!(b["TotalCount"], 1);
}

#[tokio::test]
async fn ecs_02_the_database_refuses_a_second_eip_even_if_a_rule_is_skipped() {
    let e = env().await;
    let (a, _) = e.allocate().await;
    let (b, _) = e.allocate().await;
    let inst = e.instances[0].clone();
    e.vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &inst)]).await.unwrap();
    let r = e
        .ctl
        .store()
        .write(move |tx| {
            let mut row = tx.eip_get(&b)?.unwrap();
            row.status = eip_types::EipStatus::Associating;
            row.instance_type = Some(eip_types::AssociatedInstanceType::EcsInstance);
            row.instance_id = Some(inst.clone());
            Ok(tx.eip_update(&row))
        })
        .await
        .unwrap();
    assert!(matches!(r, Err(StoreError::UniqueViolation(_))), "{r:?}");
}

#[tokio::test]
async fn client_token_replays_and_detects_mismatch() {
    let e = env().await;
    let a = e.vpc("AllocateEipAddress", &[("RegionId", "cn-hangzhou"), ("ClientToken", "tok-1")]).await.unwrap();
    let b = e.vpc("AllocateEipAddress", &[("RegionId", "cn-hangzhou"), ("ClientToken", "tok-1")]).await.unwrap();
    assert_eq!(a["AllocationId"], b["AllocationId"]);
    let c = e
        .vpc("AllocateEipAddress", &[("RegionId", "cn-hangzhou"), ("ClientToken", "tok-1"), ("Bandwidth", "10")])
        .await;
    assert_eq!(c.unwrap_err(), Error::IdempotentParameterMismatch);
    let all = e.vpc("DescribeEipAddresses", &[("RegionId", "cn-hangzhou")]).await.unwrap();
    assert_eq!(all["TotalCount"], 1, "the retry allocated nothing");
}

#[tokio::test]
async fn gen_03_retrieval_within_seven_days_only() {
    let e = env().await;
    let (id, ip) = e.allocate().await;
    e.vpc("ReleaseEipAddress", &[("AllocationId", &id)]).await.unwrap();
    e.settle().await;
    // Random allocation does not hand the released address out again.
    for _ in 0..20 {
        assert_ne!(e.allocate().await.1, ip);
    }
    let back = e.vpc("AllocateEipAddress", &[("RegionId", "cn-hangzhou"), ("IpAddress", &ip)]).await.unwrap();
    assert_eq!(back["EipAddress"], ip.as_str());
    let again = e.vpc("AllocateEipAddress", &[("RegionId", "cn-hangzhou"), ("IpAddress", &ip)]).await.unwrap_err();
    assert_eq!(again, Error::IpAllocated);
    let id2 = back["AllocationId"].as_str().unwrap().to_owned();
    e.vpc("ReleaseEipAddress", &[("AllocationId", &id2)]).await.unwrap();
    e.settle().await;
    e.clock.advance(7 * DAY_MS + 60_000);
    let late = e.vpc("AllocateEipAddress", &[("RegionId", "cn-hangzhou"), ("IpAddress", &ip)]).await.unwrap_err();
    assert_eq!(late, Error::AllocateUnfamiliarIp);
}

#[tokio::test]
async fn gen_01_region_mismatch_and_missing_targets() {
    let e = env().await;
    let b = e.vpc("AllocateEipAddress", &[("RegionId", "cn-beijing")]).await.unwrap();
    let id = b["AllocationId"].as_str().unwrap();
    let err = e.vpc("AssociateEipAddress", &[("AllocationId", id), ("InstanceId", &e.instances[0])]).await.unwrap_err();
    assert_eq!(err, Error::RegionMismatch);
    let err =
        e.vpc("AssociateEipAddress", &[("AllocationId", id), ("InstanceId", "i-doesnotexist")]).await.unwrap_err();
    assert_eq!(err, Error::AssociateTargetNotFound("i-doesnotexist".into()));
}

#[tokio::test]
async fn refused_requests_change_nothing() {
    let e = env().await;
    let before = e.vpc("DescribeEipAddresses", &[("RegionId", "cn-hangzhou")]).await.unwrap();
    let err = e.vpc("AllocateEipAddress", &[("RegionId", "cn-hangzhou"), ("Bandwidth", "501")]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { .. }));
    let after = e.vpc("DescribeEipAddresses", &[("RegionId", "cn-hangzhou")]).await.unwrap();
    assert_eq!(before["TotalCount"], after["TotalCount"]);
}

#[tokio::test]
async fn every_registered_action_has_a_handler() {
    let e = env().await;
    for a in eip_api::catalog::ACTIONS {
        let r = e.call(a.product, a.name, &[]).await;
        if let Err(Error::Internal(m)) = &r {
            panic!("{} {}: {m}", a.product.code(), a.name);
        }
    }
}

#[tokio::test]
async fn state_survives_reopening_the_database() {
    let e = env().await;
    let (id, ip) = e.allocate().await;
    let path = e.dir.join("eipd.db");
    let store = SqliteStore::open(&path).unwrap();
    let row = store.read(|tx| Ok(tx.eip_get(&id)?)).unwrap().unwrap();
    assert_eq!(row.ip, ip);
}

// ---------------------------------------------------------------- association targets

impl Env {
    async fn ecs(&self, action: &'static str, pairs: &[(&str, &str)]) -> Result<Body, Error> {
        self.call(Product::Ecs, action, pairs).await
    }

    /// The demo vSwitch and security group.
    fn demo_network(&self) -> (String, String, String) {
        self.ctl
            .store()
            .read(|tx| {
                let vpc =
                    tx.vpc_list(&self.account, "cn-hangzhou")?.into_iter().find(|v| v.name == "demo-vpc").unwrap();
                let vsw =
                    tx.vswitch_list(&self.account, "cn-hangzhou")?.into_iter().find(|s| s.vpc_id == vpc.id).unwrap();
                let sg = tx
                    .sg_list(&self.account, "cn-hangzhou")?
                    .into_iter()
                    .find(|g| g.vpc_id.as_deref() == Some(vpc.id.as_str()))
                    .unwrap();
                Ok((vpc.id, vsw.id, sg.id))
            })
            .unwrap()
    }

    /// A vSwitch of the demo VPC in a second zone (cn-hangzhou-i), for the
    /// load balancers that span zones.
    async fn second_zone_vswitch(&self, vpc: &str) -> String {
        let v = self
            .vpc("CreateVSwitch", &[("VpcId", vpc), ("ZoneId", "cn-hangzhou-i"), ("CidrBlock", "172.16.9.0/24")])
            .await
            .unwrap();
        v["VSwitchId"].as_str().unwrap().to_owned()
    }

    /// A new secondary ENI in the demo vSwitch with `secondary` extra private IPs.
    async fn eni(&self, secondary: usize) -> (String, Vec<String>) {
        let (_, vsw, sg) = self.demo_network();
        let n = secondary.to_string();
        let mut pairs =
            vec![("RegionId", "cn-hangzhou"), ("VSwitchId", vsw.as_str()), ("SecurityGroupId", sg.as_str())];
        if secondary > 0 {
            pairs.push(("SecondaryPrivateIpAddressCount", n.as_str()));
        }
        let b = self.ecs("CreateNetworkInterface", &pairs).await.unwrap();
        let ips = b["PrivateIpSets"]["PrivateIpSet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["PrivateIpAddress"].as_str().unwrap().to_owned())
            .collect();
        (b["NetworkInterfaceId"].as_str().unwrap().to_owned(), ips)
    }

    async fn nat(&self, bind_mode: &str) -> String {
        let (vpc, vsw, _) = self.demo_network();
        let b = self
            .vpc(
                "CreateNatGateway",
                &[("RegionId", "cn-hangzhou"), ("VpcId", &vpc), ("VSwitchId", &vsw), ("EipBindMode", bind_mode)],
            )
            .await
            .unwrap();
        self.settle().await;
        b["NatGatewayId"].as_str().unwrap().to_owned()
    }

    async fn eip_row(&self, id: &str) -> eip_store::EipRow {
        let id = id.to_owned();
        self.ctl.store().read(move |tx| Ok(tx.eip_get(&id)?)).unwrap().unwrap()
    }
}

const NI: (&str, &str) = ("InstanceType", "NetworkInterface");

#[tokio::test]
async fn eni_03_one_eip_per_private_ip_and_the_instance_eip_occupies_the_primary_ip() {
    let e = env().await;
    let (eni, ips) = e.eni(1).await;
    let (a, _) = e.allocate().await;
    let (b, _) = e.allocate().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &eni), NI]).await.unwrap();
    let row = e.eip_row(&a).await;
    assert_eq!(row.private_ip.as_deref(), Some(ips[0].as_str()), "default: the primary private IP");
    let err = e
        .vpc("AssociateEipAddress", &[("AllocationId", &b), ("InstanceId", &eni), NI, ("PrivateIpAddress", &ips[0])])
        .await
        .unwrap_err();
    assert_eq!(err, Error::AssociationDuplicated);
    let err = e
        .vpc("AssociateEipAddress", &[("AllocationId", &b), ("InstanceId", &eni), NI, ("PrivateIpAddress", "10.9.9.9")])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { ref name, .. } if name == "PrivateIpAddress"), "{err:?}");
    e.vpc("AssociateEipAddress", &[("AllocationId", &b), ("InstanceId", &eni), NI, ("PrivateIpAddress", &ips[1])])
        .await
        .unwrap();

    // ENI-01: the instance-level EIP and the primary ENI's primary IP are the same slot.
    let inst = e.instances[0].clone();
    let prim = e.ecs("DescribeNetworkInterfaces", &[("RegionId", "cn-hangzhou"), ("InstanceId", &inst)]).await.unwrap();
    let prim_id =
        prim["NetworkInterfaceSets"]["NetworkInterfaceSet"][0]["NetworkInterfaceId"].as_str().unwrap().to_owned();
    let (c, _) = e.allocate().await;
    let (d, _) = e.allocate().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &c), ("InstanceId", &inst)]).await.unwrap();
    let err = e.vpc("AssociateEipAddress", &[("AllocationId", &d), ("InstanceId", &prim_id), NI]).await.unwrap_err();
    assert_eq!(err, Error::AssociationDuplicated);
}

#[tokio::test]
async fn eni_03_the_database_refuses_two_nat_eips_on_one_private_ip() {
    let e = env().await;
    let (eni, ips) = e.eni(0).await;
    let (a, _) = e.allocate().await;
    let (b, _) = e.allocate().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &eni), NI]).await.unwrap();
    let vsw = e.eip_row(&a).await.private_vswitch_id.unwrap();
    let ip = ips[0].clone();
    let r = e
        .ctl
        .store()
        .write(move |tx| {
            let mut row = tx.eip_get(&b)?.unwrap();
            row.status = eip_types::EipStatus::Associating;
            row.instance_type = Some(eip_types::AssociatedInstanceType::NetworkInterface);
            row.instance_id = Some(eni.clone());
            row.mode = Some(eip_types::EipMode::Nat);
            row.private_ip = Some(ip.clone());
            row.private_vswitch_id = Some(vsw.clone());
            Ok(tx.eip_update(&row))
        })
        .await
        .unwrap();
    assert!(matches!(r, Err(StoreError::UniqueViolation(_))), "{r:?}");
}

#[tokio::test]
async fn eni_03_concurrent_associations_on_one_private_ip_have_one_winner() {
    let e = Arc::new(env().await);
    let (eni, ips) = e.eni(1).await;
    let mut ids = Vec::new();
    for _ in 0..16 {
        ids.push(e.allocate().await.0);
    }
    let mut joins = Vec::new();
    for id in ids {
        let (e, eni, ip) = (e.clone(), eni.clone(), ips[1].clone());
        joins.push(tokio::spawn(async move {
            e.vpc("AssociateEipAddress", &[("AllocationId", &id), ("InstanceId", &eni), NI, ("PrivateIpAddress", &ip)])
                .await
        }));
    }
    let mut ok = 0;
    for j in joins {
        match j.await.unwrap() {
            Ok(_) => ok += 1,
            Err(err) => assert_eq!(err, Error::AssociationDuplicated),
        }
    }
    assert_eq!(ok, 1, "exactly one association wins the private IP");
}

#[tokio::test]
async fn vis_01_visible_modes_and_their_conflicts() {
    let e = env().await;
    let (eni, _) = e.eni(0).await;
    let (a, _) = e.allocate().await;
    let (b, _) = e.allocate().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &eni), NI, ("Mode", "BINDED")]).await.unwrap();
    let err = e
        .vpc("AssociateEipAddress", &[("AllocationId", &b), ("InstanceId", &eni), NI, ("Mode", "BINDED")])
        .await
        .unwrap_err();
    assert_eq!(err, Error::AssociationDuplicated);
    let err = e.vpc("AssociateEipAddress", &[("AllocationId", &b), ("InstanceId", &eni), NI]).await.unwrap_err();
    assert_eq!(err, Error::ModeConflict);
    // Visible modes exist only on ENIs.
    let err = e
        .vpc("AssociateEipAddress", &[("AllocationId", &b), ("InstanceId", &e.instances[0]), ("Mode", "BINDED")])
        .await
        .unwrap_err();
    assert_eq!(err, Error::DirectEipBindType);
    // MULTI_BINDED never mixes with NAT.
    let (eni2, _) = e.eni(0).await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &b), ("InstanceId", &eni2), NI, ("Mode", "MULTI_BINDED")])
        .await
        .unwrap();
    let (c, _) = e.allocate().await;
    let err = e.vpc("AssociateEipAddress", &[("AllocationId", &c), ("InstanceId", &eni2), NI]).await.unwrap_err();
    assert_eq!(err, Error::EipBindModeConflict);
}

#[tokio::test]
async fn eni_07_batch_is_all_or_nothing() {
    let e = env().await;
    let (eni, _) = e.eni(1).await;
    let (a, _) = e.allocate().await;
    let (b, _) = e.allocate().await;
    let (c, _) = e.allocate().await;
    // Three NAT-mode EIPs, two private IPs: the whole call fails and nothing changes.
    let err = e
        .vpc(
            "AssociateEipAddressBatch",
            &[
                ("RegionId", "cn-hangzhou"),
                ("BindedInstanceId", &eni),
                ("BindedInstanceType", "NetworkInterface"),
                ("InstanceIds.1", &a),
                ("InstanceIds.2", &b),
                ("InstanceIds.3", &c),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(err, Error::EniEipQuotaExceeded);
    for id in [&a, &b, &c] {
        assert_eq!(e.status(id).await.as_deref(), Some("Available"));
    }
    e.vpc(
        "AssociateEipAddressBatch",
        &[
            ("RegionId", "cn-hangzhou"),
            ("BindedInstanceId", &eni),
            ("BindedInstanceType", "NetworkInterface"),
            ("InstanceIds.1", &a),
            ("InstanceIds.2", &b),
        ],
    )
    .await
    .unwrap();
    e.settle().await;
    let ra = e.eip_row(&a).await;
    let rb = e.eip_row(&b).await;
    assert_eq!((ra.status, rb.status), (eip_types::EipStatus::InUse, eip_types::EipStatus::InUse));
    assert_ne!(ra.private_ip, rb.private_ip, "each EIP takes its own private IP");
    let err = e
        .vpc(
            "AssociateEipAddressBatch",
            &[
                ("RegionId", "cn-hangzhou"),
                ("BindedInstanceId", &eni),
                ("BindedInstanceType", "EcsInstance"),
                ("InstanceIds.1", &c),
            ],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ValueNotSupported { name: "BindedInstanceType", .. }), "{err:?}");
}

#[tokio::test]
async fn nat_02_twenty_of_thirty_two_concurrent_associations_win() {
    let e = Arc::new(env().await);
    let ngw = e.nat("MULTI_BINDED").await;
    let mut ids = Vec::new();
    for _ in 0..32 {
        ids.push(e.allocate().await.0);
    }
    let mut joins = Vec::new();
    for id in ids {
        let (e, ngw) = (e.clone(), ngw.clone());
        joins.push(tokio::spawn(async move {
            e.vpc("AssociateEipAddress", &[("AllocationId", &id), ("InstanceId", &ngw), ("InstanceType", "Nat")]).await
        }));
    }
    let mut ok = 0;
    for j in joins {
        match j.await.unwrap() {
            Ok(_) => ok += 1,
            Err(err) => assert_eq!(err, Error::NatEipQuotaExceeded),
        }
    }
    assert_eq!(ok, 20, "NAT-02: exactly 20 EIPs on one gateway");
    let b = e.vpc("DescribeNatGateways", &[("RegionId", "cn-hangzhou"), ("NatGatewayId", &ngw)]).await.unwrap();
    assert_eq!(b["NatGateways"]["NatGateway"][0]["IpLists"]["IpList"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn nat_03_private_ips_only_for_nat_mode_gateways_created_after_the_cutoff() {
    let e = env().await;
    let ngw = e.nat("NAT").await;
    let (a, _) = e.allocate().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &ngw), ("InstanceType", "Nat")]).await.unwrap();
    let ip = e.eip_row(&a).await.private_ip;
    assert!(ip.is_some(), "a new NAT-mode gateway lends each EIP a private IP");
    e.settle().await;
    e.vpc("UnassociateEipAddress", &[("AllocationId", &a)]).await.unwrap();
    e.settle().await;
    assert_eq!(e.eip_row(&a).await.private_ip, None);
    // Imported as created before 2022-09-19: no private IP.
    crate::nat::set_creation_time(&e.ctl, &ngw, "2021-05-01T00:00:00Z").await.unwrap();
    e.vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &ngw), ("InstanceType", "Nat")]).await.unwrap();
    assert_eq!(e.eip_row(&a).await.private_ip, None);
}

#[tokio::test]
async fn nat_01_entries_block_unassociation_unless_forced() {
    let e = env().await;
    let ngw = e.nat("MULTI_BINDED").await;
    let (a, ip) = e.allocate().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &ngw), ("InstanceType", "Nat")]).await.unwrap();
    e.settle().await;
    let d = e.vpc("DescribeNatGateways", &[("RegionId", "cn-hangzhou"), ("NatGatewayId", &ngw)]).await.unwrap();
    let stb = d["NatGateways"]["NatGateway"][0]["SnatTableIds"]["SnatTableId"][0].as_str().unwrap().to_owned();
    e.vpc(
        "CreateSnatEntry",
        &[("RegionId", "cn-hangzhou"), ("SnatTableId", &stb), ("SnatIp", &ip), ("SourceCIDR", "172.16.1.0/24")],
    )
    .await
    .unwrap();
    let err = e
        .vpc(
            "CreateSnatEntry",
            &[
                ("RegionId", "cn-hangzhou"),
                ("SnatTableId", &stb),
                ("SnatIp", "198.51.100.1"),
                ("SourceCIDR", "172.16.1.0/24"),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(err, Error::SnatIpNotInNatGateway);
    let err = e.vpc("UnassociateEipAddress", &[("AllocationId", &a)]).await.unwrap_err();
    assert_eq!(err, Error::EipUsedBySnat);
    let err = e.vpc("DeleteNatGateway", &[("RegionId", "cn-hangzhou"), ("NatGatewayId", &ngw)]).await.unwrap_err();
    assert_eq!(err, Error::DependencyViolation(eip_types::DependencyKind::NatGatewayHasSnatEntry));
    e.vpc("UnassociateEipAddress", &[("AllocationId", &a), ("Force", "true")]).await.unwrap();
    let s = e.vpc("DescribeSnatTableEntries", &[("RegionId", "cn-hangzhou"), ("SnatTableId", &stb)]).await.unwrap();
    assert_eq!(s["TotalCount"], 0, "Force deleted the entry");
}

#[tokio::test]
async fn ha_02_quotas_and_ha_03_one_eip() {
    let e = env().await;
    let (_, vsw, _) = e.demo_network();
    crate::quotas::set_quota(&e.ctl, "root", "havip_permission", 0).await.unwrap();
    let err = e.vpc("CreateHaVip", &[("RegionId", "cn-hangzhou"), ("VSwitchId", &vsw)]).await.unwrap_err();
    assert_eq!(err, Error::HaVipNotEnabled);
    crate::quotas::set_quota(&e.ctl, "root", "havip_permission", 1).await.unwrap();
    crate::quotas::set_quota(&e.ctl, "root", "havip_count", 1).await.unwrap();
    let h = e.vpc("CreateHaVip", &[("RegionId", "cn-hangzhou"), ("VSwitchId", &vsw)]).await.unwrap();
    let err = e.vpc("CreateHaVip", &[("RegionId", "cn-hangzhou"), ("VSwitchId", &vsw)]).await.unwrap_err();
    assert_eq!(err, Error::HaVipQuotaExceeded);
    let hid = h["HaVipId"].as_str().unwrap().to_owned();
    let (a, _) = e.allocate().await;
    let (b, _) = e.allocate().await;
    let err = e
        .vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &hid), ("InstanceType", "HaVip")])
        .await
        .unwrap_err();
    assert_eq!(err, Error::IncorrectHaVipStatus, "HA-04: still Creating");
    e.settle().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &hid), ("InstanceType", "HaVip")])
        .await
        .unwrap();
    let err = e
        .vpc("AssociateEipAddress", &[("AllocationId", &b), ("InstanceId", &hid), ("InstanceType", "HaVip")])
        .await
        .unwrap_err();
    assert_eq!(err, Error::AssociationDuplicated);
    let err = e.vpc("DeleteHaVip", &[("RegionId", "cn-hangzhou"), ("HaVipId", &hid)]).await.unwrap_err();
    assert_eq!(err, Error::DependencyViolation(eip_types::DependencyKind::HaVipInUse));
    assert!(crate::quotas::set_quota(&e.ctl, "root", "bogus", 1).await.is_err());
}

#[tokio::test]
async fn lb_02_lb_03_load_balancer_targets() {
    let e = env().await;
    let (vpc, vsw, _) = e.demo_network();
    let internet = e.call(Product::Slb, "CreateLoadBalancer", &[("RegionId", "cn-hangzhou")]).await.unwrap();
    let intranet =
        e.call(Product::Slb, "CreateLoadBalancer", &[("RegionId", "cn-hangzhou"), ("VSwitchId", &vsw)]).await.unwrap();
    let (a, _) = e.allocate().await;
    let (b, _) = e.allocate().await;
    let lb_pub = internet["LoadBalancerId"].as_str().unwrap();
    let lb_priv = intranet["LoadBalancerId"].as_str().unwrap();
    let err = e
        .vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", lb_pub), ("InstanceType", "SlbInstance")])
        .await
        .unwrap_err();
    assert_eq!(err, Error::InternetLoadBalancer);
    e.vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", lb_priv), ("InstanceType", "SlbInstance")])
        .await
        .unwrap();
    let err = e
        .vpc("AssociateEipAddress", &[("AllocationId", &b), ("InstanceId", lb_priv), ("InstanceType", "SlbInstance")])
        .await
        .unwrap_err();
    assert_eq!(err, Error::AssociationDuplicated);
    // ALB: the EIP comes with CreateLoadBalancer, never through AssociateEipAddress.
    let vsw_i = e.second_zone_vswitch(&vpc).await;
    let (d, _) = e.allocate().await;
    let alb = e
        .call(
            Product::Alb,
            "CreateLoadBalancer",
            &[
                ("VpcId", &vpc),
                ("AddressType", "Internet"),
                ("LoadBalancerEdition", "Standard"),
                ("LoadBalancerBillingConfig.PayType", "PostPay"),
                ("ZoneMappings.1.ZoneId", "cn-hangzhou-h"),
                ("ZoneMappings.1.VSwitchId", &vsw),
                ("ZoneMappings.1.AllocationId", &b),
                ("ZoneMappings.2.ZoneId", "cn-hangzhou-i"),
                ("ZoneMappings.2.VSwitchId", &vsw_i),
                ("ZoneMappings.2.AllocationId", &d),
            ],
        )
        .await
        .unwrap();
    let alb_id = alb["LoadBalancerId"].as_str().unwrap().to_owned();
    let row = e.eip_row(&b).await;
    assert_eq!(
        (row.instance_type, row.instance_id.as_deref()),
        (Some(eip_types::AssociatedInstanceType::Alb), Some(alb_id.as_str()))
    );
    let (c, _) = e.allocate().await;
    let err = e
        .vpc("AssociateEipAddress", &[("AllocationId", &c), ("InstanceId", &alb_id), ("InstanceType", "SlbInstance")])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BindInstanceNotSupported(_)), "{err:?}");
    e.call(Product::Alb, "DeleteLoadBalancer", &[("LoadBalancerId", &alb_id)]).await.unwrap();
    assert_eq!(e.status(&b).await.as_deref(), Some("Available"));
}

#[tokio::test]
async fn deleting_an_instance_detaches_its_secondary_enis() {
    let e = env().await;
    let (eni, _) = e.eni(0).await;
    let inst = e.instances[1].clone();
    e.ecs("AttachNetworkInterface", &[("NetworkInterfaceId", &eni), ("InstanceId", &inst)]).await.unwrap();
    e.settle().await;
    let (a, _) = e.allocate().await;
    e.vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &eni), NI]).await.unwrap();
    e.settle().await;
    e.ecs("DeleteInstance", &[("InstanceId", &inst), ("Force", "true")]).await.unwrap();
    let d = e
        .ecs("DescribeNetworkInterfaces", &[("RegionId", "cn-hangzhou"), ("NetworkInterfaceId.1", &eni)])
        .await
        .unwrap();
    let item = &d["NetworkInterfaceSets"]["NetworkInterfaceSet"][0];
    assert_eq!(item["Status"], "Available");
    assert_eq!(item["InstanceId"], "");
    assert_eq!(e.status(&a).await.as_deref(), Some("InUse"), "the secondary ENI keeps its EIP");
}

// ------------------------------------------------- one test per remaining rule id

impl Env {
    async fn attach(&self, eni: &str, instance: &str) {
        self.ecs(
            "AttachNetworkInterface",
            &[("RegionId", "cn-hangzhou"), ("NetworkInterfaceId", eni), ("InstanceId", instance)],
        )
        .await
        .unwrap();
        self.settle().await;
    }

    async fn describe_eni(&self, eni: &str) -> serde_json::Value {
        let b = self
            .ecs("DescribeNetworkInterfaces", &[("RegionId", "cn-hangzhou"), ("NetworkInterfaceId.1", eni)])
            .await
            .unwrap();
        b["NetworkInterfaceSets"]["NetworkInterfaceSet"][0].clone()
    }

    async fn associate_ok(&self, eip: &str, target: &str, extra: &[(&str, &str)]) {
        let mut pairs = vec![("AllocationId", eip), ("InstanceId", target)];
        pairs.extend_from_slice(extra);
        self.vpc("AssociateEipAddress", &pairs).await.unwrap();
    }
}

#[tokio::test]
async fn eni_01_eni_04_several_internet_facing_services_on_one_instance() {
    let e = env().await;
    let inst = e.instances[0].clone();
    let (vpc, _, _) = e.demo_network();
    // ENI-04: each secondary ENI in its own security group.
    let sg2 = e.ecs("CreateSecurityGroup", &[("RegionId", "cn-hangzhou"), ("VpcId", &vpc)]).await.unwrap();
    let sg2 = sg2["SecurityGroupId"].as_str().unwrap().to_owned();
    let (eni_a, _) = e.eni(0).await;
    let (_, vsw, _) = e.demo_network();
    let b = e
        .ecs("CreateNetworkInterface", &[("RegionId", "cn-hangzhou"), ("VSwitchId", &vsw), ("SecurityGroupId", &sg2)])
        .await
        .unwrap();
    let eni_b = b["NetworkInterfaceId"].as_str().unwrap().to_owned();
    let (direct, _) = e.allocate().await;
    let (on_a, ip_a) = e.allocate().await;
    let (on_b, ip_b) = e.allocate().await;
    e.associate_ok(&direct, &inst, &[]).await;
    e.associate_ok(&on_a, &eni_a, &[NI]).await;
    e.associate_ok(&on_b, &eni_b, &[NI]).await;
    e.attach(&eni_a, &inst).await;
    e.attach(&eni_b, &inst).await;
    // ENI-01: one direct EIP, and more through the ENIs.
    let enis = e.ecs("DescribeNetworkInterfaces", &[("RegionId", "cn-hangzhou"), ("InstanceId", &inst)]).await.unwrap();
    let items = enis["NetworkInterfaceSets"]["NetworkInterfaceSet"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3, "primary plus two secondary ENIs");
    let public: Vec<&str> = items.iter().filter_map(|i| i["AssociatedPublicIp"]["PublicIpAddress"].as_str()).collect();
    for ip in [&ip_a, &ip_b] {
        assert!(public.contains(&ip.as_str()), "{ip} not in {public:?}");
    }
    let groups: Vec<String> = [&eni_a, &eni_b]
        .iter()
        .map(|id| {
            let i = items.iter().find(|i| i["NetworkInterfaceId"] == id.as_str()).unwrap();
            i["SecurityGroupIds"]["SecurityGroupId"][0].as_str().unwrap().to_owned()
        })
        .collect();
    assert_ne!(groups[0], groups[1], "ENI-04: separate isolation policies");
    assert_eq!(e.status(&direct).await.as_deref(), Some("InUse"));
}

#[tokio::test]
async fn eni_06_ecs_05_nat_mode_translates_addresses_only() {
    // NAT mode maps the EIP 1:1 onto one private IP; the guest's NIC keeps only
    // its private address. (That no ALG helper runs is the data plane's part.)
    let e = env().await;
    let (eni, ips) = e.eni(1).await;
    let (a, ip) = e.allocate().await;
    e.associate_ok(&a, &eni, &[NI, ("PrivateIpAddress", &ips[1])]).await;
    e.settle().await;
    let row = e.eip_row(&a).await;
    assert_eq!(row.mode, Some(eip_types::EipMode::Nat));
    assert_eq!(row.private_ip.as_deref(), Some(ips[1].as_str()));
    let item = e.describe_eni(&eni).await;
    let addrs = item["GuestConfiguration"]["Addresses"].as_array().unwrap();
    assert!(addrs.iter().all(|x| !x["Address"].as_str().unwrap().starts_with(&format!("{ip}/"))), "{addrs:?}");
    let (d, _) = e.allocate().await;
    e.associate_ok(&d, &e.instances[1], &[]).await;
    assert_eq!(e.eip_row(&d).await.mode, Some(eip_types::EipMode::Nat), "ECS-05: ECS EIPs are NAT mode");
}

#[tokio::test]
async fn gen_02_the_address_never_changes() {
    let e = env().await;
    let (a, ip) = e.allocate().await;
    e.associate_ok(&a, &e.instances[0], &[]).await;
    e.settle().await;
    e.vpc("ModifyEipAddressAttribute", &[("AllocationId", &a), ("Bandwidth", "50"), ("Name", "web")]).await.unwrap();
    e.vpc("UnassociateEipAddress", &[("AllocationId", &a)]).await.unwrap();
    e.settle().await;
    assert_eq!(e.eip_row(&a).await.ip, ip);
}

#[tokio::test]
async fn eni_08_vis_02_vis_04_guest_configuration() {
    let e = env().await;
    let (eni, _) = e.eni(0).await;
    let (a, ip) = e.allocate().await;
    e.associate_ok(&a, &eni, &[NI, ("Mode", "MULTI_BINDED")]).await;
    e.settle().await;
    let before = e.describe_eni(&eni).await;
    let rules: Vec<&str> = before["GuestConfiguration"]["Notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["Rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"VIS-02"), "the warning comes before attaching: {rules:?}");
    e.attach(&eni, &e.instances[0]).await;
    let g = e.describe_eni(&eni).await["GuestConfiguration"].clone();
    let routes = g["Routes"].as_array().unwrap();
    // ENI-08: a source policy route for every address on the NIC, the EIP included (VIS-01).
    assert!(routes.iter().any(|r| r["Kind"] == "policy" && r["Source"] == ip.as_str()), "{routes:?}");
    // VIS-04: a default route through the visible ENI, below the primary's.
    assert!(routes.iter().any(|r| r["Kind"] == "default" && r["Metric"].as_i64() > Some(0)), "{routes:?}");
    // VIS-02: 100.64.0.0/10 stays on the primary ENI.
    assert!(routes.iter().any(|r| r["Destination"] == "100.64.0.0/10"), "{routes:?}");
    let notices = g["Notices"].as_array().unwrap();
    assert!(notices.iter().any(|n| n["Rule"] == "VIS-02" && n["Message"].as_str().unwrap().contains("100.64.0.0/10")));
    assert!(notices.iter().any(|n| n["Rule"] == "ENI-08"));
}

#[tokio::test]
async fn vis_03_nat_mode_on_an_attached_eni_is_the_alternative() {
    // Visible modes need a detached ENI; the recommended alternative (an EIP
    // on a secondary ENI the OS manages) works while the ENI is attached.
    let e = env().await;
    let (eni, _) = e.eni(0).await;
    e.attach(&eni, &e.instances[0]).await;
    let (a, _) = e.allocate().await;
    let (b, _) = e.allocate().await;
    let err = e
        .vpc("AssociateEipAddress", &[("AllocationId", &a), ("InstanceId", &eni), NI, ("Mode", "BINDED")])
        .await
        .unwrap_err();
    assert_eq!(err, Error::EniAttached);
    e.associate_ok(&b, &eni, &[NI]).await;
    e.settle().await;
    assert_eq!(e.status(&b).await.as_deref(), Some("InUse"));
}

fn batch<'a>(target: &'a str, kind: &'a str, mode: Option<&'a str>, ids: &'a [String]) -> Vec<(String, String)> {
    let mut v = vec![
        ("RegionId".to_owned(), "cn-hangzhou".to_owned()),
        ("BindedInstanceId".to_owned(), target.to_owned()),
        ("BindedInstanceType".to_owned(), kind.to_owned()),
    ];
    if let Some(m) = mode {
        v.push(("Mode".to_owned(), m.to_owned()));
    }
    for (i, id) in ids.iter().enumerate() {
        v.push((format!("InstanceIds.{}", i + 1), id.clone()));
    }
    v
}

impl Env {
    async fn batch(&self, pairs: Vec<(String, String)>) -> Result<Body, Error> {
        let ctx = Ctx {
            account: self.account.clone(),
            product: Product::Vpc,
            action: "AssociateEipAddressBatch",
            request_id: "t".into(),
            nonce: None,
        };
        self.ctl.call(&ctx, &Params::new(pairs)).await
    }
}

#[tokio::test]
async fn vis_05_batch_in_multi_binded_mode_up_to_ten() {
    let e = env().await;
    let (eni, _) = e.eni(0).await;
    let mut ids = Vec::new();
    for _ in 0..11 {
        ids.push(e.allocate().await.0);
    }
    let err = e.batch(batch(&eni, "NetworkInterface", Some("MULTI_BINDED"), &ids)).await.unwrap_err();
    assert_eq!(err, Error::MultiBindedQuotaExceeded);
    e.batch(batch(&eni, "NetworkInterface", Some("MULTI_BINDED"), &ids[..10])).await.unwrap();
    e.settle().await;
    for id in &ids[..10] {
        let r = e.eip_row(id).await;
        assert_eq!((r.status, r.mode), (eip_types::EipStatus::InUse, Some(eip_types::EipMode::MultiBinded)));
    }
    assert_eq!(e.status(&ids[10]).await.as_deref(), Some("Available"));
}

#[tokio::test]
async fn nat_04_batch_on_a_nat_gateway() {
    let e = env().await;
    let ngw = e.nat("MULTI_BINDED").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(e.allocate().await.0);
    }
    e.batch(batch(&ngw, "Nat", None, &ids)).await.unwrap();
    e.settle().await;
    let b = e.vpc("DescribeNatGateways", &[("RegionId", "cn-hangzhou"), ("NatGatewayId", &ngw)]).await.unwrap();
    let list = b["NatGateways"]["NatGateway"][0]["IpLists"]["IpList"].as_array().unwrap().clone();
    let listed: Vec<&str> = list.iter().map(|x| x["AllocationId"].as_str().unwrap()).collect();
    for id in &ids {
        assert!(listed.contains(&id.as_str()), "{id} not in {listed:?}");
        assert_eq!(e.status(id).await.as_deref(), Some("InUse"));
    }
}

#[tokio::test]
async fn lb_01_alb_spans_zones_with_an_eip_per_zone() {
    let e = env().await;
    let (vpc, vsw_h, _) = e.demo_network();
    let vsw_i = e.second_zone_vswitch(&vpc).await;
    let (a, _) = e.allocate().await;
    let (b, _) = e.allocate().await;
    let alb = e
        .call(
            Product::Alb,
            "CreateLoadBalancer",
            &[
                ("VpcId", &vpc),
                ("AddressType", "Internet"),
                ("LoadBalancerEdition", "Standard"),
                ("LoadBalancerBillingConfig.PayType", "PostPay"),
                ("ZoneMappings.1.ZoneId", "cn-hangzhou-h"),
                ("ZoneMappings.1.VSwitchId", &vsw_h),
                ("ZoneMappings.1.AllocationId", &a),
                ("ZoneMappings.2.ZoneId", "cn-hangzhou-i"),
                ("ZoneMappings.2.VSwitchId", &vsw_i),
                ("ZoneMappings.2.AllocationId", &b),
            ],
        )
        .await
        .unwrap();
    let id = alb["LoadBalancerId"].as_str().unwrap().to_owned();
    for x in [&a, &b] {
        let r = e.eip_row(x).await;
        assert_eq!(r.instance_id.as_deref(), Some(id.as_str()));
    }
    assert_ne!(e.eip_row(&a).await.private_ip, e.eip_row(&b).await.private_ip, "one address per zone");
}

#[tokio::test]
async fn lb_02_address_type_change_is_configuring_until_the_eips_settle() {
    let e = env().await;
    let (vpc, vsw_h, _) = e.demo_network();
    let vsw_i = e.second_zone_vswitch(&vpc).await;
    let mut eips = Vec::new();
    for _ in 0..4 {
        eips.push(e.allocate().await.0);
    }
    let zones = |a: &str, b: &str| {
        vec![
            ("ZoneMappings.1.ZoneId".to_owned(), "cn-hangzhou-h".to_owned()),
            ("ZoneMappings.1.VSwitchId".to_owned(), vsw_h.clone()),
            ("ZoneMappings.1.AllocationId".to_owned(), a.to_owned()),
            ("ZoneMappings.2.ZoneId".to_owned(), "cn-hangzhou-i".to_owned()),
            ("ZoneMappings.2.VSwitchId".to_owned(), vsw_i.clone()),
            ("ZoneMappings.2.AllocationId".to_owned(), b.to_owned()),
        ]
    };
    let mut create: Vec<(String, String)> = vec![
        ("VpcId".into(), vpc.clone()),
        ("AddressType".into(), "Internet".into()),
        ("LoadBalancerType".into(), "network".into()),
    ];
    create.extend(zones(&eips[0], &eips[1]));
    let refs: Vec<(&str, &str)> = create.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let nlb = e.call(Product::Nlb, "CreateLoadBalancer", &refs).await.unwrap();
    let id = nlb["LoadbalancerId"].as_str().unwrap().to_owned();
    e.settle().await;
    let status = |b: &serde_json::Map<String, serde_json::Value>| b["LoadBalancerStatus"].as_str().unwrap().to_owned();
    let get_args = [("LoadBalancerId", id.as_str())];
    let get = || e.call(Product::Nlb, "GetLoadBalancerAttribute", &get_args);
    assert_eq!(status(&get().await.unwrap()), "Active");
    e.call(
        Product::Nlb,
        "UpdateLoadBalancerAddressTypeConfig",
        &[("LoadBalancerId", &id), ("AddressType", "Intranet")],
    )
    .await
    .unwrap();
    assert_eq!(status(&get().await.unwrap()), "Configuring");
    let mut back: Vec<(String, String)> =
        vec![("LoadBalancerId".into(), id.clone()), ("AddressType".into(), "Internet".into())];
    back.extend(zones(&eips[2], &eips[3]));
    let refs: Vec<(&str, &str)> = back.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let err = e.call(Product::Nlb, "UpdateLoadBalancerAddressTypeConfig", &refs).await.unwrap_err();
    assert_eq!(err, Error::IncorrectLoadBalancerStatus);
    e.settle().await;
    assert_eq!(status(&get().await.unwrap()), "Active");
    e.call(Product::Nlb, "UpdateLoadBalancerAddressTypeConfig", &refs).await.unwrap();
    e.settle().await;
    for x in &eips[2..] {
        assert_eq!(e.status(x).await.as_deref(), Some("InUse"));
    }
    for x in &eips[..2] {
        assert_eq!(e.status(x).await.as_deref(), Some("Available"));
    }
}

#[tokio::test]
async fn ha_01_the_eip_stays_while_the_havip_moves_between_instances() {
    let e = env().await;
    let (_, vsw, _) = e.demo_network();
    let h = e.vpc("CreateHaVip", &[("RegionId", "cn-hangzhou"), ("VSwitchId", &vsw)]).await.unwrap();
    let hid = h["HaVipId"].as_str().unwrap().to_owned();
    e.settle().await;
    for i in &e.instances {
        e.vpc("AssociateHaVip", &[("RegionId", "cn-hangzhou"), ("HaVipId", &hid), ("InstanceId", i)]).await.unwrap();
    }
    e.settle().await;
    let (a, _) = e.allocate().await;
    e.associate_ok(&a, &hid, &[("InstanceType", "HaVip")]).await;
    e.settle().await;
    // Failover: the active instance leaves; the HaVip and its EIP stay.
    e.vpc("UnassociateHaVip", &[("RegionId", "cn-hangzhou"), ("HaVipId", &hid), ("InstanceId", &e.instances[0])])
        .await
        .unwrap();
    e.settle().await;
    let r = e.eip_row(&a).await;
    assert_eq!((r.status, r.instance_id.as_deref()), (eip_types::EipStatus::InUse, Some(hid.as_str())));
    let d = e.vpc("DescribeHaVips", &[("RegionId", "cn-hangzhou")]).await.unwrap();
    let hv = d["HaVips"]["HaVip"].as_array().unwrap().iter().find(|x| x["HaVipId"] == hid.as_str()).unwrap().clone();
    assert_eq!(hv["Status"], "InUse");
    assert_eq!(hv["IpAddress"], h["IpAddress"], "the service address does not change");
}

#[tokio::test]
async fn traffic_samples_survive_a_restart_and_totals_go_on_from_them() {
    use crate::monitor::{self, Totals};
    let e = env_with(true).await;
    let (id, _) = e.allocate().await;
    let t = |rx: u64| Totals { rx_bytes: rx, tx_bytes: 2 * rx, rx_packets: rx / 10, tx_packets: rx / 5 };
    let now = e.ctl.now();
    for (i, rx) in [100u64, 100, 400, 900].into_iter().enumerate() {
        let at = now + 20_000 * i as i64;
        let changed = e.ctl.monitor().record(&std::collections::BTreeMap::from([(id.clone(), t(rx))]));
        assert_eq!(changed.len(), usize::from(i != 1), "an unchanged sample is not worth persisting");
        monitor::persist(&e.ctl, at, changed).await.unwrap();
    }
    // A new controller over the same store: what a restarted eipd, or
    // another node, sees.
    let store = SqliteStore::open(&e.dir.join("eipd.db")).unwrap();
    let ctl = Controller::new(Arc::new(store), e.clock.clone(), Config { task_delay_ms: DELAY, dataplane: true });
    assert_eq!(monitor::restore(&ctl).unwrap(), 1);
    assert_eq!(ctl.monitor().latest()[&id], t(900));
    let iso = |ms: i64| eip_types::time::format_iso(ms);
    let (start, end) = (iso(now - 60_000), iso(now + 120_000));
    let p = [
        ("RegionId", "cn-hangzhou"),
        ("AllocationId", id.as_str()),
        ("StartTime", start.as_str()),
        ("EndTime", end.as_str()),
        ("Period", "60"),
    ];
    let total = |b: &Body| -> u64 {
        b["EipMonitorDatas"]["EipMonitorData"].as_array().unwrap().iter().map(|d| d["EipRX"].as_u64().unwrap()).sum()
    };
    let here = e.vpc("DescribeEipMonitorData", &p).await.unwrap();
    let there = e.call_on(&ctl, Product::Vpc, "DescribeEipMonitorData", &p).await.unwrap();
    assert_eq!(total(&here), 900, "{here:?}");
    assert_eq!(here, there, "every node answers from the store alike");
}

async fn clb(e: &Env, lb: &str, action: &'static str, extra: &[(&str, &str)]) -> Result<Body, Error> {
    let mut pairs = vec![("RegionId", "cn-hangzhou"), ("LoadBalancerId", lb)];
    pairs.extend_from_slice(extra);
    e.call(Product::Slb, action, &pairs).await
}

/// DescribeHealthStatus as "port/a|b:status" (a: the first demo instance).
async fn health_of(e: &Env, lb: &str) -> String {
    let b = clb(e, lb, "DescribeHealthStatus", &[]).await.unwrap();
    let mut v: Vec<String> = b["BackendServers"]["BackendServer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let who = if s["ServerId"] == e.instances[0].as_str() { "a" } else { "b" };
            format!("{}/{who}:{}", s["ListenerPort"], s["ServerHealthStatus"].as_str().unwrap())
        })
        .collect();
    v.sort();
    v.join(" ")
}

#[tokio::test]
async fn clb_describe_health_status_reports_the_data_planes_checks() {
    use crate::clb_health::{BackendHealth, BackendKey};
    use std::collections::{BTreeMap, BTreeSet};
    let e = env_with(true).await;
    let ids = format!("[\"{}\"]", e.instances[0]);
    let inst = e.call(Product::Ecs, "DescribeInstances", &[("RegionId", "cn-hangzhou"), ("InstanceIds", &ids)]).await;
    let vsw = inst.unwrap()["Instances"]["Instance"][0]["VpcAttributes"]["VSwitchId"].as_str().unwrap().to_owned();
    let made = e.call(Product::Slb, "CreateLoadBalancer", &[("RegionId", "cn-hangzhou"), ("VSwitchId", &vsw)]).await;
    let lb = made.unwrap()["LoadBalancerId"].as_str().unwrap().to_owned();
    clb(&e, &lb, "CreateLoadBalancerTCPListener", &[("ListenerPort", "80"), ("BackendServerPort", "8080")])
        .await
        .unwrap();
    clb(&e, &lb, "CreateLoadBalancerTCPListener", &[("ListenerPort", "81"), ("HealthCheckSwitch", "off")])
        .await
        .unwrap();
    for port in ["80", "81"] {
        clb(&e, &lb, "StartLoadBalancerListener", &[("ListenerPort", port)]).await.unwrap();
    }
    let servers = format!(r#"[{{"ServerId":"{}"}},{{"ServerId":"{}"}}]"#, e.instances[0], e.instances[1]);
    clb(&e, &lb, "AddBackendServers", &[("BackendServers", &servers)]).await.unwrap();
    let unchecked = "80/a:unavailable 80/b:unavailable 81/a:unavailable 81/b:unavailable";
    assert_eq!(health_of(&e, &lb).await, unchecked, "nothing checked");
    // The data plane checks listener 80 (health checks on): its backends start normal.
    let key = |i: usize| (lb.clone(), 80, e.instances[i].clone());
    let served = BTreeSet::from(["cn-hangzhou".to_owned()]);
    let tracked = |ks: &[BackendKey]| -> BTreeMap<BackendKey, String> {
        ks.iter().map(|k| (k.clone(), "cn-hangzhou".to_owned())).collect()
    };
    e.ctl.take_changes();
    e.ctl.track_backends(&served, &tracked(&[key(0), key(1)]));
    assert_eq!(health_of(&e, &lb).await, unchecked, "not published yet");
    e.ctl.publish_backend_health().await.unwrap();
    assert_eq!(health_of(&e, &lb).await, "80/a:normal 80/b:normal 81/a:unavailable 81/b:unavailable");
    assert_eq!(e.ctl.take_changes(), Changes::default(), "tracking new backends changes no rotation");
    assert!(e.ctl.report_backend_health(&key(1), BackendHealth::Abnormal));
    assert!(e.ctl.take_changes().other, "a flip makes the next round a full one");
    assert!(!e.ctl.report_backend_health(&key(1), BackendHealth::Abnormal));
    assert_eq!(e.ctl.take_changes(), Changes::default(), "no flip, no round");
    e.ctl.publish_backend_health().await.unwrap();
    assert_eq!(health_of(&e, &lb).await, "80/a:normal 80/b:abnormal 81/a:unavailable 81/b:unavailable");
    assert_eq!(e.ctl.clb_health().abnormal(), BTreeSet::from([key(1)]));
    // Another controller on the same store (another node) answers alike.
    let store = SqliteStore::open(&e.dir.join("eipd.db")).unwrap();
    let other = Controller::new(Arc::new(store), e.clock.clone(), Config { task_delay_ms: DELAY, dataplane: false });
    let pairs = [("RegionId", "cn-hangzhou"), ("LoadBalancerId", lb.as_str())];
    let b = e.call_on(&other, Product::Slb, "DescribeHealthStatus", &pairs).await.unwrap();
    let servers = b["BackendServers"]["BackendServer"].as_array().unwrap();
    assert_eq!(servers.iter().filter(|s| s["ServerHealthStatus"] == "abnormal").count(), 1, "{b:?}");
    // Health checks turned off: unavailable, whatever was measured.
    clb(&e, &lb, "SetLoadBalancerTCPListenerAttribute", &[("ListenerPort", "80"), ("HealthCheckSwitch", "off")])
        .await
        .unwrap();
    assert_eq!(health_of(&e, &lb).await, unchecked);
    // The next round stops checking them: forgetting an abnormal backend puts it back in the rotation.
    e.ctl.take_changes();
    e.ctl.track_backends(&served, &BTreeMap::new());
    assert!(e.ctl.take_changes().other);
    e.ctl.publish_backend_health().await.unwrap();
    assert_eq!(e.ctl.store().read(|tx| Ok(tx.backend_health_of(&lb)?)).unwrap(), vec![], "cleared in the store");
    assert!(e.ctl.clb_health().abnormal().is_empty());
}

#[tokio::test]
async fn an_account_holds_at_most_its_eip_quota_in_all_regions_together() {
    let e = env().await;
    crate::quotas::set_quota(&e.ctl, accounts::ROOT, "eip_count", 3).await.unwrap();
    e.allocate().await;
    e.vpc("AllocateEipAddress", &[("RegionId", "cn-shanghai")]).await.unwrap();
    let (third, _) = e.allocate().await;
    let refused = e.vpc("AllocateEipAddress", &[("RegionId", "cn-beijing")]).await.unwrap_err();
    assert_eq!(refused, Error::EipQuotaExceeded);
    // A released EIP frees its place once it is gone.
    e.vpc("ReleaseEipAddress", &[("AllocationId", &third)]).await.unwrap();
    e.settle().await;
    e.allocate().await;
}

#[tokio::test]
async fn secrets_stored_in_the_clear_are_sealed_and_still_sign() {
    let e = env().await;
    let plain = e.ctl.store().read(|tx| Ok(tx.access_key_get("testid")?)).unwrap().unwrap();
    assert_eq!(plain.secret, "testsecret", "no key yet: stored as given");
    let sealed = crate::secrets::protect(&e.ctl, crate::secrets::SecretBox::from_key([3; 32])).await.unwrap();
    assert!(sealed >= 1);
    let row = e.ctl.store().read(|tx| Ok(tx.access_key_get("testid")?)).unwrap().unwrap();
    assert!(crate::secrets::is_sealed(&row.secret) && !row.secret.contains("testsecret"));
    let cache = accounts::KeyCache::default();
    assert_eq!(cache.get(&e.ctl, "testid").unwrap().unwrap().secret, "testsecret");
    // New pairs are sealed too, and shown in the clear once.
    let k = accounts::create_key(&e.ctl, accounts::ROOT).await.unwrap();
    let stored = e.ctl.store().read(move |tx| Ok(tx.access_key_get(&k.id)?)).unwrap().unwrap();
    assert!(crate::secrets::is_sealed(&stored.secret) && !stored.secret.contains(&k.secret));
    // Another key is refused by a store sealed with this one.
    let other = Controller::new(e.ctl.store().clone(), e.clock.clone(), Config::default());
    let refused = crate::secrets::protect(&other, crate::secrets::SecretBox::from_key([4; 32])).await.unwrap_err();
    assert!(refused.to_string().contains("--secrets-key-file"), "{refused}");
}
