//! DataLoaders: each `load` sends ONE statement for all the keys gathered in a tick.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use gazette_domain::{Author, Topic};
use gazette_persistence::{Store, StoreError};
use uuid::Uuid;

/// Shared error type of the loaders (DataLoader needs `Clone`).
pub type LoadError = Arc<StoreError>;

/// Topics by id.
pub struct TopicById(pub Store);
/// Authors by id.
pub struct AuthorById(pub Store);
/// An article's topic ids (primary first), keyed by article id.
pub struct TopicIdsOfArticle(pub Store);
/// An article's author ids in byline order, keyed by article id.
pub struct AuthorIdsOfArticle(pub Store);
/// A topic's child topics, keyed by parent id.
pub struct ChildrenOfTopic(pub Store);

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

impl Loader<ParentKey> for ChildrenOfTopic {
    type Value = Vec<Topic>;
    type Error = LoadError;
    async fn load(&self, keys: &[ParentKey]) -> Result<HashMap<ParentKey, Vec<Topic>>, LoadError> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let map = self.0.children_of_topics(&ids).await.map_err(Arc::new)?;
        Ok(map.into_iter().map(|(k, v)| (ParentKey(k), v)).collect())
    }
}

/// The loaders of one request (fresh per request: no data leaks between viewers).
pub struct Loaders {
    /// Topics by id.
    pub topic: DataLoader<TopicById>,
    /// Authors by id.
    pub author: DataLoader<AuthorById>,
    /// Article → topic ids.
    pub article_topics: DataLoader<TopicIdsOfArticle>,
    /// Article → author ids.
    pub article_authors: DataLoader<AuthorIdsOfArticle>,
    /// Topic → children.
    pub children: DataLoader<ChildrenOfTopic>,
}

impl Loaders {
    /// Loaders over `store`.
    pub fn new(store: &Store) -> Self {
        Self {
            topic: DataLoader::new(TopicById(store.clone()), tokio::spawn),
            author: DataLoader::new(AuthorById(store.clone()), tokio::spawn),
            article_topics: DataLoader::new(TopicIdsOfArticle(store.clone()), tokio::spawn),
            article_authors: DataLoader::new(AuthorIdsOfArticle(store.clone()), tokio::spawn),
            children: DataLoader::new(ChildrenOfTopic(store.clone()), tokio::spawn),
        }
    }
}

/// A loader error as a coded GraphQL error.
pub fn load_error(err: LoadError) -> async_graphql::Error {
    crate::ApiError::from_store(&err).into_graphql()
}
