//! Reminders of the year, sent as `ReminderDue` events for notifications to deliver: dues
//! owed (members, monthly from the dues rule's reminder day), evaluation deadlines (members of
//! branches not yet confirmed, from the rule's days before the proposal deadline) and
//! remittances due (the unit's officers who are members, from a week before the due day).
//! Each reminder has a key claimed in the transaction that enqueues it, so it goes out once
//! across replicas and restarts; the job looks every `jobs.reminders_every_secs`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{Datelike, Days, NaiveDate};
use doan_platform::error::AppResult;
use doan_platform::units::UnitLevel;
use sea_orm::TransactionTrait;

use super::MembershipApi;
use super::dues::span_of;
use crate::domain::dues::{Month, cadence, latest_ended_period};
use crate::events::publish;
use crate::storage::{dues, evaluation, members, positions, reminders, units};

/// One reminder: what is due, for whom, once per key.
struct Reminder {
    /// Claimed once (`kind:what:unit`).
    key: String,
    /// `dues_arrears`, `evaluation_deadline` or `remittance_due`.
    kind: &'static str,
    /// The unit concerned.
    unit_id: String,
    /// Members to tell.
    member_ids: Vec<String>,
    /// The day it is due.
    due_on: NaiveDate,
    /// Details for the text.
    detail: String,
}

/// Members per `ReminderDue` event.
const PER_EVENT: usize = 1000;

/// Remittance reminders start this many days before the due day.
const REMITTANCE_NOTICE_DAYS: u64 = 7;

/// Dues owed are counted over this many months before the current one.
const ARREARS_WINDOW: i32 = 12;

impl MembershipApi {
    /// Looks for reminders to send now and every `jobs.reminders_every_secs` until shutdown.
    pub fn spawn_reminders(self: &std::sync::Arc<Self>) {
        let this = self.clone();
        let every = Duration::from_secs(this.ctx.settings.jobs.reminders_every_secs.max(1));
        doan_platform::jobs::every(self.ctx.shutdown.clone(), every, "reminders", move || {
            let this = this.clone();
            async move { this.send_reminders().await }
        });
    }

    /// Sends what is due today; returns how many events were enqueued.
    pub async fn send_reminders(&self) -> AppResult<usize> {
        let today = self.ctx.clock.today();
        Ok(self.dues_reminders(today).await?
            + self.evaluation_reminders(today).await?
            + self.remittance_reminders(today).await?)
    }

    /// Claims the reminder's key and enqueues one event per chunk of its members in one
    /// transaction; 0 when the key was claimed before (or nobody is to be told).
    async fn remind(&self, r: Reminder, today: NaiveDate) -> AppResult<usize> {
        if r.member_ids.is_empty() {
            return Ok(0);
        }
        let txn = self.ctx.db.begin().await?;
        if !reminders::claim(&txn, &r.key, today).await? {
            return Ok(0);
        }
        let mut events = 0;
        for chunk in r.member_ids.chunks(PER_EVENT) {
            let e = publish::reminder_due(r.kind, chunk.to_vec(), &r.unit_id, r.due_on, r.detail.clone());
            self.ctx.outbox.enqueue(&txn, &e).await?;
            events += 1;
        }
        txn.commit().await?;
        Ok(events)
    }

    /// Records that a scan completed (so it is not repeated).
    async fn mark_done(&self, key: &str, today: NaiveDate) -> AppResult<()> {
        let txn = self.ctx.db.begin().await?;
        reminders::claim(&txn, key, today).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn dues_reminders(&self, today: NaiveDate) -> AppResult<usize> {
        let rule = &self.rules.dues.at("today", today)?.rule;
        if today.day() < rule.reminder_day {
            return Ok(0);
        }
        let current = Month::of(today);
        let (from, to) = (current.plus(-ARREARS_WINDOW), current.plus(-1));
        // The month's scan runs until it completes once; each unit's reminder is claimed once.
        let scan = format!("dues_scan:{current}");
        if reminders::claimed(&self.ctx.db, &scan).await? {
            return Ok(0);
        }
        let mut sent = 0;
        for unit_id in members::units_with_active_members(&self.ctx.db).await? {
            let key = format!("dues_arrears:{current}:{unit_id}");
            if reminders::claimed(&self.ctx.db, &key).await? {
                continue;
            }
            let ms = members::active_in_unit(&self.ctx.db, &unit_id).await?;
            let ids: Vec<String> = ms.iter().map(|m| m.member_id.clone()).collect();
            let covered = dues::covers_of_members(&self.ctx.db, &ids, from, to).await?;
            let empty = BTreeMap::new();
            let owing: Vec<String> = ms
                .iter()
                .filter(|m| !span_of(m, today).owed(from, to, covered.get(&m.member_id).unwrap_or(&empty)).is_empty())
                .map(|m| m.member_id.clone())
                .collect();
            let reminder = Reminder {
                key,
                kind: "dues_arrears",
                unit_id,
                member_ids: owing,
                due_on: to.last_day(),
                detail: format!("đến hết tháng {to}"),
            };
            sent += self.remind(reminder, today).await?;
        }
        self.mark_done(&scan, today).await?;
        Ok(sent)
    }

    async fn evaluation_reminders(&self, today: NaiveDate) -> AppResult<usize> {
        let days = u64::from(self.rules.evaluation.at("today", today)?.rule.reminder_days_before);
        let mut sent = 0;
        let mut day = today;
        while day <= today + Days::new(days) {
            for p in evaluation::periods_with_deadline(&self.ctx.db, day).await? {
                let scan = format!("evaluation_scan:{}", p.period_id);
                if reminders::claimed(&self.ctx.db, &scan).await? {
                    continue;
                }
                let Some(unit) = units::find(&self.ctx.db, &p.unit_id).await? else { continue };
                // Unit by unit: only one unit's members are held at a time.
                for branch in members::units_with_active_members_under(&self.ctx.db, &unit.path).await? {
                    let key = format!("evaluation:{}:{branch}", p.period_id);
                    if reminders::claimed(&self.ctx.db, &key).await? {
                        continue;
                    }
                    // A nearer period than this one governs the branch: its own reminder.
                    let Some(b) = units::find(&self.ctx.db, &branch).await? else { continue };
                    if self.period_for(&b.path, p.year).await?.map(|x| x.period_id) != Some(p.period_id.clone()) {
                        continue;
                    }
                    let ids: Vec<String> = members::active_in_unit(&self.ctx.db, &branch)
                        .await?
                        .into_iter()
                        .map(|m| m.member_id)
                        .collect();
                    let confirmed: BTreeSet<String> = evaluation::ratings_of_members(&self.ctx.db, &p.period_id, &ids)
                        .await?
                        .into_iter()
                        .filter(|r| r.state == 2)
                        .map(|r| r.member_id)
                        .collect();
                    let reminder = Reminder {
                        key,
                        kind: "evaluation_deadline",
                        unit_id: branch,
                        member_ids: ids.into_iter().filter(|id| !confirmed.contains(id)).collect(),
                        due_on: p.proposal_deadline,
                        detail: format!("năm {}", p.year),
                    };
                    sent += self.remind(reminder, today).await?;
                }
                self.mark_done(&scan, today).await?;
            }
            day = day + Days::new(1);
        }
        Ok(sent)
    }

    async fn remittance_reminders(&self, today: NaiveDate) -> AppResult<usize> {
        let rule = &self.rules.dues.at("today", today)?.rule;
        let mut sent = 0;
        for unit_id in dues::units_holding_money(&self.ctx.db).await? {
            let Some(unit) = units::find(&self.ctx.db, &unit_id).await? else { continue };
            let Ok(level) = UnitLevel::parse("unit_id", unit.level) else { continue };
            let Some(cadence) = cadence(level, rule) else { continue };
            let period = latest_ended_period(cadence, today);
            let due = period.due_on(rule);
            if today + Days::new(REMITTANCE_NOTICE_DAYS) < due || today > due {
                continue;
            }
            let label = period.to_string();
            if dues::remittance_for(&self.ctx.db, &unit_id, &label).await?.is_some() {
                continue;
            }
            let officers: Vec<String> = positions::of_unit(&self.ctx.db, &unit_id, today, false)
                .await?
                .into_iter()
                .filter_map(|p| p.member_id)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let reminder = Reminder {
                key: format!("remittance:{unit_id}:{label}"),
                kind: "remittance_due",
                unit_id,
                member_ids: officers,
                due_on: due,
                detail: label,
            };
            sent += self.remind(reminder, today).await?;
        }
        Ok(sent)
    }
}
