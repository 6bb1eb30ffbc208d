//! The backups `serve` takes on a schedule (`backup.interval`), stopped with it, and the
//! clearing at start of what unfinished backups left.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::config::Config;
use crate::error::Error;
use crate::ops::backup::{self, Destination};
use crate::ops::{self, Progress};
use crate::web::metrics::Metrics;

/// Removes what backups killed midway left in the configured backups folder (where scheduled
/// backups and a plain `hearth backup` write), saying so. A failure is only logged.
pub fn remove_leftovers(config: &Config) {
    let dir = config.backup_dir();
    match backup::remove_leftovers(&dir) {
        Ok(removed) => {
            for path in removed {
                tracing::info!(path = %path.display(), "removed the work folder of an unfinished backup");
            }
        }
        Err(err) => tracing::warn!(error = %err, "cannot clear unfinished backups"),
    }
}

/// The scheduled backups of `serve`, stopped with it.
pub struct ScheduledBackups {
    cancel: backup::Cancel,
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScheduledBackups {
    /// What stops the schedule, to call as the server begins to stop: a backup under way stops
    /// at its next step and removes its files.
    pub fn stopper(&self) -> impl Fn() + Send + 'static {
        let (cancel, stop) = (self.cancel.clone(), self.stop.clone());
        move || {
            cancel.cancel();
            stop.send_replace(true);
        }
    }

    /// Stops the schedule and waits up to `grace` for it (and a backup under way) to end.
    pub async fn finish(self, grace: Duration) {
        self.stopper()();
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!(
                "a scheduled backup was still running {} s after the server stopped",
                grace.as_secs()
            );
        }
    }
}

/// Starts the scheduled backups of `serve`, when `backup.interval` is set. The first comes
/// one interval after start. Failures are logged and counted; the server keeps running.
pub fn schedule(
    config: &Config,
    blobs: crate::blobs::Blobs,
    metrics: Arc<Metrics>,
) -> Option<ScheduledBackups> {
    let every = config.backup.interval?;
    let (data_dir, dir, keep) = (
        config.data_dir.clone(),
        config.backup_dir(),
        config.backup.keep,
    );
    tracing::info!(dir = %dir.display(), every_secs = every.as_secs(), keep, "scheduled backups on");
    let cancel = backup::Cancel::default();
    let stop = cancel.clone();
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stopped.wait_for(|stop| *stop) => return,
            }
            let (data_dir, dir, cancel) = (data_dir.clone(), dir.clone(), stop.clone());
            let blobs = blobs.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                crate::files::create_dir_all(&dir).map_err(|e| {
                    ops::io_error(format_args!("cannot create {}", dir.display()), e)
                })?;
                let dest = Destination::Folder {
                    dir,
                    keep: Some(keep),
                };
                backup::create_from(&data_dir, &blobs, &dest, Progress::quiet(), &cancel)
            })
            .await
            .unwrap_or_else(|e| Err(Error::Internal(format!("backup task: {e}"))));
            match outcome {
                Ok(report) => {
                    metrics.backups_succeeded.fetch_add(1, Ordering::Relaxed);
                    metrics
                        .last_backup_unix
                        .store(report.manifest.created_at / 1000, Ordering::Relaxed);
                    tracing::info!(path = %report.path.display(), bytes = report.bytes, removed = report.removed.len(), "backup written");
                }
                Err(_) if stop.is_cancelled() => {
                    tracing::info!("scheduled backup stopped: the server is stopping");
                    return;
                }
                Err(err) => {
                    metrics.backups_failed.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %err, "scheduled backup failed");
                }
            }
        }
    });
    Some(ScheduledBackups {
        cancel,
        stop: Arc::new(stopping),
        task,
    })
}
