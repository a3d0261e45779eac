//! Topics and authors: reads, batched loads for DataLoaders, and writes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use gazette_domain::{
    Author, AuthorPatch, Direction, NewAuthor, NewTopic, PageRequest, Slug, SlugCursor, Topic,
    TopicPatch, ValidationError,
};
use sea_orm::ExprTrait as _;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, TryInsertResult,
};
use uuid::Uuid;

use crate::convert::{all, author, topic};
use crate::entities::{article_authors, article_topics, authors, topics};
use crate::{Conflict, Page, Store, StoreError, UniqueRule};

/// A row of [`Store::topics_of_articles`]: the article's id, the topic's columns, then its
/// position in the article's list.
type TopicOfArticle = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    Option<Uuid>,
    DateTime<Utc>,
    i32,
);

/// A row of [`Store::authors_of_articles`]: the article's id, the author's columns, then its
/// position in the byline.
type AuthorOfArticle = (Uuid, Uuid, String, String, String, DateTime<Utc>, i32);

/// Each article's list put in order of position. The statements that read them leave the
/// order out: an `ORDER BY` over an `IN` list of articles costs SQLite a sorter (and its
/// page-sized allocations) per statement, for lists of a handful of rows per article.
fn in_position_order<T>(lists: HashMap<Uuid, Vec<(i32, T)>>) -> HashMap<Uuid, Vec<T>> {
    lists
        .into_iter()
        .map(|(article, mut list)| {
            list.sort_by_key(|(position, _)| *position);
            (article, list.into_iter().map(|(_, item)| item).collect())
        })
        .collect()
}

impl Store {
    /// The topic with this slug.
    pub async fn topic_by_slug(&self, slug: &Slug) -> Result<Option<Topic>, StoreError> {
        topics::Entity::find()
            .filter(topics::Column::Slug.eq(slug.as_str()))
            .one(&self.db)
            .await?
            .map(Topic::try_from)
            .transpose()
    }

    /// The author with this slug.
    pub async fn author_by_slug(&self, slug: &Slug) -> Result<Option<Author>, StoreError> {
        authors::Entity::find()
            .filter(authors::Column::Slug.eq(slug.as_str()))
            .one(&self.db)
            .await?
            .map(Author::try_from)
            .transpose()
    }

    /// Topics by id (one statement).
    pub async fn topics_by_ids(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Topic>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = topics::Entity::find()
            .filter(topics::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(all::<_, Topic>(rows)?
            .into_iter()
            .map(|t| (t.id, t))
            .collect())
    }

    /// Every topic, at most `limit` of them in no particular order (one statement): what a
    /// process keeps of the taxonomy in memory.
    pub async fn all_topics(&self, limit: u64) -> Result<Vec<Topic>, StoreError> {
        all(crate::limit::first_models(&self.db, topics::Entity::find(), limit).await?)
    }

    /// Topics by slug (one statement); slugs with no topic are absent from the map.
    pub async fn topics_by_slugs(
        &self,
        slugs: &[Slug],
    ) -> Result<HashMap<Slug, Topic>, StoreError> {
        if slugs.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = topics::Entity::find()
            .filter(topics::Column::Slug.is_in(slugs.iter().map(Slug::as_str)))
            .all(&self.db)
            .await?;
        Ok(all::<_, Topic>(rows)?
            .into_iter()
            .map(|t| (t.slug.clone(), t))
            .collect())
    }

    /// Authors by id (one statement).
    pub async fn authors_by_ids(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Author>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = authors::Entity::find()
            .filter(authors::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(all::<_, Author>(rows)?
            .into_iter()
            .map(|a| (a.id, a))
            .collect())
    }

    /// Each article's topic ids in order, primary first (one statement for all articles).
    pub async fn topic_ids_of_articles(
        &self,
        article_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Uuid>>, StoreError> {
        if article_ids.is_empty() {
            return Ok(HashMap::new());
        }
        // Three columns read as a tuple, put in order here (see `in_position_order`).
        let rows: Vec<(Uuid, Uuid, i32)> = article_topics::Entity::find()
            .select_only()
            .columns([
                article_topics::Column::ArticleId,
                article_topics::Column::TopicId,
                article_topics::Column::Position,
            ])
            .filter(article_topics::Column::ArticleId.is_in(article_ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut out: HashMap<Uuid, Vec<(i32, Uuid)>> = HashMap::new();
        for (article_id, topic_id, position) in rows {
            out.entry(article_id)
                .or_default()
                .push((position, topic_id));
        }
        Ok(in_position_order(out))
    }

    /// Each article's topics in order, primary first, read with the topics themselves (one
    /// statement joining `article_topics` to `topics`): what [`Store::topic_ids_of_articles`]
    /// then [`Store::topics_by_ids`] answer in two rounds. Articles with no topic are absent.
    pub async fn topics_of_articles(
        &self,
        article_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Topic>>, StoreError> {
        if article_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut select = article_topics::Entity::find()
            .select_only()
            .column(article_topics::Column::ArticleId)
            .columns([
                topics::Column::Id,
                topics::Column::Slug,
                topics::Column::Name,
                topics::Column::Description,
                topics::Column::ParentId,
                topics::Column::UpdatedAt,
            ])
            .column(article_topics::Column::Position)
            .filter(article_topics::Column::ArticleId.is_in(article_ids.iter().copied()));
        QueryTrait::query(&mut select).inner_join(
            topics::Entity,
            Expr::col((topics::Entity, topics::Column::Id))
                .equals((article_topics::Entity, article_topics::Column::TopicId)),
        );
        let rows: Vec<TopicOfArticle> = select.into_tuple().all(&self.db).await?;
        let mut out: HashMap<Uuid, Vec<(i32, Topic)>> = HashMap::new();
        for (article_id, id, slug, name, description, parent_id, updated_at, position) in rows {
            let topic = topic((id, slug, name, description, parent_id, updated_at))?;
            out.entry(article_id).or_default().push((position, topic));
        }
        Ok(in_position_order(out))
    }

    /// Each article's authors in byline order, read with the authors themselves (one
    /// statement joining `article_authors` to `authors`). Articles with no author are absent.
    pub async fn authors_of_articles(
        &self,
        article_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Author>>, StoreError> {
        if article_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut select = article_authors::Entity::find()
            .select_only()
            .column(article_authors::Column::ArticleId)
            .columns([
                authors::Column::Id,
                authors::Column::Slug,
                authors::Column::Name,
                authors::Column::Bio,
                authors::Column::UpdatedAt,
            ])
            .column(article_authors::Column::Position)
            .filter(article_authors::Column::ArticleId.is_in(article_ids.iter().copied()));
        QueryTrait::query(&mut select).inner_join(
            authors::Entity,
            Expr::col((authors::Entity, authors::Column::Id))
                .equals((article_authors::Entity, article_authors::Column::AuthorId)),
        );
        let rows: Vec<AuthorOfArticle> = select.into_tuple().all(&self.db).await?;
        let mut out: HashMap<Uuid, Vec<(i32, Author)>> = HashMap::new();
        for (article_id, id, slug, name, bio, updated_at, position) in rows {
            let author = author((id, slug, name, bio, updated_at))?;
            out.entry(article_id).or_default().push((position, author));
        }
        Ok(in_position_order(out))
    }

    /// Each article's author ids in byline order (one statement for all articles).
    pub async fn author_ids_of_articles(
        &self,
        article_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Uuid>>, StoreError> {
        if article_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = article_authors::Entity::find()
            .filter(article_authors::Column::ArticleId.is_in(article_ids.iter().copied()))
            .order_by_asc(article_authors::Column::Position)
            .all(&self.db)
            .await?;
        let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for row in rows {
            out.entry(row.article_id).or_default().push(row.author_id);
        }
        Ok(out)
    }

    /// Topics whose parent is one of `parent_ids`, keyed by parent (one statement).
    pub async fn children_of_topics(
        &self,
        parent_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Topic>>, StoreError> {
        if parent_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = topics::Entity::find()
            .filter(topics::Column::ParentId.is_in(parent_ids.iter().copied()))
            .order_by_asc(topics::Column::Slug)
            .all(&self.db)
            .await?;
        let mut out: HashMap<Uuid, Vec<Topic>> = HashMap::new();
        for topic in all::<_, Topic>(rows)? {
            if let Some(parent) = topic.parent_id {
                out.entry(parent).or_default().push(topic);
            }
        }
        Ok(out)
    }

    /// A page of topics in slug order.
    pub async fn list_topics(
        &self,
        page: &PageRequest<SlugCursor>,
    ) -> Result<Page<Topic>, StoreError> {
        self.list_by_slug::<topics::Entity, Topic>(topics::Column::Slug, page)
            .await
    }

    /// A page of authors in slug order.
    pub async fn list_authors(
        &self,
        page: &PageRequest<SlugCursor>,
    ) -> Result<Page<Author>, StoreError> {
        self.list_by_slug::<authors::Entity, Author>(authors::Column::Slug, page)
            .await
    }

    /// A keyset page of any table with a unique `slug` column, in slug order.
    async fn list_by_slug<E, T>(
        &self,
        slug: E::Column,
        page: &PageRequest<SlugCursor>,
    ) -> Result<Page<T>, StoreError>
    where
        E: EntityTrait,
        T: TryFrom<E::Model, Error = StoreError>,
    {
        let forward = page.direction == Direction::Forward;
        let mut select = E::find();
        if let Some(SlugCursor(after)) = &page.cursor {
            select = select.filter(if forward {
                slug.gt(after.as_str())
            } else {
                slug.lt(after.as_str())
            });
        }
        let select = select.order_by(slug, if forward { Order::Asc } else { Order::Desc });
        let rows = crate::limit::first_models(&self.db, select, page.limit + 1).await?;
        Ok(Page::of_keyset_read(all(rows)?, page))
    }

    /// Creates a topic; a taken slug is a conflict, an unknown parent invalid.
    pub async fn create_topic(
        &self,
        new: &NewTopic,
        now: DateTime<Utc>,
    ) -> Result<Topic, StoreError> {
        let parent_id = match &new.parent {
            Some(parent) => Some(
                self.topic_by_slug(parent)
                    .await?
                    .ok_or_else(|| ValidationError::new("parent", format!("no topic `{parent}`")))?
                    .id,
            ),
            None => None,
        };
        let model = topics::ActiveModel {
            id: Set(Uuid::now_v7()),
            slug: Set(new.slug.as_str().to_owned()),
            name: Set(new.name.as_str().to_owned()),
            description: Set(new.description.clone()),
            parent_id: Set(parent_id),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let row = topics::Entity::insert(model)
            .exec_with_returning(&self.db)
            .await?;
        Topic::try_from(row)
    }

    /// Creates an author; a taken slug is a conflict.
    pub async fn create_author(
        &self,
        new: &NewAuthor,
        now: DateTime<Utc>,
    ) -> Result<Author, StoreError> {
        let row = authors::Entity::insert(author_row(new, now))
            .exec_with_returning(&self.db)
            .await?;
        Author::try_from(row)
    }

    /// Applies `patch` to the topic `id`. A taken slug is invalid input naming `slug`; a parent
    /// that is unknown, the topic itself or one of its descendants is invalid input naming
    /// `parent`.
    pub async fn update_topic(
        &self,
        id: Uuid,
        patch: &TopicPatch,
        now: DateTime<Utc>,
    ) -> Result<Topic, StoreError> {
        let txn = self.begin_write().await?;
        if topics::Entity::find_by_id(id).one(&txn).await?.is_none() {
            return Err(StoreError::NotFound(format!("topic {id}")));
        }
        let mut model = topics::ActiveModel {
            id: Set(id),
            updated_at: Set(now),
            ..Default::default()
        };
        if let Some(slug) = &patch.slug {
            let taken: Option<Uuid> = topics::Entity::find()
                .select_only()
                .column(topics::Column::Id)
                .filter(topics::Column::Slug.eq(slug.as_str()))
                .filter(topics::Column::Id.ne(id))
                .into_tuple()
                .one(&txn)
                .await?;
            if taken.is_some() {
                return Err(StoreError::Conflict(Conflict::of(UniqueRule::TopicSlug)));
            }
            model.slug = Set(slug.as_str().to_owned());
        }
        if let Some(name) = &patch.name {
            model.name = Set(name.as_str().to_owned());
        }
        if let Some(description) = &patch.description {
            model.description = Set(description.clone());
        }
        if let Some(parent) = &patch.parent {
            let parent_id = match parent {
                None => None,
                Some(slug) => {
                    let parent_id = Self::topic_ids(&txn, "parent", &[slug]).await?[0];
                    // Walk up from the new parent: meeting this topic would make a cycle.
                    let mut cursor = Some(parent_id);
                    let mut steps = 0;
                    while let Some(at) = cursor {
                        if at == id {
                            return Err(ValidationError::new(
                                "parent",
                                "a topic cannot sit under itself or one of its sub-topics",
                            )
                            .into());
                        }
                        steps += 1;
                        if steps > 64 {
                            break;
                        }
                        cursor = topics::Entity::find_by_id(at)
                            .select_only()
                            .column(topics::Column::ParentId)
                            .into_tuple::<Option<Uuid>>()
                            .one(&txn)
                            .await?
                            .flatten();
                    }
                    Some(parent_id)
                }
            };
            model.parent_id = Set(parent_id);
        }
        let updated = model.update(&txn).await?;
        crate::changes::log_articles_joined_to(&txn, "article_topics", "topic_id", id, now).await?;
        txn.commit().await?;
        Topic::try_from(updated)
    }

    /// Applies `patch` to the author `id`; a taken slug is invalid input naming `slug`.
    pub async fn update_author(
        &self,
        id: Uuid,
        patch: &AuthorPatch,
        now: DateTime<Utc>,
    ) -> Result<Author, StoreError> {
        let txn = self.begin_write().await?;
        if authors::Entity::find_by_id(id).one(&txn).await?.is_none() {
            return Err(StoreError::NotFound(format!("author {id}")));
        }
        let mut model = authors::ActiveModel {
            id: Set(id),
            updated_at: Set(now),
            ..Default::default()
        };
        if let Some(slug) = &patch.slug {
            let taken: Option<Uuid> = authors::Entity::find()
                .select_only()
                .column(authors::Column::Id)
                .filter(authors::Column::Slug.eq(slug.as_str()))
                .filter(authors::Column::Id.ne(id))
                .into_tuple()
                .one(&txn)
                .await?;
            if taken.is_some() {
                return Err(StoreError::Conflict(Conflict::of(UniqueRule::AuthorSlug)));
            }
            model.slug = Set(slug.as_str().to_owned());
        }
        if let Some(name) = &patch.name {
            model.name = Set(name.as_str().to_owned());
        }
        if let Some(bio) = &patch.bio {
            model.bio = Set(bio.clone());
        }
        let updated = model.update(&txn).await?;
        crate::changes::log_articles_joined_to(&txn, "article_authors", "author_id", id, now)
            .await?;
        txn.commit().await?;
        Author::try_from(updated)
    }

    /// Creates the topic unless its slug exists; returns whether it was created.
    pub(crate) async fn ensure_topic(
        &self,
        new: &NewTopic,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if self.topic_by_slug(&new.slug).await?.is_some() {
            return Ok(false);
        }
        self.create_topic(new, now).await.map(|_| true)
    }

    /// Creates the author unless its slug exists; returns whether it was created.
    pub(crate) async fn ensure_author(
        &self,
        new: &NewAuthor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = authors::Entity::insert(author_row(new, now))
            .on_conflict_do_nothing_on([authors::Column::Slug])
            .exec_without_returning(&self.db)
            .await?;
        Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
    }

    /// Resolves topic slugs to ids in one statement; an unknown slug is invalid input naming `field`.
    pub(crate) async fn topic_ids<C: ConnectionTrait>(
        conn: &C,
        field: &str,
        slugs: &[&Slug],
    ) -> Result<Vec<Uuid>, StoreError> {
        ids_by_slug::<topics::Entity, _>(
            conn,
            topics::Column::Id,
            topics::Column::Slug,
            slugs,
            |slug| ValidationError::new(field, format!("no topic `{slug}`")),
        )
        .await
    }

    /// Resolves author slugs to ids in one statement; an unknown slug is invalid input.
    pub(crate) async fn author_ids<C: ConnectionTrait>(
        conn: &C,
        slugs: &[Slug],
    ) -> Result<Vec<Uuid>, StoreError> {
        let slugs: Vec<&Slug> = slugs.iter().collect();
        ids_by_slug::<authors::Entity, _>(
            conn,
            authors::Column::Id,
            authors::Column::Slug,
            &slugs,
            |slug| ValidationError::new("authors", format!("no author `{slug}`")),
        )
        .await
    }
}

/// The ids of `slugs` in a table with unique slugs, in the order given (one statement).
async fn ids_by_slug<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    id: E::Column,
    slug: E::Column,
    slugs: &[&Slug],
    unknown: impl Fn(&Slug) -> ValidationError,
) -> Result<Vec<Uuid>, StoreError> {
    let rows: Vec<(Uuid, String)> = E::find()
        .select_only()
        .column(id)
        .column(slug)
        .filter(slug.is_in(slugs.iter().map(|s| s.as_str())))
        .into_tuple()
        .all(conn)
        .await?;
    slugs
        .iter()
        .map(|wanted| {
            rows.iter()
                .find(|(_, s)| s == wanted.as_str())
                .map(|(id, _)| *id)
                .ok_or_else(|| unknown(wanted).into())
        })
        .collect()
}

fn author_row(new: &NewAuthor, now: DateTime<Utc>) -> authors::ActiveModel {
    authors::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(new.slug.as_str().to_owned()),
        name: Set(new.name.as_str().to_owned()),
        bio: Set(new.bio.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}
