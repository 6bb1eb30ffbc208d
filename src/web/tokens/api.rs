//! The API tokens JSON API: a person's own tokens (list, make, revoke). Managed only from a
//! signed-in session: a token cannot make or revoke tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::chat::actor::Actor;
use crate::chat::tokens::{self, Made, Spec};
use crate::domain::tokens::{Lifetime, Scope};
use crate::error::{Error, TokenRefusal};
use crate::store::sessions::Session;
use crate::store::tokens::Token;
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;
use crate::web::openapi::ErrorBody;

/// A list of tokens (never their values).
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

/// What makes a token.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What it is for (1–64 characters, surrounding spaces trimmed).
    pub name: String,
    /// `read`, `write` (default) or `admin`: never beyond the owner's role.
    #[serde(default)]
    #[schema(value_type = Option<Scope>)]
    pub scope: Option<String>,
    /// A number of days from 1 to 3650, like `90d` or `90` (default 90 days), or `never`
    /// (admins only).
    #[serde(default)]
    pub expires: Option<String>,
}

impl NewToken {
    pub fn spec(self) -> Result<Spec, Error> {
        Ok(Spec {
            name: self.name,
            scope: Scope::parse(self.scope.as_deref().unwrap_or("write"))?,
            lifetime: Lifetime::parse(self.expires.as_deref().unwrap_or(""))?,
        })
    }
}

/// Tokens are managed with a person's session, never with a token.
fn by_session(session: &Session) -> Result<(), Error> {
    if session.scope.is_some() {
        return Err(Error::Token(TokenRefusal::Scope));
    }
    Ok(())
}

/// List one's API tokens, newest first (never their values).
#[utoipa::path(
    get,
    path = "/api/v1/me/tokens",
    tag = "tokens",
    operation_id = "listTokens",
    responses(
        (status = 200, description = "One's tokens, revoked and expired ones included.", body = TokenList),
        (status = 403, description = "Authenticated with an API token: tokens are managed only from a signed-in session.", body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<App>,
    ApiSession(session): ApiSession,
) -> Result<Json<TokenList>, ApiError> {
    by_session(&session)?;
    let user = &session.user;
    let tokens = tokens::list(&app.chat, Actor::User(user), user.id).await?;
    Ok(Json(TokenList { tokens }))
}

/// Make an API token; its value is answered this once.
#[utoipa::path(
    post,
    path = "/api/v1/me/tokens",
    tag = "tokens",
    operation_id = "createToken",
    request_body = NewToken,
    responses(
        (status = 201, description = "The token made, with its value (`token`), shown only now.", body = Made),
        (status = 400, description = "Not a JSON object of the fields above, a name that is empty, too long or holds control characters, an unknown scope or a bad expiry.", body = ErrorBody),
        (status = 403, description = "Authenticated with an API token (tokens are managed only from a signed-in session); a token that never expires, for someone who is not an admin; a scope above one's role.", body = ErrorBody),
        (status = 409, description = "One already has 50 working tokens: revoke one first.", body = ErrorBody),
    )
)]
pub async fn create(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<Response, ApiError> {
    by_session(&session)?;
    let user = &session.user;
    let made: Made = tokens::create(&app.chat, Actor::User(user), user.id, new.spec()?).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// Revoke one of one's API tokens: it stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/me/tokens/{id}",
    tag = "tokens",
    operation_id = "revokeToken",
    params(("id" = i64, Path, description = "The token's id.")),
    responses(
        (status = 204, description = "Revoked; the sockets it opened are closed."),
        (status = 403, description = "Authenticated with an API token: tokens are managed only from a signed-in session.", body = ErrorBody),
        (status = 404, description = "None of one's working tokens has this id.", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    by_session(&session)?;
    let user = &session.user;
    tokens::revoke(&app.chat, Actor::User(user), user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
