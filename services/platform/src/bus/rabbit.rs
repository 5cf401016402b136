//! RabbitMQ through lapin.
//!
//! Topology, per consuming service `S` with prefix `P`, declared whole from one [`Topology`]
//! by every process before it publishes or consumes (and by `doan migrate`), so an event
//! published before its consumer ever ran waits in the consumer's queue:
//! - exchange `doan.events` (topic, durable): every event, routing key = event type;
//! - queue `P.S` (durable) bound to each event type `S` handles;
//! - queue `P.S.retry` (durable, no consumer): a failed message waits here for its per-message
//!   expiration, then dead-letters back to `P.S` (at-least-once on quorum queues); the delay
//!   grows with each attempt;
//! - queue `P.S.dlq` (durable): messages given up on, with the reason in `x-doan-error`.
//!
//! Events are published `mandatory` and confirmed: an event no queue would take comes back,
//! and its outbox row stays pending. Every wait on the broker is bounded. Consumers
//! acknowledge only after the handler's transaction committed (or after the message was
//! safely moved to retry or DLQ). Broken connections are reopened with backoff, which starts
//! small again after each successful connection.

use std::time::Duration;

use anyhow::Context;
use doan_proto::events::EventEnvelope;
use futures_util::StreamExt;
use lapin::Confirmation;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use super::dead_letters::DeadLetter;
use super::{Consumer, EventBus, Outcome, QueueDepths, RetryPolicy, Topology, deliver, wait_until_ready};
use crate::Shutdown;
use crate::config::BrokerSettings;

const ATTEMPT_HEADER: &str = "x-doan-attempt";
const ERROR_HEADER: &str = "x-doan-error";
/// Unix milliseconds of a message's first failed attempt (the retry window counts from it).
const FIRST_FAILURE_HEADER: &str = "x-doan-first-failure-ms";
/// Unix milliseconds when a message was dead-lettered.
const DEAD_AT_HEADER: &str = "x-doan-dead-at-ms";

/// The three queue names of one consuming service.
#[derive(Debug, Clone)]
pub struct QueueNames {
    /// Where the service consumes from.
    pub main: String,
    /// Where failed messages wait before another attempt.
    pub retry: String,
    /// Where messages given up on are kept for operators.
    pub dead: String,
}

impl QueueNames {
    /// The queues of service `service` under `prefix`.
    pub fn new(prefix: &str, service: &str) -> Self {
        let main = format!("{prefix}.{service}");
        Self { retry: format!("{main}.retry"), dead: format!("{main}.dlq"), main }
    }
}

/// A consumer's open connection, channel and declared queues.
struct ConsumerSession {
    _conn: Connection,
    channel: Channel,
    names: QueueNames,
}

/// RabbitMQ event bus.
pub struct RabbitBus {
    settings: BrokerSettings,
    topology: Topology,
    /// The publishing channel (confirm mode); reopened after a failure.
    publisher: Mutex<Option<(Connection, Channel)>>,
    policy: RetryPolicy,
}

impl RabbitBus {
    /// A bus for `settings` declaring `topology`; connects lazily and reconnects as needed.
    pub fn new(settings: BrokerSettings, topology: Topology) -> Self {
        let policy = RetryPolicy::from_settings(&settings);
        Self { settings, topology, publisher: Mutex::new(None), policy }
    }

    /// The longest any single wait on the broker may take.
    fn broker_timeout(&self) -> Duration {
        Duration::from_millis(self.settings.publish_timeout_ms.max(100))
    }

    /// Opens a connection and a confirm-mode channel, and declares the whole topology.
    pub async fn open_channel(&self, name: &str) -> anyhow::Result<(Connection, Channel)> {
        tokio::time::timeout(self.broker_timeout(), self.open_channel_unbounded(name))
            .await
            .map_err(|_| anyhow::anyhow!("RabbitMQ did not answer within {:?}", self.broker_timeout()))?
    }

    async fn open_channel_unbounded(&self, name: &str) -> anyhow::Result<(Connection, Channel)> {
        let url = self.settings.url.expose_secret();
        let mut uri: lapin::uri::AMQPUri =
            url.parse().map_err(|e| anyhow::anyhow!("broker.url is not an AMQP URL: {e}"))?;
        // lapin keeps 32 frames of read and write buffer per connection: with RabbitMQ's
        // 128 KiB default that is 8 MiB a connection, for events that are well under 1 KiB.
        if uri.query.frame_max.is_none() {
            uri.query.frame_max = Some(self.settings.frame_max);
        }
        let conn = Connection::connect_uri(uri, ConnectionProperties::default().with_connection_name(name.into()))
            .await
            .with_context(|| format!("connect to RabbitMQ at {}", crate::db::redact(url)))?;
        let channel = conn.create_channel().await.context("open AMQP channel")?;
        channel.confirm_select(ConfirmSelectOptions::default()).await.context("enable publisher confirms")?;
        self.declare_topology(&channel).await?;
        Ok((conn, channel))
    }

    /// Declares the exchange and every consuming service's queues and bindings (idempotent).
    async fn declare_topology(&self, channel: &Channel) -> anyhow::Result<()> {
        channel
            .exchange_declare(
                self.settings.exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions { durable: true, ..Default::default() },
                FieldTable::default(),
            )
            .await
            .context("declare exchange")?;
        for sub in &self.topology.subscriptions {
            self.declare_queues(channel, sub.service, &sub.event_types).await?;
        }
        Ok(())
    }

    /// Declares the whole topology once (for `doan migrate` and start-up).
    pub async fn declare(&self) -> anyhow::Result<()> {
        let (conn, _channel) = self.open_channel("doan-declare").await?;
        let _ = conn.close(200, "topology declared".into()).await;
        Ok(())
    }

    async fn declare_queues(
        &self,
        channel: &Channel,
        service: &str,
        event_types: &[&'static str],
    ) -> anyhow::Result<QueueNames> {
        let names = QueueNames::new(&self.settings.queue_prefix, service);
        let durable = QueueDeclareOptions { durable: true, ..Default::default() };
        let mut main_args = FieldTable::default();
        main_args.insert("x-queue-type".into(), long_string(&self.settings.queue_type));
        channel.queue_declare(names.main.as_str().into(), durable, main_args.clone()).await.context("declare queue")?;
        let mut retry_args = main_args.clone();
        retry_args.insert("x-dead-letter-exchange".into(), long_string(""));
        retry_args.insert("x-dead-letter-routing-key".into(), long_string(&names.main));
        if self.settings.queue_type == "quorum" {
            // Quorum queues dead-letter at most once by default: a message expiring from the
            // retry queue while the main queue is unavailable would be lost.
            retry_args.insert("x-dead-letter-strategy".into(), long_string("at-least-once"));
            retry_args.insert("x-overflow".into(), long_string("reject-publish"));
        }
        channel.queue_declare(names.retry.as_str().into(), durable, retry_args).await.context("declare retry queue")?;
        channel
            .queue_declare(names.dead.as_str().into(), durable, main_args)
            .await
            .context("declare dead-letter queue")?;
        for event_type in event_types {
            channel
                .queue_bind(
                    names.main.as_str().into(),
                    self.settings.exchange.as_str().into(),
                    (*event_type).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .context("bind queue")?;
        }
        Ok(names)
    }

    /// Opens the consumer's connection (declaring the topology) and sets its prefetch.
    async fn open_consumer(&self, consumer: &Consumer) -> anyhow::Result<ConsumerSession> {
        let (conn, channel) = self.open_channel(&format!("doan-{}-consumer", consumer.name)).await?;
        // The consumer's own bindings, also when the topology given to this bus omits it.
        let names = self.declare_queues(&channel, consumer.name, &consumer.event_types).await?;
        channel.basic_qos(self.settings.prefetch, BasicQosOptions::default()).await?;
        Ok(ConsumerSession { _conn: conn, channel, names })
    }

    async fn consume(&self, session: ConsumerSession, consumer: &Consumer, shutdown: &Shutdown) -> anyhow::Result<()> {
        let ConsumerSession { _conn: conn, channel, names } = session;
        let mut deliveries = channel
            .basic_consume(
                names.main.as_str().into(),
                format!("doan-{}", consumer.name).into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .context("start consuming")?;
        tracing::info!(queue = %names.main, "consuming");
        // Deliveries are handled concurrently, up to the prefetch count; each is acknowledged
        // once its own handling committed (or it was moved to retry or the DLQ). Deliveries
        // that are already waiting when one arrives are handled together, in one transaction
        // of a handler that batches (one commit for the lot), and one by one if that fails.
        let prefetch = usize::from(self.settings.prefetch.max(1));
        let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(prefetch));
        // Set while the handler's database is unavailable: no new delivery is taken.
        let paused = std::sync::Arc::new(tokio::sync::RwLock::new(()));
        let mut in_flight = tokio::task::JoinSet::new();
        let result = loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => break Ok(()),
                Some(done) = in_flight.join_next() => {
                    match done.context("delivery task").and_then(|r| r) {
                        Ok(()) => continue,
                        Err(err) => break Err(err),
                    }
                }
                d = deliveries.next() => match d {
                    Some(Ok(d)) => d,
                    Some(Err(e)) => break Err(anyhow::Error::new(e).context("receive delivery")),
                    None => break Err(anyhow::anyhow!("consumer stream ended (connection lost)")),
                },
            };
            let mut batch = vec![delivery];
            let mut stream_error = None;
            while batch.len() < prefetch.min(MAX_BATCH) {
                match futures_util::FutureExt::now_or_never(deliveries.next()) {
                    Some(Some(Ok(d))) => batch.push(d),
                    Some(Some(Err(e))) => {
                        stream_error = Some(anyhow::Error::new(e).context("receive delivery"));
                        break;
                    }
                    Some(None) | None => break,
                }
            }
            // Wait here while a handler found the database down.
            drop(paused.read().await);
            let permits = limit.clone().acquire_many_owned(batch.len() as u32).await.context("delivery limit")?;
            let job = DeliveryJob {
                consumer: consumer.clone(),
                channel: channel.clone(),
                names: names.clone(),
                policy: self.policy,
                paused: paused.clone(),
                shutdown: shutdown.clone(),
                timeout: self.broker_timeout(),
            };
            in_flight.spawn(async move {
                let _permits = permits;
                if batch.len() > 1 && job.in_one_transaction(&batch).await? {
                    return anyhow::Ok(());
                }
                for delivery in batch {
                    job.one(delivery).await?;
                }
                anyhow::Ok(())
            });
            if let Some(err) = stream_error {
                break Err(err);
            }
        };
        // Handlers run to the end of their transactions even when the connection is gone (an
        // unacknowledged delivery is redelivered and the inbox skips it).
        while in_flight.join_next().await.is_some() {}
        if result.is_ok() {
            let _ = conn.close(200, "shutting down".into()).await;
        }
        result
    }
}

/// Most deliveries handled in one transaction.
const MAX_BATCH: usize = 64;

/// What handling a delivery needs.
struct DeliveryJob {
    consumer: Consumer,
    channel: Channel,
    names: QueueNames,
    policy: RetryPolicy,
    paused: std::sync::Arc<tokio::sync::RwLock<()>>,
    shutdown: Shutdown,
    timeout: Duration,
}

impl DeliveryJob {
    fn bounded(what: &'static str) -> impl FnOnce(tokio::time::error::Elapsed) -> anyhow::Error {
        move |_| anyhow::anyhow!("{what}: RabbitMQ did not answer in time")
    }

    /// Applies `batch` in one transaction of the handler and acknowledges every delivery;
    /// false (nothing applied, nothing acknowledged) when a delivery does not decode, the
    /// handler does not batch, or the batch failed.
    async fn in_one_transaction(&self, batch: &[lapin::message::Delivery]) -> anyhow::Result<bool> {
        let mut envelopes = Vec::with_capacity(batch.len());
        for delivery in batch {
            match <EventEnvelope as prost::Message>::decode(delivery.data.as_slice()) {
                Ok(e) if !e.event_id.is_empty() => envelopes.push(e),
                _ => return Ok(false),
            }
        }
        // In its own task, as one delivery's handler: an abandoned batch still ends its
        // transaction.
        let handler = self.consumer.handler.clone();
        let span = tracing::info_span!(
            "consume batch",
            otel.kind = "consumer",
            consumer = self.consumer.name,
            events = envelopes.len()
        );
        let outcome =
            tokio::spawn(tracing::Instrument::instrument(async move { handler.handle_batch(&envelopes).await }, span))
                .await
                .unwrap_or(None);
        match outcome {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                tracing::debug!(consumer = self.consumer.name, error = %e, "batch not applied; handling its events one by one");
                return Ok(false);
            }
            None => return Ok(false),
        }
        for delivery in batch {
            tokio::time::timeout(self.timeout, delivery.ack(BasicAckOptions::default()))
                .await
                .map_err(Self::bounded("acknowledge"))?
                .context("acknowledge")?;
        }
        Ok(true)
    }

    /// Handles one delivery: applied, retried later or dead-lettered, then acknowledged.
    async fn one(&self, delivery: lapin::message::Delivery) -> anyhow::Result<()> {
        let (consumer, channel, names, policy) = (&self.consumer, &self.channel, &self.names, self.policy);
        let timeout = self.timeout;
        let attempt = header_u32(&delivery.properties, ATTEMPT_HEADER).unwrap_or(1);
        let first_failure = header_u64(&delivery.properties, FIRST_FAILURE_HEADER);
        let since = first_failure.map(|ms| now_ms().saturating_sub(ms)).unwrap_or_default();
        let outcome = loop {
            let (outcome, _) = deliver(consumer, &delivery.data, attempt, Duration::from_millis(since), policy).await;
            if let Outcome::Unavailable(_) = outcome {
                // Pause the whole consumer until the database answers, then try the same
                // delivery again: an outage costs no attempts.
                let _pause = self.paused.write().await;
                if !wait_until_ready(consumer, &self.shutdown).await {
                    return Ok(()); // unacknowledged: redelivered after restart
                }
                continue;
            }
            break outcome;
        };
        match outcome {
            Outcome::Done | Outcome::Unavailable(_) => {}
            Outcome::RetryAfter(delay, reason) => {
                let first = first_failure.unwrap_or_else(now_ms);
                let props = with_headers(&delivery.properties, attempt + 1, &reason)
                    .with_headers(retry_headers(&delivery.properties, attempt + 1, &reason, first))
                    .with_expiration(delay.as_millis().to_string().into());
                tokio::time::timeout(timeout, publish_confirmed(channel, "", &names.retry, &delivery.data, props))
                    .await
                    .map_err(Self::bounded("move to the retry queue"))??;
            }
            Outcome::DeadLetter(reason) => {
                let mut headers =
                    with_headers(&delivery.properties, attempt, &reason).headers().clone().unwrap_or_default();
                headers.insert(DEAD_AT_HEADER.into(), AMQPValue::LongLongInt(now_ms() as i64));
                let props = delivery.properties.clone().with_headers(headers).with_delivery_mode(2);
                tokio::time::timeout(timeout, publish_confirmed(channel, "", &names.dead, &delivery.data, props))
                    .await
                    .map_err(Self::bounded("move to the dead-letter queue"))??;
            }
        }
        tokio::time::timeout(timeout, delivery.ack(BasicAckOptions::default()))
            .await
            .map_err(Self::bounded("acknowledge"))?
            .context("acknowledge")?;
        Ok(())
    }
}

impl RabbitBus {
    /// The publishing channel, reopened when the connection was lost.
    async fn publisher(&self) -> anyhow::Result<Channel> {
        let mut guard = self.publisher.lock().await;
        match guard.as_ref() {
            Some((conn, channel)) if conn.status().connected() && channel.status().connected() => Ok(channel.clone()),
            _ => {
                let opened = self.open_channel("doan-publisher").await?;
                let channel = opened.1.clone();
                *guard = Some(opened);
                Ok(channel)
            }
        }
    }

    async fn publish_batch(&self, batch: &[(EventEnvelope, Vec<u8>)]) -> anyhow::Result<Vec<anyhow::Result<()>>> {
        let channel = self.publisher().await?;
        // Send everything, then collect the confirms: one round trip for the batch.
        let mut pending = Vec::with_capacity(batch.len());
        for (envelope, encoded) in batch {
            let sent = channel
                .basic_publish(
                    self.settings.exchange.as_str().into(),
                    envelope.event_type.as_str().into(),
                    BasicPublishOptions { mandatory: true, ..Default::default() },
                    encoded,
                    event_properties(envelope),
                )
                .await
                .context("publish to RabbitMQ");
            pending.push((envelope, sent));
        }
        let mut results = Vec::with_capacity(batch.len());
        for (envelope, sent) in pending {
            let result = match sent {
                Ok(confirm) => match confirm.await.context("wait for publisher confirm") {
                    Ok(Confirmation::Ack(None)) => Ok(()),
                    Ok(Confirmation::Ack(Some(_))) => Err(anyhow::anyhow!(
                        "no queue is bound to {} yet (returned as unroutable)",
                        envelope.event_type
                    )),
                    Ok(Confirmation::Nack(_)) => Err(anyhow::anyhow!("RabbitMQ refused the message (nack)")),
                    Ok(Confirmation::NotRequested) => Err(anyhow::anyhow!("publisher confirms are off")),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            results.push(result);
        }
        Ok(results)
    }
}

/// Properties of a published event: persistent, typed, with the trace context as headers.
fn event_properties(envelope: &EventEnvelope) -> BasicProperties {
    let mut headers = FieldTable::default();
    for (k, v) in &envelope.trace_context {
        headers.insert(k.as_str().into(), long_string(v));
    }
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/x-protobuf".into())
        .with_message_id(envelope.event_id.as_str().into())
        .with_type(envelope.event_type.as_str().into())
        .with_headers(headers)
}

#[async_trait::async_trait]
impl EventBus for RabbitBus {
    async fn publish(&self, envelope: &EventEnvelope, encoded: &[u8]) -> anyhow::Result<()> {
        let batch = [(envelope.clone(), encoded.to_vec())];
        self.publish_many(&batch).await.pop().unwrap_or_else(|| Err(anyhow::anyhow!("nothing published")))
    }

    async fn close(&self) {
        if let Some((conn, _channel)) = self.publisher.lock().await.take() {
            let _ = conn.close(200, "shutting down".into()).await;
        }
    }

    async fn publish_many(&self, batch: &[(EventEnvelope, Vec<u8>)]) -> Vec<anyhow::Result<()>> {
        // A blocked or silent broker must not hold the relay (and its row locks) forever.
        let timeout = self.broker_timeout();
        let results = match tokio::time::timeout(timeout, self.publish_batch(batch)).await {
            Ok(Ok(results)) => results,
            Ok(Err(e)) => batch.iter().map(|_| Err(anyhow::anyhow!("{e:#}"))).collect(),
            Err(_) => {
                batch.iter().map(|_| Err(anyhow::anyhow!("RabbitMQ did not confirm within {timeout:?}"))).collect()
            }
        };
        if results.iter().any(|r| r.as_ref().is_err_and(|e| !e.to_string().contains("unroutable"))) {
            *self.publisher.lock().await = None;
        }
        results
    }

    async fn queue_depths(&self, service: &str) -> anyhow::Result<Option<QueueDepths>> {
        let names = QueueNames::new(&self.settings.queue_prefix, service);
        let channel = self.publisher().await?;
        let waiting = queue_depth(&channel, &names.main).await? + queue_depth(&channel, &names.retry).await?;
        let dead = queue_depth(&channel, &names.dead).await?;
        Ok(Some(QueueDepths { waiting, dead: Some(dead) }))
    }

    async fn subscribe(&self, consumer: Consumer, shutdown: Shutdown) -> anyhow::Result<()> {
        // Declare now, so events published after subscribe returns reach the queue.
        let mut ready = Some(self.open_consumer(&consumer).await?);
        let bus = RabbitBus::new(self.settings.clone(), self.topology.clone());
        tokio::spawn(async move {
            const FIRST_BACKOFF: Duration = Duration::from_millis(200);
            let mut backoff = FIRST_BACKOFF;
            while !shutdown.is_cancelled() {
                let session = match ready.take() {
                    Some(session) => Ok(session),
                    None => bus.open_consumer(&consumer).await,
                };
                let result = match session {
                    Ok(session) => {
                        // Connected: the next outage starts from a short wait again.
                        backoff = FIRST_BACKOFF;
                        bus.consume(session, &consumer, &shutdown).await
                    }
                    Err(err) => Err(err),
                };
                match result {
                    Ok(()) => return,
                    Err(err) => tracing::warn!(
                        consumer = consumer.name,
                        error = format!("{err:#}"),
                        retry_in_ms = backoff.as_millis() as u64,
                        "consumer lost the broker; reconnecting"
                    ),
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
        Ok(())
    }
}

/// Operators' access to one service's dead-letter queue (`doan dead-letters`).
impl RabbitBus {
    /// Up to `limit` dead letters of `service`, oldest first, left in the queue.
    pub async fn dead_letters(&self, service: &str, limit: usize) -> anyhow::Result<Vec<DeadLetter>> {
        let names = QueueNames::new(&self.settings.queue_prefix, service);
        let (conn, channel) = self.open_channel("doan-dead-letters").await?;
        // Taken without acknowledging, then returned to the queue when the channel closes.
        let mut letters = Vec::new();
        while letters.len() < limit {
            let Some(message) = take_unacknowledged(&channel, &names.dead).await? else {
                break;
            };
            letters.push(dead_letter(letters.len() as i64 + 1, service, &message.delivery));
        }
        let _ = channel.close(200, "listed".into()).await;
        let _ = conn.close(200, "listed".into()).await;
        Ok(letters)
    }

    /// Moves dead letters of `service` back to its queue for another round of attempts:
    /// the one whose event id is `event_id`, or all of them. Returns how many moved.
    pub async fn replay_dead_letters(&self, service: &str, event_id: Option<&str>) -> anyhow::Result<usize> {
        let names = QueueNames::new(&self.settings.queue_prefix, service);
        let (conn, channel) = self.open_channel("doan-dead-letters").await?;
        let depth = queue_depth(&channel, &names.dead).await?;
        let mut moved = 0;
        for _ in 0..depth {
            let Some(message) = take_unacknowledged(&channel, &names.dead).await? else {
                break;
            };
            let delivery = message.delivery;
            let id = delivery.properties.message_id().as_ref().map(|s| s.as_str().to_string()).unwrap_or_default();
            if event_id.is_some_and(|wanted| wanted != id) {
                continue; // left unacknowledged: back in the queue when the channel closes
            }
            // A fresh round of attempts: the attempt count and retry window start again.
            let mut headers = FieldTable::default();
            for (k, v) in delivery.properties.headers().clone().unwrap_or_default().inner() {
                if ![ATTEMPT_HEADER, FIRST_FAILURE_HEADER, DEAD_AT_HEADER].contains(&k.as_str()) {
                    headers.insert(k.clone(), v.clone());
                }
            }
            let props = delivery.properties.clone().with_headers(headers).with_delivery_mode(2);
            publish_confirmed(&channel, "", &names.main, &delivery.data, props).await?;
            delivery.ack(BasicAckOptions::default()).await.context("acknowledge the dead letter")?;
            moved += 1;
        }
        let _ = channel.close(200, "replayed".into()).await;
        let _ = conn.close(200, "replayed".into()).await;
        Ok(moved)
    }
}

/// Messages ready in `queue` (a passive declare: the queue is not created).
async fn queue_depth(channel: &Channel, queue: &str) -> anyhow::Result<u64> {
    let declared = channel
        .queue_declare(queue.into(), QueueDeclareOptions { passive: true, ..Default::default() }, FieldTable::default())
        .await
        .with_context(|| format!("inspect queue {queue}"))?;
    Ok(u64::from(declared.message_count()))
}

/// The next message of `queue`, taken without acknowledging: it returns to the queue when the
/// channel closes unless acknowledged.
async fn take_unacknowledged(
    channel: &Channel,
    queue: &str,
) -> anyhow::Result<Option<lapin::message::BasicGetMessage>> {
    channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: false })
        .await
        .with_context(|| format!("read queue {queue}"))
}

fn dead_letter(id: i64, service: &str, delivery: &lapin::message::Delivery) -> DeadLetter {
    let props = &delivery.properties;
    let text = |s: &Option<ShortString>| s.as_ref().map(|s| s.as_str().to_string()).unwrap_or_default();
    let reason = props
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(&ShortString::from(ERROR_HEADER)).cloned())
        .map(|v| match v {
            AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).to_string(),
            other => format!("{other:?}"),
        })
        .unwrap_or_default();
    let dead_ms = header_u64(props, DEAD_AT_HEADER).unwrap_or_default();
    DeadLetter {
        id,
        event_id: text(props.message_id()),
        event_type: text(props.kind()),
        consumer: service.to_string(),
        reason,
        attempts: header_u32(props, ATTEMPT_HEADER).unwrap_or(1),
        dead_at: chrono::DateTime::from_timestamp_millis(dead_ms as i64).unwrap_or_default(),
        body: delivery.data.clone(),
    }
}

fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}

async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    props: BasicProperties,
) -> anyhow::Result<()> {
    let confirm = channel
        .basic_publish(exchange.into(), routing_key.into(), BasicPublishOptions::default(), body, props)
        .await
        .context("publish to RabbitMQ")?
        .await
        .context("wait for publisher confirm")?;
    anyhow::ensure!(confirm.is_ack(), "RabbitMQ refused the message (nack)");
    Ok(())
}

fn long_string(value: &str) -> AMQPValue {
    AMQPValue::LongString(value.into())
}

fn header_u64(props: &BasicProperties, name: &str) -> Option<u64> {
    let value = props.headers().as_ref()?.inner().get(&ShortString::from(name))?.clone();
    match value {
        AMQPValue::LongUInt(v) => Some(u64::from(v)),
        AMQPValue::LongInt(v) => u64::try_from(v).ok(),
        AMQPValue::LongLongInt(v) => u64::try_from(v).ok(),
        _ => None,
    }
}

fn header_u32(props: &BasicProperties, name: &str) -> Option<u32> {
    header_u64(props, name).and_then(|v| u32::try_from(v).ok())
}

/// The headers of a message going to the retry queue: attempt, reason, first failure.
fn retry_headers(props: &BasicProperties, attempt: u32, reason: &str, first_failure_ms: u64) -> FieldTable {
    let mut headers = with_headers(props, attempt, reason).headers().clone().unwrap_or_default();
    headers.insert(FIRST_FAILURE_HEADER.into(), AMQPValue::LongLongInt(first_failure_ms as i64));
    headers
}

fn with_headers(props: &BasicProperties, attempt: u32, reason: &str) -> BasicProperties {
    let mut headers = props.headers().clone().unwrap_or_default();
    headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongUInt(attempt));
    let reason: String = reason.chars().take(1000).collect();
    headers.insert(ERROR_HEADER.into(), long_string(&reason));
    props.clone().with_headers(headers).with_delivery_mode(2)
}
