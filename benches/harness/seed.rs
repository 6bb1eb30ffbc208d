//! Bulk seeding through Hearth's own store functions, inside the single writer's transactions.
//!
//! Users get one fixed password hash (no argon2 work); sessions are made from tokens generated
//! here, so clients authenticate with the cookie `hearth_session=<token>`.

use std::path::Path;

use hearth::chat::passwords::hash_blocking;
use hearth::chat::secrets::{new_token, token_hash};
use hearth::config::Synchronous;
use hearth::db::Db;
use hearth::domain::chat::{Kind, MemberRole};
use hearth::domain::{Role, Username, now_ms};
use hearth::store::{conversations, memberships, sessions, users};

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

pub(super) fn open(dir: &Path) -> anyhow::Result<Db> {
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

pub(super) fn people_now(
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
                sessions::insert(
                    ctx.conn,
                    &token_hash(&token),
                    user.id,
                    &new_token(),
                    now,
                    &Default::default(),
                )?;
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
