//! ISO-8601 text of Connect's temporal values as Java's `Values` writes and reads it, with
//! `SimpleDateFormat` patterns `yyyy-MM-dd`, `HH:mm:ss.SSS'Z'` and
//! `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, in UTC.

use super::logical::MILLIS_PER_DAY;

/// Days since the epoch of a proleptic Gregorian date (month and day may overflow, as Java's
/// lenient calendar allows).
///
/// ```
/// use ferry_connect::data::days_from_civil;
/// assert_eq!(days_from_civil(2021, 3, 4), 18_690);
/// assert_eq!(days_from_civil(2020, 13, 1), days_from_civil(2021, 1, 1));
/// ```
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let months = year * 12 + (month - 1);
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (day - 1)
}

/// The proleptic Gregorian `(year, month, day)` of a day since the epoch.
///
/// ```
/// assert_eq!(ferry_connect::data::civil_from_days(18_690), (2021, 3, 4));
/// ```
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Java's `Values.dateFormatFor` then `format`: times of the epoch's day (and anything before
/// the epoch) as `HH:mm:ss.SSSZ`, whole days as `yyyy-MM-dd`, the rest as full timestamps.
pub(crate) fn format_millis(millis: i64) -> String {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let ms = millis.rem_euclid(MILLIS_PER_DAY);
    let time = format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    );
    let (year, month, day) = civil_from_days(days);
    let date = format!("{year:04}-{month:02}-{day:02}");
    if millis < MILLIS_PER_DAY {
        time
    } else if millis % MILLIS_PER_DAY == 0 {
        date
    } else {
        format!("{date}T{time}")
    }
}

/// The temporal kind a token's length selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Temporal {
    /// `yyyy-MM-dd`: days since the epoch.
    Date(i64),
    /// `HH:mm:ss.SSS'Z'`: milliseconds since midnight.
    Time(i64),
    /// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`: milliseconds since the epoch.
    Timestamp(i64),
}

const DATE: &str = "y-M-d";
const TIME: &str = "H:m:s.SZ";
const TIMESTAMP: &str = "y-M-dTH:m:s.SZ";

/// Java's `parseAsTemporal`: escaped colons are unescaped, the length picks the pattern (13 for
/// times, 24 for timestamps, 10 for dates), and the pattern is matched leniently: every numeric
/// field takes all its digits and may overflow into the next larger one. As with
/// `SimpleDateFormat`, text after a complete match is ignored.
pub(crate) fn parse_temporal(token: &str) -> Option<Temporal> {
    let token = token.replace("\\:", ":");
    let pattern = match token.chars().count() {
        13 => TIME,
        24 => TIMESTAMP,
        10 => DATE,
        _ => return None,
    };
    let fields = match_pattern(&token, pattern)?;
    let field = |c: char| fields.iter().find(|(f, _)| *f == c).map_or(0, |(_, v)| *v);
    let time = field('H') * 3_600_000 + field('m') * 60_000 + field('s') * 1000 + field('S');
    let days = || days_from_civil(field('y'), field('M'), field('d'));
    Some(match pattern {
        TIME => Temporal::Time(time),
        DATE => Temporal::Date(days()),
        _ => Temporal::Timestamp(days() * MILLIS_PER_DAY + time),
    })
}

/// Matches `text` against a pattern of field letters and literal characters.
fn match_pattern(text: &str, pattern: &str) -> Option<Vec<(char, i64)>> {
    let mut rest = text;
    let mut fields = Vec::new();
    for p in pattern.chars() {
        if matches!(p, 'y' | 'M' | 'd' | 'H' | 'm' | 's' | 'S') {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            fields.push((p, rest[..digits].parse().ok()?));
            rest = &rest[digits..];
        } else {
            rest = rest.strip_prefix(p)?;
        }
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_conversions_agree() {
        for days in [-800_000, -1, 0, 1, 59, 365, 10_957, 18_262, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(18_262), (2020, 1, 1));
        assert_eq!(days_from_civil(2020, 13, 1), days_from_civil(2021, 1, 1));
    }

    #[test]
    fn formats_as_values_does() {
        assert_eq!(format_millis(0), "00:00:00.000Z");
        assert_eq!(format_millis(45_296_789), "12:34:56.789Z");
        assert_eq!(format_millis(18_262 * MILLIS_PER_DAY), "2020-01-01");
        assert_eq!(
            format_millis(18_262 * MILLIS_PER_DAY + 1),
            "2020-01-01T00:00:00.001Z"
        );
        assert_eq!(format_millis(-1), "23:59:59.999Z");
    }

    #[test]
    fn parses_leniently_by_length() {
        assert_eq!(parse_temporal("2020-01-01"), Some(Temporal::Date(18_262)));
        assert_eq!(
            parse_temporal("12\\:34\\:56.789Z"),
            Some(Temporal::Time(45_296_789))
        );
        assert_eq!(
            parse_temporal("2020-01-01T00:00:01.000Z"),
            Some(Temporal::Timestamp(18_262 * MILLIS_PER_DAY + 1000))
        );
        assert_eq!(
            parse_temporal("2020-13-01"),
            Some(Temporal::Date(days_from_civil(2021, 1, 1)))
        );
        assert_eq!(parse_temporal("2020-1-1xy"), Some(Temporal::Date(18_262)));
        assert_eq!(parse_temporal("2020/01/01"), None);
        assert_eq!(parse_temporal("abc"), None);
    }
}
