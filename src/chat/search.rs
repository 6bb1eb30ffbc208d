//! Finding messages: a query parsed into terms and filters, run over the conversations a
//! person may read (their own, plus channels they have not joined when asked), newest first
//! or best match, a page at a time behind an opaque cursor, with a count and snippets.

use std::collections::{BTreeSet, HashMap};

use rusqlite::Connection;
use serde::Serialize;

use super::Chat;
use crate::domain::chat::{ConversationId, Message, MessageId};
use crate::domain::{User, now_ms};
use crate::error::{Error, Result};
use crate::search::expr::{excluded_expr, holds, trigram_expr, words_expr};
use crate::search::fold::{fold, is_unspaced};
use crate::search::snippet::{Matching, Piece, snippet};
use crate::search::{Has, Place, Query, parse};
use crate::store::search::{self as store, Candidate, Filters, Source};
use crate::store::{conversations as convs, memberships, users};

/// Results are counted up to this many; past it the count says "more than".
pub const COUNT_CAP: usize = 200;
/// Candidates checked against their text per source and page before the page is given as
/// it stands, with a cursor to search further back.
pub const BUDGET: usize = 2_000;
/// Messages a page reads at most when nothing but the filters drives it (`has:link`,
/// `is:mention`, dates alone): the newest this many below the cursor, then the cursor goes on.
pub const FILTER_WINDOW: MessageId = 200_000;
/// Best match ranks this many of the newest matches.
pub const RANK_POOL: usize = 200;
/// The most results on a page.
pub const MAX_LIMIT: usize = 50;

/// What was asked.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub q: String,
    pub cursor: Option<String>,
    pub limit: usize,
    /// Also search channels the person has not joined.
    pub public: bool,
    /// Best match rather than newest first.
    pub best: bool,
    /// The searcher's time zone, minutes east of UTC (dates are their days).
    pub tz_minutes: i32,
}

/// How many results there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SearchCount)]
pub struct Count {
    pub n: usize,
    /// False: at least `n` ("more than").
    pub exact: bool,
}

/// Where a result was said.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SearchWhere)]
pub struct Where {
    pub id: ConversationId,
    pub kind: String,
    /// `#name`, the group's name, or the other person's name.
    pub title: String,
}

/// One result.
#[derive(Debug, Clone)]
pub struct Hit {
    pub message: Message,
    pub conversation: Where,
    pub snippet: Vec<Piece>,
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct Found {
    pub hits: Vec<Hit>,
    /// The cursor of the next page.
    pub next: Option<String>,
    /// On the first page.
    pub count: Option<Count>,
    /// Terms were matched inside runs of text, not as words (no word matched, or the query
    /// is in a script written without spaces).
    pub anywhere: bool,
    pub query: Query,
}

/// Which reading a cursor continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Words,
    Anywhere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Start,
    Below(Mode, MessageId),
    Ranked(usize),
}

fn cursor(raw: Option<&str>, best: bool) -> Result<Cursor> {
    let Some(raw) = raw.filter(|r: &&str| !r.is_empty()) else {
        return Ok(Cursor::Start);
    };
    let bad = || Error::invalid("cursor is not one this search gave");
    let (tag, n) = raw.split_at_checked(1).ok_or_else(bad)?;
    let n: i64 = n
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0 && v.to_string() == n)
        .ok_or_else(bad)?;
    match (tag, best) {
        ("w", _) => Ok(Cursor::Below(Mode::Words, n)),
        ("s", _) => Ok(Cursor::Below(Mode::Anywhere, n)),
        ("r", true) => Ok(Cursor::Ranked(usize::try_from(n).map_err(|_| bad())?)),
        _ => Err(bad()),
    }
}

/// Searches what `user` may read.
pub async fn search(chat: &Chat, user: &User, req: Request) -> Result<Found> {
    let user = user.clone();
    chat.db.read(move |conn| find(conn, &user, &req)).await
}

/// The search itself, on a read connection (the load harness times this in process).
pub fn find(conn: &Connection, user: &User, req: &Request) -> Result<Found> {
    let query = parse(&req.q).map_err(Error::Invalid)?;
    if query.is_empty() {
        return Err(Error::invalid("type a word or a filter to search for"));
    }
    if !(1..=MAX_LIMIT).contains(&req.limit) {
        return Err(Error::invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let at = cursor(req.cursor.as_deref(), req.best)?;
    if !(-14 * 60..=14 * 60).contains(&req.tz_minutes) {
        return Err(Error::invalid(
            "tz must be minutes east of UTC, -840 to 840",
        ));
    }
    run(conn, user, req, query, at)
}

fn run(conn: &Connection, user: &User, req: &Request, query: Query, at: Cursor) -> Result<Found> {
    let filters = filters(conn, user, req, &query)?;
    let words_ok = !query.terms.iter().any(|t| t.text.chars().any(is_unspaced));
    let mut found = match at {
        Cursor::Ranked(offset) => ranked(conn, &query, &filters, offset, req.limit)?,
        Cursor::Start if req.best && words_ok && !query.terms.is_empty() => {
            let page = ranked(conn, &query, &filters, 0, req.limit)?;
            if page.ids.is_empty() {
                newest(conn, &query, &filters, Mode::Anywhere, None, req.limit)?
            } else {
                page
            }
        }
        Cursor::Start => {
            let mode = if words_ok {
                Mode::Words
            } else {
                Mode::Anywhere
            };
            let page = newest(conn, &query, &filters, mode, None, req.limit)?;
            if mode == Mode::Words
                && page.ids.is_empty()
                && page.next.is_none()
                && can_fall_back(&query)
            {
                newest(conn, &query, &filters, Mode::Anywhere, None, req.limit)?
            } else {
                page
            }
        }
        Cursor::Below(mode, id) => newest(conn, &query, &filters, mode, Some(id), req.limit)?,
    };
    let hits = hits(conn, user, &query, &found.ids, found.anywhere)?;
    Ok(Found {
        hits,
        next: found.next.take(),
        count: (at == Cursor::Start).then_some(found.count),
        anywhere: found.anywhere,
        query,
    })
}

/// Matching inside runs of text can find what words did not.
fn can_fall_back(q: &Query) -> bool {
    !q.terms.is_empty() && q.terms.iter().any(|t| fold(&t.text).chars().count() >= 2)
}

/// The conversations searched and the filters, resolved against the database.
fn filters(conn: &Connection, user: &User, req: &Request, q: &Query) -> Result<Filters> {
    let mut scope = memberships::conversations_of(conn, user.id)?;
    if req.public {
        scope.extend(store::channels(conn)?);
        scope.sort_unstable();
        scope.dedup();
    }
    let sender = match &q.from {
        Some(name) => match users::by_name(conn, name) {
            Ok(u) => Some(u.id),
            Err(Error::NotFound | Error::NoSuchUser(_)) => {
                return Err(Error::invalid(format!(
                    "from:@{name}: there is nobody called @{name}"
                )));
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    let conversation = match &q.place {
        Some(Place::Named(name)) => {
            let id = store::named(conn, name, &scope)?.ok_or_else(|| {
                Error::invalid(format!(
                    "in:#{name}: no channel or group by that name that you can read"
                ))
            })?;
            // Naming a channel is asking to search it, joined or not.
            if !scope.contains(&id) {
                scope.push(id);
            }
            Some(id)
        }
        Some(Place::Direct(name)) => {
            let other = users::by_name(conn, name).ok();
            let direct = match &other {
                Some(o) => convs::direct(conn, &convs::direct_key(user.id, o.id))?,
                None => None,
            };
            match direct.filter(|id| scope.contains(id)) {
                Some(id) => Some(id),
                None => {
                    return Err(Error::invalid(format!(
                        "in:@{name}: you have no direct conversation with @{name}"
                    )));
                }
            }
        }
        None => None,
    };
    let day = |d: i64| d * 86_400_000 - i64::from(req.tz_minutes) * 60_000;
    Ok(Filters {
        scope,
        me: user.id,
        sender,
        conversation,
        has_file: q.has.contains(&Has::File),
        has_image: q.has.contains(&Has::Image),
        has_link: q.has.contains(&Has::Link),
        mention: q.mention,
        from_ms: q.after.map(|d| day(d + 1)),
        until_ms: q.before.map(day),
        floor: None,
        bodies: false,
    })
}

/// A page read newest first, before it is loaded.
struct Page {
    ids: Vec<MessageId>,
    next: Option<String>,
    count: Count,
    anywhere: bool,
}

/// Newest first from `below` (or the newest): every source read until it has `want` matches,
/// runs out, or spent its budget; the page is what all sources agree on.
fn newest(
    conn: &Connection,
    q: &Query,
    f: &Filters,
    mode: Mode,
    below: Option<MessageId>,
    limit: usize,
) -> Result<Page> {
    let first = below.is_none();
    let want = if first {
        (limit + 1).max(COUNT_CAP + 1)
    } else {
        limit + 1
    };
    let terms: Vec<String> = q.terms.iter().map(|t| fold(&t.text)).collect();
    let excluded: Vec<String> = q.excluded.iter().map(|t| fold(&t.text)).collect();
    // (source, whether candidates are checked against the text)
    let mut sources: Vec<(Source, bool)> = Vec::new();
    match (mode, words_expr(q)) {
        (Mode::Words, Some(expr)) => sources.push((Source::Words(expr), false)),
        (Mode::Words, None) => sources.push((Source::Filters(excluded_expr(q)), false)),
        (Mode::Anywhere, _) => match trigram_expr(q) {
            Some(expr) => sources.push((Source::Trigrams(expr), true)),
            None => sources.push((Source::Filters(None), true)),
        },
    }
    if !terms.is_empty() {
        sources.push((Source::Names(trigram_expr(q)), true));
    }
    let beyond = below.unwrap_or(MessageId::MAX);
    let mut accepted: BTreeSet<std::cmp::Reverse<MessageId>> = BTreeSet::new();
    let mut known_to: MessageId = 0;
    let mut complete = true;
    for (source, checked) in &sources {
        let is_names = matches!(source, Source::Names(_));
        let mut mine = 0usize;
        let budget = match source {
            // Nothing to look up: the newest messages are read and checked.
            _ if *checked => BUDGET.max(want),
            _ => want,
        };
        // A scan no index drives reads a window of the newest messages, not the whole table.
        let window =
            matches!(source, Source::Filters(_)) && f.sender.is_none() && f.conversation.is_none();
        let floor = if window {
            let top = store::newest_id(conn)?.min(beyond.saturating_sub(1));
            Some((top - FILTER_WINDOW + 1).max(0))
        } else {
            None
        };
        let fw = Filters {
            floor,
            bodies: *checked,
            ..f.clone()
        };
        let (read, last) = store::scan(conn, source, &fw, beyond, budget, |c: Candidate| {
            let ok = !*checked
                || match (&c.filename, is_names) {
                    (Some(name), true) => {
                        holds(name, &terms, &[])
                            && !excluded.iter().any(|e| fold(&c.body).contains(e.as_str()))
                    }
                    _ => holds(&c.body, &terms, &excluded),
                };
            if ok {
                accepted.insert(std::cmp::Reverse(c.id));
                mine += 1;
            }
            mine < want
        })?;
        // What this source has not read yet lies below `last`, unless it ran dry; a window
        // that ran dry has not read below its floor.
        let ran_dry = read < budget && mine < want;
        if !ran_dry {
            complete = false;
            known_to = known_to.max(last.unwrap_or(0));
        } else if let Some(floor) = floor.filter(|f| *f > 1) {
            complete = false;
            known_to = known_to.max(floor);
        }
    }
    let agreed: Vec<MessageId> = accepted
        .iter()
        .map(|r| r.0)
        .filter(|id| *id >= known_to)
        .collect();
    let tag = if mode == Mode::Words { 'w' } else { 's' };
    let (ids, next) = if agreed.len() > limit {
        let page = agreed[..limit].to_vec();
        let next = format!("{tag}{}", page[limit - 1]);
        (page, Some(next))
    } else if !complete && known_to > 1 {
        (agreed.clone(), Some(format!("{tag}{known_to}")))
    } else {
        (agreed.clone(), None)
    };
    let count = Count {
        n: agreed.len().min(COUNT_CAP),
        exact: complete && agreed.len() <= COUNT_CAP,
    };
    Ok(Page {
        ids,
        next,
        count,
        anywhere: mode == Mode::Anywhere,
    })
}

/// Best match: the newest word matches ranked by bm25 and recency, a page from `offset`.
fn ranked(conn: &Connection, q: &Query, f: &Filters, offset: usize, limit: usize) -> Result<Page> {
    let expr = words_expr(q).ok_or_else(|| Error::invalid("best match needs words to rank"))?;
    let all = store::ranked(conn, &expr, f, RANK_POOL, now_ms())?;
    let ids: Vec<MessageId> = all.iter().skip(offset).take(limit).map(|r| r.0).collect();
    let next = (all.len() > offset + limit).then(|| format!("r{}", offset + limit));
    Ok(Page {
        count: Count {
            n: all.len(),
            exact: all.len() < RANK_POOL,
        },
        ids,
        next,
        anywhere: false,
    })
}

/// The messages of a page, in its order, with where they were said and their snippets.
fn hits(
    conn: &Connection,
    user: &User,
    q: &Query,
    ids: &[MessageId],
    anywhere: bool,
) -> Result<Vec<Hit>> {
    let mut by_id: HashMap<MessageId, Message> = store::messages(conn, ids)?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut places: HashMap<ConversationId, Where> = HashMap::new();
    let matching = if anywhere {
        Matching::Anywhere
    } else {
        Matching::Words
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(message) = by_id.remove(id) else {
            continue;
        };
        let c = message.conversation_id;
        if let std::collections::hash_map::Entry::Vacant(slot) = places.entry(c) {
            let (kind, name, other) = store::place(conn, c, user.id)?;
            let title = match kind.as_str() {
                "channel" => format!("#{name}"),
                "direct" => other.unwrap_or_else(|| "Direct message".into()),
                _ => name,
            };
            slot.insert(Where { id: c, kind, title });
        }
        let text = crate::render::plain_text(&message.body);
        let shown = if text.trim().is_empty() {
            message
                .attachments
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            text
        };
        out.push(Hit {
            snippet: snippet(&shown, &q.terms, matching),
            conversation: places[&c].clone(),
            message,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        assert_eq!(cursor(None, false).unwrap(), Cursor::Start);
        assert_eq!(
            cursor(Some("w42"), false).unwrap(),
            Cursor::Below(Mode::Words, 42)
        );
        assert_eq!(
            cursor(Some("s7"), true).unwrap(),
            Cursor::Below(Mode::Anywhere, 7)
        );
        assert_eq!(cursor(Some("r20"), true).unwrap(), Cursor::Ranked(20));
        for bad in [
            "r20",
            "w-1",
            "w0",
            "x5",
            "w",
            "w+5",
            "w05",
            "🎉1",
            "w99999999999999999999",
        ] {
            let best = bad != "r20";
            assert!(cursor(Some(bad), !best).is_err() || bad == "r20", "{bad}");
        }
        assert!(cursor(Some("r20"), false).is_err());
    }
}
