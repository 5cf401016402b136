//! The API gateway: the one door for mobile clients and integrators. It owns no domain data.
//!
//! It serves gRPC-web (HTTP/1.1 and HTTP/2, with CORS for browsers) and native gRPC on one
//! port for every public service, plus health and reflection; verifies the caller's token
//! (except on the public RPCs of the services' policy tables); rate-limits per caller (Redis, or memory in
//! the embedded mode); sets a deadline on calls that carry none; and forwards the call,
//! token and trace context included, to the owning service.
//!
//! # Layout
//! - [`proxy`]: the transparent per-service forwarder and the admission checks.
//! - [`ratelimit`]: fixed-window limits in Redis or memory.
//! - [`client_addr`]: the client's address, `X-Forwarded-For` trusted only from proxies.
//! - [`upstream_health`]: mirrors each service's health into the gateway's health service.

pub mod client_addr;
pub mod proxy;
pub mod ratelimit;
pub mod upstream_health;

use std::sync::Arc;
use std::time::Duration;

use doan_platform::Shutdown;
use doan_platform::auth::TokenVerifier;
use doan_platform::config::Settings;
use http::{HeaderName, HeaderValue, Method};
use tokio::net::TcpListener;
use tonic::transport::{Channel, Endpoint};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::proxy::{Activities, Awards, Credentials, Gate, Membership, Notifications, Proxy};
use crate::ratelimit::RateLimiter;

/// Headers browsers may send and read on gRPC-web calls.
const REQUEST_HEADERS: &[&str] =
    &["authorization", "content-type", "grpc-timeout", "x-grpc-web", "x-user-agent", "traceparent", "tracestate"];
const EXPOSED_HEADERS: &[&str] = &["grpc-status", "grpc-message", "grpc-status-details-bin"];

/// The gateway's upstream channels, one per service.
pub struct Upstreams {
    /// membership.
    pub membership: Channel,
    /// activities.
    pub activities: Channel,
    /// awards.
    pub awards: Channel,
    /// notifications.
    pub notifications: Channel,
}

impl Upstreams {
    /// Lazily connecting channels to the configured upstream addresses.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let channel = |url: &str| -> anyhow::Result<Channel> {
            Ok(Endpoint::from_shared(url.to_string())?
                .connect_timeout(Duration::from_secs(5))
                .tcp_nodelay(true)
                .http2_keep_alive_interval(Duration::from_secs(30))
                .connect_lazy())
        };
        Ok(Self {
            membership: channel(&settings.membership.upstream)?,
            activities: channel(&settings.activities.upstream)?,
            awards: channel(&settings.awards.upstream)?,
            notifications: channel(&settings.notifications.upstream)?,
        })
    }
}

/// The CORS layer; in production it refuses to exist without the origins of the web apps.
fn cors(settings: &Settings) -> anyhow::Result<CorsLayer> {
    let origins = &settings.gateway.allowed_origins;
    match settings.environment.as_str() {
        "production" => anyhow::ensure!(
            !origins.is_empty() && origins.iter().all(|o| o != "*"),
            "gateway.allowed_origins must list the web apps' origins when environment = \"production\" \
             (any origin may not call a production gateway from a browser)"
        ),
        "development" => {}
        other => anyhow::bail!("environment must be \"development\" or \"production\", not {other:?}"),
    }
    let allow_origin = if origins.is_empty() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().map(|o| HeaderValue::from_str(o)).collect::<Result<Vec<_>, _>>()?)
    };
    Ok(CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(REQUEST_HEADERS.iter().map(|h| HeaderName::from_static(h)).collect::<Vec<_>>())
        .expose_headers(EXPOSED_HEADERS.iter().map(|h| HeaderName::from_static(h)).collect::<Vec<_>>())
        .max_age(Duration::from_secs(24 * 3600)))
}

/// Refuses settings the gateway must not start with (in production: no CORS origins).
pub fn check(settings: &Settings) -> anyhow::Result<()> {
    cors(settings).map(|_| ())
}

/// The public documents (`GET /credentials/...`) are plain HTTP, which the gRPC-web layer
/// would answer 400 over HTTP/1.1: they pass it as if they were HTTP/2 (the version only
/// steers that layer; the upstream hop is HTTP/2 anyway).
fn plain_documents<B>(mut request: http::Request<B>) -> http::Request<B> {
    if request.uri().path().starts_with("/credentials/") {
        *request.version_mut() = http::Version::HTTP_2;
    }
    request
}

/// Serves the gateway on `listener` until `shutdown`; `public` names the methods callable
/// without a token (`/package.Service/Method`).
pub async fn serve(
    settings: Arc<Settings>,
    verifier: TokenVerifier,
    limiter: Arc<dyn RateLimiter>,
    upstreams: Upstreams,
    public: std::collections::HashSet<String>,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let gate = Arc::new(Gate::new(
        verifier,
        limiter,
        settings.gateway.rate_limit_per_minute,
        Duration::from_millis(settings.gateway.request_timeout_ms),
        client_addr::TrustedProxies::parse(&settings.gateway.trusted_proxies)?,
        public,
        proxy::AbuseLimits {
            max_request_bytes: settings.gateway.max_request_bytes.max(1),
            max_streams_per_caller: settings.gateway.max_streams_per_caller,
            expensive_per_minute: settings.gateway.expensive_per_minute,
        },
    ));
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
    upstream_health::spawn(
        reporter.clone(),
        vec![
            ("doan.membership.v1.MembershipService", upstreams.membership.clone()),
            ("doan.activities.v1.ActivitiesService", upstreams.activities.clone()),
            ("doan.awards.v1.AwardsService", upstreams.awards.clone()),
            ("doan.notifications.v1.NotificationsService", upstreams.notifications.clone()),
        ],
        shutdown.clone(),
    );
    let cors = cors(&settings)?;
    let (reflection_v1, reflection_v1alpha) = doan_platform::service::reflection()?;
    tracing::info!(addr = %listener.local_addr()?, "gateway serving gRPC-web and gRPC");
    tonic::transport::Server::builder()
        .accept_http1(true)
        .trace_fn(doan_platform::telemetry::grpc_request_span)
        .layer(cors)
        .layer(tower::util::MapRequestLayer::new(plain_documents))
        .layer(tonic_web::GrpcWebLayer::new())
        .add_service(Proxy::<Membership>::new(upstreams.membership, gate.clone()))
        .add_service(Proxy::<Activities>::new(upstreams.activities, gate.clone()))
        .add_service(Proxy::<Awards>::new(upstreams.awards.clone(), gate.clone()))
        .add_service(Proxy::<Credentials>::new(upstreams.awards, gate.clone()))
        .add_service(Proxy::<Notifications>::new(upstreams.notifications, gate))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .serve_with_incoming_shutdown(doan_platform::service::incoming(listener), shutdown.cancelled_owned())
        .await?;
    tracing::info!("gateway stopped");
    Ok(())
}
