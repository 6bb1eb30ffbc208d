//! Pictures as rows name them: avatars in `users`, conversation pictures in `conversations`,
//! the logo in `settings` under `instance.logo`.

use rusqlite::Connection;

use crate::domain::UserId;
use crate::error::Result;

/// The setting that holds the SHA-256 of the community's logo.
pub const LOGO: &str = "instance.logo";

/// Whether `user` may see the picture `sha256`: it is someone's avatar (people see each other
/// in the directory), the picture of a channel or of a conversation they are in, or the logo.
pub fn visible_to(conn: &Connection, user: UserId, sha256: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM users WHERE avatar_sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM conversations c
                            WHERE c.picture_sha256 = ?1
                              AND (c.kind = 'channel'
                                   OR EXISTS (SELECT 1 FROM memberships m
                                              WHERE m.conversation_id = c.id AND m.user_id = ?2)))
                 OR EXISTS (SELECT 1 FROM settings
                            WHERE name = 'instance.logo' AND CAST(value AS TEXT) = ?1)",
        )?
        .query_row(rusqlite::params![sha256, user], |r| r.get(0))?)
}
