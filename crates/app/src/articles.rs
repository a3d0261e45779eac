//! Article reads: one article, the article lists (with their topics and authors), related
//! articles. Who sees what is the domain's [`Viewer`] rule, applied here once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use gazette_domain::{
    Article, ArticleCursor, ArticleOrder, Author, Body, Correction, CursorKey as _, PageRequest,
    Slug, Topic, ValidationError, Viewer,
};
use gazette_persistence::{ArticleFilter, ArticleList, LookedUp, LookupExtras, Store, StoreError};
use uuid::Uuid;

use crate::related::MAX_RELATED;
use crate::{App, AppError};

/// How an article is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArticleKey {
    /// By slug (an earlier slug of a renamed article finds it too).
    Slug(Slug),
    /// By id.
    Id(Uuid),
}

/// An article list's filter from a client's words, the same for every surface: the topic and
/// author slugs are parsed (errors name `{prefix}topic` and `{prefix}author`), the source and
/// the publication bounds (`after`, `before`) are taken as given.
pub fn article_filter(
    prefix: &str,
    topic: Option<&str>,
    author: Option<&str>,
    source: Option<String>,
    published: [Option<DateTime<Utc>>; 2],
) -> Result<ArticleFilter, ValidationError> {
    let slug = |name: &str, raw: Option<&str>| {
        raw.map(|s| Slug::parse_field(&format!("{prefix}{name}"), s))
            .transpose()
    };
    let [published_after, published_before] = published;
    Ok(ArticleFilter {
        topic: slug("topic", topic)?,
        author: slug("author", author)?,
        source,
        published_after,
        published_before,
    })
}

/// The topics and authors of a set of articles, loaded in a constant number of statements
/// whatever their number ([`App::relations`]): what a list, a feed and a changes page show
/// of each article.
#[derive(Debug, Default, Clone)]
pub struct Relations {
    /// Article → topic ids, primary first.
    pub topic_ids: HashMap<Uuid, Vec<Uuid>>,
    /// Article → author ids in byline order.
    pub author_ids: HashMap<Uuid, Vec<Uuid>>,
    /// Topics by id.
    pub topics: HashMap<Uuid, Topic>,
    /// Authors by id.
    pub authors: HashMap<Uuid, Author>,
}

impl Relations {
    /// The article's topics in order, then its authors in byline order.
    pub fn of(&self, article: &Article) -> (Vec<&Topic>, Vec<&Author>) {
        let topics = self
            .topic_ids
            .get(&article.id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.topics.get(id))
            .collect();
        let authors = self
            .author_ids
            .get(&article.id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.authors.get(id))
            .collect();
        (topics, authors)
    }

    /// The primary topic of `article`, when it is loaded.
    pub fn primary_topic(&self, article: &Article) -> Option<&Topic> {
        article.primary_topic_id.and_then(|id| self.topics.get(&id))
    }
}

/// Loads the topics and authors of `articles` from the database: each joined to its rows,
/// side by side (two statements, whatever their number), then the primary topics not among
/// them (a third, only when one is missing).
async fn relations_from_store(
    store: &Store,
    articles: &[Article],
) -> Result<Relations, StoreError> {
    let ids: Vec<Uuid> = articles.iter().map(|a| a.id).collect();
    let (topics_of, authors_of) = tokio::try_join!(
        store.topics_of_articles(&ids),
        store.authors_of_articles(&ids)
    )?;
    let mut relations = Relations::default();
    for (article, listed) in topics_of {
        let ids = listed.iter().map(|t| t.id).collect();
        relations.topic_ids.insert(article, ids);
        relations
            .topics
            .extend(listed.into_iter().map(|t| (t.id, t)));
    }
    relations.add_authors(authors_of);
    let missing = relations.missing_topics(articles);
    relations
        .topics
        .extend(store.topics_by_ids(&missing).await?);
    Ok(relations)
}

impl Relations {
    fn add_authors(&mut self, authors_of: HashMap<Uuid, Vec<Author>>) {
        for (article, listed) in authors_of {
            let ids = listed.iter().map(|a| a.id).collect();
            self.author_ids.insert(article, ids);
            self.authors.extend(listed.into_iter().map(|a| (a.id, a)));
        }
    }

    /// The ids of the listed and primary topics of `articles` not loaded yet.
    fn missing_topics(&self, articles: &[Article]) -> Vec<Uuid> {
        let listed = self.topic_ids.values().flatten();
        let primary = articles.iter().filter_map(|a| a.primary_topic_id.as_ref());
        let mut missing: Vec<Uuid> = listed
            .chain(primary)
            .filter(|id| !self.topics.contains_key(id))
            .copied()
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }
}

/// What the read that found some articles listed of their relations, so that
/// [`App::relations`] need not read it again: per article, its topic ids (primary first) and
/// its author ids (byline order), each for every article or `None`.
#[derive(Debug, Default, Clone)]
pub struct ListedIds {
    /// Article → topic ids.
    pub topic_ids: Option<HashMap<Uuid, Vec<Uuid>>>,
    /// Article → author ids.
    pub author_ids: Option<HashMap<Uuid, Vec<Uuid>>>,
}

impl ListedIds {
    /// What `list` read of its articles' relations.
    pub fn of(list: &mut ArticleList) -> Self {
        Self {
            topic_ids: list.topic_ids.take(),
            author_ids: list.author_ids.take(),
        }
    }
}

impl App {
    /// The topics and authors of `articles`: the topics from the [`crate::TopicDirectory`]
    /// when there is one ([`App::topics_by_ids`]), the authors kept for the content generation
    /// ([`App::authors_by_ids`]) when `listed` holds their ids, else joined to their rows (one
    /// statement). Ids `listed` lacks are read beside the authors. Without a directory, as
    /// [`relations_from_store`].
    pub async fn relations(
        &self,
        articles: &[Article],
        listed: ListedIds,
    ) -> Result<Relations, StoreError> {
        if articles.is_empty() {
            return Ok(Relations::default());
        }
        let store = self.store();
        if self.topic_directory().await?.is_none() {
            return relations_from_store(store, articles).await;
        }
        let ids: Vec<Uuid> = articles.iter().map(|a| a.id).collect();
        let topic_ids = async {
            match listed.topic_ids {
                Some(known) => Ok(known),
                None => store.topic_ids_of_articles(&ids).await,
            }
        };
        let authors = async {
            match listed.author_ids {
                Some(known) => {
                    let mut wanted: Vec<Uuid> = known.values().flatten().copied().collect();
                    wanted.sort_unstable();
                    wanted.dedup();
                    Ok((known, self.authors_by_ids(&wanted).await?))
                }
                None => {
                    let mut relations = Relations::default();
                    relations.add_authors(store.authors_of_articles(&ids).await?);
                    Ok((relations.author_ids, relations.authors))
                }
            }
        };
        let (topic_ids, (author_ids, authors)) = tokio::try_join!(topic_ids, authors)?;
        let mut relations = Relations {
            topic_ids,
            author_ids,
            authors,
            ..Relations::default()
        };
        relations.topics = self
            .topics_by_ids(&relations.missing_topics(articles))
            .await?;
        Ok(relations)
    }
}

/// The cursor of an article in a list: its publish time (creation time for an undated one)
/// and id.
pub fn article_cursor(article: &Article) -> String {
    ArticleCursor {
        published_at: article.published_at.unwrap_or(article.created_at),
        id: article.id,
    }
    .encode()
}

/// An article in full: the article, its topics and authors, its public corrections and its
/// earlier slugs.
#[derive(Debug, Clone)]
pub struct FullArticle {
    /// The article.
    pub article: Article,
    /// Its topics and authors.
    pub relations: Relations,
    /// Public corrections, oldest first.
    pub corrections: Vec<Correction>,
    /// Earlier slugs that still resolve to it.
    pub previous_slugs: Vec<String>,
}

impl App {
    /// One article as `viewer` may see it at `now` (editors: any status; others: public;
    /// partners: out of embargo), or `None`; with what `extras` asks for (its topic ids, its
    /// body) read in the same statement. Whether `viewer` may read the body is the caller's
    /// check (`may_read_body`).
    pub async fn article(
        &self,
        viewer: &Viewer,
        key: &ArticleKey,
        now: DateTime<Utc>,
        extras: LookupExtras,
    ) -> Result<Option<LookedUp>, AppError> {
        let visibility = viewer.visibility(now);
        let store = self.store();
        Ok(match key {
            ArticleKey::Slug(slug) => store.article_by_slug_with(slug, visibility, extras).await?,
            ArticleKey::Id(id) => store.article_by_id_with(*id, visibility, extras).await?,
        })
    }

    /// The bodies of `ids`, keyed by id (one statement): only for articles already shown to
    /// the caller, whose body right the caller has checked (`may_read_body`).
    pub async fn bodies(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Body>, AppError> {
        Ok(self.store().article_bodies(ids).await?)
    }

    /// `article` with its topics, authors, corrections and earlier slugs (two to four
    /// statements more, run together: its topic and author ids are read unless given).
    pub async fn full_article(
        &self,
        article: Article,
        topic_ids: Option<Vec<Uuid>>,
        author_ids: Option<Vec<Uuid>>,
    ) -> Result<FullArticle, AppError> {
        let store = self.store();
        let one = [article.id];
        let listed = ListedIds {
            topic_ids: topic_ids.map(|ids| HashMap::from([(article.id, ids)])),
            author_ids: author_ids.map(|ids| HashMap::from([(article.id, ids)])),
        };
        let (relations, mut corrections, mut previous_slugs) = tokio::try_join!(
            self.relations(std::slice::from_ref(&article), listed),
            store.corrections_of_articles(&one),
            store.previous_slugs_of_articles(&one),
        )?;
        Ok(FullArticle {
            corrections: corrections.remove(&article.id).unwrap_or_default(),
            previous_slugs: previous_slugs.remove(&article.id).unwrap_or_default(),
            article,
            relations,
        })
    }

    /// A page of the article list under `filter`, in `order`, as `viewer` may see it at
    /// `now` (editors also see scheduled and archived articles); with each article's topic and
    /// author ids, read in the same statement, as `extras` asks.
    pub async fn articles(
        &self,
        viewer: &Viewer,
        filter: &ArticleFilter,
        order: ArticleOrder,
        page: &PageRequest<ArticleCursor>,
        now: DateTime<Utc>,
        extras: LookupExtras,
    ) -> Result<ArticleList, AppError> {
        Ok(self
            .store()
            .list_articles(filter, order, page, viewer.visibility(now), extras)
            .await?)
    }

    /// The articles most related to `source` that `viewer` may see in public lists at `now`:
    /// `first` (default 5) from 1 to [`MAX_RELATED`], best first, with their scores.
    pub async fn related_articles(
        &self,
        viewer: &Viewer,
        source: &Article,
        first: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Article, f64)>, AppError> {
        let limit = usize::try_from(first.unwrap_or(5))
            .ok()
            .filter(|n| (1..=MAX_RELATED).contains(n))
            .ok_or_else(|| {
                ValidationError::new("first", format!("must be between 1 and {MAX_RELATED}"))
            })?;
        let ranked = self.related().ranking(source, now).await?;
        // A few more than asked, for those the viewer may not see.
        let ids: Vec<Uuid> = ranked.iter().take(limit + 5).map(|r| r.0).collect();
        let mut articles = self
            .articles_by_ids(&ids, viewer.public_visibility(now))
            .await?;
        Ok(ranked
            .iter()
            .filter_map(|(id, score)| articles.remove(id).map(|a| (a, *score)))
            .take(limit)
            .collect())
    }
}
