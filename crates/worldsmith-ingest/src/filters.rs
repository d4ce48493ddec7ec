//! Quality filters: why a candidate tool is not written.

use crate::IngestConfig;
use worldsmith_core::tool::ToolSpec;

/// Why a candidate tool was dropped (counted in [`crate::IngestSummary::filtered`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Filter {
    /// No `operationId`, function name or method and path that gives a valid name.
    NoName,
    /// No summary or description.
    NoDescription,
    /// More parameters than [`IngestConfig::max_params`].
    TooManyParameters,
    /// A request body only in media types a tool cannot send (multipart, octet streams,
    /// XML, ...), or a Swagger `file` parameter.
    UnsupportedBody,
    /// Marked `deprecated` (kept with [`IngestConfig::keep_deprecated`]).
    Deprecated,
    /// The same name and parameters from the same provider as a tool already written.
    Duplicate,
    /// The operation or function is not shaped as its format says (e.g. `parameters` is
    /// not a list, a function has no object schema).
    Malformed,
    /// A sign-in: an operation under an authentication path that takes a secret (`POST
    /// /auth/api-key` with an `apiKey`, a token endpoint with a `client_secret`). Worlds
    /// have no authentication, and a secret is never state.
    SignIn,
}

impl Filter {
    /// The reason's stable name in summaries.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Filter::NoName => "no_name",
            Filter::NoDescription => "no_description",
            Filter::TooManyParameters => "too_many_parameters",
            Filter::UnsupportedBody => "unsupported_body",
            Filter::Deprecated => "deprecated",
            Filter::Duplicate => "duplicate",
            Filter::Malformed => "malformed",
            Filter::SignIn => "sign_in",
        }
    }
}

/// The checks every format shares, on a built candidate.
pub fn check(tool: &ToolSpec, config: &IngestConfig) -> Option<Filter> {
    if !crate::names::is_valid(&tool.name) {
        return Some(Filter::NoName);
    }
    if tool.description.trim().is_empty() {
        return Some(Filter::NoDescription);
    }
    let params = tool.parameters.get("properties").and_then(|p| p.as_object()).map_or(0, serde_json::Map::len);
    if params > config.max_params {
        return Some(Filter::TooManyParameters);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, description: &str, params: usize) -> ToolSpec {
        let properties: serde_json::Map<String, serde_json::Value> =
            (0..params).map(|i| (format!("p{i}"), json!({"type": "string"}))).collect();
        ToolSpec {
            id: "x#f".into(),
            name: name.into(),
            format: worldsmith_core::tool::TOOL_FORMAT,
            description: description.into(),
            parameters: json!({"type": "object", "properties": properties}),
            response: None,
            provenance: Default::default(),
        }
    }

    #[test]
    fn each_reason_is_found() {
        let config = IngestConfig { max_params: 3, ..IngestConfig::default() };
        assert_eq!(check(&tool("f", "Does f.", 3), &config), None);
        assert_eq!(check(&tool("", "Does f.", 0), &config), Some(Filter::NoName));
        assert_eq!(check(&tool("f", "  ", 0), &config), Some(Filter::NoDescription));
        assert_eq!(check(&tool("f", "Does f.", 4), &config), Some(Filter::TooManyParameters));
        assert_eq!(Filter::UnsupportedBody.as_str(), "unsupported_body");
    }
}
