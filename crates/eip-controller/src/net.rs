//! Address bookkeeping shared by EIPs and instances: public addresses from
//! the region's pools (with their GEN-03 history), private addresses inside
//! vSwitches, and MAC addresses for ENIs.

use eip_domain::cidr::Cidr;
use eip_domain::pool::Permutation;
use eip_store::{AddressRow, PrivateIpRow, Tx, VSwitchRow};
use eip_types::{Error, Result};
use rand::Rng;
use std::collections::HashSet;
use std::net::Ipv4Addr;

/// Hands out a never-used address of the region if any remains, else the
/// free address released longest ago. Records the holder.
pub(crate) fn take_public(tx: &mut dyn Tx, region: &str, holder_kind: &str, holder_id: &str) -> Result<String> {
    for pool in tx.pool_list(region)? {
        let Some(cidr) = Cidr::parse(&pool.cidr) else {
            continue;
        };
        let perm = Permutation::of(cidr);
        let mut cursor = pool.cursor as u64;
        while cursor < perm.len() {
            let Some(ip) = perm.at(cursor) else { break };
            cursor += 1;
            let ip = ip.to_string();
            match tx.address_get(&ip)? {
                Some(a) if a.holder_id.is_some() => continue, // taken out of turn (retrieval, import)
                Some(a) if a.released_at.is_some() => continue, // keep it retrievable; reused only after the pools run dry
                _ => {}
            }
            tx.pool_set_cursor(region, &pool.cidr, cursor as i64)?;
            hold(tx, &ip, region, holder_kind, holder_id, None, None)?;
            return Ok(ip);
        }
        if cursor as i64 != pool.cursor {
            tx.pool_set_cursor(region, &pool.cidr, cursor as i64)?;
        }
    }
    let Some(old) = tx.address_oldest_free(region)? else {
        return Err(Error::InsufficientEip);
    };
    hold(tx, &old.ip, region, holder_kind, holder_id, old.last_account_id, old.released_at)?;
    Ok(old.ip)
}

/// Marks an address as held, keeping its history.
pub(crate) fn hold(
    tx: &mut dyn Tx,
    ip: &str,
    region: &str,
    holder_kind: &str,
    holder_id: &str,
    last_account: Option<String>,
    released_at: Option<i64>,
) -> Result<()> {
    tx.address_put(&AddressRow {
        ip: ip.to_owned(),
        region_id: region.to_owned(),
        holder_kind: Some(holder_kind.to_owned()),
        holder_id: Some(holder_id.to_owned()),
        last_account_id: last_account,
        released_at,
    })?;
    Ok(())
}

/// Whether `ip` belongs to one of the region's pools.
pub(crate) fn in_region_pool(tx: &mut dyn Tx, region: &str, ip: Ipv4Addr) -> Result<bool> {
    Ok(tx.pool_list(region)?.iter().filter_map(|p| Cidr::parse(&p.cidr)).any(|c| c.contains(ip)))
}

/// Returns a static public IP of an instance to the pool. Instance public IPs
/// are not EIPs, so they leave no retrieval right behind.
pub(crate) fn free_instance_public(tx: &mut dyn Tx, ip: &str, region: &str, now: i64) -> Result<()> {
    tx.address_put(&AddressRow {
        ip: ip.to_owned(),
        region_id: region.to_owned(),
        holder_kind: None,
        holder_id: None,
        last_account_id: None,
        released_at: Some(now),
    })?;
    Ok(())
}

/// Takes a private IP in a vSwitch for a holder (ENI, gateway, HaVip, …): the one requested if free and usable,
/// else the lowest free usable address.
pub(crate) fn take_private(
    tx: &mut dyn Tx,
    vsw: &VSwitchRow,
    holder_id: &str,
    requested: Option<&str>,
    primary: bool,
) -> Result<String> {
    let cidr = Cidr::parse(&vsw.cidr).ok_or_else(|| Error::Internal(format!("bad vSwitch CIDR {}", vsw.cidr)))?;
    let taken: HashSet<String> = tx.private_ip_list_vswitch(&vsw.id)?.into_iter().map(|r| r.ip).collect();
    let ip = match requested {
        Some(r) => {
            let ip: Ipv4Addr = r.parse().map_err(|_| Error::invalid("PrivateIpAddress", "must be an IPv4 address"))?;
            if !cidr.vswitch_is_usable(ip) || taken.contains(&ip.to_string()) {
                return Err(Error::PrivateIpUnavailable(r.to_owned()));
            }
            ip.to_string()
        }
        None => cidr
            .vswitch_usable()
            .map(|ip| ip.to_string())
            .find(|ip| !taken.contains(ip))
            .ok_or(Error::NoFreePrivateIp)?,
    };
    tx.private_ip_insert(&PrivateIpRow {
        vswitch_id: vsw.id.clone(),
        ip: ip.clone(),
        holder_id: holder_id.to_owned(),
        is_primary: primary,
    })?;
    Ok(ip)
}

/// Free usable addresses left in a vSwitch.
pub(crate) fn vswitch_available(tx: &mut dyn Tx, vsw: &VSwitchRow) -> Result<i64> {
    let cidr = Cidr::parse(&vsw.cidr).ok_or_else(|| Error::Internal(format!("bad vSwitch CIDR {}", vsw.cidr)))?;
    let usable = (cidr.size() as i64 - 4).max(0);
    Ok(usable - tx.private_ip_list_vswitch(&vsw.id)?.len() as i64)
}

/// A MAC address in Alibaba's `00:16:3e` range.
pub(crate) fn mac(tx: &mut dyn Tx) -> Result<String> {
    // Alibaba's OUI leaves 24 random bits: with many ENIs a draw can collide,
    // so draw again rather than fail the insert on the UNIQUE index.
    let mut r = rand::rng();
    for _ in 0..64 {
        let mac = format!("00:16:3e:{:02x}:{:02x}:{:02x}", r.random::<u8>(), r.random::<u8>(), r.random::<u8>());
        if !tx.eni_mac_taken(&mac)? {
            return Ok(mac);
        }
    }
    Err(Error::Internal("no free MAC address found".into()))
}
