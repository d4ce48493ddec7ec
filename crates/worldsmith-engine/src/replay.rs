//! Replaying a task's gold calls and checking the final state.

use crate::session::Session;
use crate::world::World;
use serde_json::Value;
use worldsmith_core::canonical::{first_difference, json_eq};
use worldsmith_core::task::{CallResult, ChangedRecords, ReplayResult, TaskLine};

/// Replays `task` on a fork of the world's initial state and checks it: `passed` is the
/// digest match when the task has `expected_digest`, and the exact equality of the changes
/// with `changed_records` when it has those (both when it has both).
///
/// The same as [`run_calls`] followed by [`Executed::verify`].
#[must_use]
pub fn replay(world: &World, task: &TaskLine) -> ReplayResult {
    run_calls(world, task).verify(task)
}

/// A task's gold calls run on a fork of the world's initial state, not yet checked: the
/// first half of [`replay`], apart so that callers can time execution and verification.
#[derive(Debug)]
pub struct Executed {
    session: Session,
    results: Vec<CallResult>,
}

/// Runs `task`'s gold calls, in order, on a fork of the world's initial state (O(1)); a call
/// that fails is recorded with its error message and the next one runs.
#[must_use]
pub fn run_calls(world: &World, task: &TaskLine) -> Executed {
    let mut session = world.session();
    let results = task
        .actions
        .iter()
        .map(|a| match session.execute(&a.name, &a.arguments) {
            Ok(value) => CallResult { ok: true, value },
            Err(e) => CallResult { ok: false, value: Value::String(e.to_string()) },
        })
        .collect();
    Executed { session, results }
}

impl Executed {
    /// Checks the final state against `task` (the task whose calls ran) and makes the
    /// result line: the second half of [`replay`].
    #[must_use]
    pub fn verify(self, task: &TaskLine) -> ReplayResult {
        let Executed { session, results } = self;
        let changed = session.changes();
        let mut mismatch = None;
        if let Some(expected) = &task.expected_digest
            && *expected != session.digest()
        {
            mismatch = Some(format!("final digest {} differs from the expected {expected}", session.digest()));
        }
        if mismatch.is_none()
            && let Some(expected) = &task.changed_records
        {
            mismatch = compare_changes(expected, &changed);
        }
        let checked = task.expected_digest.is_some() || task.changed_records.is_some();
        ReplayResult {
            id: task.id.clone(),
            results,
            final_digest: session.digest(),
            changed_records: changed,
            passed: checked.then_some(mismatch.is_none()),
            mismatch,
        }
    }
}

/// The first difference between expected and actual changes, in sorted order: a record
/// whose value differs (with the field), a record expected to change that did not, or a
/// record that changed unexpectedly. `None` when they are equal.
#[must_use]
pub fn compare_changes(expected: &ChangedRecords, actual: &ChangedRecords) -> Option<String> {
    let mut keys: Vec<(&String, &String)> =
        expected.iter().chain(actual.iter()).flat_map(|(c, records)| records.keys().map(move |k| (c, k))).collect();
    keys.sort();
    keys.dedup();
    for (c, k) in keys {
        let want = expected.get(c).and_then(|r| r.get(k));
        let got = actual.get(c).and_then(|r| r.get(k));
        match (want, got) {
            (Some(Some(w)), Some(Some(g))) => {
                if json_eq(w, g) {
                    continue;
                }
                if let Some(at) = first_difference(w, g) {
                    let show = |v: &Value| v.pointer(&at).map_or_else(|| "(absent)".to_owned(), Value::to_string);
                    return Some(format!("{c}[{k:?}]{at}: expected {}, got {}", show(w), show(g)));
                }
            }
            (Some(None), Some(None)) | (None, None) => {}
            (Some(Some(_)), Some(None)) => {
                return Some(format!("{c}[{k:?}]: expected a final value, but the record was deleted"));
            }
            (Some(None), Some(Some(_))) => {
                return Some(format!("{c}[{k:?}]: expected the record to be deleted"));
            }
            (Some(_), None) => {
                return Some(format!("{c}[{k:?}]: expected to change, but is unchanged"));
            }
            (None, Some(_)) => {
                return Some(format!("{c}[{k:?}]: changed, but the task expects it unchanged"));
            }
        }
    }
    None
}
