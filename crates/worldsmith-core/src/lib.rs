//! Shared types of worldsmith.
//!
//! This crate holds what every stage agrees on and nothing else:
//!
//! - [`arena`]: the arena lines of RL episodes (self-contained, rule-checkable sub-goals);
//! - [`canonical`]: canonical JSON (sorted keys, no whitespace, numbers by value) and
//!   value equality that treats `3` and `3.0` as the same number;
//! - [`digest`]: the 128-bit order-independent state digest;
//! - [`ident`]: identifier rules (valid names, identifiers as words, id parameters, id-shaped
//!   values);
//! - [`prm`]: the pair lines of the step-level process-reward benchmark;
//! - [`prose`]: values and lists in English sentences;
//! - [`rng`]: the seeded random number generator every stage draws from;
//! - [`task`]: the task line and replay result line formats shared by every command;
//! - [`episode`]: the episode and verdict lines of rollout and verification;
//! - [`tool`]: the `ToolSpec` lines of `tools.jsonl` (ingest's output, the graph's input);
//! - [`suggest`]: "did you mean" suggestions for misspelt names;
//! - [`tally`]: counted reasons ([`tally::Tally`]).
//!
//! It does no I/O.
//!
//! ```
//! use serde_json::json;
//! use worldsmith_core::canonical::{canonical_json, json_eq};
//! use worldsmith_core::digest::Digest;
//!
//! assert_eq!(canonical_json(&json!({"b": 3.0, "a": [1, "x"]})), r#"{"a":[1,"x"],"b":3}"#);
//! assert!(json_eq(&json!({"n": 3}), &json!({"n": 3.0})));
//!
//! let a = Digest::of_record("users", "u1", &json!({"name": "Ada"}));
//! let b = Digest::of_record("users", "u2", &json!({"name": "Bob"}));
//! // The digest of a set of records is a wrapping sum: order does not matter.
//! assert_eq!(a + b, b + a);
//! assert_eq!((a + b) - b, a);
//! ```

pub mod arena;
pub mod canonical;
pub mod digest;
pub mod episode;
pub mod ident;
pub mod intent;
pub mod prm;
pub mod prose;
pub mod rng;
pub mod suggest;
pub mod tally;
pub mod task;
pub mod tool;

/// The format version of a line that names none: every line format began at 1.
fn format_one() -> u32 {
    1
}

pub use digest::Digest;

use serde::{Deserialize, Serialize};

/// Where a world comes from: `bundled` (written by people) or `generated` (written by
/// `worldsmith materialize`). World manifests, episode and verdict lines spell it the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Written by people and shipped with worldsmith.
    #[default]
    Bundled,
    /// Generated from a tool pool.
    Generated,
}
