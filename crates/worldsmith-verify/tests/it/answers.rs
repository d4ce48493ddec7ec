//! The adversarial suite of the answer checker: crafted replies with the verdict each must
//! get (`tests/answers.jsonl`: correct answers phrased many ways, and refusals, dumps,
//! negations, hedges, conflicts, near misses, lists, booleans and multi-message cases).

use serde::Deserialize;
use serde_json::Value;
use worldsmith_core::task::Answer;
use worldsmith_verify::answers::check_answers;

#[derive(Deserialize)]
struct Case {
    name: String,
    answers: Vec<Answer>,
    #[serde(default)]
    known: Vec<Value>,
    replies: Vec<String>,
    expect: Vec<bool>,
}

#[test]
fn every_adversarial_verdict_is_right() {
    let text = include_str!("../answers.jsonl");
    let cases: Vec<Case> = text.lines().map(|l| serde_json::from_str(l).expect("a case")).collect();
    assert!(cases.len() >= 200, "the suite holds {} cases", cases.len());
    let mut wrong = Vec::new();
    for case in &cases {
        let replies: Vec<&str> = case.replies.iter().map(String::as_str).collect();
        let got: Vec<bool> = check_answers(&case.answers, &case.known, &replies).iter().map(Option::is_none).collect();
        if got != case.expect {
            let misses = check_answers(&case.answers, &case.known, &replies);
            wrong.push(format!("{}: expected {:?}, got {:?} ({misses:?})", case.name, case.expect, got));
        }
    }
    assert!(wrong.is_empty(), "{} of {} verdicts wrong:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}
