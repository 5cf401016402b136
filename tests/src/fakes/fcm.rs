//! A fake FCM HTTP v1 endpoint with its own OAuth2 token endpoint.
//!
//! - `POST /token`: verifies the RS256 JWT-bearer assertion (signature with the fixture public
//!   key, `iss`, `aud` = this URL, `scope`, `exp − iat ≤ 3600`, not expired on the clock) and
//!   answers `{"access_token", "expires_in", "token_type": "Bearer"}`.
//! - `POST /v1/projects/{project}/messages:send`: checks the bearer (issued here, unexpired),
//!   reads the message, and answers from the script of its token (default 200 with a `name`),
//!   errors in Google's envelope with an FcmError detail.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use doan_platform::clock::Clock;
use doan_platform::config::FcmSettings;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use super::{Counter, FCM_PRIVATE_KEY, FCM_PUBLIC_KEY, Server, json, read_body, serve, text};

/// The project of the fake service account.
pub const PROJECT_ID: &str = "doan-test";
/// The fake service account.
pub const CLIENT_EMAIL: &str = "fcm-sender@doan-test.iam.gserviceaccount.com";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How the fake answers a device token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcmScript {
    /// 200 with a message `name`.
    Ok,
    /// 404 NOT_FOUND, errorCode UNREGISTERED.
    Unregistered,
    /// 400 INVALID_ARGUMENT about the registration token.
    InvalidToken,
    /// 403 PERMISSION_DENIED, errorCode SENDER_ID_MISMATCH.
    SenderIdMismatch,
    /// 429 RESOURCE_EXHAUSTED, errorCode QUOTA_EXCEEDED, with `Retry-After`.
    QuotaExceeded {
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
    /// 503 UNAVAILABLE with `Retry-After` for the first `failures` requests, then 200.
    UnavailableThen {
        /// Requests answered 503.
        failures: u32,
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
    /// 500 INTERNAL.
    Internal,
    /// 401 UNAUTHENTICATED, errorCode THIRD_PARTY_AUTH_ERROR (the APNs credential in Firebase).
    ThirdPartyAuth,
}

/// One message the fake received (with a valid bearer).
#[derive(Debug, Clone)]
pub struct FcmReceived {
    /// `message.token`.
    pub token: String,
    /// `message.notification.title`.
    pub title: String,
    /// `message.notification.body`.
    pub body: String,
    /// `message.data`.
    pub data: BTreeMap<String, String>,
    /// `message.android` as sent (priority, ttl, collapse_key).
    pub android: serde_json::Value,
    /// The HTTP status the fake answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

struct Scripted {
    script: FcmScript,
    answered: u32,
}

struct State {
    clock: Clock,
    token_url: OnceLock<String>,
    verifier: DecodingKey,
    expires_in: AtomicI64,
    refuse_tokens: AtomicBool,
    issued: Mutex<HashMap<String, DateTime<Utc>>>,
    token_requests: AtomicUsize,
    scripts: Mutex<HashMap<String, Scripted>>,
    received: Mutex<Vec<FcmReceived>>,
    recorded: Counter,
    sent: AtomicUsize,
    next_id: AtomicU64,
    send_path: String,
}

/// A fake FCM (and its token endpoint) on 127.0.0.1; stops when dropped.
pub struct FakeFcm {
    state: Arc<State>,
    server: Server,
    credentials: PathBuf,
    _dir: tempfile::TempDir,
}

impl FakeFcm {
    /// Starts the fake on the system clock.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_at(Clock::system()).await
    }

    /// Starts the fake reading time (token lifetimes, assertion expiry) from `clock`.
    pub async fn start_at(clock: Clock) -> anyhow::Result<Self> {
        let state = Arc::new(State {
            clock,
            token_url: OnceLock::new(),
            verifier: DecodingKey::from_rsa_pem(FCM_PUBLIC_KEY.as_bytes())?,
            expires_in: AtomicI64::new(3599),
            refuse_tokens: AtomicBool::new(false),
            issued: Mutex::new(HashMap::new()),
            token_requests: AtomicUsize::new(0),
            scripts: Mutex::new(HashMap::new()),
            received: Mutex::new(Vec::new()),
            recorded: Counter::default(),
            sent: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            send_path: format!("/v1/projects/{PROJECT_ID}/messages:send"),
        });
        let handler_state = state.clone();
        let server = serve(move |req| handle(handler_state.clone(), req)).await?;
        let token_url = format!("http://{}/token", server.addr);
        let _ = state.token_url.set(token_url.clone());
        let dir = tempfile::tempdir()?;
        let credentials = dir.path().join("service-account.json");
        let key_file = json!({
            "type": "service_account",
            "project_id": PROJECT_ID,
            "private_key_id": "0000000000000000000000000000000000000000",
            "private_key": FCM_PRIVATE_KEY,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_url,
        });
        std::fs::write(&credentials, serde_json::to_vec_pretty(&key_file)?)?;
        Ok(Self { state, server, credentials, _dir: dir })
    }

    /// `http://127.0.0.1:PORT`, the `base_url` of the FCM settings.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The token endpoint (also the key file's `token_uri`).
    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.server.addr)
    }

    /// The service-account JSON key file whose `token_uri` is this fake.
    pub fn credentials_file(&self) -> &Path {
        &self.credentials
    }

    /// The project in the key file.
    pub fn project_id(&self) -> &str {
        PROJECT_ID
    }

    /// FCM settings pointing at this fake (2 connections, 256 in flight, 5 s timeout).
    pub fn settings(&self) -> FcmSettings {
        FcmSettings {
            credentials_file: Some(self.credentials.clone()),
            base_url: self.base_url(),
            token_url: None,
            connections: 2,
            max_in_flight: 256,
            timeout_ms: 5000,
        }
    }

    /// How the fake answers messages to `token` from now on.
    pub fn script(&self, token: &str, script: FcmScript) {
        lock(&self.state.scripts).insert(token.to_string(), Scripted { script, answered: 0 });
    }

    /// The `expires_in` of access tokens issued from now on (default 3599).
    pub fn set_token_expires_in(&self, secs: i64) {
        self.state.expires_in.store(secs, Ordering::Relaxed);
    }

    /// Makes the token endpoint refuse every assertion (400 `invalid_grant`), or accept again.
    pub fn refuse_tokens(&self, refuse: bool) {
        self.state.refuse_tokens.store(refuse, Ordering::Relaxed);
    }

    /// Forgets every access token issued so far: their next use gets 401 UNAUTHENTICATED.
    pub fn revoke_access_tokens(&self) {
        lock(&self.state.issued).clear();
    }

    /// Assertions received at the token endpoint (valid or not).
    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::Relaxed)
    }

    /// Every message received with a valid bearer, in order of arrival.
    pub fn received(&self) -> Vec<FcmReceived> {
        lock(&self.state.received).clone()
    }

    /// Messages answered 200.
    pub fn sent_count(&self) -> usize {
        self.state.sent.load(Ordering::Relaxed)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.server.connections.load(Ordering::Relaxed)
    }

    /// Waits until `n` messages were received (whatever the answer); false on timeout.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        self.state.recorded.wait_for(n, timeout).await
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "POST only");
    }
    let path = req.uri().path().to_string();
    if path == "/token" {
        state.token_requests.fetch_add(1, Ordering::Relaxed);
        let Some(body) = read_body(req.into_body(), 64 * 1024).await else {
            return token_refusal("invalid_request", "unreadable body");
        };
        return token(&state, &body);
    }
    if path.starts_with("/v1/projects/") && path.ends_with("/messages:send") {
        if path != state.send_path {
            return fcm_error(StatusCode::FORBIDDEN, "PERMISSION_DENIED", None, "Permission denied on the project");
        }
        return send(&state, req).await;
    }
    text(StatusCode::NOT_FOUND, "Not Found")
}

#[derive(Deserialize)]
struct Assertion {
    scope: String,
    iat: i64,
    exp: i64,
}

fn token_refusal(error: &str, description: &str) -> Response<Full<Bytes>> {
    json(StatusCode::BAD_REQUEST, &json!({"error": error, "error_description": description}))
}

fn token(state: &State, body: &[u8]) -> Response<Full<Bytes>> {
    let form: HashMap<String, String> = String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (form_decode(k), form_decode(v)))
        .collect();
    if form.get("grant_type").map(String::as_str) != Some(GRANT_TYPE) {
        return token_refusal("unsupported_grant_type", "Invalid grant_type");
    }
    let Some(assertion) = form.get("assertion") else {
        return token_refusal("invalid_request", "Missing required parameter: assertion");
    };
    if state.refuse_tokens.load(Ordering::Relaxed) {
        return token_refusal("invalid_grant", "Invalid JWT Signature.");
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[state.token_url.get().map(String::as_str).unwrap_or("")]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.validate_exp = false;
    let claims = match jsonwebtoken::decode::<Assertion>(assertion, &state.verifier, &validation) {
        Ok(t) => t.claims,
        Err(e) => return token_refusal("invalid_grant", &format!("Invalid JWT: {e}")),
    };
    let now = state.clock.now().timestamp();
    if !claims.scope.split(' ').any(|s| s == SCOPE) {
        return token_refusal("invalid_scope", "The scope does not include firebase.messaging");
    }
    if claims.exp <= claims.iat || claims.exp - claims.iat > 3600 {
        return token_refusal("invalid_grant", "Invalid JWT: exp must be within an hour of iat");
    }
    if claims.iat > now + 60 || claims.exp < now - 60 {
        return token_refusal(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe",
        );
    }
    let expires_in = state.expires_in.load(Ordering::Relaxed);
    let access_token = format!("ya29.fake-{}", uuid::Uuid::new_v4().simple());
    lock(&state.issued).insert(access_token.clone(), state.clock.now() + chrono::TimeDelta::seconds(expires_in));
    json(StatusCode::OK, &json!({"access_token": access_token, "expires_in": expires_in, "token_type": "Bearer"}))
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space, `%XX` a byte).
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn fcm_error(status: StatusCode, canonical: &str, error_code: Option<&str>, message: &str) -> Response<Full<Bytes>> {
    let details = match error_code {
        Some(code) => json!([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]),
        None => json!([]),
    };
    let mut error = json!({"code": status.as_u16(), "message": message, "status": canonical});
    if error_code.is_some() {
        error["details"] = details;
    }
    json(status, &json!({"error": error}))
}

fn with_retry_after(mut resp: Response<Full<Bytes>>, secs: u64) -> Response<Full<Bytes>> {
    resp.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

#[derive(Deserialize)]
struct SendBody {
    message: MessageBody,
}

#[derive(Deserialize)]
struct MessageBody {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    notification: Option<NotificationBody>,
    #[serde(default)]
    data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    android: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct NotificationBody {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

async fn send(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let authorised = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| lock(&state.issued).get(t).copied())
        .is_some_and(|expires| state.clock.now() < expires);
    if !authorised {
        return fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            None,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        );
    }
    let Some(body) = read_body(req.into_body(), 64 * 1024).await else {
        return fcm_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "INVALID_ARGUMENT",
            None,
            "Request payload size exceeds the limit",
        );
    };
    let message = match serde_json::from_slice::<SendBody>(&body) {
        Ok(b) => b.message,
        Err(e) => {
            let msg = format!("Invalid JSON payload received. {e}");
            return fcm_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", None, &msg);
        }
    };
    let Some(token) = message.token else {
        return fcm_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            Some("INVALID_ARGUMENT"),
            "Recipient of the message is not set.",
        );
    };
    let script = {
        let mut scripts = lock(&state.scripts);
        match scripts.get_mut(&token) {
            None => FcmScript::Ok,
            Some(s) => {
                s.answered += 1;
                match s.script {
                    FcmScript::UnavailableThen { failures, .. } if s.answered > failures => FcmScript::Ok,
                    ref other => other.clone(),
                }
            }
        }
    };
    let resp = match script {
        FcmScript::Ok => {
            let n = state.next_id.fetch_add(1, Ordering::Relaxed);
            state.sent.fetch_add(1, Ordering::Relaxed);
            json(StatusCode::OK, &json!({"name": format!("projects/{PROJECT_ID}/messages/0:{n}%fake")}))
        }
        FcmScript::Unregistered => {
            fcm_error(StatusCode::NOT_FOUND, "NOT_FOUND", Some("UNREGISTERED"), "Requested entity was not found.")
        }
        FcmScript::InvalidToken => fcm_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            Some("INVALID_ARGUMENT"),
            "The registration token is not a valid FCM registration token",
        ),
        FcmScript::SenderIdMismatch => {
            fcm_error(StatusCode::FORBIDDEN, "PERMISSION_DENIED", Some("SENDER_ID_MISMATCH"), "SenderId mismatch")
        }
        FcmScript::QuotaExceeded { retry_after_secs } => with_retry_after(
            fcm_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                Some("QUOTA_EXCEEDED"),
                "Quota exceeded for quota metric 'Send requests'",
            ),
            retry_after_secs,
        ),
        FcmScript::UnavailableThen { retry_after_secs, .. } => with_retry_after(
            fcm_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                Some("UNAVAILABLE"),
                "The service is currently unavailable.",
            ),
            retry_after_secs,
        ),
        FcmScript::Internal => {
            fcm_error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", Some("INTERNAL"), "Internal error encountered.")
        }
        FcmScript::ThirdPartyAuth => fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            Some("THIRD_PARTY_AUTH_ERROR"),
            "Auth error from APNS or Web Push Service",
        ),
    };
    let notification = message.notification.unwrap_or_default();
    lock(&state.received).push(FcmReceived {
        token,
        title: notification.title,
        body: notification.body,
        data: message.data.unwrap_or_default(),
        android: message.android.unwrap_or(serde_json::Value::Null),
        status: resp.status().as_u16(),
        at: Instant::now(),
    });
    state.recorded.add();
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn forms_decode() {
        assert_eq!(super::form_decode("urn%3Aietf%3Aparams+x"), "urn:ietf:params x");
        assert_eq!(super::form_decode("a%2"), "a%2");
        assert_eq!(super::form_decode("%zz"), "%zz");
    }
}
