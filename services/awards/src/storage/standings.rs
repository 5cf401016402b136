//! Every query and transaction on members' yearly standings.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::{rating, standing};

/// Adds one participation worth `points` to `member_id`'s `year` (inside the consumer's
/// transaction; the inbox guarantees each check-in is added once).
pub async fn add_participation(
    txn: &impl ConnectionTrait,
    member_id: &str,
    year: i32,
    points: i64,
) -> Result<(), DbErr> {
    let row = standing::ActiveModel {
        member_id: Set(member_id.to_string()),
        year: Set(year),
        points: Set(points),
        participations: Set(1),
    };
    standing::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([standing::Column::MemberId, standing::Column::Year])
                .value(standing::Column::Points, Expr::col((standing::Entity, standing::Column::Points)).add(points))
                .value(
                    standing::Column::Participations,
                    Expr::col((standing::Entity, standing::Column::Participations)).add(1),
                )
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// `member_id`'s (points, participations) in `year`; zeros when none.
pub async fn get(db: &impl ConnectionTrait, member_id: &str, year: i32) -> Result<(i64, i64), DbErr> {
    let row = standing::Entity::find_by_id((member_id.to_string(), year)).one(db).await?;
    Ok(row.map(|s| (s.points, s.participations)).unwrap_or((0, 0)))
}

/// Records a rating reported by membership (a confirmed rating is final: a repeat changes
/// nothing).
pub async fn add_rating(txn: &impl ConnectionTrait, r: rating::Model) -> Result<(), DbErr> {
    rating::Entity::insert(rating::ActiveModel {
        subject_id: Set(r.subject_id),
        period_id: Set(r.period_id),
        unit: Set(r.unit),
        year: Set(r.year),
        rating: Set(r.rating),
    })
    .on_conflict(OnConflict::columns([rating::Column::SubjectId, rating::Column::PeriodId]).do_nothing().to_owned())
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// `member_id`'s rating of `year`, 0 when none was reported.
pub async fn member_rating(db: &impl ConnectionTrait, member_id: &str, year: i32) -> Result<i32, DbErr> {
    rating_of(db, member_id, false, year).await
}

/// The rating of `year` of a member or (`unit`) a unit, 0 when none was reported.
pub async fn rating_of(db: &impl ConnectionTrait, subject_id: &str, unit: bool, year: i32) -> Result<i32, DbErr> {
    Ok(rating::Entity::find()
        .filter(rating::Column::SubjectId.eq(subject_id))
        .filter(rating::Column::Year.eq(year))
        .filter(rating::Column::Unit.eq(unit))
        .one(db)
        .await?
        .map(|r| r.rating)
        .unwrap_or(0))
}

/// Records an achievement; one already recorded (a redelivered event) is left as it is.
pub async fn add_achievement(
    txn: &impl ConnectionTrait,
    row: super::entities::achievement::Model,
) -> Result<(), DbErr> {
    super::entities::achievement::Entity::insert(super::entities::achievement::ActiveModel::from(row))
        .on_conflict_do_nothing()
        .exec_without_returning(txn)
        .await?;
    Ok(())
}
