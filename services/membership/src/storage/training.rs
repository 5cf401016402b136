//! Every query and transaction on training programmes, registrations, evidence and verdicts.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{
    training_criterion, training_evidence, training_programme, training_registration, training_verdict,
};

/// Stores a programme and its criteria.
pub async fn insert_programme(
    txn: &impl ConnectionTrait,
    p: training_programme::Model,
    criteria: Vec<training_criterion::Model>,
) -> Result<training_programme::Model, DbErr> {
    let active: training_programme::ActiveModel = p.into();
    let stored = active.reset_all().insert(txn).await?;
    let rows = criteria.into_iter().map(|c| {
        let a: training_criterion::ActiveModel = c.into();
        a.reset_all()
    });
    training_criterion::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(stored)
}

/// The programme `unit_id` set for `year`.
pub async fn programme_of_unit(
    db: &impl ConnectionTrait,
    unit_id: &str,
    year: i32,
) -> Result<Option<training_programme::Model>, DbErr> {
    training_programme::Entity::find()
        .filter(training_programme::Column::UnitId.eq(unit_id))
        .filter(training_programme::Column::Year.eq(year))
        .one(db)
        .await
}

/// Programmes of `year` set by any of `unit_ids`.
pub async fn programmes_of_units(
    db: &impl ConnectionTrait,
    unit_ids: &[String],
    year: i32,
) -> Result<Vec<training_programme::Model>, DbErr> {
    training_programme::Entity::find()
        .filter(training_programme::Column::UnitId.is_in(unit_ids.iter().cloned()))
        .filter(training_programme::Column::Year.eq(year))
        .all(db)
        .await
}

/// The programme `programme_id`.
pub async fn programme(
    db: &impl ConnectionTrait,
    programme_id: &str,
) -> Result<Option<training_programme::Model>, DbErr> {
    training_programme::Entity::find_by_id(programme_id.to_string()).one(db).await
}

/// The criteria of `programme_id`, in order.
pub async fn criteria(db: &impl ConnectionTrait, programme_id: &str) -> Result<Vec<training_criterion::Model>, DbErr> {
    training_criterion::Entity::find()
        .filter(training_criterion::Column::ProgrammeId.eq(programme_id))
        .order_by_asc(training_criterion::Column::Position)
        .all(db)
        .await
}

/// Registers members (each with their programme) for `year`; members already registered are
/// left as they are. Returns how many were new.
pub async fn register(txn: &impl ConnectionTrait, rows: Vec<training_registration::Model>) -> Result<u64, DbErr> {
    let mut added = 0;
    for chunk in rows.chunks(500) {
        let models = chunk.iter().cloned().map(|r| {
            let a: training_registration::ActiveModel = r.into();
            a.reset_all()
        });
        added += training_registration::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([training_registration::Column::MemberId, training_registration::Column::Year])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(added)
}

/// The registration of `member_id` for `year`.
pub async fn registration(
    db: &impl ConnectionTrait,
    member_id: &str,
    year: i32,
) -> Result<Option<training_registration::Model>, DbErr> {
    training_registration::Entity::find_by_id((member_id.to_string(), year)).one(db).await
}

/// Registrations of `member_ids` for `year`.
pub async fn registrations(
    db: &impl ConnectionTrait,
    member_ids: &[String],
    year: i32,
) -> Result<Vec<training_registration::Model>, DbErr> {
    training_registration::Entity::find()
        .filter(training_registration::Column::MemberId.is_in(member_ids.iter().cloned()))
        .filter(training_registration::Column::Year.eq(year))
        .all(db)
        .await
}

/// Stores evidence.
pub async fn add_evidence(txn: &impl ConnectionTrait, e: training_evidence::Model) -> Result<(), DbErr> {
    let a: training_evidence::ActiveModel = e.into();
    a.reset_all().insert(txn).await?;
    Ok(())
}

/// Evidence of `member_id` for `year`, oldest first.
pub async fn evidence(
    db: &impl ConnectionTrait,
    member_id: &str,
    year: i32,
) -> Result<Vec<training_evidence::Model>, DbErr> {
    training_evidence::Entity::find()
        .filter(training_evidence::Column::MemberId.eq(member_id))
        .filter(training_evidence::Column::Year.eq(year))
        .order_by_asc(training_evidence::Column::AddedAt)
        .all(db)
        .await
}

/// Verdicts on `member_id`'s year.
pub async fn verdicts(
    db: &impl ConnectionTrait,
    member_id: &str,
    year: i32,
) -> Result<Vec<training_verdict::Model>, DbErr> {
    training_verdict::Entity::find()
        .filter(training_verdict::Column::MemberId.eq(member_id))
        .filter(training_verdict::Column::Year.eq(year))
        .all(db)
        .await
}

/// Records the self-assessment of a registration not yet evaluated; `false` otherwise.
pub async fn self_assess(txn: &impl ConnectionTrait, member_id: &str, year: i32, text: &str) -> Result<bool, DbErr> {
    let updated = training_registration::Entity::update_many()
        .col_expr(training_registration::Column::SelfAssessment, Expr::value(text))
        .col_expr(
            training_registration::Column::State,
            Expr::value(crate::domain::training::TrainingState::SelfAssessed as i32),
        )
        .filter(training_registration::Column::MemberId.eq(member_id))
        .filter(training_registration::Column::Year.eq(year))
        .filter(training_registration::Column::State.ne(crate::domain::training::TrainingState::Evaluated as i32))
        .exec(txn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Stores the branch's evaluation: the verdicts and the result, once (`false` when it was
/// evaluated already).
pub async fn evaluate(
    txn: &impl ConnectionTrait,
    reg: training_registration::Model,
    verdicts: Vec<training_verdict::Model>,
) -> Result<bool, DbErr> {
    let updated = training_registration::Entity::update_many()
        .col_expr(training_registration::Column::State, Expr::value(reg.state))
        .col_expr(training_registration::Column::Result, Expr::value(reg.result))
        .col_expr(training_registration::Column::Comment, Expr::value(reg.comment.clone()))
        .col_expr(training_registration::Column::EvaluatedBy, Expr::value(reg.evaluated_by.clone()))
        .col_expr(training_registration::Column::EvaluatedAt, Expr::value(reg.evaluated_at))
        .filter(training_registration::Column::MemberId.eq(&reg.member_id))
        .filter(training_registration::Column::Year.eq(reg.year))
        .filter(training_registration::Column::State.ne(crate::domain::training::TrainingState::Evaluated as i32))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    let rows = verdicts.into_iter().map(|v| training_verdict::ActiveModel {
        member_id: Set(v.member_id),
        year: Set(v.year),
        criterion_id: Set(v.criterion_id),
        met: Set(v.met),
        officer_note: Set(v.officer_note),
    });
    training_verdict::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(true)
}
