//! Java's formatting and trimming rules where Connect's messages and JSON depend on them, shared
//! with the runtime so that every place Ferry prints a number or trims text does so as Java does.

/// Java's `Double.toString` / `Float.toString`: `1.0`, `0.5`, `1.0E7`, `1.5E-5`, `NaN`,
/// `Infinity`, with the shortest digits that identify the value in its own width.
///
/// ```
/// use ferry_connect::java::double_to_string;
/// assert_eq!(double_to_string(1e7), "1.0E7");
/// assert_eq!(double_to_string(0.1f32), "0.1");
/// assert_eq!(double_to_string(-0.0), "-0.0");
/// ```
pub fn double_to_string<T>(value: T) -> String
where
    T: Copy + Into<f64> + std::fmt::Display + std::fmt::LowerExp,
{
    let v: f64 = value.into();
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let magnitude = v.abs();
    if v == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let plain = format!("{value}");
        return if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        };
    }
    let sci = format!("{value:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    if mantissa.contains('.') {
        format!("{mantissa}E{exponent}")
    } else {
        format!("{mantissa}.0E{exponent}")
    }
}

/// Java's `String.trim()`: strips every character up to and including U+0020 from both ends.
///
/// ```
/// assert_eq!(ferry_connect::java::trim("\u{1} a\t"), "a");
/// ```
pub fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java_does() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (-2.25, "-2.25"),
            (0.0, "0.0"),
            (1e7, "1.0E7"),
            (1.5e-5, "1.5E-5"),
            (123456.0, "123456.0"),
            (0.001, "0.001"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (v, expected) in cases {
            assert_eq!(double_to_string(v), expected, "{v}");
        }
        assert_eq!(double_to_string(0.1f32), "0.1");
    }

    #[test]
    fn trim_strips_control_characters_like_java() {
        assert_eq!(trim("\u{1} a b\t\n"), "a b");
        assert_eq!(trim("\u{a0}x"), "\u{a0}x");
    }
}
