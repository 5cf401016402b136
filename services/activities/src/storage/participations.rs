//! Every query and transaction on participations (registration, check-in).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entities::{activity, participation};
use crate::domain::ParticipationState;
use crate::domain::attendance::ReviewState;

/// Holds the activity's row lock until the transaction ends, so that registrations and
/// cancellations of one activity take and free places one at a time. A transaction that
/// reads participations and then writes takes it first: SQLite refuses a transaction that
/// read and then writes after another connection wrote.
pub async fn lock_activity(txn: &impl ConnectionTrait, activity_id: &str) -> Result<(), DbErr> {
    activity::Entity::update_many()
        .col_expr(activity::Column::PlacesTaken, Expr::col(activity::Column::PlacesTaken))
        .filter(activity::Column::ActivityId.eq(activity_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Takes one of the activity's places if one is free; false when every place is taken.
async fn take_place(txn: &impl ConnectionTrait, activity_id: &str) -> Result<bool, DbErr> {
    let taken = activity::Entity::update_many()
        .col_expr(activity::Column::PlacesTaken, Expr::col(activity::Column::PlacesTaken).add(1))
        .filter(activity::Column::ActivityId.eq(activity_id))
        .filter(
            Condition::any()
                .add(activity::Column::Capacity.eq(0))
                .add(Expr::col(activity::Column::PlacesTaken).lt(Expr::col(activity::Column::Capacity))),
        )
        .exec(txn)
        .await?
        .rows_affected;
    Ok(taken == 1)
}

/// The member's participation in the activity: unchanged when they are registered, waiting
/// or checked in; otherwise (never registered, or cancelled) registered now with a place when
/// one is free, else waiting in line. `capacity` is the activity's (0: no limit).
pub async fn register(
    txn: &impl ConnectionTrait,
    activity_id: &str,
    capacity: i32,
    member_id: &str,
    now: DateTime<Utc>,
) -> Result<participation::Model, DbErr> {
    // Places are taken one at a time under the activity's row lock. Without a limit there is
    // nothing to count: on PostgreSQL the registration goes without the lock, so a day of
    // action's check-ins do not queue on one row (the unique (activity, member) index keeps
    // one row per member). SQLite takes the lock first all the same: it refuses a transaction
    // that read and then writes after another connection wrote.
    let limited = capacity > 0;
    if limited || txn.get_database_backend() != sea_orm::DbBackend::Postgres {
        lock_activity(txn, activity_id).await?;
    }
    let existing = of_member(txn, activity_id, member_id).await?;
    if let Some(row) = existing.as_ref().filter(|r| r.state != ParticipationState::Cancelled as i32) {
        return Ok(row.clone());
    }
    let state = if !limited || take_place(txn, activity_id).await? {
        ParticipationState::Registered
    } else {
        ParticipationState::Waitlisted
    };
    match existing {
        Some(cancelled) => {
            // Only from CANCELLED: a concurrent registration (possible without the lock) that
            // re-registered first, or checked in, wins; this one returns what it left.
            participation::Entity::update_many()
                .col_expr(participation::Column::State, Expr::value(state as i32))
                .col_expr(participation::Column::RegisteredAt, Expr::value(now))
                .col_expr(participation::Column::CancelledAt, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(participation::Column::ParticipationId.eq(&cancelled.participation_id))
                .filter(participation::Column::State.eq(ParticipationState::Cancelled as i32))
                .exec(txn)
                .await?;
            find(txn, &cancelled.participation_id)
                .await?
                .ok_or_else(|| DbErr::RecordNotFound("participation vanished inside its transaction".into()))
        }
        None => {
            let row = participation::ActiveModel {
                participation_id: Set(doan_platform::convert::new_id()),
                activity_id: Set(activity_id.to_string()),
                member_id: Set(member_id.to_string()),
                state: Set(state as i32),
                registered_at: Set(now),
                checked_in_at: Set(None),
                cancelled_at: Set(None),
                checked_out_at: Set(None),
                minutes: Set(None),
                review_state: Set(ReviewState::NotNeeded as i32),
                reviewed_by: Set(None),
                reviewed_at: Set(None),
                review_note: Set(None),
                withheld: Set(false),
                offline: Set(false),
                hours_approved: Set(false),
            };
            // A concurrent registration of the same member (possible without the lock) wins;
            // this one reads what it wrote.
            participation::Entity::insert(row)
                .on_conflict_do_nothing_on([participation::Column::ActivityId, participation::Column::MemberId])
                .exec(txn)
                .await?;
            of_member(txn, activity_id, member_id)
                .await?
                .ok_or_else(|| DbErr::RecordNotFound("participation vanished inside its transaction".into()))
        }
    }
}

/// Cancels `row` (registered or waiting) at `now`; a place it held goes to the first member
/// in line, or is freed. Returns the cancelled row and the participation promoted, if any.
/// A row already cancelled is returned unchanged.
pub async fn cancel(
    txn: &impl ConnectionTrait,
    row: participation::Model,
    now: DateTime<Utc>,
) -> Result<(participation::Model, Option<participation::Model>), DbErr> {
    lock_activity(txn, &row.activity_id).await?;
    let Some(row) = find(txn, &row.participation_id).await? else {
        return Err(DbErr::RecordNotFound("participation vanished".into()));
    };
    if row.state == ParticipationState::Cancelled as i32 || row.state == ParticipationState::CheckedIn as i32 {
        return Ok((row, None));
    }
    let held_place = row.state == ParticipationState::Registered as i32;
    let activity_id = row.activity_id.clone();
    // Only from REGISTERED or WAITLISTED: a check-in that committed meanwhile (an activity
    // without a limit is checked in without the lock) stays checked in.
    let changed = participation::Entity::update_many()
        .col_expr(participation::Column::State, Expr::value(ParticipationState::Cancelled as i32))
        .col_expr(participation::Column::CancelledAt, Expr::value(now))
        .filter(participation::Column::ParticipationId.eq(&row.participation_id))
        .filter(participation::Column::State.eq(row.state))
        .exec(txn)
        .await?
        .rows_affected;
    let cancelled = find(txn, &row.participation_id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("participation vanished inside its transaction".into()))?;
    if changed != 1 || !held_place {
        return Ok((cancelled, None));
    }
    let next = participation::Entity::find()
        .filter(participation::Column::ActivityId.eq(&activity_id))
        .filter(participation::Column::State.eq(ParticipationState::Waitlisted as i32))
        .order_by_asc(participation::Column::RegisteredAt)
        .order_by_asc(participation::Column::ParticipationId)
        .one(txn)
        .await?;
    match next {
        Some(next) => {
            let mut promoted: participation::ActiveModel = next.into();
            promoted.state = Set(ParticipationState::Registered as i32);
            Ok((cancelled, Some(promoted.update(txn).await?)))
        }
        None => {
            activity::Entity::update_many()
                .col_expr(activity::Column::PlacesTaken, Expr::col(activity::Column::PlacesTaken).sub(1))
                .filter(activity::Column::ActivityId.eq(&activity_id))
                // Only a limited activity counts its places on its row.
                .filter(activity::Column::Capacity.gt(0))
                .filter(activity::Column::PlacesTaken.gt(0))
                .exec(txn)
                .await?;
            Ok((cancelled, None))
        }
    }
}

/// The member's participation in the activity, if any.
pub async fn of_member(
    db: &impl ConnectionTrait,
    activity_id: &str,
    member_id: &str,
) -> Result<Option<participation::Model>, DbErr> {
    participation::Entity::find()
        .filter(participation::Column::ActivityId.eq(activity_id))
        .filter(participation::Column::MemberId.eq(member_id))
        .one(db)
        .await
}

/// A waiting participation's place in line (1 is next).
pub async fn position_in_line(db: &impl ConnectionTrait, row: &participation::Model) -> Result<u64, DbErr> {
    let ahead = participation::Entity::find()
        .filter(participation::Column::ActivityId.eq(&row.activity_id))
        .filter(participation::Column::State.eq(ParticipationState::Waitlisted as i32))
        .filter(
            Condition::any().add(participation::Column::RegisteredAt.lt(row.registered_at)).add(
                Condition::all()
                    .add(participation::Column::RegisteredAt.eq(row.registered_at))
                    .add(participation::Column::ParticipationId.lt(&row.participation_id)),
            ),
        )
        .count(db)
        .await?;
    Ok(ahead + 1)
}

/// For each of `activity_ids` (absent: none), how many wait in line and how many hold a place
/// (registered or checked in).
pub async fn line_and_places(
    db: &impl ConnectionTrait,
    activity_ids: &[String],
) -> Result<std::collections::HashMap<String, (i64, i64)>, DbErr> {
    let mut out: std::collections::HashMap<String, (i64, i64)> = Default::default();
    if activity_ids.is_empty() {
        return Ok(out);
    }
    let rows: Vec<(String, i32, i64)> = participation::Entity::find()
        .select_only()
        .column(participation::Column::ActivityId)
        .column(participation::Column::State)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(participation::Column::ActivityId.is_in(activity_ids.iter().cloned()))
        .group_by(participation::Column::ActivityId)
        .group_by(participation::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    for (activity_id, state, n) in rows {
        let entry = out.entry(activity_id).or_default();
        if state == ParticipationState::Waitlisted as i32 {
            entry.0 += n;
        } else if ParticipationState::holds_place(state) {
            entry.1 += n;
        }
    }
    Ok(out)
}

/// The participation `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<participation::Model>, DbErr> {
    participation::Entity::find_by_id(id.to_string()).one(db).await
}
