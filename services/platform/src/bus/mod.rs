//! The event bus: how integration events travel between services.
//!
//! Two implementations with one contract: [`rabbit::RabbitBus`] (RabbitMQ: a durable topic
//! exchange, one durable queue per consuming service, publisher confirms, a retry queue with
//! growing delays, a dead-letter queue) and [`memory::MemoryBus`] (in-process, for `doan all`
//! and tests). Both deliver at least once; consumers make delivery effectively once through
//! the [`crate::inbox`]. A message that cannot be decoded, or that fails `max_attempts` times,
//! is dead-lettered and the consumer moves on.

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
    /// Publishes one encoded envelope; returns only once the bus has durably accepted it.
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

    /// Declares `consumer`'s queue and bindings, then consumes until `shutdown`, surviving
    /// broker restarts.
    async fn subscribe(&self, consumer: Consumer, shutdown: Shutdown) -> anyhow::Result<()>;
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
}

/// Handles one decoded event. Must be idempotent (use [`crate::inbox::begin`]).
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Applies the event; an error means "try again later".
    async fn handle(&self, envelope: &EventEnvelope) -> Result<(), HandlerError>;
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The message can never succeed (undecodable); dead-letter it now.
    #[error("poison message: {0}")]
    Poison(String),
    /// It may succeed later (database down, an event it depends on not yet arrived).
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<crate::AppError> for HandlerError {
    fn from(err: crate::AppError) -> Self {
        Self::Failed(anyhow::Error::new(err))
    }
}

impl From<sea_orm::DbErr> for HandlerError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Failed(anyhow::Error::new(err))
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
    /// Give up: dead-letter with the reason.
    DeadLetter(String),
}

/// Retry policy shared by both buses.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before dead-lettering.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles each time.
    pub base_delay: Duration,
}

impl RetryPolicy {
    /// The delay before attempt `attempt + 1`.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        self.base_delay.saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16))
    }
}

/// Decodes and handles one delivery (attempt number `attempt`, from 1) and decides what
/// happens next. Both buses call this, so they behave alike.
pub async fn deliver(
    consumer: &Consumer,
    body: &[u8],
    attempt: u32,
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
    let result = consumer.handler.handle(&envelope).instrument(span).await;
    let outcome = match result {
        Ok(()) => Outcome::Done,
        Err(HandlerError::Poison(reason)) => Outcome::DeadLetter(reason),
        Err(HandlerError::Failed(err)) if attempt >= policy.max_attempts => {
            Outcome::DeadLetter(format!("failed {attempt} times; last error: {err:#}"))
        }
        Err(HandlerError::Failed(err)) => Outcome::RetryAfter(policy.delay_after(attempt), format!("{err:#}")),
    };
    match &outcome {
        Outcome::Done => {}
        Outcome::RetryAfter(delay, reason) => tracing::warn!(
            consumer = consumer.name, event_id = %envelope.event_id, attempt,
            retry_in_ms = delay.as_millis() as u64, error = %reason, "event handler failed; will retry"),
        Outcome::DeadLetter(reason) => tracing::error!(
            consumer = consumer.name, event_id = %envelope.event_id, attempt,
            reason = %reason, "event dead-lettered"),
    }
    (outcome, Some(envelope))
}

/// A message given up on.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Consumer that gave up.
    pub consumer: String,
    /// Why.
    pub reason: String,
    /// The raw message.
    pub body: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double() {
        let p = RetryPolicy { max_attempts: 5, base_delay: Duration::from_millis(100) };
        assert_eq!(p.delay_after(1), Duration::from_millis(100));
        assert_eq!(p.delay_after(2), Duration::from_millis(200));
        assert_eq!(p.delay_after(4), Duration::from_millis(800));
    }
}
