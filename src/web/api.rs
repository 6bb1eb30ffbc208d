//! The JSON API (v1): thin handlers over `chat`, and the JSON error shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::auth::{
    ApiSession, ClientIp, cleared_cookie, session_token, sign_in_client, signed_in_cookies,
};
use super::openapi::ErrorBody;
use super::strict::Object;
use crate::chat::auth;
use crate::domain::{Role, User};
use crate::error::Error;

/// What answers under `/api/v1` besides the documented routes: the WebSocket, and JSON
/// errors for paths and methods that do not exist.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/ws", axum::routing::get(super::ws::upgrade))
        .fallback(|| async { ApiError(Error::NotFound) })
        .method_not_allowed_fallback(|| async {
            let mut res =
                ApiError(Error::invalid("method not allowed on this path")).into_response();
            *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            res
        })
}

/// Signing in and out, and who one is.
pub fn documented() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_session, delete_session))
        .routes(routes!(me, super::account::api::rename))
}

/// An error as the API answers it: `{"error": {"code", "message"}}` with its status.
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(err: E) -> Self {
        ApiError(err.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        if err.status().is_server_error() && err.retry_after().is_none() {
            tracing::error!(error = %err, "request failed");
        }
        let body =
            serde_json::json!({"error": {"code": err.code(), "message": err.public_message()}});
        let mut res = (err.status(), Json(body)).into_response();
        if let Some(retry_after) = err.retry_after() {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        res
    }
}

/// A JSON response written into a buffer of about its size (`Json` starts at 128 bytes and
/// grows by copying, which a 25 KB history page felt).
pub fn json_sized(value: &impl Serialize, size_hint: usize) -> Response {
    let mut body = Vec::with_capacity(size_hint);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(err) => {
            ApiError(Error::Internal(format!("serializing a response: {err}"))).into_response()
        }
    }
}

/// A JSON body that must be an object, whose rejections (bad syntax, wrong shape, wrong
/// content type) are API errors. Every JSON body of the API is read by it.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<Object<T>>::from_request(req, state).await {
            Ok(Json(Object(value))) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError(json_rejection(rejection))),
        }
    }
}

/// `Path<T>` whose rejections (an id that is not a number) are API errors.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S>
    for ApiPath<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            // A malformed id names nothing that exists.
            Err(_) => Err(ApiError(Error::NotFound)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> Error {
    match rejection {
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Error::TooLarge("request body too large".into())
        }
        other => Error::invalid(other.body_text()),
    }
}

/// A user as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// `/pictures/<sha256>`, or `null` without a picture.
    pub avatar_url: Option<String>,
    /// `true` for a bot account; absent for people.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            avatar_url: u.avatar.as_deref().map(crate::domain::pictures::url),
            bot: u.bot,
        }
    }
}

#[derive(Deserialize, ToSchema)]
struct Credentials {
    #[schema(max_length = 256)]
    username: String,
    #[schema(max_length = 4096)]
    password: String,
}

/// The person signed in.
#[derive(Serialize, ToSchema)]
struct SignedIn {
    user: UserView,
}

/// Sign in with a username and password; sets the session cookie.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "session",
    security(()),
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in; `Set-Cookie` carries the session.", body = SignedIn),
        (status = 400, description = "Not a JSON object with a username and password, or one too long.", body = ErrorBody),
        (status = 401, description = "Wrong username or password.", body = ErrorBody),
        (status = 429, description = "Too many attempts for this name or address; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn create_session(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    if creds.username.len() > 256 || creds.password.len() > 4096 {
        return Err(Error::invalid("username or password too long").into());
    }
    let client = sign_in_client(ip, &headers);
    let session = auth::login(
        &app.chat,
        &app.sign_ins,
        &creds.username,
        &creds.password,
        client,
    )
    .await?;
    let cookies = signed_in_cookies(&app.config, &session, "/api/v1/session");
    let user = UserView::from(&session.user);
    Ok((cookies, Json(SignedIn { user })).into_response())
}

/// Sign out: ends the session the cookie names (with a token, ends nothing).
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "session",
    responses((status = 204, description = "Signed out; the cookie is cleared.")),
)]
async fn delete_session(
    State(app): State<App>,
    ApiSession(_): ApiSession,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        auth::logout(&app.chat, token).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cleared_cookie(&app.config))],
    )
        .into_response())
}

/// Who the credentials belong to.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "account",
    responses((status = 200, description = "The signed-in person.", body = UserView)),
)]
async fn me(ApiSession(session): ApiSession) -> Json<UserView> {
    Json(UserView::from(&session.user))
}
