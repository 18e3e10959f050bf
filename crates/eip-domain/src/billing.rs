//! What an EIP costs: the published prices per region and the charge of each
//! billable item over a billed period, in exact integer money. Pure: the
//! meters that feed it (allocation time, association, bandwidth, outbound
//! bytes) and the bills it makes live in the controller.
//!
//! Prices and formulas: `../shared/spec/billing-quotas.md` §1 (the
//! international site's pay-as-you-go and subscription pages, USD). The
//! published worked examples reproduce to the cent (tests below). Choices the
//! record leaves open are in `docs/billing.md`.

use eip_types::InternetChargeType;

/// Money in millionths of a US dollar (a "micro").
pub type Micros = i64;

/// One dollar.
pub const USD: Micros = 1_000_000;

/// Bytes in one billed GB (traffic is billed per GB of 1,024 MB).
pub const GB: i64 = 1 << 30;

/// One hour in ms.
pub const HOUR_MS: i64 = 3_600_000;

/// The account's EIP quota above which no EIP gets the configuration-fee
/// waiver for ECS instances (§1.2).
pub const WAIVER_QUOTA_MAX: i64 = 2_000;

/// The prices of one region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prices {
    /// Outbound traffic (BGP), per GB.
    pub traffic_per_gb: Micros,
    /// Configuration (public IP retention) fee of a pay-by-traffic EIP, per hour.
    pub retention_per_hour: Micros,
    /// Configuration fee of a pay-by-bandwidth EIP, per day.
    pub retention_per_day: Micros,
    /// Bandwidth (BGP) per Mbit/s and day, for the first 5 Mbit/s.
    pub bandwidth_low_per_day: Micros,
    /// Bandwidth per Mbit/s and day beyond 5 Mbit/s.
    pub bandwidth_high_per_day: Micros,
    /// Subscription, per Mbit/s and month, for the first 5 Mbit/s.
    pub subscription_low_per_month: Micros,
    /// Subscription, per Mbit/s and month, beyond 5 Mbit/s.
    pub subscription_high_per_month: Micros,
}

const fn usd(dollars: f64) -> Micros {
    (dollars * 1_000_000.0 + 0.5) as Micros
}

const CHINA: Prices = Prices {
    traffic_per_gb: usd(0.123),
    retention_per_hour: usd(0.003),
    retention_per_day: usd(0.074),
    bandwidth_low_per_day: usd(0.14),
    bandwidth_high_per_day: usd(0.5),
    subscription_low_per_month: usd(3.40),
    subscription_high_per_month: usd(11.83),
};
const HONG_KONG: Prices =
    Prices { traffic_per_gb: usd(0.153), retention_per_hour: usd(0.009), retention_per_day: usd(0.211), ..CHINA };
const SINGAPORE: Prices =
    Prices { traffic_per_gb: usd(0.081), retention_per_hour: usd(0.006), retention_per_day: usd(0.151), ..CHINA };
const TOKYO: Prices = Prices {
    traffic_per_gb: usd(0.087),
    retention_per_hour: usd(0.005),
    retention_per_day: usd(0.113),
    bandwidth_low_per_day: usd(0.17),
    bandwidth_high_per_day: usd(0.57),
    // 18.48 for the first 5 Mbit/s, then 12.42 each.
    subscription_low_per_month: usd(3.696),
    subscription_high_per_month: usd(12.42),
};
const VIRGINIA: Prices =
    Prices { traffic_per_gb: usd(0.076), retention_per_hour: usd(0.005), retention_per_day: usd(0.113), ..CHINA };
const EUROPE: Prices =
    Prices { traffic_per_gb: usd(0.070), retention_per_hour: usd(0.006), retention_per_day: usd(0.151), ..CHINA };
/// Qingdao's subscription is 15.53 for the first 5 Mbit/s, then 10.64 each.
const QINGDAO: Prices =
    Prices { subscription_low_per_month: usd(3.106), subscription_high_per_month: usd(10.64), ..CHINA };
/// Dubai's subscription is 11.83 per Mbit/s from the first.
const DUBAI: Prices =
    Prices { subscription_low_per_month: usd(11.83), subscription_high_per_month: usd(11.83), ..SINGAPORE };

/// The published prices of a region. Mainland China regions share one
/// column; regions the table has no column for take the nearest published
/// one (docs/billing.md lists which).
pub fn published(region: &str) -> Prices {
    match region {
        "cn-qingdao" => QINGDAO,
        "cn-hongkong" => HONG_KONG,
        "ap-northeast-1" | "ap-northeast-2" => TOKYO,
        "us-east-1" | "us-west-1" | "na-south-1" => VIRGINIA,
        "eu-west-1" | "eu-central-1" => EUROPE,
        "me-east-1" => DUBAI,
        r if r.starts_with("cn-") => CHINA,
        _ => SINGAPORE,
    }
}

/// Billed hours of a period: any part of an hour counts as a whole one.
pub fn billed_hours(from_ms: i64, until_ms: i64) -> i64 {
    if until_ms <= from_ms { 0 } else { (until_ms - from_ms + HOUR_MS - 1) / HOUR_MS }
}

/// `a * b / c`, rounded half up, without overflow for any price and period.
fn mul_div(a: i64, b: i64, c: i64) -> Micros {
    let n = i128::from(a) * i128::from(b);
    let c = i128::from(c);
    ((n + c / 2) / c) as Micros
}

/// The configuration (public IP retention) fee for `hours`, or nothing when
/// waived (on a VPC ECS instance while the account's EIP quota is at most
/// [`WAIVER_QUOTA_MAX`]).
pub fn retention_fee(p: &Prices, metering: InternetChargeType, hours: i64, waived: bool) -> Micros {
    if waived {
        return 0;
    }
    match metering {
        InternetChargeType::PayByTraffic => p.retention_per_hour * hours,
        InternetChargeType::PayByBandwidth => mul_div(p.retention_per_day, hours, 24),
    }
}

/// Whether an EIP's configuration fee is waived: on a VPC ECS instance, and
/// the account's EIP quota (the limit, not the count) at most 2,000.
pub fn retention_waived(on_ecs_instance: bool, eip_quota: i64) -> bool {
    on_ecs_instance && eip_quota <= WAIVER_QUOTA_MAX
}

/// Outbound traffic fee for `bytes_out`.
pub fn traffic_fee(p: &Prices, bytes_out: i64) -> Micros {
    mul_div(p.traffic_per_gb, bytes_out.max(0), GB)
}

/// Bandwidth fee of `hours` at a day's peak of `mbps`: two tiers split at
/// 5 Mbit/s, prorated by hours / 24.
pub fn bandwidth_fee(p: &Prices, mbps: i64, hours: i64) -> Micros {
    let mbps = mbps.max(0);
    let per_day = p.bandwidth_low_per_day * mbps.min(5) + p.bandwidth_high_per_day * (mbps - 5).max(0);
    mul_div(per_day, hours, 24)
}

/// A subscription's price for `months` at `mbps`.
pub fn subscription_price(p: &Prices, mbps: i64, months: i64) -> Micros {
    let mbps = mbps.max(0);
    let per_month = p.subscription_low_per_month * mbps.min(5) + p.subscription_high_per_month * (mbps - 5).max(0);
    per_month * months.max(0)
}

/// Money as a bill shows it: dollars rounded to the cent.
pub fn cents(m: Micros) -> f64 {
    ((m + 5_000).div_euclid(10_000)) as f64 / 100.0
}

/// Days and months of bills are those of UTC+8 (Beijing time), as the cloud
/// settles them.
pub const SETTLEMENT_OFFSET_MS: i64 = 8 * HOUR_MS;

/// When the settlement day holding `ms` began.
pub fn settlement_day_start(ms: i64) -> i64 {
    (ms + SETTLEMENT_OFFSET_MS).div_euclid(eip_types::time::DAY_MS) * eip_types::time::DAY_MS - SETTLEMENT_OFFSET_MS
}

/// The settlement day of `ms` (`BillingDate`, `YYYY-MM-DD`).
pub fn billing_date(ms: i64) -> String {
    eip_types::time::format_iso(ms + SETTLEMENT_OFFSET_MS)[..10].to_owned()
}

/// The billing cycle of `ms` (`BillingCycle`, `YYYY-MM`).
pub fn billing_cycle(ms: i64) -> String {
    eip_types::time::format_iso(ms + SETTLEMENT_OFFSET_MS)[..7].to_owned()
}

/// What a bill line charges for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Item {
    /// The configuration (public IP retention) fee.
    ConfigFee,
    /// Outbound traffic.
    Traffic,
    /// Bandwidth at the day's peak.
    Bandwidth,
    /// A subscription period.
    Subscription,
}

impl Item {
    /// The bill's `BillingItem` code.
    pub fn code(self) -> &'static str {
        match self {
            Item::ConfigFee => "eip_config_fee",
            Item::Traffic => "eip_traffic",
            Item::Bandwidth => "eip_bandwidth",
            Item::Subscription => "eip_subscription",
        }
    }

    /// The bill's `ItemName`.
    pub fn name(self) -> &'static str {
        match self {
            Item::ConfigFee => "Public IP Retention Fee",
            Item::Traffic => "Outbound Data Transfer",
            Item::Bandwidth => "Bandwidth",
            Item::Subscription => "Subscription",
        }
    }
}

/// One line of a bill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// What it charges for.
    pub item: Item,
    /// How much was used, in `unit`s.
    pub usage: i64,
    /// `Hour`, `Byte`, `Mbps` or `Month`.
    pub unit: &'static str,
    /// The charge.
    pub amount: Micros,
}

/// One billed hour of a pay-as-you-go, pay-by-traffic EIP that sent
/// `bytes_out`: its configuration fee (none when waived) and its traffic.
pub fn traffic_hour(p: &Prices, waived: bool, bytes_out: i64) -> Vec<Line> {
    let mut out = Vec::with_capacity(2);
    if !waived {
        let amount = retention_fee(p, InternetChargeType::PayByTraffic, 1, false);
        out.push(Line { item: Item::ConfigFee, usage: 1, unit: "Hour", amount });
    }
    if bytes_out > 0 {
        out.push(Line { item: Item::Traffic, usage: bytes_out, unit: "Byte", amount: traffic_fee(p, bytes_out) });
    }
    out
}

/// One settled day of a pay-as-you-go, pay-by-bandwidth EIP: `hours` billed
/// hours that day at the day's peak of `peak_mbps`, of which `charged_hours`
/// pay the configuration fee (the others were waived).
pub fn bandwidth_day(p: &Prices, hours: i64, charged_hours: i64, peak_mbps: i64) -> Vec<Line> {
    let mut out = Vec::with_capacity(2);
    if hours > 0 {
        out.push(Line {
            item: Item::Bandwidth,
            usage: peak_mbps,
            unit: "Mbps",
            amount: bandwidth_fee(p, peak_mbps, hours),
        });
    }
    if charged_hours > 0 {
        let amount = retention_fee(p, InternetChargeType::PayByBandwidth, charged_hours, false);
        out.push(Line { item: Item::ConfigFee, usage: charged_hours, unit: "Hour", amount });
    }
    out
}

/// The total of some lines.
pub fn total(lines: &[Line]) -> Micros {
    lines.iter().map(|l| l.amount).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_hours_count_as_whole_ones() {
        assert_eq!(billed_hours(0, 0), 0);
        assert_eq!(billed_hours(0, 1), 1);
        assert_eq!(billed_hours(0, HOUR_MS), 1);
        assert_eq!(billed_hours(0, HOUR_MS + 1), 2);
        // The worked examples' EIP: created at 09:30, billed until midnight.
        assert_eq!(billed_hours(9 * HOUR_MS + HOUR_MS / 2, 24 * HOUR_MS), 15);
    }

    /// The published example (Singapore, pay-by-traffic, 60 GB out, 15 billed
    /// hours): 60 × 0.081 + 15 × 0.006 = USD 4.95.
    #[test]
    fn the_pay_by_traffic_example_costs_4_95() {
        let p = published("ap-southeast-1");
        let fee = traffic_fee(&p, 60 * GB) + retention_fee(&p, InternetChargeType::PayByTraffic, 15, false);
        assert_eq!(fee, 4_950_000);
        assert_eq!(cents(fee), 4.95);
    }

    /// The published example (Singapore, pay-by-bandwidth, the day's peak
    /// 20 Mbit/s, 15 billed hours): [0.14 × 5 + 0.5 × 15] × 15/24 + 0.151 × 15/24
    /// = USD 5.22.
    #[test]
    fn the_pay_by_bandwidth_example_costs_5_22() {
        let p = published("ap-southeast-1");
        let fee = bandwidth_fee(&p, 20, 15) + retention_fee(&p, InternetChargeType::PayByBandwidth, 15, false);
        assert_eq!(fee, 5_219_375);
        assert_eq!(cents(fee), 5.22);
    }

    /// The published subscription example: 10 Mbit/s in Singapore for one
    /// month, USD 76.15 (17.00 for the first 5 Mbit/s, then 11.83 each).
    #[test]
    fn the_subscription_example_costs_76_15() {
        assert_eq!(subscription_price(&published("ap-southeast-1"), 10, 1), 76_150_000);
        assert_eq!(subscription_price(&published("cn-hangzhou"), 3, 2), 20_400_000);
        assert_eq!(subscription_price(&published("ap-northeast-1"), 6, 1), 18_480_000 + 12_420_000);
        assert_eq!(subscription_price(&published("cn-qingdao"), 6, 1), 15_530_000 + 10_640_000);
        assert_eq!(subscription_price(&published("me-east-1"), 2, 1), 23_660_000);
    }

    #[test]
    fn the_waiver_needs_an_ecs_instance_and_a_quota_of_at_most_2000() {
        assert!(retention_waived(true, 20));
        assert!(retention_waived(true, 2_000));
        assert!(!retention_waived(true, 3_000), "a quota raised to 3,000: every EIP pays");
        assert!(!retention_waived(false, 20));
        let p = published("cn-hangzhou");
        assert_eq!(retention_fee(&p, InternetChargeType::PayByTraffic, 10, true), 0);
        assert_eq!(retention_fee(&p, InternetChargeType::PayByTraffic, 10, false), 30_000);
        assert_eq!(retention_fee(&p, InternetChargeType::PayByBandwidth, 24, false), 74_000);
    }

    #[test]
    fn every_region_has_prices_and_mainland_china_shares_them() {
        for r in crate::catalogue::REGIONS {
            let p = published(r.id);
            assert!(p.traffic_per_gb > 0 && p.retention_per_hour > 0 && p.bandwidth_low_per_day > 0, "{}", r.id);
        }
        assert_eq!(published("cn-beijing"), published("cn-shenzhen"));
        assert_eq!(published("cn-hangzhou").traffic_per_gb, 123_000);
        assert_eq!(published("eu-central-1").traffic_per_gb, 70_000);
    }

    /// The examples again, as the biller makes them: 15 hourly bills of 4 GB
    /// each; one settled day of 15 hours at a peak of 20 Mbit/s.
    #[test]
    fn the_examples_come_out_of_the_bill_lines_too() {
        let p = published("ap-southeast-1");
        let hours: Vec<Line> = (0..15).flat_map(|_| traffic_hour(&p, false, 4 * GB)).collect();
        assert_eq!(cents(total(&hours)), 4.95);
        assert_eq!(hours.iter().filter(|l| l.item == Item::ConfigFee).count(), 15);
        let day = bandwidth_day(&p, 15, 15, 20);
        assert_eq!(total(&day), 5_219_375);
        // Waived hours pay no configuration fee; traffic is billed anyway.
        assert_eq!(traffic_hour(&p, true, 0), vec![]);
        assert_eq!(total(&traffic_hour(&p, true, GB)), 81_000);
        assert_eq!(total(&bandwidth_day(&p, 24, 0, 5)), 700_000);
    }

    #[test]
    fn settlement_days_and_cycles_are_beijing_time() {
        // 2026-12-31T16:00:00Z is 2027-01-01 00:00 in UTC+8.
        let new_year = 1_798_732_800_000;
        assert_eq!(eip_types::time::format_iso(new_year), "2026-12-31T16:00:00Z");
        assert_eq!(billing_date(new_year), "2027-01-01");
        assert_eq!(billing_cycle(new_year), "2027-01");
        assert_eq!(billing_date(new_year - 1), "2026-12-31");
        assert_eq!(billing_cycle(new_year - 1), "2026-12");
        assert_eq!(settlement_day_start(new_year + 5 * HOUR_MS), new_year);
        assert_eq!(settlement_day_start(new_year - 1), new_year - eip_types::time::DAY_MS);
    }

    #[test]
    fn bandwidth_is_tiered_at_5_mbits() {
        let p = published("cn-hangzhou");
        assert_eq!(bandwidth_fee(&p, 5, 24), 700_000);
        assert_eq!(bandwidth_fee(&p, 6, 24), 1_200_000);
        assert_eq!(bandwidth_fee(&p, 1, 1), 5_833, "0.14 / 24, to the micro");
        assert_eq!(traffic_fee(&p, 0), 0);
        assert_eq!(traffic_fee(&p, GB / 2), 61_500);
        assert_eq!(cents(4_994_999), 4.99);
        assert_eq!(cents(4_995_000), 5.0);
    }
}
