//! `hearth invite …`: invite links from the shell (works while the server runs).

use clap::Subcommand;

use super::open_chat;
use crate::chat::actor::Actor;
use crate::chat::invites::{self, Expiry, Spec};
use crate::config::Config;
use crate::domain::{Role, now_ms};
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Make an invite link (single use, expiring in 7 days, unless told otherwise)
    Create {
        /// How many people may use it [default: 1]
        #[arg(long, value_name = "N", conflicts_with = "multi")]
        uses: Option<i64>,
        /// Any number of people may use it
        #[arg(long)]
        multi: bool,
        /// 1d, 7d, 30d or never
        #[arg(long, value_name = "WHEN", default_value = "7d")]
        expires: String,
        /// The role the newcomers get
        #[arg(long, value_parser = ["member", "admin"], default_value = "member")]
        role: String,
        /// Channels the newcomers join besides #general
        #[arg(long, value_name = "NAME", num_args = 1..)]
        join: Vec<String>,
    },
    /// List invites
    List,
    /// Revoke an invite by its id
    Revoke { id: i64 },
}

/// Where links point: `base_url`, or a placeholder the operator replaces.
pub(super) fn base(config: &Config) -> String {
    if config.base_url.is_empty() {
        eprintln!(
            "note: base_url is not set; replace https://YOUR-HEARTH with the address people \
             open (set base_url in the config to have it printed)"
        );
        "https://YOUR-HEARTH".to_owned()
    } else {
        config.base_url.clone()
    }
}

pub async fn run(config: Config, cmd: InviteCommand) -> Result<()> {
    // Validated before touching (or creating) the database.
    let parsed = match &cmd {
        InviteCommand::Create { expires, role, .. } => {
            Some((Expiry::parse(expires)?, Role::parse(role)?))
        }
        _ => None,
    };
    let chat = open_chat(config)?;
    let result = match (cmd, parsed) {
        (
            InviteCommand::Create {
                uses, multi, join, ..
            },
            Some((expires, role)),
        ) => {
            let conversations = invites::channel_ids(&chat, join).await?;
            let spec = Spec {
                max_uses: if multi { None } else { Some(uses.unwrap_or(1)) },
                expires,
                role,
                conversations,
            };
            let made = invites::create(&chat, Actor::Cli, spec).await?;
            println!("{}", invites::link(&base(&chat.config), &made.token));
            Ok(())
        }
        (InviteCommand::List, _) => {
            let now = now_ms();
            println!(
                "{:<6} {:<10} {:<12} {:<8} {:<10} CREATED BY",
                "ID", "STATE", "USES", "ROLE", "EXPIRES"
            );
            for i in invites::list(&chat, Actor::Cli).await? {
                let uses = match i.max_uses {
                    Some(max) => format!("{}/{max}", i.uses),
                    None => format!("{}/any", i.uses),
                };
                let expires = i.expires_at.map_or("never".to_owned(), |at| {
                    let left = (at - now) / 3_600_000;
                    if left > 48 {
                        format!("in {}d", left / 24)
                    } else if left >= 0 {
                        format!("in {left}h")
                    } else {
                        "past".to_owned()
                    }
                });
                println!(
                    "{:<6} {:<10} {:<12} {:<8} {:<10} {}",
                    i.id,
                    i.state(now).as_str(),
                    uses,
                    i.role.as_str(),
                    expires,
                    i.creator.as_deref().unwrap_or("cli")
                );
            }
            Ok(())
        }
        (InviteCommand::Revoke { id }, _) => {
            invites::revoke(&chat, Actor::Cli, id).await?;
            println!("Invite {id} is revoked.");
            Ok(())
        }
        (InviteCommand::Create { .. }, None) => unreachable!("create is parsed above"),
    };
    chat.db.writer().shutdown();
    result
}
