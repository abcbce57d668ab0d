//! A subset of Java's `SimpleDateFormat` in UTC: enough for `TimestampRouter`'s
//! `timestamp.format` and `TimestampConverter`'s `format`.

use ferry_connect::ConfigError;
use ferry_connect::data::{civil_from_days, days_from_civil};

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// A pattern letter repeated `count` times.
    Field(char, usize),
}

/// A compiled `SimpleDateFormat` pattern that formats epoch milliseconds in UTC.
///
/// Supported letters: `G y Y M L d D E u a H k K h m s S z Z X`, with quoting by `'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DateFormat {
    pieces: Vec<Piece>,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl DateFormat {
    /// Compiles `pattern`.
    ///
    /// # Errors
    /// Java's `Illegal pattern character 'c'` or `Unterminated quote` messages.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                let mut literal = String::new();
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    pieces.push(Piece::Literal("'".into()));
                    continue;
                }
                loop {
                    match chars.next() {
                        None => return Err("Unterminated quote".into()),
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            literal.push('\'');
                        }
                        Some('\'') => break,
                        Some(other) => literal.push(other),
                    }
                }
                pieces.push(Piece::Literal(literal));
            } else if c.is_ascii_alphabetic() {
                if !"GyYMLdDEuaHkKhmsSzZX".contains(c) {
                    return Err(format!("Illegal pattern character '{c}'"));
                }
                let mut count = 1;
                while chars.peek() == Some(&c) {
                    chars.next();
                    count += 1;
                }
                pieces.push(Piece::Field(c, count));
            } else {
                pieces.push(Piece::Literal(c.to_string()));
            }
        }
        Ok(Self { pieces })
    }

    /// Compiles `pattern`, reporting a bad one as a configuration error on `key`.
    pub(crate) fn for_config(key: &str, pattern: &str) -> Result<Self, ConfigError> {
        Self::new(pattern).map_err(|e| ConfigError::invalid(key, pattern, Some(&e)))
    }

    /// Formats `millis` since the epoch, in UTC.
    pub(crate) fn format(&self, millis: i64) -> String {
        let days = millis.div_euclid(86_400_000);
        let ms_of_day = millis.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let day_of_year = days - days_from_civil(year, 1, 1) + 1;
        let weekday = (days + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday.
        let (hour, minute) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
        let (second, milli) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
        let mut out = String::new();
        for piece in &self.pieces {
            let (c, n) = match piece {
                Piece::Literal(text) => {
                    out.push_str(text);
                    continue;
                }
                Piece::Field(c, n) => (*c, *n),
            };
            let number = |v: i64| format!("{v:0n$}");
            let text = match c {
                'G' => if year > 0 { "AD" } else { "BC" }.to_owned(),
                'y' | 'Y' if n == 2 => format!("{:02}", year.rem_euclid(100)),
                'y' | 'Y' => number(year),
                'M' | 'L' if n >= 4 => MONTHS[month as usize - 1].to_owned(),
                'M' | 'L' if n == 3 => MONTHS[month as usize - 1][..3].to_owned(),
                'M' | 'L' => number(month),
                'd' => number(day),
                'D' => number(day_of_year),
                'E' if n >= 4 => DAYS[weekday].to_owned(),
                'E' => DAYS[weekday][..3].to_owned(),
                'u' => number(weekday as i64 + 1),
                'a' => if hour < 12 { "AM" } else { "PM" }.to_owned(),
                'H' => number(hour),
                'k' => number(if hour == 0 { 24 } else { hour }),
                'K' => number(hour % 12),
                'h' => number(if hour % 12 == 0 { 12 } else { hour % 12 }),
                'm' => number(minute),
                's' => number(second),
                'S' => number(milli),
                'z' if n >= 4 => "Coordinated Universal Time".to_owned(),
                'z' => "UTC".to_owned(),
                'Z' => "+0000".to_owned(),
                _ => "Z".to_owned(),
            };
            out.push_str(&text);
        }
        out
    }
}

impl DateFormat {
    /// Parses `text` leniently from its start, as `SimpleDateFormat.parse` does in UTC: numbers
    /// may be wider than the pattern unless another number follows directly, out-of-range
    /// fields roll over, trailing text is ignored. `None` when the text does not fit.
    pub(crate) fn parse(&self, text: &str) -> Option<i64> {
        let mut fields = Parsed::default();
        let mut rest = text;
        for (i, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Literal(literal) => rest = rest.strip_prefix(literal.as_str())?,
                Piece::Field(c, n) => {
                    let abutting = matches!(self.pieces.get(i + 1), Some(Piece::Field(next, _)) if is_numeric(*next, 1));
                    rest = fields.parse_field(*c, *n, rest, abutting)?;
                }
            }
        }
        Some(fields.millis())
    }
}

fn is_numeric(c: char, count: usize) -> bool {
    match c {
        'M' | 'L' => count < 3,
        'y' | 'Y' | 'd' | 'D' | 'u' | 'H' | 'k' | 'K' | 'h' | 'm' | 's' | 'S' => true,
        _ => false,
    }
}

/// The fields read so far; unset ones default to the epoch.
#[derive(Debug)]
struct Parsed {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    hour12: Option<i64>,
    pm: bool,
    minute: i64,
    second: i64,
    milli: i64,
    offset_minutes: i64,
}

impl Default for Parsed {
    fn default() -> Self {
        Self {
            year: 1970,
            month: 1,
            day: 1,
            hour: 0,
            hour12: None,
            pm: false,
            minute: 0,
            second: 0,
            milli: 0,
            offset_minutes: 0,
        }
    }
}

impl Parsed {
    fn parse_field<'t>(
        &mut self,
        c: char,
        n: usize,
        text: &'t str,
        abutting: bool,
    ) -> Option<&'t str> {
        if is_numeric(c, n) {
            let max = if abutting { n } else { usize::MAX };
            let len = text
                .bytes()
                .take(max)
                .take_while(u8::is_ascii_digit)
                .count();
            if len == 0 {
                return None;
            }
            let value: i64 = text[..len].parse().ok()?;
            match c {
                'y' | 'Y' if n <= 2 && len == 2 => {
                    self.year = 2000 + value - if value > 50 { 100 } else { 0 }
                }
                'y' | 'Y' => self.year = value,
                'M' | 'L' => self.month = value,
                'd' => self.day = value,
                'D' => {
                    self.month = 1;
                    self.day = value;
                }
                'H' => self.hour = value,
                'k' => self.hour = value % 24,
                'K' | 'h' => self.hour12 = Some(value % 12),
                'm' => self.minute = value,
                's' => self.second = value,
                'S' => self.milli = value,
                _ => {}
            }
            return Some(&text[len..]);
        }
        let word_len = text.chars().take_while(char::is_ascii_alphabetic).count();
        let word = &text[..word_len];
        match c {
            'M' | 'L' => {
                let index = MONTHS.iter().position(|m| {
                    m.eq_ignore_ascii_case(word)
                        || (word.len() == 3 && m[..3].eq_ignore_ascii_case(word))
                })?;
                self.month = index as i64 + 1;
                Some(&text[word_len..])
            }
            'E' => {
                DAYS.iter()
                    .any(|d| {
                        d.eq_ignore_ascii_case(word)
                            || (word.len() == 3 && d[..3].eq_ignore_ascii_case(word))
                    })
                    .then_some(())?;
                Some(&text[word_len..])
            }
            'a' => {
                self.pm = match word.to_ascii_uppercase().as_str() {
                    "AM" => false,
                    "PM" => true,
                    _ => return None,
                };
                Some(&text[word_len..])
            }
            'G' => matches!(word, "AD" | "BC").then_some(&text[word_len..]),
            _ => self.parse_zone(text),
        }
    }

    /// `Z`, `UTC`/`GMT`, or an offset `+hh`, `+hhmm`, `+hh:mm`.
    fn parse_zone<'t>(&mut self, text: &'t str) -> Option<&'t str> {
        for name in ["UTC", "GMT", "Z"] {
            if let Some(rest) = text.strip_prefix(name) {
                if name == "Z" || !rest.starts_with(['+', '-']) {
                    return Some(rest);
                }
                return self.parse_zone(rest);
            }
        }
        let sign = match text.chars().next()? {
            '+' => 1,
            '-' => -1,
            _ => return None,
        };
        let digits: String = text[1..].chars().filter(|c| *c != ':').take(4).collect();
        let consumed = text[1..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ':')
            .count()
            .min(5);
        let (hours, minutes) = match digits.len() {
            2 => (digits.parse::<i64>().ok()?, 0),
            4 => (
                digits[..2].parse::<i64>().ok()?,
                digits[2..].parse::<i64>().ok()?,
            ),
            _ => return None,
        };
        self.offset_minutes = sign * (hours * 60 + minutes);
        Some(&text[1 + consumed..])
    }

    fn millis(&self) -> i64 {
        let hour = match self.hour12 {
            Some(h) => h + if self.pm { 12 } else { 0 },
            None => self.hour,
        };
        let year = self.year + (self.month - 1).div_euclid(12);
        let month = (self.month - 1).rem_euclid(12) + 1;
        let days = days_from_civil(year, month, 1) + self.day - 1;
        days * 86_400_000
            + ((hour * 60 + self.minute - self.offset_minutes) * 60 + self.second) * 1000
            + self.milli
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_simple_date_format_in_utc() {
        // 2021-03-04T05:06:07.089Z
        let millis = 1_614_834_367_089;
        let f = |p: &str| DateFormat::new(p).unwrap().format(millis);
        assert_eq!(f("yyyyMMdd"), "20210304");
        assert_eq!(
            f("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
            "2021-03-04T05:06:07.089Z"
        );
        assert_eq!(f("yy-M-d H:m:s.S"), "21-3-4 5:6:7.89");
        assert_eq!(f("EEE, d MMM yyyy"), "Thu, 4 Mar 2021");
        assert_eq!(f("D 'o''clock' ''"), "63 o'clock '");
        assert_eq!(DateFormat::new("yyyy").unwrap().format(-1), "1969");
        assert_eq!(
            DateFormat::new("HH:mm:ss.SSS'Z'").unwrap().format(0),
            "00:00:00.000Z"
        );
    }

    #[test]
    fn parses_leniently_like_simple_date_format() {
        let parse = |p: &str, t: &str| DateFormat::new(p).unwrap().parse(t);
        assert_eq!(
            parse("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2021-03-04T05:06:07.089Z"),
            Some(1_614_834_367_089)
        );
        assert_eq!(parse("yyyyMMdd", "20210304"), Some(1_614_816_000_000));
        assert_eq!(
            parse("yyyy-MM-dd", "2021-03-04 trailing"),
            Some(1_614_816_000_000)
        );
        assert_eq!(parse("yyyy-MM-dd", "2021-13-01"), Some(1_640_995_200_000));
        assert_eq!(
            parse("dd MMM yyyy hh:mm a", "04 Mar 2021 01:30 PM"),
            Some(1_614_864_600_000)
        );
        assert_eq!(
            parse("yyyy-MM-dd HH:mmZ", "2021-03-04 05:06+0100"),
            Some(1_614_830_760_000)
        );
        assert_eq!(parse("yyyy-MM-dd", "2021/03/04"), None);
        assert_eq!(parse("HH:mm", "x"), None);
    }

    #[test]
    fn rejects_unknown_letters_and_open_quotes() {
        assert_eq!(
            DateFormat::new("yyyyq").unwrap_err(),
            "Illegal pattern character 'q'"
        );
        assert_eq!(DateFormat::new("'abc").unwrap_err(), "Unterminated quote");
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-719_468, -1, 0, 59, 365, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(18_690), (2021, 3, 4));
    }
}
