//! Settings from the environment: `HEARTH_<KEY>` variables read as if they were file keys.

use super::{FileConfig, smtp, storage};
use crate::error::{Error, Result};

/// Reads `HEARTH_<KEY>` variables as if they were file keys.
pub(super) fn from_env(env: &[(String, String)]) -> Result<FileConfig> {
    let mut table = toml::Table::new();
    for (key, value) in env {
        let Some(name) = key.strip_prefix("HEARTH_") else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        if let Some(field) = name.strip_prefix("smtp_") {
            let Some(value) = smtp::env_value(key, field, value)? else {
                continue;
            };
            if let toml::Value::Table(smtp) = table
                .entry("smtp")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            {
                smtp.insert(field.to_owned(), value);
            }
            continue;
        }
        if let Some(field) = name.strip_prefix("s3_") {
            let Some(value) = storage::env_value(key, field, value)? else {
                continue;
            };
            if let toml::Value::Table(s3) = table
                .entry("s3")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            {
                s3.insert(field.to_owned(), value);
            }
            continue;
        }
        if let Some(field) = name.strip_prefix("backup_") {
            let value = match field {
                "interval" | "dir" => toml::Value::String(value.clone()),
                "keep" => toml::Value::Integer(value.trim().parse().map_err(|_| {
                    Error::invalid(format!("{key} must be a whole number, not {value:?}"))
                })?),
                _ => continue,
            };
            if let toml::Value::Table(backup) = table
                .entry("backup")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            {
                backup.insert(field.to_owned(), value);
            }
            continue;
        }
        let value = match name.as_str() {
            "data_dir" | "listen" | "base_url" | "synchronous" | "log_format" | "metrics_token"
            | "push_subject" | "attachments" => toml::Value::String(value.clone()),
            "trusted_proxies" | "fetch_allow_networks" => toml::Value::Array(
                value
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| toml::Value::String(s.trim().to_owned()))
                    .collect(),
            ),
            "session_idle_days"
            | "session_max_days"
            | "audit_keep_days"
            | "max_message_chars"
            | "send_per_minute"
            | "max_sockets_per_user"
            | "password_hash_threads"
            | "password_hash_queue"
            | "request_timeout_secs"
            | "keep_alive_secs"
            | "max_connections"
            | "max_request_bytes"
            | "max_upload_mb"
            | "upload_quota_mb"
            | "deleted_files_keep_days"
            | "push_idle_secs"
            | "email_idle_minutes" => toml::Value::Integer(value.trim().parse().map_err(|_| {
                Error::invalid(format!("{key} must be a whole number, not {value:?}"))
            })?),
            "open_signup" | "link_previews" => match value.trim() {
                "true" | "1" => toml::Value::Boolean(true),
                "false" | "0" | "" => toml::Value::Boolean(false),
                _ => {
                    return Err(Error::invalid(format!(
                        "{key} must be true or false, not {value:?}"
                    )));
                }
            },
            // Variables for other purposes (HEARTH_CONFIG, HEARTH_LOG) are not settings.
            _ => continue,
        };
        table.insert(name, value);
    }
    table
        .try_into()
        .map_err(|e: toml::de::Error| Error::invalid(format!("environment: {}", e.message())))
}
