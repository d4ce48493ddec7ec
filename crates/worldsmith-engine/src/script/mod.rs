//! Starlark tools and generators: compilation, the `db` and `rng` APIs, Python builtins
//! Starlark lacks, and the limits that keep a script from hanging or exhausting the host.
//!
//! A script is compiled once when the world loads (parse, guard rewriting, module
//! evaluation, freeze); each call runs the frozen function in a fresh, small heap.
//!
//! Records a script reads are dicts it may mutate in place. Every record handed out (and
//! every `insert`, `put` and `delete`) is remembered per call; when the call succeeds the
//! remembered records are converted back to JSON and written if they changed. A failing
//! call writes nothing.
//!
//! This module holds [`Script`] and runs its calls; `loader` compiles scripts and their
//! `load()`s, `db` and `rng` are the namespaces scripts see, `builtins` the Python builtins,
//! `convert` turns JSON into Starlark values and back, and `limits` enforces [`Limits`].

mod builtins;
mod convert;
mod db;
mod limits;
mod loader;
mod rng;

pub use limits::Limits;
pub(crate) use loader::ModuleLoader;

use crate::state::State;
use convert::{from_json, same_as_json, to_json};
use db::TOUCHED;
use limits::{LIMIT_PREFIX, configure};
use rng::rng_value;
use serde_json::Value as Json;
use starlark::ErrorKind;
use starlark::environment::{FrozenModule, Module};
use starlark::eval::Evaluator;
use starlark::values::dict::{AllocDict, DictRef};
use starlark::values::{Value, ValueLike};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use worldsmith_core::rng::SplitMix64;

/// A compiled script: a frozen module and the function a tool calls.
pub(crate) struct Script {
    module: FrozenModule,
    function: String,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script").field("function", &self.function).finish_non_exhaustive()
    }
}

impl Script {
    /// Compiles a script's module (through `loader`, which caches it and resolves its
    /// `load`s) and checks that it defines `function`.
    pub(crate) fn compile(file: &str, function: &str, loader: &ModuleLoader<'_>) -> Result<Script, String> {
        use starlark::eval::FileLoader;
        let module = loader.load(file).map_err(|e| {
            let text = e.without_diagnostic().to_string();
            if text.starts_with(file) { text } else { describe(&e) }
        })?;
        match module.get(function) {
            Ok(f) if f.value().to_value().get_type() == "function" => {
                Ok(Script { module, function: function.to_owned() })
            }
            Ok(_) => Err(format!("{file}: `{function}` is not a function")),
            Err(_) => Err(format!("{file}: defines no function `{function}`")),
        }
    }

    /// Calls the function with `args` as keyword arguments. On success returns the JSON
    /// result and the records to write (collection, key, new value or `None` to delete).
    pub(crate) fn call(
        &self,
        state: &State,
        writable: bool,
        args: &serde_json::Map<String, Json>,
        limits: Limits,
    ) -> Result<(Json, Vec<Write>), ScriptFailure> {
        let ctx = Ctx {
            state: state.clone(),
            writable,
            limits,
            touched: RefCell::default(),
            rng: Cell::new(SplitMix64::new(0)),
        };
        self.run(&ctx, Invocation::Keywords(args))
    }

    /// Runs a generator: `function(rng, params)` seeded with `seed`, returning
    /// `{collection: {key: record}}` as JSON.
    pub(crate) fn generate(
        &self,
        state: &State,
        seed: u64,
        params: &serde_json::Map<String, Json>,
        limits: Limits,
    ) -> Result<Json, ScriptFailure> {
        let ctx = Ctx {
            state: state.clone(),
            writable: false,
            limits,
            touched: RefCell::default(),
            rng: Cell::new(SplitMix64::new(seed)),
        };
        self.run(&ctx, Invocation::Positional(params)).map(|(json, _)| json)
    }

    fn run(&self, ctx: &Ctx, invocation: Invocation<'_>) -> Result<(Json, Vec<Write>), ScriptFailure> {
        Module::with_temp_heap(|module| {
            module.set(TOUCHED, module.heap().alloc(AllocDict::EMPTY));
            let mut eval = Evaluator::new(&module);
            eval.extra = Some(ctx);
            configure(&mut eval, ctx.limits);
            let f = self.module.get(&self.function).map_err(|e| ScriptFailure::Error(e.to_string()))?;
            let f = module.heap().access_owned_frozen_value(&f);
            let heap = eval.heap();
            let result = match invocation {
                Invocation::Keywords(args) => {
                    let mut named: Vec<(&str, Value)> = Vec::with_capacity(args.len());
                    for (k, v) in args {
                        let v = from_json(heap, v).map_err(|e| ScriptFailure::Error(format!("argument `{k}`: {e}")))?;
                        named.push((k.as_str(), v));
                    }
                    eval.eval_function(f, &[], &named)
                }
                Invocation::Positional(params) => {
                    let rng = heap.access_owned_frozen_value(rng_value());
                    let params = from_json(heap, &Json::Object(params.clone()))
                        .map_err(|e| ScriptFailure::Error(format!("generator parameters: {e}")))?;
                    eval.eval_function(f, &[rng, params], &[])
                }
            }
            .map_err(|e| classify(&e))?;
            let mut writes = Vec::new();
            // The JSON of a written record the function also returns (a common pattern:
            // change the order, return the order), so it is converted once.
            let mut result_json = None;
            if ctx.writable {
                let touched = module
                    .get(TOUCHED)
                    .and_then(DictRef::from_value)
                    .ok_or_else(|| ScriptFailure::Error("internal: touched map lost".into()))?;
                let mut by_key: BTreeMap<String, Value> = BTreeMap::new();
                for (k, v) in touched.iter() {
                    by_key.insert(k.unpack_str().unwrap_or_default().to_owned(), v);
                }
                for (k, v) in by_key {
                    let (collection, key) = k.split_once('\u{0}').unwrap_or((k.as_str(), ""));
                    let value = match (v.is_none(), ctx.state.get(collection, key)) {
                        (true, None) => continue,
                        (true, Some(_)) => None,
                        (false, Some(old)) if same_as_json(v, old) => continue,
                        (false, _) => Some(to_json(v).map_err(|e| {
                            ScriptFailure::Error(format!("record {collection}[{key:?}] is not JSON: {e}"))
                        })?),
                    };
                    if result_json.is_none() && v.ptr_eq(result) {
                        result_json.clone_from(&value);
                    }
                    writes.push(Write { collection: collection.to_owned(), key: key.to_owned(), value });
                }
            }
            let json = match result_json {
                Some(json) => json,
                None => to_json(result).map_err(|e| {
                    ScriptFailure::Error(format!("`{}` returned a value that is not JSON: {e}", self.function))
                })?,
            };
            Ok((json, writes))
        })
    }
}

/// A record a script call wants to write: its new value, or `None` to delete it.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    pub collection: String,
    pub key: String,
    pub value: Option<Json>,
}

/// How a script call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScriptFailure {
    /// The script called `fail(message)`: a business-rule error meant for the agent.
    Failed(String),
    /// A limit was exceeded.
    Limit(String),
    /// Any other error of the script (a bug): type errors, missing keys, bad `db` use.
    Error(String),
}

impl std::fmt::Display for ScriptFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScriptFailure::Failed(m) => write!(f, "fail: {m}"),
            ScriptFailure::Limit(m) => write!(f, "limit exceeded: {m}"),
            ScriptFailure::Error(m) => write!(f, "{m}"),
        }
    }
}

/// How a script's function is called: a tool with keyword arguments, a generator with its
/// parameters.
enum Invocation<'a> {
    Keywords(&'a serde_json::Map<String, Json>),
    Positional(&'a serde_json::Map<String, Json>),
}

/// The state a call reads, plus what it wrote. Reached from native functions through
/// `Evaluator::extra`.
use ctx_type::Ctx;

// The derive implements an unsafe marker trait; it is starlark's documented way to make a
// type reachable from `Evaluator::extra`.
#[allow(unsafe_code)]
mod ctx_type {
    use super::{Limits, State};
    use starlark::any::ProvidesStaticType;
    use std::cell::{Cell, RefCell};
    use std::collections::BTreeSet;

    #[derive(ProvidesStaticType)]
    pub(crate) struct Ctx {
        pub(super) state: State,
        pub(super) writable: bool,
        pub(super) limits: Limits,
        /// (collection, key) of every record remembered in the module's `__ws_touched` dict.
        pub(super) touched: RefCell<BTreeSet<(String, String)>>,
        pub(super) rng: Cell<worldsmith_core::rng::SplitMix64>,
    }
}

fn ctx<'a>(eval: &'a Evaluator<'_, '_, '_>) -> anyhow::Result<&'a Ctx> {
    eval.extra
        .and_then(|e| e.downcast_ref::<Ctx>())
        .ok_or_else(|| anyhow::anyhow!("`db` and `rng` are only available inside tool calls and generators"))
}

fn describe(e: &starlark::Error) -> String {
    let message = e.without_diagnostic().to_string();
    let message = message.lines().next().unwrap_or("").trim().to_owned();
    match e.span() {
        Some(span) => format!("{}:{}: {message}", span.filename(), span.resolve_span().begin.line + 1),
        None => message,
    }
}

fn classify(e: &starlark::Error) -> ScriptFailure {
    match e.kind() {
        ErrorKind::Fail(m) => ScriptFailure::Failed(m.to_string().trim().to_owned()),
        ErrorKind::StackOverflow(_) => ScriptFailure::Limit(format!("call depth limit exceeded ({})", describe(e))),
        _ => {
            let text = e.without_diagnostic().to_string();
            if let Some(rest) = text.find(LIMIT_PREFIX).map(|i| &text[i + LIMIT_PREFIX.len()..]) {
                ScriptFailure::Limit(rest.lines().next().unwrap_or("").to_owned())
            } else if text.contains("ticks has been exceeded") {
                ScriptFailure::Limit(format!("tick limit exceeded: the script ran too long ({})", describe(e)))
            } else if text.contains("Heap memory limit") {
                ScriptFailure::Limit(format!("heap limit exceeded: the script allocated too much ({})", describe(e)))
            } else {
                ScriptFailure::Error(describe(e))
            }
        }
    }
}
