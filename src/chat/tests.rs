//! Actions under failure: what a batch that rolls back leaves behind in the live state.

use std::sync::Arc;

use super::conversations::{self, NewConversation};
use super::members::{self, Arrival};
use super::{Chat, accounts, messages};
use crate::config::Config;
use crate::db::{Db, Writer};
use crate::domain::chat::{Conversation, MemberRole, UserRef};
use crate::domain::{Role, User};
use crate::error::Result;
use crate::store::conversations as convs;

fn chat() -> (tempfile::TempDir, Chat) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    let db = Db::open(&config.data_dir, config.synchronous).unwrap();
    (dir, Chat::new(db, Arc::new(config)))
}

/// A group "plans" of `owner` and `member`.
async fn group_of(chat: &Chat, owner: &User, member: &User) -> Conversation {
    let new = NewConversation {
        kind: "group".into(),
        name: "plans".into(),
        topic: None,
        members: vec![member.id],
    };
    conversations::create(chat, owner, new).await.unwrap()
}

/// Holds the writer inside a job (so what is submitted next shares one batch) until released.
fn hold(
    writer: &Writer,
) -> (
    std::sync::mpsc::Sender<()>,
    tokio::sync::oneshot::Receiver<Result<()>>,
) {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (started, running) = std::sync::mpsc::channel::<()>();
    let held = writer.submit(move |_| {
        started.send(()).unwrap();
        let _ = wait.recv();
        Ok(())
    });
    running.recv().unwrap();
    (release, held)
}

async fn person(chat: &Chat, name: &str, role: Role) -> User {
    let new = accounts::NewUser {
        username: name.into(),
        display_name: None,
        password: "correct horse battery".into(),
        role,
    };
    accounts::create_user(chat, "test", new).await.unwrap()
}

fn say(body: &str) -> messages::Draft {
    messages::Draft {
        body: body.into(),
        client_id: None,
        reply_to: None,
        attachments: Vec::new(),
    }
}

#[tokio::test]
async fn a_member_added_in_a_batch_that_rolls_back_never_hears_the_conversation() {
    let (_dir, chat) = chat();
    let ada = person(&chat, "ada", Role::Admin).await;
    let bob = person(&chat, "bob", Role::Member).await;
    let cat = person(&chat, "cat", Role::Member).await;
    let group = group_of(&chat, &ada, &bob).await;
    let (_bob_socket, mut to_bob) = chat.hub.register(bob.id, vec![1], 4).unwrap();
    let (_cat_socket, mut to_cat) = chat.hub.register(cat.id, vec![2], 4).unwrap();
    messages::send(&chat, &ada, group.id, say("first"))
        .await
        .unwrap();
    assert!(to_bob.recv().await.is_some());

    // Cat is added, and the same batch then fails whole: the addition never happened.
    let writer = chat.db.writer().clone();
    let (release, held) = hold(&writer);
    let (live, id) = (chat.clone(), group.id);
    let (by, who) = (UserRef::from(&ada), UserRef::from(&cat));
    let added = writer.submit(move |ctx| {
        let c = convs::get(ctx.conn, id)?;
        members::add(
            ctx,
            &live,
            &c,
            &who,
            MemberRole::Member,
            Arrival::Added { by: &by },
        )
    });
    let failed = writer.submit(crate::db::fill_the_disk);
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    assert!(added.await.unwrap().is_err());
    assert!(failed.await.unwrap().is_err());

    messages::send(&chat, &ada, group.id, say("for members only"))
        .await
        .unwrap();
    let frame = to_bob.recv().await.unwrap();
    assert!(frame.frame.contains("for members only"));
    // Nothing was published from the failed batch, and the next message is not Cat's to see.
    assert!(to_cat.try_recv().is_err(), "a non-member received a frame");
    let members = chat
        .db
        .read_blocking(|conn| crate::store::memberships::member_ids(conn, group.id));
    assert!(!members.unwrap().contains(&cat.id));
}

#[tokio::test]
async fn members_read_early_in_a_batch_do_not_outlive_a_removal_later_in_it() {
    let (_dir, chat) = chat();
    let ada = person(&chat, "ada", Role::Admin).await;
    let cat = person(&chat, "cat", Role::Member).await;
    let group = group_of(&chat, &ada, &cat).await;

    let writer = chat.db.writer().clone();
    let (release, held) = hold(&writer);
    // First in the batch: an event whose members are read (Cat among them) on a cold cache.
    let (live, id) = (chat.clone(), group.id);
    let noticed = writer.submit(move |ctx| {
        live.hub.forget_members(id, ctx);
        let audience = crate::store::events::Audience::Conversation(id);
        super::emit(ctx, &live, audience, "conversation.noticed", Some(id), ())
    });
    // Later in the same batch: Cat is removed, quietly (the hub's contract is that forgetting
    // the members in the job that changes them is enough, whatever else the job does).
    let (live, cat_id) = (chat.clone(), cat.id);
    let removed = writer.submit(move |ctx| {
        let removed = crate::store::memberships::remove(ctx.conn, id, cat_id)?;
        live.hub.forget_members(id, ctx);
        Ok(removed)
    });
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    noticed.await.unwrap().unwrap();
    assert!(removed.await.unwrap().unwrap());

    let (_cat_socket, mut to_cat) = chat.hub.register(cat.id, vec![2], 4).unwrap();
    messages::send(&chat, &ada, group.id, say("after cat left"))
        .await
        .unwrap();
    assert!(
        to_cat.try_recv().is_err(),
        "a removed member received a frame"
    );
}

#[tokio::test]
async fn pruning_leaves_what_replay_can_use_and_deletes_in_small_jobs() {
    use crate::store::events;
    let (_dir, chat) = chat();
    let extra = 2_500;
    chat.db
        .write(move |ctx| {
            for _ in 0..events::KEEP + extra {
                let audience = events::Audience::User(1);
                events::append(ctx.conn, 1, audience, "t", None, |s| s.to_string(), 0)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let before = chat
        .db
        .writer()
        .stats()
        .transactions
        .load(std::sync::atomic::Ordering::Relaxed);
    let pruned = super::upkeep::prune_events(&chat).await.unwrap();
    assert_eq!(pruned, extra as usize);
    let after = chat
        .db
        .writer()
        .stats()
        .transactions
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        after - before >= 3,
        "{} jobs for {extra} events",
        after - before
    );
    let (kept, oldest) = chat
        .db
        .read(|conn| {
            Ok(
                conn.query_row("SELECT count(*), MIN(seq) FROM events", [], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })?,
            )
        })
        .await
        .unwrap();
    assert_eq!(kept, events::KEEP);
    let current = chat.db.read(events::current_seq).await.unwrap();
    assert_eq!(
        current - oldest + 1,
        events::KEEP,
        "the newest are the ones kept"
    );
    // A client exactly REPLAY_MAX behind still replays.
    let since = current - events::REPLAY_MAX as i64;
    let resume = chat
        .db
        .read(move |conn| events::resume(conn, since, current))
        .await
        .unwrap();
    assert_eq!(resume, events::Resume::Replay);
}
