//! Partner webhooks over REST (`/v1/webhooks`): the twin of the GraphQL operations, thin
//! adapters over the same use cases ([`gazette_app::webhooks::Webhooks`]). A partner manages
//! its own subscriptions, an admin every one; anonymous callers are answered 401, editors 403,
//! another partner's subscription 404. Nothing here is ever stored by a cache.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use gazette_app::webhooks::{
    CreatedSubscription, DeliveryLog, MAX_URL_LEN, Subscription, SubscriptionInput,
    SubscriptionUpdate, WebhookManager,
};
use gazette_domain::webhooks::{DeliveryStatus, EventKind, SubscriptionStatus};
use gazette_domain::{ValidationError, Viewer};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use super::page::Params;
use super::params::{CursorSchema, SlugSchema, WebhookLogSize};
use crate::ApiError;
use crate::http::HttpState;
use crate::http::cache::{AttachTags as _, CacheTags};
use crate::http::caller::Caller;
use crate::http::problems::{WebhookListProblems, WebhookProblems, WebhookWriteProblems};

/// Marks every answer of the webhook routes (errors included) as one no cache may keep: they
/// show one token subject's subscriptions and secrets.
pub async fn never_stored(mut response: Response) -> Response {
    let mut tags = CacheTags::new();
    tags.never_store();
    tags.attach(&mut response);
    response
}

/// The caller, once it is known to be a partner or an admin: anonymous callers are refused
/// 401 (with a bearer challenge), editors 403, before a body is read.
pub struct Manager(Viewer);

impl FromRequestParts<HttpState> for Manager {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        http: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let Caller(viewer) = Caller::from_request_parts(parts, http).await?;
        match WebhookManager::check(&viewer) {
            Ok(_) => Ok(Self(viewer)),
            Err(error) => {
                let anonymous = matches!(viewer, Viewer::Anonymous);
                let mut response = ApiError::from(error).into_response();
                if anonymous {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                Err(response)
            }
        }
    }
}

/// A JSON request body of type `T`, read up to the server's body limit: sent as another media
/// type than `application/json` (or a `+json` one) is 415, too large is 413, not JSON of that
/// shape is 400 (`BAD_REQUEST`), each as a problem.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<HttpState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, http: &HttpState) -> Result<Self, ApiError> {
        // Without a content type the body is read as JSON (a missing body is a 400).
        let essence = crate::http::accept::content_type_essence(request.headers());
        if let Some(essence) = essence
            && essence != "application/json"
            && !essence.ends_with("+json")
        {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as application/json".to_owned(),
            ));
        }
        let limit = http.app.config().max_body_bytes;
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| ApiError::PayloadTooLarge { limit })?;
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| ApiError::BadRequest(format!("the body is not the JSON expected: {e}")))
    }
}

/// A subscription's `{id}` path segment: a UUID, or bad input naming `id`.
pub struct SubscriptionId(String);

impl<S: Send + Sync> FromRequestParts<S> for SubscriptionId {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
        let id: Uuid = raw
            .parse()
            .map_err(|_| ValidationError::new("id", "must be a subscription id (a UUID)"))?;
        Ok(Self(id.to_string()))
    }
}

/// An event type's wire name: the schema `WebhookEvent`, listing [`EventKind::ALL`].
pub struct EventSchema;

impl PartialSchema for EventSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(EventKind::ALL.map(EventKind::as_str)))
            .description(Some("An event type (see the README's \"Webhooks\")."))
            .into()
    }
}

impl ToSchema for EventSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("WebhookEvent")
    }
}

/// A target URL: https, resolving to public addresses only.
pub struct TargetUrlSchema;

impl PartialSchema for TargetUrlSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uri".to_owned())))
            .max_length(Some(MAX_URL_LEN))
            .description(Some(
                "Where deliveries go: `https`, no credentials, resolving to public addresses \
                 only (loopback, private, link-local, CGNAT, multicast and reserved addresses \
                 are answered 400 naming `url`).",
            ))
            .examples(["https://partner.example/hooks/gazette"])
            .into()
    }
}

impl ToSchema for TargetUrlSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("WebhookTargetUrl")
    }
}

/// Whether a subscription sends.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = WebhookStatus)]
enum StatusJson {
    /// Deliveries are sent.
    Active,
    /// Nothing is sent (see `pausedReason`); resuming sends everything since it paused.
    Paused,
}

/// A webhook subscription (never its secret).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookSubscription)]
struct SubscriptionJson {
    /// Its id.
    id: Uuid,
    /// The token subject that owns it.
    owner: String,
    /// Where deliveries go.
    url: String,
    /// Topic slugs filtered on (empty: every topic; removals always pass).
    #[schema(value_type = Vec<SlugSchema>)]
    topics: Vec<String>,
    /// Event types sent.
    #[schema(value_type = Vec<EventSchema>)]
    events: Vec<&'static str>,
    /// Sending or paused.
    status: StatusJson,
    /// Why it is paused; null while active.
    #[schema(required = true)]
    paused_reason: Option<String>,
    /// Failed attempts in a row.
    consecutive_failures: i32,
    /// The change log position read up to (a `/v1/changes` cursor).
    #[schema(value_type = CursorSchema)]
    cursor: String,
    /// When it was made.
    created_at: DateTime<Utc>,
}

impl From<Subscription> for SubscriptionJson {
    fn from(s: Subscription) -> Self {
        Self {
            id: s.id,
            owner: s.owner,
            url: s.url,
            topics: s.topics,
            events: s.events.iter().map(|k| k.as_str()).collect(),
            status: match s.status {
                SubscriptionStatus::Active => StatusJson::Active,
                SubscriptionStatus::Paused => StatusJson::Paused,
            },
            paused_reason: s.paused_reason,
            consecutive_failures: s.consecutive_failures,
            cursor: s.cursor,
            created_at: s.created_at,
        }
    }
}

/// A subscription with its signing secret, shown this once.
#[derive(Serialize, ToSchema)]
#[schema(as = WebhookSecret)]
struct SecretJson {
    /// The subscription.
    subscription: SubscriptionJson,
    /// `whsec_…`: verify the `webhook-signature` header with it (Standard Webhooks).
    secret: String,
}

impl From<CreatedSubscription> for SecretJson {
    fn from(c: CreatedSubscription) -> Self {
        Self {
            subscription: c.subscription.into(),
            secret: c.secret,
        }
    }
}

/// The caller's subscriptions.
#[derive(Serialize, ToSchema)]
#[schema(as = WebhookSubscriptionList)]
struct ListJson {
    /// Oldest first.
    items: Vec<SubscriptionJson>,
}

/// Where a delivery stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = WebhookDeliveryStatus)]
enum DeliveryStatusJson {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up (the retry horizon passed, or the receiver refused it).
    Failed,
}

/// One try to send a delivery.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookAttempt)]
struct AttemptJson {
    /// 1 for the first try.
    attempt: i32,
    /// When it was sent.
    attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when it did not answer.
    #[schema(required = true)]
    status_code: Option<i32>,
    /// How long the receiver took.
    latency_ms: i64,
    /// What went wrong; null when nothing did.
    #[schema(required = true)]
    error: Option<String>,
}

/// One message: the same `webhook-id` on every attempt.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookDelivery)]
struct DeliveryJson {
    /// The `webhook-id`.
    id: Uuid,
    /// The event type.
    #[schema(value_type = EventSchema)]
    event: String,
    /// The change log position it came from (a `/v1/changes` cursor).
    #[schema(value_type = CursorSchema)]
    cursor: String,
    /// The article it is about.
    article_id: Uuid,
    /// Where it stands.
    status: DeliveryStatusJson,
    /// When it was written.
    created_at: DateTime<Utc>,
    /// When the next attempt is due; null unless pending.
    #[schema(required = true)]
    next_attempt_at: Option<DateTime<Utc>>,
    /// Its attempts, in order.
    attempts: Vec<AttemptJson>,
}

impl From<DeliveryLog> for DeliveryJson {
    fn from(log: DeliveryLog) -> Self {
        let (status, cursor, next_attempt_at) = (log.status(), log.cursor(), log.next_attempt_at());
        let d = log.delivery;
        Self {
            id: d.id,
            event: d.event,
            cursor,
            article_id: d.article_id,
            status: match status {
                DeliveryStatus::Pending => DeliveryStatusJson::Pending,
                DeliveryStatus::Delivered => DeliveryStatusJson::Delivered,
                DeliveryStatus::Failed => DeliveryStatusJson::Failed,
            },
            created_at: d.created_at,
            next_attempt_at,
            attempts: (log.attempts.into_iter())
                .map(|a| AttemptJson {
                    attempt: a.attempt,
                    attempted_at: a.attempted_at,
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error,
                })
                .collect(),
        }
    }
}

/// A subscription's latest deliveries.
#[derive(Serialize, ToSchema)]
#[schema(as = WebhookDeliveryList)]
struct DeliveriesJson {
    /// Newest first, each with its attempts.
    items: Vec<DeliveryJson>,
}

/// A new subscription.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewWebhookSubscription)]
pub struct CreateJson {
    /// Where deliveries go.
    #[schema(value_type = TargetUrlSchema)]
    url: String,
    /// Topic slugs (default: every topic).
    #[serde(default)]
    #[schema(value_type = Vec<SlugSchema>)]
    topics: Vec<String>,
    /// Event types (default: every one).
    #[serde(default)]
    #[schema(value_type = Vec<EventSchema>)]
    events: Vec<String>,
}

/// Changes to a subscription; absent (or null) members stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookSubscriptionPatch)]
pub struct PatchJson {
    /// A new target.
    #[schema(value_type = Option<TargetUrlSchema>)]
    url: Option<String>,
    /// New topic slugs (empty: every topic).
    #[schema(value_type = Option<Vec<SlugSchema>>)]
    topics: Option<Vec<String>>,
    /// New event types (empty: every one).
    #[schema(value_type = Option<Vec<EventSchema>>)]
    events: Option<Vec<String>>,
    /// `true` resumes a paused subscription (forgetting its failures), `false` pauses it.
    active: Option<bool>,
}

/// Where a replay starts.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookReplay)]
pub struct ReplayJson {
    /// A `/v1/changes` cursor (a subscription's `cursor`, a delivery's): everything after it
    /// is sent again.
    #[schema(value_type = CursorSchema)]
    since: String,
}

/// The query of `GET /v1/webhooks/{id}/deliveries`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesParams {
    /// How many deliveries, newest first.
    #[param(value_type = Option<WebhookLogSize>, inline)]
    first: Option<String>,
}

/// List webhook subscriptions
///
/// Yours (an admin: every one), oldest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    operation_id = "list_webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscriptions", body = ListJson),
        WebhookListProblems,
    ),
)]
pub async fn list(
    State(http): State<HttpState>,
    Manager(viewer): Manager,
) -> Result<Response, ApiError> {
    let items = http.app.webhooks().list(&viewer).await?;
    let items = items.into_iter().map(Into::into).collect();
    Ok(Json(ListJson { items }).into_response())
}

/// Subscribe
///
/// Delivers what changes from now on. The answer holds the signing secret: the only time it
/// is shown. A token subject holds at most `GAZETTE_WEBHOOK_MAX_PER_PARTNER` subscriptions
/// (409 past it).
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    operation_id = "create_webhook",
    tag = "webhooks",
    request_body = CreateJson,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Subscribed", body = SecretJson,
            headers(("location" = String, description = "The subscription's URL"))),
        WebhookWriteProblems,
    ),
)]
pub async fn create(
    State(http): State<HttpState>,
    Manager(viewer): Manager,
    JsonBody(input): JsonBody<CreateJson>,
) -> Result<Response, ApiError> {
    let input = SubscriptionInput {
        url: input.url,
        topics: input.topics,
        events: input.events,
    };
    let created = http.app.webhooks().create(&viewer, input).await?;
    let location = format!("/v1/webhooks/{}", created.subscription.id);
    let mut response = (StatusCode::CREATED, Json(SecretJson::from(created))).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// One webhook subscription
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}",
    operation_id = "get_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionJson),
        WebhookProblems,
    ),
)]
pub async fn get_one(
    State(http): State<HttpState>,
    Manager(viewer): Manager,
    SubscriptionId(id): SubscriptionId,
) -> Result<Response, ApiError> {
    let found = http.app.webhooks().get(&viewer, &id).await?;
    Ok(Json(SubscriptionJson::from(found)).into_response())
}

/// Change a webhook subscription
///
/// `url`, `topics`, `events`, and `active` (`true` resumes a paused subscription).
#[utoipa::path(
    patch,
    path = "/v1/webhooks/{id}",
    operation_id = "update_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id.")),
    request_body = PatchJson,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscription as changed", body = SubscriptionJson),
        WebhookWriteProblems,
    ),
)]
pub async fn update(
    State(http): State<HttpState>,
    Manager(viewer): Manager,
    SubscriptionId(id): SubscriptionId,
    JsonBody(patch): JsonBody<PatchJson>,
) -> Result<Response, ApiError> {
    let update = SubscriptionUpdate {
        url: patch.url,
        topics: patch.topics,
        events: patch.events,
        active: patch.active,
    };
    let changed = http.app.webhooks().update(&viewer, &id, update).await?;
    Ok(Json(SubscriptionJson::from(changed)).into_response())
}

/// Delete a webhook subscription
///
/// With its delivery log.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{id}",
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        WebhookProblems,
    ),
)]
pub async fn delete(
    State(http): State<HttpState>,
    Manager(viewer): Manager,
    SubscriptionId(id): SubscriptionId,
) -> Result<Response, ApiError> {
    http.app.webhooks().delete(&viewer, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Rotate a webhook secret
///
/// A new signing secret, shown this once; the previous one keeps signing beside it for
/// `GAZETTE_WEBHOOK_SECRET_GRACE_SECS`.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/rotate-secret",
    operation_id = "rotate_webhook_secret",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new secret", body = SecretJson),
        // It reads no body.
        WebhookProblems,
    ),
)]
pub async fn rotate_secret(
    State(http): State<HttpState>,
    Manager(viewer): Manager,
    SubscriptionId(id): SubscriptionId,
) -> Result<Response, ApiError> {
    let rotated = http.app.webhooks().rotate_secret(&viewer, &id).await?;
    Ok(Json(SecretJson::from(rotated)).into_response())
}

/// Replay a webhook subscription
///
/// Sends again everything after the cursor `since`, as it is now, as new messages.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/replay",
    operation_id = "replay_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id.")),
    request_body = ReplayJson,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscription, its cursor moved back", body = SubscriptionJson),
        WebhookWriteProblems,
    ),
)]
pub async fn replay(
    State(http): State<HttpState>,
    Manager(viewer): Manager,
    SubscriptionId(id): SubscriptionId,
    JsonBody(body): JsonBody<ReplayJson>,
) -> Result<Response, ApiError> {
    let replayed = http
        .app
        .webhooks()
        .replay(&viewer, &id, &body.since)
        .await?;
    Ok(Json(SubscriptionJson::from(replayed)).into_response())
}

/// A webhook subscription's deliveries
///
/// The latest deliveries, newest first, each with its attempts (status code, latency, error).
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}/deliveries",
    operation_id = "webhook_deliveries",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id."), DeliveriesParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The delivery log", body = DeliveriesJson),
        WebhookProblems,
    ),
)]
pub async fn deliveries(
    State(http): State<HttpState>,
    Manager(viewer): Manager,
    SubscriptionId(id): SubscriptionId,
    Params(params): Params<DeliveriesParams>,
) -> Result<Response, ApiError> {
    let first = params
        .first
        .as_deref()
        .map(|raw| {
            // Beyond `i32` saturates, so the range check explains what is wrong.
            raw.trim()
                .parse::<i64>()
                .map(|n| i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX }))
                .map_err(|_| ValidationError::new("first", "must be a whole number"))
        })
        .transpose()?;
    let log = http.app.webhooks().deliveries(&viewer, &id, first).await?;
    let items = log.into_iter().map(Into::into).collect();
    Ok(Json(DeliveriesJson { items }).into_response())
}
