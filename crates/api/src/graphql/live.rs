//! Live updates over GraphQL: `subscription { articleEvents(topics:, since:) { … } }`, served
//! over WebSocket (`graphql-transport-ws`) at `/graphql/ws`.

use async_graphql::futures_util::{Stream, StreamExt as _, stream};
use async_graphql::{Context, ErrorExtensions as _, Result, Subscription};
use gazette_app::live::{LiveBatch, LiveEnd, LiveRequest, LiveStream};

use super::ContextExt as _;
use super::changes::ArticleChange;
use crate::error::GqlResultExt as _;

/// Every live stream.
#[derive(Default)]
pub struct LiveSubscription;

#[Subscription]
impl LiveSubscription {
    /// The entries `changes` would give you, pushed as they happen, in commit order: `UPSERT`
    /// with the article as you may see it now, `REMOVE` with the reason. A scheduled story
    /// arrives when it goes live, an embargoed one when the embargo lifts for you. `topics`:
    /// only articles in one of these topics (slugs; removals always arrive). `since`: a
    /// `cursor` you last received, to resume without a gap; without it, from now on. When
    /// the server ends the stream (you read too slowly, it stops, or storage failed), the last
    /// event is an error with `extensions.code` `STREAM_ENDED` and `extensions.reason`
    /// (`behind`, `closing`, `failed`): subscribe again with `since`.
    async fn article_events(
        &self,
        ctx: &Context<'_>,
        topics: Option<Vec<String>>,
        since: Option<String>,
    ) -> Result<impl Stream<Item = Result<ArticleChange>> + use<>> {
        let request = ctx.request_context();
        let live = ctx.app_state().live().subscribe(LiveRequest {
            viewer: request.viewer.clone(),
            client: request.client_ip,
            since,
            topics: topics.unwrap_or_default(),
            with_bodies: false,
        });
        let batches = live.await.gql()?;
        let at = request.at.clone();
        // Each event is resolved before the next is asked for: the batch's instant is the
        // "now" its articles are shown at. After the last batch: why the stream ended.
        Ok(batches_then_end(batches).flat_map(move |item| {
            let events: Vec<Result<ArticleChange>> = match item {
                Ok(batch) => {
                    at.set(batch.now);
                    batch.entries.into_iter().map(|e| Ok(e.into())).collect()
                }
                Err(ended) => vec![Err(stream_ended(ended))],
            };
            stream::iter(events)
        }))
    }
}

/// A stream's batches as they come, then why it ended (the last item): what the subscription
/// and `GET /v1/live` send.
pub(crate) fn batches_then_end(
    batches: LiveStream,
) -> impl Stream<Item = std::result::Result<LiveBatch, LiveEnd>> {
    stream::unfold(Some(batches), |s| async move {
        let mut s = s?;
        match s.next().await {
            Ok(batch) => Some((Ok(batch), Some(s))),
            Err(end) => Some((Err(end), None)),
        }
    })
}

/// The error a subscription ends with: why, and how to resume.
fn stream_ended(ended: LiveEnd) -> async_graphql::Error {
    let reason = ended.as_str();
    let message = format!(
        "the live stream ended ({reason}): subscribe again with `since` set to the last \
         `cursor` you received"
    );
    async_graphql::Error::new(message).extend_with(|_, extensions| {
        extensions.set("code", "STREAM_ENDED");
        extensions.set("reason", reason);
    })
}
