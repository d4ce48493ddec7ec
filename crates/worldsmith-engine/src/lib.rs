//! The worldsmith world engine.
//!
//! A [`World`] is a schema, a set of tools and an initial [`State`]. A [`Session`] is a
//! world plus a state in which tools are called; sessions fork in O(1) and every call is a
//! transaction (a failing call leaves the state, and its digest, exactly as they were).
//!
//! - [`state`]: persistent collections, the incremental digest, diffs;
//! - [`schema`]: field types, required fields, enums, foreign keys, integrity;
//! - [`manifest`]: the `world.json` format;
//! - tools are declarative operations ([`manifest::Op`]) or Starlark scripts with a small
//!   `db` API, bounded by [`Limits`];
//! - [`check()`] runs a world's self-check and [`replay()`] replays a task line.
//!
//! ```
//! use serde_json::json;
//! use worldsmith_engine::{MemFiles, World};
//!
//! let world = World::load(&MemFiles::new("shop")
//!     .with("world.json", r#"{
//!       "format": 1, "name": "shop",
//!       "collections": {"items": {"key": "item_id", "fields": {"stock": {"type": "integer", "minimum": 0}}}},
//!       "data": {"dir": "data"},
//!       "tools": [
//!         {"name": "get_item", "description": "Look up an item.", "effect": "read",
//!          "parameters": {"type": "object", "properties": {"item_id": {"type": "string"}}, "required": ["item_id"]},
//!          "op": {"kind": "get", "collection": "items"}},
//!         {"name": "set_stock", "description": "Set an item's stock.", "effect": "write",
//!          "parameters": {"type": "object", "properties": {"item_id": {"type": "string"}, "stock": {"type": "integer"}}, "required": ["item_id", "stock"]},
//!          "op": {"kind": "update", "collection": "items"}}
//!       ]}"#)
//!     .with("data/items.json", r#"{"pen": {"stock": 3}}"#)).unwrap();
//!
//! let mut a = world.session();
//! let b = a.fork();
//! a.call("set_stock", &json!({"item_id": "pen", "stock": 5})).unwrap();
//! assert_eq!(a.call("get_item", &json!({"item_id": "pen"})).unwrap(), json!({"item_id": "pen", "stock": 5}));
//! // The schema says stock >= 0: the write is refused and nothing changes.
//! assert!(a.call("set_stock", &json!({"item_id": "pen", "stock": -1})).is_err());
//! assert_eq!(b.diff(&a)["items"]["pen"], Some(json!({"stock": 5})));
//! // Tools in OpenAI function-calling format.
//! assert_eq!(world.openai_tools()[0].name(), "get_item");
//! ```

pub mod check;
pub mod error;
pub mod files;
pub mod manifest;
mod ops;
pub mod replay;
pub mod schema;
mod script;
pub mod session;
pub mod state;
pub mod world;

pub use check::{CheckReport, check};
pub use error::{Diagnostic, LoadError, ToolError};
pub use files::{DirFiles, MemFiles, WorldFiles};
pub use replay::replay;
pub use script::Limits;
pub use session::{CallRecord, Session};
pub use state::State;
pub use world::{Tool, World};
pub use worldsmith_core::Digest;
