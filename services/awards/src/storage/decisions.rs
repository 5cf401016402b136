//! Every query and transaction on award decisions, their awards (one per recipient), the
//! once-per-person register, revocation, histories and figures.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use doan_platform::db::statement;
use doan_platform::directory;

use super::entities::{cluster, decision, once_award, recipient};
use crate::domain::AwardForm;

/// Rows a multi-row insert takes (SQLite binds at most 32,766 values; 16 columns).
const INSERT_CHUNK: usize = 500;

/// A decision to record, as the API parsed and checked it.
pub struct NewDecision {
    /// Decision id (UUID).
    pub decision_id: String,
    /// Decision number (số QĐ).
    pub decision_number: String,
    /// Decision date (Vietnam).
    pub decision_date: NaiveDate,
    /// Issuing unit.
    pub issuing_unit_id: String,
    /// Its materialised path.
    pub issuing_unit_path: String,
    /// Its level number.
    pub issuing_level: i32,
    /// Form.
    pub form: AwardForm,
    /// Kind code.
    pub kind: String,
    /// Signer.
    pub signer: String,
    /// What it is for.
    pub content: String,
    /// Officer account recording it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: DateTime<Utc>,
    /// Id of the award rule version checked.
    pub award_rule: String,
    /// Ceremony date, or empty.
    pub ceremony_date: String,
}

/// One recipient to record.
pub struct NewAward {
    /// The award id (UUID).
    pub award_id: String,
    /// A member.
    pub member_id: Option<String>,
    /// A unit.
    pub unit_id: Option<String>,
    /// A cluster.
    pub cluster_id: Option<String>,
    /// Its name now.
    pub name: String,
    /// Where it is now (see `recipient::Model::recipient_path`).
    pub path: String,
    /// Its status list.
    pub status_list_id: String,
    /// Its bit in the list.
    pub status_index: i64,
    /// Its signed credential (JSON).
    pub credential: String,
}

/// Stores a decision inside `txn` (its first write: on SQLite the transaction holds the write
/// lock from here); a decision number already used by the issuing unit is a unique violation
/// (the caller maps it).
pub async fn insert(txn: &impl ConnectionTrait, new: NewDecision) -> Result<decision::Model, DbErr> {
    decision::ActiveModel {
        decision_id: Set(new.decision_id),
        decision_number: Set(new.decision_number),
        decision_date: Set(new.decision_date),
        issuing_unit_id: Set(new.issuing_unit_id),
        issuing_unit_path: Set(new.issuing_unit_path),
        form: Set(new.form as i32),
        signer: Set(new.signer),
        content: Set(new.content),
        recorded_by: Set(new.recorded_by),
        recorded_at: Set(new.recorded_at),
        award_rule: Set(new.award_rule),
        kind: Set(new.kind),
        issuing_level: Set(new.issuing_level),
        ceremony_date: Set(new.ceremony_date),
    }
    .insert(txn)
    .await
}

/// Stores the awards of decision `decision_id` in order, a few hundred rows a statement.
pub async fn insert_awards(
    txn: &impl ConnectionTrait,
    decision_id: &str,
    awards: Vec<NewAward>,
) -> Result<Vec<recipient::Model>, DbErr> {
    let rows: Vec<recipient::Model> = awards
        .into_iter()
        .enumerate()
        .map(|(position, a)| recipient::Model {
            decision_id: decision_id.to_string(),
            position: position as i32,
            member_id: a.member_id,
            unit_id: a.unit_id,
            award_id: a.award_id,
            cluster_id: a.cluster_id,
            recipient_name: a.name,
            recipient_path: a.path,
            status: 1,
            revoked_at: None,
            revocation_reason: String::new(),
            revocation_legal_basis: String::new(),
            status_list_id: a.status_list_id,
            status_index: a.status_index,
            credential: a.credential,
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        recipient::Entity::insert_many(chunk.iter().cloned().map(recipient::ActiveModel::from))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(rows)
}

/// Records each `(member, award)` as holding once-per-person kind `kind`; a member who
/// already holds it is a unique violation (the caller checks first with [`holders`]).
pub async fn register_once(txn: &impl ConnectionTrait, kind: &str, holders: &[(String, String)]) -> Result<(), DbErr> {
    for chunk in holders.chunks(INSERT_CHUNK) {
        once_award::Entity::insert_many(chunk.iter().map(|(member_id, award_id)| once_award::ActiveModel {
            kind: Set(kind.to_string()),
            member_id: Set(member_id.clone()),
            award_id: Set(award_id.clone()),
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Which of `members` already hold once-per-person kind `kind`.
pub async fn holders(db: &impl ConnectionTrait, kind: &str, members: &[String]) -> Result<Vec<String>, DbErr> {
    let mut out = Vec::new();
    for chunk in members.chunks(INSERT_CHUNK) {
        out.extend(
            once_award::Entity::find()
                .filter(once_award::Column::Kind.eq(kind))
                .filter(once_award::Column::MemberId.is_in(chunk.iter().cloned()))
                .all(db)
                .await?
                .into_iter()
                .map(|h| h.member_id),
        );
    }
    Ok(out)
}

/// Awards of kind `kind` issued by `unit_id` with a decision date in `year`, not revoked.
pub async fn count_in_year(db: &impl ConnectionTrait, unit_id: &str, kind: &str, year: i32) -> Result<u64, DbErr> {
    let from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    let ids: Vec<String> = decision::Entity::find()
        .select_only()
        .column(decision::Column::DecisionId)
        .filter(decision::Column::IssuingUnitId.eq(unit_id))
        .filter(decision::Column::Kind.eq(kind))
        .filter(decision::Column::DecisionDate.between(from, to))
        .into_tuple()
        .all(db)
        .await?;
    let mut n = 0;
    for chunk in ids.chunks(INSERT_CHUNK) {
        n += recipient::Entity::find()
            .filter(recipient::Column::DecisionId.is_in(chunk.iter().cloned()))
            .filter(recipient::Column::Status.eq(1))
            .count(db)
            .await?;
    }
    Ok(n)
}

/// The decision `id` and its awards in order.
pub async fn find(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<(decision::Model, Vec<recipient::Model>)>, DbErr> {
    let Some(d) = decision::Entity::find_by_id(id.to_string()).one(db).await? else {
        return Ok(None);
    };
    let recipients = recipient::Entity::find()
        .filter(recipient::Column::DecisionId.eq(id))
        .order_by_asc(recipient::Column::Position)
        .all(db)
        .await?;
    Ok(Some((d, recipients)))
}

/// Award `award_id` with its decision.
pub async fn award(
    db: &impl ConnectionTrait,
    award_id: &str,
) -> Result<Option<(decision::Model, recipient::Model)>, DbErr> {
    let Some(a) = recipient::Entity::find().filter(recipient::Column::AwardId.eq(award_id)).one(db).await? else {
        return Ok(None);
    };
    Ok(decision::Entity::find_by_id(a.decision_id.clone()).one(db).await?.map(|d| (d, a)))
}

/// Stores an award's issued credential and its status entry.
pub async fn set_credential(
    txn: &impl ConnectionTrait,
    award_id: &str,
    list_id: &str,
    index: i64,
    credential: &str,
) -> Result<(), DbErr> {
    recipient::Entity::update_many()
        .col_expr(recipient::Column::StatusListId, Expr::value(list_id))
        .col_expr(recipient::Column::StatusIndex, Expr::value(index))
        .col_expr(recipient::Column::Credential, Expr::value(credential))
        .filter(recipient::Column::AwardId.eq(award_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Revokes the awards `award_ids` still granted (the update is the transaction's first
/// write); returns those it revoked, and frees their holders' once-per-person places.
pub async fn revoke(
    txn: &impl ConnectionTrait,
    award_ids: &[String],
    reason: &str,
    legal_basis: &str,
    at: DateTime<Utc>,
) -> Result<Vec<recipient::Model>, DbErr> {
    let mut revoked = Vec::new();
    for chunk in award_ids.chunks(INSERT_CHUNK) {
        recipient::Entity::update_many()
            .col_expr(recipient::Column::Status, Expr::value(2))
            .col_expr(recipient::Column::RevokedAt, Expr::value(at))
            .col_expr(recipient::Column::RevocationReason, Expr::value(reason))
            .col_expr(recipient::Column::RevocationLegalBasis, Expr::value(legal_basis))
            .filter(recipient::Column::AwardId.is_in(chunk.iter().cloned()))
            .filter(recipient::Column::Status.eq(1))
            .exec(txn)
            .await?;
        // Those this statement revoked: revoked at this very instant.
        let now_revoked = recipient::Entity::find()
            .filter(recipient::Column::AwardId.is_in(chunk.iter().cloned()))
            .filter(recipient::Column::Status.eq(2))
            .filter(recipient::Column::RevokedAt.eq(at))
            .all(txn)
            .await?;
        let ids: Vec<String> = now_revoked.iter().map(|r| r.award_id.clone()).collect();
        once_award::Entity::delete_many().filter(once_award::Column::AwardId.is_in(ids)).exec(txn).await?;
        revoked.extend(now_revoked);
    }
    Ok(revoked)
}

/// Whose history [`history`] reads.
pub enum Holder<'a> {
    /// A member's awards.
    Member(&'a str),
    /// A unit's collective awards.
    Unit(&'a str),
}

/// A page of a member's or unit's awards, newest decision first, after `after` (a
/// `(decision_date, award_id)` key of the previous page); `limit` rows.
pub async fn history(
    db: &impl ConnectionTrait,
    holder: Holder<'_>,
    after: Option<(NaiveDate, String)>,
    limit: u64,
) -> Result<Vec<(decision::Model, recipient::Model)>, DbErr> {
    let (column, id) = match holder {
        Holder::Member(id) => ("member_id", id),
        Holder::Unit(id) => ("unit_id", id),
    };
    let mut values: Vec<sea_orm::Value> = vec![id.to_string().into()];
    let mut sql = format!(
        "SELECT r.award_id FROM award_recipients r JOIN award_decisions d ON d.decision_id = r.decision_id \
         WHERE r.{column} = $1"
    );
    if let Some((date, award_id)) = after {
        sql.push_str(" AND (d.decision_date < $2 OR (d.decision_date = $3 AND r.award_id < $4))");
        values.extend([date.into(), date.into(), award_id.into()]);
    }
    sql.push_str(&format!(" ORDER BY d.decision_date DESC, r.award_id DESC LIMIT {limit}"));
    let rows = db.query_all_raw(statement(db, &sql, values)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let award_id: String = row.try_get("", "award_id")?;
        if let Some(pair) = award(db, &award_id).await? {
            out.push(pair);
        }
    }
    Ok(out)
}

/// One row of figures: (form, kind, issuing level, recipient kind 1/2/3, awards, decisions).
pub type FigureRow = (i32, String, i32, i32, i64, i64);

/// Awards not revoked of decisions dated `from..=to`, grouped by form, kind, issuing level and
/// recipient kind: `issued` counts decisions of units under `path`, otherwise awards whose
/// recipient was under `path`.
pub async fn figures(
    db: &impl ConnectionTrait,
    path: &str,
    from: NaiveDate,
    to: NaiveDate,
    issued: bool,
) -> Result<Vec<FigureRow>, DbErr> {
    let scope = if issued { "d.issuing_unit_path" } else { "r.recipient_path" };
    let sql = format!(
        "SELECT d.form AS form, d.kind AS kind, d.issuing_level AS level, \
         CASE WHEN r.member_id IS NOT NULL THEN 1 WHEN r.cluster_id IS NOT NULL THEN 3 ELSE 2 END AS who, \
         COUNT(*) AS awards, COUNT(DISTINCT d.decision_id) AS decisions \
         FROM award_recipients r JOIN award_decisions d ON d.decision_id = r.decision_id \
         WHERE r.status = 1 AND d.decision_date >= $1 AND d.decision_date <= $2 AND {scope} LIKE $3 \
         GROUP BY d.form, d.kind, d.issuing_level, who ORDER BY d.form, d.kind, d.issuing_level, who"
    );
    let like = format!("{}%", path.replace('%', "").replace('_', "\\_"));
    let rows = db.query_all_raw(statement(db, &sql, vec![from.into(), to.into(), like.into()])).await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.try_get("", "form")?,
                r.try_get("", "kind")?,
                r.try_get("", "level")?,
                r.try_get("", "who")?,
                r.try_get("", "awards")?,
                r.try_get("", "decisions")?,
            ))
        })
        .collect()
}

/// Applies a ClusterChanged: the cluster as of `at`, unless a later change is already kept.
pub async fn apply_cluster(txn: &impl ConnectionTrait, row: cluster::Model) -> Result<(), DbErr> {
    match cluster::Entity::find_by_id(row.cluster_id.clone()).one(txn).await? {
        Some(kept) if kept.changed_at > row.changed_at => Ok(()),
        Some(_) => {
            cluster::ActiveModel::from(row).reset_all().update(txn).await?;
            Ok(())
        }
        None => {
            cluster::ActiveModel::from(row).insert(txn).await?;
            Ok(())
        }
    }
}

/// Cluster `id`, if known.
pub async fn cluster(db: &impl ConnectionTrait, id: &str) -> Result<Option<cluster::Model>, DbErr> {
    cluster::Entity::find_by_id(id.to_string()).one(db).await
}

/// The directory's members among `ids`, by id.
pub async fn members(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<std::collections::HashMap<String, directory::member::Model>, DbErr> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(INSERT_CHUNK) {
        for m in directory::member::Entity::find()
            .filter(directory::member::Column::MemberId.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            out.insert(m.member_id.clone(), m);
        }
    }
    Ok(out)
}

/// The directory's units among `ids`, by id.
pub async fn units(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<std::collections::HashMap<String, directory::unit::Model>, DbErr> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(INSERT_CHUNK) {
        for u in directory::unit::Entity::find()
            .filter(directory::unit::Column::UnitId.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            out.insert(u.unit_id.clone(), u);
        }
    }
    Ok(out)
}

/// The units at `level` under `path` (the unit at `path` itself included).
pub async fn units_below(
    db: &impl ConnectionTrait,
    path: &str,
    level: i32,
) -> Result<Vec<directory::unit::Model>, DbErr> {
    directory::unit::Entity::find()
        .filter(directory::unit::Column::Path.starts_with(path))
        .filter(directory::unit::Column::Level.eq(level))
        .filter(directory::unit::Column::Status.eq(1))
        .all(db)
        .await
}
