//! The events room: what activities publishes ([`publish`], always through the outbox) and
//! consumes (the directory of units and members; imported batches are acknowledged).

pub mod publish;

use doan_platform::bus::{Consumer, EventHandler, HandlerError};
use doan_platform::outbox::Outbox;
use doan_platform::service::ServiceContext;
use doan_platform::{directory, inbox};
use doan_proto::events::EventEnvelope;
use sea_orm::DatabaseConnection;

struct DirectoryHandler {
    db: DatabaseConnection,
    outbox: Outbox,
}

#[async_trait::async_trait]
impl EventHandler for DirectoryHandler {
    async fn handle(&self, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        let Some(txn) = inbox::begin(&self.db, crate::NAME, envelope).await? else {
            return Ok(());
        };
        directory::apply_and_acknowledge(&txn, envelope, crate::storage::PATH_COLUMNS, &self.outbox, crate::NAME)
            .await?;
        txn.commit().await?;
        self.outbox.wake();
        Ok(())
    }
}

/// The event types activities consumes.
pub fn subscriptions() -> Vec<&'static str> {
    directory::EVENT_TYPES.to_vec()
}

/// The activities consumer.
pub fn consumer(ctx: &ServiceContext) -> Consumer {
    ctx.consumer(subscriptions(), DirectoryHandler { db: ctx.db.clone(), outbox: ctx.outbox.clone() })
}
