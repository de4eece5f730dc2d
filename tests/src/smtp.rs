//! A real SMTP server on loopback (Python's aiosmtpd) that keeps every message in a maildir,
//! and a reader for what arrived.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct SmtpServer {
    child: Child,
    pub port: u16,
    maildir: tempfile::TempDir,
}

/// A free port on 127.0.0.1 (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Parses every message of a maildir into {to, subject, headers, text, html}.
const READ_MAILDIR: &str = r#"
import email, email.policy, json, mailbox, sys
out = []
# In arrival order: a Maildir key is "<secs>.M<usecs>P<pid>Q<n>.<host>", n counting deliveries.
arrival = lambda item: int(item[0].split("Q", 1)[1].split(".", 1)[0])
for key, msg in sorted(mailbox.Maildir(sys.argv[1], factory=None).items(), key=arrival):
    msg = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    out.append({"to": msg["To"], "subject": msg["Subject"], "headers": {k: str(v) for k, v in msg.items()},
                "text": text.get_content() if text else None, "html": html.get_content() if html else None})
print(json.dumps(out))
"#;

impl SmtpServer {
    /// Starts aiosmtpd on `port`; `None` when the Python venv is unavailable outside CI.
    pub fn start(port: u16) -> Option<SmtpServer> {
        let python = crate::python::venv()?;
        let maildir = tempfile::tempdir().unwrap();
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(SmtpServer {
            child,
            port,
            maildir,
        })
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<Value> {
        let dir = self.maildir.path().join("mail");
        if !Path::new(&dir).join("new").exists() {
            return Vec::new();
        }
        let python = crate::python::venv().expect("venv exists while the server runs");
        let out = Command::new(python)
            .args(["-c", READ_MAILDIR])
            .arg(&dir)
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout)
            .expect("JSON")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until at least `n` messages arrived (or panics after `timeout`).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages, got {}: {messages:#?}",
                messages.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
