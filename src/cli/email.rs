//! `hearth email …`: checking the SMTP settings from the shell.

use clap::Subcommand;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::mail::{Mailer, compose, valid_address};

#[derive(Debug, Subcommand)]
pub enum EmailCommand {
    /// Send a test email with the configured SMTP settings; exit 1 if it does not go
    Test {
        /// Where to send it
        address: String,
    },
}

pub async fn run(config: Config, cmd: EmailCommand) -> Result<()> {
    match cmd {
        EmailCommand::Test { address } => test(&config, &address).await,
    }
}

async fn test(config: &Config, address: &str) -> Result<()> {
    let to = valid_address(address).map_err(Error::Invalid)?;
    let mailer = Mailer::new(config)
        .map_err(|e| Error::invalid(format!("the SMTP settings cannot be used: {e}")))?
        .ok_or_else(|| {
            Error::invalid(
                "email is off: set smtp.host and smtp.from in the config file \
                 (or HEARTH_SMTP_HOST and HEARTH_SMTP_FROM)",
            )
        })?;
    mailer
        .send(&compose::test(&to, &mailer.describe))
        .await
        .map_err(|e| {
            Error::invalid(format!(
                "the test email to {to} was not sent through {}: {e}",
                mailer.describe
            ))
        })?;
    println!(
        "Sent a test email to {to} through {}. Check that it arrived.",
        mailer.describe
    );
    Ok(())
}
