//! Every query on devices.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::device;
use super::sql::one_of;

/// Most devices one account keeps; registering more drops the least recently seen.
pub const MAX_DEVICES: usize = 10;

/// Registers `d` for its owner: a token registered before (by anyone) moves to this owner and
/// is refreshed, keeping its first registration time when the owner is the same. Then drops
/// the owner's least recently seen devices beyond [`MAX_DEVICES`].
pub async fn register(txn: &impl ConnectionTrait, d: device::Model) -> Result<device::Model, DbErr> {
    let existing = device::Entity::find_by_id(d.device_id.clone()).one(txn).await?;
    let registered_at = match &existing {
        Some(old) if old.owner_id == d.owner_id => old.registered_at,
        _ => d.registered_at,
    };
    let row = device::Model { registered_at, ..d };
    if existing.as_ref().is_some_and(|old| old.owner_id != row.owner_id) {
        // The previous owner's waiting notices never reach the device's new owner.
        let reason = "the device was registered by another account";
        super::deliveries::fail_for_devices(txn, std::slice::from_ref(&row.device_id), reason, row.last_seen_at)
            .await?;
    }
    device::Entity::insert(device::ActiveModel::from(row.clone()))
        .on_conflict(
            OnConflict::column(device::Column::DeviceId)
                .update_columns([
                    device::Column::OwnerId,
                    device::Column::ApnsSandbox,
                    device::Column::RegisteredAt,
                    device::Column::LastSeenAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    let mine = of_owner(txn, &row.owner_id).await?;
    let extra: Vec<String> = mine.into_iter().skip(MAX_DEVICES).map(|d| d.device_id).collect();
    if !extra.is_empty() {
        device::Entity::delete_many().filter(device::Column::DeviceId.is_in(extra)).exec(txn).await?;
    }
    Ok(row)
}

/// The devices of `owner_id`, most recently seen first.
pub async fn of_owner(db: &impl ConnectionTrait, owner_id: &str) -> Result<Vec<device::Model>, DbErr> {
    device::Entity::find()
        .filter(device::Column::OwnerId.eq(owner_id))
        .order_by_desc(device::Column::LastSeenAt)
        .order_by_asc(device::Column::DeviceId)
        .all(db)
        .await
}

/// The devices of each of `owners`.
pub async fn of_owners(
    db: &impl ConnectionTrait,
    owners: &[String],
) -> Result<HashMap<String, Vec<device::Model>>, DbErr> {
    let mut out: HashMap<String, Vec<device::Model>> = HashMap::new();
    for chunk in owners.chunks(super::sql::LIST_CHUNK) {
        for d in device::Entity::find()
            .filter(one_of(db.get_database_backend(), device::Column::OwnerId, chunk))
            .all(db)
            .await?
        {
            out.entry(d.owner_id.clone()).or_default().push(d);
        }
    }
    Ok(out)
}

/// The devices `ids`.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<device::Model>, DbErr> {
    let mut out = Vec::new();
    for chunk in ids.chunks(super::sql::LIST_CHUNK) {
        out.extend(
            device::Entity::find()
                .filter(one_of(db.get_database_backend(), device::Column::DeviceId, chunk))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// Removes device `id` of `owner_id`; false when it was not theirs (or not there).
pub async fn remove(db: &impl ConnectionTrait, owner_id: &str, id: &str) -> Result<bool, DbErr> {
    Ok(device::Entity::delete_many()
        .filter(device::Column::DeviceId.eq(id))
        .filter(device::Column::OwnerId.eq(owner_id))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Removes devices the provider said are gone, unless re-registered after `seen_before`.
pub async fn remove_gone(db: &impl ConnectionTrait, ids: &[String], seen_before: DateTime<Utc>) -> Result<u64, DbErr> {
    let mut n = 0;
    for chunk in ids.chunks(super::sql::LIST_CHUNK) {
        n += device::Entity::delete_many()
            .filter(one_of(db.get_database_backend(), device::Column::DeviceId, chunk))
            .filter(device::Column::LastSeenAt.lte(seen_before))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(n)
}

/// A new device row.
pub fn new_row(
    device_id: String,
    owner_id: &str,
    platform: i32,
    token: String,
    apns_sandbox: bool,
    now: DateTime<Utc>,
) -> device::Model {
    device::Model {
        device_id,
        owner_id: owner_id.to_string(),
        platform,
        token,
        apns_sandbox,
        registered_at: now,
        last_seen_at: now,
    }
}
