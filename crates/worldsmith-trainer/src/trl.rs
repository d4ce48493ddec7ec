//! A Hugging Face dataset for TRL's `GRPOTrainer`: the standard layout
//! (`data/train-00000-of-00001.parquet`, `data/test-00000-of-00001.parquet` and a dataset
//! card, `README.md`, whose `configs` name both splits), so `datasets.load_dataset(DIR)`
//! gives a `DatasetDict` with `train` and `test`.
//!
//! Columns (every row has all of them; `?` marks a nullable one):
//!
//! - `prompt` (list of struct `{role: string, content: string}`): the arena's `messages`, a
//!   conversational prompt as TRL reads it;
//! - `tools` (string): the tools the arena offers, a JSON array in OpenAI function format
//!   (with `ask_user` when asked for). A JSON string, as TRL's dataset documentation asks
//!   for tools on `datasets` without the `Json()` feature type, because parameter schemas
//!   differ from tool to tool; TRL's trainers `json.loads` a string `tools`. `GRPOTrainer`
//!   itself calls Python callables (`tools=` or an `environment_factory`'s methods): every
//!   column reaches the environment's `reset(**row)` and the reward functions as keyword
//!   arguments, so an environment builds the arena's tools from this column and its world
//!   from `arena`, `world` and `init_digest`;
//! - `arena` (string), `task` (string), `hop` (int64?, null for a whole task), `world`
//!   (string), `init_digest` (string): the arena and the state its episode starts from;
//! - `ground_truth` (string): what the arena is scored on, as JSON (see
//!   [`crate::ground_truth`]);
//! - `scenario` (string): what the user wants and knows, as JSON (what `ask_user` is
//!   answered from);
//! - `max_turns` (int64), `needs_user` (bool): as in the arena line.

use crate::columns::{parquet_bytes, record_batch};
use crate::{Export, ExportConfig, FileEntry, Row, Split, TrainerError};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use serde_json::{Value, json};
use std::sync::Arc;

/// The path of a split's file in the dataset directory.
#[must_use]
pub fn file_name(split: Split) -> String {
    format!("data/{}-00000-of-00001.parquet", split.name())
}

/// The dataset card: the splits for `datasets` and what each column holds.
pub const DATASET_CARD: &str = "---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
  - split: test
    path: data/test-*
---
# worldsmith arenas

RL arenas from `worldsmith export trl`, one row per arena. `manifest.json` says which arena
went to which split and how many were left out.

| column | type | holds |
|---|---|---|
| `prompt` | list of `{role, content}` | the system prompt and the user's first message |
| `tools` | string | the tools offered, a JSON array in OpenAI function format |
| `arena` | string | the arena's id (`<task>` or `<task>/hop-<k>`) |
| `task` | string | the task it came from |
| `hop` | int64 or null | the hop of a multi-hop question, null for the whole task |
| `world` | string | the world the episode runs in |
| `init_digest` | string | the digest of the state the episode starts from |
| `ground_truth` | string | JSON: `arena`, `reward`, `subgoals`, `gold` |
| `scenario` | string | JSON: what the user wants and knows (answers `ask_user`) |
| `max_turns` | int64 | the most agent turns |
| `needs_user` | bool | the agent must ask the user for a fact |
";

/// The dataset's schema.
#[must_use]
pub fn schema() -> SchemaRef {
    let string = |name: &str| Field::new(name, DataType::Utf8, false);
    let message = Fields::from(vec![string("role"), string("content")]);
    Arc::new(Schema::new(vec![
        Field::new_list("prompt", Field::new_list_field(DataType::Struct(message), false), false),
        string("tools"),
        string("arena"),
        string("task"),
        Field::new("hop", DataType::Int64, true),
        string("world"),
        string("init_digest"),
        string("ground_truth"),
        string("scenario"),
        Field::new("max_turns", DataType::Int64, false),
        Field::new("needs_user", DataType::Boolean, false),
    ]))
}

/// One row (see the module documentation).
///
/// # Errors
///
/// When a value does not serialize.
pub fn row(r: &Row<'_>, ask_user: bool) -> Result<Value, TrainerError> {
    let arena = r.arena;
    let prompt = crate::prompt(arena);
    Ok(json!({
        "prompt": prompt,
        "tools": serde_json::to_string(&crate::offered_tools(arena, ask_user))?,
        "arena": arena.id,
        "task": crate::task_id(arena),
        "hop": arena.hop,
        "world": arena.world,
        "init_digest": arena.init.digest,
        "ground_truth": crate::ground_truth(arena)?,
        "scenario": serde_json::to_string(&arena.scenario)?,
        "max_turns": arena.max_turns,
        "needs_user": arena.needs_user,
    }))
}

/// The dataset's Parquet files of `arenas` (the card is [`DATASET_CARD`]).
///
/// # Errors
///
/// [`TrainerError::Empty`] when no arena is left to export; otherwise a bug (a row that
/// does not fit the schema) or a failure of the Parquet writer.
pub fn export(arenas: &[worldsmith_core::arena::Arena], config: &ExportConfig) -> Result<Export, TrainerError> {
    let plan = crate::plan(arenas, config, "trl")?;
    let schema = schema();
    let mut files = Vec::new();
    let mut stats = plan.stats.clone();
    for split in [Split::Train, Split::Test] {
        let rows: Vec<&Row<'_>> = plan.rows.iter().filter(|r| r.split == split).collect();
        let values = rows.iter().map(|r| row(r, config.ask_user)).collect::<Result<Vec<_>, _>>()?;
        let name = file_name(split);
        files.push((name.clone(), parquet_bytes(&record_batch(&schema, &values)?)?));
        let arenas = rows.iter().map(|r| r.arena.id.clone()).collect();
        stats.files.insert(name, FileEntry { split, rows: rows.len(), arenas });
    }
    Ok(Export { files, stats })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::arena;
    use crate::verl::tests::read;

    #[test]
    fn both_splits_have_the_schema_and_every_arena_once() {
        let arenas: Vec<_> = (0..10).map(|t| arena(&format!("t{t}"), None, "retail", t % 4 == 0)).collect();
        let config = ExportConfig {
            split: crate::SplitConfig { test_fraction: 0.5, ..crate::SplitConfig::default() },
            ask_user: false,
        };
        let export = export(&arenas, &config).unwrap();
        assert_eq!(export.stats.left_out.get("needs_user"), Some(&3));
        assert_eq!(export.stats.rows.train + export.stats.rows.test, 7);
        let mut seen = Vec::new();
        for (name, bytes) in &export.files {
            let batch = read(bytes);
            assert_eq!(batch.schema(), schema(), "{name}");
            assert_eq!(batch.num_rows(), export.stats.files[name].rows);
            seen.extend(export.stats.files[name].arenas.iter().cloned());
        }
        seen.sort();
        assert_eq!(seen, ["t1", "t2", "t3", "t5", "t6", "t7", "t9"]);
    }
}
