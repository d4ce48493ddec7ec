//! One module per subcommand, and the entry point that maps outcomes to exit codes:
//! 0 ok, 1 the work found problems, 2 usage or internal error.

mod graph;
mod ingest;
mod materialize;
mod prm;
mod run;
mod shell;
mod stages;
mod synth;
mod world;

use crate::cli::{Cli, Command, ExportCommand, GrpoCommand, PrmCommand, WorldCommand};
use clap::Parser;
use std::process::ExitCode;
use worldsmith_pipeline::stages::Trainer;

/// What a command concluded.
pub enum Outcome {
    /// Everything passed.
    Ok,
    /// The work ran and found problems (a check failed, a task did not pass).
    Problems,
}

/// Parses the command line, runs the command, prints errors one cause per line.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let result = match cli.command {
        Command::World(WorldCommand::Check(args)) => world::check(&args),
        Command::World(WorldCommand::Call(args)) => world::call(&args),
        Command::World(WorldCommand::Replay(args)) => world::replay(&args),
        Command::World(WorldCommand::Shell(args)) => shell::shell(&args.world),
        Command::World(WorldCommand::List) => world::list(),
        Command::World(WorldCommand::Tools(args)) => world::tools(&args),
        Command::World(WorldCommand::Dump(args)) => world::dump(&args),
        Command::Run(args) => run::run(&args),
        Command::Ingest(args) => ingest::ingest(&args),
        Command::Graph(args) => graph::graph(&args),
        Command::Materialize(args) => materialize::materialize(&args),
        Command::Synth(args) => synth::synth(&args),
        Command::Arenas(args) => stages::arenas(&args),
        Command::Rollout(args) => stages::rollout(&args),
        Command::Verify(args) => stages::verify(&args),
        Command::Reward(args) => stages::reward(&args),
        Command::Grpo(GrpoCommand::Simulate(args)) => stages::grpo_simulate(&args),
        Command::Export(ExportCommand::Sft(args)) => stages::export_sft(&args),
        Command::Export(ExportCommand::Verl(args)) => stages::export_trainer(Trainer::Verl, &args),
        Command::Export(ExportCommand::Trl(args)) => stages::export_trainer(Trainer::Trl, &args),
        Command::Eval(args) => stages::eval(&args),
        Command::Prm(PrmCommand::Build(args)) => prm::build(&args),
        Command::Prm(PrmCommand::Eval(args)) => prm::eval(&args),
        Command::Prm(PrmCommand::Search(args)) => prm::search(&args),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        Err(e) => {
            let mut lines = Vec::new();
            for (i, cause) in e.chain().enumerate() {
                let text = cause.to_string();
                for (j, line) in text.lines().enumerate() {
                    let prefix = if i == 0 && j == 0 {
                        "error: "
                    } else if j == 0 {
                        "  caused by: "
                    } else {
                        "  "
                    };
                    if let Some(hint) = line.strip_prefix("hint: ") {
                        lines.push(format!("hint: {hint}"));
                    } else {
                        lines.push(format!("{prefix}{}", line.trim_start()));
                    }
                }
            }
            eprintln!("{}", lines.join("\n"));
            ExitCode::from(2)
        }
    }
}
