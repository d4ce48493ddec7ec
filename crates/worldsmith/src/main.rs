//! The `worldsmith` command line. See `worldsmith --help`.

mod cli;
mod commands;
mod output;
mod worlds;

use std::process::ExitCode;

fn main() -> ExitCode {
    commands::main()
}
