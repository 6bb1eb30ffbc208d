//! Bots in the admin console: the list and the form that makes one (`/admin/bots`), each
//! bot's page with its tokens, and the same as JSON under `/api/v1/admin/bots`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::{AdminPage, Section, console, shell};
use crate::chat::actor::Actor;
use crate::chat::tokens::Made;
use crate::chat::{bots, tokens};
use crate::domain::User;
use crate::error::Error;
use crate::store::tokens::Token;
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;
use crate::web::html::PageError;
use crate::web::openapi::ErrorBody;
use crate::web::pages::{csrf_field, stamp};
use crate::web::posted::{Plain, Posted};
use crate::web::tokens::pages::{TokensView, section as tokens_section};
use crate::web::tokens::{api::NewToken, scopes_for, shown, spec};

fn list_view(list: &[User], csrf: &str, error: Option<&str>) -> Markup {
    html! {
        h1 { "Bots" }
        @if let Some(error) = error { p.error role="alert" { (error) } }
        section.card.wide aria-labelledby="new-bot-title" {
            h2 #new-bot-title { "Make a bot" }
            p.hint { "A bot has no password and never signs in: it acts through its tokens. Add it to conversations like a person; it is marked as a bot wherever it appears." }
            form method="post" action="/admin/bots" {
                (csrf_field(csrf))
                p { label for="bot-username" { "Username" } input #bot-username type="text" name="username" required maxlength="32"; }
                p { label for="bot-name" { "Display name" } input #bot-name type="text" name="display_name" maxlength="64" placeholder="Optional"; }
                button type="submit" { "Make bot" }
            }
        }
        section.card.wide aria-labelledby="bots-title" {
            h2 #bots-title { "Bots" }
            @if list.is_empty() {
                p.hint { "None yet." }
            } @else {
                ul.bot-list {
                    @for b in list {
                        li {
                            a href={ "/admin/bots/" (b.username) } { (b.display_name) } " "
                            span.bot-badge { "bot" } " @" (b.username) " · made " (stamp(b.created_at))
                            @if b.deactivated { " · " strong { "deactivated" } }
                        }
                    }
                }
            }
        }
    }
}

async fn render_list(
    app: &App,
    session: &AdminPage,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    let me = &session.0.0.user;
    let list = bots::list(&app.chat, Actor::User(me)).await?;
    let content = list_view(
        &list,
        &session.0.0.csrf_token,
        error.as_ref().map(|e| e.1.as_str()),
    );
    let page = console(shell(app, &session.0), Section::Bots, "Bots", None, content);
    Ok((error.map_or(StatusCode::OK, |e| e.0), page).into_response())
}

/// GET /admin/bots
pub async fn page(State(app): State<App>, session: AdminPage) -> Result<Response, PageError> {
    render_list(&app, &session, None).await
}

#[derive(Deserialize)]
pub struct BotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
}
crate::web::posted::csrf_field!(BotForm);

/// POST /admin/bots: makes a bot and opens its page.
pub async fn create(
    State(app): State<App>,
    admin: AdminPage,
    Posted(session, form): Posted<BotForm>,
) -> Result<Response, PageError> {
    let display = Some(form.display_name.as_str()).filter(|d| !d.trim().is_empty());
    match bots::create(
        &app.chat,
        Actor::User(&session.0.user),
        &form.username,
        display,
    )
    .await
    {
        Ok(bot) => Ok(Redirect::to(&format!("/admin/bots/{}", bot.username)).into_response()),
        Err(err) => {
            let status = err.status();
            let message = shown(err)?;
            render_list(&app, &admin, Some((status, message))).await
        }
    }
}

async fn render_bot(
    app: &App,
    session: &AdminPage,
    bot: &User,
    made: Option<(&str, &str)>,
    error: Option<(StatusCode, &str)>,
) -> Result<Response, PageError> {
    let me = &session.0.0.user;
    let list = tokens::list(&app.chat, Actor::User(me), bot.id).await?;
    let base = format!("/admin/bots/{}/tokens", bot.username);
    let scopes = scopes_for(bot);
    let view = TokensView {
        csrf: &session.0.0.csrf_token,
        base: &base,
        tokens: &list,
        scopes: &scopes,
        never: true,
        made,
        error: error.map(|e| e.1),
    };
    let content = html! {
        p { a href="/admin/bots" { "← Bots" } }
        h1 { (bot.display_name) " " span.bot-badge { "bot" } " @" (bot.username) }
        p.hint { "Add it to a conversation from that conversation's members, like a person. Its tokens act as it." }
        (tokens_section(&view))
    };
    let page = console(
        shell(app, &session.0),
        Section::Bots,
        &bot.display_name,
        None,
        content,
    );
    Ok((error.map_or(StatusCode::OK, |e| e.0), page).into_response())
}

/// GET /admin/bots/{username}
pub async fn show(
    State(app): State<App>,
    Path(name): Path<String>,
    session: AdminPage,
) -> Result<Response, PageError> {
    let bot = bots::get(&app.chat, Actor::User(&session.0.0.user), &name).await?;
    render_bot(&app, &session, &bot, None, None).await
}

/// POST /admin/bots/{username}/tokens: makes one of the bot's tokens and shows it, once.
pub async fn create_token(
    State(app): State<App>,
    Path(name): Path<String>,
    admin: AdminPage,
    Posted(session, form): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let me = Actor::User(&session.0.user);
    let bot = bots::get(&app.chat, me, &name).await?;
    let made = match spec(&form) {
        Ok(spec) => tokens::create(&app.chat, me, bot.id, spec).await,
        Err(err) => Err(err),
    };
    match made {
        Ok(made) => {
            let shown = (made.info.name.as_str(), made.token.as_str());
            render_bot(&app, &admin, &bot, Some(shown), None).await
        }
        Err(err) => {
            let status = err.status();
            let message = shown(err)?;
            render_bot(&app, &admin, &bot, None, Some((status, &message))).await
        }
    }
}

/// POST /admin/bots/{username}/tokens/{id}/revoke
pub async fn revoke_token(
    State(app): State<App>,
    Path((name, id)): Path<(String, String)>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let me = Actor::User(&session.0.user);
    let bot = bots::get(&app.chat, me, &name).await?;
    tokens::revoke(&app.chat, me, bot.id, id).await?;
    Ok(Redirect::to(&format!("/admin/bots/{}", bot.username)).into_response())
}

/// The bots, as the API lists them.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BotList {
    pub bots: Vec<User>,
}

/// What makes a bot.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBot {
    /// 1–32 letters, digits, `_`, `.` or `-` (surrounding spaces trimmed); unique regardless
    /// of letter case.
    pub username: String,
    /// 1–64 characters; the username when omitted.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A bot's tokens.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BotTokens {
    pub tokens: Vec<Token>,
}

/// Anyone but an admin (or an admin's token without the admin scope) gets 404.
fn admin_of(session: &ApiSession) -> Result<Actor<'_>, ApiError> {
    if session.0.user.is_admin() {
        Ok(Actor::User(&session.0.user))
    } else {
        Err(ApiError(Error::NotFound))
    }
}

/// List the bot accounts.
#[utoipa::path(
    get,
    path = "/api/v1/admin/bots",
    tag = "admin",
    operation_id = "adminListBots",
    responses(
        (status = 200, description = "Every bot account.", body = BotList),
        (status = 404, description = "Not an admin.", body = ErrorBody),
    )
)]
pub async fn api_list(State(app): State<App>, s: ApiSession) -> Result<Json<BotList>, ApiError> {
    let bots = bots::list(&app.chat, admin_of(&s)?).await?;
    Ok(Json(BotList { bots }))
}

/// Make a bot account: no password, it acts through its tokens.
#[utoipa::path(
    post,
    path = "/api/v1/admin/bots",
    tag = "admin",
    operation_id = "adminCreateBot",
    request_body = NewBot,
    responses(
        (status = 201, description = "The bot.", body = User),
        (status = 400, description = "Not a JSON object of the fields above, or a bad username or display name.", body = ErrorBody),
        (status = 404, description = "Not an admin.", body = ErrorBody),
        (status = 409, description = "The username is taken.", body = ErrorBody),
    )
)]
pub async fn api_create(
    State(app): State<App>,
    s: ApiSession,
    ApiJson(new): ApiJson<NewBot>,
) -> Result<Response, ApiError> {
    let me = admin_of(&s)?;
    let bot = bots::create(&app.chat, me, &new.username, new.display_name.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(bot)).into_response())
}

/// List a bot's API tokens (never their values).
#[utoipa::path(
    get,
    path = "/api/v1/admin/bots/{username}/tokens",
    tag = "admin",
    operation_id = "adminListBotTokens",
    params(("username" = String, Path, description = "The bot's username (any letter case).")),
    responses(
        (status = 200, description = "The bot's tokens, newest first.", body = BotTokens),
        (status = 404, description = "Not an admin, or no bot has this username.", body = ErrorBody),
    )
)]
pub async fn api_tokens(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<BotTokens>, ApiError> {
    let me = admin_of(&s)?;
    let bot = bots::get(&app.chat, me, &name).await?;
    let tokens = tokens::list(&app.chat, me, bot.id).await?;
    Ok(Json(BotTokens { tokens }))
}

/// Make an API token for a bot; its value is answered this once.
#[utoipa::path(
    post,
    path = "/api/v1/admin/bots/{username}/tokens",
    tag = "admin",
    operation_id = "adminCreateBotToken",
    params(("username" = String, Path, description = "The bot's username (any letter case).")),
    request_body = NewToken,
    responses(
        (status = 201, description = "The token made, with its value (`token`), shown only now.", body = Made),
        (status = 400, description = "Not a JSON object of the fields above, a bad name, scope or expiry, or the bot is deactivated.", body = ErrorBody),
        (status = 403, description = "A scope above the bot's role.", body = ErrorBody),
        (status = 404, description = "Not an admin, or no bot has this username.", body = ErrorBody),
        (status = 409, description = "The bot already has 50 working tokens: revoke one first.", body = ErrorBody),
    )
)]
pub async fn api_create_token(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(name): ApiPath<String>,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<Response, ApiError> {
    let me = admin_of(&s)?;
    let bot = bots::get(&app.chat, me, &name).await?;
    let made = tokens::create(&app.chat, me, bot.id, new.spec()?).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// Revoke a bot's API token: it stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/bots/{username}/tokens/{id}",
    tag = "admin",
    operation_id = "adminRevokeBotToken",
    params(
        ("username" = String, Path, description = "The bot's username (any letter case)."),
        ("id" = i64, Path, description = "The token's id."),
    ),
    responses(
        (status = 204, description = "Revoked; the sockets it opened are closed."),
        (status = 404, description = "Not an admin, no bot has this username, or it has no working token with this id.", body = ErrorBody),
    )
)]
pub async fn api_revoke_token(
    State(app): State<App>,
    s: ApiSession,
    ApiPath((name, id)): ApiPath<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    let me = admin_of(&s)?;
    let bot = bots::get(&app.chat, me, &name).await?;
    tokens::revoke(&app.chat, me, bot.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_marks_bots_and_links_each() {
        let bot = User {
            id: 9,
            username: "ci".into(),
            display_name: "CI".into(),
            role: crate::domain::Role::Member,
            deactivated: false,
            created_at: 0,
            avatar: None,
            bot: true,
        };
        let html = list_view(&[bot], "c", None).into_string();
        assert!(html.contains(r#"href="/admin/bots/ci""#), "{html}");
        assert!(html.contains("bot-badge"), "{html}");
    }
}
