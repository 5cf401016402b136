//! RabbitMQ through lapin.
//!
//! Topology, per consuming service `S` with prefix `P`:
//! - exchange `doan.events` (topic, durable): every event, routing key = event type;
//! - queue `P.S` (durable) bound to each event type `S` handles;
//! - queue `P.S.retry` (durable, no consumer): a failed message waits here for its per-message
//!   expiration, then dead-letters back to `P.S`; the delay doubles with each attempt;
//! - queue `P.S.dlq` (durable): messages given up on, with the reason in `x-doan-error`.
//!
//! Publishing waits for the broker's confirm. Consumers acknowledge only after the handler's
//! transaction committed (or after the message was safely moved to retry or DLQ). Broken
//! connections are reopened with backoff, for publishers and consumers alike.

use std::time::Duration;

use anyhow::Context;
use doan_proto::events::EventEnvelope;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use super::{Consumer, EventBus, Outcome, RetryPolicy, deliver};
use crate::Shutdown;
use crate::config::BrokerSettings;

const ATTEMPT_HEADER: &str = "x-doan-attempt";
const ERROR_HEADER: &str = "x-doan-error";

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
    /// The publishing channel (confirm mode); reopened after a failure.
    publisher: Mutex<Option<(Connection, Channel)>>,
    policy: RetryPolicy,
}

impl RabbitBus {
    /// A bus for `settings`; connects lazily and reconnects as needed.
    pub fn new(settings: BrokerSettings) -> Self {
        let policy = RetryPolicy {
            max_attempts: settings.max_attempts.max(1),
            base_delay: Duration::from_millis(settings.retry_base_ms),
        };
        Self { settings, publisher: Mutex::new(None), policy }
    }

    /// Opens a connection and a confirm-mode channel, declaring the exchange.
    pub async fn open_channel(&self, name: &str) -> anyhow::Result<(Connection, Channel)> {
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
        channel
            .exchange_declare(
                self.settings.exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions { durable: true, ..Default::default() },
                FieldTable::default(),
            )
            .await
            .context("declare exchange")?;
        Ok((conn, channel))
    }

    async fn declare_queues(&self, channel: &Channel, consumer: &Consumer) -> anyhow::Result<QueueNames> {
        let names = QueueNames::new(&self.settings.queue_prefix, consumer.name);
        let durable = QueueDeclareOptions { durable: true, ..Default::default() };
        let mut main_args = FieldTable::default();
        main_args.insert("x-queue-type".into(), long_string(&self.settings.queue_type));
        channel.queue_declare(names.main.as_str().into(), durable, main_args.clone()).await.context("declare queue")?;
        let mut retry_args = main_args.clone();
        retry_args.insert("x-dead-letter-exchange".into(), long_string(""));
        retry_args.insert("x-dead-letter-routing-key".into(), long_string(&names.main));
        channel.queue_declare(names.retry.as_str().into(), durable, retry_args).await.context("declare retry queue")?;
        channel
            .queue_declare(names.dead.as_str().into(), durable, main_args)
            .await
            .context("declare dead-letter queue")?;
        for event_type in &consumer.event_types {
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

    /// Opens the consumer's connection and declares its queues.
    async fn open_consumer(&self, consumer: &Consumer) -> anyhow::Result<ConsumerSession> {
        let (conn, channel) = self.open_channel(&format!("doan-{}-consumer", consumer.name)).await?;
        let names = self.declare_queues(&channel, consumer).await?;
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
        // once its own handling committed (or it was moved to retry or the DLQ).
        let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(usize::from(self.settings.prefetch.max(1))));
        let mut in_flight = tokio::task::JoinSet::new();
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => {
                    while in_flight.join_next().await.is_some() {}
                    let _ = conn.close(200, "shutting down".into()).await;
                    return Ok(());
                }
                Some(done) = in_flight.join_next() => {
                    done.context("delivery task")??;
                    continue;
                }
                d = deliveries.next() => match d {
                    Some(d) => d.context("receive delivery")?,
                    None => anyhow::bail!("consumer stream ended (connection lost)"),
                },
            };
            let permit = limit.clone().acquire_owned().await.context("delivery limit")?;
            let (consumer, channel, names, policy) = (consumer.clone(), channel.clone(), names.clone(), self.policy);
            in_flight.spawn(async move {
                let _permit = permit;
                let attempt = header_u32(&delivery.properties, ATTEMPT_HEADER).unwrap_or(1);
                let (outcome, _) = deliver(&consumer, &delivery.data, attempt, policy).await;
                match outcome {
                    Outcome::Done => {}
                    Outcome::RetryAfter(delay, reason) => {
                        let props = with_headers(&delivery.properties, attempt + 1, &reason)
                            .with_expiration(delay.as_millis().to_string().into());
                        publish_confirmed(&channel, "", &names.retry, &delivery.data, props).await?;
                    }
                    Outcome::DeadLetter(reason) => {
                        let props = with_headers(&delivery.properties, attempt, &reason);
                        publish_confirmed(&channel, "", &names.dead, &delivery.data, props).await?;
                    }
                }
                delivery.ack(BasicAckOptions::default()).await.context("acknowledge")?;
                anyhow::Ok(())
            });
        }
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
        let channel = match self.publisher().await {
            Ok(c) => c,
            Err(e) => return batch.iter().map(|_| Err(anyhow::anyhow!("{e:#}"))).collect(),
        };
        // Send everything, then collect the confirms: one round trip for the batch.
        let mut pending = Vec::with_capacity(batch.len());
        for (envelope, encoded) in batch {
            let sent = channel
                .basic_publish(
                    self.settings.exchange.as_str().into(),
                    envelope.event_type.as_str().into(),
                    BasicPublishOptions::default(),
                    encoded,
                    event_properties(envelope),
                )
                .await
                .context("publish to RabbitMQ");
            pending.push(sent);
        }
        let mut results = Vec::with_capacity(batch.len());
        for sent in pending {
            let result = match sent {
                Ok(confirm) => match confirm.await.context("wait for publisher confirm") {
                    Ok(c) if c.is_ack() => Ok(()),
                    Ok(_) => Err(anyhow::anyhow!("RabbitMQ refused the message (nack)")),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            results.push(result);
        }
        if results.iter().any(Result::is_err) {
            *self.publisher.lock().await = None;
        }
        results
    }

    async fn subscribe(&self, consumer: Consumer, shutdown: Shutdown) -> anyhow::Result<()> {
        // Declare now, so events published after subscribe returns reach the queue.
        let mut ready = Some(self.open_consumer(&consumer).await?);
        let bus = RabbitBus::new(self.settings.clone());
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(200);
            while !shutdown.is_cancelled() {
                let session = match ready.take() {
                    Some(session) => Ok(session),
                    None => bus.open_consumer(&consumer).await,
                };
                let result = match session {
                    Ok(session) => bus.consume(session, &consumer, &shutdown).await,
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
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        });
        Ok(())
    }
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

fn header_u32(props: &BasicProperties, name: &str) -> Option<u32> {
    let value = props.headers().as_ref()?.inner().get(&ShortString::from(name))?.clone();
    match value {
        AMQPValue::LongUInt(v) => Some(v),
        AMQPValue::LongInt(v) => u32::try_from(v).ok(),
        AMQPValue::LongLongInt(v) => u32::try_from(v).ok(),
        _ => None,
    }
}

fn with_headers(props: &BasicProperties, attempt: u32, reason: &str) -> BasicProperties {
    let mut headers = props.headers().clone().unwrap_or_default();
    headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongUInt(attempt));
    let reason: String = reason.chars().take(1000).collect();
    headers.insert(ERROR_HEADER.into(), long_string(&reason));
    props.clone().with_headers(headers).with_delivery_mode(2)
}
