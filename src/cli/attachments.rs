//! `hearth attachments migrate --to s3|local`: copies the blobs between the data dir and the
//! object storage the config names, and says what to change next.

use clap::{Subcommand, ValueEnum};

use crate::blobs::Blobs;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ops::Progress;
use crate::ops::migrate::migrate;
use crate::ops::stats::human_bytes;

#[derive(Debug, Subcommand)]
pub enum AttachmentsCommand {
    /// Copy every blob the destination lacks (resumable; works while the server runs). The
    /// config is not changed: set or remove `attachments` afterwards
    Migrate {
        /// Where the blobs go: `s3` (the bucket `attachments` names) or `local` (the data dir)
        #[arg(long, value_enum)]
        to: Backend,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    S3,
    Local,
}

pub fn run(config: Config, cmd: AttachmentsCommand) -> Result<()> {
    let AttachmentsCommand::Migrate { to } = cmd;
    if config.attachments.is_empty() {
        return Err(Error::invalid(
            "migrating needs the bucket: set attachments = \"s3://bucket/prefix\" and the [s3] \
             settings in the config first (see docs/operations.md)",
        ));
    }
    if !config.db_path().is_file() {
        return Err(Error::invalid(format!(
            "there is no database at {} (is --data-dir right?)",
            config.db_path().display()
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let done = runtime.block_on(async {
        let local = Blobs::new(&config.data_dir);
        let remote = Blobs::connect(&config).await?;
        let (from, into) = match to {
            Backend::S3 => (&local, &remote),
            Backend::Local => (&remote, &local),
        };
        println!(
            "Copying blobs from {} to {}",
            from.describe(),
            into.describe()
        );
        let done = migrate(&config.data_dir, from, into, Progress::terminal()).await?;
        Ok::<_, Error>((done, into.describe()))
    })?;
    let (done, into) = done;
    println!(
        "Copied {} blobs ({}); {} were already in {into}.",
        done.copied,
        human_bytes(done.bytes),
        done.present
    );
    if done.failed > 0 {
        return Err(Error::invalid(format!(
            "{} blobs could not be copied (named above); run the command again",
            done.failed
        )));
    }
    match to {
        Backend::S3 => println!(
            "Next: stop the server, run this command again (it copies what arrived meanwhile), \
             keep attachments = {:?} in the config and start the server. The files under \
             attachments/ in the data dir can then be removed.",
            config.attachments
        ),
        Backend::Local => println!(
            "Next: stop the server, run this command again, remove `attachments` from the \
             config and start the server. The bucket can then be emptied."
        ),
    }
    Ok(())
}
