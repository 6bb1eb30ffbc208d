//! Clients: WebSockets from many 127.0.0.x source addresses, and a lean keep-alive HTTP/1.1 GET.

use futures_util::{SinkExt, StreamExt};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Ws = WebSocketStream<TcpStream>;

/// The source address of client `i`: 127.0.0.2 onwards, `spread` of them in turn.
pub fn source(i: usize, spread: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        0,
        0,
        2 + (i % spread.clamp(1, 250)) as u8,
    ))
}

/// A TCP connection from `from` to the server.
pub async fn tcp(server: SocketAddr, from: IpAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens `/api/v1/ws` with the session cookie and a same-origin `Origin`.
pub async fn open(server: SocketAddr, from: IpAddr, cookie: &str) -> anyhow::Result<Ws> {
    let stream = tcp(server, from).await?;
    let mut req = format!("ws://{server}/api/v1/ws").into_client_request()?;
    req.headers_mut().insert("cookie", cookie.parse()?);
    req.headers_mut()
        .insert("origin", format!("http://{server}").parse()?);
    // Small buffers: 10,000 of these live in one process.
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config)).await?;
    Ok(ws)
}

/// Says hello and waits for `ready`; returns its seq.
pub async fn hello(ws: &mut Ws) -> anyhow::Result<i64> {
    ws.send(Message::text(r#"{"op":"hello"}"#)).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.contains(r#""type":"ready""#) => {
                let v: serde_json::Value = serde_json::from_str(&t)?;
                return Ok(v["seq"].as_i64().unwrap_or(0));
            }
            Some(Ok(Message::Close(c))) => anyhow::bail!("closed before ready: {c:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => anyhow::bail!("socket ended before ready"),
        }
    }
}

/// Connects, authenticates and waits for `ready`.
pub async fn connect(server: SocketAddr, from: IpAddr, cookie: &str) -> anyhow::Result<Ws> {
    let mut ws = open(server, from, cookie).await?;
    hello(&mut ws).await?;
    Ok(ws)
}

/// The number after `"key":` in a JSON text (no full parse on hot paths).
pub fn number_after(text: &str, key: &str) -> Option<i64> {
    let at = text.rfind(key)? + key.len();
    let digits: String = text[at..]
        .chars()
        .skip_while(|c| *c == ' ')
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

/// One keep-alive HTTP/1.1 connection that GETs and reads whole responses.
pub struct Http {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
    start: usize,
}

impl Http {
    pub async fn connect(server: SocketAddr, from: IpAddr) -> anyhow::Result<Http> {
        Ok(Http {
            stream: tcp(server, from).await?,
            host: server.to_string(),
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
        })
    }

    /// GETs `path`; returns the status and the body length.
    pub async fn get(&mut self, path: &str, cookie: &str) -> anyhow::Result<(u16, usize)> {
        self.get_with(path, &format!("cookie: {cookie}")).await
    }

    /// GETs `path` with one more header line (`name: value`): a cookie, or a bearer token.
    pub async fn get_with(&mut self, path: &str, header: &str) -> anyhow::Result<(u16, usize)> {
        let req = format!(
            "GET {path} HTTP/1.1\r\nhost: {}\r\n{header}\r\naccept: application/json\r\n\r\n",
            self.host
        );
        self.stream.write_all(req.as_bytes()).await?;
        let head_end = loop {
            if let Some(i) = find(&self.buf[self.start..], b"\r\n\r\n") {
                break self.start + i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[self.start..head_end])?.to_ascii_lowercase();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("bad status line"))?;
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        let chunked = head.contains("transfer-encoding: chunked");
        self.start = head_end;
        let body = match (length, chunked) {
            (Some(n), _) => {
                self.need(n).await?;
                self.start += n;
                n
            }
            (None, true) => self.chunked().await?,
            (None, false) => anyhow::bail!("response without a length"),
        };
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok((status, body))
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + 16 * 1024, 0);
        let n = self.stream.read(&mut self.buf[len..]).await?;
        self.buf.truncate(len + n);
        anyhow::ensure!(n > 0, "server closed the connection");
        Ok(())
    }

    async fn need(&mut self, n: usize) -> anyhow::Result<()> {
        while self.buf.len() - self.start < n {
            self.fill().await?;
        }
        Ok(())
    }

    async fn chunked(&mut self) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf[self.start..], b"\r\n") {
                    break self.start + i;
                }
                self.fill().await?;
            };
            let size_text = std::str::from_utf8(&self.buf[self.start..line_end])?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
            self.start = line_end + 2;
            self.need(size + 2).await?;
            self.start += size + 2;
            total += size;
            if size == 0 {
                return Ok(total);
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
