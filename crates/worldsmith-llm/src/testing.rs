//! A real chat-completions HTTP server for tests (feature `testing`).
//!
//! It listens on a free local port, parses HTTP/1.1 requests (with keep-alive) and answers
//! each with a function of the request number and JSON body, so tests exercise the real
//! client, sockets and retries rather than a mocked function.
//!
//! ```
//! use worldsmith_llm::testing::{TestServer, completion};
//! use worldsmith_llm::{ChatClient, ChatConfig};
//! let server = TestServer::start(|_, _| (200, completion(serde_json::json!({"role": "assistant", "content": "hi"}))));
//! let client = ChatClient::new(ChatConfig::new(server.base_url(), "m"));
//! let answer = client.complete(&serde_json::json!({"messages": []}), None).unwrap();
//! assert_eq!(worldsmith_llm::message_text(&answer).as_deref(), Some("hi"));
//! assert_eq!(server.requests().len(), 1);
//! ```

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The body as JSON (`null` when it is not JSON).
    pub body: Value,
}

/// Answers request number `n` (from 0) with a status and a body.
pub type Handler = dyn Fn(usize, &Value) -> (u16, String) + Send + Sync;

/// A running test server; it stops with the test process.
pub struct TestServer {
    base_url: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl TestServer {
    /// Starts a server on a free local port.
    ///
    /// # Panics
    /// No local port can be bound.
    pub fn start(handler: impl Fn(usize, &Value) -> (u16, String) + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free local port");
        let base_url = format!("http://{}/v1", listener.local_addr().expect("a local address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (handler, log, count) = (Arc::clone(&handler), Arc::clone(&log), Arc::clone(&count));
                std::thread::spawn(move || serve(stream, &*handler, &log, &count));
            }
        });
        TestServer { base_url, seen }
    }

    /// The API root to configure clients with (`http://127.0.0.1:PORT/v1`).
    #[must_use]
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The requests served so far, in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// A chat-completions answer holding `message`.
#[must_use]
pub fn completion(message: Value) -> String {
    json!({"id": "test", "object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
        .to_string()
}

/// Serves requests on one connection until the client closes it or sends garbage.
fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>, count: &AtomicUsize) {
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
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
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else { return };
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let n = count.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut log) = log.lock() {
            log.push(Request { path, authorization, body: body.clone() });
        }
        let (status, text) = handler(n, &body);
        let head =
            format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", text.len());
        if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(text.as_bytes())).is_err() {
            return;
        }
    }
}
