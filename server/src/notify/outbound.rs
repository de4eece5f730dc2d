//! Posting alerts: a small HTTP/1.1 client that cannot be turned against the server's own
//! network (server-side request forgery).
//!
//! The URL must be http(s) without credentials; its host is resolved once and every address
//! checked (loopback, private, link-local, unspecified, CGNAT, multicast refused unless
//! `alerts.allow_private_targets`); the connection goes to the address that was checked, so a
//! second DNS answer cannot swap it. Redirects are never followed (a 3xx is a failed delivery),
//! the whole exchange has a 10 s timeout and at most 64 KB of the response is read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

pub const TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_RESPONSE: usize = 64 * 1024;

/// A parsed target URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
}

/// Why nothing was posted, or why a post failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The URL or its address is not allowed: retrying cannot help.
    #[error("{0}")]
    Refused(String),
    /// Connecting, TLS, the timeout, or an unreadable answer: worth a retry.
    #[error("{0}")]
    Failed(String),
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// `Retry-After` in seconds from now, sent as seconds or as an HTTP date.
    pub retry_after: Option<u64>,
    /// The start of the body, for the delivery log.
    pub body: String,
}

/// Parses `http(s)://host[:port][/path]`; anything else is refused with the reason.
pub fn parse_url(url: &str) -> Result<Target, String> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err("the URL must start with http:// or https://".into());
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') {
        return Err("the URL must not carry a user name or password".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL has no valid host".into());
    }
    let port = match port {
        Some(p) => p.parse().map_err(|_| format!("invalid port {p:?}"))?,
        None if https => 443,
        None => 80,
    };
    let path = path.split('#').next().unwrap_or_default();
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL's path must not contain spaces or control characters".into());
    }
    let path = if path.is_empty() || path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    Ok(Target {
        https,
        host: host.to_ascii_lowercase(),
        port,
        path,
    })
}

/// Addresses only reachable inside the server's own network (or nowhere).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Resolves the target and returns the one address to connect to, or why none is allowed.
pub async fn resolve(target: &Target, allow_private: bool) -> Result<SocketAddr, SendError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| SendError::Failed(format!("cannot resolve {}: {e}", target.host)))?
        .collect();
    let first = *addrs
        .first()
        .ok_or_else(|| SendError::Failed(format!("{} has no address", target.host)))?;
    if !allow_private {
        // Every answer is checked: a name with one public and one private address is refused.
        if let Some(bad) = addrs.iter().find(|a| is_private(a.ip())) {
            return Err(SendError::Refused(format!(
                "{} resolves to {}, a loopback, private or link-local address \
                 (set alerts.allow_private_targets to allow it)",
                target.host,
                bad.ip()
            )));
        }
    }
    Ok(first)
}

/// Checks a URL as `channel add` does: parsed, and resolving to allowed addresses.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    let target = parse_url(url)?;
    match resolve(&target, allow_private).await {
        Ok(_) | Err(SendError::Failed(_)) => Ok(()),
        Err(SendError::Refused(why)) => Err(why),
    }
}

#[derive(Clone)]
pub struct Client {
    allow_private: bool,
    tls: tokio_rustls::TlsConnector,
}

impl Client {
    pub fn new(allow_private: bool) -> Self {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Client {
            allow_private,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        }
    }

    /// POSTs a JSON body with extra headers; the answer's status, whatever it is.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Response, SendError> {
        let target = parse_url(url).map_err(SendError::Refused)?;
        let addr = resolve(&target, self.allow_private).await?;
        let exchange = async {
            let tcp = TcpStream::connect(addr).await.map_err(|e| {
                SendError::Failed(format!("cannot connect to {}: {e}", target.host))
            })?;
            if target.https {
                let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                    .map_err(|_| SendError::Refused(format!("invalid TLS name {}", target.host)))?;
                let tls = self
                    .tls
                    .connect(name, tcp)
                    .await
                    .map_err(|e| SendError::Failed(format!("TLS with {}: {e}", target.host)))?;
                exchange(tls, &target, headers, body).await
            } else {
                exchange(tcp, &target, headers, body).await
            }
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| SendError::Failed(format!("no answer within {}s", TIMEOUT.as_secs())))?
    }
}

async fn exchange(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    target: &Target,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<Response, SendError> {
    let default_port = if target.https { 443 } else { 80 };
    let host = match (target.host.contains(':'), target.port == default_port) {
        (true, true) => format!("[{}]", target.host),
        (true, false) => format!("[{}]:{}", target.host, target.port),
        (false, true) => target.host.clone(),
        (false, false) => format!("{}:{}", target.host, target.port),
    };
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Bugle/{}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        target.path,
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let io = |e: std::io::Error| SendError::Failed(format!("sending to {}: {e}", target.host));
    stream.write_all(head.as_bytes()).await.map_err(io)?;
    stream.write_all(body).await.map_err(io)?;
    stream.flush().await.map_err(io)?;

    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            // Some servers reset instead of closing; what was read still counts.
            Err(_) if !buf.is_empty() => 0,
            Err(e) => return Err(io(e)),
        };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() >= MAX_RESPONSE || complete(&buf) {
            buf.truncate(MAX_RESPONSE);
            break;
        }
    }
    parse_response(&buf)
        .ok_or_else(|| SendError::Failed(format!("{} sent no valid HTTP answer", target.host)))
}

/// Whether a response is whole: headers and a body as long as Content-Length says, or a
/// chunked body's last chunk. (Otherwise reading goes on to the close, the cap or the timeout.)
fn complete(buf: &[u8]) -> bool {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let body = &buf[end + 4..];
    if let Some(len) = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        return body.len() >= len;
    }
    if header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        return body.ends_with(b"0\r\n\r\n");
    }
    false
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim())
    })
}

/// A `Retry-After` value as seconds from `now_ms`: delay-seconds, or an HTTP-date in any of
/// the three forms RFC 9110 §5.6.7 has recipients accept (IMF-fixdate, RFC 850, asctime). A
/// date already past is 0: retry now.
fn retry_after(value: &str, now_ms: i64) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse() {
        return Some(secs);
    }
    let at = chrono::DateTime::parse_from_rfc2822(value)
        .map(|t| t.timestamp_millis())
        .or_else(|_| {
            ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(value, f).ok())
                .map(|t| t.and_utc().timestamp_millis())
                .ok_or(())
        })
        .ok()?;
    Some(u64::try_from(at.saturating_sub(now_ms)).map_or(0, |ms| ms.div_ceil(1000)))
}

fn parse_response(buf: &[u8]) -> Option<Response> {
    let end = find(buf, b"\r\n\r\n").unwrap_or(buf.len());
    let head = String::from_utf8_lossy(&buf[..end]);
    let status_line = head.lines().next()?;
    let mut parts = status_line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let status: u16 = parts.next()?.parse().ok()?;
    let retry_after =
        header(&head, "retry-after").and_then(|v| retry_after(v, crate::time::now_ms()));
    let body = buf.get(end + 4..).unwrap_or_default();
    Some(Response {
        status,
        retry_after,
        body: String::from_utf8_lossy(&body[..body.len().min(2000)]).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_and_carry_no_credentials() {
        let t = parse_url("https://hooks.slack.com/services/T/B/x?y=1").unwrap();
        assert_eq!(
            (t.https, t.host.as_str(), t.port),
            (true, "hooks.slack.com", 443)
        );
        assert_eq!(t.path, "/services/T/B/x?y=1");
        let t = parse_url("http://[::1]:8080").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("::1", 8080, "/")
        );
        for bad in [
            "ftp://x/",
            "file:///etc/passwd",
            "http://u:p@x/",
            "http://:80/",
            "x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn internal_addresses_are_private() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn loopback_targets_are_refused_unless_allowed() {
        assert!(check_url("http://127.0.0.1:9/hook", false).await.is_err());
        assert!(check_url("http://localhost:9/hook", false).await.is_err());
        assert!(check_url("http://127.0.0.1:9/hook", true).await.is_ok());
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        // 1994-11-06T08:49:37Z, RFC 9110's example date, minus 90 s.
        let now = 784_111_777_000 - 90_000;
        assert_eq!(retry_after("120", now), Some(120));
        for date in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(retry_after(date, now), Some(90), "{date}");
        }
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 3_600_000),
            Some(0),
            "past: now"
        );
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-5", now), None);
    }

    #[test]
    fn answers_are_parsed_with_retry_after() {
        let r =
            parse_response(b"HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\n\r\nslow down").unwrap();
        assert_eq!(
            (r.status, r.retry_after, r.body.as_str()),
            (429, Some(7), "slow down")
        );
        assert!(complete(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        let dated = parse_response(
            b"HTTP/1.1 503 Busy\r\nRetry-After: Fri, 31 Dec 2100 23:59:59 GMT\r\n\r\n",
        )
        .unwrap();
        assert!(
            dated.retry_after.unwrap() > 365 * 86_400,
            "a date far ahead"
        );
        assert!(!complete(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok"));
    }
}
