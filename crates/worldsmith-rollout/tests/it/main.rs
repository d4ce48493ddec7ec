//! Integration tests of episodes on the bundled worlds, and of the `openai` policy against
//! a local HTTP server that speaks the chat-completions protocol.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod arenas;
mod scripted;
mod server;
mod step;
