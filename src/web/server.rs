//! The HTTP server loop: accepts connections up to a cap and serves each with hyper, closing
//! those that are slow to send a request, idle too long between requests, or that stop
//! reading their answers. A WebSocket, once upgraded, keeps its own timeouts (`web::ws`).

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, Sleep};
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
        let (router, stats, stopping) = (router.clone(), stats.clone(), stopping.clone());
        tokio::spawn(async move {
            serve_connection(stream, open, peer, router, limits, &stats, stopping).await;
        });
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
    stats: &ServerStats,
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
        let timed_out = std::error::Error::source(&err)
            .and_then(|e| e.downcast_ref::<io::Error>())
            .is_some_and(|e| e.kind() == io::ErrorKind::TimedOut);
        if timed_out {
            stats.timed_out.fetch_add(1, Ordering::Relaxed);
        }
        tracing::debug!(%peer, error = %err, "connection ended");
    }
}

/// One open connection's place under the cap, and its count in the stats, while it lives.
struct Open {
    _permit: tokio::sync::OwnedSemaphorePermit,
    stats: Arc<ServerStats>,
}

impl Open {
    fn new(permit: tokio::sync::OwnedSemaphorePermit, stats: Arc<ServerStats>) -> Open {
        stats.open.fetch_add(1, Ordering::Relaxed);
        Open {
            _permit: permit,
            stats,
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

/// Where a connection is in its life, for its timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A request head must be complete by then (from accept, or from its first byte).
    Waiting(Instant),
    /// This many requests are being answered: no read deadline.
    Busy(u32),
    /// Answered everything; closed then unless a new request starts.
    Idle(Instant),
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// The I/O's task, parked on a read without a deadline while a request was answered: woken
    /// when the answer is done so that it arms the keep-alive deadline.
    parked: Option<Waker>,
}

/// The state one connection's I/O shares with the requests it carries (they find it in their
/// extensions: the WebSocket upgrade marks it).
#[derive(Debug)]
pub struct Conn {
    state: Mutex<State>,
    upgraded: AtomicBool,
    limits: Limits,
}

impl Conn {
    fn new(limits: Limits) -> Conn {
        Conn {
            state: Mutex::new(State {
                phase: Phase::Waiting(Instant::now() + limits.request_timeout),
                parked: None,
            }),
            upgraded: AtomicBool::new(false),
            limits,
        }
    }

    /// The connection becomes a WebSocket: these timeouts no longer apply.
    pub fn upgraded(&self) {
        self.upgraded.store(true, Ordering::Release);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("connection state")
    }

    /// When the connection must be closed if nothing changes; `None` while it is busy, in
    /// which case `waker` is kept to be woken when that ends.
    fn read_deadline(&self, waker: Option<&Waker>) -> Option<Instant> {
        let mut state = self.state();
        match state.phase {
            Phase::Waiting(at) | Phase::Idle(at) => Some(at),
            Phase::Busy(_) => {
                if let Some(waker) = waker
                    && !state.parked.as_ref().is_some_and(|w| w.will_wake(waker))
                {
                    state.parked = Some(waker.clone());
                }
                None
            }
        }
    }

    /// Bytes arrived: after an idle spell they start a request, which has its own time.
    fn bytes_arrived(&self, now: Instant) {
        let mut state = self.state();
        if let Phase::Idle(_) = state.phase {
            state.phase = Phase::Waiting(now + self.limits.request_timeout);
        }
    }
}

/// A request being answered; dropped, it may leave the connection idle.
struct Busy(Arc<Conn>);

impl Busy {
    fn begin(conn: Arc<Conn>) -> Busy {
        {
            let mut state = conn.state();
            state.phase = match state.phase {
                Phase::Busy(n) => Phase::Busy(n + 1),
                _ => Phase::Busy(1),
            };
        }
        Busy(conn)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let parked = {
            let mut state = self.0.state();
            state.phase = match state.phase {
                Phase::Busy(1) => Phase::Idle(Instant::now() + self.0.limits.keep_alive),
                Phase::Busy(n) => Phase::Busy(n - 1),
                other => other,
            };
            match state.phase {
                Phase::Idle(_) => state.parked.take(),
                _ => None,
            }
        };
        if let Some(waker) = parked {
            waker.wake();
        }
    }
}

/// A TCP stream that fails with `TimedOut` when its connection's deadline passes while it
/// waits: for a request (read) or for the peer to take an answer (write).
struct Guarded {
    stream: TcpStream,
    _open: Open,
    conn: Arc<Conn>,
    /// Since when a write has been waiting for the peer to read.
    write_stalled: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Guarded {
    fn new(stream: TcpStream, open: Open, conn: Arc<Conn>) -> Guarded {
        Guarded {
            stream,
            _open: open,
            conn,
            write_stalled: None,
            timer: None,
        }
    }

    fn upgraded(&mut self) -> bool {
        if self.conn.upgraded.load(Ordering::Acquire) {
            self.timer = None;
            return true;
        }
        false
    }

    /// Called when an operation is pending: fails once the earliest deadline has passed,
    /// otherwise makes sure the task is woken when it does.
    fn check(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let write = self
            .write_stalled
            .map(|since| since + self.conn.limits.request_timeout);
        let deadline = match (self.conn.read_deadline(Some(cx.waker())), write) {
            (Some(r), Some(w)) => r.min(w),
            (one, other) => match one.or(other) {
                Some(at) => at,
                None => return Poll::Pending,
            },
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client was too slow or idle too long",
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.upgraded() {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.conn.bytes_arrived(Instant::now());
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => this.check(cx).map(Err),
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.upgraded() {
            return Pin::new(&mut this.stream).poll_write(cx, data);
        }
        match Pin::new(&mut this.stream).poll_write(cx, data) {
            Poll::Pending => {
                this.write_stalled.get_or_insert_with(Instant::now);
                this.check(cx).map(Err)
            }
            done => {
                this.write_stalled = None;
                done
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.upgraded() {
            return Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        }
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Pending => {
                this.write_stalled.get_or_insert_with(Instant::now);
                this.check(cx).map(Err)
            }
            done => {
                this.write_stalled = None;
                done
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(Pin::new(&mut self.stream).poll_shutdown(cx))?;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            request_timeout: Duration::from_secs(10),
            keep_alive: Duration::from_secs(60),
            max_connections: 4,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn phases_move_the_deadline() {
        let conn = Arc::new(Conn::new(limits()));
        let start = Instant::now();
        assert_eq!(
            conn.read_deadline(None),
            Some(start + Duration::from_secs(10))
        );
        // Bytes of a first request do not extend its time.
        tokio::time::advance(Duration::from_secs(3)).await;
        conn.bytes_arrived(Instant::now());
        assert_eq!(
            conn.read_deadline(None),
            Some(start + Duration::from_secs(10))
        );
        let a = Busy::begin(conn.clone());
        let b = Busy::begin(conn.clone());
        assert_eq!(
            conn.read_deadline(None),
            None,
            "no read deadline while answering"
        );
        drop(a);
        assert_eq!(conn.read_deadline(None), None, "still answering one");
        tokio::time::advance(Duration::from_secs(1)).await;
        drop(b);
        let idle_from = Instant::now();
        assert_eq!(
            conn.read_deadline(None),
            Some(idle_from + Duration::from_secs(60))
        );
        // The next request's first byte gives it the request time, from that byte.
        tokio::time::advance(Duration::from_secs(20)).await;
        conn.bytes_arrived(Instant::now());
        assert_eq!(
            conn.read_deadline(None),
            Some(idle_from + Duration::from_secs(30))
        );
        // A WebSocket is let go.
        conn.upgraded();
        assert!(conn.upgraded.load(Ordering::Acquire));
    }
}
