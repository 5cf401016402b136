//! Apple Push Notification service, token-based: one ES256 provider token shared by every
//! connection, re-signed every 40 minutes; `POST /3/device/<token>` over HTTP/2.

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use doan_platform::clock::Clock;
use doan_platform::config::ApnsSettings;
use http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::Full;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::{HttpPool, Outcome, Push, retry_after, snippet};

/// A provider token is re-signed when it is this old (Apple: not more often than every 20 min,
/// at least every 60 min).
pub const RESIGN_AFTER: TimeDelta = TimeDelta::minutes(40);
/// Largest payload APNs accepts for an alert.
pub const MAX_PAYLOAD: usize = 4096;
/// Longest `apns-collapse-id`.
pub const MAX_COLLAPSE_ID: usize = 64;

const APNS_TOPIC: HeaderName = HeaderName::from_static("apns-topic");
const APNS_PUSH_TYPE: HeaderName = HeaderName::from_static("apns-push-type");
const APNS_PRIORITY: HeaderName = HeaderName::from_static("apns-priority");
const APNS_EXPIRATION: HeaderName = HeaderName::from_static("apns-expiration");
const APNS_ID: HeaderName = HeaderName::from_static("apns-id");
const APNS_COLLAPSE_ID: HeaderName = HeaderName::from_static("apns-collapse-id");

/// The APNs adapter (iOS pushes). Cheap to share: hold it in an `Arc`.
pub struct Apns {
    production: Endpoint,
    sandbox: Endpoint,
    /// Caps the requests in flight to both endpoints together (`max_in_flight`).
    permits: tokio::sync::Semaphore,
    topic: HeaderValue,
    signer: ProviderTokens,
    clock: Clock,
}

impl std::fmt::Debug for Apns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apns")
            .field("production", &self.production.base)
            .field("sandbox", &self.sandbox.base)
            .field("topic", &self.topic)
            .field("key_id", &self.signer.key_id)
            .finish()
    }
}

struct Endpoint {
    base: String,
    http: HttpPool,
}

/// The signing key and the current provider token.
struct ProviderTokens {
    key: EncodingKey,
    key_id: String,
    team_id: String,
    current: std::sync::RwLock<Option<ProviderToken>>,
    /// Serialises re-signing, so that concurrent requests share one new token.
    signing: std::sync::Mutex<()>,
}

#[derive(Clone)]
struct ProviderToken {
    /// `bearer <jwt>`, marked sensitive.
    bearer: HeaderValue,
    iat: DateTime<Utc>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: i64,
}

impl Apns {
    /// The adapter, or `None` when `key_file` is unset. Fails when the key cannot be read or
    /// cannot sign, or a URL or the topic is malformed.
    pub fn new(s: &ApnsSettings, clock: Clock) -> anyhow::Result<Option<Self>> {
        let Some(path) = &s.key_file else { return Ok(None) };
        let pem = std::fs::read(path).with_context(|| format!("reading the APNs key file {}", path.display()))?;
        let key = EncodingKey::from_ec_pem(&pem)
            .with_context(|| format!("{} is not a PKCS#8 P-256 key (.p8)", path.display()))?;
        anyhow::ensure!(!s.key_id.is_empty(), "channels.apns.key_id is required with key_file");
        anyhow::ensure!(!s.team_id.is_empty(), "channels.apns.team_id is required with key_file");
        let topic = HeaderValue::from_str(&s.topic).context("channels.apns.topic is not a valid header value")?;
        anyhow::ensure!(!s.topic.is_empty(), "channels.apns.topic is required with key_file");
        let signer = ProviderTokens {
            key,
            key_id: s.key_id.clone(),
            team_id: s.team_id.clone(),
            current: std::sync::RwLock::new(None),
            signing: std::sync::Mutex::new(()),
        };
        // Sign once now, so that a key that cannot sign stops the start, not the first push.
        signer.sign(clock.now()).context("signing with the APNs key")?;
        let timeout = Duration::from_millis(s.timeout_ms.max(1));
        let endpoint = |url: &str| -> anyhow::Result<Endpoint> {
            let base = url.trim_end_matches('/').to_string();
            let _: http::Uri = format!("{base}/3/device/00").parse().with_context(|| format!("APNs URL {url}"))?;
            Ok(Endpoint { base, http: HttpPool::new(s.connections, timeout) })
        };
        Ok(Some(Self {
            production: endpoint(&s.production_url)?,
            sandbox: endpoint(&s.sandbox_url)?,
            permits: tokio::sync::Semaphore::new(s.max_in_flight.max(1)),
            topic,
            signer,
            clock,
        }))
    }

    /// Sends one push to the production endpoint, or the sandbox one for development builds.
    /// A 403 `ExpiredProviderToken` re-signs the token and tries once more.
    pub async fn send(&self, p: &Push, sandbox: bool) -> Outcome {
        let endpoint = if sandbox { &self.sandbox } else { &self.production };
        if p.token.is_empty() || p.token.len() > 400 || !p.token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Outcome::gone("BadDeviceToken: not a hexadecimal device token");
        }
        let now = self.clock.now();
        if p.expires_at.is_some_and(|at| at <= now) {
            return Outcome::failed("expired before it could be sent");
        }
        let body = match payload(p) {
            Ok(b) if b.len() > MAX_PAYLOAD => {
                return Outcome::failed(format!("PayloadTooLarge: {} bytes (at most {MAX_PAYLOAD})", b.len()));
            }
            Ok(b) => b,
            Err(e) => return Outcome::failed(format!("cannot serialise the payload: {e}")),
        };
        let Ok(_permit) = self.permits.acquire().await else { return Outcome::retry("APNs lane closed") };
        let bearer = match self.signer.bearer(self.clock.now(), None) {
            Ok(b) => b,
            Err(o) => return o,
        };
        match self.post(endpoint, p, &body, bearer.clone()).await {
            Answer::Done(o) => o,
            Answer::ExpiredProviderToken(reason) => {
                let fresh = match self.signer.bearer(self.clock.now(), Some(&bearer)) {
                    Ok(b) => b,
                    Err(o) => return o,
                };
                match self.post(endpoint, p, &body, fresh).await {
                    Answer::Done(o) => o,
                    Answer::ExpiredProviderToken(again) => {
                        Outcome::halt(format!("{again} right after re-signing (first: {reason}); is the clock right?"))
                    }
                }
            }
        }
    }

    fn request(&self, endpoint: &Endpoint, p: &Push) -> Result<http::request::Builder, Outcome> {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/3/device/{}", endpoint.base, p.token))
            .header(APNS_TOPIC, self.topic.clone())
            .header(APNS_PUSH_TYPE, HeaderValue::from_static("alert"))
            .header(APNS_PRIORITY, HeaderValue::from_static(if p.urgent { "10" } else { "5" }))
            .header(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(at) = p.expires_at {
            req = req.header(APNS_EXPIRATION, at.timestamp().max(0));
        }
        // Apple takes a UUID only; without one it makes its own.
        if let Ok(id) = uuid::Uuid::try_parse(&p.id) {
            req = req.header(APNS_ID, id.hyphenated().to_string());
        }
        if let Some(c) = &p.collapse_id {
            if c.len() > MAX_COLLAPSE_ID {
                return Err(Outcome::failed(format!("BadCollapseId: longer than {MAX_COLLAPSE_ID} bytes")));
            }
            let c = HeaderValue::from_str(c).map_err(|_| Outcome::failed("BadCollapseId: not a header value"))?;
            req = req.header(APNS_COLLAPSE_ID, c);
        }
        Ok(req)
    }

    async fn post(&self, endpoint: &Endpoint, p: &Push, body: &Bytes, bearer: HeaderValue) -> Answer {
        let req = match self.request(endpoint, p) {
            Ok(r) => r,
            Err(o) => return Answer::Done(o),
        };
        let req = match req.header(header::AUTHORIZATION, bearer).body(Full::new(body.clone())) {
            Ok(r) => r,
            Err(e) => return Answer::Done(Outcome::failed(format!("cannot build the APNs request: {e}"))),
        };
        match endpoint.http.send(req).await {
            Err(e) => Answer::Done(e.into_outcome("APNs")),
            Ok(resp) => {
                let apns_id = resp.headers.get(APNS_ID).and_then(|v| v.to_str().ok()).unwrap_or(&p.id);
                let after = retry_after(&resp.headers, self.clock.now());
                classify(resp.status, after, &resp.body, apns_id)
            }
        }
    }
}

/// What one request came to: an outcome, or a token to re-sign.
#[derive(Debug, PartialEq)]
pub(crate) enum Answer {
    Done(Outcome),
    ExpiredProviderToken(String),
}

impl ProviderTokens {
    fn sign(&self, now: DateTime<Utc>) -> anyhow::Result<ProviderToken> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let jwt = jsonwebtoken::encode(&header, &Claims { iss: &self.team_id, iat: now.timestamp() }, &self.key)?;
        let mut bearer = HeaderValue::from_str(&format!("bearer {jwt}"))?;
        bearer.set_sensitive(true);
        Ok(ProviderToken { bearer, iat: now })
    }

    /// The shared token; re-signed when 40 min old (or dated after `now`: the clock went
    /// back), or when it is `stale` (APNs answered ExpiredProviderToken to it).
    fn bearer(&self, now: DateTime<Utc>, stale: Option<&HeaderValue>) -> Result<HeaderValue, Outcome> {
        if let Some(b) = self.usable(now, stale) {
            return Ok(b);
        }
        let _signing = self.signing.lock().map_err(|_| Outcome::retry("APNs signer poisoned"))?;
        if let Some(b) = self.usable(now, stale) {
            return Ok(b);
        }
        let token = self.sign(now).map_err(|e| Outcome::halt(format!("cannot sign the APNs provider token: {e}")))?;
        let bearer = token.bearer.clone();
        if let Ok(mut current) = self.current.write() {
            *current = Some(token);
        }
        Ok(bearer)
    }

    fn usable(&self, now: DateTime<Utc>, stale: Option<&HeaderValue>) -> Option<HeaderValue> {
        let current = self.current.read().ok()?;
        let t = current.as_ref()?;
        let fresh = now - t.iat < RESIGN_AFTER && t.iat <= now + TimeDelta::minutes(1);
        (fresh && stale != Some(&t.bearer)).then(|| t.bearer.clone())
    }
}

/// `{"aps": {"alert": {"title", "body"}, "sound": "default"}, custom keys…}`.
pub(crate) fn payload(p: &Push) -> serde_json::Result<Bytes> {
    let mut root = serde_json::Map::with_capacity(p.data.len() + 1);
    root.insert("aps".into(), serde_json::json!({"alert": {"title": p.title, "body": p.body}, "sound": "default"}));
    for (k, v) in &p.data {
        if k != "aps" {
            root.insert(k.clone(), serde_json::Value::String(v.clone()));
        }
    }
    serde_json::to_vec(&root).map(Bytes::from)
}

#[derive(Deserialize, Default)]
struct Refusal {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    timestamp: Option<i64>,
}

/// Classifies an APNs answer per Apple's table (see the design memo).
pub(crate) fn classify(status: StatusCode, after: Option<Duration>, body: &[u8], apns_id: &str) -> Answer {
    if status == StatusCode::OK {
        return Answer::Done(Outcome::Sent { provider_id: apns_id.to_string() });
    }
    let refusal: Refusal = serde_json::from_slice(body).unwrap_or_default();
    let reason = if refusal.reason.is_empty() {
        format!("APNs {}: {}", status.as_u16(), snippet(body, 200))
    } else {
        format!("APNs {} {}", status.as_u16(), refusal.reason)
    };
    Answer::Done(match (status.as_u16(), refusal.reason.as_str()) {
        (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => {
            Outcome::gone(format!("{reason} (or a sandbox token sent to production, or the reverse)"))
        }
        (403, "ExpiredProviderToken") => return Answer::ExpiredProviderToken(reason),
        (403, _) => Outcome::halt(reason),
        (410, _) => Outcome::gone(match refusal.timestamp {
            Some(ms) => format!("{reason} (timestamp {ms})"),
            None => reason,
        }),
        (413, _) => Outcome::failed(reason),
        (429, _) | (500..=599, _) => Outcome::Retry { after, reason },
        _ => Outcome::failed(reason),
    })
}

/// Apple's `timestamp` (ms since the epoch) in a [`Outcome::DeviceGone`] reason: the device
/// should be removed only if it did not register again after it.
pub fn gone_since(reason: &str) -> Option<DateTime<Utc>> {
    let ms = reason.split("(timestamp ").nth(1)?.split(')').next()?.trim().parse::<i64>().ok()?;
    DateTime::from_timestamp_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(code: u16, body: &str) -> Answer {
        classify(StatusCode::from_u16(code).unwrap(), None, body.as_bytes(), "id-1")
    }

    fn done(a: Answer) -> Outcome {
        match a {
            Answer::Done(o) => o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn apple_answers_map_to_outcomes() {
        assert_eq!(done(class(200, "")), Outcome::Sent { provider_id: "id-1".into() });
        assert!(matches!(done(class(400, r#"{"reason":"BadDeviceToken"}"#)), Outcome::DeviceGone { .. }));
        assert!(matches!(done(class(400, r#"{"reason":"DeviceTokenNotForTopic"}"#)), Outcome::DeviceGone { .. }));
        assert!(matches!(done(class(400, r#"{"reason":"BadExpirationDate"}"#)), Outcome::Failed { .. }));
        assert!(matches!(class(403, r#"{"reason":"ExpiredProviderToken"}"#), Answer::ExpiredProviderToken(_)));
        assert!(matches!(done(class(403, r#"{"reason":"InvalidProviderToken"}"#)), Outcome::Halt { .. }));
        assert!(matches!(done(class(403, r#"{"reason":"Forbidden"}"#)), Outcome::Halt { .. }));
        assert!(matches!(done(class(413, r#"{"reason":"PayloadTooLarge"}"#)), Outcome::Failed { .. }));
        assert!(matches!(done(class(429, r#"{"reason":"TooManyRequests"}"#)), Outcome::Retry { .. }));
        assert!(matches!(done(class(500, r#"{"reason":"InternalServerError"}"#)), Outcome::Retry { .. }));
        assert!(matches!(done(class(503, r#"{"reason":"ServiceUnavailable"}"#)), Outcome::Retry { .. }));
        assert!(matches!(done(class(502, "<html>")), Outcome::Retry { .. }));
        let gone = done(class(410, r#"{"reason":"Unregistered","timestamp":1700000000123}"#));
        let Outcome::DeviceGone { reason } = gone else { panic!() };
        assert_eq!(gone_since(&reason), DateTime::from_timestamp_millis(1_700_000_000_123));
        assert!(matches!(done(class(410, r#"{"reason":"ExpiredToken"}"#)), Outcome::DeviceGone { .. }));
    }

    #[test]
    fn the_payload_puts_custom_keys_beside_aps() {
        let p = Push {
            id: "d1".into(),
            token: "ab".into(),
            title: "Thông báo".into(),
            body: "Đại hội".into(),
            data: vec![("notice_id".into(), "n1".into()), ("aps".into(), "ignored".into())],
            urgent: false,
            expires_at: None,
            collapse_id: None,
        };
        let v: serde_json::Value = serde_json::from_slice(&payload(&p).unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"aps": {"alert": {"title": "Thông báo", "body": "Đại hội"}, "sound": "default"}, "notice_id": "n1"})
        );
    }
}
