//! What materialization reports: one [`ToolResult`] per self-checked tool, one
//! [`WorldReport`] per domain (the lines of `materialize_report.jsonl`), and the
//! [`MaterializeSummary`] over all domains (`materialize_summary.json`), whose counted
//! reasons are [`Tally`]s over [`Rejection`] and [`ToolFailure`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use worldsmith_core::tally::Tally;
use worldsmith_engine::ToolError;

/// One tool's self-check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The tool's name.
    pub tool: String,
    /// What the tool was planned to do.
    pub operation: Operation,
    /// How it is implemented.
    #[serde(default)]
    pub implementation: ImplementationKind,
    /// Requests made to the model for this tool (refinement only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub llm_attempts: usize,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a tool was planned to do, as a report line spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Return one record.
    Get,
    /// Return records, maybe filtered.
    List,
    /// Insert a record.
    Create,
    /// Change fields of a record.
    Update,
    /// Remove a record.
    Delete,
    /// An action that fits no CRUD verb, recorded in the record's `last_action`.
    Action,
    /// An action that moves a record into the state its verb names.
    Transition,
}

/// How a tool is implemented, as a report line spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImplementationKind {
    /// A declarative operation (`op`).
    #[default]
    Op,
    /// Generated Starlark (`script`).
    Script,
    /// Starlark a model wrote after the generated implementation failed (`llm`).
    Llm,
}

/// One domain's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorldReport {
    /// The domain.
    pub domain: String,
    /// The world's name.
    pub world: String,
    /// Whether the world was kept.
    pub kept: bool,
    /// Why it was not kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Collections inferred.
    pub collections: usize,
    /// Tools in the domain.
    pub tools: usize,
    /// Tools that passed the self-check.
    pub passed: usize,
    /// Per tool.
    pub results: Vec<ToolResult>,
    /// The semantic round trips run between the tools that passed; a tool at fault in a
    /// failed one is left out (its result says why).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub round_trips: Vec<RoundTripResult>,
    /// How its generated data reads.
    #[serde(default)]
    pub data: DataQuality,
}

/// A semantic round trip between two tools of a collection (see the `round_trip` module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RoundTrip {
    /// A create, then a get of the new record: found, holding what was written.
    #[serde(rename = "create then get")]
    CreateThenGet,
    /// A create, then a list: the new record is listed.
    #[serde(rename = "create then list")]
    CreateThenList,
    /// An update, then a get: the new values show.
    #[serde(rename = "update then get")]
    UpdateThenGet,
    /// A delete, then a get: not found.
    #[serde(rename = "delete then get")]
    DeleteThenGet,
    /// A get under another parent than the record's: not found.
    #[serde(rename = "wrong parent")]
    WrongParent,
}

impl RoundTrip {
    /// Every round trip, in report order.
    pub const ALL: [RoundTrip; 5] = [
        RoundTrip::CreateThenGet,
        RoundTrip::CreateThenList,
        RoundTrip::UpdateThenGet,
        RoundTrip::DeleteThenGet,
        RoundTrip::WrongParent,
    ];

    /// Its name, as reports spell it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RoundTrip::CreateThenGet => "create then get",
            RoundTrip::CreateThenList => "create then list",
            RoundTrip::UpdateThenGet => "update then get",
            RoundTrip::DeleteThenGet => "delete then get",
            RoundTrip::WrongParent => "wrong parent",
        }
    }
}

/// One round trip run on a world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundTripResult {
    /// What it checks.
    pub check: RoundTrip,
    /// The collection.
    pub collection: String,
    /// The tool that writes (the get itself for a wrong-parent trip).
    pub write: String,
    /// The tool that reads back.
    pub read: String,
    /// Whether it held.
    pub passed: bool,
    /// What went wrong, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How a world's generated data reads: its string values and how many are placeholders
/// (`harbor-3`, see [`crate::data::is_placeholder`]), its objects and how many are bare
/// stubs (`{"label": ...}`) or empty (free-form objects with no known properties).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataQuality {
    /// String values, nested ones included.
    pub strings: usize,
    /// Of those, placeholders.
    pub placeholders: usize,
    /// Objects, nested ones included (records themselves not counted).
    pub objects: usize,
    /// Of those, bare `{"label": ...}` stubs.
    pub stubs: usize,
    /// Of those, empty objects.
    pub empty_objects: usize,
}

impl DataQuality {
    /// Counts the values of records (collection -> key -> record).
    #[must_use]
    pub fn of<'r>(records: impl IntoIterator<Item = &'r serde_json::Value>) -> DataQuality {
        let mut q = DataQuality::default();
        for r in records {
            if let Some(fields) = r.as_object() {
                fields.values().for_each(|v| q.count(v));
            }
        }
        q
    }

    fn count(&mut self, v: &serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::String(s) => {
                self.strings += 1;
                self.placeholders += usize::from(crate::data::is_placeholder(s));
            }
            Value::Array(items) => items.iter().for_each(|i| self.count(i)),
            Value::Object(m) => {
                self.objects += 1;
                self.empty_objects += usize::from(m.is_empty());
                self.stubs += usize::from(m.len() == 1 && m.contains_key("label"));
                m.values().for_each(|i| self.count(i));
            }
            _ => {}
        }
    }

    /// Adds another world's counts.
    pub fn add(&mut self, other: &DataQuality) {
        self.strings += other.strings;
        self.placeholders += other.placeholders;
        self.objects += other.objects;
        self.stubs += other.stubs;
        self.empty_objects += other.empty_objects;
    }

    /// Whether most string values are placeholders: such a world is not kept.
    #[must_use]
    pub fn mostly_placeholders(&self) -> bool {
        self.strings > 0 && self.placeholders * 2 > self.strings
    }
}

/// A world ready to be written: relative path -> contents.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedWorld {
    /// The world's name (its directory).
    pub name: String,
    /// `world.json` and `data/<collection>.json`.
    pub files: Vec<(String, String)>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Counts over all domains.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MaterializeSummary {
    /// Domains read.
    pub domains: usize,
    /// Domains skipped for having fewer than `min_tools` known tools.
    pub skipped_small: usize,
    /// Worlds kept.
    pub kept: usize,
    /// Domains attempted but not kept, by reason.
    pub rejected: Tally<Rejection>,
    /// Tools self-checked, and passed.
    pub tools_checked: usize,
    /// Tools that passed.
    pub tools_passed: usize,
    /// Tools in the kept worlds.
    #[serde(default)]
    pub tools_kept: usize,
    /// Tools in the pool the domains were drawn from (set by the caller that read it; 0 when
    /// unknown).
    #[serde(default)]
    pub pool_tools: usize,
    /// Failing tools by reason.
    pub tool_failures: Tally<ToolFailure>,
    /// Tools implemented by generated Starlark.
    #[serde(default)]
    pub scripted_tools: usize,
    /// Tools that failed and that a model was asked to implement.
    #[serde(default)]
    pub refine_asked: usize,
    /// Tools a model's script made pass.
    #[serde(default)]
    pub refine_passed: usize,
    /// Requests made to the model.
    #[serde(default)]
    pub refine_requests: usize,
    /// Semantic round trips run, by kind.
    #[serde(default)]
    pub round_trips_run: Tally<RoundTrip>,
    /// Of those, the ones that failed (their tools left out), by kind.
    #[serde(default)]
    pub round_trips_failed: Tally<RoundTrip>,
    /// How the data of the kept worlds reads.
    #[serde(default)]
    pub data: DataQuality,
}

impl MaterializeSummary {
    /// Counts one attempted domain: its tools, and why it was not kept (`None`: it was).
    pub(crate) fn count(&mut self, report: &WorldReport, rejection: Option<Rejection>, failures: &[ToolFailure]) {
        self.tools_checked += report.results.len();
        self.tools_passed += report.passed;
        for r in &report.results {
            self.scripted_tools += usize::from(r.passed && r.implementation == ImplementationKind::Script);
            self.refine_asked += usize::from(r.llm_attempts > 0);
            self.refine_passed += usize::from(r.passed && r.implementation == ImplementationKind::Llm);
            self.refine_requests += r.llm_attempts;
        }
        for f in failures {
            self.tool_failures.add(f.clone());
        }
        for t in &report.round_trips {
            self.round_trips_run.add(t.check);
            if !t.passed {
                self.round_trips_failed.add(t.check);
            }
        }
        match rejection {
            Some(r) => self.rejected.add(r),
            None => {
                self.kept += 1;
                self.tools_kept += report.passed;
                self.data.add(&report.data);
            }
        }
    }
}

/// Why an attempted domain's world was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Rejection {
    /// The engine refused the generated files (`load: <the first diagnostic>`).
    #[serde(rename = "load")]
    Load,
    /// Too few tools passed the self-check (`self-check: N of M tools passed`).
    #[serde(rename = "self-check")]
    SelfCheck,
    /// The kept tools failed `world check` (`world check: <tool>: <outcome>`).
    #[serde(rename = "world check")]
    WorldCheck,
    /// Most of the generated string values are placeholders (`placeholders: N of M strings`).
    #[serde(rename = "placeholders")]
    Placeholders,
}

/// Why a tool failed its self-check, as counted in [`MaterializeSummary::tool_failures`].
///
/// A reason is named as the start of the message a [`ToolResult`] carries, up to its first
/// `:` (``invalid arguments for `getPet` ``), so the engine's errors count per tool, and a
/// refusal (a script's `fail(...)`, free text) by its message up to the first `:`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ToolFailure {
    /// The self-check called a tool the world does not have.
    UnknownTool {
        /// The name called.
        name: String,
        /// The engine's suggestion (`; did you mean `x`?`), or empty.
        suggestion: String,
    },
    /// The arguments broke the tool's parameter schema.
    InvalidArguments {
        /// The tool.
        tool: String,
    },
    /// The tool refused; the refusal's message up to its first `:`.
    Refused(String),
    /// A script exceeded a limit.
    LimitExceeded {
        /// The tool.
        tool: String,
    },
    /// A script raised an error.
    ScriptError {
        /// The tool.
        tool: String,
    },
    /// The tool tried to write a record that breaks the schema.
    InvalidWrite {
        /// The tool.
        tool: String,
    },
    /// A write succeeded but changed nothing.
    NoChange,
    /// The state offered no arguments to call the tool with.
    NoArguments,
    /// The tool works on a collection the world lacks.
    NoCollection,
    /// Refinement: the model's endpoint failed.
    Llm,
    /// Refinement: no script the model wrote passed.
    LlmScript,
    /// The tool was at fault in a failed semantic round trip.
    RoundTrip(RoundTrip),
}

impl ToolFailure {
    /// The reason of an engine error a tool call returned.
    #[must_use]
    pub fn of(error: &ToolError) -> ToolFailure {
        match error {
            ToolError::UnknownTool { name, suggestion } => {
                ToolFailure::UnknownTool { name: name.clone(), suggestion: suggestion.clone() }
            }
            ToolError::InvalidArguments { tool, .. } => ToolFailure::InvalidArguments { tool: tool.clone() },
            ToolError::Failed(message) => ToolFailure::Refused(refusal_head(message).to_owned()),
            ToolError::LimitExceeded { tool, .. } => ToolFailure::LimitExceeded { tool: tool.clone() },
            ToolError::Script { tool, .. } => ToolFailure::ScriptError { tool: tool.clone() },
            ToolError::InvalidWrite { tool, .. } => ToolFailure::InvalidWrite { tool: tool.clone() },
        }
    }

    /// The reason a name stands for (the inverse of its `Display`): a name that is none of
    /// the fixed forms is a refusal.
    fn from_name(name: &str) -> ToolFailure {
        let quoted = |prefix: &str, suffix: &str| {
            name.strip_prefix(prefix)?.strip_suffix(suffix).filter(|t| !t.contains('`')).map(str::to_owned)
        };
        if let Some(tool) = quoted("invalid arguments for `", "`") {
            return ToolFailure::InvalidArguments { tool };
        }
        if let Some(tool) = quoted("`", "` stopped") {
            return ToolFailure::LimitExceeded { tool };
        }
        if let Some(tool) = quoted("`", "` failed with a script error") {
            return ToolFailure::ScriptError { tool };
        }
        if let Some(tool) = quoted("`", "` tried to write an invalid record") {
            return ToolFailure::InvalidWrite { tool };
        }
        if let Some((name, suggestion)) = name.strip_prefix("unknown tool `").and_then(|rest| rest.split_once('`')) {
            return ToolFailure::UnknownTool { name: name.to_owned(), suggestion: suggestion.to_owned() };
        }
        if let Some(trip) = name
            .strip_prefix("round trip (")
            .and_then(|t| t.strip_suffix(')'))
            .and_then(|t| RoundTrip::ALL.into_iter().find(|r| r.name() == t))
        {
            return ToolFailure::RoundTrip(trip);
        }
        match name {
            "no change" => ToolFailure::NoChange,
            "no arguments to try" => ToolFailure::NoArguments,
            "no collection" => ToolFailure::NoCollection,
            "llm" => ToolFailure::Llm,
            "llm script" => ToolFailure::LlmScript,
            other => ToolFailure::Refused(other.to_owned()),
        }
    }
}

/// A refusal's message up to its first `:` (`no record O-9: ...` -> `no record O-9`): a
/// script's `fail(...)` text has no structure to count by but its start.
fn refusal_head(message: &str) -> &str {
    message.split(':').next().unwrap_or(message)
}

impl fmt::Display for ToolFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolFailure::UnknownTool { name, suggestion } => write!(f, "unknown tool `{name}`{suggestion}"),
            ToolFailure::InvalidArguments { tool } => write!(f, "invalid arguments for `{tool}`"),
            ToolFailure::Refused(head) => f.write_str(head),
            ToolFailure::LimitExceeded { tool } => write!(f, "`{tool}` stopped"),
            ToolFailure::ScriptError { tool } => write!(f, "`{tool}` failed with a script error"),
            ToolFailure::InvalidWrite { tool } => write!(f, "`{tool}` tried to write an invalid record"),
            ToolFailure::NoChange => f.write_str("no change"),
            ToolFailure::NoArguments => f.write_str("no arguments to try"),
            ToolFailure::NoCollection => f.write_str("no collection"),
            ToolFailure::Llm => f.write_str("llm"),
            ToolFailure::LlmScript => f.write_str("llm script"),
            ToolFailure::RoundTrip(trip) => write!(f, "round trip ({})", trip.name()),
        }
    }
}

impl Serialize for ToolFailure {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ToolFailure {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ToolFailure, D::Error> {
        Ok(ToolFailure::from_name(&String::deserialize(deserializer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_failures_are_named_as_their_messages_start_and_read_back() {
        let errors = [
            ToolError::UnknownTool { name: "getPt".into(), suggestion: "; did you mean `getPet`?".into() },
            ToolError::InvalidArguments { tool: "getPet".into(), message: "/id: 1 is not of type \"string\"".into() },
            ToolError::Failed("no `pets` record with key \"P-9\": gone".into()),
            ToolError::LimitExceeded { tool: "scan".into(), message: "ticks".into() },
            ToolError::Script { tool: "scan".into(), message: "boom: here".into() },
            ToolError::InvalidWrite { tool: "addPet".into(), message: "/name: missing".into() },
        ];
        for e in &errors {
            let reason = ToolFailure::of(e);
            let text = e.to_string();
            assert_eq!(reason.to_string(), text.split(':').next().unwrap(), "{e:?}");
            assert_eq!(ToolFailure::from_name(&reason.to_string()), reason, "{e:?}");
        }
        for fixed in [
            ToolFailure::NoChange,
            ToolFailure::NoArguments,
            ToolFailure::NoCollection,
            ToolFailure::Llm,
            ToolFailure::LlmScript,
            ToolFailure::RoundTrip(RoundTrip::WrongParent),
            ToolFailure::RoundTrip(RoundTrip::CreateThenGet),
        ] {
            assert_eq!(ToolFailure::from_name(&fixed.to_string()), fixed);
        }
        let mut tally = Tally::default();
        tally.add(ToolFailure::NoChange);
        tally.add(ToolFailure::InvalidArguments { tool: "b".into() });
        tally.add(ToolFailure::InvalidArguments { tool: "b".into() });
        let text = serde_json::to_string(&tally).unwrap();
        assert_eq!(text, r#"{"invalid arguments for `b`":2,"no change":1}"#);
        assert_eq!(serde_json::from_str::<Tally<ToolFailure>>(&text).unwrap(), tally);
    }

    #[test]
    fn rejections_keep_their_names() {
        let mut tally = Tally::default();
        for r in [Rejection::WorldCheck, Rejection::SelfCheck, Rejection::Load, Rejection::SelfCheck] {
            tally.add(r);
        }
        assert_eq!(serde_json::to_string(&tally).unwrap(), r#"{"load":1,"self-check":2,"world check":1}"#);
    }
}
