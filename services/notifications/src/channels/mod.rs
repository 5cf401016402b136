//! Provider adapters (FCM HTTP v1, APNs, SMTP): the only room that speaks their protocols.
//!
//! Each adapter turns one message into one [`Outcome`]; what to do with it (retry later, drop
//! the device, pause the lane) is the dispatcher's business. See
//! `docs/design/notification-channels.md` for the protocols and where the rules come from.
//!
//! The HTTP adapters use hyper's legacy `Client` over a rustls connector with ALPN `h2` and
//! `http2_only`: TLS with HTTP/2 to Google and Apple, HTTP/2 with prior knowledge (h2c) to the
//! local fakes on `http://127.0.0.1:…`. Each adapter keeps a small pool of clients (one
//! HTTP/2 connection each per host), picked round-robin, and a semaphore capping the requests
//! in flight. Tokens and keys are never logged.

pub mod apns;
pub mod fcm;
pub mod smtp;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use doan_platform::clock::Clock;
use doan_platform::config::ChannelsSettings;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

pub use apns::Apns;
pub use fcm::Fcm;
pub use smtp::Mailer;

/// What became of one message at one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the provider; provider_id = FCM message name / apns-id / SMTP queue answer.
    Sent {
        /// The provider's name for the message.
        provider_id: String,
    },
    /// Transient (429, 503, 500, timeouts, connection loss, SMTP 4xx): try again later; `after`
    /// is the provider's Retry-After when it gave one (FCM QUOTA_EXCEEDED: at least 60 s).
    Retry {
        /// The provider's own delay, when it gave one.
        after: Option<Duration>,
        /// Why, for `last_error`.
        reason: String,
    },
    /// The token/address is dead for good (FCM UNREGISTERED, SENDER_ID_MISMATCH,
    /// INVALID_ARGUMENT about the token; APNs BadDeviceToken, DeviceTokenNotForTopic, 410
    /// Unregistered/ExpiredToken): remove the device.
    DeviceGone {
        /// Why (for APNs 410, the reason carries Apple's `timestamp` in milliseconds).
        reason: String,
    },
    /// Permanent for this message (payload too large, other 400s, SMTP 5xx for the recipient).
    Failed {
        /// Why.
        reason: String,
    },
    /// Our configuration is wrong (FCM THIRD_PARTY_AUTH_ERROR, APNs
    /// InvalidProviderToken/Forbidden, token endpoint refusing our key): stop the lane, alert.
    Halt {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    pub(crate) fn retry(reason: impl Into<String>) -> Self {
        Outcome::Retry { after: None, reason: reason.into() }
    }

    pub(crate) fn failed(reason: impl Into<String>) -> Self {
        Outcome::Failed { reason: reason.into() }
    }

    pub(crate) fn halt(reason: impl Into<String>) -> Self {
        Outcome::Halt { reason: reason.into() }
    }

    pub(crate) fn gone(reason: impl Into<String>) -> Self {
        Outcome::DeviceGone { reason: reason.into() }
    }
}

/// One push notification to one device. Its `Debug` shows only the start of the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Push {
    /// Our delivery id (a UUID) → `apns-id`.
    pub id: String,
    /// Device token.
    pub token: String,
    /// Title shown.
    pub title: String,
    /// Text shown.
    pub body: String,
    /// e.g. `("notice_id", …)`, `("broadcast_id", …)`; FCM `data`, APNs custom keys beside `aps`.
    pub data: Vec<(String, String)>,
    /// APNs priority 10 vs 5; FCM android priority HIGH vs NORMAL.
    pub urgent: bool,
    /// APNs `apns-expiration`, FCM `android.ttl`.
    pub expires_at: Option<DateTime<Utc>>,
    /// APNs `apns-collapse-id`, FCM `android.collapse_key`.
    pub collapse_id: Option<String>,
}

impl std::fmt::Debug for Push {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.token.char_indices().nth(8).map_or(self.token.as_str(), |(i, _)| &self.token[..i]);
        f.debug_struct("Push")
            .field("id", &self.id)
            .field("token", &format_args!("{shown}…"))
            .field("title", &self.title)
            .field("body", &self.body)
            .field("data", &self.data)
            .field("urgent", &self.urgent)
            .field("expires_at", &self.expires_at)
            .field("collapse_id", &self.collapse_id)
            .finish()
    }
}

/// Every provider whose credentials are set; `None` for those that are off.
pub struct Channels {
    /// Firebase Cloud Messaging (Android).
    pub fcm: Option<Fcm>,
    /// Apple Push Notification service (iOS).
    pub apns: Option<Apns>,
    /// Email.
    pub mail: Option<Mailer>,
}

impl Channels {
    /// Builds the adapters of every provider that has credentials; fails on unreadable keys or
    /// malformed URLs (at start, not at the first message).
    pub fn from_settings(s: &ChannelsSettings, clock: Clock) -> anyhow::Result<Self> {
        Ok(Self {
            fcm: Fcm::new(&s.fcm, clock.clone())?,
            apns: Apns::new(&s.apns, clock)?,
            mail: Mailer::new(&s.smtp)?,
        })
    }
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A round-robin pool of HTTP/2 clients (one connection per host each) with a timeout per
/// request. The cap on requests in flight is the adapter's (one semaphore per adapter).
pub(crate) struct HttpPool {
    clients: Vec<HttpClient>,
    next: AtomicUsize,
    timeout: Duration,
}

/// A response read whole.
pub(crate) struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why no response came.
#[derive(Debug)]
pub(crate) enum HttpError {
    Timeout,
    Transport(String),
}

impl HttpError {
    pub(crate) fn into_outcome(self, what: &str) -> Outcome {
        match self {
            HttpError::Timeout => Outcome::retry(format!("{what}: timed out")),
            HttpError::Transport(e) => Outcome::retry(format!("{what}: {e}")),
        }
    }
}

impl HttpPool {
    pub(crate) fn new(connections: usize, timeout: Duration) -> Self {
        let clients = (0..connections.max(1))
            .map(|_| {
                let mut http = HttpConnector::new();
                http.enforce_http(false);
                http.set_nodelay(true);
                http.set_connect_timeout(Some(timeout));
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_webpki_roots()
                    .https_or_http()
                    .enable_http2()
                    .wrap_connector(http);
                Client::builder(TokioExecutor::new())
                    .http2_only(true)
                    .timer(TokioTimer::new())
                    .pool_timer(TokioTimer::new())
                    .http2_keep_alive_interval(Duration::from_secs(30))
                    .http2_keep_alive_timeout(Duration::from_secs(10))
                    .pool_idle_timeout(Duration::from_secs(600))
                    .build(https)
            })
            .collect();
        Self { clients, next: AtomicUsize::new(0), timeout }
    }

    /// Sends `req` on the next client and reads the whole answer, within the timeout.
    pub(crate) async fn send(&self, req: Request<Full<Bytes>>) -> Result<HttpResponse, HttpError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len();
        let client = &self.clients[i];
        let exchange = async {
            let resp = client.request(req).await.map_err(|e| HttpError::Transport(describe(&e)))?;
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.map_err(|e| HttpError::Transport(describe(&e)))?.to_bytes();
            Ok(HttpResponse { status: parts.status, headers: parts.headers, body })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::Timeout),
        }
    }
}

/// An error and its causes on one line (hyper's own message is often just "client error").
fn describe(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date (IMF-fixdate, or the
/// obsolete RFC 850 and asctime forms); a date in the past is no delay.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(value, "%A, %d-%b-%y %H:%M:%S GMT").ok().map(|t| t.and_utc()))
        .or_else(|| {
            let squeezed = value.split_whitespace().collect::<Vec<_>>().join(" ");
            NaiveDateTime::parse_from_str(&squeezed, "%a %b %d %H:%M:%S %Y").ok().map(|t| t.and_utc())
        })?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The `Retry-After` of a response, if any.
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    headers.get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, now))
}

/// At most `max` characters of a provider's answer, for reasons stored in `last_error`.
pub(crate) fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = t("1994-11-06T08:49:00Z");
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(37)));
        assert_eq!(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), Some(Duration::from_secs(37)));
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:37 1994", now), Some(Duration::from_secs(37)));
        // A date already past means "now".
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn snippets_are_cut_on_characters() {
        assert_eq!(snippet("Đoàn".as_bytes(), 2), "Đo…");
        assert_eq!(snippet(b"  ok ", 10), "ok");
    }

    #[test]
    fn a_push_prints_only_the_start_of_its_token() {
        let p = Push {
            id: "d".into(),
            token: "0123456789abcdef0123".into(),
            title: String::new(),
            body: String::new(),
            data: vec![],
            urgent: false,
            expires_at: None,
            collapse_id: None,
        };
        let shown = format!("{p:?}");
        assert!(shown.contains("token: 01234567…") && !shown.contains("89abcdef"), "{shown}");
    }

    #[test]
    fn adapters_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Fcm>();
        check::<Apns>();
        check::<Mailer>();
        check::<Channels>();
    }
}
