//! The event bus: how integration events travel between services.
//!
//! Two implementations with one contract: [`rabbit::RabbitBus`] (RabbitMQ: a durable topic
//! exchange, one durable queue per consuming service, publisher confirms, a retry queue with
//! growing delays, a dead-letter queue) and [`memory::MemoryBus`] (in-process, for `doan all`
//! and tests). Both deliver at least once; consumers make delivery effectively once through
//! the [`crate::inbox`]. A message that cannot be decoded, or that fails `max_attempts` times,
//! is dead-lettered and the consumer moves on.

pub mod dead_letters;
pub mod memory;
pub mod rabbit;
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use doan_proto::events::EventEnvelope;
use prost::Message;
use tracing::Instrument;

use crate::Shutdown;

/// Publishes events and runs consumers.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes one encoded envelope; returns only once the bus has durably accepted it for
    /// every consumer the [`Topology`] routes it to. An event nobody would receive is an error,
    /// so its outbox row stays pending.
    async fn publish(&self, envelope: &EventEnvelope, encoded: &[u8]) -> anyhow::Result<()>;

    /// Publishes several envelopes in order; one result each, in the same order. A bus may
    /// pipeline them (RabbitMQ sends all, then awaits the confirms).
    async fn publish_many(&self, batch: &[(EventEnvelope, Vec<u8>)]) -> Vec<anyhow::Result<()>> {
        let mut results = Vec::with_capacity(batch.len());
        for (envelope, encoded) in batch {
            results.push(self.publish(envelope, encoded).await);
        }
        results
    }

    /// Closes the bus's own connections (after the relay stopped).
    async fn close(&self) {}

    /// Messages waiting for `service`'s consumer and, where the bus keeps them, its dead
    /// letters; `None` when the bus cannot tell.
    async fn queue_depths(&self, service: &str) -> anyhow::Result<Option<QueueDepths>> {
        let _ = service;
        Ok(None)
    }

    /// Declares the whole topology, then consumes `consumer`'s queue until `shutdown`,
    /// surviving broker restarts.
    async fn subscribe(&self, consumer: Consumer, shutdown: Shutdown) -> anyhow::Result<()>;
}

/// Depths of one consumer's queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueDepths {
    /// Waiting to be handled, retries included.
    pub waiting: u64,
    /// Dead letters, when the bus keeps them (RabbitMQ's `.dlq`); the in-process bus keeps
    /// them in the service's database.
    pub dead: Option<u64>,
}

/// Which service consumes which event types: the one description every process declares
/// (RabbitMQ: the exchange, each service's queue, retry and dead-letter queues and bindings)
/// before it publishes or consumes, so an event is never published before its queue exists.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// One entry per consuming service.
    pub subscriptions: Vec<Subscription>,
}

/// One consuming service's queue and the event types bound to it.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// The consuming service (names its queue).
    pub service: &'static str,
    /// Event types (routing keys) bound to its queue.
    pub event_types: Vec<&'static str>,
}

impl Topology {
    /// A topology from `(service, event types)` pairs.
    pub fn new(subscriptions: impl IntoIterator<Item = (&'static str, Vec<&'static str>)>) -> Self {
        Self {
            subscriptions: subscriptions
                .into_iter()
                .filter(|(_, types)| !types.is_empty())
                .map(|(service, event_types)| Subscription { service, event_types })
                .collect(),
        }
    }

    /// The services an event of `event_type` is routed to.
    pub fn consumers_of<'a>(&'a self, event_type: &'a str) -> impl Iterator<Item = &'static str> + 'a {
        self.subscriptions.iter().filter(move |s| s.event_types.contains(&event_type)).map(|s| s.service)
    }

    /// The subscription of `service`, if it consumes anything.
    pub fn subscription(&self, service: &str) -> Option<&Subscription> {
        self.subscriptions.iter().find(|s| s.service == service)
    }
}

/// A service's subscription: its queue and what it handles.
#[derive(Clone)]
pub struct Consumer {
    /// The consuming service's name; names its queue and its inbox handler.
    pub name: &'static str,
    /// Event types (routing keys) it receives.
    pub event_types: Vec<&'static str>,
    /// What it does with each event.
    pub handler: Arc<dyn EventHandler>,
    /// Where the in-process bus keeps what it gives up on (RabbitMQ uses the `.dlq` queue).
    pub dead_letters: Arc<dyn dead_letters::DeadLetterStore>,
}

/// Handles one decoded event. Must be idempotent (use [`crate::inbox::begin`]).
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Applies the event.
    async fn handle(&self, envelope: &EventEnvelope) -> Result<(), HandlerError>;

    /// Applies several events that arrived together, all in one transaction or none of them;
    /// `None` when this handler does not batch (the consumer then handles them one by one, as
    /// it also does when the batch fails).
    async fn handle_batch(&self, envelopes: &[EventEnvelope]) -> Option<Result<(), HandlerError>> {
        let _ = envelopes;
        None
    }

    /// True when what the handler depends on (its database) answers. After a handler
    /// reported [`HandlerError::Unavailable`], consumers stop taking deliveries until this
    /// says yes, instead of burning attempts.
    async fn ready(&self) -> bool {
        true
    }
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The message can never succeed (undecodable, invalid); dead-letter it now.
    #[error("poison message: {0}")]
    Poison(String),
    /// A dependency is down (database unreachable): retry the same delivery once it is back,
    /// without counting an attempt.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// It may succeed later (an event it depends on not yet arrived, a conflict).
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<crate::AppError> for HandlerError {
    fn from(err: crate::AppError) -> Self {
        match err {
            crate::AppError::Unavailable(reason) => Self::Unavailable(reason),
            crate::AppError::InvalidArgument { .. } => Self::Poison(err.to_string()),
            other => Self::Failed(anyhow::Error::new(other)),
        }
    }
}

impl From<sea_orm::DbErr> for HandlerError {
    fn from(err: sea_orm::DbErr) -> Self {
        if crate::db::is_unavailable(&err) {
            Self::Unavailable(err.to_string())
        } else {
            Self::Failed(anyhow::Error::new(err))
        }
    }
}

/// Decodes a payload of the envelope, or calls it poison.
pub fn decode_payload<E: Message + Default>(envelope: &EventEnvelope) -> Result<E, HandlerError> {
    E::decode(envelope.payload.as_slice())
        .map_err(|e| HandlerError::Poison(format!("{} payload does not decode: {e}", envelope.event_type)))
}

/// What to do with a delivery after one attempt.
#[derive(Debug)]
pub enum Outcome {
    /// Handled (or a duplicate): acknowledge.
    Done,
    /// Failed; try again after the delay.
    RetryAfter(Duration, String),
    /// The handler's dependency is down: wait until [`EventHandler::ready`], then try the
    /// same attempt again.
    Unavailable(String),
    /// Give up: dead-letter with the reason.
    DeadLetter(String),
}

/// Retry policy shared by both buses: exponential delays with jitter, capped, for as long as
/// a database failover or a restart may take (minutes), then dead-lettered.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before dead-lettering, whatever the window.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles each time.
    pub base_delay: Duration,
    /// Longest single delay.
    pub max_delay: Duration,
    /// Give up once the first failure is this old (and at least two attempts were made).
    pub window: Duration,
}

impl RetryPolicy {
    /// The policy of `settings`.
    pub fn from_settings(settings: &crate::config::BrokerSettings) -> Self {
        Self {
            max_attempts: settings.max_attempts.max(1),
            base_delay: Duration::from_millis(settings.retry_base_ms.max(1)),
            max_delay: Duration::from_millis(settings.retry_max_delay_ms.max(settings.retry_base_ms).max(1)),
            window: Duration::from_secs(settings.retry_window_secs),
        }
    }

    /// The delay before attempt `attempt + 1`: `base · 2^(attempt−1)`, capped at `max_delay`,
    /// then a random part of its upper half taken away so that retries of many messages
    /// failing together spread out.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let full = self.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(20)).min(self.max_delay);
        let jitter: f64 = rand::random::<f64>() * 0.5;
        full.mul_f64(1.0 - jitter)
    }

    /// True when a message that failed `attempt` times, the first time `since_first_failure`
    /// ago, should be dead-lettered.
    pub fn gives_up(&self, attempt: u32, since_first_failure: Duration) -> bool {
        attempt >= self.max_attempts || (attempt >= 2 && since_first_failure >= self.window)
    }
}

/// Decodes and handles one delivery (attempt number `attempt`, from 1; the first failure, if
/// any, `since_first_failure` ago) and decides what happens next. Both buses call this, so
/// they behave alike.
pub async fn deliver(
    consumer: &Consumer,
    body: &[u8],
    attempt: u32,
    since_first_failure: Duration,
    policy: RetryPolicy,
) -> (Outcome, Option<EventEnvelope>) {
    let envelope = match EventEnvelope::decode(body) {
        Ok(env) if !env.event_id.is_empty() => env,
        Ok(_) => return (Outcome::DeadLetter("envelope has no event_id".into()), None),
        Err(e) => return (Outcome::DeadLetter(format!("envelope does not decode: {e}")), None),
    };
    let span = tracing::info_span!(
        "consume",
        otel.kind = "consumer",
        consumer = consumer.name,
        event_type = %envelope.event_type,
        event_id = %envelope.event_id,
        attempt,
    );
    crate::telemetry::set_parent(&span, &envelope.trace_context);
    // The handler runs in its own task: if this delivery is abandoned (the broker connection
    // dropped, shutdown), the handler still finishes its transaction instead of being cut off
    // inside it. The inbox makes the redelivery that follows harmless.
    let handler = consumer.handler.clone();
    let task_envelope = envelope.clone();
    let result = tokio::spawn(async move { handler.handle(&task_envelope).await }.instrument(span))
        .await
        .unwrap_or_else(|e| Err(HandlerError::Failed(anyhow::anyhow!("handler panicked: {e}"))));
    let outcome = match result {
        Ok(()) => Outcome::Done,
        Err(HandlerError::Poison(reason)) => Outcome::DeadLetter(reason),
        Err(HandlerError::Unavailable(reason)) => Outcome::Unavailable(reason),
        Err(HandlerError::Failed(err)) if policy.gives_up(attempt, since_first_failure) => Outcome::DeadLetter(
            format!("failed {attempt} times over {}s; last error: {err:#}", since_first_failure.as_secs()),
        ),
        Err(HandlerError::Failed(err)) => Outcome::RetryAfter(policy.delay_after(attempt), format!("{err:#}")),
    };
    match &outcome {
        Outcome::Done => {}
        Outcome::RetryAfter(delay, reason) => tracing::warn!(
            consumer = consumer.name, event_id = %envelope.event_id, attempt,
            retry_in_ms = delay.as_millis() as u64, error = %reason, "event handler failed; will retry"),
        Outcome::Unavailable(reason) => tracing::warn!(
            consumer = consumer.name, event_id = %envelope.event_id, error = %reason,
            "event handler's database is unavailable; pausing until it answers"),
        Outcome::DeadLetter(reason) => tracing::error!(
            consumer = consumer.name, event_id = %envelope.event_id, attempt,
            reason = %reason, "event dead-lettered"),
    }
    (outcome, Some(envelope))
}

/// Waits until `consumer`'s handler is ready again (polling each second) or `shutdown`;
/// returns false on shutdown.
pub async fn wait_until_ready(consumer: &Consumer, shutdown: &Shutdown) -> bool {
    loop {
        if consumer.handler.ready().await {
            tracing::info!(consumer = consumer.name, "event handler's database is back; consuming again");
            return true;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return false,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_with_jitter_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 100,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(60),
            window: Duration::from_secs(900),
        };
        for _ in 0..50 {
            let within =
                |d: Duration, full: u64| d <= Duration::from_millis(full) && d >= Duration::from_millis(full / 2);
            assert!(within(p.delay_after(1), 100));
            assert!(within(p.delay_after(2), 200));
            assert!(within(p.delay_after(4), 800));
            assert!(within(p.delay_after(30), 60_000), "capped");
        }
    }

    #[test]
    fn retries_last_minutes_not_seconds() {
        // The defaults: a database failover of a minute or a restart of several must not
        // dead-letter anything (it did after about 3 s with 5 attempts from 200 ms).
        let settings = crate::config::Settings::load_with(None, Vec::new()).unwrap().broker;
        let p = RetryPolicy::from_settings(&settings);
        let mut elapsed = Duration::ZERO;
        let mut attempt = 1;
        while !p.gives_up(attempt, elapsed) {
            elapsed += p.delay_after(attempt);
            attempt += 1;
        }
        assert!(elapsed >= Duration::from_secs(10 * 60), "gave up after {elapsed:?}");
        assert!(elapsed <= Duration::from_secs(20 * 60), "gave up after {elapsed:?}");
        assert!(p.gives_up(p.max_attempts, Duration::ZERO));
    }
}
