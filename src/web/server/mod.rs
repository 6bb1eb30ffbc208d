//! The HTTP server loop: accepts connections up to a cap and serves each with hyper, closing
//! those that are slow to send a request, idle too long between requests, or that stop
//! reading their answers. A WebSocket, once upgraded, keeps its own timeouts (`web::ws`).

mod timeouts;

pub use timeouts::Conn;
use timeouts::{Busy, Guarded};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// How long connections may take to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);
/// At most one "connection limit reached" line this often.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// What bounds a connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// To send a request's head, once the connection is ready for one; and, while a request
    /// is answered, to take each part of the answer.
    pub request_timeout: Duration,
    /// To start the next request after the last answer.
    pub keep_alive: Duration,
    /// Connections open at once; past it new ones get a 503 and are closed.
    pub max_connections: usize,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub open: AtomicU64,
    pub refused: AtomicU64,
    pub timed_out: AtomicU64,
}

/// Serves `router` on `listener` until `shutdown` resolves, then gives open connections up to
/// [`DRAIN`] to finish.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stats: Arc<ServerStats>,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut refusals = Refusals::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refuse(&stream);
            stats.refused.fetch_add(1, Ordering::Relaxed);
            refusals.note(limits.max_connections);
            continue;
        };
        // Small frames must not wait for the peer's delayed ACK (Nagle): docs/performance.md.
        let _ = stream.set_nodelay(true);
        // The permit lives with the stream: a WebSocket holds it after hyper lets go.
        let open = Open::new(permit, stats.clone());
        let (router, stopping) = (router.clone(), stopping.clone());
        tokio::spawn(serve_connection(
            stream, open, peer, router, limits, stopping,
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let drained = tokio::time::timeout(DRAIN, permits.acquire_many(all)).await;
    if drained.is_err() {
        tracing::warn!(
            open = stats.open.load(Ordering::Relaxed),
            "connections still open after {} s of shutdown; closing them",
            DRAIN.as_secs()
        );
    }
}

async fn serve_connection(
    stream: TcpStream,
    open: Open,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let conn = Arc::new(Conn::new(limits));
    let io = TokioIo::new(Guarded::new(stream, open, conn.clone()));
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(conn.clone());
        let busy = Busy::begin(conn.clone());
        let answer = router.clone().oneshot(req.map(Body::new));
        async move {
            let res = answer.await;
            drop(busy);
            res
        }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(served);
    let result = tokio::select! {
        result = served.as_mut() => result,
        _ = stopping.changed() => {
            served.as_mut().graceful_shutdown();
            served.await
        }
    };
    if let Err(err) = result {
        tracing::debug!(%peer, error = %err, "connection ended");
    }
}

/// One open connection's place under the cap, and its count in the stats, while it lives.
pub(super) struct Open {
    _permit: tokio::sync::OwnedSemaphorePermit,
    stats: Arc<ServerStats>,
    timed_out: bool,
}

impl Open {
    fn new(permit: tokio::sync::OwnedSemaphorePermit, stats: Arc<ServerStats>) -> Open {
        stats.open.fetch_add(1, Ordering::Relaxed);
        Open {
            _permit: permit,
            stats,
            timed_out: false,
        }
    }

    /// The connection is being closed for a timeout: counted once.
    pub(super) fn timed_out(&mut self) {
        if !self.timed_out {
            self.timed_out = true;
            self.stats.timed_out.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Answers a connection over the cap with a 503 and closes it, without a task or a wait: a
/// new socket's send buffer is empty, so the short answer is written at once or not at all.
fn refuse(stream: &TcpStream) {
    const ANSWER: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
        retry-after: 5\r\nconnection: close\r\ncontent-length: 40\r\n\r\n\
        the server has too many connections open\n";
    let _ = stream.try_write(ANSWER);
}

/// Logs the first refusal, then at most one line per [`REFUSAL_LOG_EVERY`] with a count.
#[derive(Default)]
struct Refusals {
    last_log: Option<Instant>,
    since: u64,
}

impl Refusals {
    fn note(&mut self, max: usize) {
        self.since += 1;
        if self
            .last_log
            .is_some_and(|at| at.elapsed() < REFUSAL_LOG_EVERY)
        {
            return;
        }
        tracing::warn!(
            max_connections = max,
            refused = self.since,
            "connection limit reached: {max} connections are open, refusing new ones with 503 \
             (raise max_connections, and the open-file limit, if this is real traffic)"
        );
        self.last_log = Some(Instant::now());
        self.since = 0;
    }
}

/// Errors of `accept` that concern the listener rather than one peer (out of file
/// descriptors) are logged and waited out briefly, so the loop does not spin.
async fn accept_failed(err: &io::Error) {
    let per_connection = matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    );
    if !per_connection {
        tracing::error!(error = %err, "cannot accept connections");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
