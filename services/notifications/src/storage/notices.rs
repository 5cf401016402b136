//! Every query and transaction on member inboxes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};

use super::notification;
use super::sql::one_of;
use crate::domain::Notice;

/// What notices written together share.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// Their broadcast; empty for personal notices.
    pub broadcast_id: String,
    /// Urgent.
    pub urgent: bool,
}

/// Puts `notices` (caused by event `source_event_id`) at the next positions of their
/// members' inboxes, in order, inside the consumer's transaction. The counter rows stay locked
/// until the transaction ends, so positions follow commit order: a watcher reading
/// `seq > last` never skips a notice that commits later with a smaller position. Also: one counter statement for
/// up to 1,000 members (their rows locked in member order, so concurrent batches never wait
/// on each other in a circle) and one insert per 1,000 notices.
pub async fn insert_all(
    txn: &impl ConnectionTrait,
    notices: &[Notice],
    source_event_id: &str,
    meta: &Meta,
    now: DateTime<Utc>,
) -> Result<Vec<notification::Model>, DbErr> {
    let mut wanted: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for n in notices {
        *wanted.entry(n.member_id.as_str()).or_default() += 1;
    }
    // The last position each member's counter reaches; positions are handed out up to it.
    let mut next: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let backend = txn.get_database_backend();
    let counts: std::collections::HashMap<&str, i64> = wanted.iter().map(|(m, c)| (*m, *c)).collect();
    let wanted: Vec<(&str, i64)> = wanted.into_iter().collect();
    for chunk in wanted.chunks(1_000) {
        let mut values = Vec::with_capacity(chunk.len() * 2);
        let mut rows = Vec::with_capacity(chunk.len());
        for (member_id, count) in chunk {
            let at = values.len();
            rows.push(match backend {
                sea_orm::DbBackend::Postgres => format!("(${}, ${})", at + 1, at + 2),
                _ => "(?, ?)".to_string(),
            });
            values.push(sea_orm::Value::from(member_id.to_string()));
            values.push(sea_orm::Value::from(*count));
        }
        let sql = format!(
            "INSERT INTO inbox_counters (member_id, last_seq) VALUES {} ON CONFLICT (member_id) \
             DO UPDATE SET last_seq = inbox_counters.last_seq + excluded.last_seq RETURNING member_id, last_seq",
            rows.join(", ")
        );
        for row in txn.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await? {
            let member_id: String = row.try_get("", "member_id")?;
            let last: i64 = row.try_get("", "last_seq")?;
            let count = counts.get(member_id.as_str()).copied().unwrap_or(1);
            next.insert(member_id, last - count + 1);
        }
    }
    let mut models = Vec::with_capacity(notices.len());
    for notice in notices {
        let seq =
            next.get_mut(&notice.member_id).ok_or_else(|| DbErr::Custom("an inbox counter was not returned".into()))?;
        models.push(notification::Model {
            notification_id: doan_platform::convert::new_id(),
            member_id: notice.member_id.clone(),
            kind: notice.kind as i32,
            title: notice.title.clone(),
            body: notice.body.clone(),
            created_at: now,
            read_at: None,
            source_event_id: source_event_id.to_string(),
            seq: *seq,
            broadcast_id: meta.broadcast_id.clone(),
            category: notice.kind.category() as i32,
            urgent: meta.urgent,
        });
        *seq += 1;
    }
    if super::sql::insert_json(txn, "notifications", &models).await?.is_some() {
        return Ok(models);
    }
    for chunk in models.chunks(1_000) {
        let rows = chunk.iter().cloned().map(notification::ActiveModel::from);
        notification::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(models)
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

/// The notices `ids`.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<notification::Model>, DbErr> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(super::sql::LIST_CHUNK) {
        out.extend(
            notification::Entity::find()
                .filter(one_of(db.get_database_backend(), notification::Column::NotificationId, chunk))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// Removes every notice of broadcast `broadcast_id` from the inboxes; returns how many.
pub async fn delete_of_broadcast(db: &impl ConnectionTrait, broadcast_id: &str) -> Result<u64, DbErr> {
    Ok(notification::Entity::delete_many()
        .filter(notification::Column::BroadcastId.eq(broadcast_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// The notice of `owner_id` for broadcast `broadcast_id` (its first: the broadcast itself).
pub async fn of_broadcast(
    db: &impl ConnectionTrait,
    owner_id: &str,
    broadcast_id: &str,
) -> Result<Option<notification::Model>, DbErr> {
    notification::Entity::find()
        .filter(notification::Column::MemberId.eq(owner_id))
        .filter(notification::Column::BroadcastId.eq(broadcast_id))
        .order_by_asc(notification::Column::Seq)
        .one(db)
        .await
}

/// The inbox counters (last positions) of `owners` that have one.
pub async fn counters(db: &impl ConnectionTrait, owners: &[String]) -> Result<Vec<(String, i64)>, DbErr> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT member_id, last_seq FROM inbox_counters WHERE member_id IN ({})",
        super::sql::placeholders(1, owners.len())
    );
    let values = owners.iter().map(|o| sea_orm::Value::from(o.clone())).collect();
    let rows = db.query_all_raw(super::sql::statement(db, &sql, values)).await?;
    rows.iter().map(|r| Ok((r.try_get("", "member_id")?, r.try_get("", "last_seq")?))).collect()
}
