//! The `history` and `search` scenarios' data set: many messages interleaved over many channels, direct
//! conversations whose few messages lie spread among all the others, and reactions on them all.
//! Made through Hearth's own store functions in the single writer's transactions, and kept
//! between runs per schema version, seed version and shape.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hearth::chat::secrets::{new_token, token_hash};
use hearth::domain::chat::{Kind, MemberRole};
use hearth::domain::now_ms;
use hearth::store::messages::NewMessage;
use hearth::store::{conversations, memberships, messages, reactions, reads, sessions};

use super::seed::{People, Rng, open, people_now};

/// The shape of the history data set.
#[derive(Clone, Copy, Debug)]
pub struct HistoryShape {
    /// Messages in the channels.
    pub messages: usize,
    /// Channels.
    pub conversations: usize,
    pub users: usize,
    /// How many channels each user belongs to.
    pub member_of: usize,
    /// Direct conversations, between pairs of users.
    pub directs: usize,
    /// Messages in each direct, spread evenly among the channels' messages.
    pub direct_messages: usize,
    /// Reactions, spread evenly over all messages (at most one per emoji and message).
    pub reactions: usize,
}

impl HistoryShape {
    /// Messages in all, channels and directs.
    pub fn total(&self) -> usize {
        self.messages + self.directs * self.direct_messages
    }

    /// How many of the first `n` messages are in directs: message `n` is in one when this
    /// grows past it, so directs' messages are spread evenly over the whole range of ids.
    fn directs_before(&self, n: usize) -> usize {
        (n as u128 * (self.directs * self.direct_messages) as u128 / self.total().max(1) as u128)
            as usize
    }

    /// How many reactions the first `n` messages carry, in all.
    fn reactions_before(&self, n: usize) -> usize {
        (n as u128 * self.reactions as u128 / self.total().max(1) as u128) as usize
    }
}

/// A direct conversation and the one of its two users (by index, the first) who reads it.
#[derive(Clone, Copy, Debug)]
pub struct Direct {
    pub id: i64,
    pub reader: usize,
}

const EMOJI: [&str; 6] = ["👍", "🎉", "❤️", "😄", "👀", "🚀"];

/// What the messages say, one phrase each in turn. Among them words with diacritics and two
/// phrases of Japanese, so that every class of the `search` scenario finds something.
pub const PHRASES: [&str; 11] = [
    "the build is green again",
    "who has the keys to the shed",
    "lunch at noon, the usual place",
    "I pushed the fix for the flaky test",
    "see you all on Thursday evening",
    "the new release notes are up",
    "can someone review my change please",
    "the heating is back on in room four",
    "un café crème au coin de la rue",
    "東京で会議があります",
    "明日の会議は十時からです",
];

/// The rare word, appended to about one message in [`rare_every`].
pub const RARE: &str = "zephyr";

/// One message in how many says [`RARE`]: one in 10,000, or about 20 in all in smaller sets.
pub fn rare_every(shape: &HistoryShape) -> usize {
    (shape.total() / 20).clamp(1, 10_000)
}

/// The body of message `n` (over all conversations), the `round`th of conversation `k`.
fn body(shape: &HistoryShape, n: usize, round: usize, k: usize) -> String {
    // Hashed, not every nth: a stride would fall on the same few channels every time.
    let hashed = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    let phrase = PHRASES[n % PHRASES.len()];
    if hashed % rare_every(shape) as u64 == 0 {
        format!("message {round} in room {k}: {phrase} {RARE}")
    } else {
        format!("message {round} in room {k}: {phrase}")
    }
}

/// The rooms of user `j`: `member_of` consecutive ones.
pub fn history_rooms(shape: &HistoryShape, j: usize) -> Vec<usize> {
    let n = shape.member_of.min(shape.conversations);
    (0..n).map(|i| (j + i) % shape.conversations).collect()
}

/// Seeds the history data set (channel messages round-robin over the channels, each
/// membership with 0..1,500 unread; directs read to the end), reusing a cached copy of the
/// database for big sets.
pub fn history(dir: &Path, shape: HistoryShape) -> anyhow::Result<(People, Vec<Direct>, bool)> {
    std::fs::create_dir_all(dir)?;
    let cache = cache_path(&shape);
    let cached = cache.as_ref().is_some_and(|c| c.exists());
    if let (true, Some(cache)) = (cached, &cache) {
        std::fs::copy(cache, dir.join("hearth.db"))?;
    } else {
        let pairs = direct_pairs(&shape)?;
        let people = people_now(dir, shape.users, shape.conversations, |j| {
            history_rooms(&shape, j)
        })?;
        let directs = fill_messages(dir, &shape, &people, &pairs)?;
        if let Some(cache) = &cache {
            checkpoint(dir)?;
            std::fs::create_dir_all(cache.parent().expect("cache dir"))?;
            std::fs::copy(dir.join("hearth.db"), cache)?;
        }
        return Ok((people, directs, false));
    }
    // From the cache: fresh sessions for the users already there.
    let db = open(dir)?;
    let (ids, rooms, direct_rows) = db.read_blocking(|conn| {
        let ids = conn
            .prepare("SELECT id FROM users ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        let rooms = conn
            .prepare("SELECT id FROM conversations WHERE kind = 'channel' ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        let directs = conn
            .prepare(
                "SELECT c.id, min(m.user_id) FROM conversations c
                 JOIN memberships m ON m.conversation_id = c.id
                 WHERE c.kind = 'direct' GROUP BY c.id ORDER BY c.id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<(i64, i64)>>>()?;
        Ok((ids, rooms, directs))
    })?;
    let directs = direct_rows
        .into_iter()
        .map(|(id, user)| {
            let reader = ids
                .binary_search(&user)
                .expect("a direct's member is a user");
            Direct { id, reader }
        })
        .collect();
    let tokens: Vec<String> = ids.iter().map(|_| new_token()).collect();
    let pairs: Vec<(i64, Vec<u8>)> = ids
        .iter()
        .zip(&tokens)
        .map(|(id, t)| (*id, token_hash(t)))
        .collect();
    db.write_blocking(move |ctx| {
        for (id, hash) in pairs {
            sessions::insert(
                ctx.conn,
                &hash,
                id,
                &new_token(),
                now_ms(),
                &Default::default(),
            )?;
        }
        Ok(())
    })?;
    db.writer().shutdown();
    Ok((People { ids, tokens, rooms }, directs, true))
}

/// The pairs of users (by index) who have a direct: neighbours first, then farther apart.
fn direct_pairs(shape: &HistoryShape) -> anyhow::Result<Vec<(usize, usize)>> {
    let users = shape.users;
    anyhow::ensure!(
        shape.directs <= users * users.saturating_sub(1) / 2,
        "{} users have at most {} directs, not {}",
        users,
        users * users.saturating_sub(1) / 2,
        shape.directs
    );
    let mut seen = HashSet::new();
    let mut pairs = Vec::with_capacity(shape.directs);
    for apart in 1..users {
        for a in 0..users {
            if pairs.len() == shape.directs {
                return Ok(pairs);
            }
            let b = (a + apart) % users;
            if seen.insert((a.min(b), a.max(b))) {
                pairs.push((a, b));
            }
        }
    }
    Ok(pairs)
}

/// Bumped when the seeded bodies change, so a kept data set is never the old one.
const SEED_VERSION: u32 = 2;

/// Where a big data set is kept between runs (small ones are cheap to make), per schema and seed
/// version.
fn cache_path(shape: &HistoryShape) -> Option<PathBuf> {
    (shape.total() >= 100_000).then(|| {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "hearth-load/history-s{}-p{SEED_VERSION}-{}m-{}c-{}u-{}k-{}d{}-{}r.db",
            *hearth::db::LATEST_VERSION,
            shape.messages,
            shape.conversations,
            shape.users,
            shape.member_of,
            shape.directs,
            shape.direct_messages,
            shape.reactions,
        ))
    })
}

/// Folds the WAL into the main file so the file alone is the database.
fn checkpoint(dir: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(dir.join("hearth.db"))?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Makes the directs of `pairs`, then every message in id order (each direct's among the
/// channels'), each with its share of the reactions, then the read markers.
fn fill_messages(
    dir: &Path,
    shape: &HistoryShape,
    people: &People,
    pairs: &[(usize, usize)],
) -> anyhow::Result<Vec<Direct>> {
    let started = Instant::now();
    let db = open(dir)?;
    let c = shape.conversations;
    // Conversations by index: the channels, then the directs; and their members.
    let mut members: Vec<Vec<i64>> = vec![Vec::new(); c];
    for j in 0..shape.users {
        for k in history_rooms(shape, j) {
            members[k].push(people.ids[j]);
        }
    }
    let made: Vec<(i64, i64)> = pairs
        .iter()
        .map(|&(a, b)| (people.ids[a], people.ids[b]))
        .collect();
    let direct_ids = db.write_blocking(move |ctx| {
        let now = now_ms();
        let mut ids = Vec::with_capacity(made.len());
        for (a, b) in made {
            let key = conversations::direct_key(a, b);
            let id =
                conversations::insert(ctx.conn, Kind::Direct, "", "", Some(&key), Some(a), now)?;
            for user in [a, b] {
                memberships::add(ctx.conn, id, user, MemberRole::Member, 0, now)?;
            }
            ids.push(id);
        }
        Ok(ids)
    })?;
    let mut convs = people.rooms.clone();
    convs.extend(&direct_ids);
    members.extend(
        pairs
            .iter()
            .map(|&(a, b)| vec![people.ids[a], people.ids[b]]),
    );

    // Plain-text bodies render to one paragraph; check each phrase once rather than render
    // 2M bodies.
    for phrase in PHRASES {
        let sample = format!("message 1 in room 1: {phrase} {RARE}");
        anyhow::ensure!(
            hearth::render::body_html(&sample, &|_| None) == format!("<p>{sample}</p>"),
            "plain text no longer renders as <p>text</p>; update the seeder"
        );
    }
    let chunk = 20_000;
    let total = shape.total();
    let mut last_in = vec![0i64; convs.len()];
    let mut reacted = 0;
    for start in (0..total).step_by(chunk) {
        let end = (start + chunk).min(total);
        let (convs, members, ids, shape) =
            (convs.clone(), members.clone(), people.ids.clone(), *shape);
        let (last, made) = db.write_blocking(move |ctx| {
            let now = now_ms();
            let mut last = vec![0i64; convs.len()];
            let mut made = 0;
            for n in start..end {
                let in_directs = shape.directs_before(n);
                let (k, round) = if shape.directs_before(n + 1) > in_directs {
                    (c + in_directs % shape.directs, in_directs / shape.directs)
                } else {
                    let nth = n - in_directs;
                    (nth % c, nth / c)
                };
                let sender = match members[k].len() {
                    0 => ids[k % ids.len()],
                    len => members[k][round % len],
                };
                let body = body(&shape, n, round, k);
                let html = format!("<p>{body}</p>");
                let at = now - (total - n) as i64;
                let id = messages::insert(
                    ctx.conn,
                    &NewMessage {
                        conversation_id: convs[k],
                        sender_id: sender,
                        body: &body,
                        html: &html,
                        reply_to: None,
                        client_id: None,
                        now: at,
                        posted_as: None,
                    },
                )?;
                last[k] = id;
                let share = shape.reactions_before(n + 1) - shape.reactions_before(n);
                for i in 0..share.min(EMOJI.len()) {
                    let people = &members[k];
                    if people.is_empty() {
                        break;
                    }
                    let who = people[(n / 7 + i) % people.len()];
                    let emoji = EMOJI[(n + i) % EMOJI.len()];
                    made += usize::from(reactions::add(ctx.conn, id, emoji, who, at + i as i64)?);
                }
            }
            for (k, id) in last.iter().enumerate() {
                if *id > 0 {
                    conversations::touch(ctx.conn, convs[k], *id, now)?;
                }
            }
            Ok((last, made))
        })?;
        reacted += made;
        for (k, id) in last.into_iter().enumerate() {
            last_in[k] = last_in[k].max(id);
        }
    }
    // Read markers: each member of a channel is 0..1,500 of its messages behind (ids of one
    // round of the channels, stretched by the directs' messages between them); directs are read.
    let ids_per_round = c as f64 * total as f64 / shape.messages.max(1) as f64;
    let mut rng = Rng::new(42);
    let mut marks = Vec::new();
    for j in 0..shape.users {
        for k in history_rooms(shape, j) {
            let behind = (rng.below(1_501) as f64 * ids_per_round) as i64;
            marks.push((people.rooms[k], people.ids[j], (last_in[k] - behind).max(0)));
        }
    }
    for (d, &(a, b)) in pairs.iter().enumerate() {
        for user in [a, b] {
            marks.push((direct_ids[d], people.ids[user], last_in[c + d]));
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
        "seeded {total} messages ({} in {} directs) and {reacted} reactions in {:.1} s",
        shape.directs * shape.direct_messages,
        shape.directs,
        started.elapsed().as_secs_f64()
    );
    Ok(direct_ids
        .iter()
        .zip(pairs)
        .map(|(&id, &(a, b))| Direct {
            id,
            reader: a.min(b),
        })
        .collect())
}
