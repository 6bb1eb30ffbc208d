//! The single writer: one thread owns the only write connection and commits jobs in groups.
//!
//! Jobs queue on a channel. The thread takes everything queued (up to [`MAX_BATCH`]), opens one
//! `BEGIN IMMEDIATE` transaction, runs each job inside its own SAVEPOINT (a failing job rolls back
//! only itself), commits once, runs the jobs' after-commit hooks in order, then answers each job.
//! One fsync then serves the whole batch, which is what makes `synchronous=FULL` cheap.
//!
//! Its promise: a job answered `Ok` is committed, and a job answered with an error left nothing
//! behind. When SQLite abandons the whole transaction (SQLITE_FULL, IOERR, NOMEM), every job of
//! the batch is answered with the error, none after it runs, and no SAVEPOINT is ever let open
//! a transaction of its own. If the writer can no longer keep that promise (a transaction it
//! cannot end, a bug in its own code), the thread ends and says why ([`Writer::failed`]): the
//! server stops, so that its supervisor starts it afresh.

use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

use crate::error::{Error, Result};

/// The most jobs one transaction holds; bounds how long one commit keeps readers of the queue waiting.
pub const MAX_BATCH: usize = 512;

/// How much work the writer takes on.
#[derive(Debug, Clone, Copy)]
pub struct WriterLimits {
    /// Jobs that may wait for the writer; past this a write is refused at once with `Busy`.
    pub queue: usize,
    /// How long a caller waits for its job's answer before being told `Busy` (the job may
    /// still commit: a retry must be safe, as a message's `client_id` makes it).
    pub deadline: Duration,
}

impl Default for WriterLimits {
    fn default() -> Self {
        // Eight full batches; each takes milliseconds, so a full queue means the disk stalls.
        WriterLimits {
            queue: 8 * MAX_BATCH,
            deadline: Duration::from_secs(10),
        }
    }
}

/// What a job sees: the connection (inside its savepoint) and a place for after-commit hooks.
pub struct WriteCtx<'c> {
    pub conn: &'c Connection,
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
}

impl WriteCtx<'_> {
    /// Runs `hook` on the writer thread after the batch commits, in commit order
    /// (it is dropped if this job or the commit fails). Publishing events goes here.
    pub fn after_commit(&mut self, hook: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(hook));
    }
}

/// Counters of the writer's work, for tests and `/metrics`.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub transactions: AtomicU64,
    pub jobs: AtomicU64,
    pub failed_jobs: AtomicU64,
    pub largest_batch: AtomicU64,
    pub commit_micros_total: AtomicU64,
    /// Batches failed whole because SQLite abandoned their transaction or the commit failed.
    pub failed_batches: AtomicU64,
    /// Writes refused because the queue was full or answered late.
    pub refused: AtomicU64,
    /// After-commit hooks that panicked (the panic is logged; the writer goes on).
    pub hook_panics: AtomicU64,
}

trait Job: Send {
    /// Runs the job; true when it succeeded (its savepoint is kept).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Runs hooks (if committed) and answers the caller.
    fn finish(self: Box<Self>, commit: std::result::Result<(), String>, stats: &WriterStats);
    /// Answers the caller with `err` without running.
    fn refuse(self: Box<Self>, err: Error);
}

type Work<T> = Box<dyn FnOnce(&mut WriteCtx) -> Result<T> + Send>;

struct Typed<T> {
    work: Option<Work<T>>,
    outcome: Option<Result<T>>,
    hooks: Vec<Box<dyn FnOnce() + Send>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T: Send> Job for Typed<T> {
    fn run(&mut self, conn: &Connection) -> bool {
        let work = self.work.take().expect("a job runs once");
        let mut ctx = WriteCtx {
            conn,
            after_commit: Vec::new(),
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| work(&mut ctx)))
            .unwrap_or_else(|_| Err(Error::Internal("a write job panicked".into())));
        let ok = outcome.is_ok();
        if ok {
            self.hooks = ctx.after_commit;
        }
        self.outcome = Some(outcome);
        ok
    }

    fn finish(self: Box<Self>, commit: std::result::Result<(), String>, stats: &WriterStats) {
        let outcome = match (commit, self.outcome) {
            (Ok(()), Some(outcome)) => {
                for hook in self.hooks {
                    // A hook's panic must not end the thread: the commit stands, and every
                    // later write would otherwise be refused while reads still answer.
                    if catch_unwind(AssertUnwindSafe(hook)).is_err() {
                        stats.hook_panics.fetch_add(1, Ordering::Relaxed);
                        tracing::error!("an after-commit hook panicked; its commit stands");
                    }
                }
                outcome
            }
            (Err(e), _) => Err(Error::Internal(format!("commit failed: {e}"))),
            (Ok(()), None) => Err(Error::Internal("job did not run".into())),
        };
        // The caller may have gone away (timeout, dropped request); the work stands regardless.
        let _ = self.reply.send(outcome);
    }

    fn refuse(self: Box<Self>, err: Error) {
        let _ = self.reply.send(Err(err));
    }
}

enum Msg {
    Job(Box<dyn Job>),
    /// Answered when the writer reaches it: proof that the thread lives and the queue moves.
    Ping(oneshot::Sender<()>),
    Stop,
    /// Ends the thread as a bug in the writer would (tests of what follows a dead writer).
    #[cfg(test)]
    Crash,
}

/// Handle to the writer thread. Clones share the thread.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::SyncSender<Msg>,
    limits: WriterLimits,
    stats: Arc<WriterStats>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// Why the thread ended, if it ended without being asked to.
    failure: watch::Receiver<Option<String>>,
}

impl Writer {
    /// Starts the thread that owns `conn`.
    pub fn start(conn: Connection) -> Writer {
        Writer::start_with(conn, WriterLimits::default())
    }

    /// Starts the thread that owns `conn`, with these limits.
    pub fn start_with(conn: Connection, limits: WriterLimits) -> Writer {
        let (tx, rx) = mpsc::sync_channel(limits.queue);
        let stats = Arc::new(WriterStats::default());
        let (report, failure) = watch::channel(None);
        let thread_stats = stats.clone();
        let handle = std::thread::Builder::new()
            .name("hearth-writer".into())
            .spawn(move || writer_thread(conn, rx, &thread_stats, report))
            .expect("spawn the writer thread");
        Writer {
            tx,
            limits,
            stats,
            thread: Arc::new(Mutex::new(Some(handle))),
            failure,
        }
    }

    /// Queues a job now and returns where its answer will arrive. A full queue answers `Busy`
    /// at once, a stopped writer `WriterGone`; neither runs the job.
    pub fn submit<T, F>(&self, work: F) -> oneshot::Receiver<Result<T>>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Typed {
            work: Some(Box::new(work)),
            outcome: None,
            hooks: Vec::new(),
            reply,
        };
        match self.tx.try_send(Msg::Job(Box::new(job))) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(Msg::Job(job))) => {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                job.refuse(Error::Busy { retry_after: 1 });
            }
            // The job (and its reply sender) is dropped: the receiver says the writer is gone.
            Err(_) => {}
        }
        answer
    }

    /// Resolves once the writer has taken everything queued before it, or fails: `Busy` past
    /// the deadline, `WriterGone` when the thread has ended. Cheap: no transaction.
    pub async fn ping(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        match self.tx.try_send(Msg::Ping(reply)) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(_)) => return Err(Error::Busy { retry_after: 1 }),
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(Error::WriterGone),
        }
        match tokio::time::timeout(self.limits.deadline, answer).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Error::WriterGone),
            Err(_) => Err(Error::Busy { retry_after: 1 }),
        }
    }

    /// Resolves with the reason if the writer thread ends without being asked to; never
    /// resolves otherwise. The server stops on it, so that its supervisor restarts it.
    pub async fn failed(&self) -> String {
        let mut failure = self.failure.clone();
        let reason = match failure.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            None => std::future::pending().await,
        }
    }

    #[cfg(test)]
    pub(crate) fn crash(&self) {
        let _ = self.tx.send(Msg::Crash);
    }

    /// Queues a job whose outcome nobody waits for (failures are logged).
    pub fn enqueue<F>(&self, work: F)
    where
        F: FnOnce(&mut WriteCtx) -> Result<()> + Send + 'static,
    {
        drop(self.submit(move |ctx| {
            let outcome = work(ctx);
            if let Err(e) = &outcome {
                tracing::warn!(error = %e, "background write failed");
            }
            outcome
        }));
    }

    /// Runs a job and waits for its commit, at most the deadline (then `Busy`).
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx) -> Result<T> + Send + 'static,
    {
        match tokio::time::timeout(self.limits.deadline, self.submit(work)).await {
            Ok(answer) => answer.map_err(|_| Error::WriterGone)?,
            Err(_) => {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    deadline = ?self.limits.deadline,
                    "a write waited past its deadline; answered busy"
                );
                Err(Error::Busy { retry_after: 1 })
            }
        }
    }

    /// Runs a job and blocks the calling thread until it commits (never call on the async runtime).
    pub fn run_blocking<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx) -> Result<T> + Send + 'static,
    {
        self.submit(work)
            .blocking_recv()
            .map_err(|_| Error::WriterGone)?
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Finishes every job queued so far, then stops the thread and closes the connection.
    /// Call off the async runtime: it waits for room in the queue and for the thread.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Stop);
        let handle = self.thread.lock().map(|mut h| h.take()).unwrap_or(None);
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

/// The thread: serves the queue, then closes the connection; reports why if it ended
/// without being asked to.
fn writer_thread(
    conn: Connection,
    rx: mpsc::Receiver<Msg>,
    stats: &WriterStats,
    report: watch::Sender<Option<String>>,
) {
    let served = catch_unwind(AssertUnwindSafe(|| serve_queue(&conn, &rx, stats)))
        .unwrap_or_else(|panic| Err(format!("the writer panicked: {}", panic_text(&*panic))));
    // Jobs still queued are dropped with the receiver; their callers see WriterGone.
    drop(rx);
    if let Err(reason) = served {
        tracing::error!(reason = %reason, "the database writer has stopped");
        let _ = report.send(Some(reason));
    }
    if let Err((_, e)) = conn.close() {
        tracing::warn!(error = %e, "closing the write connection");
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Takes batches until asked to stop (Ok) or until it cannot go on (Err with the reason).
fn serve_queue(
    conn: &Connection,
    rx: &mpsc::Receiver<Msg>,
    stats: &WriterStats,
) -> std::result::Result<(), String> {
    let mut pings = Vec::new();
    loop {
        let mut batch: Vec<Box<dyn Job>> = Vec::new();
        let mut next = rx.recv().ok();
        let mut stop = next.is_none();
        while let Some(msg) = next.take() {
            match msg {
                Msg::Job(job) => batch.push(job),
                Msg::Ping(reply) => pings.push(reply),
                Msg::Stop => stop = true,
                #[cfg(test)]
                Msg::Crash => panic!("crash requested"),
            }
            if !stop && batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            run_batch(conn, batch, stats)?;
        }
        for reply in pings.drain(..) {
            let _ = reply.send(());
        }
        if stop {
            return Ok(());
        }
    }
}

/// Runs a fixed transaction-control statement from the connection's statement cache: these
/// run for every job, and parsing them anew each time cost more than running them.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Runs one batch in one transaction and answers every job. Err when the connection is left
/// in a state the writer cannot recover from (a transaction it cannot end).
fn run_batch(
    conn: &Connection,
    mut batch: Vec<Box<dyn Job>>,
    stats: &WriterStats,
) -> std::result::Result<(), String> {
    let started = Instant::now();
    // Whatever an earlier failure left open ends here, or no batch could begin again.
    if !conn.is_autocommit() {
        control(conn, "ROLLBACK")
            .map_err(|e| format!("cannot end a transaction left open: {e}"))?;
    }
    if let Err(e) = control(conn, "BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "cannot begin a write transaction");
        finish_all(batch, Err(e.to_string()), stats);
        return Ok(());
    }
    let mut failed = 0;
    let mut abandoned = None;
    for job in batch.iter_mut() {
        let ok = control(conn, "SAVEPOINT job").is_ok() && job.run(conn);
        if !ok {
            failed += 1;
        }
        let end = if ok {
            control(conn, "RELEASE job")
        } else {
            control(conn, "ROLLBACK TO job").and_then(|()| control(conn, "RELEASE job"))
        };
        // SQLite rolls the whole transaction back on some errors (SQLITE_FULL, IOERR, NOMEM):
        // the jobs before this one are undone too, and a SAVEPOINT now would begin a
        // transaction of its own, committed by its RELEASE. Nothing more runs in this batch.
        if conn.is_autocommit() {
            abandoned = Some(match end {
                Err(e) => format!("the transaction was abandoned: {e}"),
                Ok(()) => "the transaction was abandoned".to_string(),
            });
            break;
        }
        if let Err(e) = end {
            tracing::error!(error = %e, "savepoint end failed");
        }
    }
    let commit = match abandoned {
        Some(why) => {
            tracing::error!(reason = %why, jobs = batch.len(), "a write batch failed whole");
            Err(why)
        }
        None => control(conn, "COMMIT").map_err(|e| {
            tracing::error!(error = %e, "commit failed; the batch is rolled back");
            if !conn.is_autocommit() {
                let _ = control(conn, "ROLLBACK");
            }
            e.to_string()
        }),
    };
    if commit.is_err() {
        stats.failed_batches.fetch_add(1, Ordering::Relaxed);
    }
    stats.transactions.fetch_add(1, Ordering::Relaxed);
    stats.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
    stats.failed_jobs.fetch_add(failed, Ordering::Relaxed);
    stats
        .largest_batch
        .fetch_max(batch.len() as u64, Ordering::Relaxed);
    stats
        .commit_micros_total
        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    finish_all(batch, commit, stats);
    Ok(())
}

fn finish_all(
    batch: Vec<Box<dyn Job>>,
    commit: std::result::Result<(), String>,
    stats: &WriterStats,
) {
    for job in batch {
        job.finish(commit.clone(), stats);
    }
}

#[cfg(test)]
pub(crate) mod tests;
