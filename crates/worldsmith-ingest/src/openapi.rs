//! OpenAPI 3.0 and 3.1, and Swagger 2.0: every operation under `paths` into a candidate
//! tool.

use crate::refs::Resolver;
use crate::{DocError, Filter, IngestConfig, Sink, bounded, names};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use worldsmith_core::tool::{Provenance, TOOL_FORMAT, ToolSpec};

/// The HTTP methods of a path item.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// Headers the HTTP client sets itself (content negotiation, credentials, AWS request
/// signing); never tool arguments.
const CLIENT_HEADERS: [&str; 10] = [
    "accept",
    "content-type",
    "authorization",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-signedheaders",
];
/// Parameter names (lower case, letters and digits only) that carry credentials wherever
/// they are sent outside the path and body, declared as a security scheme or not
/// (`api_key`, `authtoken`, `X-VTEX-API-AppKey` is named by its scheme).
const CREDENTIAL_NAMES: [&str; 22] = [
    "apikey",
    "xapikey",
    "apitoken",
    "xapitoken",
    "apisecret",
    "authtoken",
    "xauthtoken",
    "authkey",
    "xauthkey",
    "accesstoken",
    "authorization",
    "proxyauthorization",
    "appkey",
    "xappkey",
    "appid",
    "xappid",
    "apptoken",
    "clientsecret",
    "secretkey",
    "sessiontoken",
    "subscriptionkey",
    "ocpapimsubscriptionkey",
];
/// Phrases of a parameter's description that say it authenticates the caller (jumpseller's
/// `login` query parameter: "API OAuth login.").
const CREDENTIAL_PHRASES: [&str; 8] =
    ["oauth", "authentication", "api key", "apikey", "application key", "access token", "api token", "auth token"];
/// The keys of a Swagger 2.0 non-body parameter that make up its schema.
const SWAGGER_SCHEMA_KEYS: [&str; 19] = [
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "x-nullable",
    "example",
    "x-example",
];

/// What every operation of a document shares.
struct Document<'a> {
    source: &'a str,
    format: &'static str,
    swagger: bool,
    provider: String,
    service: Option<String>,
    categories: Vec<String>,
    resolver: Resolver<'a>,
    consumes: Option<&'a Value>,
    produces: Option<&'a Value>,
    config: &'a IngestConfig,
    /// The (place, lower-case name) of every `apiKey` security scheme.
    api_keys: Vec<(String, String)>,
}

/// The (place, lower-case name) of a document's `apiKey` security schemes
/// (`components.securitySchemes`, or Swagger 2.0's `securityDefinitions`).
fn api_keys(doc: &Value) -> Vec<(String, String)> {
    let schemes = doc.pointer("/components/securitySchemes").or_else(|| doc.get("securityDefinitions"));
    schemes
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
        .filter(|s| s.get("type").and_then(Value::as_str) == Some("apiKey"))
        .filter_map(|s| {
            let place = s.get("in").and_then(Value::as_str)?;
            let name = s.get("name").and_then(Value::as_str)?;
            Some((place.to_owned(), name.to_ascii_lowercase()))
        })
        .collect()
}

/// Words of a parameter name (normalised as in [`CREDENTIAL_NAMES`]) that can name a
/// credential (`X-Sds-Auth-Token`, `wm_sec.auth_signature`, jumpseller's `login`).
const CREDENTIAL_WORDS: [&str; 11] =
    ["key", "token", "login", "signature", "secret", "session", "password", "credential", "hmac", "license", "bearer"];

/// Whether a header, query or cookie parameter carries credentials: the document names it
/// in an `apiKey` security scheme, its name is a credential's, or its description says it
/// authenticates and it has a credential's name and shape: a string of any value (a name
/// holding one of [`CREDENTIAL_WORDS`] or ending in `auth`, but no identifier ending in
/// `id`, no enum). So Zoom's `option` ("`meeting_authentication`: ... view meeting
/// authentication configuration") and EC2's `Authentication` (an array of options) stay
/// arguments. Credentials are the client's business, never a tool's arguments (nor,
/// downstream, a record's fields).
fn is_credential(d: &Document<'_>, location: &str, name: &str, description: Option<&str>, schema: &Value) -> bool {
    if !matches!(location, "header" | "query" | "cookie") {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    if d.api_keys.iter().any(|(place, n)| place == location && *n == lower) {
        return true;
    }
    let bare: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    if CREDENTIAL_NAMES.contains(&bare.as_str()) {
        return true;
    }
    let text = description.unwrap_or("").to_ascii_lowercase();
    let named = (CREDENTIAL_WORDS.iter().any(|w| bare.contains(w))
        || ["auth", "authentication", "authorization"].iter().any(|w| bare.ends_with(w)))
        && !bare.ends_with("id")
        && !bare.ends_with("ids");
    let shaped = schema.get("enum").is_none()
        && match schema.get("type") {
            None => true,
            Some(Value::String(t)) => t == "string",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
            Some(_) => false,
        };
    named && shaped && CREDENTIAL_PHRASES.iter().any(|phrase| text.contains(phrase))
}

/// Parameter names (lower case, letters and digits only) that select the version of the
/// API the document describes: Azure's `api-version`, `Api-Version` headers.
const API_VERSION_NAMES: [&str; 2] = ["apiversion", "xapiversion"];

/// Whether a header, query or cookie parameter is a constant of the client, not a choice of
/// the caller: a required one that admits one value only (`const`, or an `enum` of one:
/// AWS's `X-Amz-Target: RedshiftServerless.RestoreFromSnapshot` and `Action`/`Version`
/// query parameters, pendo's `scope=feature`), or the API version a request selects, which
/// the document fixes (Azure's required `api-version`, whatever its default or example).
/// Like credentials, constants are the client's business, never a tool's arguments.
fn is_client_constant(location: &str, name: &str, required: bool, schema: &Value) -> bool {
    if !matches!(location, "header" | "query" | "cookie") {
        return false;
    }
    let choices = schema.get("enum").and_then(Value::as_array).map(Vec::len);
    let bare: String = name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    if API_VERSION_NAMES.contains(&bare.as_str()) && choices.is_none_or(|n| n <= 1) {
        return true;
    }
    required && (schema.get("const").is_some() || choices == Some(1))
}

/// Path segments (lower case, letters and digits only) of authentication endpoints.
const SIGN_IN_SEGMENTS: [&str; 11] = [
    "auth",
    "oauth",
    "oauth2",
    "authenticate",
    "authentication",
    "login",
    "signin",
    "token",
    "tokens",
    "session",
    "sessions",
];
/// Argument names (normalised as in [`CREDENTIAL_NAMES`]) of the secrets a sign-in takes,
/// beside the credential names.
const SECRETS: [&str; 4] = ["password", "refreshtoken", "granttype", "secret"];

/// Whether an operation is a sign-in ([`Filter::SignIn`]): a path segment names an
/// authentication endpoint and an argument outside the path is a secret (a path parameter
/// addresses a resource: `/backend/{appId}/auth`).
fn is_sign_in(path: &str, parameters: &Value, locations: &BTreeMap<String, String>) -> bool {
    let bare =
        |s: &str| -> String { s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect() };
    path.split('/').any(|s| SIGN_IN_SEGMENTS.contains(&bare(s).as_str()))
        && parameters.get("properties").and_then(Value::as_object).is_some_and(|props| {
            props.keys().filter(|k| locations.get(*k).map(String::as_str) != Some("path")).any(|k| {
                let k = bare(k);
                CREDENTIAL_NAMES.contains(&k.as_str()) || SECRETS.contains(&k.as_str())
            })
        })
}

/// Imports an OpenAPI or Swagger document; returns its format.
pub fn import(
    doc: &Value,
    source: &str,
    stem: &str,
    config: &IngestConfig,
    sink: &mut Sink<'_>,
) -> Result<&'static str, DocError> {
    let (format, openapi30) = version(doc)?;
    let swagger = format == "swagger-2.0";
    let info = doc.get("info");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    let provider = text(info.and_then(|i| i.get("x-providerName")))
        .or_else(|| host(doc, swagger))
        .unwrap_or_else(|| stem.to_string());
    let service = text(info.and_then(|i| i.get("x-serviceName")));
    let categories = info
        .and_then(|i| i.get("x-apisguru-categories"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default();
    let paths = match doc.get("paths") {
        None | Some(Value::Null) => return Ok(format),
        Some(Value::Object(paths)) => paths,
        Some(_) => {
            return Err(DocError::Invalid { pointer: "/paths".into(), message: "`paths` is not an object".into() });
        }
    };
    let d = Document {
        source,
        format,
        swagger,
        provider,
        service,
        categories,
        resolver: Resolver::new(doc, config.max_ref_depth, config.max_schema_nodes, openapi30),
        consumes: doc.get("consumes"),
        produces: doc.get("produces"),
        config,
        api_keys: api_keys(doc),
    };
    for (path, item) in paths {
        let Some(Value::Object(item)) = d.resolver.deref(item) else { continue };
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            sink.operations += 1;
            match operation(&d, path, method, op, item.get("parameters")) {
                Ok(tool) => sink.tool(tool),
                Err(reason) => sink.filtered(reason),
            }
        }
    }
    Ok(format)
}

/// The format and whether it is the OpenAPI 3.0 dialect (`nullable`, boolean bounds).
fn version(doc: &Value) -> Result<(&'static str, bool), DocError> {
    let as_text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some(v) = doc.get("openapi") {
        let v = as_text(v);
        return if v.starts_with("3.0") {
            Ok(("openapi-3.0", true))
        } else if v.starts_with("3.1") {
            Ok(("openapi-3.1", false))
        } else {
            Err(DocError::UnsupportedVersion(format!("openapi {v}")))
        };
    }
    match doc.get("swagger").map(as_text) {
        Some(v) if v == "2.0" || v == "2" => Ok(("swagger-2.0", true)),
        Some(v) => Err(DocError::UnsupportedVersion(format!("swagger {v}"))),
        None => Err(DocError::UnknownFormat("no `openapi` or `swagger` field".into())),
    }
}

/// The API's host: the first server's (3.x) or `host` (2.0), without port.
fn host(doc: &Value, swagger: bool) -> Option<String> {
    let raw = if swagger { doc.get("host")?.as_str()? } else { doc.get("servers")?.get(0)?.get("url")?.as_str()? };
    let rest = raw.split_once("://").map_or(raw, |(_, r)| r);
    let host = rest.split('/').next()?.split(':').next()?.trim();
    (!host.is_empty() && !host.contains('{')).then(|| host.to_string())
}

/// Where the parameters go, in the order they are added.
#[derive(Default)]
struct Params {
    properties: Map<String, Value>,
    required: Vec<Value>,
    locations: BTreeMap<String, String>,
}

impl Params {
    fn add(&mut self, name: &str, schema: Value, required: bool, location: &str) {
        if self.properties.contains_key(name) {
            return;
        }
        self.properties.insert(name.to_string(), schema);
        if required {
            self.required.push(Value::String(name.to_string()));
        }
        self.locations.insert(name.to_string(), location.to_string());
    }

    /// A request body: its fields when it is an object, else one `body` parameter.
    fn add_body(&mut self, schema: Value, required: bool) {
        if let Some((properties, fields_required)) = object_fields(&schema) {
            for (name, field) in properties {
                let r = required && fields_required.iter().any(|f| f.as_str() == Some(name.as_str()));
                self.add(&name, field, r, "body");
            }
        } else {
            self.add("body", schema, required, "body_value");
        }
    }

    fn into_schema(self) -> (Value, BTreeMap<String, String>) {
        (json!({"type": "object", "properties": self.properties, "required": self.required}), self.locations)
    }
}

/// The properties and required names of an object schema, or of an `allOf` of object
/// schemas; `None` for anything else.
fn object_fields(schema: &Value) -> Option<(Map<String, Value>, Vec<Value>)> {
    let required = |s: &Value| s.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(Value::Object(p)) = schema.get("properties") {
        return Some((p.clone(), required(schema)));
    }
    let parts = schema.get("allOf")?.as_array()?;
    let mut properties = Map::new();
    let mut all_required = Vec::new();
    for part in parts {
        let (p, r) = object_fields(part)?;
        properties.extend(p);
        all_required.extend(r);
    }
    all_required.extend(required(schema));
    (!properties.is_empty()).then_some((properties, all_required))
}

/// A media type without its parameters, in lower case: `Application/JSON; charset=utf-8` ->
/// `application/json`.
fn essence(media: &str) -> String {
    media.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// A media type a tool can send as a request body.
fn body_media_supported(media: &str) -> bool {
    let m = essence(media);
    m.contains("json") || m == "application/x-www-form-urlencoded" || m == "text/plain" || m == "*/*"
}

/// The preferred media type of a request body: JSON, then form, then text, then anything.
fn pick_body_media(content: &Map<String, Value>) -> Option<&Value> {
    let ranked = |m: &str| {
        let m = essence(m);
        if m == "application/json" {
            0
        } else if m.contains("json") {
            1
        } else if m == "application/x-www-form-urlencoded" {
            2
        } else if m == "text/plain" {
            3
        } else {
            4
        }
    };
    content.iter().filter(|(m, _)| body_media_supported(m)).min_by_key(|(m, _)| ranked(m)).map(|(_, v)| v)
}

/// A JSON media type of a response.
fn response_media_json(media: &str) -> bool {
    let m = essence(media);
    m.contains("json") || m == "*/*"
}

fn operation(
    d: &Document<'_>,
    path: &str,
    method: &str,
    op: &Value,
    shared: Option<&Value>,
) -> Result<ToolSpec, Filter> {
    let Value::Object(op) = op else { return Err(Filter::Malformed) };
    if !d.config.keep_deprecated && op.get("deprecated") == Some(&Value::Bool(true)) {
        return Err(Filter::Deprecated);
    }
    let operation_id = op.get("operationId").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let name =
        operation_id.and_then(names::sanitize).or_else(|| names::from_method_path(method, path)).unwrap_or_default();
    let text = |k: &str| op.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let description = bounded(text("summary").or_else(|| text("description")).unwrap_or(""), d.config.max_description);

    // Path-level parameters first, replaced by the operation's of the same name and place.
    // A replaced parameter leaves a hole (`None`) and the new one goes last; the index by
    // (name, place) keeps this linear in the number of parameters (a document may list tens
    // of thousands before the `max_params` filter drops the tool).
    let mut slots: Vec<Option<&Value>> = Vec::new();
    let mut index: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
    // `parameters: null` is no parameters.
    for group in [shared, op.get("parameters")].into_iter().flatten().filter(|g| !g.is_null()) {
        let Value::Array(items) = group else { return Err(Filter::Malformed) };
        for item in items {
            let p = d.resolver.deref(item).ok_or(Filter::Malformed)?;
            let part = |k: &str| p.get(k).map_or_else(String::new, Value::to_string);
            if let Some(old) = index.insert((part("name"), part("in")), slots.len()) {
                slots[old] = None;
            }
            slots.push(Some(p));
        }
    }
    let list: Vec<&Value> = slots.into_iter().flatten().collect();
    let mut params = Params::default();
    let mut body: Option<(Value, bool)> = None;
    let mut form = false;
    for location in ["path", "query", "header", "cookie", "formData", "body"] {
        for p in list.iter().filter(|p| p.get("in").and_then(Value::as_str) == Some(location)) {
            let Some(name) = p.get("name").and_then(Value::as_str) else { return Err(Filter::Malformed) };
            if location == "header" && CLIENT_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            let required = location == "path" || p.get("required") == Some(&Value::Bool(true));
            if location == "body" {
                let schema = p.get("schema").map_or_else(|| json!({}), |s| d.resolver.schema(s));
                body = Some((schema, required));
                continue;
            }
            if location == "formData" {
                if p.get("type").and_then(Value::as_str) == Some("file") {
                    return Err(Filter::UnsupportedBody);
                }
                form = true;
            }
            let mut schema = parameter_schema(d, p);
            if is_credential(d, location, name, p.get("description").and_then(Value::as_str), &schema)
                || is_client_constant(location, name, required, &schema)
            {
                continue;
            }
            if let (Value::Object(s), Some(Value::String(text))) = (&mut schema, p.get("description"))
                && !s.contains_key("description")
                && !text.trim().is_empty()
            {
                s.insert("description".into(), Value::String(text.trim().to_string()));
            }
            let place = if location == "formData" { "body" } else { location };
            params.add(name, schema, required, place);
        }
    }
    if list.iter().any(|p| {
        let place = p.get("in").and_then(Value::as_str).unwrap_or("");
        !["path", "query", "header", "cookie", "formData", "body"].contains(&place)
    }) {
        return Err(Filter::Malformed);
    }
    if d.swagger && body.is_some() && !form {
        let consumes = op.get("consumes").or(d.consumes);
        if let Some(Value::Array(types)) = consumes
            && !types.is_empty()
            && !types.iter().filter_map(Value::as_str).any(body_media_supported)
        {
            return Err(Filter::UnsupportedBody);
        }
    }
    if let Some(rb) = op.get("requestBody") {
        let rb = d.resolver.deref(rb).ok_or(Filter::Malformed)?;
        let required = rb.get("required") == Some(&Value::Bool(true));
        match rb.get("content") {
            Some(Value::Object(content)) if !content.is_empty() => {
                let media = pick_body_media(content).ok_or(Filter::UnsupportedBody)?;
                let schema = media.get("schema").map_or_else(|| json!({}), |s| d.resolver.schema(s));
                body = Some((schema, required));
            }
            Some(Value::Object(_)) | None => {}
            Some(_) => return Err(Filter::Malformed),
        }
    }
    if let Some((schema, required)) = body {
        params.add_body(schema, required);
    }
    let (parameters, locations) = params.into_schema();
    if is_sign_in(path, &parameters, &locations) {
        return Err(Filter::SignIn);
    }
    let response = response(d, op);
    Ok(ToolSpec {
        id: format!("{}#{method} {path}", d.source),
        name,
        format: TOOL_FORMAT,
        description,
        parameters,
        response,
        provenance: Provenance {
            source: d.source.to_string(),
            format: d.format.to_string(),
            provider: d.provider.clone(),
            service: d.service.clone(),
            path: Some(path.to_string()),
            method: Some(method.to_string()),
            operation_id: operation_id.map(String::from),
            categories: d.categories.clone(),
            locations,
        },
    })
}

/// The schema of a non-body parameter: `schema`, else the first `content` entry's (3.x), or
/// the parameter's own type keywords (2.0).
fn parameter_schema(d: &Document<'_>, p: &Value) -> Value {
    if let Some(schema) = p.get("schema") {
        return d.resolver.schema(schema);
    }
    if let Some(schema) =
        p.get("content").and_then(Value::as_object).and_then(|c| c.values().next()).and_then(|m| m.get("schema"))
    {
        return d.resolver.schema(schema);
    }
    let own: Map<String, Value> =
        SWAGGER_SCHEMA_KEYS.iter().filter_map(|k| p.get(*k).map(|v| ((*k).to_string(), v.clone()))).collect();
    d.resolver.schema(&Value::Object(own))
}

/// The schema of the first successful JSON response (`200` first), or `None`.
fn response(d: &Document<'_>, op: &Map<String, Value>) -> Option<Value> {
    let responses = op.get("responses")?.as_object()?;
    let (_, response) =
        responses.get_key_value("200").or_else(|| responses.iter().find(|(code, _)| code.starts_with('2')))?;
    let response = d.resolver.deref(response)?;
    if d.swagger {
        let produces = op.get("produces").or(d.produces);
        if let Some(Value::Array(types)) = produces
            && !types.is_empty()
            && !types.iter().filter_map(Value::as_str).any(response_media_json)
        {
            return None;
        }
        return response.get("schema").map(|s| d.resolver.schema(s));
    }
    let content = response.get("content")?.as_object()?;
    let media = content
        .iter()
        .find(|(m, _)| m.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")))
        .or_else(|| content.iter().find(|(m, _)| response_media_json(m)))?
        .1;
    media.get("schema").map(|s| d.resolver.schema(s))
}

#[cfg(test)]
mod tests {
    use crate::{IngestConfig, import_document};
    use serde_json::json;
    use worldsmith_core::canonical::json_eq;

    fn one(doc: &serde_json::Value) -> worldsmith_core::tool::ToolSpec {
        let tools = import_document(doc.to_string().as_bytes(), "api/x.json", &IngestConfig::default()).unwrap();
        assert_eq!(tools.len(), 1, "{tools:?}");
        tools.into_iter().next().unwrap()
    }

    #[test]
    fn parameters_of_every_place_merge_into_one_schema() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1", "x-providerName": "example.com", "x-serviceName": "pets",
                     "x-apisguru-categories": ["animals"]},
            "paths": {"/owners/{ownerId}/pets": {
                "parameters": [{"name": "ownerId", "in": "path", "schema": {"type": "integer"}}],
                "post": {
                    "operationId": "addPet",
                    "summary": "  Add a pet. ",
                    "parameters": [
                        {"name": "dryRun", "in": "query", "schema": {"type": "boolean"}, "description": "Only check."},
                        {"name": "X-Trace", "in": "header", "required": true, "schema": {"type": "string"}},
                        {"name": "Accept", "in": "header", "schema": {"type": "string"}}
                    ],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["name"],
                        "properties": {"name": {"type": "string"}, "tag": {"type": "string", "nullable": true}}}}}},
                    "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}
                }
            }}
        });
        let t = one(&doc);
        assert_eq!(t.id, "api/x.json#post /owners/{ownerId}/pets");
        assert_eq!(t.name, "addPet");
        assert_eq!(t.description, "Add a pet.");
        let expected = json!({"type": "object", "properties": {
            "ownerId": {"type": "integer"},
            "dryRun": {"type": "boolean", "description": "Only check."},
            "X-Trace": {"type": "string"},
            "name": {"type": "string"},
            "tag": {"type": ["string", "null"]}
        }, "required": ["ownerId", "X-Trace", "name"]});
        assert!(json_eq(&t.parameters, &expected), "{}", t.parameters);
        assert!(json_eq(t.response.as_ref().unwrap(), &json!({"type": "object"})));
        let p = &t.provenance;
        assert_eq!(
            (p.provider.as_str(), p.service.as_deref(), p.format.as_str()),
            ("example.com", Some("pets"), "openapi-3.0")
        );
        assert_eq!(p.categories, ["animals"]);
        assert_eq!(p.locations["ownerId"], "path");
        assert_eq!(p.locations["dryRun"], "query");
        assert_eq!(p.locations["X-Trace"], "header");
        assert_eq!(p.locations["tag"], "body");
        assert!(!p.locations.contains_key("Accept"));
    }

    #[test]
    fn credentials_are_not_arguments() {
        // vtex declares its headers as `apiKey` schemes; jumpseller sends `login` and
        // `authtoken` as query parameters and declares nothing; hetras has an `App-Key`.
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "components": {"securitySchemes": {
                "appKey": {"type": "apiKey", "in": "header", "name": "X-VTEX-API-AppKey"},
                "bearer": {"type": "http", "scheme": "bearer"}}},
            "paths": {"/promotions/{id}.json": {"delete": {
                "operationId": "deletePromotion", "summary": "Delete an existing Promotion.",
                "parameters": [
                    {"name": "X-VTEX-API-AppKey", "in": "header", "required": true, "schema": {"type": "string"}},
                    {"name": "login", "in": "query", "required": true, "description": "API OAuth login.",
                     "schema": {"type": "string"}},
                    {"name": "authtoken", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "App-Key", "in": "header", "schema": {"type": "string"}},
                    {"name": "id", "in": "path", "schema": {"type": "integer"}},
                    {"name": "token", "in": "query", "description": "The upload token to use.", "schema": {"type": "string"}},
                    {"name": "X-Sds-Auth-Token", "in": "header", "description": "Authentication token",
                     "schema": {"type": "string"}},
                    {"name": "option", "in": "query", "schema": {"type": "string"},
                     "description": "`meeting_authentication`: view the meeting authentication configuration."},
                    {"name": "Authentication", "in": "query", "description": "The authentication method.",
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "KeyId", "in": "query", "description": "The identifier of the API key.",
                     "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}}
            }}}
        });
        let t = one(&doc);
        let names: Vec<&String> = t.parameters["properties"].as_object().unwrap().keys().collect();
        // A token that is a resource (api.video's upload token) stays, and so do parameters
        // whose descriptions speak of authentication but which are no credentials: Zoom's
        // `option` (which settings to view), EC2's `Authentication` options, the id of a key.
        assert_eq!(names, ["id", "token", "option", "Authentication", "KeyId"]);
        assert_eq!(t.parameters["required"], json!(["id"]));
        assert_eq!(t.provenance.locations.len(), 5);
    }

    #[test]
    fn client_constants_are_not_arguments() {
        // AWS's JSON protocol selects the operation by a fixed `X-Amz-Target` header, its
        // query protocol by fixed `Action` and `Version`; Azure's required `api-version` is
        // the document's version, with or without a default; a required parameter of one
        // allowed value says nothing. An optional one of one value is a choice (to send it
        // or not), and so is an API version among several.
        let one_value = |v: &str| json!({"type": "string", "enum": [v]});
        let doc = json!({
            "openapi": "3.0.0",
            "info": {"title": "t", "version": "2021-04-21"},
            "paths": {"/#X-Amz-Target=RedshiftServerless.RestoreFromSnapshot": {"post": {
                "operationId": "RestoreFromSnapshot", "summary": "Restores a namespace from a snapshot.",
                "parameters": [
                    {"name": "X-Amz-Target", "in": "header", "required": true,
                     "schema": one_value("RedshiftServerless.RestoreFromSnapshot")},
                    {"name": "Action", "in": "query", "required": true, "schema": one_value("RestoreFromSnapshot")},
                    {"name": "Version", "in": "query", "required": true, "schema": one_value("2021-04-21")},
                    {"name": "api-version", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "Api-Version", "in": "header", "schema": {"type": "string", "default": "2"}},
                    {"name": "scope", "in": "query", "required": true, "schema": {"type": "string", "const": "feature"}},
                    {"name": "include", "in": "query", "schema": one_value("properties")},
                    {"name": "x-api-version", "in": "query", "schema": {"type": "string", "enum": ["1", "2"]}},
                    {"name": "snapshotName", "in": "query", "required": true, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}}
            }}}
        });
        let t = one(&doc);
        let names: Vec<&String> = t.parameters["properties"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["include", "x-api-version", "snapshotName"]);
        assert_eq!(t.parameters["required"], json!(["snapshotName"]));
        assert_eq!(t.provenance.locations.len(), 3);
    }

    #[test]
    fn operations_are_filtered_with_reasons() {
        let doc = json!({
            "openapi": "3.1.0",
            "servers": [{"url": "https://api.example.org:8443/v1"}],
            "paths": {"/files": {
                "post": {"summary": "Upload.", "requestBody": {"content": {"multipart/form-data": {"schema": {}}}}},
                "put": {"summary": "Old.", "deprecated": true},
                "get": {"responses": {}},
                "delete": "nonsense",
                "patch": {"summary": "Raw.", "requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}}}
            }}
        });
        let tools = import_document(doc.to_string().as_bytes(), "x.json", &IngestConfig::default()).unwrap();
        assert_eq!(tools.len(), 1);
        assert_eq!(tools[0].name, "patch_files");
        assert_eq!(tools[0].provenance.provider, "api.example.org");
        assert_eq!(tools[0].provenance.locations["body"], "body_value");
    }

    #[test]
    fn sign_ins_are_not_tools_but_token_resources_are() {
        let body = |props: serde_json::Value| json!({"content": {"application/json": {"schema": {"type": "object", "properties": props}}}});
        let doc = json!({
            "openapi": "3.0.0",
            "paths": {
                "/auth/api-key": {"post": {"summary": "Authenticate.", "requestBody": body(json!({"apiKey": {"type": "string"}}))}},
                "/oauth2/token": {"post": {"summary": "Token.", "requestBody": body(json!({"client_id": {"type": "string"}, "client_secret": {"type": "string"}}))}},
                "/users/{id}/tokens": {"post": {"summary": "Create a personal token.",
                    "parameters": [{"name": "id", "in": "path", "schema": {"type": "integer"}}],
                    "requestBody": body(json!({"name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}}))}},
                "/users": {"post": {"summary": "Create a user.", "requestBody": body(json!({"password": {"type": "string"}}))}}
            }
        });
        let tools = import_document(doc.to_string().as_bytes(), "x.json", &IngestConfig::default()).unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["post_users_id_tokens", "post_users"]);
    }

    #[test]
    fn null_parameters_are_no_parameters() {
        let doc = json!({
            "openapi": "3.0.0",
            "paths": {"/ping": {"parameters": null, "get": {"summary": "Ping.", "parameters": null}}}
        });
        let tools = import_document(doc.to_string().as_bytes(), "x.json", &IngestConfig::default()).unwrap();
        assert_eq!(tools.len(), 1);
        assert_eq!(tools[0].parameters["properties"], json!({}));
    }

    #[test]
    fn swagger_body_form_and_definitions() {
        let doc = json!({
            "swagger": "2.0",
            "host": "petstore.example:80",
            "consumes": ["application/json"],
            "produces": ["application/json"],
            "definitions": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
            "paths": {
                "/pets": {"post": {"operationId": "addPet", "description": "Add.",
                    "parameters": [{"in": "body", "name": "pet", "required": true, "schema": {"$ref": "#/definitions/Pet"}}],
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}}}},
                "/pets/{id}": {"post": {"operationId": "updatePet", "description": "Update.", "consumes": ["application/x-www-form-urlencoded"],
                    "parameters": [{"in": "path", "name": "id", "type": "integer", "required": true},
                                   {"in": "formData", "name": "status", "type": "string", "enum": ["a", "b"]}],
                    "responses": {"default": {"description": "x"}}}},
                "/pets/{id}/photo": {"post": {"operationId": "upload", "description": "Upload.",
                    "parameters": [{"in": "formData", "name": "file", "type": "file"}], "responses": {}}},
                "/xml": {"post": {"operationId": "xml", "description": "XML.", "consumes": ["application/xml"],
                    "parameters": [{"in": "body", "name": "b", "schema": {"type": "string"}}], "responses": {}}}
            }
        });
        let tools = import_document(doc.to_string().as_bytes(), "s.json", &IngestConfig::default()).unwrap();
        assert_eq!(tools.len(), 2);
        let add = &tools[0];
        assert_eq!(add.provenance.format, "swagger-2.0");
        assert_eq!(add.provenance.provider, "petstore.example");
        assert!(json_eq(
            &add.parameters,
            &json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
        ));
        assert!(add.response.is_some());
        let update = &tools[1];
        assert_eq!(update.provenance.locations["status"], "body");
        assert!(json_eq(&update.parameters["properties"]["id"], &json!({"type": "integer"})));
        assert_eq!(update.response, None);
    }
}
