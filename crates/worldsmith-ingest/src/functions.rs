//! Function lists: OpenAI tool lists, MCP `tools/list` results and BFCL function docs.

use crate::refs::Resolver;
use crate::{DocError, Filter, Sink, bounded, names};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use worldsmith_core::tool::{Provenance, TOOL_FORMAT, ToolSpec};

/// The longest description of a function (as for operations, the config's bound applies).
fn max_description(sink: &Sink<'_>) -> usize {
    sink.config.max_description
}

/// Imports a JSON (or YAML) document holding functions; returns its format.
pub fn import(doc: &Value, source: &str, stem: &str, sink: &mut Sink<'_>) -> Result<&'static str, DocError> {
    let is_openai =
        |v: &Value| v.get("type").and_then(Value::as_str) == Some("function") && v.get("function").is_some();
    // A JSON-RPC response's result, or the result itself.
    let body = doc.get("result").filter(|r| r.get("tools").is_some()).unwrap_or(doc);
    match body {
        Value::Array(items) if items.first().is_some_and(is_openai) => {
            let mut f = Functions::new(source, stem, "openai");
            for item in items {
                f.add(item.get("function"), "parameters", None, sink);
            }
            Ok("openai")
        }
        Value::Array(items)
            if items.first().is_some_and(|i| i.get("name").is_some() || i.get("function").is_some()) =>
        {
            import_bfcl_lines(items, source, stem, sink)
        }
        Value::Object(map) => match map.get("tools") {
            Some(Value::Array(items)) if items.first().is_some_and(is_openai) => {
                let mut f = Functions::new(source, stem, "openai");
                for item in items {
                    f.add(item.get("function"), "parameters", None, sink);
                }
                Ok("openai")
            }
            Some(Value::Array(items)) => {
                let mut f = Functions::new(source, stem, "mcp");
                for item in items {
                    f.add(Some(item), "inputSchema", Some("outputSchema"), sink);
                }
                Ok("mcp")
            }
            Some(_) => Err(DocError::Invalid { pointer: "/tools".into(), message: "`tools` is not a list".into() }),
            None if map.contains_key("name") && map.contains_key("parameters") => {
                import_bfcl_lines(std::slice::from_ref(doc), source, stem, sink)
            }
            None => Err(DocError::UnknownFormat("an object without `openapi`, `swagger` or `tools`".into())),
        },
        Value::Array(items) if items.is_empty() => Err(DocError::UnknownFormat("an empty list".into())),
        Value::Array(_) => Err(DocError::UnknownFormat("a list of neither OpenAI tools nor functions".into())),
        _ => Err(DocError::UnknownFormat("neither an object nor a list".into())),
    }
}

/// Imports BFCL function docs: each value a function `{name, description, parameters}`, or a
/// test entry whose `function` is a list of them.
pub fn import_bfcl_lines(
    values: &[Value],
    source: &str,
    stem: &str,
    sink: &mut Sink<'_>,
) -> Result<&'static str, DocError> {
    let mut f = Functions::new(source, stem, "bfcl");
    let mut any = false;
    for (i, value) in values.iter().enumerate() {
        match value.get("function") {
            Some(Value::Array(functions)) => {
                any = true;
                for function in functions {
                    f.add(Some(function), "parameters", None, sink);
                }
            }
            _ if value.get("name").is_some() => {
                any = true;
                f.add(Some(value), "parameters", None, sink);
            }
            _ if i == 0 => {
                return Err(DocError::UnknownFormat("JSON Lines whose first line is not a function".into()));
            }
            _ => {
                sink.operations += 1;
                sink.filtered(Filter::Malformed);
            }
        }
    }
    if !any {
        return Err(DocError::UnknownFormat("no functions".into()));
    }
    Ok("bfcl")
}

/// Builds the tools of one document of functions.
struct Functions<'a> {
    source: &'a str,
    provider: &'a str,
    format: &'static str,
    /// How often each name was seen, for unique ids.
    seen: BTreeMap<String, usize>,
}

impl<'a> Functions<'a> {
    fn new(source: &'a str, provider: &'a str, format: &'static str) -> Self {
        Functions { source, provider, format, seen: BTreeMap::new() }
    }

    fn add(&mut self, function: Option<&Value>, input_key: &str, output_key: Option<&str>, sink: &mut Sink<'_>) {
        sink.operations += 1;
        match self.build(function, input_key, output_key, sink) {
            Ok(tool) => sink.tool(tool),
            Err(reason) => sink.filtered(reason),
        }
    }

    fn build(
        &mut self,
        function: Option<&Value>,
        input_key: &str,
        output_key: Option<&str>,
        sink: &Sink<'_>,
    ) -> Result<ToolSpec, Filter> {
        let Some(Value::Object(f)) = function else { return Err(Filter::Malformed) };
        let raw_name = f.get("name").and_then(Value::as_str).map(str::trim).unwrap_or("");
        let name = names::sanitize(raw_name).ok_or(Filter::NoName)?;
        let description = bounded(f.get("description").and_then(Value::as_str).unwrap_or(""), max_description(sink));
        let bfcl = self.format == "bfcl";
        let parameters = match f.get(input_key) {
            None | Some(Value::Null) => json!({"type": "object", "properties": {}}),
            Some(p @ Value::Object(_)) => schema(p, bfcl, sink),
            Some(_) => return Err(Filter::Malformed),
        };
        let parameters = match parameters {
            Value::Object(mut p) if p.get("type").is_none_or(|t| t == "object") => {
                p.insert("type".into(), json!("object"));
                p.entry("properties").or_insert_with(|| json!({}));
                p.entry("required").or_insert_with(|| json!([]));
                Value::Object(p)
            }
            _ => return Err(Filter::Malformed),
        };
        if !parameters["properties"].is_object() {
            return Err(Filter::Malformed);
        }
        let response = output_key.and_then(|k| f.get(k)).filter(|v| v.is_object()).map(|v| schema(v, bfcl, sink));
        let count = self.seen.entry(raw_name.to_string()).or_default();
        *count += 1;
        let id = if *count == 1 {
            format!("{}#{raw_name}", self.source)
        } else {
            format!("{}#{raw_name}~{count}", self.source)
        };
        Ok(ToolSpec {
            id,
            name,
            format: TOOL_FORMAT,
            description,
            parameters,
            response,
            provenance: Provenance {
                source: self.source.to_string(),
                format: self.format.to_string(),
                provider: self.provider.to_string(),
                operation_id: Some(raw_name.to_string()),
                ..Provenance::default()
            },
        })
    }
}

/// A function's schema: its local references resolved against itself, BFCL types
/// translated.
fn schema(value: &Value, bfcl: bool, sink: &Sink<'_>) -> Value {
    let config = sink.config;
    let mut out = Resolver::new(value, config.max_ref_depth, config.max_schema_nodes, false).schema(value);
    if bfcl {
        bfcl_types(&mut out);
    }
    out
}

/// BFCL's type names into JSON Schema: `dict` -> `object`, `float` -> `number`, `tuple` ->
/// `array`, `any` -> no constraint; JSON Schema's own names pass through.
pub fn bfcl_types(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let mut drop_type = false;
            match map.get_mut("type") {
                Some(Value::String(t)) => match translate(t) {
                    Some(new) => *t = new.to_string(),
                    None => drop_type = true,
                },
                Some(Value::Array(types)) => {
                    let translated: Vec<&str> = types.iter().filter_map(Value::as_str).filter_map(translate).collect();
                    if translated.is_empty() || types.iter().any(|t| t.as_str().is_some_and(|t| translate(t).is_none()))
                    {
                        drop_type = true;
                    } else {
                        *types = translated.into_iter().map(|t| json!(t)).collect();
                    }
                }
                _ => {}
            }
            if drop_type {
                map.remove("type");
            }
            for (key, value) in map.iter_mut() {
                match key.as_str() {
                    "properties" | "patternProperties" | "$defs" | "definitions" => {
                        if let Value::Object(entries) = value {
                            entries.values_mut().for_each(bfcl_types);
                        }
                    }
                    "items" | "additionalProperties" | "anyOf" | "oneOf" | "allOf" | "not" | "prefixItems" => {
                        bfcl_types(value);
                    }
                    _ => {}
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(bfcl_types),
        _ => {}
    }
}

/// A BFCL or JSON Schema type name in JSON Schema; `None` for no constraint (`any`, or a
/// name nobody knows).
fn translate(t: &str) -> Option<&'static str> {
    Some(match t.to_ascii_lowercase().as_str() {
        "dict" | "object" => "object",
        "float" | "number" | "double" => "number",
        "tuple" | "array" | "list" => "array",
        "integer" | "int" => "integer",
        "boolean" | "bool" => "boolean",
        "string" | "str" => "string",
        "null" => "null",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IngestConfig, import_document};
    use worldsmith_core::canonical::json_eq;

    #[test]
    fn bfcl_types_become_json_schema() {
        let mut s = json!({"type": "dict", "properties": {
            "a": {"type": "float"}, "b": {"type": "tuple", "items": {"type": "integer"}},
            "c": {"type": "any", "description": "anything"}, "d": {"type": "array", "items": {"type": "dict", "properties": {"e": {"type": "boolean"}}}},
            "f": {"type": "string"}}, "required": ["a"]});
        bfcl_types(&mut s);
        let expected = json!({"type": "object", "properties": {
            "a": {"type": "number"}, "b": {"type": "array", "items": {"type": "integer"}},
            "c": {"description": "anything"}, "d": {"type": "array", "items": {"type": "object", "properties": {"e": {"type": "boolean"}}}},
            "f": {"type": "string"}}, "required": ["a"]});
        assert!(json_eq(&s, &expected), "{s}");
    }

    #[test]
    fn openai_mcp_and_bfcl_are_recognized() {
        let config = IngestConfig::default();
        let openai = br#"{"tools": [{"type": "function", "function": {"name": "a.b", "description": "A."}}]}"#;
        let t = import_document(openai, "x/o.json", &config).unwrap();
        assert_eq!((t[0].name.as_str(), t[0].provenance.format.as_str()), ("a_b", "openai"));
        assert_eq!(t[0].provenance.operation_id.as_deref(), Some("a.b"));
        assert_eq!(t[0].provenance.provider, "o");
        assert!(json_eq(&t[0].parameters, &json!({"type": "object", "properties": {}, "required": []})));

        let mcp = br##"{"jsonrpc": "2.0", "id": 1, "result": {"tools": [{"name": "x", "description": "X.",
            "inputSchema": {"type": "object", "properties": {"p": {"$ref": "#/$defs/P"}}, "$defs": {"P": {"type": "string"}}},
            "outputSchema": {"type": "object"}}]}}"##;
        let t = import_document(mcp, "m.json", &config).unwrap();
        assert_eq!(t[0].provenance.format, "mcp");
        assert!(json_eq(&t[0].parameters["properties"]["p"], &json!({"type": "string"})));
        assert!(json_eq(t[0].response.as_ref().unwrap(), &json!({"type": "object"})));

        let bfcl = b"{\"name\": \"f\", \"description\": \"F.\", \"parameters\": {\"type\": \"dict\", \"properties\": {}}}\n\
                     {\"id\": \"t1\", \"function\": [{\"name\": \"f\", \"description\": \"F again.\", \"parameters\": {}}]}\n";
        let t = import_document(bfcl, "b.json", &config).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].provenance.format, "bfcl");
        assert_eq!(t[1].id, "b.json#f~2");
    }

    #[test]
    fn bad_functions_are_filtered_not_fatal() {
        let config = IngestConfig::default();
        let doc = br#"[{"name": "ok", "description": "Fine."}, {"name": "", "description": "No name."},
            {"name": "nodesc"}, {"name": "bad", "description": "Bad.", "parameters": "x"},
            {"name": "arr", "description": "Array.", "parameters": {"type": "array"}}]"#;
        let t = import_document(doc, "f.json", &config).unwrap();
        assert_eq!(t.len(), 1);
        assert!(import_document(b"[]", "f.json", &config).is_err());
        assert!(import_document(br#"{"tools": 3}"#, "f.json", &config).is_err());
    }
}
