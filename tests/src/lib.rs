//! Test harness: the platform started in-process, in the embedded mode (SQLite files in a
//! temporary directory, the in-process bus) or on the real servers (a fresh PostgreSQL
//! database per service, a unique RabbitMQ exchange and queue prefix, a unique Redis key
//! prefix), so runs never see each other's data and pass when repeated or run side by side.
//!
//! Real-server tests run when PostgreSQL, RabbitMQ and Redis answer on their default ports
//! (or `DOAN_TEST_*_URL`). Where they do not, the test prints `SKIPPED (…)` and passes,
//! unless `DOAN_REQUIRE_SERVERS=1` (CI sets it), where it fails.

pub mod client;
pub mod effects;
pub mod fakes;
pub mod load;
pub mod processes;
pub mod proxy;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use doan::{Backbone, Platform, ServiceName};
use doan_platform::bus::memory::MemoryBus;
use doan_platform::clock::Clock;
use doan_platform::config::Settings;
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;

/// The bootstrap administrator's password in every test platform.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// Where the real servers are.
#[derive(Debug, Clone)]
pub struct ServerUrls {
    /// PostgreSQL server (no database in the path).
    pub postgres: String,
    /// RabbitMQ.
    pub amqp: String,
    /// Redis.
    pub redis: String,
}

impl ServerUrls {
    /// From `DOAN_TEST_POSTGRES_URL`, `DOAN_TEST_AMQP_URL`, `DOAN_TEST_REDIS_URL` or defaults.
    pub fn from_env() -> Self {
        let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
        Self {
            postgres: var("DOAN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
            amqp: var("DOAN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"),
            redis: var("DOAN_TEST_REDIS_URL", "redis://127.0.0.1:6379"),
        }
    }
}

fn host_port(url: &str) -> Option<String> {
    let rest = url.split("://").nth(1)?;
    let rest = rest.rsplit('@').next()?;
    Some(rest.split('/').next()?.to_string())
}

/// The real servers, or `None` (after printing why) when a test should skip. Panics when
/// they are missing and `DOAN_REQUIRE_SERVERS=1`.
pub async fn real_servers(test: &str) -> Option<ServerUrls> {
    let urls = ServerUrls::from_env();
    for (name, url) in [("PostgreSQL", &urls.postgres), ("RabbitMQ", &urls.amqp), ("Redis", &urls.redis)] {
        let addr = host_port(url).unwrap_or_default();
        let reachable = matches!(
            tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(&addr)).await,
            Ok(Ok(_))
        );
        if !reachable {
            if std::env::var("DOAN_REQUIRE_SERVERS").as_deref() == Ok("1") {
                panic!("{test}: {name} is not reachable at {addr} and DOAN_REQUIRE_SERVERS=1");
            }
            // Written past the test harness's capture, so a skip is always visible.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED (real servers): {test}: {name} is not reachable at {addr}; set DOAN_REQUIRE_SERVERS=1 to fail instead"
            );
            return None;
        }
    }
    Some(urls)
}

/// Settings every test platform starts from: quiet logs, fast retries, keys generated.
pub fn base_settings() -> Settings {
    let mut s = Settings::load_with(None, Vec::new()).expect("default settings load");
    s.gateway.listen = "127.0.0.1:0".into();
    // Suites call searches, reports and figures far more often than a person does; the
    // gateway's limits on them are tested on their own (tests/gateway_limits.rs).
    s.gateway.expensive_per_minute = 0;
    s.broker.retry_base_ms = 50;
    s.broker.max_attempts = 3;
    s.auth.bootstrap_admin_password = Some(SecretString::from(ADMIN_PASSWORD.to_string()));
    let (private, public) = doan_platform::auth::generate_keypair().expect("generate keys");
    s.auth.signing_key_pem = Some(SecretString::from(private));
    s.auth.verifying_key_pem = Some(public);
    s.pii.encryption_key = Some(SecretString::from(doan_platform::crypto::FieldCipher::generate_key()));
    s.attendance.code_key = Some(SecretString::from(doan_platform::crypto::FieldCipher::generate_key()));
    s.credentials.key = Some(SecretString::from(doan_platform::crypto::FieldCipher::generate_key()));
    let _ = doan_platform::telemetry::init(
        &doan_platform::config::TelemetrySettings {
            log_format: "text".into(),
            log_level: std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            otlp_endpoint: None,
        },
        "tests",
    );
    s
}

/// A platform under test, and what is needed to look behind it.
pub struct TestPlatform {
    /// The running platform.
    pub platform: Platform,
    /// Its settings (database URLs included).
    pub settings: Settings,
    /// The in-process bus (embedded mode only).
    pub memory_bus: Option<Arc<MemoryBus>>,
    data_dir: Option<PathBuf>,
    servers: Option<ServerUrls>,
    run_id: String,
}

impl TestPlatform {
    /// The embedded mode in a fresh temporary directory.
    pub async fn embedded() -> anyhow::Result<Self> {
        Self::embedded_with(base_settings()).await
    }

    /// The embedded mode with adjusted [`base_settings`].
    pub async fn embedded_with(settings: Settings) -> anyhow::Result<Self> {
        Self::embedded_deferred(settings, &[]).await
    }

    /// The embedded mode where the `deferred` services start only when the test says
    /// (`tp.platform.start_service(…)`).
    pub async fn embedded_deferred(settings: Settings, deferred: &[ServiceName]) -> anyhow::Result<Self> {
        Self::embedded_at(settings, deferred, Clock::system()).await
    }

    /// The embedded mode with every service reading time from `clock`.
    pub async fn embedded_at(mut settings: Settings, deferred: &[ServiceName], clock: Clock) -> anyhow::Result<Self> {
        let run_id = run_id();
        let dir = std::env::temp_dir().join(format!("doan-test-{run_id}"));
        settings.embedded.data_dir = dir.clone();
        let settings = doan::embedded::prepare(settings)?.settings;
        let bus = Arc::new(doan::memory_bus(&settings));
        let platform = Platform::start_at(settings.clone(), Backbone::Embedded(bus.clone()), deferred, clock).await?;
        Ok(Self { platform, settings, memory_bus: Some(bus), data_dir: Some(dir), servers: None, run_id })
    }

    /// Stops every process of the platform and starts them again on the same data (as after a
    /// crash: nothing but the databases and the broker's queues survives). The gateway's
    /// address changes.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        let (backbone, bus) = match self.memory_bus {
            Some(_) => {
                let bus = Arc::new(doan::memory_bus(&self.settings));
                (Backbone::Embedded(bus.clone()), Some(bus))
            }
            None => (Backbone::Servers, None),
        };
        let fresh = Platform::start(self.settings.clone(), backbone).await?;
        let old = std::mem::replace(&mut self.platform, fresh);
        self.memory_bus = bus;
        old.stop().await
    }

    /// Settings for the real servers with fresh, unique databases, exchange, queues and keys.
    pub async fn server_settings(urls: &ServerUrls, run_id: &str) -> anyhow::Result<Settings> {
        let mut settings = base_settings();
        let admin = Database::connect(format!("{}/postgres", urls.postgres)).await?;
        for name in doan::ServiceName::ALL {
            let db = format!("doan_test_{}_{}", run_id, name.as_str());
            admin.execute_unprepared(&format!("CREATE DATABASE {db}")).await?;
            let own = settings.service_mut(name.as_str()).expect("service settings");
            own.database_url = SecretString::from(format!("{}/{db}", urls.postgres));
            own.listen = "127.0.0.1:0".into();
            own.max_db_connections = 5;
        }
        admin.close().await?;
        settings.broker.url = SecretString::from(urls.amqp.clone());
        settings.broker.exchange = format!("doan.test.{run_id}");
        settings.broker.queue_prefix = format!("doan.test.{run_id}");
        settings.redis.url = SecretString::from(urls.redis.clone());
        settings.redis.key_prefix = format!("doan-test-{run_id}");
        Ok(settings)
    }

    /// The real servers, each service with its own RabbitMQ connections (as processes).
    pub async fn servers(urls: ServerUrls) -> anyhow::Result<Self> {
        let run_id = run_id();
        let settings = Self::server_settings(&urls, &run_id).await?;
        Self::servers_with(urls, run_id, settings).await
    }

    /// Like [`TestPlatform::servers`] with prepared settings (see [`TestPlatform::server_settings`]).
    pub async fn servers_with(urls: ServerUrls, run_id: String, settings: Settings) -> anyhow::Result<Self> {
        Self::servers_deferred(urls, run_id, settings, &[]).await
    }

    /// Like [`TestPlatform::servers_with`], the `deferred` services not started yet.
    pub async fn servers_deferred(
        urls: ServerUrls,
        run_id: String,
        settings: Settings,
        deferred: &[ServiceName],
    ) -> anyhow::Result<Self> {
        let platform = Platform::start_with(settings.clone(), Backbone::Servers, deferred).await?;
        Ok(Self { platform, settings, memory_bus: None, data_dir: None, servers: Some(urls), run_id })
    }

    /// The real servers with fresh databases and settings changed by `adjust`, every service
    /// reading time from `clock`.
    pub async fn servers_at(
        urls: ServerUrls,
        clock: Clock,
        adjust: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<Self> {
        let run_id = run_id();
        let mut settings = Self::server_settings(&urls, &run_id).await?;
        adjust(&mut settings);
        let platform = Platform::start_at(settings.clone(), Backbone::Servers, &[], clock).await?;
        Ok(Self { platform, settings, memory_bus: None, data_dir: None, servers: Some(urls), run_id })
    }

    /// A connection to a service's own database (to look behind the API).
    pub async fn database(&self, service: &str) -> anyhow::Result<sea_orm::DatabaseConnection> {
        database(&self.settings, service).await
    }

    /// Stops the platform and removes what the run created.
    pub async fn stop(self) -> anyhow::Result<()> {
        let result = self.platform.stop().await;
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(urls) = &self.servers {
            cleanup_servers(urls, &self.run_id, &self.settings).await;
        }
        result
    }
}

/// A connection to a service's own database under `settings`.
pub async fn database(settings: &Settings, service: &str) -> anyhow::Result<sea_orm::DatabaseConnection> {
    use secrecy::ExposeSecret;
    let url = settings.service(service).expect("service").database_url.expose_secret().to_string();
    doan_platform::db::connect(&url, 2).await
}

/// A short unique id for names of databases, queues and keys.
pub fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// Drops the databases, queues and exchange of run `run_id`.
pub async fn cleanup_servers(urls: &ServerUrls, run_id: &str, settings: &Settings) {
    if let Ok(admin) = Database::connect(format!("{}/postgres", urls.postgres)).await {
        for name in doan::ServiceName::ALL {
            let _ = admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS doan_test_{run_id}_{} WITH (FORCE)",
                    name.as_str()
                ))
                .await;
        }
    }
    if let Ok(conn) = lapin::Connection::connect(&urls.amqp, lapin::ConnectionProperties::default()).await {
        if let Ok(ch) = conn.create_channel().await {
            // Membership consumes nothing, so it has no queues to delete.
            for name in ["activities", "awards", "notifications"] {
                let q = doan_platform::bus::rabbit::QueueNames::new(&settings.broker.queue_prefix, name);
                for queue in [q.main, q.retry, q.dead] {
                    let _ = ch.queue_delete(queue.as_str().into(), Default::default()).await;
                }
            }
            let _ = ch.exchange_delete(settings.broker.exchange.as_str().into(), Default::default()).await;
        }
        let _ = conn.close(200, "test done".into()).await;
    }
}

/// Retries `f` until it returns `Some` or `timeout` passes (eventual consistency).
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Publishes every event the producers' outboxes hold a second time, then sentinels (a
/// `MemberAdmitted` and a `ParticipationRecorded`), and waits until every consumer of each
/// sentinel applied it (the three directories, awards' standings, both notices, membership's evidence) and, on RabbitMQ, every consumer's queue is drained: every duplicate queued
/// before the sentinels has then been delivered again to every consumer it routes to.
pub async fn redeliver_everything(tp: &TestPlatform) -> anyhow::Result<()> {
    use doan_platform::bus::EventBus;
    use doan_proto::events::{EventEnvelope, IntegrationEvent, MemberAdmitted, ParticipationRecorded};
    use prost::Message;
    use sea_orm::EntityTrait;

    let bus: Arc<dyn EventBus> = match &tp.memory_bus {
        Some(bus) => bus.clone(),
        None => Arc::new(doan::rabbit_bus(&tp.settings)),
    };
    for producer in ["membership", "activities", "awards"] {
        let db = tp.database(producer).await?;
        for row in doan_platform::outbox::entity::Entity::find().all(&db).await? {
            let envelope = EventEnvelope::decode(row.envelope.as_slice())?;
            bus.publish(&envelope, &row.envelope).await?;
        }
    }
    let envelope = |event_type: &str, payload: Vec<u8>| EventEnvelope {
        event_id: doan_platform::convert::new_id(),
        event_type: event_type.into(),
        producer: "tests".into(),
        payload,
        ..Default::default()
    };
    let admitted = doan_platform::convert::new_id();
    let checked_in = doan_platform::convert::new_id();
    let sentinels = [
        envelope(
            MemberAdmitted::EVENT_TYPE,
            MemberAdmitted { member_id: admitted.clone(), full_name: "Sentinel".into(), ..Default::default() }
                .encode_to_vec(),
        ),
        envelope(
            ParticipationRecorded::EVENT_TYPE,
            ParticipationRecorded {
                member_id: checked_in.clone(),
                participation_id: doan_platform::convert::new_id(),
                activity_title: "Sentinel".into(),
                points: 1,
                checked_in_at: Some(doan_platform::convert::timestamp(chrono::Utc::now())),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
    ];
    for sentinel in &sentinels {
        bus.publish(sentinel, &sentinel.encode_to_vec()).await?;
    }
    let effects: [(&str, &str, &String); 7] = [
        ("activities", "SELECT COUNT(*) AS n FROM directory_members WHERE member_id = ", &admitted),
        ("awards", "SELECT COUNT(*) AS n FROM directory_members WHERE member_id = ", &admitted),
        ("notifications", "SELECT COUNT(*) AS n FROM directory_members WHERE member_id = ", &admitted),
        ("notifications", "SELECT COUNT(*) AS n FROM notifications WHERE member_id = ", &admitted),
        ("awards", "SELECT COUNT(*) AS n FROM standings WHERE member_id = ", &checked_in),
        ("notifications", "SELECT COUNT(*) AS n FROM notifications WHERE member_id = ", &checked_in),
        ("membership", "SELECT COUNT(*) AS n FROM member_participations WHERE member_id = ", &checked_in),
    ];
    for (service, sql, key) in effects {
        let db = tp.database(service).await?;
        eventually(&format!("{service} applies the sentinel"), Duration::from_secs(20), || {
            let db = db.clone();
            async move { (count_where(&db, sql, key).await.ok()? > 0).then_some(()) }
        })
        .await;
    }
    if tp.memory_bus.is_none() {
        for service in ["membership", "activities", "awards", "notifications"] {
            eventually(&format!("{service}'s queue is drained"), Duration::from_secs(20), || {
                let bus = bus.clone();
                async move { (bus.queue_depths(service).await.ok()??.waiting == 0).then_some(()) }
            })
            .await;
        }
        bus.close().await;
    }
    Ok(())
}

async fn count_where(db: &sea_orm::DatabaseConnection, sql: &str, key: &str) -> anyhow::Result<i64> {
    let backend = db.get_database_backend();
    let placeholder = if backend == sea_orm::DbBackend::Sqlite { "?" } else { "$1" };
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(backend, format!("{sql}{placeholder}"), [key.into()]))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count row"))?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// Notices in `member_id`'s inbox, read from the notifications database.
pub async fn notices_of(db: &sea_orm::DatabaseConnection, member_id: &str) -> anyhow::Result<u64> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Sqlite => "SELECT COUNT(*) AS n FROM notifications WHERE member_id = ?",
        _ => "SELECT COUNT(*) AS n FROM notifications WHERE member_id = $1",
    };
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(backend, sql, [member_id.into()]))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count row"))?;
    Ok(row.try_get::<i64>("", "n")? as u64)
}

/// The gRPC reflection v1 client (for the reflection test).
pub use tonic_reflection::pb::v1 as reflection;
