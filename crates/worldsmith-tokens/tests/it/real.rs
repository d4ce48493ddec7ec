//! The three real templates: Qwen3, DeepSeek-V3 and the Llama 3.1 package's plain template.

use crate::{lines, parts, real};
use worldsmith_tokens::{ChatTokenizer, Conversation, EncodeError, Part, ToolCallContent};

/// The decoded text of the trained regions of a line, each region on its own.
fn trained_regions(tokenizer: &ChatTokenizer, ids: &[u32], mask: &[u8]) -> Vec<String> {
    let mut regions = Vec::new();
    let mut current: Vec<u32> = Vec::new();
    for (&id, &m) in ids.iter().zip(mask) {
        if m == 1 {
            current.push(id);
        } else if !current.is_empty() {
            regions.push(tokenizer.decode(&current).unwrap());
            current.clear();
        }
    }
    if !current.is_empty() {
        regions.push(tokenizer.decode(&current).unwrap());
    }
    regions
}

#[test]
fn qwen3_masks_cover_each_trained_assistant_turn_through_im_end() {
    let Some(tokenizer) = real("qwen3") else { return };
    assert_eq!(tokenizer.tool_call_content(), ToolCallContent::Empty);
    for line in lines() {
        let (messages, tools, trained) = parts(&line);
        let encoded =
            tokenizer.encode(&Conversation { messages: &messages, tools: &tools, trained: &trained }).unwrap();
        // The split at the shared prefix is exact: the same ids as tokenizing the whole text.
        let text = tokenizer.render(&Conversation { messages: &messages, tools: &tools, trained: &trained }).unwrap();
        assert_eq!(encoded.input_ids, tokenizer.tokenize_plain(&text).unwrap());
        let regions = trained_regions(&tokenizer, &encoded.input_ids, &encoded.assistant_masks);
        let trained_messages: Vec<&serde_json::Value> =
            messages.iter().zip(&trained).filter(|(_, t)| **t).map(|(m, _)| m).collect();
        assert_eq!(regions.len(), trained_messages.len(), "{regions:#?}");
        for (region, message) in regions.iter().zip(trained_messages) {
            assert!(region.ends_with("<|im_end|>"), "{region:?}");
            assert!(!region.contains("<|im_start|>"), "{region:?}");
            if let Some(calls) = message["tool_calls"].as_array() {
                for call in calls {
                    let name = call["function"]["name"].as_str().unwrap();
                    assert!(
                        region.contains(&format!("<tool_call>\n{{\"name\": \"{name}\", \"arguments\": ")),
                        "{region:?}"
                    );
                }
            }
            let content = message["content"].as_str().unwrap();
            assert!(region.contains(content), "{region:?}");
        }
    }
    // Every world's system prompt and tools were tokenized once, and end at an added token.
    assert!(!tokenizer.cached_prefixes().is_empty());
}

#[test]
fn qwen3_renders_the_last_turn_with_an_empty_think_block_and_trains_it() {
    let Some(tokenizer) = real("qwen3") else { return };
    let messages = vec![
        serde_json::json!({"role": "user", "content": "Hi"}),
        serde_json::json!({"role": "assistant", "content": "Hello!"}),
        serde_json::json!({"role": "user", "content": "Bye"}),
        serde_json::json!({"role": "assistant", "content": "Goodbye!"}),
    ];
    let trained = [false, true, false, true];
    let conversation = Conversation { messages: &messages, tools: &[], trained: &trained };
    let text = tokenizer.render(&conversation).unwrap();
    assert_eq!(
        text,
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nGoodbye!<|im_end|>\n"
    );
    let encoded = tokenizer.encode(&conversation).unwrap();
    let regions = trained_regions(&tokenizer, &encoded.input_ids, &encoded.assistant_masks);
    assert_eq!(regions, ["Hello!<|im_end|>", "<think>\n\n</think>\n\nGoodbye!<|im_end|>"]);
}

#[test]
fn deepseek_v3_renders_tool_calls_only_with_null_content_and_masks_what_the_model_generates() {
    let Some(tokenizer) = real("deepseek_v3") else { return };
    // The template renders an assistant message's tool calls only when its content is null.
    assert_eq!(tokenizer.tool_call_content(), ToolCallContent::Null);
    let messages = vec![
        serde_json::json!({"role": "system", "content": "You help."}),
        serde_json::json!({"role": "user", "content": "Find order 7."}),
        serde_json::json!({"role": "assistant", "content": "", "tool_calls": [{"id": "c0", "type": "function", "function": {"name": "get_order", "arguments": "{\"id\":7}"}}], "weight": 1}),
        serde_json::json!({"role": "tool", "tool_call_id": "c0", "content": "{\"status\":\"open\"}"}),
        serde_json::json!({"role": "assistant", "content": "Order 7 is open.", "weight": 1}),
    ];
    let trained = [false, false, true, false, true];
    let conversation = Conversation { messages: &messages, tools: &[], trained: &trained };
    let text = tokenizer.render(&conversation).unwrap();
    assert_eq!(
        text,
        "<｜begin▁of▁sentence｜>You help.<｜User｜>Find order 7.<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_order\n```json\n{\"id\":7}\n```<｜tool▁call▁end｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>{\"status\":\"open\"}<｜tool▁output▁end｜><｜tool▁outputs▁end｜>Order 7 is open.<｜end▁of▁sentence｜>"
    );
    let encoded = tokenizer.encode(&conversation).unwrap();
    let regions = trained_regions(&tokenizer, &encoded.input_ids, &encoded.assistant_masks);
    assert_eq!(
        regions,
        [
            "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_order\n```json\n{\"id\":7}\n```<｜tool▁call▁end｜>",
            "Order 7 is open.<｜end▁of▁sentence｜>"
        ]
    );
}

#[test]
fn deepseek_v3_encodes_the_default_runs_lines_or_says_why_not() {
    let Some(tokenizer) = real("deepseek_v3") else { return };
    for line in lines() {
        let (messages, tools, trained) = parts(&line);
        let conversation = Conversation { messages: &messages, tools: &tools, trained: &trained };
        match tokenizer.encode(&conversation) {
            Ok(encoded) => {
                let regions = trained_regions(&tokenizer, &encoded.input_ids, &encoded.assistant_masks);
                for region in regions {
                    assert!(
                        !region.contains("<｜User｜>") && !region.contains("<｜tool▁output▁begin｜>"),
                        "{region:?}"
                    );
                }
            }
            Err(e) => eprintln!("deepseek_v3: {e}"),
        }
    }
}

#[test]
fn llama3_1_package_template_drops_tool_calls_and_such_lines_are_refused() {
    let Some(tokenizer) = real("llama3_1") else { return };
    for line in lines() {
        let (messages, tools, trained) = parts(&line);
        let err =
            tokenizer.encode(&Conversation { messages: &messages, tools: &tools, trained: &trained }).unwrap_err();
        let first_call = messages
            .iter()
            .position(|m| m.get("tool_calls").is_some_and(|c| c.as_array().is_some_and(|c| !c.is_empty())))
            .unwrap();
        assert_eq!(err, EncodeError::Lost { message: first_call, part: Part::ToolName(0) });
    }
    // Without tool calls, it renders and trains the assistant's text through <|eot_id|>.
    let messages = vec![
        serde_json::json!({"role": "user", "content": "Hi"}),
        serde_json::json!({"role": "assistant", "content": "Hello!"}),
    ];
    let encoded = tokenizer.encode(&Conversation { messages: &messages, tools: &[], trained: &[false, true] }).unwrap();
    let regions = trained_regions(&tokenizer, &encoded.input_ids, &encoded.assistant_masks);
    assert_eq!(regions, ["Hello!<|eot_id|>"]);
}

#[test]
fn encodings_are_the_same_on_any_thread_count_and_with_a_cold_or_warm_cache() {
    use rayon::prelude::*;
    let Some(tokenizer) = real("qwen3") else { return };
    let lines: Vec<_> = lines().iter().map(parts).collect();
    let encode_all = |tokenizer: &ChatTokenizer| -> Vec<_> {
        lines
            .par_iter()
            .map(|(messages, tools, trained)| tokenizer.encode(&Conversation { messages, tools, trained }).unwrap())
            .collect()
    };
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| encode_all(&tokenizer));
    let fresh = real("qwen3").unwrap();
    let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap().install(|| encode_all(&fresh));
    assert_eq!(one, four);
    assert_eq!(one, encode_all(&tokenizer));
}
