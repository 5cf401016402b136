//! The annual evaluation: periods opened for a subtree, each branch's sheet of evidence
//! (participations and awards reported by the other services, dues, training, discipline),
//! the branch's proposal within the rules' caps and quota, the grassroots confirmation
//! (MemberRated), and units rated from their members and targets (UnitRated).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{format_date, new_id, parse_date, parse_id, timestamp};
use doan_platform::error::AppResult;
use doan_platform::text::TextRule;
use doan_platform::units::UnitLevel;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;

use super::MembershipApi;
use super::dues::span_of;
use super::training::{nearest, path_ids};
use crate::domain::dues::{Cover, Month};
use crate::domain::evaluation::{
    Distribution, Evidence, Rating, Sector, best_allowed, check_year, excellent_allowed, unit_rating, window,
};
use crate::domain::member::{MemberStatus, member_number};
use crate::domain::rules::EvaluationRule;
use crate::events::publish;
use crate::storage::entities::{evaluation_period, member, member_rating, unit, unit_rating};
use crate::storage::{dues, evaluation, evidence, members, training};

/// Rating states (numbers match `doan.membership.v1.RatingState`).
const PROPOSED: i32 = 1;
const CONFIRMED: i32 = 2;

/// Deadlines may fall this many days after the period's last day.
const DEADLINE_GRACE_DAYS: u64 = 90;

/// The most ratings proposed in one call.
const MAX_RATINGS: usize = 2000;

fn period_to_pb(p: evaluation_period::Model) -> pb::EvaluationPeriod {
    pb::EvaluationPeriod {
        period_id: p.period_id,
        unit_id: p.unit_id,
        year: p.year,
        sector: p.sector,
        starts_on: format_date(p.starts_on),
        ends_on: format_date(p.ends_on),
        proposal_deadline: format_date(p.proposal_deadline),
        confirmation_deadline: format_date(p.confirmation_deadline),
        rule_id: p.rule_id,
        excellent_max_percent: p.excellent_max_percent,
        created_by: p.created_by,
        created_at: Some(timestamp(p.created_at)),
    }
}

fn evidence_to_pb(e: &Evidence, rule: &EvaluationRule) -> pb::Evidence {
    let (best, limits) = best_allowed(e, rule);
    pb::Evidence {
        participations: e.participations,
        volunteer_minutes: e.volunteer_minutes,
        dues_months_due: e.dues_months_due,
        dues_months_paid: e.dues_months_paid,
        dues_months_exempt: e.dues_months_exempt,
        dues_arrears_months: e.dues_arrears_months,
        training_state: e.training_state,
        training_result: e.training_result,
        awards: e.awards,
        disciplinary_records: e.disciplinary_records,
        best_allowed: best as i32,
        limits,
    }
}

/// The evidence frozen in a confirmed rating.
fn frozen(r: &member_rating::Model) -> Evidence {
    Evidence {
        participations: r.participations,
        volunteer_minutes: r.volunteer_minutes,
        dues_months_due: r.dues_months_due,
        dues_months_paid: r.dues_months_paid,
        dues_months_exempt: r.dues_months_exempt,
        dues_arrears_months: r.dues_arrears_months,
        training_state: r.training_state,
        training_result: r.training_result,
        awards: r.awards,
        disciplinary_records: r.disciplinary_records,
    }
}

fn freeze(r: &mut member_rating::Model, e: &Evidence) {
    r.participations = e.participations;
    r.volunteer_minutes = e.volunteer_minutes;
    r.dues_months_due = e.dues_months_due;
    r.dues_months_paid = e.dues_months_paid;
    r.dues_months_exempt = e.dues_months_exempt;
    r.dues_arrears_months = e.dues_arrears_months;
    r.training_state = e.training_state;
    r.training_result = e.training_result;
    r.awards = e.awards;
    r.disciplinary_records = e.disciplinary_records;
}

fn unit_rating_to_pb(r: unit_rating::Model) -> pb::UnitEvaluation {
    pb::UnitEvaluation {
        period_id: r.period_id,
        unit_id: r.unit_id,
        rating: r.rating,
        members_rated: r.members_rated,
        excellent: r.excellent,
        good: r.good,
        completed: r.completed,
        not_completed: r.not_completed,
        targets_met: r.targets_met,
        targets_total: r.targets_total,
        note: r.note,
        rated_by: r.rated_by,
        rated_at: Some(timestamp(r.rated_at)),
        rule_id: r.rule_id,
    }
}

/// Whether a unit of `level` holds members (and so has a sheet).
fn holds_members(level: i32) -> bool {
    matches!(UnitLevel::parse("unit_id", level), Ok(UnitLevel::Branch | UnitLevel::GrassrootsBranch))
}

/// Officers confirm and rate units below their own: a unit never confirms itself.
fn require_above(caller: &Caller, unit: &unit::Model, what: &str) -> AppResult<()> {
    if caller.role == Role::Officer && caller.unit_id.as_deref() == Some(unit.unit_id.as_str()) {
        return Err(AppError::PermissionDenied(format!("{what} is done by the level above unit {}", unit.unit_id)));
    }
    Ok(())
}

impl MembershipApi {
    /// The evaluation rule in force on the period's last day.
    fn evaluation_rule(&self, p: &evaluation_period::Model) -> AppResult<&EvaluationRule> {
        Ok(&self.rules.evaluation.at("period_id", p.ends_on)?.rule)
    }

    /// The period of `year` in force for the unit at `path`: its own or its nearest
    /// ancestor's.
    pub(super) async fn period_for(&self, path: &str, year: i32) -> AppResult<Option<evaluation_period::Model>> {
        let found = evaluation::periods_of_units(&self.ctx.db, &path_ids(path), year).await?;
        Ok(nearest(path, found, |p| &p.unit_id))
    }

    /// The days of `year` for member `m`: the period in force for their branch, or the
    /// calendar year.
    pub(super) async fn year_window(&self, m: &member::Model, year: i32) -> AppResult<(NaiveDate, NaiveDate)> {
        Ok(match self.period_for(&m.unit_path, year).await? {
            Some(p) => (p.starts_on, p.ends_on),
            None => {
                let rule = self.rules.evaluation.at("year", NaiveDate::from_ymd_opt(year, 1, 1).expect("year"))?;
                window(&rule.rule, Sector::Calendar, year)
            }
        })
    }

    /// The period `period_id`, which must be the one in force for `u`.
    async fn period_of_unit(&self, period_id: &str, u: &unit::Model) -> AppResult<evaluation_period::Model> {
        let id = parse_id("period_id", period_id)?;
        let p = evaluation::period(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("period {id} (period_id) does not exist")))?;
        let in_force = self.period_for(&u.path, p.year).await?;
        if in_force.as_ref().map(|f| f.period_id.as_str()) != Some(p.period_id.as_str()) {
            return Err(AppError::FailedPrecondition(format!(
                "period {id} is not the {} evaluation in force for unit {}",
                p.year, u.unit_id
            )));
        }
        Ok(p)
    }

    /// Live evidence of `ms` in period `p`, up to today.
    pub(super) async fn evidence_of(
        &self,
        ms: &[member::Model],
        p: &evaluation_period::Model,
    ) -> AppResult<BTreeMap<String, Evidence>> {
        let db = &self.ctx.db;
        let ids: Vec<String> = ms.iter().map(|m| m.member_id.clone()).collect();
        let mut out: BTreeMap<String, Evidence> = ids.iter().map(|id| (id.clone(), Evidence::default())).collect();
        for part in evidence::participations(db, &ids, p.starts_on, p.ends_on).await? {
            if let Some(e) = out.get_mut(&part.member_id) {
                e.participations += 1;
                e.volunteer_minutes += i64::from(part.minutes);
            }
        }
        for a in evidence::awards(db, &ids, p.starts_on, p.ends_on).await? {
            if let Some(e) = out.get_mut(&a.member_id) {
                e.awards += 1;
            }
        }
        for d in evidence::disciplinary(db, &ids, p.starts_on, p.ends_on).await? {
            if let Some(e) = out.get_mut(&d.member_id) {
                e.disciplinary_records += 1;
            }
        }
        for reg in training::registrations(db, &ids, p.year).await? {
            if let Some(e) = out.get_mut(&reg.member_id) {
                e.training_state = reg.state;
                e.training_result = reg.result;
            }
        }
        let today = self.ctx.clock.today();
        let (first, last) = (Month::of(p.starts_on), Month::of(p.ends_on));
        let all_covers = dues::covers_of_members(db, &ids, first, last).await?;
        let none = BTreeMap::new();
        for m in ms {
            let span = span_of(m, today);
            let covers = all_covers.get(&m.member_id).unwrap_or(&none);
            let Some(e) = out.get_mut(&m.member_id) else { continue };
            for month in span.ended_due_months(first, last) {
                e.dues_months_due += 1;
                match covers.get(&month) {
                    Some(Cover::Paid(..)) => e.dues_months_paid += 1,
                    Some(Cover::Exempt) => e.dues_months_exempt += 1,
                    Some(Cover::Pending(_)) => {}
                    None => e.dues_arrears_months += 1,
                }
            }
        }
        Ok(out)
    }

    fn member_evaluation(
        &self,
        m: &member::Model,
        p: &evaluation_period::Model,
        rating: Option<&member_rating::Model>,
        live: &Evidence,
    ) -> AppResult<pb::MemberEvaluation> {
        let rule = self.evaluation_rule(p)?;
        let confirmed = rating.filter(|r| r.state == CONFIRMED);
        let evidence = confirmed.map(frozen).unwrap_or(*live);
        Ok(pb::MemberEvaluation {
            member_id: m.member_id.clone(),
            full_name: m.full_name.clone(),
            member_number: member_number(m.seq),
            period_id: p.period_id.clone(),
            year: p.year,
            unit_id: rating.map(|r| r.unit_id.clone()).unwrap_or_else(|| m.unit_id.clone()),
            evidence: Some(evidence_to_pb(&evidence, rule)),
            rating: rating.map(|r| r.rating).unwrap_or_default(),
            state: rating.map(|r| r.state).unwrap_or_default(),
            note: rating.map(|r| r.note.clone()).unwrap_or_default(),
            proposed_by: rating.map(|r| r.proposed_by.clone()).unwrap_or_default(),
            confirmed_by: rating.map(|r| r.confirmed_by.clone()).unwrap_or_default(),
            confirmed_at: rating.and_then(|r| r.confirmed_at).map(timestamp),
        })
    }

    pub(super) async fn open_evaluation_period(
        &self,
        caller: &Caller,
        r: pb::OpenEvaluationPeriodRequest,
    ) -> AppResult<pb::OpenEvaluationPeriodResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        if UnitLevel::parse("unit_id", unit.level)? == UnitLevel::Branch {
            return Err(AppError::FailedPrecondition(
                "periods are opened by the grassroots level or above, not by a branch".into(),
            ));
        }
        check_year("year", r.year)?;
        let sector = Sector::parse("sector", r.sector)?;
        let proposal = parse_date("proposal_deadline", &r.proposal_deadline)?;
        let confirmation = parse_date("confirmation_deadline", &r.confirmation_deadline)?;
        let first_rule = self.rules.evaluation.at("year", NaiveDate::from_ymd_opt(r.year, 1, 1).expect("year"))?;
        let (starts_on, ends_on) = window(&first_rule.rule, sector, r.year);
        let latest = ends_on + chrono::Days::new(DEADLINE_GRACE_DAYS);
        if proposal < starts_on || proposal > latest {
            return Err(AppError::invalid(
                "proposal_deadline",
                format!("must be from {starts_on} to {latest} (90 days after the period)"),
            ));
        }
        if confirmation < proposal || confirmation > latest {
            return Err(AppError::invalid(
                "confirmation_deadline",
                format!("must be from proposal_deadline to {latest}"),
            ));
        }
        let version = self.rules.evaluation.at("year", ends_on)?;
        let period = evaluation_period::Model {
            period_id: new_id(),
            unit_id: unit.unit_id.clone(),
            year: r.year,
            sector: sector as i32,
            starts_on,
            ends_on,
            proposal_deadline: proposal,
            confirmation_deadline: confirmation,
            rule_id: version.id.clone(),
            excellent_max_percent: version.rule.excellent_max_percent as i32,
            created_by: caller.account_id.clone(),
            created_at: self.ctx.clock.now(),
        };
        let txn = self.ctx.db.begin().await?;
        let stored = doan_platform::db::unique_or(evaluation::insert_period(&txn, period).await, || {
            AppError::AlreadyExists(format!("unit {} already opened {}", unit.unit_id, r.year))
        })?;
        txn.commit().await?;
        Ok(pb::OpenEvaluationPeriodResponse { period: Some(period_to_pb(stored)) })
    }

    pub(super) async fn list_evaluation_periods(
        &self,
        caller: &Caller,
        r: pb::ListEvaluationPeriodsRequest,
    ) -> AppResult<pb::ListEvaluationPeriodsResponse> {
        let unit = self.readable_unit(caller, "unit_id", &r.unit_id).await?;
        check_year("year", r.year)?;
        let ids = path_ids(&unit.path);
        let mut periods = evaluation::periods_of_units(&self.ctx.db, &ids, r.year).await?;
        periods.sort_by_key(|p| std::cmp::Reverse(ids.iter().position(|id| *id == p.unit_id)));
        Ok(pb::ListEvaluationPeriodsResponse { periods: periods.into_iter().map(period_to_pb).collect() })
    }

    /// A branch's sheet: its active members and those rated in it, with their ratings.
    async fn sheet(
        &self,
        branch: &unit::Model,
        p: &evaluation_period::Model,
    ) -> AppResult<(Vec<member::Model>, BTreeMap<String, member_rating::Model>)> {
        let ratings: BTreeMap<String, member_rating::Model> =
            evaluation::ratings_of_branch(&self.ctx.db, &p.period_id, &branch.unit_id)
                .await?
                .into_iter()
                .map(|r| (r.member_id.clone(), r))
                .collect();
        let mut ms = Vec::new();
        let mut after = 0;
        loop {
            let page = members::page_in_subtree(&self.ctx.db, &branch.path, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            ms.extend(page.into_iter().filter(|m| {
                m.unit_id == branch.unit_id && MemberStatus::from_stored(m.status) == MemberStatus::Active
            }));
        }
        let missing: Vec<String> =
            ratings.keys().filter(|id| !ms.iter().any(|m| &&m.member_id == id)).cloned().collect();
        if !missing.is_empty() {
            ms.extend(members::find_many(&self.ctx.db, &missing).await?);
        }
        ms.sort_by_key(|m| m.seq);
        Ok((ms, ratings))
    }

    pub(super) async fn get_evidence_sheet(
        &self,
        caller: &Caller,
        r: pb::GetEvidenceSheetRequest,
    ) -> AppResult<pb::GetEvidenceSheetResponse> {
        let branch = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let p = self.period_of_unit(&r.period_id, &branch).await?;
        let (ms, ratings) = self.sheet(&branch, &p).await?;
        let live = self.evidence_of(&ms, &p).await?;
        let rule = self.evaluation_rule(&p)?;
        let mut out = Vec::with_capacity(ms.len());
        for m in &ms {
            out.push(self.member_evaluation(m, &p, ratings.get(&m.member_id), &live[&m.member_id])?);
        }
        let unit = evaluation::unit_rating(&self.ctx.db, &p.period_id, &branch.unit_id).await?.map(unit_rating_to_pb);
        Ok(pb::GetEvidenceSheetResponse {
            excellent_allowed: excellent_allowed(ms.len(), rule) as i32,
            period: Some(period_to_pb(p)),
            members: out,
            unit,
        })
    }

    /// Checks proposals for the branch's members against the evidence and the quota, and
    /// returns the rows to write (PROPOSED).
    async fn checked_proposals(
        &self,
        caller: &Caller,
        branch: &unit::Model,
        p: &evaluation_period::Model,
        proposals: &[pb::ProposedRating],
        confirming: bool,
    ) -> AppResult<Vec<member_rating::Model>> {
        let field = if confirming { "changes" } else { "ratings" };
        if proposals.len() > MAX_RATINGS || (!confirming && proposals.is_empty()) {
            return Err(AppError::invalid(field, format!("must hold 1 to {MAX_RATINGS} ratings")));
        }
        let (ms, ratings) = self.sheet(branch, p).await?;
        let rule = self.evaluation_rule(p)?;
        let live = self.evidence_of(&ms, p).await?;
        let confirmed_years = self.confirmed_years(&ms, p.year).await?;
        let mut seen = BTreeSet::new();
        let mut rows = Vec::with_capacity(proposals.len());
        // Microseconds, as stored: the confirmation matches the proposal by this instant.
        let now = chrono::SubsecRound::trunc_subsecs(self.ctx.clock.now(), 6);
        for x in proposals {
            let id = parse_id("member_id", &x.member_id)?;
            if !seen.insert(id.clone()) {
                return Err(AppError::invalid(field, format!("names member {id} twice")));
            }
            let rating = Rating::parse("rating", x.rating)?;
            let note = TextRule::optional_line(500).parse("note", &x.note)?;
            if !ms.iter().any(|m| m.member_id == id && m.unit_id == branch.unit_id) {
                return Err(AppError::FailedPrecondition(format!(
                    "member {id} is not an active member of unit {}",
                    branch.unit_id
                )));
            }
            match ratings.get(&id) {
                Some(r) if r.state == CONFIRMED => {
                    return Err(AppError::FailedPrecondition(format!("member {id}'s rating is already confirmed")));
                }
                None if confirming => {
                    return Err(AppError::FailedPrecondition(format!("member {id} has no proposed rating to change")));
                }
                _ => {}
            }
            if let Some(year) = confirmed_years.get(&id)
                && *year == p.year
            {
                return Err(AppError::FailedPrecondition(format!(
                    "member {id} already has a confirmed rating for {} (rated in another unit or period)",
                    p.year
                )));
            }
            let (best, limits) = best_allowed(&live[&id], rule);
            if rating < best {
                return Err(AppError::invalid(
                    "rating",
                    format!("member {id}: the evidence allows at best {} ({})", best.name(rule), limits.join("; ")),
                ));
            }
            let mut row = member_rating::Model {
                period_id: p.period_id.clone(),
                member_id: id.clone(),
                unit_id: branch.unit_id.clone(),
                rating: rating as i32,
                state: PROPOSED,
                note,
                proposed_by: caller.account_id.clone(),
                proposed_at: now,
                confirmed_by: String::new(),
                confirmed_at: None,
                period_ends_on: p.ends_on,
                participations: 0,
                volunteer_minutes: 0,
                dues_months_due: 0,
                dues_months_paid: 0,
                dues_months_exempt: 0,
                dues_arrears_months: 0,
                training_state: 0,
                training_result: 0,
                awards: 0,
                disciplinary_records: 0,
            };
            freeze(&mut row, &live[&id]);
            rows.push(row);
        }
        // The quota counts the branch's excellent ratings after this change.
        let excellent =
            ratings.values().filter(|r| !seen.contains(&r.member_id) && r.rating == Rating::Excellent as i32).count()
                + rows.iter().filter(|r| r.rating == Rating::Excellent as i32).count();
        let allowed = excellent_allowed(ms.len(), rule);
        if excellent > allowed {
            return Err(AppError::FailedPrecondition(format!(
                "unit {} may rate at most {allowed} of its {} members {} ({}%): this makes {excellent}",
                branch.unit_id,
                ms.len(),
                Rating::Excellent.name(rule),
                rule.excellent_max_percent
            )));
        }
        Ok(rows)
    }

    /// Members of `ms` with a confirmed rating for `year` (in any unit or period).
    async fn confirmed_years(&self, ms: &[member::Model], year: i32) -> AppResult<BTreeMap<String, i32>> {
        let ids: Vec<String> = ms.iter().map(|m| m.member_id.clone()).collect();
        let mut out = BTreeMap::new();
        let mut years: BTreeMap<String, i32> = BTreeMap::new();
        for r in evaluation::confirmed_of_members(&self.ctx.db, &ids).await? {
            let y = match years.get(&r.period_id) {
                Some(y) => *y,
                None => {
                    let y = evaluation::period(&self.ctx.db, &r.period_id).await?.map(|p| p.year).unwrap_or(0);
                    years.insert(r.period_id.clone(), y);
                    y
                }
            };
            if y == year {
                out.insert(r.member_id, y);
            }
        }
        Ok(out)
    }

    async fn evaluations_of(
        &self,
        p: &evaluation_period::Model,
        rows: &[member_rating::Model],
    ) -> AppResult<Vec<pb::MemberEvaluation>> {
        let ids: Vec<String> = rows.iter().map(|r| r.member_id.clone()).collect();
        let ms = members::find_many(&self.ctx.db, &ids).await?;
        let live = self.evidence_of(&ms, p).await?;
        let stored = evaluation::ratings_of_members(&self.ctx.db, &p.period_id, &ids).await?;
        let mut out = Vec::with_capacity(ms.len());
        for id in &ids {
            let Some(m) = ms.iter().find(|m| &m.member_id == id) else { continue };
            let rating = stored.iter().find(|r| &r.member_id == id);
            out.push(self.member_evaluation(m, p, rating, &live[id])?);
        }
        Ok(out)
    }

    pub(super) async fn propose_ratings(
        &self,
        caller: &Caller,
        r: pb::ProposeRatingsRequest,
    ) -> AppResult<pb::ProposeRatingsResponse> {
        let branch = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let p = self.period_of_unit(&r.period_id, &branch).await?;
        if !holds_members(branch.level) {
            return Err(AppError::FailedPrecondition(format!("unit {} is not a branch", branch.unit_id)));
        }
        let rows = self.checked_proposals(caller, &branch, &p, &r.ratings, false).await?;
        let txn = self.ctx.db.begin().await?;
        doan_platform::db::unique_or(evaluation::propose(&txn, rows.clone()).await, || {
            AppError::FailedPrecondition("a rating of these members was confirmed meanwhile".into())
        })?;
        txn.commit().await?;
        Ok(pb::ProposeRatingsResponse { evaluations: self.evaluations_of(&p, &rows).await? })
    }

    pub(super) async fn confirm_ratings(
        &self,
        caller: &Caller,
        r: pb::ConfirmRatingsRequest,
    ) -> AppResult<pb::ConfirmRatingsResponse> {
        let branch = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        require_above(caller, &branch, "confirming ratings")?;
        let p = self.period_of_unit(&r.period_id, &branch).await?;
        let changes = self.checked_proposals(caller, &branch, &p, &r.changes, true).await?;
        // What will be confirmed: the branch's proposals, with the changes; the evidence is
        // read (and re-checked) before the transaction, which then writes only.
        let mut proposed: Vec<member_rating::Model> =
            evaluation::ratings_of_branch(&self.ctx.db, &p.period_id, &branch.unit_id)
                .await?
                .into_iter()
                .filter(|x| x.state == PROPOSED)
                .map(|x| changes.iter().find(|c| c.member_id == x.member_id).cloned().unwrap_or(x))
                .collect();
        if proposed.is_empty() {
            return Err(AppError::FailedPrecondition(format!("unit {} has no proposed rating", branch.unit_id)));
        }
        let ids: Vec<String> = proposed.iter().map(|x| x.member_id.clone()).collect();
        let ms = members::find_many(&self.ctx.db, &ids).await?;
        let live = self.evidence_of(&ms, &p).await?;
        let rule = self.evaluation_rule(&p)?;
        let now = self.ctx.clock.now();
        let mut events = Vec::with_capacity(proposed.len());
        for row in proposed.iter_mut() {
            let Some(m) = ms.iter().find(|m| m.member_id == row.member_id) else { continue };
            let Some(e) = live.get(&row.member_id).copied() else { continue };
            // The evidence may have changed since the proposal (a disciplinary decision).
            let (best, limits) = best_allowed(&e, rule);
            if Rating::from_number(row.rating).is_none_or(|r| r < best) {
                return Err(AppError::FailedPrecondition(format!(
                    "member {}'s evidence now allows at best {} ({}): change the rating before confirming",
                    row.member_id,
                    best.name(rule),
                    limits.join("; ")
                )));
            }
            freeze(row, &e);
            events.push(publish::member_rated(row, m, &p));
        }
        let txn = self.ctx.db.begin().await?;
        if !changes.is_empty() {
            evaluation::propose(&txn, changes).await?;
        }
        for (row, event) in proposed.iter_mut().zip(&events) {
            let proposed_at = row.proposed_at;
            row.state = CONFIRMED;
            row.confirmed_by = caller.account_id.clone();
            row.confirmed_at = Some(now);
            if !evaluation::confirm(&txn, row.clone(), proposed_at).await? {
                return Err(AppError::FailedPrecondition(format!(
                    "member {}'s rating changed meanwhile; read the sheet again",
                    row.member_id
                )));
            }
            self.ctx.outbox.enqueue(&txn, event).await?;
        }
        txn.commit().await?;
        Ok(pb::ConfirmRatingsResponse { evaluations: self.evaluations_of(&p, &proposed).await? })
    }

    pub(super) async fn get_member_evaluation(
        &self,
        caller: &Caller,
        r: pb::GetMemberEvaluationRequest,
    ) -> AppResult<pb::GetMemberEvaluationResponse> {
        let m = self.own_or_managed_member(caller, "member_id", &r.member_id).await?;
        check_year("year", r.year)?;
        let mut chosen = None;
        for rating in evaluation::ratings_of_member(&self.ctx.db, &m.member_id).await? {
            if let Some(p) = evaluation::period(&self.ctx.db, &rating.period_id).await?
                && p.year == r.year
            {
                chosen = Some((p, Some(rating)));
                break;
            }
        }
        if chosen.is_none() {
            chosen = self.period_for(&m.unit_path, r.year).await?.map(|p| (p, None));
        }
        let Some((p, rating)) = chosen else {
            return Err(AppError::NotFound(format!("no {} evaluation applies to member {}", r.year, m.member_id)));
        };
        let live = self.evidence_of(std::slice::from_ref(&m), &p).await?;
        let evaluation = self.member_evaluation(&m, &p, rating.as_ref(), &live[&m.member_id])?;
        Ok(pb::GetMemberEvaluationResponse { evaluation: Some(evaluation) })
    }

    pub(super) async fn rate_unit(&self, caller: &Caller, r: pb::RateUnitRequest) -> AppResult<pb::RateUnitResponse> {
        let u = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        require_above(caller, &u, "rating a unit")?;
        let p = self.period_of_unit(&r.period_id, &u).await?;
        if !(0..=1000).contains(&r.targets_total) {
            return Err(AppError::invalid("targets_total", "must be 0 to 1000"));
        }
        if !(0..=r.targets_total).contains(&r.targets_met) {
            return Err(AppError::invalid("targets_met", "must be 0 to targets_total"));
        }
        let note = TextRule::paragraphs(1000).parse("note", &r.note)?;
        let mut d = Distribution::default();
        for (rating, n) in evaluation::confirmed_counts_in_subtree(&self.ctx.db, &p.period_id, &u.path).await? {
            if let Some(rating) = Rating::from_number(rating) {
                d.add(rating, n);
            }
        }
        if d.total() == 0 {
            return Err(AppError::FailedPrecondition(format!(
                "no member of unit {} has a confirmed rating",
                u.unit_id
            )));
        }
        let version = self.rules.evaluation.at("period_id", p.ends_on)?;
        let rating = unit_rating(&d, r.targets_met, r.targets_total, &version.rule);
        let row = unit_rating::Model {
            period_id: p.period_id.clone(),
            unit_id: u.unit_id.clone(),
            rating: rating as i32,
            members_rated: d.total() as i32,
            excellent: d.excellent as i32,
            good: d.good as i32,
            completed: d.completed as i32,
            not_completed: d.not_completed as i32,
            targets_met: r.targets_met,
            targets_total: r.targets_total,
            note,
            rated_by: caller.account_id.clone(),
            rated_at: self.ctx.clock.now(),
            rule_id: version.id.clone(),
        };
        let txn = self.ctx.db.begin().await?;
        let stored = doan_platform::db::unique_or(evaluation::insert_unit_rating(&txn, row).await, || {
            AppError::AlreadyExists(format!("unit {} is already rated for {}", u.unit_id, p.year))
        })?;
        self.ctx.outbox.enqueue(&txn, &publish::unit_rated(&stored, &u, &p)).await?;
        txn.commit().await?;
        Ok(pb::RateUnitResponse { evaluation: Some(unit_rating_to_pb(stored)) })
    }
}
