//! Imports from other chat services: `hearth import slack EXPORT.zip`.
//!
//! An import reads and checks the whole archive first ([`archive`], [`slack`]); then, inside
//! one write job of the writer (one transaction), decides what to write ([`plan`]) and writes
//! it ([`apply`]). A failure anywhere leaves the database as it was. What was brought in is
//! noted in the `imported` table by its id in the source (`slack:<team id>`), so running the
//! same import again adds nothing twice. A dry run reads and plans, and writes nothing.

pub mod apply;
pub mod archive;
pub mod markup;
pub mod plan;
pub mod slack;
pub mod summary;

use rusqlite::Connection;
use std::path::Path;

use crate::chat::Chat;
use crate::chat::secrets::new_token;
use crate::error::Result;
use crate::ops::Progress;

pub use apply::Link;
pub use archive::Limits;
pub use summary::Summary;

/// What an import did.
#[derive(Debug)]
pub struct Outcome {
    pub summary: Summary,
    /// The links where the people it made choose a password.
    pub links: Vec<Link>,
}

/// Reads and checks a Slack export: the archive, every file in it, every message's shape.
pub fn read_slack(path: &Path, limits: Limits, progress: Progress) -> Result<slack::Export> {
    let mut archive = archive::Archive::open(path, limits)?;
    let bar = progress.bytes(archive.declared(), "reading");
    let export = slack::read(&mut archive, &|n| bar.inc(n))?;
    bar.finish_and_clear();
    Ok(export)
}

/// What importing `export` would do, read from `conn` (a dry run: nothing is written).
pub fn plan_slack(conn: &Connection, export: &slack::Export) -> Result<Summary> {
    Ok(plan::build(conn, export)?.summary)
}

/// Imports `export` in one transaction: all of it, or nothing.
pub fn import_slack(chat: &Chat, export: slack::Export, progress: Progress) -> Result<Outcome> {
    // One hash for every new account, of a password nobody will ever know: each chooses
    // their own through their link.
    let hash = crate::chat::passwords::hash_blocking(&new_token())?;
    let live = chat.clone();
    chat.db.write_blocking(move |ctx| {
        let plan = plan::build(ctx.conn, &export)?;
        let bar = progress.items(plan.new_messages() as u64, "writing");
        let links = apply::apply(ctx, &live, &plan, &hash, &|| bar.inc(1))?;
        bar.finish_and_clear();
        Ok(Outcome {
            summary: plan.summary,
            links,
        })
    })
}
