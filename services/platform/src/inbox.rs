//! The inbox: every consumer is idempotent. A handler opens its transaction with
//! [`begin`] (or [`claim`]s each event of a batch inside one), which records (event id,
//! handler) in the same transaction as the handler's effects; a redelivered event finds its row
//! and is skipped.

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
    if !claim(&txn, handler, envelope).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    Ok(Some(txn))
}

/// Claims the event for `handler` inside `txn`: false when it was already handled (then the
/// caller applies nothing for it). The claim commits with the handler's effects.
pub async fn claim(txn: &DatabaseTransaction, handler: &str, envelope: &EventEnvelope) -> AppResult<bool> {
    let row = entity::ActiveModel {
        event_id: Set(envelope.event_id.clone()),
        handler: Set(handler.to_string()),
        event_type: Set(envelope.event_type.clone()),
        processed_at: Set(chrono::Utc::now()),
    };
    let inserted = entity::Entity::insert(row)
        .on_conflict(OnConflict::columns([entity::Column::EventId, entity::Column::Handler]).do_nothing().to_owned())
        .exec_without_returning(txn)
        .await?;
    if inserted == 0 {
        tracing::debug!(event_id = %envelope.event_id, handler, "duplicate delivery skipped");
    }
    Ok(inserted > 0)
}

/// A consumer whose effects are one database transaction per event: it applies an event
/// inside a transaction the inbox opened. Wrapped in [`Transactional`], it handles one event
/// per transaction, or several that arrived together in one transaction (one commit for the
/// lot; if any fails, none is applied and each is handled alone).
#[async_trait::async_trait]
pub trait TransactionalHandler: Send + Sync + 'static {
    /// What the handler does once its transaction committed (notices handed to watchers).
    type Committed: Send + 'static;

    /// The handler's name in the inbox (the service's name).
    fn name(&self) -> &'static str;

    /// The handler's database.
    fn db(&self) -> &DatabaseConnection;

    /// Applies `envelope` inside `txn` (the event is already claimed in the inbox).
    async fn apply(
        &self,
        txn: &DatabaseTransaction,
        envelope: &EventEnvelope,
    ) -> Result<Self::Committed, crate::bus::HandlerError>;

    /// Runs after the transaction that applied `done` committed.
    fn committed(&self, done: Vec<Self::Committed>) {
        drop(done);
    }
}

/// The [`crate::bus::EventHandler`] of a [`TransactionalHandler`].
pub struct Transactional<H>(pub H);

#[async_trait::async_trait]
impl<H: TransactionalHandler> crate::bus::EventHandler for Transactional<H> {
    async fn handle(&self, envelope: &EventEnvelope) -> Result<(), crate::bus::HandlerError> {
        let h = &self.0;
        let Some(txn) = begin(h.db(), h.name(), envelope).await? else {
            return Ok(());
        };
        let done = h.apply(&txn, envelope).await?;
        txn.commit().await?;
        h.committed(vec![done]);
        Ok(())
    }

    async fn handle_batch(&self, envelopes: &[EventEnvelope]) -> Option<Result<(), crate::bus::HandlerError>> {
        let h = &self.0;
        let applied = async {
            let txn = h.db().begin().await?;
            let mut done = Vec::with_capacity(envelopes.len());
            for envelope in envelopes {
                if claim(&txn, h.name(), envelope).await? {
                    done.push(h.apply(&txn, envelope).await?);
                }
            }
            txn.commit().await?;
            Ok::<_, crate::bus::HandlerError>(done)
        }
        .await;
        Some(applied.map(|done| h.committed(done)))
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};

    use super::*;
    use crate::bus::{EventHandler, HandlerError};

    struct TestMigrator;

    impl MigratorTrait for TestMigrator {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            platform_migrations()
        }
    }

    /// Records each event it applies as a row of `applied`; fails an event whose type is
    /// `bad`; remembers what committed.
    struct Recorder {
        db: DatabaseConnection,
        committed: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl TransactionalHandler for Recorder {
        type Committed = String;

        fn name(&self) -> &'static str {
            "test"
        }

        fn db(&self) -> &DatabaseConnection {
            &self.db
        }

        async fn apply(&self, txn: &DatabaseTransaction, envelope: &EventEnvelope) -> Result<String, HandlerError> {
            if envelope.event_type == "bad" {
                return Err(HandlerError::Failed(anyhow::anyhow!("not yet")));
            }
            txn.execute_unprepared(&format!("INSERT INTO applied (id) VALUES ('{}')", envelope.event_id)).await?;
            Ok(envelope.event_id.clone())
        }

        fn committed(&self, done: Vec<String>) {
            self.committed.lock().unwrap().extend(done);
        }
    }

    fn event(id: &str, event_type: &str) -> EventEnvelope {
        EventEnvelope { event_id: id.into(), event_type: event_type.into(), ..Default::default() }
    }

    #[tokio::test]
    async fn a_batch_commits_all_or_nothing_and_skips_what_was_handled() {
        let db = crate::db::connect("sqlite::memory:", 1).await.unwrap();
        crate::db::migrate::<TestMigrator>(&db).await.unwrap();
        db.execute_unprepared("CREATE TABLE applied (id TEXT PRIMARY KEY)").await.unwrap();
        let handler = Transactional(Recorder { db: db.clone(), committed: Mutex::default() });
        let applied = || async {
            db.query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM applied",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap()
        };

        // One event alone, then a batch holding it again: applied once.
        handler.handle(&event("a", "ok")).await.unwrap();
        let batch = [event("a", "ok"), event("b", "ok"), event("c", "ok")];
        assert!(matches!(handler.handle_batch(&batch).await, Some(Ok(()))));
        assert_eq!(applied().await, 3);
        assert_eq!(entity::Entity::find().count(&db).await.unwrap(), 3);
        assert_eq!(*handler.0.committed.lock().unwrap(), ["a", "b", "c"]);

        // A batch with an event that fails applies none of them and claims none.
        let batch = [event("d", "ok"), event("e", "bad")];
        assert!(matches!(handler.handle_batch(&batch).await, Some(Err(_))));
        assert_eq!(applied().await, 3);
        assert_eq!(entity::Entity::find().count(&db).await.unwrap(), 3);
        // Alone, the good one goes through.
        handler.handle(&event("d", "ok")).await.unwrap();
        assert_eq!(applied().await, 4);
        assert_eq!(handler.0.committed.lock().unwrap().len(), 4);
    }
}
