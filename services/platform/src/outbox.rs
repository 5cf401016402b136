//! The transactional outbox: an event is a row written in the same transaction as the state
//! change that caused it, so both commit or neither does. The [`OutboxRelay`] publishes rows
//! in order with publisher confirms (a batch at a time, confirms awaited together) and marks
//! them sent; on failure it keeps the row, records the error and retries with backoff.
//! Nothing is dropped.

use std::sync::Arc;
use std::time::Duration;

use doan_proto::events::{EventEnvelope, IntegrationEvent};
use prost::Message;
use sea_orm::sea_query::{Index, LockBehavior, LockType, Table};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use tokio::sync::Notify;

use crate::bus::EventBus;
use crate::error::AppResult;
use crate::{Shutdown, telemetry};

/// The `outbox` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One event waiting to be, or already, published.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        /// Insertion order; the relay publishes in this order.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Envelope event id.
        #[sea_orm(unique)]
        pub event_id: String,
        /// Routing key.
        pub event_type: String,
        /// The encoded `EventEnvelope`.
        pub envelope: Vec<u8>,
        /// When the change committed.
        pub created_at: DateTimeUtc,
        /// When the broker confirmed it; `None` while pending.
        pub published_at: Option<DateTimeUtc>,
        /// Failed publish attempts so far.
        pub attempts: i32,
        /// Last publish error, for operators.
        pub last_error: Option<String>,
        /// Set when the row cannot be published by this code (it does not decode): it is set
        /// aside with its reason in `last_error` instead of stalling the rows behind it.
        pub parked_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Writes events into the outbox of one service.
#[derive(Clone)]
pub struct Outbox {
    producer: &'static str,
    wake: Arc<Notify>,
}

impl Outbox {
    /// An outbox for events produced by `producer` (the service name).
    pub fn new(producer: &'static str) -> Self {
        Self { producer, wake: Arc::new(Notify::new()) }
    }

    /// Adds `event` to the outbox inside the caller's transaction; returns its event id.
    /// Call [`Outbox::wake`] after the transaction commits so the relay publishes promptly.
    pub async fn enqueue<E: IntegrationEvent>(&self, txn: &impl ConnectionTrait, event: &E) -> AppResult<String> {
        let mut ids = self.enqueue_many(txn, std::slice::from_ref(event)).await?;
        Ok(ids.pop().unwrap_or_default())
    }

    /// Adds `events` to the outbox inside the caller's transaction, a few hundred rows a
    /// statement, in order; returns their event ids.
    pub async fn enqueue_many<E: IntegrationEvent>(
        &self,
        txn: &impl ConnectionTrait,
        events: &[E],
    ) -> AppResult<Vec<String>> {
        let now = chrono::Utc::now();
        let trace_context = telemetry::current_trace_context();
        let mut ids = Vec::with_capacity(events.len());
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            let event_id = crate::convert::new_id();
            let envelope = EventEnvelope {
                event_id: event_id.clone(),
                event_type: E::EVENT_TYPE.to_string(),
                occurred_at: Some(crate::convert::timestamp(now)),
                producer: self.producer.to_string(),
                trace_context: trace_context.clone(),
                payload: event.encode_to_vec(),
            };
            rows.push(entity::ActiveModel {
                event_id: Set(event_id.clone()),
                event_type: Set(E::EVENT_TYPE.to_string()),
                envelope: Set(envelope.encode_to_vec()),
                created_at: Set(now),
                published_at: Set(None),
                attempts: Set(0),
                last_error: Set(None),
                parked_at: Set(None),
                ..Default::default()
            });
            ids.push(event_id);
        }
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(500).collect();
            entity::Entity::insert_many(chunk).exec_without_returning(txn).await?;
        }
        Ok(ids)
    }

    /// Tells the relay new rows have committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The relay that publishes this outbox's rows.
    pub fn relay(&self, db: DatabaseConnection, bus: Arc<dyn EventBus>) -> OutboxRelay {
        OutboxRelay { db, bus, wake: self.wake.clone(), batch: 100, batch_timeout: BATCH_TIMEOUT }
    }
}

/// Publishes pending outbox rows to the bus.
pub struct OutboxRelay {
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    wake: Arc<Notify>,
    batch: u64,
    batch_timeout: Duration,
}

/// How often the relay looks for rows even when nobody woke it (other replicas' rows,
/// rows left by a crash).
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Longest wait between two attempts after failures: publishing resumes within this long
/// after the broker is back, even when no new row wakes the relay.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Longest a batch may wait on the bus (which bounds each of its own waits too): the rows'
/// locks are then released and the batch retried.
const BATCH_TIMEOUT: Duration = Duration::from_secs(30);

impl OutboxRelay {
    /// Runs until `shutdown`, publishing rows as they commit.
    pub async fn run(self, shutdown: Shutdown) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.publish_batch().await {
                Ok(n) if n as u64 == self.batch => continue,
                Ok(_) => {
                    backoff = Duration::from_millis(100);
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(POLL_INTERVAL) => {}
                    }
                }
                Err(err) => {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        retry_in_ms = backoff.as_millis() as u64,
                        "outbox relay: publish failed; will retry"
                    );
                    // New rows wake the relay early (after a short pause, so a burst of
                    // writes during an outage does not turn into a burst of reconnects).
                    let woken = async {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        self.wake.notified().await;
                    };
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                        _ = woken => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Publishes up to one batch in order; returns how many were published. Stops at the
    /// first failure so order is kept, recording the error on that row.
    pub async fn publish_batch(&self) -> anyhow::Result<usize> {
        if self.db.get_database_backend() == DbBackend::Postgres {
            // Replicas share the table: rows are locked (SKIP LOCKED) so each is taken by one
            // relay at a time; the attempt count of a failure commits too.
            let txn = self.db.begin().await?;
            let result = self.publish_rows(&txn, true).await;
            txn.commit().await?;
            result
        } else {
            // SQLite has one writer and no row locks; a read-then-write transaction would
            // only collide with the API's writers.
            self.publish_rows(&self.db, false).await
        }
    }

    async fn publish_rows(&self, conn: &impl ConnectionTrait, lock: bool) -> anyhow::Result<usize> {
        let mut query = entity::Entity::find()
            .filter(entity::Column::PublishedAt.is_null())
            .filter(entity::Column::ParkedAt.is_null())
            .order_by_asc(entity::Column::Seq)
            .limit(self.batch);
        if lock {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = query.all(conn).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut batch = Vec::with_capacity(rows.len());
        let mut readable = Vec::with_capacity(rows.len());
        for row in rows {
            match EventEnvelope::decode(row.envelope.as_slice()) {
                Ok(envelope) => {
                    batch.push((envelope, row.envelope.clone()));
                    readable.push(row);
                }
                // A row this code cannot read is a bug: set it aside with the reason (never
                // dropped; operators see it in `parked`), and go on with the others.
                Err(e) => {
                    tracing::error!(seq = row.seq, error = %e, "outbox row does not decode; parked");
                    entity::Entity::update_many()
                        .col_expr(entity::Column::ParkedAt, sea_orm::sea_query::Expr::value(chrono::Utc::now()))
                        .col_expr(
                            entity::Column::LastError,
                            sea_orm::sea_query::Expr::value(format!("envelope does not decode: {e}")),
                        )
                        .filter(entity::Column::Seq.eq(row.seq))
                        .exec(conn)
                        .await?;
                }
            }
        }
        let rows = readable;
        if rows.is_empty() {
            return Ok(0);
        }
        let results = match tokio::time::timeout(self.batch_timeout, self.bus.publish_many(&batch)).await {
            Ok(results) => results,
            Err(_) => batch
                .iter()
                .map(|_| Err(anyhow::anyhow!("the bus did not confirm within {:?}", self.batch_timeout)))
                .collect(),
        };
        // Rows are marked up to the first failure, so a retry resumes in order.
        let published: Vec<i64> =
            rows.iter().zip(&results).take_while(|(_, r)| r.is_ok()).map(|(row, _)| row.seq).collect();
        if !published.is_empty() {
            entity::Entity::update_many()
                .col_expr(entity::Column::PublishedAt, sea_orm::sea_query::Expr::value(chrono::Utc::now()))
                .filter(entity::Column::Seq.is_in(published.clone()))
                .exec(conn)
                .await?;
        }
        if let Some((row, Err(err))) = rows.iter().zip(results).nth(published.len()) {
            let mut active: entity::ActiveModel = row.clone().into();
            active.attempts = Set(row.attempts + 1);
            active.last_error = Set(Some(format!("{err:#}")));
            active.update(conn).await?;
            return Err(err.context(format!("publish {} {}", row.event_type, row.event_id)));
        }
        Ok(published.len())
    }
}

/// Rows waiting to be published (for health reports and tests); parked rows not included.
pub async fn pending(db: &impl ConnectionTrait) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(entity::Entity::find()
        .filter(entity::Column::PublishedAt.is_null())
        .filter(entity::Column::ParkedAt.is_null())
        .count(db)
        .await?)
}

/// Rows set aside because they cannot be published (see `parked_at`).
pub async fn parked(db: &impl ConnectionTrait) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(entity::Entity::find().filter(entity::Column::ParkedAt.is_not_null()).count(db).await?)
}

/// How long the oldest pending row has waited (the outbox lag); zero when none waits.
pub async fn lag(db: &impl ConnectionTrait) -> AppResult<Duration> {
    let oldest = entity::Entity::find()
        .filter(entity::Column::PublishedAt.is_null())
        .filter(entity::Column::ParkedAt.is_null())
        .order_by_asc(entity::Column::Seq)
        .one(db)
        .await?;
    Ok(oldest.map(|row| (chrono::Utc::now() - row.created_at).to_std().unwrap_or_default()).unwrap_or_default())
}

/// Creates the `outbox` table.
pub struct CreateOutbox;

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m0000_platform_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .if_not_exists()
                    .col(big_pk_auto("seq"))
                    .col(string_uniq("event_id"))
                    .col(string("event_type"))
                    .col(blob("envelope"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(integer("attempts").default(0))
                    .col(text_null("last_error"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_pending")
                    .table("outbox")
                    .col("published_at")
                    .col("seq")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("outbox").to_owned()).await
    }
}

/// Adds `outbox.parked_at`.
pub struct ParkOutboxRows;

impl MigrationName for ParkOutboxRows {
    fn name(&self) -> &str {
        "m0002_platform_outbox_parked"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ParkOutboxRows {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table("outbox").add_column(timestamp_with_time_zone_null("parked_at")).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("outbox").drop_column("parked_at").to_owned()).await
    }
}
