//! The memoizing encoder (`words`) gives exactly the ids and byte offsets of `tokenizers`.

use crate::{lines, parts, real};
use worldsmith_tokens::{ChatTokenizer, Conversation, Options};

/// Texts that stress every step: added tokens and their fragments, longest match, combining
/// marks (NFC changes them: that text goes to `tokenizers` whole), multi-byte characters
/// split between tokens, whitespace runs the expressions treat specially, contractions.
const ADVERSARIAL: &[&str] = &[
    "",
    "<|im_start|>",
    "<|im_start|><|im_end|>\n<|im_start|",
    "<|im_start|>user\nCafe\u{301} au lait<|im_end|>\n",
    "e\u{301}\u{301} x \u{212B} \u{1E9B}\u{323}",
    "caf\u{e9} na\u{ef}ve \u{a0}nbsp\u{a0} \u{1F600}\u{1F469}\u{200D}\u{1F4BB} \u{4F60}\u{597D}\u{FF01} \u{D55C}\u{AD6D}\u{C5B4}",
    "   \n\n   x  \r\n\t\t y    ",
    "\n\n\n",
    "   ",
    "I'M you'Re they'LL it's 'S",
    "1234567890 3.14159 -42e10",
    "{\"type\": \"function\", \"function\": {\"name\": \"a\"}}\n{\"type\": \"function\"}\n</tools>",
    "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call><think>\n\n</think>\n\n",
    "<|endoftext|><|endoftext|>x<|endoftext|",
    "\u{10FFFF}\u{E000}\u{E01F}\u{FEFF}",
    // Lines: junctions after a newline, before text, punctuation, digits, contractions.
    "line one\nline two\n{\"a\": 1}\n}\n]\n  indented\n\ttab\nend\n",
    "x\n'S\n's\n1\n23\n-\n<|im_end|\n<|im_end|>\n\n\nz \n\u{e9}\n\u{301}x\n\u{a0}y\n",
    "{}\n{}\n{}\n",
];

fn check(tokenizer: &ChatTokenizer, text: &str) {
    let fast = tokenizer.tokenize_offsets(text).unwrap();
    let reference = tokenizer.tokenize_reference(text).unwrap();
    assert_eq!(fast.0, reference.0, "ids of {text:?}");
    assert_eq!(fast.1, reference.1, "offsets of {text:?}");
}

#[test]
fn qwen3_words_match_tokenizers_on_every_line_and_adversarial_texts() {
    let Some(tokenizer) = real("qwen3") else { return };
    assert!(tokenizer.memoizes_words());
    for line in lines() {
        let (messages, tools, trained) = parts(&line);
        let text = tokenizer.render(&Conversation { messages: &messages, tools: &tools, trained: &trained }).unwrap();
        check(&tokenizer, &text);
        // Twice: the second time every word comes from the memo.
        check(&tokenizer, &text);
    }
    for text in ADVERSARIAL {
        check(&tokenizer, text);
        check(&tokenizer, &format!("<|im_start|>system\n{text}<|im_end|>{text}"));
    }
}

#[test]
fn tokenizers_whose_steps_words_does_not_reproduce_use_tokenizers() {
    // DeepSeek-V3 trims offsets and matches some added tokens on normalized text; Llama 3.1's
    // package post-processes with a template and trims offsets.
    for name in ["deepseek_v3", "llama3_1"] {
        let Some(tokenizer) = real(name) else { continue };
        assert!(!tokenizer.memoizes_words(), "{name}");
        for text in ADVERSARIAL {
            check(&tokenizer, text);
        }
    }
}

/// GPT-2's printable character for each byte, as `ByteLevel` maps bytes.
fn byte_chars() -> Vec<char> {
    let printable = |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
    let mut next = 256;
    (0..256u32)
        .map(|b| {
            if printable(b) {
                char::from_u32(b).unwrap()
            } else {
                next += 1;
                char::from_u32(next - 1).unwrap()
            }
        })
        .collect()
}

/// A byte-level BPE tokenizer whose words are split at spaces only (`[^ ]+| `), so a newline
/// does not end a word: a line junction is not a split point, and `\n{` merges into one token.
fn spaces_only_tokenizer() -> tempfile::TempDir {
    let mut vocab = serde_json::Map::new();
    for (id, c) in byte_chars().into_iter().enumerate() {
        vocab.insert(c.to_string(), serde_json::Value::from(id));
    }
    vocab.insert("\u{10A}{".to_owned(), serde_json::Value::from(256));
    vocab.insert("ab".to_owned(), serde_json::Value::from(257));
    let tokenizer = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [{"id": 258, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
        "normalizer": null,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "[^ ]+| "}, "behavior": "Isolated", "invert": false},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
        ]},
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                  "vocab": vocab, "merges": ["\u{10A} {", "a b"]}
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let config =
        serde_json::json!({"eos_token": "<s>", "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"});
    std::fs::write(dir.path().join("tokenizer_config.json"), config.to_string()).unwrap();
    dir
}

#[test]
fn a_line_junction_the_pre_tokenizer_does_not_split_at_is_caught_and_encoded_whole() {
    let dir = spaces_only_tokenizer();
    let tokenizer = ChatTokenizer::load(dir.path(), &Options::default()).unwrap();
    assert!(tokenizer.memoizes_words());
    // `ab\n{ab` is one word: split into lines it would give `ab`, `\n`, `{`, `ab`; whole, the
    // merge `\n{` applies.
    for text in ["ab\n{ab", "ab\n{ab\n{b", "<s>ab\n{a b\nab<s>\n{", "a b\n{\n{\n{ ab"] {
        check(&tokenizer, text);
        check(&tokenizer, text);
        let (ids, _) = tokenizer.tokenize_offsets(text).unwrap();
        assert!(ids.contains(&256), "{text:?}: {ids:?}");
    }
    for text in ADVERSARIAL {
        check(&tokenizer, text);
    }
}

/// Texts drawn from pieces that stress the expressions at line junctions (a fixed-seed
/// xorshift, so the texts repeat).
fn fuzzed_texts(count: usize) -> Vec<String> {
    const PIECES: &[&str] = &[
        "a",
        "bc",
        "Z",
        "\u{e9}",
        "e\u{301}",
        "1",
        "234",
        "'s",
        "'S",
        "'ll",
        " ",
        "  ",
        "\n",
        "\n",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        " \n",
        "{",
        "}",
        "\"",
        ": ",
        ", ",
        "[",
        "]",
        "<|im_start|>",
        "<|im_end|>",
        "<think>",
        "<\u{ff5c}begin\u{2581}of\u{2581}sentence\u{ff5c}>",
        "\u{4e2d}\u{6587}",
        "\u{1f642}",
        "\u{a0}",
        "-",
        ".",
        "_x",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = 1 + next() % 60;
            (0..len).map(|_| PIECES[usize::try_from(next() % PIECES.len() as u64).unwrap()]).collect()
        })
        .collect()
}

/// A copy of a fetched tokenizer with no post-processor and every added token matched on
/// raw text, so that `words` reproduces it: its `Split` pattern is then tested too.
fn reproducible_copy(name: &str) -> Option<tempfile::TempDir> {
    let source = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/tokenizers").join(name);
    let text = std::fs::read_to_string(source.join("tokenizer.json")).ok()?;
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["post_processor"] = serde_json::Value::Null;
    for token in json["added_tokens"].as_array_mut().unwrap() {
        token["normalized"] = serde_json::Value::Bool(false);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), json.to_string()).unwrap();
    let config = serde_json::json!({"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"});
    std::fs::write(dir.path().join("tokenizer_config.json"), config.to_string()).unwrap();
    Some(dir)
}

#[test]
fn fuzzed_texts_match_tokenizers_with_the_qwen3_llama3_and_deepseek_patterns() {
    let texts = fuzzed_texts(400);
    if let Some(tokenizer) = real("qwen3") {
        for text in &texts {
            check(&tokenizer, text);
            check(&tokenizer, &format!("{text}\n{text}"));
        }
    }
    for name in ["llama3_1", "deepseek_v3"] {
        let Some(dir) = reproducible_copy(name) else { continue };
        let tokenizer = ChatTokenizer::load(dir.path(), &Options::default()).unwrap();
        assert!(tokenizer.memoizes_words(), "{name}");
        for text in &texts {
            check(&tokenizer, text);
            check(&tokenizer, &format!("{text}\n{text}"));
        }
    }
}
