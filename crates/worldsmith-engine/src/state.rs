//! World state: named collections of JSON records keyed by a primary key.
//!
//! Every collection is a pair of persistent ordered maps (`rpds`): key -> (sequence, hash)
//! and sequence -> (key, record). Cloning a [`State`] therefore copies no data: a fork is a
//! handful of reference-count increments, and the fork and its parent share every record
//! until one of them writes. The sequence number remembers insertion order, so scans return
//! records in the order they were first inserted (an update keeps a record's place).
//!
//! The state digest ([`Digest`]) is maintained on every write: the old record's hash is
//! subtracted and the new one added, so [`State::digest`] is O(1).

use crate::schema::FieldPath;
use rpds::RedBlackTreeMapSync;
use serde_json::Value;
use std::sync::Arc;
use worldsmith_core::Digest;
use worldsmith_core::canonical::canonical_json;

use worldsmith_core::task::ChangedRecords;

/// A record as the state stores it: shared and immutable.
pub type Record = Arc<Value>;

/// A stored record with its key and its hash (its contribution to the digest).
#[derive(Clone)]
struct Entry {
    key: Arc<str>,
    record: Record,
    hash: Digest,
}

#[derive(Clone, Default)]
struct Collection {
    /// Key -> insertion sequence. Never changes when a record is replaced, so a
    /// replacement updates only `by_seq`.
    by_key: RedBlackTreeMapSync<Arc<str>, u64>,
    by_seq: RedBlackTreeMapSync<u64, Entry>,
    next_seq: u64,
    digest: Digest,
    indexes: Vec<FieldIndex>,
}

/// A secondary index on one field: (canonical JSON of the value, sequence) for every record
/// that has the field, so an equality lookup returns its records in insertion order.
#[derive(Clone)]
struct FieldIndex {
    path: Arc<FieldPath>,
    entries: RedBlackTreeMapSync<(String, u64), ()>,
}

impl FieldIndex {
    fn entry(&self, record: &Value, seq: u64) -> Option<(String, u64)> {
        self.path.value(record).map(|v| (canonical_json(v), seq))
    }
}

/// The records of a world at one moment. Cheap to clone (a fork); see the module docs.
#[derive(Clone)]
pub struct State {
    names: Arc<[Arc<str>]>,
    collections: Arc<Vec<Collection>>,
    digest: Digest,
}

/// A write named a collection the state does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown collection `{0}`")]
pub struct UnknownCollection(pub String);

impl State {
    /// An empty state with the given collections (in this order).
    #[must_use]
    pub fn new<S: AsRef<str>>(collections: &[S]) -> State {
        let names: Vec<Arc<str>> = collections.iter().map(|c| Arc::from(c.as_ref())).collect();
        let collections = vec![Collection::default(); names.len()];
        State { names: names.into(), collections: Arc::new(collections), digest: Digest::default() }
    }

    /// Adds a secondary index on `path` (a dotted path without `[]`) of `collection`, so
    /// equality lookups on it ([`State::find_eq`]) do not scan. Existing records are indexed.
    ///
    /// # Errors
    /// When the collection does not exist or the path steps into arrays.
    pub fn add_index(&mut self, collection: &str, path: FieldPath) -> Result<(), String> {
        if !path.is_single() {
            return Err(format!("cannot index `{}`: an index path may not contain `[]`", path.as_str()));
        }
        let i = self.index(collection).ok_or_else(|| UnknownCollection(collection.to_owned()).to_string())?;
        let c = &mut Arc::make_mut(&mut self.collections)[i];
        if c.indexes.iter().any(|x| x.path.as_str() == path.as_str()) {
            return Ok(());
        }
        let mut index = FieldIndex { path: Arc::new(path), entries: RedBlackTreeMapSync::new_sync() };
        for (seq, entry) in &c.by_seq {
            if let Some(e) = index.entry(&entry.record, *seq) {
                index.entries.insert_mut(e, ());
            }
        }
        c.indexes.push(index);
        Ok(())
    }

    /// The records whose field at `path` equals `value` (numbers by value), in insertion
    /// order, when that field is indexed; `None` when it is not (the caller scans).
    #[must_use]
    pub fn find_eq(&self, collection: &str, path: &str, value: &Value) -> Option<Vec<(&str, &Record)>> {
        let c = &self.collections[self.index(collection)?];
        let index = c.indexes.iter().find(|x| x.path.as_str() == path)?;
        let wanted = canonical_json(value);
        let range = (wanted.clone(), 0)..=(wanted, u64::MAX);
        Some(
            index
                .entries
                .range(range)
                .filter_map(|((_, seq), ())| c.by_seq.get(seq).map(|e| (&*e.key, &e.record)))
                .collect(),
        )
    }

    /// Whether equality lookups on `path` of `collection` use an index.
    #[must_use]
    pub fn is_indexed(&self, collection: &str, path: &str) -> bool {
        self.index(collection).is_some_and(|i| self.collections[i].indexes.iter().any(|x| x.path.as_str() == path))
    }

    /// The insertion sequence number of a record (its position in scans).
    #[must_use]
    pub fn sequence(&self, collection: &str, key: &str) -> Option<u64> {
        let c = &self.collections[self.index(collection)?];
        c.by_key.get(key).copied()
    }

    fn index(&self, collection: &str) -> Option<usize> {
        self.names.iter().position(|n| &**n == collection)
    }

    /// The collection names, in schema order.
    pub fn collections(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| &**n)
    }

    /// The digest of the whole state (see [`worldsmith_core::digest`]).
    #[must_use]
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The digest of one collection's records, if the collection exists.
    #[must_use]
    pub fn collection_digest(&self, collection: &str) -> Option<Digest> {
        self.index(collection).map(|i| self.collections[i].digest)
    }

    /// The number of records in a collection (0 for an unknown one).
    #[must_use]
    pub fn len(&self, collection: &str) -> usize {
        self.index(collection).map_or(0, |i| self.collections[i].by_key.size())
    }

    /// The number of records in all collections.
    #[must_use]
    pub fn total_len(&self) -> usize {
        self.collections.iter().map(|c| c.by_key.size()).sum()
    }

    /// Whether the state holds no record at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.total_len() == 0
    }

    /// The record stored under `key`, if any.
    #[must_use]
    pub fn get(&self, collection: &str, key: &str) -> Option<&Record> {
        let c = &self.collections[self.index(collection)?];
        let seq = c.by_key.get(key)?;
        c.by_seq.get(seq).map(|e| &e.record)
    }

    /// Whether a record is stored under `key`.
    #[must_use]
    pub fn contains(&self, collection: &str, key: &str) -> bool {
        self.index(collection).is_some_and(|i| self.collections[i].by_key.contains_key(key))
    }

    /// The records of a collection in insertion order (empty for an unknown collection).
    pub fn scan<'a>(&'a self, collection: &str) -> impl Iterator<Item = (&'a str, &'a Record)> + 'a {
        let c = self.index(collection).map(|i| &self.collections[i]);
        c.into_iter().flat_map(|c| c.by_seq.values().map(|e| (&*e.key, &e.record)))
    }

    /// The keys of a collection in sorted order.
    pub fn keys<'a>(&'a self, collection: &str) -> impl Iterator<Item = &'a str> + 'a {
        let c = self.index(collection).map(|i| &self.collections[i]);
        c.into_iter().flat_map(|c| c.by_key.keys().map(|k| &**k))
    }

    /// Stores `value` under `key`, replacing (in place, keeping its position) any record
    /// already there. Returns the previous record.
    ///
    /// # Errors
    /// When the collection does not exist.
    ///
    /// # Panics
    /// Only on a broken internal invariant: the collection's key and sequence maps disagree
    /// (they are always updated together).
    pub fn put(&mut self, collection: &str, key: &str, value: Value) -> Result<Option<Record>, UnknownCollection> {
        let i = self.index(collection).ok_or_else(|| UnknownCollection(collection.to_owned()))?;
        let hash = Digest::of_record(collection, key, &value);
        let c = &mut Arc::make_mut(&mut self.collections)[i];
        let record: Record = Arc::new(value);
        let previous = match c.by_key.get(key).copied() {
            Some(seq) => {
                let old = c.by_seq.get(&seq).cloned().expect("key and sequence maps agree");
                for index in &mut c.indexes {
                    let (before, after) = (index.entry(&old.record, seq), index.entry(&record, seq));
                    if before != after {
                        if let Some(e) = before {
                            index.entries.remove_mut(&e);
                        }
                        if let Some(e) = after {
                            index.entries.insert_mut(e, ());
                        }
                    }
                }
                c.digest = c.digest - old.hash + hash;
                self.digest = self.digest - old.hash + hash;
                c.by_seq.insert_mut(seq, Entry { key: old.key, record, hash });
                Some(old.record)
            }
            None => {
                let k: Arc<str> = Arc::from(key);
                let seq = c.next_seq;
                c.next_seq += 1;
                for index in &mut c.indexes {
                    if let Some(e) = index.entry(&record, seq) {
                        index.entries.insert_mut(e, ());
                    }
                }
                c.digest += hash;
                self.digest += hash;
                c.by_key.insert_mut(Arc::clone(&k), seq);
                c.by_seq.insert_mut(seq, Entry { key: k, record, hash });
                None
            }
        };
        Ok(previous)
    }

    /// Removes the record under `key` and returns it (`None` when there was none).
    pub fn delete(&mut self, collection: &str, key: &str) -> Option<Record> {
        let i = self.index(collection)?;
        if !self.collections[i].by_key.contains_key(key) {
            return None;
        }
        let c = &mut Arc::make_mut(&mut self.collections)[i];
        let seq = c.by_key.get(key).copied()?;
        c.by_key.remove_mut(key);
        let old = c.by_seq.get(&seq).cloned()?;
        c.by_seq.remove_mut(&seq);
        for index in &mut c.indexes {
            if let Some(e) = index.entry(&old.record, seq) {
                index.entries.remove_mut(&e);
            }
        }
        c.digest -= old.hash;
        self.digest -= old.hash;
        Some(old.record)
    }

    /// Recomputes the digest from every record, ignoring the incremental one. Used by tests
    /// and by `world check` to confirm the incremental digest.
    #[must_use]
    pub fn recompute_digest(&self) -> Digest {
        let mut total = Digest::default();
        for name in self.collections() {
            for (key, record) in self.scan(name) {
                total += Digest::of_record(name, key, record);
            }
        }
        total
    }

    /// The hash of the record under `key` (its contribution to the digest), if any.
    #[must_use]
    pub fn record_hash(&self, collection: &str, key: &str) -> Option<Digest> {
        let c = &self.collections[self.index(collection)?];
        c.by_key.get(key).and_then(|seq| c.by_seq.get(seq)).map(|e| e.hash)
    }

    /// The records of `other` that differ from `self`: for each changed record its value in
    /// `other`, or `None` when `other` lacks it. Collections whose digests agree are skipped;
    /// the others are merged in key order comparing record hashes, so no record is compared
    /// field by field.
    #[must_use]
    pub fn diff(&self, other: &State) -> ChangedRecords {
        let mut out = ChangedRecords::new();
        for name in self.collections().chain(other.collections()) {
            if out.contains_key(name) || self.collection_digest(name) == other.collection_digest(name) {
                continue;
            }
            let empty = Collection::default();
            let a = self.index(name).map_or(&empty, |i| &self.collections[i]);
            let b = other.index(name).map_or(&empty, |i| &other.collections[i]);
            let mut changed = std::collections::BTreeMap::new();
            let hash_of = |c: &Collection, seq: &u64| c.by_seq.get(seq).map(|e| e.hash);
            let record_of = |c: &Collection, seq: &u64| c.by_seq.get(seq).map(|e| (*e.record).clone());
            let mut left = a.by_key.iter().peekable();
            let mut right = b.by_key.iter().peekable();
            loop {
                match (left.peek(), right.peek()) {
                    (None, None) => break,
                    (Some((k, _)), None) => {
                        changed.insert(k.to_string(), None);
                        left.next();
                    }
                    (None, Some((k, seq))) => {
                        changed.insert(k.to_string(), record_of(b, seq));
                        right.next();
                    }
                    (Some((ka, sa)), Some((kb, sb))) => match ka.cmp(kb) {
                        std::cmp::Ordering::Less => {
                            changed.insert(ka.to_string(), None);
                            left.next();
                        }
                        std::cmp::Ordering::Greater => {
                            changed.insert(kb.to_string(), record_of(b, sb));
                            right.next();
                        }
                        std::cmp::Ordering::Equal => {
                            if hash_of(a, sa) != hash_of(b, sb) {
                                changed.insert(kb.to_string(), record_of(b, sb));
                            }
                            left.next();
                            right.next();
                        }
                    },
                }
            }
            if !changed.is_empty() {
                out.insert(name.to_owned(), changed);
            }
        }
        out
    }

    /// The changes from `self` to `other`, looking only at the given (collection, key) pairs:
    /// O(pairs) instead of O(records). Exact when every record that differs is listed (as
    /// when the pairs are the keys a session wrote since `self`).
    #[must_use]
    pub fn diff_keys<'a>(&self, other: &State, keys: impl IntoIterator<Item = (&'a str, &'a str)>) -> ChangedRecords {
        let mut out = ChangedRecords::new();
        for (collection, key) in keys {
            if self.record_hash(collection, key) != other.record_hash(collection, key) {
                out.entry(collection.to_owned())
                    .or_default()
                    .insert(key.to_owned(), other.get(collection, key).map(|r| (**r).clone()));
            }
        }
        out
    }

    /// The state after applying `changes` (a value per key, `None` to delete).
    ///
    /// # Errors
    /// When a change names an unknown collection.
    pub fn with_changes(&self, changes: &ChangedRecords) -> Result<State, UnknownCollection> {
        let mut next = self.clone();
        for (collection, records) in changes {
            if next.index(collection).is_none() {
                return Err(UnknownCollection(collection.clone()));
            }
            for (key, value) in records {
                match value {
                    Some(v) => {
                        next.put(collection, key, v.clone())?;
                    }
                    None => {
                        next.delete(collection, key);
                    }
                }
            }
        }
        Ok(next)
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("State");
        for name in self.collections() {
            d.field(name, &self.len(name));
        }
        d.field("digest", &self.digest).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn put_get_delete_keep_order_and_digest() {
        let mut s = State::new(&["a", "b"]);
        s.put("a", "k2", json!({"x": 1})).unwrap();
        s.put("a", "k1", json!({"x": 2})).unwrap();
        s.put("a", "k2", json!({"x": 3})).unwrap();
        let order: Vec<&str> = s.scan("a").map(|(k, _)| k).collect();
        assert_eq!(order, ["k2", "k1"]);
        assert_eq!(s.digest(), s.recompute_digest());
        let fork = s.clone();
        s.delete("a", "k2");
        assert_eq!(s.len("a"), 1);
        assert_eq!(fork.len("a"), 2);
        assert_eq!(s.digest(), s.recompute_digest());
        assert!(s.put("zzz", "k", json!(1)).is_err());
        let diff = fork.diff(&s);
        assert_eq!(diff["a"]["k2"], None);
        assert_eq!(fork.with_changes(&diff).unwrap().digest(), s.digest());
    }
}
