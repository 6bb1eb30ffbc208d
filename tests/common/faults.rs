//! A proxy on loopback in front of an HTTP server that can be told to misbehave: answer every
//! new request with 500 or 403, or accept it and never answer. Connections open when it is
//! told are closed at their next request. Used with `#[path = "common/faults.rs"] mod faults;`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Pass = 0,
    ServerError = 1,
    Forbidden = 2,
    Stall = 3,
}

pub struct Faulty {
    pub endpoint: String,
    mode: Arc<AtomicU8>,
    task: tokio::task::JoinHandle<()>,
}

impl Faulty {
    pub async fn start(upstream: SocketAddr) -> Faulty {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(AtomicU8::new(Mode::Pass as u8));
        let shared = mode.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, upstream, shared.clone()));
            }
        });
        Faulty {
            endpoint,
            mode,
            task,
        }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn mode(m: &AtomicU8) -> Mode {
    match m.load(Ordering::SeqCst) {
        1 => Mode::ServerError,
        2 => Mode::Forbidden,
        3 => Mode::Stall,
        _ => Mode::Pass,
    }
}

async fn relay(mut client: TcpStream, upstream: SocketAddr, m: Arc<AtomicU8>) {
    let mut buf = vec![0u8; 64 * 1024];
    let Ok(n) = client.read(&mut buf).await else {
        return;
    };
    if n == 0 {
        return;
    }
    let answer = match mode(&m) {
        Mode::Pass => None,
        Mode::ServerError => Some((
            "500 Internal Server Error",
            "<Error><Code>InternalError</Code></Error>",
        )),
        Mode::Forbidden => Some(("403 Forbidden", "<Error><Code>AccessDenied</Code></Error>")),
        Mode::Stall => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return;
        }
    };
    if let Some((status, body)) = answer {
        let _ = client
            .write_all(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await;
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let back = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
    });
    let mut chunk = n;
    loop {
        if to_server.write_all(&buf[..chunk]).await.is_err() {
            break;
        }
        chunk = match from_client.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if mode(&m) != Mode::Pass {
            break;
        }
    }
    back.abort();
}
