//! Bulk seeding through Hearth's own store functions, inside the single writer's transactions.
//!
//! Users get one fixed password hash (no argon2 work); sessions are made from tokens generated
//! here, so clients authenticate with the cookie `hearth_session=<token>`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hearth::chat::passwords::hash_blocking;
use hearth::chat::secrets::{new_token, token_hash};
use hearth::config::Synchronous;
use hearth::db::Db;
use hearth::domain::chat::{Kind, MemberRole};
use hearth::domain::{Role, Username, now_ms};
use hearth::store::messages::NewMessage;
use hearth::store::{conversations, memberships, messages, reads, sessions, users};

/// A valid argon2id hash of a password nobody knows; seeded accounts sign in by session only.
const FIXED_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$bG9hZGhhcm5lc3NzYWx0$\
    3nWcXvGk0Zq3mJcL0n9yZyYb2b0c6k3oA2g2o9l1Y0E";
const CHUNK: usize = 2_000;

/// Seeded people: user i has id `ids[i]` and session token `tokens[i]`; `rooms[k]` is room k.
pub struct People {
    pub ids: Vec<i64>,
    pub tokens: Vec<String>,
    pub rooms: Vec<i64>,
}

impl People {
    pub fn cookie(&self, i: usize) -> String {
        format!("hearth_session={}", self.tokens[i])
    }
}

fn open(dir: &Path) -> anyhow::Result<Db> {
    Ok(Db::open(dir, Synchronous::Normal)?)
}

/// `rooms` channels, `users` accounts with a session each; user i joins the rooms `rooms_of(i)`.
/// Blocks (off the async workers) until the data is committed.
pub fn people(
    dir: &Path,
    users: usize,
    rooms: usize,
    rooms_of: impl Fn(usize) -> Vec<usize>,
) -> anyhow::Result<People> {
    tokio::task::block_in_place(|| people_now(dir, users, rooms, rooms_of))
}

fn people_now(
    dir: &Path,
    users: usize,
    rooms: usize,
    rooms_of: impl Fn(usize) -> Vec<usize>,
) -> anyhow::Result<People> {
    let db = open(dir)?;
    let room_ids = db.write_blocking(move |ctx| {
        (0..rooms)
            .map(|k| {
                conversations::insert(
                    ctx.conn,
                    Kind::Channel,
                    &format!("load-{k}"),
                    "",
                    None,
                    None,
                    now_ms(),
                )
            })
            .collect::<hearth::Result<Vec<i64>>>()
    })?;
    let mut ids = Vec::with_capacity(users);
    let mut tokens = Vec::with_capacity(users);
    for start in (0..users).step_by(CHUNK) {
        let end = (start + CHUNK).min(users);
        let batch: Vec<(usize, String, Vec<i64>)> = (start..end)
            .map(|i| {
                (
                    i,
                    new_token(),
                    rooms_of(i).iter().map(|k| room_ids[*k]).collect(),
                )
            })
            .collect();
        tokens.extend(batch.iter().map(|(_, t, _)| t.clone()));
        let made = db.write_blocking(move |ctx| {
            let now = now_ms();
            let mut made = Vec::with_capacity(batch.len());
            for (i, token, joins) in batch {
                let name = Username::parse(&format!("load{i}"))?;
                let user = users::insert(
                    ctx.conn,
                    &name,
                    &format!("Load {i}"),
                    FIXED_HASH,
                    Role::Member,
                )?;
                sessions::insert(ctx.conn, &token_hash(&token), user.id, &new_token(), now)?;
                for room in joins {
                    memberships::add(ctx.conn, room, user.id, MemberRole::Member, 0, now)?;
                }
                made.push(user.id);
            }
            Ok(made)
        })?;
        ids.extend(made);
    }
    db.writer().shutdown();
    Ok(People {
        ids,
        tokens,
        rooms: room_ids,
    })
}

/// The shape of the history data set.
#[derive(Clone, Copy, Debug)]
pub struct HistoryShape {
    pub messages: usize,
    pub conversations: usize,
    pub users: usize,
    /// How many conversations each user belongs to.
    pub member_of: usize,
}

const PHRASES: [&str; 8] = [
    "the build is green again",
    "who has the keys to the shed",
    "lunch at noon, the usual place",
    "I pushed the fix for the flaky test",
    "see you all on Thursday evening",
    "the new release notes are up",
    "can someone review my change please",
    "the heating is back on in room four",
];

/// A small deterministic generator (xorshift), so every seeded set is the same.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The rooms of user `j`: `member_of` consecutive ones.
pub fn history_rooms(shape: &HistoryShape, j: usize) -> Vec<usize> {
    let n = shape.member_of.min(shape.conversations);
    (0..n).map(|i| (j + i) % shape.conversations).collect()
}

/// Seeds the history data set (messages spread round-robin over the conversations, each
/// membership with 0..1,500 unread), reusing a cached copy of the database for big sets.
pub fn history(dir: &Path, shape: HistoryShape) -> anyhow::Result<(People, bool)> {
    std::fs::create_dir_all(dir)?;
    let cache = cache_path(&shape);
    let cached = cache.as_ref().is_some_and(|c| c.exists());
    if let (true, Some(cache)) = (cached, &cache) {
        std::fs::copy(cache, dir.join("hearth.db"))?;
    } else {
        let people = people_now(dir, shape.users, shape.conversations, |j| {
            history_rooms(&shape, j)
        })?;
        fill_messages(dir, &shape, &people)?;
        if let Some(cache) = &cache {
            checkpoint(dir)?;
            std::fs::create_dir_all(cache.parent().expect("cache dir"))?;
            std::fs::copy(dir.join("hearth.db"), cache)?;
        }
        return Ok((people, false));
    }
    // From the cache: fresh sessions for the users already there.
    let db = open(dir)?;
    let (ids, rooms) = db.read_blocking(|conn| {
        let ids = conn
            .prepare("SELECT id FROM users ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        let rooms = conn
            .prepare("SELECT id FROM conversations ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok((ids, rooms))
    })?;
    let tokens: Vec<String> = ids.iter().map(|_| new_token()).collect();
    let pairs: Vec<(i64, Vec<u8>)> = ids
        .iter()
        .zip(&tokens)
        .map(|(id, t)| (*id, token_hash(t)))
        .collect();
    db.write_blocking(move |ctx| {
        for (id, hash) in pairs {
            sessions::insert(ctx.conn, &hash, id, &new_token(), now_ms())?;
        }
        Ok(())
    })?;
    db.writer().shutdown();
    Ok((People { ids, tokens, rooms }, true))
}

/// Where a big data set is kept between runs (small ones are cheap to make), per schema version.
fn cache_path(shape: &HistoryShape) -> Option<PathBuf> {
    (shape.messages >= 100_000).then(|| {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "hearth-load/history-s{}-{}m-{}c-{}u-{}k.db",
            *hearth::db::LATEST_VERSION,
            shape.messages,
            shape.conversations,
            shape.users,
            shape.member_of
        ))
    })
}

/// Folds the WAL into the main file so the file alone is the database.
fn checkpoint(dir: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(dir.join("hearth.db"))?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

fn fill_messages(dir: &Path, shape: &HistoryShape, people: &People) -> anyhow::Result<()> {
    let started = Instant::now();
    let db = open(dir)?;
    let c = shape.conversations;
    let mut members: Vec<Vec<i64>> = vec![Vec::new(); c];
    for j in 0..shape.users {
        for k in history_rooms(shape, j) {
            members[k].push(people.ids[j]);
        }
    }
    // Plain-text bodies render to one paragraph; check that once rather than render 2M times.
    let sample = format!("message 1 in room 1: {}", PHRASES[0]);
    anyhow::ensure!(
        hearth::render::body_html(&sample, &|_| None) == format!("<p>{sample}</p>"),
        "plain text no longer renders as <p>text</p>; update the seeder"
    );
    let chunk = 20_000;
    let mut last_in_room = vec![0i64; c];
    for start in (0..shape.messages).step_by(chunk) {
        let end = (start + chunk).min(shape.messages);
        let rooms = people.rooms.clone();
        let members = members.clone();
        let ids = people.ids.clone();
        let total = shape.messages as i64;
        let last = db.write_blocking(move |ctx| {
            let now = now_ms();
            let mut last = vec![0i64; rooms.len()];
            for n in start..end {
                let k = n % rooms.len();
                let round = n / rooms.len();
                let sender = match members[k].len() {
                    0 => ids[k % ids.len()],
                    len => members[k][round % len],
                };
                let body = format!(
                    "message {round} in room {k}: {}",
                    PHRASES[n % PHRASES.len()]
                );
                let html = format!("<p>{body}</p>");
                let id = messages::insert(
                    ctx.conn,
                    &NewMessage {
                        conversation_id: rooms[k],
                        sender_id: sender,
                        body: &body,
                        html: &html,
                        reply_to: None,
                        client_id: None,
                        now: now - (total - n as i64),
                    },
                )?;
                last[k] = id;
            }
            for (k, id) in last.iter().enumerate() {
                if *id > 0 {
                    conversations::touch(ctx.conn, rooms[k], *id, now)?;
                }
            }
            Ok(last)
        })?;
        for (k, id) in last.into_iter().enumerate() {
            last_in_room[k] = last_in_room[k].max(id);
        }
    }
    // Read markers: each member is 0..1,500 messages behind.
    let mut rng = Rng::new(42);
    let mut marks = Vec::new();
    for j in 0..shape.users {
        for k in history_rooms(shape, j) {
            let behind = rng.below(1_501) as i64 * c as i64;
            marks.push((
                people.rooms[k],
                people.ids[j],
                (last_in_room[k] - behind).max(0),
            ));
        }
    }
    db.write_blocking(move |ctx| {
        for (room, user, up_to) in marks {
            reads::mark_read(ctx.conn, room, user, up_to)?;
        }
        Ok(())
    })?;
    db.writer().shutdown();
    eprintln!(
        "seeded {} messages in {:.1} s",
        shape.messages,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The username of account `i` made by [`accounts`].
pub fn account_name(i: usize) -> String {
    format!("person{i}")
}

/// `count` accounts named by [`account_name`], each with a real argon2id hash of
/// `password(i)`, hashed on every core (the work a real sign-in checks against).
pub fn accounts(
    dir: &Path,
    count: usize,
    password: impl Fn(usize) -> String + Sync,
) -> anyhow::Result<()> {
    tokio::task::block_in_place(|| accounts_now(dir, count, password))
}

fn accounts_now(
    dir: &Path,
    count: usize,
    password: impl Fn(usize) -> String + Sync,
) -> anyhow::Result<()> {
    let threads = super::nproc().max(1);
    let hashes: Vec<String> = {
        std::thread::scope(|scope| {
            let password = &password;
            let parts: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        (t..count)
                            .step_by(threads)
                            .map(|i| Ok((i, hash_blocking(&password(i))?)))
                            .collect::<hearth::Result<Vec<(usize, String)>>>()
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(count);
            for part in parts {
                all.extend(part.join().expect("a hashing thread")?);
            }
            all.sort_unstable();
            Ok::<_, hearth::Error>(all.into_iter().map(|(_, h)| h).collect())
        })
    }?;
    let db = open(dir)?;
    db.write_blocking(move |ctx| {
        for (i, hash) in hashes.iter().enumerate() {
            let name = Username::parse(&account_name(i))?;
            users::insert(ctx.conn, &name, &format!("Person {i}"), hash, Role::Member)?;
        }
        Ok(())
    })?;
    db.writer().shutdown();
    Ok(())
}
