//! The personal-data access log: who received whose protected fields, through which RPC,
//! why and when.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};

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
