//! DataLoaders: each `load` sends ONE statement for all the keys gathered in a tick.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use gazette_domain::{Author, Correction, Slug, Topic};
use gazette_persistence::{Store, StoreError, spawn_in_request};
use uuid::Uuid;

/// Shared error type of the loaders (DataLoader needs `Clone`).
pub type LoadError = Arc<StoreError>;

/// Topics by id.
pub struct TopicById(pub Store);
/// Topics by slug.
pub struct TopicBySlug(pub Store);
/// Authors by id.
pub struct AuthorById(pub Store);
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
}

impl Loaders {
    /// Loaders over `store`. Their batches run as tasks of their own, under the request's
    /// database pool share.
    pub fn new(store: &Store) -> Self {
        Self {
            topic: DataLoader::with_cache(
                TopicById(store.clone()),
                spawn_in_request,
                HashMapCache::default(),
            ),
            topic_by_slug: DataLoader::with_cache(
                TopicBySlug(store.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            author: DataLoader::with_cache(
                AuthorById(store.clone()),
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
        }
    }
}

/// A loader error as a coded GraphQL error.
pub fn load_error(err: LoadError) -> async_graphql::Error {
    crate::ApiError::from_store(&err).into_graphql()
}

impl Loaders {
    /// Loads, in one batch per relation, what the selection under `node` will ask of these
    /// articles (topics with their parents, authors), so each article's resolvers hit the cache.
    /// Without it, the number of batches would depend on how the resolvers' futures interleave.
    pub async fn prefetch_for_articles(
        &self,
        node: async_graphql::Lookahead<'_>,
        articles: &[&gazette_domain::Article],
    ) -> Result<(), LoadError> {
        if articles.is_empty() {
            return Ok(());
        }
        let keys: Vec<ArticleKey> = articles.iter().map(|a| ArticleKey(a.id)).collect();
        let mut topic_ids: Vec<Uuid> = Vec::new();
        let primary = node.field("primaryTopic");
        if primary.exists() {
            topic_ids.extend(articles.iter().filter_map(|a| a.primary_topic_id));
        }
        let topics = node.field("topics");
        if topics.exists() {
            let by_article = self.article_topics.load_many(keys.iter().copied()).await?;
            topic_ids.extend(by_article.values().flatten().copied());
        }
        if !topic_ids.is_empty() {
            topic_ids.sort_unstable();
            topic_ids.dedup();
            let loaded = self.topic.load_many(topic_ids.iter().copied()).await?;
            if primary.field("parent").exists() || topics.field("parent").exists() {
                let parents: Vec<Uuid> = loaded
                    .values()
                    .filter_map(|t| t.parent_id)
                    .filter(|p| !loaded.contains_key(p))
                    .collect();
                self.topic.load_many(parents).await?;
            }
        }
        if node.field("authors").exists() {
            let by_article = self.article_authors.load_many(keys.iter().copied()).await?;
            let mut author_ids: Vec<Uuid> = by_article.values().flatten().copied().collect();
            author_ids.sort_unstable();
            author_ids.dedup();
            self.author.load_many(author_ids).await?;
        }
        if node.field("corrections").exists() {
            self.corrections.load_many(keys.iter().copied()).await?;
        }
        if node.field("previousSlugs").exists() {
            self.previous_slugs.load_many(keys.iter().copied()).await?;
        }
        Ok(())
    }
}
