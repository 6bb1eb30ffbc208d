//! The `history` scenario's data set: many messages interleaved over many channels, made
//! through Hearth's own store functions in the single writer's transactions, and kept between
//! runs per schema version and shape.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hearth::chat::secrets::{new_token, token_hash};
use hearth::domain::now_ms;
use hearth::store::messages::NewMessage;
use hearth::store::{conversations, messages, reads, sessions};

use super::seed::{People, Rng, open, people_now};

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
