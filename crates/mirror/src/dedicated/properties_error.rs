//! Turns a properties syntax error into one that names the line, since the properties reader
//! (like Java's) reports only that a `\uXXXX` escape is malformed.

use ferry_connect::properties::PropertiesError;

use super::Mm2ConfigError;

/// `error` from parsing `text`, with the line of the first malformed `\u` escape when that is
/// the error.
pub(super) fn locate(error: PropertiesError, text: &str) -> Mm2ConfigError {
    match error {
        PropertiesError::MalformedUnicodeEscape => Mm2ConfigError::MalformedEscape {
            line: malformed_escape_line(text).unwrap_or(1),
        },
        PropertiesError::Io { ref path, .. } => Mm2ConfigError::Read {
            path: path.clone(),
            source: error,
        },
    }
}

/// The 1-based line of the first `\u` not followed by four hex digits, outside comment lines.
fn malformed_escape_line(text: &str) -> Option<usize> {
    let mut continued = false;
    for (index, line) in text.lines().enumerate() {
        let body = line.trim_start_matches([' ', '\t', '\x0c']);
        // A comment line never continues, and a continued line is never a comment.
        if !continued && (body.starts_with('#') || body.starts_with('!')) {
            continue;
        }
        let bytes = body.as_bytes();
        let mut i = 0;
        let mut trailing_backslashes = 0;
        while i < bytes.len() {
            if bytes[i] != b'\\' {
                trailing_backslashes = 0;
                i += 1;
                continue;
            }
            match bytes.get(i + 1) {
                None => {
                    trailing_backslashes = 1;
                    i += 1;
                }
                Some(b'u') => {
                    let digits = bytes.get(i + 2..i + 6);
                    if !digits.is_some_and(|d| d.iter().all(u8::is_ascii_hexdigit)) {
                        return Some(index + 1);
                    }
                    trailing_backslashes = 0;
                    i += 6;
                }
                Some(_) => {
                    trailing_backslashes = 0;
                    i += 2;
                }
            }
        }
        continued = trailing_backslashes == 1 && !body.is_empty();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::malformed_escape_line;

    #[test]
    fn finds_the_line_of_a_malformed_escape() {
        assert_eq!(
            malformed_escape_line("a=1\nb=\\u00e9\nc=\\u12x4\n"),
            Some(3)
        );
        assert_eq!(
            malformed_escape_line("# \\uzz\nk=\\\\uzz\nk2=\\uZZ"),
            Some(3)
        );
        assert_eq!(malformed_escape_line("k=a\\\n  # \\u1\n"), Some(2));
        assert_eq!(malformed_escape_line("k=\\u0041"), None);
    }
}
