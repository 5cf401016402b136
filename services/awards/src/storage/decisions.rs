//! Every query and transaction on award decisions and their recipients.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{decision, recipient};
use crate::domain::AwardForm;

/// A decision to record, as the API parsed and checked it.
pub struct NewDecision {
    /// Decision number (số QĐ).
    pub decision_number: String,
    /// Decision date (Vietnam).
    pub decision_date: NaiveDate,
    /// Issuing unit.
    pub issuing_unit_id: String,
    /// Its materialised path.
    pub issuing_unit_path: String,
    /// Form.
    pub form: AwardForm,
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
    /// Recipients in order: a member or a unit each.
    pub recipients: Vec<(Option<String>, Option<String>)>,
}

/// Stores a decision and its recipients inside `txn`; a decision number already used by the
/// issuing unit is a unique violation (the caller maps it).
pub async fn insert(
    txn: &impl ConnectionTrait,
    new: NewDecision,
) -> Result<(decision::Model, Vec<recipient::Model>), DbErr> {
    let decision_id = doan_platform::convert::new_id();
    let saved = decision::ActiveModel {
        decision_id: Set(decision_id.clone()),
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
    }
    .insert(txn)
    .await?;
    let mut recipients = Vec::with_capacity(new.recipients.len());
    for (position, (member_id, unit_id)) in new.recipients.into_iter().enumerate() {
        let row = recipient::ActiveModel {
            decision_id: Set(decision_id.clone()),
            position: Set(position as i32),
            member_id: Set(member_id),
            unit_id: Set(unit_id),
        }
        .insert(txn)
        .await?;
        recipients.push(row);
    }
    Ok((saved, recipients))
}

/// The decision `id` and its recipients in order.
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
