//! Article reads: by key, keyset-paginated lists, and the batched loads behind DataLoaders.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use gazette_domain::{
    Article, ArticleCursor, ArticleOrder, ArticleStatus, Body, Direction, EditedCursor,
    PageRequest, Slug, Visibility,
};
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait as _, DbBackend, EntityTrait, FromQueryResult as _,
    Order, PartialModelTrait as _, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    QueryTrait as _, Select,
};
use uuid::Uuid;

use crate::convert::{all, stored_body};
use crate::entities::articles::{self, Column};
use crate::limit::{first_rows, selected_raw_rows};
use crate::{Store, StoreError};

/// Filters of an article list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    /// Tagged with this topic (primary or further).
    pub topic: Option<Slug>,
    /// Written by this author.
    pub author: Option<Slug>,
    /// From this source, exactly.
    pub source: Option<String>,
    /// Published at or after.
    pub published_after: Option<DateTime<Utc>>,
    /// Published before.
    pub published_before: Option<DateTime<Utc>>,
}

/// One page of a keyset-paginated list, in the list's order.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// More items follow the last one.
    pub has_next: bool,
    /// Items precede the first one.
    pub has_previous: bool,
}

impl<T> Page<T> {
    /// The page of `read`: up to `page.limit + 1` items read from the cursor in the request's
    /// direction (backwards: nearest the cursor first), the extra one telling whether more
    /// follow; answered in the list's order.
    pub fn of_keyset_read<C>(mut read: Vec<T>, page: &PageRequest<C>) -> Self {
        let more = read.len() as u64 > page.limit;
        read.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
        match page.direction {
            Direction::Forward => Page {
                items: read,
                has_next: more,
                has_previous: page.cursor.is_some(),
            },
            Direction::Backward => {
                read.reverse();
                Page {
                    items: read,
                    has_next: page.cursor.is_some(),
                    has_previous: more,
                }
            }
        }
    }
}

/// A page of the article list, with each listed article's topic ids (primary first) when they
/// were asked for: read in the list's own statement, so a list that shows topics needs no
/// second round for them.
#[derive(Debug, Clone)]
pub struct ArticleList {
    /// The articles.
    pub page: Page<Article>,
    /// Article → topic ids in order, for every listed article (empty for one without topics);
    /// `None` when not asked for.
    pub topic_ids: Option<HashMap<Uuid, Vec<Uuid>>>,
    /// Article → author ids in byline order, as `topic_ids`.
    pub author_ids: Option<HashMap<Uuid, Vec<Uuid>>>,
}

/// What an article lookup reads besides the article's light columns, in the same statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookupExtras {
    /// Its topic ids, primary first.
    pub topic_ids: bool,
    /// Its author ids, in byline order.
    pub author_ids: bool,
    /// Its body, parsed (who may read it is the caller's business).
    pub body: bool,
}

/// An article found by key, with what [`LookupExtras`] asked for besides.
#[derive(Debug, Clone)]
pub struct LookedUp {
    /// The article.
    pub article: Article,
    /// Its topic ids, primary first, when asked for.
    pub topic_ids: Option<Vec<Uuid>>,
    /// Its author ids in byline order, when asked for.
    pub author_ids: Option<Vec<Uuid>>,
    /// Its body, when asked for.
    pub body: Option<Body>,
}

impl LookupExtras {
    /// `select` reading the light columns, then the extras asked for, in this order.
    fn select(
        self,
        select: Select<articles::Entity>,
        backend: DbBackend,
    ) -> Select<articles::Entity> {
        let mut select = articles::Lean::select_cols(select.select_only());
        if self.topic_ids {
            select = select.expr_as(Listed::Topics.column(backend), "topic_ids");
        }
        if self.author_ids {
            select = select.expr_as(Listed::Authors.column(backend), "author_ids");
        }
        if self.body {
            select = select.column(Column::Body);
        }
        select
    }

    /// A row [`LookupExtras::select`] read: the light columns by position, then the extras.
    fn read(self, row: &QueryResult) -> Result<LookedUp, StoreError> {
        let lean = articles::Lean::from_query_result(row, "")?;
        let id = lean.id;
        let mut next = articles::LEAN_COLUMNS.len();
        let mut listed = |asked: bool, what: Listed| -> Result<_, StoreError> {
            if !asked {
                return Ok(None);
            }
            let raw: Option<String> = row.try_get_by_index(next)?;
            next += 1;
            what.ids(id, raw.as_deref()).map(Some)
        };
        let topic_ids = listed(self.topic_ids, Listed::Topics)?;
        let author_ids = listed(self.author_ids, Listed::Authors)?;
        let body = if self.body {
            let raw: String = row.try_get_by_index(next)?;
            Some(stored_body(id, &raw)?)
        } else {
            None
        };
        Ok(LookedUp {
            article: Article::try_from(lean)?,
            topic_ids,
            author_ids,
            body,
        })
    }
}

/// What an article's row may list of its relations, as ids in position order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Listed {
    /// Its topics, primary first (`article_topics`).
    Topics,
    /// Its authors in byline order (`article_authors`).
    Authors,
}

impl Listed {
    /// The join table and its column of the other side's id.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Listed::Topics => ("article_topics", "topic_id"),
            Listed::Authors => ("article_authors", "author_id"),
        }
    }

    /// The subquery that lists the relation in an article's row. Both databases aggregate
    /// `position=id` pairs without an order (an ordered aggregate costs SQLite a sorter per
    /// row); [`Listed::ids`] puts them in order.
    pub(crate) fn column(self, backend: DbBackend) -> Expr {
        let (table, other) = self.table();
        let id = match backend {
            // Uuids are 16-byte blobs in SQLite.
            DbBackend::Sqlite => format!(r#"hex("{table}"."{other}")"#),
            _ => format!(r#"CAST("{table}"."{other}" AS TEXT)"#),
        };
        let aggregate = match backend {
            DbBackend::Sqlite => "group_concat",
            _ => "string_agg",
        };
        Expr::cust(format!(
            r#"(SELECT {aggregate}(CAST("{table}"."position" AS TEXT) || '=' || {id}, ',') FROM "{table}" WHERE "{table}"."article_id" = "articles"."id")"#
        ))
    }

    /// The ids in position order, from [`Listed::column`]'s text.
    pub(crate) fn ids(self, article: Uuid, raw: Option<&str>) -> Result<Vec<Uuid>, StoreError> {
        let Some(raw) = raw else {
            return Ok(Vec::new());
        };
        let corrupt = || {
            let (table, _) = self.table();
            StoreError::Corrupt(format!("article {article}: {table} list {raw:?}"))
        };
        let mut listed = raw
            .split(',')
            .map(|pair| {
                let (position, id) = pair.split_once('=').ok_or_else(corrupt)?;
                let position: i32 = position.parse().map_err(|_| corrupt())?;
                let id = Uuid::try_parse(id).map_err(|_| corrupt())?;
                Ok((position, id))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        listed.sort_unstable_by_key(|(position, _)| *position);
        Ok(listed.into_iter().map(|(_, id)| id).collect())
    }
}

/// Restricts a query to what `visibility` allows.
pub(crate) fn visible(
    select: Select<articles::Entity>,
    visibility: Visibility,
) -> Select<articles::Entity> {
    match visibility {
        Visibility::Everything => select,
        Visibility::PublicAt(now) => public_at(select, now),
        // The same embargo rule as `Article::is_public_to_partners_at`, in SQL.
        Visibility::SyndicatedAt(now) => public_at(select, now).filter(
            Condition::any()
                .add(Column::EmbargoUntil.is_null())
                .add(Column::EmbargoUntil.lte(now)),
        ),
    }
}

fn public_at(select: Select<articles::Entity>, now: DateTime<Utc>) -> Select<articles::Entity> {
    select
        // `status || ''`, not `status`: the term must not be able to use the (status, publish
        // time) index. With it, SQLite reads both statuses' runs of that index through an
        // ephemeral table for the `IN` list and sorts them for the publish-time order (a
        // sorter and two page-sized allocations per list, ~0.1 ms of 0.13); without it, it
        // walks the (publish time, id) index in the list's order and stops at the page's end
        // (0.02 ms), which is also PostgreSQL's plan either way. Non-public rows with a past
        // publish time (archived, killed) are few and skipped on the way.
        .filter(
            Expr::cust(r#""articles"."status" || ''"#)
                .is_in(ArticleStatus::PUBLIC.map(ArticleStatus::as_str)),
        )
        .filter(Column::PublishedAt.lte(now))
        // The same expiry rule as `changes::public_at`, to the second.
        .filter(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.gt(now)),
        )
}

/// Whether `visibility` admits `article`. Lookups by key filter here rather than in SQL: with
/// the visibility terms in the `WHERE`, SQLite's planner may prefer the (status, publish time)
/// index and scan every public article instead of probing the primary key.
fn allowed(article: &Article, visibility: Visibility) -> bool {
    visibility.admits(article)
}

fn tagged_with(
    join_table: &'static str,
    key: &'static str,
    other_table: &'static str,
    slug: &Slug,
) -> Condition {
    Condition::all().add(
        Column::Id.in_subquery(
            Query::select()
                .column((join_table, "article_id"))
                .from(join_table)
                .inner_join(
                    other_table,
                    Expr::col((other_table, "id")).equals((join_table, key)),
                )
                .and_where(Expr::col((other_table, "slug")).eq(slug.as_str()))
                .to_owned(),
        ),
    )
}

impl Store {
    /// The article with this id, if the viewer may see it.
    pub async fn article_by_id(
        &self,
        id: Uuid,
        visibility: Visibility,
    ) -> Result<Option<Article>, StoreError> {
        let found = self
            .article_by_id_with(id, visibility, LookupExtras::default())
            .await?;
        Ok(found.map(|found| found.article))
    }

    /// [`Store::article_by_id`], with what `extras` asks for read in the same statement.
    pub async fn article_by_id_with(
        &self,
        id: Uuid,
        visibility: Visibility,
        extras: LookupExtras,
    ) -> Result<Option<LookedUp>, StoreError> {
        // By primary key, so at most one row: no `LIMIT` (see [`crate::limit`]).
        let found = self
            .look_up(articles::Entity::find_by_id(id), extras)
            .await?;
        Ok(found.filter(|found| allowed(&found.article, visibility)))
    }

    /// The article with this slug, or whose earlier slug this is (a renamed published
    /// article keeps its old links), if the viewer may see it. One statement by the unique
    /// slug index; a second only for a slug no article has now. The article's own `slug` tells
    /// the caller whether it moved.
    pub async fn article_by_slug(
        &self,
        slug: &Slug,
        visibility: Visibility,
    ) -> Result<Option<Article>, StoreError> {
        let found = self
            .article_by_slug_with(slug, visibility, LookupExtras::default())
            .await?;
        Ok(found.map(|found| found.article))
    }

    /// [`Store::article_by_slug`], with what `extras` asks for read in the same statement.
    pub async fn article_by_slug_with(
        &self,
        slug: &Slug,
        visibility: Visibility,
        extras: LookupExtras,
    ) -> Result<Option<LookedUp>, StoreError> {
        // By the unique slug, so at most one row: no `LIMIT` (see [`crate::limit`]).
        let by_slug = articles::Entity::find().filter(Column::Slug.eq(slug.as_str()));
        let mut found = self.look_up(by_slug, extras).await?;
        if found.is_none() {
            // (A single `slug = ? OR id IN (redirects)` makes PostgreSQL scan the table.) The
            // redirect's slug is its primary key: one row at most.
            let moved_here = Query::select()
                .column("article_id")
                .from("slug_redirects")
                .and_where(Expr::col("slug").eq(slug.as_str()))
                .to_owned();
            let moved = articles::Entity::find().filter(Column::Id.in_subquery(moved_here));
            found = self.look_up(moved, extras).await?;
        }
        Ok(found.filter(|found| allowed(&found.article, visibility)))
    }

    /// The one article `select` finds (its light columns), with what `extras` asks for.
    async fn look_up(
        &self,
        select: Select<articles::Entity>,
        extras: LookupExtras,
    ) -> Result<Option<LookedUp>, StoreError> {
        let backend = self.db.get_database_backend();
        let statement = extras.select(select, backend).build(backend);
        let rows = self.db.query_all_raw(statement).await?;
        rows.last().map(|row| extras.read(row)).transpose()
    }

    /// The visible articles among `ids`, keyed by id (one statement).
    pub async fn articles_by_ids(
        &self,
        ids: &[Uuid],
        visibility: Visibility,
    ) -> Result<HashMap<Uuid, Article>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = articles::Entity::find()
            .filter(Column::Id.is_in(ids.iter().copied()))
            .into_partial_model::<articles::Lean>()
            .all(&self.db)
            .await?;
        Ok(all::<_, Article>(rows)?
            .into_iter()
            .filter(|a| allowed(a, visibility))
            .map(|a| (a.id, a))
            .collect())
    }

    /// The bodies of `ids`, parsed, keyed by id (one statement of two columns). Who may see
    /// them is the caller's business: it asks only for articles it has already shown.
    pub async fn article_bodies(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Body>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(Uuid, String)> = articles::Entity::find()
            .select_only()
            .columns([Column::Id, Column::Body])
            .filter(Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|(id, raw)| Ok((id, stored_body(id, &raw)?)))
            .collect()
    }

    /// The stored plain text of the bodies of `ids` (what search highlights), keyed by id
    /// (one statement of two columns).
    pub async fn article_body_texts(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, String>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(Uuid, String)> = articles::Entity::find()
            .select_only()
            .columns([Column::Id, Column::BodyText])
            .filter(Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// The newsroom's list: articles in `statuses` (all when empty), last saved first, keyset
    /// paginated on (updated time, id). Drafts have no publish time, so they live here rather
    /// than in [`Store::list_articles`].
    pub async fn list_for_editors(
        &self,
        statuses: &[ArticleStatus],
        page: &PageRequest<EditedCursor>,
    ) -> Result<Page<Article>, StoreError> {
        let mut select = articles::Entity::find();
        if !statuses.is_empty() {
            select = select.filter(Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
        }
        let forward = page.direction == Direction::Forward;
        if let Some(cursor) = page.cursor {
            let (time_cmp, id_cmp) = if forward {
                (
                    Column::UpdatedAt.lt(cursor.updated_at),
                    Column::Id.lt(cursor.id),
                )
            } else {
                (
                    Column::UpdatedAt.gt(cursor.updated_at),
                    Column::Id.gt(cursor.id),
                )
            };
            select = select.filter(
                Condition::any().add(time_cmp).add(
                    Condition::all()
                        .add(Column::UpdatedAt.eq(cursor.updated_at))
                        .add(id_cmp),
                ),
            );
        }
        let order = if forward { Order::Desc } else { Order::Asc };
        let select = select
            .order_by(Column::UpdatedAt, order.clone())
            .order_by(Column::Id, order);
        let rows: Vec<articles::Lean> = first_rows(&self.db, select, page.limit + 1).await?;
        Ok(Page::of_keyset_read(all(rows)?, page))
    }

    /// A page of articles with a publish time, newest or oldest first, keyset-paginated on
    /// (publish time, id) so that inserts never make a reader skip or repeat one; with each
    /// article's topic and author ids, read in the same statement, as `extras` asks (a list
    /// never reads a body: `extras.body` is ignored).
    pub async fn list_articles(
        &self,
        filter: &ArticleFilter,
        order: ArticleOrder,
        page: &PageRequest<ArticleCursor>,
        visibility: Visibility,
        extras: LookupExtras,
    ) -> Result<ArticleList, StoreError> {
        let mut select =
            visible(articles::Entity::find(), visibility).filter(Column::PublishedAt.is_not_null());
        if let Some(topic) = &filter.topic {
            select = select.filter(tagged_with("article_topics", "topic_id", "topics", topic));
        }
        if let Some(author) = &filter.author {
            select = select.filter(tagged_with(
                "article_authors",
                "author_id",
                "authors",
                author,
            ));
        }
        if let Some(source) = &filter.source {
            select = select.filter(if source.contains('\0') {
                // No stored source holds a NUL (sources are validated text, and PostgreSQL's
                // text cannot): nothing matches, and PostgreSQL would refuse the statement.
                Expr::val(1).eq(0)
            } else {
                Column::Source.eq(source.as_str())
            });
        }
        if let Some(after) = filter.published_after {
            select = select.filter(Column::PublishedAt.gte(after));
        }
        if let Some(before) = filter.published_before {
            select = select.filter(Column::PublishedAt.lt(before));
        }

        // Reading backwards walks the list's order in reverse, then flips the page.
        let descending = (order == ArticleOrder::Newest) == (page.direction == Direction::Forward);
        if let Some(cursor) = page.cursor {
            let (time_cmp, id_cmp) = if descending {
                (
                    Column::PublishedAt.lt(cursor.published_at),
                    Column::Id.lt(cursor.id),
                )
            } else {
                (
                    Column::PublishedAt.gt(cursor.published_at),
                    Column::Id.gt(cursor.id),
                )
            };
            select = select.filter(
                Condition::any().add(time_cmp).add(
                    Condition::all()
                        .add(Column::PublishedAt.eq(cursor.published_at))
                        .add(id_cmp),
                ),
            );
        }
        let sql_order = if descending { Order::Desc } else { Order::Asc };
        let select = select
            .order_by(Column::PublishedAt, sql_order.clone())
            .order_by(Column::Id, sql_order);
        let extras = LookupExtras {
            body: false,
            ..extras
        };
        let backend = self.db.get_database_backend();
        let select = extras.select(select, backend);
        let rows = selected_raw_rows(&self.db, select, page.limit + 1).await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut topic_ids = extras.topic_ids.then(|| HashMap::with_capacity(rows.len()));
        let mut author_ids = extras
            .author_ids
            .then(|| HashMap::with_capacity(rows.len()));
        for row in &rows {
            let found = extras.read(row)?;
            let id = found.article.id;
            if let (Some(listed), Some(ids)) = (topic_ids.as_mut(), found.topic_ids) {
                listed.insert(id, ids);
            }
            if let (Some(listed), Some(ids)) = (author_ids.as_mut(), found.author_ids) {
                listed.insert(id, ids);
            }
            items.push(found.article);
        }
        Ok(ArticleList {
            page: Page::of_keyset_read(items, page),
            topic_ids,
            author_ids,
        })
    }
}
