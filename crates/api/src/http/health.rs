//! Liveness and readiness. Both are live status: never stored by any cache.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::HttpState;
use super::cache::{AttachTags as _, CacheTags};
use crate::ApiError;

/// `response`, marked so no cache keeps it.
fn live(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let mut tags = CacheTags::new();
    tags.never_store();
    tags.attach(&mut response);
    response
}

/// The process is up.
pub async fn healthz() -> Response {
    live(Json(json!({ "status": "ok" })))
}

/// The database answers; 503 otherwise.
pub async fn readyz(State(http): State<HttpState>) -> Response {
    let answer: Result<Json<Value>, ApiError> = async {
        http.app.store().ping().await?;
        Ok(Json(
            json!({ "status": "ready", "database": http.app.store().backend_name() }),
        ))
    }
    .await;
    live(answer)
}
