//! Push devices: the Web Push subscriptions each person's browsers gave.

use rusqlite::{Connection, Row, params};

use crate::domain::UserId;
use crate::error::Result;

/// One subscribed device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: i64,
    pub user_id: UserId,
    pub endpoint: String,
    pub p256dh: Vec<u8>,
    pub auth: Vec<u8>,
    /// What the person sees it as ("Chrome on Linux").
    pub label: String,
    pub created_at: i64,
    pub last_sent_at: Option<i64>,
    pub last_error: String,
}

fn from_row(r: &Row) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        user_id: r.get(1)?,
        endpoint: r.get(2)?,
        p256dh: r.get(3)?,
        auth: r.get(4)?,
        label: r.get(5)?,
        created_at: r.get(6)?,
        last_sent_at: r.get(7)?,
        last_error: r.get(8)?,
    })
}

const COLUMNS: &str =
    "id, user_id, endpoint, p256dh, auth, label, created_at, last_sent_at, last_error";

/// A new device of `user`. A browser that subscribed before keeps its endpoint: it then
/// belongs to whoever subscribed last on it, with the keys it gives now. Returns its id.
pub fn subscribe(
    conn: &Connection,
    user: UserId,
    endpoint: &str,
    p256dh: &[u8],
    auth: &[u8],
    label: &str,
    now: i64,
) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, label, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id,
                 p256dh = excluded.p256dh, auth = excluded.auth, label = excluded.label,
                 created_at = excluded.created_at, last_error = ''
             RETURNING id",
        )?
        .query_row(params![user, endpoint, p256dh, auth, label, now], |r| {
            r.get(0)
        })?)
}

/// A person's devices, newest first.
pub fn of_user(conn: &Connection, user: UserId) -> Result<Vec<Device>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM push_subscriptions WHERE user_id = ?1 ORDER BY id DESC"
    ))?;
    let rows = stmt
        .query_map([user], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Removes one of a person's devices; false when they have none with that id.
pub fn remove(conn: &Connection, user: UserId, id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM push_subscriptions WHERE id = ?1 AND user_id = ?2")?
        .execute(params![id, user])?
        == 1)
}

/// Removes a device its push service said is gone (404, 410), if it still has that endpoint.
pub fn forget(conn: &Connection, id: i64, endpoint: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM push_subscriptions WHERE id = ?1 AND endpoint = ?2")?
        .execute(params![id, endpoint])?
        == 1)
}

/// Notes how the last push to a device went: `error` empty when it was taken.
pub fn note_sent(conn: &Connection, id: i64, now: i64, error: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE push_subscriptions
         SET last_sent_at = CASE WHEN ?3 = '' THEN ?2 ELSE last_sent_at END, last_error = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, now, error])?;
    Ok(())
}

/// How many devices there are, for `/metrics`.
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM push_subscriptions")?
        .query_row([], |r| r.get(0))?)
}
