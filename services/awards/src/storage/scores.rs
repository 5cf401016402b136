//! Every query on emulation facts and scoring rules.

use chrono::{DateTime, Utc};
use doan_platform::db::statement;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{cluster_unit, score_fact, scoring_rule};

/// Records `fact`: a new one is inserted; one already recorded is replaced, except that a
/// provisional quantity never replaces an approved one (volunteer minutes: the organiser's
/// approval wins whichever event arrives first, and the participation's day places them).
pub async fn record(txn: &impl ConnectionTrait, fact: score_fact::Model) -> Result<(), DbErr> {
    match score_fact::Entity::find_by_id(fact.fact_id.clone()).one(txn).await? {
        None => score_fact::ActiveModel::from(fact).insert(txn).await.map(|_| ()),
        // The organiser's minutes stay; the participation's own day places them.
        Some(kept) if kept.approved && !fact.approved => {
            let placed = score_fact::Model { quantity: kept.quantity, approved: true, ..fact };
            if placed == kept {
                return Ok(());
            }
            score_fact::ActiveModel::from(placed).reset_all().update(txn).await.map(|_| ())
        }
        Some(kept) if kept == fact => Ok(()),
        Some(_) => score_fact::ActiveModel::from(fact).reset_all().update(txn).await.map(|_| ()),
    }
}

/// Fact `id`, if recorded.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<score_fact::Model>, DbErr> {
    score_fact::Entity::find_by_id(id.to_string()).one(db).await
}

/// Every unit's own weights for `year`, as stored (JSON).
pub async fn rules_of_year(db: &impl ConnectionTrait, year: i32) -> Result<Vec<scoring_rule::Model>, DbErr> {
    scoring_rule::Entity::find().filter(scoring_rule::Column::Year.eq(year)).all(db).await
}

/// Sets a unit's weights for a year.
pub async fn set_rule(txn: &impl ConnectionTrait, rule: scoring_rule::Model) -> Result<(), DbErr> {
    match scoring_rule::Entity::find_by_id((rule.unit_id.clone(), rule.year)).one(txn).await? {
        None => scoring_rule::ActiveModel::from(rule).insert(txn).await.map(|_| ()),
        Some(_) => scoring_rule::ActiveModel::from(rule).reset_all().update(txn).await.map(|_| ()),
    }
}

/// Quantities summed by subject, month and kind: `(subject id, its path, its name, month,
/// kind, quantity)`.
pub type Sum = (String, String, String, i32, i32, i64);

/// The sums of `year` (one `month`, or all) of the members (`units` false) or units whose
/// current path starts with `path`.
pub async fn sums(
    db: &impl ConnectionTrait,
    path: &str,
    units: bool,
    year: i32,
    month: Option<i32>,
) -> Result<Vec<Sum>, DbErr> {
    let (join, path_col, name_col) = if units {
        ("directory_units d ON d.unit_id = f.subject_id", "d.path", "d.name")
    } else {
        ("directory_members d ON d.member_id = f.subject_id", "d.unit_path", "d.full_name")
    };
    let mut values: Vec<sea_orm::Value> = vec![units.into(), year.into(), like(path).into()];
    let month_filter = match month {
        Some(m) => {
            values.push(m.into());
            " AND f.month = $4"
        }
        None => "",
    };
    let sql = format!(
        "SELECT f.subject_id AS subject, {path_col} AS path, {name_col} AS name, f.month AS month, f.kind AS kind, \
         CAST(SUM(f.quantity) AS BIGINT) AS quantity FROM score_facts f JOIN {join} \
         WHERE f.unit = $1 AND f.year = $2 AND {path_col} LIKE $3{month_filter} \
         GROUP BY f.subject_id, {path_col}, {name_col}, f.month, f.kind"
    );
    let rows = db.query_all_raw(statement(db, &sql, values)).await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.try_get("", "subject")?,
                r.try_get("", "path")?,
                r.try_get("", "name")?,
                r.try_get("", "month")?,
                r.try_get("", "kind")?,
                r.try_get("", "quantity")?,
            ))
        })
        .collect()
}

/// `path%` with LIKE's wildcards taken literally.
fn like(path: &str) -> String {
    format!("{}%", path.replace('%', "").replace('_', "\\_"))
}

/// A page of `subject_id`'s facts of `year`, newest first, after `after` (`(occurred_on,
/// fact_id)` of the previous page).
pub async fn facts_of(
    db: &impl ConnectionTrait,
    subject_id: &str,
    year: i32,
    after: Option<(String, String)>,
    limit: u64,
) -> Result<Vec<score_fact::Model>, DbErr> {
    let mut q = score_fact::Entity::find()
        .filter(score_fact::Column::SubjectId.eq(subject_id))
        .filter(score_fact::Column::Year.eq(year));
    if let Some((on, id)) = after {
        q = q.filter(sea_orm::Condition::any().add(score_fact::Column::OccurredOn.lt(on.clone())).add(
            sea_orm::Condition::all().add(score_fact::Column::OccurredOn.eq(on)).add(score_fact::Column::FactId.lt(id)),
        ));
    }
    q.order_by_desc(score_fact::Column::OccurredOn).order_by_desc(score_fact::Column::FactId).limit(limit).all(db).await
}

/// Sets the units of cluster `cluster_id` (its whole membership now).
pub async fn set_cluster_units(txn: &impl ConnectionTrait, cluster_id: &str, unit_ids: &[String]) -> Result<(), DbErr> {
    cluster_unit::Entity::delete_many().filter(cluster_unit::Column::ClusterId.eq(cluster_id)).exec(txn).await?;
    if unit_ids.is_empty() {
        return Ok(());
    }
    cluster_unit::Entity::insert_many(unit_ids.iter().map(|u| cluster_unit::ActiveModel {
        cluster_id: sea_orm::Set(cluster_id.to_string()),
        unit_id: sea_orm::Set(u.clone()),
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The units of cluster `cluster_id`.
pub async fn cluster_units(db: &impl ConnectionTrait, cluster_id: &str) -> Result<Vec<String>, DbErr> {
    cluster_unit::Entity::find()
        .select_only()
        .column(cluster_unit::Column::UnitId)
        .filter(cluster_unit::Column::ClusterId.eq(cluster_id))
        .into_tuple()
        .all(db)
        .await
}

/// A new stored rule.
pub fn rule_row(unit_id: &str, year: i32, weights: String, by: &str, at: DateTime<Utc>) -> scoring_rule::Model {
    scoring_rule::Model { unit_id: unit_id.to_string(), year, weights, set_by: by.to_string(), set_at: at }
}
