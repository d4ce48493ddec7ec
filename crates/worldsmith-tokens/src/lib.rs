//! Token-exact training data: a conversation rendered with a model's own chat template,
//! tokenized with its own tokenizer, and a mask over exactly the tokens the assistant
//! generated.
//!
//! A [`ChatTokenizer`] is loaded from a Hugging Face tokenizer directory (`tokenizer.json`,
//! `tokenizer_config.json` with its `chat_template`, optionally `chat_template.jinja` and
//! `special_tokens_map.json`). [`ChatTokenizer::encode`] renders a conversation (OpenAI chat
//! messages and tools, as `transformers`' `apply_chat_template(messages, tools=tools)` would)
//! and returns `input_ids` and `assistant_masks`: 1 on the tokens of every trained assistant
//! message (its content, its tool calls in the template's own syntax, its end-of-turn token),
//! 0 elsewhere.
//!
//! # How the mask is found
//!
//! No template is special-cased. The conversation is rendered twice: plainly, and with every
//! message text (each content, each tool call's name and arguments) wrapped in invisible
//! markers (private-use characters). Removing the markers must give the plain rendering, so
//! the markers locate every message text exactly; a text whose markers do not both appear, or
//! that the template changed, was lost, and the conversation is refused ([`EncodeError::Lost`]).
//! An assistant turn starts where the prompt that the template builds for it
//! (`add_generation_prompt=true` on the messages before it) stops agreeing with the full
//! rendering, and ends where the rendering of the conversation cut after it stops agreeing
//! with the full one, at the first end-of-sequence token at the latest (generation stops
//! there). Only those two comparisons use renderings of part of a conversation, and only the
//! text between the markers of neighbouring messages, so templates that render the last turn
//! differently (Qwen3's reasoning) are handled exactly. A token that crosses a turn boundary
//! is an error, never a guess.
//!
//! # Speed
//!
//! Every render serializes the tools (the bulk of an agent prompt) from a text cached per
//! tool, and the text before the first non-system message (system prompt and tools) is
//! tokenized once per distinct text: it ends at an added token, where tokenization splits
//! exactly (see `prefix_of`; the tests check the split on every line of the default run).
//! Byte-level BPE tokenizers are encoded by `words`: the tokenizer's own steps with every
//! word's tokens memoized, and every line's (a tool's JSON line, for one) when the
//! pre-tokenizer splits at its junctions, checked on the text each time.
//!
//! ```no_run
//! use worldsmith_tokens::{ChatTokenizer, Conversation, Options};
//! let tokenizer = ChatTokenizer::load(std::path::Path::new(".cache/tokenizers/qwen3"), &Options::default())?;
//! let messages = vec![
//!     serde_json::json!({"role": "user", "content": "Hi"}),
//!     serde_json::json!({"role": "assistant", "content": "Hello!"}),
//! ];
//! let encoded = tokenizer.encode(&Conversation { messages: &messages, tools: &[], trained: &[false, true] })?;
//! assert_eq!(encoded.input_ids.len(), encoded.assistant_masks.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod files;
mod mask;
mod template;
mod words;

pub use files::{LoadError, TokenizerInfo};

use minijinja::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use template::{CachedJson, ChatTemplate};

/// How an assistant message that only calls tools says it has no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolCallContent {
    /// `"content": ""`, the form `transformers` can render (it drops `null` keys).
    Empty,
    /// `"content": null`, the form some templates (DeepSeek-V3's) need to render tool calls.
    Null,
}

/// Settings for loading a tokenizer.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The instant `strftime_now` formats, in Unix seconds (fixed, so outputs repeat).
    pub now_unix: i64,
}

/// A message text the template dropped or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The message's content.
    Content,
    /// The name of its tool call at this index.
    ToolName(usize),
    /// The arguments of its tool call at this index.
    ToolArguments(usize),
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Content => write!(f, "content"),
            Part::ToolName(i) => write!(f, "tool call {i}'s name"),
            Part::ToolArguments(i) => write!(f, "tool call {i}'s arguments"),
        }
    }
}

/// Why a conversation could not be encoded. The conversation is skipped; nothing is guessed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The template failed to render (an unknown filter, a type error, ...).
    #[error("the chat template failed to render: {0}")]
    Render(String),
    /// The template called `raise_exception` (it rejects the conversation).
    #[error("the chat template rejects the conversation: {0}")]
    Raised(String),
    /// The template dropped or altered a message's text, so training on its rendering would
    /// train on an altered conversation.
    #[error("the chat template drops or alters message {message}'s {part}")]
    Lost {
        /// The message's index.
        message: usize,
        /// What was lost.
        part: Part,
    },
    /// A message text contains the private-use characters the exporter marks texts with.
    #[error("message {0} contains the private-use characters U+E000..U+E01F, which locate message texts")]
    Unmarkable(usize),
    /// The template changes message texts in a way the markers cannot follow (trimming them,
    /// for example): the spans of the messages cannot be located exactly.
    #[error("the chat template transforms message texts, so the assistant turns cannot be located exactly")]
    Untraceable,
    /// The template renders messages out of their order.
    #[error("the chat template renders message {0} out of order")]
    OutOfOrder(usize),
    /// A trained assistant message has no text to locate (no content, no tool calls).
    #[error("trained assistant message {0} has neither content nor tool calls")]
    Empty(usize),
    /// A token crosses the start or end of a trained assistant turn.
    #[error("a token crosses the boundary of assistant message {message}'s turn at byte {at} of the rendering")]
    Straddle {
        /// The message's index.
        message: usize,
        /// The byte offset of the boundary in the rendered text.
        at: usize,
    },
    /// The tokenizer failed.
    #[error("the tokenizer failed: {0}")]
    Tokenize(String),
}

/// One conversation to encode.
#[derive(Debug, Clone, Copy)]
pub struct Conversation<'a> {
    /// The messages, as OpenAI chat messages (JSON objects; extra keys such as `weight` are
    /// passed to the template, which ignores them).
    pub messages: &'a [serde_json::Value],
    /// The tools offered, in OpenAI function format (passed as the template's `tools`).
    pub tools: &'a [serde_json::Value],
    /// Per message, whether it is trained (only assistant messages can be).
    pub trained: &'a [bool],
}

/// A conversation's tokens and loss mask.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoded {
    /// The token ids of the rendered conversation.
    pub input_ids: Vec<u32>,
    /// 1 on the tokens a trained assistant message generated, 0 elsewhere.
    pub assistant_masks: Vec<u8>,
}

impl Encoded {
    /// Tokens with mask 1.
    #[must_use]
    pub fn trained(&self) -> usize {
        self.assistant_masks.iter().filter(|&&m| m == 1).count()
    }
}

/// A model's chat template and tokenizer.
#[derive(Debug)]
pub struct ChatTokenizer {
    info: TokenizerInfo,
    tokenizer: tokenizers::Tokenizer,
    /// The memoizing encoder, when it reproduces this tokenizer exactly.
    words: Option<words::Words>,
    /// The template for conversations without tools, and the one with (often the same).
    default_template: Arc<ChatTemplate>,
    tool_template: Arc<ChatTemplate>,
    special: Vec<(String, String)>,
    eos: Option<String>,
    form: ToolCallContent,
    /// Added tokens at which a text can be split and tokenized in two parts.
    split_ids: std::collections::HashSet<u32>,
    added: Vec<String>,
    prefixes: Mutex<HashMap<[u8; 32], Arc<Prefix>>>,
    tools: Mutex<HashMap<[u8; 32], Value>>,
}

/// The most shared prefixes kept; the cache is emptied when full, so memory stays bounded
/// when every conversation has its own system prompt.
const CACHE_ENTRIES: usize = 256;

/// The most tools kept with their JSON text (emptied when full).
const TOOL_ENTRIES: usize = 4096;

pub use words::Tokens;

/// A tokenized shared prefix: the text up to `len` bytes and its tokens.
#[derive(Debug)]
struct Prefix {
    len: usize,
    ids: Vec<u32>,
    offsets: Vec<(usize, usize)>,
}

impl ChatTokenizer {
    /// Loads a Hugging Face tokenizer directory and finds the form of tool-call turns under
    /// which the template renders every message text ([`ChatTokenizer::tool_call_content`]).
    ///
    /// # Errors
    ///
    /// A missing or unreadable file, invalid JSON, no chat template, a template that does not
    /// compile, or a `tokenizer.json` the tokenizers library cannot load; each names the file.
    pub fn load(dir: &Path, options: &Options) -> Result<ChatTokenizer, LoadError> {
        let files = files::read(dir)?;
        let tokenizer = tokenizers::Tokenizer::from_bytes(&files.tokenizer_json)
            .map_err(|e| LoadError::Invalid { path: files.tokenizer_path.clone(), message: e.to_string() })?;
        let compile = |source: &str| {
            ChatTemplate::new(source, options.now_unix)
                .map(Arc::new)
                .map_err(|source| LoadError::Template { path: files.template_path.clone(), source })
        };
        let (default_template, tool_template) = match &files.templates {
            files::Templates::One(source) => {
                let t = compile(source)?;
                (Arc::clone(&t), t)
            }
            files::Templates::Named(named) => {
                let default = named.get("default").or_else(|| named.values().next());
                let Some(default) = default else {
                    return Err(LoadError::NoTemplate(files.template_path.clone()));
                };
                let default = compile(default)?;
                let tool = match named.get("tool_use") {
                    Some(source) => compile(source)?,
                    None => Arc::clone(&default),
                };
                (default, tool)
            }
        };
        let mut split_ids = std::collections::HashSet::new();
        let mut added = Vec::new();
        for (id, token) in tokenizer.get_added_tokens_decoder() {
            if !token.rstrip && !token.single_word && !token.normalized {
                split_ids.insert(id);
            }
            added.push(token.content);
        }
        added.sort();
        let eos = files.special.get("eos_token").cloned();
        let words = words::Words::new(&tokenizer);
        let mut tokenizer = ChatTokenizer {
            info: files.info,
            tokenizer,
            words,
            default_template,
            tool_template,
            special: files.special.into_iter().collect(),
            eos,
            form: ToolCallContent::Empty,
            split_ids,
            added,
            prefixes: Mutex::new(HashMap::new()),
            tools: Mutex::new(HashMap::new()),
        };
        tokenizer.form = tokenizer.probe_form();
        Ok(tokenizer)
    }

    /// The tokenizer's name and file hashes.
    #[must_use]
    pub fn info(&self) -> &TokenizerInfo {
        &self.info
    }

    /// The form of tool-call turns this template renders without losing anything: `""` when
    /// it does, else `null` when that does, else `""` (and conversations with tool calls are
    /// then refused as [`EncodeError::Lost`]).
    #[must_use]
    pub fn tool_call_content(&self) -> ToolCallContent {
        self.form
    }

    /// The end-of-sequence token, when the tokenizer names one.
    #[must_use]
    pub fn eos_token(&self) -> Option<&str> {
        self.eos.as_deref()
    }

    /// Renders a conversation as the template does (the form of tool-call turns applied),
    /// without generation prompt.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Render`] or [`EncodeError::Raised`] when the template fails.
    pub fn render(&self, conversation: &Conversation<'_>) -> Result<String, EncodeError> {
        let prepared = self.prepare(conversation, self.form)?;
        self.render_messages(&prepared.tools, &prepared.plain, false)
    }

    /// Renders, tokenizes and masks one conversation.
    ///
    /// # Errors
    ///
    /// Every [`EncodeError`]: the template fails or rejects the conversation, loses or alters
    /// a message text, or a trained turn cannot be located or tokenized exactly.
    pub fn encode(&self, conversation: &Conversation<'_>) -> Result<Encoded, EncodeError> {
        let prepared = self.prepare(conversation, self.form)?;
        let located = self.locate(&prepared, conversation.trained)?;
        let (input_ids, offsets) = self.tokenize(&located.text, located.shared_end)?;
        let mut assistant_masks = vec![0u8; input_ids.len()];
        // Spans and tokens are both in text order: one pass over the tokens.
        let mut t = 0;
        for span in &located.spans {
            while t < offsets.len() && offsets[t].0 < span.start {
                if offsets[t].1 > span.start {
                    return Err(EncodeError::Straddle { message: span.message, at: span.start });
                }
                t += 1;
            }
            while t < offsets.len() && offsets[t].0 < span.end {
                if offsets[t].1 > span.end {
                    return Err(EncodeError::Straddle { message: span.message, at: span.end });
                }
                assistant_masks[t] = 1;
                t += 1;
            }
        }
        Ok(Encoded { input_ids, assistant_masks })
    }

    /// Tokenizes a text as `transformers` does after rendering (`add_special_tokens=False`),
    /// with byte offsets.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Tokenize`] when the tokenizer fails.
    pub fn tokenize_plain(&self, text: &str) -> Result<Vec<u32>, EncodeError> {
        let encoding = self.tokenizer.encode(text, false).map_err(|e| EncodeError::Tokenize(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Tokenizes a text as [`ChatTokenizer::tokenize_plain`] does, with byte offsets, through
    /// the memoizing encoder when it reproduces this tokenizer (see `words`).
    ///
    /// # Errors
    ///
    /// [`EncodeError::Tokenize`] when the tokenizer fails.
    pub fn tokenize_offsets(&self, text: &str) -> Result<Tokens, EncodeError> {
        let tokenize = |e: tokenizers::Error| EncodeError::Tokenize(e.to_string());
        if let Some(words) = &self.words {
            return words.encode(&self.tokenizer, text).map_err(tokenize);
        }
        let encoding = self.tokenizer.encode(text, false).map_err(tokenize)?;
        Ok((encoding.get_ids().to_vec(), encoding.get_offsets().to_vec()))
    }

    /// Tokenizes a text with `tokenizers` alone (ids and byte offsets), the reference the
    /// memoizing encoder is tested against.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Tokenize`] when the tokenizer fails.
    pub fn tokenize_reference(&self, text: &str) -> Result<Tokens, EncodeError> {
        let encoding = self.tokenizer.encode(text, false).map_err(|e| EncodeError::Tokenize(e.to_string()))?;
        Ok((encoding.get_ids().to_vec(), encoding.get_offsets().to_vec()))
    }

    /// Whether texts are encoded by the memoizing encoder (the tokenizer is one whose every
    /// step it reproduces) rather than by `tokenizers` whole.
    #[must_use]
    pub fn memoizes_words(&self) -> bool {
        self.words.is_some()
    }

    /// Decodes token ids back to text (special tokens kept).
    ///
    /// # Errors
    ///
    /// [`EncodeError::Tokenize`] when the tokenizer fails.
    pub fn decode(&self, ids: &[u32]) -> Result<String, EncodeError> {
        self.tokenizer.decode(ids, false).map_err(|e| EncodeError::Tokenize(e.to_string()))
    }

    /// The byte length of the shared prefix a text would be split at, when it has one cached
    /// (for tests of the split).
    #[must_use]
    pub fn cached_prefixes(&self) -> Vec<usize> {
        let prefixes = self.prefixes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut lens: Vec<usize> = prefixes.values().map(|p| p.len).collect();
        lens.sort_unstable();
        lens
    }

    /// Tokenizes `text`, reusing the tokens of its first `shared_end` bytes' longest prefix
    /// that ends at an added token.
    fn tokenize(&self, text: &str, shared_end: usize) -> Result<Tokens, EncodeError> {
        let full = |text: &str| self.tokenize_offsets(text);
        if shared_end == 0 {
            return full(text);
        }
        let key: [u8; 32] = blake3::hash(&text.as_bytes()[..shared_end]).into();
        let cached = self.prefixes.lock().unwrap_or_else(PoisonError::into_inner).get(&key).map(Arc::clone);
        let Some(prefix) = cached else {
            // A new prefix: tokenize the whole text once, and keep the tokens of its prefix.
            let (ids, offsets) = full(text)?;
            let prefix = Arc::new(self.prefix_of(text, shared_end, &ids, &offsets));
            let mut prefixes = self.prefixes.lock().unwrap_or_else(PoisonError::into_inner);
            if prefixes.len() >= CACHE_ENTRIES {
                prefixes.clear();
            }
            prefixes.insert(key, prefix);
            return Ok((ids, offsets));
        };
        if prefix.len == 0 {
            return full(text);
        }
        let (rest_ids, rest_offsets) = full(&text[prefix.len..])?;
        let mut ids = Vec::with_capacity(prefix.ids.len() + rest_ids.len());
        ids.extend_from_slice(&prefix.ids);
        ids.extend_from_slice(&rest_ids);
        let mut offsets = Vec::with_capacity(ids.len());
        offsets.extend_from_slice(&prefix.offsets);
        offsets.extend(rest_offsets.iter().map(|&(s, e)| (s + prefix.len, e + prefix.len)));
        Ok((ids, offsets))
    }

    /// The reusable prefix of a tokenized text: its tokens through the last added token that
    /// ends within the first `shared_end` bytes. Added tokens are split out of a text before
    /// anything else, and what lies between them is normalized, pre-tokenized and modelled on
    /// its own, so any text with the same prefix tokenizes to these tokens followed by its
    /// rest's, provided the token neither strips the whitespace after it, nor depends on
    /// the next character (`single_word`), nor is matched on normalized text, and no longer
    /// added token could start before the split and run past it. Otherwise the prefix has
    /// length 0 (never split).
    fn prefix_of(&self, text: &str, shared_end: usize, ids: &[u32], offsets: &[(usize, usize)]) -> Prefix {
        let none = Prefix { len: 0, ids: Vec::new(), offsets: Vec::new() };
        let Some(last) = (0..ids.len()).rev().find(|&i| offsets[i].1 <= shared_end && self.split_ids.contains(&ids[i]))
        else {
            return none;
        };
        let len = offsets[last].1;
        let head = &text[..len];
        let extendable = self.added.iter().any(|token| {
            (1..token.len()).any(|k| token.is_char_boundary(k) && head.ends_with(&token[..k]))
                && !head.ends_with(token.as_str())
        });
        if extendable {
            return none;
        }
        Prefix { len, ids: ids[..=last].to_vec(), offsets: offsets[..=last].to_vec() }
    }

    /// The template for a conversation with or without tools.
    fn template(&self, with_tools: bool) -> &ChatTemplate {
        if with_tools { &self.tool_template } else { &self.default_template }
    }

    fn render_messages(
        &self,
        tools: &Value,
        messages: &[Value],
        add_generation_prompt: bool,
    ) -> Result<String, EncodeError> {
        let mut context: BTreeMap<&str, Value> = BTreeMap::from([
            ("messages", Value::from(messages.to_vec())),
            ("tools", tools.clone()),
            ("documents", Value::from(())),
            ("add_generation_prompt", Value::from(add_generation_prompt)),
        ]);
        for (name, token) in &self.special {
            context.insert(name.as_str(), Value::from(token.as_str()));
        }
        let with_tools = tools.len().is_some_and(|n| n > 0);
        self.template(with_tools).render(&Value::from(context)).map_err(|e| {
            let detail = e.detail().unwrap_or_default();
            if let Some(message) = detail.strip_prefix(template::RAISED) {
                EncodeError::Raised(message.to_owned())
            } else {
                EncodeError::Render(format!("{e:#}"))
            }
        })
    }

    /// The tools as template values, each with its cached JSON text (each tool's kept by
    /// its JSON, so a tool list in a new order or with other tools reuses them).
    fn tools_value(&self, tools: &[serde_json::Value]) -> Result<Value, EncodeError> {
        let keys: Vec<[u8; 32]> = tools
            .iter()
            .map(|tool| blake3::hash(serde_json::to_string(tool).unwrap_or_default().as_bytes()).into())
            .collect();
        let mut items: Vec<Option<Value>> = {
            let cache = self.tools.lock().unwrap_or_else(PoisonError::into_inner);
            keys.iter().map(|key| cache.get(key).cloned()).collect()
        };
        let mut fresh = Vec::new();
        for ((tool, key), item) in tools.iter().zip(&keys).zip(&mut items) {
            if item.is_some() {
                continue;
            }
            let value = template::to_value(tool);
            let value = if value.kind() == minijinja::value::ValueKind::Map {
                let cached = CachedJson::new(value).map_err(|e| EncodeError::Render(format!("{e:#}")))?;
                Value::from_object(cached)
            } else {
                value
            };
            fresh.push((*key, value.clone()));
            *item = Some(value);
        }
        if !fresh.is_empty() {
            let mut cache = self.tools.lock().unwrap_or_else(PoisonError::into_inner);
            if cache.len() + fresh.len() > TOOL_ENTRIES {
                cache.clear();
            }
            cache.extend(fresh);
        }
        Ok(Value::from(items.into_iter().flatten().collect::<Vec<_>>()))
    }

    /// Tries the two forms of tool-call turns on a small conversation.
    fn probe_form(&self) -> ToolCallContent {
        let messages = [
            serde_json::json!({"role": "system", "content": "You help."}),
            serde_json::json!({"role": "user", "content": "Find order 7."}),
            serde_json::json!({"role": "assistant", "content": "", "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "get_order", "arguments": "{\"id\": 7}"}}]}),
            serde_json::json!({"role": "tool", "tool_call_id": "call_0", "content": "{\"id\": 7, \"status\": \"open\"}"}),
            serde_json::json!({"role": "assistant", "content": "Order 7 is open."}),
        ];
        let tools = [
            serde_json::json!({"type": "function", "function": {"name": "get_order", "description": "An order by id.", "parameters": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}}}),
        ];
        let trained = [false, false, true, false, true];
        let conversation = Conversation { messages: &messages, tools: &tools, trained: &trained };
        for form in [ToolCallContent::Empty, ToolCallContent::Null] {
            let ok = self.prepare(&conversation, form).and_then(|p| self.locate(&p, &trained)).is_ok();
            if ok {
                return form;
            }
        }
        ToolCallContent::Empty
    }

    /// The messages in both renderings (plain and marked) and the texts that must appear.
    fn prepare(&self, conversation: &Conversation<'_>, form: ToolCallContent) -> Result<mask::Prepared, EncodeError> {
        let tools = self.tools_value(conversation.tools)?;
        mask::prepare(conversation.messages, form, tools)
    }

    fn locate(&self, prepared: &mask::Prepared, trained: &[bool]) -> Result<mask::Located, EncodeError> {
        mask::locate(prepared, trained, self.eos.as_deref(), &|messages: &[Value], agp: bool| {
            self.render_messages(&prepared.tools, messages, agp)
        })
    }
}

/// Statistics of a set of encoded conversations, for a manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenStats {
    /// Conversations encoded.
    pub lines: usize,
    /// Tokens in all of them.
    pub tokens: u64,
    /// Tokens with mask 1.
    pub trained_tokens: u64,
    /// Mean tokens per conversation.
    pub mean_length: f64,
    /// The longest conversation, in tokens.
    pub max_length: usize,
    /// Conversations by length: each bucket's upper bound in tokens (a power of two) to the
    /// number of conversations longer than half of it and at most it.
    pub length_histogram: BTreeMap<usize, usize>,
}

impl TokenStats {
    /// Counts one encoded conversation.
    pub fn add(&mut self, encoded: &Encoded) {
        let n = encoded.input_ids.len();
        self.lines += 1;
        self.tokens += n as u64;
        self.trained_tokens += encoded.trained() as u64;
        self.max_length = self.max_length.max(n);
        #[allow(clippy::cast_precision_loss, reason = "token counts are far below 2^52")]
        {
            self.mean_length = self.tokens as f64 / self.lines as f64;
        }
        let bucket = n.max(1).next_power_of_two();
        *self.length_histogram.entry(bucket).or_insert(0) += 1;
    }
}
