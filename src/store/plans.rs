//! Query-plan checks: the hot queries must use their indexes, never scan a whole table.

use rusqlite::Connection;

use super::messages::Cursor;
use crate::db::migrate;

fn db() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate(&mut conn).unwrap();
    crate::db::stable_plans(&conn).unwrap();
    conn
}

/// The plan's detail lines for `sql`.
fn plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let n = stmt.parameter_count();
    let params: Vec<i64> = vec![1; n];
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>();
    rows.join("\n")
}

fn assert_no_full_scan(plan: &str, table_alias: &str) {
    for line in plan.lines() {
        let scans = line.starts_with(&format!("SCAN {table_alias}")) && !line.contains("USING");
        assert!(!scans, "full scan of {table_alias}:\n{plan}");
    }
}

#[test]
fn history_pages_use_the_conversation_index() {
    let conn = db();
    for cursor in [Cursor::Latest, Cursor::Before(1), Cursor::After(1)] {
        let p = plan(&conn, &super::messages::page_sql(cursor));
        assert!(p.contains("messages_by_conversation"), "{cursor:?}:\n{p}");
        assert!(
            !p.contains("TEMP B-TREE"),
            "no sort step for {cursor:?}:\n{p}"
        );
        assert_no_full_scan(&p, "m");
    }
}

#[test]
fn the_reactions_of_a_page_are_found_message_by_message() {
    let conn = db();
    let p = plan(&conn, super::reactions::OF_MESSAGES);
    // One search of the primary key per message: not a range between the page's lowest and
    // highest ids, which for a direct conversation spans most of everyone's messages.
    assert!(
        p.contains("SEARCH reactions USING PRIMARY KEY (message_id=?)"),
        "{p}"
    );
    assert!(!p.lines().any(|l| l.starts_with("SCAN reactions")), "{p}");
}

#[test]
fn unread_counts_use_indexes() {
    let conn = db();
    let sql = format!(
        "SELECT m.conversation_id, {}, {} FROM memberships m WHERE m.user_id = ?1",
        super::reads::UNREAD,
        super::reads::MENTIONS
    );
    let p = plan(&conn, &sql);
    assert!(p.contains("memberships_by_user"), "{p}");
    // Index-only: counting never reads the message rows themselves.
    assert!(p.contains("COVERING INDEX messages_unread"), "{p}");
    assert_no_full_scan(&p, "m");
    assert_no_full_scan(&p, "x");
}

#[test]
fn the_mentions_of_one_message_are_found_by_index() {
    let conn = db();
    let p = plan(&conn, "DELETE FROM mentions WHERE message_id = ?1");
    assert!(p.contains("mentions_by_message"), "{p}");
    assert_no_full_scan(&p, "mentions");
}

#[test]
fn event_replay_is_a_range_on_seq() {
    let conn = db();
    let p = plan(
        &conn,
        "SELECT seq, frame FROM events WHERE seq > ?2 AND (user_id = ?1 OR (user_id IS NULL AND conversation_id IN
         (SELECT conversation_id FROM memberships WHERE user_id = ?1))) ORDER BY seq LIMIT ?3",
    );
    assert!(p.contains("INTEGER PRIMARY KEY (rowid>?)"), "{p}");
}

#[test]
fn search_reads_its_indexes_newest_first_without_sorting() {
    use super::search::{Filters, Source, statement};
    let conn = db();
    let all = Filters {
        scope: vec![1, 2],
        ..Filters::default()
    };
    let words = plan(&conn, &statement(&Source::Words("x".into()), &all, 9).0);
    assert!(words.contains("VIRTUAL TABLE INDEX"), "{words}");
    assert!(
        words.contains("SEARCH m USING INTEGER PRIMARY KEY"),
        "{words}"
    );
    assert!(
        !words.contains("TEMP B-TREE"),
        "the index gives the order:\n{words}"
    );
    let trigrams = plan(&conn, &statement(&Source::Trigrams("x".into()), &all, 9).0);
    assert!(trigrams.contains("VIRTUAL TABLE INDEX"), "{trigrams}");
    assert!(!trigrams.contains("TEMP B-TREE"), "{trigrams}");
    // One person's messages come from their own index, newest first.
    let from = Filters {
        sender: Some(1),
        ..all.clone()
    };
    let p = plan(&conn, &statement(&Source::Filters(None), &from, 9).0);
    assert!(p.contains("messages_by_sender"), "{p}");
    assert!(!p.contains("TEMP B-TREE"), "{p}");
    assert_no_full_scan(&p, "m");
    // One conversation's messages from the conversation's index.
    let inside = Filters {
        conversation: Some(1),
        ..all
    };
    let p = plan(&conn, &statement(&Source::Filters(None), &inside, 9).0);
    assert!(
        p.contains("messages_by_conversation") || p.contains("messages_unread"),
        "{p}"
    );
    assert_no_full_scan(&p, "m");
}

#[test]
fn email_queries_read_one_message_and_one_person() {
    let conn = db();
    let p = plan(&conn, super::email::LISTENERS);
    assert_no_full_scan(&p, "m");
    assert_no_full_scan(&p, "x");
    let p = plan(&conn, super::email::PENDING);
    assert!(
        p.contains("SEARCH p USING PRIMARY KEY (user_id=? AND message_id>?)"),
        "{p}"
    );
    assert!(!p.contains("TEMP B-TREE"), "{p}");
}
