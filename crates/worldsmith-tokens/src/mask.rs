//! Locating message texts and assistant turns in a rendering, with invisible markers.
//!
//! Piece `k` (a content, a tool call's name or arguments) is rendered as
//! `OPEN k END text CLOSE k END`, with `k` in private-use hex digits. Removing the markers
//! from the marked rendering must give the plain one; then every piece's position is exact.

use crate::template::to_value;
use crate::{EncodeError, Part, ToolCallContent};
use minijinja::value::Value;

const OPEN: char = '\u{E000}';
const END: char = '\u{E001}';
const CLOSE: char = '\u{E002}';
const DIGIT0: u32 = 0xE010;

fn is_marker(c: char) -> bool {
    ('\u{E000}'..='\u{E01F}').contains(&c)
}

fn marker(kind: char, k: usize) -> String {
    let mut s = String::new();
    s.push(kind);
    for d in format!("{k:x}").chars() {
        let digit = d.to_digit(16).unwrap_or(0);
        s.push(char::from_u32(DIGIT0 + digit).unwrap_or(END));
    }
    s.push(END);
    s
}

/// Renders messages (with or without the generation prompt).
pub(crate) type Render<'a> = dyn Fn(&[Value], bool) -> Result<String, EncodeError> + 'a;

/// A message text that must appear in the rendering.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    pub(crate) message: usize,
    pub(crate) part: Part,
    pub(crate) text: String,
}

/// A conversation ready to render, plainly and with markers.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) tools: Value,
    pub(crate) plain: Vec<Value>,
    pub(crate) marked: Vec<Value>,
    pub(crate) pieces: Vec<Piece>,
    pub(crate) roles: Vec<String>,
}

/// Where the assistant turns are in the plain rendering.
#[derive(Debug)]
pub(crate) struct Located {
    /// The plain rendering.
    pub(crate) text: String,
    /// Trained spans, byte offsets into `text`, in order.
    pub(crate) spans: Vec<Span>,
    /// Where the text shared by conversations with the same system prompt and tools ends:
    /// the first non-system message text (or the first trained span).
    pub(crate) shared_end: usize,
}

/// One trained assistant turn.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub(crate) message: usize,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The messages as the template sees them: tool-call turns in `form`, and top-level `null`
/// values dropped as `transformers` drops them (except the content `null` of `form`).
pub(crate) fn prepare(
    messages: &[serde_json::Value],
    form: ToolCallContent,
    tools: Value,
) -> Result<Prepared, EncodeError> {
    let mut prepared = Prepared { tools, plain: Vec::new(), marked: Vec::new(), pieces: Vec::new(), roles: Vec::new() };
    for (i, message) in messages.iter().enumerate() {
        let Some(object) = message.as_object() else {
            return Err(EncodeError::Render(format!("message {i} is not a JSON object")));
        };
        let role = object.get("role").and_then(|r| r.as_str()).unwrap_or_default().to_owned();
        let mut plain = object.clone();
        let calls = object.get("tool_calls").and_then(|c| c.as_array()).map_or(0, Vec::len);
        let silent = matches!(object.get("content"), None | Some(serde_json::Value::Null))
            || object.get("content").and_then(|c| c.as_str()) == Some("");
        let null_content = role == "assistant" && calls > 0 && silent && form == ToolCallContent::Null;
        if role == "assistant" && calls > 0 && silent {
            plain.insert(
                "content".to_owned(),
                match form {
                    ToolCallContent::Empty => serde_json::Value::String(String::new()),
                    ToolCallContent::Null => serde_json::Value::Null,
                },
            );
        }
        plain.retain(|key, value| !value.is_null() || (null_content && key == "content"));
        let mut marked = plain.clone();
        if let Some(serde_json::Value::String(content)) = plain.get("content")
            && !content.is_empty()
        {
            let text = content.clone();
            let wrapped = wrap(&mut prepared.pieces, i, Part::Content, &text)?;
            marked.insert("content".to_owned(), serde_json::Value::String(wrapped));
        }
        if let Some(serde_json::Value::Array(calls)) = marked.get_mut("tool_calls") {
            for (c, call) in calls.iter_mut().enumerate() {
                let Some(function) = call.get_mut("function").and_then(|f| f.as_object_mut()) else {
                    continue;
                };
                for (key, part) in [("name", Part::ToolName(c)), ("arguments", Part::ToolArguments(c))] {
                    if let Some(serde_json::Value::String(text)) = function.get(key)
                        && !text.is_empty()
                    {
                        let text = text.clone();
                        let wrapped = wrap(&mut prepared.pieces, i, part, &text)?;
                        function.insert(key.to_owned(), serde_json::Value::String(wrapped));
                    }
                }
            }
        }
        prepared.plain.push(to_value(&serde_json::Value::Object(plain)));
        prepared.marked.push(to_value(&serde_json::Value::Object(marked)));
        prepared.roles.push(role);
    }
    Ok(prepared)
}

fn wrap(pieces: &mut Vec<Piece>, message: usize, part: Part, text: &str) -> Result<String, EncodeError> {
    if text.chars().any(is_marker) {
        return Err(EncodeError::Unmarkable(message));
    }
    let k = pieces.len();
    pieces.push(Piece { message, part, text: text.to_owned() });
    Ok(format!("{}{text}{}", marker(OPEN, k), marker(CLOSE, k)))
}

/// A marked rendering with its markers parsed.
#[derive(Debug)]
struct Scan {
    /// The text without markers.
    plain: String,
    /// Markers in order: (open, piece, start, end) in marked byte offsets.
    markers: Vec<(bool, usize, usize, usize)>,
}

/// Where a piece is: its open marker's start and end, its close marker's start and end.
#[derive(Debug, Clone, Copy)]
struct Found {
    open_start: usize,
    open_end: usize,
    close_start: usize,
    close_end: usize,
}

impl Scan {
    /// Parses the markers of `marked`; with `plain`, also the text without them.
    fn new(marked: &str, plain: bool) -> Result<Scan, EncodeError> {
        let bytes = marked.as_bytes();
        let mut text = String::with_capacity(if plain { marked.len() } else { 0 });
        let mut markers = Vec::new();
        let mut copied = 0;
        let mut at = 0;
        // Every marker character is U+E000..U+E01F: the bytes EE 80 80..9F.
        while let Some(found) = memchr::memchr(0xEE, &bytes[at..]) {
            let start = at + found;
            at = start + 1;
            if bytes.get(start + 1) != Some(&0x80) || !bytes.get(start + 2).is_some_and(|b| (0x80..=0x9F).contains(b)) {
                continue;
            }
            let c = marked[start..].chars().next().unwrap_or(END);
            if c != OPEN && c != CLOSE {
                return Err(EncodeError::Untraceable);
            }
            let mut k = 0usize;
            let mut digits = 0;
            let mut end = start + c.len_utf8();
            loop {
                let Some(d) = marked[end..].chars().next() else {
                    return Err(EncodeError::Untraceable);
                };
                end += d.len_utf8();
                if d == END && digits > 0 {
                    break;
                }
                let digit = u32::from(d).wrapping_sub(DIGIT0);
                if digit >= 16 {
                    return Err(EncodeError::Untraceable);
                }
                k = k.checked_mul(16).and_then(|k| k.checked_add(digit as usize)).ok_or(EncodeError::Untraceable)?;
                digits += 1;
            }
            markers.push((c == OPEN, k, start, end));
            if plain {
                text.push_str(&marked[copied..start]);
            }
            copied = end;
            at = end;
        }
        if plain {
            text.push_str(&marked[copied..]);
        }
        Ok(Scan { plain: text, markers })
    }

    /// The first rendering of piece `k`.
    fn find(&self, k: usize) -> Option<Found> {
        let open = self.markers.iter().position(|&(open, piece, _, _)| open && piece == k)?;
        let (_, _, open_start, open_end) = self.markers[open];
        let close = self.markers[open..].iter().find(|&&(open, piece, _, _)| !open && piece == k)?;
        Some(Found { open_start, open_end, close_start: close.2, close_end: close.3 })
    }

    /// The plain offset of a marked offset that is not inside a marker.
    fn plain_pos(&self, marked: usize) -> usize {
        let removed: usize =
            self.markers.iter().take_while(|m| m.3 <= marked).map(|&(_, _, start, end)| end - start).sum();
        marked - removed
    }
}

fn has_marker(text: &str) -> bool {
    // Every marker character is U+E000..U+E01F: the bytes EE 80 80..9F.
    let bytes = text.as_bytes();
    memchr::memchr_iter(0xEE, bytes)
        .any(|i| bytes.get(i + 1) == Some(&0x80) && bytes.get(i + 2).is_some_and(|b| (0x80..=0x9F).contains(b)))
}

/// The length of the common prefix of `a` and `b`, at a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    let mut n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !a.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// Renders the conversation and finds its trained assistant turns.
pub(crate) fn locate(
    prepared: &Prepared,
    trained: &[bool],
    eos: Option<&str>,
    render: &Render<'_>,
) -> Result<Located, EncodeError> {
    let plain_text = render(&prepared.plain, false)?;
    let marked_text = render(&prepared.marked, false)?;
    let full = Scan::new(&marked_text, true)?;
    let mut found = Vec::with_capacity(prepared.pieces.len());
    for (k, piece) in prepared.pieces.iter().enumerate() {
        let lost = EncodeError::Lost { message: piece.message, part: piece.part };
        let Some(at) = full.find(k) else {
            return Err(lost);
        };
        let between = &marked_text[at.open_end..at.close_start];
        if has_marker(between) || between != piece.text {
            return Err(lost);
        }
        found.push(at);
    }
    if full.plain != plain_text {
        return Err(EncodeError::Untraceable);
    }
    let pieces_of = |range: &dyn Fn(usize) -> bool| -> Vec<usize> {
        prepared.pieces.iter().enumerate().filter(|(_, p)| range(p.message)).map(|(k, _)| k).collect()
    };
    let mut shared_end = pieces_of(&|m| prepared.roles.get(m).is_some_and(|r| r != "system"))
        .iter()
        .map(|&k| full.plain_pos(found[k].open_start))
        .min()
        .unwrap_or(0);
    let mut spans = Vec::new();
    for (i, role) in prepared.roles.iter().enumerate() {
        if role != "assistant" || !trained.get(i).copied().unwrap_or(false) {
            continue;
        }
        let own = pieces_of(&|m| m == i);
        let (Some(first), Some(last)) =
            (own.iter().map(|&k| found[k].open_start).min(), own.iter().map(|&k| found[k].close_end).max())
        else {
            return Err(EncodeError::Empty(i));
        };
        let before = pieces_of(&|m| m < i);
        let prev = before.iter().map(|&k| found[k].close_end).max().unwrap_or(0);
        let next = pieces_of(&|m| m > i).iter().map(|&k| found[k].open_start).min().unwrap_or(marked_text.len());
        if prev > first || last > next {
            return Err(EncodeError::OutOfOrder(i));
        }
        let gap = &marked_text[prev..first];
        let rest = &marked_text[last..next];
        if has_marker(gap) || has_marker(rest) {
            return Err(EncodeError::OutOfOrder(i));
        }
        // The prompt a generation of this turn starts from.
        let prompt = render(&prepared.marked[..i], true)?;
        let prompt_scan = Scan::new(&prompt, false)?;
        let mut prompt_prev = 0;
        for &k in &before {
            prompt_prev = prompt_prev.max(prompt_scan.find(k).ok_or(EncodeError::Untraceable)?.close_end);
        }
        let tail = &prompt[prompt_prev..];
        if has_marker(tail) {
            return Err(EncodeError::OutOfOrder(i));
        }
        let start = prev + common_prefix(gap, tail);
        // The conversation ending with this turn: what closes it.
        let closing = render(&prepared.marked[..=i], false)?;
        let closing_scan = Scan::new(&closing, false)?;
        let mut closing_last = 0;
        for &k in &own {
            closing_last = closing_last.max(closing_scan.find(k).ok_or(EncodeError::Untraceable)?.close_end);
        }
        let tail = &closing[closing_last..];
        if has_marker(tail) {
            return Err(EncodeError::OutOfOrder(i));
        }
        let common = common_prefix(rest, tail);
        let close = match eos.filter(|e| !e.is_empty()).and_then(|e| rest[..common].find(e).map(|at| at + e.len())) {
            Some(cut) => cut,
            None => common,
        };
        let span = Span { message: i, start: full.plain_pos(start), end: full.plain_pos(last + close) };
        shared_end = shared_end.min(span.start);
        spans.push(span);
    }
    Ok(Located { text: plain_text, spans, shared_end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_locate_pieces() {
        let text = format!("a{}bc{}d{}e{}", marker(OPEN, 0), marker(CLOSE, 0), marker(OPEN, 17), marker(CLOSE, 17));
        let scan = Scan::new(&text, true).unwrap();
        assert_eq!(scan.plain, "abcde");
        let at = scan.find(17).unwrap();
        assert_eq!(&text[at.open_end..at.close_start], "e");
        assert_eq!(scan.plain_pos(at.open_end), 4);
        assert!(scan.find(3).is_none());
        assert!(Scan::new("x\u{E000}", true).is_err());
        assert!(Scan::new("x\u{E001}", true).is_err());
    }

    #[test]
    fn common_prefix_stops_at_a_character_boundary() {
        assert_eq!(common_prefix("<｜A｜>", "<｜B｜>"), 4);
        assert_eq!(common_prefix("é", "è"), 0);
        assert_eq!(common_prefix("abc", "abd"), 2);
        assert_eq!(common_prefix("", "x"), 0);
    }
}
