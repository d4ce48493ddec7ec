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

use crate::state::State;
use serde_json::Value as Json;
use starlark::ErrorKind;
use starlark::environment::{FrozenModule, Globals, GlobalsBuilder, LibraryExtension, Module};
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::syntax::ast::{AssignOp, AstStmt, StmtP};
use starlark::syntax::{AstModule, Dialect};
use starlark::values::dict::{AllocDict, DictRef};
use starlark::values::float::UnpackFloat;
use starlark::values::list::ListRef;
use starlark::values::none::{NoneOr, NoneType};
use starlark::values::tuple::{TupleRef, UnpackTuple};
use starlark::values::{Heap, UnpackValue, Value, ValueLike};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use worldsmith_core::canonical::json_eq;
use worldsmith_core::rng::SplitMix64;

/// Resource limits of one script call. Exceeding any of them is a tool error that leaves the
/// state unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Ticks per call: one tick is a function call or a loop iteration (Starlark's own
    /// measure). Checked every 1,000 ticks.
    pub ticks: u64,
    /// Starlark heap bytes per call. Checked every 1,000 ticks, so one step between checks
    /// can overshoot; `max_sequence` bounds the largest single step.
    pub heap_bytes: usize,
    /// Call-stack depth in frames.
    pub call_depth: usize,
    /// The most elements (or bytes, for strings) one repetition (`x * n`) or `range` may
    /// produce.
    pub max_sequence: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { ticks: 1_000_000, heap_bytes: 64 << 20, call_depth: 64, max_sequence: 1_000_000 }
    }
}

impl Limits {
    /// The limits of data generators, which build whole databases: 50 times the ticks and 8
    /// times the heap of a call.
    #[must_use]
    pub fn for_generator(self) -> Limits {
        Limits { ticks: self.ticks.saturating_mul(50), heap_bytes: self.heap_bytes.saturating_mul(8), ..self }
    }
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

const LIMIT_PREFIX: &str = "limit exceeded: ";

/// The state a call reads, plus what it wrote. Reached from native functions through
/// `Evaluator::extra`.
pub(crate) use ctx_type::Ctx;

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

const TOUCHED: &str = "__ws_touched";

fn dialect() -> Dialect {
    Dialect { enable_load: true, enable_f_strings: true, ..Dialect::Extended }
}

/// Resolves `load("lib/x.star", "name")` in a world's scripts: paths are relative to the
/// world's root; each module is compiled once (with the same guards and globals) and
/// cached; cycles are reported.
pub(crate) struct ModuleLoader<'a> {
    files: &'a dyn crate::files::WorldFiles,
    limits: Limits,
    cache: RefCell<BTreeMap<String, FrozenModule>>,
    loading: RefCell<Vec<String>>,
}

impl<'a> ModuleLoader<'a> {
    pub(crate) fn new(files: &'a dyn crate::files::WorldFiles, limits: Limits) -> ModuleLoader<'a> {
        ModuleLoader { files, limits, cache: RefCell::default(), loading: RefCell::default() }
    }
}

impl starlark::eval::FileLoader for ModuleLoader<'_> {
    fn load(&self, path: &str) -> starlark::Result<FrozenModule> {
        let fail = |m: String| starlark::Error::new_native(anyhow::anyhow!(m));
        if let Some(m) = self.cache.borrow().get(path) {
            return Ok(m.clone());
        }
        if self.loading.borrow().iter().any(|p| p == path) {
            return Err(fail(format!("load cycle: {} -> {path}", self.loading.borrow().join(" -> "))));
        }
        let source = self.files.read(path).map_err(fail)?;
        self.loading.borrow_mut().push(path.to_owned());
        let module = compile_module(path, &source, self.limits, self);
        self.loading.borrow_mut().pop();
        let module = module.map_err(fail)?;
        self.cache.borrow_mut().insert(path.to_owned(), module.clone());
        Ok(module)
    }
}

/// Parses, guards and evaluates one module.
fn compile_module(file: &str, source: &str, limits: Limits, loader: &ModuleLoader<'_>) -> Result<FrozenModule, String> {
    let ast = AstModule::parse(file, source.to_owned(), &dialect()).map_err(|e| describe(&e))?;
    let guarded = guard_calls(source, &ast);
    let mut ast = if guarded == source {
        ast
    } else {
        AstModule::parse(file, guarded, &dialect())
            .map_err(|e| format!("{file}: internal error guarding string methods: {}", describe(&e)))?
    };
    let mut found = None;
    find_augmented_multiply(ast.statement(), &mut found);
    if let Some(span) = found {
        let line = ast.file_span(span).resolve_span().begin.line + 1;
        return Err(format!("{file}:{line}: `*=` is not supported (the repetition guard needs `x = x * n`)"));
    }
    ast.replace_binary_operators(&HashMap::from([
        ("*".to_owned(), "__ws_mul".to_owned()),
        ("+".to_owned(), "__ws_add".to_owned()),
        ("%".to_owned(), "__ws_mod".to_owned()),
    ]));
    Module::with_temp_heap(|module| -> Result<FrozenModule, String> {
        {
            let mut eval = Evaluator::new(&module);
            configure(&mut eval, limits);
            eval.set_loader(loader);
            eval.eval_module(ast, globals()).map_err(|e| describe(&e))?;
        }
        module.freeze().map_err(|e| format!("{file}: {e:?}"))
    })
}

fn globals() -> &'static Globals {
    static GLOBALS: OnceLock<Globals> = OnceLock::new();
    GLOBALS.get_or_init(|| {
        use LibraryExtension as L;
        GlobalsBuilder::extended_by(&[L::StructType, L::Map, L::Filter, L::Partial, L::Json, L::Typing, L::SetType])
            .with(python_builtins)
            .with_namespace("db", db_api)
            .with_namespace("rng", rng_api)
            .build()
    })
}

/// Starlark's own `range`, `str` and `repr`, which ours wrap (the standard globals do not
/// expose lookups).
fn standard_builtin(name: &str) -> &'static starlark::values::OwnedFrozenValue {
    static BUILTINS: OnceLock<BTreeMap<&'static str, starlark::values::OwnedFrozenValue>> = OnceLock::new();
    let builtins = BUILTINS.get_or_init(|| {
        let names = ["range", "str", "repr"];
        let source: String = names.iter().map(|n| format!("standard_{n} = {n}\n")).collect();
        let ast = AstModule::parse("builtins.star", source, &Dialect::Standard).expect("valid");
        let module = Module::with_temp_heap(|module| {
            Evaluator::new(&module).eval_module(ast, &Globals::standard()).expect("evaluates");
            module.freeze().expect("freezes")
        });
        names.iter().map(|n| (*n, module.get(&format!("standard_{n}")).expect("defined"))).collect()
    });
    &builtins[name]
}

/// The `rng` namespace as a value, passed to generators as their first argument.
fn rng_value() -> &'static starlark::values::OwnedFrozenValue {
    static RNG: OnceLock<starlark::values::OwnedFrozenValue> = OnceLock::new();
    RNG.get_or_init(|| {
        let ast = AstModule::parse("rng.star", "the_rng = rng".to_owned(), &dialect()).expect("valid");
        let module = Module::with_temp_heap(|module| {
            Evaluator::new(&module).eval_module(ast, globals()).expect("evaluates");
            module.freeze().expect("freezes")
        });
        module.get("the_rng").expect("defined")
    })
}

fn ctx<'a>(eval: &'a Evaluator<'_, '_, '_>) -> anyhow::Result<&'a Ctx> {
    eval.extra
        .and_then(|e| e.downcast_ref::<Ctx>())
        .ok_or_else(|| anyhow::anyhow!("`db` and `rng` are only available inside tool calls and generators"))
}

fn limit_error(message: String) -> anyhow::Error {
    anyhow::anyhow!("{LIMIT_PREFIX}{message}")
}

fn touched_key(collection: &str, key: &str) -> String {
    format!("{collection}\u{0}{key}")
}

/// The remembered value of a record in this call: `Some(None)` when deleted.
fn remembered<'v>(
    eval: &Evaluator<'v, '_, '_>,
    collection: &str,
    key: &str,
) -> anyhow::Result<Option<Option<Value<'v>>>> {
    let c = ctx(eval)?;
    if !c.touched.borrow().contains(&(collection.to_owned(), key.to_owned())) {
        return Ok(None);
    }
    let dict = eval.module().get(TOUCHED).ok_or_else(|| anyhow::anyhow!("internal: no touched map"))?;
    let dict = DictRef::from_value(dict).ok_or_else(|| anyhow::anyhow!("internal: touched map is not a dict"))?;
    let v = dict.get_str(&touched_key(collection, key));
    Ok(v.map(|v| if v.is_none() { None } else { Some(v) }))
}

fn remember<'v>(eval: &mut Evaluator<'v, '_, '_>, collection: &str, key: &str, value: Value<'v>) -> anyhow::Result<()> {
    let heap = eval.heap();
    let k = heap.alloc_str(&touched_key(collection, key)).to_value();
    let dict = eval.module().get(TOUCHED).ok_or_else(|| anyhow::anyhow!("internal: no touched map"))?;
    let mut dict = starlark::values::dict::DictMut::from_value(dict)?;
    dict.aref.insert_hashed(k.get_hashed().map_err(|e| anyhow::anyhow!("{e}"))?, value);
    ctx(eval)?.touched.borrow_mut().insert((collection.to_owned(), key.to_owned()));
    Ok(())
}

fn check_collection(eval: &Evaluator<'_, '_, '_>, collection: &str) -> anyhow::Result<()> {
    if ctx(eval)?.state.collections().any(|c| c == collection) {
        Ok(())
    } else {
        let known: Vec<&str> = ctx(eval)?.state.collections().collect();
        Err(anyhow::anyhow!("unknown collection `{collection}` (known: {})", known.join(", ")))
    }
}

fn require_writable(eval: &Evaluator<'_, '_, '_>, what: &str) -> anyhow::Result<()> {
    if ctx(eval)?.writable {
        Ok(())
    } else {
        Err(anyhow::anyhow!("db.{what}: this tool is declared `read` and may not write"))
    }
}

/// The current value of a record as a Starlark value, remembered for write-back.
fn load_record<'v>(eval: &mut Evaluator<'v, '_, '_>, collection: &str, key: &str) -> anyhow::Result<Option<Value<'v>>> {
    if let Some(v) = remembered(eval, collection, key)? {
        return Ok(v);
    }
    let Some(record) = ctx(eval)?.state.get(collection, key).cloned() else {
        return Ok(None);
    };
    let v = from_json(eval.heap(), &record)?;
    if ctx(eval)?.writable {
        remember(eval, collection, key, v)?;
    }
    Ok(Some(v))
}

/// A `where` query: field path -> wanted value.
struct Query {
    fields: Vec<(crate::schema::FieldPath, Json)>,
    ignore_case: bool,
}

impl Query {
    fn parse(query: NoneOr<Value<'_>>, ignore_case: bool) -> anyhow::Result<Query> {
        let mut fields = Vec::new();
        if let NoneOr::Other(q) = query {
            let dict =
                DictRef::from_value(q).ok_or_else(|| anyhow::anyhow!("query must be a dict of field -> value"))?;
            for (k, v) in dict.iter() {
                let path = k.unpack_str().ok_or_else(|| anyhow::anyhow!("query keys must be field paths (strings)"))?;
                fields.push((crate::schema::FieldPath::parse(path).map_err(anyhow::Error::msg)?, to_json(v)?));
            }
        }
        Ok(Query { fields, ignore_case })
    }

    fn matches(&self, record: &Json) -> bool {
        self.fields.iter().all(|(path, want)| {
            path.values(record).into_iter().any(|got| match (got, want) {
                (Json::String(a), Json::String(b)) if self.ignore_case => a.to_lowercase() == b.to_lowercase(),
                _ => json_eq(got, want),
            })
        })
    }
}

/// Keys of the records matching `query`, in insertion order, including this call's inserts
/// and excluding its deletes, with this call's in-place changes taken into account. An
/// indexed equality in the query narrows the records looked at.
fn matching_keys(
    eval: &Evaluator<'_, '_, '_>,
    collection: &str,
    query: &Query,
    limit: Option<usize>,
) -> anyhow::Result<Vec<String>> {
    check_collection(eval, collection)?;
    let c = ctx(eval)?;
    let limit = limit.unwrap_or(usize::MAX);
    let touched: Vec<String> =
        c.touched.borrow().iter().filter(|(col, _)| col == collection).map(|(_, k)| k.clone()).collect();
    let current = |key: &str| -> anyhow::Result<Option<Json>> {
        match remembered(eval, collection, key)? {
            Some(Some(v)) => Ok(Some(to_json(v)?)),
            Some(None) => Ok(None),
            None => Ok(c.state.get(collection, key).map(|r| (**r).clone())),
        }
    };
    let is_touched = |key: &str| touched.binary_search_by(|k| k.as_str().cmp(key)).is_ok();
    let indexed = if query.ignore_case {
        None
    } else {
        query.fields.iter().find_map(|(p, v)| c.state.find_eq(collection, p.as_str(), v))
    };
    // (sequence, key) of every hit among the records the state holds.
    let mut hits: Vec<(u64, String)> = Vec::new();
    match indexed {
        Some(records) => {
            for (key, record) in records {
                if !is_touched(key) && query.matches(record) {
                    hits.push((c.state.sequence(collection, key).unwrap_or(u64::MAX), key.to_owned()));
                }
            }
            // Records this call changed may match now (or no longer): look at each of them.
            for key in &touched {
                if let Some(seq) = c.state.sequence(collection, key)
                    && current(key)?.is_some_and(|r| query.matches(&r))
                {
                    hits.push((seq, key.clone()));
                }
            }
            hits.sort_unstable();
        }
        None => {
            for (key, record) in c.state.scan(collection) {
                if hits.len() >= limit {
                    break;
                }
                let hit = if is_touched(key) {
                    current(key)?.is_some_and(|r| query.matches(&r))
                } else {
                    query.matches(record)
                };
                if hit {
                    hits.push((0, key.to_owned()));
                }
            }
        }
    }
    let mut out: Vec<String> = hits.into_iter().map(|(_, k)| k).take(limit).collect();
    // Records inserted by this call come last, in key order.
    for key in touched {
        if out.len() >= limit {
            break;
        }
        if !c.state.contains(collection, &key) && current(&key)?.is_some_and(|r| query.matches(&r)) {
            out.push(key);
        }
    }
    Ok(out)
}

fn require_dict(value: Value<'_>, what: &str) -> anyhow::Result<()> {
    if DictRef::from_value(value).is_some() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("db.{what}: a record must be a dict, got {}", value.get_type()))
    }
}

/// The widest zero-padded number `db.next_key` makes.
const MAX_KEY_WIDTH: i32 = 64;

#[starlark_module]
fn db_api(builder: &mut GlobalsBuilder) {
    /// The record under `key`, or None.
    fn get<'v>(
        #[starlark(require = pos)] collection: &str,
        #[starlark(require = pos)] key: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        check_collection(eval, collection)?;
        Ok(load_record(eval, collection, key)?.unwrap_or_else(Value::new_none))
    }

    /// Whether a record is stored under `key`.
    fn exists<'v>(
        #[starlark(require = pos)] collection: &str,
        #[starlark(require = pos)] key: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<bool> {
        check_collection(eval, collection)?;
        Ok(match remembered(eval, collection, key)? {
            Some(v) => v.is_some(),
            None => ctx(eval)?.state.contains(collection, key),
        })
    }

    /// Keys of matching records, in insertion order.
    fn keys<'v>(
        #[starlark(require = pos)] collection: &str,
        #[starlark(require = pos, default = NoneOr::None)] query: NoneOr<Value<'v>>,
        #[starlark(require = named, default = NoneOr::None)] limit: NoneOr<i32>,
        #[starlark(require = named, default = false)] ignore_case: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let q = Query::parse(query, ignore_case)?;
        let found = matching_keys(eval, collection, &q, limit.into_option().map(|l| l.max(0) as usize))?;
        Ok(eval.heap().alloc(found))
    }

    /// Matching records, in insertion order.
    fn find<'v>(
        #[starlark(require = pos)] collection: &str,
        #[starlark(require = pos, default = NoneOr::None)] query: NoneOr<Value<'v>>,
        #[starlark(require = named, default = NoneOr::None)] limit: NoneOr<i32>,
        #[starlark(require = named, default = false)] ignore_case: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let q = Query::parse(query, ignore_case)?;
        let found = matching_keys(eval, collection, &q, limit.into_option().map(|l| l.max(0) as usize))?;
        let mut out = Vec::with_capacity(found.len());
        for k in found {
            out.push(load_record(eval, collection, &k)?.unwrap_or_else(Value::new_none));
        }
        Ok(eval.heap().alloc(out))
    }

    /// Matching `(key, record)` pairs, in insertion order.
    fn scan<'v>(
        #[starlark(require = pos)] collection: &str,
        #[starlark(require = pos, default = NoneOr::None)] query: NoneOr<Value<'v>>,
        #[starlark(require = named, default = NoneOr::None)] limit: NoneOr<i32>,
        #[starlark(require = named, default = false)] ignore_case: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let q = Query::parse(query, ignore_case)?;
        let found = matching_keys(eval, collection, &q, limit.into_option().map(|l| l.max(0) as usize))?;
        let mut out = Vec::with_capacity(found.len());
        for k in found {
            let record = load_record(eval, collection, &k)?.unwrap_or_else(Value::new_none);
            let key = eval.heap().alloc_str(&k).to_value();
            out.push(eval.heap().alloc((key, record)));
        }
        Ok(eval.heap().alloc(out))
    }

    /// The number of matching records.
    fn count<'v>(
        #[starlark(require = pos)] collection: &str,
        #[starlark(require = pos, default = NoneOr::None)] query: NoneOr<Value<'v>>,
        #[starlark(require = named, default = false)] ignore_case: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<i32> {
        let q = Query::parse(query, ignore_case)?;
        Ok(i32::try_from(matching_keys(eval, collection, &q, None)?.len()).unwrap_or(i32::MAX))
    }

    /// Stores a new record; fails when the key is taken.
    fn insert<'v>(
        #[starlark(require = pos)] collection: &str,
        #[starlark(require = pos)] key: &str,
        #[starlark(require = pos)] record: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        require_writable(eval, "insert")?;
        check_collection(eval, collection)?;
        require_dict(record, "insert")?;
        let exists = match remembered(eval, collection, key)? {
            Some(v) => v.is_some(),
            None => ctx(eval)?.state.contains(collection, key),
        };
        if exists {
            return Err(anyhow::anyhow!("db.insert: `{collection}` already has a record `{key}`"));
        }
        remember(eval, collection, key, record)?;
        Ok(NoneType)
    }

    /// Stores a record, replacing any record under the same key.
    fn put<'v>(
        #[starlark(require = pos)] collection: &str,
        #[starlark(require = pos)] key: &str,
        #[starlark(require = pos)] record: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        require_writable(eval, "put")?;
        check_collection(eval, collection)?;
        require_dict(record, "put")?;
        remember(eval, collection, key, record)?;
        Ok(NoneType)
    }

    /// Removes a record; fails when there is none.
    fn delete<'v>(
        #[starlark(require = pos)] collection: &str,
        #[starlark(require = pos)] key: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        require_writable(eval, "delete")?;
        check_collection(eval, collection)?;
        let exists = match remembered(eval, collection, key)? {
            Some(v) => v.is_some(),
            None => ctx(eval)?.state.contains(collection, key),
        };
        if !exists {
            return Err(anyhow::anyhow!("db.delete: `{collection}` has no record `{key}`"));
        }
        remember(eval, collection, key, Value::new_none())?;
        Ok(NoneType)
    }

    /// The first free key `prefix + n` for n = size + 1, size + 2, ...
    fn next_key<'v>(
        #[starlark(require = pos)] collection: &str,
        #[starlark(require = pos, default = "")] prefix: &str,
        #[starlark(require = named, default = 0)] width: i32,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<String> {
        check_collection(eval, collection)?;
        if !(0..=MAX_KEY_WIDTH).contains(&width) {
            return Err(anyhow::anyhow!("db.next_key: width must be between 0 and {MAX_KEY_WIDTH}, got {width}"));
        }
        let width = usize::try_from(width).unwrap_or(0);
        let c = ctx(eval)?;
        let mut n = c.state.len(collection) + 1;
        loop {
            let key = format!("{prefix}{n:0width$}");
            let taken = match remembered(eval, collection, &key)? {
                Some(v) => v.is_some(),
                None => c.state.contains(collection, &key),
            };
            if !taken {
                return Ok(key);
            }
            n += 1;
        }
    }
}

/// A uniform integer in `0..n` without modulo bias (`n > 0`).
fn below(state: &Cell<SplitMix64>, n: u64) -> u64 {
    let mut rng = state.get();
    let x = rng.below(n);
    state.set(rng);
    x
}

fn sequence_items<'v>(seq: Value<'v>) -> anyhow::Result<Vec<Value<'v>>> {
    if let Some(l) = ListRef::from_value(seq) {
        return Ok(l.content().to_vec());
    }
    if let Some(t) = TupleRef::from_value(seq) {
        return Ok(t.content().to_vec());
    }
    Err(anyhow::anyhow!("expected a list or tuple, got {}", seq.get_type()))
}

#[starlark_module]
fn rng_api(builder: &mut GlobalsBuilder) {
    /// A uniform integer in `[low, high]`.
    fn int<'v>(
        #[starlark(require = pos)] low: i32,
        #[starlark(require = pos)] high: i32,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<i32> {
        if high < low {
            return Err(anyhow::anyhow!("rng.int: high ({high}) < low ({low})"));
        }
        let span = u64::try_from(i64::from(high) - i64::from(low) + 1)?;
        let offset = i64::try_from(below(&ctx(eval)?.rng, span))?;
        Ok(i32::try_from(i64::from(low) + offset)?)
    }

    /// A uniform float in `[0, 1)`.
    fn random<'v>(eval: &mut Evaluator<'v, '_, '_>) -> anyhow::Result<f64> {
        let state = &ctx(eval)?.rng;
        let mut rng = state.get();
        let x = rng.unit();
        state.set(rng);
        Ok(x)
    }

    /// One element of a non-empty list or tuple.
    fn choice<'v>(
        #[starlark(require = pos)] seq: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let items = sequence_items(seq)?;
        if items.is_empty() {
            return Err(anyhow::anyhow!("rng.choice: empty sequence"));
        }
        let i = usize::try_from(below(&ctx(eval)?.rng, items.len() as u64))?;
        Ok(items[i])
    }

    /// `k` distinct elements of a list or tuple, in random order.
    fn sample<'v>(
        #[starlark(require = pos)] seq: Value<'v>,
        #[starlark(require = pos)] k: i32,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let mut items = sequence_items(seq)?;
        let k = usize::try_from(k).map_err(|_| anyhow::anyhow!("rng.sample: negative k"))?;
        if k > items.len() {
            return Err(anyhow::anyhow!("rng.sample: k ({k}) is larger than the sequence ({})", items.len()));
        }
        let rng = &ctx(eval)?.rng;
        for i in 0..k {
            let j = i + usize::try_from(below(rng, (items.len() - i) as u64))?;
            items.swap(i, j);
        }
        items.truncate(k);
        Ok(eval.heap().alloc(items))
    }
}

fn python_round(x: f64, ndigits: i32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if ndigits >= 0 {
        // Rust prints the exact binary value rounded half-to-even at the requested digit,
        // and parsing is correctly rounded: the same two steps Python's float.__round__ takes.
        let digits = usize::try_from(ndigits.min(340)).unwrap_or(340);
        format!("{x:.digits$}").parse().unwrap_or(x)
    } else {
        let p = 10f64.powi(-ndigits);
        (x / p).round_ties_even() * p
    }
}

/// Python's `repr`/`str` of a float: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in (-4, 16], else scientific (`1e+16`, `1.5e-05`),
/// with `.0` added to integral values.
pub(crate) fn python_float_str(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".to_owned() } else { "-inf".to_owned() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0".to_owned() } else { "0.0".to_owned() };
    }
    // Rust's `{:e}` prints the shortest round-trip digits: "-1.2345e3".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x < 0.0 { "-" } else { "" };
    let decpt = exp + 1;
    let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if -4 < decpt && decpt <= 16 {
        let body = if decpt <= 0 {
            format!("0.{}{digits}", "0".repeat(usize::try_from(-decpt).unwrap_or(0)))
        } else if decpt >= n {
            format!("{digits}{}.0", "0".repeat(usize::try_from(decpt - n).unwrap_or(0)))
        } else {
            let (a, b) = digits.split_at(usize::try_from(decpt).unwrap_or(0));
            format!("{a}.{b}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let m = if rest.is_empty() { first.to_owned() } else { format!("{first}.{rest}") };
        format!("{sign}{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

#[starlark_module]
fn python_builtins(builder: &mut GlobalsBuilder) {
    /// Python's `str()` of a number as a float (`3.0`, `12.5`, `1e+16`).
    fn float_str<'v>(#[starlark(require = pos)] x: Value<'v>) -> anyhow::Result<String> {
        let UnpackFloat(f) = UnpackFloat::unpack_value_err(x).map_err(|e| anyhow::anyhow!("float_str: {e}"))?;
        Ok(python_float_str(f))
    }

    /// Python's `x ** y` for ints and floats (an int result is exact while it fits in 64
    /// bits, then falls back to a float).
    fn pow<'v>(
        #[starlark(require = pos)] x: Value<'v>,
        #[starlark(require = pos)] y: Value<'v>,
        heap: Heap<'v>,
    ) -> anyhow::Result<Value<'v>> {
        let as_float =
            |v: Value<'v>| UnpackFloat::unpack_value_err(v).map(|u| u.0).map_err(|e| anyhow::anyhow!("pow: {e}"));
        let (fx, fy) = (as_float(x)?, as_float(y)?);
        if let (Some(a), Some(b)) = (x.unpack_i32(), y.unpack_i32())
            && b >= 0
            && let Some(r) = i64::from(a).checked_pow(u32::try_from(b).unwrap_or(u32::MAX))
        {
            return Ok(heap.alloc(r));
        }
        if fx == 0.0 && fy < 0.0 {
            return Err(anyhow::anyhow!("0.0 cannot be raised to a negative power"));
        }
        if fx < 0.0 && fy.fract() != 0.0 {
            return Err(anyhow::anyhow!("can't convert complex to float"));
        }
        let r = fx.powf(fy);
        if r.is_infinite() {
            return Err(anyhow::anyhow!("(34, 'Numerical result out of range')"));
        }
        Ok(heap.alloc(r))
    }

    /// Python's `round`: half to even, on the exact binary value.
    fn round<'v>(
        #[starlark(require = pos)] number: Value<'v>,
        #[starlark(require = pos, default = NoneOr::None)] ndigits: NoneOr<i32>,
        heap: Heap<'v>,
    ) -> anyhow::Result<Value<'v>> {
        if number.unpack_i32().is_some() || number.get_type() == "int" {
            return Ok(number);
        }
        let UnpackFloat(x) = UnpackFloat::unpack_value_err(number).map_err(|e| anyhow::anyhow!("round: {e}"))?;
        Ok(match ndigits {
            NoneOr::None => {
                let r = x.round_ties_even();
                if !r.is_finite() {
                    return Err(anyhow::anyhow!("round: cannot convert {x} to an integer"));
                }
                #[allow(clippy::cast_possible_truncation)]
                heap.alloc(r as i64)
            }
            NoneOr::Other(n) => heap.alloc(python_round(x, n)),
        })
    }

    /// Python's `sum`: `start + x1 + x2 + ...`, added in order.
    fn sum<'v>(
        #[starlark(require = pos)] items: Value<'v>,
        #[starlark(require = pos, default = NoneOr::None)] start: NoneOr<Value<'v>>,
        heap: Heap<'v>,
    ) -> starlark::Result<Value<'v>> {
        let mut total = start.into_option().unwrap_or_else(|| heap.alloc(0));
        for x in items.iterate(heap)? {
            total = total.add(x, heap)?;
        }
        Ok(total)
    }

    /// `a * b` with a guard: a repetition may not produce more than the sequence limit.
    fn __ws_mul<'v>(
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let repeated = |seq: Value<'v>, n: Value<'v>| -> Option<(usize, i64)> {
            let len = if let Some(s) = seq.unpack_str() {
                s.len()
            } else if let Some(l) = ListRef::from_value(seq) {
                l.len()
            } else if let Some(t) = TupleRef::from_value(seq) {
                t.len()
            } else {
                return None;
            };
            n.unpack_i32().map(|n| (len, i64::from(n)))
        };
        if let Some((len, n)) = repeated(a, b).or_else(|| repeated(b, a)) {
            let max = ctx(eval).map_or(Limits::default().max_sequence, |c| c.limits.max_sequence);
            let size = (len as u128) * u128::try_from(n.max(0)).unwrap_or(0);
            if size > max as u128 {
                return Err(starlark::Error::new_native(limit_error(format!(
                    "repetition would create {size} elements, more than the limit of {max}"
                ))));
            }
        }
        a.mul(b, eval.heap())
    }

    /// `a + b` with a guard: a concatenation may not pass the heap limit.
    fn __ws_add<'v>(
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        if a.unpack_i32().is_none() {
            let size = if let (Some(x), Some(y)) = (a.unpack_str(), b.unpack_str()) {
                Some(x.len() + y.len())
            } else if let (Some(x), Some(y)) = (ListRef::from_value(a), ListRef::from_value(b)) {
                Some((x.len() + y.len()) * 8)
            } else if let (Some(x), Some(y)) = (TupleRef::from_value(a), TupleRef::from_value(b)) {
                Some((x.len() + y.len()) * 8)
            } else {
                None
            };
            if let Some(size) = size {
                check_alloc(eval, size, "concatenation")?;
            }
        }
        a.add(b, eval.heap())
    }

    /// `a % b` with a guard: string formatting may not pass the heap limit.
    fn __ws_mod<'v>(
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        if let Some(f) = a.unpack_str() {
            let budget = alloc_budget(eval);
            let widest = if let Some(t) = TupleRef::from_value(b) {
                t.content().iter().map(|x| rendered_size(*x, budget)).max().unwrap_or(0)
            } else if let Some(d) = DictRef::from_value(b) {
                d.iter().map(|(_, x)| rendered_size(x, budget)).max().unwrap_or(0)
            } else {
                rendered_size(b, budget)
            };
            let size = f.len().saturating_add(f.matches('%').count().saturating_mul(widest));
            check_alloc(eval, size, "`%` formatting")?;
        }
        a.percent(b, eval.heap())
    }

    /// `x.name(args)` for the methods in `GUARDED_METHODS`, checking the result's size first.
    fn __ws_method<'v>(
        #[starlark(require = pos)] object: Value<'v>,
        #[starlark(require = pos)] name: &str,
        #[starlark(args)] args: UnpackTuple<Value<'v>>,
        #[starlark(kwargs)] kwargs: DictRef<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let budget = alloc_budget(eval);
        let args = args.items;
        match (object.unpack_str(), name) {
            (Some(s), "replace") => {
                if let (Some(old), Some(new)) =
                    (args.first().and_then(|v| v.unpack_str()), args.get(1).and_then(|v| v.unpack_str()))
                {
                    let mut count = if old.is_empty() { s.chars().count() + 1 } else { s.matches(old).count() };
                    if let Some(n) = args.get(2).and_then(|v| v.unpack_i32())
                        && n >= 0
                    {
                        count = count.min(usize::try_from(n).unwrap_or(0));
                    }
                    let size = s.len().saturating_add(count.saturating_mul(new.len()));
                    check_alloc(eval, size, "str.replace")?;
                }
            }
            (Some(sep), "join") => {
                if let Some(items) = args.first() {
                    let mut size = 0usize;
                    for x in items.iterate(eval.heap())? {
                        size = size.saturating_add(x.unpack_str().map_or(0, str::len)).saturating_add(sep.len());
                        if size > budget {
                            break;
                        }
                    }
                    check_alloc(eval, size, "str.join")?;
                }
            }
            (Some(f), "format") => {
                let widest = args
                    .iter()
                    .copied()
                    .chain(kwargs.iter().map(|(_, v)| v))
                    .map(|x| rendered_size(x, budget))
                    .max()
                    .unwrap_or(0);
                let size = f.len().saturating_add(f.matches('{').count().saturating_mul(widest));
                check_alloc(eval, size, "str.format")?;
            }
            (_, "encode") => {
                if let Some(x) = args.first() {
                    check_alloc(eval, rendered_size(*x, budget), "json.encode")?;
                }
            }
            _ => {}
        }
        let method = object.get_attr_error(name, eval.heap())?;
        let named: Vec<(&str, Value<'v>)> = kwargs.iter().filter_map(|(k, v)| k.unpack_str().map(|k| (k, v))).collect();
        eval.eval_function(method, &args, &named)
    }

    /// Starlark's `str`, checking the result's size first.
    fn __ws_str<'v>(
        #[starlark(require = pos)] x: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        if x.unpack_str().is_some() {
            return Ok(x);
        }
        check_alloc(eval, rendered_size(x, alloc_budget(eval)), "str()")?;
        let original = eval.heap().access_owned_frozen_value(standard_builtin("str"));
        eval.eval_function(original, &[x], &[])
    }

    /// Starlark's `repr`, checking the result's size first.
    fn __ws_repr<'v>(
        #[starlark(require = pos)] x: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        check_alloc(eval, rendered_size(x, alloc_budget(eval)), "repr()")?;
        let original = eval.heap().access_owned_frozen_value(standard_builtin("repr"));
        eval.eval_function(original, &[x], &[])
    }

    /// Starlark's `range`, refusing ranges longer than the sequence limit.
    fn range<'v>(
        #[starlark(require = pos)] a: i32,
        #[starlark(require = pos, default = NoneOr::None)] b: NoneOr<i32>,
        #[starlark(require = pos, default = 1)] step: i32,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let (start, stop) = match b {
            NoneOr::None => (0, a),
            NoneOr::Other(b) => (a, b),
        };
        if step == 0 {
            return Err(starlark::Error::new_native(anyhow::anyhow!("range: step must not be zero")));
        }
        let len = ((i64::from(stop) - i64::from(start)) / i64::from(step)).max(0);
        let max = ctx(eval).map_or(Limits::default().max_sequence, |c| c.limits.max_sequence);
        if len > max as i64 {
            return Err(starlark::Error::new_native(limit_error(format!(
                "range of {len} elements is more than the limit of {max}"
            ))));
        }
        let original = eval.heap().access_owned_frozen_value(standard_builtin("range"));
        let args = [eval.heap().alloc(start), eval.heap().alloc(stop), eval.heap().alloc(step)];
        eval.eval_function(original, &args, &[])
    }
}

/// Methods whose result can be far larger than their inputs (`"a".replace("a", big)`,
/// `sep.join([s] * n)`, `"{}{}".format(s, s)`, `json.encode(dag)`): calls to them are routed
/// through `__ws_method`, which checks the result's size before it is built.
const GUARDED_METHODS: [&str; 4] = ["replace", "join", "format", "encode"];
/// Global functions wrapped the same way (`str([s] * n)`).
const GUARDED_FUNCTIONS: [(&str, &str); 2] = [("str", "__ws_str"), ("repr", "__ws_repr")];

/// Rewrites the source so each call of a guarded method `x.m(args)` becomes
/// `__ws_method(x, "m", args)` and each call of `str`/`repr` goes to its guarded twin. Only
/// characters within lines are inserted, so line numbers in messages stay right.
fn guard_calls(source: &str, ast: &AstModule) -> String {
    use starlark::syntax::ast::{AstExpr, ExprP};
    // (position, bytes replaced from there, text inserted), in source order of visits.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let bytes = source.as_bytes();
    fn visit(e: &AstExpr, bytes: &[u8], edits: &mut Vec<(usize, usize, String)>) {
        if let ExprP::Call(callee, args) = &e.node {
            match &callee.node {
                ExprP::Dot(object, name) if GUARDED_METHODS.contains(&name.node.as_str()) => {
                    let (obj_begin, obj_end) = (object.span.begin().get() as usize, object.span.end().get() as usize);
                    let name_begin = name.span.begin().get() as usize;
                    let name_end = name.span.end().get() as usize;
                    // Parentheses around the object (`(a + b).join(...)`) lie outside its span.
                    let closing = bytes[obj_end..name_begin].iter().filter(|&&b| b == b')').count();
                    let mut start = obj_begin;
                    let mut open = 0;
                    while open < closing && start > 0 {
                        start -= 1;
                        match bytes[start] {
                            b'(' => open += 1,
                            b if b.is_ascii_whitespace() => {}
                            _ => return,
                        }
                    }
                    let mut paren = name_end;
                    while paren < bytes.len() && bytes[paren].is_ascii_whitespace() {
                        paren += 1;
                    }
                    if open != closing || bytes.get(paren) != Some(&b'(') {
                        return;
                    }
                    let sep = if args.args.is_empty() { "" } else { ", " };
                    let Some(dot) = bytes[obj_end..name_begin].iter().rposition(|&b| b == b'.').map(|i| obj_end + i)
                    else {
                        return;
                    };
                    edits.push((start, 0, "__ws_method(".to_owned()));
                    edits.push((dot, paren + 1 - dot, format!(", \"{}\"{sep}", name.node)));
                    for a in &args.args {
                        visit_arg(a, bytes, edits);
                    }
                    visit(object, bytes, edits);
                    return;
                }
                ExprP::Identifier(id) => {
                    if let Some((_, to)) = GUARDED_FUNCTIONS.iter().find(|(from, _)| *from == id.node.ident) {
                        let begin = callee.span.begin().get() as usize;
                        edits.push((begin, callee.span.end().get() as usize - begin, (*to).to_owned()));
                    }
                }
                _ => {}
            }
        }
        e.visit_expr(|x| visit(x, bytes, edits));
    }
    fn visit_arg(a: &starlark::syntax::ast::AstArgument, bytes: &[u8], edits: &mut Vec<(usize, usize, String)>) {
        use starlark::syntax::ast::ArgumentP;
        match &a.node {
            ArgumentP::Positional(x) | ArgumentP::Named(_, x) | ArgumentP::Args(x) | ArgumentP::KwArgs(x) => {
                visit(x, bytes, edits);
            }
        }
    }
    ast.statement().visit_expr(|x| visit(x, bytes, &mut edits));
    if edits.is_empty() {
        return source.to_owned();
    }
    // Stable: inserts at one position keep their visiting order (outer calls first).
    edits.sort_by_key(|(at, _, _)| *at);
    let mut out = String::with_capacity(source.len() + edits.len() * 16);
    let mut at = 0;
    for (pos, len, text) in edits {
        if pos < at {
            // Overlapping edits cannot happen for well-formed spans; leave the source alone.
            return source.to_owned();
        }
        out.push_str(&source[at..pos]);
        out.push_str(&text);
        at = pos + len;
    }
    out.push_str(&source[at..]);
    out
}

/// About how many bytes `str(v)` or `repr(v)` would take, counting shared and cyclic parts
/// each time they are reached, as printing does; stops counting past `budget`.
fn rendered_size(v: Value<'_>, budget: usize) -> usize {
    fn walk(v: Value<'_>, depth: usize, total: &mut usize, budget: usize) {
        if *total > budget {
            return;
        }
        if let Some(s) = v.unpack_str() {
            *total += s.len() + 2;
            return;
        }
        *total += 8;
        if depth > 64 {
            return;
        }
        let mut each = |x: Value<'_>| walk(x, depth + 1, total, budget);
        if let Some(l) = ListRef::from_value(v) {
            l.content().iter().for_each(|x| each(*x));
        } else if let Some(t) = TupleRef::from_value(v) {
            t.content().iter().for_each(|x| each(*x));
        } else if let Some(d) = DictRef::from_value(v) {
            for (k, x) in d.iter() {
                each(k);
                each(x);
            }
        } else if let Some(st) = starlark::values::structs::StructRef::from_value(v) {
            for (k, x) in st.iter() {
                each(k.to_value());
                each(x);
            }
        } else if v.get_type() == "int" {
            *total += 16;
        }
    }
    let mut total = 0;
    walk(v, 0, &mut total, budget);
    total
}

/// Fails with a limit error when building `size` more bytes would pass the heap limit.
fn check_alloc(eval: &Evaluator<'_, '_, '_>, size: usize, what: &str) -> starlark::Result<()> {
    let limit = ctx(eval).map_or(Limits::default().heap_bytes, |c| c.limits.heap_bytes);
    let left = limit.saturating_sub(eval.heap().allocated_bytes());
    if size > left {
        return Err(starlark::Error::new_native(limit_error(format!(
            "{what} would build about {size} bytes, more than the {left} bytes left under the heap limit of {limit}"
        ))));
    }
    Ok(())
}

/// The heap budget the size estimates stop at.
fn alloc_budget(eval: &Evaluator<'_, '_, '_>) -> usize {
    ctx(eval).map_or(Limits::default().heap_bytes, |c| c.limits.heap_bytes)
}

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

fn find_augmented_multiply(stmt: &AstStmt, found: &mut Option<starlark::codemap::Span>) {
    if let StmtP::AssignModify(_, AssignOp::Multiply, _) = &stmt.node {
        found.get_or_insert(stmt.span);
    }
    stmt.visit_stmt(|s| find_augmented_multiply(s, found));
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

/// Checks the heap before every statement. Starlark's own heap check runs only every 1,000
/// ticks, and a loop that doubles a string needs far fewer ticks to exhaust the host.
struct HeapGuard {
    limit: usize,
}

impl<'e> starlark::eval::BeforeStmtFuncDyn<'e> for HeapGuard {
    fn call<'v>(
        &mut self,
        _span: starlark::codemap::FileSpanRef,
        _continued: bool,
        eval: &mut Evaluator<'v, '_, 'e>,
    ) -> starlark::Result<()> {
        let used = eval.heap().allocated_bytes();
        if used > self.limit {
            return Err(starlark::Error::new_native(limit_error(format!(
                "heap limit of {} bytes exceeded ({used} bytes in use)",
                self.limit
            ))));
        }
        Ok(())
    }
}

fn configure(eval: &mut Evaluator<'_, '_, '_>, limits: Limits) {
    // Each setter fails only when called twice or with zero; the limits are never zero.
    let _ = eval.set_max_tick_count(limits.ticks.max(1));
    let _ = eval.set_max_heap_size(limits.heap_bytes.max(1));
    let _ = eval.set_max_callstack_size(limits.call_depth.max(1));
    eval.before_stmt_for_dap(starlark::eval::BeforeStmtFunc::from_dyn(Box::new(HeapGuard {
        limit: limits.heap_bytes,
    })));
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

/// How a script's function is called: a tool with keyword arguments, a generator with its
/// parameters.
enum Invocation<'a> {
    Keywords(&'a serde_json::Map<String, Json>),
    Positional(&'a serde_json::Map<String, Json>),
}

/// The deepest nesting a script value may have to become JSON (deeper means it most likely
/// contains itself: `l.append(l)`).
const MAX_JSON_DEPTH: usize = 128;
/// About how many bytes of JSON a script value may become (shared parts count each time).
const MAX_JSON_BYTES: usize = 256 << 20;

/// Converts a Starlark value to JSON directly (dicts with string keys, lists, tuples,
/// strings, ints, floats, bools, None, structs), falling back to starlark's serializer for
/// anything else (big ints). Faster than the generic serializer, which goes through
/// `erased_serde`. A value that contains itself, nests deeper than `MAX_JSON_DEPTH` or
/// would expand past `MAX_JSON_BYTES` is an error, not a stack overflow.
fn to_json(v: Value<'_>) -> anyhow::Result<Json> {
    let mut budget = MAX_JSON_BYTES;
    to_json_at(v, 0, &mut budget)
}

fn to_json_at(v: Value<'_>, depth: usize, budget: &mut usize) -> anyhow::Result<Json> {
    let mut spend = |n: usize| -> anyhow::Result<()> {
        *budget = budget.checked_sub(n).ok_or_else(|| {
            anyhow::anyhow!("the value is larger than {MAX_JSON_BYTES} bytes as JSON (does it repeat a big part?)")
        })?;
        Ok(())
    };
    spend(8)?;
    if v.is_none() {
        return Ok(Json::Null);
    }
    if let Some(b) = v.unpack_bool() {
        return Ok(Json::Bool(b));
    }
    if let Some(i) = v.unpack_i32() {
        return Ok(Json::from(i));
    }
    if let Some(s) = v.unpack_str() {
        spend(s.len())?;
        return Ok(Json::String(s.to_owned()));
    }
    if let Some(f) = v.downcast_ref::<starlark::values::float::StarlarkFloat>() {
        return serde_json::Number::from_f64(f.0)
            .map(Json::Number)
            .ok_or_else(|| anyhow::anyhow!("{} is not a JSON number", f.0));
    }
    let nested = |x: Value<'_>, budget: &mut usize| {
        if depth >= MAX_JSON_DEPTH {
            Err(anyhow::anyhow!("the value nests deeper than {MAX_JSON_DEPTH} levels (does it contain itself?)"))
        } else {
            to_json_at(x, depth + 1, budget)
        }
    };
    if let Some(d) = DictRef::from_value(v) {
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, x) in d.iter() {
            let key = k
                .unpack_str()
                .ok_or_else(|| anyhow::anyhow!("dict keys must be strings to be JSON, got {}", k.get_type()))?;
            map.insert(key.to_owned(), nested(x, budget)?);
        }
        return Ok(Json::Object(map));
    }
    if let Some(l) = ListRef::from_value(v) {
        return l.content().iter().map(|x| nested(*x, budget)).collect::<anyhow::Result<Vec<_>>>().map(Json::Array);
    }
    if let Some(t) = TupleRef::from_value(v) {
        return t.content().iter().map(|x| nested(*x, budget)).collect::<anyhow::Result<Vec<_>>>().map(Json::Array);
    }
    if let Some(st) = starlark::values::structs::StructRef::from_value(v) {
        let mut map = serde_json::Map::with_capacity(st.iter().len());
        for (k, x) in st.iter() {
            map.insert(k.as_str().to_owned(), nested(x, budget)?);
        }
        return Ok(Json::Object(map));
    }
    v.to_json_value()
}

/// Converts JSON to a Starlark value. Numbers that fit no Starlark number (`1e400`, an
/// integer of 400 digits) are an error, where starlark's own conversion panics.
fn from_json<'v>(heap: Heap<'v>, j: &Json) -> anyhow::Result<Value<'v>> {
    Ok(match j {
        Json::Null => Value::new_none(),
        Json::Bool(b) => Value::new_bool(*b),
        Json::String(s) => heap.alloc_str(s).to_value(),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                heap.alloc(i)
            } else if let Some(u) = n.as_u64() {
                heap.alloc(u)
            } else {
                match n.as_f64() {
                    Some(f) if f.is_finite() => heap.alloc(f),
                    _ => {
                        return Err(anyhow::anyhow!(
                            "number {} is out of range",
                            crate::error::quote_prefix(&n.to_string())
                        ));
                    }
                }
            }
        }
        Json::Array(items) => {
            let values = items.iter().map(|x| from_json(heap, x)).collect::<anyhow::Result<Vec<_>>>()?;
            heap.alloc(values)
        }
        Json::Object(map) => {
            let mut pairs = Vec::with_capacity(map.len());
            for (k, x) in map {
                pairs.push((heap.alloc_str(k).to_value(), from_json(heap, x)?));
            }
            heap.alloc(AllocDict(pairs))
        }
    })
}

/// Whether a Starlark value equals a JSON value (numbers by value, as `json_eq`), without
/// building JSON: most records a call reads come back unchanged.
fn same_as_json(v: Value<'_>, j: &Json) -> bool {
    match j {
        Json::Null => v.is_none(),
        Json::Bool(b) => v.unpack_bool() == Some(*b),
        Json::String(s) => v.unpack_str() == Some(s.as_str()),
        Json::Number(n) => {
            let mine = if let Some(i) = v.unpack_i32() {
                serde_json::Number::from(i)
            } else if let Some(f) = v.downcast_ref::<starlark::values::float::StarlarkFloat>() {
                match serde_json::Number::from_f64(f.0) {
                    Some(n) => n,
                    None => return false,
                }
            } else {
                return to_json(v).is_ok_and(|x| json_eq(&x, j));
            };
            worldsmith_core::canonical::number_eq(&mine, n)
        }
        Json::Array(items) => match ListRef::from_value(v) {
            Some(l) => l.len() == items.len() && l.content().iter().zip(items).all(|(x, y)| same_as_json(*x, y)),
            None => false,
        },
        Json::Object(map) => match DictRef::from_value(v) {
            Some(d) => {
                d.len() == map.len() && map.iter().all(|(k, y)| d.get_str(k).is_some_and(|x| same_as_json(x, y)))
            }
            None => false,
        },
    }
}

/// A record a script call wants to write: its new value, or `None` to delete it.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    pub collection: String,
    pub key: String,
    pub value: Option<Json>,
}

#[cfg(test)]
mod tests {
    use super::python_round;

    #[test]
    fn float_str_matches_python() {
        use super::python_float_str as f;
        // Values checked against CPython 3.11's str(float).
        let cases = [
            (3.0, "3.0"),
            (12.5, "12.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e22, "1e+22"),
            (-0.0, "-0.0"),
            (123.456, "123.456"),
            (5e300, "5e+300"),
        ];
        for (x, want) in cases {
            assert_eq!(f(x), want, "{x}");
        }
    }

    #[test]
    fn round_matches_python() {
        // Values checked against CPython 3.11's round(x, 2).
        assert_eq!(python_round(0.125, 2), 0.12);
        assert_eq!(python_round(0.375, 2), 0.38);
        assert_eq!(python_round(2.675, 2), 2.67);
        assert_eq!(python_round(1.005, 2), 1.0);
        assert_eq!(python_round(-0.125, 2), -0.12);
        assert_eq!(python_round(123.456, 0), 123.0);
        assert_eq!(python_round(1234.5, -1), 1230.0);
    }
}
