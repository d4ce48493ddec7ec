//! The semantic self-check: round trips between the tools of one collection, run on the
//! world as generated. The mechanical check (`self_check`) shows that each tool runs and
//! that writes write; these show that the tools mean what their API says together:
//!
//! - create, then get: the new record is found under its key, holding what was written;
//! - create, then list: the list includes the new record;
//! - update, then get: the get shows the new values;
//! - delete, then get: the record is not found;
//! - a get under the wrong parent (`/servers/{a}/zones/{z}` for a zone of server `b`): not
//!   found.
//!
//! Every trip starts from the world's initial state and uses the arguments with which the
//! tools passed the mechanical check. A failed trip names the tool at fault (the write, or
//! the read for list and scope trips); the caller leaves that tool out of the world.

use crate::infer::{Action, Collection, Planned};
use crate::report::{RoundTrip, RoundTripResult};
use crate::{data, self_check};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use worldsmith_core::canonical::{contains_scalar, json_eq};
use worldsmith_engine::{Session, World};

/// A round trip and the planned tool (its pool index) blamed when it fails.
pub(crate) struct Trip {
    /// What was checked and found.
    pub result: RoundTripResult,
    /// The pool index of the tool at fault when the trip failed.
    pub blamed: usize,
}

/// The tools of one collection that passed the mechanical check, by what they do.
#[derive(Default)]
struct Kinds<'p> {
    gets: Vec<&'p Planned>,
    lists: Vec<&'p Planned>,
    creates: Vec<&'p Planned>,
    updates: Vec<&'p Planned>,
    deletes: Vec<&'p Planned>,
}

/// Runs every round trip the passing tools (those with an entry in `examples`) allow.
pub(crate) fn round_trips(
    world: &World,
    planned: &[Planned],
    collections: &[Collection],
    examples: &BTreeMap<usize, Value>,
) -> Vec<Trip> {
    let mut trips = Vec::new();
    for c in collections {
        let mut kinds = Kinds::default();
        for p in planned.iter().filter(|p| p.collection == c.name && examples.contains_key(&p.tool)) {
            match p.action {
                Action::Get { .. } => kinds.gets.push(p),
                Action::List { .. } => kinds.lists.push(p),
                Action::Create { .. } => kinds.creates.push(p),
                Action::Update { .. } => kinds.updates.push(p),
                Action::Delete { .. } => kinds.deletes.push(p),
                _ => {}
            }
        }
        let checker = Checker { world, c, examples };
        // The reader: a get that needs no parent when there is one (a record made with no
        // parent is rightly not found under one), else the first.
        let get = kinds.gets.iter().find(|g| g.scope.is_empty()).or(kinds.gets.first()).copied();
        // A list is checked against a create that is kept: one whose record a get finds
        // (or any, when the collection has no get).
        let mut sound_create = None;
        for create in &kinds.creates {
            match get {
                Some(get) => {
                    let trip = checker.create_then_get(create, get);
                    if trip.result.passed && sound_create.is_none() {
                        sound_create = Some(*create);
                    }
                    trips.push(trip);
                }
                None if sound_create.is_none() => sound_create = Some(*create),
                None => {}
            }
        }
        if let Some(create) = sound_create {
            for list in &kinds.lists {
                trips.extend(checker.create_then_list(create, list));
            }
        }
        if let Some(get) = get {
            for update in &kinds.updates {
                trips.push(checker.update_then_get(update, get));
            }
            for delete in &kinds.deletes {
                trips.push(checker.delete_then_get(delete, get));
            }
        }
        for get in kinds.gets.iter().filter(|g| !g.scope.is_empty()) {
            trips.extend(checker.wrong_parent(get));
        }
    }
    trips
}

/// Runs the trips of one collection.
struct Checker<'a> {
    world: &'a World,
    c: &'a Collection,
    examples: &'a BTreeMap<usize, Value>,
}

impl Checker<'_> {
    fn example(&self, p: &Planned) -> Map<String, Value> {
        self.examples.get(&p.tool).and_then(Value::as_object).cloned().unwrap_or_default()
    }

    /// A trip's line.
    fn trip(check: RoundTrip, write: &Planned, read: &Planned, blamed: &Planned, outcome: Result<(), String>) -> Trip {
        let passed = outcome.is_ok();
        Trip {
            result: RoundTripResult {
                check,
                collection: write.collection.clone(),
                write: write.name.clone(),
                read: read.name.clone(),
                passed,
                reason: outcome.err(),
            },
            blamed: blamed.tool,
        }
    }

    /// Calls `get` for the record under `key`, with the parents the record holds (or held).
    fn read(&self, session: &mut Session, get: &Planned, key: &str, record: Option<&Value>) -> Result<Value, String> {
        let Action::Get { key: key_arg } = &get.action else { return Err("not a get".to_owned()) };
        let mut args = self.example(get);
        args.insert(key_arg.clone(), data::key_value(key, &self_check::param_field(&get.parameters, key_arg).kind));
        for (field, arg) in &get.scope {
            if let Some(v) = record.and_then(|r| r.get(field.as_str())).filter(|v| !v.is_null()) {
                args.insert(arg.clone(), v.clone());
            }
        }
        session.execute(&get.name, &Value::Object(args)).map_err(|e| e.to_string())
    }

    /// Runs a write tool with its example on a fresh session.
    fn write(&self, p: &Planned) -> Result<(Session, Map<String, Value>), String> {
        let args = self.example(p);
        let mut session = self.world.session();
        session
            .execute(&p.name, &Value::Object(args.clone()))
            .map_err(|e| format!("`{}` no longer runs on its own example: {e}", p.name))?;
        Ok((session, args))
    }

    /// The written values a read must show: (argument, value) for each scalar argument the
    /// tool writes as a field.
    fn written<'m>(fields: &[String], args: &'m Map<String, Value>) -> Vec<(&'m String, &'m Value)> {
        args.iter().filter(|(a, v)| fields.contains(a) && !v.is_null() && !v.is_array() && !v.is_object()).collect()
    }

    /// The record `create` made: its key and value.
    fn created(&self, session: &Session) -> Option<(String, Value)> {
        let changes = session.changes();
        let start = self.world.initial_state();
        changes
            .get(&self.c.name)?
            .iter()
            .find(|(k, v)| v.is_some() && !start.contains(&self.c.name, k))
            .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
    }

    fn create_then_get(&self, create: &Planned, get: &Planned) -> Trip {
        let outcome = (|| {
            let (mut session, args) = self.write(create)?;
            let (key, record) = self
                .created(&session)
                .ok_or_else(|| format!("`{}` made no new `{}` record", create.name, self.c.name))?;
            let found = self.read(&mut session, get, &key, Some(&record)).map_err(|e| {
                format!("`{}` cannot find the record `{key}` that `{}` made: {e}", get.name, create.name)
            })?;
            let Action::Create { fields, .. } = &create.action else { return Ok(()) };
            for (arg, value) in Self::written(fields, &args) {
                if !contains_scalar(&found, value) {
                    return Err(format!(
                        "`{}` of `{key}` shows no `{arg}` = {value} after `{}` wrote it",
                        get.name, create.name
                    ));
                }
            }
            Ok(())
        })();
        Self::trip(RoundTrip::CreateThenGet, create, get, create, outcome)
    }

    /// `None` when the list cannot tell (a full page: the new record may be on the next).
    fn create_then_list(&self, create: &Planned, list: &Planned) -> Option<Trip> {
        let Action::List { filters, .. } = &list.action else { return None };
        let (mut session, _) = self.write(create).ok()?;
        let (key, record) = self.created(&session)?;
        let mut args = self.example(list);
        // Filters the example sets take the new record's values, so it matches them; a
        // required filter the new record has no value for leaves nothing to tell.
        for (field, arg) in filters {
            if args.contains_key(arg) {
                match record.get(field.as_str()).filter(|v| !v.is_null()) {
                    Some(v) => {
                        args.insert(arg.clone(), v.clone());
                    }
                    None if crate::infer::required(&list.parameters, arg) => return None,
                    None => {
                        args.remove(arg);
                    }
                }
            }
        }
        let outcome = match session.execute(&list.name, &Value::Object(args.clone())) {
            Err(e) => Err(format!("`{}` fails after `{}` made `{key}`: {e}", list.name, create.name)),
            Ok(found) => {
                let items = found.as_array().map_or_else(|| items_of(&found), Vec::len);
                let key_value = data::key_value(&key, if self.c.numeric_key { "integer" } else { "string" });
                // A full page (the engine's 100, or a page size the example asked for) may
                // have left the new record for the next one.
                let full_page = items >= 100 || args.values().any(|v| v.as_u64() == Some(items as u64));
                if contains_scalar(&found, &key_value) || contains_scalar(&found, &Value::String(key.clone())) {
                    Ok(())
                } else if full_page {
                    return None;
                } else {
                    Err(format!("`{}` does not list the record `{key}` that `{}` made", list.name, create.name))
                }
            }
        };
        Some(Self::trip(RoundTrip::CreateThenList, create, list, list, outcome))
    }

    fn update_then_get(&self, update: &Planned, get: &Planned) -> Trip {
        let outcome = (|| {
            let Action::Update { key: key_arg, fields } = &update.action else { return Ok(()) };
            let (mut session, args) = self.write(update)?;
            let key = args.get(key_arg).map(plain_key).ok_or_else(|| format!("`{}` names no key", update.name))?;
            let record = session.state().get(&self.c.name, &key).map(|r| (**r).clone());
            let found = self
                .read(&mut session, get, &key, record.as_ref())
                .map_err(|e| format!("`{}` cannot find `{key}` after `{}` changed it: {e}", get.name, update.name))?;
            for (arg, value) in Self::written(fields, &args) {
                let field = update.renames.iter().find(|(a, _)| a == arg).map_or(arg.as_str(), |(_, f)| f.as_str());
                let shown = found.get(field).is_some_and(|v| json_eq(v, value)) || contains_scalar(&found, value);
                if !shown {
                    return Err(format!(
                        "`{}` of `{key}` does not show `{field}` = {value} after `{}` set it",
                        get.name, update.name
                    ));
                }
            }
            Ok(())
        })();
        Self::trip(RoundTrip::UpdateThenGet, update, get, update, outcome)
    }

    fn delete_then_get(&self, delete: &Planned, get: &Planned) -> Trip {
        let outcome = (|| {
            let Action::Delete { key: key_arg } = &delete.action else { return Ok(()) };
            let args = self.example(delete);
            let key = args.get(key_arg).map(plain_key).ok_or_else(|| format!("`{}` names no key", delete.name))?;
            let before = self.world.initial_state().get(&self.c.name, &key).map(|r| (**r).clone());
            let (mut session, _) = self.write(delete)?;
            match self.read(&mut session, get, &key, before.as_ref()) {
                Ok(_) => Err(format!("`{}` still finds `{key}` after `{}` deleted it", get.name, delete.name)),
                Err(_) => Ok(()),
            }
        })();
        Self::trip(RoundTrip::DeleteThenGet, delete, get, delete, outcome)
    }

    /// `None` when no other parent exists to try.
    fn wrong_parent(&self, get: &Planned) -> Option<Trip> {
        let Action::Get { key: key_arg } = &get.action else { return None };
        let args = self.example(get);
        let key = args.get(key_arg).map(plain_key)?;
        let state = self.world.initial_state();
        let record = state.get(&self.c.name, &key)?;
        for (field, arg) in &get.scope {
            let Some(own) = record.get(field.as_str()).filter(|v| !v.is_null()) else { continue };
            // Another parent: a key of the parent collection, or another record's value.
            let others: Vec<Value> = match self.c.foreign_keys.get(field) {
                Some(parent) => state.keys(parent).map(|k| data::key_value(k, &value_kind(own))).collect(),
                None => state.scan(&self.c.name).filter_map(|(_, r)| r.get(field.as_str()).cloned()).collect(),
            };
            let Some(other) = others.into_iter().find(|v| !v.is_null() && !json_eq(v, own)) else { continue };
            let mut wrong = args.clone();
            wrong.insert(arg.clone(), other.clone());
            let mut session = self.world.session();
            let outcome = match session.execute(&get.name, &Value::Object(wrong)) {
                Ok(_) => {
                    Err(format!("`{}` finds `{key}` under `{arg}` = {other}, though it belongs to {own}", get.name))
                }
                Err(_) => Ok(()),
            };
            return Some(Self::trip(RoundTrip::WrongParent, get, get, get, outcome));
        }
        None
    }
}

/// A key argument's value as the state spells keys (numbers as decimal text).
fn plain_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The kind a value is of, for writing another key like it.
fn value_kind(v: &Value) -> String {
    if v.is_number() { "integer" } else { "string" }.to_owned()
}

/// The number of records a wrapped list result holds (its largest array).
fn items_of(found: &Value) -> usize {
    found.as_object().map_or(0, |m| m.values().filter_map(Value::as_array).map(Vec::len).max().unwrap_or(0))
}
