//! For tests proving that a change and its event commit together (see
//! `doan_platform::testing`), with activities's tables and name.

use doan_platform::outbox::Outbox;
use doan_proto::events::IntegrationEvent;
use sea_orm::DatabaseConnection;

pub use doan_platform::testing::outbox_rows;

/// A fresh in-memory database with activities's tables.
pub async fn database() -> DatabaseConnection {
    doan_platform::testing::database::<crate::Migrator>().await
}

/// What the relay publishes of type `E`, every envelope activities's.
pub async fn published<E: IntegrationEvent>(db: &DatabaseConnection, outbox: &Outbox) -> Vec<E> {
    doan_platform::testing::published(db, outbox, crate::NAME).await
}
