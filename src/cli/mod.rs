//! The command line: the clap command tree and one small function per subcommand.

mod attachments;
mod email;
mod import;
mod invite;
mod ops;
pub mod serve;
mod user;

use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use crate::config::{Config, LogFormat, Overrides};
use crate::db::Db;
use crate::error::{Error, Result};

/// Hearth: a self-hosted chat appliance — one binary, one SQLite file.
#[derive(Debug, Parser)]
#[command(name = "hearth", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Where hearth.db and attachments live [default: ./hearth-data]
    #[arg(long, global = true, env = "HEARTH_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// A TOML config file (see config.example.toml)
    #[arg(long, global = true, env = "HEARTH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log lines as text or JSON [default: text]
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormatArg>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (creates the data dir and database on first start)
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Create the database and the first admin from the shell
    Init {
        /// Username of the first admin
        #[arg(long, value_name = "NAME")]
        admin: String,
        /// Read the password from standard input instead of prompting
        #[arg(long)]
        password_stdin: bool,
    },
    /// Manage user accounts (works while the server runs)
    #[command(subcommand)]
    User(user::UserCommand),
    /// Make, list and revoke invite links (works while the server runs)
    #[command(subcommand)]
    Invite(invite::InviteCommand),
    /// Write a consistent backup archive (works while the server runs)
    Backup(ops::BackupArgs),
    /// Restore a backup archive, or a Litestream replica, into the data dir (the server must be
    /// stopped)
    Restore(ops::RestoreArgs),
    /// Check the database, its search index and the attachment files; exit 1 on a problem
    Check,
    /// Show how many users, conversations and messages there are, and sizes on disk
    Stats(ops::StatsArgs),
    /// Export conversations as JSON Lines or as one readable HTML file
    Export(ops::ExportArgs),
    /// Bring a community over from another chat service: `hearth import slack EXPORT.zip`
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Exit 0 when the local server answers its health check (for containers)
    Healthcheck(ops::HealthcheckArgs),
    /// Check the email settings: `hearth email test ADDRESS` sends a test email
    #[command(subcommand)]
    Email(email::EmailCommand),
    /// Move attachment blobs between the data dir and object storage
    #[command(subcommand)]
    Attachments(attachments::AttachmentsCommand),
}

impl Cli {
    /// The configuration from every layer, with this command line's flags on top.
    pub fn load_config(&self) -> Result<Config> {
        let listen = match &self.command {
            Command::Serve { listen } => listen.clone(),
            _ => None,
        };
        let flags = Overrides {
            data_dir: self.data_dir.clone(),
            listen,
            log_format: self.log_format.map(|f| match f {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            }),
        };
        let env: Vec<(String, String)> = std::env::vars().collect();
        Config::load(self.config.as_deref(), &env, &flags)
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli, config: Config) -> Result<()> {
    match cli.command {
        Command::Serve { .. } => serve::run(config),
        Command::Init {
            admin,
            password_stdin,
        } => block_on(user::init(config, admin, password_stdin)),
        Command::User(cmd) => block_on(user::run(config, cmd)),
        Command::Invite(cmd) => block_on(invite::run(config, cmd)),
        Command::Backup(args) => ops::backup(&config, args),
        Command::Restore(args) => ops::restore(&config, args),
        Command::Check => ops::check(&config),
        Command::Stats(args) => ops::stats(&config, args),
        Command::Export(args) => ops::export(&config, args),
        Command::Import(cmd) => import::run(config, cmd),
        Command::Healthcheck(args) => ops::healthcheck(&config, args),
        Command::Email(cmd) => block_on(email::run(config, cmd)),
        Command::Attachments(cmd) => attachments::run(config, cmd),
    }
}

fn block_on<T>(fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(fut)
}

/// Opens the database for a command that works beside a running server.
fn open_db(config: &Config) -> Result<Db> {
    Db::open(&config.data_dir, config.synchronous)
}

/// The chat actions, for commands that change accounts (no live sockets in this process).
fn open_chat(config: Config) -> Result<crate::chat::Chat> {
    let db = open_db(&config)?;
    Ok(crate::chat::Chat::new(db, std::sync::Arc::new(config)))
}

/// A new password: from standard input (first line) or typed twice at a hidden prompt.
fn read_new_password(from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut input = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut input)?;
        let password = input.lines().next().unwrap_or("").to_owned();
        crate::domain::new_password(&password)?;
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::invalid(
            "standard input is not a terminal to prompt on; pipe the password with --password-stdin",
        ));
    }
    let first = rpassword::prompt_password("New password: ").map_err(|e| {
        Error::invalid(format!(
            "cannot prompt for a password ({e}); use --password-stdin"
        ))
    })?;
    crate::domain::new_password(&first)?;
    let second = rpassword::prompt_password("Again: ")
        .map_err(|e| Error::invalid(format!("cannot prompt for a password ({e})")))?;
    if first != second {
        return Err(Error::invalid("the two passwords differ"));
    }
    Ok(first)
}
