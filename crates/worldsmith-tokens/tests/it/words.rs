//! The memoizing encoder (`words`) gives exactly the ids and byte offsets of `tokenizers`.

use crate::{lines, parts, real};
use worldsmith_tokens::{ChatTokenizer, Conversation};

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
