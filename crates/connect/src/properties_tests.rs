use proptest::prelude::*;

use super::*;

fn pairs(text: &str) -> Vec<(String, String)> {
    Properties::parse(text)
        .unwrap()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn one(key: &str, value: &str) -> Vec<(String, String)> {
    vec![(key.to_owned(), value.to_owned())]
}

#[test]
fn javadoc_separator_examples() {
    for text in [
        "Truth = Beauty",
        " Truth:Beauty",
        "Truth                    :Beauty",
        "Truth\tBeauty",
    ] {
        assert_eq!(pairs(text), one("Truth", "Beauty"), "{text:?}");
    }
}

#[test]
fn javadoc_continuation_example() {
    let text = "fruits                           apple, banana, pear, \\\n\
                \x20                                cantaloupe, watermelon, \\\n\
                \x20                                kiwi, mango\n";
    assert_eq!(
        pairs(text),
        one(
            "fruits",
            "apple, banana, pear, cantaloupe, watermelon, kiwi, mango"
        )
    );
}

#[test]
fn key_without_value() {
    assert_eq!(pairs("cheeses\n"), one("cheeses", ""));
    assert_eq!(pairs("cheeses   \n"), one("cheeses", ""));
    assert_eq!(pairs("=\n"), one("", ""));
    assert_eq!(pairs(":v"), one("", "v"));
}

#[test]
fn only_one_separator_is_consumed() {
    assert_eq!(pairs("a==b"), one("a", "=b"));
    assert_eq!(pairs("a = : b"), one("a", ": b"));
    assert_eq!(pairs("a b=c"), one("a", "b=c"));
    assert_eq!(pairs("a  =  b  "), one("a", "b  "));
}

#[test]
fn comments_and_blank_lines() {
    let text = "# comment\n! bang comment\n   # indented comment\n\n \t \nk=v # not a comment\n";
    assert_eq!(pairs(text), one("k", "v # not a comment"));
}

#[test]
fn comments_never_continue() {
    assert_eq!(pairs("# comment \\\nk=v"), one("k", "v"));
}

#[test]
fn continuation_lines_are_content_even_when_they_look_like_comments() {
    assert_eq!(pairs("k=a\\\n  # b"), one("k", "a# b"));
}

#[test]
fn even_backslashes_do_not_continue() {
    assert_eq!(
        pairs("k=a\\\\\nj=b"),
        vec![("k".into(), "a\\".into()), ("j".into(), "b".into())]
    );
}

#[test]
fn continuation_into_blank_line_ends_the_value() {
    assert_eq!(
        pairs("k=a\\\n   \nj=b"),
        vec![("k".into(), "a".into()), ("j".into(), "b".into())]
    );
}

#[test]
fn trailing_backslash_at_end_of_input_is_dropped() {
    assert_eq!(pairs("k=a\\"), one("k", "a"));
}

#[test]
fn line_terminators() {
    assert_eq!(
        pairs("a=1\r\nb=2\rc=3\n"),
        vec![
            ("a".into(), "1".into()),
            ("b".into(), "2".into()),
            ("c".into(), "3".into())
        ]
    );
    assert_eq!(pairs("k=a\\\r\n  b"), one("k", "ab"));
}

#[test]
fn escapes() {
    assert_eq!(pairs(r"k=\t\n\r\f\\\q"), one("k", "\t\n\r\u{c}\\q"));
    assert_eq!(pairs(r"key\ with\ spaces = v"), one("key with spaces", "v"));
    assert_eq!(pairs(r"a\=b\:c=d"), one("a=b:c", "d"));
    assert_eq!(pairs(r"k=\u0041\u00e9\uD83D\uDE00"), one("k", "Aé😀"));
    assert_eq!(pairs(r"\#k=v"), one("#k", "v"));
}

#[test]
fn malformed_unicode_escape_fails() {
    let err = Properties::parse(r"k=\u12G4").unwrap_err();
    assert_eq!(err.to_string(), "Malformed \\uxxxx encoding.");
    assert!(Properties::parse(r"k=\u12").is_err());
}

#[test]
fn later_values_win_and_keep_first_position() {
    let props = Properties::parse("a=1\nb=2\na=3").unwrap();
    assert_eq!(props.iter().collect::<Vec<_>>(), [("a", "3"), ("b", "2")]);
}

#[test]
fn latin1_decoding() {
    let props = Properties::parse_latin1(b"k=caf\xe9").unwrap();
    assert_eq!(props.get("k"), Some("café"));
}

#[test]
fn store_escapes_as_java_does() {
    let props: Properties = [("a key", " lead = : # ! \\ é\t")].into_iter().collect();
    assert_eq!(
        props.store(),
        "a\\ key=\\ lead \\= \\: \\# \\! \\\\ \\u00E9\\t\n"
    );
}

#[test]
fn load_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.properties");
    std::fs::write(&path, "k=caf\u{e9}\n").unwrap();
    assert_eq!(Properties::load_utf8(&path).unwrap().get("k"), Some("café"));
    assert_eq!(
        Properties::load_latin1(&path).unwrap().get("k"),
        Some("cafÃ©")
    );
    let err = Properties::load_utf8(dir.path().join("missing")).unwrap_err();
    assert!(matches!(err, PropertiesError::Io { .. }));
}

proptest! {
    #[test]
    fn store_then_parse_round_trips(entries in proptest::collection::vec((any::<String>(), any::<String>()), 0..8)) {
        let props: Properties = entries.into_iter().collect();
        let parsed = Properties::parse(&props.store()).unwrap();
        prop_assert_eq!(parsed, props);
    }

    #[test]
    fn parse_never_panics(text in "[ -~\\t\\n\\r\\\\]{0,64}") {
        let _ = Properties::parse(&text);
    }
}
