//! The events room: what activities publishes ([`publish`], always through the outbox) and
//! consumes (the directory of units and members; imported batches are acknowledged).

pub mod publish;

use doan_platform::bus::{Consumer, HandlerError};
use doan_platform::directory;
use doan_platform::inbox::{Transactional, TransactionalHandler};
use doan_platform::outbox::Outbox;
use doan_platform::service::ServiceContext;
use doan_proto::events::EventEnvelope;
use sea_orm::{DatabaseConnection, DatabaseTransaction};

struct DirectoryHandler {
    db: DatabaseConnection,
    outbox: Outbox,
}

#[async_trait::async_trait]
impl TransactionalHandler for DirectoryHandler {
    type Committed = ();

    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    async fn apply(&self, txn: &DatabaseTransaction, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        directory::apply_and_acknowledge(txn, envelope, crate::storage::PATH_COLUMNS, &self.outbox, crate::NAME)
            .await?;
        Ok(())
    }

    fn committed(&self, _: Vec<()>) {
        self.outbox.wake();
    }
}

/// The event types activities consumes.
pub fn subscriptions() -> Vec<&'static str> {
    directory::EVENT_TYPES.to_vec()
}

/// The activities consumer.
pub fn consumer(ctx: &ServiceContext) -> Consumer {
    ctx.consumer(subscriptions(), Transactional(DirectoryHandler { db: ctx.db.clone(), outbox: ctx.outbox.clone() }))
}
