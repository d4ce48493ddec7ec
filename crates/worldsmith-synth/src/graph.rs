//! A world's directed tool graph: the edges its manifest declares, or, when it declares none,
//! data-flow edges computed from the tools.
//!
//! A data-flow edge `A -> B` means a field that tool `A` returns has the name and JSON type
//! of a parameter that tool `B` requires. What a tool returns is known from its declarative
//! operation (the records of its collection: the key and every field, and the fields of
//! nested objects) or, for a script, from calling it once with its `example` arguments on a
//! fork of the initial state (the fields of the result, and one level down). A script without
//! an example has no known outputs and so no outgoing data-flow edges.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use worldsmith_engine::World;

/// Where a graph's edges came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeSource {
    /// The manifest's `edges`.
    Declared,
    /// Computed from tool inputs and outputs ([`data_flow_edges`]).
    DataFlow,
}

/// A directed graph over a world's tools (indices in manifest order).
#[derive(Debug, Clone)]
pub struct ToolGraph {
    successors: Vec<Vec<usize>>,
    edges: usize,
    source: EdgeSource,
}

impl ToolGraph {
    /// The world's declared edges, or its data-flow edges when it declares none.
    #[must_use]
    pub fn of(world: &World) -> ToolGraph {
        let declared = &world.manifest().edges;
        let (pairs, source) = if declared.is_empty() {
            (data_flow_edges(world), EdgeSource::DataFlow)
        } else {
            (declared.clone(), EdgeSource::Declared)
        };
        let index: BTreeMap<&str, usize> = world.tools().iter().enumerate().map(|(i, t)| (t.name(), i)).collect();
        let mut successors = vec![Vec::new(); world.tools().len()];
        let mut edges = 0;
        for (from, to) in &pairs {
            if let (Some(&a), Some(&b)) = (index.get(from.as_str()), index.get(to.as_str()))
                && !successors[a].contains(&b)
            {
                successors[a].push(b);
                edges += 1;
            }
        }
        ToolGraph { successors, edges, source }
    }

    /// The tools an edge leads to from `tool`, in the order the edges were given.
    #[must_use]
    pub fn successors(&self, tool: usize) -> &[usize] {
        self.successors.get(tool).map_or(&[], Vec::as_slice)
    }

    /// The number of distinct edges.
    #[must_use]
    pub fn edge_count(&self) -> usize {
        self.edges
    }

    /// Declared or computed.
    #[must_use]
    pub fn source(&self) -> EdgeSource {
        self.source
    }
}

/// A JSON type as data flow compares it (integers and numbers match each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum JsonType {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    pub(crate) fn of(v: &Value) -> JsonType {
        match v {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Bool,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    fn named(name: &str) -> Option<JsonType> {
        Some(match name {
            "null" => JsonType::Null,
            "boolean" => JsonType::Bool,
            "integer" | "number" => JsonType::Number,
            "string" => JsonType::String,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            _ => return None,
        })
    }
}

/// The JSON types a schema admits (from `type`, or the values of `enum`/`const`).
pub(crate) fn schema_types(schema: &Value) -> BTreeSet<JsonType> {
    let mut out = BTreeSet::new();
    match schema.get("type") {
        Some(Value::String(t)) => out.extend(JsonType::named(t)),
        Some(Value::Array(ts)) => out.extend(ts.iter().filter_map(Value::as_str).filter_map(JsonType::named)),
        _ => {}
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        out.extend(values.iter().map(JsonType::of));
    }
    if let Some(v) = schema.get("const") {
        out.insert(JsonType::of(v));
    }
    out.remove(&JsonType::Null);
    out
}

/// The fields a tool is known to return: name -> JSON types (top level and one level down).
pub(crate) fn tool_outputs(world: &World, tool: usize) -> BTreeMap<String, BTreeSet<JsonType>> {
    let mut out: BTreeMap<String, BTreeSet<JsonType>> = BTreeMap::new();
    let decl = &world.manifest().tools[tool];
    if let Some(op) = &decl.op {
        let collection = op.collection();
        if let Some(c) = world.manifest().collections.get(collection) {
            out.entry(c.key.clone()).or_default().insert(JsonType::String);
            for (field, schema) in &c.fields {
                out.entry(field.clone()).or_default().extend(schema_types(schema));
                for (inner, inner_schema) in nested_properties(schema) {
                    out.entry(inner.clone()).or_default().extend(schema_types(inner_schema));
                }
            }
        }
    } else if let Some(example) = &decl.example {
        let mut session = world.session();
        if let Ok(result) = session.execute(&decl.name, example) {
            observe(&result, 0, &mut out);
        }
    }
    out
}

/// The properties of an object schema, or of an array's item schema.
fn nested_properties(schema: &Value) -> impl Iterator<Item = (&String, &Value)> {
    let object = schema.get("items").unwrap_or(schema);
    object.get("properties").and_then(Value::as_object).into_iter().flat_map(|m| m.iter())
}

/// Records the fields of an observed result: an object's fields and the fields of objects
/// one level down; an array is looked through to its elements.
fn observe(v: &Value, depth: usize, out: &mut BTreeMap<String, BTreeSet<JsonType>>) {
    match v {
        Value::Array(items) => {
            for item in items {
                observe(item, depth, out);
            }
        }
        Value::Object(fields) => {
            for (name, value) in fields {
                if !value.is_null() {
                    out.entry(name.clone()).or_default().insert(JsonType::of(value));
                }
                if depth == 0 {
                    observe(value, 1, out);
                }
            }
        }
        _ => {}
    }
}

/// The required parameters of a tool with the JSON types they admit.
pub(crate) fn required_inputs(parameters: &Value) -> Vec<(String, BTreeSet<JsonType>)> {
    let required: Vec<&str> =
        parameters.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    required
        .into_iter()
        .map(|name| {
            let schema = parameters.get("properties").and_then(|p| p.get(name)).unwrap_or(&Value::Null);
            (name.to_owned(), schema_types(schema))
        })
        .collect()
}

/// Data-flow edges `[from, to]` by tool name: `from` returns a field with the name and a
/// type of a parameter `to` requires (see the module documentation). Sorted by the tools'
/// manifest order; no self-loops.
#[must_use]
pub fn data_flow_edges(world: &World) -> Vec<(String, String)> {
    let tools = world.tools();
    let outputs: Vec<_> = (0..tools.len()).map(|i| tool_outputs(world, i)).collect();
    let inputs: Vec<_> = tools.iter().map(|t| required_inputs(t.parameters())).collect();
    let mut edges = Vec::new();
    for (a, produced) in outputs.iter().enumerate() {
        for (b, needed) in inputs.iter().enumerate() {
            if a == b {
                continue;
            }
            let flows = needed.iter().any(|(name, types)| {
                produced.get(name).is_some_and(|got| types.is_empty() || got.iter().any(|t| types.contains(t)))
            });
            if flows {
                edges.push((tools[a].name().to_owned(), tools[b].name().to_owned()));
            }
        }
    }
    edges
}
