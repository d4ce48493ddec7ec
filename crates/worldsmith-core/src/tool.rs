//! Tool specifications: the lines of `tools.jsonl`, which ingest writes and later stages read,
//! and the domain lines of `domains.jsonl` ([`Domain`]), which `graph` writes from them.
//!
//! A **ToolSpec line** (JSON Lines, one tool per line; readers ignore fields they don't know):
//!
//! - `id`: unique in the file and stable: the same operation of the same document (at the same
//!   path below the input root) gets the same id in every run;
//! - `name`: a valid function name, `^[A-Za-z0-9_-]{1,64}$`, unique in the file;
//! - `description`: what the tool does, for a model to read;
//! - `parameters`: a JSON Schema object (`{"type": "object", "properties": ..., "required":
//!   ...}`) of the arguments;
//! - `response`: a JSON Schema of a successful result, or `null` when the source gives none;
//! - `provenance`: where the tool came from ([`Provenance`]).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One tool of a pool (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Unique in the pool and stable across runs.
    pub id: String,
    /// A valid function name (`^[A-Za-z0-9_-]{1,64}$`), unique in the pool.
    pub name: String,
    /// What the tool does.
    pub description: String,
    /// The arguments, a JSON Schema object.
    pub parameters: Value,
    /// The result of a successful call, a JSON Schema, if known.
    #[serde(default)]
    pub response: Option<Value>,
    /// Where the tool came from.
    pub provenance: Provenance,
}

/// Where a tool came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Provenance {
    /// The document, as a path relative to the input root (`/`-separated).
    pub source: String,
    /// The document's format: `openapi-3.0`, `openapi-3.1`, `swagger-2.0`, `openai`, `mcp`
    /// or `bfcl`.
    #[serde(default)]
    pub format: String,
    /// Who offers the API: `info.x-providerName`, else the server's host, else the
    /// document's file name without its extension.
    pub provider: String,
    /// The API within the provider (`info.x-serviceName`), when the document names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The HTTP path template (`/pets/{petId}`), for HTTP operations.
    #[serde(default)]
    pub path: Option<String>,
    /// The HTTP method in lower case (`get`), for HTTP operations.
    #[serde(default)]
    pub method: Option<String>,
    /// The operation's `operationId`, or a function's name as the source spells it.
    #[serde(default)]
    pub operation_id: Option<String>,
    /// The API's categories (`info.x-apisguru-categories`).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Where each parameter goes in an HTTP request, by property name: `path`, `query`,
    /// `header`, `cookie`, `body` (a field of the request body) or `body_value` (the whole
    /// request body, when it is not an object). Empty for function tools.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub locations: BTreeMap<String, String>,
}

impl ToolSpec {
    /// The tool in OpenAI's function-calling format:
    /// `{"type": "function", "function": {"name", "description", "parameters"}}`.
    pub fn openai_function(&self) -> Value {
        json!({
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_reads_back_and_ignores_unknown_fields() {
        let line = r#"{"id":"a1","name":"get_pet","description":"Get a pet.","parameters":{"type":"object","properties":{}},"response":null,"provenance":{"source":"pets.json","provider":"pets","path":"/pets/{id}","method":"get","operation_id":"getPet","categories":[]},"later":1}"#;
        let tool: ToolSpec = serde_json::from_str(line).unwrap();
        assert_eq!(tool.name, "get_pet");
        assert_eq!(tool.provenance.path.as_deref(), Some("/pets/{id}"));
        assert_eq!(tool.openai_function()["function"]["name"], "get_pet");
    }
}

/// A line of `domains.jsonl` (`graph`'s output, `materialize`'s input).
/// One domain: a community of tools and their directed data-flow edges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// `dom-0001`, numbered by size (largest first).
    pub id: String,
    /// A readable name from the domain's most characteristic terms (`pet-owner-adoption`).
    pub name: String,
    /// The tools' ids, in pool order.
    pub tools: Vec<String>,
    /// Directed data-flow edges `[from_id, to_id]`.
    pub edges: Vec<(String, String)>,
    /// Counts.
    pub stats: DomainStats,
}

/// A domain's counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DomainStats {
    /// Tools.
    pub tools: usize,
    /// Similarity edges inside the domain.
    pub similarity_edges: usize,
    /// Data-flow edges.
    pub data_flow_edges: usize,
    /// Distinct providers.
    pub providers: usize,
    /// The provider with the most tools.
    pub top_provider: String,
}
