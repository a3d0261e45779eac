//! Command line and environment: one typed struct, defaults that run out of the box.

use clap::{Args, Parser, Subcommand};
use gazette_api::ApiConfig;

/// Gazette: a headless news content API (GraphQL and JSON).
#[derive(Debug, Parser)]
#[command(
    name = "gazette",
    version,
    about = "Gazette: a headless news content API (GraphQL and JSON).",
    long_about = "Gazette: a headless news content API (GraphQL and JSON).\n\n\
        Every flag can also be set by the environment variable shown with it. With no \
        configuration, `gazette serve` creates and migrates ./gazette.db (SQLite) and listens on \
        127.0.0.1:8080; set DATABASE_URL=postgres://… to use PostgreSQL."
)]
pub struct Cli {
    /// Log filter, e.g. `info` or `gazette=debug,sea_orm=warn`.
    #[arg(long, env = "RUST_LOG", default_value = "info", global = true)]
    pub log: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (migrates the database first).
    Serve(ServeArgs),
    /// Bring the database schema up to date and exit.
    Migrate(DatabaseArgs),
    /// Load the sample content (idempotent: running it twice adds nothing).
    Seed(SeedArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://gazette.db` (created on first use) or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://gazette.db")]
    pub database_url: String,
    /// Most pooled database connections.
    #[arg(long, env = "GAZETTE_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
}

impl DatabaseArgs {
    /// The URL, with SQLite's create-if-missing mode made explicit.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }
}

/// `gazette serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "GAZETTE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Largest request body, in bytes.
    #[arg(long, env = "GAZETTE_MAX_BODY_BYTES", default_value_t = ApiConfig::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Deepest GraphQL selection accepted.
    #[arg(long, env = "GAZETTE_MAX_QUERY_DEPTH", default_value_t = ApiConfig::default().max_query_depth)]
    pub max_query_depth: usize,
    /// Highest GraphQL query complexity accepted (list fields cost their page size).
    #[arg(long, env = "GAZETTE_MAX_QUERY_COMPLEXITY", default_value_t = ApiConfig::default().max_query_complexity)]
    pub max_query_complexity: usize,
    /// Accept a JSON array of GraphQL operations in one POST.
    #[arg(long, env = "GAZETTE_ALLOW_BATCHING", default_value_t = false)]
    pub allow_batching: bool,
}

impl ServeArgs {
    /// Defaults for `database_url`, listening on a free local port (tests).
    pub fn for_tests(database_url: &str) -> Self {
        let api = ApiConfig::default();
        Self {
            addr: "127.0.0.1:0".to_owned(),
            db: DatabaseArgs {
                database_url: database_url.to_owned(),
                db_max_connections: 8,
            },
            max_body_bytes: api.max_body_bytes,
            max_query_depth: api.max_query_depth,
            max_query_complexity: api.max_query_complexity,
            allow_batching: api.allow_batching,
        }
    }
}

/// `gazette seed`.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// How many generated filler articles to add besides the sample page's stories.
    #[arg(long, env = "GAZETTE_SEED_GENERATED", default_value_t = 200)]
    pub generated: usize,
}
