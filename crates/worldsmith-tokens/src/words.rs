//! Exact tokenization of byte-level BPE tokenizers with every word's tokens memoized.
//!
//! `tokenizers` encodes a text in fixed steps: it splits out added tokens (leftmost-longest
//! matching), normalizes each text between them, splits that into words with the
//! pre-tokenizer, maps each word's bytes to byte-level characters and runs the model on each
//! word on its own. The model's tokens of a word depend on the word alone, so they can be
//! memoized by the word's text; what remains per text is finding added tokens and running the
//! pre-tokenizer's regular expressions. This module does exactly these steps, with the
//! tokenizer's own compiled expressions (`tokenizers::utils::SysRegex`, whose matches are the
//! ones `tokenizers` splits at) and its own model, for the tokenizers whose every step it can
//! reproduce:
//!
//! - added tokens that strip nothing, need no word boundary and are matched on raw text
//!   (`lstrip`, `rstrip`, `single_word` and `normalized` all false), special tokens split;
//! - no normalizer, or normalizers that leave the text unchanged (NFC on text below U+0300,
//!   NFD, NFKC and NFKD on ASCII text, checked per text between added tokens; other text
//!   goes to `tokenizers` whole);
//! - a pre-tokenizer of `Split` steps (regular expression or string, `Isolated`, not
//!   inverted) ending in `ByteLevel` without a prefix space or its own expression;
//! - a BPE model without dropout; no truncation or padding; no post-processor, or
//!   `ByteLevel` without offset trimming (with `add_special_tokens=false` nothing is added).
//!
//! Any other tokenizer is encoded by `tokenizers` itself ([`Words::new`] returns `None`).
//! Byte offsets are those of `tokenizers`: a token inside a multi-byte character spans the
//! whole character. The tests compare ids and offsets with `tokenizers` on every line of the
//! default run and on adversarial texts.

use rustc_hash::FxHashMap;
use std::sync::{Arc, PoisonError, RwLock};
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::utils::SysRegex;
use tokenizers::{Model, ModelWrapper, SplitDelimiterBehavior, Tokenizer};

/// Token ids and their byte offsets in the text.
pub type Tokens = (Vec<u32>, Vec<(usize, usize)>);

/// One token of a memoized word: its id and byte offsets within the word.
#[derive(Debug, Clone, Copy)]
struct Piece {
    id: u32,
    start: u32,
    end: u32,
}

/// How a normalizer is known to leave a text unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Unchanged {
    /// Always (no normalizer).
    Always,
    /// When every character is below U+0300 (NFC: such text is in normal form, and no
    /// combining mark follows to compose with).
    BelowCombining,
    /// When the text is ASCII (NFD, NFKC, NFKD).
    Ascii,
}

/// The most words memoized; the memo is emptied when full, so memory stays bounded.
const MEMO_ENTRIES: usize = 1 << 18;

/// The most lines memoized (emptied when full), and the longest line memoized: at most
/// 16,384 lines of 4 KiB (64 MiB of text, and their tokens).
const LINE_ENTRIES: usize = 1 << 14;
const LINE_BYTES: usize = 4096;

/// A junction window's verdicts: (split, whether its words split exactly there).
type Verdicts = Vec<(usize, bool)>;

/// The most junction windows memoized (emptied when full).
const JUNCTION_ENTRIES: usize = 1 << 16;

/// Words longer than this are not memoized (long runs of whitespace or digits).
const MEMO_WORD_BYTES: usize = 256;

/// An exact, memoizing encoder for the byte-level BPE tokenizers it can reproduce.
#[derive(Debug)]
pub(crate) struct Words {
    /// Added tokens by their first byte, longest first.
    added: Vec<Vec<(Box<str>, u32)>>,
    unchanged: Unchanged,
    splits: Vec<SysRegex>,
    /// The `ByteLevel` character of each byte.
    byte_chars: [char; 256],
    memo: RwLock<FxHashMap<Box<str>, Box<[Piece]>>>,
    /// Lines' tokens by text.
    lines: RwLock<FxHashMap<Box<str>, Arc<Line>>>,
    /// Junction windows' verdicts: per window text, (split, whether its words split there).
    junctions: RwLock<FxHashMap<Box<str>, Verdicts>>,
}

impl Words {
    /// The encoder for `tokenizer`, or `None` when a step is one this module does not
    /// reproduce.
    pub(crate) fn new(tokenizer: &Tokenizer) -> Option<Words> {
        if tokenizer.get_truncation().is_some()
            || tokenizer.get_padding().is_some()
            || tokenizer.get_encode_special_tokens()
        {
            return None;
        }
        let ModelWrapper::BPE(bpe) = tokenizer.get_model() else {
            return None;
        };
        if bpe.dropout.is_some_and(|p| p > 0.0) {
            return None;
        }
        match tokenizer.get_post_processor() {
            None => {}
            Some(PostProcessorWrapper::ByteLevel(b)) if !b.trim_offsets => {}
            Some(_) => return None,
        }
        let unchanged = match tokenizer.get_normalizer() {
            None => Unchanged::Always,
            Some(n) => unchanged(n)?,
        };
        let mut stages = Vec::new();
        flatten(tokenizer.get_pre_tokenizer()?, &mut stages);
        let (last, splits) = stages.split_last()?;
        let PreTokenizerWrapper::ByteLevel(byte_level) = last else {
            return None;
        };
        if byte_level.add_prefix_space || byte_level.use_regex {
            return None;
        }
        let mut regexes = Vec::new();
        for stage in splits {
            let PreTokenizerWrapper::Split(split) = stage else {
                return None;
            };
            if split.invert || split.behavior != SplitDelimiterBehavior::Isolated {
                return None;
            }
            // Recompiled from the serialized pattern, as `Split::new` compiles it.
            let source = match serde_json::to_value(split).ok()?.get("pattern")? {
                serde_json::Value::Object(p) => match p.iter().next()? {
                    (kind, serde_json::Value::String(s)) if kind == "Regex" => s.clone(),
                    (kind, serde_json::Value::String(s)) if kind == "String" => escape(s),
                    _ => return None,
                },
                _ => return None,
            };
            regexes.push(SysRegex::new(&source).ok()?);
        }
        let mut added: Vec<Vec<(Box<str>, u32)>> = vec![Vec::new(); 256];
        for (id, token) in tokenizer.get_added_tokens_decoder() {
            if token.lstrip || token.rstrip || token.single_word || token.normalized || token.content.is_empty() {
                return None;
            }
            let first = token.content.as_bytes()[0];
            added[usize::from(first)].push((token.content.clone().into_boxed_str(), id));
        }
        for tokens in &mut added {
            tokens.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        }
        let byte_chars = std::array::from_fn(|b| byte_char(u8::try_from(b).unwrap_or(0)));
        Some(Words {
            added,
            unchanged,
            splits: regexes,
            byte_chars,
            memo: RwLock::new(FxHashMap::default()),
            lines: RwLock::new(FxHashMap::default()),
            junctions: RwLock::new(FxHashMap::default()),
        })
    }

    /// Encodes `text` as `tokenizer.encode(text, false)` does: ids and byte offsets.
    pub(crate) fn encode(&self, tokenizer: &Tokenizer, text: &str) -> tokenizers::Result<Tokens> {
        let mut out: Tokens = (Vec::with_capacity(text.len() / 3), Vec::with_capacity(text.len() / 3));
        let mut plain_start = 0;
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let candidates = &self.added[usize::from(bytes[at])];
            let Some((content, id)) = candidates.iter().find(|(c, _)| bytes[at..].starts_with(c.as_bytes())) else {
                at += 1;
                continue;
            };
            self.encode_plain(tokenizer, text, plain_start, at, &mut out)?;
            out.0.push(*id);
            out.1.push((at, at + content.len()));
            at += content.len();
            plain_start = at;
        }
        self.encode_plain(tokenizer, text, plain_start, text.len(), &mut out)?;
        Ok(out)
    }

    /// Encodes `text[start..end]`, a text between added tokens.
    fn encode_plain(
        &self,
        tokenizer: &Tokenizer,
        text: &str,
        start: usize,
        end: usize,
        out: &mut Tokens,
    ) -> tokenizers::Result<()> {
        if start == end {
            return Ok(());
        }
        let segment = &text[start..end];
        let unchanged = match self.unchanged {
            Unchanged::Always => true,
            Unchanged::BelowCombining => segment.chars().all(|c| c < '\u{300}'),
            Unchanged::Ascii => segment.is_ascii(),
        };
        if !unchanged {
            // The normalizer may change this text: `tokenizers` encodes it whole (it holds
            // no added token, so it is encoded exactly as within the full text).
            let encoding = tokenizer.encode(segment, false)?;
            out.0.extend_from_slice(encoding.get_ids());
            out.1.extend(encoding.get_offsets().iter().map(|&(s, e)| (s + start, e + start)));
            return Ok(());
        }
        if self.encode_lines(tokenizer, segment, start, out)? {
            return Ok(());
        }
        let words = self.words(segment);
        self.word_tokens(tokenizer, segment, &words, start, out)
    }

    /// The words of `text`: the pre-tokenizer's `Split` steps, empty pieces dropped.
    fn words(&self, text: &str) -> Vec<(usize, usize)> {
        let mut words = vec![(0, text.len())];
        for regex in &self.splits {
            let mut next = Vec::with_capacity(words.len() * 2);
            for &(ws, we) in &words {
                let word = &text[ws..we];
                let mut prev = 0;
                for (ms, me) in regex.find_iter(word) {
                    if prev != ms {
                        next.push((ws + prev, ws + ms));
                    }
                    if ms != me {
                        next.push((ws + ms, ws + me));
                    }
                    prev = me;
                }
                if prev != word.len() {
                    next.push((ws + prev, we));
                }
            }
            words = next;
        }
        words
    }

    /// Appends the tokens of `words` of `text`, offsets shifted by `base`.
    fn word_tokens(
        &self,
        tokenizer: &Tokenizer,
        text: &str,
        words: &[(usize, usize)],
        base: usize,
        out: &mut Tokens,
    ) -> tokenizers::Result<()> {
        let mut missing: Vec<(usize, usize)> = Vec::new();
        {
            let memo = self.memo.read().unwrap_or_else(PoisonError::into_inner);
            for &(ws, we) in words {
                if !memo.contains_key(&text[ws..we]) {
                    missing.push((ws, we));
                }
            }
        }
        let mut fresh: FxHashMap<&str, usize> = FxHashMap::default();
        let mut computed: Vec<(&str, Box<[Piece]>)> = Vec::new();
        for &(ws, we) in &missing {
            let word = &text[ws..we];
            if !fresh.contains_key(word) {
                fresh.insert(word, computed.len());
                computed.push((word, model_pieces(tokenizer.get_model(), &self.byte_chars, word)?));
            }
        }
        let push = |pieces: &[Piece], ws: usize, out: &mut Tokens| {
            for p in pieces {
                out.0.push(p.id);
                out.1.push((base + ws + p.start as usize, base + ws + p.end as usize));
            }
        };
        if !computed.is_empty() {
            let mut memo = self.memo.write().unwrap_or_else(PoisonError::into_inner);
            if memo.len() + computed.len() > MEMO_ENTRIES {
                memo.clear();
            }
            for (word, pieces) in &computed {
                if word.len() <= MEMO_WORD_BYTES {
                    memo.insert((*word).into(), pieces.clone());
                }
            }
        }
        let memo = self.memo.read().unwrap_or_else(PoisonError::into_inner);
        for &(ws, we) in words {
            let word = &text[ws..we];
            match fresh.get(word).map(|&k| &computed[k].1).or_else(|| memo.get(word)) {
                Some(pieces) => push(pieces, ws, out),
                None => push(&model_pieces(tokenizer.get_model(), &self.byte_chars, word)?, ws, out),
            }
        }
        Ok(())
    }

    /// Encodes `segment` (at `base` in the text) line by line, each line's tokens memoized,
    /// when every junction between lines is one the pre-tokenizer splits at; `false` (nothing
    /// appended) otherwise.
    ///
    /// Lines start after a newline and before a character that is not whitespace. A line's
    /// words are found on the line alone; they are its words within the whole text when the
    /// pre-tokenizer splits exactly at each junction and no word before a line's last one
    /// depends on what follows the line. The junction is checked on the actual text each
    /// time (the verdict memoized by the window's text and split): the words of a line's last
    /// word followed by the next line's first word must be exactly those two words (a word
    /// that runs into the next line, as `[^ ]+` would make `\n{` one, fails the check, and the
    /// segment is split into words whole). What the check relies on is that a match's end is
    /// decided by the characters up to one past it, or through a run of whitespace (which ends
    /// at the junction): so are the `Split` patterns of GPT-2, Llama 3, Qwen and `DeepSeek`,
    /// whose alternatives are character classes with repetitions and at most a one-character
    /// lookahead, and the tests compare every line of the default run with `tokenizers`.
    fn encode_lines(
        &self,
        tokenizer: &Tokenizer,
        segment: &str,
        base: usize,
        out: &mut Tokens,
    ) -> tokenizers::Result<bool> {
        let bytes = segment.as_bytes();
        let mut starts = vec![0];
        for nl in memchr::memchr_iter(b'\n', bytes) {
            let at = nl + 1;
            if segment[at..].chars().next().is_some_and(|c| !c.is_whitespace()) {
                starts.push(at);
            }
        }
        if starts.len() < 2 {
            return Ok(false);
        }
        starts.push(segment.len());
        let ranges: Vec<(usize, usize)> = starts.windows(2).map(|w| (w[0], w[1])).collect();
        let mut lines: Vec<Option<Arc<Line>>> = {
            let memo = self.lines.read().unwrap_or_else(PoisonError::into_inner);
            ranges.iter().map(|&(s, e)| memo.get(&segment[s..e]).cloned()).collect()
        };
        let mut computed = Vec::new();
        for (&(s, e), line) in ranges.iter().zip(&mut lines) {
            if line.is_none() {
                let text = &segment[s..e];
                let Some(fresh) = self.line(tokenizer, text)? else {
                    return Ok(false);
                };
                let fresh = Arc::new(fresh);
                computed.push((text, Arc::clone(&fresh)));
                *line = Some(fresh);
            }
        }
        if !computed.is_empty() {
            let mut memo = self.lines.write().unwrap_or_else(PoisonError::into_inner);
            if memo.len() + computed.len() > LINE_ENTRIES {
                memo.clear();
            }
            for (text, line) in computed {
                if text.len() <= LINE_BYTES {
                    memo.insert(text.into(), line);
                }
            }
        }
        let lines: Vec<Arc<Line>> = lines.into_iter().flatten().collect();
        for (k, pair) in lines.windows(2).enumerate() {
            let (a, b) = (&pair[0], &pair[1]);
            let from = ranges[k].0 + a.last_word_start as usize;
            let to = ranges[k + 1].0 + b.first_word_end as usize;
            if !self.splits_at(&segment[from..to], ranges[k + 1].0 - from) {
                return Ok(false);
            }
        }
        for (&(s, _), line) in ranges.iter().zip(&lines) {
            for p in &line.pieces {
                out.0.push(p.id);
                out.1.push((base + s + p.start as usize, base + s + p.end as usize));
            }
        }
        Ok(true)
    }

    /// Whether the words of `window` are exactly two, split at `split` (a pure function of
    /// the window's text, memoized by it).
    fn splits_at(&self, window: &str, split: usize) -> bool {
        let known = self
            .junctions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(window)
            .and_then(|verdicts| verdicts.iter().find(|&&(at, _)| at == split).map(|&(_, splits)| splits));
        if let Some(splits) = known {
            return splits;
        }
        let splits = self.words(window) == [(0, split), (split, window.len())];
        if window.len() <= MEMO_WORD_BYTES * 2 {
            let mut junctions = self.junctions.write().unwrap_or_else(PoisonError::into_inner);
            if junctions.len() >= JUNCTION_ENTRIES {
                junctions.clear();
            }
            junctions.entry(window.into()).or_default().push((split, splits));
        }
        splits
    }

    /// One line's tokens and the ends of its first and last words (`None` for a line
    /// without words or longer than `u32` offsets reach: the segment is split whole).
    fn line(&self, tokenizer: &Tokenizer, text: &str) -> tokenizers::Result<Option<Line>> {
        let words = self.words(text);
        let (Some(&first), Some(&last)) = (words.first(), words.last()) else {
            return Ok(None);
        };
        let Ok(len) = u32::try_from(text.len()) else {
            return Ok(None);
        };
        let mut tokens: Tokens = (Vec::new(), Vec::new());
        self.word_tokens(tokenizer, text, &words, 0, &mut tokens)?;
        // Every offset is within the line, whose length fits in a `u32`.
        let narrow = |n: usize| u32::try_from(n).unwrap_or(len);
        let pieces =
            tokens.0.into_iter().zip(tokens.1).map(|(id, (s, e))| Piece { id, start: narrow(s), end: narrow(e) });
        Ok(Some(Line { pieces: pieces.collect(), first_word_end: narrow(first.1), last_word_start: narrow(last.0) }))
    }
}

/// A line's tokens (offsets within the line) and where its first word ends and its last
/// word starts.
#[derive(Debug)]
struct Line {
    pieces: Box<[Piece]>,
    first_word_end: u32,
    last_word_start: u32,
}

/// The pre-tokenizer's steps in order, sequences flattened.
fn flatten<'a>(pre: &'a PreTokenizerWrapper, out: &mut Vec<&'a PreTokenizerWrapper>) {
    match pre {
        PreTokenizerWrapper::Sequence(seq) => {
            for p in seq.as_ref() {
                flatten(p, out);
            }
        }
        other => out.push(other),
    }
}

/// When a normalizer is known to leave a text unchanged, or `None` when it may change any.
fn unchanged(normalizer: &NormalizerWrapper) -> Option<Unchanged> {
    match normalizer {
        NormalizerWrapper::NFC(_) => Some(Unchanged::BelowCombining),
        NormalizerWrapper::NFD(_) | NormalizerWrapper::NFKC(_) | NormalizerWrapper::NFKD(_) => Some(Unchanged::Ascii),
        NormalizerWrapper::Sequence(seq) => {
            seq.as_ref().iter().try_fold(Unchanged::Always, |acc, n| Some(acc.max(unchanged(n)?)))
        }
        _ => None,
    }
}

/// `regex::escape`, as `Split` escapes a string pattern.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' | '#' | '&' | '-' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// GPT-2's map of bytes to printable characters, as the `ByteLevel` pre-tokenizer maps them.
fn byte_char(b: u8) -> char {
    let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    if printable {
        return char::from(b);
    }
    // The others, in byte order, take 256, 257, ...
    let rank = (0..b).filter(|&x| !matches!(x, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF)).count();
    char::from_u32(256 + u32::try_from(rank).unwrap_or(0)).unwrap_or('\u{100}')
}

/// The model's tokens of one word, with byte offsets within it (a token inside a multi-byte
/// character spans the character, as `tokenizers` reports it).
fn model_pieces(model: &ModelWrapper, byte_chars: &[char; 256], word: &str) -> tokenizers::Result<Box<[Piece]>> {
    // The byte-level text and, per byte of it, the word's byte it stands for.
    let mut mapped = String::with_capacity(word.len() * 2);
    let mut source = Vec::with_capacity(word.len() * 2);
    for (i, &b) in word.as_bytes().iter().enumerate() {
        let c = byte_chars[usize::from(b)];
        mapped.push(c);
        source.extend(std::iter::repeat_n(i, c.len_utf8()));
    }
    source.push(word.len());
    let floor = |mut i: usize| {
        while !word.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let ceil = |mut i: usize| {
        while !word.is_char_boundary(i) {
            i += 1;
        }
        i
    };
    let tokens = model.tokenize(&mapped)?;
    let mut pieces = Vec::with_capacity(tokens.len());
    for token in tokens {
        let start = floor(source[token.offsets.0]);
        let end = if token.offsets.1 == 0 { 0 } else { ceil(source[token.offsets.1 - 1] + 1) };
        let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(end)) else {
            return Err("word too long".into());
        };
        pieces.push(Piece { id: token.id, start, end });
    }
    Ok(pieces.into_boxed_slice())
}
