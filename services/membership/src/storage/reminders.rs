//! Reminders sent: one row per reminder key, so a reminder goes out once across replicas and
//! restarts (the row and the event commit together).

use chrono::NaiveDate;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use super::entities::reminder_sent;

/// Claims `key` on `day`: `true` when this is the first claim (the caller then sends, in the
/// same transaction).
pub async fn claim(txn: &impl ConnectionTrait, key: &str, day: NaiveDate) -> Result<bool, DbErr> {
    let n = reminder_sent::Entity::insert(reminder_sent::ActiveModel {
        reminder_key: Set(key.to_string()),
        sent_on: Set(day),
    })
    .on_conflict(OnConflict::column(reminder_sent::Column::ReminderKey).do_nothing().to_owned())
    .exec_without_returning(txn)
    .await?;
    Ok(n == 1)
}

/// Whether `key` was claimed.
pub async fn claimed(db: &impl ConnectionTrait, key: &str) -> Result<bool, DbErr> {
    Ok(reminder_sent::Entity::find_by_id(key.to_string()).one(db).await?.is_some())
}
