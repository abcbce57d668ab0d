use super::flow::encode_path;
use super::{strip_prefix, with_prefix};
use std::collections::HashMap;

#[test]
fn encodes_aliases_as_java_url_encoder_then_spaces_as_percent_20() {
    assert_eq!(encode_path("us-west_1.a*"), "us-west_1.a*");
    assert_eq!(encode_path("a b+c/d"), "a%20b%2Bc%2Fd");
    assert_eq!(encode_path("é"), "%C3%A9");
}

#[test]
fn prefix_helpers_follow_java_entries_with_prefix() {
    let props: HashMap<String, String> =
        [("task", "1"), ("tasks.max", "2"), ("A.", "x"), ("A.b", "y")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    let kept = with_prefix(&props, "task");
    assert_eq!(kept.len(), 2);
    assert_eq!(kept["tasks.max"], "2");
    let stripped = strip_prefix(&props, "A.");
    assert_eq!(stripped, HashMap::from([("b".to_owned(), "y".to_owned())]));
}
