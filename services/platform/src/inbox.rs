//! The inbox: every consumer is idempotent. A handler opens its transaction with
//! [`begin`], which records (event id, handler) in the same transaction as the handler's
//! effects; a redelivered event finds its row and is skipped.

use doan_proto::events::EventEnvelope;
use sea_orm::sea_query::{OnConflict, Table};
use sea_orm::{DatabaseConnection, DatabaseTransaction, EntityTrait, Set, TransactionTrait};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::error::AppResult;

/// The `inbox` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One event handled by one handler.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox")]
    pub struct Model {
        /// Envelope event id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        /// Handler name, e.g. `notifications.inbox`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub handler: String,
        /// Event type, for operators.
        pub event_type: String,
        /// When the handler's transaction committed.
        pub processed_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Opens the handler's transaction and claims the event for `handler`. Returns `None` when
/// the event was already handled (the caller acknowledges and does nothing).
pub async fn begin(
    db: &DatabaseConnection,
    handler: &str,
    envelope: &EventEnvelope,
) -> AppResult<Option<DatabaseTransaction>> {
    let txn = db.begin().await?;
    let row = entity::ActiveModel {
        event_id: Set(envelope.event_id.clone()),
        handler: Set(handler.to_string()),
        event_type: Set(envelope.event_type.clone()),
        processed_at: Set(chrono::Utc::now()),
    };
    let inserted = entity::Entity::insert(row)
        .on_conflict(OnConflict::columns([entity::Column::EventId, entity::Column::Handler]).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        txn.rollback().await?;
        tracing::debug!(event_id = %envelope.event_id, handler, "duplicate delivery skipped");
        return Ok(None);
    }
    Ok(Some(txn))
}

/// Creates the `inbox` table.
pub struct CreateInbox;

impl MigrationName for CreateInbox {
    fn name(&self) -> &str {
        "m0000_platform_inbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateInbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("inbox")
                    .if_not_exists()
                    .col(string("event_id"))
                    .col(string("handler"))
                    .col(string("event_type"))
                    .col(timestamp_with_time_zone("processed_at"))
                    .primary_key(Index::create().col("event_id").col("handler"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("inbox").to_owned()).await
    }
}

/// The platform's migrations, which every service's migrator lists first.
pub fn platform_migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(crate::outbox::CreateOutbox),
        Box::new(CreateInbox),
        Box::new(crate::bus::dead_letters::CreateDeadLetters),
        Box::new(crate::outbox::ParkOutboxRows),
    ]
}
