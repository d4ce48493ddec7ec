//! Collection schemas: field types, required fields, enums and foreign keys, and the
//! integrity check of a state against them.

use crate::manifest::CollectionDecl;
use crate::state::State;
use serde_json::{Value, json};

/// A path into a record: dotted fields, with `[]` stepping into every array element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Each,
}

impl FieldPath {
    /// Parses `a.b`, `items[].product_id`, `tags[]`.
    ///
    /// # Errors
    /// When the path is empty or has an empty segment.
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let mut steps = Vec::new();
        for segment in text.split('.') {
            let mut name = segment;
            let mut each = 0;
            while let Some(stripped) = name.strip_suffix("[]") {
                name = stripped;
                each += 1;
            }
            if name.is_empty() {
                return Err(format!("invalid field path `{text}`: empty segment"));
            }
            steps.push(Step::Field(name.to_owned()));
            steps.extend(std::iter::repeat_n(Step::Each, each));
        }
        Ok(FieldPath { text: text.to_owned(), steps })
    }

    /// The path as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Every value the path reaches in `record` (none when a step is missing).
    #[must_use]
    pub fn values<'a>(&self, record: &'a Value) -> Vec<&'a Value> {
        let mut current = vec![record];
        for step in &self.steps {
            let mut next = Vec::new();
            for v in current {
                match step {
                    Step::Field(name) => {
                        if let Some(x) = v.get(name) {
                            next.push(x);
                        }
                    }
                    Step::Each => {
                        if let Value::Array(items) = v {
                            next.extend(items.iter());
                        }
                    }
                }
            }
            current = next;
        }
        current
    }

    /// Whether any value the path reaches satisfies `pred` (no allocation for plain paths).
    pub fn any(&self, record: &Value, pred: &mut impl FnMut(&Value) -> bool) -> bool {
        fn go(steps: &[Step], v: &Value, pred: &mut impl FnMut(&Value) -> bool) -> bool {
            match steps.split_first() {
                None => pred(v),
                Some((Step::Field(name), rest)) => v.get(name).is_some_and(|x| go(rest, x, pred)),
                Some((Step::Each, rest)) => match v {
                    Value::Array(items) => items.iter().any(|x| go(rest, x, pred)),
                    _ => false,
                },
            }
        }
        go(&self.steps, record, pred)
    }

    /// The top-level field the path starts with.
    #[must_use]
    pub fn first_field(&self) -> Option<&str> {
        match self.steps.first() {
            Some(Step::Field(name)) => Some(name),
            _ => None,
        }
    }

    /// Whether the path reaches at most one value (it has no `[]` step).
    #[must_use]
    pub fn is_single(&self) -> bool {
        !self.steps.contains(&Step::Each)
    }

    /// The single value the path reaches, when it has no `[]` step.
    #[must_use]
    pub fn value<'a>(&self, record: &'a Value) -> Option<&'a Value> {
        self.values(record).into_iter().next()
    }
}

/// One collection's compiled schema.
pub struct CollectionSchema {
    /// The collection's name.
    pub name: String,
    /// The name of its primary key.
    pub key: String,
    /// What a record is.
    pub description: String,
    /// The record schema as JSON Schema (an object schema built from the fields).
    pub record_schema: Value,
    /// Field path -> referenced collection.
    pub foreign_keys: Vec<(FieldPath, String)>,
    /// Fields with a secondary index: the declared `indexes` and every single-valued
    /// foreign key.
    pub indexes: Vec<FieldPath>,
    validator: jsonschema::Validator,
    /// One validator per declared field, to check only the fields a write changed.
    field_validators: Vec<(String, jsonschema::Validator)>,
    required: Vec<String>,
    additional_fields: bool,
}

impl std::fmt::Debug for CollectionSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectionSchema").field("name", &self.name).field("key", &self.key).finish_non_exhaustive()
    }
}

/// The JSON pointer of a validation error (`/` for the whole instance).
fn error_pointer(e: &jsonschema::ValidationError<'_>) -> String {
    let at = e.instance_path().to_string();
    if at.is_empty() { "/".to_owned() } else { at }
}

/// A validation error's message; enum errors list every allowed value (the library's own
/// message elides all but two, and an agent needs to see them all).
/// Values longer than [`crate::error::MAX_QUOTED_CHARS`] are quoted by their prefix only.
fn error_message(e: &jsonschema::ValidationError<'_>) -> String {
    let message = full_error_message(e);
    let instance = e.instance().to_string();
    match crate::error::quote_prefix(&instance) {
        std::borrow::Cow::Owned(short) => message.replace(&instance, &short),
        std::borrow::Cow::Borrowed(_) => crate::error::bounded(&message, crate::error::MAX_MESSAGE_CHARS).into_owned(),
    }
}

fn full_error_message(e: &jsonschema::ValidationError<'_>) -> String {
    match e.kind() {
        jsonschema::error::ValidationErrorKind::Enum { options } => match &**options {
            Value::Array(items) => {
                let all: Vec<String> = items.iter().map(Value::to_string).collect();
                format!("{} is not one of {}", e.instance(), all.join(", "))
            }
            other => format!("{} is not {other}", e.instance()),
        },
        _ => e.to_string(),
    }
}

/// Renders a JSON Schema validation error as `/pointer: message`.
pub(crate) fn describe_validation_error(e: &jsonschema::ValidationError<'_>) -> String {
    format!("{}: {}", error_pointer(e), error_message(e))
}

impl CollectionSchema {
    /// Compiles a declaration.
    ///
    /// # Errors
    /// A message naming the offending field when a field schema is not valid JSON Schema or a
    /// foreign key path is malformed.
    pub fn compile(name: &str, decl: &CollectionDecl) -> Result<CollectionSchema, String> {
        let mut record_schema = json!({
            "type": "object",
            "properties": decl.fields,
            "required": decl.required,
        });
        if !decl.additional_fields {
            record_schema["additionalProperties"] = Value::Bool(false);
        }
        let validator = jsonschema::validator_for(&record_schema)
            .map_err(|e| format!("invalid field schema: {}", describe_validation_error(&e)))?;
        let mut foreign_keys = Vec::new();
        let mut indexes: Vec<FieldPath> = Vec::new();
        for (path, target) in &decl.foreign_keys {
            let path = FieldPath::parse(path)?;
            if path.is_single() {
                indexes.push(path.clone());
            }
            foreign_keys.push((path, target.clone()));
        }
        for path in &decl.indexes {
            let path = FieldPath::parse(path)?;
            if !path.is_single() {
                return Err(format!("cannot index `{}`: an index path may not contain `[]`", path.as_str()));
            }
            if !indexes.contains(&path) {
                indexes.push(path);
            }
        }
        let mut field_validators = Vec::with_capacity(decl.fields.len());
        for (field, schema) in &decl.fields {
            let v = jsonschema::validator_for(schema)
                .map_err(|e| format!("invalid field schema for `{field}`: {}", describe_validation_error(&e)))?;
            field_validators.push((field.clone(), v));
        }
        Ok(CollectionSchema {
            field_validators,
            required: decl.required.clone(),
            additional_fields: decl.additional_fields,
            name: name.to_owned(),
            key: decl.key.clone(),
            description: decl.description.clone(),
            record_schema,
            foreign_keys,
            indexes,
            validator,
        })
    }

    /// Every way `record` breaks the field schema, as (JSON pointer, message).
    #[must_use]
    pub fn check_record(&self, record: &Value) -> Vec<(String, String)> {
        if self.validator.is_valid(record) {
            return Vec::new();
        }
        self.validator.iter_errors(record).map(|e| (error_pointer(&e), error_message(&e))).collect()
    }

    /// The first problem of a record written over `old` (`None` for a new record), looking
    /// only at the top-level fields that changed: their schemas, required fields removed,
    /// and foreign keys under them. For a new record, or an undeclared field appearing where
    /// none are allowed, the whole record is checked.
    #[must_use]
    pub fn check_change(&self, state: &State, old: Option<&Value>, new: &Value) -> Option<(String, String)> {
        let (Some(Value::Object(before)), Value::Object(after)) = (old, new) else {
            return self.check_record(new).into_iter().chain(self.check_references(state, new)).next();
        };
        for field in before.keys() {
            if !after.contains_key(field) && self.required.contains(field) {
                return Some(("/".to_owned(), format!("{} is a required property", Value::String(field.clone()))));
            }
        }
        let changed: Vec<&String> = after
            .iter()
            .filter(|(f, v)| before.get(*f).is_none_or(|w| !worldsmith_core::canonical::json_eq(v, w)))
            .map(|(f, _)| f)
            .collect();
        for field in &changed {
            match self.field_validators.iter().find(|(f, _)| f == *field) {
                Some((_, validator)) => {
                    let value = &after[field.as_str()];
                    if !validator.is_valid(value)
                        && let Some(e) = validator.iter_errors(value).next()
                    {
                        let inner = e.instance_path().to_string();
                        let pointer = format!("/{}{inner}", field.replace('~', "~0").replace('/', "~1"));
                        return Some((pointer, error_message(&e)));
                    }
                }
                None if !self.additional_fields => return self.check_record(new).into_iter().next(),
                None => {}
            }
        }
        for (path, target) in &self.foreign_keys {
            if !changed.iter().any(|f| path.first_field() == Some(f.as_str())) {
                continue;
            }
            for v in path.values(new) {
                match v {
                    Value::Null => {}
                    Value::String(k) if state.contains(target, k) => {}
                    Value::Number(n) if state.contains(target, &n.to_string()) => {}
                    other => {
                        return Some((format!("/{}", path.as_str()), format!("{other} is not a key of `{target}`")));
                    }
                }
            }
        }
        None
    }

    /// Every foreign key of `record` that points at no record of `state`, as (`/path`,
    /// message).
    #[must_use]
    pub fn check_references(&self, state: &State, record: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, target) in &self.foreign_keys {
            for v in path.values(record) {
                match v {
                    Value::Null => {}
                    Value::String(k) if state.contains(target, k) => {}
                    Value::Number(n) if state.contains(target, &n.to_string()) => {}
                    other => out.push((format!("/{}", path.as_str()), format!("{other} is not a key of `{target}`"))),
                }
            }
        }
        out
    }
}

/// The schema of a world: its collections in order.
///
/// Besides per-record checks it answers the reverse question a delete needs: which records
/// still point at a key ([`Schema::referenced_by`]).
#[derive(Debug, Default)]
pub struct Schema {
    collections: Vec<CollectionSchema>,
}

/// One integrity problem of a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityProblem {
    /// The collection.
    pub collection: String,
    /// The record's key.
    pub key: String,
    /// Where in the record (a JSON pointer, or `/path[].field` for a foreign key).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for IntegrityProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{:?}]{}: {}", self.collection, self.key, self.pointer, self.message)
    }
}

impl Schema {
    /// A schema of the given collections.
    #[must_use]
    pub fn new(collections: Vec<CollectionSchema>) -> Schema {
        Schema { collections }
    }

    /// The collections, in order.
    #[must_use]
    pub fn collections(&self) -> &[CollectionSchema] {
        &self.collections
    }

    /// One collection by name.
    #[must_use]
    pub fn collection(&self, name: &str) -> Option<&CollectionSchema> {
        self.collections.iter().find(|c| c.name == name)
    }

    /// An empty state with this schema's collections.
    #[must_use]
    pub fn empty_state(&self) -> State {
        let names: Vec<&str> = self.collections.iter().map(|c| c.name.as_str()).collect();
        let mut state = State::new(&names);
        for c in &self.collections {
            for path in &c.indexes {
                // Paths were checked when the schema compiled.
                let _ = state.add_index(&c.name, path.clone());
            }
        }
        state
    }

    /// The first record of `state` whose foreign key points at `collection[key]`, as
    /// `other["key"]/path`, or `None` when nothing refers to it. Scans only the collections
    /// with a foreign key into `collection`.
    #[must_use]
    pub fn referenced_by(&self, state: &State, collection: &str, key: &str) -> Option<String> {
        for c in &self.collections {
            for (path, target) in &c.foreign_keys {
                if target != collection {
                    continue;
                }
                for (k, record) in state.scan(&c.name) {
                    // Integer keys are referred to by strings or by numbers, as integrity
                    // accepts both.
                    let refers = |v: &Value| match v {
                        Value::String(s) => s == key,
                        Value::Number(n) => n.to_string() == key,
                        _ => false,
                    };
                    if path.any(record, &mut |v| refers(v)) {
                        return Some(format!("{}[{k:?}]/{}", c.name, path.as_str()));
                    }
                }
            }
        }
        None
    }

    /// Checks every record of `state`: field types, required fields, enums, and foreign keys.
    #[must_use]
    pub fn integrity(&self, state: &State) -> Vec<IntegrityProblem> {
        let mut out = Vec::new();
        for c in &self.collections {
            for (key, record) in state.scan(&c.name) {
                for (pointer, message) in c.check_record(record).into_iter().chain(c.check_references(state, record)) {
                    out.push(IntegrityProblem { collection: c.name.clone(), key: key.to_owned(), pointer, message });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_reach_nested_values() {
        let r = json!({"a": {"b": 1}, "items": [{"p": "x"}, {"p": "y"}, {}]});
        assert_eq!(FieldPath::parse("a.b").unwrap().values(&r), [&json!(1)]);
        assert_eq!(FieldPath::parse("items[].p").unwrap().values(&r), [&json!("x"), &json!("y")]);
        assert!(FieldPath::parse("a..b").is_err());
        assert!(FieldPath::parse("missing.x").unwrap().values(&r).is_empty());
    }
}
