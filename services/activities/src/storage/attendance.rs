//! Every query and transaction on proof of attendance: devices, records of attendance,
//! anti-cheating flags, check-out and review.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entities::{activity, device, flag, participation, record};
use crate::domain::attendance::{AttendanceKind, Fix, Flag, Point, ReviewState};
use crate::domain::{MAX_WINDOW_DAYS, ParticipationState};

/// The member's registration of `device_id`, if any (revoked or not).
pub async fn device(
    db: &impl ConnectionTrait,
    member_id: &str,
    device_id: &str,
) -> Result<Option<device::Model>, DbErr> {
    device::Entity::find_by_id((device_id.to_string(), member_id.to_string())).one(db).await
}

/// The member's devices, newest first.
pub async fn devices_of(db: &impl ConnectionTrait, member_id: &str) -> Result<Vec<device::Model>, DbErr> {
    device::Entity::find()
        .filter(device::Column::MemberId.eq(member_id))
        .order_by_desc(device::Column::RegisteredAt)
        .order_by_asc(device::Column::DeviceId)
        .all(db)
        .await
}

/// How many unrevoked devices the member holds.
pub async fn active_devices(db: &impl ConnectionTrait, member_id: &str) -> Result<u64, DbErr> {
    device::Entity::find()
        .filter(device::Column::MemberId.eq(member_id))
        .filter(device::Column::RevokedAt.is_null())
        .count(db)
        .await
}

/// Registers a device of the member; a revoked registration of the same key is active again.
pub async fn register_device(
    db: &impl ConnectionTrait,
    existing: Option<device::Model>,
    new: device::Model,
) -> Result<device::Model, DbErr> {
    match existing {
        Some(old) => {
            let mut row: device::ActiveModel = old.into();
            row.revoked_at = Set(None);
            row.label = Set(new.label);
            row.registered_at = Set(new.registered_at);
            row.update(db).await
        }
        None => device::ActiveModel::from(new).insert(db).await,
    }
}

/// Revokes the member's device at `now` (unchanged when already revoked).
pub async fn revoke_device(
    db: &impl ConnectionTrait,
    row: device::Model,
    now: DateTime<Utc>,
) -> Result<device::Model, DbErr> {
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let mut row: device::ActiveModel = row.into();
    row.revoked_at = Set(Some(now));
    row.update(db).await
}

/// The offline record `record_id` of `device_id`, if it was synced before.
pub async fn offline_record(
    db: &impl ConnectionTrait,
    device_id: &str,
    record_id: &str,
) -> Result<Option<record::Model>, DbErr> {
    record::Entity::find()
        .filter(record::Column::DeviceId.eq(device_id))
        .filter(record::Column::RecordId.eq(record_id))
        .one(db)
        .await
}

/// True when `device_id` already presented the code of `step` for a claim of `kind` at the
/// activity (an accepted one).
pub async fn code_used_by_device(
    db: &impl ConnectionTrait,
    activity_id: &str,
    device_id: &str,
    step: i64,
    kind: AttendanceKind,
) -> Result<bool, DbErr> {
    Ok(record::Entity::find()
        .filter(record::Column::ActivityId.eq(activity_id))
        .filter(record::Column::DeviceId.eq(device_id))
        .filter(record::Column::CodeStep.eq(step))
        .filter(record::Column::Kind.eq(kind as i32))
        .filter(record::Column::Outcome.eq(ACCEPTED))
        .count(db)
        .await?
        > 0)
}

/// Outcome number of an accepted record (`OFFLINE_OUTCOME_ACCEPTED`).
pub const ACCEPTED: i32 = 1;
/// Outcome number of a refused record.
pub const REFUSED: i32 = 2;

/// Stores a record of attendance.
pub async fn insert_record(db: &impl ConnectionTrait, row: record::Model) -> Result<record::Model, DbErr> {
    record::ActiveModel::from(row).insert(db).await
}

/// Another member whom `device_id` checked in to the activity, if any.
pub async fn other_member_on_device(
    db: &impl ConnectionTrait,
    activity_id: &str,
    device_id: &str,
    member_id: &str,
) -> Result<Option<String>, DbErr> {
    record::Entity::find()
        .select_only()
        .column(record::Column::MemberId)
        .filter(record::Column::ActivityId.eq(activity_id))
        .filter(record::Column::DeviceId.eq(device_id))
        .filter(record::Column::MemberId.ne(member_id))
        .filter(record::Column::Outcome.eq(ACCEPTED))
        .into_tuple::<String>()
        .one(db)
        .await
}

/// Another device the member's attendance at the activity came from, if any.
pub async fn other_device_of_member(
    db: &impl ConnectionTrait,
    activity_id: &str,
    member_id: &str,
    device_id: &str,
) -> Result<Option<String>, DbErr> {
    record::Entity::find()
        .select_only()
        .column(record::Column::DeviceId)
        .filter(record::Column::ActivityId.eq(activity_id))
        .filter(record::Column::MemberId.eq(member_id))
        .filter(record::Column::DeviceId.is_not_null())
        .filter(record::Column::DeviceId.ne(device_id))
        .filter(record::Column::Outcome.eq(ACCEPTED))
        .into_tuple::<String>()
        .one(db)
        .await
}

/// How far apart in time two located claims can still make impossible travel: Vietnam is at
/// most about 1,650 km long, 8¼ hours at 200 km/h.
const TRAVEL_WINDOW_HOURS: i64 = 9;

/// The member's located attendance nearest before and after `at` (from any activity), within
/// [`TRAVEL_WINDOW_HOURS`]: one query.
pub async fn fixes_around(db: &impl ConnectionTrait, member_id: &str, at: DateTime<Utc>) -> Result<Vec<Fix>, DbErr> {
    let window = Duration::hours(TRAVEL_WINDOW_HOURS);
    let rows = record::Entity::find()
        .filter(record::Column::MemberId.eq(member_id))
        .filter(record::Column::At.between(at - window, at + window))
        .filter(record::Column::Outcome.eq(ACCEPTED))
        .filter(record::Column::Latitude.is_not_null())
        .filter(record::Column::Longitude.is_not_null())
        .order_by_asc(record::Column::At)
        .limit(64)
        .all(db)
        .await?;
    let fix =
        |r: &record::Model| Some(Fix { at: r.at, point: Point { latitude: r.latitude?, longitude: r.longitude? } });
    let before = rows.iter().rev().find(|r| r.at <= at).and_then(fix);
    let after = rows.iter().find(|r| r.at > at).and_then(fix);
    Ok(before.into_iter().chain(after).collect())
}

/// The title of another activity the member was checked in to at `at` (checked in before it,
/// not checked out by then, that activity not yet ended, not declined), if any.
pub async fn attending_elsewhere(
    db: &impl ConnectionTrait,
    member_id: &str,
    activity_id: &str,
    at: DateTime<Utc>,
) -> Result<Option<String>, DbErr> {
    let open: Vec<participation::Model> = participation::Entity::find()
        .filter(participation::Column::MemberId.eq(member_id))
        .filter(participation::Column::ActivityId.ne(activity_id))
        .filter(participation::Column::State.eq(ParticipationState::CheckedIn as i32))
        .filter(participation::Column::CheckedInAt.lte(at))
        .filter(participation::Column::CheckedInAt.gte(at - Duration::days(MAX_WINDOW_DAYS)))
        .filter(participation::Column::ReviewState.ne(ReviewState::Declined as i32))
        .filter(
            Condition::any()
                .add(participation::Column::CheckedOutAt.is_null())
                .add(participation::Column::CheckedOutAt.gt(at)),
        )
        .all(db)
        .await?;
    if open.is_empty() {
        return Ok(None);
    }
    // Checked out after `at`: overlapping whatever the other activity's end; still in: while
    // the other activity runs.
    let (out_later, still_in): (Vec<_>, Vec<_>) = open.into_iter().partition(|p| p.checked_out_at.is_some());
    let ids = |ps: Vec<participation::Model>| ps.into_iter().map(|p| p.activity_id).collect::<Vec<_>>();
    Ok(activity::Entity::find()
        .filter(
            Condition::any().add(activity::Column::ActivityId.is_in(ids(out_later))).add(
                Condition::all()
                    .add(activity::Column::ActivityId.is_in(ids(still_in)))
                    .add(activity::Column::EndsAt.gte(at)),
            ),
        )
        .one(db)
        .await?
        .map(|a| a.title))
}

/// Stores the flags raised on a participation at `now`.
pub async fn insert_flags(
    db: &impl ConnectionTrait,
    participation: &participation::Model,
    flags: &[Flag],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if flags.is_empty() {
        return Ok(());
    }
    flag::Entity::insert_many(flags.iter().map(|f| flag::ActiveModel {
        flag_id: Set(doan_platform::convert::new_id()),
        participation_id: Set(participation.participation_id.clone()),
        activity_id: Set(participation.activity_id.clone()),
        kind: Set(f.kind as i32),
        detail: Set(f.detail.clone()),
        raised_at: Set(now),
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// The flags of each of `participation_ids`, oldest first (absent: none).
pub async fn flags_of(
    db: &impl ConnectionTrait,
    participation_ids: &[String],
) -> Result<HashMap<String, Vec<flag::Model>>, DbErr> {
    if participation_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = flag::Entity::find()
        .filter(flag::Column::ParticipationId.is_in(participation_ids.iter().cloned()))
        .order_by_asc(flag::Column::RaisedAt)
        .order_by_asc(flag::Column::FlagId)
        .all(db)
        .await?;
    let mut by: HashMap<String, Vec<flag::Model>> = HashMap::new();
    for row in rows {
        by.entry(row.participation_id.clone()).or_default().push(row);
    }
    Ok(by)
}

/// Checks the participation in at `at`; true only for the first check-in (a concurrent or
/// repeated one changes nothing). A flagged check-in waits for review with its
/// ParticipationRecorded withheld.
pub async fn check_in(
    txn: &impl ConnectionTrait,
    participation_id: &str,
    at: DateTime<Utc>,
    flagged: bool,
    offline: bool,
) -> Result<bool, DbErr> {
    let review = if flagged { ReviewState::Pending } else { ReviewState::NotNeeded };
    let changed = participation::Entity::update_many()
        .col_expr(participation::Column::State, Expr::value(ParticipationState::CheckedIn as i32))
        .col_expr(participation::Column::CheckedInAt, Expr::value(at))
        .col_expr(participation::Column::ReviewState, Expr::value(review as i32))
        .col_expr(participation::Column::Withheld, Expr::value(flagged))
        .col_expr(participation::Column::Offline, Expr::value(offline))
        .filter(participation::Column::ParticipationId.eq(participation_id))
        .filter(participation::Column::State.eq(ParticipationState::Registered as i32))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}

/// Checks the participation out at `at` after `minutes`; its hours (and any new flags) wait
/// for review. True only for the first check-out.
pub async fn check_out(
    txn: &impl ConnectionTrait,
    participation_id: &str,
    at: DateTime<Utc>,
    minutes: i32,
) -> Result<bool, DbErr> {
    let changed = participation::Entity::update_many()
        .col_expr(participation::Column::CheckedOutAt, Expr::value(at))
        .col_expr(participation::Column::Minutes, Expr::value(minutes))
        .col_expr(participation::Column::ReviewState, Expr::value(ReviewState::Pending as i32))
        .filter(participation::Column::ParticipationId.eq(participation_id))
        .filter(participation::Column::State.eq(ParticipationState::CheckedIn as i32))
        .filter(participation::Column::CheckedOutAt.is_null())
        .filter(participation::Column::ReviewState.ne(ReviewState::Declined as i32))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}

/// Holds a participation for review (flags raised after its check-in, e.g. at check-out).
pub async fn hold_for_review(txn: &impl ConnectionTrait, participation_id: &str) -> Result<(), DbErr> {
    participation::Entity::update_many()
        .col_expr(participation::Column::ReviewState, Expr::value(ReviewState::Pending as i32))
        .filter(participation::Column::ParticipationId.eq(participation_id))
        .filter(participation::Column::ReviewState.ne(ReviewState::Declined as i32))
        .exec(txn)
        .await?;
    Ok(())
}

/// Records the organiser's decision on a PENDING participation; false when it was no longer
/// pending (a concurrent decision won). Approval releases what was withheld, and marks the
/// hours approved when `hours` (their event goes with this decision).
pub async fn review(
    txn: &impl ConnectionTrait,
    participation_id: &str,
    state: ReviewState,
    hours: bool,
    by: &str,
    at: DateTime<Utc>,
    note: &str,
) -> Result<bool, DbErr> {
    let mut update = participation::Entity::update_many()
        .col_expr(participation::Column::ReviewState, Expr::value(state as i32))
        .col_expr(participation::Column::ReviewedBy, Expr::value(by))
        .col_expr(participation::Column::ReviewedAt, Expr::value(at))
        .col_expr(participation::Column::ReviewNote, Expr::value(note));
    if state == ReviewState::Approved {
        update = update.col_expr(participation::Column::Withheld, Expr::value(false));
    }
    if hours {
        update = update.col_expr(participation::Column::HoursApproved, Expr::value(true));
    }
    let changed = update
        .filter(participation::Column::ParticipationId.eq(participation_id))
        .filter(participation::Column::ReviewState.eq(ReviewState::Pending as i32))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}

/// A page of the activity's participations in order of registration, optionally only those
/// pending review.
pub async fn page_of_activity(
    db: &impl ConnectionTrait,
    activity_id: &str,
    pending_only: bool,
    offset: u64,
    limit: u64,
) -> Result<Vec<participation::Model>, DbErr> {
    let mut query = participation::Entity::find().filter(participation::Column::ActivityId.eq(activity_id));
    if pending_only {
        query = query.filter(participation::Column::ReviewState.eq(ReviewState::Pending as i32));
    }
    query
        .order_by_asc(participation::Column::RegisteredAt)
        .order_by_asc(participation::Column::ParticipationId)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
}
