//! Optional LLM paraphrase of task goals.
//!
//! The templated goal is exact but stiff; a model can rewrite it in the persona's voice. A
//! rewrite is accepted only if it keeps every fact the template states (ids, names, values,
//! case-insensitively) and reveals no expected answer the template did not already contain;
//! otherwise the task keeps its template and the reason is counted. The model is reached
//! through a function the caller provides (the CLI passes an OpenAI-compatible client), so
//! this crate does no I/O.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use worldsmith_core::task::{Answer, Scenario, TaskLine};

/// What paraphrasing did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParaphraseStats {
    /// Tasks sent to the model.
    pub asked: usize,
    /// Tasks whose goal was replaced.
    pub rewritten: usize,
    /// Rewrites refused, by reason (`endpoint`, `empty`, `too_long`, `lost_fact`,
    /// `leaked_answer`).
    pub rejected: BTreeMap<String, usize>,
}

/// The instruction sent to the model for one scenario.
#[must_use]
pub fn prompt(scenario: &Scenario) -> String {
    format!(
        "Rewrite this customer request in your own words, as the customer would type it in a support chat, in the manner described. Keep every name, id, number, date and quoted value exactly as written. Do not add facts, do not answer the question, and do not mention tools. Reply with the rewritten request only.\n\nManner: {}\nRequest: {}",
        scenario.persona, scenario.goal
    )
}

/// Why a rewrite is refused, or `None` when it is acceptable.
#[must_use]
pub fn refusal(scenario: &Scenario, answers: &[Answer], rewrite: &str) -> Option<&'static str> {
    let rewrite = rewrite.trim();
    if rewrite.is_empty() {
        return Some("empty");
    }
    if rewrite.len() > 3 * scenario.goal.len() + 200 {
        return Some("too_long");
    }
    let goal = scenario.goal.to_lowercase();
    let lower = rewrite.to_lowercase();
    let stated = scenario.known_facts.values().map(spoken).filter(|v| !v.is_empty() && goal.contains(v.as_str()));
    for fact in stated {
        if !lower.contains(&fact) {
            return Some("lost_fact");
        }
    }
    // Short answers ("no", "3") occur in any text by chance; check the distinctive ones.
    let leaked = answers
        .iter()
        .flat_map(Answer::members)
        .map(spoken)
        .any(|a| a.len() >= 4 && !goal.contains(&a) && lower.contains(&a));
    if leaked {
        return Some("leaked_answer");
    }
    None
}

/// A value as it appears in text, lower-cased.
fn spoken(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_lowercase(),
        Value::Null => String::new(),
        other => other.to_string().to_lowercase(),
    }
}

/// Asks `rewrite` (prompt in, text out) for every task's goal, in parallel, and keeps the
/// acceptable rewrites. Tasks without a scenario are left alone.
pub fn paraphrase(
    tasks: &mut [TaskLine],
    rewrite: &(dyn Fn(&str) -> Result<String, String> + Sync),
) -> ParaphraseStats {
    let outcomes: Vec<Option<Result<(), &'static str>>> = tasks
        .par_iter_mut()
        .map(|task| {
            let answers = task.answers.clone();
            let scenario = task.scenario.as_mut()?;
            let outcome = match rewrite(&prompt(scenario)) {
                Err(_) => Err("endpoint"),
                Ok(text) => match refusal(scenario, &answers, &text) {
                    Some(reason) => Err(reason),
                    None => {
                        scenario.goal = text.trim().to_owned();
                        Ok(())
                    }
                },
            };
            Some(outcome)
        })
        .collect();
    let mut stats = ParaphraseStats::default();
    for outcome in outcomes.into_iter().flatten() {
        stats.asked += 1;
        match outcome {
            Ok(()) => stats.rewritten += 1,
            Err(reason) => *stats.rejected.entry(reason.to_owned()).or_default() += 1,
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario() -> Scenario {
        Scenario {
            goal: "What is the status of order ORD-00126 of customer CUST-0035?".to_owned(),
            known_facts: [("customer_id".to_owned(), json!("CUST-0035")), ("order_id".to_owned(), json!("ORD-00126"))]
                .into_iter()
                .collect(),
            persona: "In a hurry.".to_owned(),
            withheld: Vec::new(),
        }
    }

    #[test]
    fn a_faithful_rewrite_is_accepted() {
        let s = scenario();
        assert_eq!(
            refusal(
                &s,
                &[Answer::infer(json!("delivered"), None)],
                "Quick: where's my order ord-00126? I'm CUST-0035."
            ),
            None
        );
        assert!(prompt(&s).contains("In a hurry.") && prompt(&s).contains("ORD-00126"));
    }

    #[test]
    fn lost_facts_leaked_answers_and_rambling_are_refused() {
        let s = scenario();
        assert_eq!(refusal(&s, &[], "Where is my order? I'm CUST-0035."), Some("lost_fact"));
        let leak = "Order ORD-00126 for CUST-0035 is delivered, right?";
        assert_eq!(refusal(&s, &[Answer::infer(json!("delivered"), None)], leak), Some("leaked_answer"));
        assert_eq!(refusal(&s, &[], "  "), Some("empty"));
        assert_eq!(refusal(&s, &[], &"ORD-00126 CUST-0035 ".repeat(40)), Some("too_long"));
    }

    #[test]
    fn paraphrase_keeps_the_template_when_the_model_fails() {
        let mut tasks: Vec<TaskLine> = (0..3)
            .map(|i| {
                serde_json::from_value(
                    json!({"id": i, "actions": [], "answers": ["delivered"], "scenario": scenario()}),
                )
                .unwrap()
            })
            .collect();
        let stats = paraphrase(&mut tasks, &|p: &str| {
            if p.contains("Manner: In a hurry.") {
                Ok("Status of ORD-00126 please, I'm CUST-0035.".to_owned())
            } else {
                Err("down".to_owned())
            }
        });
        assert_eq!((stats.asked, stats.rewritten), (3, 3));
        assert_eq!(tasks[0].scenario.as_ref().unwrap().goal, "Status of ORD-00126 please, I'm CUST-0035.");
        let stats = paraphrase(&mut tasks, &|_: &str| Err("down".to_owned()));
        assert_eq!(stats.rejected["endpoint"], 3);
        assert_eq!(tasks[1].scenario.as_ref().unwrap().goal, "Status of ORD-00126 please, I'm CUST-0035.");
    }
}
