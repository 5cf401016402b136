//! The transparent forwarder. One [`Proxy`] per public service is mounted at
//! `/<package>.<Service>/*`; each call passes the [`Gate`] (token, rate limit, deadline,
//! trace context) and is then forwarded unchanged, streaming included, to the service's
//! channel. The gateway never decodes a message, so a new RPC needs no gateway change.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use doan_platform::auth::{TokenVerifier, parse_bearer};
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

/// What every forwarded call must pass.
pub struct Gate {
    verifier: TokenVerifier,
    limiter: Arc<dyn RateLimiter>,
    limit_per_minute: u32,
    max_deadline: Duration,
    trusted_proxies: TrustedProxies,
    public: std::collections::HashSet<String>,
    streaming: std::collections::HashSet<String>,
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
    ) -> Self {
        let streaming = doan_platform::policy::streaming_methods();
        Self { verifier, limiter, limit_per_minute, max_deadline, trusted_proxies, public, streaming }
    }

    /// Checks a call and prepares it for forwarding; returns its deadline (None: streaming).
    pub async fn admit(&self, request: &mut http::Request<Body>) -> Result<Option<Duration>, tonic::Status> {
        let path = request.uri().path().to_string();
        let key = if self.public.contains(&path) || path.starts_with("/credentials/") {
            let peer = request.extensions().get::<TcpConnectInfo>().and_then(|i| i.remote_addr()).map(|a| a.ip());
            let forwarded: Vec<&str> =
                request.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
            let ip = peer.map(|p| self.trusted_proxies.client(p, &forwarded).to_string());
            format!("ip:{}", ip.unwrap_or_else(|| "unknown".into()))
        } else {
            let header = request.headers().get("authorization").and_then(|v| v.to_str().ok());
            let claims = parse_bearer(header).and_then(|t| self.verifier.verify(t)).map_err(tonic::Status::from)?;
            tracing::Span::current().record("caller", claims.sub.as_str());
            format!("acct:{}", claims.sub)
        };
        if self.limit_per_minute > 0 {
            match self.limiter.allow(&key, self.limit_per_minute).await {
                Ok(true) => {}
                Ok(false) => {
                    return Err(tonic::Status::resource_exhausted(format!(
                        "rate limit of {} calls per minute exceeded; retry in a minute",
                        self.limit_per_minute
                    )));
                }
                Err(err) => tracing::warn!(error = format!("{err:#}"), "rate limiter unavailable; allowing the call"),
            }
        }
        doan_platform::telemetry::inject_headers(request.headers_mut());
        if self.streaming.contains(&path) {
            return Ok(None);
        }
        let asked = request.headers().get("grpc-timeout").and_then(|v| v.to_str().ok()).and_then(parse_grpc_timeout);
        let deadline = asked.map_or(self.max_deadline, |d| d.min(self.max_deadline));
        let value =
            HeaderValue::from_str(&format!("{}m", deadline.as_millis().max(1))).expect("digits are a valid header");
        request.headers_mut().insert("grpc-timeout", value);
        Ok(Some(deadline))
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
                let deadline = match gate.admit(&mut request).await {
                    Ok(d) => d,
                    Err(status) => return Ok(status.into_http()),
                };
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
