//! Slow and hostile clients cannot hold connections: a slowloris sending its headers a byte at a
//! time is cut off (actix's client request timeout, 5 s for the whole request head).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bugle_tests::server::{Backend, TestServer};

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
