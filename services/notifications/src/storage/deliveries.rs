//! Every query on deliveries: written with their notices, claimed by the dispatcher under a
//! lease, settled in batches.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::delivery;
use super::sql::{one_of, statement};
use crate::domain::deliveries::DeliveryState;

/// Writes `rows` (one statement on PostgreSQL, 1,000 rows a statement on SQLite).
pub async fn insert_many(txn: &impl ConnectionTrait, rows: &[delivery::Model]) -> Result<(), DbErr> {
    if super::sql::insert_json(txn, "deliveries", rows).await?.is_some() {
        return Ok(());
    }
    for chunk in rows.chunks(1_000) {
        delivery::Entity::insert_many(chunk.iter().cloned().map(delivery::ActiveModel::from))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Claims up to `limit` queued deliveries due at `now` that no one holds, holding them until
/// `lease_until` (on PostgreSQL rows another dispatcher is claiming are skipped).
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    let lock = if db.get_database_backend() == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE deliveries SET lease_until = $1 WHERE delivery_id IN (SELECT delivery_id FROM deliveries \
         WHERE state = $2 AND next_attempt_at <= $3 AND lease_until <= $4 ORDER BY next_attempt_at LIMIT $5{lock}) \
         RETURNING *"
    );
    let values =
        vec![lease_until.into(), (DeliveryState::Queued as i32).into(), now.into(), now.into(), (limit as i64).into()];
    delivery::Entity::find().from_raw_sql(statement(db, &sql, values)).all(db).await
}

/// Moves `ids` that are still `from` to `to` with `reason`, releasing their lease.
pub async fn settle(
    db: &impl ConnectionTrait,
    ids: &[String],
    from: &[DeliveryState],
    to: DeliveryState,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut n = 0;
    for chunk in ids.chunks(super::sql::LIST_CHUNK) {
        n += delivery::Entity::update_many()
            .col_expr(delivery::Column::State, Expr::value(to as i32))
            .col_expr(delivery::Column::FailureReason, Expr::value(reason))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .col_expr(delivery::Column::LeaseUntil, Expr::value(now))
            .col_expr(
                delivery::Column::Attempts,
                Expr::col(delivery::Column::Attempts)
                    .add(i32::from(to != DeliveryState::Cancelled && to != DeliveryState::Digested)),
            )
            .filter(one_of(db.get_database_backend(), delivery::Column::DeliveryId, chunk))
            .filter(delivery::Column::State.is_in(from.iter().map(|s| *s as i32)))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(n)
}

/// Puts delivery `id` back in the queue for an attempt at `at` (one attempt more, `reason`).
pub async fn retry_at(
    db: &impl ConnectionTrait,
    id: &str,
    at: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(at))
        .col_expr(delivery::Column::LeaseUntil, Expr::value(now))
        .col_expr(delivery::Column::FailureReason, Expr::value(reason))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .col_expr(delivery::Column::Attempts, Expr::col(delivery::Column::Attempts).add(1))
        .filter(delivery::Column::DeliveryId.eq(id))
        .filter(delivery::Column::State.eq(DeliveryState::Queued as i32))
        .exec(db)
        .await?;
    Ok(())
}

/// Fails every queued or held delivery to the devices `ids` (they are gone).
pub async fn fail_for_devices(
    db: &impl ConnectionTrait,
    ids: &[String],
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut n = 0;
    for chunk in ids.chunks(super::sql::LIST_CHUNK) {
        n += delivery::Entity::update_many()
            .col_expr(delivery::Column::State, Expr::value(DeliveryState::Failed as i32))
            .col_expr(delivery::Column::FailureReason, Expr::value(reason))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(one_of(db.get_database_backend(), delivery::Column::DeviceId, chunk))
            .filter(delivery::Column::State.is_in([DeliveryState::Queued as i32, DeliveryState::Held as i32]))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(n)
}

/// Cancels the queued and held deliveries of broadcast `id`.
pub async fn cancel_of_broadcast(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(delivery::Entity::update_many()
        .col_expr(delivery::Column::State, Expr::value(DeliveryState::Cancelled as i32))
        .col_expr(delivery::Column::FailureReason, Expr::value("the broadcast was revoked"))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::BroadcastId.eq(id))
        .filter(delivery::Column::State.is_in([DeliveryState::Queued as i32, DeliveryState::Held as i32]))
        .exec(db)
        .await?
        .rows_affected)
}

/// Marks the sent push deliveries of notice `notification_id` to `owner_id`'s devices (one
/// device, or all when `device_id` is empty) delivered.
pub async fn confirm(
    db: &impl ConnectionTrait,
    notification_id: &str,
    owner_id: &str,
    device_id: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut q = delivery::Entity::update_many()
        .col_expr(delivery::Column::State, Expr::value(DeliveryState::Delivered as i32))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::NotificationId.eq(notification_id))
        .filter(delivery::Column::OwnerId.eq(owner_id))
        .filter(delivery::Column::Channel.eq(crate::domain::preferences::Channel::Push as i32))
        .filter(delivery::Column::State.eq(DeliveryState::Sent as i32));
    if !device_id.is_empty() {
        q = q.filter(delivery::Column::DeviceId.eq(device_id));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// The deliveries of each of the notices `ids`, oldest first.
pub async fn of_notifications(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, Vec<delivery::Model>>, DbErr> {
    let mut out: HashMap<String, Vec<delivery::Model>> = HashMap::new();
    for chunk in ids.chunks(super::sql::LIST_CHUNK) {
        let rows = delivery::Entity::find()
            .filter(one_of(db.get_database_backend(), delivery::Column::NotificationId, chunk))
            .order_by_asc(delivery::Column::CreatedAt)
            .order_by_asc(delivery::Column::DeliveryId)
            .all(db)
            .await?;
        for d in rows {
            out.entry(d.notification_id.clone()).or_default().push(d);
        }
    }
    Ok(out)
}

/// Held deliveries whose quiet hours ended by `now`, up to `limit`, by owner.
pub async fn held_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    use sea_orm::QuerySelect;
    delivery::Entity::find()
        .filter(delivery::Column::State.eq(DeliveryState::Held as i32))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(delivery::Column::OwnerId)
        .order_by_asc(delivery::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Counts of the deliveries of broadcast `id`'s own notices (not its reminders or
/// escalations): (channel, state, count).
pub async fn counts_of_broadcast(db: &impl ConnectionTrait, id: &str) -> Result<Vec<(i32, i32, i64)>, DbErr> {
    let rows = db
        .query_all_raw(statement(
            db,
            "SELECT channel, state, COUNT(*) AS n FROM deliveries WHERE broadcast_id = $1 AND kind IN (9, 10, 11) \
             GROUP BY channel, state",
            vec![id.to_string().into()],
        ))
        .await?;
    rows.iter().map(|r| Ok((r.try_get("", "channel")?, r.try_get("", "state")?, r.try_get::<i64>("", "n")?))).collect()
}
