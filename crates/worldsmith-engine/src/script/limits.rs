//! The limits of a script call and what enforces them: [`Limits`] itself, the evaluator
//! settings (ticks, heap, call depth) and the heap check before every statement, and the
//! guarded twins of `*`, `+`, `%`, `str`, `repr`, `range` and the size-prone methods, which
//! the loader's rewrite routes calls to so a result's size is checked before it is built.

use super::ctx;
use starlark::environment::{Globals, GlobalsBuilder, Module};
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::syntax::{AstModule, Dialect};
use starlark::values::Value;
use starlark::values::dict::DictRef;
use starlark::values::list::ListRef;
use starlark::values::none::NoneOr;
use starlark::values::tuple::{TupleRef, UnpackTuple};
use std::collections::BTreeMap;
use std::sync::OnceLock;

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

/// What a limit error's message starts with, so `classify` can tell it from a script's bug.
pub(super) const LIMIT_PREFIX: &str = "limit exceeded: ";

fn limit_error(message: String) -> anyhow::Error {
    anyhow::anyhow!("{LIMIT_PREFIX}{message}")
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

pub(super) fn configure(eval: &mut Evaluator<'_, '_, '_>, limits: Limits) {
    // Each setter fails only when called twice or with zero; the limits are never zero.
    let _ = eval.set_max_tick_count(limits.ticks.max(1));
    let _ = eval.set_max_heap_size(limits.heap_bytes.max(1));
    let _ = eval.set_max_callstack_size(limits.call_depth.max(1));
    eval.before_stmt_for_dap(starlark::eval::BeforeStmtFunc::from_dyn(Box::new(HeapGuard {
        limit: limits.heap_bytes,
    })));
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

/// The guarded twins of Starlark's operators and of the functions and methods whose result
/// can be far larger than their inputs.
#[starlark_module]
pub(super) fn guarded_builtins(builder: &mut GlobalsBuilder) {
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
