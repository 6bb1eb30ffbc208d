//! `hearth import slack EXPORT.zip [--dry-run] [--links FILE]`: bringing a community over from
//! another chat service (works beside a running server; see docs/operations.md).

use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::invite::base;
use super::open_chat;
use crate::chat::links;
use crate::config::Config;
use crate::db::LATEST_VERSION;
use crate::error::{Error, Result};
use crate::import::{self, Limits, Link};
use crate::ops::{self, Progress};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a Slack export (the zip Slack's "Export data" makes): people, channels, private
    /// channels and direct messages when it has them, messages, threads and reactions
    Slack {
        /// The export's zip file
        file: PathBuf,
        /// Read and check everything and say what would be imported; write nothing
        #[arg(long)]
        dry_run: bool,
        /// Write the people's password links to this new file (readable by you only)
        /// instead of printing them
        #[arg(long, value_name = "FILE", conflicts_with = "dry_run")]
        links: Option<PathBuf>,
    },
}

pub fn run(config: Config, cmd: ImportCommand) -> Result<()> {
    let ImportCommand::Slack {
        file,
        dry_run,
        links: links_file,
    } = cmd;
    if !config.db_path().is_file() {
        return Err(Error::invalid(format!(
            "there is no database at {} (is --data-dir right?); create it with `hearth init` first",
            config.db_path().display()
        )));
    }
    let export = import::read_slack(&file, Limits::default(), Progress::terminal())?;
    if dry_run {
        let conn = ops::open_live(&config.data_dir)?;
        let version = ops::schema_version(&conn)?;
        if version != *LATEST_VERSION {
            return Err(Error::invalid(format!(
                "hearth.db has schema version {version}; this Hearth imports into version {}. \
                 Start `hearth serve` once to upgrade it (take a backup first).",
                *LATEST_VERSION
            )));
        }
        let summary = import::plan_slack(&conn, &export)?;
        println!(
            "Dry run of the import of {} ({}): nothing was written.",
            file.display(),
            summary.source
        );
        print!("{}", summary.render(true));
        return Ok(());
    }
    // Made before the import, so that a file that cannot be written stops it first.
    let mut out = match &links_file {
        Some(path) => Some(
            crate::files::create_new(path)
                .map_err(|e| ops::io_error(format_args!("cannot create {}", path.display()), e))?,
        ),
        None => None,
    };
    if let Some(server) = ops::lock::holder(&config.data_dir)? {
        eprintln!(
            "note: a Hearth server ({server}) uses this data dir. The import writes in one \
             transaction; meanwhile the server's own writes wait (at most 5 seconds each, then \
             they fail as busy). For a large export, stop the server first."
        );
    }
    let chat = open_chat(config)?;
    let outcome = import::import_slack(&chat, export, Progress::terminal());
    chat.db.writer().shutdown();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(err) => {
            if let Some(path) = &links_file {
                let _ = std::fs::remove_file(path);
            }
            return Err(err);
        }
    };
    println!("Imported {} ({}).", file.display(), outcome.summary.source);
    print!("{}", outcome.summary.render(false));
    if outcome.links.is_empty() {
        return Ok(());
    }
    let base = base(&chat.config);
    match (&mut out, &links_file) {
        (Some(out), Some(path)) => {
            write_links(out, &base, &outcome.links)
                .and_then(|()| out.sync_all())
                .map_err(|e| links_lost(path, e))?;
            println!(
                "The password links of {} people are in {} (valid 7 days).",
                outcome.links.len(),
                path.display()
            );
        }
        _ => {
            println!(
                "Send each person their link to choose a password (valid 7 days; \
                 `hearth user reset-link NAME` makes a new one):"
            );
            write_links(&mut std::io::stdout().lock(), &base, &outcome.links)?;
        }
    }
    Ok(())
}

/// One line per person: username, a tab, the link.
fn write_links(out: &mut impl Write, base: &str, links: &[Link]) -> std::io::Result<()> {
    for l in links {
        writeln!(out, "{}\t{}", l.username, links::link(base, &l.token))?;
    }
    out.flush()
}

fn links_lost(path: &Path, e: std::io::Error) -> Error {
    ops::io_error(
        format_args!(
            "the import is done, but its links could not be written to {} (make new ones with \
             `hearth user reset-link NAME`)",
            path.display()
        ),
        e,
    )
}
