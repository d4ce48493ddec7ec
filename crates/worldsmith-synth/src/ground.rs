//! Argument grounding: every required argument of a call comes from an earlier call's
//! result or from the state (ASTRA's dependency check), or is a choice the user makes (an
//! enum value or a boolean).
//!
//! - **From an earlier result** (the most recent one that has one; the value's source is the
//!   earliest result that held it, since later ones only passed it on): a field named like the
//!   parameter at the top level or one level down (in a nested object, or in the objects of
//!   an array, or in the elements of a list result), a field named like the parameter plus
//!   `s` holding a list of values, or the whole result when it is a string and the
//!   parameter is an id.
//! - **From the state**: a record key of a collection whose key has the parameter's name, a
//!   key of the collection a foreign key of that name points to, or a value of a record field
//!   of that name (top level or one level down). Records linked to what the chain already
//!   touched (a field holding one of its ids) are preferred, so a payment method is the
//!   customer's own.
//! - **A choice**: the parameter's `enum`, `true`/`false` for a boolean, or one of the three
//!   smallest values of an integer with a `minimum` (a count: 1, 2 or 3 units).
//!
//! Candidates are projected onto the parameter's schema (undeclared object properties
//! dropped where the schema forbids them) and must then validate against it.
//!
//! Reference parameters (ids) look in earlier results first; the other parameters of write
//! tools (the new phone number, the reason) look at choices first, then at state values the
//! chain has not seen (so the write changes something), then at results.

use crate::graph::{JsonType, ToolGraph, schema_types};
use crate::rng::Rng;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use worldsmith_core::canonical::json_eq;
use worldsmith_core::ident::{is_id_list_name, is_id_name};
use worldsmith_core::intent::{Intent, param_noun, tool_intent};
use worldsmith_engine::manifest::Effect;
use worldsmith_engine::{State, World};

/// One required parameter (or optional filter) of a tool.
pub(crate) struct Param {
    pub name: String,
    /// What the parameter names, as words (`payment method`, `promotion` for a bare `id`).
    pub noun: String,
    schema: Value,
    validator: Option<jsonschema::Validator>,
    choices: Vec<Value>,
    /// An id: a collection's key name, a foreign key, or a name ending in `id`/`ids`.
    pub reference: bool,
}

/// What synthesis needs to know of a tool.
pub(crate) struct ToolInfo {
    pub name: String,
    pub write: bool,
    pub required: Vec<Param>,
    /// Optional scalar arguments of a read that narrow its result (`status`, `category`),
    /// which a call may set to a value from the state instead of listing everything.
    pub filters: Vec<Param>,
    /// What it does, in words.
    pub intent: Intent,
}

impl ToolInfo {
    /// The parameter called `name`, required or filter.
    pub(crate) fn param(&self, name: &str) -> Option<&Param> {
        self.required.iter().chain(&self.filters).find(|p| p.name == name)
    }
}

/// Optional arguments that page, sort or shape a result rather than pick records.
const NOT_FILTERS: &[&str] = &[
    "limit",
    "offset",
    "page",
    "per_page",
    "perpage",
    "pagesize",
    "page_size",
    "cursor",
    "sort",
    "sort_by",
    "sortby",
    "order",
    "order_by",
    "orderby",
    "fields",
    "expand",
    "include",
    "format",
    "q",
    "query",
    "search",
    "since",
    "until",
    "before",
    "after",
    "start",
    "end",
    "from",
    "to",
    "max",
    "min",
    "count",
    "skip",
    "top",
    "direction",
    "lang",
    "locale",
    "version",
    "callback",
    "pretty",
];

/// Where a grounded argument came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    /// A record key or field value in the state: a fact the user knows.
    State,
    /// An enum value or boolean: a decision the user makes.
    Choice,
    /// An earlier call's result.
    Output {
        /// The call's index in the chain.
        call: usize,
        /// How the user would pick the value out of that result.
        selector: Selector,
    },
}

/// How one value is singled out of a result that holds several.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selector {
    /// The result holds only this value.
    Only,
    /// The element whose field (first) has this value, unique among its siblings.
    Field(String, Value),
    /// The n-th element (1-based).
    Position(usize),
}

/// One executed call of a chain.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub tool: usize,
    pub args: Map<String, Value>,
    pub sources: BTreeMap<String, Source>,
    pub output: Value,
    /// For a read that a later write of the chain follows: what it returns after the
    /// chain (`None` otherwise).
    pub after: Option<Value>,
}

/// A world prepared for synthesis: tools, graph and where each name lives in the state.
pub(crate) struct Context<'w> {
    pub world: &'w World,
    pub tools: Vec<ToolInfo>,
    pub graph: ToolGraph,
    /// key name -> collections keyed by it
    key_collections: BTreeMap<String, Vec<String>>,
    /// top-level foreign-key field -> referenced collections
    fk_targets: BTreeMap<String, Vec<String>>,
    /// per collection, the field names its records have: top level, one level down, and
    /// one level down joined to their parent (`kyc_document_number`)
    field_names: Vec<(String, BTreeSet<String>)>,
    collections: Vec<String>,
}

impl<'w> Context<'w> {
    pub(crate) fn new(world: &'w World) -> Context<'w> {
        let manifest = world.manifest();
        let mut key_collections: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut fk_targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut field_names = Vec::new();
        let collections: Vec<String> = manifest.collections.keys().cloned().collect();
        for (name, decl) in &manifest.collections {
            key_collections.entry(decl.key.clone()).or_default().push(name.clone());
            for (path, target) in &decl.foreign_keys {
                if !path.contains('.') && !path.contains('[') {
                    let targets = fk_targets.entry(path.clone()).or_default();
                    if !targets.contains(target) {
                        targets.push(target.clone());
                    }
                }
            }
            let mut seen = BTreeSet::new();
            for (_, record) in world.initial_state().scan(name) {
                for (field, value) in record.as_object().into_iter().flatten() {
                    seen.insert(field.clone());
                    let nested: Vec<&Value> = match value {
                        Value::Object(_) => vec![value],
                        Value::Array(items) => items.iter().filter(|i| i.is_object()).collect(),
                        _ => Vec::new(),
                    };
                    for n in nested {
                        for (k, _) in n.as_object().into_iter().flatten() {
                            seen.insert(k.clone());
                            seen.insert(format!("{field}_{k}"));
                        }
                    }
                }
            }
            field_names.push((name.clone(), seen));
        }
        let tools = world
            .tools()
            .iter()
            .map(|t| {
                let params = t.parameters();
                let decl = manifest.tools.iter().find(|d| d.name == t.name());
                let op = decl.and_then(|d| d.op.as_ref());
                let collection = op.map(worldsmith_engine::manifest::Op::collection);
                let write = t.effect() == Effect::Write;
                let intent = tool_intent(t.name(), t.description(), op.map(|o| (o.kind(), o.collection())), write);
                let required_names: BTreeSet<String> =
                    crate::graph::required_inputs(params).into_iter().map(|(n, _)| n).collect();
                let filters: Vec<Param> = if write {
                    Vec::new()
                } else {
                    params
                        .get("properties")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                        .filter(|(name, schema)| {
                            !required_names.contains(*name)
                                && !NOT_FILTERS.contains(&name.to_lowercase().as_str())
                                && matches!(
                                    schema.get("type").and_then(Value::as_str),
                                    Some("string" | "integer" | "number")
                                )
                                && schema.get("format").is_none_or(|f| f != "date-time")
                        })
                        .map(|(name, schema)| Param {
                            noun: param_noun(name, collection),
                            validator: jsonschema::validator_for(schema).ok(),
                            name: name.clone(),
                            schema: schema.clone(),
                            choices: Vec::new(),
                            reference: false,
                        })
                        .collect()
                };
                let required = crate::graph::required_inputs(params)
                    .into_iter()
                    .map(|(name, types)| {
                        let schema =
                            params.get("properties").and_then(|p| p.get(&name)).cloned().unwrap_or(Value::Bool(true));
                        let mut choices: Vec<Value> = schema
                            .get("enum")
                            .and_then(Value::as_array)
                            .map(|e| e.iter().filter(|v| !v.is_null()).cloned().collect())
                            .unwrap_or_default();
                        if choices.is_empty() && types == BTreeSet::from([JsonType::Bool]) {
                            choices = vec![Value::Bool(true), Value::Bool(false)];
                        }
                        if choices.is_empty() && schema.get("type") == Some(&Value::from("integer")) {
                            choices = small_integers(&schema);
                        }
                        let reference = key_collections.contains_key(&name)
                            || fk_targets.contains_key(&name)
                            || is_id_name(&name)
                            || is_id_list_name(&name);
                        Param {
                            validator: jsonschema::validator_for(&schema).ok(),
                            noun: param_noun(&name, collection),
                            name,
                            schema,
                            choices,
                            reference,
                        }
                    })
                    .collect();
                ToolInfo { name: t.name().to_owned(), write, required, filters, intent }
            })
            .collect();
        Context { world, tools, graph: ToolGraph::of(world), key_collections, fk_targets, field_names, collections }
    }

    /// Grounds every required argument of `tool` after `steps` in `state`. Returns the
    /// arguments and their sources, or the name of a parameter nothing supplies.
    pub(crate) fn ground(
        &self,
        tool: usize,
        steps: &[Step],
        state: &State,
        filters: bool,
        rng: &mut Rng,
    ) -> Result<Grounded, String> {
        let info = &self.tools[tool];
        let mut args = Map::new();
        let mut sources = BTreeMap::new();
        // Records this call's arguments came from, and the ids it and the chain touched:
        // nearer ones first (this call and the previous one), then the whole chain.
        let mut records: Vec<(String, String)> = Vec::new();
        let mut near = BTreeSet::new();
        let mut far = BTreeSet::new();
        if let Some(last) = steps.last() {
            collect_strings(&Value::Object(last.args.clone()), 2, &mut near);
            collect_strings(&last.output, 2, &mut near);
        }
        for s in steps {
            collect_strings(&Value::Object(s.args.clone()), 2, &mut far);
            collect_strings(&s.output, 2, &mut far);
        }
        let changing =
            matches!(info.intent.verb.as_str(), "update" | "change" | "set" | "modify" | "rename" | "edit" | "replace");
        for p in &info.required {
            collect_strings(&Value::Object(args.clone()), 2, &mut near);
            near.retain(|s| self.is_key(state, s));
            far.retain(|s| self.is_key(state, s));
            let anchors = [&near, &far];
            let found = if !info.write || p.reference {
                Self::search_outputs(p, steps, rng)
                    .or_else(|| self.search_state(p, state, &anchors, &records, &[], rng))
                    .or_else(|| from_choices(p, rng))
            } else if changing {
                // A new value: one the chain has not seen, so the write changes something.
                let seen: Vec<Value> =
                    steps.iter().flat_map(|s| candidates_in(&s.output, &p.name)).map(|c| c.0).collect();
                from_choices(p, rng)
                    .or_else(|| self.search_state(p, state, &anchors, &records, &seen, rng))
                    .or_else(|| Self::search_outputs(p, steps, rng))
            } else {
                from_choices(p, rng)
                    .or_else(|| Self::search_outputs(p, steps, rng))
                    .or_else(|| self.search_state(p, state, &anchors, &records, &[], rng))
            };
            let Some((value, source, record)) = found else { return Err(p.name.clone()) };
            records.extend(record);
            args.insert(p.name.clone(), value);
            sources.insert(p.name.clone(), source);
        }
        // A read that can narrow its result by a fact the user knows does so (rather than
        // listing everything): always when it has no required argument, else some of the
        // time.
        let chance = if info.required.is_empty() { 0.85 } else { 0.35 };
        if filters && !info.filters.is_empty() && rng.chance(chance) {
            collect_strings(&Value::Object(args.clone()), 2, &mut near);
            near.retain(|s| self.is_key(state, s));
            far.retain(|s| self.is_key(state, s));
            let anchors = [&near, &far];
            let mut order: Vec<usize> = (0..info.filters.len()).collect();
            rng.shuffle(&mut order);
            for k in order {
                let p = &info.filters[k];
                if let Some((value, source, _)) = self.search_state(p, state, &anchors, &records, &[], rng) {
                    args.insert(p.name.clone(), value);
                    sources.insert(p.name.clone(), source);
                    break;
                }
            }
        }
        Ok((args, sources))
    }

    /// Whether `s` is a record key in some collection.
    pub(crate) fn is_key(&self, state: &State, s: &str) -> bool {
        self.collections.iter().any(|c| state.contains(c, s))
    }

    fn search_outputs(p: &Param, steps: &[Step], rng: &mut Rng) -> Option<Found> {
        for (call, step) in steps.iter().enumerate().rev() {
            let fitting: Vec<(Value, Selector)> = candidates_in(&step.output, &p.name)
                .into_iter()
                .filter_map(|(v, s)| fit(p, &v).map(|v| (v, s)))
                .collect();
            if let Some((value, selector)) = rng.pick(&fitting).cloned() {
                // The earliest result that held the value is where it came from: later
                // results only passed it on.
                for (k, earlier) in steps[..call].iter().enumerate() {
                    let first = candidates_in(&earlier.output, &p.name)
                        .into_iter()
                        .find(|(v, _)| fit(p, v).is_some_and(|v| json_eq(&v, &value)));
                    if let Some((_, selector)) = first {
                        return Some((value, Source::Output { call: k, selector }, None));
                    }
                }
                return Some((value, Source::Output { call, selector }, None));
            }
        }
        None
    }

    /// A value from the state (see the module documentation). Tiers, in order: keys of the
    /// collections keyed by the name (or referenced by a foreign key of it), values of fields
    /// of that name, values of fields whose name ends in `_<name>`. Within a tier: values of
    /// the records this call already drew from, then of records linked to the nearer ids,
    /// then to any id of the chain, then any.
    fn search_state(
        &self,
        p: &Param,
        state: &State,
        anchors: &[&BTreeSet<String>; 2],
        records: &[(String, String)],
        exclude: &[Value],
        rng: &mut Rng,
    ) -> Option<Found> {
        let level = |collection: &str, key: &str, record: &Value| -> usize {
            if records.iter().any(|(c, k)| c == collection && k == key) {
                return 0;
            }
            let linked = |a: &BTreeSet<String>| {
                a.contains(key)
                    || record.as_object().is_some_and(|m| {
                        m.values().any(|v| match v {
                            Value::String(s) => a.contains(s),
                            Value::Array(items) => items.iter().any(|i| i.as_str().is_some_and(|s| a.contains(s))),
                            _ => false,
                        })
                    })
            };
            if linked(anchors[0]) {
                1
            } else if linked(anchors[1]) {
                2
            } else {
                3
            }
        };
        let keyed: Vec<&String> =
            self.key_collections.get(&p.name).into_iter().chain(self.fk_targets.get(&p.name)).flatten().collect();
        let suffix = format!("_{}", p.name);
        let exact_fields: Vec<&String> =
            self.field_names.iter().filter(|(_, names)| names.contains(&p.name)).map(|(c, _)| c).collect();
        let suffix_fields: Vec<&String> = self
            .field_names
            .iter()
            .filter(|(_, names)| names.iter().any(|n| n.ends_with(&suffix)))
            .map(|(c, _)| c)
            .collect();
        for tier in 0..3 {
            // (level, value or None for the key itself, (collection, key))
            let mut pool: Vec<(usize, Option<&Value>, (&str, &str))> = Vec::new();
            match tier {
                0 => {
                    for c in &keyed {
                        for (key, record) in state.scan(c) {
                            pool.push((level(c, key, record).max(1), None, (c, key)));
                        }
                    }
                }
                _ => {
                    let collections = if tier == 1 { &exact_fields } else { &suffix_fields };
                    for c in collections {
                        for (key, record) in state.scan(c) {
                            let l = level(c, key, record);
                            let values =
                                if tier == 1 { field_values(record, &p.name) } else { suffix_values(record, &suffix) };
                            pool.extend(values.into_iter().map(|v| (l, Some(v), (c.as_str(), key))));
                        }
                    }
                }
            }
            for l in 0..4 {
                let mut at: Vec<usize> = (0..pool.len()).filter(|&i| pool[i].0 == l).collect();
                rng.shuffle(&mut at);
                for i in at {
                    let (_, v, (c, k)) = pool[i];
                    let owned;
                    let v = match v {
                        Some(v) => v,
                        None => {
                            owned = Value::String(k.to_owned());
                            &owned
                        }
                    };
                    if exclude.iter().any(|x| json_eq(x, v)) {
                        continue;
                    }
                    if let Some(v) = fit(p, v) {
                        return Some((v, Source::State, Some((c.to_owned(), k.to_owned()))));
                    }
                }
            }
        }
        None
    }
}

/// A call's grounded arguments and where each came from.
pub(crate) type Grounded = (Map<String, Value>, BTreeMap<String, Source>);

/// A grounded value, its source, and the record it was read from.
type Found = (Value, Source, Option<(String, String)>);

fn from_choices(p: &Param, rng: &mut Rng) -> Option<Found> {
    let fitting: Vec<Value> = p.choices.iter().filter_map(|v| fit(p, v)).collect();
    rng.pick(&fitting).map(|v| (v.clone(), Source::Choice, None))
}

/// The three smallest values an integer schema with a `minimum` allows (`minimum: 1` gives
/// 1, 2 and 3, within any `maximum`): a count the user picks.
fn small_integers(schema: &Value) -> Vec<Value> {
    let Some(min) = schema.get("minimum").and_then(Value::as_f64) else { return Vec::new() };
    let max = schema.get("maximum").and_then(Value::as_f64).unwrap_or(f64::INFINITY);
    #[allow(clippy::cast_possible_truncation)]
    let first = min.ceil() as i64;
    (first..first + 3).filter(|&n| (n as f64) <= max).map(Value::from).collect()
}

/// Strings in a value, down to `depth` levels of nesting.
fn collect_strings(v: &Value, depth: usize, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) if depth > 0 => items.iter().for_each(|i| collect_strings(i, depth - 1, out)),
        Value::Object(m) if depth > 0 => m.values().for_each(|i| collect_strings(i, depth - 1, out)),
        _ => {}
    }
}

/// The values of a record's field `name`, at the top level or one level down.
fn field_values<'a>(record: &'a Value, name: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let Some(m) = record.as_object() else { return out };
    if let Some(v) = m.get(name) {
        out.push(v);
    }
    for v in m.values() {
        match v {
            Value::Object(inner) => out.extend(inner.get(name)),
            Value::Array(items) => out.extend(items.iter().filter_map(|i| i.get(name))),
            _ => {}
        }
    }
    out.retain(|v| !v.is_null());
    out
}

/// The values of a record's fields whose name ends in `suffix` (`_limit`: `overdraft_limit`),
/// at the top level or one level down, where a nested name counts joined to its parent
/// (`kyc_document.number` as `kyc_document_number`).
fn suffix_values<'a>(record: &'a Value, suffix: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let Some(m) = record.as_object() else { return out };
    for (f, v) in m {
        if f.ends_with(suffix) {
            out.push(v);
        }
        let nested: Vec<&Value> = match v {
            Value::Object(_) => vec![v],
            Value::Array(items) => items.iter().collect(),
            _ => Vec::new(),
        };
        for n in nested {
            for (k, x) in n.as_object().into_iter().flatten() {
                if k.ends_with(suffix) || format!("{f}_{k}").ends_with(suffix) {
                    out.push(x);
                }
            }
        }
    }
    out.retain(|v| !v.is_null());
    out
}

pub(crate) use worldsmith_core::ident::is_id_name as id_like;

/// The values a result offers for a parameter, each with how a person would single it out
/// (see the module documentation). Distinct values, in the order found.
pub(crate) fn candidates_in(output: &Value, name: &str) -> Vec<(Value, Selector)> {
    let mut found: Vec<(Value, Selector)> = Vec::new();
    let elements = |items: &Vec<Value>, found: &mut Vec<(Value, Selector)>| {
        for (i, e) in items.iter().enumerate() {
            if let Some(v) = e.get(name).filter(|v| !v.is_null()) {
                found.push((v.clone(), selector(items, i, name)));
            }
        }
    };
    match output {
        Value::Object(m) => {
            if let Some(v) = m.get(name).filter(|v| !v.is_null()) {
                found.push((v.clone(), Selector::Only));
            }
            for v in m.values() {
                match v {
                    Value::Object(inner) => {
                        if let Some(x) = inner.get(name).filter(|x| !x.is_null()) {
                            found.push((x.clone(), Selector::Only));
                        }
                    }
                    Value::Array(items) => elements(items, &mut found),
                    _ => {}
                }
            }
            if let Some(Value::Array(items)) = m.get(&format!("{name}s")) {
                let scalars: Vec<&Value> = items.iter().filter(|i| !i.is_object() && !i.is_array()).collect();
                for (i, v) in scalars.iter().enumerate() {
                    let sel = if scalars.len() == 1 { Selector::Only } else { Selector::Position(i + 1) };
                    found.push(((*v).clone(), sel));
                }
            }
        }
        Value::Array(items) => elements(items, &mut found),
        Value::String(_) if id_like(name) => found.push((output.clone(), Selector::Only)),
        _ => {}
    }
    // Distinct values; a value is the only one when nothing else was found.
    let mut out: Vec<(Value, Selector)> = Vec::new();
    for (v, s) in found {
        if !out.iter().any(|(x, _)| json_eq(x, &v)) {
            out.push((v, s));
        }
    }
    if out.len() == 1 {
        out[0].1 = Selector::Only;
    }
    out
}

/// How element `i` of `items` can be told apart: by a short scalar field whose value no
/// sibling shares (names first), else by its position.
fn selector(items: &[Value], i: usize, param: &str) -> Selector {
    if items.len() == 1 {
        return Selector::Only;
    }
    let Some(fields) = items[i].as_object() else { return Selector::Position(i + 1) };
    let usable = |(f, v): &(&String, &Value)| {
        f.as_str() != param
            && !id_like(f)
            && !f.ends_with("_ids")
            && match v {
                Value::String(s) => !s.is_empty() && s.chars().count() <= 40,
                Value::Number(_) => true,
                _ => false,
            }
    };
    let mut ordered: Vec<(&String, &Value)> = fields.iter().filter(usable).collect();
    ordered.sort_by_key(|(f, _)| !(f.contains("name") || f.contains("title")));
    for (f, v) in ordered {
        let unique = items.iter().enumerate().all(|(j, other)| j == i || !other.get(f).is_some_and(|o| json_eq(o, v)));
        if unique {
            return Selector::Field(f.clone(), v.clone());
        }
    }
    Selector::Position(i + 1)
}

/// The value projected onto the parameter's schema, if it then validates.
fn fit(p: &Param, value: &Value) -> Option<Value> {
    let projected = project(value, &p.schema);
    let types = schema_types(&p.schema);
    if !types.is_empty() && !types.contains(&JsonType::of(&projected)) {
        return None;
    }
    match &p.validator {
        Some(v) if !v.is_valid(&projected) => None,
        _ => Some(projected),
    }
}

/// Drops object properties a schema does not declare when it forbids others, recursively.
fn project(value: &Value, schema: &Value) -> Value {
    match value {
        Value::Object(m) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else { return value.clone() };
            let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
            let mut out = Map::new();
            for (k, v) in m {
                match props.get(k) {
                    Some(s) => {
                        out.insert(k.clone(), project(v, s));
                    }
                    None if !closed => {
                        out.insert(k.clone(), v.clone());
                    }
                    None => {}
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => match schema.get("items") {
            Some(s) if s.is_object() => Value::Array(items.iter().map(|i| project(i, s)).collect()),
            _ => value.clone(),
        },
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_offer_fields_at_two_levels_with_selectors() {
        let order = json!({"order_id": "O1", "customer_id": "C1", "items": [
            {"product_id": "P1", "name": "Mug", "quantity": 1},
            {"product_id": "P2", "name": "Kettle", "quantity": 1}]});
        assert_eq!(candidates_in(&order, "order_id"), vec![(json!("O1"), Selector::Only)]);
        assert_eq!(
            candidates_in(&order, "product_id"),
            vec![
                (json!("P1"), Selector::Field("name".into(), json!("Mug"))),
                (json!("P2"), Selector::Field("name".into(), json!("Kettle")))
            ]
        );
        let list = json!([{"order_id": "O1", "status": "open", "customer_id": "C1"}, {"order_id": "O2", "status": "open", "customer_id": "C1"}]);
        assert_eq!(candidates_in(&list, "order_id")[1].1, Selector::Position(2));
        // The same value in every element is the only one.
        assert_eq!(candidates_in(&list, "customer_id"), vec![(json!("C1"), Selector::Only)]);
        assert_eq!(candidates_in(&json!("user_7"), "user_id"), vec![(json!("user_7"), Selector::Only)]);
        assert!(candidates_in(&json!("hello"), "note").is_empty());
        let plural = json!({"payment_method_ids": ["PM1", "PM2"]});
        assert_eq!(candidates_in(&plural, "payment_method_id")[0], (json!("PM1"), Selector::Position(1)));
    }

    #[test]
    fn projection_drops_what_a_closed_schema_forbids() {
        let schema = json!({"type": "array", "items": {"type": "object", "properties": {"sku": {}, "quantity": {}}, "additionalProperties": false}});
        let items = json!([{"sku": "A", "quantity": 2, "name": "x"}]);
        assert_eq!(project(&items, &schema), json!([{"sku": "A", "quantity": 2}]));
    }
}
