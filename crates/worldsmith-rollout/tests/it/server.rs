//! The `openai` policy against a real local HTTP server speaking chat completions.
//!
//! The server is ours: a thread on a TCP socket that parses HTTP/1.1 requests (with
//! keep-alive) and answers with a function of the request body. Its "model" plays a task's
//! gold calls, alternating between the `tool_calls` field and Hermes-style `<tool_call>` text,
//! and then states the answers it read in the tool results.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use worldsmith_core::episode::EndReason;
use worldsmith_core::task::TaskLine;
use worldsmith_rollout::openai::OpenAiConfig;
use worldsmith_rollout::{Policy, RolloutConfig, rollout};

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    authorization: Option<String>,
    body: Value,
}

type Handler = dyn Fn(usize, &Value) -> (u16, String) + Send + Sync;

/// Starts a server; returns its base URL and the requests it saw.
fn serve(handler: Arc<Handler>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (handler, log, count) = (handler.clone(), log.clone(), count.clone());
            std::thread::spawn(move || connection(stream, &*handler, &log, &count));
        }
    });
    (base, seen)
}

/// Serves requests on one connection until the client closes it.
fn connection(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Seen>>, count: &AtomicUsize) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let (mut length, mut authorization) = (0, None);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap(),
                "authorization" => authorization = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let n = count.fetch_add(1, Ordering::SeqCst);
        log.lock().unwrap().push(Seen { path, authorization, body: body.clone() });
        let (status, text) = handler(n, &body);
        let head =
            format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", text.len());
        if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(text.as_bytes())).is_err() {
            return;
        }
    }
}

/// A chat-completions answer holding `message`.
fn completion(message: Value) -> String {
    json!({"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
        .to_string()
}

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
    let tasks: Vec<_> =
        super::scripted::tasks().iter().filter(|(_, t)| t.kind.as_deref() != Some("write")).take(3).cloned().collect();
    let by_goal: Vec<TaskLine> = tasks.iter().map(|(_, t)| t.clone()).collect();
    // Every third request fails with a 503 first; the client must retry it.
    let handler: Arc<Handler> = Arc::new(move |n, body: &Value| {
        if n % 3 == 0 {
            return (503, r#"{"error": "busy"}"#.to_owned());
        }
        let goal = body["messages"][1]["content"].as_str().unwrap_or("");
        let task = by_goal.iter().find(|t| t.scenario.as_ref().unwrap().goal == goal).unwrap();
        (200, gold_model(task, body))
    });
    let (base, seen) = serve(handler);
    let rollout_config =
        RolloutConfig { policy: Policy::OpenAi(config(base)), concurrency: 2, ..RolloutConfig::default() };
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
    let seen = seen.lock().unwrap();
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
    let handler: Arc<Handler> = Arc::new(|_, _| (500, "model crashed".to_owned()));
    let (base, seen) = serve(handler);
    let tasks = &super::scripted::tasks()[..1];
    let cfg = OpenAiConfig { retries: 2, ..config(base) };
    let (episodes, _) = rollout(tasks, &RolloutConfig { policy: Policy::OpenAi(cfg), ..RolloutConfig::default() });
    assert_eq!(episodes[0].end, EndReason::AgentError);
    let error = episodes[0].error.as_deref().unwrap();
    assert!(
        error.contains("HTTP 500") && error.contains("model crashed") && error.contains("after 2 retries"),
        "{error}"
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn a_slow_endpoint_times_out() {
    let handler: Arc<Handler> = Arc::new(|_, _| {
        std::thread::sleep(Duration::from_millis(1500));
        (200, completion(json!({"role": "assistant", "content": "late"})))
    });
    let (base, _) = serve(handler);
    let tasks = &super::scripted::tasks()[..1];
    let cfg = OpenAiConfig { retries: 0, request_timeout: Duration::from_millis(200), ..config(base) };
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
