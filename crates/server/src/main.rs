//! `gazette`: read config, build the app, serve it, wait for shutdown.

use clap::Parser;
use gazette_server::{Application, Cli, Command, mint_token, open_store, shutdown_signal};

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// mimalloc rather than the system allocator: a read allocates many small values (rows, JSON,
/// GraphQL values) on every worker thread at once; BENCHMARKS.md ("Reads") has the figures.
/// Built with its `override` feature, it also answers C's `malloc` and `free`, so the bundled
/// SQLite (every value it copies out of a row, every page buffer) and libc allocate from the
/// same heap, not from glibc's (BENCHMARKS.md, "One allocator for Rust and SQLite").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let cli = Cli::parse();
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    tracing::subscriber::set_global_default(cli.logging.subscriber(std::io::stdout, ansi))?;
    match cli.command {
        Command::Serve(args) => {
            tracing::info!(addr = %args.addr, database = %redact(&args.db.database_url), max_body_bytes = args.max_body_bytes,
                max_query_depth = args.max_query_depth, max_query_complexity = args.max_query_complexity, "starting gazette");
            let app = Application::build(&args).await?;
            tracing::info!("listening on http://{}/graphql", app.local_addr());
            if args.web.web_example {
                tracing::info!("reference front page at http://{}/", app.local_addr());
            }
            app.run_until_stopped(shutdown_signal()).await?;
            tracing::info!("stopped");
        }
        Command::Migrate(db) => {
            open_store(&db).await?.migrate().await?;
            println!("database is up to date");
        }
        Command::Seed(args) => {
            let store = open_store(&args.db).await?;
            store.migrate().await?;
            let report = gazette_persistence::seed_sample_content(
                &store,
                args.generated,
                chrono::Utc::now(),
            )
            .await?;
            // A fresh database also gets the sample page's readership, so "Hot this week"
            // is not empty on the first `make run`.
            let views = gazette_persistence::seed_sample_readership(
                &store,
                gazette_app::ViewsConfig::default().half_life,
                chrono::Utc::now(),
            )
            .await?;
            println!(
                "seeded: {} topics, {} authors, {} articles, {views} sample views added",
                report.topics, report.authors, report.articles
            );
        }
        Command::Schema => print!("{}", gazette_api::schema_sdl()),
        Command::Token(args) => match mint_token(&args, chrono::Utc::now()) {
            Ok(token) => println!("{token}"),
            Err(error) => {
                eprintln!("gazette token: {error}");
                std::process::exit(1);
            }
        },
    }
    Ok(())
}

/// The URL without its password, for the log.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
