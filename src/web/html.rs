//! Page handlers: sign in and out, first-admin setup, home, health. Thin: extract, call, render.

use axum::extract::{FromRequest, Query, RawForm, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::App;
use super::auth::{
    ClientIp, PageSession, session_token, sign_in_client, signed_in_cookies, signed_out_headers,
};
use super::pages::{self, Shell, auth::LoginView, auth::SetupView};
use super::posted::{Plain, Posted};
use crate::chat::accounts::{self, NewUser};
use crate::chat::auth;
use crate::domain::{Role, now_ms};
use crate::error::Error;

/// An error shown as a page with its status.
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(err: Error) -> Self {
        PageError(err)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let err = self.0;
        if err.status().is_server_error() && err.retry_after().is_none() {
            tracing::error!(error = %err, "page failed");
        }
        let shell = Shell {
            assets: None,
            user: None,
            instance: None,
        };
        let page = pages::error_page(shell, err.status().as_u16(), &err.public_message());
        let mut res = (err.status(), page).into_response();
        if let Some(retry_after) = err.retry_after() {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        res
    }
}

pub(crate) fn shell<'a>(app: &'a App, session: Option<&'a PageSession>) -> Shell<'a> {
    Shell {
        assets: Some(&app.assets),
        user: session.map(|PageSession(s)| (&s.user, s.csrf_token.as_str())),
        instance: Some(&app.chat.instance),
    }
}

/// Where people reach this server: `base_url` when set, else the request's Host (plain
/// http: behind https, set `base_url`).
pub fn base_url(config: &crate::config::Config, headers: &HeaderMap) -> String {
    if !config.base_url.is_empty() {
        return config.base_url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Reads a page form: the one reader of every form a page posts. A body that is not a form, a
/// field missing or of the wrong kind, or an escape that does not decode to UTF-8 is a 400
/// page saying so (413 when too large); nothing is stored that the person did not send.
pub(super) async fn form<T: DeserializeOwned, S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<T, PageError> {
    let unreadable =
        |why: &str| PageError(Error::invalid(format!("the form could not be read: {why}")));
    let RawForm(body) = RawForm::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            PageError(Error::TooLarge("the form is too large".into()))
        } else {
            unreadable(&e.body_text())
        }
    })?;
    if !super::strict::decodes_to_utf8(&body) {
        return Err(unreadable("it is not valid percent-encoded UTF-8"));
    }
    serde_urlencoded::from_bytes(&body).map_err(|e| unreadable(&e.to_string()))
}

/// A page form read by [`form`], for the forms posted before there is a session.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        form(req, state).await.map(PageForm)
    }
}

/// GET /
pub async fn home(State(app): State<App>, session: PageSession) -> Markup {
    pages::home(shell(&app, Some(&session)), &session.0.user)
}

/// Where a sign-in may send one afterwards: a path on this site, never another site.
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && next.len() <= 8192;
    ok.then_some(next)
}

#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: String,
}

/// GET /login (`?next=/path`: where to go once signed in). A visitor whose session someone
/// else ended (an admin's reset) is told why.
pub async fn login_page(
    State(app): State<App>,
    headers: HeaderMap,
    session: Option<PageSession>,
    next: Result<Query<Next>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let next = next.map(|Query(n)| n.next).unwrap_or_default();
    let next = local_path(&next).unwrap_or("");
    if session.is_some() {
        return Ok(Redirect::to(if next.is_empty() { "/" } else { next }).into_response());
    }
    let ended = match session_token(&headers) {
        Some(token) => Some(auth::ended_reason(&app.db, token).await?),
        None => None,
    };
    let view = LoginView {
        needs_setup: app.setup.current().is_some(),
        next,
        notice: ended.as_deref().filter(|r| *r != "not signed in"),
        signup: app.config.open_signup,
        ..Default::default()
    };
    Ok(pages::auth::login(shell(&app, None), view).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// POST /login
pub async fn login(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    PageForm(f): PageForm<LoginForm>,
) -> Result<Response, PageError> {
    let outcome = if f.username.len() > 256 || f.password.len() > 4096 {
        Err(Error::invalid("username or password too long"))
    } else {
        let client = sign_in_client(ip, &headers);
        auth::login(&app.chat, &app.sign_ins, &f.username, &f.password, client).await
    };
    match outcome {
        Ok(session) => {
            let cookies = signed_in_cookies(&app.config, &session, "/login");
            let to = local_path(&f.next).unwrap_or("/");
            Ok((cookies, Redirect::to(to)).into_response())
        }
        Err(
            err @ (Error::Unauthorized(_)
            | Error::RateLimited { .. }
            | Error::Busy { .. }
            | Error::Invalid(_)),
        ) => {
            let message = err.to_string();
            let view = LoginView {
                username: &f.username,
                error: Some(&message),
                signup: app.config.open_signup,
                next: local_path(&f.next).unwrap_or(""),
                ..Default::default()
            };
            let mut res =
                (err.status(), pages::auth::login(shell(&app, None), view)).into_response();
            if let Some(retry_after) = err.retry_after() {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            Ok(res)
        }
        Err(other) => Err(other.into()),
    }
}

/// POST /logout (a form carrying the session's CSRF token)
pub async fn logout(
    State(app): State<App>,
    headers: HeaderMap,
    Posted(..): Posted<Plain>,
) -> Result<Response, PageError> {
    if let Some(token) = session_token(&headers) {
        auth::logout(&app.chat, token).await?;
    }
    Ok((signed_out_headers(&app.config), Redirect::to("/login")).into_response())
}

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

/// GET /setup?token=…
pub async fn setup_page(State(app): State<App>, Query(q): Query<SetupQuery>) -> Response {
    if !app.setup.matches(&q.token) {
        let closed = pages::auth::setup_closed(shell(&app, None), app.setup.current().is_none());
        return (StatusCode::NOT_FOUND, closed).into_response();
    }
    pages::auth::setup(
        shell(&app, None),
        SetupView {
            token: &q.token,
            ..Default::default()
        },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
    confirm: String,
}

/// POST /setup: creates the first admin and signs them in.
pub async fn setup(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    PageForm(f): PageForm<SetupForm>,
) -> Result<Response, PageError> {
    if !app.setup.matches(&f.token) {
        let closed = pages::auth::setup_closed(shell(&app, None), app.setup.current().is_none());
        return Ok((StatusCode::NOT_FOUND, closed).into_response());
    }
    let created = if f.password != f.confirm {
        Err(Error::invalid("the two passwords differ"))
    } else {
        let display = Some(f.display_name.clone()).filter(|d| !d.trim().is_empty());
        let new = NewUser {
            username: f.username.clone(),
            display_name: display,
            password: f.password.clone(),
            role: Role::Admin,
        };
        accounts::create_first_admin(&app.chat, new).await
    };
    match created {
        Ok(admin) => {
            app.setup.clear();
            let device = app.sign_ins.devices.issue(admin.id, now_ms(), None);
            let place = sign_in_client(ip, &headers).place();
            let session = auth::open_session(&app.chat, admin, device, place).await?;
            let cookies = signed_in_cookies(&app.config, &session, "/login");
            Ok((cookies, Redirect::to("/")).into_response())
        }
        Err(err @ (Error::Invalid(_) | Error::Conflict(_))) => {
            let message = err.to_string();
            let view = SetupView {
                token: &f.token,
                username: &f.username,
                display_name: &f.display_name,
                error: Some(&message),
            };
            Ok((err.status(), pages::auth::setup(shell(&app, None), view)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// GET /healthz: 200 when the database answers a read and the writer takes its queue (a
/// round trip through the writer without a transaction).
pub async fn healthz(State(app): State<App>) -> Response {
    let read = app
        .db
        .read(|conn| Ok(conn.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))?));
    let check = async { read.await.and(app.db.writer().ping().await) };
    match check.await {
        Ok(_) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], "ok").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// Anything else.
pub async fn not_found() -> PageError {
    PageError(Error::NotFound)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn sign_in_continues_only_to_a_path_on_this_site() {
        assert_eq!(
            local_path("/new?to=bob&text=hi"),
            Some("/new?to=bob&text=hi")
        );
        assert_eq!(local_path("/"), Some("/"));
        for away in [
            "",
            "new",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/a\nb",
        ] {
            assert_eq!(local_path(away), None, "{away:?}");
        }
    }
}
