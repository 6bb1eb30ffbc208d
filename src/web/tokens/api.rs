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

/// A list of tokens (never their values).
#[derive(Serialize)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

/// What makes a token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What it is for (1–64 characters).
    pub name: String,
    /// `read`, `write` (default) or `admin`: never beyond the owner's role.
    #[serde(default)]
    pub scope: Option<String>,
    /// A number of days like `90d` (default 90 days), or `never` (admins only).
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

/// GET /api/v1/me/tokens
pub async fn list(
    State(app): State<App>,
    ApiSession(session): ApiSession,
) -> Result<Json<TokenList>, ApiError> {
    by_session(&session)?;
    let user = &session.user;
    let tokens = tokens::list(&app.chat, Actor::User(user), user.id).await?;
    Ok(Json(TokenList { tokens }))
}

/// POST /api/v1/me/tokens: 201 with the token's value, shown this once.
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

/// DELETE /api/v1/me/tokens/{id}: 204; it stops working at once.
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
