//! Settings: built-in defaults, then an optional TOML file, then `DOAN__SECTION__KEY`
//! environment variables (e.g. `DOAN__BROKER__URL`). Secrets are [`SecretString`]s: their
//! `Debug` output is redacted, so printing settings never leaks them.

use std::path::PathBuf;

use anyhow::Context;
use secrecy::SecretString;
use serde::Deserialize;

/// Every setting of every process. Each process reads only the sections it needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `development` (the default) or `production`: in production the gateway refuses to
    /// start without the settings a public deployment must make (CORS origins).
    pub environment: String,
    /// The gateway facing mobile clients.
    pub gateway: GatewaySettings,
    /// The membership service.
    pub membership: ServiceSettings,
    /// The activities service.
    pub activities: ServiceSettings,
    /// The awards service.
    pub awards: ServiceSettings,
    /// The notifications service.
    pub notifications: ServiceSettings,
    /// RabbitMQ, used when services run as separate processes.
    pub broker: BrokerSettings,
    /// Redis, used by the gateway's rate limiter when it runs as its own process.
    pub redis: RedisSettings,
    /// Tokens, passwords and the bootstrap administrator.
    pub auth: AuthSettings,
    /// Encryption of personal data.
    pub pii: PiiSettings,
    /// Attendance proof: check-in codes and offline records.
    pub attendance: AttendanceSettings,
    /// Award credentials: issuers' keys and the public URLs credentials name (awards).
    pub credentials: CredentialsSettings,
    /// Logs and traces.
    pub telemetry: TelemetrySettings,
    /// The embedded mode (`doan all`).
    pub embedded: EmbeddedSettings,
    /// Database connection behaviour shared by every service.
    pub database: DatabaseSettings,
    /// How long bookkeeping rows are kept.
    pub retention: RetentionSettings,
    /// Effective-dated rule files.
    pub rules: RulesSettings,
    /// Background jobs (reorganisations, scheduled proposals).
    pub jobs: JobsSettings,
    /// Push and email providers (the notifications service).
    pub channels: ChannelsSettings,
    /// Broadcasts: fan-out, directive reminders and escalation (the notifications service).
    pub broadcasts: BroadcastSettings,
}

/// Push and email: where the providers are and how hard to press them. A provider whose
/// credentials are not set is off: no deliveries are queued for it.
#[derive(Debug, Clone, Deserialize)]
pub struct ChannelsSettings {
    /// Firebase Cloud Messaging HTTP v1 (Android).
    pub fcm: FcmSettings,
    /// Apple Push Notification service (iOS).
    pub apns: ApnsSettings,
    /// Email through an SMTP relay.
    pub smtp: SmtpSettings,
    /// First retry delay after a transient failure (doubled each attempt, with jitter).
    pub retry_base_ms: u64,
    /// Longest retry delay.
    pub retry_max_ms: u64,
    /// Attempts before a delivery fails for good.
    pub max_attempts: u32,
    /// Deliveries claimed per dispatcher round.
    pub dispatch_batch: u64,
    /// Milliseconds between the dispatcher's looks for retries that came due (new deliveries wake it
    /// at once).
    pub dispatch_poll_ms: u64,
}

/// FCM HTTP v1 settings.
#[derive(Debug, Clone, Deserialize)]
pub struct FcmSettings {
    /// The service account's JSON key file (`project_id`, `client_email`, `private_key`,
    /// `token_uri`); unset: FCM is off.
    pub credentials_file: Option<PathBuf>,
    /// Base URL of the FCM API.
    pub base_url: String,
    /// OAuth token endpoint; unset: the key file's `token_uri`.
    pub token_url: Option<String>,
    /// HTTP/2 connections in the pool.
    pub connections: usize,
    /// Requests in flight at most.
    pub max_in_flight: usize,
    /// Timeout of one request.
    pub timeout_ms: u64,
}

/// APNs settings (token-based authentication).
#[derive(Debug, Clone, Deserialize)]
pub struct ApnsSettings {
    /// The `.p8` signing key (PKCS#8 PEM, P-256); unset: APNs is off.
    pub key_file: Option<PathBuf>,
    /// The key's 10-character Key ID (`kid`).
    pub key_id: String,
    /// The 10-character Team ID (`iss`).
    pub team_id: String,
    /// The app's bundle ID (`apns-topic`).
    pub topic: String,
    /// Production endpoint.
    pub production_url: String,
    /// Sandbox endpoint (development builds).
    pub sandbox_url: String,
    /// HTTP/2 connections per endpoint.
    pub connections: usize,
    /// Requests in flight at most.
    pub max_in_flight: usize,
    /// Timeout of one request.
    pub timeout_ms: u64,
}

/// SMTP settings.
#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    /// Relay URL: `smtps://user:password@host:465`, `smtp://host:587?tls=required`, or
    /// `smtp://host:port` without TLS (local relays only); unset: email is off.
    pub url: Option<SecretString>,
    /// Sender address, e.g. `Đoàn TNCS Hồ Chí Minh <thongbao@doanthanhnien.vn>`.
    pub from: String,
    /// Pooled connections.
    pub pool_size: u32,
    /// Timeout of one message.
    pub timeout_ms: u64,
}

/// Broadcast settings.
#[derive(Debug, Clone, Deserialize)]
pub struct BroadcastSettings {
    /// Recipients written per transaction when a broadcast is sent.
    pub fanout_chunk: u64,
    /// Chunks written at once on PostgreSQL (each its own transaction and connection; at
    /// most 16; SQLite writes one at a time).
    pub fanout_parallel: u64,
    /// Seconds between looks for scheduled broadcasts, reminders, escalations and digests.
    pub watch_every_secs: u64,
}

/// Background jobs: how big a batch is, how long a process holds a job, how hard it presses.
#[derive(Debug, Clone, Deserialize)]
pub struct JobsSettings {
    /// Rows per transaction (members rewritten or re-homed by a reorganisation step).
    pub batch_size: u64,
    /// Milliseconds to wait between batches, so a national reorganisation leaves the database
    /// to online traffic; 0 runs batches back to back.
    pub batch_pause_ms: u64,
    /// Seconds a process holds a job it applies; another replica (or the restarted process)
    /// takes the job over when the holder stopped renewing for this long.
    pub lease_secs: u64,
    /// Seconds between looks for reminders to send (dues owed, evaluation deadlines,
    /// remittances due); each reminder goes out once, whatever the number of looks.
    pub reminders_every_secs: u64,
}

/// Where a deployment's own rule files are.
#[derive(Debug, Clone, Deserialize)]
pub struct RulesSettings {
    /// Directory whose `admission.toml`, `awards.toml`, `dues.toml`, `evaluation.toml` replace
    /// the compiled-in files of the same name (see `rules/README.md`); unset uses those.
    pub dir: Option<PathBuf>,
}

/// Database connection behaviour.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Longest wait for a pooled connection, milliseconds. Short, so that a call fails fast
    /// with UNAVAILABLE while the database is down instead of hanging until its deadline.
    pub acquire_timeout_ms: u64,
    /// Longest wait to open a new connection, milliseconds.
    pub connect_timeout_ms: u64,
}

/// Retention of bookkeeping rows; each age in hours, 0 keeps forever.
#[derive(Debug, Clone, Deserialize)]
pub struct RetentionSettings {
    /// Published outbox rows (pending rows are never deleted).
    pub outbox_published_hours: u64,
    /// Inbox rows (deduplication records). Must outlast any redelivery: the broker's
    /// retry window and a replay of dead letters.
    pub inbox_hours: u64,
    /// Notices a member has read.
    pub read_notices_hours: u64,
    /// How often the retention job runs, seconds.
    pub interval_secs: u64,
    /// Days after a member was removed (xóa tên) or expelled (khai trừ) that their personal
    /// data is anonymised (membership); 0 keeps it.
    pub removed_members_days: u64,
}

/// One domain service's process settings.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceSettings {
    /// Address the gRPC server binds, e.g. `0.0.0.0:50051`.
    pub listen: String,
    /// Database URL, `postgres://…` or `sqlite://…`; one database per service.
    pub database_url: SecretString,
    /// Maximum pooled database connections.
    pub max_db_connections: u32,
    /// Address the gateway uses to reach this service, e.g. `http://membership:50051`.
    pub upstream: String,
}

/// Gateway settings.
#[derive(Debug, Clone, Deserialize)]
pub struct GatewaySettings {
    /// Address serving gRPC-web and native gRPC.
    pub listen: String,
    /// Deadline applied to a call that carries none (and cap on longer ones), milliseconds.
    /// Streaming calls are exempt.
    pub request_timeout_ms: u64,
    /// Calls allowed per caller per minute; 0 disables rate limiting.
    pub rate_limit_per_minute: u32,
    /// Origins allowed by CORS for browsers (`https://app.example.vn`); empty allows any
    /// origin, which `environment = "production"` refuses.
    pub allowed_origins: Vec<String>,
    /// Largest request body the gateway forwards, bytes (gRPC-web decoded); a larger one is
    /// answered RESOURCE_EXHAUSTED without reaching a service.
    pub max_request_bytes: u64,
    /// Server-streaming calls (watches, exports, downloads) one caller may hold open at once
    /// on one gateway replica; 0: no limit.
    pub max_streams_per_caller: u32,
    /// Calls per caller per minute to each expensive RPC (searches, exports, imports,
    /// statistics: `doan_platform::policy::EXPENSIVE_METHODS`), on top of
    /// `rate_limit_per_minute`; 0: no limit of its own.
    pub expensive_per_minute: u32,
    /// Addresses or CIDR blocks of the proxies in front of the gateway (an ingress): only
    /// from these is `X-Forwarded-For` believed when limits are keyed by client address.
    pub trusted_proxies: Vec<String>,
}

/// RabbitMQ settings.
#[derive(Debug, Clone, Deserialize)]
pub struct BrokerSettings {
    /// AMQP URL, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub url: SecretString,
    /// Topic exchange every integration event is published to.
    pub exchange: String,
    /// Prefix of the per-service queue names (`<prefix>.<service>`, `.retry`, `.dlq`).
    pub queue_prefix: String,
    /// Delivery attempts before a message is dead-lettered, whatever the retry window.
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubles with each attempt (with jitter).
    pub retry_base_ms: u64,
    /// Longest delay between two attempts, milliseconds.
    pub retry_max_delay_ms: u64,
    /// A failing message is dead-lettered once its first failure is this old, seconds: long
    /// enough to outlast a database failover or a restart. A database that is down does not
    /// count: consumers pause until it answers.
    pub retry_window_secs: u64,
    /// Longest wait for any one answer of the broker (connect, publish confirm), milliseconds.
    pub publish_timeout_ms: u64,
    /// Messages a consumer holds unacknowledged at once.
    pub prefetch: u16,
    /// `classic` or `quorum` (recommended in production clusters).
    pub queue_type: String,
    /// Largest AMQP frame in bytes (4096 to 131072). Each connection buffers 64 frames, so a
    /// small value keeps memory low; events are far smaller than a frame.
    pub frame_max: u32,
}

/// Redis settings.
#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    /// Redis URL, e.g. `redis://127.0.0.1:6379`.
    pub url: SecretString,
    /// Prefix of every key this deployment writes.
    pub key_prefix: String,
}

/// Token and account settings.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// PEM (PKCS#8) Ed25519 private key that signs tokens; only membership needs it.
    /// `doan keygen` prints a pair. In embedded mode a pair is generated under the data dir.
    pub signing_key_pem: Option<SecretString>,
    /// PEM Ed25519 public key every process verifies tokens with.
    pub verifying_key_pem: Option<String>,
    /// Token issuer (`iss`).
    pub issuer: String,
    /// Token lifetime in seconds.
    pub token_ttl_secs: u64,
    /// Username of the bootstrap administrator, created at start when missing.
    pub bootstrap_admin_username: String,
    /// Password of the bootstrap administrator; no administrator is created when unset.
    pub bootstrap_admin_password: Option<SecretString>,
    /// Failed logins allowed per username within `login_window_secs`; then RESOURCE_EXHAUSTED
    /// until the window closes (whatever address the attempts come from). 0 disables.
    pub login_failures_per_username: u32,
    /// Length of a username's failed-login window, seconds.
    pub login_window_secs: u64,
    /// A Pwned Passwords range file (SHA-1 per line, sorted, as the downloader writes it),
    /// searched besides the shipped list when a password is set; unset: the shipped list only.
    pub breached_passwords_file: Option<std::path::PathBuf>,
}

/// Personal-data protection settings.
#[derive(Debug, Clone, Deserialize)]
pub struct PiiSettings {
    /// Base64 of 32 random bytes: the key that encrypts citizen ID, phone, ethnicity, religion.
    /// In embedded mode generated under the data dir when unset.
    pub encryption_key: Option<SecretString>,
    /// The id of `encryption_key`, written into every value it seals (1 to 16 of a-z, 0-9, -).
    /// Rotation: a new key under a new id here, the old one moved to `previous_keys`.
    pub key_id: String,
    /// Earlier keys that still open values until the re-encryption job has resealed them:
    /// `id=base64` entries separated by commas.
    pub previous_keys: Option<SecretString>,
    /// The key the blind indexes (citizen ID and phone lookups) are derived from; it stays in
    /// the ring (as `encryption_key` or in `previous_keys`) for as long as the indexes exist.
    pub index_key_id: String,
}

/// Attendance settings (the activities service).
#[derive(Debug, Clone, Deserialize)]
pub struct AttendanceSettings {
    /// Base64 of 32 random bytes: the HMAC key that signs the rotating check-in codes. Every
    /// activities replica needs the same key. In embedded mode generated under the data dir
    /// when unset.
    pub code_key: Option<SecretString>,
    /// Hours after scanning within which an offline record may be synced; later ones are
    /// refused (LATE).
    pub offline_late_limit_hours: u64,
}

/// Award credentials (the awards service).
#[derive(Debug, Clone, Deserialize)]
pub struct CredentialsSettings {
    /// Base64 of 32 random bytes: encrypts each issuing unit's Ed25519 signing key at rest.
    /// Every awards replica needs the same key. In embedded mode generated under the data dir
    /// when unset.
    pub key: Option<SecretString>,
    /// The public https URL under which the gateway serves issuers' profiles and keys
    /// (`<base_url>/issuers/<unit_id>`), status lists (`<base_url>/status/<list_id>`),
    /// achievements and the verification of a certificate's QR (`<base_url>/verify/<award_id>`).
    /// Credentials name these URLs; changing it leaves issued credentials naming the old one.
    pub base_url: String,
}

/// Logging and tracing settings.
#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    /// `json` (for machines), `text` (for people), or `auto` (default: text on a terminal,
    /// JSON otherwise).
    pub log_format: String,
    /// Filter in `RUST_LOG` syntax.
    pub log_level: String,
    /// OTLP gRPC endpoint (e.g. `http://otel-collector:4317`); traces are exported when set.
    pub otlp_endpoint: Option<String>,
}

/// Embedded-mode settings.
#[derive(Debug, Clone, Deserialize)]
pub struct EmbeddedSettings {
    /// Directory holding one SQLite file per service and generated keys.
    pub data_dir: PathBuf,
}

const DEFAULTS: &str = r#"
environment = "development"

[gateway]
listen = "127.0.0.1:8080"
request_timeout_ms = 10000
rate_limit_per_minute = 600
allowed_origins = []
trusted_proxies = []
max_request_bytes = 4194304
max_streams_per_caller = 10
expensive_per_minute = 30

[membership]
listen = "127.0.0.1:50051"
database_url = "postgres://postgres@127.0.0.1:5432/doan_membership"
max_db_connections = 10
upstream = "http://127.0.0.1:50051"

[activities]
listen = "127.0.0.1:50052"
database_url = "postgres://postgres@127.0.0.1:5432/doan_activities"
max_db_connections = 10
upstream = "http://127.0.0.1:50052"

[awards]
listen = "127.0.0.1:50053"
database_url = "postgres://postgres@127.0.0.1:5432/doan_awards"
max_db_connections = 10
upstream = "http://127.0.0.1:50053"

[notifications]
listen = "127.0.0.1:50054"
database_url = "postgres://postgres@127.0.0.1:5432/doan_notifications"
max_db_connections = 10
upstream = "http://127.0.0.1:50054"

[broker]
url = "amqp://guest:guest@127.0.0.1:5672/%2f"
exchange = "doan.events"
queue_prefix = "doan"
max_attempts = 100
retry_base_ms = 200
retry_max_delay_ms = 60000
retry_window_secs = 900
publish_timeout_ms = 10000
prefetch = 64
queue_type = "classic"
frame_max = 16384

[redis]
url = "redis://127.0.0.1:6379"
key_prefix = "doan"

[auth]
issuer = "doan"
token_ttl_secs = 3600
bootstrap_admin_username = "admin"
login_failures_per_username = 10
login_window_secs = 900

[pii]
key_id = "k1"
index_key_id = "k1"

[attendance]
offline_late_limit_hours = 72

[credentials]
base_url = "https://doan.localhost/credentials"

[channels]
retry_base_ms = 1000
retry_max_ms = 900000
max_attempts = 12
dispatch_batch = 1000
dispatch_poll_ms = 1000

[channels.fcm]
base_url = "https://fcm.googleapis.com"
connections = 9
max_in_flight = 900
timeout_ms = 10000

[channels.apns]
key_id = ""
team_id = ""
topic = ""
production_url = "https://api.push.apple.com"
sandbox_url = "https://api.sandbox.push.apple.com"
connections = 4
max_in_flight = 1000
timeout_ms = 10000

[channels.smtp]
from = "Đoàn TNCS Hồ Chí Minh <thongbao@doan.local>"
pool_size = 4
timeout_ms = 30000

[broadcasts]
fanout_chunk = 2000
fanout_parallel = 4
watch_every_secs = 30

[telemetry]
log_format = "auto"
log_level = "info,sea_orm_migration=warn"

[embedded]
data_dir = "./data"

[database]
acquire_timeout_ms = 2000
connect_timeout_ms = 5000

[rules]

[jobs]
batch_size = 1000
batch_pause_ms = 0
lease_secs = 10
reminders_every_secs = 600

[retention]
outbox_published_hours = 168
inbox_hours = 720
read_notices_hours = 4320
interval_secs = 3600
removed_members_days = 1825
"#;

impl Settings {
    /// Loads defaults, then `file` when given, then `DOAN__…` environment variables.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        Self::load_with(file, std::env::vars())
    }

    /// Like [`Settings::load`] with explicit environment variables (tests use it).
    pub fn load_with(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let mut builder =
            config::Config::builder().add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(path) = file {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let env: config::Map<String, String> = env.into_iter().filter(|(k, _)| k.starts_with("DOAN__")).collect();
        builder = builder.add_source(
            config::Environment::with_prefix("DOAN")
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("gateway.allowed_origins")
                .with_list_parse_key("gateway.trusted_proxies")
                .try_parsing(true)
                .source(Some(env)),
        );
        builder.build().context("read configuration")?.try_deserialize().context("configuration is invalid")
    }

    /// The settings of the named domain service.
    pub fn service(&self, name: &str) -> Option<&ServiceSettings> {
        match name {
            "membership" => Some(&self.membership),
            "activities" => Some(&self.activities),
            "awards" => Some(&self.awards),
            "notifications" => Some(&self.notifications),
            _ => None,
        }
    }

    /// Mutable settings of the named domain service.
    pub fn service_mut(&mut self, name: &str) -> Option<&mut ServiceSettings> {
        match name {
            "membership" => Some(&mut self.membership),
            "activities" => Some(&mut self.activities),
            "awards" => Some(&mut self.awards),
            "notifications" => Some(&mut self.notifications),
            _ => None,
        }
    }

    /// Every configuration key (`section.key`) a deployment may set, for `doan config-keys`
    /// and the Helm chart's drift test.
    pub fn keys() -> Vec<String> {
        let mut keys = Vec::new();
        let mut section = String::new();
        for line in DEFAULTS.lines().chain(OPTIONAL_KEYS.lines()) {
            let line = line.trim();
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.to_string();
            } else if let Some((key, _)) = line.split_once('=') {
                keys.push(match section.as_str() {
                    "" => key.trim().to_string(),
                    _ => format!("{section}.{}", key.trim()),
                });
            }
        }
        keys
    }
}

/// Keys that have no default (optional or secret), listed for [`Settings::keys`].
const OPTIONAL_KEYS: &str = r#"
[auth]
signing_key_pem =
verifying_key_pem =
bootstrap_admin_password =
breached_passwords_file =
[pii]
encryption_key =
previous_keys =
[attendance]
code_key =
[credentials]
key =
[telemetry]
otlp_endpoint =
[rules]
dir =
[channels.fcm]
credentials_file =
token_url =
[channels.apns]
key_file =
[channels.smtp]
url =
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn environment_overrides_defaults() {
        let env = vec![
            ("DOAN__GATEWAY__LISTEN".to_string(), "0.0.0.0:9090".to_string()),
            ("DOAN__BROKER__MAX_ATTEMPTS".to_string(), "7".to_string()),
            ("DOAN__AUTH__BOOTSTRAP_ADMIN_PASSWORD".to_string(), "s3cret-pass".to_string()),
            ("DOAN__GATEWAY__ALLOWED_ORIGINS".to_string(), "https://a.vn,https://b.vn".to_string()),
            ("UNRELATED".to_string(), "x".to_string()),
        ];
        let s = Settings::load_with(None, env).unwrap();
        assert_eq!(s.gateway.listen, "0.0.0.0:9090");
        assert_eq!(s.broker.max_attempts, 7);
        assert_eq!(s.gateway.allowed_origins, vec!["https://a.vn", "https://b.vn"]);
        let pw = s.auth.bootstrap_admin_password.as_ref().unwrap();
        assert_eq!(pw.expose_secret(), "s3cret-pass");
        assert!(!format!("{s:?}").contains("s3cret-pass"), "secrets must not be printed");
    }

    #[test]
    fn keys_list_every_section() {
        let keys = Settings::keys();
        assert!(keys.contains(&"membership.database_url".to_string()));
        assert!(keys.contains(&"auth.signing_key_pem".to_string()));
        assert!(keys.contains(&"telemetry.otlp_endpoint".to_string()));
    }
}
