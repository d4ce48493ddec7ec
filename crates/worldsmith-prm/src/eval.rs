//! PRM evaluation, ToolPRMBench's protocol: each pair's two actions shown in a seeded random
//! order, the PRM picks one; accuracy overall and per source, error type and world, with
//! the accuracy when the correct action is shown first and second (position bias), each with
//! a 95% Wilson interval.
//!
//! PRMs ([`Prm`]): an OpenAI-compatible chat model asked to pick A or B ([`ModelPrm`], the
//! prompt is [`prompt`]), a scorer endpoint that returns a score for (history, action)
//! ([`ScorerPrm`]), and three baselines: [`RandomPrm`], [`HeuristicPrm`] (no execution) and
//! [`LookaheadPrm`] (execution on a fork: the upper bound).

use crate::judge::{Decision, prove};
use crate::path::{GoldPath, Point};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use worldsmith_core::canonical::json_eq;
use worldsmith_core::episode::{CallOutcome, Message};
use worldsmith_core::prm::{ErrorType, PairLine, PairSource};
use worldsmith_core::rng::SplitMix64;
use worldsmith_llm::{ChatClient, message_text};

/// Which of the two shown actions a PRM prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The first shown (A).
    First,
    /// The second shown (B).
    Second,
    /// No usable answer (a model that answered neither A nor B, a scorer that failed).
    Neither,
}

/// The situation a PRM judges: the conversation and the tools offered.
pub struct Shown<'a> {
    /// The pair (its history, functions, world and task).
    pub pair: &'a PairLine,
    /// The two actions in the order shown.
    pub actions: [&'a Message; 2],
}

impl<'a> Shown<'a> {
    /// The pair's actions in a seeded random order (the stream `<purpose>/<pair id>`), and
    /// whether the chosen one comes first.
    #[must_use]
    pub fn in_seeded_order(pair: &'a PairLine, seed: u64, purpose: &str) -> (bool, Shown<'a>) {
        let mut rng = SplitMix64::for_stream(seed, &format!("{purpose}/{}", pair.id));
        let chosen_first = rng.below(2) == 0;
        let actions = if chosen_first {
            [&pair.action_chosen, &pair.action_rejected]
        } else {
            [&pair.action_rejected, &pair.action_chosen]
        };
        (chosen_first, Shown { pair, actions })
    }
}

/// A process reward model under test.
pub trait Prm: Sync {
    /// Its name in reports.
    fn name(&self) -> String;
    /// Which action it prefers.
    ///
    /// # Errors
    /// Why it could not answer (counted, and the pair scored wrong).
    fn pick(&self, shown: &Shown<'_>) -> Result<Pick, String>;
}

/// Picks at random (seeded per pair).
pub struct RandomPrm {
    /// The seed.
    pub seed: u64,
}

impl Prm for RandomPrm {
    fn name(&self) -> String {
        "random".to_owned()
    }
    fn pick(&self, shown: &Shown<'_>) -> Result<Pick, String> {
        let mut rng = SplitMix64::for_stream(self.seed, &format!("random/{}", shown.pair.id));
        Ok(if rng.below(2) == 0 { Pick::First } else { Pick::Second })
    }
}

/// A rule of thumb without execution: a call scores 0, minus 2 when its tool is not offered,
/// minus 1 for each argument value that appears nowhere in the conversation, minus 1 when
/// it repeats a call already made; a question scores -0.5 and any other reply -1. The
/// higher score wins; a tie goes to the first shown.
pub struct HeuristicPrm;

impl HeuristicPrm {
    fn score(pair: &PairLine, action: &Message) -> f64 {
        if action.tool_calls.is_empty() {
            return if action.content.as_deref().unwrap_or("").contains('?') { -0.5 } else { -1.0 };
        }
        let said: String = pair
            .history
            .iter()
            .filter_map(|m| m.content.as_deref())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join("\n");
        let mut score = 0.0;
        for call in &action.tool_calls {
            if !pair.functions.iter().any(|f| f.function.name == call.function.name) {
                score -= 2.0;
            }
            let args: Value = serde_json::from_str(&call.function.arguments).unwrap_or_default();
            for v in crate::path::scalars(&args) {
                let text = worldsmith_core::prose::plain(v).to_lowercase();
                if !text.is_empty() && !said.contains(&text) {
                    score -= 1.0;
                }
            }
            let repeated = pair.history.iter().flat_map(|m| &m.tool_calls).any(|c| {
                c.function.name == call.function.name
                    && serde_json::from_str::<Value>(&c.function.arguments).is_ok_and(|a| json_eq(&a, &args))
            });
            if repeated {
                score -= 1.0;
            }
        }
        score
    }
}

impl Prm for HeuristicPrm {
    fn name(&self) -> String {
        "heuristic".to_owned()
    }
    fn pick(&self, shown: &Shown<'_>) -> Result<Pick, String> {
        let [a, b] = shown.actions.map(|m| HeuristicPrm::score(shown.pair, m));
        Ok(if b > a { Pick::Second } else { Pick::First })
    }
}

/// Execution lookahead: each action run on a fork of the pair's state and judged as the
/// benchmark's judge 1 judges (the upper bound; it needs the tasks' gold paths).
pub struct LookaheadPrm<'a> {
    /// The gold path of each task, by (world, task id).
    pub paths: BTreeMap<(String, String), GoldPath<'a>>,
}

impl LookaheadPrm<'_> {
    /// Judge 1 on `action` in the pair's state: `true` when it is proven wrong.
    ///
    /// # Errors
    /// The pair's task has no gold path here.
    pub fn wrong(&self, pair: &PairLine, action: &Message) -> Result<bool, String> {
        let path = self
            .paths
            .get(&(pair.world.clone(), pair.task.clone()))
            .ok_or_else(|| format!("no gold path for task {} of `{}`", pair.task, pair.world))?;
        let (point, calls) = replay_history(path, &pair.history);
        Ok(prove(path, &Decision { point: &point, history: &pair.history, calls: &calls }, action).is_wrong())
    }
}

/// The state and calls a conversation's tool calls leave, run again in order.
pub(crate) fn replay_history(path: &GoldPath<'_>, history: &[Message]) -> (Point, Vec<CallOutcome>) {
    let mut session = path.world.session();
    let mut calls = Vec::new();
    for call in history.iter().flat_map(|m| &m.tool_calls) {
        let arguments: Value = serde_json::from_str(&call.function.arguments).unwrap_or(Value::Null);
        let before = session.digest();
        let (ok, value) = match session.execute(&call.function.name, &arguments) {
            Ok(v) => (true, v),
            Err(e) => (false, Value::String(e.to_string())),
        };
        let wrote = session.digest() != before;
        calls.push(CallOutcome { name: call.function.name.clone(), arguments, ok, value, wrote });
    }
    let step = history.iter().filter(|m| m.role == "assistant").count();
    (Point { message: history.len(), step, calls_before: calls.len(), session }, calls)
}

impl Prm for LookaheadPrm<'_> {
    fn name(&self) -> String {
        "lookahead".to_owned()
    }
    fn pick(&self, shown: &Shown<'_>) -> Result<Pick, String> {
        let a = self.wrong(shown.pair, shown.actions[0])?;
        let b = self.wrong(shown.pair, shown.actions[1])?;
        Ok(match (a, b) {
            (false, true) => Pick::First,
            (true, false) => Pick::Second,
            _ => Pick::Neither,
        })
    }
}

/// The forced-choice prompt a model judge sees (system, then user).
#[must_use]
pub fn prompt(shown: &Shown<'_>) -> [String; 2] {
    let system = "You evaluate the next step of an assistant that helps a user with tools. You are shown the tools, \
                  the conversation so far, and two candidate next actions, A and B. Exactly one of them is correct. \
                  Answer with the single letter of the correct action: A or B."
        .to_owned();
    let tools = serde_json::to_string(&shown.pair.functions).unwrap_or_default();
    let mut conversation = String::new();
    for m in &shown.pair.history {
        conversation.push_str(&render_message(m));
        conversation.push('\n');
    }
    let user = format!(
        "Tools (OpenAI function format):\n{tools}\n\nConversation:\n{conversation}\nAction A:\n{}\n\nAction B:\n{}\n\nWhich action is the correct next step? Answer A or B.",
        render_message(shown.actions[0]),
        render_message(shown.actions[1])
    );
    [system, user]
}

/// One message as a line: `role: content`, tool calls as `name(arguments)`.
fn render_message(m: &Message) -> String {
    let mut line = format!("{}: {}", m.role, m.content.as_deref().unwrap_or(""));
    for c in &m.tool_calls {
        line.push_str(&format!("[call {}({})]", c.function.name, c.function.arguments));
    }
    line
}

/// The letter a model's answer picks: the last standalone `A` or `B` of the reply's final
/// line that names one ("Answer: B", "**A**", "B."); `Neither` when none or both.
#[must_use]
pub fn parse_pick(text: &str) -> Pick {
    let text = worldsmith_llm::strip_thinking(text);
    for line in text.lines().rev() {
        let letters: Vec<char> = line
            .split(|c: char| !c.is_alphanumeric())
            .filter_map(|w| match w {
                "A" => Some('A'),
                "B" => Some('B'),
                _ => None,
            })
            .collect();
        let has_a = letters.contains(&'A');
        let has_b = letters.contains(&'B');
        match (has_a, has_b) {
            (true, false) => return Pick::First,
            (false, true) => return Pick::Second,
            (true, true) => return Pick::Neither,
            (false, false) => {}
        }
    }
    Pick::Neither
}

/// An OpenAI-compatible chat model asked to pick (temperature from its config).
pub struct ModelPrm {
    /// The client.
    pub client: ChatClient,
    /// The most time one pair may take.
    pub timeout: Duration,
}

impl Prm for ModelPrm {
    fn name(&self) -> String {
        format!("model:{}", self.client.config().model)
    }
    fn pick(&self, shown: &Shown<'_>) -> Result<Pick, String> {
        let [system, user] = prompt(shown);
        let body = json!({
            "model": self.client.config().model,
            "temperature": self.client.config().temperature,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        });
        let response = self.client.complete(&body, Some(Instant::now() + self.timeout)).map_err(|e| e.to_string())?;
        Ok(parse_pick(&message_text(&response).unwrap_or_default()))
    }
}

/// A reward model behind an HTTP endpoint: `POST {"history", "functions", "action"}` answers
/// `{"score": number}`; the higher-scored action wins (a tie is `Neither`).
pub struct ScorerPrm {
    /// The endpoint's URL.
    pub url: String,
    /// The client (timeouts and retries).
    pub client: ChatClient,
    /// The most time one score may take.
    pub timeout: Duration,
}

impl ScorerPrm {
    /// The endpoint's score for `action` after `history`, with `functions` offered.
    ///
    /// # Errors
    /// The endpoint failed, timed out, or answered without a finite `score`.
    pub fn score(
        &self,
        history: &[Message],
        functions: &[worldsmith_core::tool::FunctionTool],
        action: &Message,
    ) -> Result<f64, String> {
        let body = json!({"history": history, "functions": functions, "action": action});
        let answer =
            self.client.post_json(&self.url, &body, Some(Instant::now() + self.timeout)).map_err(|e| e.to_string())?;
        answer
            .get("score")
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite())
            .ok_or_else(|| format!("the scorer's answer has no finite `score`: {answer}"))
    }
}

impl Prm for ScorerPrm {
    fn name(&self) -> String {
        format!("scorer:{}", self.url)
    }
    fn pick(&self, shown: &Shown<'_>) -> Result<Pick, String> {
        let (history, functions) = (&shown.pair.history, &shown.pair.functions);
        let a = self.score(history, functions, shown.actions[0])?;
        let b = self.score(history, functions, shown.actions[1])?;
        Ok(if a > b {
            Pick::First
        } else if b > a {
            Pick::Second
        } else {
            Pick::Neither
        })
    }
}

/// Correct out of judged, with a 95% Wilson interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Pairs the PRM picked the chosen action in.
    pub correct: usize,
    /// Pairs judged.
    pub total: usize,
    /// correct / total (0 when nothing was judged).
    pub accuracy: f64,
    /// The 95% Wilson interval's bounds.
    pub interval: [f64; 2],
}

impl Accuracy {
    fn add(&mut self, correct: bool) {
        self.total += 1;
        self.correct += usize::from(correct);
    }

    fn finish(&mut self) {
        let (k, n) = (self.correct as f64, self.total as f64);
        if self.total == 0 {
            *self = Accuracy::default();
            return;
        }
        let p = k / n;
        let z = 1.96_f64;
        let denominator = 1.0 + z * z / n;
        let centre = (p + z * z / (2.0 * n)) / denominator;
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
        self.accuracy = p;
        // The bounds hold the rate exactly (rounding would otherwise leave 1.0 just outside).
        self.interval = [(centre - half).clamp(0.0, p), (centre + half).clamp(p, 1.0)];
    }
}

/// What evaluating a PRM on pairs found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// The PRM's name.
    pub prm: String,
    /// Every pair.
    pub overall: Accuracy,
    /// By source (`offline`, `online`).
    pub by_source: BTreeMap<String, Accuracy>,
    /// By error type.
    pub by_error_type: BTreeMap<String, Accuracy>,
    /// By world.
    pub by_world: BTreeMap<String, Accuracy>,
    /// When the correct action was shown first, and second.
    pub chosen_first: Accuracy,
    /// See `chosen_first`.
    pub chosen_second: Accuracy,
    /// Pairs with no usable answer (scored wrong), and the first few reasons.
    pub unanswered: usize,
    /// Up to five reasons for unanswered pairs.
    pub failures: Vec<String>,
}

/// What a PRM made of one pair: the unit [`EvalReport::tally`] counts, small enough to keep
/// for every pair of a file that is evaluated as it is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The pair's id.
    pub id: String,
    /// Its source, error type and world.
    pub source: PairSource,
    /// See `source`.
    pub error_type: ErrorType,
    /// See `source`.
    pub world: String,
    /// Whether the PRM picked the chosen action.
    pub correct: bool,
    /// Whether the chosen action was shown first.
    pub chosen_first: bool,
    /// Why the PRM gave no usable answer, if it did not.
    pub failure: Option<String>,
}

/// Shows `pair` to `prm` in its seeded order (the stream `order/<pair id>`) and records
/// the pick.
#[must_use]
pub fn judge_pair(pair: &PairLine, prm: &dyn Prm, seed: u64) -> Judged {
    let (chosen_first, shown) = Shown::in_seeded_order(pair, seed, "order");
    let (correct, failure) = match prm.pick(&shown) {
        Ok(Pick::First) => (chosen_first, None),
        Ok(Pick::Second) => (!chosen_first, None),
        Ok(Pick::Neither) => (false, Some(format!("{}: neither action picked", pair.id))),
        Err(e) => (false, Some(format!("{}: {e}", pair.id))),
    };
    Judged {
        id: pair.id.clone(),
        source: pair.source,
        error_type: pair.error_type,
        world: pair.world.clone(),
        correct,
        chosen_first,
        failure,
    }
}

impl EvalReport {
    /// Counts `prm`'s picks, in pair order (the first five failures are kept by that order).
    #[must_use]
    pub fn tally<'j>(prm: String, judged: impl IntoIterator<Item = &'j Judged>) -> EvalReport {
        let mut report = EvalReport { prm, ..EvalReport::default() };
        for j in judged {
            let correct = j.correct;
            report.overall.add(correct);
            report.by_source.entry(format!("{:?}", j.source).to_lowercase()).or_default().add(correct);
            report.by_error_type.entry(j.error_type.name().to_owned()).or_default().add(correct);
            report.by_world.entry(j.world.clone()).or_default().add(correct);
            if j.chosen_first { &mut report.chosen_first } else { &mut report.chosen_second }.add(correct);
            if let Some(f) = &j.failure {
                report.unanswered += 1;
                if report.failures.len() < 5 {
                    report.failures.push(f.clone());
                }
            }
        }
        report.overall.finish();
        report.chosen_first.finish();
        report.chosen_second.finish();
        for a in
            report.by_source.values_mut().chain(report.by_error_type.values_mut()).chain(report.by_world.values_mut())
        {
            a.finish();
        }
        report
    }
}

/// Evaluates `prm` on `pairs` (in parallel; the order each pair is shown in is seeded by its
/// id, so the same pairs and seed show the same orders).
#[must_use]
pub fn evaluate(pairs: &[PairLine], prm: &dyn Prm, seed: u64) -> EvalReport {
    use rayon::prelude::*;
    let judged: Vec<Judged> = pairs.par_iter().map(|pair| judge_pair(pair, prm, seed)).collect();
    EvalReport::tally(prm.name(), &judged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_parsed_robustly() {
        assert_eq!(parse_pick("B"), Pick::Second);
        assert_eq!(parse_pick("Answer: A."), Pick::First);
        assert_eq!(parse_pick("<think>A looks wrong, maybe B</think>\n**A**"), Pick::First);
        assert_eq!(parse_pick("Action B is correct."), Pick::Second);
        assert_eq!(parse_pick("A or B"), Pick::Neither);
        assert_eq!(parse_pick("I cannot tell."), Pick::Neither);
        assert_eq!(parse_pick("The correct one is B\n"), Pick::Second);
        assert_eq!(parse_pick(""), Pick::Neither);
    }

    #[test]
    fn the_wilson_interval_holds_the_rate_and_stays_in_bounds() {
        let mut a = Accuracy { correct: 8, total: 10, ..Accuracy::default() };
        a.finish();
        assert!((a.accuracy - 0.8).abs() < 1e-12);
        assert!(a.interval[0] < 0.8 && a.interval[1] > 0.8 && a.interval[0] > 0.4 && a.interval[1] < 0.97, "{a:?}");
        let mut all = Accuracy { correct: 5, total: 5, ..Accuracy::default() };
        all.finish();
        assert!((all.interval[1] - 1.0).abs() < 1e-12 && all.interval[0] > 0.5);
        let mut none = Accuracy::default();
        none.finish();
        assert_eq!(none, Accuracy::default());
    }
}
