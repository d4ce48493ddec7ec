//! The `rng` namespace: seeded random numbers for data generators, drawn from the call's
//! `SplitMix64`.

use super::ctx;
use super::loader::{dialect, globals};
use starlark::environment::{GlobalsBuilder, Module};
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::syntax::AstModule;
use starlark::values::Value;
use starlark::values::list::ListRef;
use starlark::values::tuple::TupleRef;
use std::cell::Cell;
use std::sync::OnceLock;
use worldsmith_core::rng::SplitMix64;

/// The `rng` namespace as a value, passed to generators as their first argument.
pub(super) fn rng_value() -> &'static starlark::values::OwnedFrozenValue {
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
pub(super) fn rng_api(builder: &mut GlobalsBuilder) {
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
