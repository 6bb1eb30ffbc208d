//! The web server: application state, the router and its middleware, and the launch function.

pub mod account;
pub mod admin;
pub mod api;
pub mod api_chat;
pub mod api_messages;
pub mod app;
pub mod assets;
pub mod auth;
pub mod email;
pub mod files;
pub mod guard;
pub mod html;
pub mod invites;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod outgoing;
pub mod pages;
pub mod pictures;
pub mod posted;
pub mod rooms;
pub mod search;
pub mod server;
pub mod strict;
pub mod support;
pub mod tokens;
pub mod webhooks;
pub mod ws;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{Extensions, HeaderMap, StatusCode, Version, header};
use axum::routing::{get, post};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};

use crate::chat::Chat;
use crate::chat::auth::SignIns;
use crate::config::Config;
use crate::db::Db;
use crate::error::Result;
use crate::store::users;

pub use assets::Assets;

/// Everything a handler may ask for, behind one `Arc`: a request clones it several times
/// (router, middleware, extractors), and one counter is cheaper than one per field.
#[derive(Clone)]
pub struct App(Arc<Shared>);

impl std::ops::Deref for App {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<App> for Arc<Config> {
    fn from_ref(app: &App) -> Self {
        app.config.clone()
    }
}

impl FromRef<App> for Arc<Assets> {
    fn from_ref(app: &App) -> Self {
        app.assets.clone()
    }
}

/// The state itself; each field is a cheap handle.
pub struct Shared {
    pub db: Db,
    pub config: Arc<Config>,
    pub sign_ins: Arc<SignIns>,
    pub setup: Arc<SetupToken>,
    pub assets: Arc<Assets>,
    pub chat: Chat,
    pub metrics: Arc<metrics::Metrics>,
    /// Connections open, refused and timed out.
    pub server: Arc<server::ServerStats>,
}

/// The one-time token that lets the first admin be created in the browser.
#[derive(Default)]
pub struct SetupToken(Mutex<Option<String>>);

impl SetupToken {
    pub fn current(&self) -> Option<String> {
        self.0.lock().expect("setup lock").clone()
    }

    pub fn matches(&self, token: &str) -> bool {
        self.current()
            .is_some_and(|t| crate::chat::secrets::same_secret(&t, token))
    }

    pub fn clear(&self) {
        *self.0.lock().expect("setup lock") = None;
    }
}

impl App {
    /// Builds the state; while no admin exists, a setup token is made.
    pub async fn new(db: Db, config: Config) -> Result<App> {
        App::build(db, config, None).await
    }

    /// The same, with the outbound client given (tests pass one with their own resolver).
    pub async fn with_fetch(db: Db, config: Config, fetch: crate::net::Client) -> Result<App> {
        App::build(db, config, Some(fetch)).await
    }

    async fn build(db: Db, config: Config, fetch: Option<crate::net::Client>) -> Result<App> {
        let setup = SetupToken::default();
        if !db.read_blocking(users::any_admin)? {
            *setup.0.lock().expect("setup lock") = Some(crate::chat::secrets::new_token());
        }
        let config = Arc::new(config);
        let sign_ins = Arc::new(SignIns::load(&db).await?);
        let blobs = crate::blobs::Blobs::connect(&config).await?;
        Ok(App(Arc::new(Shared {
            chat: match fetch {
                Some(fetch) => Chat::new(db.clone(), config.clone()).with_fetch(fetch),
                None => Chat::new(db.clone(), config.clone()),
            }
            .with_blobs(blobs),
            db,
            config,
            sign_ins,
            setup: Arc::new(setup),
            assets: Arc::new(Assets::index()),
            metrics: Arc::default(),
            server: Arc::default(),
        })))
    }

    /// The URL where the first admin is created, while none exists.
    pub fn setup_url(&self, addr: SocketAddr) -> Option<String> {
        let token = self.setup.current()?;
        let base = if self.config.base_url.is_empty() {
            format!("http://{addr}")
        } else {
            self.config.base_url.clone()
        };
        Some(format!("{base}/setup?token={token}"))
    }
}

/// Every route, with the middleware every response passes through.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/login", get(html::login_page).post(html::login))
        .route("/logout", post(html::logout))
        .route("/setup", get(html::setup_page).post(html::setup))
        .route("/healthz", get(html::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/assets/{*path}", get(assets::serve))
        .merge(app::routes())
        .merge(rooms::routes())
        .merge(support::routes())
        .merge(files::routes())
        .merge(search::routes())
        .merge(notify::routes())
        .merge(email::routes())
        .merge(pictures::routes())
        .merge(invites::routes())
        .merge(tokens::routes())
        .merge(webhooks::routes())
        .merge(outgoing::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(openapi::routes())
        .nest("/api/v1", api::routes())
        .fallback(html::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::same_origin,
        ))
        .layer(axum::middleware::from_fn(strict::query))
        .layer(DefaultBodyLimit::max(app.config.max_request_bytes))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::declared_length,
        ))
        .layer(CompressionLayer::new().compress_when(
            // Files answer byte ranges: compressing them would drop their length and ranges.
            DefaultPredicate::new().and(
                |_: StatusCode, _: Version, h: &HeaderMap, _: &Extensions| {
                    !h.contains_key(header::ACCEPT_RANGES)
                },
            ),
        ))
        .layer(axum::middleware::from_fn(guard::security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            metrics::track,
        ))
        .with_state(app)
}

/// Serves until `shutdown` resolves, then lets in-flight requests and writes finish.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let db = app.db.clone();
    let hub = app.chat.hub.clone();
    hub.start_fanout();
    let upkeep = [
        tokio::spawn(crate::chat::upkeep::watch_other_processes(app.chat.clone())),
        tokio::spawn(crate::chat::upkeep::prune(app.chat.clone())),
        tokio::spawn(crate::chat::outbox::work(app.chat.clone())),
        tokio::spawn(crate::chat::notify::alert_pages(app.chat.clone())),
    ];
    let limits = server::Limits {
        request_timeout: Duration::from_secs(app.config.request_timeout_secs),
        keep_alive: Duration::from_secs(app.config.keep_alive_secs),
        max_connections: app.config.max_connections,
    };
    let stats = app.server.clone();
    let writer = db.writer().clone();
    let (failure_tx, failure) = tokio::sync::oneshot::channel();
    let shutdown = async move {
        tokio::select! {
            () = shutdown => {}
            // Reads would still answer, every write would fail: better to stop, so that the
            // supervisor starts a fresh process.
            reason = writer.failed() => {
                let _ = failure_tx.send(reason);
            }
        }
        // Sockets outlive graceful HTTP shutdown unless told to close.
        hub.kick_all(crate::hub::CLOSE_SHUTDOWN);
    };
    server::run(listener, router(app), limits, stats, shutdown).await;
    for task in upkeep {
        task.abort();
    }
    tokio::task::spawn_blocking(move || db.writer().shutdown())
        .await
        .map_err(|e| crate::Error::Internal(format!("writer shutdown: {e}")))?;
    match failure.await {
        Ok(reason) => Err(crate::Error::Internal(format!(
            "the database writer stopped ({reason}); the server stopped with it"
        ))),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests;

/// The log span of a request: its method and path, with the secrets a path may carry (a
/// webhook's, an invite's, a password link's) left out, and never its query.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()))
}

/// A path as logs may show it: the part after `/hooks/`, `/join/` or `/password/` replaced.
pub fn loggable_path(path: &str) -> String {
    for prefix in ["/hooks/", "/join/", "/password/"] {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
        {
            return format!("{prefix}…");
        }
    }
    path.to_owned()
}
