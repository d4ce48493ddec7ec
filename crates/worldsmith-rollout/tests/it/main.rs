//! Integration tests of episodes on the bundled worlds, and of the `openai` policy against
//! a local HTTP server that speaks the chat-completions protocol.

mod scripted;
mod server;
mod step;
