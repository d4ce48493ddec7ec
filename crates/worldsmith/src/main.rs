//! The `worldsmith` command line. See `worldsmith --help`.

// The command line is the one crate that prints (data on stdout, progress and logs on stderr).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;

// The pipeline library's I/O and world resolution, under the names the commands use.
use worldsmith_pipeline::{io as output, worlds};

use std::process::ExitCode;

// The engine allocates many small, short-lived values per tool call; mimalloc is markedly
// faster at that than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    commands::main()
}
