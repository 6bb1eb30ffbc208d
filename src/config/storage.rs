//! Where attachments live: `attachments` (empty: the data dir; `s3://bucket/prefix`: object
//! storage) and the `[s3]` table that reaches the bucket, with its checks.

use serde::Deserialize;

use crate::error::{Error, Result};

/// An S3-compatible endpoint and its credentials (the `[s3]` table).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Empty: AWS itself; otherwise e.g. `https://s3.eu-central-003.backblazeb2.com`.
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Whether an `http://` endpoint is accepted (a store on this machine or network).
    pub allow_http: bool,
    /// Seconds one request may take (a part of a large upload is one request).
    pub timeout_secs: u64,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            endpoint: String::new(),
            region: "us-east-1".into(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            allow_http: false,
            timeout_secs: 60,
        }
    }
}

/// The secret never reaches a log line.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &(!self.secret_access_key.is_empty()).then_some("…"),
            )
            .field("allow_http", &self.allow_http)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// The `[s3]` table of a config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileS3 {
    endpoint: Option<String>,
    region: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    allow_http: Option<bool>,
    timeout_secs: Option<u64>,
}

impl FileS3 {
    pub(super) fn apply(self, s3: &mut S3Config) {
        macro_rules! take {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { s3.$field = v; } )* };
        }
        take!(
            endpoint,
            region,
            access_key_id,
            secret_access_key,
            allow_http,
            timeout_secs
        );
    }
}

/// A `HEARTH_S3_<FIELD>` variable as a TOML value; `None` for a field that is not one.
pub(super) fn env_value(key: &str, field: &str, value: &str) -> Result<Option<toml::Value>> {
    Ok(Some(match field {
        "endpoint" | "region" | "access_key_id" | "secret_access_key" => {
            toml::Value::String(value.to_owned())
        }
        "allow_http" => toml::Value::Boolean(match value.trim() {
            "true" | "1" => true,
            "false" | "0" | "" => false,
            _ => {
                return Err(Error::invalid(format!(
                    "{key} must be true or false, not {value:?}"
                )));
            }
        }),
        "timeout_secs" => {
            toml::Value::Integer(value.trim().parse().map_err(|_| {
                Error::invalid(format!("{key} must be a whole number, not {value:?}"))
            })?)
        }
        _ => return Ok(None),
    }))
}

/// Checks that object storage, when chosen, has every setting it needs.
pub(super) fn validate(attachments: &str, s3: &S3Config) -> Result<()> {
    if attachments.is_empty() {
        return Ok(());
    }
    crate::blobs::remote::parse_url(attachments)
        .map_err(|e| Error::invalid(format!("attachments: {e}")))?;
    let missing = |name: &str, var: &str| {
        Error::invalid(format!(
            "attachments = {attachments:?} needs s3.{name} (or {var}) to be set"
        ))
    };
    if s3.region.trim().is_empty() {
        return Err(missing("region", "HEARTH_S3_REGION"));
    }
    if s3.access_key_id.trim().is_empty() {
        return Err(missing("access_key_id", "HEARTH_S3_ACCESS_KEY_ID"));
    }
    if s3.secret_access_key.is_empty() {
        return Err(missing("secret_access_key", "HEARTH_S3_SECRET_ACCESS_KEY"));
    }
    if !(s3.endpoint.is_empty()
        || s3.endpoint.starts_with("https://")
        || s3.endpoint.starts_with("http://"))
    {
        return Err(Error::invalid(
            "s3.endpoint must start with https:// (or http:// with s3.allow_http = true)",
        ));
    }
    if s3.endpoint.starts_with("http://") && !s3.allow_http {
        return Err(Error::invalid(
            "s3.endpoint is http://: set s3.allow_http = true to send attachments unencrypted \
             (only for a store on this machine or a trusted network)",
        ));
    }
    if !(1..=3600).contains(&s3.timeout_secs) {
        return Err(Error::invalid("s3.timeout_secs must be between 1 and 3600"));
    }
    Ok(())
}
