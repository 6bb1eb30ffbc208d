//! The outbox worker: takes due jobs (link cards, pushes, emails, webhooks) off the writer, runs each through
//! its kind's function, and records the outcome: done, retried with backoff, or given up.

use std::time::Duration;

use super::{Chat, cards, email, outgoing, push};
use crate::domain::now_ms;
use crate::error::Error;
use crate::net::FetchError;
use crate::store::outbox;

/// How long a taken job is left alone before another worker may take it again (a crash
/// midway).
const LEASE_MS: i64 = 60_000;
/// Jobs taken at once.
const BATCH: usize = 8;

/// Why a job did not finish: worth another try later (after at least the given time, when the
/// other side said so), or never.
#[derive(Debug)]
pub enum Failure {
    Later(String),
    LaterThan(String, Duration),
    Permanent(String),
}

impl From<FetchError> for Failure {
    fn from(err: FetchError) -> Self {
        match err {
            FetchError::TimedOut | FetchError::Transport(_) | FetchError::Lookup { .. } => {
                Failure::Later(err.to_string())
            }
            FetchError::Status(code) if code == 429 || code >= 500 => {
                Failure::Later(err.to_string())
            }
            other => Failure::Permanent(other.to_string()),
        }
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        match err {
            Error::NotFound => Failure::Permanent("the message is gone".into()),
            other => Failure::Later(other.to_string()),
        }
    }
}

/// What a kind of job is: its function's name for logs, how often it is tried, and how long
/// it waits before the n-th retry.
struct Kind {
    what: &'static str,
    attempts: i64,
    backoff: fn(i64) -> i64,
}

fn kind(name: &str) -> Option<Kind> {
    match name {
        cards::JOB => Some(Kind {
            what: "a link card",
            attempts: cards::ATTEMPTS,
            // 1 minute, then 5.
            backoff: |attempt| if attempt == 1 { 60_000 } else { 300_000 },
        }),
        push::JOB | push::LATER | push::RETRY => Some(Kind {
            what: "a push",
            attempts: push::ATTEMPTS,
            backoff: push::backoff_ms,
        }),
        email::BATCH | email::SEND => Some(Kind {
            what: "an email",
            attempts: email::ATTEMPTS,
            backoff: email::backoff_ms,
        }),
        outgoing::JOB => Some(Kind {
            what: "a webhook delivery",
            attempts: outgoing::ATTEMPTS,
            backoff: outgoing::backoff_ms,
        }),
        _ => None,
    }
}

/// Takes due jobs and runs them until the server stops.
pub async fn work(chat: Chat) {
    loop {
        let now = now_ms();
        let jobs = chat
            .db
            .read(move |conn| outbox::due(conn, now, BATCH))
            .await
            .unwrap_or_default();
        let tasks: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let chat = chat.clone();
                tokio::spawn(async move { run_job(&chat, job).await })
            })
            .collect();
        let busy = !tasks.is_empty();
        for task in tasks {
            let _ = task.await;
        }
        if busy {
            continue;
        }
        let next = chat.db.read(outbox::next_due).await.ok().flatten();
        let wait = next.map_or(Duration::from_secs(60), |at| {
            Duration::from_millis((at - now_ms()).clamp(50, 60_000) as u64)
        });
        tokio::select! {
            () = chat.files.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// One job: leased first (a crash midway retries it after the lease), then run; done, put
/// off with backoff, or given up.
async fn run_job(chat: &Chat, job: outbox::Job) {
    let id = job.id;
    let leased = chat
        .db
        .write(move |ctx| outbox::put_off(ctx.conn, id, now_ms() + LEASE_MS, ""))
        .await;
    if leased.is_err() {
        return;
    }
    let Some(kind) = kind(&job.kind) else {
        tracing::warn!(job = id, kind = %job.kind, "an outbox job of an unknown kind is dropped");
        let _ = chat.db.write(move |ctx| outbox::finish(ctx.conn, id)).await;
        return;
    };
    let attempt = job.attempts + 1;
    let outcome = match job.kind.as_str() {
        cards::JOB => cards::run(chat, &job.payload).await,
        email::BATCH | email::SEND => email::run(chat, &job.kind, &job.payload).await,
        outgoing::JOB => outgoing::run(chat, &job.payload, attempt).await,
        _ => push::run(chat, &job.kind, &job.payload).await,
    };
    let what = kind.what;
    let result = match outcome {
        Ok(()) => chat.db.write(move |ctx| outbox::finish(ctx.conn, id)).await,
        Err(Failure::Permanent(why)) => {
            tracing::debug!(job = id, reason = %why, "{what} cannot be made");
            chat.db.write(move |ctx| outbox::finish(ctx.conn, id)).await
        }
        Err(Failure::Later(why) | Failure::LaterThan(why, _)) if attempt >= kind.attempts => {
            tracing::info!(job = id, attempts = attempt, reason = %why, "giving up on {what}");
            chat.db.write(move |ctx| outbox::finish(ctx.conn, id)).await
        }
        Err(failure) => {
            let (why, at_least) = match failure {
                Failure::LaterThan(why, wait) => (why, wait.as_millis() as i64),
                Failure::Later(why) | Failure::Permanent(why) => (why, 0),
            };
            let wait = (kind.backoff)(attempt).max(at_least);
            chat.db
                .write(move |ctx| outbox::retry_at(ctx.conn, id, now_ms() + wait, &why))
                .await
        }
    };
    if let Err(err) = result {
        tracing::warn!(job = id, error = %err, "recording an outbox job's outcome failed");
    }
}
