//! The single writer: one thread owns the only write connection and commits jobs in groups.
//!
//! Jobs queue on a channel. The thread takes everything queued (up to [`MAX_BATCH`]), opens one
//! `BEGIN IMMEDIATE` transaction, runs each job inside its own SAVEPOINT (a failing job rolls back
//! only itself), commits once, runs the jobs' after-commit hooks in order, then answers each job.
//! One fsync then serves the whole batch, which is what makes `synchronous=FULL` cheap.

use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Instant;
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// The most jobs one transaction holds; bounds how long one commit keeps readers of the queue waiting.
pub const MAX_BATCH: usize = 512;

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
}

trait Job: Send {
    /// Runs the job; true when it succeeded (its savepoint is kept).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Runs hooks (if committed) and answers the caller.
    fn finish(self: Box<Self>, commit: std::result::Result<(), String>);
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

    fn finish(self: Box<Self>, commit: std::result::Result<(), String>) {
        let outcome = match (commit, self.outcome) {
            (Ok(()), Some(outcome)) => {
                for hook in self.hooks {
                    hook();
                }
                outcome
            }
            (Err(e), _) => Err(Error::Internal(format!("commit failed: {e}"))),
            (Ok(()), None) => Err(Error::Internal("job did not run".into())),
        };
        // The caller may have gone away (timeout, dropped request); the work stands regardless.
        let _ = self.reply.send(outcome);
    }
}

enum Msg {
    Job(Box<dyn Job>),
    Stop,
}

/// Handle to the writer thread. Clones share the thread.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    stats: Arc<WriterStats>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Writer {
    /// Starts the thread that owns `conn`.
    pub fn start(conn: Connection) -> Writer {
        let (tx, rx) = mpsc::channel();
        let stats = Arc::new(WriterStats::default());
        let thread_stats = stats.clone();
        let handle = std::thread::Builder::new()
            .name("hearth-writer".into())
            .spawn(move || writer_loop(conn, rx, &thread_stats))
            .expect("spawn the writer thread");
        Writer {
            tx,
            stats,
            thread: Arc::new(Mutex::new(Some(handle))),
        }
    }

    /// Queues a job now and returns where its answer will arrive.
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
        // If the thread is gone the job (and its reply sender) is dropped: the receiver says so.
        let _ = self.tx.send(Msg::Job(Box::new(job)));
        answer
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

    /// Runs a job and waits for its commit.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx) -> Result<T> + Send + 'static,
    {
        self.submit(work).await.map_err(|_| Error::WriterGone)?
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
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Stop);
        let handle = self.thread.lock().map(|mut h| h.take()).unwrap_or(None);
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Msg>, stats: &WriterStats) {
    loop {
        let first = match rx.recv() {
            Ok(Msg::Job(job)) => job,
            Ok(Msg::Stop) | Err(_) => break,
        };
        let mut batch = vec![first];
        let mut stop = false;
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Msg::Job(job)) => batch.push(job),
                Ok(Msg::Stop) => {
                    stop = true;
                    break;
                }
                Err(_) => break,
            }
        }
        run_batch(&conn, batch, stats);
        if stop {
            break;
        }
    }
    // Jobs that arrive after Stop are dropped; their callers see WriterGone.
    if let Err((_, e)) = conn.close() {
        tracing::warn!(error = %e, "closing the write connection");
    }
}

/// Runs a fixed transaction-control statement from the connection's statement cache: these
/// run for every job, and parsing them anew each time cost more than running them.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn run_batch(conn: &Connection, mut batch: Vec<Box<dyn Job>>, stats: &WriterStats) {
    let started = Instant::now();
    if let Err(e) = control(conn, "BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "cannot begin a write transaction");
        for job in batch {
            job.finish(Err(e.to_string()));
        }
        return;
    }
    let mut failed = 0;
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
        if let Err(e) = end {
            tracing::error!(error = %e, "savepoint end failed");
        }
    }
    let commit = control(conn, "COMMIT").map_err(|e| {
        tracing::error!(error = %e, "commit failed; the batch is rolled back");
        let _ = conn.execute_batch("ROLLBACK");
        e.to_string()
    });
    stats.transactions.fetch_add(1, Ordering::Relaxed);
    stats.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
    stats.failed_jobs.fetch_add(failed, Ordering::Relaxed);
    stats
        .largest_batch
        .fetch_max(batch.len() as u64, Ordering::Relaxed);
    stats
        .commit_micros_total
        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    for job in batch {
        job.finish(commit.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (v INTEGER UNIQUE);")
            .unwrap();
        (dir, Writer::start(conn))
    }

    fn count(dir: &tempfile::TempDir) -> Vec<i64> {
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// Holds the writer inside a job until the returned sender is dropped or sent to.
    fn hold(writer: &Writer) -> (mpsc::Sender<()>, oneshot::Receiver<Result<()>>) {
        let (release, wait) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let answer = writer.submit(move |_| {
            started_tx.send(()).unwrap();
            let _ = wait.recv();
            Ok(())
        });
        started_rx.recv().unwrap();
        (release, answer)
    }

    #[tokio::test]
    async fn queued_jobs_share_one_commit() {
        let (dir, writer) = writer();
        let (release, held) = hold(&writer);
        let answers: Vec<_> = (0..100)
            .map(|i| {
                writer.submit(move |ctx| {
                    ctx.conn.execute("INSERT INTO t (v) VALUES (?1)", [i])?;
                    Ok(i)
                })
            })
            .collect();
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        for (i, answer) in answers.into_iter().enumerate() {
            assert_eq!(answer.await.unwrap().unwrap(), i as i64);
        }
        // The holding job's batch, then one batch for all 100 queued behind it.
        assert_eq!(writer.stats().transactions.load(Ordering::Relaxed), 2);
        assert_eq!(writer.stats().jobs.load(Ordering::Relaxed), 101);
        assert_eq!(count(&dir).len(), 100);
    }

    #[tokio::test]
    async fn many_concurrent_writers_need_fewer_commits_than_writes() {
        let (dir, writer) = writer();
        let tasks: Vec<_> = (0..400)
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move {
                    w.run(move |ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (?1)", [i])?))
                        .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(count(&dir).len(), 400);
        let tx = writer.stats().transactions.load(Ordering::Relaxed);
        assert!(tx < 400, "{tx} transactions for 400 writes");
    }

    #[tokio::test]
    async fn a_failing_job_does_not_undo_its_neighbours() {
        let (dir, writer) = writer();
        let (release, held) = hold(&writer);
        let a = writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (1)", [])?));
        let b = writer.submit(|ctx| {
            ctx.conn.execute("INSERT INTO t (v) VALUES (2)", [])?;
            Err::<(), _>(Error::invalid("changed my mind"))
        });
        let c = writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (1)", [])?));
        let d = writer
            .submit(|ctx| -> Result<()> { panic!("bug in a job {}", ctx.conn.is_autocommit()) });
        let e = writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (3)", [])?));
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        assert_eq!(a.await.unwrap().unwrap(), 1);
        assert!(matches!(b.await.unwrap(), Err(Error::Invalid(_))));
        assert!(matches!(c.await.unwrap(), Err(Error::Conflict(_))));
        assert!(matches!(d.await.unwrap(), Err(Error::Internal(_))));
        assert_eq!(e.await.unwrap().unwrap(), 1);
        assert_eq!(writer.stats().transactions.load(Ordering::Relaxed), 2);
        assert_eq!(count(&dir), vec![1, 3]);
    }

    #[tokio::test]
    async fn hooks_run_after_commit_only_for_jobs_that_succeeded() {
        let (_dir, writer) = writer();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s1, s2) = (seen.clone(), seen.clone());
        writer
            .run(move |ctx| {
                ctx.after_commit(move || s1.lock().unwrap().push("kept"));
                Ok(())
            })
            .await
            .unwrap();
        let _ = writer
            .run(move |ctx| {
                ctx.after_commit(move || s2.lock().unwrap().push("dropped"));
                Err::<(), _>(Error::invalid("no"))
            })
            .await;
        assert_eq!(*seen.lock().unwrap(), vec!["kept"]);
    }

    #[tokio::test]
    async fn shutdown_finishes_queued_work_then_refuses() {
        let (dir, writer) = writer();
        let queued: Vec<_> = (0..10)
            .map(|i| {
                writer.submit(move |ctx| {
                    Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (?1)", [i])?)
                })
            })
            .collect();
        writer.shutdown();
        for answer in queued {
            answer.await.unwrap().unwrap();
        }
        assert_eq!(count(&dir).len(), 10);
        assert!(matches!(
            writer.run(|_| Ok(())).await,
            Err(Error::WriterGone)
        ));
    }
}
