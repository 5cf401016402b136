//! The personal-data access log: who received whose protected fields, through which RPC,
//! why and when.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

use super::entities::pii_access;

/// Records one access (inside the transaction or call that returns the data).
pub async fn record(
    db: &impl ConnectionTrait,
    accessor_account_id: &str,
    member_id: &str,
    rpc: &str,
    purpose: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    pii_access::ActiveModel {
        accessor_account_id: Set(accessor_account_id.to_string()),
        member_id: Set(member_id.to_string()),
        purpose: Set(purpose.to_string()),
        rpc: Set(rpc.to_string()),
        accessed_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Records that `accessor_account_id` received the personal data of every one of
/// `member_ids` through `rpc` for `purpose` (an export): one row per member.
pub async fn record_many(
    db: &impl ConnectionTrait,
    accessor_account_id: &str,
    member_ids: &[String],
    rpc: &str,
    purpose: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in member_ids.chunks(1_000) {
        let rows = chunk.iter().map(|member_id| pii_access::ActiveModel {
            accessor_account_id: Set(accessor_account_id.to_string()),
            member_id: Set(member_id.clone()),
            purpose: Set(purpose.to_string()),
            rpc: Set(rpc.to_string()),
            accessed_at: Set(at),
            ..Default::default()
        });
        pii_access::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}
