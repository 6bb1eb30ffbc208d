//! A connection's timeouts: where it is in its life (waiting for a request, answering, idle,
//! or upgraded to a WebSocket), and the stream wrapper that fails with `TimedOut` once the
//! deadline of that phase passes while it waits for the peer.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::{Limits, Open};

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
    pub(super) fn new(limits: Limits) -> Conn {
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
pub(super) struct Busy(Arc<Conn>);

impl Busy {
    pub(super) fn begin(conn: Arc<Conn>) -> Busy {
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
pub(super) struct Guarded {
    stream: TcpStream,
    open: Open,
    conn: Arc<Conn>,
    /// Since when a write has been waiting for the peer to read.
    write_stalled: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
    /// Seen upgraded: from then on every read and write goes straight to the stream.
    let_go: bool,
}

impl Guarded {
    pub(super) fn new(stream: TcpStream, open: Open, conn: Arc<Conn>) -> Guarded {
        Guarded {
            stream,
            open,
            conn,
            write_stalled: None,
            timer: None,
            let_go: false,
        }
    }

    fn upgraded(&mut self) -> bool {
        if !self.let_go && self.conn.upgraded.load(Ordering::Acquire) {
            self.let_go = true;
            self.timer = None;
        }
        self.let_go
    }

    /// What a write came to: a write the peer does not take for the request time fails.
    fn written(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        if self.upgraded() {
            return polled;
        }
        match polled {
            Poll::Pending => {
                self.write_stalled.get_or_insert_with(Instant::now);
                self.check(cx).map(Err)
            }
            done => {
                self.write_stalled = None;
                done
            }
        }
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
            Poll::Ready(()) => Poll::Ready({
                self.open.timed_out();
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client was too slow or idle too long",
                )
            }),
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
        let polled = Pin::new(&mut this.stream).poll_write(cx, data);
        this.written(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.written(cx, polled)
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
    use std::time::Duration;

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
