//! Reorganisation: plans of moves, merges, dissolutions and renames, previewed on a sketch
//! of the tree and applied in the background, step by step and batch by batch, by whichever
//! process holds the plan's lease; a plan interrupted by a crash is resumed by the next
//! process that finds it applying. Single moves, merges and dissolutions are one-step plans.

use std::pin::Pin;
use std::time::Duration;

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{format_date, new_id, parse_date, parse_id, required_text, timestamp};
use doan_platform::error::AppResult;
use doan_platform::service::ServiceContext;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;
use tokio_stream::{Stream, StreamExt};
use tonic::Status;

use super::MembershipApi;
use crate::domain::reorg::{PlanState, Simulation, Step, StepKind, involved_ids, percent, simulate};
use crate::events::publish;
use crate::storage::entities::{reorg_plan, reorg_step, unit};
use crate::storage::members;
use crate::storage::reorganisation::{self, NewPlan};
use crate::storage::units::{self, Change};

/// Most steps in one plan.
const MAX_STEPS: usize = 10_000;

/// The stream of a watched plan.
pub(super) type PlanStream = Pin<Box<dyn Stream<Item = Result<pb::WatchReorganisationPlanResponse, Status>> + Send>>;

/// Applies plans in the background: one task per plan this process holds.
#[derive(Clone)]
pub struct Reorganiser {
    ctx: ServiceContext,
    runner: String,
    running: doan_platform::jobs::Running,
}

impl Reorganiser {
    /// A reorganiser for this process.
    pub fn new(ctx: ServiceContext) -> Self {
        Self { ctx, runner: new_id(), running: Default::default() }
    }

    /// Applies `plan_id` on a task of its own unless this process already does.
    pub fn spawn(&self, plan_id: &str) {
        let this = self.clone();
        self.running.spawn("reorganisation", plan_id, move |id| async move { this.run(&id).await });
    }

    /// Looks for plans left applying (by a process that stopped) now and every few seconds,
    /// until shutdown.
    pub fn resume_forever(&self) {
        let (look, resume) = (self.clone(), self.clone());
        self.running.look_forever(
            "reorganisation",
            Duration::from_secs(3),
            self.ctx.shutdown.clone(),
            move || {
                let this = look.clone();
                async move { Ok(reorganisation::applying(&this.ctx.db).await?.into_iter().map(|p| p.plan_id).collect()) }
            },
            move |id| resume.spawn(id),
        );
    }

    async fn run(&self, plan_id: &str) -> anyhow::Result<()> {
        let jobs = &self.ctx.settings.jobs;
        let lease = chrono::Duration::seconds(jobs.lease_secs.max(1) as i64);
        loop {
            if self.ctx.shutdown.is_cancelled() {
                reorganisation::release(&self.ctx.db, plan_id, &self.runner).await?;
                return Ok(());
            }
            let now = self.ctx.clock.now();
            if !reorganisation::claim(&self.ctx.db, plan_id, &self.runner, now, now + lease).await? {
                return Ok(()); // done, failed, or another process holds it
            }
            let Some(plan) = reorganisation::find(&self.ctx.db, plan_id).await? else { return Ok(()) };
            let Some(step) = reorganisation::step(&self.ctx.db, plan_id, plan.steps_done.max(0)).await? else {
                return Ok(());
            };
            match step.phase.as_str() {
                "" => self.begin_step(&plan, &step).await?,
                _ => {
                    if self.members_batch(&plan, &step).await? && jobs.batch_pause_ms > 0 {
                        tokio::time::sleep(Duration::from_millis(jobs.batch_pause_ms)).await;
                    }
                }
            }
        }
    }

    /// The unit part of a step, in one transaction with its events: re-checked on the tree as
    /// it is now; a step that no longer fits fails the plan.
    async fn begin_step(&self, plan: &reorg_plan::Model, step: &reorg_step::Model) -> anyhow::Result<()> {
        let db = &self.ctx.db;
        let scope = units::find(db, &plan.unit_id).await?.map(|u| u.path).unwrap_or_default();
        let domain_step = stored_step(step);
        let mut tree = units::sketch(db, &involved_ids(std::slice::from_ref(&domain_step)), &scope).await?;
        let sim = simulate(&mut tree, std::slice::from_ref(&domain_step));
        let txn = db.begin().await?;
        if let Some(conflict) = sim.conflicts.first() {
            reorganisation::step_failed(&txn, &plan.plan_id, step.idx, &conflict.reason).await?;
            txn.commit().await?;
            tracing::warn!(plan_id = %plan.plan_id, step = step.idx, reason = %conflict.reason, "reorganisation step failed");
            return Ok(());
        }
        let change = |kind| Change {
            plan_id: plan.plan_id.clone(),
            ..Change::new(kind, plan.effective_on, self.ctx.clock.now())
        };
        let unit = units::find(&txn, &step.unit_id).await?.ok_or_else(|| anyhow::anyhow!("unit vanished"))?;
        use crate::domain::unit::UnitChangeKind as K;
        let mut rewrites = Vec::new();
        let member_phase = match domain_step.kind {
            StepKind::Rename => {
                let renamed = units::rename(&txn, unit, step.new_name.clone(), change(K::Renamed)).await?;
                self.ctx.outbox.enqueue(&txn, &publish::unit_updated(&renamed)).await?;
                false
            }
            StepKind::Dissolve => {
                let dissolved = units::dissolve(&txn, unit, change(K::Dissolved)).await?;
                self.ctx.outbox.enqueue(&txn, &publish::unit_updated(&dissolved)).await?;
                false
            }
            StepKind::Move => {
                let parent = target_unit(&txn, step).await?;
                let old_parent = unit.parent_id.clone().unwrap_or_default();
                let (moved, old_path) = units::move_subtree(&txn, unit, &parent, change(K::Moved)).await?;
                crate::storage::statistics::move_subtree(&txn, &old_path, &moved.path).await?;
                self.ctx
                    .outbox
                    .enqueue(&txn, &publish::unit_moved(&moved, &old_parent, &old_path, &plan.plan_id))
                    .await?;
                rewrites.push((old_path, moved.path.clone()));
                true
            }
            StepKind::Merge => {
                let target = target_unit(&txn, step).await?;
                for child in units::active_children(&txn, &unit.unit_id).await? {
                    let old_parent = child.parent_id.clone().unwrap_or_default();
                    let (moved, old_path) = units::move_subtree(&txn, child, &target, change(K::Moved)).await?;
                    crate::storage::statistics::move_subtree(&txn, &old_path, &moved.path).await?;
                    let event = publish::unit_moved(&moved, &old_parent, &old_path, &plan.plan_id);
                    self.ctx.outbox.enqueue(&txn, &event).await?;
                    rewrites.push((old_path, moved.path.clone()));
                }
                crate::storage::statistics::move_all(&txn, &unit.unit_id, &target.unit_id).await?;
                let merged = units::mark_merged(&txn, unit, &target.unit_id, change(K::Merged)).await?;
                self.ctx.outbox.enqueue(&txn, &publish::unit_merged(&merged, &target, &plan.plan_id)).await?;
                true
            }
        };
        if member_phase {
            reorganisation::begin_members(&txn, &plan.plan_id, step.idx, &rewrites).await?;
        } else {
            reorganisation::step_done(&txn, plan, step.idx).await?;
        }
        txn.commit().await?;
        self.ctx.outbox.wake();
        Ok(())
    }

    /// One batch of a step's member phase: members of a merged unit re-homed first, then the
    /// paths of moved subtrees rewritten; a batch that finds nothing left ends the step in the
    /// same transaction. Returns whether members remain.
    async fn members_batch(&self, plan: &reorg_plan::Model, step: &reorg_step::Model) -> anyhow::Result<bool> {
        let batch = self.ctx.settings.jobs.batch_size.max(1);
        let txn = self.ctx.db.begin().await?;
        let mut changed = 0;
        if StepKind::from_stored(step.kind) == Some(StepKind::Merge) {
            let target = target_unit(&txn, step).await?;
            let on = plan.effective_on;
            changed = members::rehome(&txn, &step.unit_id, &target.unit_id, &target.path, on, "merge", batch)
                .await?
                .len() as u64;
        }
        if changed == 0 {
            for (old, new) in reorganisation::rewrites(&txn, &plan.plan_id, step.idx).await? {
                changed = members::rewrite_paths(&txn, &old, &new, batch).await?;
                if changed > 0 {
                    break;
                }
            }
        }
        if changed > 0 {
            reorganisation::add_members_done(&txn, &plan.plan_id, changed).await?;
        }
        if changed == 0 {
            reorganisation::step_done(&txn, plan, step.idx).await?;
        }
        txn.commit().await?;
        Ok(changed > 0)
    }
}

async fn target_unit(db: &impl sea_orm::ConnectionTrait, step: &reorg_step::Model) -> anyhow::Result<unit::Model> {
    units::find(db, &step.target_unit_id).await?.ok_or_else(|| anyhow::anyhow!("target unit vanished"))
}

fn stored_step(s: &reorg_step::Model) -> Step {
    Step {
        kind: StepKind::from_stored(s.kind).unwrap_or(StepKind::Rename),
        unit_id: s.unit_id.clone(),
        target_unit_id: s.target_unit_id.clone(),
        new_name: s.new_name.clone(),
    }
}

fn plan_to_pb(p: reorg_plan::Model, steps: Vec<reorg_step::Model>) -> pb::ReorganisationPlan {
    let progress = pb::ReorganisationProgress {
        steps_total: p.steps_total.max(0) as u32,
        steps_done: p.steps_done.max(0) as u32,
        members_total: p.members_total.max(0) as u64,
        members_done: p.members_done.max(0) as u64,
        percent: percent(
            p.steps_done.max(0) as u64,
            p.steps_total.max(0) as u64,
            p.members_done.max(0) as u64,
            p.members_total.max(0) as u64,
        ),
    };
    pb::ReorganisationPlan {
        plan_id: p.plan_id,
        unit_id: p.unit_id,
        title: p.title,
        effective_on: format_date(p.effective_on),
        steps: steps
            .into_iter()
            .map(|s| pb::ReorganisationStep {
                kind: s.kind,
                unit_id: s.unit_id,
                target_unit_id: s.target_unit_id,
                new_name: s.new_name,
                state: s.state,
                error: s.error,
            })
            .collect(),
        state: p.state,
        progress: Some(progress),
        created_by: p.created_by,
        created_at: Some(timestamp(p.created_at)),
    }
}

fn preview_to_pb(sim: &Simulation, offset: usize) -> pb::PreviewReorganisationPlanResponse {
    pb::PreviewReorganisationPlanResponse {
        steps: sim
            .effects
            .iter()
            .enumerate()
            .map(|(i, e)| pb::StepEffect {
                step: (i + offset) as u32,
                units_touched: e.units,
                members_touched: e.members,
            })
            .collect(),
        units_touched: sim.units_touched,
        members_touched: sim.effects.iter().map(|e| e.members).sum(),
        conflicts: sim
            .conflicts
            .iter()
            .map(|c| pb::ReorganisationConflict {
                step: (c.step + offset) as u32,
                unit_id: c.unit_id.clone(),
                reason: c.reason.clone(),
            })
            .collect(),
    }
}

fn conflicts_error(sim: &Simulation, offset: usize) -> AppError {
    let listed: Vec<String> =
        sim.conflicts.iter().take(3).map(|c| format!("step {}: {}", c.step + offset, c.reason)).collect();
    AppError::FailedPrecondition(format!(
        "{} step(s) cannot apply ({}{})",
        sim.conflicts.len(),
        listed.join("; "),
        if sim.conflicts.len() > 3 { "; …" } else { "" }
    ))
}

impl MembershipApi {
    /// Parses a Vietnam effective date: empty for today, not in the future, not before 1931.
    fn effective_on(&self, value: &str) -> AppResult<chrono::NaiveDate> {
        let today = self.ctx.clock.today();
        if value.trim().is_empty() {
            return Ok(today);
        }
        let on = parse_date("effective_on", value)?;
        if on > today {
            return Err(AppError::invalid("effective_on", format!("must not be after today ({today} in Vietnam)")));
        }
        if on < chrono::NaiveDate::from_ymd_opt(1931, 3, 26).expect("date") {
            return Err(AppError::invalid("effective_on", "must not be before the Union's founding (1931-03-26)"));
        }
        Ok(on)
    }

    fn parse_steps(&self, steps: &[pb::ReorganisationStep]) -> AppResult<Vec<Step>> {
        if steps.is_empty() || steps.len() > MAX_STEPS {
            return Err(AppError::invalid("steps", format!("must hold 1 to {MAX_STEPS} steps")));
        }
        steps
            .iter()
            .map(|s| {
                let kind = StepKind::parse("steps.kind", s.kind)?;
                let unit_id = parse_id("steps.unit_id", &s.unit_id)?;
                let target_unit_id = match kind {
                    StepKind::Move | StepKind::Merge => parse_id("steps.target_unit_id", &s.target_unit_id)?,
                    _ => String::new(),
                };
                let new_name = match kind {
                    StepKind::Rename => required_text("steps.new_name", &s.new_name, 200)?,
                    _ => String::new(),
                };
                Ok(Step { kind, unit_id, target_unit_id, new_name })
            })
            .collect()
    }

    /// The plan `plan_id`, whose unit the caller must manage.
    async fn managed_plan(&self, caller: &Caller, plan_id: &str) -> AppResult<(reorg_plan::Model, unit::Model)> {
        let id = parse_id("plan_id", plan_id)?;
        let plan = reorganisation::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("reorganisation plan {id} does not exist")))?;
        let unit = self.managed_unit(caller, "plan_id", &plan.unit_id).await.map_err(|e| match e {
            AppError::PermissionDenied(_) => AppError::PermissionDenied(format!("plan {id} is outside your scope")),
            other => other,
        })?;
        Ok((plan, unit))
    }

    async fn simulate_plan(&self, scope: &unit::Model, steps: &[Step]) -> AppResult<Simulation> {
        let mut tree = units::sketch(&self.ctx.db, &involved_ids(steps), &scope.path).await?;
        Ok(simulate(&mut tree, steps))
    }

    async fn plan_pb(&self, plan_id: &str) -> AppResult<pb::ReorganisationPlan> {
        let plan = reorganisation::find(&self.ctx.db, plan_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("reorganisation plan {plan_id} does not exist")))?;
        let steps = reorganisation::steps(&self.ctx.db, plan_id).await?;
        Ok(plan_to_pb(plan, steps))
    }

    /// Stores a plan; with `apply`, checks it on the tree and starts it in the same
    /// transaction (refused with its conflicts).
    async fn store_plan(
        &self,
        caller: &Caller,
        scope: &unit::Model,
        title: String,
        effective_on: chrono::NaiveDate,
        steps: Vec<Step>,
        apply: bool,
    ) -> AppResult<pb::ReorganisationPlan> {
        let members_total = if apply {
            let sim = self.simulate_plan(scope, &steps).await?;
            if !sim.conflicts.is_empty() {
                return Err(conflicts_error(&sim, 0));
            }
            self.require_no_plan_applying().await?;
            sim.effects.iter().map(|e| e.members).sum()
        } else {
            0
        };
        let plan_id = new_id();
        let txn = self.ctx.db.begin().await?;
        let new = NewPlan {
            plan_id: plan_id.clone(),
            unit_id: scope.unit_id.clone(),
            title,
            effective_on,
            created_by: caller.account_id.clone(),
            created_at: self.ctx.clock.now(),
        };
        reorganisation::insert(&txn, new, &steps).await?;
        if apply {
            reorganisation::start(&txn, &plan_id, members_total).await?;
        }
        txn.commit().await?;
        if apply {
            self.reorganiser.spawn(&plan_id);
        }
        self.plan_pb(&plan_id).await
    }

    async fn require_no_plan_applying(&self) -> AppResult<()> {
        if let Some(other) = reorganisation::applying(&self.ctx.db).await?.first() {
            return Err(AppError::FailedPrecondition(format!(
                "reorganisation plan {} is being applied; one plan applies at a time (watch it with WatchReorganisationPlan)",
                other.plan_id
            )));
        }
        Ok(())
    }

    /// The scope of a single change: the officer's own unit, or the root for administrators.
    async fn own_scope(&self, caller: &Caller, changed: &unit::Model) -> AppResult<unit::Model> {
        let scope_id = match (caller.role, &caller.unit_id) {
            (Role::Officer, Some(unit)) => unit.clone(),
            _ => changed.path.split('/').find(|s| !s.is_empty()).unwrap_or_default().to_string(),
        };
        units::find(&self.ctx.db, &scope_id)
            .await?
            .ok_or_else(|| AppError::FailedPrecondition(format!("your unit {scope_id} does not exist")))
    }

    /// A one-step plan in the caller's own unit, applied at once. The changed unit is checked
    /// against the caller's scope before anything else; `target` names the request field and
    /// value of the new parent or absorbing unit.
    async fn single_change(
        &self,
        caller: &Caller,
        kind: StepKind,
        unit_id: &str,
        target: Option<(&'static str, &str)>,
        effective_on: &str,
        title: &str,
    ) -> AppResult<pb::ReorganisationPlan> {
        let changed = self.managed_unit(caller, "unit_id", unit_id).await?;
        let target_unit_id = match target {
            Some((field, id)) => self.managed_unit(caller, field, id).await?.unit_id,
            None => String::new(),
        };
        let step = Step { kind, unit_id: changed.unit_id.clone(), target_unit_id, new_name: String::new() };
        let effective_on = self.effective_on(effective_on)?;
        let scope = self.own_scope(caller, &changed).await?;
        let title = format!("{title}: {}", changed.name);
        self.store_plan(caller, &scope, title.chars().take(200).collect(), effective_on, vec![step], true).await
    }

    pub(super) async fn move_unit(&self, caller: &Caller, r: pb::MoveUnitRequest) -> AppResult<pb::MoveUnitResponse> {
        let target = Some(("parent_id", r.parent_id.as_str()));
        let plan =
            self.single_change(caller, StepKind::Move, &r.unit_id, target, &r.effective_on, "Chuyển đơn vị").await?;
        Ok(pb::MoveUnitResponse { plan: Some(plan) })
    }

    pub(super) async fn merge_units(
        &self,
        caller: &Caller,
        r: pb::MergeUnitsRequest,
    ) -> AppResult<pb::MergeUnitsResponse> {
        let target = Some(("target_unit_id", r.target_unit_id.as_str()));
        let plan =
            self.single_change(caller, StepKind::Merge, &r.unit_id, target, &r.effective_on, "Hợp nhất đơn vị").await?;
        Ok(pb::MergeUnitsResponse { plan: Some(plan) })
    }

    pub(super) async fn dissolve_unit(
        &self,
        caller: &Caller,
        r: pb::DissolveUnitRequest,
    ) -> AppResult<pb::DissolveUnitResponse> {
        let plan = self
            .single_change(caller, StepKind::Dissolve, &r.unit_id, None, &r.effective_on, "Giải thể đơn vị")
            .await?;
        Ok(pb::DissolveUnitResponse { plan: Some(plan) })
    }

    pub(super) async fn create_reorganisation_plan(
        &self,
        caller: &Caller,
        r: pb::CreateReorganisationPlanRequest,
    ) -> AppResult<pb::CreateReorganisationPlanResponse> {
        let scope = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let title = required_text("title", &r.title, 200)?;
        let effective_on = self.effective_on(&r.effective_on)?;
        let steps = self.parse_steps(&r.steps)?;
        let plan = self.store_plan(caller, &scope, title, effective_on, steps, false).await?;
        tracing::info!(plan_id = %plan.plan_id, steps = plan.steps.len(), by = %caller.account_id, "reorganisation plan drafted");
        Ok(pb::CreateReorganisationPlanResponse { plan: Some(plan) })
    }

    pub(super) async fn preview_reorganisation_plan(
        &self,
        caller: &Caller,
        r: pb::PreviewReorganisationPlanRequest,
    ) -> AppResult<pb::PreviewReorganisationPlanResponse> {
        let (plan, scope) = self.managed_plan(caller, &r.plan_id).await?;
        let steps = reorganisation::steps(&self.ctx.db, &plan.plan_id).await?;
        let offset = plan.steps_done.max(0) as usize;
        let remaining: Vec<Step> = steps.iter().skip(offset).map(stored_step).collect();
        let sim = self.simulate_plan(&scope, &remaining).await?;
        Ok(preview_to_pb(&sim, offset))
    }

    pub(super) async fn apply_reorganisation_plan(
        &self,
        caller: &Caller,
        r: pb::ApplyReorganisationPlanRequest,
    ) -> AppResult<pb::ApplyReorganisationPlanResponse> {
        let (plan, scope) = self.managed_plan(caller, &r.plan_id).await?;
        match PlanState::from_stored(plan.state) {
            PlanState::Draft | PlanState::Failed => {}
            state => {
                return Err(AppError::FailedPrecondition(format!(
                    "plan {} is {state:?}; only a draft or a failed plan is applied",
                    plan.plan_id
                )));
            }
        }
        let steps = reorganisation::steps(&self.ctx.db, &plan.plan_id).await?;
        let offset = plan.steps_done.max(0) as usize;
        let remaining: Vec<Step> = steps.iter().skip(offset).map(stored_step).collect();
        let sim = self.simulate_plan(&scope, &remaining).await?;
        if !sim.conflicts.is_empty() {
            return Err(conflicts_error(&sim, offset));
        }
        self.require_no_plan_applying().await?;
        let members_total = sim.effects.iter().map(|e| e.members).sum();
        let txn = self.ctx.db.begin().await?;
        let started = reorganisation::start(&txn, &plan.plan_id, members_total).await?;
        txn.commit().await?;
        if !started {
            return Err(AppError::FailedPrecondition(format!(
                "plan {} changed state meanwhile; read it again",
                plan.plan_id
            )));
        }
        self.reorganiser.spawn(&plan.plan_id);
        tracing::info!(plan_id = %plan.plan_id, by = %caller.account_id, "reorganisation plan applying");
        Ok(pb::ApplyReorganisationPlanResponse { plan: Some(self.plan_pb(&plan.plan_id).await?) })
    }

    pub(super) async fn get_reorganisation_plan(
        &self,
        caller: &Caller,
        r: pb::GetReorganisationPlanRequest,
    ) -> AppResult<pb::GetReorganisationPlanResponse> {
        let (plan, _) = self.managed_plan(caller, &r.plan_id).await?;
        Ok(pb::GetReorganisationPlanResponse { plan: Some(self.plan_pb(&plan.plan_id).await?) })
    }

    pub(super) async fn watch_reorganisation_plan(
        &self,
        caller: &Caller,
        r: pb::WatchReorganisationPlanRequest,
    ) -> AppResult<PlanStream> {
        let (plan, _) = self.managed_plan(caller, &r.plan_id).await?;
        let db = self.ctx.db.clone();
        let plan_id = plan.plan_id;
        let look = move || {
            let (db, plan_id) = (db.clone(), plan_id.clone());
            async move {
                let plan = reorganisation::find(&db, &plan_id).await.ok()??;
                let steps = reorganisation::steps(&db, &plan_id).await.ok()?;
                Some((plan, steps))
            }
        };
        let key = |(p, _): &(reorg_plan::Model, Vec<reorg_step::Model>)| (p.state, p.steps_done, p.members_done);
        let ended = |(p, _): &(reorg_plan::Model, Vec<reorg_step::Model>)| {
            matches!(PlanState::from_stored(p.state), PlanState::Done | PlanState::Failed)
        };
        let stream = super::watch::polled(&self.ctx, caller, look, key, ended);
        Ok(Box::pin(stream.map(|r| {
            r.map(|(plan, steps)| pb::WatchReorganisationPlanResponse { plan: Some(plan_to_pb(plan, steps)) })
        })))
    }
}
