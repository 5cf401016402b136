//! Every query and transaction on broadcasts and their recipients.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{broadcast, recipient};
use super::sql::{one_of, statement};
use crate::domain::broadcasts::BroadcastStatus;

/// Stores a new broadcast.
pub async fn insert(txn: &impl ConnectionTrait, b: broadcast::Model) -> Result<(), DbErr> {
    broadcast::Entity::insert(broadcast::ActiveModel::from(b)).exec_without_returning(txn).await?;
    Ok(())
}

/// The broadcast `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<broadcast::Model>, DbErr> {
    broadcast::Entity::find_by_id(id.to_string()).one(db).await
}

/// The broadcast `created_by` created with idempotency key `request_id`.
pub async fn find_by_request(
    db: &impl ConnectionTrait,
    created_by: &str,
    request_id: &str,
) -> Result<Option<broadcast::Model>, DbErr> {
    broadcast::Entity::find()
        .filter(broadcast::Column::CreatedBy.eq(created_by))
        .filter(broadcast::Column::RequestId.eq(request_id))
        .one(db)
        .await
}

/// Up to `limit` broadcasts of units under `path`, of `kind` (0: any), newest first, older
/// than `before`.
pub async fn page(
    db: &impl ConnectionTrait,
    path: &str,
    kind: i32,
    before: Option<String>,
    limit: u64,
) -> Result<Vec<broadcast::Model>, DbErr> {
    let mut q = broadcast::Entity::find().filter(broadcast::Column::UnitPath.starts_with(path));
    if kind != 0 {
        q = q.filter(broadcast::Column::Kind.eq(kind));
    }
    if let Some(before) = before {
        q = q.filter(broadcast::Column::BroadcastId.lt(before));
    }
    q.order_by_desc(broadcast::Column::BroadcastId).limit(limit).all(db).await
}

/// Broadcasts to send or resume at `now`: scheduled and due, or being sent by no one.
pub async fn due(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<String>, DbErr> {
    Ok(broadcast::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(broadcast::Column::Status.eq(BroadcastStatus::Scheduled as i32))
                        .add(broadcast::Column::SendAt.lte(now)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(broadcast::Column::Status.eq(BroadcastStatus::Sending as i32))
                        .add(broadcast::Column::LeaseUntil.lte(now)),
                ),
        )
        .order_by_asc(broadcast::Column::SendAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.broadcast_id)
        .collect())
}

/// Takes broadcast `id` for sending until `lease_until` when it is due and no one holds it.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = db
        .execute_raw(statement(
            db,
            "UPDATE broadcasts SET status = $1, lease_until = $2 WHERE broadcast_id = $3 AND \
             ((status = $4 AND send_at <= $5) OR (status = $6 AND lease_until <= $7))",
            vec![
                (BroadcastStatus::Sending as i32).into(),
                lease_until.into(),
                id.to_string().into(),
                (BroadcastStatus::Scheduled as i32).into(),
                now.into(),
                (BroadcastStatus::Sending as i32).into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Records progress of a sending broadcast from the state this sender read (`resolved`,
/// `from_cursor`): recipients resolved (`resolved_now` with their count) or notices written up to
/// `cursor`; renews the lease. False when it is no longer being sent (revoked) or another
/// sender moved it first: the caller rolls back.
pub async fn advance(
    txn: &impl ConnectionTrait,
    id: &str,
    from_cursor: &str,
    resolved_now: Option<i64>,
    cursor: &str,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut q = broadcast::Entity::update_many()
        .col_expr(broadcast::Column::FanoutCursor, Expr::value(cursor))
        .col_expr(broadcast::Column::LeaseUntil, Expr::value(lease_until));
    if let Some(n) = resolved_now {
        q = q
            .col_expr(broadcast::Column::Resolved, Expr::value(true))
            .col_expr(broadcast::Column::Recipients, Expr::value(n));
    }
    let r = q
        .filter(broadcast::Column::BroadcastId.eq(id))
        .filter(broadcast::Column::Status.eq(BroadcastStatus::Sending as i32))
        .filter(broadcast::Column::Resolved.eq(resolved_now.is_none()))
        .filter(broadcast::Column::FanoutCursor.eq(from_cursor))
        .exec(txn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Holds a sending broadcast until `lease_until` (its first write in a transaction, so that on
/// SQLite the transaction takes the write lock before it reads); false when it is no longer
/// being sent.
pub async fn renew(txn: &impl ConnectionTrait, id: &str, lease_until: DateTime<Utc>) -> Result<bool, DbErr> {
    let r = broadcast::Entity::update_many()
        .col_expr(broadcast::Column::LeaseUntil, Expr::value(lease_until))
        .filter(broadcast::Column::BroadcastId.eq(id))
        .filter(broadcast::Column::Status.eq(BroadcastStatus::Sending as i32))
        .exec(txn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Gives up this sender's hold of broadcast `id` at `now`, so that the next look takes it over.
pub async fn release(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    broadcast::Entity::update_many()
        .col_expr(broadcast::Column::LeaseUntil, Expr::value(now))
        .filter(broadcast::Column::BroadcastId.eq(id))
        .filter(broadcast::Column::Status.eq(BroadcastStatus::Sending as i32))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a sending broadcast sent at `now`.
pub async fn finish(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let r = broadcast::Entity::update_many()
        .col_expr(broadcast::Column::Status, Expr::value(BroadcastStatus::Sent as i32))
        .col_expr(broadcast::Column::SentAt, Expr::value(now))
        .filter(broadcast::Column::BroadcastId.eq(id))
        .filter(broadcast::Column::Status.eq(BroadcastStatus::Sending as i32))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Revokes broadcast `id` unless it already is; false when it was.
pub async fn revoke(txn: &impl ConnectionTrait, id: &str, reason: &str, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let r = broadcast::Entity::update_many()
        .col_expr(broadcast::Column::Status, Expr::value(BroadcastStatus::Revoked as i32))
        .col_expr(broadcast::Column::RevokedAt, Expr::value(now))
        .col_expr(broadcast::Column::RevokeReason, Expr::value(reason))
        .filter(broadcast::Column::BroadcastId.eq(id))
        .filter(broadcast::Column::Status.ne(BroadcastStatus::Revoked as i32))
        .exec(txn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// A chunk of a broadcast's recipients: `size` recipients from `first` on, by recipient id.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Its number, from 0.
    pub no: i64,
    /// Its first recipient.
    pub first: String,
    /// How many recipients it holds (the last chunk may hold fewer).
    pub size: i64,
}

/// Whether the recipients of `id` were split into chunks.
pub async fn chunked(db: &impl ConnectionTrait, id: &str) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(statement(
            db,
            "SELECT COUNT(*) AS n FROM broadcast_chunks WHERE broadcast_id = $1",
            vec![id.to_string().into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0) > 0)
}

/// Splits the recipients of `id` after recipient `after` into chunks of `size`, by recipient
/// id (every `size`-th recipient starts one); returns how many.
pub async fn plan_chunks(txn: &impl ConnectionTrait, id: &str, after: &str, size: u64) -> Result<u64, DbErr> {
    let size = i64::try_from(size.max(1)).unwrap_or(i64::MAX);
    let r = txn
        .execute_raw(statement(
            txn,
            "INSERT INTO broadcast_chunks (broadcast_id, chunk_no, first_recipient, size, written_at) \
             SELECT $1, (rn - 1) / $2, recipient_id, $3, NULL FROM (SELECT recipient_id, \
             ROW_NUMBER() OVER (ORDER BY recipient_id) AS rn FROM broadcast_recipients \
             WHERE broadcast_id = $4 AND recipient_id > $5) r WHERE (rn - 1) % $6 = 0 ON CONFLICT DO NOTHING",
            vec![
                id.to_string().into(),
                size.into(),
                size.into(),
                id.to_string().into(),
                after.to_string().into(),
                size.into(),
            ],
        ))
        .await?;
    Ok(r.rows_affected())
}

/// Up to `limit` chunks of `id` not yet written, in order.
pub async fn chunks_pending(db: &impl ConnectionTrait, id: &str, limit: u64) -> Result<Vec<Chunk>, DbErr> {
    let rows = db
        .query_all_raw(statement(
            db,
            "SELECT chunk_no, first_recipient, size FROM broadcast_chunks WHERE broadcast_id = $1 \
             AND written_at IS NULL ORDER BY chunk_no LIMIT $2",
            vec![id.to_string().into(), (limit as i64).into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Chunk {
                no: r.try_get("", "chunk_no")?,
                first: r.try_get("", "first_recipient")?,
                size: r.try_get("", "size")?,
            })
        })
        .collect()
}

/// Takes chunk `no` of `id` for writing in this transaction (its first statement, so that on
/// SQLite the transaction holds the write lock): false when it was written already or the
/// broadcast is no longer being sent. On PostgreSQL the broadcast's row is share-locked until
/// the transaction ends: chunks are written side by side, and a revocation waits for them, so
/// it withdraws every notice they wrote.
pub async fn take_chunk(txn: &impl ConnectionTrait, id: &str, no: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let lock = if txn.get_database_backend() == sea_orm::DbBackend::Postgres { " FOR SHARE" } else { "" };
    let r = txn
        .execute_raw(statement(
            txn,
            &format!(
                "UPDATE broadcast_chunks SET written_at = $1 WHERE broadcast_id = $2 AND chunk_no = $3 \
                 AND written_at IS NULL AND EXISTS (SELECT 1 FROM broadcasts WHERE broadcast_id = $4 \
                 AND status = $5{lock})"
            ),
            vec![
                now.into(),
                id.to_string().into(),
                no.into(),
                id.to_string().into(),
                (BroadcastStatus::Sending as i32).into(),
            ],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The recipients of `id`'s chunk `c`.
pub async fn chunk_recipients(db: &impl ConnectionTrait, id: &str, c: &Chunk) -> Result<Vec<recipient::Model>, DbErr> {
    recipient::Entity::find()
        .filter(recipient::Column::BroadcastId.eq(id))
        .filter(recipient::Column::RecipientId.gte(c.first.as_str()))
        .order_by_asc(recipient::Column::RecipientId)
        .limit(c.size.max(0) as u64)
        .all(db)
        .await
}

/// Up to `limit` recipients of `id` who have not acknowledged (and were not yet reminded, or
/// escalated, as `column` says), after `after`.
pub async fn unacknowledged(
    db: &impl ConnectionTrait,
    id: &str,
    column: recipient::Column,
    after: &str,
    limit: u64,
) -> Result<Vec<recipient::Model>, DbErr> {
    recipient::Entity::find()
        .filter(recipient::Column::BroadcastId.eq(id))
        .filter(recipient::Column::AcknowledgedAt.is_null())
        .filter(column.is_null())
        .filter(recipient::Column::RecipientId.gt(after))
        .order_by_asc(recipient::Column::RecipientId)
        .limit(limit)
        .all(db)
        .await
}

/// Marks `recipients` of `id` reminded or escalated (as `column` says) at `now`.
pub async fn mark_recipients(
    txn: &impl ConnectionTrait,
    id: &str,
    column: recipient::Column,
    recipients: &[String],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in recipients.chunks(super::sql::LIST_CHUNK) {
        recipient::Entity::update_many()
            .col_expr(column, Expr::value(now))
            .filter(recipient::Column::BroadcastId.eq(id))
            .filter(one_of(txn.get_database_backend(), recipient::Column::RecipientId, chunk))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Claims the reminder or escalation (as `column` says) of broadcast `id` at `now`: false when
/// someone did it first.
pub async fn claim_step(
    txn: &impl ConnectionTrait,
    id: &str,
    column: broadcast::Column,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = broadcast::Entity::update_many()
        .col_expr(column, Expr::value(now))
        .filter(broadcast::Column::BroadcastId.eq(id))
        .filter(broadcast::Column::Status.eq(BroadcastStatus::Sent as i32))
        .filter(column.is_null())
        .exec(txn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Sent directives that need acknowledgement whose reminders are due at `now` (before the
/// deadline, not yet reminded).
pub async fn reminders_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<broadcast::Model>, DbErr> {
    broadcast::Entity::find()
        .filter(broadcast::Column::Status.eq(BroadcastStatus::Sent as i32))
        .filter(broadcast::Column::RemindAt.lte(now))
        .filter(broadcast::Column::Deadline.gt(now))
        .filter(broadcast::Column::RemindedAt.is_null())
        .order_by_asc(broadcast::Column::RemindAt)
        .limit(limit)
        .all(db)
        .await
}

/// Sent directives that need acknowledgement whose deadline passed by `now` and whose
/// escalation was not done.
pub async fn escalations_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<broadcast::Model>, DbErr> {
    broadcast::Entity::find()
        .filter(broadcast::Column::Status.eq(BroadcastStatus::Sent as i32))
        .filter(broadcast::Column::AcknowledgementRequired.eq(true))
        .filter(broadcast::Column::Deadline.lte(now))
        .filter(broadcast::Column::EscalatedAt.is_null())
        .order_by_asc(broadcast::Column::Deadline)
        .limit(limit)
        .all(db)
        .await
}

/// The notices (the broadcast's own, not reminders) of `id` in the inboxes of `owners`:
/// owner → notice id.
pub async fn notices_of(
    db: &impl ConnectionTrait,
    id: &str,
    owners: &[String],
) -> Result<std::collections::HashMap<String, String>, DbErr> {
    use super::notification;
    Ok(notification::Entity::find()
        .filter(notification::Column::BroadcastId.eq(id))
        .filter(one_of(db.get_database_backend(), notification::Column::MemberId, owners))
        .filter(notification::Column::Kind.is_in([9, 10, 11]))
        .all(db)
        .await?
        .into_iter()
        .map(|n| (n.member_id, n.notification_id))
        .collect())
}

/// The recipient `recipient_id` of `id`.
pub async fn recipient(
    db: &impl ConnectionTrait,
    id: &str,
    recipient_id: &str,
) -> Result<Option<recipient::Model>, DbErr> {
    recipient::Entity::find_by_id((id.to_string(), recipient_id.to_string())).one(db).await
}

/// Marks the recipient read (and acknowledged, when `acknowledge`) at `now`, keeping earlier
/// times.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    id: &str,
    recipient_id: &str,
    acknowledge: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let by_id = |q: sea_orm::UpdateMany<recipient::Entity>| {
        q.filter(recipient::Column::BroadcastId.eq(id)).filter(recipient::Column::RecipientId.eq(recipient_id))
    };
    by_id(recipient::Entity::update_many().col_expr(recipient::Column::ReadAt, Expr::value(now)))
        .filter(recipient::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    if acknowledge {
        by_id(recipient::Entity::update_many().col_expr(recipient::Column::AcknowledgedAt, Expr::value(now)))
            .filter(recipient::Column::AcknowledgedAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Records the recipient's answer to a meeting invitation.
pub async fn respond(db: &impl ConnectionTrait, id: &str, recipient_id: &str, response: i32) -> Result<(), DbErr> {
    recipient::Entity::update_many()
        .col_expr(recipient::Column::MeetingResponse, Expr::value(response))
        .filter(recipient::Column::BroadcastId.eq(id))
        .filter(recipient::Column::RecipientId.eq(recipient_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Which of `ids` are recipients of `id`.
pub async fn existing(db: &impl ConnectionTrait, id: &str, ids: &[String]) -> Result<Vec<String>, DbErr> {
    Ok(recipient::Entity::find()
        .filter(recipient::Column::BroadcastId.eq(id))
        .filter(one_of(db.get_database_backend(), recipient::Column::RecipientId, ids))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.recipient_id)
        .collect())
}

/// Records whether `ids` attended meeting `id`; returns how many changed.
pub async fn attendance(db: &impl ConnectionTrait, id: &str, ids: &[String], attended: bool) -> Result<u64, DbErr> {
    Ok(recipient::Entity::update_many()
        .col_expr(recipient::Column::Attended, Expr::value(attended))
        .filter(recipient::Column::BroadcastId.eq(id))
        .filter(one_of(db.get_database_backend(), recipient::Column::RecipientId, ids))
        .filter(recipient::Column::Attended.ne(attended))
        .exec(db)
        .await?
        .rows_affected)
}

/// A state filter of recipients (numbers of `doan.notifications.v1.RecipientState`).
pub async fn recipients_page(
    db: &impl ConnectionTrait,
    id: &str,
    state: i32,
    path: &str,
    after: Option<String>,
    limit: u64,
) -> Result<Vec<recipient::Model>, DbErr> {
    let mut q = recipient::Entity::find().filter(recipient::Column::BroadcastId.eq(id));
    if !path.is_empty() {
        q = q.filter(recipient::Column::UnitPath.starts_with(path));
    }
    q = match state {
        1 => q.filter(recipient::Column::AcknowledgedAt.is_not_null()),
        2 => q.filter(recipient::Column::AcknowledgedAt.is_null()).filter(recipient::Column::ReadAt.is_not_null()),
        3 => q.filter(recipient::Column::ReadAt.is_null()),
        _ => q,
    };
    if let Some(after) = after {
        q = q.filter(recipient::Column::RecipientId.gt(after));
    }
    q.order_by_asc(recipient::Column::RecipientId).limit(limit).all(db).await
}

/// (unit path, read, acknowledged, count) of `id`'s recipients under `path`.
pub async fn completion_rows(
    db: &impl ConnectionTrait,
    id: &str,
    path: &str,
) -> Result<Vec<(String, bool, bool, i64)>, DbErr> {
    let rows = db
        .query_all_raw(statement(
            db,
            "SELECT unit_path, CASE WHEN read_at IS NULL THEN 0 ELSE 1 END AS was_read, \
             CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END AS acked, COUNT(*) AS n \
             FROM broadcast_recipients WHERE broadcast_id = $1 AND unit_path LIKE $2 \
             GROUP BY unit_path, CASE WHEN read_at IS NULL THEN 0 ELSE 1 END, CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END",
            vec![id.to_string().into(), format!("{path}%").into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("", "unit_path")?,
                r.try_get::<i32>("", "was_read")? == 1,
                r.try_get::<i32>("", "acked")? == 1,
                r.try_get::<i64>("", "n")?,
            ))
        })
        .collect()
}

/// Figures of `id`: recipients, read, acknowledged, attending, not attending, maybe, attended.
pub async fn figures(db: &impl ConnectionTrait, id: &str) -> Result<[i64; 7], DbErr> {
    let row = db
        .query_one_raw(statement(
            db,
            "SELECT COUNT(*) AS recipients, COUNT(read_at) AS was_read, COUNT(acknowledged_at) AS acked, \
             COALESCE(SUM(CASE WHEN meeting_response = 1 THEN 1 ELSE 0 END), 0) AS yes, \
             COALESCE(SUM(CASE WHEN meeting_response = 2 THEN 1 ELSE 0 END), 0) AS no, \
             COALESCE(SUM(CASE WHEN meeting_response = 3 THEN 1 ELSE 0 END), 0) AS maybe, \
             COALESCE(SUM(CASE WHEN attended THEN 1 ELSE 0 END), 0) AS attended \
             FROM broadcast_recipients WHERE broadcast_id = $1",
            vec![id.to_string().into()],
        ))
        .await?;
    let Some(r) = row else { return Ok([0; 7]) };
    let mut out = [0i64; 7];
    for (i, c) in ["recipients", "was_read", "acked", "yes", "no", "maybe", "attended"].iter().enumerate() {
        out[i] = r.try_get::<i64>("", c)?;
    }
    Ok(out)
}
