//! Tool specifications: the lines of `tools.jsonl`, which ingest writes and later stages read,
//! and the domain lines of `domains.jsonl` ([`Domain`]), which `graph` writes from them.
//!
//! A **`ToolSpec` line** (JSON Lines, one tool per line; readers ignore fields they don't know):
//!
//! - `id`: unique in the file and stable: the same operation of the same document (at the same
//!   path below the input root) gets the same id in every run;
//! - `name`: a valid function name, `^[A-Za-z0-9_-]{1,64}$`, unique in the file;
//! - `format`: the line format's version, [`TOOL_FORMAT`] (lines without one read as 1);
//! - `description`: what the tool does, for a model to read;
//! - `parameters`: a JSON Schema object (`{"type": "object", "properties": ..., "required":
//!   ...}`) of the arguments;
//! - `response`: a JSON Schema of a successful result, or `null` when the source gives none;
//! - `provenance`: where the tool came from ([`Provenance`]).
//!
//! It also holds [`FunctionTool`], the one shape in which every stage offers a tool to an
//! agent (OpenAI's function-calling format), and [`Distractor`], a tool of another world
//! offered beside a task's own.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The version of the `ToolSpec` line format.
pub const TOOL_FORMAT: u32 = 1;

/// One tool of a pool (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Unique in the pool and stable across runs.
    pub id: String,
    /// A valid function name (`^[A-Za-z0-9_-]{1,64}$`), unique in the pool.
    pub name: String,
    /// The line format's version ([`TOOL_FORMAT`]).
    #[serde(default = "crate::format_one")]
    pub format: u32,
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
    /// The tool in OpenAI's function-calling format.
    #[must_use]
    pub fn openai_function(&self) -> FunctionTool {
        FunctionTool::new(&self.name, &self.description, self.parameters.clone())
    }
}

/// A tool as OpenAI's function calling offers it to a model:
/// `{"type": "function", "function": {"name", "description", "parameters"}}`.
///
/// Episodes, SFT lines, arenas and requests to a model server all carry tools in this shape.
/// Reading is lenient where OpenAI's format is (`description` and `parameters` may be
/// missing; they read as empty text and the empty object schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
    /// Always [`ToolType::Function`].
    #[serde(rename = "type")]
    pub kind: ToolType,
    /// The function: its name, description and argument schema.
    pub function: Function,
}

/// The kind of an offered tool; OpenAI's format has one for tools a model calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolType {
    /// `"function"`.
    #[default]
    Function,
}

/// The function of a [`FunctionTool`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Function {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model to read.
    #[serde(default)]
    pub description: String,
    /// The arguments, a JSON Schema object.
    #[serde(default = "empty_object_schema")]
    pub parameters: Value,
}

fn empty_object_schema() -> Value {
    json!({"type": "object", "properties": {}})
}

impl FunctionTool {
    /// A function tool.
    #[must_use]
    pub fn new(name: &str, description: &str, parameters: Value) -> FunctionTool {
        FunctionTool {
            kind: ToolType::Function,
            function: Function { name: name.to_owned(), description: description.to_owned(), parameters },
        }
    }

    /// The function's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.function.name
    }
}

/// How similar a distractor is to the tools a task uses (ASTRA's three bands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Close to a tool the task uses: the hardest to tell apart.
    Near,
    /// Neither close nor far.
    Middle,
    /// Unrelated.
    Far,
}

impl Band {
    /// The three bands, nearest first.
    pub const ALL: [Band; 3] = [Band::Near, Band::Middle, Band::Far];
}

/// A tool from another world offered beside a task's own (a line of a task's
/// `distractors`): the tool in OpenAI's format plus where it came from. Hand-written task
/// lines may list plain OpenAI tools; `band` and `world` are then absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distractor {
    /// Always [`ToolType::Function`].
    #[serde(rename = "type")]
    pub kind: ToolType,
    /// The function, as its own world offers it.
    pub function: Function,
    /// Its similarity band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<Band>,
    /// The world it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<String>,
}

impl Distractor {
    /// `tool` of `world`, offered in `band`.
    #[must_use]
    pub fn new(tool: FunctionTool, band: Band, world: &str) -> Distractor {
        Distractor { kind: tool.kind, function: tool.function, band: Some(band), world: Some(world.to_owned()) }
    }

    /// The tool as the agent sees it: without its band and home world.
    #[must_use]
    pub fn offered(&self) -> FunctionTool {
        FunctionTool { kind: self.kind, function: self.function.clone() }
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
        assert_eq!(tool.openai_function().name(), "get_pet");
    }

    #[test]
    fn function_tools_write_openai_s_shape_and_read_its_optional_fields() {
        let tool = FunctionTool::new("get_pet", "Get a pet.", json!({"type": "object", "properties": {}}));
        assert_eq!(
            serde_json::to_string(&tool).unwrap(),
            r#"{"type":"function","function":{"name":"get_pet","description":"Get a pet.","parameters":{"type":"object","properties":{}}}}"#
        );
        let bare: FunctionTool = serde_json::from_str(r#"{"type":"function","function":{"name":"t"}}"#).unwrap();
        assert_eq!((bare.name(), bare.function.description.as_str()), ("t", ""));
        assert_eq!(bare.function.parameters, json!({"type": "object", "properties": {}}));
        assert!(serde_json::from_str::<FunctionTool>(r#"{"type":"retrieval","function":{"name":"t"}}"#).is_err());
    }

    #[test]
    fn a_distractor_keeps_its_band_and_world_and_offers_the_bare_tool() {
        let tool = FunctionTool::new("t", "T.", json!({"type": "object", "properties": {"n": {"minimum": 1}}}));
        let d = Distractor::new(tool.clone(), Band::Near, "shop");
        let line = serde_json::to_string(&d).unwrap();
        assert!(line.ends_with(r#","band":"near","world":"shop"}"#), "{line}");
        let back: Distractor = serde_json::from_str(&line).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.offered(), tool);
        let plain: Distractor = serde_json::from_str(&serde_json::to_string(&tool).unwrap()).unwrap();
        assert_eq!((plain.band, plain.world.as_deref()), (None, None));
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
