//! `world.json`, the world manifest (format 1), as it is written on disk.
//!
//! These types are the documented file format; [`crate::World`] is what they compile to.
//! Unknown fields are rejected, so a typo in a hand-written manifest is an error with its
//! JSON pointer rather than a silently ignored setting.
//!
//! The types serialize too, so a stage that writes worlds (`worldsmith-materialize`) builds
//! them as values of these types. Serializing writes the fields in declaration order and
//! leaves out the optional ones that hold their default (an empty `required`, a `true`
//! `additional_fields`, a zero data `seed`), so a written manifest carries only what was set;
//! `edges` is always written.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The manifest format this engine reads and writes.
pub const FORMAT: u32 = 1;

/// The top level of `world.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Manifest format version; must be [`FORMAT`].
    pub format: u32,
    /// The world's name (`^[a-z0-9][a-z0-9_-]*$`).
    pub name: String,
    /// The world's own version.
    #[serde(default)]
    pub version: String,
    /// Whether a person wrote the world or a stage generated it.
    #[serde(default)]
    pub origin: Origin,
    /// What people call the world (`Meridian Air`, `the Jumpseller API`): the name its
    /// agents' system prompts use. Empty when not given (then [`crate::World::title`]
    /// derives one from `name`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// What the world is, for people and for task scenarios.
    #[serde(default)]
    pub description: String,
    /// The collections, in order.
    pub collections: IndexMap<String, CollectionDecl>,
    /// Where the initial records come from.
    pub data: DataDecl,
    /// The tools, in order.
    pub tools: Vec<ToolDecl>,
    /// Directed tool dependencies `[from, to]` by tool name: `from` produces what `to` needs.
    #[serde(default)]
    pub edges: Vec<(String, String)>,
    /// Limits for scripts, overriding the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsDecl>,
}

pub use worldsmith_core::Origin;

/// One collection of records.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionDecl {
    /// The name of the primary key (the default key argument of declarative tools). The
    /// key is the map key of the record; the engine never adds it into the record.
    pub key: String,
    /// What a record is.
    #[serde(default)]
    pub description: String,
    /// A JSON Schema per field.
    #[serde(default)]
    pub fields: IndexMap<String, Value>,
    /// Fields every record must have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// Field path -> referenced collection. A path is dotted (`address.zip`); `[]` steps
    /// into every element of an array (`items[].product_id`). Null or absent values are
    /// not checked.
    #[serde(default)]
    pub foreign_keys: IndexMap<String, String>,
    /// Fields to index for equality lookups (`list`, `search` and `db.find` filters), as
    /// dotted paths. Single-valued foreign keys are indexed without being listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<String>,
    /// Whether records may carry fields not listed in `fields` (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub additional_fields: bool,
}

impl CollectionDecl {
    /// A collection keyed by `key`, with no fields, requirements, foreign keys or indexes, and
    /// additional fields allowed (the defaults of a manifest that leaves them out).
    #[must_use]
    pub fn new(key: impl Into<String>) -> CollectionDecl {
        CollectionDecl {
            key: key.into(),
            description: String::new(),
            fields: IndexMap::new(),
            required: Vec::new(),
            foreign_keys: IndexMap::new(),
            indexes: Vec::new(),
            additional_fields: true,
        }
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Where the initial records come from: `{"dir": "data"}` (one `<collection>.json` per
/// collection, an object keyed by record key) or `{"generator": "generate.star", "seed": N}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataDecl {
    /// A directory, relative to the world, holding `<collection>.json` files. It must stay
    /// inside the world (no absolute path, no `..`) unless `dir_env` declares the data
    /// external.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// An environment variable that, when set, replaces `dir` (an absolute path or one
    /// relative to the working directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir_env: Option<String>,
    /// A Starlark file defining `generate(rng, params)`, returning
    /// `{collection: {key: record}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    /// The generator's seed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seed: u64,
    /// Parameters passed to the generator.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
}

/// A tool: an OpenAI function schema, an effect, and one implementation (`op` or `script`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolDecl {
    /// The function name (`^[A-Za-z0-9_-]{1,64}$`).
    pub name: String,
    /// What the tool does, as the agent reads it.
    pub description: String,
    /// Whether the tool may change the state.
    pub effect: Effect,
    /// A JSON Schema object for the arguments.
    pub parameters: Value,
    /// A declarative implementation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Op>,
    /// A Starlark implementation: a file relative to the world defining a function named
    /// after the tool (or `function`), called with the arguments as keywords.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// The function to call in `script`, when not the tool's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Arguments `world check` calls the tool with; the call must succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
}

/// Whether a tool may change the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Never changes the state; a read tool's attempt to write is an error.
    Read,
    /// May change the state.
    Write,
}

/// A declarative operation over one collection. Argument names default to the
/// collection's key name where a key is needed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Op {
    /// Return the record under the key argument.
    Get {
        /// The collection.
        collection: String,
        /// The argument holding the key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    /// Return records whose fields equal the given arguments (each filter applies only when
    /// its argument is present), in insertion order.
    List {
        /// The collection.
        collection: String,
        /// Field path -> argument name.
        #[serde(default, rename = "where")]
        filters: IndexMap<String, String>,
        /// At most this many records (default 100).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    /// Return records matching every filter, optionally sorted.
    Search {
        /// The collection.
        collection: String,
        /// Filters; each applies only when its argument is present.
        #[serde(default)]
        filters: Vec<Filter>,
        /// Field path to sort by (ascending unless `descending`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sort_by: Option<String>,
        /// Sort in descending order.
        #[serde(default)]
        descending: bool,
        /// At most this many records (default 100).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    /// Insert a new record built from the arguments (and `set`).
    Create {
        /// The collection.
        collection: String,
        /// Arguments that become fields (default: every argument but the key).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fields: Option<Vec<String>>,
        /// The argument holding the new key; when absent the key is generated as
        /// `key_prefix` followed by the first free number from the collection's size + 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// Prefix of generated keys.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_prefix: Option<String>,
        /// Constant fields.
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        set: Map<String, Value>,
    },
    /// Change fields of the record under the key argument.
    Update {
        /// The collection.
        collection: String,
        /// The argument holding the key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// Arguments that become fields (default: every argument but the key).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fields: Option<Vec<String>>,
        /// Constant fields.
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        set: Map<String, Value>,
        /// Preconditions: field -> allowed value or list of allowed values.
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        require: Map<String, Value>,
    },
    /// Remove the record under the key argument.
    Delete {
        /// The collection.
        collection: String,
        /// The argument holding the key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// Preconditions: field -> allowed value or list of allowed values.
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        require: Map<String, Value>,
    },
}

impl Op {
    /// The collection the operation works on.
    #[must_use]
    pub fn collection(&self) -> &str {
        match self {
            Op::Get { collection, .. }
            | Op::List { collection, .. }
            | Op::Search { collection, .. }
            | Op::Create { collection, .. }
            | Op::Update { collection, .. }
            | Op::Delete { collection, .. } => collection,
        }
    }

    /// Whether the operation writes.
    #[must_use]
    pub fn writes(&self) -> bool {
        matches!(self, Op::Create { .. } | Op::Update { .. } | Op::Delete { .. })
    }

    /// What the operation does, as the rules of a tool's intent know it
    /// ([`worldsmith_core::intent::tool_intent`]).
    #[must_use]
    pub fn kind(&self) -> worldsmith_core::intent::OpKind {
        use worldsmith_core::intent::OpKind;
        match self {
            Op::Get { .. } => OpKind::Get,
            Op::List { .. } | Op::Search { .. } => OpKind::List,
            Op::Create { .. } => OpKind::Create,
            Op::Update { .. } => OpKind::Update,
            Op::Delete { .. } => OpKind::Delete,
        }
    }
}

/// One filter of a search.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// The field path compared.
    pub field: String,
    /// The comparison.
    #[serde(default)]
    pub op: FilterOp,
    /// The argument holding the operand.
    pub arg: String,
}

/// A search comparison. Numbers compare by value; strings by bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterOp {
    /// Equal.
    #[default]
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Case-insensitive substring (strings) or membership (arrays).
    Contains,
    /// Case-insensitive prefix.
    Prefix,
    /// The field's value is one of the argument's list.
    In,
}

/// Script limits in `world.json`; absent fields keep the defaults of [`crate::Limits`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsDecl {
    /// Ticks (function calls and loop iterations) per call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticks: Option<u64>,
    /// Starlark heap bytes per call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_bytes: Option<usize>,
    /// Call-stack depth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_depth: Option<usize>,
    /// The largest list, string or range a single operation may create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sequence: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_serializes_in_field_order_without_defaults() {
        let mut collection = CollectionDecl::new("pet_id");
        collection.foreign_keys.insert("owner_id".into(), "owners".into());
        let manifest = Manifest {
            format: FORMAT,
            name: "pets".into(),
            version: "1".into(),
            origin: Origin::Generated,
            title: String::new(),
            description: String::new(),
            collections: IndexMap::from([("pets".to_owned(), collection)]),
            data: DataDecl { dir: Some("data".into()), ..DataDecl::default() },
            tools: vec![ToolDecl {
                name: "addPet".into(),
                description: "Adds a pet.".into(),
                effect: Effect::Write,
                parameters: serde_json::json!({"type": "object"}),
                op: Some(Op::Create {
                    collection: "pets".into(),
                    fields: Some(vec!["name".into()]),
                    key: None,
                    key_prefix: Some("pet-".into()),
                    set: Map::new(),
                }),
                script: None,
                function: None,
                example: None,
            }],
            edges: Vec::new(),
            limits: None,
        };
        let text = serde_json::to_string(&manifest).unwrap();
        assert_eq!(
            text,
            r#"{"format":1,"name":"pets","version":"1","origin":"generated","description":"","collections":{"pets":{"key":"pet_id","description":"","fields":{},"foreign_keys":{"owner_id":"owners"}}},"data":{"dir":"data"},"tools":[{"name":"addPet","description":"Adds a pet.","effect":"write","parameters":{"type":"object"},"op":{"kind":"create","collection":"pets","fields":["name"],"key_prefix":"pet-"}}],"edges":[]}"#
        );
        let back: Manifest = serde_json::from_str(&text).unwrap();
        assert!(back.collections["pets"].additional_fields && back.data.seed == 0);
    }
}
