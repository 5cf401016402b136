//! Firebase Cloud Messaging HTTP v1: one request per token, authorised by an OAuth2 access
//! token obtained with the service account's key (RS256 JWT bearer grant, RFC 7523).

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use doan_platform::clock::Clock;
use doan_platform::config::FcmSettings;
use http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::Full;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::{HttpPool, Outcome, Push, retry_after, snippet};

/// The OAuth scope FCM sends require.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Google's token endpoint, when the key file names none.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Lifetime asked of the signed assertion (the most Google accepts).
const ASSERTION_SECS: i64 = 3600;
/// An access token is renewed this long before it expires.
const RENEW_BEFORE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// Least delay after QUOTA_EXCEEDED.
pub const QUOTA_FLOOR: Duration = Duration::from_secs(60);

/// The FCM adapter (Android pushes). Cheap to share: hold it in an `Arc`.
pub struct Fcm {
    http: HttpPool,
    /// Caps the requests in flight (`max_in_flight`).
    permits: tokio::sync::Semaphore,
    send_uri: Uri,
    auth: ServiceAccount,
    clock: Clock,
}

impl std::fmt::Debug for Fcm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fcm").field("send_uri", &self.send_uri).field("client_email", &self.auth.client_email).finish()
    }
}

/// The fields of a service account's JSON key file this adapter reads.
#[derive(Deserialize)]
struct KeyFile {
    project_id: String,
    client_email: String,
    private_key: String,
    #[serde(default)]
    token_uri: Option<String>,
}

/// The service account and its cached access token.
struct ServiceAccount {
    client_email: String,
    key: EncodingKey,
    token_url: String,
    token_uri: Uri,
    current: std::sync::RwLock<Option<AccessToken>>,
    /// Held by the one task renewing the token; the others wait on it, then take its token,
    /// or its failure (so that a dead token endpoint is asked once, not once per waiter).
    renewing: tokio::sync::Mutex<Option<Outcome>>,
    /// Renewals attempted so far.
    attempts: std::sync::atomic::AtomicU64,
}

#[derive(Clone)]
struct AccessToken {
    /// `Bearer …`, marked sensitive.
    bearer: HeaderValue,
    /// When to fetch a new one (5 min before expiry, or half-way for short lifetimes).
    renew_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    token_type: Option<String>,
}

#[derive(Deserialize)]
struct TokenRefusal {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

impl Fcm {
    /// The adapter, or `None` when `credentials_file` is unset. Fails when the key file cannot
    /// be read or its key cannot sign.
    pub fn new(s: &FcmSettings, clock: Clock) -> anyhow::Result<Option<Self>> {
        let Some(path) = &s.credentials_file else { return Ok(None) };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the FCM service-account key file {}", path.display()))?;
        let file: KeyFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a service-account key file", path.display()))?;
        let key = EncodingKey::from_rsa_pem(file.private_key.as_bytes())
            .context("the FCM service-account private_key is not an RSA PEM key")?;
        let token_url = s.token_url.clone().or(file.token_uri.clone()).unwrap_or_else(|| GOOGLE_TOKEN_URL.to_string());
        let token_uri: Uri = token_url.parse().with_context(|| format!("FCM token URL {token_url}"))?;
        let base = s.base_url.trim_end_matches('/');
        let send_uri: Uri = format!("{base}/v1/projects/{}/messages:send", file.project_id)
            .parse()
            .with_context(|| format!("FCM base URL {base} with project {}", file.project_id))?;
        let auth = ServiceAccount {
            client_email: file.client_email,
            key,
            token_url,
            token_uri,
            current: std::sync::RwLock::new(None),
            renewing: tokio::sync::Mutex::new(None),
            attempts: std::sync::atomic::AtomicU64::new(0),
        };
        // Sign once now, so that a key that cannot sign stops the start, not the first push.
        auth.assertion(clock.now()).context("signing with the FCM service-account key")?;
        let timeout = Duration::from_millis(s.timeout_ms.max(1));
        Ok(Some(Self {
            http: HttpPool::new(s.connections, timeout),
            permits: tokio::sync::Semaphore::new(s.max_in_flight.max(1)),
            send_uri,
            auth,
            clock,
        }))
    }

    /// Sends one push. A 401 without FCM detail (our access token) renews the token and tries
    /// once more.
    pub async fn send(&self, p: &Push) -> Outcome {
        let now = self.clock.now();
        let ttl = match p.expires_at {
            Some(at) if at <= now => return Outcome::failed("expired before it could be sent"),
            Some(at) => Some((at - now).num_seconds().max(1)),
            None => None,
        };
        let body = match message_body(p, ttl) {
            Ok(b) => b,
            Err(e) => return Outcome::failed(format!("cannot serialise the message: {e}")),
        };
        let Ok(_permit) = self.permits.acquire().await else { return Outcome::retry("FCM lane closed") };
        let bearer = match self.auth.bearer(&self.http, &self.clock, None).await {
            Ok(b) => b,
            Err(o) => return o,
        };
        let mut outcome = self.post(&body, bearer.clone()).await;
        if let Err(Unauthenticated(_)) = outcome {
            let fresh = match self.auth.bearer(&self.http, &self.clock, Some(&bearer)).await {
                Ok(b) => b,
                Err(o) => return o,
            };
            outcome = self.post(&body, fresh).await;
        }
        match outcome {
            Ok(o) => o,
            Err(Unauthenticated(reason)) => Outcome::halt(format!("FCM refuses our access token: {reason}")),
        }
    }

    async fn post(&self, body: &Bytes, bearer: HeaderValue) -> Result<Outcome, Unauthenticated> {
        let req = Request::builder()
            .method(Method::POST)
            .uri(self.send_uri.clone())
            .header(header::AUTHORIZATION, bearer)
            .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
            .body(Full::new(body.clone()));
        let req = match req {
            Ok(r) => r,
            Err(e) => return Ok(Outcome::failed(format!("cannot build the FCM request: {e}"))),
        };
        match self.http.send(req).await {
            Err(e) => Ok(e.into_outcome("FCM")),
            Ok(resp) => {
                let after = retry_after(&resp.headers, self.clock.now());
                classify(resp.status, after, &resp.body)
            }
        }
    }
}

/// A 401 that is about our access token (no FcmError detail): renew and try once more.
#[derive(Debug, PartialEq)]
pub(crate) struct Unauthenticated(String);

impl ServiceAccount {
    fn assertion(&self, now: DateTime<Utc>) -> jsonwebtoken::errors::Result<String> {
        let iat = now.timestamp();
        let claims =
            Assertion { iss: &self.client_email, scope: SCOPE, aud: &self.token_url, iat, exp: iat + ASSERTION_SECS };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
    }

    /// The current access token; renewed when it is due, or when it is `stale` (refused by
    /// FCM). One task renews; the others wait for it and take its token, or its failure.
    async fn bearer(
        &self,
        http: &HttpPool,
        clock: &Clock,
        stale: Option<&HeaderValue>,
    ) -> Result<HeaderValue, Outcome> {
        use std::sync::atomic::Ordering;
        if let Some(t) = self.usable(clock.now(), stale) {
            return Ok(t);
        }
        let seen = self.attempts.load(Ordering::Acquire);
        let mut last_failure = self.renewing.lock().await;
        if let Some(t) = self.usable(clock.now(), stale) {
            return Ok(t);
        }
        if self.attempts.load(Ordering::Acquire) != seen
            && let Some(failure) = last_failure.as_ref()
        {
            return Err(failure.clone());
        }
        let fetched = self.fetch(http, clock).await;
        self.attempts.fetch_add(1, Ordering::Release);
        match fetched {
            Ok(token) => {
                *last_failure = None;
                let bearer = token.bearer.clone();
                if let Ok(mut current) = self.current.write() {
                    *current = Some(token);
                }
                Ok(bearer)
            }
            Err(failure) => {
                *last_failure = Some(failure.clone());
                Err(failure)
            }
        }
    }

    fn usable(&self, now: DateTime<Utc>, stale: Option<&HeaderValue>) -> Option<HeaderValue> {
        let current = self.current.read().ok()?;
        let t = current.as_ref()?;
        (now < t.renew_at && stale != Some(&t.bearer)).then(|| t.bearer.clone())
    }

    async fn fetch(&self, http: &HttpPool, clock: &Clock) -> Result<AccessToken, Outcome> {
        let now = clock.now();
        let assertion =
            self.assertion(now).map_err(|e| Outcome::halt(format!("cannot sign the FCM token request: {e}")))?;
        let form = format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}");
        let req = Request::builder()
            .method(Method::POST)
            .uri(self.token_uri.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| Outcome::halt(format!("cannot build the FCM token request: {e}")))?;
        let resp = http.send(req).await.map_err(|e| e.into_outcome("FCM token endpoint"))?;
        token_from_answer(resp.status, &resp.body, retry_after(&resp.headers, now), clock.now())
    }
}

/// Reads the token endpoint's answer: the token, or what to do without one.
fn token_from_answer(
    status: StatusCode,
    body: &[u8],
    after: Option<Duration>,
    now: DateTime<Utc>,
) -> Result<AccessToken, Outcome> {
    if status.is_success() {
        let answer: TokenAnswer = serde_json::from_slice(body)
            .map_err(|e| Outcome::retry(format!("FCM token endpoint answered {status} without a token: {e}")))?;
        if answer.token_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("bearer")) {
            return Err(Outcome::halt("FCM token endpoint answered a token that is not a Bearer token"));
        }
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", answer.access_token))
            .map_err(|_| Outcome::retry("FCM token endpoint answered an unusable token"))?;
        bearer.set_sensitive(true);
        let lifetime = chrono::TimeDelta::seconds(answer.expires_in.unwrap_or(3600).max(0));
        let margin = RENEW_BEFORE.min(lifetime / 2);
        return Ok(AccessToken { bearer, renew_at: now + lifetime - margin });
    }
    let refusal: Option<TokenRefusal> = serde_json::from_slice(body).ok();
    let detail = match refusal {
        Some(TokenRefusal { error: Some(e), error_description: d }) => match d {
            Some(d) => format!("{e}: {d}"),
            None => e,
        },
        _ => snippet(body, 200),
    };
    let reason = format!("FCM token endpoint answered {status}: {detail}");
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        Err(Outcome::Retry { after, reason })
    } else {
        Err(Outcome::halt(reason))
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    message: Message<'a>,
}

#[derive(Serialize)]
struct Message<'a> {
    token: &'a str,
    notification: Notification<'a>,
    #[serde(skip_serializing_if = "no_data", serialize_with = "as_map")]
    data: &'a [(String, String)],
    android: Android<'a>,
}

#[derive(Serialize)]
struct Notification<'a> {
    title: &'a str,
    body: &'a str,
}

#[derive(Serialize)]
struct Android<'a> {
    priority: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    collapse_key: Option<&'a str>,
}

fn no_data(data: &&[(String, String)]) -> bool {
    data.is_empty()
}

fn as_map<S: serde::Serializer>(data: &&[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(data.iter().map(|(k, v)| (k, v)))
}

/// The `messages:send` body: `{"message": {"token", "notification", "data", "android"}}`.
pub(crate) fn message_body(p: &Push, ttl_secs: Option<i64>) -> serde_json::Result<Bytes> {
    let envelope = Envelope {
        message: Message {
            token: &p.token,
            notification: Notification { title: &p.title, body: &p.body },
            data: &p.data,
            android: Android {
                priority: if p.urgent { "HIGH" } else { "NORMAL" },
                ttl: ttl_secs.map(|s| format!("{s}s")),
                collapse_key: p.collapse_id.as_deref(),
            },
        },
    };
    serde_json::to_vec(&envelope).map(Bytes::from)
}

#[derive(Deserialize, Default)]
struct ErrorEnvelope {
    #[serde(default)]
    error: ErrorBody,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<serde_json::Value>,
}

/// The `errorCode` of the FcmError detail, if any.
fn error_code(e: &ErrorBody) -> Option<&str> {
    e.details.iter().find_map(|d| {
        let ty = d.get("@type")?.as_str()?;
        if ty.ends_with("google.firebase.fcm.v1.FcmError") { d.get("errorCode")?.as_str() } else { None }
    })
}

/// Whether an INVALID_ARGUMENT is about the token (rather than the payload): a `BadRequest`
/// field violation on `message.token`, or Google's "registration token" wording.
fn token_at_fault(e: &ErrorBody) -> bool {
    let violation = e.details.iter().any(|d| {
        d.get("fieldViolations").and_then(|v| v.as_array()).is_some_and(|vs| {
            vs.iter().any(|v| v.get("field").and_then(|f| f.as_str()).is_some_and(|f| f == "message.token"))
        })
    });
    violation || e.message.to_ascii_lowercase().contains("registration token")
}

/// Classifies an answer of `messages:send`: on `details[].errorCode` first, then `status`,
/// then the HTTP code.
pub(crate) fn classify(status: StatusCode, after: Option<Duration>, body: &[u8]) -> Result<Outcome, Unauthenticated> {
    if status.is_success() {
        #[derive(Deserialize)]
        struct Sent {
            name: String,
        }
        return Ok(match serde_json::from_slice::<Sent>(body) {
            Ok(s) => Outcome::Sent { provider_id: s.name },
            Err(_) => Outcome::Sent { provider_id: String::new() },
        });
    }
    let parsed: Option<ErrorEnvelope> = serde_json::from_slice(body).ok();
    let envelope_found = parsed.is_some();
    let e = parsed.unwrap_or_default().error;
    let code = error_code(&e);
    let what = code.unwrap_or(if e.status.is_empty() { status.as_str() } else { e.status.as_str() });
    let reason = if envelope_found {
        format!("FCM {} {what}: {}", status.as_u16(), snippet(e.message.as_bytes(), 200))
    } else {
        format!("FCM {}: {}", status.as_u16(), snippet(body, 200))
    };
    let quota =
        || Outcome::Retry { after: Some(after.map_or(QUOTA_FLOOR, |a| a.max(QUOTA_FLOOR))), reason: reason.clone() };
    let invalid = || if token_at_fault(&e) { Outcome::gone(reason.clone()) } else { Outcome::failed(reason.clone()) };
    let transient = || Outcome::Retry { after, reason: reason.clone() };
    let by_code = code.and_then(|code| match code {
        "UNREGISTERED" | "SENDER_ID_MISMATCH" => Some(Outcome::gone(reason.clone())),
        "INVALID_ARGUMENT" => Some(invalid()),
        "THIRD_PARTY_AUTH_ERROR" | "APNS_AUTH_ERROR" => Some(Outcome::halt(reason.clone())),
        "QUOTA_EXCEEDED" => Some(quota()),
        "UNAVAILABLE" | "INTERNAL" => Some(transient()),
        _ => None,
    });
    if let Some(o) = by_code {
        return Ok(o);
    }
    Ok(match e.status.as_str() {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => invalid(),
        "UNAUTHENTICATED" => return Err(Unauthenticated(reason)),
        "PERMISSION_DENIED" => Outcome::halt(reason),
        "NOT_FOUND" => Outcome::failed(reason),
        "RESOURCE_EXHAUSTED" => quota(),
        "UNAVAILABLE" | "INTERNAL" | "DEADLINE_EXCEEDED" | "ABORTED" | "UNKNOWN" | "CANCELLED" => transient(),
        _ => match status.as_u16() {
            401 => return Err(Unauthenticated(reason)),
            403 => Outcome::halt(reason),
            // A 404 that is not Google's envelope: the URL (base_url, project) is wrong.
            404 if !envelope_found => Outcome::halt(reason),
            429 => quota(),
            408 | 500..=599 => transient(),
            _ => invalid(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fcm_error(code: u16, status: &str, error_code: Option<&str>, message: &str) -> Vec<u8> {
        let details = match error_code {
            Some(c) => {
                serde_json::json!([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": c}])
            }
            None => serde_json::json!([]),
        };
        serde_json::to_vec(
            &serde_json::json!({"error": {"code": code, "message": message, "status": status, "details": details}}),
        )
        .unwrap()
    }

    fn class(code: u16, body: &[u8], after: Option<Duration>) -> Result<Outcome, Unauthenticated> {
        classify(StatusCode::from_u16(code).unwrap(), after, body)
    }

    #[test]
    fn success_keeps_the_message_name() {
        let o = class(200, br#"{"name": "projects/p/messages/0:123"}"#, None).unwrap();
        assert_eq!(o, Outcome::Sent { provider_id: "projects/p/messages/0:123".into() });
    }

    #[test]
    fn errors_classify_on_error_code_first() {
        let gone = |b: &[u8], code| matches!(class(code, b, None), Ok(Outcome::DeviceGone { .. }));
        assert!(gone(&fcm_error(404, "NOT_FOUND", Some("UNREGISTERED"), "Requested entity was not found."), 404));
        assert!(gone(&fcm_error(403, "PERMISSION_DENIED", Some("SENDER_ID_MISMATCH"), "SenderId mismatch"), 403));
        assert!(gone(
            &fcm_error(
                400,
                "INVALID_ARGUMENT",
                Some("INVALID_ARGUMENT"),
                "The registration token is not a valid FCM registration token"
            ),
            400
        ));
        // INVALID_ARGUMENT about the payload: the message fails, the device stays.
        let o = class(400, &fcm_error(400, "INVALID_ARGUMENT", Some("INVALID_ARGUMENT"), "Message is too big"), None);
        assert!(matches!(o, Ok(Outcome::Failed { .. })), "{o:?}");
        // A BadRequest field violation on the token.
        let body = serde_json::to_vec(&serde_json::json!({"error": {"code": 400, "message": "Invalid value", "status": "INVALID_ARGUMENT", "details": [
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}]}
        ]}}))
        .unwrap();
        assert!(gone(&body, 400));
        let o = class(
            401,
            &fcm_error(401, "UNAUTHENTICATED", Some("THIRD_PARTY_AUTH_ERROR"), "Auth error from APNS"),
            None,
        );
        assert!(matches!(o, Ok(Outcome::Halt { .. })), "{o:?}");
    }

    #[test]
    fn quota_waits_at_least_a_minute_and_unavailable_honours_retry_after() {
        let body = fcm_error(429, "RESOURCE_EXHAUSTED", Some("QUOTA_EXCEEDED"), "quota");
        for after in [None, Some(Duration::from_secs(1)), Some(Duration::from_secs(90))] {
            let Ok(Outcome::Retry { after: Some(d), .. }) = class(429, &body, after) else { panic!() };
            assert!(d >= QUOTA_FLOOR);
            assert_eq!(d, after.unwrap_or_default().max(QUOTA_FLOOR));
        }
        let body = fcm_error(503, "UNAVAILABLE", Some("UNAVAILABLE"), "busy");
        let o = class(503, &body, Some(Duration::from_secs(7))).unwrap();
        assert!(matches!(o, Outcome::Retry { after: Some(d), .. } if d == Duration::from_secs(7)), "{o:?}");
        let o = class(500, &fcm_error(500, "INTERNAL", Some("INTERNAL"), "oops"), None).unwrap();
        assert!(matches!(o, Outcome::Retry { after: None, .. }), "{o:?}");
    }

    #[test]
    fn without_error_code_status_then_http_code_decide() {
        // 401 without an FcmError: our access token, to renew.
        let body = fcm_error(401, "UNAUTHENTICATED", None, "Request had invalid authentication credentials.");
        assert!(class(401, &body, None).is_err());
        assert!(class(401, b"", None).is_err());
        assert!(matches!(
            class(403, &fcm_error(403, "PERMISSION_DENIED", None, "denied"), None),
            Ok(Outcome::Halt { .. })
        ));
        assert!(matches!(class(502, b"<html>Bad gateway</html>", None), Ok(Outcome::Retry { .. })));
        assert!(matches!(class(404, b"<html>Not Found</html>", None), Ok(Outcome::Halt { .. })));
        assert!(matches!(class(429, b"", None), Ok(Outcome::Retry { after: Some(QUOTA_FLOOR), .. })));
        assert!(matches!(class(413, b"", None), Ok(Outcome::Failed { .. })));
    }

    #[test]
    fn token_endpoint_answers() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        let t = token_from_answer(
            StatusCode::OK,
            br#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#,
            None,
            now,
        )
        .ok()
        .unwrap();
        assert!(t.bearer.is_sensitive());
        assert_eq!(t.renew_at, now + chrono::TimeDelta::seconds(3599) - RENEW_BEFORE);
        // A short lifetime renews half-way.
        let t = token_from_answer(StatusCode::OK, br#"{"access_token":"a","expires_in":60}"#, None, now).ok().unwrap();
        assert_eq!(t.renew_at, now + chrono::TimeDelta::seconds(30));
        let refused = token_from_answer(
            StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
            None,
            now,
        );
        assert!(matches!(refused, Err(Outcome::Halt { reason }) if reason.contains("invalid_grant")));
        assert!(matches!(
            token_from_answer(StatusCode::SERVICE_UNAVAILABLE, b"", None, now),
            Err(Outcome::Retry { .. })
        ));
    }

    #[test]
    fn the_body_is_the_documented_message() {
        let p = Push {
            id: "d1".into(),
            token: "tok".into(),
            title: "Thông báo".into(),
            body: "Đại hội".into(),
            data: vec![("notice_id".into(), "n1".into())],
            urgent: true,
            expires_at: None,
            collapse_id: Some("c".into()),
        };
        let v: serde_json::Value = serde_json::from_slice(&message_body(&p, Some(3600)).unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"message": {
                "token": "tok",
                "notification": {"title": "Thông báo", "body": "Đại hội"},
                "data": {"notice_id": "n1"},
                "android": {"priority": "HIGH", "ttl": "3600s", "collapse_key": "c"}
            }})
        );
        let p = Push { data: vec![], urgent: false, collapse_id: None, ..p };
        let v: serde_json::Value = serde_json::from_slice(&message_body(&p, None).unwrap()).unwrap();
        assert_eq!(v["message"]["android"], serde_json::json!({"priority": "NORMAL"}));
        assert!(v["message"].get("data").is_none());
    }
}
