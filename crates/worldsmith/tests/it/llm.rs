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

#[test]
fn materialize_refine_asks_the_model_for_failing_tools() {
    // One record per collection: the only pet is referred to by the only order, so the
    // generated delete is refused and the model is asked for a script.
    let script = "```python\ndef run(**args):\n    key = str(args[\"petId\"])\n    for k in db.keys(\"orders\", {\"petId\": args[\"petId\"]}):\n        db.delete(\"orders\", k)\n    db.delete(\"pets\", key)\n    return {\"deleted\": key}\n```";
    let server = TestServer::start(move |_, _| (200, completion(json!({"role": "assistant", "content": script}))));
    let pool = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../worldsmith-materialize/tests/fixtures/petstore.jsonl");
    let ids: Vec<String> = std::fs::read_to_string(&pool)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_owned())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let domains = dir.path().join("domains.jsonl");
    let stats = json!({"tools": ids.len(), "similarity_edges": 0, "data_flow_edges": 0, "providers": 1, "top_provider": "petstore.example"});
    let domain = json!({"id": "dom-0001", "name": "pets", "tools": ids, "edges": [], "stats": stats});
    std::fs::write(&domains, format!("{domain}\n")).unwrap();
    let out = dir.path().join("worlds");
    let args = [
        "materialize",
        "--tools",
        pool.to_str().unwrap(),
        "--domains",
        domains.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--records",
        "1",
        "--refine",
        "--model",
        "m",
    ];
    let (code, log) = worldsmith(&args, &server.base_url());
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("refined by LLM      1 of 1 asked (1 requests)"), "{log}");
    assert!(out.join("dom-0001-pets/tools/deletePet.star").is_file());
    assert_eq!(server.requests().len(), 1);
}
