//! What imports brought in: each person, conversation, message and reaction by its id in the
//! source, so that a second run of the same import adds nothing twice.

use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

use crate::error::Result;

/// What kind of thing a row maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Conversation,
    Message,
    /// A reaction has no id of its own: its row maps to the message it is on.
    Reaction,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Conversation => "conversation",
            Kind::Message => "message",
            Kind::Reaction => "reaction",
        }
    }
}

/// Notes that `external_id` of `source` is `local_id` here (replacing an older note of it).
pub fn record(
    conn: &Connection,
    source: &str,
    kind: Kind,
    external_id: &str,
    local_id: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO imported (source, kind, external_id, local_id) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (source, kind, external_id) DO UPDATE SET local_id = excluded.local_id",
    )?
    .execute(params![source, kind.as_str(), external_id, local_id])?;
    Ok(())
}

/// The local id `external_id` of `source` was imported as, if it was.
pub fn local_id(
    conn: &Connection,
    source: &str,
    kind: Kind,
    external_id: &str,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT local_id FROM imported WHERE source = ?1 AND kind = ?2 AND external_id = ?3",
        )?
        .query_row(params![source, kind.as_str(), external_id], |r| r.get(0))
        .optional()?)
}

/// Everything of one kind a source brought in: external id to local id.
pub fn all(conn: &Connection, source: &str, kind: Kind) -> Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT external_id, local_id FROM imported WHERE source = ?1 AND kind = ?2",
    )?;
    let rows = stmt
        .query_map(params![source, kind.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        conn
    }

    #[test]
    fn a_mapping_is_found_by_source_kind_and_id_and_can_be_replaced() {
        let conn = db();
        record(&conn, "slack:T1", Kind::User, "U1", 7).unwrap();
        record(&conn, "slack:T1", Kind::Message, "U1", 9).unwrap();
        record(&conn, "slack:T2", Kind::User, "U1", 11).unwrap();
        assert_eq!(
            local_id(&conn, "slack:T1", Kind::User, "U1").unwrap(),
            Some(7)
        );
        assert_eq!(
            local_id(&conn, "slack:T1", Kind::Message, "U1").unwrap(),
            Some(9)
        );
        assert_eq!(
            local_id(&conn, "slack:T2", Kind::User, "U1").unwrap(),
            Some(11)
        );
        assert_eq!(local_id(&conn, "slack:T1", Kind::User, "U2").unwrap(), None);
        record(&conn, "slack:T1", Kind::User, "U1", 8).unwrap();
        let users = all(&conn, "slack:T1", Kind::User).unwrap();
        assert_eq!(users, HashMap::from([("U1".to_owned(), 8)]));
        assert!(all(&conn, "slack:T1", Kind::Reaction).unwrap().is_empty());
    }
}
