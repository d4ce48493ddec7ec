//! Pair lines in the field names each user's tools read, and seeded train/test splits.
//!
//! | worldsmith (`pairs.jsonl`) | `toolprmbench` | `trl` |
//! |---|---|---|
//! | `id` | `id` | `id` |
//! | `history` | `history` | `prompt` (with `""` for tool-call turns' null content) |
//! | `functions` | `functions` | `tools` |
//! | `action_chosen` | `action_chosen` | `chosen` (a list of one assistant message) |
//! | `action_rejected` | `action_rejected` | `rejected` (a list of one assistant message) |
//! | `error_type` | `error_type` | (left out) |
//! | `source` | `source` (`offline`/`online`) | (left out) |
//! | `world`, `task`, `step`, `judges`, `format` | `world`, `step` | (left out) |
//!
//! The `trl` layout is the conversational preference form TRL's `RewardTrainer` reads
//! (`prompt`, `chosen`, `rejected` as lists of chat messages, `tools` for the chat template);
//! null `content` becomes `""` as in SFT lines, because transformers drops null keys before
//! rendering and templates then fail on the missing content.

use serde_json::{Value, json};
use worldsmith_core::episode::Message;
use worldsmith_core::prm::PairLine;
pub use worldsmith_trainer::split::{Split, SplitBy, SplitConfig};

/// Which field names to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// worldsmith's pair line (every field).
    #[default]
    Worldsmith,
    /// ToolPRMBench's sample fields.
    ToolPrmBench,
    /// TRL's conversational preference columns.
    Trl,
}

/// One pair as a JSON object in `layout`.
#[must_use]
pub fn render(pair: &PairLine, layout: Layout) -> Value {
    match layout {
        Layout::Worldsmith => serde_json::to_value(pair).unwrap_or(Value::Null),
        Layout::ToolPrmBench => json!({
            "id": pair.id,
            "source": pair.source,
            "world": pair.world,
            "step": pair.step,
            "error_type": pair.error_type,
            "history": pair.history,
            "functions": pair.functions,
            "action_chosen": pair.action_chosen,
            "action_rejected": pair.action_rejected,
        }),
        Layout::Trl => json!({
            "id": pair.id,
            "prompt": pair.history.iter().map(template_ready).collect::<Vec<_>>(),
            "chosen": [template_ready(&pair.action_chosen)],
            "rejected": [template_ready(&pair.action_rejected)],
            "tools": pair.functions,
        }),
    }
}

/// A message as chat templates read it: `""` instead of a null content.
fn template_ready(message: &Message) -> Message {
    let mut m = message.clone();
    if m.content.is_none() {
        m.content = Some(String::new());
    }
    m
}

/// The group a pair of `task` in `world` belongs to when splitting `by` task or world.
#[must_use]
pub fn split_key(world: &str, task: &str, by: SplitBy) -> String {
    match by {
        SplitBy::Task => format!("{world}\u{1f}{task}"),
        SplitBy::World => world.to_owned(),
    }
}

/// The split of each pair, grouped by its task or world (seeded; the rule of
/// [`worldsmith_trainer::split::assign_keys`]).
#[must_use]
pub fn split(pairs: &[PairLine], config: &SplitConfig) -> Vec<Split> {
    let keys: Vec<String> = pairs.iter().map(|p| split_key(&p.world, &p.task, config.by)).collect();
    worldsmith_trainer::split::assign_keys(&keys, config)
}
