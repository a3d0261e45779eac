//! Live updates: a real `graphql-transport-ws` client and a real SSE client receive what
//! `changes` would give them, as it happens: a topic filter leaves other stories out, a
//! reconnection with `Last-Event-ID` gets exactly what it missed, a scheduled story arrives
//! when the (moved) clock reaches it, an embargoed one reaches a partner only at its instant,
//! a write on one process reaches a stream on another (PostgreSQL), streams over the limits
//! are refused with 429 / 503, and a stream the server ends says why (`behind`, `closing`,
//! `failed`). Arrivals are polled with a deadline; time is moved, never waited.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use gazette_app::{Clock as _, ManualClock};
use gazette_tests::{
    Db, TestApp, on_both_databases, partner, pg_admin_url, spawn_app_with, spawn_seeded_app,
    spawn_seeded_app_with,
};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::outage::{Proxy, host_port, via};
use crate::push_clients::{ARRIVAL, Sse, open_raw};

/// Creates and publishes an article under `topic`; returns its id.
async fn publish(app: &TestApp, slug: &str, topic: &str) -> String {
    let id = app.draft(slug, json!({ "primaryTopic": topic })).await;
    app.publish(&id).await;
    id
}

/// A `graphql-transport-ws` connection to `/graphql/ws`.
struct Ws {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Ws {
    /// Connects and initialises with `payload`; returns the server's first answer type
    /// (`connection_ack`, or the close code as `close:<code>`).
    async fn connect(app: &TestApp, payload: Value) -> (Ws, String) {
        let mut request = format!("ws://{}/graphql/ws", app.addr)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the WebSocket upgrade succeeds");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        let mut ws = Ws { socket };
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let first = ws.receive().await;
        (ws, first["type"].as_str().unwrap_or_default().to_owned())
    }

    /// Starts operation `id`: `query` with `variables` (`null`: none).
    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    /// The next protocol message within [`ARRIVAL`] (pings answered); a close frame as
    /// `{"type": "close:<code>"}`.
    async fn receive(&mut self) -> Value {
        let deadline = Instant::now() + ARRIVAL;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = tokio::time::timeout(left, self.socket.next())
                .await
                .expect("a message within the deadline");
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return value;
                }
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.map_or(0, |f| u16::from(f.code));
                    return json!({ "type": format!("close:{code}") });
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return json!({ "type": format!("error:{e}") }),
                None => return json!({ "type": "close:none" }),
            }
        }
    }

    /// The next `next` message of subscription `id`: its `articleEvents`.
    async fn next_event(&mut self, id: &str) -> Value {
        let message = self.receive().await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], id);
        assert!(message["payload"].get("errors").is_none(), "{message}");
        message["payload"]["data"]["articleEvents"].clone()
    }
}

const SUBSCRIPTION: &str = "subscription($topics: [String!], $since: String) { \
    articleEvents(topics: $topics, since: $since) { cursor id action reason \
    article { slug headline status primaryTopic { slug } } } }";

/// Where the change log ends now, for `token`'s viewer (a subscription from here misses
/// nothing that happens next, whenever the server gets to it).
async fn log_end(app: &TestApp) -> String {
    let mut since: Option<String> = None;
    loop {
        let data = app
            .gql_ok(
                "query($since: String) { changes(since: $since, first: 500) { nextCursor hasMore } }",
                json!({ "since": since }),
            )
            .await;
        since = data["changes"]["nextCursor"].as_str().map(str::to_owned);
        if data["changes"]["hasMore"] == false {
            return since.unwrap();
        }
    }
}

on_both_databases!(
    a_websocket_subscriber_receives_publications_in_its_topics,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let since = log_end(&app).await;
        let (mut ws, ack) = Ws::connect(&app, json!({})).await;
        assert_eq!(ack, "connection_ack");
        ws.subscribe(
            "1",
            SUBSCRIPTION,
            json!({ "topics": ["markets"], "since": since }),
        )
        .await;
        publish(&app, "live-markets-rally", "markets").await;
        publish(&app, "live-health-news", "health").await;
        publish(&app, "live-markets-close", "markets").await;

        let first = ws.next_event("1").await;
        assert_eq!(first["action"], "UPSERT");
        assert_eq!(first["article"]["slug"], "live-markets-rally");
        assert_eq!(first["article"]["status"], "PUBLISHED");
        assert_eq!(first["article"]["primaryTopic"]["slug"], "markets");
        let second = ws.next_event("1").await;
        assert_eq!(
            second["article"]["slug"], "live-markets-close",
            "the story in another topic is left out"
        );

        // Only subscriptions are served on this socket.
        let query = "{ articles(first: 1) { edges { cursor } } }";
        ws.subscribe("2", query, Value::Null).await;
        let refused = ws.receive().await;
        assert_eq!(refused["id"], "2");
        assert!(refused["payload"]["data"].is_null(), "{refused}");
        let message = refused["payload"]["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("only subscriptions"), "{refused}");
        app.stop().await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_with_a_bad_token_is_closed_and_a_good_one_sees_as_its_caller() {
    let app = spawn_seeded_app(Db::Sqlite, 0).await;
    let (mut ws, answer) = Ws::connect(&app, json!({ "token": "not-a-jwt" })).await;
    assert_eq!(answer, "close:4403", "a bad token is refused as Forbidden");
    drop(ws.socket.close(None).await);

    // A partner sees an embargoed story only when the embargo lifts; an editor sees drafts'
    // tombstones as staff: here, the partner's token is read from `Authorization`.
    let since = log_end(&app).await;
    let (mut ws, ack) = Ws::connect(
        &app,
        json!({ "Authorization": format!("Bearer {}", partner(&["syndication"])) }),
    )
    .await;
    assert_eq!(ack, "connection_ack");
    ws.subscribe("p", SUBSCRIPTION, json!({ "since": since }))
        .await;
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let held = app
        .draft("live-embargoed", json!({ "embargoUntil": until }))
        .await;
    app.publish(&held).await;
    publish(&app, "live-free", "markets").await;
    // As `changes` tells a partner: a tombstone naming the embargo, never the story itself.
    let event = ws.next_event("p").await;
    assert_eq!(event["id"], held);
    assert_eq!(
        (&event["action"], &event["reason"]),
        (&json!("REMOVE"), &json!("EMBARGOED"))
    );
    assert!(
        event["article"].is_null(),
        "the embargoed story is not sent before its time"
    );
    let event = ws.next_event("p").await;
    assert_eq!(event["article"]["slug"], "live-free");
    app.stop().await;
}

on_both_databases!(
    an_sse_client_resumes_with_last_event_id_missing_nothing,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let mut sse = Sse::open(&app, "", None, None).await;
        publish(&app, "live-sse-one", "markets").await;
        let event = sse.next().await;
        assert_eq!(event.event, "change");
        assert_eq!(event.data["article"]["slug"], "live-sse-one");
        assert_eq!(event.data["action"], "upsert");
        assert!(
            event.data["article"]["body"].is_array(),
            "readers get the body"
        );
        let last = event.id.clone().unwrap();
        drop(sse);

        // Missed while away.
        publish(&app, "live-sse-two", "health").await;
        publish(&app, "live-sse-three", "markets").await;
        let mut sse = Sse::open(&app, "", Some(&last), None).await;
        assert_eq!(
            sse.next_change().await,
            ("live-sse-two".to_owned(), "upsert".to_owned())
        );
        assert_eq!(
            sse.next_change().await,
            ("live-sse-three".to_owned(), "upsert".to_owned())
        );
        // Then live again, with nothing repeated in between.
        publish(&app, "live-sse-four", "markets").await;
        assert_eq!(sse.next_change().await.0, "live-sse-four");

        // A topic filter on SSE (repeatable), resuming from the same point.
        let mut filtered = Sse::open(&app, "?topic=health&topic=energy", Some(&last), None).await;
        assert_eq!(filtered.next_change().await.0, "live-sse-two");
        publish(&app, "live-sse-five", "markets").await;
        publish(&app, "live-sse-six", "energy").await;
        assert_eq!(filtered.next_change().await.0, "live-sse-six");
        app.stop().await;
    }
);

on_both_databases!(
    a_scheduled_story_is_announced_when_the_clock_reaches_it,
    |db| async move {
        let clock = ManualClock::new();
        let moved = clock.clone();
        let app = spawn_app_with(db, move |args| args.clock = Arc::new(moved)).await;
        gazette_persistence::seed_sample_content(&app.store, 0, clock.now())
            .await
            .expect("seed");
        let mut sse = Sse::open(&app, "", None, None).await;
        let id = app.draft("live-scheduled", json!({})).await;
        let at = (clock.now() + chrono::Duration::hours(1)).to_rfc3339();
        app.as_editor(
            "mutation($id: ID!, $at: String!) { scheduleArticle(id: $id, at: $at) { id } }",
            json!({ "id": id, "at": at }),
        )
        .await;
        // Saved, not announced: the next event is a story published after it.
        publish(&app, "live-marker", "markets").await;
        assert_eq!(sse.next_change().await.0, "live-marker");

        clock.advance(chrono::Duration::hours(2));
        let (slug, action) = sse.next_change().await;
        assert_eq!(
            (slug.as_str(), action.as_str()),
            ("live-scheduled", "upsert")
        );
        app.stop().await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_process_reaches_a_stream_on_another_within_a_second() {
    let app = spawn_seeded_app(Db::Postgres, 0).await;
    let other = app.spawn_sibling().await;
    let mut sse = Sse::open(&other, "", None, None).await;
    let started = Instant::now();
    publish(&app, "live-cross-node", "markets").await;
    let published = Instant::now();
    let (slug, _) = sse.next_change().await;
    let lag = published.elapsed();
    assert_eq!(slug, "live-cross-node");
    assert!(
        lag < Duration::from_secs(1),
        "arrived {lag:?} after the publication committed (publishing took {:?})",
        published - started
    );
    other.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_over_the_limits_and_bad_filters_are_refused_clearly() {
    let app = spawn_app_with(Db::Sqlite, |args| {
        args.live.live_max_per_client = 1;
        args.live.live_max_topics = 2;
        // A dropped stream is noticed at its next write.
        args.live.live_heartbeat_secs = 1;
    })
    .await;
    gazette_persistence::seed_sample_content(&app.store, 0, chrono::Utc::now())
        .await
        .expect("seed");
    for (query, last_id, field) in [
        ("?topic=Not%20A%20Slug", None, "topic"),
        ("?topic=markets&topic=health&topic=energy", None, "topic"),
        ("", Some("garbage".to_owned()), "since"),
        ("", Some(ahead_of_the_log()), "since"),
    ] {
        let response = open_raw(&app, query, last_id.as_deref(), None).await;
        assert_problem(response, 400, Some(field)).await;
    }

    // A topic that does not exist is not found, as on every other route.
    assert_problem(
        open_raw(&app, "?topic=no-such-topic", None, None).await,
        404,
        None,
    )
    .await;

    // One stream per address: the second is refused with 429, over SSE and WebSocket alike.
    let held = Sse::open(&app, "", None, None).await;
    assert_problem(open_raw(&app, "", None, None).await, 429, None).await;
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
        }
        other => panic!(
            "the upgrade should be refused with 429: {:?}",
            other.map(|_| ())
        ),
    }
    // Its slot is free again once the stream is dropped.
    drop(held);
    let mut reopened = None;
    let deadline = Instant::now() + ARRIVAL;
    while reopened.is_none() {
        let response = open_raw(&app, "", None, None).await;
        if response.status() == 200 {
            reopened = Some(response);
        } else {
            assert!(Instant::now() < deadline, "the slot was never given back");
            tokio::task::yield_now().await;
        }
    }
    drop(reopened);
    app.stop().await;

    // The process's limit: 503.
    let app = spawn_app_with(Db::Sqlite, |args| {
        args.live.live_max_subscribers = 1;
    })
    .await;
    let _held = Sse::open(&app, "", None, None).await;
    assert_problem(open_raw(&app, "", None, None).await, 503, None).await;
    app.stop().await;
}

/// A well-formed cursor far past the end of any test's change log.
fn ahead_of_the_log() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("c1:999999")
}

/// Asserts `response` is a problem document with `status` (naming `field`, when given).
async fn assert_problem(response: reqwest::Response, status: u16, field: Option<&str>) {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    if let Some(field) = field {
        assert_eq!(body["field"], field, "{body}");
    }
}

on_both_databases!(
    one_reader_of_the_log_serves_every_stream_of_a_class,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let before = log_end(&app).await;
        // Six anonymous streams, half of them filtered: one class, so one reader of the log.
        let mut streams = Vec::new();
        for n in 0..6 {
            let query = if n % 2 == 0 { "" } else { "?topic=markets" };
            streams.push(Sse::open(&app, query, None, None).await);
        }
        app.store.record_statements();
        publish(&app, "herd-markets-one", "markets").await;
        for stream in &mut streams {
            assert_eq!(
                stream.next_change().await,
                ("herd-markets-one".to_owned(), "upsert".to_owned())
            );
        }
        let log_reads = app
            .store
            .take_recorded_statements()
            .iter()
            .filter(|sql| sql.contains("article_changes") && sql.contains("ORDER BY"))
            .count();
        // A reader per stream would read the log at least six times.
        assert!(
            (1..=3).contains(&log_reads),
            "the change log was read {log_reads} times for six streams"
        );

        // A stream resuming from before the publication, while the others keep the reader
        // running: it reads what it missed itself, then follows the shared reader, each entry
        // once.
        let mut late = Sse::open(&app, "?topic=markets", Some(&before), None).await;
        assert_eq!(late.next_change().await.0, "herd-markets-one");
        publish(&app, "herd-health", "health").await;
        publish(&app, "herd-markets-two", "markets").await;
        assert_eq!(late.next_change().await.0, "herd-markets-two");
        assert_eq!(streams[0].next_change().await.0, "herd-health");
        assert_eq!(streams[0].next_change().await.0, "herd-markets-two");
        app.stop().await;
    }
);

/// Stories whose bodies are this many paragraphs of [`FLOOD_TEXT`] (about 1 MB each).
const FLOOD_PARAGRAPHS: usize = 50;
/// Repeated to just under the 20 000 characters a block may hold: no words, so saving such a
/// body (search index, keyword profile) stays cheap.
const FLOOD_TEXT: &str = "...... ";
/// Stories published while the slow client reads nothing: about 12 MB, several times what the
/// loopback connection's buffers hold (the server's send and the client's receive buffer, a
/// few MB together, and hyper's write queue, about 400 KB).
const FLOOD_STORIES: usize = 12;

/// A subscription that loads each story's text (about 1 MB).
const FLOOD_SUBSCRIPTION: &str = "subscription($since: String) { \
    articleEvents(since: $since) { cursor article { slug bodyText } } }";

/// Publishes a story of about 1 MB under `markets`.
async fn publish_large(app: &TestApp, slug: &str) {
    let paragraph = json!({ "type": "paragraph", "text": FLOOD_TEXT.repeat(2_800) });
    let body = vec![paragraph; FLOOD_PARAGRAPHS];
    let id = app
        .draft(slug, json!({ "primaryTopic": "markets", "body": body }))
        .await;
    app.publish(&id).await;
}

// A stream whose client stops reading is ended once it falls more than `GAZETTE_LIVE_QUEUE`
// batches behind: end to end, over SSE and over the GraphQL WebSocket. The queue is one batch
// and each story is about 1 MB, so a slow client's connection is full after a few stories and
// the server stops taking from its stream, while a second SSE client on the same server (the
// same reader of the log) reads every story before the next is published, one batch each.
// Each slow client then reads what its connection held, in order, then why its stream ended
// (SSE: an `end` event; GraphQL: a `STREAM_ENDED` error, then `complete`), before the last
// story; the process counts both in `gazette_live_slow_consumers_total`. Reconnecting from the
// last cursor received (SSE: `Last-Event-ID`, as an `EventSource` does; GraphQL: `since`)
// resumes at the first story missed. The reading
// client never notices.
on_both_databases!(
    a_stream_that_falls_behind_is_ended_and_resumes_after_its_last_event,
    |db| async move {
        let app = gazette_tests::spawn_seeded_app_with(db, 0, |args| {
            args.live.live_queue = 1;
            args.max_body_bytes = 2 * 1024 * 1024;
            args.ops.metrics_addr = Some("127.0.0.1:0".to_owned());
        })
        .await;
        let since = log_end(&app).await;
        let (mut ws, ack) = Ws::connect(&app, json!({})).await;
        assert_eq!(ack, "connection_ack");
        ws.subscribe("slow", FLOOD_SUBSCRIPTION, json!({ "since": since }))
            .await;
        let mut slow = Sse::open(&app, "", None, None).await;
        let mut reading = Sse::open(&app, "", None, None).await;
        let mut published = Vec::new();
        for n in 0..FLOOD_STORIES {
            let slug = format!("flood-{n}");
            publish_large(&app, &slug).await;
            assert_eq!(reading.next_change().await.0, slug);
            published.push(slug);
        }

        let mut received = Vec::new();
        let mut end = None;
        while let Some(event) = slow.next_or_end().await {
            assert!(end.is_none(), "nothing follows `end`: {:?}", event.event);
            match event.event.as_str() {
                "change" => {
                    received.push(event.data["article"]["slug"].as_str().unwrap().to_owned());
                }
                "end" => end = Some(event.data),
                other => panic!("unexpected event {other}"),
            }
        }
        assert_eq!(
            end,
            Some(json!({ "reason": "behind" })),
            "the stream's last event says why it ended"
        );
        assert!(
            received.len() < published.len(),
            "the slow stream was not ended: the connection held all {} stories",
            published.len()
        );
        assert_eq!(
            received,
            published[..received.len()],
            "what the slow client got is the stories in order, none skipped"
        );
        // The subscription (its own reader of the log: no bodies, its selection loads the text)
        // ends alike: the stories its socket held, then an error saying why, then `complete`.
        let mut ws_received = Vec::new();
        let mut ws_last = since;
        let ended = loop {
            let message = ws.receive().await;
            assert_eq!(
                (&message["type"], &message["id"]),
                (&json!("next"), &json!("slow"))
            );
            let errors = &message["payload"]["errors"];
            if !errors.is_null() {
                break errors[0]["extensions"].clone();
            }
            let event = &message["payload"]["data"]["articleEvents"];
            ws_received.push(event["article"]["slug"].as_str().unwrap().to_owned());
            ws_last = event["cursor"].as_str().unwrap().to_owned();
        };
        assert_eq!(ended, json!({ "code": "STREAM_ENDED", "reason": "behind" }));
        assert_eq!(ws.receive().await["type"], "complete");
        assert!(
            ws_received.len() < published.len(),
            "the subscription was not ended"
        );
        assert_eq!(ws_received, published[..ws_received.len()]);
        let metrics = crate::observability::scrape(&app).await;
        assert_eq!(
            crate::observability::value(&metrics, "gazette_live_slow_consumers_total", &[]),
            2.0,
            "both slow streams are counted, the reading one is not"
        );

        publish(&app, "after-the-flood", "markets").await;
        assert_eq!(reading.next_change().await.0, "after-the-flood");
        let mut resumed = Sse::open(&app, "", slow.last_id.as_deref(), None).await;
        assert_eq!(resumed.next_change().await.0, published[received.len()]);
        ws.subscribe("again", SUBSCRIPTION, json!({ "since": ws_last }))
            .await;
        let event = ws.next_event("again").await;
        assert_eq!(
            event["article"]["slug"],
            published[ws_received.len()].as_str()
        );
        // Closed before the server stops: it would wait for the stories still unsent.
        drop((slow, reading, resumed, ws));
        app.stop().await;
    }
);

/// How long a stream may take to end once the server has a reason to end it.
const PROMPT: Duration = Duration::from_secs(5);

/// Reads `sse` to its end within `limit`: the data of its last event, `end` (nothing follows
/// it, and the response ends).
async fn sse_end(sse: &mut Sse, limit: Duration) -> Value {
    let end = tokio::time::timeout(limit, sse.next_or_end())
        .await
        .expect("the stream ends within the limit")
        .expect("the stream's last event is `end`");
    assert_eq!(end.event, "end", "{end:?}");
    let after = tokio::time::timeout(limit, sse.next_or_end())
        .await
        .expect("the response ends after `end`");
    assert!(after.is_none(), "nothing follows `end`: {after:?}");
    end.data
}

/// Reads subscription `id` to its end within `limit`: the extensions of the error it ends
/// with, then `complete`.
async fn subscription_end(ws: &mut Ws, id: &str, limit: Duration) -> Value {
    let ended = tokio::time::timeout(limit, ws.receive())
        .await
        .expect("the subscription ends within the limit");
    assert_eq!(
        (&ended["type"], &ended["id"]),
        (&json!("next"), &json!(id)),
        "{ended}"
    );
    let complete = tokio::time::timeout(limit, ws.receive())
        .await
        .expect("`complete` follows the error");
    assert_eq!(
        (&complete["type"], &complete["id"]),
        (&json!("complete"), &json!(id)),
        "{complete}"
    );
    ended["payload"]["errors"][0]["extensions"].clone()
}

/// An SSE stream and a subscription (`live`) on `app`, each shown to be following the log by
/// receiving a story published after both were asked for.
async fn open_both(app: &TestApp) -> (Sse, Ws) {
    let since = log_end(app).await;
    let (mut ws, ack) = Ws::connect(app, json!({})).await;
    assert_eq!(ack, "connection_ack");
    ws.subscribe("live", SUBSCRIPTION, json!({ "since": since }))
        .await;
    let mut sse = Sse::open(app, "", None, None).await;
    publish(app, "live-before-the-end", "markets").await;
    assert_eq!(sse.next_change().await.0, "live-before-the-end");
    let event = ws.next_event("live").await;
    assert_eq!(event["article"]["slug"], "live-before-the-end");
    (sse, ws)
}

// Shutdown ends every open stream at once, saying why (SSE: `end` with `closing`, then the
// response ends; GraphQL: `STREAM_ENDED` with `closing`, then `complete`, then the socket's
// close frame, 1001 Going Away), and does not wait
// for them: the drain deadline here is a minute, yet the server stops within seconds.
on_both_databases!(
    shutdown_ends_open_streams_as_closing_without_waiting_for_them,
    |db| async move {
        let mut app = spawn_seeded_app_with(db, 0, |args| {
            args.serving.shutdown_deadline_secs = 60;
        })
        .await;
        let (mut sse, mut ws) = open_both(&app).await;

        app.begin_shutdown();
        assert_eq!(
            sse_end(&mut sse, PROMPT).await,
            json!({ "reason": "closing" })
        );
        assert_eq!(
            subscription_end(&mut ws, "live", PROMPT).await,
            json!({ "code": "STREAM_ENDED", "reason": "closing" })
        );
        // Then the socket closes as a server going away does (1001), not cut at exit.
        assert_eq!(ws.receive().await["type"], "close:1001");
        assert!(
            app.wait_stopped(PROMPT).await,
            "shutdown waited for the live streams"
        );
    }
);

// When the change log cannot be read (PostgreSQL goes away: the server reaches it through a
// proxy the test takes down), open streams end saying so (`failed`) rather than falling
// silent, and the client resumes from its last cursor later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_end_as_failed_when_the_change_log_cannot_be_read() {
    let proxy = Proxy::start(host_port(&pg_admin_url())).await;
    let proxy_addr = proxy.addr;
    let app = spawn_seeded_app_with(Db::Postgres, 0, move |args| {
        args.db.database_url = via(&args.db.database_url, proxy_addr);
        args.pool.db_acquire_timeout_ms = 1_000;
    })
    .await;
    let (mut sse, mut ws) = open_both(&app).await;

    proxy.set_up(false);
    // Noticed at the next look at the log (the due ticker's, each second, or the listener's
    // reconnection), after a failed connection attempt.
    assert_eq!(
        sse_end(&mut sse, ARRIVAL).await,
        json!({ "reason": "failed" })
    );
    assert_eq!(
        subscription_end(&mut ws, "live", ARRIVAL).await,
        json!({ "code": "STREAM_ENDED", "reason": "failed" })
    );
    proxy.set_up(true);
    drop((sse, ws));
    app.stop().await;
}
