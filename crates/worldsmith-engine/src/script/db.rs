//! The `db` namespace scripts read and write records through, and the per-call memory of the
//! records it handed out (the module's `__ws_touched` dict) that is written back on success.

use super::convert::{from_json, to_json};
use super::ctx;
use serde_json::Value as Json;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::dict::DictRef;
use starlark::values::none::{NoneOr, NoneType};
use worldsmith_core::canonical::json_eq;

/// The module variable holding the records this call handed out: a dict from
/// `collection NUL key` to the record, or None for a deleted one.
pub(super) const TOUCHED: &str = "__ws_touched";

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
pub(super) fn db_api(builder: &mut GlobalsBuilder) {
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
