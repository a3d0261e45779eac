//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::HttpState;
use crate::ApiError;

/// The process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers; 503 otherwise.
pub async fn readyz(State(http): State<HttpState>) -> Result<Json<Value>, ApiError> {
    http.app.store().ping().await?;
    Ok(Json(
        json!({ "status": "ready", "database": http.app.store().backend_name() }),
    ))
}
