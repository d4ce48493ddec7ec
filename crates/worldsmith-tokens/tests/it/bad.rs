//! Bad input: tokenizer directories with missing or broken files, templates that fail or
//! reject a conversation. Clear errors, never a panic.

use std::path::Path;
use worldsmith_tokens::{ChatTokenizer, Conversation, EncodeError, LoadError, Options};

/// A word-level tokenizer over a few words, with `<s>` and `</s>` as special tokens.
const TOKENIZER: &str = r#"{
  "version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [
    {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": null,
  "pre_tokenizer": {"type": "Whitespace"},
  "post_processor": null, "decoder": null,
  "model": {"type": "WordLevel", "vocab": {"<s>": 0, "</s>": 1, "[UNK]": 2, "user": 3, "assistant": 4, "hi": 5, "hello": 6, ":": 7}, "unk_token": "[UNK]"}
}"#;

fn dir_with(template: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), TOKENIZER).unwrap();
    let mut config = serde_json::json!({"eos_token": "</s>", "bos_token": {"content": "<s>", "__type": "AddedToken"}});
    if let Some(template) = template {
        config["chat_template"] = serde_json::Value::from(template);
    }
    std::fs::write(dir.path().join("tokenizer_config.json"), config.to_string()).unwrap();
    dir
}

const PLAIN: &str = "{{ bos_token }}{% for m in messages %}{{ m.role }} : {{ m.content }}{% if m.role == 'assistant' %}{{ eos_token }}{% endif %} {% endfor %}{% if add_generation_prompt %}assistant : {% endif %}";

fn hi_hello() -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({"role": "user", "content": "hi"}),
        serde_json::json!({"role": "assistant", "content": "hello"}),
    ]
}

fn load(dir: &Path) -> Result<ChatTokenizer, LoadError> {
    ChatTokenizer::load(dir, &Options::default())
}

#[test]
fn a_small_template_masks_the_assistant_text_and_eos() {
    let dir = dir_with(Some(PLAIN));
    let tokenizer = load(dir.path()).unwrap();
    let messages = hi_hello();
    let encoded = tokenizer.encode(&Conversation { messages: &messages, tools: &[], trained: &[false, true] }).unwrap();
    // <s> user : hi assistant : hello </s>
    assert_eq!(encoded.input_ids, [0, 3, 7, 5, 4, 7, 6, 1]);
    assert_eq!(encoded.assistant_masks, [0, 0, 0, 0, 0, 0, 1, 1]);
    // Not trained: all zeros.
    let encoded =
        tokenizer.encode(&Conversation { messages: &messages, tools: &[], trained: &[false, false] }).unwrap();
    assert_eq!(encoded.assistant_masks, [0; 8]);
    assert_eq!(tokenizer.info().files.len(), 2);
    // A template without a generation prompt leaves the header to the model: it is trained.
    let tokenizer = load(dir_with(Some(PLAIN.split("{% if add_generation_prompt").next().unwrap())).path()).unwrap();
    let encoded = tokenizer.encode(&Conversation { messages: &messages, tools: &[], trained: &[false, true] }).unwrap();
    assert_eq!(encoded.assistant_masks, [0, 0, 0, 0, 1, 1, 1, 1]);
}

#[test]
fn missing_files_are_named() {
    let dir = dir_with(Some(PLAIN));
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = load(dir.path()).unwrap_err();
    assert!(matches!(err, LoadError::Missing(_)));
    assert!(err.to_string().contains("tokenizer.json: missing"), "{err}");
    let dir = dir_with(Some(PLAIN));
    std::fs::remove_file(dir.path().join("tokenizer_config.json")).unwrap();
    assert!(load(dir.path()).unwrap_err().to_string().contains("tokenizer_config.json: missing"));
}

#[test]
fn a_directory_without_a_template_or_with_broken_files_is_refused() {
    let dir = dir_with(None);
    let err = load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("tokenizer_config.json: no chat_template"), "{err}");
    let dir = dir_with(Some(PLAIN));
    std::fs::write(dir.path().join("tokenizer.json"), "{").unwrap();
    let err = load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("tokenizer.json: "), "{err}");
    let dir = dir_with(Some("{% for m in messages %}"));
    let err = load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("tokenizer_config.json: the chat template does not compile"), "{err}");
}

#[test]
fn a_template_that_fails_to_render_is_an_error_per_conversation() {
    let dir = dir_with(Some("{% for m in messages %}{{ m.content | no_such_filter }}{% endfor %}"));
    let result = load(dir.path()).map(|t| {
        let messages = hi_hello();
        t.encode(&Conversation { messages: &messages, tools: &[], trained: &[false, true] })
    });
    match result {
        Ok(Err(EncodeError::Render(message))) => assert!(message.contains("no_such_filter"), "{message}"),
        Err(LoadError::Template { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn raise_exception_rejects_the_conversation_with_the_templates_message() {
    let source = "{% for m in messages %}{% if m.role == 'user' and m.content == 'hi' %}{{ raise_exception('Only greetings in French') }}{% endif %}{{ m.content }}{% endfor %}";
    let tokenizer = load(dir_with(Some(source)).path()).unwrap();
    let messages = hi_hello();
    let err = tokenizer.encode(&Conversation { messages: &messages, tools: &[], trained: &[false, true] }).unwrap_err();
    assert_eq!(err, EncodeError::Raised("Only greetings in French".to_owned()));
}

#[test]
fn a_template_that_drops_or_alters_a_message_is_caught() {
    // Drops the assistant's content.
    let source = "{% for m in messages %}{% if m.role == 'user' %}{{ m.content }}{% endif %}{% endfor %}";
    let tokenizer = load(dir_with(Some(source)).path()).unwrap();
    let messages = hi_hello();
    let err = tokenizer.encode(&Conversation { messages: &messages, tools: &[], trained: &[false, true] }).unwrap_err();
    assert_eq!(err, EncodeError::Lost { message: 1, part: worldsmith_tokens::Part::Content });
    // Alters it.
    let source = "{% for m in messages %}{{ m.content | upper }}{% endfor %}";
    let tokenizer = load(dir_with(Some(source)).path()).unwrap();
    let err = tokenizer.encode(&Conversation { messages: &messages, tools: &[], trained: &[false, true] }).unwrap_err();
    assert!(matches!(err, EncodeError::Lost { message: 0, .. }), "{err:?}");
}
