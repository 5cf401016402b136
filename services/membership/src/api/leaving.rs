//! Leaving and discipline: removal (xóa tên), disciplinary decisions, Party admission, and
//! age-out (trưởng thành đoàn) proposed each month by a job and decided by officers. Every
//! status change adjusts the unit's counters and publishes `MemberStatusChanged` in the same
//! transaction.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{format_date, parse_date, parse_id, required_text};
use doan_platform::error::AppResult;
use doan_proto::membership as pb;
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::MembershipApi;
use super::members::summary;
use crate::domain::member::{
    AdmissionAuthority, DisciplineKind, MemberStatus, ages_out_by, birthday, check_decision_date, parse_month,
};
use crate::domain::stats::{self, MemberFacts};
use crate::domain::unit::UnitLevel;
use crate::events::publish;
use crate::storage::discipline::{self, NewProposal, NewRecord};
use crate::storage::entities::{age_out_proposal, disciplinary_record, member};
use crate::storage::{members, positions, statistics, units};

/// Age-out proposal states (numbers match `doan.membership.v1.AgeOutState`).
const PROPOSED: i32 = 1;
const CONFIRMED: i32 = 2;
const KEPT: i32 = 3;

/// Most members one age-out decision names.
const MAX_DECIDED: usize = 5_000;

fn record_to_pb(r: disciplinary_record::Model) -> pb::DisciplinaryRecord {
    pb::DisciplinaryRecord {
        record_id: r.record_id,
        member_id: r.member_id,
        kind: r.kind,
        decision_number: r.decision_number,
        decided_on: format_date(r.decided_on),
        signer: r.signer,
        reason: r.reason,
        recorded_by: r.recorded_by,
    }
}

fn month_label(first: NaiveDate) -> String {
    format!("{:04}-{:02}", first.year(), first.month())
}

impl MembershipApi {
    /// What the counters know of `m` (its ethnicity decrypted, kept only as the group).
    pub(super) fn facts(&self, m: &member::Model) -> AppResult<MemberFacts> {
        let ethnicity = self.open(&members::protected("ethnicity_enc", &m.member_id), &m.ethnicity_enc)?;
        Ok(MemberFacts {
            status: MemberStatus::from_stored(m.status),
            sex: m.sex,
            birth_year: m.date_of_birth.year(),
            kinh: stats::is_kinh(&ethnicity),
        })
    }

    /// Sets `m`'s status inside `txn`: the counters of its unit, the year's flow and the
    /// `MemberStatusChanged` event change with it.
    pub(super) async fn change_status(
        &self,
        txn: &impl ConnectionTrait,
        m: member::Model,
        status: MemberStatus,
        on: NaiveDate,
        reason: &str,
    ) -> AppResult<member::Model> {
        let before = self.facts(&m)?;
        let previous = m.status;
        let changed = members::set_status(txn, m, status, on, reason).await?;
        let after = MemberFacts { status, ..before };
        let mut changes = stats::diff(Some(&before), Some(&after));
        if let Some(metric) = stats::status_flow(status) {
            changes.push(stats::flow(metric, on));
        }
        statistics::apply(txn, &changed.unit_id, &changes).await?;
        let on_text = format_date(on);
        self.ctx.outbox.enqueue(txn, &publish::member_status_changed(&changed, previous, &on_text, reason)).await?;
        Ok(changed)
    }

    /// The caller's authority over decisions about `m` (removal, discipline, age-out): the
    /// unit that admits to the member's branch, or above; a branch's own officers propose.
    async fn require_deciding(&self, caller: &Caller, m: &member::Model) -> AppResult<()> {
        caller.require_manages(&m.unit_path, &format!("member {}", m.member_id))?;
        let unit = units::find(&self.ctx.db, &m.unit_id).await?;
        let is_branch = unit.as_ref().and_then(|u| UnitLevel::from_stored(u.level)) == Some(UnitLevel::Branch);
        let authority =
            AdmissionAuthority::of(caller.role == Role::Admin, caller.unit_id.as_deref(), &m.unit_path, is_branch);
        if authority == AdmissionAuthority::Proposes {
            return Err(AppError::PermissionDenied(format!(
                "a branch officer proposes; the grassroots unit above decides about member {}",
                m.member_id
            )));
        }
        Ok(())
    }

    /// The member `member_id` (field `member_id`), who must be active, and whom the caller
    /// decides about.
    async fn decided_member(&self, caller: &Caller, member_id: &str) -> AppResult<member::Model> {
        let m = self.member("member_id", member_id).await?;
        self.require_deciding(caller, &m).await?;
        MemberStatus::from_stored(m.status).require_active(&m.member_id)?;
        Ok(m)
    }

    fn decision_date(&self, field: &'static str, value: &str, m: &member::Model) -> AppResult<NaiveDate> {
        let today = self.ctx.clock.today();
        let on = if value.trim().is_empty() { today } else { parse_date(field, value)? };
        check_decision_date(field, on, m.admitted_on, today)?;
        Ok(on)
    }

    pub(super) async fn remove_member(
        &self,
        caller: &Caller,
        r: pb::RemoveMemberRequest,
    ) -> AppResult<pb::RemoveMemberResponse> {
        let m = self.decided_member(caller, &r.member_id).await?;
        let reason = required_text("reason", &r.reason, 500)?;
        let on = self.decision_date("decided_on", &r.decided_on, &m)?;
        let txn = self.ctx.db.begin().await?;
        let removed = self.change_status(&txn, m, MemberStatus::Removed, on, &reason).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(member_id = %removed.member_id, by = %caller.account_id, "member removed");
        Ok(pb::RemoveMemberResponse { member: Some(summary(removed)) })
    }

    pub(super) async fn discipline_member(
        &self,
        caller: &Caller,
        r: pb::DisciplineMemberRequest,
    ) -> AppResult<pb::DisciplineMemberResponse> {
        let m = self.decided_member(caller, &r.member_id).await?;
        let kind = DisciplineKind::parse(r.kind)?;
        let decision_number = required_text("decision_number", &r.decision_number, 64)?;
        let decided_on = parse_date("decided_on", &r.decided_on)?;
        check_decision_date("decided_on", decided_on, m.admitted_on, self.ctx.clock.today())?;
        let signer = required_text("signer", &r.signer, 200)?;
        let reason = required_text("reason", &r.reason, 500)?;
        let txn = self.ctx.db.begin().await?;
        let record = discipline::insert(
            &txn,
            NewRecord {
                member_id: m.member_id.clone(),
                kind: kind as i32,
                decision_number: decision_number.clone(),
                decided_on,
                signer,
                reason,
                recorded_by: caller.account_id.clone(),
                recorded_at: self.ctx.clock.now(),
            },
        )
        .await?;
        let m = if kind == DisciplineKind::Expulsion {
            let why = format!("khai trừ: {decision_number}");
            self.change_status(&txn, m, MemberStatus::Expelled, decided_on, &why).await?
        } else {
            m
        };
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(member_id = %m.member_id, kind = ?kind, by = %caller.account_id, "disciplinary decision recorded");
        Ok(pb::DisciplineMemberResponse { record: Some(record_to_pb(record)), member: Some(summary(m)) })
    }

    pub(super) async fn list_disciplinary_records(
        &self,
        caller: &Caller,
        r: pb::ListDisciplinaryRecordsRequest,
    ) -> AppResult<pb::ListDisciplinaryRecordsResponse> {
        let m = self.member("member_id", &r.member_id).await?;
        if !caller.is_member(&m.member_id) {
            caller.require_manages(&m.unit_path, &format!("member {}", m.member_id))?;
        }
        let records = discipline::of_member(&self.ctx.db, &m.member_id).await?;
        Ok(pb::ListDisciplinaryRecordsResponse { records: records.into_iter().map(record_to_pb).collect() })
    }

    pub(super) async fn record_party_admission(
        &self,
        caller: &Caller,
        r: pb::RecordPartyAdmissionRequest,
    ) -> AppResult<pb::RecordPartyAdmissionResponse> {
        let m = self.member("member_id", &r.member_id).await?;
        caller.require_manages(&m.unit_path, &format!("member {}", m.member_id))?;
        MemberStatus::from_stored(m.status).require_active(&m.member_id)?;
        let admitted_on = parse_date("admitted_on", &r.admitted_on)?;
        check_decision_date("admitted_on", admitted_on, m.admitted_on, self.ctx.clock.today())?;
        let decision = required_text("decision_number", &r.decision_number, 64)?;
        if m.party_admitted_on.is_some() {
            return Err(AppError::FailedPrecondition(format!(
                "member {}'s Party admission is already recorded",
                m.member_id
            )));
        }
        let txn = self.ctx.db.begin().await?;
        let recorded = record_party_admission_in(&txn, m, admitted_on, &decision).await?;
        txn.commit().await?;
        Ok(pb::RecordPartyAdmissionResponse { member: Some(summary(recorded)) })
    }

    /// Proposes the age-out of `month` (first and last day) for the subtree at `path` (every
    /// unit when `None`): active members whose age-out birthday falls by the month's end;
    /// those holding a position in force are proposed as kept. Members already proposed that
    /// month keep their proposal. Returns how many were examined.
    pub(super) async fn propose_age_out(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        path: Option<&str>,
    ) -> AppResult<u64> {
        let years = self.rules.admission.at("month", last)?.rule.age_out_years;
        let born_by = birthday(last, 0)
            .and_then(|d| d.checked_sub_months(chrono::Months::new(12 * years)))
            .and_then(|d| d.succ_opt())
            .ok_or_else(|| AppError::invalid("month", "is out of range"))?;
        let month = month_label(first);
        let today = self.ctx.clock.today();
        let mut after = 0;
        let mut examined = 0;
        loop {
            let page = discipline::age_out_candidates(&self.ctx.db, born_by, after, 1000).await?;
            let Some(last_row) = page.last() else { break };
            after = last_row.seq;
            examined += page.len() as u64;
            let due: Vec<&member::Model> = page
                .iter()
                .filter(|m| ages_out_by(m.date_of_birth, last, years))
                .filter(|m| path.is_none_or(|p| m.unit_path.starts_with(p)))
                .collect();
            let ids: Vec<String> = due.iter().map(|m| m.member_id.clone()).collect();
            let in_post = positions::members_in_post(&self.ctx.db, &ids, today).await?;
            let rows = due
                .iter()
                .map(|m| {
                    let kept = in_post.contains(&m.member_id);
                    NewProposal {
                        member_id: m.member_id.clone(),
                        seq: m.seq,
                        thirtieth_birthday: birthday(m.date_of_birth, years).unwrap_or(m.date_of_birth),
                        state: if kept { KEPT } else { PROPOSED },
                        note: if kept { "position in force".into() } else { String::new() },
                    }
                })
                .collect();
            let txn = self.ctx.db.begin().await?;
            discipline::propose(&txn, &month, rows).await?;
            txn.commit().await?;
        }
        Ok(examined)
    }

    /// Proposes the current month's age-out at start-up and whenever the month changes.
    pub fn spawn_age_out_proposer(self: &std::sync::Arc<Self>) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut done: Option<String> = None;
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tokio::select! {
                    _ = this.ctx.shutdown.cancelled() => return,
                    _ = tick.tick() => {}
                }
                let today = this.ctx.clock.today();
                let label = format!("{:04}-{:02}", today.year(), today.month());
                if done.as_deref() == Some(label.as_str()) {
                    continue;
                }
                let Ok((first, last)) = parse_month("month", &label) else { continue };
                match this.propose_age_out(first, last, None).await {
                    Ok(n) => {
                        tracing::info!(month = %label, examined = n, "age-out proposed");
                        done = Some(label);
                    }
                    Err(e) => {
                        tracing::warn!(month = %label, error = %e, "age-out proposal failed; retried within the hour")
                    }
                }
            }
        });
    }

    async fn proposals_pb(&self, rows: Vec<age_out_proposal::Model>) -> AppResult<Vec<pb::AgeOutProposal>> {
        let ids: Vec<String> = rows.iter().map(|p| p.member_id.clone()).collect();
        let found = members::find_many(&self.ctx.db, &ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|p| {
                let m = found.iter().find(|m| m.member_id == p.member_id)?.clone();
                Some(pb::AgeOutProposal {
                    member: Some(summary(m)),
                    month: p.month,
                    thirtieth_birthday: format_date(p.thirtieth_birthday),
                    state: p.state,
                    note: p.note,
                })
            })
            .collect())
    }

    fn month(&self, value: &str) -> AppResult<(NaiveDate, NaiveDate, bool)> {
        let today = self.ctx.clock.today();
        let current = format!("{:04}-{:02}", today.year(), today.month());
        let label = if value.trim().is_empty() { current.clone() } else { value.trim().to_string() };
        let (first, last) = parse_month("month", &label)?;
        Ok((first, last, label == current))
    }

    pub(super) async fn list_age_out_proposals(
        &self,
        caller: &Caller,
        r: pb::ListAgeOutProposalsRequest,
    ) -> AppResult<pb::ListAgeOutProposalsResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let (first, last, current) = self.month(&r.month)?;
        if current {
            // Members who became due since the monthly run (back-dated admissions, transfers
            // in) are proposed as the list is read.
            self.propose_age_out(first, last, Some(&unit.path)).await?;
        }
        let rows = discipline::proposals_in(&self.ctx.db, &month_label(first), &unit.path).await?;
        Ok(pb::ListAgeOutProposalsResponse { proposals: self.proposals_pb(rows).await? })
    }

    pub(super) async fn decide_age_out(
        &self,
        caller: &Caller,
        r: pb::DecideAgeOutRequest,
    ) -> AppResult<pb::DecideAgeOutResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let (first, _, _) = self.month(&r.month)?;
        let month = month_label(first);
        if r.confirm_member_ids.len() > MAX_DECIDED || r.keep_member_ids.len() > MAX_DECIDED {
            return Err(AppError::invalid("confirm_member_ids", format!("at most {MAX_DECIDED} members per decision")));
        }
        let confirm: BTreeSet<String> =
            r.confirm_member_ids.iter().map(|m| parse_id("confirm_member_ids", m)).collect::<AppResult<_>>()?;
        let keep: BTreeSet<String> =
            r.keep_member_ids.iter().map(|m| parse_id("keep_member_ids", m)).collect::<AppResult<_>>()?;
        if let Some(both) = confirm.intersection(&keep).next() {
            return Err(AppError::invalid("keep_member_ids", format!("member {both} is also in confirm_member_ids")));
        }
        let keep_reason =
            if keep.is_empty() { String::new() } else { required_text("keep_reason", &r.keep_reason, 500)? };
        let proposals = discipline::proposals_in(&self.ctx.db, &month, &unit.path).await?;
        let named: Vec<String> = confirm.iter().chain(keep.iter()).cloned().collect();
        for id in &named {
            if !proposals.iter().any(|p| &p.member_id == id) {
                return Err(AppError::FailedPrecondition(format!(
                    "member {id} has no age-out proposal for {month} in unit {}",
                    unit.unit_id
                )));
            }
        }
        let found = members::find_many(&self.ctx.db, &named).await?;
        for m in &found {
            self.require_deciding(caller, m).await?;
        }
        let today = self.ctx.clock.today();
        let txn = self.ctx.db.begin().await?;
        for m in found.iter().filter(|m| confirm.contains(&m.member_id)) {
            MemberStatus::from_stored(m.status).require_active(&m.member_id)?;
            self.change_status(&txn, m.clone(), MemberStatus::AgedOut, today, "trưởng thành đoàn").await?;
        }
        let confirmed: Vec<String> = confirm.into_iter().collect();
        let kept: Vec<String> = keep.into_iter().collect();
        discipline::decide(&txn, &month, &confirmed, CONFIRMED, "", &caller.account_id).await?;
        discipline::decide(&txn, &month, &kept, KEPT, &keep_reason, &caller.account_id).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        let rows = discipline::proposals_in(&self.ctx.db, &month, &unit.path)
            .await?
            .into_iter()
            .filter(|p| named.contains(&p.member_id))
            .collect();
        tracing::info!(unit_id = %unit.unit_id, month, confirmed = confirmed.len(), kept = kept.len(), by = %caller.account_id, "age-out decided");
        Ok(pb::DecideAgeOutResponse { proposals: self.proposals_pb(rows).await? })
    }

    /// Computes, once and before serving, the subtree totals of a database that predates them,
    /// and counts the ethnicity groups of the members that predate the
    /// counters (rows up to the cut-off the migration recorded; SQL cannot count them, the
    /// field is encrypted). A replica doing the same at the same time rolls back on the
    /// marker's unique key.
    pub async fn backfill_statistics(&self) -> AppResult<()> {
        if statistics::subtree_backfill_pending(&self.ctx.db).await? {
            let txn = self.ctx.db.begin().await?;
            match statistics::backfill_subtrees(&txn).await {
                Ok(rows) => {
                    txn.commit().await?;
                    tracing::info!(rows, "statistics: subtree totals computed from the units' counters");
                }
                Err(e) if doan_platform::db::is_unique_violation(&e) => {} // another replica did
                Err(e) => return Err(e.into()),
            }
        }
        let Some(cutoff) = statistics::ethnicity_backfill_pending(&self.ctx.db).await? else {
            return Ok(());
        };
        let mut per_unit: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        let mut after = 0;
        let txn = self.ctx.db.begin().await?;
        loop {
            let page = members::page(&txn, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let due = page.iter().filter(|m| m.seq <= cutoff);
            for m in due.filter(|m| MemberStatus::from_stored(m.status) == MemberStatus::Active) {
                let entry = per_unit.entry(m.unit_id.clone()).or_default();
                if self.facts(m)?.kinh {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
        }
        for (unit_id, (kinh, minority)) in per_unit {
            let changes =
                [(("ethnicity", "kinh".to_string()), kinh), (("ethnicity", "minority".to_string()), minority)];
            statistics::apply(&txn, &unit_id, &changes).await?;
        }
        if let Err(e) = statistics::mark_ethnicity_backfilled(&txn).await {
            if doan_platform::db::is_unique_violation(&e) {
                return Ok(()); // another replica counted them
            }
            return Err(e.into());
        }
        txn.commit().await?;
        tracing::info!(up_to_row = cutoff, "statistics: ethnicity groups of earlier members counted");
        Ok(())
    }
}

/// Records member `m`'s admission to the Party on `admitted_on` (decision `decision`) inside
/// `txn`, with its yearly counter (written last before the commit).
pub(super) async fn record_party_admission_in(
    txn: &impl ConnectionTrait,
    m: member::Model,
    admitted_on: NaiveDate,
    decision: &str,
) -> AppResult<member::Model> {
    let unit_id = m.unit_id.clone();
    let recorded = members::set_party_admission(txn, m, admitted_on, decision).await?;
    statistics::apply(txn, &unit_id, &[stats::flow("party", admitted_on)]).await?;
    Ok(recorded)
}
