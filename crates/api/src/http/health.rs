//! Liveness and readiness. Both are live status: never stored by any cache, never rate
//! limited, never turned away while the database is unavailable (readiness says so itself).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::HttpState;
use super::cache::{AttachTags as _, CacheTags};
use super::problems::ReadinessProblems;
use crate::ApiError;

/// `response`, marked so no cache keeps it.
fn live(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let mut tags = CacheTags::new();
    tags.never_store();
    tags.attach(&mut response);
    response
}

/// The answer of `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    status: LiveStatus,
}

/// The process is up.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LiveStatus {
    /// The process answers.
    Ok,
}

/// The answer of `GET /readyz` when the database answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Always `ready` (otherwise the answer is a 503 problem).
    status: ReadyStatus,
    /// The database in use: `sqlite` or `postgres`.
    database: &'static str,
}

/// The process takes requests.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReadyStatus {
    /// The database answers.
    Ready,
}

/// Liveness
///
/// The process is up: answered without touching the database.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    security(()),
    responses((status = 200, description = "The process is up", body = Liveness)),
)]
pub async fn healthz() -> Response {
    live(Json(Liveness {
        status: LiveStatus::Ok,
    }))
}

/// Readiness
///
/// The database answers a ping; 503 while it is unreachable or its pool is saturated.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        ReadinessProblems,
    ),
)]
pub async fn readyz(State(http): State<HttpState>) -> Response {
    let answer: Result<Json<Readiness>, ApiError> = async {
        http.app.store().ping().await?;
        Ok(Json(Readiness {
            status: ReadyStatus::Ready,
            database: http.app.store().backend_name(),
        }))
    }
    .await;
    live(answer)
}
