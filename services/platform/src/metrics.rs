//! What operators watch to know nothing is stuck: the outbox lag (age of the oldest pending
//! event), parked outbox rows, dead letters waiting, and the consumer lag (messages waiting
//! in the service's queue). Sampled every 15 s by each service, exported as OpenTelemetry
//! gauges (OTLP, when `telemetry.otlp_endpoint` is set), and logged as a warning when an
//! event has waited over a minute or a dead letter waits.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::KeyValue;
use sea_orm::DatabaseConnection;

use crate::Shutdown;
use crate::bus::EventBus;
use crate::bus::dead_letters::DbDeadLetters;

/// One service's backlog at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Outbox rows waiting to be published.
    pub outbox_pending: u64,
    /// How long the oldest of them has waited.
    pub outbox_lag: Duration,
    /// Outbox rows set aside because they cannot be published.
    pub outbox_parked: u64,
    /// Messages this service's consumer gave up on (None: it consumes nothing).
    pub dead_letters: Option<u64>,
    /// Messages waiting for this service's consumer, retries included (None: unknown).
    pub consumer_lag: Option<u64>,
}

/// Measures `service`'s backlog in its database and on the bus.
pub async fn measure(
    db: &DatabaseConnection,
    bus: &dyn EventBus,
    service: &str,
    consumes: bool,
) -> anyhow::Result<Backlog> {
    let mut backlog = Backlog {
        outbox_pending: crate::outbox::pending(db).await?,
        outbox_lag: crate::outbox::lag(db).await?,
        outbox_parked: crate::outbox::parked(db).await?,
        ..Backlog::default()
    };
    if consumes {
        let depths = bus.queue_depths(service).await?;
        backlog.consumer_lag = depths.map(|d| d.waiting);
        backlog.dead_letters = match depths.and_then(|d| d.dead) {
            Some(dead) => Some(dead),
            None => Some(DbDeadLetters::new(db.clone()).depth().await?),
        };
    }
    Ok(backlog)
}

/// Samples the backlog every 15 s until `shutdown` and publishes it as gauges.
pub fn spawn_sampler(
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    service: &'static str,
    consumes: bool,
    shutdown: Shutdown,
) {
    let latest = Arc::new(Mutex::new(Backlog::default()));
    register_gauges(service, latest.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(15));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match measure(&db, bus.as_ref(), service, consumes).await {
                Ok(backlog) => {
                    if backlog.outbox_lag > Duration::from_secs(60) || backlog.dead_letters.unwrap_or(0) > 0 {
                        tracing::warn!(
                            service,
                            outbox_pending = backlog.outbox_pending,
                            outbox_lag_s = backlog.outbox_lag.as_secs(),
                            outbox_parked = backlog.outbox_parked,
                            dead_letters = backlog.dead_letters,
                            consumer_lag = backlog.consumer_lag,
                            "event backlog needs attention (see `doan dead-letters`)"
                        );
                    }
                    *latest.lock().expect("backlog") = backlog;
                }
                Err(err) => tracing::debug!(service, error = format!("{err:#}"), "backlog not measured"),
            }
        }
    });
}

fn register_gauges(service: &'static str, latest: Arc<Mutex<Backlog>>) {
    let meter = opentelemetry::global::meter("doan");
    let attrs = [KeyValue::new("service", service)];
    let gauge =
        |name: &'static str, unit: &'static str, description: &'static str, read: fn(&Backlog) -> Option<f64>| {
            let (latest, attrs) = (latest.clone(), attrs.clone());
            meter
                .f64_observable_gauge(name)
                .with_unit(unit)
                .with_description(description)
                .with_callback(move |observer| {
                    if let Some(value) = read(&latest.lock().expect("backlog")) {
                        observer.observe(value, &attrs);
                    }
                })
                .build();
        };
    gauge("doan.outbox.pending", "{event}", "Outbox rows waiting to be published", |b| Some(b.outbox_pending as f64));
    gauge("doan.outbox.lag", "s", "Age of the oldest unpublished outbox row", |b| Some(b.outbox_lag.as_secs_f64()));
    gauge("doan.outbox.parked", "{event}", "Outbox rows set aside as unpublishable", |b| Some(b.outbox_parked as f64));
    gauge("doan.consumer.dead_letters", "{message}", "Messages the consumer gave up on", |b| {
        b.dead_letters.map(|d| d as f64)
    });
    gauge("doan.consumer.lag", "{message}", "Messages waiting for the consumer", |b| b.consumer_lag.map(|d| d as f64));
}
