//! Every query and transaction on participations (registration, check-in).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::participation;
use crate::domain::ParticipationState;

/// The member's participation row in an activity, created as registered when missing.
pub async fn ensure_registered(
    txn: &impl ConnectionTrait,
    activity_id: &str,
    member_id: &str,
    now: DateTime<Utc>,
) -> Result<participation::Model, DbErr> {
    let row = participation::ActiveModel {
        participation_id: Set(doan_platform::convert::new_id()),
        activity_id: Set(activity_id.to_string()),
        member_id: Set(member_id.to_string()),
        state: Set(ParticipationState::Registered as i32),
        registered_at: Set(now),
        checked_in_at: Set(None),
    };
    participation::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([participation::Column::ActivityId, participation::Column::MemberId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    participation::Entity::find()
        .filter(participation::Column::ActivityId.eq(activity_id))
        .filter(participation::Column::MemberId.eq(member_id))
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("participation missing after upsert".into()))
}

/// Checks the participation in at `now`; true only for the first check-in (a concurrent or
/// repeated one changes nothing).
pub async fn check_in(txn: &impl ConnectionTrait, participation_id: &str, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let changed = participation::Entity::update_many()
        .col_expr(participation::Column::State, Expr::value(ParticipationState::CheckedIn as i32))
        .col_expr(participation::Column::CheckedInAt, Expr::value(now))
        .filter(participation::Column::ParticipationId.eq(participation_id))
        .filter(participation::Column::State.eq(ParticipationState::Registered as i32))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}

/// The participation `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<participation::Model>, DbErr> {
    participation::Entity::find_by_id(id.to_string()).one(db).await
}
