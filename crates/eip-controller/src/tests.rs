//! Controller tests against a real SQLite file and a fake clock. Each test
//! names the rule it proves.

use crate::clock::FakeClock;
use crate::{Body, Config, Controller, Ctx, accounts, demo, tasks};
use eip_api::{Params, Product};
use eip_store::sqlite::SqliteStore;
use eip_store::{StoreError, StoreExt};
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
    let dir = std::env::temp_dir().join(format!("eipctl-test-{}", eip_types::EipId::generate()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&dir.join("eipd.db")).unwrap();
    let clock = Arc::new(FakeClock::new(1_795_651_200_000));
    let ctl = Controller::new(Arc::new(store), clock.clone(), Config { task_delay_ms: DELAY });
    let boot = accounts::bootstrap(&ctl, Some(("testid".into(), "testsecret".into()))).await.unwrap();
    let instances = demo::seed(&ctl, &boot.root_account).await.unwrap();
    let e = Env { ctl, clock, account: boot.root_account, instances, dir };
    e.settle().await;
    e
}

impl Env {
    async fn call(&self, product: Product, action: &'static str, pairs: &[(&str, &str)]) -> Result<Body, Error> {
        let ctx = Ctx { account: self.account.clone(), product, action, request_id: "test".into() };
        let p = Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        self.ctl.call(&ctx, &p).await
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
            row.instance_id = Some(inst);
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
