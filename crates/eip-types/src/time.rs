//! Wall time as the API shows it: milliseconds since the Unix epoch inside
//! the system, `YYYY-MM-DDThh:mm:ssZ` (UTC) on the wire. Hand-rolled civil
//! calendar arithmetic keeps this crate free of dependencies.

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type EpochMs = i64;

/// One day in milliseconds.
pub const DAY_MS: EpochMs = 86_400_000;

/// Days since the epoch → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since the epoch.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats as `YYYY-MM-DDThh:mm:ssZ`.
pub fn format_iso(ms: EpochMs) -> String {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z", sod / 3600, (sod / 60) % 60, sod % 60)
}

/// Formats as `YYYY-MM-DDThh:mmZ` (the precision of some filters).
pub fn format_iso_minutes(ms: EpochMs) -> String {
    let mut s = format_iso(ms);
    s.replace_range(16..19, "");
    s
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The years a timestamp may name: four digits, from the epoch on. Anything
/// else is refused when parsed, so every instant the system handles is a
/// small positive number and differences of two of them cannot overflow.
pub const YEARS: std::ops::RangeInclusive<i64> = 1970..=9999;

/// Parses `YYYY-MM-DDThh:mm:ssZ` or `YYYY-MM-DDThh:mmZ` (UTC), years in
/// [`YEARS`].
pub fn parse_iso(s: &str) -> Option<EpochMs> {
    if s.len() > 20 {
        return None;
    }
    let body = s.strip_suffix('Z')?;
    let (date, clock) = body.split_once('T')?;
    let mut dp = date.split('-');
    let year = dp.next()?;
    let (y, mo, d) = (num(year)?, num(dp.next()?)?, num(dp.next()?)?);
    if year.len() != 4 || !YEARS.contains(&y) {
        return None;
    }
    if dp.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let (h, mi, se) = match parts.as_slice() {
        [h, m] => (num(h)?, num(m)?, 0),
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        _ => return None,
    };
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    if civil_from_days(days) != (y, mo as u32, d as u32) {
        return None; // e.g. February 30th
    }
    Some(((days * 86_400) + h * 3600 + mi * 60 + se) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_iso(1_795_651_200_000), "2026-11-26T00:00:00Z");
        assert_eq!(parse_iso("2026-11-26T02:25:00Z"), Some(1_795_651_200_000 + (2 * 3600 + 25 * 60) * 1000));
        assert_eq!(parse_iso("2024-01-01T00:00Z"), parse_iso("2024-01-01T00:00:00Z"));
        assert_eq!(format_iso_minutes(0), "1970-01-01T00:00Z");
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "2026-11-26",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-26T24:00:00Z",
            "x",
            // Years outside 1970..=9999 (issue 9: year 0 and 292278000 made
            // a monitor query's period count wrap).
            "0000-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "292278000-01-01T00:00:00Z",
            "10000-01-01T00:00:00Z",
            "02026-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_iso(s), None, "{s}");
        }
    }

    #[test]
    fn the_range_ends_are_accepted() {
        assert_eq!(parse_iso("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso("9999-12-31T23:59:59Z"), Some(253_402_300_799_000));
    }

    proptest::proptest! {
        #[test]
        fn format_then_parse_round_trips(secs in 0i64..8_000_000_000) {
            let ms = secs * 1000;
            proptest::prop_assert_eq!(parse_iso(&format_iso(ms)), Some(ms));
        }
    }
}
