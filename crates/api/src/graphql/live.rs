//! Live updates over GraphQL: `subscription { articleEvents(topics:, since:) { … } }`, served
//! over WebSocket (`graphql-transport-ws`) at `/graphql/ws`.

use async_graphql::futures_util::{Stream, StreamExt as _, stream};
use async_graphql::{Context, Result, Subscription};
use gazette_app::live::LiveRequest;

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
    /// `cursor` you last received, to resume without a gap; without it, from now on.
    async fn article_events(
        &self,
        ctx: &Context<'_>,
        topics: Option<Vec<String>>,
        since: Option<String>,
    ) -> Result<impl Stream<Item = ArticleChange> + use<>> {
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
        // "now" its articles are shown at.
        let batches = stream::unfold(batches, |mut s| async { s.next().await.map(|b| (b, s)) });
        Ok(batches.flat_map(move |batch| {
            at.set(batch.now);
            stream::iter(batch.entries.into_iter().map(ArticleChange::from))
        }))
    }
}
