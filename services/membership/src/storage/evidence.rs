//! The evidence read models, fed by other services' events: members' participations (from
//! activities) and awards (from awards). Writes are idempotent by key.

use chrono::NaiveDate;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::{disciplinary_record, member_award, member_participation};

/// Stores a participation (once).
pub async fn add_participation(txn: &impl ConnectionTrait, p: member_participation::Model) -> Result<(), DbErr> {
    let a: member_participation::ActiveModel = p.into();
    member_participation::Entity::insert(sea_orm::ActiveModelTrait::reset_all(a))
        .on_conflict(OnConflict::column(member_participation::Column::ParticipationId).do_nothing().to_owned())
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Sets the minutes a participation credits to what its organiser approved; false when the
/// participation is not known yet (its ParticipationRecorded has not arrived).
pub async fn approve_minutes(txn: &impl ConnectionTrait, participation_id: &str, minutes: i32) -> Result<bool, DbErr> {
    let changed = member_participation::Entity::update_many()
        .col_expr(member_participation::Column::Minutes, sea_orm::sea_query::Expr::value(minutes))
        .filter(member_participation::Column::ParticipationId.eq(participation_id))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}

/// Stores an award to a member (once).
pub async fn add_award(txn: &impl ConnectionTrait, a: member_award::Model) -> Result<(), DbErr> {
    let a: member_award::ActiveModel = a.into();
    member_award::Entity::insert(sea_orm::ActiveModelTrait::reset_all(a))
        .on_conflict(
            OnConflict::columns([member_award::Column::DecisionId, member_award::Column::MemberId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Participations of `member_ids` on days from `from` to `to`.
pub async fn participations(
    db: &impl ConnectionTrait,
    member_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<member_participation::Model>, DbErr> {
    member_participation::Entity::find()
        .filter(member_participation::Column::MemberId.is_in(member_ids.iter().cloned()))
        .filter(member_participation::Column::OnDay.between(from, to))
        .order_by_asc(member_participation::Column::CheckedInAt)
        .all(db)
        .await
}

/// The participation `participation_id`.
pub async fn participation(
    db: &impl ConnectionTrait,
    participation_id: &str,
) -> Result<Option<member_participation::Model>, DbErr> {
    member_participation::Entity::find_by_id(participation_id.to_string()).one(db).await
}

/// Awards of `member_ids` decided from `from` to `to`.
pub async fn awards(
    db: &impl ConnectionTrait,
    member_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<member_award::Model>, DbErr> {
    member_award::Entity::find()
        .filter(member_award::Column::MemberId.is_in(member_ids.iter().cloned()))
        .filter(member_award::Column::DecisionDate.between(from, to))
        .all(db)
        .await
}

/// Disciplinary decisions of `member_ids` from `from` to `to`.
pub async fn disciplinary(
    db: &impl ConnectionTrait,
    member_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<disciplinary_record::Model>, DbErr> {
    disciplinary_record::Entity::find()
        .filter(disciplinary_record::Column::MemberId.is_in(member_ids.iter().cloned()))
        .filter(disciplinary_record::Column::DecidedOn.between(from, to))
        .all(db)
        .await
}
