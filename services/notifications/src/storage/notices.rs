//! Every query and transaction on member inboxes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};

use super::notification;
use crate::domain::Notice;

/// The next position in `member_id`'s inbox. The counter row stays locked until the
/// caller's transaction ends, so positions follow commit order: a watcher reading
/// `seq > last` never skips a notice that commits later with a smaller position.
pub async fn next_seq(txn: &impl ConnectionTrait, member_id: &str) -> Result<i64, DbErr> {
    let backend = txn.get_database_backend();
    let placeholder = if backend == sea_orm::DbBackend::Postgres { "$1" } else { "?" };
    let sql = format!(
        "INSERT INTO inbox_counters (member_id, last_seq) VALUES ({placeholder}, 1) \
         ON CONFLICT (member_id) DO UPDATE SET last_seq = inbox_counters.last_seq + 1 RETURNING last_seq"
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [member_id.into()]))
        .await?
        .ok_or_else(|| DbErr::Custom("the inbox counter returned no row".into()))?;
    row.try_get::<i64>("", "last_seq")
}

/// Puts `notice` (caused by event `source_event_id`) at the next position of its member's
/// inbox, inside the consumer's transaction.
pub async fn insert(
    txn: &impl ConnectionTrait,
    notice: &Notice,
    source_event_id: &str,
    now: DateTime<Utc>,
) -> Result<notification::Model, DbErr> {
    let seq = next_seq(txn, &notice.member_id).await?;
    notification::ActiveModel {
        notification_id: Set(doan_platform::convert::new_id()),
        member_id: Set(notice.member_id.clone()),
        kind: Set(notice.kind as i32),
        title: Set(notice.title.clone()),
        body: Set(notice.body.clone()),
        created_at: Set(now),
        read_at: Set(None),
        source_event_id: Set(source_event_id.to_string()),
        seq: Set(seq),
    }
    .insert(txn)
    .await
}

/// Up to `limit` notices of `member_id`, newest first, older than the notice `before`.
pub async fn page(
    db: &impl ConnectionTrait,
    member_id: &str,
    unread_only: bool,
    before: Option<String>,
    limit: u64,
) -> Result<Vec<notification::Model>, DbErr> {
    let mut query = notification::Entity::find().filter(notification::Column::MemberId.eq(member_id));
    if unread_only {
        query = query.filter(notification::Column::ReadAt.is_null());
    }
    if let Some(before) = before {
        query = query.filter(notification::Column::NotificationId.lt(before));
    }
    query.order_by_desc(notification::Column::NotificationId).limit(limit).all(db).await
}

/// Unread notices of `member_id`.
pub async fn unread_count(db: &impl ConnectionTrait, member_id: &str) -> Result<u64, DbErr> {
    notification::Entity::find()
        .filter(notification::Column::MemberId.eq(member_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await
}

/// The notice `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<notification::Model>, DbErr> {
    notification::Entity::find_by_id(id.to_string()).one(db).await
}

/// Marks the notice `id` read at `now`, unless it already is.
pub async fn mark_read(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::NotificationId.eq(id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Up to `limit` notices of `member_id` after inbox position `after`, in inbox order.
pub async fn after(
    db: &impl ConnectionTrait,
    member_id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<notification::Model>, DbErr> {
    notification::Entity::find()
        .filter(notification::Column::MemberId.eq(member_id))
        .filter(notification::Column::Seq.gt(after))
        .order_by_asc(notification::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// The last position in `member_id`'s inbox (0 when empty).
pub async fn last_seq(db: &impl ConnectionTrait, member_id: &str) -> Result<i64, DbErr> {
    Ok(notification::Entity::find()
        .filter(notification::Column::MemberId.eq(member_id))
        .order_by_desc(notification::Column::Seq)
        .one(db)
        .await?
        .map(|n| n.seq)
        .unwrap_or_default())
}
