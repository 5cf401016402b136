//! Email through an SMTP relay (lettre, pooled connections). Subjects and bodies are UTF-8;
//! lettre writes RFC 2047 encoded words for the subject and picks quoted-printable or base64
//! for the body, so the raw message stays 7-bit.

use std::time::Duration;

use anyhow::Context;
use doan_platform::config::SmtpSettings;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::Outcome;

/// The email adapter. Cheap to share: hold it in an `Arc`.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.email.to_string()).finish()
    }
}

/// `smtp://host[:port][/]` with no TLS parameter, no credentials and no EHLO name: a local
/// relay without TLS. Anything else goes through lettre's own URL reading.
fn plain_relay(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("smtp://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['?', '@', '/', '#']) {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => (h, p.parse::<u16>().ok()?),
        _ => (rest, 25),
    };
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    Some((host.to_string(), port))
}

impl Mailer {
    /// The adapter, or `None` when `url` is unset. Fails on a malformed URL or sender.
    pub fn new(s: &SmtpSettings) -> anyhow::Result<Option<Self>> {
        let Some(url) = &s.url else { return Ok(None) };
        let url = url.expose_secret();
        let from: Mailbox =
            s.from.parse().with_context(|| format!("channels.smtp.from {:?} is not a mailbox", s.from))?;
        let timeout = Duration::from_millis(s.timeout_ms.max(1));
        // The URL may hold a password: errors name its scheme only.
        let builder = match plain_relay(url) {
            Some((host, port)) => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port),
            None => AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| {
                let scheme = url.split("://").next().unwrap_or("");
                anyhow::anyhow!("channels.smtp.url ({scheme}://…) is not a relay URL: {e}")
            })?,
        };
        let transport =
            builder.timeout(Some(timeout)).pool_config(PoolConfig::new().max_size(s.pool_size.max(1))).build();
        Ok(Some(Self { transport, from, timeout }))
    }

    /// Sends one plain-text message to `to`.
    pub async fn send(&self, to: &str, subject: &str, text_body: &str) -> Outcome {
        let to: Mailbox = match to.parse() {
            Ok(m) => m,
            Err(e) => return Outcome::failed(format!("not an email address: {e}")),
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(None)
            .header(ContentType::TEXT_PLAIN)
            .body(text_body.to_string());
        let message = match message {
            Ok(m) => m,
            Err(e) => return Outcome::failed(format!("cannot build the message: {e}")),
        };
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Err(_) => Outcome::retry("SMTP: timed out"),
            Ok(Ok(answer)) => {
                let text: Vec<&str> = answer.message().collect();
                Outcome::Sent { provider_id: format!("{} {}", answer.code(), text.join(" ")).trim().to_string() }
            }
            Ok(Err(e)) => classify(&e),
        }
    }
}

/// Reply codes that say our credentials are wrong (RFC 4954): the whole lane is at fault.
const AUTH_REFUSED: [&str; 4] = ["530", "534", "535", "538"];

/// 5xx: permanent for this message (authentication refusals: halt); 4xx, lost or refused
/// connections, timeouts: try again later.
pub(crate) fn classify(e: &lettre::transport::smtp::Error) -> Outcome {
    let reason = format!("SMTP: {e}");
    match e.status().map(|c| c.to_string()) {
        Some(code) if e.is_permanent() && AUTH_REFUSED.contains(&code.as_str()) => Outcome::halt(reason),
        Some(_) if e.is_permanent() => Outcome::failed(reason),
        Some(_) => Outcome::retry(reason),
        // Our side could not build or encode what it sent: not for a retry.
        None if e.is_client() => Outcome::failed(reason),
        None => Outcome::retry(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn plain_urls_are_local_relays_without_tls() {
        assert_eq!(plain_relay("smtp://127.0.0.1:2525"), Some(("127.0.0.1".into(), 2525)));
        assert_eq!(plain_relay("smtp://mail.local/"), Some(("mail.local".into(), 25)));
        assert_eq!(plain_relay("smtp://[::1]:2525"), Some(("::1".into(), 2525)));
        assert_eq!(plain_relay("smtp://relay:587?tls=required"), None);
        assert_eq!(plain_relay("smtp://user:pw@relay:25"), None);
        assert_eq!(plain_relay("smtps://relay:465"), None);
        assert_eq!(plain_relay("smtp://relay:port"), None);
    }

    fn settings(url: Option<&str>) -> SmtpSettings {
        SmtpSettings {
            url: url.map(|u| SecretString::from(u.to_string())),
            from: "Đoàn TNCS Hồ Chí Minh <thongbao@doan.local>".into(),
            pool_size: 2,
            timeout_ms: 1000,
        }
    }

    #[tokio::test]
    async fn the_mailer_is_off_without_a_url_and_reads_every_kind_of_url() {
        assert!(Mailer::new(&settings(None)).unwrap().is_none());
        for url in ["smtp://127.0.0.1:2525", "smtp://relay:587?tls=required", "smtps://u:p%40ss@relay:465"] {
            assert!(Mailer::new(&settings(Some(url))).unwrap().is_some(), "{url}");
        }
        let err = Mailer::new(&settings(Some("ftp://user:secret@relay"))).unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
