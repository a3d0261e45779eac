//! Editorial writes, and the capabilities they take: a [`Staff`] or an [`Admin`] is built only
//! by checking a [`Viewer`], so a write cannot be reached without the role check, and the
//! check is made once, by type.

use chrono::{DateTime, Utc};
use gazette_domain::{
    Article, ArticleState, ArticleStatus, Author, AuthorPatch, Correction, EditError, EditedCursor,
    KillReason, NewAuthor, NewTopic, PageRequest, Revision, RevisionAction, Topic, TopicPatch,
    ValidationError, Viewer, Visibility,
};
use gazette_persistence::{Page, Save};
use uuid::Uuid;

use crate::{App, AppError};

/// A checked editor or admin: may read the newsroom's lists and write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    sub: String,
    admin: bool,
}

/// A checked admin: may also delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    staff: Staff,
}

impl Staff {
    /// The capability of `viewer`, an editor or admin; anonymous callers are
    /// unauthenticated, partners forbidden.
    pub fn check(viewer: &Viewer) -> Result<Self, AppError> {
        match viewer {
            Viewer::Editor { sub } => Ok(Self {
                sub: sub.clone(),
                admin: false,
            }),
            Viewer::Admin { sub } => Ok(Self {
                sub: sub.clone(),
                admin: true,
            }),
            Viewer::Anonymous => Err(AppError::Unauthenticated(
                "this needs an editor or admin token (Authorization: Bearer …)".to_owned(),
            )),
            Viewer::Partner { .. } => Err(AppError::Forbidden(
                "partners may read but not write; this needs an editor or admin token".to_owned(),
            )),
        }
    }

    /// The token subject, recorded as the editor of a save.
    pub fn sub(&self) -> &str {
        &self.sub
    }
}

impl Admin {
    /// The capability of `viewer`, an admin; an editor is forbidden, others as
    /// [`Staff::check`].
    pub fn check(viewer: &Viewer) -> Result<Self, AppError> {
        Self::check_for(
            viewer,
            "only an admin may delete an article; archive it instead",
        )
    }

    /// As [`Admin::check`], an editor being told `refusal`.
    pub fn check_for(viewer: &Viewer, refusal: &str) -> Result<Self, AppError> {
        match viewer {
            Viewer::Admin { sub } => Ok(Self {
                staff: Staff {
                    sub: sub.clone(),
                    admin: true,
                },
            }),
            Viewer::Editor { .. } => Err(AppError::Forbidden(refusal.to_owned())),
            other => Staff::check(other).map(|staff| Self { staff }),
        }
    }

    /// The admin as staff.
    pub fn staff(&self) -> &Staff {
        &self.staff
    }
}

/// What one save of an existing article is: its kind, the version it was based on, and
/// whether readers should be told.
#[derive(Debug, Clone, Copy)]
pub struct SaveKind {
    /// What kind of save (recorded in the revision).
    pub action: RevisionAction,
    /// The version the change was based on; `None` applies it to whatever is stored.
    pub expected_version: Option<i32>,
    /// A change readers should be told about.
    pub substantive: bool,
}

impl App {
    /// Creates a draft.
    pub async fn create_article(
        &self,
        staff: &Staff,
        new: &ArticleState,
        now: DateTime<Utc>,
    ) -> Result<Article, AppError> {
        let created = self.store().create_article(new, staff.sub(), now).await;
        self.content_changed();
        Ok(created?)
    }

    /// Saves `change` to article `id` as `kind` says.
    pub async fn save_article(
        &self,
        staff: &Staff,
        id: Uuid,
        kind: SaveKind,
        now: DateTime<Utc>,
        change: impl FnOnce(&ArticleState) -> Result<ArticleState, EditError>,
    ) -> Result<Article, AppError> {
        let save = Save {
            editor: staff.sub(),
            action: kind.action,
            expected_version: kind.expected_version,
            substantive: kind.substantive,
            now,
        };
        let saved = self.store().save_article(id, save, change).await;
        self.content_changed();
        Ok(saved?)
    }

    /// Restores the text of revision `revision` of article `id` as a new save.
    pub async fn restore_revision(
        &self,
        staff: &Staff,
        id: Uuid,
        revision: i32,
        expected_version: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<Article, AppError> {
        let old = self.store().revision(id, revision).await?.ok_or_else(|| {
            ValidationError::new(
                "revision",
                format!("article {id} has no revision {revision}"),
            )
        })?;
        let kind = SaveKind {
            action: RevisionAction::Restore,
            expected_version,
            substantive: false,
        };
        self.save_article(staff, id, kind, now, |current| {
            current.restored_from(&old.state).map_err(EditError::from)
        })
        .await
    }

    /// Kills article `id` (a legal or safety takedown) for `reason`: it leaves every public
    /// and partner surface at once, its body is served to admins only, and nothing changes it
    /// until an admin restores it. Recorded as a `kill` revision.
    pub async fn kill_article(
        &self,
        staff: &Staff,
        id: Uuid,
        reason: &str,
        expected_version: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<Article, AppError> {
        let reason = KillReason::parse(reason)?;
        let kind = SaveKind {
            action: RevisionAction::Kill,
            expected_version,
            substantive: false,
        };
        self.save_article(staff, id, kind, now, |current| {
            current.kill(reason, now).map_err(EditError::from)
        })
        .await
    }

    /// Restores killed article `id` as it was before (admins only). Recorded as a `reinstate`
    /// revision.
    pub async fn restore_killed_article(
        &self,
        admin: &Admin,
        id: Uuid,
        expected_version: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<Article, AppError> {
        let kind = SaveKind {
            action: RevisionAction::Reinstate,
            expected_version,
            substantive: false,
        };
        self.save_article(admin.staff(), id, kind, now, |current| {
            current.reinstate(now).map_err(EditError::from)
        })
        .await
    }

    /// Deletes article `id` for good, with its revisions.
    pub async fn delete_article(
        &self,
        _admin: &Admin,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let deleted = self.store().delete_article(id, now).await;
        self.content_changed();
        Ok(deleted?)
    }

    /// Adds a public correction to article `id`.
    pub async fn add_correction(
        &self,
        staff: &Staff,
        id: Uuid,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Correction, AppError> {
        let added = self
            .store()
            .add_correction(id, text, staff.sub(), now)
            .await;
        self.content_changed();
        Ok(added?)
    }

    /// Saved revisions of article `id`, newest first. Of a killed story, only an admin gets
    /// the body text.
    pub async fn revisions(
        &self,
        staff: &Staff,
        id: Uuid,
        limit: u64,
        before_version: Option<i32>,
    ) -> Result<Vec<Revision>, AppError> {
        let store = self.store();
        let (revisions, article) = tokio::try_join!(
            store.revisions(id, limit, before_version),
            store.article_by_id(id, Visibility::Everything),
        )?;
        let killed = article.is_some_and(|a| a.status == ArticleStatus::Killed);
        Ok(if killed && !staff.admin {
            revisions.into_iter().map(Revision::without_body).collect()
        } else {
            revisions
        })
    }

    /// The newsroom's list: every article in `statuses` (all when empty), last saved first.
    pub async fn editorial_articles(
        &self,
        _staff: &Staff,
        statuses: &[ArticleStatus],
        page: &PageRequest<EditedCursor>,
    ) -> Result<Page<Article>, AppError> {
        Ok(self.store().list_for_editors(statuses, page).await?)
    }

    /// Article `id` whatever its status (for minting a preview of it).
    pub async fn any_article(&self, _staff: &Staff, id: Uuid) -> Result<Article, AppError> {
        self.store()
            .article_by_id(id, Visibility::Everything)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("article {id}")))
    }

    /// The article a verified preview grant opens (`article_id` at `version`), whatever its
    /// status; refused once the article is gone or was saved again.
    pub async fn preview_article(
        &self,
        article_id: Uuid,
        version: i32,
    ) -> Result<Article, AppError> {
        let article = self
            .store()
            .article_by_id(article_id, Visibility::Everything)
            .await?
            .ok_or_else(|| {
                AppError::PreviewRefused("the previewed article no longer exists".to_owned())
            })?;
        if article.version != version {
            return Err(AppError::PreviewRefused(format!(
                "the article was saved again (version {version} → {}); ask for a new preview link",
                article.version
            )));
        }
        Ok(article)
    }

    /// Creates a topic.
    pub async fn create_topic(
        &self,
        _staff: &Staff,
        new: &NewTopic,
        now: DateTime<Utc>,
    ) -> Result<Topic, AppError> {
        let created = self.store().create_topic(new, now).await;
        self.content_changed();
        Ok(created?)
    }

    /// Edits topic `id`.
    pub async fn update_topic(
        &self,
        _staff: &Staff,
        id: Uuid,
        patch: &TopicPatch,
        now: DateTime<Utc>,
    ) -> Result<Topic, AppError> {
        let updated = self.store().update_topic(id, patch, now).await;
        self.content_changed();
        Ok(updated?)
    }

    /// Creates an author.
    pub async fn create_author(
        &self,
        _staff: &Staff,
        new: &NewAuthor,
        now: DateTime<Utc>,
    ) -> Result<Author, AppError> {
        let created = self.store().create_author(new, now).await;
        self.content_changed();
        Ok(created?)
    }

    /// Edits author `id`.
    pub async fn update_author(
        &self,
        _staff: &Staff,
        id: Uuid,
        patch: &AuthorPatch,
        now: DateTime<Utc>,
    ) -> Result<Author, AppError> {
        let updated = self.store().update_author(id, patch, now).await;
        self.content_changed();
        Ok(updated?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_come_only_from_the_right_roles() {
        let editor = Viewer::Editor { sub: "ed".into() };
        let admin = Viewer::Admin { sub: "ad".into() };
        let partner = Viewer::Partner {
            sub: "p".into(),
            scopes: vec![],
        };
        assert_eq!(Staff::check(&editor).unwrap().sub(), "ed");
        assert_eq!(Staff::check(&admin).unwrap().sub(), "ad");
        assert!(matches!(
            Staff::check(&Viewer::Anonymous),
            Err(AppError::Unauthenticated(_))
        ));
        assert!(matches!(
            Staff::check(&partner),
            Err(AppError::Forbidden(_))
        ));
        assert_eq!(Admin::check(&admin).unwrap().staff().sub(), "ad");
        assert!(matches!(Admin::check(&editor), Err(AppError::Forbidden(_))));
        assert!(matches!(
            Admin::check(&Viewer::Anonymous),
            Err(AppError::Unauthenticated(_))
        ));
    }
}
