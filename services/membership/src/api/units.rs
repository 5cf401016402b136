//! Units: create, read, list children.

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{new_id, required_text, timestamp};
use doan_platform::error::AppResult;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;

use super::MembershipApi;
use crate::domain::unit::{UnitLevel, check_placement, child_path};
use crate::events::publish;
use crate::storage::entities::unit;
use crate::storage::units::{self, NewUnit};

pub(super) fn unit_to_pb(u: unit::Model) -> pb::Unit {
    pb::Unit {
        unit_id: u.unit_id,
        parent_id: u.parent_id.unwrap_or_default(),
        name: u.name,
        level: u.level,
        path: u.path,
        created_at: Some(timestamp(u.created_at)),
    }
}

impl MembershipApi {
    pub(super) async fn create_unit(
        &self,
        caller: &Caller,
        r: pb::CreateUnitRequest,
    ) -> AppResult<pb::CreateUnitResponse> {
        caller.require_officer()?;
        // Scope before anything else: the parent must be the caller's to manage.
        let parent = if r.parent_id.is_empty() {
            if caller.role != Role::Admin {
                return Err(AppError::PermissionDenied(
                    "only administrators create the root unit; set parent_id".into(),
                ));
            }
            None
        } else {
            Some(self.managed_unit(caller, "parent_id", &r.parent_id).await?)
        };
        let name = required_text("name", &r.name, 200)?;
        let level = UnitLevel::parse("level", r.level)?;
        match &parent {
            // One root at most: the unique `is_root` index decides, not a count a concurrent
            // request could pass at the same time.
            None => check_placement(level, None)?,
            Some(parent) => check_placement(level, UnitLevel::from_stored(parent.level))?,
        }
        let unit_id = new_id();
        let path = child_path(parent.as_ref().map(|p| p.path.as_str()), &unit_id);
        let txn = self.ctx.db.begin().await?;
        let new = NewUnit {
            unit_id,
            parent_id: parent.as_ref().map(|p| p.unit_id.clone()),
            name,
            level,
            path,
            created_at: self.ctx.clock.now(),
        };
        let created = units::insert(&txn, new).await.map_err(|e| {
            if parent.is_none() && doan_platform::db::is_unique_violation(&e) {
                AppError::FailedPrecondition("the root unit already exists; set parent_id".into())
            } else {
                e.into()
            }
        })?;
        let event = publish::unit_created(&created);
        self.ctx.outbox.enqueue(&txn, &event).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(unit_id = %created.unit_id, level = ?level, by = %caller.account_id, "unit created");
        Ok(pb::CreateUnitResponse { unit: Some(unit_to_pb(created)) })
    }

    pub(super) async fn get_unit(&self, caller: &Caller, r: pb::GetUnitRequest) -> AppResult<pb::GetUnitResponse> {
        let unit = self.unit("unit_id", &r.unit_id).await?;
        if !caller.manages(&unit.path) && caller.unit_id.as_deref() != Some(unit.unit_id.as_str()) {
            return Err(AppError::PermissionDenied(format!("unit {} is outside your scope", unit.unit_id)));
        }
        Ok(pb::GetUnitResponse { unit: Some(unit_to_pb(unit)) })
    }

    pub(super) async fn list_child_units(
        &self,
        caller: &Caller,
        r: pb::ListChildUnitsRequest,
    ) -> AppResult<pb::ListChildUnitsResponse> {
        let parent = self.managed_unit(caller, "parent_id", &r.parent_id).await?;
        let children = units::children(&self.ctx.db, &parent.unit_id).await?;
        Ok(pb::ListChildUnitsResponse { units: children.into_iter().map(unit_to_pb).collect() })
    }
}
