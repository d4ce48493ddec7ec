//! Schema expansion: local `$ref`s resolved under a depth cap and a node budget, OpenAPI
//! 3.0 and Swagger dialects translated into JSON Schema.

use serde_json::{Map, Value, json};

/// Keys whose value maps names to schemas (not a schema itself).
const SCHEMA_MAPS: [&str; 5] = ["properties", "patternProperties", "definitions", "$defs", "dependentSchemas"];
/// Keys whose value is data, copied as it is.
const DATA: [&str; 3] = ["default", "enum", "const"];
/// Keys left out of the output: OpenAPI's own (translated, or about XML, external pages and
/// polymorphism tables) and examples, which can be larger than the schema (a discriminator
/// mapping of Microsoft Graph lists thousands of types). Vendor extensions (`x-...`) go too.
/// A scalar `example` stays (see [`dropped`]).
const DROPPED: [&str; 7] = ["xml", "externalDocs", "nullable", "x-nullable", "discriminator", "example", "examples"];

/// The longest text `example` kept.
const EXAMPLE_CHARS: usize = 100;

/// Whether a schema keyword is left out: a scalar `example` (a short text, a number, a
/// boolean) is kept, since generated worlds take their data from it first.
fn dropped(key: &str, value: &Value) -> bool {
    if key == "example" {
        return !match value {
            Value::String(s) => !s.is_empty() && s.chars().count() <= EXAMPLE_CHARS,
            Value::Number(_) | Value::Bool(_) => true,
            _ => false,
        };
    }
    DROPPED.contains(&key) || key.starts_with("x-")
}

/// Expands schemas of one document.
pub struct Resolver<'a> {
    root: &'a Value,
    max_depth: usize,
    max_nodes: usize,
    /// OpenAPI 3.0 or Swagger 2.0: translate `nullable` and boolean exclusive bounds.
    openapi30: bool,
}

struct State {
    nodes: usize,
    stack: Vec<String>,
}

impl<'a> Resolver<'a> {
    /// A resolver of references into `root`.
    pub fn new(root: &'a Value, max_depth: usize, max_nodes: usize, openapi30: bool) -> Self {
        Resolver { root, max_depth, max_nodes, openapi30 }
    }

    /// The target of a local reference (`#/components/schemas/Pet`), if it exists.
    pub fn lookup(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        if !pointer.starts_with('/') {
            return None;
        }
        self.root.pointer(&percent_decode(pointer))
    }

    /// Follows `$ref`s of a non-schema object (a parameter, request body, response or path
    /// item) to the object itself; `None` for a dangling or endless chain.
    pub fn deref<'v>(&self, mut value: &'v Value) -> Option<&'v Value>
    where
        'a: 'v,
    {
        for _ in 0..16 {
            match value.get("$ref") {
                Some(Value::String(r)) => value = self.lookup(r)?,
                Some(_) => return None,
                None => return Some(value),
            }
        }
        None
    }

    /// `schema` with its references expanded and its dialect translated.
    pub fn schema(&self, schema: &Value) -> Value {
        let mut state = State { nodes: 0, stack: Vec::new() };
        self.expand(schema, &mut state)
    }

    fn expand(&self, value: &Value, st: &mut State) -> Value {
        match value {
            Value::Object(map) => self.expand_object(map, st),
            // Arrays of scalars (`type: [..]`, `required`) are data: the node budget only
            // cuts arrays of schemas (`anyOf`, `allOf`, `prefixItems`...).
            Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => value.clone(),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if st.nodes >= self.max_nodes {
                        break;
                    }
                    out.push(self.expand(item, st));
                }
                Value::Array(out)
            }
            other => other.clone(),
        }
    }

    fn expand_object(&self, map: &Map<String, Value>, st: &mut State) -> Value {
        if st.nodes >= self.max_nodes {
            return Value::Object(Map::new());
        }
        st.nodes += 1;
        if let Some(Value::String(reference)) = map.get("$ref") {
            let target = self.lookup(reference);
            let mut out = match target {
                Some(target) if st.stack.len() < self.max_depth && !st.stack.contains(reference) => {
                    st.stack.push(reference.clone());
                    let out = self.expand(target, st);
                    st.stack.pop();
                    out
                }
                // Cut: a cycle, too deep, or not a local reference.
                Some(target) => match target.get("type") {
                    Some(t @ (Value::String(_) | Value::Array(_))) => json!({"type": t}),
                    _ => json!({}),
                },
                None => json!({}),
            };
            // Keywords beside a `$ref` (3.1, or a description) refine the target.
            if let Value::Object(out_map) = &mut out {
                for (k, v) in map {
                    if k != "$ref" && !dropped(k, v) {
                        let v = self.expand_value(k, v, st);
                        out_map.insert(k.clone(), v);
                    }
                }
            }
            return self.translate(out, map);
        }
        let mut out = Map::with_capacity(map.len());
        for (k, v) in map {
            // Definitions are only reached through `$ref`s, which are inlined: a copy of
            // them would spend the node budget on schemas nothing uses.
            if dropped(k, v) || k == "$defs" || k == "definitions" {
                continue;
            }
            let v = self.expand_value(k, v, st);
            out.insert(k.clone(), v);
        }
        // Properties the budget cut are not required any more.
        if let (Some(Value::Object(kept)), Some(Value::Object(source))) = (out.get("properties"), map.get("properties"))
            && kept.len() < source.len()
        {
            let cut: Vec<String> = source.keys().filter(|k| !kept.contains_key(*k)).cloned().collect();
            if let Some(Value::Array(required)) = out.get_mut("required") {
                required.retain(|r| r.as_str().is_none_or(|r| !cut.iter().any(|c| c == r)));
            }
        }
        self.translate(Value::Object(out), map)
    }

    fn expand_value(&self, key: &str, value: &Value, st: &mut State) -> Value {
        if DATA.contains(&key) {
            return value.clone();
        }
        if SCHEMA_MAPS.contains(&key)
            && let Value::Object(entries) = value
        {
            let mut out = Map::with_capacity(entries.len());
            for (name, schema) in entries {
                if st.nodes >= self.max_nodes {
                    break;
                }
                out.insert(name.clone(), self.expand(schema, st));
            }
            return Value::Object(out);
        }
        self.expand(value, st)
    }

    /// OpenAPI 3.0 / Swagger into JSON Schema: `nullable`, boolean exclusive bounds.
    fn translate(&self, mut out: Value, source: &Map<String, Value>) -> Value {
        if !self.openapi30 {
            return out;
        }
        let Value::Object(map) = &mut out else { return out };
        for (flag, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
            if let Some(Value::Bool(b)) = map.get(flag) {
                let b = *b;
                map.remove(flag);
                if b && let Some(limit) = map.remove(bound) {
                    map.insert(flag.to_string(), limit);
                }
            }
        }
        let nullable =
            [source.get("nullable"), source.get("x-nullable")].into_iter().flatten().any(|v| v == &Value::Bool(true));
        if !nullable {
            return out;
        }
        nullable_schema(out)
    }
}

/// `schema` that also admits `null`.
pub fn nullable_schema(mut schema: Value) -> Value {
    let Value::Object(map) = &mut schema else { return schema };
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            if t != "null" {
                map.insert("type".into(), json!([t, "null"]));
            } else {
                map.insert("type".into(), json!(t));
            }
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(json!("null"));
            }
        }
        _ => return json!({"anyOf": [schema, {"type": "null"}]}),
    }
    if let Some(Value::Array(values)) = map.get_mut("enum")
        && !values.iter().any(Value::is_null)
    {
        values.push(Value::Null);
    }
    schema
}

/// `%7B` -> `{` in a reference (JSON pointers in URIs are percent-encoded).
fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use worldsmith_core::canonical::json_eq;

    fn check(root: &Value, schema: &Value, depth: usize, nodes: usize, openapi30: bool, expected: &Value) {
        let got = Resolver::new(root, depth, nodes, openapi30).schema(schema);
        assert!(json_eq(&got, expected), "got {got}\nexpected {expected}");
    }

    #[test]
    fn nested_refs_are_resolved() {
        let root = json!({"components": {"schemas": {
            "Pet": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/Owner"}}},
            "Owner": {"type": "object", "properties": {"name": {"type": "string"}}},
        }}});
        check(
            &root,
            &json!({"$ref": "#/components/schemas/Pet"}),
            4,
            250,
            false,
            &json!({"type": "object", "properties": {"owner": {"type": "object", "properties": {"name": {"type": "string"}}}}}),
        );
    }

    #[test]
    fn cycles_and_depth_are_cut() {
        let root = json!({"definitions": {"Node": {"type": "object", "properties": {
            "value": {"type": "integer"}, "next": {"$ref": "#/definitions/Node"}}}}});
        // The cycle is cut at its second visit.
        check(
            &root,
            &json!({"$ref": "#/definitions/Node"}),
            4,
            250,
            false,
            &json!({"type": "object", "properties": {"value": {"type": "integer"}, "next": {"type": "object"}}}),
        );
        // Depth 0 follows nothing.
        check(&root, &json!({"$ref": "#/definitions/Node"}), 0, 250, false, &json!({"type": "object"}));
        // Remote and dangling references become {}.
        check(&root, &json!({"$ref": "other.json#/x"}), 4, 250, false, &json!({}));
        check(&root, &json!({"$ref": "#/definitions/Nope"}), 4, 250, false, &json!({}));
    }

    #[test]
    fn the_node_budget_bounds_the_output() {
        let properties: Map<String, Value> = (0..100).map(|i| (format!("p{i}"), json!({"type": "string"}))).collect();
        let root = json!({});
        let got = Resolver::new(&root, 4, 10, false).schema(&json!({"type": "object", "properties": properties}));
        assert_eq!(got["properties"].as_object().unwrap().len(), 9);
        // Once the budget is spent, arrays of scalars are still copied whole.
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": ["string", "null"], "nullable": true}}, "required": ["a", "b"]});
        let got = Resolver::new(&root, 4, 3, true).schema(&schema);
        assert!(json_eq(&got["required"], &json!(["a", "b"])), "{got}");
        assert!(json_eq(&got["properties"]["b"]["type"], &json!(["string", "null"])), "{got}");
        // A property the budget cut is no longer required.
        let got = Resolver::new(&root, 4, 2, true).schema(&schema);
        assert!(json_eq(&got["required"], &json!(["a"])), "{got}");
    }

    #[test]
    fn definitions_are_inlined_not_copied() {
        let schema = json!({"$defs": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "type": "object", "properties": {"pet": {"$ref": "#/$defs/Pet"}}});
        let got = Resolver::new(&schema, 4, 250, false).schema(&schema);
        let expected = json!({"type": "object", "properties": {"pet": {"type": "object", "properties": {"name": {"type": "string"}}}}});
        assert!(json_eq(&got, &expected), "{got}");
    }

    #[test]
    fn nullable_becomes_json_schema() {
        let root = json!({});
        check(&root, &json!({"type": "string", "nullable": true}), 4, 250, true, &json!({"type": ["string", "null"]}));
        check(
            &root,
            &json!({"type": "string", "enum": ["a"], "nullable": true}),
            4,
            250,
            true,
            &json!({"type": ["string", "null"], "enum": ["a", null]}),
        );
        check(
            &root,
            &json!({"allOf": [{"type": "object"}], "nullable": true}),
            4,
            250,
            true,
            &json!({"anyOf": [{"allOf": [{"type": "object"}]}, {"type": "null"}]}),
        );
        // In 3.1 `nullable` means nothing and is dropped.
        check(&root, &json!({"type": "string", "nullable": true}), 4, 250, false, &json!({"type": "string"}));
        check(
            &root,
            &json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 9, "exclusiveMaximum": false}),
            4,
            250,
            true,
            &json!({"type": "number", "exclusiveMinimum": 0, "maximum": 9}),
        );
    }

    #[test]
    fn pointers_are_decoded() {
        let root = json!({"paths": {"/a/{b}": {"x": 1}}});
        let r = Resolver::new(&root, 4, 250, false);
        assert_eq!(r.lookup("#/paths/~1a~1%7Bb%7D"), Some(&json!({"x": 1})));
        assert_eq!(r.deref(&json!({"$ref": "#/paths/~1a~1{b}"})), Some(&json!({"x": 1})));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
