//! Integration tests of the world engine.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod bad_input;
mod fixtures;
mod hardening;
mod props;
mod scripts;
mod sqlite;
