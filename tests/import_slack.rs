//! `hearth import slack EXPORT.zip`: a community comes over from Slack whole — people (the
//! deactivated stay so, bots are bots), channels, private channels, directs, threads, edits,
//! reactions, Slack's markup and shared files — once, however often it is run. A bad archive
//! is refused and changes nothing; a failure midway leaves nothing behind; a dry run writes
//! nothing; beside a running server, the people already there see what came in.

mod common;
#[path = "common/ops.rs"]
mod ops_support;

use ops_support::{PASSWORD, hearth, init_with_users, run};
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The files of an export, written as a zip when asked.
#[derive(Clone)]
struct Export {
    files: Vec<(String, Vec<u8>)>,
}

impl Export {
    fn with(mut self, name: &str, value: Value) -> Self {
        self.files.retain(|(n, _)| n != name);
        self.files
            .push((name.into(), value.to_string().into_bytes()));
        self
    }

    fn with_raw(mut self, name: &str, bytes: &[u8]) -> Self {
        self.files.retain(|(n, _)| n != name);
        self.files.push((name.into(), bytes.to_vec()));
        self
    }

    fn without(mut self, name: &str) -> Self {
        self.files.retain(|(n, _)| n != name);
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in &self.files {
            w.start_file(name.as_str(), options).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.bytes()).unwrap();
        path
    }
}

const T0: i64 = 1_600_000_000;

/// A workspace: ada, bob, cy (deactivated), a bot, root (the Hearth admin's name too) and
/// dee; #general, #random (archived), a private channel, two directs and a group direct.
fn slack() -> Export {
    let day = |name: &str, messages: Value| (format!("{name}/2020-09-13.json"), messages);
    let mut e = Export { files: Vec::new() };
    e = e.with(
        "users.json",
        json!([
            {"id": "U1", "team_id": "T1", "name": "ada", "real_name": "Ada Lovelace",
             "profile": {"display_name": "Ada", "real_name": "Ada Lovelace"}},
            {"id": "U2", "team_id": "T1", "name": "bob",
             "profile": {"display_name": "", "real_name": "Bob Kahn"}},
            {"id": "U3", "team_id": "T1", "name": "cy", "deleted": true,
             "profile": {"real_name": "Cy Gone"}},
            {"id": "U4", "team_id": "T1", "name": "deploybot", "is_bot": true,
             "profile": {"real_name": "Deploy Bot", "bot_id": "B1"}},
            {"id": "U5", "team_id": "T1", "name": "root", "profile": {"real_name": "The Admin"}},
            {"id": "U6", "team_id": "T1", "name": "dee", "profile": {"display_name": "Dee"}}
        ]),
    );
    e = e.with(
        "channels.json",
        json!([
            {"id": "C1", "name": "general", "created": T0, "creator": "U1",
             "members": ["U1", "U2", "U3", "U5", "U6"],
             "topic": {"value": "Everything <@U1> says"}, "purpose": {"value": ""}},
            {"id": "C2", "name": "random", "created": T0, "creator": "U2", "is_archived": true,
             "members": ["U1", "U2"], "topic": {"value": ""}, "purpose": {"value": "Off *topic*"}}
        ]),
    );
    e = e.with(
        "groups.json",
        json!([{"id": "G1", "name": "secret-plans", "created": T0, "creator": "U1",
                "members": ["U1", "U2"]}]),
    );
    e = e.with(
        "dms.json",
        json!([{"id": "D1", "created": T0, "members": ["U1", "U2"]},
               {"id": "D2", "created": T0, "members": ["U5", "U1"]}]),
    );
    e = e.with(
        "mpims.json",
        json!([{"id": "M1", "name": "mpdm-ada--bob--cy-1", "created": T0, "creator": "U1",
                "members": ["U1", "U2", "U3"]}]),
    );
    let general = json!([
        {"type": "message", "subtype": "channel_join", "user": "U1",
         "text": "<@U1> has joined the channel", "ts": "1600000000.000100"},
        {"type": "message", "user": "U1", "ts": "1600000001.000100",
         "text": "Hello <!here>, welcome to *Hearth*! See <#C2|random> and <https://example.org|our site> &amp; more",
         "thread_ts": "1600000001.000100", "reply_count": 1,
         "reactions": [{"name": "+1", "users": ["U2", "U5"], "count": 2},
                       {"name": "partyparrot", "users": ["U2"], "count": 1}]},
        {"type": "message", "user": "U2", "ts": "1600000002.000200",
         "text": "Thanks <@U1>! _so_ ~not~ `*code*`",
         "thread_ts": "1600000001.000100", "parent_user_id": "U1",
         "edited": {"user": "U2", "ts": "1600000100.000000"}},
        {"type": "message", "subtype": "bot_message", "bot_id": "B1", "username": "deploybot",
         "text": "", "ts": "1600000003.000300",
         "attachments": [{"fallback": "Deployed v1.2 to production"}]},
        {"type": "message", "user": "U9", "text": "who am I?", "ts": "1600000004.000400"},
        {"type": "message", "user": "U1", "text": "here is the plan", "ts": "1600000005.000500",
         "files": [{"id": "F1", "name": "plan.pdf", "title": "The plan",
                    "url_private": "https://files.slack.com/files-pri/T1-F1/plan.pdf",
                    "permalink": "https://t1.slack.com/files/U1/F1/plan.pdf"}]},
        {"type": "message", "user": "U2", "text": "```if a &lt; b &amp;&amp; *c* {}```",
         "ts": "1600000006.000600"}
    ]);
    for (name, messages) in [
        day("general", general),
        (
            "general/2020-09-14.json".into(),
            json!([
                {"type": "message", "user": "U3", "text": "bye all", "ts": "1600086400.000100"},
                {"type": "message", "user": "U2", "text": "answering something older",
                 "ts": "1600086401.000100", "thread_ts": "1500000000.000100"},
                {"type": "message", "user": "U1", "text": "   ", "ts": "1600086402.000100"}
            ]),
        ),
        day(
            "random",
            json!([{"user": "U2", "text": "zebra crossing tonight", "ts": "1600000010.000100"}]),
        ),
        day(
            "secret-plans",
            json!([{"user": "U1", "text": "the secret plan", "ts": "1600000020.000100"}]),
        ),
        day(
            "D1",
            json!([{"user": "U2", "text": "psst <@U1>", "ts": "1600000030.000100"}]),
        ),
        day(
            "D2",
            json!([{"user": "U1", "text": "hi admin", "ts": "1600000040.000100"}]),
        ),
        day(
            "mpdm-ada--bob--cy-1",
            json!([{"user": "U3", "text": "group chat", "ts": "1600000050.000100"}]),
        ),
    ] {
        e = e.with(&name, messages);
    }
    e
}

fn db(dir: &Path) -> Connection {
    Connection::open(dir.join("hearth.db")).unwrap()
}

fn one<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> T {
    conn.query_row(sql, p, |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn user_id(conn: &Connection, name: &str) -> i64 {
    one(conn, "SELECT id FROM users WHERE username = ?1", [name])
}

/// Every row of every table, as text: equal before and after means nothing changed.
fn fingerprint(dir: &Path) -> Vec<String> {
    let conn = db(dir);
    let mut stmt = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             ORDER BY name",
        )
        .unwrap();
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let n = stmt.column_count();
        let rows: Vec<String> = stmt
            .query_map([], |r| {
                let values: Vec<rusqlite::types::Value> =
                    (0..n).map(|i| r.get(i)).collect::<Result<_, _>>()?;
                Ok(format!("{values:?}"))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out.push(format!("{table}: {}", rows.join("; ")));
    }
    out
}

fn import(dir: &Path, args: &[&str]) -> ops_support::Output {
    let mut cmd = hearth(dir);
    cmd.args(["import", "slack"]).args(args);
    run(&mut cmd, "")
}

/// The row of the summary table for `what`: (imported, already there, skipped).
fn counts(stdout: &str, what: &str) -> (usize, usize, usize) {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(what))
        .unwrap_or_else(|| panic!("no {what} line in {stdout}"));
    let n: Vec<usize> = line
        .split_whitespace()
        .skip(1)
        .map(|w| w.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

/// Username to the link token the output printed for them.
fn printed_links(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(name, link)| {
            let token = link.rsplit('/').next().unwrap();
            (name.to_owned(), token.to_owned())
        })
        .collect()
}

#[test]
fn a_slack_export_comes_over_whole_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    init_with_users(&data, &[]);
    let zip = slack().write(dir.path(), "export.zip");
    let general_before: i64 = one(
        &db(&data),
        "SELECT id FROM conversations WHERE name = 'general'",
        [],
    );

    let out = import(&data, &[zip.to_str().unwrap()]);
    assert!(out.ok, "{}{}", out.stdout, out.stderr);
    let stdout = &out.stdout;
    assert!(stdout.contains("slack:T1"), "{stdout}");
    assert_eq!(counts(stdout, "people"), (6, 1, 0), "{stdout}");
    assert_eq!(counts(stdout, "conversations"), (5, 1, 0), "{stdout}");
    assert_eq!(counts(stdout, "messages"), (13, 0, 2), "{stdout}");
    assert_eq!(counts(stdout, "reactions"), (2, 0, 1), "{stdout}");
    for says in [
        "Already here by username (their Slack history is theirs): root",
        "Already here by name (the Slack history goes into them): #general",
        "Slack ids not in users.json (times met): U9 (1)",
        "under the deactivated account \"slack-unknown\"",
        "Custom emoji left out: :partyparrot:",
        "1 reply in #general answers a message that is not in the export",
        "joins, leaves, topic changes and other lines about the channel",
        "empty: no text and no file",
    ] {
        assert!(stdout.contains(says), "{says:?} in {stdout}");
    }

    let conn = db(&data);
    // People: by username; the deactivated stay deactivated; the bot is a bot.
    let people: Vec<(String, String, bool, bool)> = conn
        .prepare("SELECT username, display_name, deactivated, bot FROM users ORDER BY username")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let person = |name: &str| {
        people
            .iter()
            .find(|p| p.0 == name)
            .unwrap_or_else(|| panic!("{name} in {people:?}"))
            .clone()
    };
    assert_eq!(people.len(), 7, "{people:?}");
    assert_eq!(person("ada"), ("ada".into(), "Ada".into(), false, false));
    assert_eq!(person("bob").1, "Bob Kahn");
    assert_eq!(person("cy"), ("cy".into(), "Cy Gone".into(), true, false));
    assert_eq!(
        person("deploybot"),
        ("deploybot".into(), "Deploy Bot".into(), false, true)
    );
    assert_eq!(person("dee").1, "Dee");
    assert_eq!(
        person("root").1,
        "root",
        "root is the account that was here"
    );
    assert!(person("slack-unknown").2, "the placeholder is deactivated");

    // Links for the people who can sign in, and only for them; the tokens work.
    let links = printed_links(stdout);
    let names: Vec<&str> = links.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["ada", "bob", "dee"], "{stdout}");
    for (name, token) in &links {
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        let owner: i64 = one(
            &conn,
            "SELECT user_id FROM password_links WHERE token_hash = ?1 AND purpose = 'welcome'",
            [hash],
        );
        assert_eq!(owner, user_id(&conn, name));
    }
    assert_eq!(
        one::<i64>(&conn, "SELECT count(*) FROM password_links", []),
        3
    );
    assert!(stdout.contains("https://YOUR-HEARTH/password/"), "{stdout}");

    // Conversations: #general received the history; the others are new, of their kind.
    let (ada, bob, root) = (
        user_id(&conn, "ada"),
        user_id(&conn, "bob"),
        user_id(&conn, "root"),
    );
    let conversation = |sql_where: &str| -> (i64, String, String, String, bool, i64) {
        one_row(
            &conn,
            &format!(
                "SELECT id, kind, name, topic, archived, created_at FROM conversations WHERE {sql_where}"
            ),
        )
    };
    let general = conversation("name = 'general'");
    assert_eq!(general.0, general_before);
    let random = conversation("name = 'random'");
    assert_eq!(
        (random.1.as_str(), random.3.as_str(), random.4, random.5),
        ("channel", "Off **topic**", true, T0 * 1000)
    );
    let secret = conversation("name = 'secret-plans'");
    assert_eq!(secret.1, "group");
    let group = conversation("name = 'ada, bob, cy'");
    assert_eq!(group.1, "group");
    let key = |a: i64, b: i64| format!("{}:{}", a.min(b), a.max(b));
    let d1 = conversation(&format!("direct_key = '{}'", key(ada, bob)));
    let d2 = conversation(&format!("direct_key = '{}'", key(ada, root)));
    assert_eq!((d1.1.as_str(), d2.1.as_str()), ("direct", "direct"));

    // Members: the listed ones and whoever posted; the creator owns.
    let members = |c: i64| -> Vec<(String, String)> {
        conn.prepare(
            "SELECT u.username, m.role FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = ?1 ORDER BY u.username",
        )
        .unwrap()
        .query_map([c], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let names_of = |c: i64| -> Vec<String> { members(c).into_iter().map(|m| m.0).collect() };
    assert_eq!(
        names_of(general.0),
        [
            "ada",
            "bob",
            "cy",
            "dee",
            "deploybot",
            "root",
            "slack-unknown"
        ]
    );
    assert_eq!(
        members(random.0),
        [
            ("ada".to_owned(), "member".to_owned()),
            ("bob".to_owned(), "owner".to_owned())
        ]
    );
    assert_eq!(names_of(secret.0), ["ada", "bob"]);
    assert_eq!(names_of(group.0), ["ada", "bob", "cy"]);
    assert_eq!(names_of(d2.0), ["ada", "root"]);

    // Messages: in order, at their times, converted, rendered as the app renders them.
    type Row = (
        i64,
        String,
        String,
        String,
        Option<i64>,
        i64,
        Option<i64>,
        bool,
    );
    let messages: Vec<Row> = conn
        .prepare(
            "SELECT m.id, u.username, m.body, m.html, m.reply_to, m.created_at, m.edited_at,
                    m.deleted_at IS NOT NULL
             FROM messages m JOIN users u ON u.id = m.sender_id
             WHERE m.conversation_id = ?1 AND m.notice IS NULL ORDER BY m.id",
        )
        .unwrap()
        .query_map([general.0], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let shown: Vec<(&str, &str, i64)> = messages
        .iter()
        .map(|m| (m.1.as_str(), m.2.as_str(), m.5))
        .collect();
    assert_eq!(
        shown,
        [
            (
                "ada",
                "Hello @here, welcome to **Hearth**! See #random and [our site](https://example.org) & more",
                1_600_000_001_000
            ),
            (
                "bob",
                "Thanks @ada! *so* ~~not~~ `*code*`",
                1_600_000_002_000
            ),
            (
                "deploybot",
                "Deployed v1.2 to production",
                1_600_000_003_000
            ),
            ("slack-unknown", "who am I?", 1_600_000_004_000),
            (
                "ada",
                "here is the plan\n📎 [plan.pdf](https://files.slack.com/files-pri/T1-F1/plan.pdf)",
                1_600_000_005_000
            ),
            ("bob", "```\nif a < b && *c* {}\n```", 1_600_000_006_000),
            ("cy", "bye all", 1_600_086_400_000),
            ("bob", "answering something older", 1_600_086_401_000),
        ]
    );
    let (first, reply) = (&messages[0], &messages[1]);
    assert_eq!(
        reply.4,
        Some(first.0),
        "a thread reply answers the thread's start"
    );
    assert_eq!(
        messages[7].4, None,
        "a reply whose start is missing is plain"
    );
    assert_eq!(
        reply.6,
        Some(1_600_000_100_000),
        "edited at Slack's edit time"
    );
    assert_eq!(first.6, None);
    let mention_of_ada = |name: &str| (name.eq_ignore_ascii_case("ada")).then_some(ada);
    assert_eq!(
        reply.3,
        hearth::render::body_html(&reply.2, &mention_of_ada)
    );
    assert!(
        reply.3.contains(&format!(
            "<span class=\"mention\" data-user-id=\"{ada}\">@ada</span>"
        )),
        "{}",
        reply.3
    );
    assert!(
        reply
            .3
            .contains("<em>so</em> <del>not</del> <code>*code*</code>")
    );
    assert!(first.3.contains("<strong>Hearth</strong>"), "{}", first.3);
    assert!(
        first.3.contains("<a href=\"https://example.org\""),
        "{}",
        first.3
    );
    assert!(
        messages[4]
            .3
            .contains("<a href=\"https://files.slack.com/files-pri/T1-F1/plan.pdf\"")
    );
    assert!(
        messages[5]
            .3
            .contains("<pre><code>if a &lt; b &amp;&amp; *c* {}"),
        "{}",
        messages[5].3
    );

    // Mentions are recorded as a sent message's are (@here is nobody).
    let mentions: Vec<(i64, i64, i64)> = conn
        .prepare("SELECT user_id, conversation_id, message_id FROM mentions ORDER BY message_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let psst: i64 = one(
        &conn,
        "SELECT id FROM messages WHERE body = 'psst @ada'",
        [],
    );
    assert_eq!(mentions, [(ada, general.0, reply.0), (ada, d1.0, psst)]);

    // Reactions: Unicode ones, by the people who reacted.
    let reacted: Vec<(String, String)> = conn
        .prepare(
            "SELECT r.emoji, u.username FROM reactions r JOIN users u ON u.id = r.user_id
             WHERE r.message_id = ?1 ORDER BY u.username",
        )
        .unwrap()
        .query_map([first.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        reacted,
        [
            ("👍".to_owned(), "bob".to_owned()),
            ("👍".to_owned(), "root".to_owned())
        ]
    );
    assert_eq!(one::<i64>(&conn, "SELECT count(*) FROM reactions", []), 2);

    // Each conversation knows its newest message; imported history is not unread.
    for c in [general.0, random.0, secret.0, group.0, d1.0, d2.0] {
        let (last, newest): (i64, i64) = one_row(
            &conn,
            &format!(
                "SELECT last_message_id, (SELECT max(id) FROM messages WHERE conversation_id = {c})
                 FROM conversations WHERE id = {c}"
            ),
        );
        assert_eq!(last, newest, "conversation {c}");
        let unread: i64 = one(
            &conn,
            "SELECT count(*) FROM memberships WHERE conversation_id = ?1
                                                AND unread_after_message_id < ?2",
            params![c, newest],
        );
        assert_eq!(unread, 0, "conversation {c}");
    }
    let random_activity: i64 = one(
        &conn,
        "SELECT last_activity_at FROM conversations WHERE id = ?1",
        [random.0],
    );
    assert_eq!(random_activity, 1_600_000_010_000);

    // Live clients: root (here before) hears of the new direct and of #general's history.
    let events: Vec<(String, Option<i64>)> = conn
        .prepare("SELECT kind, conversation_id FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        events.contains(&("membership.changed".into(), Some(d2.0))),
        "{events:?}"
    );
    assert!(
        events.contains(&("conversation.imported".into(), Some(general.0))),
        "{events:?}"
    );
    let audit: String = one(
        &conn,
        "SELECT target FROM audit_log WHERE action = 'import.slack'",
        [],
    );
    assert_eq!(audit, "slack:T1");

    // The search index has what came in.
    let found: i64 = one(
        &conn,
        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'zebra'",
        [],
    );
    assert_eq!(
        one::<String>(&conn, "SELECT body FROM messages WHERE id = ?1", [found]),
        "zebra crossing tonight"
    );
    drop(conn);
    let check = run(hearth(&data).arg("check"), "");
    assert!(check.ok, "{}{}", check.stdout, check.stderr);

    // Again: nothing new, and nothing undone here is done again (bob left #random).
    db(&data)
        .execute(
            "DELETE FROM memberships WHERE conversation_id = ?1 AND user_id = ?2",
            [random.0, bob],
        )
        .unwrap();
    let before = fingerprint_without_audit(&data);
    let again = import(&data, &[zip.to_str().unwrap()]);
    assert!(again.ok, "{}{}", again.stdout, again.stderr);
    assert_eq!(
        counts(&again.stdout, "people"),
        (0, 6, 0),
        "{}",
        again.stdout
    );
    assert_eq!(counts(&again.stdout, "conversations"), (0, 6, 0));
    assert_eq!(counts(&again.stdout, "messages"), (0, 13, 2));
    assert_eq!(counts(&again.stdout, "reactions"), (0, 2, 1));
    assert!(printed_links(&again.stdout).is_empty(), "{}", again.stdout);
    assert_eq!(fingerprint_without_audit(&data), before);

    // A later export of the same workspace brings what is new, and only that.
    let later = slack()
        .with(
            "random/2020-09-14.json",
            json!([{"user": "U1", "text": "one more thing", "ts": "1600086500.000100"}]),
        )
        .write(dir.path(), "later.zip");
    let third = import(&data, &[later.to_str().unwrap()]);
    assert!(third.ok, "{}", third.stderr);
    assert_eq!(
        counts(&third.stdout, "messages"),
        (1, 13, 2),
        "{}",
        third.stdout
    );
    let conn = db(&data);
    let (last, newest): (i64, i64) = one_row(
        &conn,
        &format!(
            "SELECT last_message_id, (SELECT id FROM messages WHERE body = 'one more thing')
             FROM conversations WHERE id = {}",
            random.0
        ),
    );
    assert_eq!(last, newest);
    let bob_in_random: i64 = one(
        &conn,
        "SELECT count(*) FROM memberships WHERE conversation_id = ?1 AND user_id = ?2",
        [random.0, bob],
    );
    assert_eq!(bob_in_random, 0, "bob left #random here and stays out");
}

/// Every table but the audit log (each run leaves its line there).
fn fingerprint_without_audit(dir: &Path) -> Vec<String> {
    fingerprint(dir)
        .into_iter()
        .filter(|t| !t.starts_with("audit_log:"))
        .collect()
}

fn one_row<T: FromRow>(conn: &Connection, sql: &str) -> T {
    conn.query_row(sql, [], T::from_row)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

trait FromRow: Sized {
    fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Self>;
}

impl<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql> FromRow for (A, B) {
    fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok((r.get(0)?, r.get(1)?))
    }
}

impl<A, B, C, D, E, F> FromRow for (A, B, C, D, E, F)
where
    A: rusqlite::types::FromSql,
    B: rusqlite::types::FromSql,
    C: rusqlite::types::FromSql,
    D: rusqlite::types::FromSql,
    E: rusqlite::types::FromSql,
    F: rusqlite::types::FromSql,
{
    fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    }
}

/// A zip whose entries are written as given, names included.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let e = Export {
        files: entries
            .iter()
            .map(|(n, b)| ((*n).to_owned(), b.to_vec()))
            .collect(),
    };
    e.bytes()
}

#[test]
fn bad_archives_are_refused_with_a_clear_message_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    init_with_users(&data, &["ada"]);
    let good = slack();
    let users = good.files[0].1.clone();

    let mut symlink = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    symlink.start_file("users.json", options).unwrap();
    symlink.write_all(&users).unwrap();
    symlink
        .add_symlink("channels.json", "/etc/passwd", options)
        .unwrap();
    let symlink = symlink.finish().unwrap().into_inner();
    let whole = good.bytes();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a path with ..",
            zip_of(&[("users.json", &users), ("../escape.json", b"[]")]),
            "entry \"../escape.json\" has a \"..\" in its path",
        ),
        (
            "an absolute path",
            zip_of(&[("users.json", &users), ("/tmp/evil.json", b"[]")]),
            "entry \"/tmp/evil.json\" is an absolute path",
        ),
        (
            "a symbolic link",
            symlink,
            "entry \"channels.json\" is a symbolic link",
        ),
        (
            "a bomb",
            good.clone()
                .with_raw("general/2020-09-15.json", &vec![b' '; 64 << 20])
                .bytes(),
            "expands from",
        ),
        (
            "malformed JSON",
            good.clone()
                .with_raw(
                    "general/2020-09-14.json",
                    b"[{\"type\": \"message\", \"ts\": \"1600086400.000100\",\n \"text\": \"hi\"",
                )
                .bytes(),
            "general/2020-09-14.json is not valid JSON: EOF while parsing an object at line 2 column 13",
        ),
        (
            "JSON of the wrong shape",
            good.clone()
                .with("users.json", json!({"members": []}))
                .bytes(),
            "users.json is not what a Slack export holds there: invalid type: map, expected a sequence at line 1 column 0",
        ),
        (
            "a bad time",
            good.clone()
                .with(
                    "random/2020-09-13.json",
                    json!([{"user": "U1", "text": "x", "ts": "noon"}]),
                )
                .bytes(),
            "random/2020-09-13.json is not what a Slack export holds there: \"noon\" is not a Slack time",
        ),
        (
            "no users.json",
            good.clone().without("users.json").bytes(),
            "users.json is missing",
        ),
        (
            "no channels.json",
            good.clone().without("channels.json").bytes(),
            "channels.json is missing",
        ),
        (
            "a truncated archive",
            whole[..whole.len() / 2].to_vec(),
            "not a zip archive, or a truncated or damaged one",
        ),
        (
            "not a zip at all",
            b"PK but not really".to_vec(),
            "not a zip archive",
        ),
    ];
    let before = fingerprint(&data);
    for (what, bytes, says) in cases {
        let path = dir.path().join("bad.zip");
        std::fs::write(&path, &bytes).unwrap();
        let out = import(&data, &[path.to_str().unwrap()]);
        assert!(!out.ok, "{what}: accepted: {}", out.stdout);
        let err = out.stderr.trim();
        assert_eq!(err.lines().count(), 1, "{what}: one line: {err}");
        assert!(err.starts_with("error: "), "{what}: {err}");
        assert!(err.contains(says), "{what}: {err:?} should say {says:?}");
        assert!(
            err.ends_with("nothing was imported") || err.ends_with("Nothing was imported"),
            "{what}: {err}"
        );
        assert!(out.stdout.is_empty(), "{what}: {}", out.stdout);
        assert_eq!(fingerprint(&data), before, "{what} changed the database");
    }
    // A file that is not there.
    let out = import(&data, &["/nonexistent/export.zip"]);
    assert!(!out.ok && out.stderr.contains("cannot open /nonexistent/export.zip"));
    assert_eq!(fingerprint(&data), before);
}

#[test]
fn a_failure_midway_rolls_back_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    init_with_users(&data, &[]);
    let zip = slack().write(dir.path(), "export.zip");
    let before = fingerprint(&data);
    // The disk fills, say, at #random's message: people, #general's history and its
    // reactions are written by then.
    db(&data)
        .execute_batch(
            "CREATE TRIGGER inject BEFORE INSERT ON messages WHEN new.body LIKE '%zebra%'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
    let out = import(&data, &[zip.to_str().unwrap()]);
    assert!(!out.ok, "{}", out.stdout);
    assert!(out.stderr.contains("injected failure"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    db(&data).execute_batch("DROP TRIGGER inject").unwrap();
    assert_eq!(fingerprint(&data), before, "nothing of the import is left");

    // Nothing half-done stands in the way of doing it again.
    let out = import(&data, &[zip.to_str().unwrap()]);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(counts(&out.stdout, "messages"), (13, 0, 2));
}

#[test]
fn a_dry_run_says_what_would_come_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    init_with_users(&data, &[]);
    let zip = slack().write(dir.path(), "export.zip");
    let before = fingerprint(&data);
    let dry = import(&data, &[zip.to_str().unwrap(), "--dry-run"]);
    assert!(dry.ok, "{}", dry.stderr);
    assert!(dry.stdout.contains("would import"), "{}", dry.stdout);
    assert!(dry.stdout.contains("nothing was written"), "{}", dry.stdout);
    assert!(
        printed_links(&dry.stdout).is_empty(),
        "no links: {}",
        dry.stdout
    );
    assert_eq!(fingerprint(&data), before);

    // What it said is what the import then does.
    let real = import(&data, &[zip.to_str().unwrap()]);
    assert!(real.ok, "{}", real.stderr);
    for what in ["people", "conversations", "messages", "reactions"] {
        assert_eq!(
            counts(&dry.stdout, what),
            counts(&real.stdout, what),
            "{what}"
        );
    }
    // A dry run refuses a bad archive the same way.
    let bad = dir.path().join("bad.zip");
    std::fs::write(&bad, zip_of(&[("../x.json", b"[]")])).unwrap();
    let out = import(&data, &[bad.to_str().unwrap(), "--dry-run"]);
    assert!(!out.ok && out.stderr.contains("\"..\""), "{}", out.stderr);
    // And an import needs a database made by `hearth init`.
    let empty = dir.path().join("empty");
    let out = import(&empty, &[zip.to_str().unwrap(), "--dry-run"]);
    assert!(
        !out.ok && out.stderr.contains("hearth init"),
        "{}",
        out.stderr
    );
    assert!(!empty.join("hearth.db").exists());
}

#[cfg(unix)]
#[test]
fn links_can_go_to_a_file_only_the_operator_reads() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    init_with_users(&data, &[]);
    let zip = slack().write(dir.path(), "export.zip");
    let links = dir.path().join("links.tsv");
    let out = import(
        &data,
        &[zip.to_str().unwrap(), "--links", links.to_str().unwrap()],
    );
    assert!(out.ok, "{}", out.stderr);
    assert!(printed_links(&out.stdout).is_empty(), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&format!("links of 3 people are in {}", links.display())),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(&links).unwrap();
    let names: Vec<String> = printed_links(&text).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["ada", "bob", "dee"]);
    let mode = std::fs::metadata(&links).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // An existing file is never overwritten, and the import does not start.
    let other = tempfile::tempdir().unwrap();
    let other_data = other.path().join("data");
    init_with_users(&other_data, &[]);
    let before = fingerprint(&other_data);
    let out = import(
        &other_data,
        &[zip.to_str().unwrap(), "--links", links.to_str().unwrap()],
    );
    assert!(
        !out.ok && out.stderr.contains("cannot create"),
        "{}",
        out.stderr
    );
    assert_eq!(fingerprint(&other_data), before);
    assert_eq!(std::fs::read_to_string(&links).unwrap(), text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_beside_a_running_server_tells_the_people_already_there() {
    let app = common::TestApp::spawn().await;
    let ada = app.person("ada").await;
    let general = ada.general().await;
    let mut live = ada.ws(None).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = slack().write(dir.path(), "export.zip");
    let data = app.dir.path().join("data");
    let out = tokio::task::spawn_blocking(move || import(&data, &[zip.to_str().unwrap()]))
        .await
        .unwrap();
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        counts(&out.stdout, "people"),
        (6, 1, 0),
        "ada was here: {}",
        out.stdout
    );

    // Ada's open page hears of each conversation she is now in, and of #general's history.
    let mut added = Vec::new();
    let mut general_told = false;
    while added.len() < 5 || !general_told {
        let e = live.event().await;
        match e["event"].as_str().unwrap() {
            "membership.changed" => {
                assert_eq!(e["data"]["user"]["username"], "ada", "{e}");
                assert_eq!(e["data"]["action"], "added", "{e}");
                added.push(e["conversation"].as_i64().unwrap());
            }
            "conversation.imported" => {
                assert_eq!(e["conversation"], general, "{e}");
                assert_eq!(e["data"]["messages"], 8, "{e}");
                general_told = true;
            }
            other => panic!("unexpected {other}: {e}"),
        }
    }
    let list = ada.json("/api/v1/conversations").await;
    let mut names: Vec<String> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "{list}");

    // The history reads as any other, and search finds it.
    let page = ada
        .json(&format!(
            "/api/v1/conversations/{general}/messages?limit=100"
        ))
        .await;
    let bodies: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["notice"].is_null())
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.len(), 8, "{bodies:?}");
    assert_eq!(bodies[1], "Thanks @ada! *so* ~~not~~ `*code*`");
    let found = ada.json("/api/v1/search?q=zebra").await;
    assert_eq!(
        found["results"][0]["message"]["body"], "zebra crossing tonight",
        "{found}"
    );

    // Bob chooses a password through his link, signs in and hears #general at once: the
    // server forgot the members it knew of #general before the import.
    let token = printed_links(&out.stdout)
        .into_iter()
        .find(|(n, _)| n == "bob")
        .unwrap()
        .1;
    let bob_user = hearth::chat::links::set_password(&app.app.chat, &token, PASSWORD.into())
        .await
        .unwrap();
    let bob = app.sign_in("bob", bob_user.id).await;
    let mut bob_live = bob.ws(None).await;
    ada.say(general, "welcome over, bob").await;
    let e = bob_live.event().await;
    assert_eq!(e["data"]["message"]["body"], "welcome over, bob", "{e}");
}

#[test]
fn odd_exports_come_over_with_each_oddity_explained() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    init_with_users(&data, &[]);
    let twenty_one = [
        "smile",
        "heart",
        "tada",
        "fire",
        "eyes",
        "rocket",
        "star",
        "sunny",
        "cloud",
        "snowflake",
        "zap",
        "moon",
        "apple",
        "pear",
        "cherries",
        "grapes",
        "lemon",
        "banana",
        "watermelon",
        "strawberry",
        "peach",
    ];
    let many: Vec<Value> = twenty_one
        .iter()
        .map(|name| json!({"name": name, "users": ["U1"]}))
        .collect();
    let top = "My Workspace Slack export/";
    let general = json!([
        {"user": "U1", "text": "edit without time", "ts": "1600000001.000100",
         "edited": {"user": "U1"}},
        {"user": "U1", "text": "x".repeat(100_001), "ts": "1600000002.000100"},
        {"user": "U1", "text": "é".repeat(100_000), "ts": "1600000002.000200"},
        {"user": "U1", "text": "loved", "ts": "1600000003.000100",
         "reactions": [{"name": "heart", "users": ["U1", "U55"]},
                       {"name": "+1", "users": ["U1"]}, {"name": "thumbsup", "users": ["U1"]}]},
        {"user": "U1", "text": "so many", "ts": "1600000004.000100", "reactions": many},
        {"subtype": "bot_message", "bot_id": "B9", "text": "a bot nobody knows",
         "ts": "1600000005.000100"},
        {"text": "nobody wrote this", "ts": "1600000006.000100"},
        {"user": "U1", "subtype": "tombstone", "text": "This message was deleted.",
         "ts": "1600000009.000100", "thread_ts": "1600000009.000100", "reply_count": 1},
        {"user": "U2", "text": "answer to a deleted one", "ts": "1600000010.000100",
         "thread_ts": "1600000009.000100"},
        {"user": "USLACKBOT", "text": "Reminder: stand-up", "ts": "1600000011.000100"}
    ]);
    let export = Export { files: Vec::new() }
        .with(
            &format!("{top}users.json"),
            json!([
                {"id": "U1", "name": "ada"},
                {"id": "U1", "name": "ada-again"},
                {"id": "U2", "name": "bob smith"},
                {"id": "U3", "name": "!!!"}
            ]),
        )
        .with(
            &format!("{top}channels.json"),
            json!([
                {"id": "C1", "name": "general", "members": ["U1", "U77"]},
                {"id": "C2", "name": "dup", "members": ["U1"]},
                {"id": "C3", "name": "dup", "members": ["U2"]}
            ]),
        )
        .with(
            &format!("{top}dms.json"),
            json!([{"id": "D3", "members": ["U1", "U98"]}, {"id": "D4", "members": ["U1", "U99"]}]),
        )
        .with(&format!("{top}general/2020-09-13.json"), general)
        .with(
            &format!("{top}general/2020-09-14.json"),
            json!([{"user": "U1", "text": "edit without time", "ts": "1600000001.000100"}]),
        )
        .with(
            &format!("{top}D3/2020-09-13.json"),
            json!([{"user": "U98", "text": "from someone gone", "ts": "1600000020.000100"}]),
        )
        .with(
            &format!("{top}D4/2020-09-13.json"),
            json!([{"user": "U99", "text": "from someone else gone", "ts": "1600000021.000100"}]),
        )
        .with(&format!("{top}stray/2020-09-13.json"), json!([]));
    let zip = export.write(dir.path(), "odd.zip");
    let out = import(&data, &[zip.to_str().unwrap()]);
    assert!(out.ok, "{}", out.stderr);
    let stdout = &out.stdout;
    assert!(
        stdout.contains("(slack:users-"),
        "no team id: named by users.json: {stdout}"
    );
    assert_eq!(counts(stdout, "people"), (5, 0, 1), "{stdout}");
    assert_eq!(counts(stdout, "conversations"), (3, 2, 0), "{stdout}");
    assert_eq!(counts(stdout, "reactions"), (22, 0, 3), "{stdout}");
    for says in [
        "listed twice in users.json",
        "longer than 100,000 characters",
        "the same message twice in the export",
        "by someone not in users.json",
        "the same emoji twice from one person",
        "more different emoji on one message than Hearth keeps",
        "(no author) (1)",
        "bot B9 (1)",
        "U55 (1)",
        "U77 (1)",
        "The export has two channels named #dup: C3 is #dup-2.",
        "the direct of ada and slack-unknown",
        "Folders no list names were not read: My Workspace Slack export/stray/",
    ] {
        assert!(stdout.contains(says), "{says:?} in {stdout}");
    }

    let conn = db(&data);
    let names: Vec<(String, bool)> = conn
        .prepare("SELECT username, bot FROM users ORDER BY username")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        names,
        [
            ("ada".to_owned(), false),
            ("bobsmith".to_owned(), false),
            ("root".to_owned(), false),
            ("slack-u3".to_owned(), false),
            ("slack-unknown".to_owned(), false),
            ("slackbot".to_owned(), true),
        ]
    );
    assert_eq!(
        one::<i64>(
            &conn,
            "SELECT count(*) FROM conversations WHERE name = 'dup-2'",
            []
        ),
        1
    );
    let direct: i64 = one(
        &conn,
        "SELECT id FROM conversations WHERE direct_key = ?1",
        [format!(
            "{}:{}",
            user_id(&conn, "ada"),
            user_id(&conn, "slack-unknown")
        )],
    );
    assert_eq!(
        one::<i64>(
            &conn,
            "SELECT count(*) FROM messages WHERE conversation_id = ?1",
            [direct]
        ),
        2,
        "both Slack directs are one here"
    );
    let longest: i64 = one(
        &conn,
        "SELECT count(*) FROM messages WHERE length(body) = 100000",
        [],
    );
    assert_eq!(longest, 1, "100,000 characters is not too long; 100,001 is");
    let edited: Option<i64> = one(
        &conn,
        "SELECT edited_at FROM messages WHERE body = 'edit without time'",
        [],
    );
    assert_eq!(edited, None);
    let so_many: i64 = one(&conn, "SELECT id FROM messages WHERE body = 'so many'", []);
    assert_eq!(
        one::<i64>(
            &conn,
            "SELECT count(*) FROM reactions WHERE message_id = ?1",
            [so_many]
        ),
        20
    );
    let (tombstone, body): (i64, String) = one_row(
        &conn,
        "SELECT id, body FROM messages WHERE deleted_at IS NOT NULL",
    );
    assert_eq!(body, "", "a deleted message keeps no words");
    let answers: Option<i64> = one(
        &conn,
        "SELECT reply_to FROM messages WHERE body = 'answer to a deleted one'",
        [],
    );
    assert_eq!(answers, Some(tombstone), "the thread keeps its start");
    assert_eq!(
        one::<String>(
            &conn,
            "SELECT u.username FROM messages m JOIN users u ON u.id = m.sender_id
             WHERE m.body = 'Reminder: stand-up'",
            []
        ),
        "slackbot"
    );
    drop(conn);
    let check = run(hearth(&data).arg("check"), "");
    assert!(check.ok, "{}{}", check.stdout, check.stderr);
}
