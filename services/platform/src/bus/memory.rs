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
        self.subscriptions.lock().expect("subscription lock").push(Subscription {
            event_types: consumer.event_types.iter().copied().collect(),
            queue,
        });
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
