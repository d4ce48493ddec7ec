//! Directed data-flow edges: tool A -> tool B when A's result has a field that B requires,
//! matched by name (case, `_` and `-` ignored) and JSON type.
//!
//! REST APIs name the same thing twice: `GET /pets` returns `[{"id": ...}]` and
//! `GET /pets/{petId}` requires `petId`. So a result field `id` of a tool whose path ends in
//! the resource `pets` is also offered as `petId`.

use crate::ToolProfile;
use serde_json::Value;
use std::collections::BTreeSet;
use worldsmith_core::tool::ToolSpec;

pub use worldsmith_core::ident::normalise;

/// The JSON type a schema names (`integer` counts as `number`), or `None`.
fn json_type(schema: &Value) -> Option<&str> {
    let t = match schema.get("type")? {
        Value::String(t) => t.as_str(),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null")?,
        _ => return None,
    };
    Some(if t == "integer" { "number" } else { t })
}

/// The fields a tool's result offers: (normalised name, type), from the response schema's
/// properties, one level into objects and array items.
pub fn produced(tool: &ToolSpec) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let Some(response) = &tool.response else { return out };
    let resource = tool.provenance.path.as_deref().and_then(resource_noun);
    let mut stack: Vec<(&Value, usize)> = vec![(response, 0)];
    while let Some((schema, depth)) = stack.pop() {
        if let Some(items) = schema.get("items") {
            stack.push((items, depth));
        }
        let Some(props) = schema.get("properties").and_then(Value::as_object) else { continue };
        for (name, s) in props {
            let t = json_type(s).unwrap_or("any").to_owned();
            let n = normalise(name);
            if n == "id"
                && let Some(r) = &resource
            {
                out.insert((format!("{r}id"), t.clone()));
            }
            out.insert((n, t));
            if depth < 2 {
                stack.push((s, depth + 1));
            }
        }
    }
    out
}

/// The arguments a tool requires: (normalised name, type).
pub fn required(tool: &ToolSpec) -> BTreeSet<(String, String)> {
    let props = tool.parameters.get("properties");
    tool.parameters
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|name| {
            let t = props.and_then(|p| p.get(name)).and_then(json_type).unwrap_or("any");
            (normalise(name), t.to_owned())
        })
        .collect()
}

/// The singular resource a path is about: `/users/{id}/pets/{petId}` -> `pet`.
fn resource_noun(path: &str) -> Option<String> {
    let segment = path.split('/').rev().find(|s| !s.is_empty() && !s.starts_with('{'))?;
    let noun = normalise(segment);
    let singular =
        noun.strip_suffix("ies").map(|s| format!("{s}y")).or_else(|| noun.strip_suffix('s').map(str::to_owned));
    Some(singular.unwrap_or(noun))
}

/// Whether a produced field feeds a required argument.
fn feeds(produced: &(String, String), needed: &(String, String)) -> bool {
    produced.0 == needed.0 && (produced.1 == needed.1 || produced.1 == "any" || needed.1 == "any")
}

/// The data-flow edges among `members` (indices into `tools`), as (from, to) pairs in order.
#[must_use]
pub fn edges(tools: &[ToolProfile], members: &[u32]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for &a in members {
        let out_a = &tools[a as usize].produced;
        for &b in members {
            let need_b = &tools[b as usize].required;
            if a != b && need_b.iter().any(|n| out_a.iter().any(|p| feeds(p, n))) {
                out.push((a, b));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, path: &str, parameters: Value, response: Option<Value>) -> ToolSpec {
        serde_json::from_value(json!({
            "id": name, "name": name, "description": "", "parameters": parameters, "response": response,
            "provenance": {"source": "x", "provider": "p", "path": path, "method": "get"}
        }))
        .unwrap()
    }

    #[test]
    fn a_listed_id_feeds_the_resource_parameter() {
        let list = tool(
            "listPets",
            "/pets",
            json!({"type": "object", "properties": {}}),
            Some(json!({"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}})),
        );
        let get = tool(
            "getPet",
            "/pets/{petId}",
            json!({"type": "object", "properties": {"petId": {"type": "integer"}}, "required": ["petId"]}),
            Some(json!({"type": "object", "properties": {"name": {"type": "string"}}})),
        );
        let by_name = tool(
            "getOwner",
            "/owners/{owner_id}",
            json!({"type": "object", "properties": {"owner_id": {"type": "string"}}, "required": ["owner_id"]}),
            None,
        );
        let tools: Vec<ToolProfile> = [list, get, by_name].iter().map(ToolProfile::of).collect();
        assert_eq!(edges(&tools, &[0, 1, 2]), vec![(0, 1)]);
        assert_eq!(resource_noun("/users/{id}/categories"), Some("category".to_owned()));
        assert_eq!(normalise("Pet_ID"), "petid");
    }
}
