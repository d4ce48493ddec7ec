//! Sessions: a world plus a state, where tools are called.

use crate::error::ToolError;
use crate::manifest::Effect;
use crate::ops;
use crate::script::ScriptFailure;
use crate::state::State;
use crate::world::{Implementation, World};
use serde_json::Value;
use std::collections::BTreeSet;
use worldsmith_core::Digest;
use worldsmith_core::task::ChangedRecords;

/// One call as a session records it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// The tool called.
    pub tool: String,
    /// The arguments as given.
    pub arguments: Value,
    /// The result, or why the call failed.
    pub result: Result<Value, ToolError>,
    /// The state digest after the call.
    pub digest: Digest,
}

/// A world and one state: call tools, read the digest, fork, diff.
///
/// Every call is a transaction: validate the arguments, run the tool on a fork of the state,
/// check every record it wrote against the schema, then commit by replacing the state.
/// Any failure drops the fork, so the state (and its digest) is exactly as before.
#[derive(Clone)]
pub struct Session {
    world: World,
    state: State,
    /// The state the session started from.
    start: State,
    /// Every (collection, key) written since the start; `None` once the state was replaced
    /// by [`Session::set_state`], after which changes are found by a full comparison.
    written: Option<BTreeSet<(String, String)>>,
    log: Vec<CallRecord>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("world", &self.world.name()).field("state", &self.state).finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(world: World, state: State) -> Session {
        Session { world, start: state.clone(), state, written: Some(BTreeSet::new()), log: Vec::new() }
    }

    /// The world.
    #[must_use]
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The current state.
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Replaces the state (e.g. to undo to an earlier one).
    pub fn set_state(&mut self, state: State) {
        if state.digest() != self.state.digest() {
            self.written = None;
        }
        self.state = state;
    }

    /// The digest of the current state (O(1)).
    #[must_use]
    pub fn digest(&self) -> Digest {
        self.state.digest()
    }

    /// A new session on a fork of this one's state, with an empty call log (O(1)).
    #[must_use]
    pub fn fork(&self) -> Session {
        Session::new(self.world.clone(), self.state.clone())
    }

    /// The calls made in this session, in order.
    #[must_use]
    pub fn log(&self) -> &[CallRecord] {
        &self.log
    }

    /// The records that differ in `other` relative to this session.
    #[must_use]
    pub fn diff(&self, other: &Session) -> ChangedRecords {
        self.state.diff(&other.state)
    }

    /// The records changed since the session started (from the world's initial state for
    /// [`World::session`]). O(records written), not O(records).
    #[must_use]
    pub fn changes(&self) -> ChangedRecords {
        match &self.written {
            Some(written) => self.start.diff_keys(&self.state, written.iter().map(|(c, k)| (c.as_str(), k.as_str()))),
            None => self.start.diff(&self.state),
        }
    }

    /// Calls a tool and records the call in the log.
    ///
    /// # Errors
    /// The tool is unknown, the arguments are invalid, the tool refused, or the script
    /// failed; the state is then unchanged.
    pub fn call(&mut self, tool: &str, arguments: &Value) -> Result<Value, ToolError> {
        let result = self.execute(tool, arguments);
        self.log.push(CallRecord {
            tool: tool.to_owned(),
            arguments: arguments.clone(),
            result: result.clone(),
            digest: self.state.digest(),
        });
        result
    }

    /// Calls a tool without recording it in the log (the fast path for replays and RL).
    ///
    /// # Errors
    /// As [`Session::call`].
    pub fn execute(&mut self, name: &str, arguments: &Value) -> Result<Value, ToolError> {
        self.execute_unbounded(name, arguments).map_err(ToolError::bounded)
    }

    fn execute_unbounded(&mut self, name: &str, arguments: &Value) -> Result<Value, ToolError> {
        let world = &self.world;
        let Some(tool) = world.tool(name) else {
            let suggestion = world.suggest(name).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            return Err(ToolError::UnknownTool { name: name.to_owned(), suggestion });
        };
        let args = tool
            .validate_arguments(arguments)
            .map_err(|message| ToolError::InvalidArguments { tool: name.to_owned(), message })?;
        let mut next = self.state.clone();
        let (result, written) = match &tool.implementation {
            Implementation::Op(op) => ops::run(op, world.schema(), &mut next, &args).map_err(ToolError::Failed)?,
            Implementation::Script(script) => {
                let writable = tool.effect() == Effect::Write;
                let (result, writes) =
                    script.call(&self.state, writable, &args, world.limits()).map_err(|f| match f {
                        ScriptFailure::Failed(m) => ToolError::Failed(m),
                        ScriptFailure::Limit(message) => ToolError::LimitExceeded { tool: name.to_owned(), message },
                        ScriptFailure::Error(message) => ToolError::Script { tool: name.to_owned(), message },
                    })?;
                // `writes` holds only records that differ from the state (the script layer
                // drops the ones a call read but left as they were).
                let mut written = Vec::new();
                for w in writes {
                    match w.value {
                        Some(v) => {
                            next.put(&w.collection, &w.key, v).map_err(|e| ToolError::InvalidWrite {
                                tool: name.to_owned(),
                                message: e.to_string(),
                            })?;
                        }
                        None => {
                            next.delete(&w.collection, &w.key);
                        }
                    }
                    written.push((w.collection, w.key));
                }
                (result, written)
            }
        };
        for (collection, key) in &written {
            let Some(schema) = world.schema().collection(collection) else { continue };
            let Some(record) = next.get(collection, key) else {
                if let Some(at) = world.schema().referenced_by(&next, collection, key) {
                    return Err(ToolError::InvalidWrite {
                        tool: name.to_owned(),
                        message: format!("cannot delete {collection}[{key:?}]: {at} still refers to it"),
                    });
                }
                continue;
            };
            if let Some((pointer, message)) =
                schema.check_change(&next, self.state.get(collection, key).map(|r| &**r), record)
            {
                return Err(ToolError::InvalidWrite {
                    tool: name.to_owned(),
                    message: format!("{collection}[{key:?}]{pointer}: {message}"),
                });
            }
        }
        self.state = next;
        if let Some(w) = &mut self.written {
            w.extend(written);
        }
        Ok(result)
    }
}
