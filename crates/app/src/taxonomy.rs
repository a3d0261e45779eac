//! Topic and author reads, and the one rule for a slug that names no topic or author.

use std::collections::HashMap;

use gazette_domain::{Author, PageRequest, Slug, SlugCursor, Topic};
use gazette_persistence::Page;
use uuid::Uuid;

use crate::{App, AppError};

/// A page of topics with the sections they belong to.
#[derive(Debug, Clone)]
pub struct TopicPage {
    /// The topics.
    pub page: Page<Topic>,
    /// Their parents, by id.
    pub parents: HashMap<Uuid, Topic>,
}

/// One topic with its section and the topics under it.
#[derive(Debug, Clone)]
pub struct TopicDetail {
    /// The topic.
    pub topic: Topic,
    /// Its parent, by id (empty for a section).
    pub parents: HashMap<Uuid, Topic>,
    /// The topics under it, by slug.
    pub children: Vec<Topic>,
}

impl App {
    /// The topic named `slug`; an unknown topic is [`AppError::unknown_topic`].
    pub async fn topic(&self, slug: &Slug) -> Result<Topic, AppError> {
        self.topic_by_slug(slug)
            .await?
            .ok_or_else(|| AppError::unknown_topic(slug))
    }

    /// The author named `slug`; an unknown author is [`AppError::unknown_author`].
    pub async fn author(&self, slug: &Slug) -> Result<Author, AppError> {
        self.store()
            .author_by_slug(slug)
            .await?
            .ok_or_else(|| AppError::unknown_author(slug))
    }

    /// A page of topics, by slug: from the taxonomy in memory when there is one, else from
    /// the database (both in byte order of the slugs).
    pub async fn topics(&self, page: &PageRequest<SlugCursor>) -> Result<Page<Topic>, AppError> {
        match self.topic_directory().await? {
            Some(directory) => Ok(directory.page(page)),
            None => Ok(self.store().list_topics(page).await?),
        }
    }

    /// A page of topics, by slug, with their sections.
    pub async fn topics_with_parents(
        &self,
        page: &PageRequest<SlugCursor>,
    ) -> Result<TopicPage, AppError> {
        let page = self.topics(page).await?;
        let mut parents: Vec<Uuid> = page.items.iter().filter_map(|t| t.parent_id).collect();
        parents.sort_unstable();
        parents.dedup();
        let parents = self.topics_by_ids(&parents).await?;
        Ok(TopicPage { page, parents })
    }

    /// The topic named `slug` with its section and the topics under it.
    pub async fn topic_detail(&self, slug: &Slug) -> Result<TopicDetail, AppError> {
        let topic = self.topic(slug).await?;
        let store = self.store();
        let parent_ids: Vec<Uuid> = topic.parent_id.into_iter().collect();
        let own_id = [topic.id];
        let (parents, mut children) = tokio::try_join!(
            self.topics_by_ids(&parent_ids),
            store.children_of_topics(&own_id),
        )?;
        let children = children.remove(&topic.id).unwrap_or_default();
        Ok(TopicDetail {
            topic,
            parents,
            children,
        })
    }

    /// A page of authors, by slug.
    pub async fn authors(&self, page: &PageRequest<SlugCursor>) -> Result<Page<Author>, AppError> {
        Ok(self.store().list_authors(page).await?)
    }
}
