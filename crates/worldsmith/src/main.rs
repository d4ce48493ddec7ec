//! The `worldsmith` command line. See `worldsmith --help`.

mod charts;
mod cli;
mod commands;
mod output;
mod worlds;

use std::process::ExitCode;

// The engine allocates many small, short-lived values per tool call; mimalloc is markedly
// faster at that than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    commands::main()
}
