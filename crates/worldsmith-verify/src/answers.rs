//! The answer checker: whether the agent's replies state each expected answer, by value.
//!
//! Every expected [`Answer`] has a kind, and the replies are read as a person would check
//! them, not searched for substrings:
//!
//! - **Values by kind.** Numbers are equal by value (`3` is `3.0` is "three"; `30` is not
//!   `3`; digits inside another token, as in `1-800-555-0100` or `ORD-3`, are no number);
//!   money is equal to the cent (`$1,234.50`, `58.16 USD`); dates in ISO form, `May 19,
//!   2026`, `19 May 2026` or `2026/05/19` (a stated time must match the expected one);
//!   identifiers are whole tokens, case-insensitive, a leading `#` optional; enums and text
//!   are phrases on token boundaries, case- and punctuation-insensitive, `_` read as a
//!   space; booleans are `yes`/`true`/`no`/`false` or the label affirmed ("it is
//!   refundable") or negated ("not refundable", "non-refundable"); a list needs every member
//!   and no other value of its members' kind.
//! - **What does not count.** A question (a sentence ending in `?`) states nothing. A value
//!   negated by a cue in the three words before it ("not", "n't", "never", "no longer",
//!   "neither", "nor", "rather than", "instead of") or followed by "would be wrong" is not
//!   stated. A value in a sentence that hedges ("maybe", "probably", "I think", "either",
//!   "approximately"...) or joined by "or" or "/" to another value is not stated.
//! - **Conflicts.** When the reply names the answer's label and the first value of the
//!   answer's kind within six words after it differs from the expected one ("max bags 30"),
//!   or another value of the same kind that no answer and no known fact explains stands in
//!   the sentence of the expected value ("58.16 or 60.00"), the answer is not stated.
//! - **Refusals and dumps.** A message that refuses ("I cannot tell you", "unable to") or
//!   dumps data (JSON text, or more unexplained values than `max(4, expected + 2)`) credits
//!   no answer.
//! - **Last word wins.** Of the agent's messages, the last one that addresses an answer
//!   (states its value, negates or hedges it, or states a conflicting value for it) decides.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use worldsmith_core::task::{Answer, AnswerKind};

/// Why an answer was not credited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Miss {
    /// No message states it.
    NotStated,
    /// The deciding message refuses.
    Refusal,
    /// The deciding message dumps data.
    Dump,
    /// The value is negated.
    Negated,
    /// The value is hedged or offered beside alternatives.
    Hedged,
    /// Another value is stated for it.
    Conflict,
}

impl Miss {
    /// A short description, for verdict reasons.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Miss::NotStated => "not stated",
            Miss::Refusal => "the reply refuses",
            Miss::Dump => "the reply dumps data",
            Miss::Negated => "negated",
            Miss::Hedged => "hedged",
            Miss::Conflict => "a conflicting value is stated",
        }
    }
}

/// Checks every answer against the agent's text messages (in order); `known` are values the
/// user gave (they may appear in replies without counting as extra values). Returns, per
/// answer, `None` when it is stated or the reason it is not.
#[must_use]
pub fn check_answers(answers: &[Answer], known: &[Value], replies: &[&str]) -> Vec<Option<Miss>> {
    let texts: Vec<String> = answers
        .iter()
        .filter(|a| a.member_kind() == AnswerKind::Text)
        .flat_map(|a| a.members().into_iter().map(|v| render(v).to_lowercase()))
        .collect();
    let mut messages: Vec<Message> = replies.iter().map(|r| Message::parse(r, &texts)).collect();
    // Values inside a stated text answer ("... more than 24 hours ...") belong to it, and a
    // label's own words (`last4`) are no values.
    let label_tokens: Vec<String> = answers.iter().filter_map(|a| a.label.as_deref()).flat_map(phrase_words).collect();
    for sentence in messages.iter_mut().flat_map(|m| m.sentences.iter_mut()) {
        let tokens = &sentence.tokens;
        sentence.mentions.retain(|m| !(m.end == m.start + 1 && label_tokens.contains(&tokens[m.start].core)));
        let spans: Vec<(usize, usize)> = answers
            .iter()
            .filter(|a| a.member_kind() == AnswerKind::Text)
            .flat_map(|a| a.members().into_iter().flat_map(|v| sentence.find_all(AnswerKind::Text, v)))
            .collect();
        sentence.mentions.retain(|m| !spans.iter().any(|&(s, e)| m.start >= s && m.end <= e));
    }
    let expected: Vec<(AnswerKind, &Value)> =
        answers.iter().flat_map(|a| a.members().into_iter().map(move |v| (a.member_kind(), v))).collect();
    let explains = |m: &Mention| -> bool {
        expected.iter().any(|(k, v)| m.matches(*k, v)) || known.iter().any(|v| m.matches_any(v))
    };
    let budget = 4.max(expected.len() + 2);
    let dumps: Vec<bool> = messages.iter().map(|m| m.json_like || m.unexplained(&explains) > budget).collect();
    answers
        .iter()
        .map(|answer| {
            for (message, dump) in messages.iter().zip(&dumps).rev() {
                match judge(answer, message, &explains, *dump) {
                    Judged::NotAddressed => {}
                    Judged::Stated => return None,
                    Judged::Missed(miss) => return Some(miss),
                }
            }
            Some(Miss::NotStated)
        })
        .collect()
}

enum Judged {
    NotAddressed,
    Stated,
    Missed(Miss),
}

/// Judges one answer in one message; `dump` says whether the message dumps data.
fn judge(answer: &Answer, message: &Message, explains: &dyn Fn(&Mention) -> bool, dump: bool) -> Judged {
    let outcome = if answer.kind == AnswerKind::Boolean {
        judge_boolean(answer, message)
    } else {
        judge_value(answer, message, explains)
    };
    match outcome {
        Judged::NotAddressed => Judged::NotAddressed,
        _ if message.refuses => Judged::Missed(Miss::Refusal),
        _ if dump => Judged::Missed(Miss::Dump),
        Judged::Stated => {
            // Extra values of the kind beside the answer make it ambiguous.
            let kind = answer.member_kind();
            let list = answer.kind == AnswerKind::List;
            for (si, sentence) in message.sentences.iter().enumerate() {
                if sentence.question {
                    continue;
                }
                let holds = answer.members().iter().any(|v| sentence.find(kind, v).is_some());
                if !(holds || list) {
                    continue;
                }
                let extra = sentence
                    .mentions
                    .iter()
                    .filter(|m| !m.word && m.same_category(kind) && !sentence.negated(m.start, m.end) && !explains(m))
                    .count();
                if extra > 0 {
                    return Judged::Missed(if list { Miss::Conflict } else { hedge_or_conflict(message, si) });
                }
            }
            // A sentence that offers nothing but another value of the kind ("58.16. 60.00.")
            // is a candidate, not context.
            let bare = message.sentences.iter().filter(|s| !s.question).any(|s| {
                let unexplained: Vec<&Mention> =
                    s.mentions.iter().filter(|m| !m.word && m.same_category(kind) && !explains(m)).collect();
                !unexplained.is_empty()
                    && s.tokens.iter().enumerate().all(|(i, t)| {
                        unexplained.iter().any(|m| (m.start..m.end).contains(&i))
                            || LEAD_WORDS.contains(&t.core.as_str())
                            || HEDGES.contains(&t.core.as_str())
                            || matches!(t.core.as_str(), "or" | "/" | "usd" | "dollars" | "maybe" | "alternatively")
                    })
            });
            if bare {
                return Judged::Missed(Miss::Hedged);
            }
            Judged::Stated
        }
        missed => missed,
    }
}

/// "58.16 or 60.00" is a hedge; "58.16, shipping 5.00" a conflict.
fn hedge_or_conflict(message: &Message, sentence: usize) -> Miss {
    if message.sentences[sentence].tokens.iter().any(|t| t.core == "or" || t.core == "/") {
        Miss::Hedged
    } else {
        Miss::Conflict
    }
}

/// Non-boolean answers: find clean mentions of every member, negated or hedged ones, and
/// conflicting values after the label.
fn judge_value(answer: &Answer, message: &Message, explains: &dyn Fn(&Mention) -> bool) -> Judged {
    let kind = answer.member_kind();
    let members = answer.members();
    let mut addressed = false;
    let mut negated = false;
    let mut hedged = false;
    let mut qualified = false;
    let label = answer.label.as_deref().map(label_words).unwrap_or_default();
    let mut clean = vec![false; members.len()];
    for sentence in message.sentences.iter().filter(|s| !s.question) {
        for (i, member) in members.iter().enumerate() {
            for (start, end) in sentence.find_all(kind, member) {
                addressed = true;
                if sentence.negated(start, end) {
                    negated = true;
                } else if sentence.hedges(start, end) {
                    hedged = true;
                } else if kind == AnswerKind::Enum && sentence.qualified(start, &label) {
                    qualified = true;
                } else {
                    clean[i] = true;
                }
            }
        }
        if answer.kind != AnswerKind::List
            && let Some(label) = &answer.label
            && let Some(conflict) = sentence.label_conflict(label, kind, members[0], explains)
        {
            addressed = true;
            if conflict {
                return Judged::Missed(Miss::Conflict);
            }
        }
    }
    if !addressed {
        Judged::NotAddressed
    } else if hedged {
        Judged::Missed(Miss::Hedged)
    } else if clean.iter().all(|c| *c) {
        Judged::Stated
    } else if negated {
        Judged::Missed(Miss::Negated)
    } else if qualified {
        Judged::Missed(Miss::Conflict)
    } else {
        Judged::Missed(Miss::NotStated)
    }
}

/// Booleans: `yes`/`true`/`no`/`false` standing alone, and the label affirmed or negated.
/// Evidence both ways is a hedge.
fn judge_boolean(answer: &Answer, message: &Message) -> Judged {
    let Some(expected) = answer.value.as_bool() else { return Judged::NotAddressed };
    let mut seen = [false, false];
    let mut hedged = false;
    let label = answer.label.as_deref().map(label_words).filter(|w| !w.is_empty());
    for sentence in message.sentences.iter().filter(|s| !s.question) {
        let mut claimed = Vec::new();
        let mut evidence = |value: bool, start: usize, end: usize, seen: &mut [bool; 2]| {
            seen[usize::from(value)] = true;
            hedged |= sentence.hedges(start, end);
        };
        if let Some(words) = &label {
            for (start, end) in sentence.find_words(words) {
                claimed.extend(start..end);
                let negated_label = sentence.negated(start, end)
                    || (start > 0 && matches!(sentence.tokens[start - 1].core.as_str(), "no" | "non"));
                let after = (end..(end + 4).min(sentence.tokens.len()))
                    .find_map(|i| sentence.mention_at(i).filter(|m| matches!(m.value, Scalar::Bool(_))));
                let value = match after {
                    Some(m) => {
                        claimed.extend(m.start..m.end);
                        let Scalar::Bool(b) = m.value else { unreachable!() };
                        b != sentence.negated(m.start, m.end)
                    }
                    None => true,
                };
                evidence(value != negated_label, start, end, &mut seen);
            }
            // "non-refundable", "unavailable".
            for (i, t) in sentence.tokens.iter().enumerate() {
                let rest = t
                    .core
                    .strip_prefix("non-")
                    .or_else(|| t.core.strip_prefix("non"))
                    .or_else(|| t.core.strip_prefix("un"));
                if rest.is_some_and(|r| phrase_words(r) == *words) {
                    claimed.push(i);
                    evidence(false, i, i + 1, &mut seen);
                }
            }
        }
        for m in sentence.mentions.iter().filter(|m| !claimed.contains(&m.start)) {
            if let Scalar::Bool(b) = m.value
                && sentence.standalone_bool(m.start)
            {
                evidence(b != sentence.negated(m.start, m.end), m.start, m.end, &mut seen);
            }
        }
    }
    if hedged && seen != [false, false] {
        return Judged::Missed(Miss::Hedged);
    }
    match seen {
        [false, false] => Judged::NotAddressed,
        [true, true] => Judged::Missed(Miss::Hedged),
        [_, truth] if truth == expected => Judged::Stated,
        _ => Judged::Missed(Miss::Conflict),
    }
}

/// A value found in a reply.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Num { value: f64, money: bool },
    Date { ymd: (u32, u32, u32), time: Option<(u32, u32)> },
    Id(String),
    Bool(bool),
}

/// A typed value and the tokens it spans.
#[derive(Debug, Clone)]
struct Mention {
    value: Scalar,
    start: usize,
    end: usize,
    /// A number written as a word ("three"): it can state an answer but never counts as an
    /// extra value.
    word: bool,
}

impl Mention {
    /// Whether this mention states `expected` as an answer of `kind`.
    fn matches(&self, kind: AnswerKind, expected: &Value) -> bool {
        match (&self.value, kind) {
            (Scalar::Num { value, .. }, AnswerKind::Number) => {
                expected.as_f64().is_some_and(|e| (e - value).abs() <= 1e-9 * e.abs().max(1.0))
            }
            (Scalar::Num { value, .. }, AnswerKind::Money) => {
                expected.as_f64().is_some_and(|e| (e - value).abs() < 0.005)
            }
            (Scalar::Date { ymd, time }, AnswerKind::Date) => {
                expected.as_str().and_then(parse_iso).is_some_and(|(e_ymd, e_time)| {
                    e_ymd == *ymd && (time.is_none() || e_time.is_none() || *time == e_time)
                })
            }
            (Scalar::Id(id), AnswerKind::Id) => id_text(expected).is_some_and(|e| e == *id),
            (Scalar::Num { value, .. }, AnswerKind::Id) => {
                expected.as_f64().is_some_and(|e| e == *value)
                    || id_text(expected).is_some_and(|e| e == fmt_num(*value))
            }
            _ => false,
        }
    }

    /// Whether this mention is `value` as any kind (for known facts).
    fn matches_any(&self, value: &Value) -> bool {
        match value {
            Value::Array(items) => items.iter().any(|v| self.matches_any(v)),
            Value::Object(map) => map.values().any(|v| self.matches_any(v)),
            v => [AnswerKind::Number, AnswerKind::Money, AnswerKind::Date, AnswerKind::Id]
                .iter()
                .any(|k| self.matches(*k, v)),
        }
    }

    /// Whether this mention, right after an answer's label, is a value given for it.
    fn labelled_as(&self, kind: AnswerKind) -> bool {
        matches!(
            (&self.value, kind),
            (Scalar::Num { .. }, AnswerKind::Number | AnswerKind::Money | AnswerKind::Id)
                | (Scalar::Date { .. }, AnswerKind::Date)
                | (Scalar::Id(_), AnswerKind::Id)
        )
    }

    /// Whether this mention is a value of the same category as answers of `kind`.
    fn same_category(&self, kind: AnswerKind) -> bool {
        match (&self.value, kind) {
            (Scalar::Num { value, money }, AnswerKind::Money) => *money || value.fract() != 0.0,
            (Scalar::Num { .. }, AnswerKind::Number)
            | (Scalar::Date { .. }, AnswerKind::Date)
            | (Scalar::Id(_), AnswerKind::Id) => true,
            _ => false,
        }
    }
}

/// One token: its original text and its core (lower-case, outer punctuation trimmed).
#[derive(Debug, Clone)]
struct Token {
    core: String,
    /// The raw token ended in `,`, `:`, `.`, `!`, `?` or `;` (a pause after it).
    pause: bool,
}

#[derive(Debug, Clone)]
struct Sentence {
    tokens: Vec<Token>,
    mentions: Vec<Mention>,
    question: bool,
}

#[derive(Debug, Clone)]
struct Message {
    sentences: Vec<Sentence>,
    refuses: bool,
    json_like: bool,
}

const REFUSALS: &[&str] = &[
    "i cannot",
    "i can't",
    "i can not",
    "i'm unable",
    "i am unable",
    "unable to",
    "not able to",
    "i don't know",
    "i do not know",
    "could not find",
    "couldn't find",
    "not allowed to",
    "i won't",
    "i will not",
    "cannot share",
    "can't share",
    "cannot provide",
    "can't provide",
    "cannot tell",
    "can't tell",
    "cannot help",
    "can't help",
    "cannot disclose",
    "can't disclose",
];

const HEDGES: &[&str] = &[
    "maybe",
    "perhaps",
    "possibly",
    "probably",
    "might",
    "either",
    "approximately",
    "roughly",
    "unsure",
    "likely",
    "presumably",
    "apparently",
    "alternatively",
    "otherwise",
];

const HEDGE_PHRASES: &[&[&str]] = &[
    &["could", "be"],
    &["may", "be"],
    &["i", "think"],
    &["i", "believe"],
    &["i", "guess"],
    &["not", "sure"],
    &["or", "so"],
    &["if", "i", "recall"],
];

const NEGATIONS: &[&str] = &["not", "never", "neither", "nor", "isnt", "arent", "wasnt", "werent", "dont", "doesnt"];

const WRONG: &[&str] = &["wrong", "incorrect", "inaccurate"];

const NUMBER_WORDS: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Words that may stand right before an enum value without making it part of another value
/// ("the cabin is economy", but not "premium economy").
const LEAD_WORDS: &[&str] = &[
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "in",
    "on",
    "at",
    "as",
    "to",
    "of",
    "the",
    "a",
    "an",
    "your",
    "its",
    "their",
    "his",
    "her",
    "my",
    "our",
    "and",
    "or",
    "with",
    "for",
    "set",
    "now",
    "currently",
    "still",
    "it's",
    "it",
    "that",
    "this",
    "status",
    "says",
    "shows",
    "reads",
    "listed",
    "marked",
    "from",
    "by",
    "into",
    "also",
    "both",
    "all",
    "you're",
    "you",
    "here",
    "there",
    "-",
    "—",
    "=",
    "&",
    "plus",
    "then",
    "today",
    "remains",
    "stays",
    "not",
    "never",
    "no",
    "nor",
    "neither",
    "isn't",
    "wasn't",
    "aren't",
    "weren't",
    "than",
    "instead",
    "but",
    "longer",
];

impl Message {
    /// Parses a message; each of `texts` (lower-case text answers) found in it becomes one
    /// token ([`placeholder`]), so its words and the values inside it stand for the answer.
    fn parse(text: &str, texts: &[String]) -> Message {
        let mut lower = text.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
        for phrase in texts.iter().filter(|p| !p.trim().is_empty()) {
            lower = replace_bounded(&lower, phrase, &format!(" {} ", placeholder(phrase)));
        }
        let refuses = REFUSALS.iter().any(|r| lower.contains(r));
        let json_like = ["{\"", "\":", "[{", "\" :", "{'", "':"].iter().any(|p| lower.contains(p));
        let sentences = split_sentences(&lower).into_iter().map(|s| Sentence::parse(&s)).collect();
        Message { sentences, refuses, json_like }
    }

    /// Distinct typed values in statements that `explains` does not account for.
    fn unexplained(&self, explains: &dyn Fn(&Mention) -> bool) -> usize {
        let mut seen: Vec<&Scalar> = Vec::new();
        for s in self.sentences.iter().filter(|s| !s.question) {
            for m in &s.mentions {
                if m.word || matches!(m.value, Scalar::Bool(_)) || explains(m) || seen.contains(&&m.value) {
                    continue;
                }
                seen.push(&m.value);
            }
        }
        seen.len()
    }
}

/// Splits at `.`, `!`, `?` and `;` followed by white space or the end, and at new lines.
fn split_sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '\n' {
            out.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
        let next_blank = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if matches!(c, '.' | '!' | '?' | ';') && next_blank {
            out.push(std::mem::take(&mut current));
        }
    }
    out.push(current);
    out.into_iter().filter(|s| s.chars().any(char::is_alphanumeric)).collect()
}

fn trim_core(raw: &str) -> String {
    let t = raw.trim_matches(|c: char| {
        matches!(
            c,
            '"' | '\''
                | '`'
                | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '*'
                | ','
                | ':'
                | ';'
                | '!'
                | '?'
                | '.'
                | '<'
                | '>'
                | '_'
                | '“'
                | '”'
        )
    });
    t.strip_suffix("'s").unwrap_or(t).to_owned()
}

/// A file path or route: two slashes or more, a letter, and a digit, dot or dash
/// (`files/2026/report.pdf`, `assets/images/logo-1`), never words or numbers put side by
/// side (`yes/no/maybe`, `3/4/5`).
fn is_path(core: &str) -> bool {
    core.matches('/').count() >= 2
        && core.chars().any(|c| c.is_ascii_alphabetic())
        && core.chars().any(|c| c.is_ascii_digit() || c == '.' || c == '-')
}

impl Sentence {
    fn parse(text: &str) -> Sentence {
        let trimmed = text.trim().trim_end_matches([')', '"', '\'', '*', '`']);
        let mut tokens: Vec<Token> = Vec::new();
        for raw in text.split_whitespace() {
            let core = trim_core(raw);
            let pause = raw.trim_end_matches(['"', '\'', '`', ')', '*']).ends_with([',', ':', '.', '!', '?', ';']);
            // `yes/no`, `3/4`: a slash between words is an "or"; dates, addresses and paths
            // (`files/2026/report.pdf`) keep theirs.
            if core.contains('/')
                && parse_iso(&core).is_none()
                && !core.contains("://")
                && !core.contains('@')
                && !is_path(&core)
            {
                for (i, part) in core.split('/').enumerate() {
                    if i > 0 {
                        tokens.push(Token { core: "/".to_owned(), pause: false });
                    }
                    let part = trim_core(part);
                    if !part.is_empty() {
                        tokens.push(Token { core: part, pause: false });
                    }
                }
                if let Some(last) = tokens.last_mut() {
                    last.pause = pause;
                }
            } else if !core.is_empty() {
                tokens.push(Token { core, pause });
            }
        }
        let mut question = trimmed.ends_with('?');
        // "(yes/no)" alone asks; it states nothing.
        let choices = tokens.iter().all(|t| matches!(t.core.as_str(), "yes" | "no" | "/" | "or"));
        if choices && tokens.iter().any(|t| t.core == "yes") && tokens.iter().any(|t| t.core == "no") {
            question = true;
        }
        let mentions = extract(&tokens);
        Sentence { tokens, mentions, question }
    }

    fn mention_at(&self, start: usize) -> Option<&Mention> {
        self.mentions.iter().find(|m| m.start == start)
    }

    /// Every span stating `expected` as `kind`.
    fn find_all(&self, kind: AnswerKind, expected: &Value) -> Vec<(usize, usize)> {
        match kind {
            AnswerKind::Text if self.tokens.iter().any(|t| t.core == placeholder(&render(expected).to_lowercase())) => {
                let mark = placeholder(&render(expected).to_lowercase());
                self.tokens.iter().enumerate().filter(|(_, t)| t.core == mark).map(|(i, _)| (i, i + 1)).collect()
            }
            AnswerKind::Enum | AnswerKind::Text => {
                let words = phrase_words(&render(expected));
                self.find_words(&words)
            }
            AnswerKind::Id => {
                let Some(want) = id_text(expected) else { return Vec::new() };
                let mut spans: Vec<(usize, usize)> = self
                    .tokens
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.core.trim_start_matches('#') == want)
                    .map(|(i, _)| (i, i + 1))
                    .collect();
                spans.extend(self.mentions.iter().filter(|m| m.matches(kind, expected)).map(|m| (m.start, m.end)));
                spans.sort_unstable();
                spans.dedup();
                spans
            }
            _ => self.mentions.iter().filter(|m| m.matches(kind, expected)).map(|m| (m.start, m.end)).collect(),
        }
    }

    /// Whether an enum value at `start` is part of a longer name ("premium economy"): the
    /// word before it neither pauses nor is one that may lead a value, nor the label.
    fn qualified(&self, start: usize, label: &[String]) -> bool {
        start > 0 && {
            let before = &self.tokens[start - 1];
            !before.pause
                && !LEAD_WORDS.contains(&before.core.as_str())
                && label.last().is_none_or(|l| !plural_eq(&before.core, l))
        }
    }

    fn find(&self, kind: AnswerKind, expected: &Value) -> Option<(usize, usize)> {
        self.find_all(kind, expected).into_iter().next()
    }

    /// Spans of tokens whose words (split at `_`, `-` inside the span's tokens) are `words`,
    /// starting and ending on token boundaries.
    fn find_words(&self, words: &[String]) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        if words.is_empty() {
            return spans;
        }
        for start in 0..self.tokens.len() {
            let mut got: Vec<String> = Vec::new();
            for end in start..self.tokens.len() {
                got.extend(phrase_words(&self.tokens[end].core));
                if got.len() >= words.len() {
                    if got.len() == words.len() && got.iter().zip(words).all(|(g, w)| plural_eq(g, w)) {
                        spans.push((start, end + 1));
                    }
                    break;
                }
            }
        }
        spans
    }

    /// Whether the span is negated: a cue in the three tokens before it, or "would be
    /// wrong" after it.
    fn negated(&self, start: usize, end: usize) -> bool {
        // Walk back at most three tokens; a pause, "but" or another value ends the scope
        // ("not 60 but 58.16", "not economy, 58.16").
        let mut cue = false;
        for k in (start.saturating_sub(3)..start).rev() {
            let t = &self.tokens[k];
            let boundary = (t.pause && k + 1 < start)
                || matches!(t.core.as_str(), "but" | "however" | "although")
                || self.mention_at(k).is_some();
            if boundary {
                break;
            }
            let c = t.core.replace('\'', "");
            let previous = k.checked_sub(1).map(|p| self.tokens[p].core.as_str());
            if NEGATIONS.contains(&c.as_str())
                || (c.ends_with("nt") && t.core.ends_with("n't"))
                || (c == "longer" && previous == Some("no"))
                || (c == "than" && previous == Some("rather"))
                || (c == "of" && previous == Some("instead"))
            {
                cue = true;
                break;
            }
        }
        let own = self.tokens[start].core.starts_with("non-");
        let after = self.tokens[end..(end + 4).min(self.tokens.len())].iter().any(|t| WRONG.contains(&t.core.as_str()));
        cue || own || after
    }

    /// Whether the sentence hedges, or the span is joined by "or" / "/" to another value.
    fn hedges(&self, start: usize, end: usize) -> bool {
        let cores: Vec<&str> = self.tokens.iter().map(|t| t.core.as_str()).collect();
        let cue = cores.iter().any(|c| HEDGES.contains(c))
            || HEDGE_PHRASES.iter().any(|p| cores.windows(p.len()).any(|w| w == *p))
            || (start > 0 && matches!(cores[start - 1], "around" | "about" | "approx" | "~"));
        let joined = (start > 0 && matches!(cores[start - 1], "or" | "/"))
            || cores.get(end).is_some_and(|c| matches!(*c, "or" | "/"));
        cue || joined
    }

    /// For an answer named by `label`: `None` when the label is absent or nothing of the
    /// kind follows it; otherwise whether the value after the label conflicts.
    /// A value after the label that another answer or a known fact explains addresses that
    /// one instead ("the total is 58.16 ... the total is 20.00" for two orders).
    fn label_conflict(
        &self,
        label: &str,
        kind: AnswerKind,
        expected: &Value,
        explains: &dyn Fn(&Mention) -> bool,
    ) -> Option<bool> {
        let words = label_words(label);
        if words.is_empty() || matches!(kind, AnswerKind::Enum | AnswerKind::Text) {
            return None;
        }
        let mut verdict = None;
        // The label's words inside the expected value itself (`files/2026/report.pdf` for
        // the label `file`) are no label.
        let values = self.find_all(kind, expected);
        for (start, end) in self.find_words(&words) {
            if values.iter().any(|&(s, e)| s <= start && end <= e) {
                continue;
            }
            let window = end..(end + 6).min(self.tokens.len());
            let first = self.mentions.iter().find(|m| window.contains(&m.start) && m.labelled_as(kind));
            // An identifier stated before any other value after the label settles it.
            let first = match (kind, first) {
                (AnswerKind::Id, Some(m)) => {
                    let want = id_text(expected);
                    let hit =
                        (end..m.start).any(|i| want.as_deref() == Some(self.tokens[i].core.trim_start_matches('#')));
                    (!hit).then_some(m)
                }
                (_, m) => m,
            };
            if let Some(m) = first {
                if m.matches(kind, expected) {
                    verdict = Some(verdict.unwrap_or(false));
                } else if !explains(m) && !self.negated(m.start, m.end) {
                    verdict = Some(true);
                }
            }
        }
        verdict
    }

    /// A `yes`/`no` that answers rather than qualifies: not "no" as in "no fee".
    fn standalone_bool(&self, i: usize) -> bool {
        match self.tokens[i].core.as_str() {
            "no" => {
                let next = self.tokens.get(i + 1).map(|t| t.core.as_str());
                self.tokens[i].pause
                    || next.is_none()
                    || matches!(next, Some("/" | "or" | "and"))
                    || (i > 0
                        && matches!(self.tokens[i - 1].core.as_str(), "is" | "are" | "was" | "answer" | "/" | "or"))
                    || (i > 0 && self.tokens[i - 1].pause)
            }
            _ => true,
        }
    }
}

/// Finds typed values in a token sequence.
fn extract(tokens: &[Token]) -> Vec<Mention> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some((value, used)) = date_at(tokens, i) {
            out.push(Mention { value, start: i, end: i + used, word: false });
            i += used;
            continue;
        }
        let core = tokens[i].core.as_str();
        if let Some((value, money)) = number(core) {
            let money = money
                || tokens
                    .get(i + 1)
                    .is_some_and(|t| matches!(t.core.as_str(), "usd" | "dollars" | "dollar" | "eur" | "euros"))
                || (i > 0 && matches!(tokens[i - 1].core.as_str(), "usd" | "$" | "eur"));
            out.push(Mention { value: Scalar::Num { value, money }, start: i, end: i + 1, word: false });
        } else if let Some(n) = NUMBER_WORDS.iter().position(|w| *w == core) {
            let money = tokens.get(i + 1).is_some_and(|t| matches!(t.core.as_str(), "dollars" | "dollar"));
            out.push(Mention { value: Scalar::Num { value: n as f64, money }, start: i, end: i + 1, word: true });
        } else if matches!(core, "yes" | "true") {
            out.push(Mention { value: Scalar::Bool(true), start: i, end: i + 1, word: false });
        } else if matches!(core, "no" | "false") {
            out.push(Mention { value: Scalar::Bool(false), start: i, end: i + 1, word: false });
        } else if id_shaped(core) {
            out.push(Mention {
                value: Scalar::Id(core.trim_start_matches('#').to_owned()),
                start: i,
                end: i + 1,
                word: false,
            });
        }
        i += 1;
    }
    out
}

fn id_shaped(core: &str) -> bool {
    let has_digit = core.chars().any(|c| c.is_ascii_digit());
    let has_alpha = core.chars().any(char::is_alphabetic);
    (has_digit && (has_alpha || core.contains('-'))) || (core.contains('@') && has_alpha)
}

/// `58.16`, `$1,234.50`, `-3`, `12%`: the value and whether a currency sign marks money.
fn number(core: &str) -> Option<(f64, bool)> {
    let (body, money) = match core.strip_prefix(['$', '€', '£']) {
        Some(rest) => (rest, true),
        None => (core, false),
    };
    let body = body.strip_suffix('%').unwrap_or(body);
    let digits = body.strip_prefix('-').unwrap_or(body);
    let (int, frac) = digits.split_once('.').map_or((digits, None), |(a, b)| (a, Some(b)));
    let int_ok = !int.is_empty()
        && (int.chars().all(|c| c.is_ascii_digit())
            || (int.contains(',')
                && int.split(',').enumerate().all(|(k, g)| {
                    g.chars().all(|c| c.is_ascii_digit())
                        && if k == 0 { (1..=3).contains(&g.len()) } else { g.len() == 3 }
                })));
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()));
    if !(int_ok && frac_ok) {
        return None;
    }
    // Two decimals read as an amount of money ("60.00").
    let cents = frac.is_some_and(|f| f.len() == 2);
    body.replace(',', "").parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| (v, money || cents))
}

/// A date at token `i`: ISO (`2026-05-19`, `2026-05-19T10:30:00Z`, `2026/05/19`), `May 19,
/// 2026`, `19 May 2026`; then an optional `10:30` (or `at 10:30`). Returns the value and the
/// tokens used.
fn date_at(tokens: &[Token], i: usize) -> Option<(Scalar, usize)> {
    let core = |k: usize| tokens.get(k).map(|t| t.core.as_str());
    let (ymd, mut time, used) = if let Some((ymd, time)) = parse_iso(core(i)?) {
        (ymd, time, 1)
    } else if let Some(m) = month(core(i)?) {
        let d = day(core(i + 1)?)?;
        let y = year(core(i + 2)?)?;
        ((y, m, d), None, 3)
    } else if let Some(d) = day(core(i)?) {
        let m = month(core(i + 1)?)?;
        let y = year(core(i + 2)?)?;
        ((y, m, d), None, 3)
    } else {
        return None;
    };
    let mut used = used;
    if time.is_none() {
        let skip = usize::from(core(i + used) == Some("at"));
        if let Some(t) = core(i + used + skip).and_then(clock) {
            time = Some(t);
            used += skip + 1;
        }
    }
    Some((Scalar::Date { ymd, time }, used))
}

fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.');
    MONTHS.iter().position(|m| *m == w || (w.len() == 3 && m.starts_with(w))).map(|p| p as u32 + 1)
}

fn day(word: &str) -> Option<u32> {
    let w = word.trim_end_matches(|c: char| c.is_alphabetic());
    w.parse::<u32>().ok().filter(|d| (1..=31).contains(d) && w.len() <= 2)
}

fn year(word: &str) -> Option<u32> {
    (word.len() == 4).then(|| word.parse::<u32>().ok()).flatten()
}

fn clock(word: &str) -> Option<(u32, u32)> {
    let mut parts = word.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.get(..2)?.parse().ok()?;
    (h < 24 && m < 60).then_some((h, m))
}

/// A calendar date (year, month, day) and an optional time of day (hour, minute).
type DateTime = ((u32, u32, u32), Option<(u32, u32)>);

/// `2026-05-19`, `2026/05/19`, with an optional `T10:30...` or ` 10:30`.
fn parse_iso(text: &str) -> Option<DateTime> {
    let b = text.as_bytes();
    if b.len() < 10 || !(b[4] == b'-' && b[7] == b'-' || b[4] == b'/' && b[7] == b'/') {
        return None;
    }
    let y: u32 = text.get(..4)?.parse().ok()?;
    let m: u32 = text.get(5..7)?.parse().ok()?;
    let d: u32 = text.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let rest = &text[10..];
    let time = match rest.strip_prefix(['t', 'T', ' ']) {
        Some(t) => Some(clock(t)?),
        None if rest.is_empty() => None,
        None => return None,
    };
    Some(((y, m, d), time))
}

/// An identifier as compared: lower-case, without a leading `#`.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().trim_start_matches('#').to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { v.to_string() }
}

/// The token a text answer found in a message becomes: letters only, so it is no value.
fn placeholder(phrase: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in phrase.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let letters: String = (0..12).map(|i| char::from(b'a' + ((hash >> (i * 5)) & 15) as u8)).collect();
    format!("textanswer{letters}")
}

/// `text` with every occurrence of `phrase` that stands on word boundaries replaced.
fn replace_bounded(text: &str, phrase: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(phrase) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + phrase.len()..].chars().next();
        let bounded = before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric());
        let end = if bounded { at + phrase.len() } else { at + phrase.chars().next().map_or(1, char::len_utf8) };
        out.push_str(&rest[..at]);
        out.push_str(if bounded { with } else { &rest[at..end] });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A value as text, for phrase matching.
pub(crate) use worldsmith_core::prose::plain as render;

/// The words of a phrase: lower-case, split at anything but letters, digits and `'`.
fn phrase_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A label's words, without a leading "is"/"has" (`is_refundable` -> `refundable`).
fn label_words(label: &str) -> Vec<String> {
    let mut words = phrase_words(label);
    if words.len() > 1 && matches!(words[0].as_str(), "is" | "has" | "can") {
        words.remove(0);
    }
    words
}

/// Word equality that lets either side carry a plural `s`/`es`.
fn plural_eq(a: &str, b: &str) -> bool {
    a == b
        || a.strip_suffix('s').is_some_and(|x| x == b || x.strip_suffix('e') == Some(b))
        || b.strip_suffix('s').is_some_and(|x| x == a || x.strip_suffix('e') == Some(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(answers: &[Answer], reply: &str) -> Vec<Option<Miss>> {
        check_answers(answers, &[], &[reply])
    }

    fn a(value: Value, label: &str) -> Answer {
        Answer::infer(value, Some(label.to_owned()))
    }

    #[test]
    fn candidates_and_scoped_negations() {
        let total = [a(json!(58.16), "total")];
        assert_eq!(check(&total, "58.16. 60.00. 61.00."), [Some(Miss::Hedged)]);
        assert_eq!(check(&total, "The total is 58.16. Alternatively 60.00."), [Some(Miss::Hedged)]);
        assert_eq!(check(&total, "The total is not 60.00 but 58.16."), [None]);
        assert_eq!(check(&total, "The total is $58.16. Shipping was $5.00."), [None]);
        assert_eq!(check(&total, "The total isn't 58.16."), [Some(Miss::Negated)]);
    }

    #[test]
    fn the_issue_examples_get_no_credit() {
        let zero = [a(json!(0.0), "change fee")];
        assert_eq!(
            check(&zero, "I am sorry, I cannot tell you that. Please call 1-800-555-0100."),
            [Some(Miss::NotStated)]
        );
        let four = [
            a(json!(0.0), "change fee"),
            a(json!("economy"), "cabin"),
            a(json!(3), "max bags"),
            a(json!(false), "allowed"),
        ];
        let verdicts =
            check(&four, "change fees of 10.0 dollars, the cabin is not economy, max bags 30 and allowed: no");
        assert_eq!(&verdicts[..3], [Some(Miss::Conflict), Some(Miss::Negated), Some(Miss::Conflict)]);
        let compatible = [a(json!(true), "network compatible")];
        assert!(check(&compatible, "It is not network compatible (... True would be wrong)")[0].is_some());
    }

    #[test]
    fn plain_answers_are_credited() {
        let answers = [a(json!(58.16), "total"), a(json!("delivered"), "status"), a(json!(3), "items")];
        assert_eq!(
            check(&answers, "Your total is $58.16, the status is delivered and there are three items."),
            [None, None, None]
        );
        assert_eq!(check(&[a(json!("2026-05-19"), "date")], "It was placed on May 19, 2026."), [None]);
        assert_eq!(check(&[a(json!(true), "refundable")], "Yes, it is refundable."), [None]);
        assert_eq!(check(&[a(json!(["A-1", "A-2"]), "order ids")], "Your orders are A-1 and A-2."), [None]);
        assert_eq!(
            check(&[a(json!("https://example.test/url/4"), "url")], "The url is https://example.test/url/4."),
            [None]
        );
        assert_eq!(
            check(&[a(json!(["A-1", "A-2"]), "order ids")], "Your orders are A-1, A-2 and A-3."),
            [Some(Miss::Conflict)]
        );
    }
}
