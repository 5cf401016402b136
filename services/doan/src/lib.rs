//! Starting the platform: one service, all of them, or the embedded default.
//!
//! The `doan` binary is a thin shell over this crate; tests use it to run the real servers
//! in-process on ephemeral ports, in both modes.
//!
//! # Layout
//! - [`ServiceName`]: the four domain services and how to start each.
//! - [`embedded`]: the settings of `doan all` (SQLite files, generated keys).
//! - [`dead_letters`]: `doan dead-letters list|show|replay` in both modes.
//! - [`topology`]: which service consumes which events, declared by every process.
//! - [`Platform`]: a running set of services and a gateway.

pub mod dead_letters;
pub mod embedded;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use doan_gateway::ratelimit::{MemoryRateLimiter, RateLimiter, RedisRateLimiter};
use doan_platform::Shutdown;
use doan_platform::auth::TokenVerifier;
use doan_platform::bus::memory::MemoryBus;
use doan_platform::bus::rabbit::RabbitBus;
use doan_platform::bus::{EventBus, RetryPolicy, Topology};
use doan_platform::clock::Clock;
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

    /// The event types the service consumes.
    pub fn subscriptions(self) -> Vec<&'static str> {
        match self {
            Self::Membership => doan_membership::subscriptions(),
            Self::Activities => doan_activities::subscriptions(),
            Self::Awards => doan_awards::subscriptions(),
            Self::Notifications => doan_notifications::subscriptions(),
        }
    }

    /// Who may call each of the service's RPCs.
    pub fn policies(self) -> doan_platform::policy::PolicyTable {
        match self {
            Self::Membership => doan_membership::api::POLICIES,
            Self::Activities => doan_activities::api::POLICIES,
            Self::Awards => doan_awards::api::POLICIES,
            Self::Notifications => doan_notifications::api::POLICIES,
        }
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

    /// Connects, builds and subscribes the service's consumer; [`Subscribed::serve`] then
    /// starts its relay and API. Splitting the two lets every consumer of a process listen
    /// before any relay publishes.
    pub async fn subscribe(
        self,
        settings: Arc<Settings>,
        bus: Arc<dyn EventBus>,
        clock: Clock,
        shutdown: Shutdown,
    ) -> anyhow::Result<Subscribed> {
        let verifier = verifier(&settings)?;
        let ctx = self.connect(settings, bus, verifier, shutdown.clone()).await?.with_clock(clock);
        let mut built = self.build(&ctx).await?;
        service::subscribe(&ctx, &mut built, shutdown.clone()).await?;
        Ok(Subscribed { ctx, built, shutdown })
    }

    /// Starts the service on `listener`; the task ends after `shutdown`.
    pub async fn start(
        self,
        settings: Arc<Settings>,
        bus: Arc<dyn EventBus>,
        listener: TcpListener,
        shutdown: Shutdown,
    ) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
        Ok(self.subscribe(settings, bus, Clock::system(), shutdown).await?.serve(listener))
    }
}

/// A service whose consumer is listening, ready to serve.
pub struct Subscribed {
    ctx: ServiceContext,
    built: service::Service,
    shutdown: Shutdown,
}

impl Subscribed {
    /// Starts the relay and the API on `listener`; the task ends after shutdown.
    pub fn serve(self, listener: TcpListener) -> JoinHandle<anyhow::Result<()>> {
        let Self { ctx, built, shutdown } = self;
        tokio::spawn(async move { service::serve(&ctx, built, listener, shutdown).await })
    }
}

/// The whole event topology: which service consumes which events. Every process declares
/// it before publishing or consuming.
pub fn topology() -> Topology {
    Topology::new(ServiceName::ALL.map(|name| (name.as_str(), name.subscriptions())))
}

/// The RabbitMQ bus of a process, declaring the whole [`topology`].
pub fn rabbit_bus(settings: &Settings) -> RabbitBus {
    RabbitBus::new(settings.broker.clone(), topology())
}

/// The in-process bus of the embedded mode.
pub fn memory_bus(settings: &Settings) -> MemoryBus {
    MemoryBus::new(RetryPolicy::from_settings(&settings.broker), topology())
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
    Ok(TokenVerifier::from_pem(pem, &settings.auth.issuer)?.with_max_lifetime(settings.auth.token_ttl_secs))
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
    doan_gateway::check(&settings)?;
    let verifier = verifier(&settings)?;
    let upstreams = doan_gateway::Upstreams::from_settings(&settings)?;
    // The RPCs callable without a token are the public ones of the services' policy tables.
    let public = ServiceName::ALL
        .iter()
        .flat_map(|name| {
            let table = name.policies();
            table
                .policies
                .iter()
                .filter(|p| p.audience == doan_platform::policy::Audience::Public)
                .map(move |p| format!("/{}/{}", table.service, p.method))
        })
        .collect();
    Ok(tokio::spawn(doan_gateway::serve(settings, verifier, limiter, upstreams, public, listener, shutdown)))
}

/// Which event bus and rate limiter a [`Platform`] uses.
#[derive(Clone)]
pub enum Backbone {
    /// One in-process bus shared by all services; rate limits in memory.
    Embedded(Arc<MemoryBus>),
    /// RabbitMQ (one connection set per service, as separate processes would) and Redis.
    Servers,
}

/// One service of a running platform.
struct RunningService {
    /// Where it listens (kept across a stop and start).
    addr: SocketAddr,
    /// A listener bound but not yet served (a deferred service).
    listener: Option<TcpListener>,
    /// Stops this service alone.
    shutdown: Shutdown,
    /// Its task, while it runs.
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A running platform: every service and the gateway.
pub struct Platform {
    /// Where clients connect.
    pub gateway_addr: SocketAddr,
    /// Where each service listens (for direct calls in tests and benchmarks).
    pub service_addrs: BTreeMap<&'static str, SocketAddr>,
    /// Stops everything.
    pub shutdown: Shutdown,
    settings: Arc<Settings>,
    backbone: Backbone,
    clock: Clock,
    services: BTreeMap<ServiceName, RunningService>,
    tasks: Vec<(String, JoinHandle<anyhow::Result<()>>)>,
}

impl Platform {
    /// Binds every listener, starts every service and then the gateway.
    pub async fn start(settings: Settings, backbone: Backbone) -> anyhow::Result<Self> {
        Self::start_with(settings, backbone, &[]).await
    }

    /// Like [`Platform::start`], but the `deferred` services only get their address: they
    /// start with [`Platform::start_service`] (a first install where some consumers have
    /// never run, a service crash-looping).
    pub async fn start_with(settings: Settings, backbone: Backbone, deferred: &[ServiceName]) -> anyhow::Result<Self> {
        Self::start_at(settings, backbone, deferred, Clock::system()).await
    }

    /// Like [`Platform::start_with`], every service reading time from `clock`.
    pub async fn start_at(
        settings: Settings,
        backbone: Backbone,
        deferred: &[ServiceName],
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let mut settings = settings;
        let shutdown = Shutdown::new();
        let mut services = BTreeMap::new();
        let mut service_addrs = BTreeMap::new();
        for name in ServiceName::ALL {
            let own = settings.service_mut(name.as_str()).expect("every service has settings");
            let listener = TcpListener::bind(&own.listen)
                .await
                .with_context(|| format!("bind {} on {}", name.as_str(), own.listen))?;
            let addr = listener.local_addr()?;
            own.upstream = format!("http://{addr}");
            service_addrs.insert(name.as_str(), addr);
            let running =
                RunningService { addr, listener: Some(listener), shutdown: shutdown.child_token(), task: None };
            services.insert(name, running);
        }
        let gateway_listener = TcpListener::bind(&settings.gateway.listen)
            .await
            .with_context(|| format!("bind the gateway on {}", settings.gateway.listen))?;
        let gateway_addr = gateway_listener.local_addr()?;
        let settings = Arc::new(settings);
        let mut platform = Self {
            gateway_addr,
            service_addrs,
            shutdown: shutdown.clone(),
            settings: settings.clone(),
            backbone: backbone.clone(),
            clock,
            services,
            tasks: Vec::new(),
        };
        let starting: Vec<ServiceName> = ServiceName::ALL.into_iter().filter(|n| !deferred.contains(n)).collect();
        platform.start_services(&starting).await?;
        let limiter: Arc<dyn RateLimiter> = match &backbone {
            Backbone::Embedded(_) => Arc::new(MemoryRateLimiter::default()),
            Backbone::Servers => redis_limiter(&settings).await?,
        };
        platform.tasks.push(("gateway".into(), start_gateway(settings, limiter, gateway_listener, shutdown)?));
        Ok(platform)
    }

    /// The settings the platform runs with (services' real addresses as upstreams).
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.clone()
    }

    fn bus(&self) -> Arc<dyn EventBus> {
        match &self.backbone {
            Backbone::Embedded(bus) => bus.clone(),
            Backbone::Servers => Arc::new(rabbit_bus(&self.settings)),
        }
    }

    /// Starts `names` (deferred or stopped before): every consumer subscribes first, then
    /// the relays and APIs start, so no relay publishes while a consumer is still missing.
    async fn start_services(&mut self, names: &[ServiceName]) -> anyhow::Result<()> {
        let mut subscribed = Vec::new();
        for &name in names {
            let bus = self.bus();
            let running = self.services.get_mut(&name).expect("every service is known");
            anyhow::ensure!(running.task.is_none(), "{} is already running", name.as_str());
            if running.shutdown.is_cancelled() {
                running.shutdown = self.shutdown.child_token();
            }
            let ready =
                name.subscribe(self.settings.clone(), bus, self.clock.clone(), running.shutdown.clone()).await?;
            subscribed.push((name, ready));
        }
        for (name, ready) in subscribed {
            let running = self.services.get_mut(&name).expect("every service is known");
            let listener = match running.listener.take() {
                Some(listener) => listener,
                None => TcpListener::bind(running.addr)
                    .await
                    .with_context(|| format!("bind {} on {} again", name.as_str(), running.addr))?,
            };
            running.task = Some(ready.serve(listener));
        }
        Ok(())
    }

    /// Starts one service that was deferred or stopped.
    pub async fn start_service(&mut self, name: ServiceName) -> anyhow::Result<()> {
        self.start_services(&[name]).await
    }

    /// Stops one service (gracefully) and waits for it; the others go on.
    pub async fn stop_service(&mut self, name: ServiceName) -> anyhow::Result<()> {
        let running = self.services.get_mut(&name).expect("every service is known");
        running.shutdown.cancel();
        match running.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }

    /// Stops everything and waits for it; reports the first failure.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until every task ended (after shutdown, or a failure).
    pub async fn wait(self) -> anyhow::Result<()> {
        let mut first_error = None;
        let services = self.services.into_iter().filter_map(|(n, r)| Some((n.as_str().to_string(), r.task?)));
        for (name, task) in services.chain(self.tasks) {
            let result = task.await.map_err(anyhow::Error::from).and_then(|r| r);
            if let Err(err) = result {
                tracing::error!(task = %name, error = format!("{err:#}"), "stopped with an error");
                first_error.get_or_insert(err.context(name));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
