//! The account JSON API: one's sessions, display name and password.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::account;
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath, UserView};
use crate::web::auth::ApiSession;
use crate::web::openapi::ErrorBody;

/// GET /api/v1/me/sessions
pub async fn sessions(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let list = account::sessions(&app.chat, &s.user, &s.token_hash).await?;
    Ok(Json(json!({ "sessions": list })))
}

/// DELETE /api/v1/me/sessions/{id}
pub async fn end_session(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    account::end_session(&app.chat, &s.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    display_name: String,
}

/// Change one's display name.
#[utoipa::path(
    patch,
    path = "/api/v1/me",
    tag = "account",
    request_body = Rename,
    responses(
        (status = 200, description = "The person, renamed.", body = UserView),
        (status = 400, description = "Not a valid display name, or not a JSON object.", body = ErrorBody),
    )
)]
pub async fn rename(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(body): ApiJson<Rename>,
) -> Result<Json<UserView>, ApiError> {
    let user = account::rename(&app.chat, &s.user, &body.display_name).await?;
    Ok(Json(UserView::from(&user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    current: String,
    new: String,
}

/// POST /api/v1/me/password: 204; every other session ends.
pub async fn change_password(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(body): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    account::change_password(&app.chat, &s.user, &s.token_hash, &body.current, body.new).await?;
    Ok(StatusCode::NO_CONTENT)
}
