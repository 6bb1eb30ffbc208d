//! `hearth init` and `hearth user …`: account administration from the shell.

use clap::Subcommand;
use serde_json::json;

use super::invite::base;
use super::{open_chat, read_new_password};
use crate::chat::accounts::{self, NewUser};
use crate::chat::actor::Actor;
use crate::chat::links;
use crate::config::Config;
use crate::domain::{Role, Username};
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user
    Add {
        name: String,
        /// Make the user an admin
        #[arg(long)]
        admin: bool,
        /// Display name [default: the username]
        #[arg(long, value_name = "TEXT")]
        display_name: Option<String>,
        /// Read the password from standard input instead of prompting
        #[arg(long, conflicts_with = "link")]
        password_stdin: bool,
        /// Print a one-time link (7 days) where they choose their own password
        #[arg(long)]
        link: bool,
    },
    /// List users
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (ends all their sessions)
    Passwd {
        name: String,
        /// Read the password from standard input instead of prompting
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print a one-time link (24 hours) where a user sets a new password; ends their sessions
    ResetLink { name: String },
    /// Make a user an admin or a member
    Role {
        name: String,
        #[arg(value_parser = ["admin", "member"])]
        role: String,
    },
    /// Deactivate a user (ends all their sessions at once)
    Disable { name: String },
    /// Reactivate a user
    Enable { name: String },
}

const ACTOR: &str = "cli";

pub async fn init(config: Config, admin: String, password_stdin: bool) -> Result<()> {
    Username::parse(&admin)?;
    let password = read_new_password(password_stdin)?;
    let chat = open_chat(config)?;
    let new = NewUser {
        username: admin,
        display_name: None,
        password,
        role: Role::Admin,
    };
    let user = accounts::create_first_admin(&chat, new).await?;
    println!(
        "Created admin {:?} in {}. Start the server with `hearth serve`.",
        user.username,
        chat.db.path().display()
    );
    chat.db.writer().shutdown();
    Ok(())
}

pub async fn run(config: Config, cmd: UserCommand) -> Result<()> {
    // Validate what can be validated before touching (or creating) the database.
    match &cmd {
        UserCommand::Add { name, .. } => {
            Username::parse(name)?;
        }
        UserCommand::Role { role, .. } => {
            Role::parse(role)?;
        }
        _ => {}
    }
    let chat = open_chat(config)?;
    let db = &chat;
    match cmd {
        UserCommand::Add {
            name,
            admin,
            display_name,
            link: true,
            ..
        } => {
            let role = if admin { Role::Admin } else { Role::Member };
            let (user, token) =
                links::add_person(db, Actor::Cli, &name, display_name, role).await?;
            println!(
                "Created {} {:?}. Send them this link to choose a password (valid 7 days):",
                user.role.as_str(),
                user.username
            );
            println!("{}", links::link(&base(&db.config), &token));
        }
        UserCommand::Add {
            name,
            admin,
            display_name,
            password_stdin,
            link: false,
        } => {
            let password = read_new_password(password_stdin)?;
            let role = if admin { Role::Admin } else { Role::Member };
            let new = NewUser {
                username: name,
                display_name,
                password,
                role,
            };
            let user = accounts::create_user(db, ACTOR, new).await?;
            println!("Created {} {:?}.", user.role.as_str(), user.username);
        }
        UserCommand::List { json } => {
            let users = accounts::list_users(db).await?;
            if json {
                let rows: Vec<_> = users
                    .iter()
                    .map(|u| {
                        json!({"id": u.id, "username": u.username, "display_name": u.display_name,
                               "role": u.role, "active": !u.deactivated, "created_at": u.created_at})
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<6} {:<32} {:<8} {:<8} DISPLAY NAME",
                    "ID", "USERNAME", "ROLE", "STATUS"
                );
                for u in &users {
                    let status = if u.deactivated { "disabled" } else { "active" };
                    println!(
                        "{:<6} {:<32} {:<8} {:<8} {}",
                        u.id,
                        u.username,
                        u.role.as_str(),
                        status,
                        u.display_name
                    );
                }
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let user = accounts::find(db, &name).await?;
            let password = read_new_password(password_stdin)?;
            accounts::set_password(db, ACTOR, &user.username, password).await?;
            println!(
                "Password of {:?} changed; their sessions have ended.",
                user.username
            );
        }
        UserCommand::ResetLink { name } => {
            let token = links::reset_link(db, Actor::Cli, &name).await?;
            println!(
                "Their sessions have ended. Send them this link to set a new password (valid 24 hours):"
            );
            println!("{}", links::link(&base(&db.config), &token));
        }
        UserCommand::Role { name, role } => {
            let user = accounts::set_role(db, ACTOR, &name, Role::parse(&role)?).await?;
            println!("{:?} is now {}.", user.username, user.role.as_str());
        }
        UserCommand::Disable { name } => {
            let user = accounts::set_active(db, ACTOR, &name, false).await?;
            println!(
                "{:?} is disabled; their sessions have ended.",
                user.username
            );
        }
        UserCommand::Enable { name } => {
            let user = accounts::set_active(db, ACTOR, &name, true).await?;
            println!("{:?} is enabled.", user.username);
        }
    }
    chat.db.writer().shutdown();
    Ok(())
}
