//! Page sizes written into a statement's text rather than bound.
//!
//! SQLite (3.51, bundled) treats a bound `LIMIT ?` as an input of the query plan: preparing a
//! statement with one marks the parameter so that binding it again, even to the same value,
//! expires the statement, and the next step parses and plans it anew (`sqlite3ExprIsInteger`
//! calls `sqlite3VdbeSetVarmask`). The driver binds every parameter at every execution, so
//! every list read with a bound limit (and every sea-orm `.one()`, which adds `LIMIT ?`) was
//! parsed and planned again each time despite the statement cache: about a fifth of the SQLite
//! worker thread's time under the latest-20 load (BENCHMARKS.md, "Reads"). A literal limit
//! leaves the cached statement as prepared; page sizes are few (1 to `MAX_PAGE_SIZE` + 1), so
//! the statement cache holds one statement per size in use.

use sea_orm::{
    ConnectionTrait, EntityTrait, FromQueryResult, PartialModelTrait, QueryResult, QuerySelect,
    QueryTrait, Select,
};

use crate::StoreError;

/// The rows of `select` as `M` (a partial model: only its columns are read), at most `limit`
/// of them, with the limit written as a literal.
pub(crate) async fn first_rows<E, M, C>(
    db: &C,
    select: Select<E>,
    limit: u64,
) -> Result<Vec<M>, StoreError>
where
    E: EntityTrait,
    M: PartialModelTrait + FromQueryResult,
    C: ConnectionTrait,
{
    let select = M::select_cols(QuerySelect::select_only(select));
    selected_rows(db, select, limit).await
}

/// The rows of `select`, whose columns are already chosen, read as `M`: at most `limit` of
/// them, with the limit written as a literal.
pub(crate) async fn selected_rows<E, M, C>(
    db: &C,
    select: Select<E>,
    limit: u64,
) -> Result<Vec<M>, StoreError>
where
    E: EntityTrait,
    M: FromQueryResult,
    C: ConnectionTrait,
{
    let rows = selected_raw_rows(db, select, limit).await?;
    let read = rows.iter().map(|row| M::from_query_result(row, ""));
    Ok(read.collect::<Result<_, _>>()?)
}

/// The rows of `select`, whose columns are already chosen, as the driver gives them: at most
/// `limit` of them, with the limit written as a literal.
pub(crate) async fn selected_raw_rows<E, C>(
    db: &C,
    select: Select<E>,
    limit: u64,
) -> Result<Vec<QueryResult>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut statement = select.build(db.get_database_backend());
    statement.sql.push_str(&format!(" LIMIT {limit}"));
    Ok(db.query_all_raw(statement).await?)
}

/// The whole rows of `select`, at most `limit` of them, with the limit written as a literal.
pub(crate) async fn first_models<E, C>(
    db: &C,
    select: Select<E>,
    limit: u64,
) -> Result<Vec<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    selected_rows(db, select, limit).await
}
