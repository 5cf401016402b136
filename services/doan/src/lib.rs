//! Starting the platform: one service, all of them, or the embedded default.
//!
//! The `doan` binary is a thin shell over this crate; tests use it to run the real servers
//! in-process on ephemeral ports, in both modes.
//!
//! # Layout
//! - [`ServiceName`]: the four domain services and how to start each.
//! - [`embedded`]: the settings of `doan all` (SQLite files, generated keys).
//! - [`Platform`]: a running set of services and a gateway.

pub mod embedded;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use doan_gateway::ratelimit::{MemoryRateLimiter, RateLimiter, RedisRateLimiter};
use doan_platform::Shutdown;
use doan_platform::auth::TokenVerifier;
use doan_platform::bus::EventBus;
use doan_platform::bus::memory::MemoryBus;
use doan_platform::bus::rabbit::RabbitBus;
use doan_platform::config::Settings;
use doan_platform::service::{self, ServiceContext};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The four domain services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServiceName {
    /// Units, accounts, members.
    Membership,
    /// Activities and check-ins.
    Activities,
    /// Award decisions and standings.
    Awards,
    /// Member inboxes.
    Notifications,
}

impl ServiceName {
    /// Every service, in start order.
    pub const ALL: [ServiceName; 4] = [Self::Membership, Self::Activities, Self::Awards, Self::Notifications];

    /// The service's name (`membership`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Membership => doan_membership::NAME,
            Self::Activities => doan_activities::NAME,
            Self::Awards => doan_awards::NAME,
            Self::Notifications => doan_notifications::NAME,
        }
    }

    /// Connects to the service's database and migrates it.
    pub async fn connect(
        self,
        settings: Arc<Settings>,
        bus: Arc<dyn EventBus>,
        verifier: TokenVerifier,
        shutdown: Shutdown,
    ) -> anyhow::Result<ServiceContext> {
        let name = self.as_str();
        let ctx = match self {
            Self::Membership => {
                ServiceContext::connect::<doan_membership::Migrator>(name, settings, bus, verifier, shutdown).await
            }
            Self::Activities => {
                ServiceContext::connect::<doan_activities::Migrator>(name, settings, bus, verifier, shutdown).await
            }
            Self::Awards => {
                ServiceContext::connect::<doan_awards::Migrator>(name, settings, bus, verifier, shutdown).await
            }
            Self::Notifications => {
                ServiceContext::connect::<doan_notifications::Migrator>(name, settings, bus, verifier, shutdown).await
            }
        };
        ctx.with_context(|| format!("start {name}"))
    }

    /// Builds the service's API and consumer.
    pub async fn build(self, ctx: &ServiceContext) -> anyhow::Result<service::Service> {
        match self {
            Self::Membership => doan_membership::build(ctx).await,
            Self::Activities => doan_activities::build(ctx).await,
            Self::Awards => doan_awards::build(ctx).await,
            Self::Notifications => doan_notifications::build(ctx).await,
        }
    }

    /// Starts the service on `listener`; the task ends after `shutdown`.
    pub async fn start(
        self,
        settings: Arc<Settings>,
        bus: Arc<dyn EventBus>,
        listener: TcpListener,
        shutdown: Shutdown,
    ) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
        let verifier = verifier(&settings)?;
        let ctx = self.connect(settings, bus, verifier, shutdown.clone()).await?;
        let built = self.build(&ctx).await?;
        Ok(tokio::spawn(async move { service::serve(&ctx, built, listener, shutdown).await }))
    }
}

impl std::str::FromStr for ServiceName {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == s).ok_or_else(|| anyhow::anyhow!("unknown service {s:?}"))
    }
}

/// The token verifier from `auth.verifying_key_pem`.
pub fn verifier(settings: &Settings) -> anyhow::Result<TokenVerifier> {
    let pem = settings
        .auth
        .verifying_key_pem
        .as_deref()
        .context("auth.verifying_key_pem is required (generate a pair with `doan keygen`)")?;
    TokenVerifier::from_pem(pem, &settings.auth.issuer)
}

/// The rate limiter of a gateway running against real servers: Redis.
pub async fn redis_limiter(settings: &Settings) -> anyhow::Result<Arc<dyn RateLimiter>> {
    Ok(Arc::new(RedisRateLimiter::connect(settings.redis.url.expose_secret(), &settings.redis.key_prefix).await?))
}

/// Starts the gateway on `listener`, forwarding to `settings.<service>.upstream`.
pub fn start_gateway(
    settings: Arc<Settings>,
    limiter: Arc<dyn RateLimiter>,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
    let verifier = verifier(&settings)?;
    let upstreams = doan_gateway::Upstreams::from_settings(&settings)?;
    Ok(tokio::spawn(doan_gateway::serve(settings, verifier, limiter, upstreams, listener, shutdown)))
}

/// Which event bus and rate limiter a [`Platform`] uses.
pub enum Backbone {
    /// One in-process bus shared by all services; rate limits in memory.
    Embedded(Arc<MemoryBus>),
    /// RabbitMQ (one connection set per service, as separate processes would) and Redis.
    Servers,
}

/// A running platform: every service and the gateway.
pub struct Platform {
    /// Where clients connect.
    pub gateway_addr: SocketAddr,
    /// Where each service listens (for direct calls in tests and benchmarks).
    pub service_addrs: BTreeMap<&'static str, SocketAddr>,
    /// Stops everything.
    pub shutdown: Shutdown,
    tasks: Vec<(String, JoinHandle<anyhow::Result<()>>)>,
}

impl Platform {
    /// Binds every listener, starts every service and then the gateway.
    pub async fn start(settings: Settings, backbone: Backbone) -> anyhow::Result<Self> {
        let mut settings = settings;
        let shutdown = Shutdown::new();
        let mut listeners = Vec::new();
        let mut service_addrs = BTreeMap::new();
        for name in ServiceName::ALL {
            let own = settings.service_mut(name.as_str()).expect("every service has settings");
            let listener = TcpListener::bind(&own.listen)
                .await
                .with_context(|| format!("bind {} on {}", name.as_str(), own.listen))?;
            let addr = listener.local_addr()?;
            own.upstream = format!("http://{addr}");
            service_addrs.insert(name.as_str(), addr);
            listeners.push((name, listener));
        }
        let gateway_listener = TcpListener::bind(&settings.gateway.listen)
            .await
            .with_context(|| format!("bind the gateway on {}", settings.gateway.listen))?;
        let gateway_addr = gateway_listener.local_addr()?;
        let settings = Arc::new(settings);
        let mut tasks = Vec::new();
        for (name, listener) in listeners {
            let bus: Arc<dyn EventBus> = match &backbone {
                Backbone::Embedded(bus) => bus.clone(),
                Backbone::Servers => Arc::new(RabbitBus::new(settings.broker.clone())),
            };
            let task = name.start(settings.clone(), bus, listener, shutdown.clone()).await?;
            tasks.push((name.as_str().to_string(), task));
        }
        let limiter: Arc<dyn RateLimiter> = match &backbone {
            Backbone::Embedded(_) => Arc::new(MemoryRateLimiter::default()),
            Backbone::Servers => redis_limiter(&settings).await?,
        };
        tasks.push(("gateway".into(), start_gateway(settings, limiter, gateway_listener, shutdown.clone())?));
        Ok(Self { gateway_addr, service_addrs, shutdown, tasks })
    }

    /// Stops everything and waits for it; reports the first failure.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until every task ended (after shutdown, or a failure).
    pub async fn wait(self) -> anyhow::Result<()> {
        let mut first_error = None;
        for (name, task) in self.tasks {
            let result = task.await.map_err(anyhow::Error::from).and_then(|r| r);
            if let Err(err) = result {
                tracing::error!(task = %name, error = format!("{err:#}"), "stopped with an error");
                first_error.get_or_insert(err.context(name));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
