//! Every query and transaction on report requests, units' reports and submissions.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{report_assignment, report_request, report_submission};

/// Stores a request and one report per unit asked.
pub async fn insert_request(
    txn: &impl ConnectionTrait,
    request: report_request::Model,
    reports: Vec<report_assignment::Model>,
) -> Result<report_request::Model, DbErr> {
    let request = report_request::ActiveModel::from(request).insert(txn).await?;
    if !reports.is_empty() {
        report_assignment::Entity::insert_many(reports.into_iter().map(report_assignment::ActiveModel::from))
            .exec(txn)
            .await?;
    }
    Ok(request)
}

/// The request `id`.
pub async fn request(db: &impl ConnectionTrait, id: &str) -> Result<Option<report_request::Model>, DbErr> {
    report_request::Entity::find_by_id(id.to_string()).one(db).await
}

/// The reports of a request, by unit name.
pub async fn reports_of(db: &impl ConnectionTrait, request_id: &str) -> Result<Vec<report_assignment::Model>, DbErr> {
    report_assignment::Entity::find()
        .filter(report_assignment::Column::RequestId.eq(request_id))
        .order_by_asc(report_assignment::Column::UnitName)
        .order_by_asc(report_assignment::Column::UnitId)
        .all(db)
        .await
}

/// One unit's report under a request.
pub async fn report(
    db: &impl ConnectionTrait,
    request_id: &str,
    unit_id: &str,
) -> Result<Option<report_assignment::Model>, DbErr> {
    report_assignment::Entity::find_by_id((request_id.to_string(), unit_id.to_string())).one(db).await
}

/// Requests a unit made, latest deadline first (at most 200).
pub async fn made_by(db: &impl ConnectionTrait, unit_id: &str) -> Result<Vec<report_request::Model>, DbErr> {
    report_request::Entity::find()
        .filter(report_request::Column::UnitId.eq(unit_id))
        .order_by_desc(report_request::Column::Deadline)
        .order_by_asc(report_request::Column::RequestId)
        .limit(200)
        .all(db)
        .await
}

/// A unit's reports under requests addressed to it, with the requests, latest first (at most
/// 200).
pub async fn addressed_to(
    db: &impl ConnectionTrait,
    unit_id: &str,
) -> Result<(Vec<report_assignment::Model>, Vec<report_request::Model>), DbErr> {
    let reports = report_assignment::Entity::find()
        .filter(report_assignment::Column::UnitId.eq(unit_id))
        .order_by_desc(report_assignment::Column::UpdatedAt)
        .limit(200)
        .all(db)
        .await?;
    let ids: Vec<String> = reports.iter().map(|r| r.request_id.clone()).collect();
    let requests = report_request::Entity::find()
        .filter(report_request::Column::RequestId.is_in(ids))
        .order_by_desc(report_request::Column::Deadline)
        .all(db)
        .await?;
    Ok((reports, requests))
}

/// Moves a unit's report from `from` (the state read) to `to`, counting a submission when
/// `submitted`; false when it changed meanwhile (a concurrent call won).
pub async fn move_report(
    txn: &impl ConnectionTrait,
    row: &report_assignment::Model,
    to: i32,
    submitted: bool,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = report_assignment::Entity::update_many()
        .col_expr(report_assignment::Column::State, Expr::value(to))
        .col_expr(report_assignment::Column::UpdatedAt, Expr::value(now));
    if submitted {
        update = update.col_expr(report_assignment::Column::Versions, Expr::value(row.versions + 1));
    }
    if let Some(note) = note {
        update = update.col_expr(report_assignment::Column::ReviewNote, Expr::value(note));
    }
    let changed = update
        .filter(report_assignment::Column::RequestId.eq(&row.request_id))
        .filter(report_assignment::Column::UnitId.eq(&row.unit_id))
        .filter(report_assignment::Column::State.eq(row.state))
        .filter(report_assignment::Column::Versions.eq(row.versions))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}

/// Stores a submission.
pub async fn insert_submission(
    txn: &impl ConnectionTrait,
    row: report_submission::Model,
) -> Result<report_submission::Model, DbErr> {
    report_submission::ActiveModel::from(row).insert(txn).await
}

/// A unit's submissions under a request, newest first.
pub async fn submissions(
    db: &impl ConnectionTrait,
    request_id: &str,
    unit_id: &str,
) -> Result<Vec<report_submission::Model>, DbErr> {
    report_submission::Entity::find()
        .filter(report_submission::Column::RequestId.eq(request_id))
        .filter(report_submission::Column::UnitId.eq(unit_id))
        .order_by_desc(report_submission::Column::Version)
        .all(db)
        .await
}
