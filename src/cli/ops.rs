//! The operator's commands: `backup`, `restore`, `check`, `stats`, `export`, `healthcheck`,
//! and the single-instance lock `serve` takes.

use clap::{Args, ValueEnum};
use std::io::{BufWriter, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::blobs::Blobs;
use crate::config::Config;
use crate::db::LATEST_VERSION;
use crate::error::{Error, Result};
use crate::ops::backup::{self, Destination};
use crate::ops::export::{self, Format, Scope};
use crate::ops::lock::InstanceLock;
use crate::ops::stats::human_bytes;
use crate::ops::{self, Progress};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Write the archive to this file (it must not exist yet)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dir", "keep"])]
    out: Option<PathBuf>,
    /// Write a timestamped archive into this folder [default: backup.dir, <data dir>/backups]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Then delete all but the newest N backups in that folder
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    keep: Option<u32>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup archive made by `hearth backup`
    #[arg(required_unless_present = "from_litestream")]
    file: Option<PathBuf>,
    /// Restore hearth.db from the Litestream replica this litestream.yml names for it
    #[arg(long, value_name = "CONFIG", conflicts_with = "file")]
    from_litestream: Option<PathBuf>,
    /// The database whose replica to restore, as the Litestream config names it [default:
    /// this data dir's hearth.db]
    #[arg(long, value_name = "DB", requires = "from_litestream")]
    replica_of: Option<PathBuf>,
    /// The litestream binary to run [default: litestream on PATH]
    #[arg(long, value_name = "PATH", requires = "from_litestream")]
    litestream: Option<PathBuf>,
    /// Replace the database in the data dir (its files are kept in a pre-restore-… folder)
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Html,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Export only this conversation (its number, as in its URL)
    #[arg(long, value_name = "ID", conflicts_with = "user")]
    conversation: Option<i64>,
    /// Export the conversations this user is a member of
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// jsonl or html [default: html for an --out file ending in .html, else jsonl]
    #[arg(long, value_enum)]
    format: Option<ExportFormat>,
    /// Write to this file (it must not exist yet) [default: standard output]
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// Seconds to wait for the answer
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    timeout: u64,
}

pub fn backup(config: &Config, args: BackupArgs) -> Result<()> {
    let dest = match (args.out, args.dir) {
        (Some(file), _) => Destination::File(file),
        (None, Some(dir)) => Destination::Folder {
            dir,
            keep: args.keep.map(|k| k as usize),
        },
        (None, None) => {
            // The configured folder is created on demand; a folder named on the command line must exist.
            let dir = config.backup_dir();
            if !dir.exists() && config.db_path().is_file() {
                crate::files::create_dir_all(&dir).map_err(|e| {
                    ops::io_error(format_args!("cannot create {}", dir.display()), e)
                })?;
            }
            Destination::Folder {
                dir,
                keep: args.keep.map(|k| k as usize),
            }
        }
    };
    let data_dir = config.data_dir.clone();
    let report = with_blobs(config, move |blobs| {
        let cancel = backup::Cancel::default();
        backup::create_from(&data_dir, &blobs, &dest, Progress::terminal(), &cancel)
    })?;
    let counts = &report.manifest.row_counts;
    let count = |t: &str| counts.get(t).copied().unwrap_or(0);
    println!(
        "Backup written to {} ({}; schema version {}; {} users, {} conversations, {} messages, {} attachment files).",
        report.path.display(),
        human_bytes(report.bytes),
        report.manifest.schema_version,
        count("users"),
        count("conversations"),
        count("messages"),
        report.manifest.files.len() - 1,
    );
    if !report.removed.is_empty() {
        println!("Removed {} older backups.", report.removed.len());
    }
    Ok(())
}

pub fn restore(config: &Config, args: RestoreArgs) -> Result<()> {
    if let Some(litestream) = &args.from_litestream {
        let source = ops::litestream::Source {
            config: litestream,
            replica_of: args.replica_of.as_deref(),
            binary: args.litestream.as_deref(),
        };
        return restore_litestream(config, &source, args.force);
    }
    let Some(file) = args.file else {
        return Err(Error::invalid("name a backup file to restore"));
    };
    let report = ops::restore::restore(&file, &config.data_dir, args.force, Progress::terminal())?;
    let m = &report.manifest;
    let count = |t: &str| m.row_counts.get(t).copied().unwrap_or(0);
    println!(
        "Restored {} into {}: {} users, {} conversations, {} messages (backup of {}, schema version {}).",
        file.display(),
        config.data_dir.display(),
        count("users"),
        count("conversations"),
        count("messages"),
        crate::fragments::iso(m.created_at),
        m.schema_version,
    );
    if let Some(aside) = &report.set_aside {
        println!("The files it replaced are in {}.", aside.display());
    }
    if m.schema_version < *LATEST_VERSION {
        println!(
            "`hearth serve` will upgrade it to schema version {}.",
            *LATEST_VERSION
        );
    }
    Ok(())
}

fn restore_litestream(
    config: &Config,
    source: &ops::litestream::Source,
    force: bool,
) -> Result<()> {
    let report = ops::litestream::restore(source, &config.data_dir, force)?;
    let r = &report.restored;
    println!(
        "Restored {} from the Litestream replica in {}: {} messages, newest event {} (schema \
         version {}).",
        config.db_path().display(),
        source.config.display(),
        r.messages,
        r.at.map_or_else(|| "none".into(), crate::fragments::iso),
        r.schema_version,
    );
    println!("Attachments are not in a Litestream replica: those in the data dir are kept.");
    if let Some(aside) = &report.set_aside {
        println!("The files it replaced are in {}.", aside.display());
    }
    if let Some(why) = &report.uncompared {
        println!("Not compared with the database it replaced: {why}.");
    }
    if r.schema_version < *LATEST_VERSION {
        println!(
            "`hearth serve` will upgrade it to schema version {}.",
            *LATEST_VERSION
        );
    }
    println!("Run `hearth check` next.");
    Ok(())
}

pub fn check(config: &Config) -> Result<()> {
    let data_dir = config.data_dir.clone();
    let report = with_blobs(config, move |blobs| {
        ops::check::run_with(&data_dir, &blobs, Progress::terminal())
    })?;
    print!("{}", report.render());
    match report.problem_count() {
        0 => Ok(()),
        n => Err(Error::invalid(format!(
            "hearth check found {n} problem{} in {}",
            if n == 1 { "" } else { "s" },
            config.data_dir.display()
        ))),
    }
}

pub fn stats(config: &Config, args: StatsArgs) -> Result<()> {
    let stats = ops::stats::gather(&config.data_dir)?;
    if args.json {
        let json = serde_json::to_string(&stats).map_err(|e| Error::Internal(e.to_string()))?;
        println!("{json}");
    } else {
        print!("{}", stats.render());
    }
    Ok(())
}

pub fn export(config: &Config, args: ExportArgs) -> Result<()> {
    let (config, shared) = (config.clone(), config.clone());
    with_blobs(&shared, move |blobs| export_with(&config, args, &blobs))
}

/// Runs an operator's tool with the blobs the config names. Object storage is reached from a
/// blocking thread of a runtime made for the tool; the local disk needs none.
fn with_blobs<T: Send + 'static>(
    config: &Config,
    job: impl FnOnce(Blobs) -> Result<T> + Send + 'static,
) -> Result<T> {
    if config.attachments.is_empty() {
        return job(Blobs::new(&config.data_dir));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let config = config.clone();
    runtime.block_on(async move {
        let blobs = Blobs::connect(&config).await?;
        tokio::task::spawn_blocking(move || job(blobs))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
    })
}

fn export_with(config: &Config, args: ExportArgs, blobs: &Blobs) -> Result<()> {
    let format = match (args.format, &args.out) {
        (Some(ExportFormat::Html), _) => Format::Html,
        (Some(ExportFormat::Jsonl), _) => Format::Jsonl,
        (None, Some(out)) if out.extension().is_some_and(|e| e == "html" || e == "htm") => {
            Format::Html
        }
        (None, _) => Format::Jsonl,
    };
    let scope = match (args.conversation, args.user) {
        (Some(id), _) => Scope::Conversation(id),
        (None, Some(name)) => Scope::User(name),
        (None, None) => Scope::All,
    };
    if let Some(out) = &args.out
        && out.exists()
    {
        return Err(Error::invalid(format!(
            "{} already exists; choose another name",
            out.display()
        )));
    }
    let conn = ops::open_live(&config.data_dir)?;
    let version = ops::schema_version(&conn)?;
    if version != *LATEST_VERSION {
        return Err(Error::invalid(format!(
            "hearth.db has schema version {version}; this Hearth exports version {}. Start \
             `hearth serve` once to upgrade it (take a backup first).",
            *LATEST_VERSION
        )));
    }
    // One read transaction: the plan and the messages written agree.
    let tx = conn.unchecked_transaction()?;
    let mut plan = export::plan(&tx, &scope)?;
    plan.files = Some(blobs.clone());
    let summary = match &args.out {
        Some(out) => {
            let folder = match out.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            let mut file = tempfile::Builder::new()
                .prefix(".hearth-export-")
                .tempfile_in(&folder)
                .map_err(|e| {
                    ops::io_error(
                        format_args!("cannot write in folder {}", folder.display()),
                        e,
                    )
                })?;
            let summary = {
                let mut writer = BufWriter::new(file.as_file_mut());
                let summary = export::write(&tx, &plan, format, &mut writer, Progress::terminal())?;
                writer.flush()?;
                summary
            };
            file.as_file().sync_all()?;
            file.persist_noclobber(out).map_err(|e| {
                ops::io_error(format_args!("cannot write {}", out.display()), e.error)
            })?;
            summary
        }
        None => {
            let stdout = std::io::stdout();
            let mut writer = BufWriter::new(stdout.lock());
            export::write(&tx, &plan, format, &mut writer, Progress::terminal())?
        }
    };
    drop(tx);
    eprintln!(
        "Exported {} conversations, {} messages ({}){}.",
        summary.conversations,
        summary.messages,
        plan.description,
        args.out
            .map(|o| format!(" to {}", o.display()))
            .unwrap_or_default()
    );
    Ok(())
}

/// GET /healthz on the configured address, with nothing but a TCP socket (no curl in the image).
pub fn healthcheck(config: &Config, args: HealthcheckArgs) -> Result<()> {
    let addr = local_address(config.listen);
    let timeout = Duration::from_secs(args.timeout.max(1));
    let unreachable =
        |e: std::io::Error| Error::invalid(format!("Hearth at http://{addr} does not answer: {e}"));
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(unreachable)?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(unreachable)?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(unreachable)?;
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: hearth-healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(unreachable)?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
        let n = stream.read(&mut buf).map_err(unreachable)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let status = text.lines().next().unwrap_or("").trim();
    let code = status.split_whitespace().nth(1);
    if status.starts_with("HTTP/1.") && code == Some("200") {
        println!("ok: http://{addr}/healthz answered 200");
        Ok(())
    } else if status.is_empty() {
        Err(Error::invalid(format!(
            "http://{addr}/healthz closed without answering"
        )))
    } else {
        Err(Error::invalid(format!(
            "http://{addr}/healthz answered {status:?}"
        )))
    }
}

/// A listen address made dialable: 0.0.0.0 and [::] mean "this machine".
fn local_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// The single-instance lock `serve` holds for its lifetime.
pub fn lock_data_dir(data_dir: &Path) -> Result<InstanceLock> {
    InstanceLock::acquire(data_dir, "serve").map_err(|e| match e {
        Error::Conflict(m) => Error::Conflict(format!(
            "{m}; stop it first, or give this one another --data-dir"
        )),
        other => other,
    })
}
