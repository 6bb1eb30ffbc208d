//! Password hashing: argon2id on a few threads of its own, behind a bounded queue.
//!
//! One argon2id check fills 19 MiB. At most `threads` checks run at once, each worker
//! keeping its memory for the next job of a burst; a worker idle for [`IDLE`] ends and
//! gives its memory back to the system. A request that finds the queue full is refused at
//! once (`Error::Busy`, 503 with `Retry-After`) instead of waiting in an unbounded line.
//! Every path that hashes (sign-in, setup, password changes, the CLI) comes through here.

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};

/// How long a worker waits for the next job before it ends and frees its memory.
pub const IDLE: Duration = Duration::from_secs(1);

/// argon2id with m = 19 MiB, t = 2, p = 1 (OWASP's first recommendation).
const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const OUTPUT_LEN: usize = 32;

/// The hash of a random password that was thrown away, checked when the username is unknown
/// so that the answer takes as long as for a real account.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$JrDvy/PtD6HrKSo2eDdoeQ$\
    4RBfLDeiRzs/vYg7yX5OUcyAoyKDRYhrm8QOnzR9f7w";

/// Allocations of at least this many bytes are always mapped afresh by glibc's malloc (its
/// largest dynamic mmap threshold on 64-bit), so freeing them returns them to the system.
/// A smaller block is kept in a per-thread arena after it is freed, and every thread that ever
/// hashed would pin 19 MiB (docs/decisions.md). Pages reserved beyond what argon2 touches are
/// never resident.
const ALWAYS_MAPPED: usize = 32 * 1024 * 1024 + 4096;

/// The argon2 working memory of one worker, reused from job to job.
#[derive(Default)]
pub struct Memory(Vec<Block>);

impl Memory {
    /// At least `count` blocks, allocated on first use (or grown for larger parameters).
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            let reserve = count.max(ALWAYS_MAPPED.div_ceil(Block::SIZE));
            let mut blocks = Vec::with_capacity(reserve);
            blocks.resize(count, Block::default());
            self.0 = blocks;
        }
        &mut self.0[..count]
    }
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

struct Queue {
    jobs: VecDeque<Job>,
    workers: usize,
    idle: usize,
}

struct Pool {
    threads: usize,
    capacity: usize,
    queue: Mutex<Queue>,
    wake: Condvar,
    refused: AtomicU64,
    checks: AtomicU64,
}

/// Handle to the hashing pool; clones share it.
#[derive(Clone)]
pub struct Passwords(Arc<Pool>);

impl Passwords {
    /// A pool of at most `threads` workers (0: one per core) and `queue` waiting jobs.
    pub fn new(threads: usize, queue: usize) -> Passwords {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        Passwords(Arc::new(Pool {
            threads,
            capacity: queue,
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                workers: 0,
                idle: 0,
            }),
            wake: Condvar::new(),
            refused: AtomicU64::new(0),
            checks: AtomicU64::new(0),
        }))
    }

    /// How many workers may hash at once.
    pub fn threads(&self) -> usize {
        self.0.threads
    }

    /// Requests refused because the queue was full.
    pub fn refused(&self) -> u64 {
        self.0.refused.load(Ordering::Relaxed)
    }

    /// Hashes and checks run so far.
    pub fn checks(&self) -> u64 {
        self.0.checks.load(Ordering::Relaxed)
    }

    /// Workers alive now (each may hold its argon2 memory).
    pub fn workers(&self) -> usize {
        self.0.queue.lock().expect("hashing queue").workers
    }

    /// Hashes a new password as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move |memory| hash_with(memory, password.as_bytes()))
            .await?
    }

    /// Checks a password against a stored hash. With no hash (unknown user) it does the
    /// work of one check all the same and answers false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool> {
        self.run(move |memory| match stored {
            Some(stored) => verify_with(memory, password.as_bytes(), &stored),
            None => verify_with(memory, password.as_bytes(), DUMMY_HASH).map(|_| false),
        })
        .await?
    }

    /// Queues `work` for a worker and waits for its answer; `Busy` at once when full.
    async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> R + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(Box::new(move |memory: &mut Memory| {
            let _ = tx.send(work(memory));
        }))?;
        rx.await
            .map_err(|_| Error::Internal("a hashing job ended without an answer".into()))
    }

    fn submit(&self, job: Job) -> Result<()> {
        let pool = &self.0;
        let mut queue = pool.queue.lock().expect("hashing queue");
        // Jobs an idle or yet unstarted worker will take at once do not wait in line.
        let free = queue.idle + (pool.threads - queue.workers);
        if queue.jobs.len() >= pool.capacity + free {
            pool.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Error::Busy { retry_after: 1 });
        }
        queue.jobs.push_back(job);
        pool.checks.fetch_add(1, Ordering::Relaxed);
        if queue.jobs.len() > queue.idle && queue.workers < pool.threads {
            queue.workers += 1;
            let worker = self.0.clone();
            let started = std::thread::Builder::new()
                .name("hearth-argon2".into())
                .spawn(move || work(&worker));
            if let Err(err) = started {
                queue.workers -= 1;
                if queue.workers == 0 {
                    queue.jobs.pop_back();
                    return Err(Error::Internal(format!(
                        "cannot start a hashing thread: {err}"
                    )));
                }
            }
        } else {
            pool.wake.notify_one();
        }
        Ok(())
    }
}

/// A worker: takes jobs until none comes for [`IDLE`], then ends, freeing its memory.
fn work(pool: &Pool) {
    let mut memory = Memory::default();
    let mut queue = pool.queue.lock().expect("hashing queue");
    loop {
        if let Some(job) = queue.jobs.pop_front() {
            drop(queue);
            job(&mut memory);
            queue = pool.queue.lock().expect("hashing queue");
            continue;
        }
        queue.idle += 1;
        let (guard, waited) = pool.wake.wait_timeout(queue, IDLE).expect("hashing queue");
        queue = guard;
        queue.idle -= 1;
        if waited.timed_out() && queue.jobs.is_empty() {
            queue.workers -= 1;
            return;
        }
    }
}

/// Hashes a password on the calling thread, outside the pool (for seeding test data).
pub fn hash_blocking(password: &str) -> Result<String> {
    hash_with(&mut Memory::default(), password.as_bytes())
}

fn params() -> Params {
    Params::new(M_COST, T_COST, P_COST, Some(OUTPUT_LEN)).expect("valid argon2 parameters")
}

fn hash_with(memory: &mut Memory, password: &[u8]) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the OS random source");
    let params = params();
    let mut out = [0u8; OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password,
            &salt,
            &mut out,
            memory.blocks(params.block_count()),
        )
        .map_err(|e| Error::Internal(format!("hashing: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|e: argon2::password_hash::Error| Error::Internal(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| Error::Internal(e.to_string()))?),
    };
    Ok(phc.to_string())
}

fn verify_with(memory: &mut Memory, password: &[u8], stored: &str) -> Result<bool> {
    let unreadable =
        |e: &dyn std::fmt::Display| Error::Internal(format!("stored hash unreadable: {e}"));
    let phc = PasswordHash::new(stored).map_err(|e| unreadable(&e))?;
    let algorithm = Algorithm::try_from(phc.algorithm).map_err(|e| unreadable(&e))?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).map_err(|e| unreadable(&e))?,
        None => Version::default(),
    };
    let params = Params::try_from(&phc).map_err(|e| unreadable(&e))?;
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return Err(unreadable(&"no salt or no hash"));
    };
    let mut salt_bytes = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| unreadable(&e))?;
    let mut out = vec![0u8; expected.len()];
    let count = params.block_count();
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, memory.blocks(count))
        .map_err(|e| unreadable(&e))?;
    // `Output` compares in constant time.
    Ok(Output::new(&out).map_err(|e| unreadable(&e))? == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[tokio::test]
    async fn hashes_are_standard_argon2id_both_ways() {
        let pool = Passwords::new(1, 4);
        let hash = pool.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        // What this pool writes, the reference implementation reads, and the other way round.
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse", &parsed)
                .is_err()
        );
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(
            pool.verify("battery staple".into(), Some(reference.clone()))
                .await
                .unwrap()
        );
        assert!(
            !pool
                .verify("battery stapler".into(), Some(reference))
                .await
                .unwrap()
        );
        assert!(
            pool.verify("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !pool
                .verify("correct horse!".into(), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_unknown_user_costs_a_check_and_never_matches() {
        let pool = Passwords::new(1, 4);
        let before = pool.checks();
        assert!(!pool.verify("anything".into(), None).await.unwrap());
        assert_eq!(pool.checks(), before + 1);
        // The dummy hash is a real one: the work done is that of a real check.
        let phc = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(Params::try_from(&phc).unwrap().m_cost(), M_COST);
    }

    #[tokio::test]
    async fn a_stored_hash_that_cannot_be_read_is_an_error_not_a_match() {
        let pool = Passwords::new(1, 4);
        for bad in [
            "",
            "plain text",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
        ] {
            let err = pool.verify("x".into(), Some(bad.into())).await.unwrap_err();
            assert!(
                err.to_string().contains("stored hash unreadable"),
                "{bad}: {err}"
            );
        }
    }

    /// A job that holds its worker until told to go.
    fn blocker(pool: &Passwords) -> std::sync::mpsc::Sender<()> {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = std::sync::mpsc::channel();
        pool.submit(Box::new(move |_: &mut Memory| {
            started_tx.send(()).unwrap();
            let _ = rx.recv_timeout(Duration::from_secs(10));
        }))
        .unwrap();
        started.recv_timeout(Duration::from_secs(10)).unwrap();
        tx
    }

    #[test]
    fn beyond_the_queue_requests_are_refused_at_once() {
        let pool = Passwords::new(2, 3);
        let release = [blocker(&pool), blocker(&pool)];
        assert_eq!(pool.workers(), 2, "no more workers than threads");
        let mut answers = Vec::new();
        for _ in 0..3 {
            let (tx, rx) = std::sync::mpsc::channel();
            pool.submit(Box::new(move |_: &mut Memory| tx.send(()).unwrap()))
                .unwrap();
            answers.push(rx);
        }
        assert_eq!(pool.workers(), 2, "queued jobs wait for a worker");
        let err = pool.submit(Box::new(|_: &mut Memory| {})).unwrap_err();
        assert!(matches!(err, Error::Busy { retry_after: 1 }), "{err:?}");
        assert_eq!(pool.refused(), 1);
        for tx in release {
            tx.send(()).unwrap();
        }
        for rx in answers {
            rx.recv_timeout(Duration::from_secs(10))
                .expect("a queued job ran");
        }
        // Room again once the queue drained.
        let (tx, rx) = std::sync::mpsc::channel();
        pool.submit(Box::new(move |_: &mut Memory| tx.send(()).unwrap()))
            .unwrap();
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
    }

    #[test]
    fn workers_end_when_the_burst_ends() {
        let pool = Passwords::new(2, 8);
        let release = [blocker(&pool), blocker(&pool)];
        assert_eq!(pool.workers(), 2);
        for tx in release {
            tx.send(()).unwrap();
        }
        let deadline = std::time::Instant::now() + IDLE * 5;
        while pool.workers() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(pool.workers(), 0, "idle workers end and free their memory");
    }

    #[test]
    fn memory_is_reused_and_grows_only_when_needed() {
        let mut memory = Memory::default();
        let first = memory.blocks(16).as_ptr();
        assert_eq!(memory.blocks(8).len(), 8);
        assert_eq!(
            memory.blocks(16).as_ptr(),
            first,
            "the same memory serves the next job"
        );
        assert!(memory.0.capacity() * Block::SIZE >= ALWAYS_MAPPED);
        assert_eq!(memory.blocks(40_000).len(), 40_000);
    }
}
