//! The object-storage backend: blobs as objects `<prefix>/<2 hex>/<sha256>` in an
//! S3-compatible bucket, written from the upload's temp file (in parts when it is large),
//! read in byte ranges, with bounded retries and time limits so a storage outage fails a
//! request rather than hanging it.

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload,
    RetryConfig, WriteMultipart,
};
use std::time::{Duration, SystemTime};
use tokio::io::AsyncReadExt;

use super::{Listed, Received, is_blob_name};
use crate::config::S3Config;
use crate::error::{Error, Result};

/// Files up to this size go up in one request; larger ones in parts of this size.
const PART: usize = 8 * 1024 * 1024;
/// A blob stored this recently is not sent again when the same bytes arrive; an older one
/// is, so its time is fresh for the collector's grace period.
const FRESH: Duration = Duration::from_secs(600);

/// A bucket and the prefix under which the blobs live.
#[derive(Debug)]
pub struct Remote {
    store: AmazonS3,
    prefix: String,
    /// `s3://bucket/prefix`, for messages.
    pub url: String,
}

/// `s3://bucket/prefix` split into the bucket and the prefix (without slashes at its ends).
pub fn parse_url(url: &str) -> std::result::Result<(String, String), String> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| format!("{url:?} is neither empty (the data dir) nor s3://bucket/prefix"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("{url:?} names no bucket"));
    }
    Ok((bucket.to_owned(), prefix.trim_matches('/').to_owned()))
}

impl Remote {
    /// Builds the client and makes one cheap request (a listing of the prefix), so that
    /// storage that cannot be reached or refuses the credentials stops the start.
    pub async fn connect(url: &str, s3: &S3Config) -> Result<Remote> {
        // reqwest's rustls has no provider of its own here: ring, as everywhere in Hearth.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (bucket, prefix) =
            parse_url(url).map_err(|e| Error::invalid(format!("attachments: {e}")))?;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&bucket)
            .with_region(&s3.region)
            .with_access_key_id(&s3.access_key_id)
            .with_secret_access_key(&s3.secret_access_key)
            .with_allow_http(s3.allow_http)
            // AWS itself wants the bucket in the host name; other stores take it in the path.
            .with_virtual_hosted_style_request(s3.endpoint.is_empty())
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(1),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: Duration::from_secs(5),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(s3.allow_http)
                    .with_connect_timeout(Duration::from_secs(3))
                    .with_timeout(Duration::from_secs(s3.timeout_secs)),
            );
        if !s3.endpoint.is_empty() {
            builder = builder.with_endpoint(&s3.endpoint);
        }
        let store = builder
            .build()
            .map_err(|e| Error::invalid(format!("attachments {url}: {e}")))?;
        let remote = Remote {
            store,
            prefix,
            url: url.to_owned(),
        };
        remote
            .store
            .list_with_delimiter(Some(&remote.root()))
            .await
            .map_err(|e| remote.refused(e))?;
        Ok(remote)
    }

    /// The start-up error for a failed first request, naming the setting to look at.
    fn refused(&self, err: object_store::Error) -> Error {
        let url = &self.url;
        // A listing's failure comes back as a generic error: its status is only in the text.
        let text = err.to_string();
        let denied = [
            "403 Forbidden",
            "401 Unauthorized",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
        ]
        .iter()
        .any(|sign| text.contains(sign));
        let denied = denied
            || matches!(
                err,
                object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. }
            );
        let why = if denied {
            format!(
                "object storage refused the credentials for {url}: check s3.access_key_id and \
                 s3.secret_access_key (HEARTH_S3_ACCESS_KEY_ID, HEARTH_S3_SECRET_ACCESS_KEY)"
            )
        } else if text.contains("NoSuchBucket")
            || matches!(err, object_store::Error::NotFound { .. })
        {
            format!("the bucket of attachments = {url:?} does not exist")
        } else {
            format!(
                "cannot reach the object storage of attachments = {url:?}: check s3.endpoint, \
                 s3.region and s3.allow_http"
            )
        };
        Error::invalid(format!("{why} ({err})"))
    }

    fn root(&self) -> ObjectPath {
        ObjectPath::from(self.prefix.as_str())
    }

    fn object(&self, sha256: &str) -> ObjectPath {
        let shard = sha256.get(..2).unwrap_or("__");
        if self.prefix.is_empty() {
            ObjectPath::from(format!("{shard}/{sha256}"))
        } else {
            ObjectPath::from(format!("{}/{shard}/{sha256}", self.prefix))
        }
    }

    /// The size of a stored blob; `None` when there is none.
    pub async fn size(&self, sha256: &str) -> Result<Option<u64>> {
        match self.store.head(&self.object(sha256)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed("look up", sha256, e)),
        }
    }

    /// Stores a received upload from its temp file (the temp file goes when `received` drops).
    pub async fn keep(&self, received: Received) -> Result<()> {
        let path = self.object(&received.sha256);
        match self.store.head(&path).await {
            Ok(meta) if meta.size == received.size && recent(meta.last_modified.into()) => {
                return Ok(());
            }
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(failed("look up", &received.sha256, e)),
        }
        self.put_file(&received.sha256, &received.temp, received.size)
            .await
    }

    /// Sends the file at `from` (`size` bytes) as the blob `sha256`: in one request, or in
    /// parts when it is large (a part that fails is retried; the upload is aborted on error).
    pub async fn put_file(&self, sha256: &str, from: &std::path::Path, size: u64) -> Result<()> {
        let path = self.object(sha256);
        let mut file = tokio::fs::File::open(from).await?;
        if size as usize <= PART {
            let mut bytes = Vec::with_capacity(size as usize);
            file.read_to_end(&mut bytes).await?;
            self.store
                .put(&path, PutPayload::from(bytes))
                .await
                .map_err(|e| failed("store", sha256, e))?;
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(&path)
            .await
            .map_err(|e| failed("store", sha256, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buf = vec![0u8; 1024 * 1024];
        let sent = async {
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    return Ok::<_, Error>(());
                }
                writer
                    .wait_for_capacity(2)
                    .await
                    .map_err(|e| failed("store", sha256, e))?;
                writer.write(&buf[..n]);
            }
        }
        .await;
        match sent {
            Ok(()) => writer
                .finish()
                .await
                .map(|_| ())
                .map_err(|e| failed("store", sha256, e)),
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Stores bytes made here under their hash.
    pub async fn put(&self, sha256: &str, bytes: Vec<u8>) -> Result<()> {
        let path = self.object(sha256);
        if let Ok(meta) = self.store.head(&path).await
            && meta.size == bytes.len() as u64
            && recent(meta.last_modified.into())
        {
            return Ok(());
        }
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|e| failed("store", sha256, e))
    }

    /// The bytes `range` (all of them when `None`) of a stored blob, as they arrive.
    pub async fn read(
        &self,
        sha256: &str,
        range: Option<(u64, u64)>,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>> {
        let options = GetOptions {
            range: range.map(|(first, last)| GetRange::Bounded(first..last + 1)),
            ..GetOptions::default()
        };
        let got = match self.store.get_opts(&self.object(sha256), options).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Err(Error::NotFound),
            Err(e) => return Err(failed("read", sha256, e)),
        };
        Ok(got
            .into_stream()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .boxed())
    }

    pub async fn delete(&self, sha256: &str) -> Result<()> {
        match self.store.delete(&self.object(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(failed("delete", sha256, e)),
        }
    }

    /// Every blob stored under the prefix.
    pub async fn list(&self) -> Result<Vec<Listed>> {
        let mut objects = self.store.list(Some(&self.root()));
        let mut found = Vec::new();
        while let Some(meta) = objects.next().await {
            let meta = meta.map_err(|e| failed("list", &self.url, e))?;
            let Some(name) = meta.location.filename() else {
                continue;
            };
            if is_blob_name(name) {
                found.push(Listed {
                    sha256: name.to_owned(),
                    size: meta.size,
                    modified: SystemTime::from(meta.last_modified),
                });
            }
        }
        found.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        Ok(found)
    }
}

fn recent(at: SystemTime) -> bool {
    SystemTime::now()
        .duration_since(at)
        .is_ok_and(|age| age < FRESH)
}

/// A storage failure: logged by whoever answers, shown to no one in detail.
fn failed(what: &str, name: &str, err: object_store::Error) -> Error {
    Error::Io(std::io::Error::other(format!(
        "object storage: cannot {what} {name}: {err}"
    )))
}
