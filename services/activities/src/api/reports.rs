//! Report requests through the API: a level asks the units below for a report by a deadline,
//! each unit submits versions carrying the figures the system holds, and the level decides.

use std::collections::HashMap;

use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::{format_date, new_id, paragraphs, parse_id, required_text, timestamp};
use doan_platform::directory;
use doan_platform::error::AppResult;
use doan_proto::activities as pb;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::ActivitiesApi;
use super::programmes::{evidence_of, evidence_to_pb, figures_to_pb};
use crate::domain::programmes::{Figures, Span, parse_day};
use crate::domain::reports::{ReportDecision, ReportKind, ReportState};
use crate::storage::entities::{report_assignment, report_request, report_submission};
use crate::storage::{programmes, reports as store};

/// Units one request may name.
const MAX_UNITS_ASKED: usize = 1000;

fn request_to_pb(r: report_request::Model) -> pb::ReportRequest {
    pb::ReportRequest {
        request_id: r.request_id,
        unit_id: r.unit_id,
        title: r.title,
        kind: r.kind,
        campaign_id: r.campaign_id.unwrap_or_default(),
        phase_id: r.phase_id.unwrap_or_default(),
        from_date: format_date(r.from_date),
        to_date: format_date(r.to_date),
        deadline: format_date(r.deadline),
        created_by: r.created_by,
        created_at: Some(timestamp(r.created_at)),
    }
}

fn report_to_pb(a: report_assignment::Model, deadline: chrono::NaiveDate, today: chrono::NaiveDate) -> pb::UnitReport {
    pb::UnitReport {
        request_id: a.request_id,
        unit_id: a.unit_id,
        unit_name: a.unit_name,
        state: ReportState::of(a.state).shown(deadline, today) as i32,
        versions: a.versions,
        review_note: a.review_note,
        updated_at: Some(timestamp(a.updated_at)),
    }
}

impl ActivitiesApi {
    /// The request `id`, made by a unit the caller manages.
    async fn managed_request(&self, caller: &Caller, id: &str) -> AppResult<report_request::Model> {
        caller.require_officer()?;
        let id = parse_id("request_id", id)?;
        let r = store::request(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("report request {id} (request_id) does not exist")))?;
        caller.require_manages(&r.unit_path, &format!("report request {id}"))?;
        Ok(r)
    }

    /// The request and one unit's report under it, the unit managed by the caller.
    async fn own_report(
        &self,
        caller: &Caller,
        request_id: &str,
        unit_id: &str,
    ) -> AppResult<(report_request::Model, report_assignment::Model, directory::unit::Model)> {
        let unit = self.managed_unit(caller, unit_id).await?;
        let id = parse_id("request_id", request_id)?;
        let not_asked =
            || AppError::NotFound(format!("report request {id} does not ask unit {} for a report", unit.unit_id));
        let request = store::request(&self.ctx.db, &id).await?.ok_or_else(not_asked)?;
        let report = store::report(&self.ctx.db, &id, &unit.unit_id).await?.ok_or_else(not_asked)?;
        Ok((request, report, unit))
    }

    pub(super) async fn create_report_request(
        &self,
        caller: &Caller,
        r: pb::CreateReportRequestRequest,
    ) -> AppResult<pb::CreateReportRequestResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let title = required_text("title", &r.title, 200)?;
        let kind = ReportKind::parse(r.kind)?;
        let (span, campaign_id, phase_id) = if kind == ReportKind::CampaignPhase {
            let campaign = self.campaign_on_line("campaign_id", &r.campaign_id, &unit.path).await?;
            let phase_id = parse_id("phase_id", &r.phase_id)?;
            let phases = programmes::phases_of(&self.ctx.db, std::slice::from_ref(&campaign.campaign_id)).await?;
            let phase = phases
                .get(&campaign.campaign_id)
                .and_then(|ps| ps.iter().find(|p| p.phase_id == phase_id))
                .ok_or_else(|| {
                    AppError::NotFound(format!("phase {phase_id} (phase_id) is not a phase of the campaign"))
                })?;
            (Span { from: phase.starts_on, to: phase.ends_on }, Some(campaign.campaign_id), Some(phase_id))
        } else {
            (Span::parse("from_date", &r.from_date, "to_date", &r.to_date)?, None, None)
        };
        let deadline = parse_day("deadline", &r.deadline)?;
        let today = self.ctx.clock.today();
        if deadline < today {
            return Err(AppError::invalid("deadline", "must be today or later"));
        }
        if r.unit_ids.len() > MAX_UNITS_ASKED {
            return Err(AppError::invalid("unit_ids", format!("at most {MAX_UNITS_ASKED} units")));
        }
        let asked: Vec<String> = r
            .unit_ids
            .iter()
            .map(|id| parse_id("unit_ids", id))
            .collect::<AppResult<std::collections::BTreeSet<String>>>()?
            .into_iter()
            .collect();
        let mut children = directory::unit::Entity::find()
            .filter(directory::unit::Column::ParentId.eq(&unit.unit_id))
            .filter(directory::unit::Column::Status.eq(1));
        if !asked.is_empty() {
            children = children.filter(directory::unit::Column::UnitId.is_in(asked.clone()));
        }
        let children = children.all(&self.ctx.db).await?;
        if let Some(outside) = asked.iter().find(|id| !children.iter().any(|c| &c.unit_id == *id)) {
            return Err(AppError::FailedPrecondition(format!(
                "unit {outside} is not an active unit directly below {}",
                unit.unit_id
            )));
        }
        if children.is_empty() {
            return Err(AppError::FailedPrecondition(format!("unit {} has no active units below it", unit.unit_id)));
        }
        let now = self.ctx.clock.now();
        let request_id = new_id();
        let reports: Vec<report_assignment::Model> = children
            .into_iter()
            .map(|c| report_assignment::Model {
                request_id: request_id.clone(),
                unit_id: c.unit_id,
                unit_name: c.name,
                unit_path: c.path,
                state: ReportState::Pending as i32,
                versions: 0,
                review_note: String::new(),
                updated_at: now,
            })
            .collect();
        let request = report_request::Model {
            request_id: request_id.clone(),
            unit_id: unit.unit_id,
            unit_path: unit.path,
            title,
            kind: kind as i32,
            campaign_id,
            phase_id,
            from_date: span.from,
            to_date: span.to,
            deadline,
            created_by: caller.account_id.clone(),
            created_at: now,
        };
        let txn = self.ctx.db.begin().await?;
        let request = store::insert_request(&txn, request, reports).await?;
        txn.commit().await?;
        let reports = store::reports_of(&self.ctx.db, &request_id).await?;
        tracing::info!(request_id = %request_id, units = reports.len(), "reports requested");
        Ok(pb::CreateReportRequestResponse {
            reports: reports.into_iter().map(|a| report_to_pb(a, deadline, today)).collect(),
            request: Some(request_to_pb(request)),
        })
    }

    pub(super) async fn get_report_request(
        &self,
        caller: &Caller,
        r: pb::GetReportRequestRequest,
    ) -> AppResult<pb::GetReportRequestResponse> {
        let request = self.managed_request(caller, &r.request_id).await?;
        let today = self.ctx.clock.today();
        let reports: Vec<pb::UnitReport> = store::reports_of(&self.ctx.db, &request.request_id)
            .await?
            .into_iter()
            .map(|a| report_to_pb(a, request.deadline, today))
            .collect();
        let mut by_state: HashMap<i32, i32> = HashMap::new();
        for report in &reports {
            *by_state.entry(report.state).or_insert(0) += 1;
        }
        let completed = reports.iter().filter(|r| ReportState::of(r.state).completed()).count() as i32;
        Ok(pb::GetReportRequestResponse {
            total: reports.len() as i32,
            completed,
            by_state,
            reports,
            request: Some(request_to_pb(request)),
        })
    }

    pub(super) async fn list_report_requests(
        &self,
        caller: &Caller,
        r: pb::ListReportRequestsRequest,
    ) -> AppResult<pb::ListReportRequestsResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let today = self.ctx.clock.today();
        let made = store::made_by(&self.ctx.db, &unit.unit_id).await?;
        let (reports, requests) = store::addressed_to(&self.ctx.db, &unit.unit_id).await?;
        let deadlines: HashMap<String, chrono::NaiveDate> =
            requests.iter().map(|r| (r.request_id.clone(), r.deadline)).collect();
        Ok(pb::ListReportRequestsResponse {
            made: made.into_iter().map(request_to_pb).collect(),
            addressed: reports
                .into_iter()
                .map(|a| {
                    let deadline = deadlines.get(&a.request_id).copied().unwrap_or(today);
                    report_to_pb(a, deadline, today)
                })
                .collect(),
            addressed_requests: requests.into_iter().map(request_to_pb).collect(),
        })
    }

    fn submission_to_pb(
        &self,
        s: report_submission::Model,
        unit: &directory::unit::Model,
        span: &Span,
    ) -> pb::ReportSubmission {
        let figures: Figures = serde_json::from_str(&s.figures).unwrap_or_default();
        pb::ReportSubmission {
            submission_id: s.submission_id,
            request_id: s.request_id,
            unit_id: s.unit_id,
            version: s.version,
            figures: Some(figures_to_pb(unit, span, &figures)),
            narrative: s.narrative,
            evidence: evidence_to_pb(&s.evidence),
            submitted_by: s.submitted_by,
            submitted_at: Some(timestamp(s.submitted_at)),
        }
    }

    pub(super) async fn get_report_draft(
        &self,
        caller: &Caller,
        r: pb::GetReportDraftRequest,
    ) -> AppResult<pb::GetReportDraftResponse> {
        let (request, report, unit) = self.own_report(caller, &r.request_id, &r.unit_id).await?;
        let span = Span { from: request.from_date, to: request.to_date };
        let figures = programmes::figures(&self.ctx.db, &unit.path, &span).await?;
        let submissions = store::submissions(&self.ctx.db, &request.request_id, &unit.unit_id).await?;
        Ok(pb::GetReportDraftResponse {
            figures: Some(figures_to_pb(&unit, &span, &figures)),
            report: Some(report_to_pb(report, request.deadline, self.ctx.clock.today())),
            submissions: submissions.into_iter().map(|s| self.submission_to_pb(s, &unit, &span)).collect(),
        })
    }

    pub(super) async fn submit_report(
        &self,
        caller: &Caller,
        r: pb::SubmitReportRequest,
    ) -> AppResult<pb::SubmitReportResponse> {
        let (request, report, unit) = self.own_report(caller, &r.request_id, &r.unit_id).await?;
        let narrative = paragraphs("narrative", &r.narrative, 20_000)?;
        let evidence = evidence_of(&r.evidence)?;
        let next = ReportState::of(report.state).after_submission()?;
        let span = Span { from: request.from_date, to: request.to_date };
        let figures = programmes::figures(&self.ctx.db, &unit.path, &span).await?;
        let now = self.ctx.clock.now();
        let row = report_submission::Model {
            submission_id: new_id(),
            request_id: request.request_id.clone(),
            unit_id: unit.unit_id.clone(),
            version: report.versions + 1,
            figures: serde_json::to_string(&figures).map_err(|e| AppError::Internal(e.into()))?,
            narrative,
            evidence: serde_json::to_string(&evidence).map_err(|e| AppError::Internal(e.into()))?,
            submitted_by: caller.account_id.clone(),
            submitted_at: now,
        };
        let txn = self.ctx.db.begin().await?;
        if !store::move_report(&txn, &report, next as i32, true, None, now).await? {
            return Err(AppError::FailedPrecondition("the report changed meanwhile; read it again".into()));
        }
        let row = store::insert_submission(&txn, row).await?;
        txn.commit().await?;
        let report = store::report(&self.ctx.db, &request.request_id, &unit.unit_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the report vanished")))?;
        Ok(pb::SubmitReportResponse {
            submission: Some(self.submission_to_pb(row, &unit, &span)),
            report: Some(report_to_pb(report, request.deadline, self.ctx.clock.today())),
        })
    }

    pub(super) async fn review_report(
        &self,
        caller: &Caller,
        r: pb::ReviewReportRequest,
    ) -> AppResult<pb::ReviewReportResponse> {
        let request = self.managed_request(caller, &r.request_id).await?;
        let unit_id = parse_id("unit_id", &r.unit_id)?;
        let report = store::report(&self.ctx.db, &request.request_id, &unit_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("the request does not ask unit {unit_id} (unit_id)")))?;
        let decision = ReportDecision::parse(r.decision)?;
        let note = paragraphs("note", &r.note, 2000)?;
        if decision != ReportDecision::Accept && note.is_empty() {
            return Err(AppError::invalid("note", "is required to ask for more or to exempt: say why"));
        }
        let next = ReportState::of(report.state).after(decision)?;
        let now = self.ctx.clock.now();
        let txn = self.ctx.db.begin().await?;
        if !store::move_report(&txn, &report, next as i32, false, Some(&note), now).await? {
            return Err(AppError::FailedPrecondition("the report changed meanwhile; read it again".into()));
        }
        txn.commit().await?;
        let report = store::report(&self.ctx.db, &request.request_id, &unit_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the report vanished")))?;
        Ok(pb::ReviewReportResponse { report: Some(report_to_pb(report, request.deadline, self.ctx.clock.today())) })
    }
}
