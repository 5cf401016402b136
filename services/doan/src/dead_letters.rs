//! `doan dead-letters`: what consumers gave up on, for operators to list, inspect and replay.
//! On RabbitMQ the messages wait in the service's `.dlq` queue; in the embedded mode in the
//! service's `dead_letters` table. A replay hands a message back to the service's consumer
//! for a fresh round of attempts; consumers are idempotent, so nothing is applied twice.

use std::sync::Arc;

use anyhow::Context;
use doan_platform::Shutdown;
use doan_platform::bus::dead_letters::{DbDeadLetters, DeadLetter};
use doan_platform::bus::{Outcome, RetryPolicy, deliver};
use doan_platform::config::Settings;
use doan_proto::events::EventEnvelope;
use prost::Message;
use secrecy::ExposeSecret;

use crate::ServiceName;

/// What to do with dead letters.
#[derive(Debug, Clone)]
pub enum Action {
    /// Up to `limit`, oldest first.
    List {
        /// Whose.
        service: ServiceName,
        /// How many at most.
        limit: usize,
    },
    /// One in full.
    Show {
        /// Whose.
        service: ServiceName,
        /// Its event id.
        event_id: String,
    },
    /// Back to the consumer: one, or all.
    Replay {
        /// Whose.
        service: ServiceName,
        /// Only this event id.
        event_id: Option<String>,
    },
}

/// Runs `action` against RabbitMQ, or the embedded mode's files when `embedded`; prints the
/// result for a person.
pub async fn run(settings: Settings, embedded: bool, action: Action) -> anyhow::Result<()> {
    match action {
        Action::List { service, limit } => {
            let letters = list(&settings, embedded, service, limit).await?;
            println!("{} dead letter(s) of {}", letters.len(), service.as_str());
            for l in letters {
                println!(
                    "{}\t{}\t{}\tattempts={}\t{}",
                    l.dead_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    if l.event_id.is_empty() { "(no event id)" } else { &l.event_id },
                    l.event_type,
                    l.attempts,
                    l.reason.chars().take(160).collect::<String>()
                );
            }
            Ok(())
        }
        Action::Show { service, event_id } => {
            let letters = list(&settings, embedded, service, usize::MAX).await?;
            let letter = letters
                .into_iter()
                .find(|l| l.event_id == event_id)
                .with_context(|| format!("no dead letter of {} has event id {event_id}", service.as_str()))?;
            println!("{}", describe(&letter));
            Ok(())
        }
        Action::Replay { service, event_id } => {
            let replayed = replay(&settings, embedded, service, event_id.as_deref()).await?;
            println!("{replayed} dead letter(s) of {} handed back to its consumer", service.as_str());
            Ok(())
        }
    }
}

/// A dead letter as JSON, its envelope decoded when it decodes.
pub fn describe(letter: &DeadLetter) -> String {
    use base64::Engine;
    let envelope = EventEnvelope::decode(letter.body.as_slice()).ok();
    serde_json::to_string_pretty(&serde_json::json!({
        "event_id": letter.event_id,
        "event_type": letter.event_type,
        "consumer": letter.consumer,
        "reason": letter.reason,
        "attempts": letter.attempts,
        "dead_at": letter.dead_at.to_rfc3339(),
        "envelope": envelope.as_ref().map(|e| serde_json::json!({
            "producer": e.producer,
            "occurred_at": e.occurred_at.map(|t| t.seconds),
            "trace_context": e.trace_context,
            "payload_base64": base64::engine::general_purpose::STANDARD.encode(&e.payload),
        })),
        "body_base64": if envelope.is_none() {
            Some(base64::engine::general_purpose::STANDARD.encode(&letter.body))
        } else {
            None
        },
    }))
    .unwrap_or_default()
}

/// Dead letters of `service`, oldest first.
pub async fn list(
    settings: &Settings,
    embedded: bool,
    service: ServiceName,
    limit: usize,
) -> anyhow::Result<Vec<DeadLetter>> {
    if embedded {
        store(settings, service).await?.list(limit.min(i64::MAX as usize) as u64).await
    } else {
        crate::rabbit_bus(settings).dead_letters(service.as_str(), limit).await
    }
}

/// Hands dead letters of `service` back to its consumer; returns how many were handed back
/// (embedded: how many were then handled; the others stay, with the new reason).
pub async fn replay(
    settings: &Settings,
    embedded: bool,
    service: ServiceName,
    event_id: Option<&str>,
) -> anyhow::Result<usize> {
    if !embedded {
        return crate::rabbit_bus(settings).replay_dead_letters(service.as_str(), event_id).await;
    }
    // The embedded consumers run inside `doan all`; a replay runs the same handler here,
    // against the same SQLite file (WAL lets both write in turn).
    let store = store(settings, service).await?;
    let settings = Arc::new(settings.clone());
    let shutdown = Shutdown::new();
    let bus: Arc<dyn doan_platform::bus::EventBus> = Arc::new(crate::memory_bus(&settings));
    let ctx = service.connect(settings.clone(), bus, crate::verifier(&settings)?, shutdown.clone()).await?;
    let consumer =
        service.build(&ctx).await?.consumer.with_context(|| format!("{} consumes nothing", service.as_str()))?;
    let policy = RetryPolicy { max_attempts: 1, ..RetryPolicy::from_settings(&settings.broker) };
    let mut handled = 0;
    for letter in store.list(u64::MAX >> 1).await? {
        if event_id.is_some_and(|wanted| wanted != letter.event_id) {
            continue;
        }
        let (outcome, _) = deliver(&consumer, &letter.body, 1, std::time::Duration::ZERO, policy).await;
        match outcome {
            Outcome::Done => {
                store.remove(letter.id).await?;
                handled += 1;
            }
            Outcome::RetryAfter(_, reason) | Outcome::DeadLetter(reason) | Outcome::Unavailable(reason) => {
                store.replay_failed(letter.id, &reason).await?;
            }
        }
    }
    shutdown.cancel();
    Ok(handled)
}

async fn store(settings: &Settings, service: ServiceName) -> anyhow::Result<DbDeadLetters> {
    let own = settings.service(service.as_str()).expect("every service has settings");
    let db = doan_platform::db::connect(own.database_url.expose_secret(), 2).await?;
    Ok(DbDeadLetters::new(db))
}
