//! The optional LLM steps on the command line, against a real local chat-completions
//! server (`worldsmith_llm::testing`).

use serde_json::{Value, json};
use std::process::Command;
use worldsmith_llm::testing::{TestServer, completion};

fn worldsmith(args: &[&str], base_url: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_worldsmith"))
        .args(args)
        .env("OPENAI_BASE_URL", base_url)
        .env("OPENAI_API_KEY", "sk-test")
        .env_remove("OPENAI_MODEL")
        .output()
        .expect("the binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn synth_paraphrases_goals_and_refuses_unfaithful_rewrites() {
    // Every third request gets an empty answer, which must be refused.
    let server = TestServer::start(|n, body: &Value| {
        let prompt = body["messages"][0]["content"].as_str().unwrap_or("");
        let goal = prompt.rsplit("Request: ").next().unwrap_or("");
        let text = if n % 3 == 2 { String::new() } else { format!("<think>be kind</think>Hello there. {goal}") };
        (200, completion(json!({"role": "assistant", "content": text})))
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("synth");
    let args = ["synth", "--worlds", "retail", "--per-world", "6", "--paraphrase", "--model", "m"];
    let (code, log) = worldsmith(&[&args[..], &["--out", out.to_str().unwrap()]].concat(), &server.base_url());
    assert_eq!(code, 0, "{log}");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("synth_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["paraphrase"]["asked"], 6, "{summary}");
    assert_eq!(summary["paraphrase"]["rewritten"], 4, "{summary}");
    assert_eq!(summary["paraphrase"]["rejected"]["empty"], 2, "{summary}");
    let tasks = std::fs::read_to_string(out.join("tasks.jsonl")).unwrap();
    assert_eq!(tasks.matches("Hello there. ").count(), 4);
    assert!(!tasks.contains("<think>"));
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.authorization.as_deref() == Some("Bearer sk-test") && r.body["model"] == "m"));
}

#[test]
fn llm_steps_without_a_model_say_how_to_give_one() {
    let (code, log) =
        worldsmith(&["rollout", "--tasks", "-", "--policy", "openai", "--out", "-"], "http://127.0.0.1:9/v1");
    assert_eq!(code, 2);
    assert!(log.contains("the openai policy needs a model") && log.contains("OPENAI_MODEL"), "{log}");
}
