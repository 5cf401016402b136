//! Notifications storage: the only room that knows SQL.

pub mod migrations;

use sea_orm::{ConnectionTrait, DbErr, Statement};

/// The next position in `member_id`'s inbox. The counter row stays locked until the
/// caller's transaction ends, so positions follow commit order: a watcher reading
/// `seq > last` never skips a notice that commits later with a smaller position.
pub async fn next_inbox_seq(txn: &impl ConnectionTrait, member_id: &str) -> Result<i64, DbErr> {
    let backend = txn.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "INSERT INTO inbox_counters (member_id, last_seq) VALUES ($1, 1) \
             ON CONFLICT (member_id) DO UPDATE SET last_seq = inbox_counters.last_seq + 1 RETURNING last_seq"
        }
        _ => {
            "INSERT INTO inbox_counters (member_id, last_seq) VALUES (?, 1) \
             ON CONFLICT (member_id) DO UPDATE SET last_seq = inbox_counters.last_seq + 1 RETURNING last_seq"
        }
    };
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [member_id.into()]))
        .await?
        .ok_or_else(|| DbErr::Custom("the inbox counter returned no row".into()))?;
    row.try_get::<i64>("", "last_seq")
}

/// `notifications`: one notice in one member's inbox.
pub mod notification {
    use sea_orm::entity::prelude::*;

    /// A notice.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        /// Notice id (UUIDv7: sorts by creation time).
        #[sea_orm(primary_key, auto_increment = false)]
        pub notification_id: String,
        /// Recipient.
        pub member_id: String,
        /// Kind number.
        pub kind: i32,
        /// Title.
        pub title: String,
        /// Body.
        pub body: String,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// When read.
        pub read_at: Option<DateTimeUtc>,
        /// Event that caused it.
        pub source_event_id: String,
        /// Position in the member's inbox: 1, 2, 3… in the order the notices committed
        /// (the live watch's cursor).
        pub seq: i64,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
