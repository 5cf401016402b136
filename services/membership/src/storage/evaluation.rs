//! Every query and transaction on evaluation periods and members' and units' ratings.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::{evaluation_period, member_rating, unit_rating};
use super::units::subtree_select;

/// Stores a period (a second period of a unit and year is a unique violation).
pub async fn insert_period(
    txn: &impl ConnectionTrait,
    p: evaluation_period::Model,
) -> Result<evaluation_period::Model, DbErr> {
    let a: evaluation_period::ActiveModel = p.into();
    a.reset_all().insert(txn).await
}

/// The period `period_id`.
pub async fn period(db: &impl ConnectionTrait, period_id: &str) -> Result<Option<evaluation_period::Model>, DbErr> {
    evaluation_period::Entity::find_by_id(period_id.to_string()).one(db).await
}

/// Periods of `year` opened by any of `unit_ids`.
pub async fn periods_of_units(
    db: &impl ConnectionTrait,
    unit_ids: &[String],
    year: i32,
) -> Result<Vec<evaluation_period::Model>, DbErr> {
    evaluation_period::Entity::find()
        .filter(evaluation_period::Column::UnitId.is_in(unit_ids.iter().cloned()))
        .filter(evaluation_period::Column::Year.eq(year))
        .all(db)
        .await
}

/// Periods whose proposal deadline is `day` (for reminders).
pub async fn periods_with_deadline(
    db: &impl ConnectionTrait,
    day: chrono::NaiveDate,
) -> Result<Vec<evaluation_period::Model>, DbErr> {
    evaluation_period::Entity::find().filter(evaluation_period::Column::ProposalDeadline.eq(day)).all(db).await
}

/// Ratings of `period_id` in branch `unit_id`.
pub async fn ratings_of_branch(
    db: &impl ConnectionTrait,
    period_id: &str,
    unit_id: &str,
) -> Result<Vec<member_rating::Model>, DbErr> {
    member_rating::Entity::find()
        .filter(member_rating::Column::PeriodId.eq(period_id))
        .filter(member_rating::Column::UnitId.eq(unit_id))
        .all(db)
        .await
}

/// Ratings of `period_id` for `member_ids`.
pub async fn ratings_of_members(
    db: &impl ConnectionTrait,
    period_id: &str,
    member_ids: &[String],
) -> Result<Vec<member_rating::Model>, DbErr> {
    member_rating::Entity::find()
        .filter(member_rating::Column::PeriodId.eq(period_id))
        .filter(member_rating::Column::MemberId.is_in(member_ids.iter().cloned()))
        .all(db)
        .await
}

/// Confirmed ratings of `member_ids`, in any period.
pub async fn confirmed_of_members(
    db: &impl ConnectionTrait,
    member_ids: &[String],
) -> Result<Vec<member_rating::Model>, DbErr> {
    member_rating::Entity::find()
        .filter(member_rating::Column::MemberId.is_in(member_ids.iter().cloned()))
        .filter(member_rating::Column::State.eq(2))
        .all(db)
        .await
}

/// Ratings of `member_id`, newest period first.
pub async fn ratings_of_member(db: &impl ConnectionTrait, member_id: &str) -> Result<Vec<member_rating::Model>, DbErr> {
    member_rating::Entity::find()
        .filter(member_rating::Column::MemberId.eq(member_id))
        .order_by_desc(member_rating::Column::PeriodEndsOn)
        .all(db)
        .await
}

/// Writes proposals (insert or replace a PROPOSED row; confirmed rows are never touched: the
/// caller checked, and the filter guards against a concurrent confirmation).
pub async fn propose(txn: &impl ConnectionTrait, rows: Vec<member_rating::Model>) -> Result<(), DbErr> {
    for r in rows {
        member_rating::Entity::delete_many()
            .filter(member_rating::Column::PeriodId.eq(&r.period_id))
            .filter(member_rating::Column::MemberId.eq(&r.member_id))
            .filter(member_rating::Column::State.eq(1))
            .exec(txn)
            .await?;
        let a: member_rating::ActiveModel = r.into();
        a.reset_all().insert(txn).await?;
    }
    Ok(())
}

/// Confirms a rating with its frozen evidence; `false` when it is no longer the proposal made
/// at `proposed_at` (confirmed, or proposed again meanwhile).
pub async fn confirm(
    txn: &impl ConnectionTrait,
    r: member_rating::Model,
    proposed_at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let updated = member_rating::Entity::update_many()
        .set(member_rating::ActiveModel::from(r.clone()).reset_all())
        .filter(member_rating::Column::PeriodId.eq(&r.period_id))
        .filter(member_rating::Column::MemberId.eq(&r.member_id))
        .filter(member_rating::Column::State.eq(1))
        .filter(member_rating::Column::ProposedAt.eq(proposed_at))
        .exec(txn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Confirmed ratings of `period_id` in units of the subtree at `path`, counted by rating.
pub async fn confirmed_counts_in_subtree(
    db: &impl ConnectionTrait,
    period_id: &str,
    path: &str,
) -> Result<Vec<(i32, i64)>, DbErr> {
    use sea_orm::QuerySelect;
    member_rating::Entity::find()
        .select_only()
        .column(member_rating::Column::Rating)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(member_rating::Column::PeriodId.eq(period_id))
        .filter(member_rating::Column::State.eq(2))
        .filter(Expr::col(member_rating::Column::UnitId).in_subquery(subtree_select(path)))
        .group_by(member_rating::Column::Rating)
        .into_tuple()
        .all(db)
        .await
}

/// Stores a unit's rating (a second one is a unique violation).
pub async fn insert_unit_rating(
    txn: &impl ConnectionTrait,
    r: unit_rating::Model,
) -> Result<unit_rating::Model, DbErr> {
    let a: unit_rating::ActiveModel = r.into();
    a.reset_all().insert(txn).await
}

/// The rating of `unit_id` in `period_id`.
pub async fn unit_rating(
    db: &impl ConnectionTrait,
    period_id: &str,
    unit_id: &str,
) -> Result<Option<unit_rating::Model>, DbErr> {
    unit_rating::Entity::find_by_id((period_id.to_string(), unit_id.to_string())).one(db).await
}
