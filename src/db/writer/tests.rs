use super::*;
use std::time::Duration;

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
    let d =
        writer.submit(|ctx| -> Result<()> { panic!("bug in a job {}", ctx.conn.is_autocommit()) });
    let e = writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (3)", [])?));
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    assert_eq!(a.await.unwrap().unwrap(), 1);
    assert!(matches!(b.await.unwrap(), Err(Error::Invalid(_))));
    assert!(matches!(c.await.unwrap(), Err(Error::Conflict(_))));
    assert!(matches!(d.await.unwrap(), Err(Error::Internal(_))));
    assert_eq!(e.await.unwrap().unwrap(), 1);
    assert_eq!(writer.stats().failed_jobs.load(Ordering::Relaxed), 3);
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
            writer.submit(move |ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (?1)", [i])?))
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

/// A job that fails the way a full disk does: over `max_page_count`, SQLite abandons the
/// whole transaction (SQLITE_FULL), not only the statement.
pub(crate) fn fill_the_disk(ctx: &mut WriteCtx) -> Result<()> {
    let pages: i64 = ctx.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    ctx.conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS filler (b BLOB); PRAGMA max_page_count = {}",
        pages + 1
    ))?;
    let full = ctx
        .conn
        .execute("INSERT INTO filler (b) VALUES (zeroblob(10000000))", []);
    ctx.conn
        .execute_batch("PRAGMA max_page_count = 1073741823")?;
    full?;
    Ok(())
}

fn writer_with_blobs(limits: WriterLimits) -> (tempfile::TempDir, Writer) {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("w.db")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; CREATE TABLE t (v INTEGER UNIQUE); CREATE TABLE blobs (b BLOB);",
    )
    .unwrap();
    (dir, Writer::start_with(conn, limits))
}

#[tokio::test]
async fn a_job_that_abandons_the_transaction_fails_its_whole_batch_and_nothing_after_it_runs() {
    let (dir, writer) = writer_with_blobs(WriterLimits::default());
    let (release, held) = hold(&writer);
    let a = writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (1)", [])?));
    let b = writer.submit(fill_the_disk);
    let ran_c = Arc::new(AtomicU64::new(0));
    let ran = ran_c.clone();
    let c = writer.submit(move |ctx| {
        ran.fetch_add(1, Ordering::Relaxed);
        Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (3)", [])?)
    });
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    // A ran before the failure and was rolled back with the transaction: not acknowledged.
    assert!(
        a.await.unwrap().is_err(),
        "A was undone: it must not be answered Ok"
    );
    assert!(b.await.unwrap().is_err());
    // C never ran: a SAVEPOINT outside a transaction would have committed it on its own.
    assert!(
        c.await.unwrap().is_err(),
        "C is answered with the batch's failure"
    );
    assert_eq!(
        ran_c.load(Ordering::Relaxed),
        0,
        "nothing runs after the abandonment"
    );
    assert_eq!(
        count(&dir),
        Vec::<i64>::new(),
        "nothing of the batch is stored"
    );
    assert_eq!(writer.stats().failed_batches.load(Ordering::Relaxed), 1);
    // The writer goes on with the next batch.
    writer
        .run(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (4)", [])?))
        .await
        .unwrap();
    assert_eq!(count(&dir), vec![4]);
}

#[tokio::test]
async fn a_job_that_swallows_the_abandonment_is_not_acknowledged_either() {
    let (dir, writer) = writer_with_blobs(WriterLimits::default());
    let (release, held) = hold(&writer);
    let a = writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (1)", [])?));
    let b = writer.submit(|ctx| {
        let _ = fill_the_disk(ctx);
        Ok(())
    });
    let c = writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (3)", [])?));
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    assert!(a.await.unwrap().is_err());
    assert!(b.await.unwrap().is_err());
    assert!(c.await.unwrap().is_err());
    assert!(count(&dir).is_empty());
}

#[tokio::test]
async fn a_failed_commit_answers_every_job_and_the_next_batch_begins() {
    let (dir, writer) = writer();
    let (release, held) = hold(&writer);
    let a = writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (1)", [])?));
    // A deferred foreign key fails at COMMIT, and SQLite keeps the transaction open.
    let b = writer.submit(|ctx| {
        ctx.conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA defer_foreign_keys = ON;
             CREATE TABLE IF NOT EXISTS child (p INTEGER REFERENCES t(v));
             INSERT INTO child (p) VALUES (99);",
        )?;
        Ok(())
    });
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    assert!(a.await.unwrap().is_err());
    assert!(b.await.unwrap().is_err());
    assert_eq!(writer.stats().failed_batches.load(Ordering::Relaxed), 1);
    writer
        .run(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (2)", [])?))
        .await
        .unwrap();
    assert_eq!(count(&dir), vec![2]);
}

#[test]
fn a_transaction_left_open_is_rolled_back_before_the_next_batch() {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("w.db")).unwrap();
    conn.execute_batch("CREATE TABLE t (v INTEGER); BEGIN; INSERT INTO t (v) VALUES (1);")
        .unwrap();
    let stats = WriterStats::default();
    let (reply, mut answer) = oneshot::channel();
    let job: Box<dyn Job> = Box::new(Typed::<usize> {
        work: Some(Box::new(|ctx| {
            Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (2)", [])?)
        })),
        outcome: None,
        hooks: Vec::new(),
        reply,
    });
    run_batch(&conn, vec![job], &stats).unwrap();
    assert_eq!(answer.try_recv().unwrap().unwrap(), 1);
    let values: Vec<i64> = conn
        .prepare("SELECT v FROM t")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        values,
        vec![2],
        "what was left open is gone; the batch committed"
    );
}

#[tokio::test]
async fn a_panicking_hook_is_contained_and_later_hooks_and_writes_go_on() {
    let (dir, writer) = writer();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (release, held) = hold(&writer);
    let first = writer.submit(|ctx| {
        ctx.conn.execute("INSERT INTO t (v) VALUES (1)", [])?;
        ctx.after_commit(|| panic!("a bug in a hook"));
        Ok(())
    });
    let s = seen.clone();
    let second = writer.submit(move |ctx| {
        ctx.conn.execute("INSERT INTO t (v) VALUES (2)", [])?;
        ctx.after_commit(move || s.lock().unwrap().push(2));
        Ok(())
    });
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![2]);
    assert_eq!(writer.stats().hook_panics.load(Ordering::Relaxed), 1);
    writer
        .run(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (3)", [])?))
        .await
        .unwrap();
    writer.ping().await.unwrap();
    assert_eq!(count(&dir), vec![1, 2, 3]);
}

#[tokio::test]
async fn a_full_queue_refuses_at_once_exactly_past_its_bound() {
    let (dir, writer) = writer_with_blobs(WriterLimits {
        queue: 4,
        ..WriterLimits::default()
    });
    let (release, held) = hold(&writer);
    let queued: Vec<_> = (0..4)
        .map(|i| {
            writer.submit(move |ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (?1)", [i])?))
        })
        .collect();
    let mut refused =
        writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (9)", [])?));
    // Refused before the writer moves: the answer is already there.
    assert!(matches!(refused.try_recv(), Ok(Err(Error::Busy { .. }))));
    assert!(matches!(writer.ping().await, Err(Error::Busy { .. })));
    assert_eq!(writer.stats().refused.load(Ordering::Relaxed), 1);
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    for answer in queued {
        answer.await.unwrap().unwrap();
    }
    assert_eq!(count(&dir), vec![0, 1, 2, 3]);
}

#[tokio::test]
async fn a_caller_waits_no_longer_than_the_deadline() {
    let (dir, writer) = writer_with_blobs(WriterLimits {
        deadline: Duration::from_millis(200),
        ..WriterLimits::default()
    });
    let (release, held) = hold(&writer);
    let started = Instant::now();
    let late = writer.run(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (1)", [])?));
    assert!(matches!(late.await, Err(Error::Busy { .. })));
    assert!(matches!(writer.ping().await, Err(Error::Busy { .. })));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(400), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    // The job answered late still ran: that is why a retry must be safe.
    writer.submit(|_| Ok(())).await.unwrap().unwrap();
    assert_eq!(count(&dir), vec![1]);
}

#[tokio::test]
async fn a_dead_writer_says_why_and_refuses_at_once() {
    let (_dir, writer) = writer();
    writer.run(|_| Ok(())).await.unwrap();
    writer.crash();
    let reason = tokio::time::timeout(Duration::from_secs(5), writer.failed())
        .await
        .expect("the failure is reported");
    assert!(reason.contains("crash requested"), "{reason}");
    assert!(matches!(
        writer.run(|_| Ok(())).await,
        Err(Error::WriterGone)
    ));
    assert!(matches!(writer.ping().await, Err(Error::WriterGone)));
}

#[tokio::test]
async fn a_writer_stopped_on_purpose_reports_no_failure() {
    let (_dir, writer) = writer();
    writer.shutdown();
    let failed = tokio::time::timeout(Duration::from_millis(200), writer.failed()).await;
    assert!(failed.is_err(), "a clean stop is not a failure");
}

#[tokio::test]
async fn enqueued_work_runs_though_nobody_waits_for_it() {
    let (dir, writer) = writer();
    writer.enqueue(|ctx| {
        ctx.conn.execute("INSERT INTO t (v) VALUES (7)", [])?;
        Ok(())
    });
    writer.enqueue(|_| Err(Error::invalid("a failure is logged, not returned")));
    writer.submit(|_| Ok(())).await.unwrap().unwrap();
    assert_eq!(count(&dir), vec![7]);
}

#[tokio::test]
async fn one_batch_holds_at_most_max_batch_jobs() {
    let (dir, writer) = writer();
    let (release, held) = hold(&writer);
    let answers: Vec<_> = (0..MAX_BATCH as i64 + 88)
        .map(|i| {
            writer.submit(move |ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (?1)", [i])?))
        })
        .collect();
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    for answer in answers {
        answer.await.unwrap().unwrap();
    }
    assert_eq!(
        writer.stats().largest_batch.load(Ordering::Relaxed),
        MAX_BATCH as u64
    );
    assert_eq!(writer.stats().transactions.load(Ordering::Relaxed), 3);
    assert_eq!(count(&dir).len(), MAX_BATCH + 88);
}

#[tokio::test]
async fn nothing_queued_behind_the_stop_runs() {
    let (dir, writer) = writer();
    let (release, held) = hold(&writer);
    let before = writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (1)", [])?));
    let stopping = writer.clone();
    let stopper = std::thread::spawn(move || stopping.shutdown());
    // The stop goes into the queue at once (there is room); the job after it must not run.
    std::thread::sleep(Duration::from_millis(100));
    let after = writer.submit(|ctx| Ok(ctx.conn.execute("INSERT INTO t (v) VALUES (2)", [])?));
    release.send(()).unwrap();
    stopper.join().unwrap();
    held.await.unwrap().unwrap();
    assert_eq!(before.await.unwrap().unwrap(), 1);
    assert!(
        after.await.is_err(),
        "a job queued after the stop is dropped"
    );
    assert_eq!(count(&dir), vec![1]);
}
