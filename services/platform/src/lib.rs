//! What every Đoàn service shares, written once.
//!
//! # Layout
//! - [`clock`]: the one clock (real, or fixed in tests) and Vietnam dates.
//! - [`rules`]: effective-dated rule files, looked up by the decision's date.
//! - [`config`]: settings from defaults, a TOML file and `DOAN__SECTION__KEY` variables.
//! - [`telemetry`]: structured logs, OTLP traces, W3C trace context across gRPC and AMQP.
//! - [`db`]: sea-orm connections for `postgres://` and `sqlite://`, migrations.
//! - [`bus`]: the [`bus::EventBus`] trait with RabbitMQ and in-process implementations, the
//!   [`bus::Topology`] every process declares, and dead letters.
//! - [`outbox`]: events written in the state change's transaction, and the relay that
//!   publishes them with confirms, retrying and never dropping.
//! - [`inbox`]: exactly-once effects for at-least-once delivery, keyed by (event id, handler).
//! - [`directory`]: the units-and-members read model that consuming services keep.
//! - [`auth`]: tokens (EdDSA JWT), passwords (argon2), the caller and the unit-tree scope.
//! - [`crypto`]: encryption and blind indexes for the most sensitive personal data.
//! - [`error`]: the one mapping from domain errors to gRPC status.
//! - [`service`]: running a service: migrations, relay, consumers, gRPC with health and
//!   reflection, graceful shutdown.
//! - [`deadline`]: calls run to completion in their own task; passed deadlines answer
//!   DEADLINE_EXCEEDED.
//! - [`policy`]: one declared policy per RPC, the audience applied before any handler.
//! - [`metrics`]: outbox lag, parked rows, dead letters and consumer lag, as gauges.
//! - [`retention`]: old bookkeeping rows (published outbox rows, inbox records) deleted.
//! - [`convert`]: small proto ↔ domain conversions shared by every API room.
//! - [`units`]: unit levels, the tree's shared vocabulary.
//! - [`text`]: the one text type (NFC, no control characters, bounded) and short quoting.

pub mod auth;
pub mod bus;
pub mod card;
pub mod clock;
pub mod config;
pub mod convert;
pub mod crypto;
pub mod db;
pub mod deadline;
pub mod directory;
pub mod error;
pub mod inbox;
pub mod jobs;
pub mod metrics;
pub mod outbox;
pub mod passwords;
pub mod pdf;
pub mod policy;
pub mod retention;
pub mod rules;
pub mod service;
pub mod telemetry;
pub mod testing;
pub mod text;
pub mod units;

pub use error::AppError;
pub use tokio_util::sync::CancellationToken as Shutdown;
