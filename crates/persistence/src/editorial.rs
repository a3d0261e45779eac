//! Article writes: create, save under optimistic concurrency with a revision per save, delete,
//! corrections and slug redirects. Each write is one transaction; nothing is written on failure.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use gazette_domain::time::storage_precision;
use gazette_domain::{
    Article, ArticleState, Correction, EditError, FieldChange, Revision, RevisionAction, Slug,
    ValidationError,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseTransaction, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::convert::all;
use crate::entities::{
    article_authors, article_corrections, article_revisions, article_topics, articles, authors,
    slug_redirects, topics,
};
use crate::{Store, StoreError};

/// Who made a save, as recorded in revisions (the token subject; `seed` for sample content).
pub type EditorName<'a> = &'a str;

/// The rows one new article becomes.
pub(crate) struct ArticleRows {
    pub(crate) article: articles::ActiveModel,
    pub(crate) topics: Vec<article_topics::ActiveModel>,
    pub(crate) authors: Vec<article_authors::ActiveModel>,
    pub(crate) revision: article_revisions::ActiveModel,
}

/// Sets every column an [`ArticleState`] decides.
fn set_state(
    model: &mut articles::ActiveModel,
    state: &ArticleState,
    primary_topic_id: Option<Uuid>,
) {
    model.slug = Set(state.slug.as_str().to_owned());
    model.headline = Set(state.headline.as_str().to_owned());
    model.dek = Set(state.dek.as_str().to_owned());
    model.body = Set(state.body.to_json());
    model.body_html = Set(state.body.to_html());
    model.body_text = Set(state.body.to_plain_text());
    model.source = Set(state.source.as_str().to_owned());
    model.language = Set(state.language.as_str().to_owned());
    model.canonical_url = Set(state.canonical_url.as_ref().map(|u| u.as_str().to_owned()));
    model.hero_image = Set(state
        .hero_image
        .as_ref()
        .map(|h| serde_json::to_string(h).unwrap_or_default()));
    model.primary_topic_id = Set(primary_topic_id);
    model.word_count = Set(i32::try_from(state.body.word_count()).unwrap_or(i32::MAX));
    model.status = Set(state.status.as_str().to_owned());
    model.published_at = Set(state.published_at.map(storage_precision));
    model.syndicatable = Set(state.syndication.syndicatable);
    model.embargo_until = Set(state.syndication.embargo_until.map(storage_precision));
}

fn join_rows(
    id: Uuid,
    topic_ids: &[Uuid],
    author_ids: &[Uuid],
) -> (
    Vec<article_topics::ActiveModel>,
    Vec<article_authors::ActiveModel>,
) {
    let position = |i: usize| i32::try_from(i).unwrap_or(i32::MAX);
    let topics = topic_ids
        .iter()
        .enumerate()
        .map(|(i, topic_id)| article_topics::ActiveModel {
            article_id: Set(id),
            topic_id: Set(*topic_id),
            position: Set(position(i)),
        })
        .collect();
    let authors = author_ids
        .iter()
        .enumerate()
        .map(|(i, author_id)| article_authors::ActiveModel {
            article_id: Set(id),
            author_id: Set(*author_id),
            position: Set(position(i)),
        })
        .collect();
    (topics, authors)
}

fn revision_row(
    article_id: Uuid,
    version: i32,
    editor: EditorName<'_>,
    action: RevisionAction,
    state: &ArticleState,
    changes: &[FieldChange],
    now: DateTime<Utc>,
) -> article_revisions::ActiveModel {
    article_revisions::ActiveModel {
        article_id: Set(article_id),
        version: Set(version),
        editor: Set(editor.chars().take(200).collect()),
        action: Set(action.as_str().to_owned()),
        created_at: Set(now),
        state: Set(serde_json::to_string(state).unwrap_or_default()),
        changes: Set(serde_json::to_string(changes).unwrap_or_else(|_| "[]".to_owned())),
    }
}

/// Builds the rows of a new article with resolved topic ids (primary first) and author ids,
/// and its first revision.
pub(crate) fn article_rows(
    id: Uuid,
    new: &ArticleState,
    topic_ids: &[Uuid],
    author_ids: &[Uuid],
    editor: EditorName<'_>,
    now: DateTime<Utc>,
) -> ArticleRows {
    let primary_topic_id = new.primary_topic.as_ref().and(topic_ids.first().copied());
    let mut article = articles::ActiveModel {
        id: Set(id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        substantive_updated_at: Set(None),
        ..Default::default()
    };
    set_state(&mut article, new, primary_topic_id);
    let (topics, authors) = join_rows(id, topic_ids, author_ids);
    ArticleRows {
        article,
        topics,
        authors,
        revision: revision_row(id, 1, editor, RevisionAction::Create, new, &[], now),
    }
}

/// Inserts prepared rows: articles first, then their joins and revisions, a multi-row
/// statement each.
pub(crate) async fn insert_rows<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<ArticleRows>,
) -> Result<(), StoreError> {
    let mut articles_rows = Vec::with_capacity(rows.len());
    let mut topic_rows = Vec::new();
    let mut author_rows = Vec::new();
    let mut revision_rows = Vec::with_capacity(rows.len());
    for r in rows {
        articles_rows.push(r.article);
        topic_rows.extend(r.topics);
        author_rows.extend(r.authors);
        revision_rows.push(r.revision);
    }
    // Stay well under SQLite's and PostgreSQL's bound-parameter limits.
    for chunk in articles_rows.chunks(400) {
        articles::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    for chunk in topic_rows.chunks(2000) {
        article_topics::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    for chunk in author_rows.chunks(2000) {
        article_authors::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    for chunk in revision_rows.chunks(800) {
        article_revisions::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Resolves an article's topic slugs (primary first) and author slugs to ids; unknown ones are
/// invalid input naming `primaryTopic`, `topics` or `authors`.
async fn resolve_ids<C: ConnectionTrait>(
    conn: &C,
    state: &ArticleState,
) -> Result<(Vec<Uuid>, Vec<Uuid>), StoreError> {
    let topic_slugs: Vec<&Slug> = state.primary_topic.iter().chain(&state.topics).collect();
    let topic_ids = Store::topic_ids(conn, "topics", &topic_slugs)
        .await
        .map_err(|e| match (e, &state.primary_topic) {
            (StoreError::Invalid(mut v), Some(primary))
                if v.message.contains(&format!("`{primary}`")) =>
            {
                v.field = "primaryTopic".to_owned();
                StoreError::Invalid(v)
            }
            (e, _) => e,
        })?;
    let author_ids = Store::author_ids(conn, &state.authors).await?;
    Ok((topic_ids, author_ids))
}

/// Fails when `slug` belongs to an article other than `except`.
async fn ensure_slug_free<C: ConnectionTrait>(
    conn: &C,
    slug: &Slug,
    except: Option<Uuid>,
) -> Result<(), StoreError> {
    let mut select = articles::Entity::find()
        .select_only()
        .column(articles::Column::Id)
        .filter(articles::Column::Slug.eq(slug.as_str()));
    if let Some(id) = except {
        select = select.filter(articles::Column::Id.ne(id));
    }
    let taken: Option<Uuid> = select.into_tuple().one(conn).await?;
    if taken.is_some() {
        return Err(
            ValidationError::new("slug", format!("`{slug}` is taken by another article")).into(),
        );
    }
    Ok(())
}

/// The slugs of `ids` in a table with `id` and `slug`, in the order of `ids`.
async fn slugs_in_order<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    id_col: E::Column,
    slug_col: E::Column,
    ids: &[Uuid],
) -> Result<Vec<Slug>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, String)> = E::find()
        .select_only()
        .column(id_col)
        .column(slug_col)
        .filter(id_col.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    let by_id: HashMap<Uuid, String> = rows.into_iter().collect();
    ids.iter()
        .map(|id| {
            let raw = by_id
                .get(id)
                .ok_or_else(|| StoreError::Corrupt(format!("dangling reference {id}")))?;
            Slug::parse(raw).map_err(|e| StoreError::Corrupt(format!("{id}: {e}")))
        })
        .collect()
}

/// The stored article and its editable state, read inside `conn`.
async fn current_state<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<(Article, ArticleState), StoreError> {
    let row = articles::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("article {id}")))?;
    let topic_ids: Vec<Uuid> = article_topics::Entity::find()
        .select_only()
        .column(article_topics::Column::TopicId)
        .filter(article_topics::Column::ArticleId.eq(id))
        .order_by_asc(article_topics::Column::Position)
        .into_tuple()
        .all(conn)
        .await?;
    let author_ids: Vec<Uuid> = article_authors::Entity::find()
        .select_only()
        .column(article_authors::Column::AuthorId)
        .filter(article_authors::Column::ArticleId.eq(id))
        .order_by_asc(article_authors::Column::Position)
        .into_tuple()
        .all(conn)
        .await?;
    let mut topic_slugs = slugs_in_order::<topics::Entity, _>(
        conn,
        topics::Column::Id,
        topics::Column::Slug,
        &topic_ids,
    )
    .await?;
    let author_slugs = slugs_in_order::<authors::Entity, _>(
        conn,
        authors::Column::Id,
        authors::Column::Slug,
        &author_ids,
    )
    .await?;
    let article = Article::try_from(row)?;
    let primary_topic = if article.primary_topic_id.is_some() && !topic_slugs.is_empty() {
        Some(topic_slugs.remove(0))
    } else {
        None
    };
    let state = ArticleState {
        slug: article.slug.clone(),
        headline: article.headline.clone(),
        dek: article.dek.clone(),
        body: article.body.clone(),
        source: article.source.clone(),
        language: article.language.clone(),
        canonical_url: article.canonical_url.clone(),
        hero_image: article.hero_image.clone(),
        primary_topic,
        topics: topic_slugs,
        authors: author_slugs,
        status: article.status,
        published_at: article.published_at,
        syndication: article.syndication,
    };
    Ok((article, state))
}

/// Takes the article's write lock by bumping its version, if it is at `expected`. Being the
/// first statement of the transaction, it waits for a concurrent save to finish (row lock on
/// PostgreSQL, the write lock on SQLite) and then sees that save's version.
async fn claim_version(
    txn: &DatabaseTransaction,
    id: Uuid,
    expected: Option<i32>,
) -> Result<(), StoreError> {
    let mut update = articles::Entity::update_many()
        .col_expr(
            articles::Column::Version,
            Expr::col(articles::Column::Version).add(1),
        )
        .filter(articles::Column::Id.eq(id));
    if let Some(expected) = expected {
        update = update.filter(articles::Column::Version.eq(expected));
    }
    if update.exec(txn).await?.rows_affected == 1 {
        return Ok(());
    }
    let current: Option<i32> = articles::Entity::find_by_id(id)
        .select_only()
        .column(articles::Column::Version)
        .into_tuple()
        .one(txn)
        .await?;
    Err(match current {
        None => StoreError::NotFound(format!("article {id}")),
        Some(current) => StoreError::VersionConflict { current },
    })
}

/// How a save is made.
#[derive(Debug, Clone, Copy)]
pub struct Save<'a> {
    /// Who saves.
    pub editor: EditorName<'a>,
    /// What kind of save (recorded in the revision).
    pub action: RevisionAction,
    /// The version the editor's change was based on; `None` applies it to whatever is stored.
    pub expected_version: Option<i32>,
    /// Readers should be told the story changed (sets the substantive update time when the
    /// article is public).
    pub substantive: bool,
    /// The instant of the save.
    pub now: DateTime<Utc>,
}

impl Store {
    /// Creates an article with its topics, authors and first revision in one transaction. A
    /// taken slug or an unknown topic or author is invalid input; nothing is written on failure.
    pub async fn create_article(
        &self,
        new: &ArticleState,
        editor: EditorName<'_>,
        now: DateTime<Utc>,
    ) -> Result<Article, StoreError> {
        new.check()?;
        let now = storage_precision(now);
        let txn = self.begin_write().await?;
        ensure_slug_free(&txn, &new.slug, None).await?;
        let (topic_ids, author_ids) = resolve_ids(&txn, new).await?;
        // A live slug wins over an old one that redirected elsewhere.
        slug_redirects::Entity::delete_by_id(new.slug.as_str().to_owned())
            .exec(&txn)
            .await?;
        let id = Uuid::now_v7();
        insert_rows(
            &txn,
            vec![article_rows(id, new, &topic_ids, &author_ids, editor, now)],
        )
        .await?;
        let row = articles::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("article {id}")))?;
        txn.commit().await?;
        Article::try_from(row)
    }

    /// Saves a change to an article: `change` gets the stored state and returns the next one.
    /// Fails with [`StoreError::VersionConflict`] when the article moved past
    /// `save.expected_version`. Records a revision with the field-level changes, keeps the old
    /// slug of a published article resolving, and writes nothing when the change is a no-op.
    pub async fn save_article(
        &self,
        id: Uuid,
        save: Save<'_>,
        change: impl FnOnce(&ArticleState) -> Result<ArticleState, EditError>,
    ) -> Result<Article, StoreError> {
        let now = storage_precision(save.now);
        let txn = self.begin_write().await?;
        claim_version(&txn, id, save.expected_version).await?;
        let (stored, current) = current_state(&txn, id).await?;
        let next = change(&current)?;
        next.check()?;
        let changes = current.diff(&next);
        if changes.is_empty() {
            // Nothing to record: undo the version claim.
            txn.rollback().await?;
            return self
                .article_by_id(id, gazette_domain::Visibility::Everything)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("article {id}")));
        }
        if next.slug != current.slug {
            ensure_slug_free(&txn, &next.slug, Some(id)).await?;
            slug_redirects::Entity::delete_by_id(next.slug.as_str().to_owned())
                .exec(&txn)
                .await?;
            // A past publish time means readers have had this slug: keep it resolving.
            if current.published_at.is_some_and(|at| at <= now) {
                slug_redirects::Entity::insert(slug_redirects::ActiveModel {
                    slug: Set(current.slug.as_str().to_owned()),
                    article_id: Set(id),
                    created_at: Set(now),
                })
                .exec_without_returning(&txn)
                .await?;
            }
        }
        let (topic_ids, author_ids) = resolve_ids(&txn, &next).await?;
        let primary_topic_id = next.primary_topic.as_ref().and(topic_ids.first().copied());
        let version = stored.version;
        let mut model = articles::ActiveModel {
            id: Set(id),
            updated_at: Set(now),
            version: NotSet,
            created_at: NotSet,
            substantive_updated_at: if save.substantive && stored.is_public_at(now) {
                Set(Some(now))
            } else {
                NotSet
            },
            ..Default::default()
        };
        set_state(&mut model, &next, primary_topic_id);
        let row = model.update(&txn).await?;
        if next.primary_topic != current.primary_topic
            || next.topics != current.topics
            || next.authors != current.authors
        {
            article_topics::Entity::delete_many()
                .filter(article_topics::Column::ArticleId.eq(id))
                .exec(&txn)
                .await?;
            article_authors::Entity::delete_many()
                .filter(article_authors::Column::ArticleId.eq(id))
                .exec(&txn)
                .await?;
            let (topics, authors) = join_rows(id, &topic_ids, &author_ids);
            if !topics.is_empty() {
                article_topics::Entity::insert_many(topics)
                    .exec_without_returning(&txn)
                    .await?;
            }
            if !authors.is_empty() {
                article_authors::Entity::insert_many(authors)
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        article_revisions::Entity::insert(revision_row(
            id,
            version,
            save.editor,
            save.action,
            &next,
            &changes,
            now,
        ))
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Article::try_from(row)
    }

    /// Deletes an article with its joins, revisions, corrections and redirects.
    pub async fn delete_article(&self, id: Uuid) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        // Children first, so the delete does not depend on the driver enforcing cascades.
        article_topics::Entity::delete_many()
            .filter(article_topics::Column::ArticleId.eq(id))
            .exec(&txn)
            .await?;
        article_authors::Entity::delete_many()
            .filter(article_authors::Column::ArticleId.eq(id))
            .exec(&txn)
            .await?;
        article_revisions::Entity::delete_many()
            .filter(article_revisions::Column::ArticleId.eq(id))
            .exec(&txn)
            .await?;
        article_corrections::Entity::delete_many()
            .filter(article_corrections::Column::ArticleId.eq(id))
            .exec(&txn)
            .await?;
        slug_redirects::Entity::delete_many()
            .filter(slug_redirects::Column::ArticleId.eq(id))
            .exec(&txn)
            .await?;
        let deleted = articles::Entity::delete_by_id(id).exec(&txn).await?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("article {id}")));
        }
        txn.commit().await?;
        Ok(())
    }

    /// An article's revisions, newest first: at most `limit`, older than `before_version` when
    /// given.
    pub async fn revisions(
        &self,
        article_id: Uuid,
        limit: u64,
        before_version: Option<i32>,
    ) -> Result<Vec<Revision>, StoreError> {
        let mut select = article_revisions::Entity::find()
            .filter(article_revisions::Column::ArticleId.eq(article_id));
        if let Some(before) = before_version {
            select = select.filter(article_revisions::Column::Version.lt(before));
        }
        let rows = select
            .order_by_desc(article_revisions::Column::Version)
            .limit(limit)
            .all(&self.db)
            .await?;
        all(rows)
    }

    /// One revision of an article.
    pub async fn revision(
        &self,
        article_id: Uuid,
        version: i32,
    ) -> Result<Option<Revision>, StoreError> {
        article_revisions::Entity::find_by_id((article_id, version))
            .one(&self.db)
            .await?
            .map(Revision::try_from)
            .transpose()
    }

    /// Adds a public correction to a published article and marks it substantively updated.
    pub async fn add_correction(
        &self,
        article_id: Uuid,
        text: &str,
        editor: EditorName<'_>,
        now: DateTime<Utc>,
    ) -> Result<Correction, StoreError> {
        let text = gazette_domain::editorial::correction_text(text)?;
        let now = storage_precision(now);
        let txn = self.begin_write().await?;
        let updated = articles::Entity::update_many()
            .col_expr(articles::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                articles::Column::SubstantiveUpdatedAt,
                Expr::value(Some(now)),
            )
            .filter(articles::Column::Id.eq(article_id))
            .filter(articles::Column::Status.is_in(
                gazette_domain::ArticleStatus::PUBLIC.map(gazette_domain::ArticleStatus::as_str),
            ))
            .filter(articles::Column::PublishedAt.lte(now))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            let exists = articles::Entity::find_by_id(article_id)
                .select_only()
                .column(articles::Column::Id)
                .into_tuple::<Uuid>()
                .one(&txn)
                .await?
                .is_some();
            return Err(if exists {
                ValidationError::new(
                    "articleId",
                    "only a published article takes corrections; edit the draft instead",
                )
                .into()
            } else {
                StoreError::NotFound(format!("article {article_id}"))
            });
        }
        let id = Uuid::now_v7();
        article_corrections::Entity::insert(article_corrections::ActiveModel {
            id: Set(id),
            article_id: Set(article_id),
            text: Set(text.clone()),
            editor: Set(editor.chars().take(200).collect()),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(Correction {
            id,
            article_id,
            created_at: now,
            text,
        })
    }

    /// Each article's corrections, oldest first (one statement for all articles).
    pub async fn corrections_of_articles(
        &self,
        article_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Correction>>, StoreError> {
        if article_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = article_corrections::Entity::find()
            .filter(article_corrections::Column::ArticleId.is_in(article_ids.iter().copied()))
            .order_by_asc(article_corrections::Column::CreatedAt)
            .order_by_asc(article_corrections::Column::Id)
            .all(&self.db)
            .await?;
        let mut out: HashMap<Uuid, Vec<Correction>> = HashMap::new();
        for row in rows {
            out.entry(row.article_id).or_default().push(Correction {
                id: row.id,
                article_id: row.article_id,
                created_at: row.created_at,
                text: row.text,
            });
        }
        Ok(out)
    }

    /// Each article's earlier slugs that still resolve to it (one statement for all articles).
    pub async fn previous_slugs_of_articles(
        &self,
        article_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<String>>, StoreError> {
        if article_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = slug_redirects::Entity::find()
            .filter(slug_redirects::Column::ArticleId.is_in(article_ids.iter().copied()))
            .order_by_asc(slug_redirects::Column::CreatedAt)
            .all(&self.db)
            .await?;
        let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
        for row in rows {
            out.entry(row.article_id).or_default().push(row.slug);
        }
        Ok(out)
    }
}

impl TryFrom<article_revisions::Model> for Revision {
    type Error = StoreError;

    fn try_from(row: article_revisions::Model) -> Result<Self, StoreError> {
        let corrupt = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!(
                "revision {} of article {}: {what}: {e}",
                row.version, row.article_id
            ))
        };
        Ok(Revision {
            article_id: row.article_id,
            version: row.version,
            editor: row.editor.clone(),
            created_at: row.created_at,
            action: RevisionAction::parse(&row.action).map_err(|e| corrupt("action", &e))?,
            changes: serde_json::from_str(&row.changes).map_err(|e| corrupt("changes", &e))?,
            state: serde_json::from_str(&row.state).map_err(|e| corrupt("state", &e))?,
        })
    }
}
