//! The benchmark's load generator: keep-alive HTTP/1.1 connections driven from ONE thread.
//!
//! The targets are measured with the generator on the same 2 cores as the server, so every
//! microsecond it spends is taken from Bugle. A thread per connection with a general-purpose
//! client (ureq) cost about 125 µs of CPU per request here, as much as the server's parsing;
//! this one writes requests built before the clock starts and reads only the status line and
//! `Content-Length` of each answer, all from one tokio thread.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request, whole: head and body in one buffer, so it is one `write`.
pub struct Prepared(Vec<u8>);

impl Prepared {
    /// A POST to `path` with `headers` (each `Name: value`) and `body`.
    pub fn post(path: &str, headers: &[String], body: &[u8]) -> Prepared {
        let mut head = format!("POST {path} HTTP/1.1\r\nHost: bench\r\n");
        for h in headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = Vec::with_capacity(head.len() + body.len());
        bytes.extend_from_slice(head.as_bytes());
        bytes.extend_from_slice(body);
        Prepared(bytes)
    }
}

/// What a run gave: 2xx answers, other answers, and the latency of every request.
pub struct Outcome {
    pub ok: usize,
    pub refused: usize,
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

/// Sends every request once over `connections` keep-alive connections, as fast as answers come
/// (closed loop) or, with `rate`, request i at i / rate seconds after the start (open loop).
pub fn run(
    addr: SocketAddr,
    requests: &[Prepared],
    connections: usize,
    rate: Option<f64>,
) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let next = AtomicUsize::new(0);
        // Connections are open before the clock starts, as a busy SDK keeps its own: hundreds
        // of connects at once measured the listen queue (a 1 s SYN retry), not the server.
        // One that fails is opened again when its first request is sent.
        let streams = (0..connections).map(|_| async { connect(addr).await.ok() });
        let streams = futures_util::future::join_all(streams).await;
        let started = Instant::now();
        // All connections are polled by this one task; FuturesUnordered polls only those woken.
        let mut clients: FuturesUnordered<_> = streams
            .into_iter()
            .map(|stream| client(addr, stream, requests, &next, started, rate))
            .collect();
        let mut outcome = Outcome {
            ok: 0,
            refused: 0,
            latencies: Vec::with_capacity(requests.len()),
            elapsed: Duration::ZERO,
        };
        while let Some((ok, refused, latencies)) = clients.next().await {
            outcome.ok += ok;
            outcome.refused += refused;
            outcome.latencies.extend(latencies);
        }
        outcome.elapsed = started.elapsed();
        outcome
    })
}

/// A connection ready for requests.
async fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// One connection: takes the next request until none is left. Returns (2xx, other, latencies).
async fn client(
    addr: SocketAddr,
    mut stream: Option<TcpStream>,
    requests: &[Prepared],
    next: &AtomicUsize,
    started: Instant,
    rate: Option<f64>,
) -> (usize, usize, Vec<Duration>) {
    let (mut ok, mut refused, mut latencies) = (0, 0, Vec::new());
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(request) = requests.get(i) else {
            break;
        };
        if let Some(rate) = rate {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let sent = Instant::now();
        let answer = async {
            if stream.is_none() {
                stream = Some(connect(addr).await?);
            }
            let s = stream.as_mut().expect("connected");
            s.write_all(&request.0).await?;
            read_answer(s, &mut buf).await
        }
        .await;
        latencies.push(sent.elapsed());
        match answer {
            Ok((status, keep_alive)) => {
                if (200..300).contains(&status) {
                    ok += 1;
                } else {
                    refused += 1;
                }
                if !keep_alive {
                    stream = None;
                }
            }
            Err(_) => {
                refused += 1;
                stream = None;
            }
        }
    }
    (ok, refused, latencies)
}

/// Reads one answer; returns its status and whether the connection stays open. Only what is
/// needed is parsed: the status code, `Content-Length` and `Connection: close`.
async fn read_answer(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<(u16, bool)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    buf.clear();
    let head_end = loop {
        if let Some(p) = find(buf, b"\r\n\r\n") {
            break p + 4;
        }
        read_more(stream, buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("head is not UTF-8"))?;
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status code"))?;
    let (mut length, mut keep_alive) = (0usize, true);
    for line in head.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().map_err(|_| bad("bad Content-Length"))?;
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            keep_alive = false;
        }
    }
    while buf.len() < head_end + length {
        read_more(stream, buf).await?;
    }
    Ok((status, keep_alive))
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
