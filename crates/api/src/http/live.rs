//! Live updates over HTTP: `GET /v1/live` (Server-Sent Events) and `GET /graphql/ws` (the
//! GraphQL subscription over WebSocket, `graphql-transport-ws`). Both are adapters over
//! [`gazette_app::live`], which reads the change log for each stream.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use async_graphql::futures_util::SinkExt as _;
use async_graphql::futures_util::stream::{self, BoxStream, StreamExt as _};
use async_graphql::{Data, Executor, Request, Response as GqlResponse};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{RawQuery, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use gazette_app::live::LiveRequest;
use gazette_domain::{ValidationError, Viewer};

use super::HttpState;
use super::caller::{Caller, ClientIp};
use crate::ApiError;
use crate::graphql::{Loaders, RequestContext};

/// The query of `GET /v1/live`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Read from the raw query (a repeated parameter); described for OpenAPI.
pub struct LiveParams {
    /// Only articles in this topic (a slug); repeat it for several. Removals always arrive.
    #[param(value_type = Option<Vec<super::rest::params::SlugSchema>>)]
    topic: Option<Vec<String>>,
    /// Resume after this change cursor (what `Last-Event-ID` says, when that header is absent).
    #[param(value_type = Option<super::rest::params::CursorSchema>)]
    since: Option<String>,
}

/// `GET /v1/live`: the caller's changes as Server-Sent Events.
#[utoipa::path(
    get,
    path = "/v1/live",
    tag = "articles",
    params(LiveParams, ("Last-Event-ID" = Option<String>, Header, description = "The `id` of the last event received: the stream resumes after it, missing nothing")),
    responses(
        (status = 200, description = "A stream of events: first `ready` (its `id` is where the stream starts), then one `change` per entry `GET /v1/changes` would give this caller (data: a `ChangeEntry`; `id`: its cursor), as they happen; comment lines as heartbeats; last, when the server ends the stream, `end` (data: `{\"reason\": \"behind\"}` when the client read too slowly, `closing` when the server stops, `failed` when storage failed): reconnect with `Last-Event-ID` to resume", content_type = "text/event-stream", body = String),
        super::problems::StreamProblems,
    ),
)]
pub async fn live(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs: Vec<(String, String)> =
        match serde_urlencoded::from_str(query.as_deref().unwrap_or("")) {
            Ok(pairs) => pairs,
            Err(e) => return ApiError::BadRequest(format!("query: {e}")).into_response(),
        };
    let values = |key: &str| {
        let found = pairs.iter().filter(|(k, _)| k == key);
        found.map(|(_, v)| v.clone()).collect::<Vec<String>>()
    };
    let last_event = headers.get("last-event-id").map(|v| v.to_str());
    let since = match last_event {
        Some(Ok(id)) => Some(id.to_owned()),
        Some(Err(_)) => {
            let error = ValidationError::new("Last-Event-ID", "is not a cursor");
            return ApiError::BadInput(error).into_response();
        }
        None => values("since").pop(),
    };
    let request = LiveRequest {
        viewer,
        client,
        since,
        topics: values("topic"),
        with_bodies: true,
    };
    let batches = match http.app.live().subscribe(request).await {
        Ok(batches) => batches,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let ready = Event::default()
        .event("ready")
        .id(batches.start())
        .data("{}");
    // Each batch, then why the stream ended.
    let events = crate::graphql::batches_then_end(batches).flat_map(|item| {
        let events: Vec<Result<Event, Infallible>> = match item {
            Ok(batch) => batch
                .entries
                .iter()
                .filter_map(|entry| {
                    let json = super::changes::entry_json(
                        entry,
                        &batch.relations,
                        &batch.bodies,
                        batch.now,
                    );
                    let event = Event::default().event("change").id(&entry.cursor);
                    event.json_data(json).ok().map(Ok)
                })
                .collect(),
            Err(ended) => {
                let reason = serde_json::json!({ "reason": ended.as_str() });
                let end = Event::default().event("end").json_data(reason);
                end.ok().map(Ok).into_iter().collect()
            }
        };
        stream::iter(events)
    });
    let heartbeat = KeepAlive::new().interval(http.app.live().config().heartbeat);
    let stream = stream::once(async { Ok::<_, Infallible>(ready) }).chain(events);
    let mut response = Sse::new(stream).keep_alive(heartbeat).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// `GET /graphql/ws`: the GraphQL subscription over WebSocket (`graphql-transport-ws`). The
/// token, if any, comes in `connection_init`'s payload (`{"Authorization": "Bearer …"}` or
/// `{"token": "…"}`); a bad one closes the socket with 4403 (Forbidden). Subscriptions only.
pub async fn graphql_ws(
    State(http): State<HttpState>,
    ClientIp(client): ClientIp,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    // Refused over HTTP while the upgrade can still say why; the subscription takes the slot.
    if let Err(error) = http.app.live().admits(client) {
        return ApiError::from(error).into_response();
    }
    let viewer = Arc::new(OnceLock::new());
    // How many of this socket's subscriptions are running: at shutdown the socket closes once
    // they have sent their last messages.
    let (running, mut idle) = tokio::sync::watch::channel(0_usize);
    let executor = LiveExecutor {
        http: http.clone(),
        client,
        viewer: Arc::clone(&viewer),
        running: Arc::new(running),
    };
    let protocols = async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
    upgrade
        .protocols(protocols)
        .on_upgrade(move |socket| async move {
            // async-graphql closes a refused `connection_init` with 1002 (protocol error), as it does
            // a malformed message; graphql-transport-ws says 4403 (Forbidden) for a refused caller.
            let refused = Arc::new(AtomicBool::new(false));
            let (sink, incoming) = socket.split();
            let mut sink = sink.with({
                let refused = Arc::clone(&refused);
                move |message: Message| {
                    let message = match message {
                        Message::Close(Some(frame))
                            if frame.code == 1002 && refused.load(Ordering::Acquire) =>
                        {
                            Message::Close(Some(CloseFrame {
                                code: FORBIDDEN_CLOSE,
                                reason: frame.reason,
                            }))
                        }
                        other => other,
                    };
                    std::future::ready(Ok::<_, axum::Error>(message))
                }
            });
            // When the server stops, its subscriptions end themselves (`STREAM_ENDED`, `closing`,
            // then `complete`); once they have, the client's messages stop being read, and the
            // socket closes with 1001 (Going Away) rather than being cut when the process exits.
            let going_away = Arc::new(AtomicBool::new(false));
            let ended = {
                let closed = http.app.live().closed();
                let going_away = Arc::clone(&going_away);
                async move {
                    closed.await;
                    let _ = tokio::time::timeout(GOING_AWAY_WAIT, idle.wait_for(|n| *n == 0)).await;
                    going_away.store(true, Ordering::Release);
                }
            };
            GraphQLWebSocket::new_with_pair(
                &mut sink,
                incoming.take_until(ended),
                executor,
                protocol,
            )
            .on_connection_init(move |payload| async move {
                let who = viewer_of(&http, &payload).map_err(|error| {
                    refused.store(true, Ordering::Release);
                    async_graphql::Error::new(error)
                })?;
                let _ = viewer.set(who);
                Ok(Data::default())
            })
            .serve()
            .await;
            if going_away.load(Ordering::Acquire) {
                let close = Message::Close(Some(CloseFrame {
                    code: GOING_AWAY_CLOSE,
                    reason: "the server is stopping".into(),
                }));
                let _ = tokio::time::timeout(GOING_AWAY_WAIT, sink.send(close)).await;
            }
        })
}

/// WebSocket's close code for a server going down.
const GOING_AWAY_CLOSE: u16 = 1001;

/// How long a stopping server waits for a socket's subscriptions to end, and then for its
/// close frame to be sent.
const GOING_AWAY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// graphql-transport-ws's close code for a `connection_init` whose caller is refused.
const FORBIDDEN_CLOSE: u16 = 4403;

/// Who `connection_init`'s payload names: anonymous without a token.
fn viewer_of(http: &HttpState, payload: &serde_json::Value) -> Result<Viewer, String> {
    let field = |name: &str| payload.get(name).and_then(serde_json::Value::as_str);
    let auth = http.app.auth();
    let found = match (
        field("Authorization").or(field("authorization")),
        field("token"),
    ) {
        (Some(header), _) => auth.authenticate([header]),
        (None, Some(token)) => auth.verify_access(token),
        (None, None) => Ok(Viewer::Anonymous),
    };
    found.map_err(|e| e.to_string())
}

/// Runs a WebSocket connection's subscriptions as its `connection_init` caller, each with its
/// own request context and uncached loaders.
#[derive(Clone)]
struct LiveExecutor {
    http: HttpState,
    client: std::net::IpAddr,
    viewer: Arc<OnceLock<Viewer>>,
    /// How many of the socket's operations are running.
    running: Arc<tokio::sync::watch::Sender<usize>>,
}

/// Counts an operation as running until its stream is dropped.
struct Running(Arc<tokio::sync::watch::Sender<usize>>);

impl Running {
    fn start(running: &Arc<tokio::sync::watch::Sender<usize>>) -> Self {
        running.send_modify(|n| *n += 1);
        Self(Arc::clone(running))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Executor for LiveExecutor {
    async fn execute(&self, request: Request) -> GqlResponse {
        let mut responses = self.execute_stream(request, None);
        responses.next().await.unwrap_or_default()
    }

    fn execute_stream(
        &self,
        request: Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, GqlResponse> {
        let request = match super::graphql_http::prepare_subscription(&self.http, request) {
            Ok(request) => request,
            Err(errors) => return stream::once(async { GqlResponse::from_errors(errors) }).boxed(),
        };
        let app = &self.http.app;
        let context = RequestContext {
            viewer: self.viewer.get().cloned().unwrap_or_default(),
            at: gazette_app::clock::SharedInstant::new(app.now()),
            client_ip: self.client,
            tags: crate::graphql::ResponseTags::default(),
        };
        let request = request.data(context).data(Loaders::uncached(app.app()));
        let schema = &self.http.schema;
        let running = Running::start(&self.running);
        schema
            .execute_stream_with_session_data(request, session.unwrap_or_default())
            .map(move |response| {
                let _running = &running;
                response
            })
            .boxed()
    }
}
