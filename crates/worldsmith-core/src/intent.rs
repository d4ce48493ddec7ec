//! How tools, parameters and fields read in English, and how to tell a goal that does not.
//! Synthesis writes goals with it; the scripted agents describe calls with it.
//!
//! A tool's **intent** is a verb and an object ("cancel" "order", "delete" "an existing
//! promotion"), taken from the first source that reads as English: the tool's name when its
//! words are a known verb and plain nouns (`cancel_order`, `createBlock`), else the first
//! clause of its description (an operation's own summary: "Delete an existing Promotion"),
//! else its declarative operation and collection (`get` on `promotions`: "get" "promotion"),
//! else the name's words with HTTP method words read as verbs (`transport_id_patch`:
//! "update" "transport"). Reads look at the operation before the description, so that
//! questions name the record ("the promotion"), not the summary.
//!
//! [`placeholder_tokens`] finds what no person writes in a request: identifiers
//! (`fundingBalanceAccountId`, `id_json`), HTTP method words used as nouns ("Suppliers
//! Post"), repeated words ("follows follow"); values, which are data, are masked first.

use crate::ident::{phrase, singular};

/// What a declarative operation does, for a tool's intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Reads one record.
    Get,
    /// Lists or searches records.
    List,
    /// Creates a record.
    Create,
    /// Updates a record.
    Update,
    /// Deletes a record.
    Delete,
}

/// Verbs a tool name or summary may start with (base forms).
const VERBS: &[&str] = &[
    "accept",
    "activate",
    "add",
    "apply",
    "approve",
    "archive",
    "assign",
    "attach",
    "authorize",
    "block",
    "book",
    "cancel",
    "capture",
    "change",
    "charge",
    "check",
    "clear",
    "close",
    "complete",
    "confirm",
    "copy",
    "count",
    "create",
    "deactivate",
    "decline",
    "delete",
    "disable",
    "dispute",
    "download",
    "edit",
    "enable",
    "end",
    "export",
    "fetch",
    "find",
    "freeze",
    "generate",
    "get",
    "import",
    "invite",
    "issue",
    "link",
    "list",
    "load",
    "lock",
    "look",
    "make",
    "mark",
    "modify",
    "move",
    "open",
    "pause",
    "pay",
    "place",
    "port",
    "publish",
    "quote",
    "read",
    "redeem",
    "refund",
    "register",
    "reject",
    "release",
    "remove",
    "rename",
    "renew",
    "reopen",
    "replace",
    "report",
    "request",
    "reset",
    "resolve",
    "restore",
    "resume",
    "retrieve",
    "return",
    "revoke",
    "run",
    "save",
    "schedule",
    "search",
    "send",
    "set",
    "share",
    "show",
    "sign",
    "start",
    "stop",
    "submit",
    "subscribe",
    "suspend",
    "swap",
    "switch",
    "sync",
    "terminate",
    "transfer",
    "trigger",
    "unblock",
    "unfreeze",
    "unlink",
    "unlock",
    "unsubscribe",
    "update",
    "upgrade",
    "upload",
    "validate",
    "verify",
    "view",
    "void",
    "waive",
    "withdraw",
    "sell",
    "buy",
    "purchase",
    "reserve",
    "rent",
    "order",
    "ship",
    "rate",
    "review",
    "follow",
    "unfollow",
    "like",
    "unlike",
    "star",
    "unstar",
    "tag",
    "untag",
    "vote",
    "reply",
    "comment",
    "join",
    "leave",
    "pin",
    "unpin",
    "print",
    "scan",
    "convert",
    "translate",
    "merge",
    "split",
    "deploy",
    "restart",
    "reboot",
    "rotate",
    "refresh",
    "deposit",
    "donate",
    "fund",
    "exchange",
];

/// Words that make a name or summary read as a machine's, not a person's.
const JUNK: &[&str] =
    &["id", "ids", "json", "xml", "api", "post", "put", "patch", "head", "http", "https", "uri", "url"];

/// HTTP method words, as they appear in generated tool names.
const METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head"];

/// Verbs that bring a record into being: their object takes "a"/"an".
const CREATING: &[&str] = &[
    "add", "book", "create", "generate", "invite", "issue", "make", "open", "place", "register", "request", "schedule",
    "send", "submit", "upload",
];

/// Words that start an object that needs no article of ours.
const DETERMINERS: &[&str] = &[
    "a", "an", "the", "all", "one", "some", "every", "each", "my", "your", "its", "their", "this", "these", "new",
    "or", "and",
];

/// What a tool does, as a verb and its object (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// The verb, lower case, base form: `cancel`.
    pub verb: String,
    /// The object, as words (may start with its own article): `order`, `an existing promotion`.
    pub object: String,
}

impl Intent {
    /// The object with an article when it has none: `the order`, `a new block`,
    /// `the orders`.
    #[must_use]
    pub fn object_phrase(&self) -> String {
        let object = match self.object.split_once(' ') {
            Some((first, rest)) if first == self.verb => rest,
            _ => self.object.as_str(),
        };
        if object.is_empty() {
            return String::new();
        }
        let first = object.split(' ').next().unwrap_or("");
        if DETERMINERS.contains(&first) {
            return object.to_owned();
        }
        if CREATING.contains(&self.verb.as_str()) && !plural(object) {
            let article = if object.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
            format!("{article} {object}")
        } else {
            format!("the {object}")
        }
    }

    /// The object without a leading article (`an existing promotion` -> `existing
    /// promotion`), nor the verb said again (`update` `update group` -> `group`).
    #[must_use]
    pub fn bare_object(&self) -> String {
        let mut words: Vec<&str> = self.object.split(' ').filter(|w| !w.is_empty()).collect();
        while words.len() > 1 && (matches!(words[0], "a" | "an" | "the" | "one") || words[0] == self.verb) {
            words.remove(0);
        }
        words.join(" ")
    }
}

/// The intent of a tool (see the module documentation): `op` is its declarative operation
/// and that operation's collection, when it has one.
#[must_use]
pub fn tool_intent(name: &str, description: &str, op: Option<(OpKind, &str)>, write: bool) -> Intent {
    let name = without_method_suffix(name);
    let named = from_name(name);
    if named.is_some() {
        return named.unwrap_or_else(|| unreachable!());
    }
    let described = || from_description(description, write);
    let operated = || op.and_then(|(kind, collection)| from_op(kind, collection));
    let found = if write { described().or_else(operated) } else { operated().or_else(described) };
    found.unwrap_or_else(|| from_method_words(name, write))
}

/// A name without the HTTP method Springfox appends to generated operation ids
/// (`getAnnotationsUsingGET` and its deduplicated `getAnnotationsUsingGET_1a2b3c` ->
/// `getAnnotations`).
fn without_method_suffix(name: &str) -> &str {
    let unique = name
        .rsplit_once('_')
        .filter(|(_, tail)| tail.chars().all(|c| c.is_ascii_hexdigit()))
        .map_or(name, |(head, _)| head);
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        .iter()
        .find_map(|m| unique.strip_suffix(m).and_then(|r| r.strip_suffix("Using")))
        .filter(|stem| !stem.is_empty())
        .unwrap_or(name)
}

/// `cancel_order` -> (cancel, order), when the name reads as English.
fn from_name(name: &str) -> Option<Intent> {
    let p = phrase(name);
    let words: Vec<&str> = p.split(' ').collect();
    if !(1..=5).contains(&words.len()) || !VERBS.contains(&words[0]) {
        return None;
    }
    let rest = &words[1..];
    let plain = rest.iter().all(|w| w.chars().all(|c| c.is_ascii_alphabetic()) && w.len() > 1);
    let junk = rest.iter().any(|w| {
        let w = w.to_lowercase();
        JUNK.contains(&w.as_str()) || METHODS.contains(&w.as_str())
    });
    let verbs_again = rest.iter().any(|w| matches!(*w, "get" | "list" | "create" | "update" | "retrieve" | "remove"));
    if !plain || junk || verbs_again || repeats(rest) {
        return None;
    }
    Some(Intent { verb: words[0].to_owned(), object: rest.join(" ") })
}

/// The first clause of a summary: "Delete an existing Promotion." -> (delete, an existing
/// promotion); "Retrieves a `TransportInfobip` resource." -> (retrieve, a transport infobip).
fn from_description(description: &str, write: bool) -> Option<Intent> {
    let first = description.trim().split(['\n', '(', ':', ';', ',']).next()?.split(". ").next()?.trim();
    let first = first.trim_end_matches('.').split(" - ").next()?.trim();
    if first.contains("http") || first.contains('`') || first.contains('"') || first.contains('/') {
        return None;
    }
    let mut words: Vec<String> = Vec::new();
    for raw in first.split_whitespace() {
        let p = phrase(raw);
        if p.is_empty() {
            continue;
        }
        if !p.chars().all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '\'') {
            return None;
        }
        words.extend(p.split(' ').map(str::to_owned));
    }
    if words.len() < 2 {
        return None;
    }
    let verb = base_verb(&words[0].to_lowercase(), write)?;
    let mut object: Vec<String> = words[1..].to_vec();
    // "... by type for current user": the context says what the call is for.
    if let Some(cut) = object.iter().skip(1).position(|w| {
        matches!(w.as_str(), "by" | "for" | "with" | "from" | "using" | "given" | "in" | "on" | "to" | "that" | "which")
    }) {
        object.truncate(cut + 1);
    }
    while object.len() > 1
        && matches!(object.last().map(String::as_str), Some("resource" | "object" | "entity" | "record" | "resources"))
    {
        object.pop();
    }
    if object.is_empty() || object.len() > 6 {
        return None;
    }
    if object.iter().any(|w| JUNK.contains(&w.to_lowercase().as_str()) || METHODS.contains(&w.as_str())) {
        return None;
    }
    if repeats(&object.iter().map(String::as_str).collect::<Vec<_>>()) {
        return None;
    }
    Some(Intent { verb, object: object.join(" ") })
}

/// The base form of a summary's first word, if it is a verb: `Creates` -> `create`,
/// `Returns` -> `get` for a read.
fn base_verb(word: &str, write: bool) -> Option<String> {
    let candidates = [
        word.to_owned(),
        word.strip_suffix("ies").map(|s| format!("{s}y")).unwrap_or_default(),
        word.strip_suffix("es").unwrap_or_default().to_owned(),
        word.strip_suffix('s').unwrap_or_default().to_owned(),
    ];
    let verb = candidates.into_iter().find(|c| !c.is_empty() && VERBS.contains(&c.as_str()))?;
    Some(match verb.as_str() {
        "return" | "retrieve" | "fetch" | "read" | "view" | "show" if !write => "get".to_owned(),
        _ => verb,
    })
}

/// From a declarative operation: `get` on `promotions` -> (get, promotion).
fn from_op(op: OpKind, collection: &str) -> Option<Intent> {
    let collection = phrase(collection);
    if collection.is_empty() || collection.split(' ').any(|w| JUNK.contains(&w.to_lowercase().as_str())) {
        return None;
    }
    let one = singular_phrase(&collection);
    let (verb, object) = match op {
        OpKind::Get => ("get", one),
        OpKind::List => ("list", collection),
        OpKind::Create => ("create", format!("new {one}")),
        OpKind::Update => ("update", one),
        OpKind::Delete => ("delete", one),
    };
    Some(Intent { verb: verb.to_owned(), object })
}

/// The name's words with HTTP method words as verbs: `api_transport-telegram_id_patch` ->
/// (update, transport telegram).
fn from_method_words(name: &str, write: bool) -> Intent {
    let p = phrase(name).to_lowercase();
    let words: Vec<&str> = p.split(' ').filter(|w| !w.is_empty()).collect();
    let mut verb = if write { "update" } else { "get" };
    for w in &words {
        match *w {
            "post" | "create" | "add" => verb = "create",
            "put" | "patch" | "update" => verb = "update",
            "delete" | "remove" => verb = "delete",
            "list" => verb = "list",
            _ => {}
        }
    }
    let mut object: Vec<&str> = Vec::new();
    for w in words {
        let skip = JUNK.contains(&w)
            || METHODS.contains(&w)
            || VERBS.contains(&w)
            || w.chars().all(|c| c.is_ascii_digit())
            || (w.starts_with('v') && w[1..].chars().all(|c| c.is_ascii_digit()) && w.len() > 1);
        if skip || object.last().is_some_and(|l| singular(l) == singular(w)) {
            continue;
        }
        object.push(w);
    }
    let start = object.len().saturating_sub(3);
    let object = object[start..].join(" ");
    let object = if object.is_empty() {
        "record".to_owned()
    } else if verb == "list" {
        object
    } else {
        singular_phrase(&object)
    };
    Intent { verb: verb.to_owned(), object }
}

/// Whether two neighbouring words are the same word (`follows follow`).
fn repeats(words: &[&str]) -> bool {
    words.windows(2).any(|w| singular(&w[0].to_lowercase()) == singular(&w[1].to_lowercase()))
}

/// Whether a phrase names several things: its head (the last word before any "of") is a
/// plural (`fees`, not `label of the balances`).
#[must_use]
pub fn plural(object: &str) -> bool {
    let head = object.split(" of ").next().unwrap_or(object);
    let last = head.rsplit(' ').next().unwrap_or("");
    singular(last) != last
}

/// A phrase with its last word in the singular: `price margins` -> `price margin`.
#[must_use]
pub fn singular_phrase(text: &str) -> String {
    match text.rsplit_once(' ') {
        Some((head, last)) => format!("{head} {}", singular(last)),
        None => singular(text),
    }
}

/// The thing an id parameter names, as words: `payment_method_id` -> `payment method`,
/// `contentSubmissionID` -> `content submission`, `item_ids` -> `items`; a bare `id` names
/// the collection's record (`promotion`), else `record`.
#[must_use]
pub fn param_noun(name: &str, collection: Option<&str>) -> String {
    let stripped = [("_ids", true), ("Ids", true), ("IDs", true), ("_id", false), ("Id", false), ("ID", false)]
        .iter()
        .find_map(|(suffix, many)| name.strip_suffix(suffix).map(|s| (s, *many)));
    acronyms(&match stripped {
        Some((base, many)) if !base.is_empty() => {
            let p = phrase(base);
            if many { format!("{p}s") } else { p }
        }
        Some(_) | None if name.eq_ignore_ascii_case("id") => {
            collection.map(|c| singular_phrase(&phrase(c))).filter(|c| !c.is_empty()).unwrap_or_else(|| "record".into())
        }
        _ => phrase(name),
    })
}

/// Words that are acronyms people write in capitals (`api key` -> `API key`).
fn acronyms(text: &str) -> String {
    text.split(' ')
        .map(|w| match w {
            "api" | "url" | "uri" | "ip" | "http" | "iban" | "vat" | "pdf" | "sms" | "dns" | "xml" | "json"
            | "html" | "csv" | "sql" | "ssl" | "tls" | "ssh" | "sku" | "uuid" | "utc" => w.to_uppercase(),
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A field as the thing a question asks for: `credit_limit` and `creditLimit` -> `credit
/// limit`, `placed_on` -> `placed date`, `booked_at` -> `booked time`, `is_refundable` ->
/// `refundable`; a key that is data, not a field name (`{"Fleece Jacket": 3}`), is
/// `entry "Fleece Jacket"`.
#[must_use]
pub fn field_label(field: &str) -> String {
    let identifier = !field.is_empty()
        && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && field.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if !identifier {
        return format!("entry \"{field}\"");
    }
    let stem =
        field.strip_prefix("is_").or_else(|| field.strip_prefix("is").filter(|r| r.starts_with(char::is_uppercase)));
    if let Some(stem) = stem {
        return acronyms(&phrase(stem));
    }
    acronyms(&if let Some(stem) = field.strip_suffix("_on") {
        format!("{} date", phrase(stem))
    } else if let Some(stem) = field.strip_suffix("_at").or_else(|| field.strip_suffix("At")) {
        format!("{} time", phrase(stem))
    } else {
        phrase(field)
    })
}

/// How a yes/no question about a boolean field reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolForm {
    /// "Is the reservation refundable?" (an adjective or participle).
    Is,
    /// "Does the account have overdraft protection?" (`has_x`).
    Has,
    /// "Is roaming on for line L-1?" (a noun).
    On,
}

/// The form of a boolean field's question.
#[must_use]
pub fn bool_form(field: &str) -> BoolForm {
    if field.starts_with("has_") || (field.starts_with("has") && field[3..].starts_with(char::is_uppercase)) {
        return BoolForm::Has;
    }
    if field.starts_with("is_") || (field.starts_with("is") && field[2..].starts_with(char::is_uppercase)) {
        return BoolForm::Is;
    }
    let label = field_label(field);
    let last = label.rsplit(' ').next().unwrap_or("");
    let adjective =
        ["able", "ible", "ed", "ive", "ent", "ant", "al", "ful", "ous", "ic"].iter().any(|s| last.ends_with(s))
            || matches!(
                last,
                "active" | "open" | "closed" | "locked" | "unlocked" | "valid" | "free" | "public" | "private"
            );
    if adjective { BoolForm::Is } else { BoolForm::On }
}

/// The words of `text` that read as a machine's, not a person's, once the `values` (data:
/// arguments, facts, answers) are masked out: identifiers with `_` or inner capitals, `{`
/// and `}`, `json`/`xml`/`api`, an HTTP method word used as a noun ("Suppliers Post", "id
/// get of"), and a word said twice in a row ("follows follow").
#[must_use]
pub fn placeholder_tokens(text: &str, values: &[String]) -> Vec<String> {
    let mut masked = text.to_owned();
    let mut values: Vec<&String> = values.iter().filter(|v| !v.is_empty()).collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for v in values {
        masked = masked.replace(v.as_str(), " \u{a7} ");
    }
    // Quoted text is the user's own words.
    let mut unquoted = String::new();
    let mut quoted = false;
    for c in masked.chars() {
        if c == '"' {
            quoted = !quoted;
            unquoted.push(' ');
        } else if !quoted {
            unquoted.push(c);
        }
    }
    let tokens: Vec<&str> = unquoted.split_whitespace().collect();
    let mut found = Vec::new();
    for (i, raw) in tokens.iter().enumerate() {
        let t = core(raw);
        if t.is_empty() || t == "\u{a7}" {
            continue;
        }
        let lower = t.to_lowercase();
        let inner_capital = t.chars().skip(1).any(char::is_uppercase) && t.chars().any(char::is_lowercase);
        let machine = t.contains('_')
            || t.contains('{')
            || t.contains('}')
            || inner_capital
            // A format as a machine spells it; people write `JSON`, `XML`.
            || matches!(t, "json" | "xml");
        let sentence_start = i == 0 || tokens[i - 1].ends_with(['.', '?', '!', ':']);
        let method = METHODS.contains(&lower.as_str()) && {
            let capital_inside = t.starts_with(char::is_uppercase) && !sentence_start;
            let prev = i.checked_sub(1).map(|k| core(tokens[k]).to_lowercase());
            let next = tokens.get(i + 1).map(|n| core(n).to_lowercase());
            let ends = raw.ends_with(['.', ',', '?', '!']) || next.is_none();
            capital_inside
                || prev.as_deref() == Some("id")
                || (ends && !sentence_start)
                || matches!(next.as_deref(), Some("of" | "for" | "id"))
        };
        let repeated = i > 0 && {
            let prev = core(tokens[i - 1]).to_lowercase();
            prev.len() > 3 && singular(&prev) == singular(&lower) && !tokens[i - 1].ends_with(['.', ',', '?', '!', ':'])
        };
        if machine || method || repeated {
            found.push(t.to_owned());
        }
    }
    found
}

/// A token without the punctuation around it.
fn core(t: &str) -> &str {
    t.trim_matches(|c: char| matches!(c, '.' | ',' | '?' | '!' | ':' | ';' | '(' | ')' | '\''))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(name: &str, description: &str, write: bool) -> (String, String) {
        let i = tool_intent(name, description, None, write);
        (i.verb, i.object)
    }

    #[test]
    fn intents_come_from_names_summaries_and_method_words() {
        assert_eq!(
            intent("cancel_order", "Cancel an order that has not shipped.", true),
            ("cancel".into(), "order".into())
        );
        assert_eq!(intent("createBlock", "Create a new Block", true), ("create".into(), "block".into()));
        assert_eq!(intent("sell", "Sell units of an active item.", true), ("sell".into(), String::new()));
        assert_eq!(
            intent("delete_promotions_id_json", "Delete an existing Promotion", true),
            ("delete".into(), "an existing promotion".into())
        );
        assert_eq!(
            intent("api_transport-infobip_id_get", "Retrieves a TransportInfobip resource.", false),
            ("get".into(), "a transport infobip".into())
        );
        assert_eq!(intent("Suppliers_Post", "", true), ("create".into(), "supplier".into()));
        assert_eq!(intent("api_transport-telegram_id_patch", "", true), ("update".into(), "transport telegram".into()));
        assert_eq!(
            intent("getActivity", "Get activities by type for current user", false),
            ("get".into(), "activity".into())
        );
    }

    #[test]
    fn nouns_and_labels_read_as_english() {
        assert_eq!(param_noun("payment_method_id", None), "payment method");
        assert_eq!(param_noun("contentSubmissionID", None), "content submission");
        assert_eq!(param_noun("item_ids", None), "items");
        assert_eq!(param_noun("id", Some("price_margins")), "price margin");
        assert_eq!(param_noun("id", None), "record");
        assert_eq!(field_label("creditLimit"), "credit limit");
        assert_eq!(field_label("credit_limit"), "credit limit");
        assert_eq!(field_label("placed_on"), "placed date");
        assert_eq!(field_label("createdAt"), "created time");
        assert_eq!(field_label("is_refundable"), "refundable");
        assert_eq!(field_label("isActive"), "active");
        assert_eq!(field_label("oneSignalApiKey"), "one signal API key");
        assert_eq!(field_label("Fleece Jacket"), "entry \"Fleece Jacket\"");
        assert_eq!(bool_form("refundable"), BoolForm::Is);
        assert_eq!(bool_form("has_wifi"), BoolForm::Has);
        assert_eq!(bool_form("roaming"), BoolForm::On);
        assert_eq!(Intent { verb: "create".into(), object: "order".into() }.object_phrase(), "an order");
        assert_eq!(Intent { verb: "list".into(), object: "orders".into() }.object_phrase(), "the orders");
        assert!(plural("change fees") && !plural("label of the balances") && !plural("status"));
        let either = Intent { verb: "refund".into(), object: "or cancel a payment".into() };
        assert_eq!(either.object_phrase(), "or cancel a payment");
        let again = Intent { verb: "update".into(), object: "update group".into() };
        assert_eq!((again.object_phrase(), again.bare_object()), ("the group".into(), "group".into()));
    }

    #[test]
    fn placeholders_are_found_and_values_are_not() {
        let p = |t: &str| placeholder_tokens(t, &["ACC-1".to_owned(), "fjord_1".to_owned()]);
        assert_eq!(p("Please Suppliers Post. Then Suppliers Put for id 5."), ["Post", "Put"]);
        assert_eq!(p("Could you delete my follows follow id?"), ["follow"]);
        assert_eq!(p("What is the entry fundingBalanceAccountId of account ACC-1?"), ["fundingBalanceAccountId"]);
        assert_eq!(p("What is the transport google chat id get of id 8?"), ["get"]);
        assert!(p("I want to cancel order ACC-1 with reason fjord_1.").is_empty());
        assert!(p("Get the order. Please post the letter to \"id_json\".").is_empty());
        assert!(p("What is the credit limit of account ACC-1?").is_empty());
        assert!(p("Book flights ACC-1 and fjord_1 and payment method ACC-1.").is_empty());
        // Springfox's method suffix is no part of what a tool does.
        assert_eq!(without_method_suffix("getAnnotationsUsingGET_1f2e3d"), "getAnnotations");
        assert_eq!(without_method_suffix("UsingGET"), "UsingGET");
        assert_eq!(without_method_suffix("create_order_2"), "create_order_2");
        let i = tool_intent("getAnnotationsUsingGET", "", None, false);
        assert_eq!((i.verb.as_str(), i.object.as_str()), ("get", "annotations"));
        // Formats as a machine spells them are flagged, as people write them are not.
        assert_eq!(p("Add the metadata xml base64 ACC-1."), ["xml"]);
        assert!(p("Add the metadata XML base64 ACC-1 as JSON.").is_empty());
        assert_eq!(param_noun("metadata_xml_base64", None), "metadata XML base64");
        // A list whose items name its noun reads as one word said twice.
        assert_eq!(p("Add notifications (notification type ACC-1)."), ["notification"]);
    }
}
