//! `hearth serve`: open the database, bind, print the setup link, serve until a signal.

use tokio::net::TcpListener;

use super::open_db;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::web::{self, App};

pub fn run(config: Config) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> Result<()> {
    let lock = super::ops::lock_data_dir(&config.data_dir)?;
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
    lock.set_listening(&format!("http://{addr}"))?;
    let app = App::new(db, config).await?;
    super::ops::schedule_backups(&app.config, app.metrics.clone());
    tracing::info!(%addr, db = %app.db.path().display(), "Hearth is listening");
    println!("Hearth is listening on http://{addr}");
    if let Some(url) = app.setup_url(addr) {
        println!("No admin exists yet. Create one in your browser (this link works once):");
        println!("  {url}");
    }
    web::serve(listener, app, shutdown_signal()).await?;
    drop(lock);
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests and writes");
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
