//! The far ends of the push channels, shared by the live, webhook and takedown tests: an SSE
//! client of `GET /v1/live`, and a webhook receiver on 127.0.0.1 that records what it got and
//! checks Standard Webhooks signatures with its own HMAC-SHA256 (not Gazette's code, not the
//! signing library).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gazette_tests::{TestApp, eventually};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How long an expected SSE event may take to arrive.
pub(crate) const ARRIVAL: Duration = Duration::from_secs(10);

/// How long expected webhook requests may take to arrive.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub(crate) struct SseEvent {
    pub(crate) id: Option<String>,
    pub(crate) event: String,
    pub(crate) data: Value,
}

/// A `GET /v1/live` stream read chunk by chunk and split into events.
pub(crate) struct Sse {
    response: reqwest::Response,
    buffer: Vec<u8>,
    /// Bytes at the start of `buffer` known to hold no end of an event.
    scanned: usize,
    /// The `id` of the last event that had one (`ready` included): where an `EventSource`
    /// would resume (its `Last-Event-ID`).
    pub(crate) last_id: Option<String>,
}

impl Sse {
    /// Opens `/v1/live` + `query` with `Last-Event-ID` and a bearer token when given; panics
    /// unless it is answered 200 as an event stream.
    pub(crate) async fn open(
        app: &TestApp,
        query: &str,
        last_id: Option<&str>,
        token: Option<&str>,
    ) -> Sse {
        let response = open_raw(app, query, last_id, token).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        let mut sse = Sse {
            response,
            buffer: Vec::new(),
            scanned: 0,
            last_id: None,
        };
        let ready = sse.next().await;
        assert_eq!(ready.event, "ready", "the stream starts with `ready`");
        assert_eq!(
            ready.id.as_deref(),
            last_id.or(ready.id.as_deref()),
            "`ready` carries the cursor the stream resumes after"
        );
        sse
    }

    /// The next event (heartbeat comments skipped), within [`ARRIVAL`].
    pub(crate) async fn next(&mut self) -> SseEvent {
        self.next_or_end().await.expect("the stream is still open")
    }

    /// The next event (heartbeat comments skipped), or `None` once the server ended the
    /// stream, within [`ARRIVAL`].
    pub(crate) async fn next_or_end(&mut self) -> Option<SseEvent> {
        let deadline = Instant::now() + ARRIVAL;
        loop {
            // An event may be large: only the bytes that came since the last look are searched.
            let from = self.scanned.saturating_sub(1);
            let found = self.buffer[from..].windows(2).position(|w| w == b"\n\n");
            if let Some(at) = found {
                let block: Vec<u8> = self.buffer.drain(..from + at + 2).collect();
                self.scanned = 0;
                let block = String::from_utf8(block).expect("events are UTF-8");
                let mut event = SseEvent {
                    id: None,
                    event: "message".to_owned(),
                    data: Value::Null,
                };
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(id) = line.strip_prefix("id:") {
                        event.id = Some(id.trim_start().to_owned());
                    } else if let Some(name) = line.strip_prefix("event:") {
                        name.trim_start().clone_into(&mut event.event);
                    } else if let Some(more) = line.strip_prefix("data:") {
                        data.push_str(more.trim_start());
                    }
                }
                if event.id.is_none() && data.is_empty() {
                    continue; // A heartbeat comment.
                }
                event.data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                if event.id.is_some() {
                    self.last_id.clone_from(&event.id);
                }
                return Some(event);
            }
            self.scanned = self.buffer.len();
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = tokio::time::timeout(left, self.response.chunk())
                .await
                .expect("an event or the end of the stream within the deadline")
                .expect("the stream reads");
            let Some(chunk) = chunk else {
                assert!(
                    self.buffer.iter().all(u8::is_ascii_whitespace),
                    "the stream ended inside an event"
                );
                return None;
            };
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// The next `change` event's article slug (or the removed id) and action.
    pub(crate) async fn next_change(&mut self) -> (String, String) {
        let event = self.next().await;
        assert_eq!(event.event, "change", "{event:?}");
        assert_eq!(
            event.id.as_deref(),
            event.data["cursor"].as_str(),
            "the event id is the entry's cursor"
        );
        let action = event.data["action"].as_str().unwrap().to_owned();
        let slug = event.data["article"]["slug"]
            .as_str()
            .or(event.data["id"].as_str())
            .unwrap()
            .to_owned();
        (slug, action)
    }
}

pub(crate) async fn open_raw(
    app: &TestApp,
    query: &str,
    last_id: Option<&str>,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.get(app.url(&format!("/v1/live{query}")));
    if let Some(id) = last_id {
        request = request.header("last-event-id", id);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request
        .send()
        .await
        .expect("the stream request is answered")
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) id: String,
    pub(crate) timestamp: String,
    pub(crate) signature: String,
    pub(crate) body: String,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Inbox {
    got: Vec<Received>,
    /// Answers to give, in order (then 200): a status and an optional `Retry-After`.
    script: VecDeque<(u16, Option<&'static str>)>,
}

/// A webhook receiver on 127.0.0.1.
pub(crate) struct Receiver {
    addr: SocketAddr,
    inbox: Arc<Mutex<Inbox>>,
}

async fn hook(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let header = |name: &str| gazette_tests::header_text(&headers, name);
    let mut inbox = inbox.lock().unwrap();
    inbox.got.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    match inbox.script.pop_front() {
        Some((status, retry_after)) => {
            let status = StatusCode::from_u16(status).unwrap();
            match retry_after {
                Some(after) => (status, [("retry-after", after)]).into_response(),
                None => status.into_response(),
            }
        }
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

impl Receiver {
    pub(crate) async fn start(script: &[(u16, Option<&'static str>)]) -> Self {
        let inbox = Arc::new(Mutex::new(Inbox {
            got: Vec::new(),
            script: script.iter().copied().collect(),
        }));
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(Arc::clone(&inbox));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { addr, inbox }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub(crate) fn got(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().got.clone()
    }

    pub(crate) async fn wait_for(&self, count: usize) -> Vec<Received> {
        let inbox = Arc::clone(&self.inbox);
        eventually(&format!("{count} webhook requests"), WAIT, || {
            inbox.lock().unwrap().got.len() >= count
        })
        .await;
        self.got()
    }
}

/// HMAC-SHA256 (RFC 2104) written out here, so the check owes nothing to the sender's code.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0_u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Whether one of the `v1,` signatures of `r` is the HMAC of `id.timestamp.body` with `secret`.
pub(crate) fn verifies(secret: &str, r: &Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("base64 secret");
    let signed = format!("{}.{}.{}", r.id, r.timestamp, r.body);
    let expected = format!(
        "v1,{}",
        STANDARD.encode(hmac_sha256(&key, signed.as_bytes()))
    );
    r.signature.split(' ').any(|s| s == expected)
}
