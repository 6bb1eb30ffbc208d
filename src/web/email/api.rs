//! The email JSON API: one's address, its verification, and whether notifications are emailed.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::chat::email::{self, State as EmailState};
use crate::error::Error;
use crate::web::App;
use crate::web::api::{ApiError, ApiJson};
use crate::web::auth::ApiSession;

/// GET /api/v1/me/email
pub async fn state(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<EmailState>, ApiError> {
    Ok(Json(email::state(&app.chat, &s.user).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// A new address: unverified until its link is opened.
    #[serde(default)]
    address: Option<String>,
    /// Notification emails on or off.
    #[serde(default)]
    notify: Option<bool>,
}

/// PUT /api/v1/me/email: `address` and/or `notify`.
pub async fn change(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(change): ApiJson<Change>,
) -> Result<Json<EmailState>, ApiError> {
    if change.address.is_none() && change.notify.is_none() {
        return Err(Error::invalid("give address or notify").into());
    }
    let mut state = email::state(&app.chat, &s.user).await?;
    if let Some(address) = &change.address {
        state = email::set_address(&app.chat, &s.user, address).await?;
    }
    if let Some(on) = change.notify {
        state = email::set_notify(&app.chat, &s.user, on).await?;
    }
    Ok(Json(state))
}

/// DELETE /api/v1/me/email
pub async fn remove(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<StatusCode, ApiError> {
    email::remove(&app.chat, &s.user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    /// The token of the emailed link; none: email a new link.
    #[serde(default)]
    token: Option<String>,
}

/// POST /api/v1/me/email/verify: `{"token"}` verifies the address with the emailed link's
/// token (one's own only); `{}` emails a new link.
pub async fn verify(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(body): ApiJson<Verify>,
) -> Result<Json<EmailState>, ApiError> {
    let Some(token) = body.token else {
        return Ok(Json(email::resend(&app.chat, &s.user).await?));
    };
    let (owner, _) = email::check_link(&app.chat, &token).await?;
    if owner.id != s.user.id {
        return Err(Error::NotFound.into());
    }
    email::verify(&app.chat, &token).await?;
    Ok(Json(email::state(&app.chat, &s.user).await?))
}
