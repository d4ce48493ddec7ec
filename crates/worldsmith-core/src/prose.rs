//! Small rules for writing values and lists into English sentences, shared by the text that
//! synthesis, the scripted agents and users write and by the answer checker that reads it.

use serde_json::Value;

/// `a`, `a and b`, `a, b and c`.
#[must_use]
pub fn and_list(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A value as plain text: a string as it is (no quotes), anything else as compact JSON.
#[must_use]
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_and_values() {
        let parts = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(and_list(&parts(&[])), "");
        assert_eq!(and_list(&parts(&["a"])), "a");
        assert_eq!(and_list(&parts(&["a", "b"])), "a and b");
        assert_eq!(and_list(&parts(&["a", "b", "c"])), "a, b and c");
        assert_eq!(plain(&json!("ORD-1")), "ORD-1");
        assert_eq!(plain(&json!(12.5)), "12.5");
        assert_eq!(plain(&json!({"a": [1]})), r#"{"a":[1]}"#);
    }
}
