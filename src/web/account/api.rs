//! The account JSON API: one's sessions, display name and password.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::chat::account::{self, SessionInfo};
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath, UserView};
use crate::web::auth::ApiSession;
use crate::web::openapi::ErrorBody;

/// One's open sessions.
#[derive(Serialize, ToSchema)]
pub struct Sessions {
    sessions: Vec<SessionInfo>,
}

/// List one's open sessions (signed-in browsers), the current one marked.
#[utoipa::path(
    get,
    path = "/api/v1/me/sessions",
    tag = "account",
    operation_id = "listSessions",
    responses((status = 200, description = "Every session of one's account.", body = Sessions)),
)]
pub async fn sessions(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<Sessions>, ApiError> {
    let sessions = account::sessions(&app.chat, &s.user, &s.token_hash).await?;
    Ok(Json(Sessions { sessions }))
}

/// End one of one's sessions; ending the current one signs it out.
#[utoipa::path(
    delete,
    path = "/api/v1/me/sessions/{id}",
    tag = "account",
    operation_id = "endSession",
    params(("id" = String, Path, description = "The session's public `id`, as listed.")),
    responses(
        (status = 204, description = "The session has ended; a page using it is disconnected."),
        (status = 404, description = "One has no session with this id.", body = ErrorBody),
    )
)]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The password now.
    current: String,
    /// The new password: 8 to 1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    new: String,
}

/// Change one's password; every other session of the account ends.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "account",
    operation_id = "changePassword",
    request_body = NewPassword,
    responses(
        (status = 204, description = "The password is changed; the other sessions have ended."),
        (status = 400, description = "Not a JSON object with `current` and `new`, the current password is not right, or the new one is shorter than 8 or longer than 1024 characters.", body = ErrorBody),
    )
)]
pub async fn change_password(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(body): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    account::change_password(&app.chat, &s.user, &s.token_hash, &body.current, body.new).await?;
    Ok(StatusCode::NO_CONTENT)
}
