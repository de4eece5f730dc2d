//! Slow and hostile clients cannot hold connections: a slowloris sending its headers a byte at a
//! time is cut off (`http.head_timeout_ms`, 5 s for the whole request head), so is one that
//! dribbles its body (`http.body_timeout_ms`), idle connections close (`http.keep_alive_secs`),
//! and past `http.max_connections` new clients wait while those connected are served.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bugle_tests::server::{create_project, create_user_token, Backend, TestServer};

#[test]
fn a_client_sending_headers_byte_by_byte_is_disconnected() {
    let backend = Backend::sqlite();
    let server = TestServer::start(&backend.database_url);
    let addr = server.url.strip_prefix("http://").unwrap().to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let head = b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Padding: ".to_vec();
    let started = Instant::now();
    let mut closed_after = None;
    // Never finishes the head: one byte every 200 ms, for up to 20 s.
    'send: for byte in head.iter().copied().chain(std::iter::repeat(b'a')) {
        if stream.write_all(&[byte]).is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 512];
        match stream.read(&mut buf) {
            // The server answered (408) or closed: either way the connection is over.
            Ok(_) => {
                closed_after = Some(started.elapsed());
                break 'send;
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                closed_after = Some(started.elapsed());
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let closed_after = closed_after.expect("the server still holds the connection after 20 s");
    assert!(
        closed_after < Duration::from_secs(10),
        "closed after {closed_after:?}"
    );
    // Other clients are served meanwhile and after.
    let ready = bugle_tests::server::request("GET", &format!("{}/readyz", server.url), &[], None);
    assert_eq!(ready.status, 200);
}

/// Sends `head`, then the body a byte every 100 ms; returns how long until the server answered
/// (with what status line) or closed.
fn dribble_body(addr: &str, head: &str) -> (Duration, Option<String>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if stream.write_all(b"a").is_err() {
            return (started.elapsed(), None);
        }
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            Ok(0) => return (started.elapsed(), None),
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                return (started.elapsed(), text.lines().next().map(str::to_owned));
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return (started.elapsed(), None),
        }
    }
    panic!("the server still reads a dribbled body after 20 s");
}

#[test]
fn a_client_dribbling_its_body_is_answered_408_within_the_body_timeout() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let shop = create_project(db, "Shop");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start_with(db, &[("BUGLE_HTTP_BODY_TIMEOUT_MS", "2000")]);
    let issue = server
        .send_event(&shop.token, &serde_json::json!({"message": "x"}))
        .json()["issue_id"]
        .as_i64()
        .unwrap();
    let addr = server.url.strip_prefix("http://").unwrap().to_owned();
    // Ingest reads its body as a stream, the JSON API through actix's extractor: both cut.
    for head in [
        format!(
            "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
            shop.token
        ),
        format!(
            "PATCH /api/v1/issues/{issue} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api}\r\n\
             Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        ),
    ] {
        let (after, status) = dribble_body(&addr, &head);
        let path = head.split(' ').nth(1).unwrap();
        assert!(
            after >= Duration::from_millis(1500) && after < Duration::from_secs(5),
            "{path}: cut after {after:?}"
        );
        assert_eq!(
            status.as_deref(),
            Some("HTTP/1.1 408 Request Timeout"),
            "{path}: after {after:?}"
        );
    }
    let ready = bugle_tests::server::request("GET", &format!("{}/readyz", server.url), &[], None);
    assert_eq!(ready.status, 200);
}

/// A kept-alive connection that sent one `GET /healthz`; None when no answer came in `wait`.
fn healthz(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .ok()?;
    read_reply(stream, wait)
}

/// One response (head and a Content-Length body), or None when none arrives within `wait`.
fn read_reply(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return text.lines().next().map(str::to_owned);
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn past_the_connection_cap_new_clients_wait_while_connected_ones_are_served() {
    let backend = Backend::sqlite();
    let cap = 4;
    let server = TestServer::start_with(
        &backend.database_url,
        &[
            ("BUGLE_HTTP_WORKERS", "1"),
            ("BUGLE_HTTP_MAX_CONNECTIONS", "4"),
            ("BUGLE_HTTP_KEEP_ALIVE_SECS", "60"),
        ],
    );
    let addr = server.url.strip_prefix("http://").unwrap().to_owned();
    let mut accepted: Vec<TcpStream> = (0..cap)
        .map(|i| {
            let mut s = TcpStream::connect(&addr).unwrap();
            let reply = healthz(&mut s, Duration::from_secs(10));
            assert_eq!(reply.as_deref(), Some("HTTP/1.1 200 OK"), "connection {i}");
            s
        })
        .collect();
    // Two more: the kernel completes their handshake (the listen backlog), the server does
    // not take them.
    let mut waiting: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    for s in &mut waiting {
        assert_eq!(
            read_reply(s, Duration::from_millis(1500)),
            None,
            "served past the cap"
        );
    }
    // Those connected are still served.
    for (i, s) in accepted.iter_mut().enumerate() {
        let reply = healthz(s, Duration::from_secs(5));
        assert_eq!(
            reply.as_deref(),
            Some("HTTP/1.1 200 OK"),
            "connection {i} at the cap"
        );
    }
    // One leaves: a waiting client gets its turn.
    drop(accepted.pop());
    let started = Instant::now();
    let mut served = 0;
    while served == 0 && started.elapsed() < Duration::from_secs(5) {
        for s in &mut waiting {
            if read_reply(s, Duration::from_millis(100)).is_some() {
                served += 1;
            }
        }
    }
    assert_eq!(served, 1, "one freed slot serves one waiting client");
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_keep_alive() {
    let backend = Backend::sqlite();
    let server = TestServer::start_with(
        &backend.database_url,
        &[("BUGLE_HTTP_KEEP_ALIVE_SECS", "1")],
    );
    let addr = server.url.strip_prefix("http://").unwrap().to_owned();
    let mut s = TcpStream::connect(&addr).unwrap();
    assert!(healthz(&mut s, Duration::from_secs(5)).is_some());
    let started = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the server closes, sending nothing");
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(500) && after < Duration::from_secs(4),
        "closed after {after:?}"
    );
}
