//! A local SMTP server for tests, on 127.0.0.1:0: EHLO, MAIL, RCPT, DATA and QUIT in the
//! clear, each message it takes recorded and decoded (quoted-printable or base64 parts). It
//! can be told to refuse (5xx), defer (4xx), hang or drop the connection once a message has
//! been sent to it; a message not answered 250 is not recorded.

use base64::Engine as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers the end of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 250: taken (and recorded).
    Accept,
    /// 554: refused for good.
    Refuse,
    /// 451: refused for now.
    Defer,
    /// No answer at all, the connection left open.
    Hang,
    /// The connection closed without an answer.
    Drop,
}

/// A message the server took.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent, dot-stuffing undone.
    pub raw: String,
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    received: Vec<Received>,
    /// Messages sent to it whatever the answer.
    attempts: usize,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, shared.clone()));
            }
        });
        SmtpServer { addr, state }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// How the next messages are answered.
    pub fn mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    /// The messages taken so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// How many messages were sent to it, taken or not.
    pub fn attempts(&self) -> usize {
        self.state.lock().unwrap().attempts
    }

    /// Waits (up to 10 s) until `n` messages were taken.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} emails, not {n}", self.received().len());
    }

    /// Waits (up to 10 s) until `n` messages were sent to it, taken or not.
    pub async fn wait_for_attempts(&self, n: usize) {
        for _ in 0..200 {
            if self.attempts() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} attempts, not {n}", self.attempts());
    }
}

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if !say(&mut write, "220 test.local ESMTP ready\r\n").await {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250 test.local\r\n".to_string()
        } else if let Some(rest) = upper.strip_prefix("MAIL FROM:") {
            from = angle(&command[command.len() - rest.len()..]);
            to.clear();
            "250 2.1.0 OK\r\n".to_string()
        } else if let Some(rest) = upper.strip_prefix("RCPT TO:") {
            to.push(angle(&command[command.len() - rest.len()..]));
            "250 2.1.5 OK\r\n".to_string()
        } else if upper == "DATA" {
            if !say(&mut write, "354 go ahead\r\n").await {
                return;
            }
            let mut raw = String::new();
            loop {
                let mut data = String::new();
                match lines.read_line(&mut data).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if data == ".\r\n" || data == ".\n" {
                    break;
                }
                raw.push_str(data.strip_prefix('.').unwrap_or(&data));
            }
            let mode = {
                let mut s = state.lock().unwrap();
                s.attempts += 1;
                let mode = s.mode.unwrap_or(Mode::Accept);
                if mode == Mode::Accept {
                    s.received.push(Received {
                        from: from.clone(),
                        to: to.clone(),
                        raw,
                    });
                }
                mode
            };
            match mode {
                Mode::Accept => "250 2.0.0 queued\r\n".to_string(),
                Mode::Refuse => "554 5.7.1 refused by the test server\r\n".to_string(),
                Mode::Defer => "451 4.3.0 try again later\r\n".to_string(),
                Mode::Hang => {
                    // Holds the connection until the client gives up.
                    let mut rest = String::new();
                    while let Ok(n) = lines.read_line(&mut rest).await {
                        if n == 0 {
                            break;
                        }
                    }
                    return;
                }
                Mode::Drop => return,
            }
        } else if upper == "QUIT" {
            let _ = say(&mut write, "221 bye\r\n").await;
            return;
        } else if upper == "RSET" || upper == "NOOP" {
            "250 OK\r\n".to_string()
        } else {
            "502 5.5.2 not known here\r\n".to_string()
        };
        if !say(&mut write, &reply).await {
            return;
        }
    }
}

async fn say(w: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> bool {
    w.write_all(text.as_bytes()).await.is_ok()
}

/// The address inside `<…>` (parameters after it dropped).
fn angle(rest: &str) -> String {
    let rest = rest.trim();
    match (rest.find('<'), rest.find('>')) {
        (Some(a), Some(b)) if a < b => rest[a + 1..b].to_string(),
        _ => rest.split_whitespace().next().unwrap_or("").to_string(),
    }
}

impl Received {
    /// A header's value, folded lines joined.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        header_in(head, name)
    }

    /// The decoded text/plain part.
    pub fn text(&self) -> String {
        self.part("text/plain")
    }

    /// The decoded text/html part.
    pub fn html(&self) -> String {
        self.part("text/html")
    }

    fn part(&self, kind: &str) -> String {
        let boundary = self.header("Content-Type").and_then(|t| {
            t.split("boundary=")
                .nth(1)
                .map(|b| b.trim_matches('"').split('"').next().unwrap().to_string())
        });
        let parts: Vec<&str> = match &boundary {
            Some(b) => self.raw.split(&format!("--{b}")).collect(),
            None => vec![self.raw.as_str()],
        };
        for part in parts {
            let Some((head, body)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            let is_kind = header_in(head, "Content-Type").is_some_and(|t| t.starts_with(kind));
            if !is_kind {
                continue;
            }
            let encoding = header_in(head, "Content-Transfer-Encoding").unwrap_or_default();
            return decode(body.trim_end_matches(['\r', '\n']), &encoding);
        }
        panic!("no {kind} part in\n{}", self.raw)
    }

    /// Every `http://…` link in the text part.
    pub fn links(&self) -> Vec<String> {
        self.text()
            .split_whitespace()
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(str::to_string)
            .collect()
    }
}

fn header_in(head: &str, name: &str) -> Option<String> {
    let mut value: Option<String> = None;
    for line in head.split("\r\n") {
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            return value;
        }
        if let Some((n, v)) = line.split_once(':')
            && n.eq_ignore_ascii_case(name)
        {
            value = Some(v.trim().to_string());
        }
    }
    value
}

fn decode(body: &str, encoding: &str) -> String {
    match encoding.to_ascii_lowercase().as_str() {
        "base64" => {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .unwrap(),
            )
            .unwrap()
        }
        "quoted-printable" => {
            let mut out = Vec::new();
            let bytes = body.replace("=\r\n", "").into_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'=' && i + 2 < bytes.len() {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap().replace("\r\n", "\n")
        }
        _ => body.replace("\r\n", "\n"),
    }
}
