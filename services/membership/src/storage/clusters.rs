//! Every query on clusters (cụm) and their units.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{cluster, cluster_unit};

/// Stores a cluster with its units; a name the owner already uses is a unique violation.
pub async fn insert(
    txn: &impl ConnectionTrait,
    cluster_id: &str,
    unit_id: &str,
    name: &str,
    units: &BTreeSet<String>,
    at: DateTime<Utc>,
) -> Result<cluster::Model, DbErr> {
    let created = cluster::ActiveModel {
        cluster_id: Set(cluster_id.to_string()),
        unit_id: Set(unit_id.to_string()),
        name: Set(name.to_string()),
        created_at: Set(at),
    }
    .insert(txn)
    .await?;
    add_units(txn, cluster_id, units).await?;
    Ok(created)
}

/// Takes the cluster `cluster_id` for the rest of `txn` with a write that changes nothing: a
/// concurrent change of its units waits until `txn` ends (a row lock in PostgreSQL, the
/// writer's lock in SQLite), so each change reads the units the one before it committed and
/// the `ClusterChanged` states follow the order of the commits. False when it does not exist.
pub async fn claim(txn: &impl ConnectionTrait, cluster_id: &str) -> Result<bool, DbErr> {
    let done = cluster::Entity::update_many()
        .col_expr(cluster::Column::Name, Expr::col(cluster::Column::Name))
        .filter(cluster::Column::ClusterId.eq(cluster_id))
        .exec(txn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Adds `units` to the cluster (present ones ignored).
pub async fn add_units(txn: &impl ConnectionTrait, cluster_id: &str, units: &BTreeSet<String>) -> Result<(), DbErr> {
    let present = unit_ids(txn, cluster_id).await?;
    let rows: Vec<_> = units
        .iter()
        .filter(|u| !present.contains(*u))
        .map(|u| cluster_unit::ActiveModel { cluster_id: Set(cluster_id.to_string()), unit_id: Set(u.clone()) })
        .collect();
    if !rows.is_empty() {
        cluster_unit::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Removes `units` from the cluster.
pub async fn remove_units(txn: &impl ConnectionTrait, cluster_id: &str, units: &BTreeSet<String>) -> Result<(), DbErr> {
    cluster_unit::Entity::delete_many()
        .filter(cluster_unit::Column::ClusterId.eq(cluster_id))
        .filter(cluster_unit::Column::UnitId.is_in(units.iter().cloned()))
        .exec(txn)
        .await?;
    Ok(())
}

/// The cluster `cluster_id`.
pub async fn find(db: &impl ConnectionTrait, cluster_id: &str) -> Result<Option<cluster::Model>, DbErr> {
    cluster::Entity::find_by_id(cluster_id.to_string()).one(db).await
}

/// The units of a cluster, sorted.
pub async fn unit_ids(db: &impl ConnectionTrait, cluster_id: &str) -> Result<BTreeSet<String>, DbErr> {
    Ok(cluster_unit::Entity::find()
        .filter(cluster_unit::Column::ClusterId.eq(cluster_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.unit_id)
        .collect())
}

/// Clusters owned by `unit_id`, then clusters holding it, each by name.
pub async fn of_unit(db: &impl ConnectionTrait, unit_id: &str) -> Result<Vec<cluster::Model>, DbErr> {
    let mut owned = cluster::Entity::find()
        .filter(cluster::Column::UnitId.eq(unit_id))
        .order_by_asc(cluster::Column::Name)
        .all(db)
        .await?;
    let holding: Vec<String> = cluster_unit::Entity::find()
        .filter(cluster_unit::Column::UnitId.eq(unit_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.cluster_id)
        .collect();
    let member_of = cluster::Entity::find()
        .filter(cluster::Column::ClusterId.is_in(holding))
        .filter(cluster::Column::UnitId.ne(unit_id))
        .order_by_asc(cluster::Column::Name)
        .all(db)
        .await?;
    owned.extend(member_of);
    Ok(owned)
}
