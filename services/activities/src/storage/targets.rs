//! Every query on targets and the admissions they count.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::entities::{admission, target};
use crate::domain::programmes::Span;

/// Sets targets: a (unit, year, metric) already set takes the new value, setter and time, and
/// is looked at again when its value changed (met_at cleared).
pub async fn upsert(txn: &impl ConnectionTrait, rows: Vec<target::Model>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    target::Entity::insert_many(rows.into_iter().map(target::ActiveModel::from))
        .on_conflict(
            OnConflict::columns([target::Column::UnitId, target::Column::Year, target::Column::Metric])
                .update_columns([
                    target::Column::Value,
                    target::Column::SetByUnitId,
                    target::Column::SetBy,
                    target::Column::SetAt,
                ])
                // A new value is looked at again; the same value keeps its mark.
                .value(
                    target::Column::MetAt,
                    sea_orm::sea_query::Expr::cust(
                        "CASE WHEN targets.value = excluded.value THEN targets.met_at ELSE NULL END",
                    ),
                )
                .to_owned(),
        )
        .exec(txn)
        .await?;
    Ok(())
}

/// The targets of `unit_ids` for `year`, by unit then metric.
pub async fn of_units(db: &impl ConnectionTrait, unit_ids: &[String], year: i32) -> Result<Vec<target::Model>, DbErr> {
    if unit_ids.is_empty() {
        return Ok(Vec::new());
    }
    target::Entity::find()
        .filter(target::Column::UnitId.is_in(unit_ids.iter().cloned()))
        .filter(target::Column::Year.eq(year))
        .order_by_asc(target::Column::UnitId)
        .order_by_asc(target::Column::Metric)
        .all(db)
        .await
}

/// The targets `setter` set for `year` (for the units below it).
pub async fn set_by(db: &impl ConnectionTrait, setter: &str, year: i32) -> Result<Vec<target::Model>, DbErr> {
    target::Entity::find()
        .filter(target::Column::SetByUnitId.eq(setter))
        .filter(target::Column::Year.eq(year))
        .order_by_asc(target::Column::UnitId)
        .order_by_asc(target::Column::Metric)
        .all(db)
        .await
}

/// Admissions credited to the subtree at `path` with their day within `span`.
pub async fn admissions(db: &impl ConnectionTrait, path: &str, span: &Span) -> Result<i64, DbErr> {
    let n = admission::Entity::find()
        .filter(admission::Column::UnitPath.starts_with(path))
        .filter(admission::Column::AdmittedOn.between(span.from, span.to))
        .count(db)
        .await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Records admissions; one already recorded (a redelivered event) is left as it is.
pub async fn record_admissions(txn: &impl ConnectionTrait, rows: Vec<admission::Model>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    admission::Entity::insert_many(rows.into_iter().map(admission::ActiveModel::from))
        .on_conflict_do_nothing()
        .exec(txn)
        .await?;
    Ok(())
}

/// A target row for `unit` set at `at`.
pub fn new_target(
    unit: (&str, &str),
    year: i32,
    metric: i32,
    value: i64,
    setter: (&str, &str),
    at: DateTime<Utc>,
) -> target::Model {
    target::Model {
        target_id: doan_platform::convert::new_id(),
        unit_id: unit.0.to_string(),
        unit_path: unit.1.to_string(),
        year,
        metric,
        value,
        set_by_unit_id: setter.0.to_string(),
        set_by: setter.1.to_string(),
        set_at: at,
        met_at: None,
    }
}

/// Unmet targets of `year` (every unit) after the target id `after`, at most `limit`, in id
/// order: a look pages through all of them.
pub async fn unmet(db: &impl ConnectionTrait, year: i32, after: &str, limit: u64) -> Result<Vec<target::Model>, DbErr> {
    use sea_orm::QuerySelect;
    target::Entity::find()
        .filter(target::Column::Year.eq(year))
        .filter(target::Column::MetAt.is_null())
        .filter(target::Column::TargetId.gt(after))
        .order_by_asc(target::Column::TargetId)
        .limit(limit)
        .all(db)
        .await
}

/// Marks a target met at `at`; false when another look (another replica) marked it first.
pub async fn mark_met(txn: &impl ConnectionTrait, target_id: &str, at: DateTime<Utc>) -> Result<bool, DbErr> {
    let changed = target::Entity::update_many()
        .col_expr(target::Column::MetAt, sea_orm::sea_query::Expr::value(at))
        .filter(target::Column::TargetId.eq(target_id))
        .filter(target::Column::MetAt.is_null())
        .exec(txn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}
