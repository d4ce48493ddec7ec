//! Datasets from verified episodes.
//!
//! [`sft`] turns kept episodes into lines of OpenAI's chat fine-tuning format: `messages`
//! (system, user, assistant with `tool_calls`, `tool` results) and `tools`, where every
//! assistant message carries `weight`: 1 for what the model should learn, 0 for context.
//! User and tool messages are never trained. An assistant message whose tool calls all
//! failed gets weight 0: the episode keeps the mistake as context, so the model learns the
//! recovery that follows, not the mistake.
//!
//! Lines are split in AgentScaler's two stages by the world's origin: stage 1 (general tool
//! use) from generated worlds, stage 2 (vertical specialization) from bundled ones.
//! Identical conversations are written once.
//!
//! With a model's tokenizer directory, [`tokens`] adds the token ids the model sees and the
//! mask of the tokens the assistant generated (`input_ids`, `assistant_masks`), rendered
//! with the model's own chat template; [`parquet`] writes lines as Parquet.

pub mod parquet;
pub mod tokens;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use worldsmith_core::Origin;
use worldsmith_core::episode::{Episode, Message, Verdict};

/// The version of the SFT line format.
pub const SFT_FORMAT: u32 = 1;

/// One chat message with its training weight (assistant messages only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightedMessage {
    /// The message.
    #[serde(flatten)]
    pub message: Message,
    /// 1 trained, 0 context only; absent on user, system and tool messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u8>,
}

/// One SFT line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SftLine {
    /// The conversation.
    pub messages: Vec<WeightedMessage>,
    /// The tools offered, in OpenAI function format.
    pub tools: Vec<worldsmith_core::tool::FunctionTool>,
}

/// The two training stages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SftSplit {
    /// Stage 1, general tool use: episodes in generated worlds.
    pub general: Vec<SftLine>,
    /// Episode ids of `general`, line by line.
    pub general_ids: Vec<String>,
    /// Stage 2, vertical specialization: episodes in bundled worlds.
    pub vertical: Vec<SftLine>,
    /// Episode ids of `vertical`, line by line.
    pub vertical_ids: Vec<String>,
}

/// What the export did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SftStats {
    /// Verdicts read.
    pub verdicts: usize,
    /// Verdicts not kept (failed verification).
    pub not_kept: usize,
    /// Kept verdicts whose episode was not found.
    pub missing_episode: usize,
    /// Kept conversations identical to one already written.
    pub duplicates: usize,
    /// Lines per stage: `stage1_general`, `stage2_vertical`.
    pub lines: BTreeMap<String, usize>,
    /// Assistant messages trained (weight 1) and kept as context (weight 0).
    pub trained_messages: usize,
    /// Assistant messages kept as context only.
    pub context_messages: usize,
    /// With a tokenizer, what tokenizing did (the manifest's `tokens` section; not part of
    /// the manifest's `stats`).
    #[serde(skip)]
    pub tokens: Option<tokens::TokensManifest>,
}

/// Builds the SFT lines of every kept verdict, in verdict order.
#[must_use]
pub fn sft(episodes: &[Episode], verdicts: &[Verdict]) -> (SftSplit, SftStats) {
    let by_id: BTreeMap<&str, &Episode> = episodes.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut split = SftSplit::default();
    let mut stats = SftStats { verdicts: verdicts.len(), ..SftStats::default() };
    let mut seen: HashSet<String> = HashSet::new();
    for v in verdicts {
        if !v.kept {
            stats.not_kept += 1;
            continue;
        }
        let Some(episode) = by_id.get(v.episode.as_str()) else {
            stats.missing_episode += 1;
            continue;
        };
        let line = line(episode);
        let key = serde_json::to_string(&line).unwrap_or_default();
        if !seen.insert(key) {
            stats.duplicates += 1;
            continue;
        }
        for m in &line.messages {
            match m.weight {
                Some(1) => stats.trained_messages += 1,
                Some(_) => stats.context_messages += 1,
                None => {}
            }
        }
        if episode.origin == Origin::Generated {
            split.general.push(line);
            split.general_ids.push(episode.id.clone());
        } else {
            split.vertical.push(line);
            split.vertical_ids.push(episode.id.clone());
        }
    }
    stats.lines.insert("stage1_general".to_owned(), split.general.len());
    stats.lines.insert("stage2_vertical".to_owned(), split.vertical.len());
    (split, stats)
}

/// One episode as an SFT line.
#[must_use]
pub fn line(episode: &Episode) -> SftLine {
    // Outcome of every call by its id, to find assistant turns whose calls all failed.
    let mut ok_by_id: BTreeMap<&str, bool> = BTreeMap::new();
    let mut outcomes = episode.calls.iter();
    for m in &episode.messages {
        for c in &m.tool_calls {
            ok_by_id.insert(c.id.as_str(), outcomes.next().is_some_and(|o| o.ok));
        }
    }
    let messages = episode
        .messages
        .iter()
        .map(|m| {
            let weight = (m.role == "assistant").then(|| {
                let all_failed = !m.tool_calls.is_empty()
                    && m.tool_calls.iter().all(|c| !ok_by_id.get(c.id.as_str()).copied().unwrap_or(false));
                u8::from(!all_failed)
            });
            let mut message = m.clone();
            // An assistant turn that only calls tools says "" rather than null: transformers
            // drops null keys before rendering, and chat templates (Qwen3's) then fail on the
            // missing content; "" is the form Hugging Face templates and TRL accept.
            if message.role == "assistant" && message.content.is_none() {
                message.content = Some(String::new());
            }
            WeightedMessage { message, weight }
        })
        .collect();
    SftLine { messages, tools: episode.tools.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use worldsmith_core::Digest;
    use worldsmith_core::episode::{CallOutcome, EndReason, ToolCall};
    use worldsmith_core::task::TaskLine;

    fn episode(id: &str, origin: Origin, first_call_ok: bool) -> Episode {
        let call = |id: &str, name: &str| Message::calls(vec![ToolCall::new(id.to_owned(), name, &json!({}))]);
        let outcome = |ok: bool| CallOutcome {
            name: "t".to_owned(),
            arguments: json!({}),
            ok,
            value: json!(if ok { "fine" } else { "no such order" }),
            wrote: false,
        };
        Episode {
            id: id.to_owned(),
            format: 1,
            world: "w".to_owned(),
            origin,
            policy: "noisy".to_owned(),
            trial: 0,
            messages: vec![
                Message::text("system", "s"),
                Message::text("user", "find it"),
                call("c0", "wrong"),
                Message::tool_result("c0", if first_call_ok { "fine" } else { "Error: no such order" }),
                call("c1", "t"),
                Message::tool_result("c1", "fine"),
                Message::text("assistant", "Found it."),
                Message::text("user", "Thanks."),
            ],
            tools: vec![worldsmith_core::tool::FunctionTool::new("t", "", json!({}))],
            calls: vec![outcome(first_call_ok), outcome(true)],
            final_digest: Digest::default(),
            changes: None,
            end: EndReason::UserStop,
            error: None,
            task: serde_json::from_value::<TaskLine>(json!({"id": id})).unwrap(),
            arena: None,
        }
    }

    fn verdict(e: &Episode, kept: bool) -> Verdict {
        serde_json::from_value(json!({
            "episode": e.id, "task": e.id, "world": "w", "origin": e.origin, "policy": "noisy", "trial": 0,
            "kind": "read", "chain_length": 1, "valid": true, "state_aligned": null, "exact_match": true,
            "answers_stated": [0, 0], "success": kept, "kept": kept, "failed_calls": 0, "reward": 1.0,
            "f1": {"subgoals": 1, "solved": 1, "calls": 2, "recall": 1.0, "precision": 0.5, "f1": 0.67}
        }))
        .unwrap()
    }

    #[test]
    fn failed_call_turns_are_context_and_everything_else_the_agent_says_is_trained() {
        let e = episode("a", Origin::Bundled, false);
        let line = line(&e);
        let weights: Vec<Option<u8>> = line.messages.iter().map(|m| m.weight).collect();
        assert_eq!(weights, [None, None, Some(0), None, Some(1), None, Some(1), None]);
        let text = serde_json::to_string(&line.messages[2]).unwrap();
        assert!(text.contains(r#""weight":0"#) && text.contains(r#""tool_calls""#), "{text}");
        assert!(!serde_json::to_string(&line.messages[1]).unwrap().contains("weight"));
        // A turn that only calls tools says "" (chat templates fail on a missing content),
        // while the episode line keeps null.
        assert!(text.contains(r#""content":"""#), "{text}");
        assert!(serde_json::to_string(&e.messages[2]).unwrap().contains(r#""content":null"#));
    }

    #[test]
    fn kept_episodes_split_by_origin_once_each() {
        let mut generated = episode("b", Origin::Generated, true);
        generated.messages[1] = Message::text("user", "find it in a generated world");
        let episodes = [episode("a", Origin::Bundled, true), generated, episode("c", Origin::Bundled, true)];
        let mut dropped = episode("d", Origin::Bundled, false);
        dropped.messages[1] = Message::text("user", "something else");
        let verdicts = [
            verdict(&episodes[0], true),
            verdict(&episodes[1], true),
            verdict(&episodes[2], true),
            verdict(&dropped, false),
        ];
        let (split, stats) = sft(&episodes, &verdicts);
        assert_eq!(split.vertical_ids, ["a"]);
        assert_eq!(split.general_ids, ["b"]);
        assert_eq!((stats.duplicates, stats.not_kept, stats.missing_episode), (1, 1, 0));
        assert_eq!(stats.lines["stage1_general"], 1);
    }
}
