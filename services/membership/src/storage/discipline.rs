//! Every query on disciplinary records and age-out proposals.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{age_out_proposal, disciplinary_record, member};

/// A decision to store.
pub struct NewRecord {
    /// Member.
    pub member_id: String,
    /// Kind number.
    pub kind: i32,
    /// Decision number.
    pub decision_number: String,
    /// Decision date.
    pub decided_on: NaiveDate,
    /// Signer.
    pub signer: String,
    /// Reason.
    pub reason: String,
    /// Recording account.
    pub recorded_by: String,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

/// Stores a disciplinary decision.
pub async fn insert(txn: &impl ConnectionTrait, new: NewRecord) -> Result<disciplinary_record::Model, DbErr> {
    disciplinary_record::ActiveModel {
        record_id: Set(doan_platform::convert::new_id()),
        member_id: Set(new.member_id),
        kind: Set(new.kind),
        decision_number: Set(new.decision_number),
        decided_on: Set(new.decided_on),
        signer: Set(new.signer),
        reason: Set(new.reason),
        recorded_by: Set(new.recorded_by),
        recorded_at: Set(new.recorded_at),
    }
    .insert(txn)
    .await
}

/// A member's decisions, newest first.
pub async fn of_member(db: &impl ConnectionTrait, member_id: &str) -> Result<Vec<disciplinary_record::Model>, DbErr> {
    disciplinary_record::Entity::find()
        .filter(disciplinary_record::Column::MemberId.eq(member_id))
        .order_by_desc(disciplinary_record::Column::DecidedOn)
        .order_by_desc(disciplinary_record::Column::RecordedAt)
        .all(db)
        .await
}

/// Active members born on or before `born_by` (candidates for age-out), by member number,
/// after `after_seq`, at most `limit`.
pub async fn age_out_candidates(
    db: &impl ConnectionTrait,
    born_by: NaiveDate,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<member::Model>, DbErr> {
    use sea_orm::QuerySelect;
    member::Entity::find()
        .filter(member::Column::Status.eq(crate::domain::member::MemberStatus::Active as i32))
        .filter(member::Column::DateOfBirth.lte(born_by))
        .filter(member::Column::Seq.gt(after_seq))
        .order_by_asc(member::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// A proposal to store.
pub struct NewProposal {
    /// Member.
    pub member_id: String,
    /// Member row sequence.
    pub seq: i64,
    /// 30th birthday.
    pub thirtieth_birthday: NaiveDate,
    /// State number.
    pub state: i32,
    /// Note (why kept).
    pub note: String,
}

/// Stores proposals of `month`; members already proposed that month are left as they are.
pub async fn propose(txn: &impl ConnectionTrait, month: &str, rows: Vec<NewProposal>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows = rows.into_iter().map(|p| age_out_proposal::ActiveModel {
        month: Set(month.to_string()),
        member_id: Set(p.member_id),
        seq: Set(p.seq),
        thirtieth_birthday: Set(p.thirtieth_birthday),
        state: Set(p.state),
        note: Set(p.note),
        decided_by: Set(String::new()),
    });
    age_out_proposal::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([age_out_proposal::Column::Month, age_out_proposal::Column::MemberId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Proposals of `month` whose member is now in the subtree at `path`, by member number.
pub async fn proposals_in(
    db: &impl ConnectionTrait,
    month: &str,
    path: &str,
) -> Result<Vec<age_out_proposal::Model>, DbErr> {
    age_out_proposal::Entity::find()
        .filter(age_out_proposal::Column::Month.eq(month))
        .filter(
            Expr::col(age_out_proposal::Column::MemberId).in_subquery(
                Query::select()
                    .column(member::Column::MemberId)
                    .from(member::Entity)
                    .and_where(Expr::col(member::Column::UnitPath).like(format!("{path}%")))
                    .to_owned(),
            ),
        )
        .order_by_asc(age_out_proposal::Column::Seq)
        .all(db)
        .await
}

/// Sets the state of proposals of `month` for `member_ids`.
pub async fn decide(
    txn: &impl ConnectionTrait,
    month: &str,
    member_ids: &[String],
    state: i32,
    note: &str,
    by: &str,
) -> Result<(), DbErr> {
    age_out_proposal::Entity::update_many()
        .col_expr(age_out_proposal::Column::State, Expr::value(state))
        .col_expr(age_out_proposal::Column::Note, Expr::value(note))
        .col_expr(age_out_proposal::Column::DecidedBy, Expr::value(by))
        .filter(age_out_proposal::Column::Month.eq(month))
        .filter(age_out_proposal::Column::MemberId.is_in(member_ids.iter().cloned()))
        .exec(txn)
        .await?;
    Ok(())
}
