//! A fake APNs (token-based authentication) over HTTP/2.
//!
//! `POST /3/device/<hex token>`: verifies the provider token (ES256 signature with the fixture
//! public key, `kid`, `iss`, `iat` at most an hour old on the clock; each distinct token is
//! verified once), the headers (`apns-topic`, `apns-push-type`, `apns-priority`,
//! `apns-expiration`, `apns-id`, `apns-collapse-id`) and the payload (JSON with `aps`, at most
//! 4096 bytes), then answers from the script of the device token: 200 with `apns-id`, or
//! `{"reason"[, "timestamp"]}`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use doan_platform::clock::Clock;
use doan_platform::config::ApnsSettings;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use super::{APNS_PRIVATE_KEY, APNS_PUBLIC_KEY, Counter, Server, json, read_body, serve};

/// The fixture key's Key ID.
pub const KEY_ID: &str = "TESTKEY001";
/// The fake team.
pub const TEAM_ID: &str = "TESTTEAM01";
/// The fake app's bundle ID.
pub const TOPIC: &str = "vn.doan.app";
const MAX_PAYLOAD: usize = 4096;

/// How the fake answers a device token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApnsScript {
    /// 200 with `apns-id`.
    Ok,
    /// 400 BadDeviceToken.
    BadDeviceToken,
    /// 400 DeviceTokenNotForTopic.
    DeviceTokenNotForTopic,
    /// 410 Unregistered with a `timestamp` (ms).
    Unregistered {
        /// When Apple learnt the token was no longer valid, ms since the epoch.
        timestamp_ms: i64,
    },
    /// 429 TooManyRequests.
    TooManyRequests,
    /// 503 ServiceUnavailable for the first `failures` requests, then 200.
    ServiceUnavailableThen {
        /// Requests answered 503.
        failures: u32,
    },
    /// 403 ExpiredProviderToken to the provider token of the first request, and to any
    /// request carrying that same token; 200 once a different (re-signed) token comes.
    ExpiredProviderTokenOnce,
    /// 413 PayloadTooLarge.
    PayloadTooLarge,
}

/// One push the fake received (with a valid provider token).
#[derive(Debug, Clone)]
pub struct ApnsReceived {
    /// The device token in the path.
    pub token: String,
    /// `apns-topic`.
    pub topic: Option<String>,
    /// `apns-push-type`.
    pub push_type: Option<String>,
    /// `apns-priority`.
    pub priority: Option<String>,
    /// `apns-expiration`.
    pub expiration: Option<String>,
    /// `apns-id`.
    pub apns_id: Option<String>,
    /// `apns-collapse-id`.
    pub collapse_id: Option<String>,
    /// The `iat` of the provider token it carried.
    pub jwt_iat: i64,
    /// The payload.
    pub body: serde_json::Value,
    /// The HTTP status the fake answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

struct Scripted {
    script: ApnsScript,
    answered: u32,
    expired_bearer: Option<String>,
}

struct State {
    clock: Clock,
    verifier: DecodingKey,
    validation: Validation,
    /// Provider tokens already checked: their `iat`, or why they are refused.
    verified: Mutex<HashMap<String, Result<i64, &'static str>>>,
    scripts: Mutex<HashMap<String, Scripted>>,
    received: Mutex<Vec<ApnsReceived>>,
    recorded: Counter,
    sent: AtomicUsize,
}

/// A fake APNs on 127.0.0.1; stops when dropped.
pub struct FakeApns {
    state: Arc<State>,
    server: Server,
    key_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl FakeApns {
    /// Starts the fake on the system clock.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_at(Clock::system()).await
    }

    /// Starts the fake judging provider-token age on `clock`.
    pub async fn start_at(clock: Clock) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_required_spec_claims(&["iss"]);
        validation.set_issuer(&[TEAM_ID]);
        validation.validate_exp = false;
        validation.validate_aud = false;
        let state = Arc::new(State {
            clock,
            verifier: DecodingKey::from_ec_pem(APNS_PUBLIC_KEY.as_bytes())?,
            validation,
            verified: Mutex::new(HashMap::new()),
            scripts: Mutex::new(HashMap::new()),
            received: Mutex::new(Vec::new()),
            recorded: Counter::default(),
            sent: AtomicUsize::new(0),
        });
        let handler_state = state.clone();
        let server = serve(move |req| handle(handler_state.clone(), req)).await?;
        let dir = tempfile::tempdir()?;
        let key_file = dir.path().join(format!("AuthKey_{KEY_ID}.p8"));
        std::fs::write(&key_file, APNS_PRIVATE_KEY)?;
        Ok(Self { state, server, key_file, _dir: dir })
    }

    /// `http://127.0.0.1:PORT`, for both `production_url` and `sandbox_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The fixture `.p8` key, written to a temporary directory.
    pub fn key_file(&self) -> &Path {
        &self.key_file
    }

    /// The key's Key ID (`kid`).
    pub fn key_id(&self) -> &str {
        KEY_ID
    }

    /// The Team ID (`iss`).
    pub fn team_id(&self) -> &str {
        TEAM_ID
    }

    /// The bundle ID (`apns-topic`).
    pub fn topic(&self) -> &str {
        TOPIC
    }

    /// APNs settings pointing both endpoints at this fake (2 connections, 256 in flight, 5 s).
    pub fn settings(&self) -> ApnsSettings {
        ApnsSettings {
            key_file: Some(self.key_file.clone()),
            key_id: KEY_ID.into(),
            team_id: TEAM_ID.into(),
            topic: TOPIC.into(),
            production_url: self.url(),
            sandbox_url: self.url(),
            connections: 2,
            max_in_flight: 256,
            timeout_ms: 5000,
        }
    }

    /// How the fake answers pushes to `token` from now on.
    pub fn script(&self, token: &str, script: ApnsScript) {
        lock(&self.state.scripts).insert(token.to_string(), Scripted { script, answered: 0, expired_bearer: None });
    }

    /// Every push received with a valid provider token, in order of arrival.
    pub fn received(&self) -> Vec<ApnsReceived> {
        lock(&self.state.received).clone()
    }

    /// Pushes answered 200.
    pub fn sent_count(&self) -> usize {
        self.state.sent.load(Ordering::Relaxed)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.server.connections.load(Ordering::Relaxed)
    }

    /// Waits until `n` pushes were received (whatever the answer); false on timeout.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        self.state.recorded.wait_for(n, timeout).await
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn refuse(status: StatusCode, reason: &str) -> Response<Full<Bytes>> {
    json(status, &json!({"reason": reason}))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

#[derive(Deserialize)]
struct Claims {
    iat: i64,
}

impl State {
    /// The provider token's `iat`, verified once per distinct token.
    fn provider_token(&self, bearer: &str) -> Result<i64, &'static str> {
        if let Some(known) = lock(&self.verified).get(bearer) {
            return *known;
        }
        let verdict = match jsonwebtoken::decode::<Claims>(bearer, &self.verifier, &self.validation) {
            Ok(t) if t.header.kid.as_deref() == Some(KEY_ID) => Ok(t.claims.iat),
            _ => Err("InvalidProviderToken"),
        };
        lock(&self.verified).insert(bearer.to_string(), verdict);
        verdict
    }
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let Some(token) = req.uri().path().strip_prefix("/3/device/").map(str::to_string) else {
        return refuse(StatusCode::NOT_FOUND, "BadPath");
    };
    if req.method() != Method::POST {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
    }
    let headers = req.headers().clone();
    let Some(bearer) = header(&headers, "authorization").and_then(|a| a.strip_prefix("bearer ").map(str::to_string))
    else {
        return refuse(StatusCode::FORBIDDEN, "MissingProviderToken");
    };
    let iat = match state.provider_token(&bearer) {
        Ok(iat) => iat,
        Err(reason) => return refuse(StatusCode::FORBIDDEN, reason),
    };
    if state.clock.now().timestamp() - iat > 3600 {
        return refuse(StatusCode::FORBIDDEN, "ExpiredProviderToken");
    }
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return refuse(StatusCode::BAD_REQUEST, "BadDeviceToken");
    }
    match header(&headers, "apns-topic") {
        None => return refuse(StatusCode::BAD_REQUEST, "MissingTopic"),
        Some(t) if t != TOPIC => return refuse(StatusCode::BAD_REQUEST, "TopicDisallowed"),
        Some(_) => {}
    }
    if !matches!(header(&headers, "apns-push-type").as_deref(), Some("alert" | "background")) {
        return refuse(StatusCode::BAD_REQUEST, "InvalidPushType");
    }
    if header(&headers, "apns-priority").is_some_and(|p| !matches!(p.as_str(), "10" | "5" | "1")) {
        return refuse(StatusCode::BAD_REQUEST, "BadPriority");
    }
    if header(&headers, "apns-expiration").is_some_and(|e| e.parse::<u64>().is_err()) {
        return refuse(StatusCode::BAD_REQUEST, "BadExpirationDate");
    }
    let apns_id = header(&headers, "apns-id");
    if apns_id.as_deref().is_some_and(|id| uuid::Uuid::try_parse(id).is_err()) {
        return refuse(StatusCode::BAD_REQUEST, "BadMessageId");
    }
    if header(&headers, "apns-collapse-id").is_some_and(|c| c.len() > 64) {
        return refuse(StatusCode::BAD_REQUEST, "BadCollapseId");
    }
    let Some(body) = read_body(req.into_body(), 64 * 1024).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge");
    };
    if body.len() > MAX_PAYLOAD {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge");
    }
    let payload: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v @ serde_json::Value::Object(_)) if v.get("aps").is_some_and(|a| a.is_object()) => v,
        _ => return refuse(StatusCode::BAD_REQUEST, "PayloadEmpty"),
    };
    let script = {
        let mut scripts = lock(&state.scripts);
        match scripts.get_mut(&token) {
            None => ApnsScript::Ok,
            Some(s) => {
                s.answered += 1;
                match s.script {
                    ApnsScript::ServiceUnavailableThen { failures } if s.answered > failures => ApnsScript::Ok,
                    ApnsScript::ExpiredProviderTokenOnce => {
                        let rejected = s.expired_bearer.get_or_insert_with(|| bearer.clone());
                        if *rejected == bearer { ApnsScript::ExpiredProviderTokenOnce } else { ApnsScript::Ok }
                    }
                    ref other => other.clone(),
                }
            }
        }
    };
    let resp = match script {
        ApnsScript::Ok => {
            state.sent.fetch_add(1, Ordering::Relaxed);
            let id = apns_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string().to_uppercase());
            let mut resp = Response::new(Full::new(Bytes::new()));
            if let Ok(v) = HeaderValue::from_str(&id) {
                resp.headers_mut().insert("apns-id", v);
            }
            resp
        }
        ApnsScript::BadDeviceToken => refuse(StatusCode::BAD_REQUEST, "BadDeviceToken"),
        ApnsScript::DeviceTokenNotForTopic => refuse(StatusCode::BAD_REQUEST, "DeviceTokenNotForTopic"),
        ApnsScript::Unregistered { timestamp_ms } => {
            json(StatusCode::GONE, &json!({"reason": "Unregistered", "timestamp": timestamp_ms}))
        }
        ApnsScript::TooManyRequests => refuse(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"),
        ApnsScript::ServiceUnavailableThen { .. } => refuse(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
        ApnsScript::ExpiredProviderTokenOnce => refuse(StatusCode::FORBIDDEN, "ExpiredProviderToken"),
        ApnsScript::PayloadTooLarge => refuse(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge"),
    };
    lock(&state.received).push(ApnsReceived {
        token,
        topic: header(&headers, "apns-topic"),
        push_type: header(&headers, "apns-push-type"),
        priority: header(&headers, "apns-priority"),
        expiration: header(&headers, "apns-expiration"),
        apns_id,
        collapse_id: header(&headers, "apns-collapse-id"),
        jwt_iat: iat,
        body: payload,
        status: resp.status().as_u16(),
        at: Instant::now(),
    });
    state.recorded.add();
    resp
}
