//! SMTP through lettre: the transport from a URL, and advice when sending fails.

use lettre::message::{header, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

use crate::config::MailConfig;

/// One mail, ready to address.
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// One-click unsubscribe URL (RFC 8058), also linked in the body.
    pub unsubscribe: String,
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `None` when no SMTP URL is configured (mail is off).
    pub fn from_config(config: &MailConfig) -> anyhow::Result<Option<Self>> {
        let Some(url) = config.smtp_url.as_deref() else {
            return Ok(None);
        };
        let from = config
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("mail.from {:?} is not an address: {e}", config.from))?;
        Ok(Some(Mailer {
            transport: transport(url)?,
            from,
        }))
    }

    pub async fn send(&self, to: &str, mail: &Mail) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("bad address {to:?}: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ListUnsubscribe(format!("<{}>", mail.unsubscribe)))
            .header(ListUnsubscribePost)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(header::ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(header::ContentType::TEXT_HTML)
                            .body(mail.html.clone()),
                    ),
            )
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| advice(&e))
    }
}

/// `smtp://` is plain (a local relay) unless on port 587 or with `?tls=required`, which use
/// STARTTLS; `smtps://` is TLS from the first byte (port 465).
fn transport(url: &str) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let mut url = url.to_owned();
    let submission_port = url
        .split('@')
        .next_back()
        .and_then(|host| host.split(['/', '?']).next())
        .is_some_and(|host| host.ends_with(":587"));
    if url.starts_with("smtp://") && submission_port && !url.contains("tls=") {
        url.push_str(if url.contains('?') {
            "&tls=required"
        } else {
            "?tls=required"
        });
    }
    AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .map(|builder| builder.build())
        .map_err(|e| anyhow::anyhow!("invalid SMTP URL: {e}"))
}

/// Turns lettre's error into what to check.
fn advice(e: &lettre::transport::smtp::Error) -> String {
    let text = e.to_string();
    let lower = text.to_lowercase();
    let hint = if e.is_permanent() && (lower.contains("auth") || lower.contains("535")) {
        "authentication failed: check the user and password in the SMTP URL"
    } else if lower.contains("connection refused") {
        "the SMTP server refused the connection: check host and port"
    } else if e.is_tls()
        || [
            "tls",
            "certificate",
            "handshake",
            "corrupt message",
            "invalidcontenttype",
        ]
        .iter()
        .any(|word| lower.contains(word))
    {
        "TLS failed: the encryption setting is probably wrong. Use smtps:// with port 465 or \
         smtp:// with STARTTLS on port 587 (or ?tls=required), plain smtp:// for a local relay"
    } else if lower.contains("timed out") || lower.contains("timeout") {
        "the SMTP server did not answer in time: check host, port and firewall"
    } else if e.is_permanent() {
        "the SMTP server rejected the message"
    } else {
        "sending failed"
    };
    format!("{hint} ({text})")
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl header::Header for ListUnsubscribePost {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}
