//! DataLoaders: each `load` sends ONE statement for all the keys gathered in a tick.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use gazette_app::App;
use gazette_domain::{Author, Body, Correction, Slug, Topic};
use gazette_persistence::{Store, StoreError, spawn_in_request};
use uuid::Uuid;

/// Shared error type of the loaders (DataLoader needs `Clone`).
pub type LoadError = Arc<StoreError>;

/// Topics by id ([`App::topics_by_ids`]: the taxonomy in memory, then the database).
pub struct TopicById(pub App);
/// Topics by slug ([`App::topics_by_slugs`]: the taxonomy in memory alone when there is one,
/// else the database).
pub struct TopicBySlug(pub App);
/// Authors by id ([`App::authors_by_ids`]: kept for the content generation, else the database).
pub struct AuthorById(pub App);
/// An article's topic ids (primary first), keyed by article id.
pub struct TopicIdsOfArticle(pub Store);
/// An article's author ids in byline order, keyed by article id.
pub struct AuthorIdsOfArticle(pub Store);
/// A topic's child topics, keyed by parent id.
pub struct ChildrenOfTopic(pub Store);
/// An article's public corrections, oldest first, keyed by article id.
pub struct CorrectionsOfArticle(pub Store);
/// An article's earlier slugs that still resolve, keyed by article id.
pub struct PreviousSlugsOfArticle(pub Store);

/// An article's body, parsed, keyed by article id: read only when a body field is selected.
pub struct BodyOfArticle(pub Store);

/// Key wrappers so one DataLoader can serve several key kinds over `Uuid`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArticleKey(pub Uuid);
/// A parent topic's id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParentKey(pub Uuid);

impl Loader<Uuid> for TopicById {
    type Value = Topic;
    type Error = LoadError;
    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Topic>, LoadError> {
        self.0.topics_by_ids(keys).await.map_err(Arc::new)
    }
}

impl Loader<Slug> for TopicBySlug {
    type Value = Topic;
    type Error = LoadError;
    async fn load(&self, keys: &[Slug]) -> Result<HashMap<Slug, Topic>, LoadError> {
        self.0.topics_by_slugs(keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for AuthorById {
    type Value = Author;
    type Error = LoadError;
    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Author>, LoadError> {
        self.0.authors_by_ids(keys).await.map_err(Arc::new)
    }
}

fn article_keys(keys: &[ArticleKey]) -> Vec<Uuid> {
    keys.iter().map(|k| k.0).collect()
}

impl Loader<ArticleKey> for TopicIdsOfArticle {
    type Value = Vec<Uuid>;
    type Error = LoadError;
    async fn load(&self, keys: &[ArticleKey]) -> Result<HashMap<ArticleKey, Vec<Uuid>>, LoadError> {
        let map = self
            .0
            .topic_ids_of_articles(&article_keys(keys))
            .await
            .map_err(Arc::new)?;
        Ok(map.into_iter().map(|(k, v)| (ArticleKey(k), v)).collect())
    }
}

impl Loader<ArticleKey> for AuthorIdsOfArticle {
    type Value = Vec<Uuid>;
    type Error = LoadError;
    async fn load(&self, keys: &[ArticleKey]) -> Result<HashMap<ArticleKey, Vec<Uuid>>, LoadError> {
        let map = self
            .0
            .author_ids_of_articles(&article_keys(keys))
            .await
            .map_err(Arc::new)?;
        Ok(map.into_iter().map(|(k, v)| (ArticleKey(k), v)).collect())
    }
}

impl Loader<ArticleKey> for CorrectionsOfArticle {
    type Value = Vec<Correction>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[ArticleKey],
    ) -> Result<HashMap<ArticleKey, Vec<Correction>>, LoadError> {
        let map = self
            .0
            .corrections_of_articles(&article_keys(keys))
            .await
            .map_err(Arc::new)?;
        Ok(map.into_iter().map(|(k, v)| (ArticleKey(k), v)).collect())
    }
}

impl Loader<ArticleKey> for PreviousSlugsOfArticle {
    type Value = Vec<String>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[ArticleKey],
    ) -> Result<HashMap<ArticleKey, Vec<String>>, LoadError> {
        let map = self
            .0
            .previous_slugs_of_articles(&article_keys(keys))
            .await
            .map_err(Arc::new)?;
        Ok(map.into_iter().map(|(k, v)| (ArticleKey(k), v)).collect())
    }
}

impl Loader<ArticleKey> for BodyOfArticle {
    type Value = Arc<Body>;
    type Error = LoadError;
    async fn load(&self, keys: &[ArticleKey]) -> Result<HashMap<ArticleKey, Arc<Body>>, LoadError> {
        let map = self
            .0
            .article_bodies(&article_keys(keys))
            .await
            .map_err(Arc::new)?;
        Ok(map
            .into_iter()
            .map(|(k, v)| (ArticleKey(k), Arc::new(v)))
            .collect())
    }
}

impl Loader<ParentKey> for ChildrenOfTopic {
    type Value = Vec<Topic>;
    type Error = LoadError;
    async fn load(&self, keys: &[ParentKey]) -> Result<HashMap<ParentKey, Vec<Topic>>, LoadError> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let mut map = self.0.children_of_topics(&ids).await.map_err(Arc::new)?;
        Ok(keys
            .iter()
            .map(|k| (*k, map.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

type Cached<T> = DataLoader<T, HashMapCache>;

/// The loaders of one request, each with a cache that lives as long as the request (fresh per
/// request: nothing leaks between viewers, nothing goes stale).
pub struct Loaders {
    /// Topics by id.
    pub topic: Cached<TopicById>,
    /// Topics by slug (every `trending(topic:)` of a request in one statement).
    pub topic_by_slug: Cached<TopicBySlug>,
    /// Authors by id.
    pub author: Cached<AuthorById>,
    /// Article → topic ids.
    pub article_topics: Cached<TopicIdsOfArticle>,
    /// Article → author ids.
    pub article_authors: Cached<AuthorIdsOfArticle>,
    /// Topic → children.
    pub children: Cached<ChildrenOfTopic>,
    /// Article → corrections.
    pub corrections: Cached<CorrectionsOfArticle>,
    /// Article → earlier slugs.
    pub previous_slugs: Cached<PreviousSlugsOfArticle>,
    /// Article → body.
    pub body: Cached<BodyOfArticle>,
}

impl Loaders {
    /// Loaders over `app`'s store (topics from its directory). Their batches run as tasks of
    /// their own, under the request's database pool share.
    pub fn new(app: &App) -> Self {
        let store = app.store();
        Self {
            topic: DataLoader::with_cache(
                TopicById(app.clone()),
                spawn_in_request,
                HashMapCache::default(),
            ),
            topic_by_slug: DataLoader::with_cache(
                TopicBySlug(app.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            author: DataLoader::with_cache(
                AuthorById(app.clone()),
                spawn_in_request,
                HashMapCache::default(),
            ),
            article_topics: DataLoader::with_cache(
                TopicIdsOfArticle(store.clone()),
                spawn_in_request,
                HashMapCache::default(),
            ),
            article_authors: DataLoader::with_cache(
                AuthorIdsOfArticle(store.clone()),
                spawn_in_request,
                HashMapCache::default(),
            ),
            children: DataLoader::with_cache(
                ChildrenOfTopic(store.clone()),
                spawn_in_request,
                HashMapCache::default(),
            ),
            corrections: DataLoader::with_cache(
                CorrectionsOfArticle(store.clone()),
                spawn_in_request,
                HashMapCache::default(),
            ),
            previous_slugs: DataLoader::with_cache(
                PreviousSlugsOfArticle(store.clone()),
                spawn_in_request,
                HashMapCache::default(),
            ),
            body: DataLoader::with_cache(
                BodyOfArticle(store.clone()),
                spawn_in_request,
                HashMapCache::default(),
            ),
        }
    }
}

impl Loaders {
    /// As [`Loaders::new`], keeping nothing between loads: a subscription lives long, and each
    /// of its events reads afresh.
    pub fn uncached(app: &App) -> Self {
        let loaders = Self::new(app);
        loaders.topic.enable_all_cache(false);
        loaders.topic_by_slug.enable_all_cache(false);
        loaders.author.enable_all_cache(false);
        loaders.article_topics.enable_all_cache(false);
        loaders.article_authors.enable_all_cache(false);
        loaders.children.enable_all_cache(false);
        loaders.corrections.enable_all_cache(false);
        loaders.previous_slugs.enable_all_cache(false);
        loaders.body.enable_all_cache(false);
        loaders
    }
}

/// A loader error as a coded GraphQL error.
pub fn load_error(err: LoadError) -> async_graphql::Error {
    crate::ApiError::from_store(&err).into_graphql()
}

/// Loads `keys` through `loader`'s own `load` (one statement) at once, and feeds the answers to
/// its cache so the resolvers that follow find them there. A `load_many` would first wait for
/// more keys (async-graphql's batching delay, 1 ms on a timer thread) although a prefetch
/// already holds every key of its level: that wait was a millisecond per round of a request.
async fn fetch<K, L>(loader: &Cached<L>, keys: &[K]) -> Result<HashMap<K, L::Value>, LoadError>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K, Error = LoadError>,
{
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let values = loader.loader().load(keys).await?;
    loader.feed_many(values.clone()).await;
    Ok(values)
}

/// [`fetch`] for a relation listed per key; a key with nothing listed is fed an empty list.
async fn fetch_lists<K, L, V>(
    loader: &Cached<L>,
    keys: &[K],
) -> Result<HashMap<K, Vec<V>>, LoadError>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K, Value = Vec<V>, Error = LoadError>,
    V: Clone + Send + Sync + 'static,
{
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let mut values = loader.loader().load(keys).await?;
    for key in keys {
        values.entry(key.clone()).or_default();
    }
    loader.feed_many(values.clone()).await;
    Ok(values)
}

fn sorted_unique(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Each key with the ids `listed` holds for it (none when it holds nothing), and every id
/// listed, sorted and once each.
fn in_key_order(
    keys: &[ArticleKey],
    listed: &mut HashMap<Uuid, Vec<Uuid>>,
) -> (Vec<(ArticleKey, Vec<Uuid>)>, Vec<Uuid>) {
    let per_key: Vec<(ArticleKey, Vec<Uuid>)> = keys
        .iter()
        .map(|key| (*key, listed.remove(&key.0).unwrap_or_default()))
        .collect();
    let ids = sorted_unique(
        per_key
            .iter()
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect(),
    );
    (per_key, ids)
}

impl Loaders {
    /// The topics of `keys`, fed to both the article→topics and the topic caches; answers
    /// each loaded topic's parent. With the application's topic directory, only the articles'
    /// topic ids are read (none when `known`: the list read them), the topics come from the
    /// directory; without it, the topics are read with their rows (one statement, a join).
    async fn fetch_topics_of(
        &self,
        keys: &[ArticleKey],
        known: Option<HashMap<Uuid, Vec<Uuid>>>,
    ) -> Result<HashMap<Uuid, Option<Uuid>>, LoadError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let app = &self.topic.loader().0;
        let mut listed = match known {
            Some(known) => known,
            None if app.topic_directory().await.map_err(Arc::new)?.is_some() => app
                .store()
                .topic_ids_of_articles(&article_keys(keys))
                .await
                .map_err(Arc::new)?,
            None => return self.fetch_topic_rows_of(keys).await,
        };
        let (listed, ids) = in_key_order(keys, &mut listed);
        let topics = fetch(&self.topic, &ids).await?;
        self.article_topics.feed_many(listed).await;
        Ok(topics.values().map(|t| (t.id, t.parent_id)).collect())
    }

    /// [`Loaders::fetch_topics_of`] without a directory: the topics with their rows in one
    /// statement.
    async fn fetch_topic_rows_of(
        &self,
        keys: &[ArticleKey],
    ) -> Result<HashMap<Uuid, Option<Uuid>>, LoadError> {
        let store = &self.article_topics.loader().0;
        let found = store
            .topics_of_articles(&article_keys(keys))
            .await
            .map_err(Arc::new)?;
        let ids = keys.iter().map(|key| {
            let listed = found.get(&key.0).map_or(&[][..], Vec::as_slice);
            (*key, listed.iter().map(|t| t.id).collect::<Vec<_>>())
        });
        self.article_topics.feed_many(ids).await;
        let parents = found
            .values()
            .flatten()
            .map(|t| (t.id, t.parent_id))
            .collect();
        self.topic
            .feed_many(found.into_values().flatten().map(|t| (t.id, t)))
            .await;
        Ok(parents)
    }

    /// The authors of `keys`, fed to both the article→authors and the author caches: by the
    /// author loader when the read that found the articles listed their author ids (`known`),
    /// else with their rows in one statement.
    async fn fetch_authors_of(
        &self,
        keys: &[ArticleKey],
        known: Option<HashMap<Uuid, Vec<Uuid>>>,
    ) -> Result<(), LoadError> {
        if keys.is_empty() {
            return Ok(());
        }
        if let Some(mut known) = known {
            let (listed, ids) = in_key_order(keys, &mut known);
            fetch(&self.author, &ids).await?;
            self.article_authors.feed_many(listed).await;
            return Ok(());
        }
        let store = &self.article_authors.loader().0;
        let found = store
            .authors_of_articles(&article_keys(keys))
            .await
            .map_err(Arc::new)?;
        let ids = keys.iter().map(|key| {
            let listed = found.get(&key.0).map_or(&[][..], Vec::as_slice);
            (*key, listed.iter().map(|a| a.id).collect::<Vec<_>>())
        });
        self.article_authors.feed_many(ids).await;
        self.author
            .feed_many(found.into_values().flatten().map(|a| (a.id, a)))
            .await;
        Ok(())
    }
}

/// What the read that found a level's articles already holds of them.
#[derive(Debug, Default)]
pub struct Known {
    /// Article → topic ids, primary first (every article of the level).
    pub topic_ids: Option<HashMap<Uuid, Vec<Uuid>>>,
    /// Article → author ids in byline order (every article of the level).
    pub author_ids: Option<HashMap<Uuid, Vec<Uuid>>>,
    /// Article → body (every article of the level).
    pub bodies: Option<HashMap<Uuid, Body>>,
}

/// Whether `node` (an article's selection) asks for its body in any form.
pub fn selects_body(node: &async_graphql::Lookahead<'_>) -> bool {
    ["body", "bodyHtml", "bodyText"]
        .iter()
        .any(|field| node.field(field).exists())
}

impl Loaders {
    /// Loads, in one statement per relation, what the selection under `node` will ask of these
    /// articles (topics with their parents, authors, corrections, earlier slugs, bodies), so
    /// each article's resolvers hit the cache. Without it, the number of batches would depend
    /// on how the resolvers' futures interleave. The relations of the articles themselves are
    /// read side by side (topics and authors joined to their rows), then only the primary
    /// topics and parents not read yet.
    pub async fn prefetch_for_articles(
        &self,
        node: async_graphql::Lookahead<'_>,
        articles: &[&gazette_domain::Article],
    ) -> Result<(), LoadError> {
        self.prefetch_known(node, articles, Known::default()).await
    }

    /// [`Loaders::prefetch_for_articles`] for articles the read that found them already holds
    /// some of: their topic ids (their topics then come from the topic loader, the
    /// application's directory, with no statement for the relation), their bodies.
    pub async fn prefetch_known(
        &self,
        node: async_graphql::Lookahead<'_>,
        articles: &[&gazette_domain::Article],
        known: Known,
    ) -> Result<(), LoadError> {
        Box::pin(async move {
            if articles.is_empty() {
                return Ok(());
            }
            let keys: Vec<ArticleKey> = articles.iter().map(|a| ArticleKey(a.id)).collect();
            let none = &[][..];
            let wanted = |field: &str| {
                if node.field(field).exists() {
                    &keys[..]
                } else {
                    none
                }
            };
            let primary = node.field("primaryTopic");
            let topics = node.field("topics");
            // The bodies of a level in one statement, only when a body field is selected and
            // the read that found the articles did not bring them; a resolver still refuses a
            // body its viewer may not read.
            let bodies = if !selects_body(&node) {
                none
            } else if let Some(bodies) = known.bodies {
                let bodies = bodies
                    .into_iter()
                    .map(|(id, b)| (ArticleKey(id), Arc::new(b)));
                self.body.feed_many(bodies).await;
                none
            } else {
                &keys[..]
            };
            // An article's topics and authors come with their rows (a join), so the resolvers
            // need no second round for them.
            let (topics_of, _, _, _, _) = tokio::try_join!(
                self.fetch_topics_of(wanted("topics"), known.topic_ids),
                self.fetch_authors_of(wanted("authors"), known.author_ids),
                fetch_lists(&self.corrections, wanted("corrections")),
                fetch_lists(&self.previous_slugs, wanted("previousSlugs")),
                fetch(&self.body, bodies),
            )?;
            let mut known: HashMap<Uuid, Option<Uuid>> = topics_of;
            if primary.exists() {
                let missing = sorted_unique(
                    articles
                        .iter()
                        .filter_map(|a| a.primary_topic_id)
                        .filter(|id| !known.contains_key(id))
                        .collect(),
                );
                let loaded = fetch(&self.topic, &missing).await?;
                known.extend(loaded.values().map(|t| (t.id, t.parent_id)));
            }
            if primary.field("parent").exists() || topics.field("parent").exists() {
                let parents = sorted_unique(
                    known
                        .values()
                        .filter_map(|parent| *parent)
                        .filter(|p| !known.contains_key(p))
                        .collect(),
                );
                fetch(&self.topic, &parents).await?;
            }
            Ok(())
        })
        .await
    }
}
