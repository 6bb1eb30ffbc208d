//! The floor under `fanout`: a minimal broadcast server inside the harness, with as many
//! runtime workers as Hearth's. It accepts WebSockets, answers the hello with a ready, and on
//! each `send` op writes one prepared frame, of the size of Hearth's, to every socket. What
//! Hearth takes beyond this is what it costs to be a chat server rather than a broadcaster.

use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Frames a socket may be behind before it misses one (as a Hearth socket's queue).
const QUEUE: usize = 512;

/// The environment variable that makes the harness executable serve as the floor (its value
/// is the frame length), printing `floor listening on ADDR` and serving until killed.
pub const CHILD: &str = "HEARTH_LOAD_FLOOR_FRAME_LEN";

/// A running floor server: in its own process (the bench: this machine's open-file limit may
/// not hold 10,000 sockets on both ends in one process), or on a runtime of its own in this
/// one (the smoke test). Stopped on drop.
pub struct Floor {
    pub addr: SocketAddr,
    /// The process serving, when it is not this one.
    pub pid: Option<u32>,
    host: Host,
}

enum Host {
    Child(std::process::Child),
    Runtime(Option<tokio::runtime::Runtime>),
}

impl Floor {
    /// Starts on 127.0.0.1, writing frames of `frame_len` bytes.
    pub fn start(frame_len: usize, own_process: bool) -> anyhow::Result<Floor> {
        if own_process {
            return Floor::start_child(frame_len);
        }
        let runtime = runtime()?;
        let addr = listen(&runtime, frame_len)?;
        Ok(Floor {
            addr,
            pid: None,
            host: Host::Runtime(Some(runtime)),
        })
    }

    fn start_child(frame_len: usize) -> anyhow::Result<Floor> {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .env(CHILD, frame_len.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("floor listening on ") else {
            let _ = child.kill();
            anyhow::bail!("the floor did not start: {line:?}");
        };
        Ok(Floor {
            addr: addr.parse()?,
            pid: Some(child.id()),
            host: Host::Child(child),
        })
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        match &mut self.host {
            Host::Child(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Host::Runtime(runtime) => {
                if let Some(runtime) = runtime.take() {
                    runtime.shutdown_background();
                }
            }
        }
    }
}

/// The floor's own process: serves until killed.
pub fn serve_as_child(frame_len: &str) {
    let run = || -> anyhow::Result<()> {
        super::server::raise_nofile();
        let runtime = runtime()?;
        let addr = listen(&runtime, frame_len.trim().parse()?)?;
        println!("floor listening on {addr}");
        runtime.block_on(std::future::pending::<()>());
        Ok(())
    };
    if let Err(err) = run() {
        eprintln!("floor: {err:#}");
        std::process::exit(1);
    }
}

/// As many workers as Hearth's runtime has (one per core).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(super::nproc())
        .thread_name("floor")
        .enable_all()
        .build()?)
}

/// Binds 127.0.0.1 with Hearth's listen backlog and accepts on `runtime`.
fn listen(runtime: &tokio::runtime::Runtime, frame_len: usize) -> anyhow::Result<SocketAddr> {
    // tokio's default backlog of 128 drops connections in a storm; Hearth asks for 1024.
    let listener = {
        let _inside = runtime.enter();
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        socket.listen(1024)?
    };
    let addr = listener.local_addr()?;
    let (frames, _) = broadcast::channel::<Utf8Bytes>(QUEUE);
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve(stream, frames.clone(), frame_len));
        }
    });
    Ok(addr)
}

/// The frame for post `n`: the marker the generator looks for, padded to `len` bytes.
fn frame(n: u64, len: usize) -> Utf8Bytes {
    let mut text = format!(r#"{{"type":"event","body":"fanout-{n} to everyone","pad":""#);
    let pad = len.saturating_sub(text.len() + 2);
    text.extend(std::iter::repeat_n('x', pad));
    text.push_str("\"}");
    Utf8Bytes::from(text)
}

/// The number after `fanout-` in a send op.
fn post_number(op: &str) -> Option<u64> {
    let at = op.find("fanout-")? + "fanout-".len();
    op[at..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .try_fold(0u64, |n, d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
}

async fn serve(stream: TcpStream, frames: broadcast::Sender<Utf8Bytes>, frame_len: usize) {
    // The buffers Hearth gives its sockets.
    let config = WebSocketConfig::default()
        .read_buffer_size(2 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024);
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else {
        return;
    };
    let (mut sink, mut incoming) = ws.split();
    loop {
        match incoming.next().await {
            Some(Ok(Message::Text(_))) => break,
            Some(Ok(_)) => continue,
            _ => return,
        }
    }
    let mut queue = frames.subscribe();
    if sink
        .send(Message::text(r#"{"type":"ready","seq":0}"#))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            biased;
            next = queue.recv() => match next {
                Ok(frame) => {
                    // Feed what is queued and flush once, as Hearth does.
                    if sink.feed(Message::Text(frame)).await.is_err() {
                        return;
                    }
                    while let Ok(more) = queue.try_recv() {
                        if sink.feed(Message::Text(more)).await.is_err() {
                            return;
                        }
                    }
                    if sink.flush().await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            op = incoming.next() => match op {
                Some(Ok(Message::Text(op))) => {
                    if let Some(n) = post_number(&op) {
                        let _ = frames.send(frame(n, frame_len));
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}
