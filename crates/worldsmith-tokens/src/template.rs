//! Chat templates rendered as `transformers` renders them with Python's jinja2.
//!
//! The environment matches `transformers.utils.chat_template_utils._compile_jinja_template`:
//! `trim_blocks` and `lstrip_blocks` on, loop controls, Python's string, dict and list
//! methods (`minijinja-contrib`'s `pycompat`), maps in insertion order, and the globals and
//! filters that `transformers` adds:
//!
//! - `tojson` is Python's `json.dumps(x, ensure_ascii=False, indent=None, separators=None,
//!   sort_keys=False)`: no HTML escaping, `", "` and `": "` separators, floats in Python's
//!   `repr` form (`1.0`, `1e-05`, `1e+16`), the same keyword arguments;
//! - `raise_exception(message)` fails the render with the template's message;
//! - `strftime_now(format)` formats a fixed instant (so outputs are reproducible), not the
//!   clock;
//! - `{% generation %}` blocks (`transformers`' assistant-mask extension) render their body.
//!
//! JSON numbers keep Python's types: a literal without `.`, `e` or `E` is an integer, any
//! other a float, as `json.loads` reads them.

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};
use std::fmt::Write as _;
use std::sync::Arc;

/// The name a chat template is registered under in its environment.
pub(crate) const TEMPLATE_NAME: &str = "chat_template";

/// The prefix of the error detail that `raise_exception` produces.
pub(crate) const RAISED: &str = "template raised: ";

/// A compiled chat template in a `transformers`-compatible environment.
#[derive(Debug)]
pub(crate) struct ChatTemplate {
    env: Environment<'static>,
}

impl ChatTemplate {
    /// Compiles `source` (`{% generation %}` blocks rewritten to plain blocks).
    pub(crate) fn new(source: &str, now_unix: i64) -> Result<ChatTemplate, Error> {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| Error::new(ErrorKind::SyntaxError, e.to_string()))?;
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_filter("tojson", tojson);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", move |format: &str| strftime(format, now_unix));
        env.add_template_owned(TEMPLATE_NAME, rewrite_generation_blocks(source))?;
        Ok(ChatTemplate { env })
    }

    /// Renders the template with a context (a map of variables).
    pub(crate) fn render(&self, context: &Value) -> Result<String, Error> {
        self.env.get_template(TEMPLATE_NAME)?.render(context)
    }
}

/// `{% generation %}` ... `{% endgeneration %}` as `{% if true %}` ... `{% endif %}`, keeping
/// the whitespace-control dashes, so the body renders exactly as jinja2 renders it.
fn rewrite_generation_blocks(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find("{%") {
        out.push_str(&rest[..at]);
        let tag = &rest[at..];
        let Some(close) = tag.find("%}") else {
            out.push_str(tag);
            return out;
        };
        let inner = &tag[2..close];
        let dash_open = inner.starts_with('-');
        let dash_close = inner.ends_with('-');
        let word = inner.trim_matches('-').trim();
        let replacement = match word {
            "generation" => Some("if true"),
            "endgeneration" => Some("endif"),
            _ => None,
        };
        if let Some(word) = replacement {
            out.push_str("{%");
            out.push_str(if dash_open { "- " } else { " " });
            out.push_str(word);
            out.push_str(if dash_close { " -%}" } else { " %}" });
        } else {
            out.push_str(&tag[..close + 2]);
        }
        rest = &tag[close + 2..];
    }
    out.push_str(rest);
    out
}

fn raise_exception(message: &str) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, format!("{RAISED}{message}")))
}

/// A JSON value as the template sees it (what `json.loads` would give Python).
pub(crate) fn to_value(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => number(n),
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => Value::from(items.iter().map(to_value).collect::<Vec<_>>()),
        serde_json::Value::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| (Value::from(k.as_str()), to_value(v)))
                .collect::<indexmap::IndexMap<Value, Value>>(),
        ),
    }
}

fn number(n: &serde_json::Number) -> Value {
    let text = n.to_string();
    if !text.contains(['.', 'e', 'E']) {
        if let Some(i) = n.as_i64() {
            return Value::from(i);
        }
        if let Some(u) = n.as_u64() {
            return Value::from(u);
        }
        if let Ok(i) = text.parse::<i128>() {
            return Value::from(i);
        }
    }
    Value::from(text.parse::<f64>().unwrap_or(f64::NAN))
}

/// A JSON object whose `tojson` text is computed once: tools are serialized into the prompt
/// on every render, and they are the bulk of it.
#[derive(Debug)]
pub(crate) struct CachedJson {
    value: Value,
    /// The `tojson` text, a string value (cloning it shares the text).
    json: Value,
}

impl CachedJson {
    /// Wraps a value (a map) with its `tojson` text.
    pub(crate) fn new(value: Value) -> Result<CachedJson, Error> {
        let mut json = String::new();
        dumps(&value, &Dumps::default(), 0, &mut json)?;
        Ok(CachedJson { value, json: Value::from(json) })
    }
}

impl Object for CachedJson {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.value.get_item(key).ok().filter(|v| !v.is_undefined())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.value.try_iter() {
            Ok(keys) => Enumerator::Values(keys.collect()),
            Err(_) => Enumerator::Empty,
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        self.value.len()
    }
}

/// The options of Python's `json.dumps` that `transformers`' `tojson` exposes.
#[derive(Debug, Clone)]
struct Dumps {
    ensure_ascii: bool,
    indent: Option<String>,
    item_separator: String,
    key_separator: String,
    sort_keys: bool,
}

impl Default for Dumps {
    fn default() -> Dumps {
        Dumps {
            ensure_ascii: false,
            indent: None,
            item_separator: ", ".to_owned(),
            key_separator: ": ".to_owned(),
            sort_keys: false,
        }
    }
}

/// `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`.
fn tojson(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    // The common call, `x | tojson` on a tool: its cached text, no options to read.
    if kwargs.args().next().is_none()
        && let Some(cached) = value.downcast_object_ref::<CachedJson>()
    {
        return Ok(cached.json.clone());
    }
    let mut options = Dumps::default();
    if let Some(ensure_ascii) = kwargs.get::<Option<bool>>("ensure_ascii")? {
        options.ensure_ascii = ensure_ascii;
    }
    if let Some(indent) = kwargs.get::<Option<Value>>("indent")? {
        if let Some(n) = indent.as_i64() {
            options.indent = Some(" ".repeat(usize::try_from(n).unwrap_or(0)));
        } else if let Some(s) = indent.as_str() {
            options.indent = Some(s.to_owned());
        } else if !indent.is_none() {
            return Err(Error::new(ErrorKind::InvalidOperation, "tojson: indent must be an integer or a string"));
        }
        if options.indent.is_some() {
            // json.dumps: with an indent, the default item separator has no trailing space.
            options.item_separator = ",".to_owned();
        }
    }
    if let Some(separators) = kwargs.get::<Option<Value>>("separators")?
        && !separators.is_none()
    {
        let parts: Vec<Value> = separators.try_iter()?.collect();
        match parts.as_slice() {
            [item, key] if item.as_str().is_some() && key.as_str().is_some() => {
                options.item_separator = item.as_str().unwrap_or_default().to_owned();
                options.key_separator = key.as_str().unwrap_or_default().to_owned();
            }
            _ => {
                return Err(Error::new(ErrorKind::InvalidOperation, "tojson: separators must be two strings"));
            }
        }
    }
    if let Some(sort_keys) = kwargs.get::<Option<bool>>("sort_keys")? {
        options.sort_keys = sort_keys;
    }
    kwargs.assert_all_used()?;
    if let Some(cached) = value.downcast_object_ref::<CachedJson>() {
        if options.indent.is_none()
            && !options.sort_keys
            && !options.ensure_ascii
            && options.item_separator == ", "
            && options.key_separator == ": "
        {
            return Ok(cached.json.clone());
        }
        let mut out = String::new();
        dumps(&cached.value, &options, 0, &mut out)?;
        return Ok(Value::from(out));
    }
    let mut out = String::new();
    dumps(value, &options, 0, &mut out)?;
    Ok(Value::from(out))
}

/// Python's `json.dumps` of a template value.
fn dumps(value: &Value, options: &Dumps, level: usize, out: &mut String) -> Result<(), Error> {
    if let Some(cached) = value.downcast_object_ref::<CachedJson>() {
        return dumps(&cached.value, options, level, out);
    }
    match value.kind() {
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => {
            if !value.is_integer() {
                let f = f64::try_from(value.clone()).map_err(|_| not_serializable(value))?;
                out.push_str(&python_float_json(f));
            } else if let Some(i) = value.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Ok(i) = i128::try_from(value.clone()) {
                let _ = write!(out, "{i}");
            } else {
                let f = f64::try_from(value.clone()).map_err(|_| not_serializable(value))?;
                out.push_str(&python_float_json(f));
            }
        }
        ValueKind::String => write_string(value.as_str().unwrap_or_default(), options.ensure_ascii, out),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = value.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&options.item_separator);
                }
                newline(options, level + 1, out);
                dumps(item, options, level + 1, out)?;
            }
            newline(options, level, out);
            out.push(']');
        }
        ValueKind::Map => {
            let mut entries: Vec<(String, Value)> = Vec::new();
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                entries.push((key_string(&key)?, item));
            }
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if options.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(&options.item_separator);
                }
                newline(options, level + 1, out);
                write_string(key, options.ensure_ascii, out);
                out.push_str(&options.key_separator);
                dumps(item, options, level + 1, out)?;
            }
            newline(options, level, out);
            out.push('}');
        }
        _ => return Err(not_serializable(value)),
    }
    Ok(())
}

fn not_serializable(value: &Value) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("tojson: object of type {} is not JSON serializable", value.kind()))
}

/// A map key as `json.dumps` writes it: strings as they are, numbers and booleans as text.
fn key_string(key: &Value) -> Result<String, Error> {
    match key.kind() {
        ValueKind::String => Ok(key.as_str().unwrap_or_default().to_owned()),
        ValueKind::Bool => Ok(if key.is_true() { "true" } else { "false" }.to_owned()),
        ValueKind::None => Ok("null".to_owned()),
        ValueKind::Number => {
            let mut s = String::new();
            dumps(key, &Dumps::default(), 0, &mut s)?;
            Ok(s)
        }
        _ => Err(Error::new(ErrorKind::InvalidOperation, "tojson: keys must be str, int, float, bool or None")),
    }
}

fn newline(options: &Dumps, level: usize, out: &mut String) {
    if let Some(indent) = &options.indent {
        out.push('\n');
        for _ in 0..level {
            out.push_str(indent);
        }
    }
}

/// A JSON string as Python's `json.dumps` writes it.
fn write_string(s: &str, ensure_ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if ensure_ascii && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as Python's `json.dumps` writes it (`float.__repr__`, and `NaN`, `Infinity`).
#[must_use]
pub(crate) fn python_float_json(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    python_float_repr(f)
}

/// Python's `repr(float)`: the shortest round-trip digits, positional for exponents from -4
/// to 15, otherwise scientific with a signed exponent of at least two digits.
#[must_use]
pub(crate) fn python_float_repr(f: f64) -> String {
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let mut s = String::from(sign);
        if point <= 0 {
            s.push_str("0.");
            for _ in 0..-point {
                s.push('0');
            }
            s.push_str(&digits);
        } else {
            let point = usize::try_from(point).unwrap_or(0);
            if digits.len() <= point {
                s.push_str(&digits);
                for _ in digits.len()..point {
                    s.push('0');
                }
                s.push_str(".0");
            } else {
                s.push_str(&digits[..point]);
                s.push('.');
                s.push_str(&digits[point..]);
            }
        }
        s
    } else {
        let mut s = String::from(sign);
        s.push_str(&digits[..1]);
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        let _ = write!(s, "e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs());
        s
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// C's `strftime` (the directives Python documents, in the C locale) of a Unix time in UTC.
#[must_use]
pub(crate) fn strftime(format: &str, unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (secs / 3600, secs % 3600 / 60, secs % 60);
    // 1970-01-01 was a Thursday (index 3 from Monday).
    let weekday = usize::try_from((days + 3).rem_euclid(7)).unwrap_or(0);
    let yday = days - days_from_civil(year, 1, 1) + 1;
    let month_name = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(d) = chars.next() else {
            out.push('%');
            break;
        };
        let _ = match d {
            'Y' => write!(out, "{year}"),
            'y' => write!(out, "{:02}", year.rem_euclid(100)),
            'm' => write!(out, "{month:02}"),
            'd' => write!(out, "{day:02}"),
            'e' => write!(out, "{day:2}"),
            'B' => write!(out, "{month_name}"),
            'b' | 'h' => write!(out, "{}", &month_name[..3]),
            'A' => write!(out, "{}", DAYS[weekday]),
            'a' => write!(out, "{}", &DAYS[weekday][..3]),
            'u' => write!(out, "{}", weekday + 1),
            'w' => write!(out, "{}", (weekday + 1) % 7),
            'H' => write!(out, "{hour:02}"),
            'I' => write!(out, "{:02}", if hour % 12 == 0 { 12 } else { hour % 12 }),
            'p' => write!(out, "{}", if hour < 12 { "AM" } else { "PM" }),
            'M' => write!(out, "{minute:02}"),
            'S' => write!(out, "{second:02}"),
            'j' => write!(out, "{yday:03}"),
            'F' => write!(out, "{year}-{month:02}-{day:02}"),
            'T' => write!(out, "{hour:02}:{minute:02}:{second:02}"),
            'Z' => write!(out, "UTC"),
            'z' => write!(out, "+0000"),
            '%' => write!(out, "%"),
            other => write!(out, "%{other}"),
        };
    }
    out
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(source: &str, context: &serde_json::Value) -> Result<String, Error> {
        ChatTemplate::new(source, 1_767_225_600)?.render(&to_value(context))
    }

    #[test]
    fn floats_are_written_as_python_writes_them() {
        for (f, python) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123_456_789.123, "123456789.123"),
            (1e100, "1e+100"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
        ] {
            assert_eq!(python_float_repr(f), python, "{f}");
        }
        assert_eq!(python_float_json(f64::INFINITY), "Infinity");
        assert_eq!(python_float_json(f64::NAN), "NaN");
    }

    #[test]
    fn tojson_is_json_dumps_without_html_escaping_in_key_order() {
        let context = json!({"x": {"b": "<a href='x'>&</a>", "a": [1, 2.0, 1e-5, null, true], "é": "naïve \u{1} \"q\"\n", "n": {}}});
        let out = render("{{ x | tojson }}", &context).unwrap();
        assert_eq!(
            out,
            r#"{"b": "<a href='x'>&</a>", "a": [1, 2.0, 1e-05, null, true], "é": "naïve \u0001 \"q\"\n", "n": {}}"#
        );
        let out = render("{{ x.a | tojson(indent=2) }}|{{ x.n | tojson(indent=2) }}", &context).unwrap();
        assert_eq!(out, "[\n  1,\n  2.0,\n  1e-05,\n  null,\n  true\n]|{}");
        let out =
            render("{{ x | tojson(ensure_ascii=true, sort_keys=true, separators=(',', ':')) }}", &context).unwrap();
        assert_eq!(
            out,
            r#"{"a":[1,2.0,1e-05,null,true],"b":"<a href='x'>&</a>","n":{},"\u00e9":"na\u00efve \u0001 \"q\"\n"}"#
        );
    }

    #[test]
    fn cached_json_renders_as_the_value_and_serializes_once() {
        let tool = json!({"type": "function", "function": {"name": "f", "parameters": {"x": 1.5}}});
        let cached = Value::from_object(CachedJson::new(to_value(&tool)).unwrap());
        let template = ChatTemplate::new(
            "{{ t | tojson }}|{{ t.function.name }}|{{ t is mapping }}|{% for k in t %}{{ k }},{% endfor %}",
            0,
        )
        .unwrap();
        let out = template.render(&Value::from(std::collections::BTreeMap::from([("t".to_owned(), cached)]))).unwrap();
        assert_eq!(
            out,
            r#"{"type": "function", "function": {"name": "f", "parameters": {"x": 1.5}}}|f|True|type,function,"#
        );
    }

    #[test]
    fn python_string_methods_and_whitespace_control_work() {
        let source = "{%- for m in messages %}\n    {%- if m.content.startswith('<a>') %}{{ m.content.split('</think>')[-1].lstrip('\\n') | upper }}{% endif %}\n{% endfor %}";
        let out = render(source, &json!({"messages": [{"content": "<a>x</think>\n\ny"}, {"content": "b"}]})).unwrap();
        assert_eq!(out, "Y");
        // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation.
        let out = render("{% if true %}\n  a\n  {% endif %}\nb", &json!({})).unwrap();
        assert_eq!(out, "  a\nb");
    }

    #[test]
    fn raise_exception_fails_with_the_templates_message() {
        let err = render("{{ raise_exception('Conversation roles must alternate') }}", &json!({})).unwrap_err();
        assert!(err.to_string().contains("template raised: Conversation roles must alternate"), "{err}");
    }

    #[test]
    fn strftime_now_formats_a_fixed_instant() {
        // 2026-01-01T00:00:00Z, a Thursday.
        let out = render("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A %j %H:%M %p') }}", &json!({})).unwrap();
        assert_eq!(out, "01 Jan 2026|Thursday 001 00:00 AM");
        assert_eq!(strftime("%F %T", 951_825_600), "2000-02-29 12:00:00");
    }

    #[test]
    fn generation_blocks_render_their_body() {
        let out = render("a{%- generation -%} b {%- endgeneration %}c", &json!({})).unwrap();
        assert_eq!(out, "abc");
    }

    #[test]
    fn json_numbers_keep_pythons_types() {
        let out = render(
            "{{ x | tojson }}",
            &serde_json::from_str::<serde_json::Value>(r#"{"x": [3, 3.0, 1e2, -7, 18446744073709551615]}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(out, "[3, 3.0, 100.0, -7, 18446744073709551615]");
    }
}
