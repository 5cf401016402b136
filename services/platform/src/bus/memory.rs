//! The in-process bus of the embedded mode. `publish` returns once every subscribed
//! consumer has handled the event (or dead-lettered it), so the outbox row stays pending
//! until the effect is committed: a crash loses nothing, as with RabbitMQ.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doan_proto::events::EventEnvelope;
use tokio::sync::{mpsc, oneshot};

use super::dead_letters::DeadLetter;
use super::{Consumer, EventBus, Outcome, QueueDepths, RetryPolicy, Topology, deliver, wait_until_ready};
use crate::Shutdown;

struct Subscription {
    name: &'static str,
    event_types: HashSet<&'static str>,
    queue: mpsc::UnboundedSender<Delivery>,
    /// Deliveries queued or being handled.
    waiting: Arc<std::sync::atomic::AtomicU64>,
}

struct Delivery {
    body: Arc<Vec<u8>>,
    handled: oneshot::Sender<()>,
}

/// In-process event bus with the same delivery semantics as RabbitMQ.
pub struct MemoryBus {
    subscriptions: Mutex<Vec<Subscription>>,
    topology: Topology,
    policy: RetryPolicy,
}

impl MemoryBus {
    /// A bus routing by `topology`, retrying failed handlers by `policy`.
    pub fn new(policy: RetryPolicy, topology: Topology) -> Self {
        Self { subscriptions: Mutex::new(Vec::new()), topology, policy }
    }
}

#[async_trait::async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, envelope: &EventEnvelope, encoded: &[u8]) -> anyhow::Result<()> {
        let body = Arc::new(encoded.to_vec());
        let event_type = envelope.event_type.as_str();
        let waits: Vec<_> = {
            let subs = self.subscriptions.lock().expect("subscription lock");
            let mut waits = Vec::new();
            // Like a mandatory publish to RabbitMQ: an event routed to a consumer that is not
            // listening yet (start-up) is refused, so its outbox row stays pending.
            for consumer in self.topology.consumers_of(event_type) {
                let sub = subs
                    .iter()
                    .find(|s| s.name == consumer && s.event_types.contains(event_type))
                    .ok_or_else(|| anyhow::anyhow!("{consumer} is not consuming {event_type} yet"))?;
                let (handled, wait) = oneshot::channel();
                sub.waiting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                sub.queue
                    .send(Delivery { body: body.clone(), handled })
                    .map_err(|_| anyhow::anyhow!("{consumer} stopped consuming"))?;
                waits.push(wait);
            }
            anyhow::ensure!(!waits.is_empty(), "no service consumes {event_type} (unroutable)");
            waits
        };
        for wait in waits {
            wait.await.map_err(|_| anyhow::anyhow!("consumer stopped before handling the event"))?;
        }
        Ok(())
    }

    async fn queue_depths(&self, service: &str) -> anyhow::Result<Option<QueueDepths>> {
        let subs = self.subscriptions.lock().expect("subscription lock");
        Ok(subs
            .iter()
            .find(|s| s.name == service)
            .map(|s| QueueDepths { waiting: s.waiting.load(std::sync::atomic::Ordering::SeqCst), dead: None }))
    }

    async fn subscribe(&self, consumer: Consumer, shutdown: Shutdown) -> anyhow::Result<()> {
        let (queue, mut deliveries) = mpsc::unbounded_channel::<Delivery>();
        let policy = self.policy;
        let waiting = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = waiting.clone();
        {
            let mut subs = self.subscriptions.lock().expect("subscription lock");
            // A restarted consumer replaces its predecessor.
            subs.retain(|s| s.name != consumer.name);
            subs.push(Subscription {
                name: consumer.name,
                event_types: consumer.event_types.iter().copied().collect(),
                queue,
                waiting,
            });
        }
        tokio::spawn(async move {
            loop {
                let delivery = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    d = deliveries.recv() => match d { Some(d) => d, None => return },
                };
                if !handle(&consumer, &delivery.body, policy, &shutdown).await {
                    return;
                }
                counter.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                let _ = delivery.handled.send(());
            }
        });
        Ok(())
    }
}

/// Handles one delivery to the end: done, or dead-lettered in the consumer's store. Returns
/// false when interrupted by shutdown (the publisher then keeps its outbox row pending).
async fn handle(consumer: &Consumer, body: &[u8], policy: RetryPolicy, shutdown: &Shutdown) -> bool {
    let mut attempt = 1;
    let mut first_failure: Option<tokio::time::Instant> = None;
    loop {
        let since = first_failure.map(|t| t.elapsed()).unwrap_or_default();
        let (outcome, envelope) = deliver(consumer, body, attempt, since, policy).await;
        match outcome {
            Outcome::Done => return true,
            Outcome::DeadLetter(reason) => {
                let letter = DeadLetter {
                    id: 0,
                    event_id: envelope.as_ref().map(|e| e.event_id.clone()).unwrap_or_default(),
                    event_type: envelope.as_ref().map(|e| e.event_type.clone()).unwrap_or_default(),
                    consumer: consumer.name.to_string(),
                    reason,
                    attempts: attempt,
                    dead_at: chrono::Utc::now(),
                    body: body.to_vec(),
                };
                // The store is the consumer's own database; while it cannot take the letter,
                // the delivery stays unfinished (and its outbox row pending).
                let mut wait = Duration::from_millis(200);
                loop {
                    match consumer.dead_letters.park(letter.clone()).await {
                        Ok(()) => return true,
                        Err(err) => {
                            tracing::warn!(consumer = consumer.name, error = %err, "cannot store a dead letter; will retry")
                        }
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => return false,
                        _ = tokio::time::sleep(wait) => {}
                    }
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
            Outcome::Unavailable(_) => {
                if !wait_until_ready(consumer, shutdown).await {
                    return false;
                }
            }
            Outcome::RetryAfter(delay, _) => {
                first_failure.get_or_insert_with(tokio::time::Instant::now);
                tokio::select! {
                    _ = shutdown.cancelled() => return false,
                    _ = tokio::time::sleep(delay) => {}
                }
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use prost::Message;

    use super::*;
    use crate::bus::dead_letters::MemoryDeadLetters;
    use crate::bus::testing::FlakyHandler as Flaky;

    fn envelope(id: &str, payload: &str) -> EventEnvelope {
        EventEnvelope {
            event_id: id.into(),
            event_type: "t".into(),
            payload: payload.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            window: Duration::from_secs(60),
        }
    }

    struct Bus {
        bus: MemoryBus,
        dead: Arc<MemoryDeadLetters>,
        _shutdown: Shutdown,
    }

    impl Bus {
        fn dead_letters(&self) -> Vec<DeadLetter> {
            self.dead.all()
        }
    }

    async fn bus_with(handler: Arc<Flaky>) -> Bus {
        let bus = MemoryBus::new(policy(), Topology::new([("test", vec!["t"])]));
        let shutdown = Shutdown::new();
        let dead = Arc::new(MemoryDeadLetters::default());
        let consumer = Consumer { name: "test", event_types: vec!["t"], handler, dead_letters: dead.clone() };
        bus.subscribe(consumer, shutdown.clone()).await.unwrap();
        Bus { bus, dead, _shutdown: shutdown }
    }

    async fn publish(bus: &Bus, e: &EventEnvelope) {
        bus.bus.publish(e, &e.encode_to_vec()).await.unwrap();
    }

    #[tokio::test]
    async fn retries_then_succeeds_once() {
        let handler = Arc::new(Flaky::default());
        let bus = bus_with(handler.clone()).await;
        publish(&bus, &envelope("a", "fail:2")).await;
        assert_eq!(handler.handled(), ["a"]);
        assert_eq!(handler.attempts_of("a"), 3);
        assert!(bus.dead_letters().is_empty());
    }

    #[tokio::test]
    async fn poison_and_exhausted_messages_are_dead_lettered_and_the_consumer_goes_on() {
        let handler = Arc::new(Flaky::default());
        let bus = bus_with(handler.clone()).await;
        bus.bus.publish(&envelope("p", ""), b"\xff\xff not protobuf").await.unwrap();
        publish(&bus, &envelope("b", "fail:99")).await;
        publish(&bus, &envelope("c", "ok")).await;
        let dead = bus.dead_letters();
        assert_eq!(dead.len(), 2, "{dead:?}");
        assert!(dead[0].reason.contains("does not decode"));
        assert!(dead[1].reason.contains("failed 3 times"));
        assert_eq!((dead[1].event_id.as_str(), dead[1].attempts), ("b", 3));
        assert_eq!(handler.handled(), ["c"]);
    }

    #[tokio::test]
    async fn an_event_nobody_consumes_is_refused() {
        let handler = Arc::new(Flaky::default());
        let bus = bus_with(handler.clone()).await;
        let mut other = envelope("x", "ok");
        other.event_type = "other".into();
        let err = bus.bus.publish(&other, &other.encode_to_vec()).await.unwrap_err();
        assert!(err.to_string().contains("unroutable"), "{err}");
        assert!(handler.handled().is_empty());
    }

    #[tokio::test]
    async fn a_publish_before_its_consumer_subscribed_fails_and_succeeds_after() {
        // Start-up order: a relay publishing before the consumer listens must not be told
        // "delivered", or the outbox row is marked published and the effect is lost.
        let bus = MemoryBus::new(policy(), Topology::new([("late", vec!["t"])]));
        let e = envelope("early", "ok");
        let err = bus.publish(&e, &e.encode_to_vec()).await.unwrap_err();
        assert!(err.to_string().contains("late is not consuming t yet"), "{err}");
        let handler = Arc::new(Flaky::default());
        let dead = Arc::new(MemoryDeadLetters::default());
        let shutdown = Shutdown::new();
        let consumer = Consumer { name: "late", event_types: vec!["t"], handler: handler.clone(), dead_letters: dead };
        bus.subscribe(consumer, shutdown.clone()).await.unwrap();
        bus.publish(&e, &e.encode_to_vec()).await.unwrap();
        assert_eq!(handler.handled(), ["early"]);
    }

    #[tokio::test]
    async fn an_unavailable_database_pauses_without_spending_attempts() {
        let handler = Arc::new(Flaky::default());
        let bus = bus_with(handler.clone()).await;
        // `down:N` reports the database unavailable N times; the policy allows 3 attempts.
        publish(&bus, &envelope("d", "down:5")).await;
        assert_eq!(handler.handled(), ["d"]);
        assert!(bus.dead_letters().is_empty(), "{:?}", bus.dead_letters());
    }
}
