//! RFC 3339 timestamps of audit events, as nanoseconds since the Unix epoch.

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let d = i64::from(d);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, &b| {
        acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// Parse `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` into nanoseconds since the
/// epoch. Times before 1970 are rejected (an audit log has none).
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if b.len() < 20 || !sep(4, b"-") || !sep(7, b"-") || !sep(10, b"Tt ") || !sep(13, b":") {
        return None;
    }
    if !sep(16, b":") {
        return None;
    }
    let year = digits(b.get(0..4)?)?;
    let month = digits(b.get(5..7)?)?;
    let day = digits(b.get(8..10)?)?;
    let hour = digits(b.get(11..13)?)?;
    let min = digits(b.get(14..16)?)?;
    let sec = digits(b.get(17..19)?)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let frac = b.get(start..i)?;
        if frac.is_empty() {
            return None;
        }
        let mut scale = 100_000_000u64;
        for &d in frac.iter().take(9) {
            nanos += u64::from(d - b'0') * scale;
            scale /= 10;
        }
    }
    let offset_secs: i64 = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if b.len() == i + 6 && b.get(i + 3) == Some(&b':') => {
            let oh = i64::from(digits(b.get(i + 1..i + 3)?)?);
            let om = i64::from(digits(b.get(i + 4..i + 6)?)?);
            let off = oh * 3600 + om * 60;
            if *c == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let secs =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec) - offset_secs;
    let secs = u64::try_from(secs).ok()?;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (UTC, nanoseconds), as Falco prints alert
/// times.
pub fn format_rfc3339_nanos(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let frac = ns % 1_000_000_000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// `HH:MM:SS.nnnnnnnnn` (UTC), the legacy `jevt.time` rendering.
pub fn format_time_of_day(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let rem = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:09}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ns % 1_000_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ns = parse_rfc3339("2018-10-25T14:09:12.470143Z").unwrap();
        assert_eq!(ns, 1_540_476_552_470_143_000);
        assert_eq!(format_rfc3339_nanos(ns), "2018-10-25T14:09:12.470143000Z");
        assert_eq!(format_time_of_day(ns), "14:09:12.470143000");
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2018-10-25T16:09:12+02:00"),
            parse_rfc3339("2018-10-25T14:09:12Z")
        );
        assert_eq!(
            format_rfc3339_nanos(parse_rfc3339("2024-02-29T23:59:59.123456789Z").unwrap()),
            "2024-02-29T23:59:59.123456789Z"
        );
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "2018-10-25",
            "2018-13-25T14:09:12Z",
            "2018-10-25T14:09:12",
            "2018-10-25T14:09:12.Z",
            "1969-12-31T23:59:59Z",
            "2018-10-25T14:09:12+0200",
            "２018-10-25T14:09:12Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }
}
