//! Command-line definitions (clap). Parsing only: no system calls here.

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
    /// Synthesize tasks from worlds: sampled tool chains, grounded, executed and described.
    Synth(SynthArgs),
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
}

/// `run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The output directory (created if needed; rerunning overwrites its files).
    #[arg(long)]
    pub out: PathBuf,
    /// The seed of task synthesis.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Tasks to synthesize per world.
    #[arg(long, default_value_t = 25)]
    pub per_world: usize,
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
}
