//! `doan`: the Đoàn platform in one binary. See `doan --help`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use doan::{Backbone, Platform, ServiceName};
use doan_platform::Shutdown;
use doan_platform::bus::EventBus;
use doan_platform::config::Settings;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

/// The Đoàn platform: membership, activities, awards and notifications behind one gateway.
///
/// Settings come from built-in defaults, then `--config FILE` (TOML), then environment
/// variables `DOAN__SECTION__KEY` (e.g. `DOAN__BROKER__URL`). `doan config-keys` lists them.
#[derive(Parser)]
#[command(name = "doan", version, about, long_about)]
struct Cli {
    /// TOML settings file layered over the defaults.
    #[arg(long, global = true, env = "DOAN_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything in one process on embedded storage: one SQLite file per service under
    /// `embedded.data_dir`, an in-process event bus, in-memory rate limits. No servers needed.
    All,
    /// Run the membership service (PostgreSQL, RabbitMQ).
    Membership,
    /// Run the activities service (PostgreSQL, RabbitMQ).
    Activities,
    /// Run the awards service (PostgreSQL, RabbitMQ).
    Awards,
    /// Run the notifications service (PostgreSQL, RabbitMQ).
    Notifications,
    /// Run the API gateway (gRPC-web and gRPC; Redis for rate limits).
    Gateway,
    /// Apply database migrations of every service (or one) and exit.
    Migrate {
        /// Only this service: membership, activities, awards or notifications.
        #[arg(long)]
        service: Option<String>,
    },
    /// List, inspect and replay messages a consumer gave up on: the service's `.dlq` queue
    /// on RabbitMQ, or with `--embedded` its `dead_letters` table under `embedded.data_dir`.
    DeadLetters {
        /// Read the embedded mode's SQLite files instead of RabbitMQ.
        #[arg(long)]
        embedded: bool,
        #[command(subcommand)]
        action: DeadLetterAction,
    },
    /// Print a new token-signing key pair and personal-data key as environment variables.
    Keygen,
    /// List every configuration key (`section.key`, set as `DOAN__SECTION__KEY`).
    ConfigKeys,
    /// Ask a running server for its gRPC health; exits 0 only when it is SERVING
    /// (for container health checks and `helm test`).
    HealthCheck {
        /// Server address.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        addr: String,
        /// Service to ask about; empty means the server as a whole.
        #[arg(long, default_value = "")]
        service: String,
    },
}

#[derive(Subcommand)]
enum DeadLetterAction {
    /// Dead letters of SERVICE, oldest first (left where they are).
    List {
        /// activities, awards or notifications.
        service: String,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// One dead letter in full: reason, attempts, envelope, payload (base64).
    Show {
        /// activities, awards or notifications.
        service: String,
        /// Its event id (from `list`).
        event_id: String,
    },
    /// Hands dead letters back to SERVICE's consumer for a fresh round of attempts: the one
    /// with EVENT_ID, or all. Consumers are idempotent, so a replay never doubles an effect.
    Replay {
        /// activities, awards or notifications.
        service: String,
        /// Only this event id.
        event_id: Option<String>,
    },
}

fn service_of(command: &Command) -> Option<ServiceName> {
    match command {
        Command::Membership => Some(ServiceName::Membership),
        Command::Activities => Some(ServiceName::Activities),
        Command::Awards => Some(ServiceName::Awards),
        Command::Notifications => Some(ServiceName::Notifications),
        _ => None,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Keygen => return keygen(),
        Command::HealthCheck { addr, service } => return health_check(addr, service).await,
        Command::ConfigKeys => {
            for key in Settings::keys() {
                println!("{key}\tDOAN__{}", key.replace('.', "__").to_uppercase());
            }
            return Ok(());
        }
        _ => {}
    }
    let settings = Settings::load(cli.config.as_deref())?;
    let process = match &cli.command {
        Command::All => "all",
        Command::Gateway => "gateway",
        Command::Migrate { .. } => "migrate",
        Command::DeadLetters { .. } => "dead-letters",
        other => service_of(other).map(ServiceName::as_str).unwrap_or("doan"),
    };
    let _telemetry = doan_platform::telemetry::init(&settings.telemetry, process)?;
    let started = Instant::now();
    let shutdown = Shutdown::new();
    spawn_signal_handler(shutdown.clone());
    match cli.command {
        Command::All => run_all(settings, shutdown, started).await,
        Command::Gateway => {
            let settings = Arc::new(settings);
            let listener = TcpListener::bind(&settings.gateway.listen)
                .await
                .with_context(|| format!("bind {}", settings.gateway.listen))?;
            let limiter: Arc<dyn doan_gateway::ratelimit::RateLimiter> = if settings.gateway.rate_limit_per_minute > 0 {
                doan::redis_limiter(&settings).await?
            } else {
                Arc::new(doan_gateway::ratelimit::MemoryRateLimiter::default())
            };
            tracing::info!(startup_ms = started.elapsed().as_millis() as u64, "gateway ready");
            doan::start_gateway(settings, limiter, listener, shutdown)?.await?
        }
        Command::Migrate { service } => {
            let names = match service {
                Some(s) => vec![s.parse::<ServiceName>()?],
                None => ServiceName::ALL.to_vec(),
            };
            for name in names {
                let own = settings.service(name.as_str()).expect("every service has settings");
                let db = doan_platform::db::connect(own.database_url.expose_secret(), 2).await?;
                migrate(name, &db).await?;
                tracing::info!(service = name.as_str(), "migrations applied");
            }
            // Queues exist before any service publishes, even on a first install.
            doan::rabbit_bus(&settings).declare().await.context("declare the broker topology")?;
            tracing::info!("broker topology declared");
            Ok(())
        }
        Command::DeadLetters { embedded, action } => {
            use doan::dead_letters::Action;
            let settings = if embedded { doan::embedded::prepare(settings)?.settings } else { settings };
            let action = match action {
                DeadLetterAction::List { service, limit } => Action::List { service: service.parse()?, limit },
                DeadLetterAction::Show { service, event_id } => Action::Show { service: service.parse()?, event_id },
                DeadLetterAction::Replay { service, event_id } => {
                    Action::Replay { service: service.parse()?, event_id }
                }
            };
            doan::dead_letters::run(settings, embedded, action).await
        }
        other => {
            let name = service_of(&other).expect("every other command is a service");
            let own = settings.service(name.as_str()).expect("every service has settings");
            let listener = TcpListener::bind(&own.listen).await.with_context(|| format!("bind {}", own.listen))?;
            let settings = Arc::new(settings);
            let bus: Arc<dyn EventBus> = Arc::new(doan::rabbit_bus(&settings));
            let task = name.start(settings, bus, listener, shutdown).await?;
            tracing::info!(service = name.as_str(), startup_ms = started.elapsed().as_millis() as u64, "service ready");
            task.await?
        }
    }
}

async fn migrate(name: ServiceName, db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    match name {
        ServiceName::Membership => doan_platform::db::migrate::<doan_membership::Migrator>(db).await,
        ServiceName::Activities => doan_platform::db::migrate::<doan_activities::Migrator>(db).await,
        ServiceName::Awards => doan_platform::db::migrate::<doan_awards::Migrator>(db).await,
        ServiceName::Notifications => doan_platform::db::migrate::<doan_notifications::Migrator>(db).await,
    }
}

async fn run_all(settings: Settings, shutdown: Shutdown, started: Instant) -> anyhow::Result<()> {
    let embedded = doan::embedded::prepare(settings)?;
    let settings = embedded.settings;
    let admin = settings.auth.bootstrap_admin_username.clone();
    let password_hint = match &embedded.admin_password_file {
        Some(path) => format!("the password in {}", path.display()),
        None => "the password in auth.bootstrap_admin_password".to_string(),
    };
    let bus = Arc::new(doan::memory_bus(&settings));
    let platform = Platform::start(settings, Backbone::Embedded(bus)).await?;
    let relay = platform.shutdown.clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        relay.cancel();
    });
    let addr = platform.gateway_addr;
    tracing::info!(gateway = %addr, startup_ms = started.elapsed().as_millis() as u64, "Đoàn is ready");
    eprintln!(
        "\nĐoàn is running (embedded mode).\n  gateway (gRPC-web + gRPC): http://{addr}\n  log in:  grpcurl -plaintext -d '{{\"username\":\"{admin}\",\"password\":\"…\"}}' {addr} doan.membership.v1.MembershipService/Login\n           as `{admin}` with {password_hint}\n  health:  grpcurl -plaintext {addr} grpc.health.v1.Health/Check\n  stop:    Ctrl-C\n"
    );
    platform.wait().await
}

async fn health_check(addr: &str, service: &str) -> anyhow::Result<()> {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let channel = tonic::transport::Endpoint::from_shared(addr.to_string())?
        .connect_timeout(std::time::Duration::from_secs(3))
        .timeout(std::time::Duration::from_secs(3))
        .connect()
        .await
        .with_context(|| format!("connect to {addr}"))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest { service: service.to_string() })
        .await
        .with_context(|| format!("health check of {addr}"))?;
    let status = response.into_inner().status;
    if status == tonic_health::ServingStatus::Serving as i32 {
        println!("SERVING");
        Ok(())
    } else {
        anyhow::bail!("{addr} {service:?} is not serving (status {status})")
    }
}

fn keygen() -> anyhow::Result<()> {
    let (private, public) = doan_platform::auth::generate_keypair()?;
    let pii = doan_platform::crypto::FieldCipher::generate_key();
    println!("DOAN__AUTH__SIGNING_KEY_PEM='{}'", private.trim_end());
    println!("DOAN__AUTH__VERIFYING_KEY_PEM='{}'", public.trim_end());
    println!("DOAN__PII__ENCRYPTION_KEY='{pii}'");
    println!("DOAN__ATTENDANCE__CODE_KEY='{}'", doan_platform::crypto::FieldCipher::generate_key());
    println!("DOAN__CREDENTIALS__KEY='{}'", doan_platform::crypto::FieldCipher::generate_key());
    Ok(())
}

fn spawn_signal_handler(shutdown: Shutdown) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("install SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down: finishing in-flight requests");
        shutdown.cancel();
    });
}
