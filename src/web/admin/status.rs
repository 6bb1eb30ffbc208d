//! The console's front page: the server's version and uptime, the database and its WAL, the
//! attachments' bytes, who is connected, and when the last backup was made.

use axum::extract::State;
use maud::{Markup, html};
use serde::Serialize;
use std::sync::atomic::Ordering;

use super::{AdminPage, Section, console, shell};
use crate::error::{Error, Result};
use crate::fragments::{clock, day, iso};
use crate::ops::stats::human_bytes;
use crate::web::App;
use crate::web::html::PageError;

/// How the server is doing, as the status page and `GET /api/v1/admin/status` show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ServerStatus)]
pub struct Status {
    pub version: &'static str,
    pub started_at: i64,
    pub uptime_secs: i64,
    pub db_bytes: u64,
    pub wal_bytes: u64,
    pub attachment_bytes: i64,
    pub people: i64,
    pub active_people: i64,
    pub connected_people: usize,
    pub sockets: i64,
    /// Unix ms of the last backup this server made on schedule; `null` before the first.
    pub last_backup_at: Option<i64>,
}

/// Gathers the status (the counts and file sizes are read off the async threads).
pub async fn gather(app: &App) -> Result<Status> {
    let dir = app.config.data_dir.clone();
    let stats = tokio::task::spawn_blocking(move || crate::ops::stats::gather(&dir))
        .await
        .map_err(|e| Error::Internal(format!("status: {e}")))??;
    let started = app.metrics.started_unix() * 1000;
    let now = crate::domain::now_ms();
    let backup = app.metrics.last_backup_unix.load(Ordering::Relaxed);
    Ok(Status {
        version: env!("CARGO_PKG_VERSION"),
        started_at: started,
        uptime_secs: (now - started) / 1000,
        db_bytes: stats.db_bytes,
        wal_bytes: stats.wal_bytes,
        attachment_bytes: stats.attachment_bytes,
        people: stats.users,
        active_people: stats.active_users,
        connected_people: app.chat.hub.connected_users().len(),
        sockets: app.chat.hub.stats().sockets.load(Ordering::Relaxed),
        last_backup_at: (backup > 0).then_some(backup * 1000),
    })
}

/// GET /admin
pub async fn page(
    State(app): State<App>,
    AdminPage(session): AdminPage,
) -> Result<Markup, PageError> {
    let status = gather(&app).await?;
    Ok(console(
        shell(&app, &session),
        Section::Status,
        "Admin",
        None,
        view(&status),
    ))
}

fn uptime(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

fn view(s: &Status) -> Markup {
    let at = |ms: i64| html! { time datetime=(iso(ms)) { (day(ms)) " " (clock(ms)) } };
    html! {
        section aria-labelledby="status-title" {
            h1 #status-title { "Status" }
            dl.status {
                div { dt { "Version" } dd { "Hearth " (s.version) } }
                div { dt { "Running for" } dd { (uptime(s.uptime_secs)) " (since " (at(s.started_at)) ")" } }
                div { dt { "Database" } dd { (human_bytes(s.db_bytes)) " + " (human_bytes(s.wal_bytes)) " write-ahead log" } }
                div { dt { "Attachments" } dd { (human_bytes(u64::try_from(s.attachment_bytes).unwrap_or(0))) } }
                div { dt { "People" } dd { (s.active_people) " active of " (s.people) } }
                div { dt { "Connected now" } dd { (s.connected_people) @if s.connected_people == 1 { " person" } @else { " people" } ", " (s.sockets) @if s.sockets == 1 { " socket" } @else { " sockets" } } }
                div { dt { "Last backup" } dd {
                    @match s.last_backup_at {
                        Some(ms) => (at(ms)),
                        None => "None since this server started (see scheduled backups in the operations guide)",
                    }
                } }
            }
        }
    }
}
