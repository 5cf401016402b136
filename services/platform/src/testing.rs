//! For services' unit tests proving that a change and its event commit together: an in-memory
//! database with a service's tables, the outbox rows a connection sees, and what the relay
//! publishes.

use std::sync::{Arc, Mutex};

use doan_proto::events::{EventEnvelope, IntegrationEvent};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait};
use sea_orm_migration::MigratorTrait;

use crate::Shutdown;
use crate::bus::{Consumer, EventBus, decode_payload};
use crate::outbox::Outbox;

/// A fresh in-memory database with the tables of migrator `M` (one connection, so one
/// database: run statements through the open transaction while there is one).
pub async fn database<M: MigratorTrait>() -> DatabaseConnection {
    let db = crate::db::connect("sqlite::memory:", 1).await.expect("in-memory database");
    crate::db::migrate::<M>(&db).await.expect("migrations");
    db
}

/// The outbox rows `conn` sees, published or not.
pub async fn outbox_rows(conn: &impl ConnectionTrait) -> u64 {
    crate::outbox::entity::Entity::find().count(conn).await.expect("count outbox rows")
}

/// A bus that keeps every envelope it is given.
#[derive(Default)]
struct Recorder(Mutex<Vec<EventEnvelope>>);

#[async_trait::async_trait]
impl EventBus for Recorder {
    async fn publish(&self, envelope: &EventEnvelope, _encoded: &[u8]) -> anyhow::Result<()> {
        self.0.lock().expect("recorder").push(envelope.clone());
        Ok(())
    }

    async fn subscribe(&self, _consumer: Consumer, _shutdown: Shutdown) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Publishes `db`'s pending outbox rows as the relay does; returns the payloads of type `E`, in
/// the order they were written. Every envelope must name `producer`.
pub async fn published<E: IntegrationEvent>(db: &DatabaseConnection, outbox: &Outbox, producer: &str) -> Vec<E> {
    let bus = Arc::new(Recorder::default());
    outbox.relay(db.clone(), bus.clone()).publish_batch().await.expect("relay the outbox");
    assert_eq!(crate::outbox::pending(db).await.expect("pending"), 0, "every row was published");
    let envelopes = bus.0.lock().expect("recorder").clone();
    envelopes
        .iter()
        .inspect(|e| assert_eq!(e.producer, producer, "{} is {producer}'s", e.event_type))
        .filter(|e| e.event_type == E::EVENT_TYPE)
        .map(|e| decode_payload(e).expect("payload decodes"))
        .collect()
}
