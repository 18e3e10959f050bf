//! The built-in catalogue of Alibaba Cloud regions and zones, with the real
//! ids, so SDK code written against the cloud finds the same names here.

/// One region and its zones.
#[derive(Debug)]
pub struct Region {
    /// Region id, e.g. `cn-hangzhou`.
    pub id: &'static str,
    /// Chinese display name (the API's default `LocalName`).
    pub local_name_zh: &'static str,
    /// English display name.
    pub local_name_en: &'static str,
    /// Zone ids.
    pub zones: &'static [&'static str],
}

macro_rules! region {
    ($id:literal, $zh:literal, $en:literal, [$($z:literal),*]) => {
        Region { id: $id, local_name_zh: $zh, local_name_en: $en, zones: &[$(concat!($id, "-", $z)),*] }
    };
}

/// Every region, in the order the console lists them. The index of a region
/// here picks its default address pool, so append only.
pub static REGIONS: &[Region] = &[
    region!("cn-qingdao", "华北1（青岛）", "China (Qingdao)", ["b", "c"]),
    region!(
        "cn-beijing",
        "华北2（北京）",
        "China (Beijing)",
        ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]
    ),
    region!("cn-zhangjiakou", "华北3（张家口）", "China (Zhangjiakou)", ["a", "b", "c"]),
    region!("cn-huhehaote", "华北5（呼和浩特）", "China (Hohhot)", ["a", "b"]),
    region!("cn-wulanchabu", "华北6（乌兰察布）", "China (Ulanqab)", ["a", "b", "c"]),
    region!("cn-hangzhou", "华东1（杭州）", "China (Hangzhou)", ["b", "e", "f", "g", "h", "i", "j", "k"]),
    region!("cn-shanghai", "华东2（上海）", "China (Shanghai)", ["a", "b", "e", "f", "g", "l", "m", "n"]),
    region!("cn-nanjing", "华东5（南京-本地地域）", "China (Nanjing - Local Region)", ["a"]),
    region!("cn-fuzhou", "华东6（福州-本地地域）", "China (Fuzhou - Local Region)", ["a"]),
    region!("cn-shenzhen", "华南1（深圳）", "China (Shenzhen)", ["a", "b", "c", "d", "e", "f"]),
    region!("cn-heyuan", "华南2（河源）", "China (Heyuan)", ["a", "b"]),
    region!("cn-guangzhou", "华南3（广州）", "China (Guangzhou)", ["a", "b"]),
    region!("cn-chengdu", "西南1（成都）", "China (Chengdu)", ["a", "b"]),
    region!("cn-hongkong", "中国香港", "China (Hong Kong)", ["b", "c", "d"]),
    region!("ap-northeast-1", "日本（东京）", "Japan (Tokyo)", ["a", "b", "c"]),
    region!("ap-northeast-2", "韩国（首尔）", "South Korea (Seoul)", ["a"]),
    region!("ap-southeast-1", "新加坡", "Singapore", ["a", "b", "c"]),
    region!("ap-southeast-3", "马来西亚（吉隆坡）", "Malaysia (Kuala Lumpur)", ["a", "b"]),
    region!("ap-southeast-5", "印度尼西亚（雅加达）", "Indonesia (Jakarta)", ["a", "b", "c"]),
    region!("ap-southeast-6", "菲律宾（马尼拉）", "Philippines (Manila)", ["a"]),
    region!("ap-southeast-7", "泰国（曼谷）", "Thailand (Bangkok)", ["a"]),
    region!("us-east-1", "美国（弗吉尼亚）", "US (Virginia)", ["a", "b"]),
    region!("us-west-1", "美国（硅谷）", "US (Silicon Valley)", ["a", "b"]),
    region!("na-south-1", "墨西哥", "Mexico", ["a"]),
    region!("eu-west-1", "英国（伦敦）", "UK (London)", ["a", "b"]),
    region!("eu-central-1", "德国（法兰克福）", "Germany (Frankfurt)", ["a", "b", "c"]),
    region!("me-east-1", "阿联酋（迪拜）", "UAE (Dubai)", ["a"]),
    region!("me-central-1", "沙特（利雅得）", "Saudi Arabia (Riyadh)", ["a"]),
];

/// Looks a region up by id.
pub fn region(id: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.id == id)
}

/// Position of a region in [`REGIONS`].
pub fn region_index(id: &str) -> Option<usize> {
    REGIONS.iter().position(|r| r.id == id)
}

/// The region a zone belongs to, if the zone exists.
pub fn zone_region(zone: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.zones.contains(&zone))
}

/// One ECS instance type: its size and its network limits (ENI-02).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceType {
    /// Type id, e.g. `ecs.g7.large`.
    pub id: &'static str,
    /// vCPUs.
    pub cpu: i64,
    /// Memory in MiB.
    pub memory_mb: i64,
    /// ENIs an instance of this type can hold, the primary one included (`EniQuantity`).
    pub eni_quantity: i64,
    /// Private IPv4 addresses per ENI, the primary one included (`EniPrivateIpAddressQuantity`).
    pub eni_private_ips: i64,
}

macro_rules! itype {
    ($id:literal, $cpu:literal, $mem:literal, $eni:literal, $ips:literal) => {
        InstanceType { id: $id, cpu: $cpu, memory_mb: $mem, eni_quantity: $eni, eni_private_ips: $ips }
    };
}

/// The instance types offered, with Alibaba's published ENI limits.
pub static INSTANCE_TYPES: &[InstanceType] = &[
    itype!("ecs.t5-lc1m1.small", 1, 1024, 1, 1),
    itype!("ecs.t5-lc1m2.small", 1, 2048, 1, 1),
    itype!("ecs.t6-c1m1.large", 2, 2048, 1, 1),
    itype!("ecs.e-c1m1.large", 2, 2048, 2, 3),
    itype!("ecs.u1-c1m2.large", 2, 4096, 2, 6),
    itype!("ecs.c7.large", 2, 4096, 3, 6),
    itype!("ecs.g7.large", 2, 8192, 3, 6),
    itype!("ecs.r7.large", 2, 16384, 3, 6),
    itype!("ecs.g7.xlarge", 4, 16384, 4, 15),
    itype!("ecs.g7.2xlarge", 8, 32768, 4, 15),
    itype!("ecs.c6.large", 2, 4096, 2, 6),
    itype!("ecs.g6.large", 2, 8192, 2, 6),
    itype!("ecs.g6.xlarge", 4, 16384, 3, 10),
    itype!("ecs.g8i.large", 2, 8192, 3, 6),
    itype!("ecs.c8i.large", 2, 4096, 3, 6),
];

/// What a type outside the catalogue that looks like an ECS type gets.
pub const NOMINAL_TYPE: InstanceType = itype!("", 2, 4096, 2, 6);

/// Looks an instance type up; `None` when it is not in the catalogue.
pub fn instance_type(id: &str) -> Option<&'static InstanceType> {
    INSTANCE_TYPES.iter().find(|t| t.id == id)
}

/// The limits of a type, nominal ones for a type outside the catalogue.
pub fn instance_type_or_nominal(id: &str) -> InstanceType {
    instance_type(id).copied().unwrap_or(NOMINAL_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_zones_prefixed() {
        for (i, r) in REGIONS.iter().enumerate() {
            assert_eq!(region_index(r.id), Some(i));
            assert!(!r.zones.is_empty());
            for z in r.zones {
                assert!(z.starts_with(r.id));
                assert_eq!(zone_region(z).map(|r| r.id), Some(r.id));
            }
        }
        assert!(REGIONS.len() <= 32, "the default pools give each region a /20 of 198.18.0.0/15");
        assert!(region("cn-hangzhou").unwrap().zones.contains(&"cn-hangzhou-h"));
    }
}
