//! Arenas as datasets for RL trainers: Parquet files that verl's `RLHFDataset` and TRL's
//! `GRPOTrainer` (through Hugging Face `datasets`) read, split into train and test.
//!
//! Both exports take the arenas of `worldsmith arenas` and:
//!
//! 1. leave out the arenas that need the user ([`Arena::needs_user`]) unless
//!    [`ExportConfig::ask_user`] is set, which offers every exported arena one more tool,
//!    [`ask_user_tool`] (`ask_user(question)`), answered by [`ask_user_answer`]: the scripted
//!    user of `rollout` replying from the scenario's known facts. A trainer that only knows
//!    tools can let the agent ask this way. It is offered in every arena, not only in those
//!    that need it, so its presence tells the agent nothing;
//! 2. split the rest into train and test by whole tasks or whole worlds ([`split`]), seeded;
//! 3. build one row per arena ([`verl`] and [`trl`] document their columns) and write each
//!    split as one Parquet file (Snappy-compressed, one row group), through [`columns`].
//!
//! Nested JSON whose shape varies from row to row (tool parameter schemas, sub-goals, known
//! facts) is stored as a JSON string, so that every row of a file has one Arrow schema.
//!
//! ```
//! use worldsmith_trainer::{ExportConfig, ask_user_answer};
//! use worldsmith_core::task::Scenario;
//!
//! let scenario: Scenario = serde_json::from_value(serde_json::json!({
//!     "goal": "Cancel my order.", "known_facts": {"order_id": "ORD-00007"}
//! })).unwrap();
//! assert_eq!(ask_user_answer(&scenario, "What is your order id?"), "Sure: the order id is ORD-00007.");
//! let config = ExportConfig::default();
//! assert!(!config.ask_user);
//! ```

pub mod columns;
pub mod split;
pub mod trl;
pub mod verl;

pub use split::{Split, SplitBy, SplitConfig};

use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use worldsmith_core::arena::Arena;
use worldsmith_core::task::Scenario;
use worldsmith_core::tool::FunctionTool;

/// The version of the trainer files' layout (their columns), in `manifest.json`.
pub const EXPORT_FORMAT: u32 = 1;

/// The name of the tool through which the agent asks the user.
pub const ASK_USER: &str = "ask_user";

/// How to export.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportConfig {
    /// How to split into train and test.
    pub split: SplitConfig,
    /// Keep the arenas that need the user, and offer `ask_user` in every arena.
    pub ask_user: bool,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainerError {
    /// Arrow refused a column (a bug: the rows do not fit the schema).
    #[error("cannot build the Arrow table: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The Parquet writer failed.
    #[error("cannot write Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A value did not serialize.
    #[error("cannot serialize: {0}")]
    Json(#[from] serde_json::Error),
    /// A row's value does not fit its column (a bug).
    #[error("column `{column}`: {problem}")]
    Shape {
        /// The column (its path).
        column: String,
        /// What does not fit.
        problem: String,
    },
    /// Nothing is left to export.
    #[error("no arena left to export ({needs_user} of {arenas} need the user and were left out)")]
    Empty {
        /// Arenas given.
        arenas: usize,
        /// Arenas left out because they need the user.
        needs_user: usize,
    },
}

/// Rows (or groups) per split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SplitCounts {
    /// In the train file.
    pub train: usize,
    /// In the test file.
    pub test: usize,
}

impl SplitCounts {
    fn add(&mut self, split: Split) {
        match split {
            Split::Train => self.train += 1,
            Split::Test => self.test += 1,
        }
    }
}

/// One written file in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// `train` or `test`.
    pub split: Split,
    /// Rows.
    pub rows: usize,
    /// The arena of every row, in row order.
    pub arenas: Vec<String>,
}

/// What an export did: `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportStats {
    /// [`EXPORT_FORMAT`].
    pub format: u32,
    /// `verl` or `trl`.
    pub target: String,
    /// What the split keeps together.
    pub split_by: SplitBy,
    /// The fraction of groups asked for in test.
    pub test_fraction: f64,
    /// The split's seed.
    pub seed: u64,
    /// Whether `ask_user` is offered (and arenas that need the user kept).
    pub ask_user: bool,
    /// Arenas given.
    pub arenas: usize,
    /// Arenas left out, by reason (`needs_user`; `ask_user_clash`: the arena already offers
    /// a tool named `ask_user`).
    pub left_out: BTreeMap<String, usize>,
    /// Rows per split.
    pub rows: SplitCounts,
    /// Groups (tasks or worlds) per split.
    pub groups: SplitCounts,
    /// Rows per world and split.
    pub worlds: BTreeMap<String, SplitCounts>,
    /// The files written (paths relative to the output directory).
    pub files: BTreeMap<String, FileEntry>,
}

/// One arena bound for a file.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The arena.
    pub arena: &'a Arena,
    /// Its file.
    pub split: Split,
    /// Its position in that file, from 0 (verl's `extra_info.index`).
    pub index: usize,
}

/// The arenas to export, each with its split and index, and the counts (files still empty).
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The rows, in input order.
    pub rows: Vec<Row<'a>>,
    /// The counts so far.
    pub stats: ExportStats,
}

/// Chooses the arenas to export and splits them.
///
/// # Errors
///
/// [`TrainerError::Empty`] when no arena is left.
pub fn plan<'a>(arenas: &'a [Arena], config: &ExportConfig, target: &str) -> Result<Plan<'a>, TrainerError> {
    let mut left_out: BTreeMap<String, usize> = BTreeMap::new();
    let mut kept = Vec::new();
    for arena in arenas {
        if arena.needs_user && !config.ask_user {
            *left_out.entry("needs_user".to_owned()).or_default() += 1;
        } else if config.ask_user && arena.tools.iter().any(|t| t.name() == ASK_USER) {
            *left_out.entry("ask_user_clash".to_owned()).or_default() += 1;
        } else {
            kept.push(arena);
        }
    }
    if kept.is_empty() {
        return Err(TrainerError::Empty {
            arenas: arenas.len(),
            needs_user: left_out.get("needs_user").copied().unwrap_or(0),
        });
    }
    let splits = split::assign(&kept, &config.split);
    let mut rows = Vec::with_capacity(kept.len());
    let mut counts = SplitCounts::default();
    let mut worlds: BTreeMap<String, SplitCounts> = BTreeMap::new();
    let mut groups: BTreeMap<Split, BTreeSet<String>> = BTreeMap::new();
    for (arena, split) in kept.into_iter().zip(splits) {
        let index = match split {
            Split::Train => counts.train,
            Split::Test => counts.test,
        };
        counts.add(split);
        worlds.entry(arena.world.clone()).or_default().add(split);
        groups.entry(split).or_default().insert(split::group_key(arena, config.split.by));
        rows.push(Row { arena, split, index });
    }
    let group_count = |s| groups.get(&s).map_or(0, BTreeSet::len);
    let stats = ExportStats {
        format: EXPORT_FORMAT,
        target: target.to_owned(),
        split_by: config.split.by,
        test_fraction: config.split.test_fraction,
        seed: config.split.seed,
        ask_user: config.ask_user,
        arenas: arenas.len(),
        left_out,
        rows: counts,
        groups: SplitCounts { train: group_count(Split::Train), test: group_count(Split::Test) },
        worlds,
        files: BTreeMap::new(),
    };
    Ok(Plan { rows, stats })
}

/// Parquet files ready to write, by path relative to the output directory, and the
/// manifest.
#[derive(Debug, Clone)]
pub struct Export {
    /// `(relative path, Parquet bytes)`, train first.
    pub files: Vec<(String, Vec<u8>)>,
    /// What went where (`manifest.json`).
    pub stats: ExportStats,
}

/// The `ask_user` tool, OpenAI function format: one required string, `question`.
#[must_use]
pub fn ask_user_tool() -> FunctionTool {
    FunctionTool::new(
        ASK_USER,
        "Ask the user a question and get their reply: for a detail you need that the user has not given (an id, a name, an email), or to confirm (yes/no) before you change anything.",
        json!({
            "type": "object",
            "properties": {
                "question": {"type": "string", "description": "The question, as you would ask it in the chat."}
            },
            "required": ["question"]
        }),
    )
}

/// The user's reply to an `ask_user` call: what `rollout`'s scripted user says to `question`
/// (a question mark is added when it has none), from the scenario's known facts. Facts the
/// question names are given ("the order id is ORD-00007"), all facts when it names none, a
/// request for confirmation is answered yes. Each call is answered on its own (the scripted
/// user's patience counts replies within one conversation; here every call is a fresh one).
#[must_use]
pub fn ask_user_answer(scenario: &Scenario, question: &str) -> String {
    let mut user = worldsmith_rollout::user::ScriptedUser::new(scenario);
    let question = question.trim();
    let reply = if question.contains('?') { user.reply(question) } else { user.reply(&format!("{question}?")) };
    reply.text
}

/// The tools a row offers: the arena's, then `ask_user` when asked for.
#[must_use]
pub fn offered_tools(arena: &Arena, ask_user: bool) -> Vec<FunctionTool> {
    let mut tools = arena.tools.clone();
    if ask_user {
        tools.push(ask_user_tool());
    }
    tools
}

/// The arena's first messages as a trainer's prompt: `{role, content}` pairs, content never
/// null.
#[must_use]
pub fn prompt(arena: &Arena) -> Vec<serde_json::Value> {
    arena
        .messages
        .iter()
        .map(|m| serde_json::json!({"role": m.role, "content": m.content.clone().unwrap_or_default()}))
        .collect()
}

/// What the arena is scored on, as one JSON string (`reward_model.ground_truth` for verl,
/// `ground_truth` for TRL): `{"arena", "reward", "subgoals", "gold"}` with the arena line's
/// values (sub-goals and gold calls as in `arenas.jsonl`).
///
/// # Errors
///
/// When a value does not serialize.
pub fn ground_truth(arena: &Arena) -> Result<String, serde_json::Error> {
    serde_json::to_string(&json!({
        "arena": arena.id,
        "reward": arena.reward,
        "subgoals": arena.subgoals,
        "gold": arena.gold,
    }))
}

/// The task's id as text (a string id as it is, any other JSON value as JSON).
#[must_use]
pub fn task_id(arena: &Arena) -> String {
    worldsmith_rollout::id_text(&arena.task)
}

/// The export's counts as people read them: rows and groups per split, rows per world, and
/// what was left out.
#[must_use]
pub fn stats_table(stats: &ExportStats) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let group = match stats.split_by {
        SplitBy::Task => "tasks",
        SplitBy::World => "worlds",
    };
    let _ = writeln!(t, "{:<16} {:>7} {:>7}", "world", "train", "test");
    for (world, n) in &stats.worlds {
        let _ = writeln!(t, "{world:<16} {:>7} {:>7}", n.train, n.test);
    }
    let _ = writeln!(t, "{:<16} {:>7} {:>7}", "rows", stats.rows.train, stats.rows.test);
    let _ = writeln!(t, "{:<16} {:>7} {:>7}", group, stats.groups.train, stats.groups.test);
    let needs_user = stats.left_out.get("needs_user").copied().unwrap_or(0);
    let _ =
        write!(t, "{} of {} arenas exported for {}", stats.rows.train + stats.rows.test, stats.arenas, stats.target);
    if needs_user > 0 {
        let _ = write!(t, "; {needs_user} left out: they need the user (--ask-user keeps them)");
    }
    if let Some(n) = stats.left_out.get("ask_user_clash") {
        let _ = write!(t, "; {n} left out: they already offer a tool named ask_user");
    }
    t.push('\n');
    t
}

#[cfg(test)]
pub(crate) mod testing {
    use serde_json::json;
    use worldsmith_core::arena::Arena;

    /// A small arena of `world` from task `task` (hop `hop`), offering `get_order` and
    /// `cancel_order`.
    pub fn arena(task: &str, hop: Option<usize>, world: &str, needs_user: bool) -> Arena {
        let id = hop.map_or_else(|| task.to_owned(), |k| format!("{task}/hop-{k}"));
        serde_json::from_value(json!({
            "id": id, "format": 1, "world": world, "origin": "bundled", "task": task, "hop": hop,
            "init": {"world": world, "digest": "0123456789abcdef0123456789abcdef"},
            "messages": [{"role": "system", "content": "You help."}, {"role": "user", "content": "Cancel ORD-1."}],
            "tools": [
                {"type": "function", "function": {"name": "get_order", "description": "Get an order.",
                  "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}},
                {"type": "function", "function": {"name": format!("cancel_{world}"), "description": "Cancel.",
                  "parameters": {"type": "object", "properties": {}}}}
            ],
            "subgoals": [{"record": {"collection": "orders", "key": "ORD-1", "value": {"status": "cancelled"}}},
                         {"answer": {"value": 12.5, "kind": "money", "label": "total"}}],
            "gold": [{"name": "get_order", "arguments": {"order_id": "ORD-1"}}],
            "scenario": {"goal": "Cancel ORD-1.", "known_facts": {"email": "a@b.c", "order_id": "ORD-1"}},
            "max_turns": 30, "reward": "f1", "needs_user": needs_user
        }))
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testing::arena;

    #[test]
    fn needs_user_arenas_are_left_out_unless_ask_user() {
        let arenas = vec![arena("t1", None, "retail", false), arena("t2", None, "retail", true)];
        let plan = plan(&arenas, &ExportConfig::default(), "verl").unwrap();
        assert_eq!(plan.rows.len(), 1);
        assert_eq!(plan.stats.left_out.get("needs_user"), Some(&1));
        let config = ExportConfig { ask_user: true, ..ExportConfig::default() };
        let plan = super::plan(&arenas, &config, "verl").unwrap();
        assert_eq!(plan.rows.len(), 2);
        assert!(plan.stats.left_out.is_empty());
        let only_user = vec![arena("t2", None, "retail", true)];
        let err = super::plan(&only_user, &ExportConfig::default(), "verl").unwrap_err();
        assert!(matches!(err, TrainerError::Empty { arenas: 1, needs_user: 1 }), "{err}");
    }

    #[test]
    fn ask_user_is_answered_from_the_known_facts() {
        let a = arena("t1", None, "retail", true);
        assert_eq!(ask_user_answer(&a.scenario, "What is your email?"), "Sure: the email is a@b.c.");
        assert_eq!(ask_user_answer(&a.scenario, "what is the order id"), "Sure: the order id is ORD-1.");
        assert_eq!(ask_user_answer(&a.scenario, "Shall I cancel it? (yes/no)"), "Yes, please go ahead.");
        let tools = offered_tools(&a, true);
        assert_eq!(tools.last().map(FunctionTool::name), Some(ASK_USER));
        assert_eq!(tools.len(), a.tools.len() + 1);
        assert_eq!(offered_tools(&a, false), a.tools);
    }

    #[test]
    fn an_arena_offering_ask_user_already_is_left_out() {
        let mut a = arena("t1", None, "retail", false);
        a.tools.push(ask_user_tool());
        let arenas = vec![a, arena("t2", None, "retail", false)];
        let config = ExportConfig { ask_user: true, ..ExportConfig::default() };
        let plan = plan(&arenas, &config, "trl").unwrap();
        assert_eq!(plan.rows.len(), 1);
        assert_eq!(plan.stats.left_out.get("ask_user_clash"), Some(&1));
    }

    #[test]
    fn ground_truth_names_the_arena_subgoals_and_gold_calls() {
        let a = arena("t1", None, "retail", false);
        let g: serde_json::Value = serde_json::from_str(&ground_truth(&a).unwrap()).unwrap();
        assert_eq!(g["arena"], "t1");
        assert_eq!(g["reward"], "f1");
        assert_eq!(g["subgoals"], serde_json::to_value(&a.subgoals).unwrap());
        assert_eq!(g["gold"], serde_json::to_value(&a.gold).unwrap());
    }
}
