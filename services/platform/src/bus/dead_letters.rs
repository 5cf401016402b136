//! Dead letters of the in-process bus: messages a consumer gave up on, kept in the consuming
//! service's own database (`dead_letters`) so they survive a restart, for operators to list,
//! inspect and replay (`doan dead-letters list|show|replay SERVICE`). On RabbitMQ the same
//! messages wait in the service's `.dlq` queue instead (see [`super::rabbit`]).

use std::sync::Mutex;

use sea_orm::sea_query::{Expr, Table};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// A message given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its id in the store (the row's sequence, or the position in a RabbitMQ queue).
    pub id: i64,
    /// Envelope event id, when the message decoded that far.
    pub event_id: String,
    /// Event type, when known.
    pub event_type: String,
    /// Consumer that gave up.
    pub consumer: String,
    /// Why.
    pub reason: String,
    /// Delivery attempts made.
    pub attempts: u32,
    /// When it was given up on.
    pub dead_at: chrono::DateTime<chrono::Utc>,
    /// The raw message.
    pub body: Vec<u8>,
}

/// Where the in-process bus keeps dead letters.
#[async_trait::async_trait]
pub trait DeadLetterStore: Send + Sync + 'static {
    /// Keeps `letter` (its `id` is assigned by the store).
    async fn park(&self, letter: DeadLetter) -> anyhow::Result<()>;
}

/// Dead letters in memory: for bus tests that have no database.
#[derive(Default)]
pub struct MemoryDeadLetters {
    letters: Mutex<Vec<DeadLetter>>,
}

impl MemoryDeadLetters {
    /// What was parked, oldest first.
    pub fn all(&self) -> Vec<DeadLetter> {
        self.letters.lock().expect("dead-letter lock").clone()
    }
}

#[async_trait::async_trait]
impl DeadLetterStore for MemoryDeadLetters {
    async fn park(&self, mut letter: DeadLetter) -> anyhow::Result<()> {
        let mut letters = self.letters.lock().expect("dead-letter lock");
        letter.id = letters.len() as i64 + 1;
        letters.push(letter);
        Ok(())
    }
}

/// The `dead_letters` table of a consuming service's database.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One message given up on.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dead_letters")]
    pub struct Model {
        /// Sequence; operators name a dead letter by it.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Envelope event id (empty when the message did not decode).
        pub event_id: String,
        /// Event type (empty when unknown).
        pub event_type: String,
        /// The consumer that gave up.
        pub consumer: String,
        /// Why.
        pub reason: String,
        /// Attempts made.
        pub attempts: i32,
        /// When it was given up on.
        pub dead_at: DateTimeUtc,
        /// The raw message.
        pub body: Vec<u8>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl From<entity::Model> for DeadLetter {
    fn from(m: entity::Model) -> Self {
        Self {
            id: m.seq,
            event_id: m.event_id,
            event_type: m.event_type,
            consumer: m.consumer,
            reason: m.reason,
            attempts: <u32 as std::convert::TryFrom<i32>>::try_from(m.attempts).unwrap_or_default(),
            dead_at: m.dead_at,
            body: m.body,
        }
    }
}

/// Dead letters in the consuming service's database.
#[derive(Clone)]
pub struct DbDeadLetters {
    db: DatabaseConnection,
}

impl DbDeadLetters {
    /// The store in `db` (which has the platform's migrations).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Up to `limit` dead letters, oldest first.
    pub async fn list(&self, limit: u64) -> anyhow::Result<Vec<DeadLetter>> {
        let rows = entity::Entity::find().order_by_asc(entity::Column::Seq).limit(limit).all(&self.db).await?;
        Ok(rows.into_iter().map(DeadLetter::from).collect())
    }

    /// The dead letter `id`.
    pub async fn get(&self, id: i64) -> anyhow::Result<Option<DeadLetter>> {
        Ok(entity::Entity::find_by_id(id).one(&self.db).await?.map(DeadLetter::from))
    }

    /// Forgets the dead letter `id` (after a successful replay).
    pub async fn remove(&self, id: i64) -> anyhow::Result<()> {
        entity::Entity::delete_many().filter(entity::Column::Seq.eq(id)).exec(&self.db).await?;
        Ok(())
    }

    /// Records a failed replay of `id`.
    pub async fn replay_failed(&self, id: i64, reason: &str) -> anyhow::Result<()> {
        entity::Entity::update_many()
            .col_expr(entity::Column::Reason, Expr::value(format!("replay failed: {reason}")))
            .col_expr(entity::Column::DeadAt, Expr::value(chrono::Utc::now()))
            .filter(entity::Column::Seq.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// How many dead letters wait.
    pub async fn depth(&self) -> anyhow::Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(entity::Entity::find().count(&self.db).await?)
    }
}

#[async_trait::async_trait]
impl DeadLetterStore for DbDeadLetters {
    async fn park(&self, letter: DeadLetter) -> anyhow::Result<()> {
        entity::ActiveModel {
            event_id: Set(letter.event_id),
            event_type: Set(letter.event_type),
            consumer: Set(letter.consumer),
            reason: Set(letter.reason.chars().take(2000).collect()),
            attempts: Set(Ord::min(letter.attempts, i32::MAX as u32) as i32),
            dead_at: Set(letter.dead_at),
            body: Set(letter.body),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }
}

/// Creates the `dead_letters` table.
pub struct CreateDeadLetters;

impl MigrationName for CreateDeadLetters {
    fn name(&self) -> &str {
        "m0001_platform_dead_letters"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateDeadLetters {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("dead_letters")
                    .if_not_exists()
                    .col(big_pk_auto("seq"))
                    .col(string("event_id"))
                    .col(string("event_type"))
                    .col(string("consumer"))
                    .col(text("reason"))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("dead_at"))
                    .col(blob("body"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("dead_letters").to_owned()).await
    }
}
