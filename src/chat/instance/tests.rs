use super::*;
use crate::config::Config;
use crate::domain::Role;

fn chat() -> (tempfile::TempDir, Chat) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), crate::config::Synchronous::Normal).unwrap();
    (dir, Chat::new(db, Arc::new(Config::default())))
}

fn user(role: Role) -> User {
    User {
        id: 1,
        username: "ada".into(),
        display_name: "Ada".into(),
        role,
        deactivated: false,
        created_at: 0,
        avatar: None,
        bot: false,
    }
}

#[test]
fn values_are_checked_at_their_limits() {
    let base = Settings::default();
    let welcome = |n: usize| Change {
        welcome_text: Some("w".repeat(n)),
        ..Change::default()
    };
    assert!(apply(&base, &welcome(WELCOME_MAX)).is_ok());
    assert!(apply(&base, &welcome(WELCOME_MAX + 1)).is_err());
    let name = |n: usize| Change {
        community_name: Some("n".repeat(n)),
        ..Change::default()
    };
    assert_eq!(
        apply(&base, &name(NAME_MAX)).unwrap().community_name.len(),
        NAME_MAX
    );
    assert!(apply(&base, &name(NAME_MAX + 1)).is_err());
    assert!(apply(&base, &name(0)).is_err());
    let accent = |c: &str| {
        apply(
            &base,
            &Change {
                accent: Some(c.into()),
                ..Change::default()
            },
        )
    };
    assert_eq!(accent(" #A1B2C3 ").unwrap().accent, "#a1b2c3");
    for bad in ["a1b2c3", "#a1b2c", "#a1b2c3d", "#g1b2c3", "red", "#a1b2c;"] {
        assert!(accent(bad).is_err(), "{bad} was taken");
    }
    let who = Change {
        inviters: Some("everyone".into()),
        ..Change::default()
    };
    assert!(apply(&base, &who).is_err());
    let support = Change {
        support_name: Some("Organisers".into()),
        channel_creators: Some("admins".into()),
        ..Change::default()
    };
    let next = apply(&base, &support).unwrap();
    assert_eq!(next.support_name, "Organisers");
    assert_eq!(next.channel_creators, Who::Admins);
    assert_eq!(next.inviters, base.inviters);
}

#[test]
fn who_allows_admins_always_and_members_when_told() {
    let mut s = Settings::default();
    assert!(s.may_invite(&user(Role::Admin)));
    assert!(!s.may_invite(&user(Role::Member)));
    assert!(s.may_create_channels(&user(Role::Member)));
    s.inviters = Who::Members;
    s.channel_creators = Who::Admins;
    assert!(s.may_invite(&user(Role::Member)));
    assert!(!s.may_create_channels(&user(Role::Member)));
    assert!(s.may_create_channels(&user(Role::Admin)));
}

#[tokio::test]
async fn a_change_is_stored_audited_and_kept_and_a_bad_one_changes_nothing() {
    let (_dir, chat) = chat();
    let admin = crate::chat::accounts::create_user(
        &chat,
        "test",
        crate::chat::accounts::NewUser {
            username: "ada".into(),
            display_name: None,
            password: "long enough password".into(),
            role: Role::Admin,
        },
    )
    .await
    .unwrap();
    let bad = Change {
        community_name: Some("Kettle Club".into()),
        accent: Some("blue".into()),
        ..Change::default()
    };
    assert!(change(&chat, &admin, bad).await.is_err());
    assert_eq!(chat.instance().community_name, "Hearth");
    let good = Change {
        community_name: Some("Kettle Club".into()),
        accent: Some("#224466".into()),
        inviters: Some("members".into()),
        channel_creators: Some("admins".into()),
        ..Change::default()
    };
    let next = change(&chat, &admin, good).await.unwrap();
    assert_eq!(next.community_name, "Kettle Club");
    assert_eq!(chat.instance().accent, "#224466");
    // Read back from the file, as a restarted server would.
    let stored = chat.db.read_blocking(read).unwrap();
    assert_eq!(stored, *chat.instance());
    let audited: Vec<(String, String, String)> = chat
        .db
        .read_blocking(|c| {
            let mut s = c.prepare(
                "SELECT action, target, detail FROM audit_log WHERE action = 'setting.change' ORDER BY id",
            )?;
            let rows = s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .unwrap();
    assert_eq!(stored.inviters, Who::Members);
    assert_eq!(stored.channel_creators, Who::Admins);
    assert_eq!(audited.len(), 4, "{audited:?}");
    assert_eq!(audited[0].1, "instance.community_name");
    assert!(audited[0].2.contains("Kettle Club"));
    // A member may not change them.
    let member = User {
        role: Role::Member,
        ..admin.clone()
    };
    assert!(matches!(
        change(&chat, &member, Change::default()).await,
        Err(Error::NotFound)
    ));
    chat.db.writer().shutdown();
}

#[tokio::test]
async fn a_demoted_admin_changes_nothing() {
    let (_dir, chat) = chat();
    let admin = crate::chat::accounts::create_user(
        &chat,
        "test",
        crate::chat::accounts::NewUser {
            username: "ada".into(),
            display_name: None,
            password: "long enough password".into(),
            role: Role::Admin,
        },
    )
    .await
    .unwrap();
    // The request was read while Ada was an admin; she is demoted before it writes.
    chat.db
        .write(|ctx| crate::store::users::set_role(ctx.conn, 1, Role::Member))
        .await
        .unwrap();
    let change_name = Change {
        community_name: Some("Taken Over".into()),
        ..Change::default()
    };
    assert!(matches!(
        change(&chat, &admin, change_name).await,
        Err(Error::NotFound)
    ));
    assert_eq!(chat.instance().community_name, "Hearth");
    chat.db.writer().shutdown();
}
