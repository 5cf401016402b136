//! The transparent forwarder. One [`Proxy`] per public service is mounted at
//! `/<package>.<Service>/*`; each call passes the [`Gate`] (token, rate limit, deadline,
//! trace context) and is then forwarded unchanged, streaming included, to the service's
//! channel. The gateway never decodes a message, so a new RPC needs no gateway change.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use doan_platform::auth::{CLIENT_ADDRESS_HEADER, TokenVerifier, parse_bearer};
use futures_util::future::BoxFuture;
use http::HeaderValue;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::Channel;
use tonic::transport::server::TcpConnectInfo;
use tower::{Service, ServiceExt};
use tracing::Instrument;

use crate::client_addr::TrustedProxies;
use crate::ratelimit::RateLimiter;

/// How hard one caller may press: the limits beyond the per-minute rate.
#[derive(Debug, Clone, Copy)]
pub struct AbuseLimits {
    /// Largest request body forwarded, bytes.
    pub max_request_bytes: u64,
    /// Server-streaming calls one caller holds open at once (0: no limit).
    pub max_streams_per_caller: u32,
    /// Calls per caller per minute to each expensive RPC (0: no limit of its own).
    pub expensive_per_minute: u32,
}

/// What every forwarded call must pass.
pub struct Gate {
    verifier: TokenVerifier,
    limiter: Arc<dyn RateLimiter>,
    limit_per_minute: u32,
    max_deadline: Duration,
    trusted_proxies: TrustedProxies,
    public: std::collections::HashSet<String>,
    streaming: std::collections::HashSet<String>,
    expensive: std::collections::HashSet<&'static str>,
    limits: AbuseLimits,
    open_streams: Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
}

/// What a call that passed the gate carries along.
pub struct Admitted {
    /// The call's deadline (None: streaming).
    pub deadline: Option<Duration>,
    /// The caller's place among their open streams, held until the response ends.
    pub slot: Option<StreamSlot>,
}

/// One open stream of a caller; dropping it frees the place.
pub struct StreamSlot {
    key: String,
    open: Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("open streams");
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

impl Gate {
    /// A gate verifying tokens with `verifier` (except on `public` methods,
    /// `/package.Service/Method`, the services' policy tables' public RPCs) and limiting each
    /// caller to `limit_per_minute` calls (0: unlimited); unary calls get at most
    /// `max_deadline`.
    pub fn new(
        verifier: TokenVerifier,
        limiter: Arc<dyn RateLimiter>,
        limit_per_minute: u32,
        max_deadline: Duration,
        trusted_proxies: TrustedProxies,
        public: std::collections::HashSet<String>,
        limits: AbuseLimits,
    ) -> Self {
        let streaming = doan_platform::policy::streaming_methods();
        let expensive = doan_platform::policy::EXPENSIVE_METHODS.iter().copied().collect();
        Self {
            verifier,
            limiter,
            limit_per_minute,
            max_deadline,
            trusted_proxies,
            public,
            streaming,
            expensive,
            limits,
            open_streams: Arc::default(),
        }
    }

    /// The largest request body forwarded, bytes.
    pub fn max_request_bytes(&self) -> u64 {
        self.limits.max_request_bytes
    }

    /// Counts one call of `key` against `per_minute`; `what` names the limit in the refusal.
    async fn count(&self, key: &str, per_minute: u32, what: &str) -> Result<(), tonic::Status> {
        if per_minute == 0 {
            return Ok(());
        }
        match self.limiter.allow(key, per_minute).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(tonic::Status::resource_exhausted(format!(
                "rate limit of {per_minute} calls per minute{what} exceeded; retry in a minute"
            ))),
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "rate limiter unavailable; allowing the call");
                Ok(())
            }
        }
    }

    /// Checks a call and prepares it for forwarding.
    pub async fn admit(&self, request: &mut http::Request<Body>) -> Result<Admitted, tonic::Status> {
        let path = request.uri().path().to_string();
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.limits.max_request_bytes) {
            return Err(too_large(self.limits.max_request_bytes));
        }
        // The client's address (`X-Forwarded-For` believed only from trusted proxies), told to
        // the service in a header the client cannot set.
        let peer = request.extensions().get::<TcpConnectInfo>().and_then(|i| i.remote_addr()).map(|a| a.ip());
        let ip = {
            let forwarded: Vec<&str> =
                request.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
            peer.map(|p| self.trusted_proxies.client(p, &forwarded).to_string())
        };
        request.headers_mut().remove(CLIENT_ADDRESS_HEADER);
        if let Some(value) = ip.as_deref().and_then(|ip| HeaderValue::from_str(ip).ok()) {
            request.headers_mut().insert(CLIENT_ADDRESS_HEADER, value);
        }
        let key = if self.public.contains(&path) || path.starts_with("/credentials/") {
            format!("ip:{}", ip.unwrap_or_else(|| "unknown".into()))
        } else {
            let header = request.headers().get("authorization").and_then(|v| v.to_str().ok());
            let claims = parse_bearer(header).and_then(|t| self.verifier.verify(t)).map_err(tonic::Status::from)?;
            tracing::Span::current().record("caller", claims.sub.as_str());
            format!("acct:{}", claims.sub)
        };
        self.count(&key, self.limit_per_minute, "").await?;
        if self.expensive.contains(path.as_str()) {
            let method = path.rsplit('/').next().unwrap_or_default();
            self.count(&format!("{key}|{path}"), self.limits.expensive_per_minute, &format!(" to {method}")).await?;
        }
        doan_platform::telemetry::inject_headers(request.headers_mut());
        if self.streaming.contains(&path) {
            return Ok(Admitted { deadline: None, slot: Some(self.open_stream(key)?) });
        }
        let asked = request.headers().get("grpc-timeout").and_then(|v| v.to_str().ok()).and_then(parse_grpc_timeout);
        let deadline = asked.map_or(self.max_deadline, |d| d.min(self.max_deadline));
        let value =
            HeaderValue::from_str(&format!("{}m", deadline.as_millis().max(1))).expect("digits are a valid header");
        request.headers_mut().insert("grpc-timeout", value);
        Ok(Admitted { deadline: Some(deadline), slot: None })
    }

    /// Takes one of `key`'s stream places, or refuses when they are all taken.
    fn open_stream(&self, key: String) -> Result<StreamSlot, tonic::Status> {
        let max = self.limits.max_streams_per_caller;
        let mut open = self.open_streams.lock().expect("open streams");
        let n = open.entry(key.clone()).or_default();
        if max > 0 && *n >= max {
            return Err(tonic::Status::resource_exhausted(format!(
                "at most {max} streams may be open at once per caller; close one first"
            )));
        }
        *n += 1;
        Ok(StreamSlot { key, open: self.open_streams.clone() })
    }
}

fn too_large(max: u64) -> tonic::Status {
    tonic::Status::resource_exhausted(format!("request is larger than {max} bytes"))
}

/// A body the gateway passes through: a request's, cut off past `cap` bytes (noting that it
/// was), or a stream's response, holding its caller's stream place until it ends.
struct Passed {
    inner: Body,
    cap: Option<(u64, Arc<std::sync::atomic::AtomicBool>)>,
    _slot: Option<StreamSlot>,
}

impl http_body::Body for Passed {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let frame = std::task::ready!(std::pin::Pin::new(&mut self.inner).poll_frame(cx));
        if let (Some(Ok(f)), Some((remaining, exceeded))) = (&frame, self.cap.as_mut())
            && let Some(data) = f.data_ref()
        {
            let n = data.len() as u64;
            if n > *remaining {
                exceeded.store(true, std::sync::atomic::Ordering::SeqCst);
                return Poll::Ready(Some(Err(tonic::Status::resource_exhausted("request is too large"))));
            }
            *remaining -= n;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

pub use doan_platform::deadline::parse_grpc_timeout;

/// True when a channel error is the call's own `grpc-timeout` expiring, not a dead upstream.
fn is_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<tonic::TimeoutExpired>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Names the service a [`Proxy`] is mounted for.
pub trait Upstream: Send + Sync + 'static {
    /// Full gRPC service name.
    const NAME: &'static str;
}

macro_rules! upstream {
    ($($ty:ident => $name:literal),*) => {$(
        #[doc = concat!("Marker for `", $name, "`.")]
        pub struct $ty;
        impl Upstream for $ty {
            const NAME: &'static str = $name;
        }
    )*};
}

upstream!(
    Membership => "doan.membership.v1.MembershipService",
    Activities => "doan.activities.v1.ActivitiesService",
    Awards => "doan.awards.v1.AwardsService",
    Notifications => "doan.notifications.v1.NotificationsService",
    // The awards service's public documents over plain HTTP (`GET /credentials/...`): issuers'
    // keys, status lists, certificate verification. No token.
    Credentials => "credentials"
);

/// Forwards every call of service `U` to its channel.
pub struct Proxy<U> {
    channel: Channel,
    gate: Arc<Gate>,
    _upstream: PhantomData<fn() -> U>,
}

impl<U> Clone for Proxy<U> {
    fn clone(&self) -> Self {
        Self { channel: self.channel.clone(), gate: self.gate.clone(), _upstream: PhantomData }
    }
}

impl<U: Upstream> Proxy<U> {
    /// A proxy for `U` over `channel`.
    pub fn new(channel: Channel, gate: Arc<Gate>) -> Self {
        Self { channel, gate, _upstream: PhantomData }
    }
}

impl<U: Upstream> NamedService for Proxy<U> {
    const NAME: &'static str = U::NAME;
}

impl<U: Upstream> Service<http::Request<Body>> for Proxy<U> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let channel = self.channel.clone();
        let gate = self.gate.clone();
        let span = tracing::info_span!("forward", otel.kind = "client", upstream = U::NAME);
        Box::pin(
            async move {
                let Admitted { deadline, slot } = match gate.admit(&mut request).await {
                    Ok(a) => a,
                    Err(status) => return Ok(status.into_http()),
                };
                let exceeded = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let max = gate.max_request_bytes();
                let request =
                    request.map(|inner| Body::new(Passed { inner, cap: Some((max, exceeded.clone())), _slot: None }));
                let too_big = || exceeded.load(std::sync::atomic::Ordering::SeqCst);
                let call = channel.oneshot(request);
                let result = match deadline {
                    Some(d) => match tokio::time::timeout(d, call).await {
                        Ok(r) => r,
                        Err(_) => {
                            return Ok(tonic::Status::deadline_exceeded(format!(
                                "{} did not answer within {} ms",
                                U::NAME,
                                d.as_millis()
                            ))
                            .into_http());
                        }
                    },
                    None => call.await,
                };
                let result = match result {
                    Ok(_) | Err(_) if too_big() => return Ok(too_large(max).into_http()),
                    Ok(response) => Ok(match slot {
                        Some(slot) => response.map(|inner| Body::new(Passed { inner, cap: None, _slot: Some(slot) })),
                        None => response,
                    }),
                    Err(e) => Err(e),
                };
                Ok(result.unwrap_or_else(|err| {
                    if is_timeout(&err) {
                        return tonic::Status::deadline_exceeded(format!(
                            "{} did not answer within the deadline",
                            U::NAME
                        ))
                        .into_http();
                    }
                    tracing::warn!(upstream = U::NAME, error = %err, "upstream unavailable");
                    tonic::Status::unavailable(format!("{} is unavailable; retry shortly", U::NAME)).into_http()
                }))
            }
            .instrument(span),
        )
    }
}
