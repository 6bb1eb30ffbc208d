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
use crate::web::openapi::ErrorBody;

/// One's email address, whether it is verified, and whether notifications are emailed.
#[utoipa::path(
    get,
    path = "/api/v1/me/email",
    tag = "email",
    operation_id = "getEmail",
    responses((status = 200, description = "One's address (`address` is `null` without one).", body = EmailState)),
)]
pub async fn state(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<EmailState>, ApiError> {
    Ok(Json(email::state(&app.chat, &s.user).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EmailChange)]
pub struct Change {
    /// A new address: unverified until its link is opened.
    #[serde(default)]
    address: Option<String>,
    /// Notification emails on or off.
    #[serde(default)]
    notify: Option<bool>,
}

/// Set a new address (emailed a link that verifies it) and/or turn notification emails on or off.
#[utoipa::path(
    put,
    path = "/api/v1/me/email",
    tag = "email",
    operation_id = "changeEmail",
    request_body = Change,
    responses(
        (status = 200, description = "The address as it is now; a new one is unverified until its link is opened.", body = EmailState),
        (status = 400, description = "Neither `address` nor `notify` given, not a valid address, `notify` without an address, this server does not send email, or not a JSON object.", body = ErrorBody),
        (status = 409, description = "Another account has verified this address.", body = ErrorBody),
        (status = 429, description = "Too many verification emails (5 an hour); see `Retry-After`.", body = ErrorBody),
    )
)]
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

/// Forget one's address: nothing is emailed to it any more.
#[utoipa::path(
    delete,
    path = "/api/v1/me/email",
    tag = "email",
    operation_id = "removeEmail",
    responses((status = 204, description = "The address is forgotten (or there was none).")),
)]
pub async fn remove(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<StatusCode, ApiError> {
    email::remove(&app.chat, &s.user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EmailVerify)]
pub struct Verify {
    /// The token of the emailed link; none: email a new link.
    #[serde(default)]
    token: Option<String>,
}

/// Verify one's address with the token of the emailed link, or (without a token) email a new link.
#[utoipa::path(
    post,
    path = "/api/v1/me/email/verify",
    tag = "email",
    operation_id = "verifyEmail",
    request_body = Verify,
    responses(
        (status = 200, description = "The address as it is now: verified, or sent a new link.", body = EmailState),
        (status = 400, description = "No address to verify, the address is already verified, this server does not send email, or not a JSON object.", body = ErrorBody),
        (status = 404, description = "No link of one's own has this token.", body = ErrorBody),
        (status = 409, description = "Another account verified this address first.", body = ErrorBody),
        (status = 410, description = "The link has expired or was already used.", body = ErrorBody),
        (status = 429, description = "Too many verification emails (5 an hour); see `Retry-After`.", body = ErrorBody),
    )
)]
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
