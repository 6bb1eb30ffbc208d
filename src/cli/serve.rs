//! `hearth serve`: open the database, bind, print the setup link, serve until a signal.

use std::future::Future;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

mod backups;
pub mod memory;

use super::open_db;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ops::lock::InstanceLock;
use crate::web::{self, App};
use backups::ScheduledBackups;

/// How long background work (a scheduled backup under way) has to stop once the server has
/// stopped serving; what is still running then is left behind (a backup's work folder is
/// removed at the next start).
const GRACE: Duration = Duration::from_secs(5);
/// How long the runtime then waits for blocking jobs (reads; a backup has had its grace).
const RUNTIME_GRACE: Duration = Duration::from_secs(1);

pub fn run(config: Config) -> Result<()> {
    memory::give_back_freed_buffers();
    // Let go only once the runtime, with every task and blocking job in it, has stopped: a
    // second `hearth serve` must not start while this one still works in the data dir.
    let lock = super::ops::lock_data_dir(&config.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = runtime.block_on(serve(config, &lock));
    let stopping = Instant::now();
    runtime.shutdown_timeout(RUNTIME_GRACE);
    if stopping.elapsed() >= RUNTIME_GRACE {
        tracing::warn!("work still running after the server stopped was left behind");
    }
    drop(lock);
    if served.is_ok() {
        tracing::info!("stopped cleanly");
    }
    served
}

async fn serve(mut config: Config, lock: &InstanceLock) -> Result<()> {
    config.max_connections = fit_connections(config.max_connections);
    let db = open_db(&config)?;
    let listener = bind(config.listen).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            " (is another program, or another Hearth, using it? choose one with --listen)"
        } else {
            ""
        };
        Error::invalid(format!("cannot listen on {}: {e}{hint}", config.listen))
    })?;
    let addr = listener.local_addr()?;
    if let Some(mode) = crate::files::open_to_others(&config.data_dir) {
        tracing::warn!(
            data_dir = %config.data_dir.display(),
            "the data dir is open to other users (mode {mode:o}); it holds every message and \
             password hash: `chmod 700 {}`",
            config.data_dir.display()
        );
    }
    lock.set_listening(&format!("http://{addr}"))?;
    backups::remove_leftovers(&config);
    let app = App::new(db, config).await?;
    let backups = backups::schedule(
        &app.config,
        app.chat.files.blobs.clone(),
        app.metrics.clone(),
    );
    let stop_backups = backups.as_ref().map(ScheduledBackups::stopper);
    let signal = shutdown_signal();
    tracing::info!(%addr, db = %app.db.path().display(), "Hearth is listening");
    println!("Hearth is listening on http://{addr}");
    if let Some(url) = app.setup_url(addr) {
        println!("No admin exists yet. Create one in your browser (this link works once):");
        println!("  {url}");
    }
    let shutdown = async move {
        signal.await;
        // A backup stops while the connections drain, not after.
        if let Some(stop) = stop_backups {
            stop();
        }
    };
    web::serve(listener, app, shutdown).await?;
    if let Some(backups) = backups {
        backups.finish(GRACE).await;
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are in place once this returns (it is called
/// before the server says it listens), so a stop asked for at once is a clean stop too.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, term) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        let wait = |handler: std::io::Result<tokio::signal::unix::Signal>| async move {
            match handler {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(unix)]
        let (ctrl_c, term) = (wait(interrupt), wait(term));
        #[cfg(not(unix))]
        let (ctrl_c, term) = (
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            std::future::pending::<()>(),
        );
        tokio::select! {
            () = ctrl_c => {},
            () = term => {},
        }
        tracing::info!("shutting down: finishing in-flight requests and writes");
    }
}

/// Open files the server needs besides its connections: the database, its WAL and shared
/// memory, pooled connections, backups in progress, the listener, logs.
const FILES_RESERVED: u64 = 64;

/// Raises the open-file limit to what the system allows and lowers `wanted` connections to
/// fit it, saying so: past the limit `accept` fails, and no one could connect, `/healthz`
/// included.
fn fit_connections(wanted: usize) -> usize {
    let limit = rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(1024);
    let room = usize::try_from(limit.saturating_sub(FILES_RESERVED))
        .unwrap_or(usize::MAX)
        .max(1);
    if wanted > room {
        tracing::warn!(
            max_connections = wanted,
            open_file_limit = limit,
            "max_connections lowered to {room} to fit the open-file limit (raise it with \
             `ulimit -n` or LimitNOFILE= in the systemd unit)"
        );
        return room;
    }
    wanted
}

/// Binds with a listen backlog of 1024 (tokio's default is 128), so a reconnect storm after a
/// restart does not lose connection attempts to a second of SYN retry.
fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}
