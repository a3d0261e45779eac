//! Full-text search on each database's own engine.
//!
//! SQLite: an FTS5 table (Porter stemming over Unicode words) holding each article's headline,
//! dek and body text, kept in step by the writes themselves, in their transactions.
//! PostgreSQL: a generated `tsvector` column (headline weighted A, dek B, body C) stemmed in the
//! article's language, with a GIN index; the database keeps it in step.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PG_CONFIG_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION gazette_ts_config(lang text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE split_part(lower(lang), '-', 1)
    WHEN 'en' THEN 'english'::regconfig
    WHEN 'de' THEN 'german'::regconfig
    WHEN 'fr' THEN 'french'::regconfig
    WHEN 'es' THEN 'spanish'::regconfig
    WHEN 'it' THEN 'italian'::regconfig
    WHEN 'pt' THEN 'portuguese'::regconfig
    WHEN 'nl' THEN 'dutch'::regconfig
    WHEN 'ru' THEN 'russian'::regconfig
    WHEN 'sv' THEN 'swedish'::regconfig
    WHEN 'da' THEN 'danish'::regconfig
    WHEN 'fi' THEN 'finnish'::regconfig
    WHEN 'no' THEN 'norwegian'::regconfig
    WHEN 'nb' THEN 'norwegian'::regconfig
    WHEN 'tr' THEN 'turkish'::regconfig
    ELSE 'simple'::regconfig
  END
$$"#;

const PG_COLUMN: &str = r#"
ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector(gazette_ts_config(language), headline), 'A') ||
  setweight(to_tsvector(gazette_ts_config(language), dek), 'B') ||
  setweight(to_tsvector(gazette_ts_config(language), body_text), 'C')
) STORED"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE article_search USING fts5(\
                     article_id UNINDEXED, headline, dek, body, \
                     tokenize = 'porter unicode61 remove_diacritics 2')",
                )
                .await?;
                db.execute_unprepared(
                    "INSERT INTO article_search (article_id, headline, dek, body) \
                     SELECT id, headline, dek, body_text FROM articles",
                )
                .await?;
            }
            DatabaseBackend::Postgres => {
                db.execute_unprepared(PG_CONFIG_FUNCTION).await?;
                db.execute_unprepared(PG_COLUMN).await?;
                db.execute_unprepared(
                    "CREATE INDEX idx_articles_search ON articles USING GIN (search_vector)",
                )
                .await?;
            }
            other => {
                return Err(DbErr::Migration(format!(
                    "full-text search is not set up for {other:?}"
                )));
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                db.execute_unprepared("DROP TABLE IF EXISTS article_search")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP INDEX IF EXISTS idx_articles_search")
                    .await?;
                db.execute_unprepared("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
                    .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS gazette_ts_config(text)")
                    .await?;
            }
        }
        Ok(())
    }
}
