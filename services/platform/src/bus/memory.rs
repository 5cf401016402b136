//! The in-process bus of the embedded mode. `publish` returns once every subscribed
//! consumer has handled the event (or dead-lettered it), so the outbox row stays pending
//! until the effect is committed: a crash loses nothing, as with RabbitMQ.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use doan_proto::events::EventEnvelope;
use tokio::sync::{mpsc, oneshot};

use super::{Consumer, DeadLetter, EventBus, Outcome, RetryPolicy, deliver};
use crate::Shutdown;

struct Subscription {
    event_types: HashSet<&'static str>,
    queue: mpsc::UnboundedSender<Delivery>,
}

struct Delivery {
    body: Arc<Vec<u8>>,
    handled: oneshot::Sender<()>,
}

/// In-process event bus with the same delivery semantics as RabbitMQ.
pub struct MemoryBus {
    subscriptions: Mutex<Vec<Subscription>>,
    dead_letters: Arc<Mutex<Vec<DeadLetter>>>,
    policy: RetryPolicy,
}

impl MemoryBus {
    /// A bus retrying failed handlers by `policy`.
    pub fn new(policy: RetryPolicy) -> Self {
        Self { subscriptions: Mutex::new(Vec::new()), dead_letters: Arc::default(), policy }
    }

    /// Messages every consumer gave up on (operators read these from the logs too).
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.dead_letters.lock().expect("dead-letter lock").clone()
    }
}

#[async_trait::async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, envelope: &EventEnvelope, encoded: &[u8]) -> anyhow::Result<()> {
        let body = Arc::new(encoded.to_vec());
        let waits: Vec<_> = {
            let subs = self.subscriptions.lock().expect("subscription lock");
            subs.iter()
                .filter(|s| s.event_types.contains(envelope.event_type.as_str()))
                .map(|s| {
                    let (handled, wait) = oneshot::channel();
                    let _ = s.queue.send(Delivery { body: body.clone(), handled });
                    wait
                })
                .collect()
        };
        for wait in waits {
            wait.await.map_err(|_| anyhow::anyhow!("consumer stopped before handling the event"))?;
        }
        Ok(())
    }

    async fn subscribe(&self, consumer: Consumer, shutdown: Shutdown) -> anyhow::Result<()> {
        let (queue, mut deliveries) = mpsc::unbounded_channel::<Delivery>();
        self.subscriptions
            .lock()
            .expect("subscription lock")
            .push(Subscription { event_types: consumer.event_types.iter().copied().collect(), queue });
        let policy = self.policy;
        let dead_letters = self.dead_letters.clone();
        tokio::spawn(async move {
            loop {
                let delivery = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    d = deliveries.recv() => match d { Some(d) => d, None => return },
                };
                let mut attempt = 1;
                loop {
                    match deliver(&consumer, &delivery.body, attempt, policy).await.0 {
                        Outcome::Done => break,
                        Outcome::DeadLetter(reason) => {
                            dead_letters.lock().expect("dead-letter lock").push(DeadLetter {
                                consumer: consumer.name.to_string(),
                                reason,
                                body: delivery.body.to_vec(),
                            });
                            break;
                        }
                        Outcome::RetryAfter(delay, _) => {
                            tokio::select! {
                                _ = shutdown.cancelled() => return,
                                _ = tokio::time::sleep(delay) => {}
                            }
                            attempt += 1;
                        }
                    }
                }
                let _ = delivery.handled.send(());
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use prost::Message;

    use super::*;
    use crate::bus::testing::FlakyHandler as Flaky;

    fn envelope(id: &str, payload: &str) -> EventEnvelope {
        EventEnvelope {
            event_id: id.into(),
            event_type: "t".into(),
            payload: payload.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    async fn bus_with(handler: Arc<Flaky>) -> (MemoryBus, Shutdown) {
        let bus = MemoryBus::new(RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(5) });
        let shutdown = Shutdown::new();
        bus.subscribe(Consumer { name: "test", event_types: vec!["t"], handler }, shutdown.clone()).await.unwrap();
        (bus, shutdown)
    }

    async fn publish(bus: &MemoryBus, e: &EventEnvelope) {
        bus.publish(e, &e.encode_to_vec()).await.unwrap();
    }

    #[tokio::test]
    async fn retries_then_succeeds_once() {
        let handler = Arc::new(Flaky::default());
        let (bus, _s) = bus_with(handler.clone()).await;
        publish(&bus, &envelope("a", "fail:2")).await;
        assert_eq!(handler.handled(), ["a"]);
        assert_eq!(handler.attempts_of("a"), 3);
        assert!(bus.dead_letters().is_empty());
    }

    #[tokio::test]
    async fn poison_and_exhausted_messages_are_dead_lettered_and_the_consumer_goes_on() {
        let handler = Arc::new(Flaky::default());
        let (bus, _s) = bus_with(handler.clone()).await;
        bus.publish(&envelope("p", ""), b"\xff\xff not protobuf").await.unwrap();
        publish(&bus, &envelope("b", "fail:99")).await;
        publish(&bus, &envelope("c", "ok")).await;
        let dead = bus.dead_letters();
        assert_eq!(dead.len(), 2, "{dead:?}");
        assert!(dead[0].reason.contains("does not decode"));
        assert!(dead[1].reason.contains("failed 3 times"));
        assert_eq!(handler.handled(), ["c"]);
    }

    #[tokio::test]
    async fn unsubscribed_event_types_are_not_delivered() {
        let handler = Arc::new(Flaky::default());
        let (bus, _s) = bus_with(handler.clone()).await;
        let mut other = envelope("x", "ok");
        other.event_type = "other".into();
        publish(&bus, &other).await;
        assert!(handler.handled().is_empty());
    }
}
