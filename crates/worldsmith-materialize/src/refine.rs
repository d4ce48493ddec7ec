//! Optional LLM refinement: a tool whose generated implementation fails the self-check is
//! given to a chat model (any OpenAI-compatible endpoint) to write in Starlark.
//!
//! The model sees the tool (name, description, effect, parameters, response schema), the
//! world's collections (keys, field types, foreign keys, a sample record), the `db` API and
//! why the generated version failed. It answers with a script and, when the tool needs
//! fields the schema lacks, a schema fix (`{"add_fields": {collection: {field: type}}}`;
//! the fields are added and filled in every record). The script goes through the same
//! self-check as the generated one, on the fixed schema; when it fails (a parse error, a
//! refusal, a write that changes nothing, a bad fix), the error is sent back and the model
//! tries again, at most [`Refiner::retries`] more times. A tool that never passes is left
//! out of the world, as before; an accepted fix stays in the world.
//!
//! [`Refiner`] talks to the model; `refine_tool` is the refine loop's place in assembly: it
//! checks each proposal on a copy of the world being built and, when one passes, keeps its
//! script and schema fix.

use crate::assembly::{Data, Workbench};
use crate::infer::{self, Collection, Planned};
use crate::report::ToolFailure;
use crate::self_check::{self, Failure};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::tool::ToolSpec;
use worldsmith_llm::{ChatClient, clip, message_text};

const SYSTEM: &str = "You implement one tool of a simulated API as a Starlark function. \
Starlark is Python without classes, exceptions, `while`, recursion and imports. \
The state is a set of collections of JSON records, each keyed by a string. \
The `db` API: db.get(c, key) -> dict or None; db.exists(c, key); \
db.find(c, {\"field\": value}, limit=N) -> list of records; \
db.scan(c, {\"field\": value}) -> list of (key, record) pairs; db.count(c, query); \
db.insert(c, key, record); db.put(c, key, record); db.delete(c, key); \
db.next_key(c, prefix) -> an unused key. A record from db.get is a dict: change it in place \
and the change is saved when the call succeeds. fail(\"message\") refuses the call and \
changes nothing. Integer keys arrive as numbers: use str(...) for db calls. \
Define exactly `def run(**args):` and read arguments with args.get(\"name\"). \
A write tool must change the state when it succeeds; a read tool must not write. \
Return a JSON-like value (dict, list, string, number). \
Answer with one ```python code block. If the tool needs fields the collections lack, add one \
```json block {\"add_fields\": {\"<collection>\": {\"<field>\": \"<JSON type>\"}}}: they are \
added to the schema and filled in every record.";

/// A chat model that writes tool implementations.
pub struct Refiner {
    client: ChatClient,
    /// How many more times the model is asked after a failed script.
    pub retries: usize,
}

/// What the model proposed: a script, and fields to add to the schema.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Proposal {
    /// The Starlark source, defining `run(**args)`.
    pub script: String,
    /// Schema fixes: collection -> field -> JSON type.
    pub add_fields: BTreeMap<String, BTreeMap<String, String>>,
}

/// What one tool's refinement came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Refinement {
    /// Requests made to the model.
    pub attempts: usize,
    /// The accepted proposal and the arguments it passed the self-check with.
    pub accepted: Option<(Proposal, Value)>,
    /// Why the last attempt failed.
    pub last_error: Option<RefineError>,
}

/// Why a refinement attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefineError {
    /// The endpoint failed (`llm: ...`); asking again would not help.
    Endpoint(String),
    /// The answer had no usable script, or its script failed the check (`llm script: ...`).
    Script(String),
}

impl RefineError {
    /// The reason the summary counts.
    #[must_use]
    pub fn reason(&self) -> ToolFailure {
        match self {
            RefineError::Endpoint(_) => ToolFailure::Llm,
            RefineError::Script(_) => ToolFailure::LlmScript,
        }
    }
}

impl fmt::Display for RefineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefineError::Endpoint(e) => write!(f, "llm: {e}"),
            RefineError::Script(e) => write!(f, "llm script: {e}"),
        }
    }
}

/// The prompt material for one failing tool.
#[derive(Debug, Clone)]
pub struct Request {
    prompt: String,
}

impl Request {
    /// Describes the tool `p` (from `tool`), the world's collections and data, and why the
    /// generated implementation failed.
    #[must_use]
    pub fn new(
        p: &Planned,
        tool: &ToolSpec,
        collections: &[Collection],
        data: &BTreeMap<String, BTreeMap<String, Value>>,
        failure: &str,
    ) -> Request {
        let mut s = String::new();
        let effect = if crate::assembly::writes(p) { "write" } else { "read" };
        let _ = writeln!(s, "Tool `{}` ({effect}): {}", p.name, tool.description.trim());
        let _ = writeln!(s, "Parameters (JSON Schema): {}", p.parameters);
        if let Some(response) = &tool.response {
            let _ = writeln!(s, "Response (JSON Schema): {}", clip(&response.to_string(), 1500));
        }
        let _ = writeln!(s, "It works mainly on the `{}` collection.\n\nCollections:", p.collection);
        for c in collections {
            let fields: Vec<String> = c.fields.iter().map(|(f, field)| format!("{f}: {}", field.kind)).collect();
            let _ = writeln!(
                s,
                "- `{}`: key `{}` ({}); fields {}",
                c.name,
                c.key,
                if c.numeric_key { "integer ids as strings" } else { "string" },
                fields.join(", ")
            );
            for (f, target) in &c.foreign_keys {
                let _ = writeln!(s, "  `{f}` refers to a `{target}` key");
            }
            if let Some((key, record)) = data.get(&c.name).and_then(|r| r.iter().next()) {
                let _ = writeln!(s, "  e.g. key {key:?}: {}", clip(&record.to_string(), 600));
            }
        }
        let _ = writeln!(
            s,
            "\nThe generated implementation failed its check (a call on arguments taken from the data): {failure}\nWrite `run`."
        );
        Request { prompt: s }
    }

    /// The user message.
    #[must_use]
    pub fn prompt(&self) -> &str {
        &self.prompt
    }
}

impl Refiner {
    /// A refiner asking `client`'s model, with `retries` more tries after a failed script.
    #[must_use]
    pub fn new(client: ChatClient, retries: usize) -> Refiner {
        Refiner { client, retries }
    }

    /// Asks the model for a script and checks it with `check` (which returns the arguments
    /// it passed with, or why it failed), feeding each failure back, within the retries.
    pub fn implement(&self, request: &Request, check: &dyn Fn(&Proposal) -> Result<Value, String>) -> Refinement {
        let mut messages =
            vec![json!({"role": "system", "content": SYSTEM}), json!({"role": "user", "content": request.prompt})];
        let mut outcome = Refinement { attempts: 0, accepted: None, last_error: None };
        for _ in 0..=self.retries {
            outcome.attempts += 1;
            let body = json!({
                "model": self.client.config().model,
                "temperature": self.client.config().temperature,
                "messages": messages,
            });
            let text = match self.client.complete(&body, None) {
                Ok(response) => message_text(&response).unwrap_or_default(),
                Err(e) => {
                    // The endpoint, not the script, failed: asking again would not help.
                    outcome.last_error = Some(RefineError::Endpoint(e.to_string()));
                    return outcome;
                }
            };
            let error = match proposal_of(&text) {
                Err(e) => e,
                Ok(proposal) => match check(&proposal) {
                    Ok(args) => {
                        outcome.accepted = Some((proposal, args));
                        outcome.last_error = None;
                        return outcome;
                    }
                    Err(e) => e,
                },
            };
            let retry = format!("The check failed: {error}\nAnswer with the whole corrected script.");
            outcome.last_error = Some(RefineError::Script(error));
            messages.push(json!({"role": "assistant", "content": text}));
            messages.push(json!({
                "role": "user",
                "content": retry,
            }));
        }
        outcome
    }
}

/// Asks `refiner` to implement the planned tool `p` of the world on `bench`, which failed its
/// self-check with `failure`. Each proposal is checked on a copy of the world with the
/// proposal's script (and only the tool `p`) on the schema with the fields it adds; when one
/// passes, its script joins `bench.refined` and its schema fix, when it has one, the
/// world's collections and data. Returns the requests made, and the arguments the tool
/// passed with or why it never did.
pub(crate) fn refine_tool(
    refiner: &Refiner,
    bench: &mut Workbench<'_>,
    p: &Planned,
    failure: Failure,
) -> (usize, Result<Value, Failure>) {
    let tool = &bench.tools[p.tool];
    // The schema of the last proposal that passed is kept.
    let passed_schema = std::cell::RefCell::new(None);
    let check = |proposal: &Proposal| {
        let (cols, rows) = with_fields(&bench.collections, &bench.data, &proposal.add_fields, bench.seed)?;
        let mut scripts = bench.refined.clone();
        scripts.insert(p.tool, proposal.script.clone());
        let world = self_check::load(bench.name, &bench.draft(&cols, &rows).files(&[p], &BTreeMap::new(), &scripts))?;
        let args = self_check::check_tool(&world, p, tool, &cols, bench.seed).map_err(|f| f.message)?;
        *passed_schema.borrow_mut() = Some((cols, rows));
        Ok(args)
    };
    let request = Request::new(p, tool, &bench.collections, &bench.data, &failure.message);
    let outcome = refiner.implement(&request, &check);
    match outcome.accepted {
        Some((proposal, args)) => {
            if !proposal.add_fields.is_empty()
                && let Some((cols, rows)) = passed_schema.into_inner()
                && let Ok(world) = self_check::load(
                    bench.name,
                    &bench.draft(&cols, &rows).files(&bench.all(), &BTreeMap::new(), &BTreeMap::new()),
                )
            {
                (bench.collections, bench.data, bench.world) = (cols, rows, world);
            }
            bench.refined.insert(p.tool, proposal.script);
            (outcome.attempts, Ok(args))
        }
        None => {
            let failure = match outcome.last_error {
                Some(e) => Failure { reason: e.reason(), message: e.to_string() },
                None => failure,
            };
            (outcome.attempts, Err(failure))
        }
    }
}

/// The collections and data with fields a model asked for (`collection -> field -> JSON
/// type`), each filled in every record; an unknown collection or type, or a field that
/// exists with another type, is an error the model reads.
fn with_fields(
    collections: &[Collection],
    data: &Data,
    add: &BTreeMap<String, BTreeMap<String, String>>,
    seed: u64,
) -> Result<(Vec<Collection>, Data), String> {
    let mut collections = collections.to_vec();
    let mut data = data.clone();
    for (name, fields) in add {
        let c = collections
            .iter_mut()
            .find(|c| &c.name == name)
            .ok_or_else(|| format!("schema fix: there is no collection `{name}`"))?;
        for (field, kind) in fields {
            if !matches!(kind.as_str(), "string" | "number" | "integer" | "boolean" | "array" | "object") {
                return Err(format!("schema fix: `{name}.{field}`: `{kind}` is not a JSON type"));
            }
            match c.fields.get(field) {
                Some(f) if &f.kind == kind => continue,
                Some(f) => return Err(format!("schema fix: `{name}.{field}` exists as {}, not {kind}", f.kind)),
                None => {}
            }
            let new = infer::Field { kind: kind.clone(), ..infer::Field::default() };
            let mut rng = SplitMix64::for_stream(seed, &format!("{name}.{field}"));
            for (k, record) in data.entry(name.clone()).or_default().values_mut().enumerate() {
                if let Value::Object(m) = record {
                    m.insert(field.clone(), crate::data::value(field, &new, k + 1, &mut rng));
                }
            }
            c.fields.insert(field.clone(), new);
        }
    }
    Ok((collections, data))
}

/// The fenced blocks of an answer, as (language, body).
fn blocks(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let (lang, body) = after.split_once('\n').unwrap_or((after, ""));
        let end = body.find("```").unwrap_or(body.len());
        out.push((lang.trim(), &body[..end]));
        rest = body.get(end + 3..).unwrap_or("");
    }
    out
}

/// The proposal in an answer: the first block defining `run` (or the whole answer, when it
/// has no blocks and defines `run`), and the `add_fields` of a JSON block.
fn proposal_of(text: &str) -> Result<Proposal, String> {
    let blocks = blocks(text);
    let code = if blocks.is_empty() {
        Some(text)
    } else {
        blocks.iter().find(|(lang, body)| *lang != "json" && body.contains("def run")).map(|(_, b)| *b)
    };
    let script = code
        .filter(|c| c.contains("def run"))
        .map(|c| format!("{}\n", c.trim_end()))
        .ok_or("the answer has no ```python block defining run(**args)")?;
    let mut add_fields = BTreeMap::new();
    if let Some((_, json)) = blocks.iter().find(|(lang, _)| *lang == "json") {
        #[derive(serde::Deserialize)]
        struct Fix {
            #[serde(default)]
            add_fields: BTreeMap<String, BTreeMap<String, String>>,
        }
        let fix: Fix = serde_json::from_str(json).map_err(|e| format!("the ```json block: {e}"))?;
        add_fields = fix.add_fields;
    }
    Ok(Proposal { script, add_fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proposal_is_a_script_block_and_an_optional_json_block() {
        let answer = "Here:\n```python\ndef run(**args):\n    return 1\n```\nand\n```json\n{\"add_fields\": {\"pets\": {\"vaccinated\": \"boolean\"}}}\n```\nDone.";
        let p = proposal_of(answer).unwrap();
        assert_eq!(p.script, "def run(**args):\n    return 1\n");
        assert_eq!(p.add_fields["pets"]["vaccinated"], "boolean");
        assert_eq!(proposal_of("def run(**args):\n    return 2").unwrap().script, "def run(**args):\n    return 2\n");
        assert!(proposal_of("```\nprint(1)\n```").unwrap_err().contains("no ```python block"));
        let bad = proposal_of("```python\ndef run(**args):\n    pass\n```\n```json\n{oops}\n```").unwrap_err();
        assert!(bad.starts_with("the ```json block:"), "{bad}");
    }
}
