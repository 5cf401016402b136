//! Every query on preferences.

use std::collections::HashMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entities::preference;
use super::sql::one_of;

/// The stored preferences of `owner_id`, if they changed the defaults.
pub async fn get(db: &impl ConnectionTrait, owner_id: &str) -> Result<Option<preference::Model>, DbErr> {
    preference::Entity::find_by_id(owner_id.to_string()).one(db).await
}

/// The stored preferences of each of `owners` who changed the defaults.
pub async fn of_owners(
    db: &impl ConnectionTrait,
    owners: &[String],
) -> Result<HashMap<String, preference::Model>, DbErr> {
    let mut out = HashMap::new();
    for chunk in owners.chunks(super::sql::LIST_CHUNK) {
        for p in preference::Entity::find()
            .filter(one_of(db.get_database_backend(), preference::Column::OwnerId, chunk))
            .all(db)
            .await?
        {
            out.insert(p.owner_id.clone(), p);
        }
    }
    Ok(out)
}

/// Stores `p`, replacing what its owner had.
pub async fn put(db: &impl ConnectionTrait, p: preference::Model) -> Result<(), DbErr> {
    preference::Entity::insert(preference::ActiveModel::from(p))
        .on_conflict(
            OnConflict::column(preference::Column::OwnerId)
                .update_columns([
                    preference::Column::Overrides,
                    preference::Column::QuietHoursStart,
                    preference::Column::QuietHoursEnd,
                    preference::Column::TimeZone,
                    preference::Column::Language,
                    preference::Column::Email,
                    preference::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
