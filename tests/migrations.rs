//! Migrations run up, down and up again to the same schema, on both databases.

use gazette_tests::{Db, on_both_databases, spawn_app};
use sea_orm::{ConnectionTrait, Statement};

async fn schema_fingerprint(app: &gazette_tests::TestApp, db: Db) -> Vec<String> {
    let conn = app.store.connection();
    let sql = match db {
        Db::Sqlite => {
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS d FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        }
        Db::Postgres => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS d FROM information_schema.columns \
             WHERE table_schema = 'public' UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        }
    };
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .filter(|d| !d.contains("seaql_migrations"))
        .collect()
}

on_both_databases!(
    migrations_go_up_down_and_up_to_the_same_schema,
    |db| async move {
        let app = spawn_app(db).await;
        let migrated = schema_fingerprint(&app, db).await;
        assert!(migrated.iter().any(|d| d.contains("articles")));
        app.store.migrate_down_all().await.unwrap();
        assert!(
            schema_fingerprint(&app, db).await.is_empty(),
            "down leaves no table behind"
        );
        app.store.migrate().await.unwrap();
        assert_eq!(schema_fingerprint(&app, db).await, migrated);
    }
);
