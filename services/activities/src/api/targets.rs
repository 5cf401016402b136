//! Yearly targets through the API: set by a unit for the units directly below it, progress
//! counted live from the data (admissions from membership's events).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use doan_platform::AppError;
use doan_platform::convert::{parse_id, timestamp};
use doan_platform::directory;
use doan_platform::error::AppResult;
use doan_proto::activities as pb;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};

use super::ActivitiesApi;
use crate::domain::programmes::{Figure, ReviewSection, Span, YEARS};
use crate::domain::targets::{Metric, parse_value, percent, summary};
use crate::storage::entities::target;
use crate::storage::{programmes, targets as store};

/// Settings per call.
const MAX_SETTINGS: usize = 1000;

fn year_span(year: i32) -> AppResult<Span> {
    if !YEARS.contains(&year) {
        return Err(AppError::invalid("year", "must be between 2000 and 2100"));
    }
    let day = |m, d| NaiveDate::from_ymd_opt(year, m, d).ok_or_else(|| AppError::invalid("year", "is not a year"));
    Ok(Span { from: day(1, 1)?, to: day(12, 31)? })
}

impl ActivitiesApi {
    /// The progress of `unit`'s `targets` over `span`, each with what the unit assigned below.
    async fn unit_targets(
        &self,
        unit: &directory::unit::Model,
        targets: Vec<target::Model>,
        span: &Span,
        assigned: &HashMap<i32, i64>,
    ) -> AppResult<pb::UnitTargets> {
        if targets.is_empty() {
            return Ok(pb::UnitTargets {
                unit_id: unit.unit_id.clone(),
                unit_name: unit.name.clone(),
                ..Default::default()
            });
        }
        let figures = programmes::figures(&self.ctx.db, &unit.path, span).await?;
        let admissions = store::admissions(&self.ctx.db, &unit.path, span).await?;
        let mut rows = Vec::with_capacity(targets.len());
        for t in targets {
            let Some(metric) = Metric::of(t.metric) else { continue };
            let actual = metric.actual(&figures, admissions);
            rows.push(pb::TargetProgress {
                unit_id: unit.unit_id.clone(),
                unit_name: unit.name.clone(),
                metric: t.metric,
                label: metric.label().into(),
                target: t.value,
                actual,
                percent: percent(actual, t.value),
                met: actual >= t.value,
                assigned_below: assigned.get(&t.metric).copied().unwrap_or(0),
                set_by_unit_id: t.set_by_unit_id,
                set_at: Some(timestamp(t.set_at)),
            });
        }
        let results: Vec<(i64, i64)> = rows.iter().map(|r| (r.target, r.actual)).collect();
        Ok(pb::UnitTargets {
            unit_id: unit.unit_id.clone(),
            unit_name: unit.name.clone(),
            met: rows.iter().filter(|r| r.met).count() as i32,
            total: rows.len() as i32,
            summary: summary(&results),
            targets: rows,
        })
    }

    /// The targets `setter` set for `year`, per unit below (in name order), with progress.
    async fn targets_below(
        &self,
        setter: &directory::unit::Model,
        span: &Span,
        year: i32,
    ) -> AppResult<Vec<pb::UnitTargets>> {
        let set = store::set_by(&self.ctx.db, &setter.unit_id, year).await?;
        let mut per_unit: BTreeMap<String, Vec<target::Model>> = BTreeMap::new();
        for t in set {
            per_unit.entry(t.unit_id.clone()).or_default().push(t);
        }
        let units = directory::unit::Entity::find()
            .filter(directory::unit::Column::UnitId.is_in(per_unit.keys().cloned()))
            .order_by_asc(directory::unit::Column::Name)
            .all(&self.ctx.db)
            .await?;
        let mut out = Vec::with_capacity(units.len());
        for unit in units {
            let targets = per_unit.remove(&unit.unit_id).unwrap_or_default();
            let assigned = self.assigned_below(&unit.unit_id, year).await?;
            out.push(self.unit_targets(&unit, targets, span, &assigned).await?);
        }
        Ok(out)
    }

    /// The sum per metric of what `unit_id` assigned to the units below it for `year`.
    async fn assigned_below(&self, unit_id: &str, year: i32) -> AppResult<HashMap<i32, i64>> {
        let mut sums = HashMap::new();
        for t in store::set_by(&self.ctx.db, unit_id, year).await? {
            *sums.entry(t.metric).or_insert(0i64) += t.value;
        }
        Ok(sums)
    }

    /// The unit's own targets for `year` with progress.
    async fn own_targets(&self, unit: &directory::unit::Model, year: i32, span: &Span) -> AppResult<pb::UnitTargets> {
        let own = store::of_units(&self.ctx.db, std::slice::from_ref(&unit.unit_id), year).await?;
        let assigned = self.assigned_below(&unit.unit_id, year).await?;
        self.unit_targets(unit, own, span, &assigned).await
    }

    pub(super) async fn set_targets(
        &self,
        caller: &doan_platform::auth::Caller,
        r: pb::SetTargetsRequest,
    ) -> AppResult<pb::SetTargetsResponse> {
        let setter = self.managed_unit(caller, &r.unit_id).await?;
        let span = year_span(r.year)?;
        if r.targets.is_empty() || r.targets.len() > MAX_SETTINGS {
            return Err(AppError::invalid("targets", format!("must hold 1 to {MAX_SETTINGS} settings")));
        }
        let mut settings: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for t in &r.targets {
            let unit_id = parse_id("targets", &t.unit_id)?;
            let metric = Metric::parse("targets", t.metric)?;
            let value = parse_value(t.value)?;
            if settings.insert((unit_id.clone(), metric as i32), value).is_some() {
                return Err(AppError::invalid("targets", format!("unit {unit_id} has two targets of one metric")));
            }
        }
        let ids: Vec<String> = settings.keys().map(|(u, _)| u.clone()).collect();
        let children: HashMap<String, directory::unit::Model> = directory::unit::Entity::find()
            .filter(directory::unit::Column::UnitId.is_in(ids.clone()))
            .filter(directory::unit::Column::ParentId.eq(&setter.unit_id))
            .filter(directory::unit::Column::Status.eq(1))
            .all(&self.ctx.db)
            .await?
            .into_iter()
            .map(|u| (u.unit_id.clone(), u))
            .collect();
        if let Some(outside) = ids.iter().find(|id| !children.contains_key(*id)) {
            return Err(AppError::FailedPrecondition(format!(
                "unit {outside} is not an active unit directly below {}: a level sets the targets of the units directly below it",
                setter.unit_id
            )));
        }
        let now = self.ctx.clock.now();
        let rows = settings
            .into_iter()
            .map(|((unit_id, metric), value)| {
                let unit = &children[&unit_id];
                store::new_target(
                    (&unit.unit_id, &unit.path),
                    r.year,
                    metric,
                    value,
                    (&setter.unit_id, &caller.account_id),
                    now,
                )
            })
            .collect();
        let txn = self.ctx.db.begin().await?;
        store::upsert(&txn, rows).await?;
        txn.commit().await?;
        tracing::info!(unit_id = %setter.unit_id, year = r.year, settings = r.targets.len(), "targets set");
        Ok(pb::SetTargetsResponse { below: self.targets_below(&setter, &span, r.year).await? })
    }

    pub(super) async fn get_target_progress(
        &self,
        caller: &doan_platform::auth::Caller,
        r: pb::GetTargetProgressRequest,
    ) -> AppResult<pb::GetTargetProgressResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let span = year_span(r.year)?;
        let own = self.own_targets(&unit, r.year, &span).await?;
        Ok(pb::GetTargetProgressResponse { own: Some(own), below: self.targets_below(&unit, &span, r.year).await? })
    }

    /// For a calendar year's review: the unit's targets as a section and the summary line.
    pub(super) async fn review_targets(
        &self,
        unit: &directory::unit::Model,
        span: &Span,
    ) -> AppResult<Option<(ReviewSection, String)>> {
        use chrono::Datelike;
        let year = span.from.year();
        if year_span(year).ok().as_ref() != Some(span) {
            return Ok(None);
        }
        let own = self.own_targets(unit, year, span).await?;
        if own.targets.is_empty() {
            return Ok(None);
        }
        let rows = own.targets.iter().map(|t| (t.label.clone(), Figure::Progress(t.actual, t.target))).collect();
        Ok(Some(((format!("Chỉ tiêu năm {year}"), rows), format!("Chỉ tiêu: {}", own.summary))))
    }
}

/// Targets looked at per pass of the watch.
const WATCH_BATCH: u64 = 500;

impl ActivitiesApi {
    /// Looks for targets met every `jobs.reminders_every_secs` until shutdown.
    pub fn spawn_target_watch(self: &std::sync::Arc<Self>) {
        let this = self.clone();
        let every = std::time::Duration::from_secs(this.ctx.settings.jobs.reminders_every_secs.max(1));
        doan_platform::jobs::every(self.ctx.shutdown.clone(), every, "targets met", move || {
            let this = this.clone();
            async move { this.look_for_targets_met().await }
        });
    }

    /// Publishes TargetMet for each unmet target of this year that its unit now reaches;
    /// exactly once per target, whatever the number of replicas looking (the mark and the event
    /// commit together, the mark only if no one marked it first). Returns how many.
    pub async fn look_for_targets_met(&self) -> AppResult<usize> {
        use chrono::Datelike;
        let today = self.ctx.clock.today();
        // In January, last year's targets may still be reached by what is recorded late.
        let mut years = vec![today.year()];
        if today.month() == 1 {
            years.push(today.year() - 1);
        }
        let mut met = 0;
        for year in years {
            let span = year_span(year)?;
            let mut after = String::new();
            loop {
                let page = store::unmet(&self.ctx.db, year, &after, WATCH_BATCH).await?;
                let Some(last) = page.last() else { break };
                after = last.target_id.clone();
                let mut by_unit: BTreeMap<String, Vec<target::Model>> = BTreeMap::new();
                for t in page {
                    by_unit.entry(t.unit_id.clone()).or_default().push(t);
                }
                for targets in by_unit.into_values() {
                    met += self.mark_met(targets, &span).await?;
                }
            }
        }
        if met > 0 {
            self.ctx.outbox.wake();
        }
        Ok(met)
    }

    /// Marks those of one unit's `targets` it now reaches, each with its TargetMet.
    async fn mark_met(&self, targets: Vec<target::Model>, span: &Span) -> AppResult<usize> {
        let Some(path) = targets.first().map(|t| t.unit_path.clone()) else { return Ok(0) };
        let figures = programmes::figures(&self.ctx.db, &path, span).await?;
        let admissions = store::admissions(&self.ctx.db, &path, span).await?;
        let mut met = 0;
        for t in targets {
            let Some(metric) = Metric::of(t.metric) else { continue };
            let actual = metric.actual(&figures, admissions);
            if actual < t.value {
                continue;
            }
            let txn = self.ctx.db.begin().await?;
            if store::mark_met(&txn, &t.target_id, self.ctx.clock.now()).await? {
                let event = crate::events::publish::target_met(&t, metric.label(), actual);
                self.ctx.outbox.enqueue(&txn, &event).await?;
                met += 1;
            }
            txn.commit().await?;
        }
        Ok(met)
    }
}
