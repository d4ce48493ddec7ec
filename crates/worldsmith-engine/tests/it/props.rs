use serde_json::Value;
use worldsmith_core::canonical::{canonical_json, json_eq};
use worldsmith_engine::State;
#[test]
fn probe() {
    let a: Value = serde_json::from_str(r#"{"x": 1e400}"#).unwrap();
    let b: Value = serde_json::from_str(r#"{"x": 2e400}"#).unwrap();
    eprintln!(
        "{} {} eq={}",
        canonical_json(&a),
        canonical_json(&b),
        json_eq(&a, &b)
    );
    let mut s1 = State::new(&["c"]);
    s1.put("c", "k", a).unwrap();
    let mut s2 = State::new(&["c"]);
    s2.put("c", "k", b).unwrap();
    let d = s1.diff(&s2);
    eprintln!("diff {:?}", d);
    eprintln!("{} {}", s1.with_changes(&d).unwrap().digest(), s2.digest());
}
