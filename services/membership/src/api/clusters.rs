//! Clusters (cụm): units grouped across the tree by the unit that defines the group.

use std::collections::BTreeSet;

use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::{new_id, parse_id, required_text};
use doan_platform::error::AppResult;
use doan_platform::outbox::Outbox;
use doan_proto::membership as pb;
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::MembershipApi;
use super::units::require_active;
use crate::events::publish;
use crate::storage::clusters;
use crate::storage::entities::{cluster, unit};
use crate::storage::units;

/// Most units in one cluster.
const MAX_UNITS: usize = 1_000;

fn cluster_to_pb(c: cluster::Model, unit_ids: BTreeSet<String>) -> pb::Cluster {
    pb::Cluster { cluster_id: c.cluster_id, unit_id: c.unit_id, name: c.name, unit_ids: unit_ids.into_iter().collect() }
}

/// Stores the cluster `name` of `owner_unit_id` holding `units`, and its `ClusterChanged`, in
/// `txn`: they commit together. Returns it with its units.
async fn create_and_publish(
    txn: &impl ConnectionTrait,
    outbox: &Outbox,
    owner_unit_id: &str,
    name: &str,
    units: &BTreeSet<String>,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<(cluster::Model, BTreeSet<String>)> {
    let created = clusters::insert(txn, &new_id(), owner_unit_id, name, units, at).await.map_err(|e| {
        if doan_platform::db::is_unique_violation(&e) {
            AppError::AlreadyExists(format!("unit {owner_unit_id} already has a cluster named so"))
        } else {
            e.into()
        }
    })?;
    let unit_ids = clusters::unit_ids(txn, &created.cluster_id).await?;
    outbox.enqueue(txn, &publish::cluster_changed(&created, &unit_ids)).await?;
    Ok((created, unit_ids))
}

/// Removes `remove` from `c` and adds `add`, with its `ClusterChanged` (every unit after the
/// change), in `txn`. Returns the units after the change.
async fn change_units_and_publish(
    txn: &impl ConnectionTrait,
    outbox: &Outbox,
    c: &cluster::Model,
    add: &BTreeSet<String>,
    remove: &BTreeSet<String>,
) -> AppResult<BTreeSet<String>> {
    if !clusters::claim(txn, &c.cluster_id).await? {
        return Err(AppError::NotFound(format!("cluster {} does not exist", c.cluster_id)));
    }
    clusters::remove_units(txn, &c.cluster_id, remove).await?;
    clusters::add_units(txn, &c.cluster_id, add).await?;
    let unit_ids = clusters::unit_ids(txn, &c.cluster_id).await?;
    if unit_ids.len() > MAX_UNITS {
        return Err(AppError::invalid("add_unit_ids", format!("a cluster holds at most {MAX_UNITS} units")));
    }
    outbox.enqueue(txn, &publish::cluster_changed(c, &unit_ids)).await?;
    Ok(unit_ids)
}

impl MembershipApi {
    /// Parses `ids` (field `field`): distinct, active, strictly inside `owner`'s subtree.
    async fn cluster_units(
        &self,
        field: &'static str,
        owner: &unit::Model,
        ids: &[String],
    ) -> AppResult<BTreeSet<String>> {
        if ids.len() > MAX_UNITS {
            return Err(AppError::invalid(field, format!("at most {MAX_UNITS} units")));
        }
        let ids: BTreeSet<String> = ids.iter().map(|id| parse_id(field, id)).collect::<AppResult<_>>()?;
        let found = units::find_many(&self.ctx.db, &ids).await?;
        for id in &ids {
            let Some(u) = found.iter().find(|u| &u.unit_id == id) else {
                return Err(AppError::NotFound(format!("unit {id} ({field}) does not exist")));
            };
            if !u.path.starts_with(&owner.path) || u.unit_id == owner.unit_id {
                return Err(AppError::invalid(field, format!("unit {id} is not inside the cluster owner's subtree")));
            }
            require_active(u)?;
        }
        Ok(ids)
    }

    async fn cluster_pb(&self, c: cluster::Model) -> AppResult<pb::Cluster> {
        let unit_ids = clusters::unit_ids(&self.ctx.db, &c.cluster_id).await?;
        Ok(cluster_to_pb(c, unit_ids))
    }

    pub(super) async fn create_cluster(
        &self,
        caller: &Caller,
        r: pb::CreateClusterRequest,
    ) -> AppResult<pb::CreateClusterResponse> {
        let owner = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        require_active(&owner)?;
        let name = required_text("name", &r.name, 200)?;
        let members = self.cluster_units("unit_ids", &owner, &r.unit_ids).await?;
        let txn = self.ctx.db.begin().await?;
        let (created, unit_ids) =
            create_and_publish(&txn, &self.ctx.outbox, &owner.unit_id, &name, &members, self.ctx.clock.now()).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        Ok(pb::CreateClusterResponse { cluster: Some(cluster_to_pb(created, unit_ids)) })
    }

    pub(super) async fn update_cluster_units(
        &self,
        caller: &Caller,
        r: pb::UpdateClusterUnitsRequest,
    ) -> AppResult<pb::UpdateClusterUnitsResponse> {
        let id = parse_id("cluster_id", &r.cluster_id)?;
        let found = clusters::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("cluster {id} does not exist")))?;
        let owner = self.managed_unit(caller, "cluster_id", &found.unit_id).await?;
        let add = self.cluster_units("add_unit_ids", &owner, &r.add_unit_ids).await?;
        let remove: BTreeSet<String> =
            r.remove_unit_ids.iter().map(|u| parse_id("remove_unit_ids", u)).collect::<AppResult<_>>()?;
        let txn = self.ctx.db.begin().await?;
        let unit_ids = change_units_and_publish(&txn, &self.ctx.outbox, &found, &add, &remove).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        Ok(pb::UpdateClusterUnitsResponse { cluster: Some(cluster_to_pb(found, unit_ids)) })
    }

    pub(super) async fn list_clusters(
        &self,
        caller: &Caller,
        r: pb::ListClustersRequest,
    ) -> AppResult<pb::ListClustersResponse> {
        let unit = self.unit("unit_id", &r.unit_id).await?;
        if !caller.manages(&unit.path) && caller.unit_id.as_deref() != Some(unit.unit_id.as_str()) {
            return Err(AppError::PermissionDenied(format!("unit {} is outside your scope", unit.unit_id)));
        }
        let mut out = Vec::new();
        for c in clusters::of_unit(&self.ctx.db, &unit.unit_id).await? {
            out.push(self.cluster_pb(c).await?);
        }
        Ok(pb::ListClustersResponse { clusters: out })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use doan_proto::events::ClusterChanged;
    use sea_orm::TransactionTrait;

    use super::*;
    use crate::events::testing::{database, outbox_rows, published};

    fn units(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|u| u.to_string()).collect()
    }

    #[tokio::test]
    async fn a_cluster_created_or_changed_is_published_with_every_unit_in_the_same_transaction() {
        let db = database().await;
        let outbox = Outbox::new(crate::NAME);
        let at = Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap();

        let txn = db.begin().await.unwrap();
        let (cluster, created_with) =
            create_and_publish(&txn, &outbox, "owner", "Cụm 1", &units(&["u-a", "u-b"]), at).await.unwrap();
        assert_eq!(outbox_rows(&txn).await, 1, "the event is written in the creation's transaction");
        txn.commit().await.unwrap();
        assert_eq!(created_with, units(&["u-a", "u-b"]));

        // Rolled back: neither the change nor its event stays.
        let txn = db.begin().await.unwrap();
        change_units_and_publish(&txn, &outbox, &cluster, &units(&["u-c"]), &units(&["u-a"])).await.unwrap();
        assert_eq!(outbox_rows(&txn).await, 2, "the event is written in the change's transaction");
        txn.rollback().await.unwrap();
        assert_eq!(clusters::unit_ids(&db, &cluster.cluster_id).await.unwrap(), units(&["u-a", "u-b"]));
        assert_eq!(outbox_rows(&db).await, 1, "the event went with the rolled-back change");

        // Committed: every unit after the change, not only those added.
        let txn = db.begin().await.unwrap();
        let after =
            change_units_and_publish(&txn, &outbox, &cluster, &units(&["u-c", "u-d"]), &units(&["u-a"])).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(after, units(&["u-b", "u-c", "u-d"]));

        let state = |unit_ids: &[&str]| ClusterChanged {
            cluster_id: cluster.cluster_id.clone(),
            owner_unit_id: "owner".into(),
            name: "Cụm 1".into(),
            unit_ids: unit_ids.iter().map(|u| u.to_string()).collect(),
        };
        assert_eq!(
            published::<ClusterChanged>(&db, &outbox).await,
            vec![state(&["u-a", "u-b"]), state(&["u-b", "u-c", "u-d"])]
        );
    }

    #[tokio::test]
    async fn a_change_of_a_missing_cluster_publishes_nothing() {
        let db = database().await;
        let outbox = Outbox::new(crate::NAME);
        let ghost = cluster::Model {
            cluster_id: "ghost".into(),
            unit_id: "owner".into(),
            name: "Cụm ma".into(),
            created_at: Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap(),
        };
        let txn = db.begin().await.unwrap();
        let err = change_units_and_publish(&txn, &outbox, &ghost, &units(&["u-a"]), &units(&[])).await.unwrap_err();
        assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
        assert_eq!(outbox_rows(&txn).await, 0);
    }
}
