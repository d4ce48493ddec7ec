//! Command-line definitions (clap). Parsing only: no system calls here.

// The doc comments below are the `--help` text people read, printed verbatim, not rustdoc:
// backticks around every identifier would only clutter it.
#![allow(clippy::doc_markdown)]

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Build executable, verifiable tool-use worlds and turn agents' episodes in them into
/// training data.
#[derive(Debug, Parser)]
#[command(name = "worldsmith", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect, call and replay a single world.
    #[command(subcommand)]
    World(WorldCommand),
    /// The main job: check every bundled world, replay its tasks, write a report.
    Run(RunArgs),
    /// Import API documents (OpenAPI 3.x, Swagger 2.0, OpenAI tools, MCP tools/list, BFCL)
    /// into a tool pool, tools.jsonl.
    Ingest(IngestArgs),
    /// Discover domains in a tool pool: similarity graph, Leiden communities, data-flow edges.
    Graph(GraphArgs),
    /// Turn discovered domains into executable, self-checked worlds.
    Materialize(MaterializeArgs),
    /// Synthesize tasks from worlds: sampled tool chains, grounded, executed and described.
    Synth(SynthArgs),
    /// Build RL arenas from tasks: self-contained episodes with rule-checkable sub-goals, one
    /// per task and one per hop of a multi-hop question.
    Arenas(ArenasArgs),
    /// Run episodes: a simulated user, an agent policy and the task's world.
    Rollout(RolloutArgs),
    /// Judge episodes: validity, state alignment, exact call match; binary and F1 rewards.
    Verify(VerifyArgs),
    /// Score episodes against arenas: success, F1 (normalised and ASTRA's raw form) and the
    /// credit of every sub-goal.
    Reward(RewardArgs),
    /// Export training data from verified episodes.
    #[command(subcommand)]
    Export(ExportCommand),
    /// GRPO batch logic on arenas.
    #[command(subcommand)]
    Grpo(GrpoCommand),
    /// Measure policies from verdicts: pass^k, success by chain length; metrics.json and charts.
    Eval(EvalArgs),
    /// The step-level process-reward benchmark: pairs labelled by execution, PRM evaluation
    /// and reward-guided search.
    #[command(subcommand)]
    Prm(PrmCommand),
}

/// `worldsmith prm ...`
#[derive(Debug, Subcommand)]
pub enum PrmCommand {
    /// Build pairs of a correct and an incorrect next action: offline (a gold prefix and a
    /// mistake generated from the world) and online (a failed episode's first erroneous
    /// step), every label proven by execution on a fork of the world.
    Build(PrmBuildArgs),
    /// Measure a PRM by forced choice between the two actions of each pair (shown in a
    /// seeded random order): a chat model, a scorer endpoint, or a built-in baseline.
    Eval(PrmEvalArgs),
    /// Reward-guided search: N candidate actions per turn from the noisy policy, the best
    /// by the PRM taken; success and F1 for each N.
    Search(PrmSearchArgs),
}

/// Field names of `prm build`'s lines.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PrmLayoutName {
    /// worldsmith's pair line (every field).
    Worldsmith,
    /// ToolPRMBench's sample fields.
    Toolprmbench,
    /// TRL's reward-model columns: prompt, chosen, rejected, tools.
    Trl,
}

/// `prm build`
#[derive(Debug, Args)]
pub struct PrmBuildArgs {
    /// Task lines (`synth`'s tasks.jsonl): their gold paths give offline pairs.
    #[arg(long)]
    pub tasks: PathBuf,
    /// Episode files whose failed episodes give online pairs (any policy, `openai` too);
    /// without them, a noisy rollout of the tasks is made for it.
    #[arg(long, num_args = 1..)]
    pub episodes: Vec<PathBuf>,
    /// The output directory: pairs.jsonl, prm_summary.json (train.jsonl and test.jsonl with
    /// --split-by).
    #[arg(long)]
    pub out: PathBuf,
    /// Seeds every choice: mistakes, the per-task cap, the noisy rollout, the split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The most offline pairs per task (0: all), chosen round-robin over error types.
    #[arg(long, default_value_t = 8)]
    pub per_task: usize,
    /// Without --episodes: noisy episodes per task for online pairs.
    #[arg(long, default_value_t = 2)]
    pub trials: u32,
    /// The field names of the lines written.
    #[arg(long, value_enum, default_value = "worldsmith")]
    pub layout: PrmLayoutName,
    /// Also write train.jsonl and test.jsonl, keeping each task (or world) in one file.
    #[arg(long, value_enum)]
    pub split_by: Option<SplitByName>,
    /// With --split-by: the fraction of tasks (or worlds) in test.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Worlds the tasks name that are not bundled: paths to world directories.
    #[arg(long, num_args = 1..)]
    pub worlds: Vec<String>,
    /// The noisy policy's rates (without --episodes).
    #[command(flatten)]
    pub noise: NoiseArgs,
    /// Model judges: each pair is also shown to these models (at the endpoint below, actions
    /// in a seeded random order) and dropped when one picks the rejected action.
    #[arg(long = "judge-model", num_args = 1..)]
    pub judge_models: Vec<String>,
    /// The endpoint of the model judges.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// The built-in PRMs of `prm eval`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PrmBaselineName {
    /// A seeded coin.
    Random,
    /// A rule of thumb without execution (offered tools, grounded values, no repeats).
    Heuristic,
    /// Execution on a fork of the world (the upper bound; needs --tasks).
    Lookahead,
}

/// `prm eval`
#[derive(Debug, Args)]
pub struct PrmEvalArgs {
    /// Pair lines (`prm build`'s pairs.jsonl, worldsmith layout).
    #[arg(long)]
    pub pairs: PathBuf,
    /// A built-in PRM instead of a model.
    #[arg(long, value_enum, conflicts_with = "scorer")]
    pub baseline: Option<PrmBaselineName>,
    /// A reward model's endpoint: POST {"history", "functions", "action"} answers {"score"}.
    #[arg(long)]
    pub scorer: Option<String>,
    /// The pairs' tasks (for --baseline lookahead).
    #[arg(long)]
    pub tasks: Option<PathBuf>,
    /// Where to write the report (JSON); `-` writes standard output.
    #[arg(long)]
    pub out: PathBuf,
    /// Seeds the order each pair's actions are shown in.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worlds the tasks name that are not bundled: paths to world directories.
    #[arg(long, num_args = 1..)]
    pub worlds: Vec<String>,
    /// The chat model judge (without --baseline or --scorer).
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// `prm search`
#[derive(Debug, Args)]
pub struct PrmSearchArgs {
    /// Task lines to search on.
    #[arg(long)]
    pub tasks: PathBuf,
    /// The numbers of candidates per turn to compare.
    #[arg(long, num_args = 1.., value_delimiter = ',', default_values_t = [1, 2, 4, 8])]
    pub candidates: Vec<usize>,
    /// The guide: `lookahead` (execution on a fork), or a scorer endpoint's URL.
    #[arg(long, default_value = "lookahead")]
    pub prm: String,
    /// Where the candidates come from: the noisy policy (the oracle's action, or a mistake
    /// generated from the world), or a model at an OpenAI-compatible endpoint (--model,
    /// --base-url; give it a --temperature above 0, or the candidates are all one answer).
    #[arg(long, value_enum, default_value = "noisy")]
    pub policy: SearchPolicyName,
    /// Episodes per task and number of candidates.
    #[arg(long, default_value_t = 2)]
    pub trials: u32,
    /// The noisy policy's chance that a sampled candidate is a mistake.
    #[arg(long, default_value_t = 0.5)]
    pub mistake_rate: f64,
    /// Episodes searched at once (default: one per core; 8 with --policy openai).
    #[arg(long, default_value_t = 0)]
    pub concurrency: usize,
    /// Seeds the sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The output directory: search.json and search.svg.
    #[arg(long)]
    pub out: PathBuf,
    /// Worlds the tasks name that are not bundled: paths to world directories.
    #[arg(long, num_args = 1..)]
    pub worlds: Vec<String>,
    /// Client settings for a scorer guide (timeouts, retries).
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// `worldsmith grpo ...`
#[derive(Debug, Subcommand)]
pub enum GrpoCommand {
    /// Run ASTRA's adaptive batch filling with a scripted policy on arenas, beside a filler
    /// that takes every group: groups rolled, valid, buffered and used per batch, and the
    /// rollouts each spends.
    Simulate(GrpoSimulateArgs),
}

/// `grpo simulate`
#[derive(Debug, Args)]
pub struct GrpoSimulateArgs {
    /// Arena lines from `worldsmith arenas`.
    #[arg(long)]
    pub arenas: PathBuf,
    /// The scripted policy that rolls out (`oracle` never varies: every group is invalid).
    #[arg(long, value_enum, default_value = "noisy")]
    pub policy: PolicyName,
    /// Rollouts per group.
    #[arg(long, default_value_t = 8)]
    pub group: u32,
    /// Groups per batch.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Batches to fill.
    #[arg(long, default_value_t = 8)]
    pub steps: usize,
    /// A group is valid when the standard deviation of its rewards exceeds this.
    #[arg(long, default_value_t = 0.0)]
    pub delta: f64,
    /// The stream's seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The `noisy` policy's rates.
    #[command(flatten)]
    pub noise: NoiseArgs,
    /// Also write the measurements as JSON here.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// Worlds the arenas name that are not bundled: paths to world directories.
    #[arg(long, num_args = 1..)]
    pub worlds: Vec<String>,
}

/// `worldsmith export ...`
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Supervised fine-tuning lines (OpenAI chat format with per-message `weight`), split into
    /// stage 1 (generated worlds) and stage 2 (bundled worlds).
    Sft(ExportSftArgs),
    /// RL prompts for verl: train.parquet and test.parquet with the columns verl's
    /// RLHFDataset and tool agent loop read (prompt, reward_model, extra_info.tools_kwargs...),
    /// one row per arena, split by task or world.
    Verl(ExportTrainerArgs),
    /// RL prompts for TRL's GRPOTrainer: a Hugging Face dataset directory (data/train-*.parquet,
    /// data/test-*.parquet, README.md) with prompt, tools and arena columns, split by task or
    /// world.
    Trl(ExportTrainerArgs),
}

/// What `export verl|trl` keeps together in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitByName {
    /// A task's arenas (the whole task and its hops) go to the same file.
    Task,
    /// A world's arenas go to the same file: test worlds are never trained on.
    World,
}

/// `export verl` and `export trl`
#[derive(Debug, Args)]
pub struct ExportTrainerArgs {
    /// Arena lines from `worldsmith arenas`.
    #[arg(long)]
    pub arenas: PathBuf,
    /// The output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// What a split never separates: tasks, or worlds (an out-of-distribution test set).
    #[arg(long, value_enum, default_value = "task")]
    pub split_by: SplitByName,
    /// The fraction of tasks (or worlds) in the test file, 0 to 1; with two or more, at least
    /// one goes to each file unless it is 0 or 1.
    #[arg(long, default_value_t = 0.1)]
    pub test_fraction: f64,
    /// Seeds the split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Keep arenas that need the user, and offer every arena an ask_user(question) tool,
    /// answered by the scripted user from the arena's scenario.
    #[arg(long)]
    pub ask_user: bool,
    /// Worlds the arenas name that are not bundled: paths to world directories.
    #[arg(long, num_args = 1..)]
    pub worlds: Vec<String>,
}

/// The agent policies of `rollout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyName {
    /// Follows the gold calls.
    Oracle,
    /// Follows the gold calls with seeded mistakes, recovered some of the time.
    Noisy,
    /// An OpenAI-compatible endpoint (OPENAI_BASE_URL, OPENAI_API_KEY, --model).
    Openai,
}

/// The candidate policies of `prm search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchPolicyName {
    /// The oracle's next action, or with --mistake-rate a mistake generated from the world.
    Noisy,
    /// N samples from an OpenAI-compatible endpoint (OPENAI_BASE_URL, OPENAI_API_KEY, --model).
    Openai,
}

/// The user simulators of `rollout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UserName {
    /// Answers from the task's scenario by rules.
    Scripted,
    /// A chat model plays the user from the scenario.
    Llm,
}

/// `arenas`
#[derive(Debug, Args)]
pub struct ArenasArgs {
    /// Task lines (JSON Lines), e.g. `synth`'s tasks.jsonl; `-` reads standard input.
    #[arg(long)]
    pub tasks: PathBuf,
    /// The directory to write `arenas.jsonl` and `arenas_summary.json` into.
    #[arg(long)]
    pub out: PathBuf,
    /// Seeds the order of the tools each arena offers (0: the order the task's episodes use).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The most distractor tools an arena offers, taken from the task's near, middle and far
    /// ones in turn (default: all of them).
    #[arg(long)]
    pub distractors: Option<usize>,
    /// The most agent turns an episode in an arena may take.
    #[arg(long, default_value_t = 30)]
    pub max_turns: u32,
    /// Worlds the tasks name that are not bundled: paths to world directories.
    #[arg(long, num_args = 1..)]
    pub worlds: Vec<String>,
}

/// The `noisy` policy's rates (`rollout`, `grpo simulate`).
#[derive(Debug, Args)]
pub struct NoiseArgs {
    /// `noisy`: the chance of a mistake at each gold call.
    #[arg(long, default_value_t = 0.2)]
    pub mistake_rate: f64,
    /// `noisy`: the chance of retrying the right call after a mistake.
    #[arg(long, default_value_t = 0.6)]
    pub recovery_rate: f64,
}

/// `rollout`
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Task lines (JSON Lines), e.g. `synth`'s tasks.jsonl; `-` reads standard input.
    #[arg(long, required_unless_present = "arenas", conflicts_with = "arenas")]
    pub tasks: Option<PathBuf>,
    /// Arena lines (`worldsmith arenas`' arenas.jsonl) to run episodes in instead of tasks;
    /// each episode records its arena.
    #[arg(long)]
    pub arenas: Option<PathBuf>,
    /// The agent policy.
    #[arg(long, value_enum)]
    pub policy: PolicyName,
    /// The user simulator: `scripted` (answers from the scenario) or `llm` (a chat model
    /// plays the user, through the same endpoint settings).
    #[arg(long, value_enum, default_value = "scripted")]
    pub user: UserName,
    /// Worlds the tasks name that are not bundled: paths to world directories (a task's
    /// `world` is matched against each world's name).
    #[arg(long, num_args = 1..)]
    pub worlds: Vec<String>,
    /// Episodes per task.
    #[arg(long, default_value_t = 1)]
    pub trials: u32,
    /// Where to write episode lines; `-` writes standard output.
    #[arg(long)]
    pub out: PathBuf,
    /// The seed of the noisy policy's mistakes and of endpoint sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The most agent turns per episode.
    #[arg(long, default_value_t = 30)]
    pub max_steps: u32,
    /// The most seconds an episode may take.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    /// Episodes at once (0: one per core for scripted policies, 8 for `openai`).
    #[arg(long, default_value_t = 0)]
    pub concurrency: usize,
    /// The `noisy` policy's rates.
    #[command(flatten)]
    pub noise: NoiseArgs,
    /// The endpoint of the `openai` policy.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// An OpenAI-compatible chat endpoint, for the optional LLM steps.
#[derive(Debug, Clone, Args)]
pub struct EndpointArgs {
    /// The model name (default: $OPENAI_MODEL). The API key comes from $OPENAI_API_KEY.
    #[arg(long, env = "OPENAI_MODEL")]
    pub model: Option<String>,
    /// The API root (default: $OPENAI_BASE_URL, else http://localhost:8000/v1).
    #[arg(long, env = "OPENAI_BASE_URL", default_value = "http://localhost:8000/v1")]
    pub base_url: String,
    /// Sampling temperature.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// The most seconds one request may take.
    #[arg(long, default_value_t = 120)]
    pub request_timeout: u64,
    /// Retries of a failed request (transport errors, 429, 5xx), with exponential back-off.
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
}

/// `verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Episode lines (JSON Lines), one or more files.
    #[arg(long, num_args = 1.., required = true)]
    pub episodes: Vec<PathBuf>,
    /// Where to write verdict lines; `-` writes standard output.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the counts per layer as JSON here.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// Worlds the episodes name that are not bundled: paths to world directories.
    #[arg(long, num_args = 1..)]
    pub worlds: Vec<String>,
}

/// `reward`
#[derive(Debug, Args)]
pub struct RewardArgs {
    /// Arena lines from `worldsmith arenas`.
    #[arg(long)]
    pub arenas: PathBuf,
    /// Episode lines (JSON Lines), one or more files: each is scored against the arena it ran
    /// in, or its task's whole-task arena.
    #[arg(long, num_args = 1.., required = true)]
    pub episodes: Vec<PathBuf>,
    /// Where to write reward lines; `-` writes standard output.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the counts and mean rewards as JSON here.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// Worlds the arenas name that are not bundled: paths to world directories.
    #[arg(long, num_args = 1..)]
    pub worlds: Vec<String>,
    /// Trust the episodes' recorded results and changes instead of running every call again
    /// (several times faster; for episodes your own rollout or server produced). Without
    /// it, an episode whose record differs from what its calls do is invalid.
    #[arg(long)]
    pub trust_recorded: bool,
}

/// `export sft`
#[derive(Debug, Args)]
pub struct ExportSftArgs {
    /// Verdict lines from `verify`.
    #[arg(long)]
    pub verdicts: PathBuf,
    /// The episode files the verdicts judge.
    #[arg(long, num_args = 1.., required = true)]
    pub episodes: Vec<PathBuf>,
    /// The output directory: stage1_general.jsonl, stage2_vertical.jsonl, manifest.json.
    #[arg(long)]
    pub out: PathBuf,
    /// A Hugging Face tokenizer directory (tokenizer.json, tokenizer_config.json with its
    /// chat_template): each line gains input_ids and assistant_masks, rendered with the
    /// model's own chat template (strftime_now formats $SOURCE_DATE_EPOCH, else 1970-01-01).
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// With --tokenizer: the most tokens a line may have; a longer line is cut after an
    /// earlier trained assistant turn, or dropped when no cut fits.
    #[arg(long, requires = "tokenizer")]
    pub max_tokens: Option<usize>,
    /// The file format: JSON Lines or Parquet (stage*.parquet).
    #[arg(long, value_enum, default_value_t = SftFormatName::Jsonl)]
    pub format: SftFormatName,
}

/// The file format of `export sft`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SftFormatName {
    /// JSON Lines.
    Jsonl,
    /// Parquet.
    Parquet,
}

/// `eval`
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Verdict lines from `verify`.
    #[arg(long)]
    pub verdicts: PathBuf,
    /// The output directory: metrics.json and SVG charts.
    #[arg(long)]
    pub out: PathBuf,
}

/// `worldsmith world ...`
#[derive(Debug, Subcommand)]
pub enum WorldCommand {
    /// Load and validate a world, check its data, and call every tool once.
    Check(CheckArgs),
    /// Call one tool on the initial state; print the result and the new digest as JSON.
    Call(CallArgs),
    /// Replay task lines and write one result line per task.
    Replay(ReplayArgs),
    /// An interactive prompt: call tools, show records, digest, diff, undo.
    Shell(WorldArg),
    /// List the bundled worlds.
    List,
    /// Print a world's tools in OpenAI function-calling format (JSON).
    Tools(WorldArg),
    /// Write a world's initial records as `DIR/<collection>.json` (e.g. to freeze a
    /// generator's output into data files).
    Dump(DumpArgs),
}

/// `world dump`
#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub world: WorldArg,
    /// The directory to write into.
    #[arg(long)]
    pub out: PathBuf,
}

/// A world: a bundled world's name, or a directory (any argument containing `/`).
#[derive(Debug, Args)]
pub struct WorldArg {
    /// A bundled world's name (see `worldsmith world list`) or a path containing `/`.
    pub world: String,
}

/// `world check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub world: WorldArg,
    /// Print the full report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `world call`
#[derive(Debug, Args)]
pub struct CallArgs {
    #[command(flatten)]
    pub world: WorldArg,
    /// The tool's name.
    pub tool: String,
    /// The arguments as a JSON object.
    #[arg(default_value = "{}")]
    pub arguments: String,
}

/// `world replay`
#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub world: WorldArg,
    /// Task lines (JSON Lines); `-` reads standard input.
    #[arg(long)]
    pub tasks: PathBuf,
    /// Where to write result lines; `-` writes standard output.
    #[arg(long, default_value = "-")]
    pub out: PathBuf,
    /// Also print where the time went (loading the world, reading, parsing, execution,
    /// verification, serialization, writing) to standard error.
    #[arg(long)]
    pub timings: bool,
}

/// `run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The output directory (created if needed). A rerun skips the stages whose inputs and
    /// settings have not changed, and redoes the rest.
    #[arg(long)]
    pub out: PathBuf,
    /// The seed of every stage.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Tasks to synthesize per world.
    #[arg(long, default_value_t = 25)]
    pub per_world: usize,
    /// Noisy-policy episodes per task (pass^k is reported for k up to this).
    #[arg(long, default_value_t = 4)]
    pub trials: u32,
    /// Worlds to run on (bundled names or paths containing `/`); default: the bundled worlds.
    #[arg(long, num_args = 1..)]
    pub worlds: Vec<String>,
    /// Redo every stage, ignoring what an earlier run left.
    #[arg(long)]
    pub fresh: bool,
    /// A tool pool (`tools.jsonl`): its domains are discovered (`graph/`) and materialized
    /// (`generated/`), and the generated worlds join the run.
    #[arg(long)]
    pub tools: Option<PathBuf>,
}

/// `synth`
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Worlds: bundled names or paths containing `/`.
    #[arg(long, num_args = 1.., required = true)]
    pub worlds: Vec<String>,
    /// The output directory: `tasks.jsonl` and `synth_summary.json` (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// The seed; the same seed gives the same tasks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Tasks per world.
    #[arg(long, default_value_t = 50)]
    pub per_world: usize,
    /// Distractor tools from other worlds per similarity band (near, middle, far).
    #[arg(long, default_value_t = 2)]
    pub distractors: usize,
    /// Rewrite each goal in its persona's voice with an LLM (rewrites that lose a fact or
    /// reveal an answer are refused; the template stays).
    #[arg(long)]
    pub paraphrase: bool,
    /// The endpoint for `--paraphrase`.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// `ingest`
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// API documents: files, or directories searched recursively for .json, .yaml, .yml,
    /// .jsonl and .ndjson files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Where to write the tools (ToolSpec lines); `-` writes standard output.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the counts as JSON here.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// The most nested `$ref`s followed in one schema (deeper ones are cut).
    #[arg(long, default_value_t = 4)]
    pub max_ref_depth: usize,
    /// The most object nodes in one schema (the rest is cut).
    #[arg(long, default_value_t = 250)]
    pub max_schema_nodes: usize,
    /// Tools with more parameters are dropped.
    #[arg(long, default_value_t = 64)]
    pub max_params: usize,
    /// Descriptions are cut to this many characters.
    #[arg(long, default_value_t = 1024)]
    pub max_description: usize,
    /// Keep operations marked deprecated.
    #[arg(long)]
    pub keep_deprecated: bool,
}

/// `graph`
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The tool pool (`tools.jsonl`, ToolSpec lines).
    pub tools: PathBuf,
    /// The output directory: domains.jsonl and summary.json.
    #[arg(long)]
    pub out: PathBuf,
    /// The least cosine similarity of two tools' parameter vectors for an edge (Eq. 1).
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Each tool's most similar tools considered for edges.
    #[arg(long, default_value_t = 20)]
    pub neighbours: usize,
    /// A term in more than this fraction of tools (and more than 50) does not make two
    /// tools neighbours by itself.
    #[arg(long, default_value_t = 0.01)]
    pub max_df: f64,
    /// Leiden's modularity resolution (higher: more, smaller domains).
    #[arg(long, default_value_t = 1.0)]
    pub resolution: f64,
    /// The seed of community detection.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Smaller communities are merged into their best-connected neighbour, or dropped.
    #[arg(long, default_value_t = 3)]
    pub min_size: usize,
    /// Larger communities are split by running Leiden again inside them.
    #[arg(long, default_value_t = 50)]
    pub max_size: usize,
    /// Drop the tools no community holds instead of placing them (by default each joins the
    /// most alike domain of its own API, or a small domain of its API, or the most alike
    /// domain of its provider).
    #[arg(long)]
    pub drop_leftovers: bool,
    /// Report NMI and ARI between the domains and these provenance fields: provider,
    /// service, category, format, source, method.
    #[arg(long, num_args = 1..)]
    pub labels: Vec<String>,
    /// What tools are compared by: `tfidf` (offline, no weights) or `minilm` (the
    /// all-MiniLM-L6-v2 sentence embedder; needs the `neural` build feature and --model-dir).
    #[arg(long, value_enum, default_value = "tfidf")]
    pub embedder: EmbedderName,
    /// The MiniLM model directory (config.json, model.safetensors, tokenizer.json), made by
    /// scripts/fetch-minilm.sh.
    #[arg(long, env = "WORLDSMITH_MINILM_DIR", default_value = ".cache/minilm")]
    pub model_dir: PathBuf,
    /// MiniLM reads at most this many tokens of a tool's text (the model was trained on 256;
    /// domain quality measured the same from 32 to 256, see BENCHMARKS.md).
    #[arg(long, default_value_t = 64)]
    pub max_tokens: usize,
    /// How MiniLM vectors find their nearest: `hnsw` (an approximate index; its recall
    /// against the exact search, on a sample, is in summary.json) or `exact` (every vector
    /// against every other: O(n^2)).
    #[arg(long, value_enum, default_value = "hnsw")]
    pub neighbour_search: NeighbourSearch,
}

/// How dense vectors find their nearest in `graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NeighbourSearch {
    /// An HNSW index over the distinct vectors (approximate).
    Hnsw,
    /// Every distinct vector against every other.
    Exact,
}

/// The tool embedders of `graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EmbedderName {
    /// Identifier-aware TF-IDF over the parameter list: offline, no model weights.
    Tfidf,
    /// all-MiniLM-L6-v2 sentence embeddings (build feature `neural`).
    Minilm,
}

/// `materialize`
#[derive(Debug, Args)]
pub struct MaterializeArgs {
    /// The tool pool (`tools.jsonl`).
    #[arg(long)]
    pub tools: PathBuf,
    /// The domains (`domains.jsonl` from `graph`).
    #[arg(long)]
    pub domains: PathBuf,
    /// The output directory: one world per kept domain, plus materialize_summary.json and
    /// materialize_report.jsonl.
    #[arg(long)]
    pub out: PathBuf,
    /// Records generated per collection.
    #[arg(long, default_value_t = 20)]
    pub records: usize,
    /// The data seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Domains with fewer tools are skipped.
    #[arg(long, default_value_t = 3)]
    pub min_tools: usize,
    /// The share of a world's tools that must pass the self-check for it to be kept.
    #[arg(long, default_value_t = 0.9)]
    pub pass_rate: f64,
    /// Ask a chat model to write Starlark for tools whose generated implementation fails
    /// the self-check (OPENAI_BASE_URL, OPENAI_API_KEY, --model).
    #[arg(long)]
    pub refine: bool,
    /// `--refine`: how many more times the model is asked after its script fails.
    #[arg(long, default_value_t = 2)]
    pub refine_retries: usize,
    /// How many tools a batch of domains holds: one batch's tools and worlds are in memory
    /// at a time, each world written when its batch is done (the output is the same for
    /// any value).
    #[arg(long, default_value_t = 4096)]
    pub batch_tools: usize,
    /// The endpoint of `--refine`.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}
