//! Units: create, read, list children.

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{format_date, new_id, required_text, timestamp};
use doan_platform::error::AppResult;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;

use super::MembershipApi;
use crate::domain::unit::{UnitChangeKind, UnitLevel, UnitStatus, check_holding, check_placement, child_path};
use crate::events::publish;
use crate::storage::entities::unit;
use crate::storage::units::{self, Change, NewUnit};

/// Fails unless `u` is active (takes new members, children, changes).
pub(super) fn require_active(u: &unit::Model) -> AppResult<()> {
    match UnitStatus::from_stored(u.status) {
        UnitStatus::Active => Ok(()),
        UnitStatus::Merged => Err(AppError::FailedPrecondition(format!(
            "unit {} was merged into {}; use that unit",
            u.unit_id,
            u.merged_into.as_deref().unwrap_or("another unit")
        ))),
        UnitStatus::Dissolved => Err(AppError::FailedPrecondition(format!("unit {} was dissolved", u.unit_id))),
    }
}

pub(super) fn unit_to_pb(u: unit::Model) -> pb::Unit {
    pb::Unit {
        unit_id: u.unit_id,
        parent_id: u.parent_id.unwrap_or_default(),
        name: u.name,
        level: u.level,
        path: u.path,
        created_at: Some(timestamp(u.created_at)),
        status: u.status,
        merged_into: u.merged_into.unwrap_or_default(),
        holding: u.holding,
        version: u.version.max(1) as u64,
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
        if let Some(parent) = &parent {
            require_active(parent)?;
        }
        let name = required_text("name", &r.name, 200)?;
        let level = UnitLevel::parse("level", r.level)?;
        if r.holding {
            check_holding(level)?;
        }
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
            holding: r.holding,
            created_on: self.ctx.clock.today(),
        };
        let created = units::insert(&txn, new).await.map_err(|e| {
            if parent.is_none() && doan_platform::db::is_unique_violation(&e) {
                AppError::FailedPrecondition("the root unit already exists; set parent_id".into())
            } else if r.holding && doan_platform::db::is_unique_violation(&e) {
                AppError::AlreadyExists("the parent already has a holding unit".into())
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

impl MembershipApi {
    pub(super) async fn rename_unit(
        &self,
        caller: &Caller,
        r: pb::RenameUnitRequest,
    ) -> AppResult<pb::RenameUnitResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        if caller.role != Role::Admin && caller.unit_id.as_deref() == Some(unit.unit_id.as_str()) {
            return Err(AppError::PermissionDenied("a unit is renamed by the level above it".into()));
        }
        require_active(&unit)?;
        let name = required_text("name", &r.name, 200)?;
        let txn = self.ctx.db.begin().await?;
        let change = Change::new(UnitChangeKind::Renamed, self.ctx.clock.today(), self.ctx.clock.now());
        let renamed = units::rename(&txn, unit, name, change).await?;
        self.ctx.outbox.enqueue(&txn, &publish::unit_updated(&renamed)).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        Ok(pb::RenameUnitResponse { unit: Some(unit_to_pb(renamed)) })
    }

    pub(super) async fn get_unit_history(
        &self,
        caller: &Caller,
        r: pb::GetUnitHistoryRequest,
    ) -> AppResult<pb::GetUnitHistoryResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let changes = units::history(&self.ctx.db, &unit.unit_id).await?;
        Ok(pb::GetUnitHistoryResponse {
            changes: changes
                .into_iter()
                .map(|c| pb::UnitChange {
                    kind: c.kind,
                    effective_on: format_date(c.effective_on),
                    old_parent_id: c.old_parent_id,
                    new_parent_id: c.new_parent_id,
                    old_name: c.old_name,
                    new_name: c.new_name,
                    other_unit_id: c.other_unit_id,
                    plan_id: c.plan_id,
                    recorded_at: Some(timestamp(c.recorded_at)),
                })
                .collect(),
        })
    }
}
