//! verl's RL dataset: `train.parquet` and `test.parquet`, one row per arena, with the
//! columns verl's `RLHFDataset` and tool agent loop read (checked against verl's
//! `verl/utils/dataset/rl_dataset.py` and `verl/experimental/agent_loop/tool_agent_loop.py`).
//!
//! Columns (every row has all of them; `?` marks a nullable one):
//!
//! - `data_source` (string): `worldsmith/<world>`; verl passes it to the reward function;
//! - `agent_name` (string): `tool_agent`, the agent loop verl runs the row with (its
//!   multi-turn tool-calling loop);
//! - `prompt` (list of struct `{role: string, content: string}`): the arena's `messages`
//!   (system prompt and the user's first message), verl's `prompt_key`;
//! - `ability` (string): `tool_use`;
//! - `reward_model` (struct): `style` (string, `rule`: every sub-goal is checked by rule) and
//!   `ground_truth` (string): a JSON object `{"arena", "reward", "subgoals", "gold"}` (see
//!   [`crate::ground_truth`]); a JSON string because sub-goals differ in shape, and verl
//!   hands it to `compute_score(data_source, solution_str, ground_truth, extra_info)`
//!   as it is, so a reward function reads it with `json.loads`;
//! - `extra_info` (struct):
//!   - `split` (string): `train` or `test`;
//!   - `index` (int64): the row's position in its file, from 0 (verl's `index`);
//!   - `arena` (string), `task` (string), `hop` (int64?, null for a whole task), `world`
//!     (string), `init_digest` (string): the arena and the state its episode starts from;
//!   - `need_tools_kwargs` (bool): true (verl warns when a row lacks `tools_kwargs`);
//!   - `tools_kwargs` (struct, one field per tool name offered by any row of the export,
//!     sorted): for each tool the row offers, `{"create_kwargs": {"arena", "world",
//!     "digest"}}` (all strings; for `ask_user`, `{"arena", "scenario"}`, the scenario as a
//!     JSON string), null for the tools it does not offer. verl's tool agent loop calls
//!     `tool.create(create_kwargs=tools_kwargs[name]["create_kwargs"])` before each call and
//!     `release` after it, so a tool running worldsmith keeps the episode's world, forked
//!     from `init_digest`, by the agent loop's request id;
//!   - `interaction_kwargs` (struct `{name: string, arena: string, scenario: string}`): for a
//!     verl interaction (the user simulator of verl's multi-turn loop): `name` is
//!     `worldsmith_user`, `scenario` the JSON of what the user wants and knows;
//!   - `tools` (string): the tools the row offers, as a JSON array in OpenAI function format
//!     (verl's tool config is one list for the whole run; this is the arena's own);
//!   - `scenario` (string): the scenario as JSON (what `ask_user` is answered from);
//!   - `max_turns` (int64), `needs_user` (bool): as in the arena line.

use crate::columns::{parquet_bytes, record_batch};
use crate::{ASK_USER, Export, ExportConfig, FileEntry, Plan, Row, Split, TrainerError};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The `data_source` prefix.
pub const DATA_SOURCE_PREFIX: &str = "worldsmith/";
/// The `ability` of every row.
pub const ABILITY: &str = "tool_use";
/// The `agent_name` of every row: verl's tool-calling agent loop.
pub const AGENT_NAME: &str = "tool_agent";
/// The interaction named in `interaction_kwargs`.
pub const INTERACTION: &str = "worldsmith_user";

/// The files' schema, for the tool names of the export.
#[must_use]
pub fn schema(tool_names: &BTreeSet<String>) -> SchemaRef {
    let string = |name: &str| Field::new(name, DataType::Utf8, false);
    let message = Fields::from(vec![string("role"), string("content")]);
    let world_kwargs = Fields::from(vec![string("arena"), string("world"), string("digest")]);
    let ask_kwargs = Fields::from(vec![string("arena"), string("scenario")]);
    let tools_kwargs: Vec<Field> = tool_names
        .iter()
        .map(|name| {
            let create = if name == ASK_USER { ask_kwargs.clone() } else { world_kwargs.clone() };
            Field::new_struct(name, vec![Field::new_struct("create_kwargs", create, false)], true)
        })
        .collect();
    let extra_info = vec![
        string("split"),
        Field::new("index", DataType::Int64, false),
        string("arena"),
        string("task"),
        Field::new("hop", DataType::Int64, true),
        string("world"),
        string("init_digest"),
        Field::new("need_tools_kwargs", DataType::Boolean, false),
        Field::new_struct("tools_kwargs", tools_kwargs, false),
        Field::new_struct("interaction_kwargs", vec![string("name"), string("arena"), string("scenario")], false),
        string("tools"),
        string("scenario"),
        Field::new("max_turns", DataType::Int64, false),
        Field::new("needs_user", DataType::Boolean, false),
    ];
    Arc::new(Schema::new(vec![
        string("data_source"),
        string("agent_name"),
        Field::new_list("prompt", Field::new_list_field(DataType::Struct(message), false), false),
        string("ability"),
        Field::new_struct("reward_model", vec![string("style"), string("ground_truth")], false),
        Field::new_struct("extra_info", extra_info, false),
    ]))
}

/// One row (see the module documentation).
///
/// # Errors
///
/// When a value does not serialize.
pub fn row(r: &Row<'_>, ask_user: bool) -> Result<Value, TrainerError> {
    let arena = r.arena;
    let scenario = serde_json::to_string(&arena.scenario)?;
    let tools = crate::offered_tools(arena, ask_user);
    let mut tools_kwargs = serde_json::Map::new();
    for tool in &tools {
        let create = if tool.name() == ASK_USER {
            json!({"arena": arena.id, "scenario": scenario})
        } else {
            json!({"arena": arena.id, "world": arena.init.world, "digest": arena.init.digest})
        };
        tools_kwargs.insert(tool.name().to_owned(), json!({"create_kwargs": create}));
    }
    let prompt = crate::prompt(arena);
    Ok(json!({
        "data_source": format!("{DATA_SOURCE_PREFIX}{}", arena.world),
        "agent_name": AGENT_NAME,
        "prompt": prompt,
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": crate::ground_truth(arena)?},
        "extra_info": {
            "split": r.split.name(),
            "index": r.index,
            "arena": arena.id,
            "task": crate::task_id(arena),
            "hop": arena.hop,
            "world": arena.world,
            "init_digest": arena.init.digest,
            "need_tools_kwargs": true,
            "tools_kwargs": tools_kwargs,
            "interaction_kwargs": {"name": INTERACTION, "arena": arena.id, "scenario": scenario},
            "tools": serde_json::to_string(&tools)?,
            "scenario": scenario,
            "max_turns": arena.max_turns,
            "needs_user": arena.needs_user,
        },
    }))
}

/// The tool names any row of the plan offers.
#[must_use]
pub fn tool_names(plan: &Plan<'_>, ask_user: bool) -> BTreeSet<String> {
    let mut names: BTreeSet<String> =
        plan.rows.iter().flat_map(|r| r.arena.tools.iter().map(|t| t.name().to_owned())).collect();
    if ask_user {
        names.insert(ASK_USER.to_owned());
    }
    names
}

/// verl's `train.parquet` and `test.parquet` of `arenas`.
///
/// # Errors
///
/// [`TrainerError::Empty`] when no arena is left to export; otherwise a bug (a row that
/// does not fit the schema) or a failure of the Parquet writer.
pub fn export(arenas: &[worldsmith_core::arena::Arena], config: &ExportConfig) -> Result<Export, TrainerError> {
    let plan = crate::plan(arenas, config, "verl")?;
    let schema = schema(&tool_names(&plan, config.ask_user));
    let mut files = Vec::new();
    let mut stats = plan.stats.clone();
    for split in [Split::Train, Split::Test] {
        let rows: Vec<&Row<'_>> = plan.rows.iter().filter(|r| r.split == split).collect();
        let values = rows.iter().map(|r| row(r, config.ask_user)).collect::<Result<Vec<_>, _>>()?;
        let name = format!("{}.parquet", split.name());
        files.push((name.clone(), parquet_bytes(&record_batch(&schema, &values)?)?));
        let arenas = rows.iter().map(|r| r.arena.id.clone()).collect();
        stats.files.insert(name, FileEntry { split, rows: rows.len(), arenas });
    }
    Ok(Export { files, stats })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testing::arena;
    use arrow_array::{Array, RecordBatch, StructArray};

    /// The one batch of a Parquet file's bytes, read back by the `parquet` crate.
    pub(crate) fn read(bytes: &[u8]) -> RecordBatch {
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, bytes).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
        let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        assert_eq!(batches.len(), 1, "one row group, one batch");
        batches[0].clone()
    }

    #[test]
    fn rows_carry_what_verl_reads_and_tools_kwargs_only_for_offered_tools() {
        let arenas = vec![
            arena("t1", None, "retail", false),
            arena("t2", None, "airline", true),
            arena("t3", None, "bank", false),
        ];
        let config = ExportConfig {
            split: crate::SplitConfig { test_fraction: 0.0, ..crate::SplitConfig::default() },
            ask_user: true,
        };
        let export = export(&arenas, &config).unwrap();
        assert_eq!(export.stats.rows, crate::SplitCounts { train: 3, test: 0 });
        let (name, bytes) = &export.files[0];
        assert_eq!(name, "train.parquet");
        let batch = read(bytes);
        assert_eq!(batch.num_rows(), 3);
        assert_eq!(
            batch.schema(),
            schema(
                &["ask_user", "cancel_airline", "cancel_bank", "cancel_retail", "get_order"]
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            )
        );
        let extra = batch.column_by_name("extra_info").unwrap().as_any().downcast_ref::<StructArray>().unwrap();
        let kwargs = extra.column_by_name("tools_kwargs").unwrap().as_any().downcast_ref::<StructArray>().unwrap();
        let retail = kwargs.column_by_name("cancel_retail").unwrap();
        assert!(retail.is_valid(0) && retail.is_null(1) && retail.is_null(2));
        assert!(kwargs.column_by_name("ask_user").unwrap().null_count() == 0);
        let row = row(&crate::plan(&arenas, &config, "verl").unwrap().rows[1], true).unwrap();
        assert_eq!(row["data_source"], "worldsmith/airline");
        assert_eq!(
            row["extra_info"]["tools_kwargs"]["get_order"]["create_kwargs"]["digest"],
            serde_json::to_value(arenas[1].init.digest).unwrap()
        );
        let tools: Vec<worldsmith_core::tool::FunctionTool> =
            serde_json::from_str(row["extra_info"]["tools"].as_str().unwrap()).unwrap();
        assert_eq!(tools, crate::offered_tools(&arenas[1], true));
    }
}
