//! The `openai` policy against a real local HTTP server speaking chat completions.
//!
//! The server is ours (`worldsmith_llm::testing`): real sockets and HTTP/1.1. Its "model"
//! plays a task's
//! gold calls, alternating between the `tool_calls` field and Hermes-style `<tool_call>` text,
//! and then states the answers it read in the tool results.

use serde_json::{Value, json};
use std::time::Duration;
use worldsmith_core::episode::EndReason;
use worldsmith_core::task::TaskLine;
use worldsmith_llm::testing::{TestServer, completion};
use worldsmith_rollout::openai::OpenAiConfig;
use worldsmith_rollout::{Policy, RolloutConfig, rollout};

/// The test "model": the next gold call (by the number of tool results so far), or the
/// answers found in the tool results once every call is made. Confirmation questions are
/// asked by nobody: the user simply gets the final answer.
fn gold_model(task: &TaskLine, body: &Value) -> String {
    let messages = body["messages"].as_array().unwrap();
    let done = messages.iter().filter(|m| m["role"] == "tool").count();
    if let Some(action) = task.actions.get(done) {
        if done % 2 == 0 {
            completion(json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": format!("srv_{done}"), "type": "function",
                "function": {"name": action.name, "arguments": action.arguments.to_string()}}]}))
        } else {
            let call = json!({"name": action.name, "arguments": action.arguments});
            completion(
                json!({"role": "assistant", "content": format!("<think>step {done}</think><tool_call>\n{call}\n</tool_call>")}),
            )
        }
    } else {
        let results: String = messages
            .iter()
            .filter(|m| m["role"] == "tool")
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect();
        let stated: Vec<String> = task
            .answers
            .iter()
            .flat_map(|a| a.members())
            .map(worldsmith_rollout::user::render)
            .filter(|a| results.contains(a.as_str()))
            .collect();
        completion(json!({"role": "assistant", "content": format!("Here you are: {}.", stated.join(", "))}))
    }
}

fn config(base: String) -> OpenAiConfig {
    OpenAiConfig {
        api_key: Some("test-key".to_owned()),
        backoff: Duration::from_millis(5),
        ..OpenAiConfig::new(base, "test-model")
    }
}

#[test]
fn the_openai_policy_plays_a_task_through_a_real_http_endpoint_and_retries_errors() {
    let tasks: Vec<_> = super::scripted::tasks()
        .iter()
        .filter(|(_, t)| t.kind != Some(worldsmith_core::task::TaskKind::Write))
        .take(3)
        .cloned()
        .collect();
    let by_goal: Vec<TaskLine> = tasks.iter().map(|(_, t)| t.clone()).collect();
    // Every third request fails with a 503 first; the client must retry it.
    let server = TestServer::start(move |n, body: &Value| {
        if n % 3 == 0 {
            return (503, r#"{"error": "busy"}"#.to_owned());
        }
        let goal = body["messages"][1]["content"].as_str().unwrap_or("");
        let task = by_goal.iter().find(|t| t.scenario.as_ref().unwrap().goal == goal).unwrap();
        (200, gold_model(task, body))
    });
    let rollout_config =
        RolloutConfig { policy: Policy::OpenAi(config(server.base_url())), concurrency: 2, ..RolloutConfig::default() };
    let (episodes, stats) = rollout(&tasks, &rollout_config);
    assert_eq!(stats.failed_calls, 0);
    for (e, (_, t)) in episodes.iter().zip(&tasks) {
        assert_eq!(e.end, EndReason::UserStop, "{}: {:?}", e.id, e.error);
        assert_eq!(e.policy, "openai:test-model");
        assert_eq!(e.calls.len(), t.actions.len());
        for (call, gold) in e.calls.iter().zip(&t.actions) {
            assert_eq!(call.name, gold.name);
            assert!(worldsmith_core::canonical::json_eq(&call.arguments, &gold.arguments));
        }
        let last = e.messages.iter().rev().find(|m| m.role == "assistant").unwrap();
        assert!(!last.content.as_deref().unwrap().contains("<think>"));
        assert_eq!(Some(e.final_digest), t.expected_digest);
    }
    let seen = server.requests();
    assert!(
        seen.iter().all(|s| s.path == "/v1/chat/completions" && s.authorization.as_deref() == Some("Bearer test-key"))
    );
    let first = &seen[1].body;
    assert_eq!(first["model"], "test-model");
    assert!(first["tools"].as_array().is_some_and(|t| !t.is_empty()));
    assert_eq!(first["messages"][0]["role"], "system");
}

#[test]
fn an_endpoint_that_keeps_failing_ends_the_episode_with_the_reason() {
    let server = TestServer::start(|_, _| (500, "model crashed".to_owned()));
    let tasks = &super::scripted::tasks()[..1];
    let cfg = OpenAiConfig { retries: 2, ..config(server.base_url()) };
    let (episodes, _) = rollout(tasks, &RolloutConfig { policy: Policy::OpenAi(cfg), ..RolloutConfig::default() });
    assert_eq!(episodes[0].end, EndReason::AgentError);
    let error = episodes[0].error.as_deref().unwrap();
    assert!(
        error.contains("HTTP 500") && error.contains("model crashed") && error.contains("after 2 retries"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn a_slow_endpoint_times_out() {
    let server = TestServer::start(|_, _| {
        std::thread::sleep(Duration::from_millis(1500));
        (200, completion(json!({"role": "assistant", "content": "late"})))
    });
    let tasks = &super::scripted::tasks()[..1];
    let cfg = OpenAiConfig { retries: 0, request_timeout: Duration::from_millis(200), ..config(server.base_url()) };
    let (episodes, _) = rollout(
        tasks,
        &RolloutConfig {
            policy: Policy::OpenAi(cfg),
            episode_timeout: Duration::from_secs(5),
            ..RolloutConfig::default()
        },
    );
    assert_eq!(episodes[0].end, EndReason::AgentError);
    assert!(episodes[0].error.as_deref().unwrap().to_lowercase().contains("timeout"), "{:?}", episodes[0].error);
}

#[test]
fn an_llm_user_plays_the_scenario_and_ends_with_the_stop_marker() {
    // The "model" plays the user: it opens with the goal from its system prompt, confirms
    // proposed changes, and stops once the agent reports.
    let server = TestServer::start(|_, body: &Value| {
        let messages = body["messages"].as_array().unwrap();
        let system = messages[0]["content"].as_str().unwrap();
        let last = messages.last().unwrap()["content"].as_str().unwrap_or("");
        let text = if messages.len() == 2 {
            system.split("Your goal: ").nth(1).unwrap().split('\n').next().unwrap().to_owned()
        } else if last.contains("Shall I go ahead") {
            "Yes, go ahead.".to_owned()
        } else if last.contains('?') {
            // The agent asks for a fact the goal withholds: give what the scenario knows.
            let known =
                system.split("(give it only when asked):\n").nth(1).unwrap().split("\nYour manner").next().unwrap();
            known.lines().map(|l| l.trim_start_matches("- ").replace(": ", " is ")).collect::<Vec<_>>().join("; ")
        } else {
            "Great, thanks! ###STOP###".to_owned()
        };
        (200, completion(json!({"role": "assistant", "content": text})))
    });
    let tasks: Vec<_> = super::scripted::tasks().iter().take(6).cloned().collect();
    let config = RolloutConfig { llm_user: Some(config(server.base_url())), ..RolloutConfig::default() };
    let (episodes, _) = rollout(&tasks, &config);
    for (e, (_, t)) in episodes.iter().zip(&tasks) {
        assert_eq!(e.end, EndReason::UserStop, "{:?}", e.error);
        assert_eq!(e.messages[1].content.as_deref(), t.scenario.as_ref().map(|s| s.goal.as_str()));
        assert_eq!(e.messages.last().unwrap().content.as_deref(), Some("Great, thanks!"));
        assert_eq!(Some(e.final_digest), t.expected_digest);
    }
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.body["messages"][0]["role"] == "system"));
}

#[test]
fn sampling_asks_for_n_choices_and_tops_up_what_a_server_leaves_out() {
    use worldsmith_rollout::agent::{Context, Turn};
    use worldsmith_rollout::openai::OpenAiAgent;
    // One choice per request whatever `n` says (as llama.cpp's server does), then an answer
    // with no choices at all.
    let server = TestServer::start(|i, body| {
        if i < 4 {
            let text = format!("choice for seed {}", body["seed"]);
            (200, completion(json!({"role": "assistant", "content": text})))
        } else {
            (200, json!({"choices": []}).to_string())
        }
    });
    let mut agent = OpenAiAgent::new(&config(server.base_url()), 10, Duration::from_secs(30));
    let context = Context { messages: &[], tools: &[], calls: &[] };
    let turns = agent.sample(&context, 3).unwrap();
    assert_eq!(
        turns,
        ["choice for seed 10", "choice for seed 11", "choice for seed 12"].map(|t| Turn::Text(t.to_owned()))
    );
    let asked: Vec<(Value, Value)> =
        server.requests().iter().map(|r| (r.body["n"].clone(), r.body["seed"].clone())).collect();
    assert_eq!(asked, [(json!(3), json!(10)), (json!(2), json!(11)), (Value::Null, json!(12))]);
    // The next state's samples take the next seeds; a server with nothing to give is an error.
    assert_eq!(agent.sample(&context, 1).unwrap(), [Turn::Text("choice for seed 13".to_owned())]);
    let error = agent.sample(&context, 2).unwrap_err().to_string();
    assert!(error.contains("no choices"), "{error}");
}
