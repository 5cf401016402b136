//! Clusters (cụm): units grouped across the tree by the unit that defines the group.

use std::collections::BTreeSet;

use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::{new_id, parse_id, required_text};
use doan_platform::error::AppResult;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;

use super::MembershipApi;
use super::units::require_active;
use crate::storage::clusters;
use crate::storage::entities::{cluster, unit};
use crate::storage::units;

/// Most units in one cluster.
const MAX_UNITS: usize = 1_000;

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
        let unit_ids = clusters::unit_ids(&self.ctx.db, &c.cluster_id).await?.into_iter().collect();
        Ok(pb::Cluster { cluster_id: c.cluster_id, unit_id: c.unit_id, name: c.name, unit_ids })
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
        let created = clusters::insert(&txn, &new_id(), &owner.unit_id, &name, &members, self.ctx.clock.now())
            .await
            .map_err(|e| {
                if doan_platform::db::is_unique_violation(&e) {
                    AppError::AlreadyExists(format!("unit {} already has a cluster named so", owner.unit_id))
                } else {
                    e.into()
                }
            })?;
        txn.commit().await?;
        Ok(pb::CreateClusterResponse { cluster: Some(self.cluster_pb(created).await?) })
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
        clusters::remove_units(&txn, &id, &remove).await?;
        clusters::add_units(&txn, &id, &add).await?;
        if clusters::unit_ids(&txn, &id).await?.len() > MAX_UNITS {
            return Err(AppError::invalid("add_unit_ids", format!("a cluster holds at most {MAX_UNITS} units")));
        }
        txn.commit().await?;
        Ok(pb::UpdateClusterUnitsResponse { cluster: Some(self.cluster_pb(found).await?) })
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
