//! User simulators. [`ScriptedUser`] states the goal, gives known facts when asked,
//! confirms, and ends the conversation when the agent is done. [`LlmUser`] (optional) asks a
//! chat model to play the user from the same scenario.

use crate::agent::AgentError;
use serde_json::{Value, json};
use std::time::Instant;
use worldsmith_core::task::{Persona, Scenario};
use worldsmith_llm::{ChatClient, ChatConfig, LlmError};

/// The marker an LLM user ends the conversation with.
pub const STOP: &str = "###STOP###";

/// A simulated user.
pub trait User {
    /// The user's first message.
    ///
    /// # Errors
    /// A model-backed user could not answer.
    fn opening(&mut self) -> Result<String, AgentError>;
    /// Answers an agent message that calls no tool.
    ///
    /// # Errors
    /// A model-backed user could not answer.
    fn reply(&mut self, agent_text: &str) -> Result<Reply, AgentError>;
    /// Tells the user the agent called a tool (the conversation is making progress).
    fn agent_acted(&mut self) {}
}

/// What the user closes the conversation with.
pub const CLOSING: &str = "Thank you, that is everything I needed.";

/// How many replies a user gives without the agent acting before giving up.
const PATIENCE: u32 = 4;

/// A scripted user that answers from a scenario, in the words of its persona (when the
/// scenario's persona is one of [`Persona::ALL`]; plain words otherwise).
#[derive(Debug, Clone)]
pub struct ScriptedUser<'a> {
    scenario: &'a Scenario,
    persona: Option<Persona>,
    /// Replies since the agent last called a tool.
    idle_replies: u32,
}

/// What a user says to confirm an action.
fn confirmation(persona: Option<Persona>) -> &'static str {
    match persona {
        None => "Yes, please go ahead.",
        Some(Persona::Polite) => "Yes, please go ahead. Thank you.",
        Some(Persona::Terse) => "Yes.",
        Some(Persona::Careful) => "Yes, that is correct. Please go ahead.",
        Some(Persona::Chatty) => "Yes, that sounds right to me, go ahead!",
        Some(Persona::Frustrated) => "Yes. Please just go ahead.",
        Some(Persona::Formal) => "I confirm. Please proceed.",
    }
}

/// What a user ends the conversation with.
fn closing(persona: Option<Persona>) -> &'static str {
    match persona {
        None => CLOSING,
        Some(Persona::Polite) => "Thank you so much, that is everything I needed.",
        Some(Persona::Terse) => "Thanks, that's all.",
        Some(Persona::Careful) => "Thank you, that is all I needed to know.",
        Some(Persona::Chatty) => "Wonderful, thank you so much! That's everything I needed today.",
        Some(Persona::Frustrated) => "Finally. Thanks, that's all.",
        Some(Persona::Formal) => "Thank you. That will be all.",
    }
}

/// What a user says when asked for something they do not know.
fn nothing_more(persona: Option<Persona>) -> &'static str {
    match persona {
        None | Some(Persona::Polite | Persona::Careful) => "I'm afraid I don't have any more details than that.",
        Some(Persona::Terse) => "That's all I have.",
        Some(Persona::Chatty) => "Hmm, I don't think I have anything more than what I told you, sorry!",
        Some(Persona::Frustrated) => "I already told you everything I have.",
        Some(Persona::Formal) => "I regret that I have no further details.",
    }
}

/// The facts a user gives when asked, in their words: `name` is spoken, `value` plain.
fn giving(persona: Option<Persona>, facts: &[(String, String)], all: bool) -> String {
    let mine: Vec<String> = facts.iter().map(|(n, v)| format!("my {n} is {v}")).collect();
    let the: Vec<String> = facts.iter().map(|(n, v)| format!("{n} is {v}")).collect();
    let list = |parts: &[String]| worldsmith_core::prose::and_list(parts);
    match persona {
        None if all && facts.len() > 1 => format!("Here is what I know: {}.", the.join("; ")),
        None => format!("Sure: the {}.", the.join("; the ")),
        Some(Persona::Terse) => {
            format!("{}.", facts.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>().join(", "))
        }
        Some(Persona::Polite) => format!("Of course: {}.", list(&mine)),
        Some(Persona::Careful) => format!("Let me check... {}. I double-checked it.", capital(&list(&mine))),
        Some(Persona::Chatty) => format!("Oh, sure! Let me see... {}.", list(&mine)),
        Some(Persona::Frustrated) => format!("{}.", capital(&list(&mine))),
        Some(Persona::Formal) => format!("Certainly. {}.", capital(&list(&mine))),
    }
}

/// The text with a capital first letter.
fn capital(text: &str) -> String {
    let mut c = text.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The user's answer to one agent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// What the user says.
    pub text: String,
    /// Whether the user ends the conversation with it.
    pub stop: bool,
}

impl<'a> ScriptedUser<'a> {
    /// A user who wants `scenario`.
    #[must_use]
    pub fn new(scenario: &'a Scenario) -> ScriptedUser<'a> {
        ScriptedUser { scenario, persona: Persona::of(&scenario.persona), idle_replies: 0 }
    }

    /// The user's first message: the goal.
    #[must_use]
    pub fn opening(&self) -> String {
        self.scenario.goal.clone()
    }

    /// Answers an agent message that calls no tool.
    pub fn reply(&mut self, agent_text: &str) -> Reply {
        self.idle_replies += 1;
        if self.idle_replies > PATIENCE {
            return Reply { text: "I don't think we are getting anywhere. Goodbye.".to_owned(), stop: true };
        }
        let lower = agent_text.to_lowercase();
        if asks_confirmation(&lower) {
            return Reply { text: confirmation(self.persona).to_owned(), stop: false };
        }
        if only_offers_more_help(&lower) {
            return Reply { text: closing(self.persona).to_owned(), stop: true };
        }
        if lower.contains('?') {
            let asked: Vec<(&String, &Value)> =
                self.scenario.known_facts.iter().filter(|(name, _)| mentions(&lower, name)).collect();
            let facts: Vec<(&String, &Value)> =
                if asked.is_empty() { self.scenario.known_facts.iter().collect() } else { asked };
            if facts.is_empty() {
                return Reply { text: nothing_more(self.persona).to_owned(), stop: false };
            }
            let listed: Vec<(String, String)> =
                facts.iter().map(|(name, value)| (spoken(name), render(value))).collect();
            let all = facts.len() == self.scenario.known_facts.len();
            return Reply { text: giving(self.persona, &listed, all), stop: false };
        }
        Reply { text: closing(self.persona).to_owned(), stop: true }
    }
}

impl User for ScriptedUser<'_> {
    fn opening(&mut self) -> Result<String, AgentError> {
        Ok(ScriptedUser::opening(self))
    }

    fn reply(&mut self, agent_text: &str) -> Result<Reply, AgentError> {
        Ok(ScriptedUser::reply(self, agent_text))
    }

    fn agent_acted(&mut self) {
        self.idle_replies = 0;
    }
}

/// A user played by a chat model from the scenario, tau-bench style: the model sees the
/// agent's messages as `user` turns and its own as `assistant` turns, and ends the
/// conversation by writing [`STOP`].
pub struct LlmUser {
    client: ChatClient,
    seed: u64,
    deadline: Instant,
    transcript: Vec<Value>,
}

impl LlmUser {
    /// A user for one episode, answering until `deadline`.
    #[must_use]
    pub fn new(config: &ChatConfig, scenario: &Scenario, seed: u64, deadline: Instant) -> LlmUser {
        let facts: Vec<String> = scenario.known_facts.iter().map(|(k, v)| format!("- {k}: {}", render(v))).collect();
        let system = format!(
            "You are a customer talking to a support assistant. Your goal: {}\nWhat you know (give it only when asked):\n{}\nYour manner: {}\nWrite one short message at a time, as the customer. Never invent facts you were not given. Confirm proposed actions that match your goal. When your goal is met, or cannot be met, write {STOP} alone.",
            scenario.goal,
            if facts.is_empty() { "- nothing beyond the goal".to_owned() } else { facts.join("\n") },
            scenario.persona,
        );
        LlmUser {
            client: ChatClient::new(config.clone()),
            seed,
            deadline,
            transcript: vec![json!({"role": "system", "content": system})],
        }
    }

    fn ask(&mut self) -> Result<String, AgentError> {
        let config = self.client.config();
        let body = json!({
            "model": config.model,
            "messages": self.transcript,
            "temperature": config.temperature,
            "seed": self.seed,
        });
        let response = self.client.complete(&body, Some(self.deadline)).map_err(|e| match e {
            LlmError::Timeout => AgentError::Timeout(0),
            LlmError::Endpoint(m) => AgentError::Endpoint(format!("user simulator: {m}")),
        })?;
        let text = worldsmith_llm::message_text(&response)
            .ok_or_else(|| AgentError::Endpoint("user simulator: the answer has no text".to_owned()))?;
        self.transcript.push(json!({"role": "assistant", "content": text}));
        Ok(text)
    }
}

impl User for LlmUser {
    fn opening(&mut self) -> Result<String, AgentError> {
        self.transcript.push(json!({"role": "user", "content": "Hi! How can I help you today?"}));
        self.ask()
    }

    fn reply(&mut self, agent_text: &str) -> Result<Reply, AgentError> {
        self.transcript.push(json!({"role": "user", "content": agent_text}));
        let text = self.ask()?;
        let stop = text.contains(STOP);
        let text = text.replace(STOP, "").trim().to_owned();
        Ok(Reply { text: if text.is_empty() && stop { CLOSING.to_owned() } else { text }, stop })
    }
}

/// Whether an agent message asks the user to confirm an action.
fn asks_confirmation(lower: &str) -> bool {
    lower.contains("(yes/no)")
        || questions(lower)
            .any(|q| ["shall i", "should i", "go ahead", "confirm", "proceed"].iter().any(|p| q.contains(p)))
}

/// The sentences of `text` that end in a question mark (a status of "confirmed" in an
/// answer is not a request for confirmation).
fn questions(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    text.char_indices().filter_map(move |(i, c)| {
        if matches!(c, '.' | '!' | '\n') {
            start = i + 1;
            None
        } else if c == '?' {
            let q = &text[start..=i];
            start = i + 1;
            Some(q)
        } else {
            None
        }
    })
}

/// Whether every question of `text` only offers more help ("Is there anything else I can
/// help with?"): the user has nothing more to ask.
fn only_offers_more_help(lower: &str) -> bool {
    let mut asked = questions(lower).peekable();
    asked.peek().is_some() && asked.all(|q| q.contains("anything else"))
}

/// Whether `text` mentions a fact's name (`customer_id` matches "customer id").
fn mentions(lower: &str, name: &str) -> bool {
    let spoken = spoken(name).to_lowercase();
    lower.contains(&spoken) || spoken.split(' ').next_back().is_some_and(|w| w.len() > 2 && lower.contains(w))
}

/// A fact name as a person says it: `customer_id` -> `customer id`, `skuId` -> `sku id`.
pub(crate) fn spoken(name: &str) -> String {
    worldsmith_core::ident::phrase(name).to_lowercase()
}

/// A JSON value as a person says it: strings without quotes.
pub use worldsmith_core::prose::plain as render;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario() -> Scenario {
        Scenario {
            goal: "Cancel my order.".to_owned(),
            known_facts: [("customer_id".to_owned(), json!("C-1")), ("email".to_owned(), json!("a@b.test"))]
                .into_iter()
                .collect(),
            persona: String::new(),
            withheld: Vec::new(),
        }
    }

    #[test]
    fn a_confirmed_status_is_not_a_request_and_more_help_ends_the_talk() {
        let s = scenario();
        let mut user = ScriptedUser::new(&s);
        let reply = user.reply("Here is what you asked for. The status is confirmed. The id is R-1.");
        assert_eq!(reply, Reply { text: CLOSING.to_owned(), stop: true });
        let mut user = ScriptedUser::new(&s);
        assert_eq!(user.reply("Is there anything else I can help with?").text, CLOSING);
        let mut user = ScriptedUser::new(&s);
        assert!(user.reply("Next I will cancel order O-1. Shall I go ahead? (yes/no)").text.starts_with("Yes"));
        assert!(user.reply("The order is cancelled. Can you confirm the email?").text.starts_with("Yes"));
    }

    #[test]
    fn gives_the_fact_asked_for() {
        let s = scenario();
        let mut user = ScriptedUser::new(&s);
        let reply = user.reply("Could you tell me your customer ID?");
        assert_eq!(reply, Reply { text: "Sure: the customer id is C-1.".to_owned(), stop: false });
    }

    #[test]
    fn gives_all_facts_when_the_question_is_vague() {
        let s = scenario();
        let mut user = ScriptedUser::new(&s);
        let reply = user.reply("How can I identify you?");
        assert!(reply.text.contains("C-1") && reply.text.contains("a@b.test"), "{}", reply.text);
    }

    #[test]
    fn confirms_then_stops() {
        let s = scenario();
        let mut user = ScriptedUser::new(&s);
        assert!(!user.reply("I will cancel ORD-1. Shall I go ahead? (yes/no)").stop);
        assert!(user.reply("Done: the order is cancelled.").stop);
    }

    #[test]
    fn personas_change_the_words_not_the_facts() {
        let mut texts = std::collections::BTreeSet::new();
        for persona in Persona::ALL {
            let s = Scenario { persona: persona.description().to_owned(), ..scenario() };
            let mut user = ScriptedUser::new(&s);
            let reply = user.reply("Could you tell me your customer ID?");
            assert!(reply.text.contains("C-1") && !reply.text.contains("a@b.test"), "{persona:?}: {}", reply.text);
            assert!(!user.reply("Shall I go ahead? (yes/no)").stop);
            let end = user.reply("Done: the order is cancelled.");
            assert!(end.stop);
            texts.insert((reply.text, end.text));
        }
        assert_eq!(texts.len(), Persona::ALL.len());
    }

    #[test]
    fn gives_up_on_an_agent_that_only_talks() {
        let s = scenario();
        let mut user = ScriptedUser::new(&s);
        let stops: Vec<bool> = (0..5).map(|_| user.reply("Please confirm?").stop).collect();
        assert_eq!(stops, [false, false, false, false, true]);
    }
}
