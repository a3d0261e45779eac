//! Test harness: the real Gazette on a random port over a fresh SQLite file or PostgreSQL
//! database, and an HTTP client to talk to it. Each `TestApp` owns its database and drops it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use gazette_persistence::Store;
use gazette_server::{Application, ServeArgs};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The HS256 secret every test server verifies bearer tokens with.
pub const TEST_JWT_SECRET: &str = gazette_server::config::TEST_JWT_SECRET;
/// The `iss` every test server expects.
pub const TEST_ISSUER: &str = gazette_server::config::TEST_JWT_ISSUER;
/// The `aud` every test server expects.
pub const TEST_AUDIENCE: &str = gazette_server::config::TEST_JWT_AUDIENCE;

/// The text of header `name` of a request a test's receiver got (empty when absent or not text).
pub fn header_text(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims for `role` and `sub` with the test issuer and audience, expiring in an hour.
pub fn claims(role: &str, sub: &str) -> Value {
    let now = unix_now();
    json!({ "sub": sub, "role": role, "iss": TEST_ISSUER, "aud": TEST_AUDIENCE,
            "iat": now, "exp": now + 3600 })
}

/// A valid HS256 bearer token for `role` and `sub`, an hour long, for the test servers.
pub fn token(role: &str, sub: &str) -> String {
    token_with(
        claims(role, sub),
        Header::new(Algorithm::HS256),
        TEST_JWT_SECRET.as_bytes(),
    )
}

/// A valid token for `role` and `sub` carrying `scopes`.
pub fn token_with_scope(role: &str, sub: &str, scopes: &[&str]) -> String {
    let mut claims = claims(role, sub);
    claims["scope"] = json!(scopes);
    token_with(
        claims,
        Header::new(Algorithm::HS256),
        TEST_JWT_SECRET.as_bytes(),
    )
}

/// `claims` under `header`, signed HMAC (the header's `alg`) with `key`: for crafting bad tokens.
pub fn token_with(claims: Value, header: Header, key: &[u8]) -> String {
    let key = EncodingKey::from_secret(key).expect("HMAC key");
    signed(claims, header, &key)
}

/// `claims` under `header`, signed with `key` (RSA, Ed25519 or HMAC per the header's `alg`).
pub fn signed(claims: Value, header: Header, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&header, &claims, key).expect("token signs")
}

/// An editor's bearer token (`sub` "desk").
pub fn editor() -> String {
    token("editor", "desk")
}

/// An admin's bearer token (`sub` "root").
pub fn admin() -> String {
    token("admin", "root")
}

/// A partner's bearer token (`sub` "agency") carrying `scopes` (`&["syndication"]` for full
/// text).
pub fn partner(scopes: &[&str]) -> String {
    token_with_scope("partner", "agency", scopes)
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A fresh SQLite file in the temp directory.
    Sqlite,
    /// A fresh database on the local PostgreSQL (`GAZETTE_TEST_PG_URL`).
    Postgres,
}

/// The server under test.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where its metrics listener listens, when one is configured.
    pub metrics_addr: Option<SocketAddr>,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The app's own store (for statement counts and direct setup).
    pub store: Store,
    /// The client connections the server holds.
    pub connections: gazette_server::serve::ConnectionStats,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    database: TestDatabase,
    database_url: String,
}

enum TestDatabase {
    Sqlite(PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another app's database: left alone on drop.
    Shared,
}

/// PostgreSQL server used by tests; a database is made on it per test.
pub fn pg_admin_url() -> String {
    std::env::var("GAZETTE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base.rfind('/').unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..cut], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Runs `sql` on the PostgreSQL server as its administrator.
pub async fn admin_exec(admin_url: &str, sql: &str) {
    use sea_orm::ConnectionTrait;
    let admin = sea_orm::Database::connect(admin_url)
        .await
        .expect("connect to PostgreSQL admin database");
    admin
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = admin.close().await;
}

/// A fresh, empty database of the given kind; returns its URL.
async fn fresh_database(db: Db) -> (String, TestDatabase) {
    fresh_database_created_with(db, "").await
}

/// [`fresh_database`], a PostgreSQL one created with `options` (`CREATE DATABASE name options`).
async fn fresh_database_created_with(db: Db, options: &str) -> (String, TestDatabase) {
    let tag = uuid::Uuid::now_v7().simple().to_string();
    match db {
        Db::Sqlite => {
            let path = std::env::temp_dir().join(format!("gazette-test-{tag}.db"));
            (
                format!("sqlite://{}", path.display()),
                TestDatabase::Sqlite(path),
            )
        }
        Db::Postgres => {
            let admin_url = pg_admin_url();
            let name = format!("gazette_test_{tag}");
            admin_exec(&admin_url, &format!("CREATE DATABASE {name} {options}")).await;
            (
                replace_db_name(&admin_url, &name),
                TestDatabase::Postgres { admin_url, name },
            )
        }
    }
}

/// Starts Gazette over a fresh database of kind `db`, with `configure` applied to the defaults.
pub async fn spawn_app_with(db: Db, configure: impl FnOnce(&mut ServeArgs)) -> TestApp {
    let (url, database) = fresh_database(db).await;
    start(url, database, configure).await
}

async fn start(
    url: String,
    database: TestDatabase,
    configure: impl FnOnce(&mut ServeArgs),
) -> TestApp {
    let mut args = ServeArgs::for_tests(&url);
    configure(&mut args);
    let app = Application::build(&args).await.expect("application starts");
    let addr = app.local_addr();
    let metrics_addr = app.metrics_addr();
    let store = app.store().clone();
    let connections = app.connections();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until_stopped(async move {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    let test_app = TestApp {
        addr,
        metrics_addr,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            // Shorter than the server's keep-alive, so the client never picks a connection
            // the server is closing.
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .expect("client"),
        store,
        connections,
        shutdown: Some(tx),
        server: Some(server),
        database,
        database_url: url,
    };
    test_app.wait_until_healthy().await;
    test_app
}

/// Starts Gazette over a fresh PostgreSQL database created with `options` (a collation, for
/// one), with `configure` applied to the defaults.
pub async fn spawn_postgres_app_created_with(
    options: &str,
    configure: impl FnOnce(&mut ServeArgs),
) -> TestApp {
    let (url, database) = fresh_database_created_with(Db::Postgres, options).await;
    start(url, database, configure).await
}

/// Starts Gazette over a fresh database of kind `db` with default settings.
pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// Starts Gazette and loads the sample content plus `generated` filler articles.
pub async fn spawn_seeded_app(db: Db, generated: usize) -> TestApp {
    spawn_seeded_app_with(db, generated, |_| {}).await
}

/// As [`spawn_seeded_app`], with `configure` applied to the defaults.
pub async fn spawn_seeded_app_with(
    db: Db,
    generated: usize,
    configure: impl FnOnce(&mut ServeArgs),
) -> TestApp {
    let app = spawn_app_with(db, configure).await;
    gazette_persistence::seed_sample_content(&app.store, generated, chrono::Utc::now())
        .await
        .expect("seed");
    app
}

impl TestApp {
    /// A second Gazette process over this app's database (as a second replica would run). The
    /// database stays owned by `self`.
    pub async fn spawn_sibling(&self) -> TestApp {
        self.spawn_sibling_with(|_| {}).await
    }

    /// As [`TestApp::spawn_sibling`], with `configure` applied to the defaults.
    pub async fn spawn_sibling_with(&self, configure: impl FnOnce(&mut ServeArgs)) -> TestApp {
        start(self.database_url.clone(), TestDatabase::Shared, configure).await
    }

    /// `http://addr` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    async fn wait_until_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(r) = self.client.get(self.url("/healthz")).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "server did not become healthy");
            tokio::task::yield_now().await;
        }
    }

    /// POSTs a GraphQL operation; returns status and JSON body.
    pub async fn gql(&self, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// POSTs a GraphQL operation that must succeed without errors; returns `data`.
    pub async fn gql_ok(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql(query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// POSTs a GraphQL operation with `Authorization` set to `authorization` verbatim (none
    /// when `None`); returns the whole response.
    pub async fn gql_authorized(
        &self,
        authorization: Option<&str>,
        query: &str,
        variables: Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        request.send().await.expect("request sent")
    }

    /// POSTs a GraphQL operation with `Authorization: Bearer <token>`; returns status and JSON body.
    pub async fn gql_as(&self, token: &str, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .gql_authorized(Some(&format!("Bearer {token}")), query, variables)
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// [`Self::gql_as`] that must succeed without errors; returns `data`.
    pub async fn gql_ok_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql_as(token, query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// `POST /graphql` by automatic-persisted-query `hash`, with the document when given.
    pub async fn post_persisted(&self, hash: &str, query: Option<&str>) -> (u16, Value) {
        let mut payload =
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
        if let Some(query) = query {
            payload["query"] = json!(query);
        }
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&payload)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Runs a GraphQL operation as an editor; it must succeed without errors. Returns `data`.
    pub async fn as_editor(&self, query: &str, variables: Value) -> Value {
        self.gql_ok_as(&editor(), query, variables).await
    }

    /// Creates a draft as an editor: `slug`, a headline made of it, one paragraph, and the
    /// fields of `extra` (an object of `CreateArticleInput` fields) on top. Returns its id.
    pub async fn draft(&self, slug: &str, extra: Value) -> String {
        let mut input = json!({
            "headline": format!("Draft {slug}"),
            "slug": slug,
            "body": [{ "type": "paragraph", "text": "Text." }],
        });
        for (key, value) in extra.as_object().expect("extra is an object") {
            input[key] = value.clone();
        }
        let data = self
            .as_editor(
                "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id } }",
                json!({ "input": input }),
            )
            .await;
        data["createArticle"]["id"]
            .as_str()
            .expect("the draft's id")
            .to_owned()
    }

    /// Applies `input` (an object of `UpdateArticleInput` fields) to article `id` at its
    /// current version, as an editor.
    pub async fn update_article(&self, id: &str, input: Value) {
        let version = self
            .as_editor(
                "query($id: ID!) { article(id: $id) { version } }",
                json!({ "id": id }),
            )
            .await["article"]["version"]
            .clone();
        self.as_editor(
            "mutation($id: ID!, $v: Int!, $input: UpdateArticleInput!) { updateArticle(id: $id, expectedVersion: $v, input: $input) { id } }",
            json!({ "id": id, "v": version, "input": input }),
        )
        .await;
    }

    /// Publishes article `id` now, as an editor.
    pub async fn publish(&self, id: &str) {
        self.as_editor(
            "mutation($id: ID!) { publishArticle(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    }

    /// Counts `views` views of article `id` in the current hour, written straight to storage
    /// (storage drops them unless the article is public now).
    pub async fn view(&self, id: &str, views: i64) {
        let now = chrono::Utc::now();
        self.store
            .record_views(
                &[gazette_persistence::ViewCount {
                    article_id: id.parse().expect("an article id"),
                    hour: gazette_domain::trending::bucket_hour(now),
                    views,
                }],
                now,
            )
            .await
            .expect("views recorded");
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// The PostgreSQL database name of this app, when it runs on PostgreSQL.
    pub fn postgres_database(&self) -> Option<&str> {
        match &self.database {
            TestDatabase::Postgres { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The URL of this app's database (tests that hold locks open their own connection).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Waits until the server's start-up database work is done (its first trending expiry,
    /// a write transaction that bumps `trending_state.flushes` as the start-up recomputation
    /// did before it), so that a test holding a lock sees only its own requests' statements.
    pub async fn settle(&self) {
        self.settle_after_flushes(2).await;
    }

    /// [`Self::settle`] for a server whose view flush interval is long (one flush at start).
    pub async fn settle_after_flushes(&self, flushes_at_least: i64) {
        use sea_orm::ConnectionTrait as _;
        let deadline = Instant::now() + Duration::from_secs(20);
        let statement = sea_orm::Statement::from_string(
            self.store.connection().get_database_backend(),
            "SELECT flushes FROM trending_state",
        );
        loop {
            let flushes: i64 = self
                .store
                .connection()
                .query_one_raw(statement.clone())
                .await
                .ok()
                .flatten()
                .and_then(|row| row.try_get_by_index(0).ok())
                .unwrap_or(0);
            if flushes >= flushes_at_least && self.store.pool_stats().in_use == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "start-up work never finished");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Signals the server to shut down (as SIGTERM does) without waiting for it.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits up to `limit` for the server to finish shutting down; whether it did.
    pub async fn wait_stopped(&mut self, limit: Duration) -> bool {
        let Some(server) = self.server.as_mut() else {
            return true;
        };
        let stopped = tokio::time::timeout(limit, server).await.is_ok();
        if stopped {
            self.server = None;
        }
        stopped
    }

    /// Stops the server and removes the database.
    pub async fn stop(mut self) {
        self.shutdown_server().await;
    }

    /// Stops the server gracefully (it drains requests and writes pending views) and keeps the
    /// database for inspection through `store`.
    pub async fn stop_server(&mut self) {
        self.shutdown_server().await;
    }

    async fn shutdown_server(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        match &self.database {
            TestDatabase::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDatabase::Shared => {}
            TestDatabase::Postgres { admin_url, name } => {
                let (admin_url, sql) = (
                    admin_url.clone(),
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
                // Drop cannot await; a short-lived runtime on its own thread does the cleanup.
                let _ = std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        rt.block_on(admin_exec(&admin_url, &sql));
                    }
                })
                .join();
            }
        }
    }
}

/// Runs an async test body once on SQLite and once on PostgreSQL:
/// `on_both_databases!(name, |db| async move { … })` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(gazette_tests::Db::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)(gazette_tests::Db::Postgres).await
            }
        }
    };
}

/// What a [`DatabaseLock`] blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// Every write (SQLite's write lock; PostgreSQL `EXCLUSIVE` on `articles`): reads go on.
    Writes,
    /// Reads and writes of `articles` (PostgreSQL `ACCESS EXCLUSIVE`; SQLite cannot block
    /// readers in WAL mode).
    Everything,
}

impl TestApp {
    /// Rolls the migrations back to before `first` (it included) and up again, over the
    /// data the app holds. On a connection of the test's own, one connection wide: every
    /// statement of a migration then runs where the previous one did, never on an idle
    /// connection of the server's pool whose read snapshot predates the last change to the
    /// schema (SQLite answered "duplicate column" that way now and then).
    pub async fn remigrate_from(&self, first: &str) {
        use migration::{Migrator, MigratorTrait as _};
        let names: Vec<String> = Migrator::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        let at = names
            .iter()
            .position(|n| n == first)
            .unwrap_or_else(|| panic!("migration {first} is not registered"));
        let steps = u32::try_from(names.len() - at).expect("a few migrations");
        let mut options = sea_orm::ConnectOptions::new(self.database_url());
        options.max_connections(1).sqlx_logging(false);
        let conn = sea_orm::Database::connect(options)
            .await
            .expect("a connection of the test's own");
        Migrator::down(&conn, Some(steps))
            .await
            .expect("migrate down");
        Migrator::up(&conn, None).await.expect("migrate up");
    }
}

/// A lock held on an app's database by a connection of the test's own (not the server's
/// pool), so the server's statements wait as they would behind a slow writer. Released by
/// [`DatabaseLock::release`] or on drop.
pub struct DatabaseLock {
    txn: sea_orm::DatabaseTransaction,
    _conn: sea_orm::DatabaseConnection,
}

impl DatabaseLock {
    /// Takes `kind` on `app`'s database.
    pub async fn take(app: &TestApp, kind: LockKind) -> Self {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        let conn = sea_orm::Database::connect(app.database_url())
            .await
            .expect("a connection of the test's own");
        let txn = match conn.get_database_backend() {
            sea_orm::DbBackend::Sqlite => {
                assert_eq!(kind, LockKind::Writes, "SQLite readers cannot be blocked");
                conn.begin_with_options(sea_orm::TransactionOptions {
                    sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await
                .expect("take the write lock")
            }
            _ => {
                let txn = conn.begin().await.expect("begin");
                let mode = match kind {
                    LockKind::Writes => "EXCLUSIVE",
                    LockKind::Everything => "ACCESS EXCLUSIVE",
                };
                txn.execute_unprepared(&format!("LOCK TABLE articles IN {mode} MODE"))
                    .await
                    .expect("lock articles");
                txn
            }
        };
        Self { txn, _conn: conn }
    }

    /// Lets the blocked statements go on.
    pub async fn release(self) {
        self.txn.rollback().await.expect("release the lock");
    }
}

/// Polls `check` until it holds, failing after `limit` with `what`.
pub async fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
