//! Integration tests of the `worldsmith` command line: snapshots of what people read.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod bundled;
mod cli;
mod guide;
mod hardening;
mod llm;
mod prm;
mod semantics;
mod stages;
mod tasks;
mod tau_retail;
mod trainer;
mod trust;
