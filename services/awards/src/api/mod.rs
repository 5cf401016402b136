//! `doan.awards.v1.AwardsService`: proto in, domain call, proto out.

mod policy;
pub use policy::POLICIES;

use std::collections::HashSet;
use std::sync::Arc;

use doan_platform::AppError;
use doan_platform::auth::{Caller, path_contains};
use doan_platform::convert::{format_date, parse_date, parse_id, required_text, timestamp};
use doan_platform::directory;
use doan_platform::error::{AppResult, respond};
use doan_platform::rules::Versioned;
use doan_platform::service::ServiceContext;
use doan_proto::awards as pb;
use doan_proto::awards::awards_service_server::AwardsService;
use doan_proto::awards::recipient::Recipient as Which;
use sea_orm::TransactionTrait;
use tonic::{Request, Response, Status};

use crate::domain::{AwardAuthority, AwardForm, MAX_RECIPIENTS, UnitLevel, vietnam_year};
use crate::events::publish;
use crate::storage::decisions::{self, NewDecision};
use crate::storage::entities::{decision, recipient};
use crate::storage::standings;

/// The awards API.
pub struct AwardsApi {
    ctx: ServiceContext,
    rules: Arc<Versioned<AwardAuthority>>,
}

fn recipient_to_pb(r: recipient::Model) -> pb::Recipient {
    pb::Recipient { recipient: r.member_id.map(Which::MemberId).or(r.unit_id.map(Which::UnitId)) }
}

fn decision_to_pb(d: decision::Model, recipients: Vec<recipient::Model>) -> pb::AwardDecision {
    pb::AwardDecision {
        decision_id: d.decision_id,
        decision_number: d.decision_number,
        decision_date: format_date(d.decision_date),
        issuing_unit_id: d.issuing_unit_id,
        form: d.form,
        signer: d.signer,
        content: d.content,
        recipients: recipients.into_iter().map(recipient_to_pb).collect(),
        recorded_at: Some(timestamp(d.recorded_at)),
        award_rule: d.award_rule,
    }
}

impl AwardsApi {
    /// An API over `ctx`, deciding issuing authority by `rules`.
    pub fn new(ctx: ServiceContext, rules: Arc<Versioned<AwardAuthority>>) -> Self {
        Self { ctx, rules }
    }

    async fn record(
        &self,
        caller: &Caller,
        r: pb::RecordAwardDecisionRequest,
    ) -> AppResult<pb::RecordAwardDecisionResponse> {
        caller.require_officer()?;
        let issuing_unit_id = if r.issuing_unit_id.is_empty() {
            caller
                .unit_id
                .clone()
                .ok_or_else(|| AppError::invalid("issuing_unit_id", "is required for administrators"))?
        } else {
            r.issuing_unit_id.clone()
        };
        let issuer = directory::unit(&self.ctx.db, "issuing_unit_id", &issuing_unit_id).await?;
        caller.require_manages(&issuer.path, &format!("issuing unit {}", issuer.unit_id))?;
        let form = AwardForm::parse(r.form)?;
        let decision_number = required_text("decision_number", &r.decision_number, 64)?;
        let decision_date = parse_date("decision_date", &r.decision_date)?;
        let today = self.ctx.clock.today();
        if decision_date > today {
            return Err(AppError::invalid(
                "decision_date",
                format!("must not be in the future (today is {today} in Vietnam)"),
            ));
        }
        let signer = required_text("signer", &r.signer, 200)?;
        let content = required_text("content", &r.content, 2000)?;
        if r.recipients.is_empty() || r.recipients.len() > MAX_RECIPIENTS {
            return Err(AppError::invalid("recipients", format!("must list 1 to {MAX_RECIPIENTS} recipients")));
        }
        let rule = self.rules.at("decision_date", decision_date)?;
        form.check_issuer_level(UnitLevel::from_stored(issuer.level), &rule.rule)?;
        let mut seen = HashSet::new();
        let mut rows = Vec::with_capacity(r.recipients.len());
        for (position, rec) in r.recipients.into_iter().enumerate() {
            let (member_id, unit_id) = match rec.recipient {
                Some(Which::MemberId(id)) => {
                    if !form.allows_individuals() {
                        return Err(AppError::invalid(
                            "recipients",
                            "an emulation flag goes to collectives (unit_id) only",
                        ));
                    }
                    let m = directory::member(&self.ctx.db, "recipients.member_id", &id).await?;
                    if !path_contains(&m.unit_path, &issuer.unit_id) {
                        return Err(AppError::PermissionDenied(format!(
                            "member {} is outside the issuing unit's subtree",
                            m.member_id
                        )));
                    }
                    (Some(m.member_id), None)
                }
                Some(Which::UnitId(id)) => {
                    let u = directory::unit(&self.ctx.db, "recipients.unit_id", &id).await?;
                    if !path_contains(&u.path, &issuer.unit_id) {
                        return Err(AppError::PermissionDenied(format!(
                            "unit {} is outside the issuing unit's subtree",
                            u.unit_id
                        )));
                    }
                    (None, Some(u.unit_id))
                }
                None => {
                    return Err(AppError::invalid(
                        "recipients",
                        format!("recipient {position} sets neither member_id nor unit_id"),
                    ));
                }
            };
            if !seen.insert((member_id.clone(), unit_id.clone())) {
                return Err(AppError::invalid("recipients", format!("recipient {position} is listed twice")));
            }
            rows.push((position as i32, member_id, unit_id));
        }

        let new = NewDecision {
            decision_number: decision_number.clone(),
            decision_date,
            issuing_unit_id: issuer.unit_id.clone(),
            issuing_unit_path: issuer.path.clone(),
            form,
            signer,
            content,
            recorded_by: caller.account_id.clone(),
            recorded_at: self.ctx.clock.now(),
            award_rule: rule.id.clone(),
            recipients: rows.into_iter().map(|(_, member, unit)| (member, unit)).collect(),
        };
        let txn = self.ctx.db.begin().await?;
        let (saved, recipients) = decisions::insert(&txn, new).await.map_err(|e| {
            if doan_platform::db::is_unique_violation(&e) {
                AppError::AlreadyExists(format!(
                    "decision {decision_number:?} of this issuing unit is already recorded"
                ))
            } else {
                e.into()
            }
        })?;
        for r in &recipients {
            self.ctx.outbox.enqueue(&txn, &publish::award_granted(&saved, r)).await?;
        }
        let decision_id = saved.decision_id.clone();
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(decision_id = %decision_id, recipients = recipients.len(), "award decision recorded");
        Ok(pb::RecordAwardDecisionResponse { decision: Some(decision_to_pb(saved, recipients)) })
    }

    async fn get(&self, caller: &Caller, r: pb::GetAwardDecisionRequest) -> AppResult<pb::GetAwardDecisionResponse> {
        let id = parse_id("decision_id", &r.decision_id)?;
        let (d, recipients) = decisions::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("award decision {id} (decision_id) does not exist")))?;
        let is_recipient =
            caller.member_id.as_ref().is_some_and(|m| recipients.iter().any(|r| r.member_id.as_ref() == Some(m)));
        if !is_recipient {
            caller.require_manages(&d.issuing_unit_path, &format!("award decision {id}"))?;
        }
        Ok(pb::GetAwardDecisionResponse { decision: Some(decision_to_pb(d, recipients)) })
    }

    async fn standing(
        &self,
        caller: &Caller,
        r: pb::GetMemberStandingRequest,
    ) -> AppResult<pb::GetMemberStandingResponse> {
        let member_id = caller.member_or_self("member_id", &r.member_id)?;
        if !caller.is_member(&member_id) {
            let m = directory::member(&self.ctx.db, "member_id", &member_id).await?;
            caller.require_manages(&m.unit_path, &format!("member {member_id}"))?;
        }
        let year = match r.year {
            0 => vietnam_year(self.ctx.clock.now()),
            y if (1931..=9999).contains(&y) => y,
            _ => return Err(AppError::invalid("year", "must be a calendar year like 2026, or 0 for the current year")),
        };
        let (points, participations) = standings::get(&self.ctx.db, &member_id, year).await?;
        let rating = standings::member_rating(&self.ctx.db, &member_id, year).await?;
        Ok(pb::GetMemberStandingResponse { member_id, year, points, participations, rating })
    }
}

#[tonic::async_trait]
impl AwardsService for AwardsApi {
    async fn record_award_decision(
        &self,
        request: Request<pb::RecordAwardDecisionRequest>,
    ) -> Result<Response<pb::RecordAwardDecisionResponse>, Status> {
        let caller = self.ctx.verifier.caller(&request)?;
        respond(self.record(&caller, request.into_inner()).await)
    }

    async fn get_award_decision(
        &self,
        request: Request<pb::GetAwardDecisionRequest>,
    ) -> Result<Response<pb::GetAwardDecisionResponse>, Status> {
        let caller = self.ctx.verifier.caller(&request)?;
        respond(self.get(&caller, request.into_inner()).await)
    }

    async fn get_member_standing(
        &self,
        request: Request<pb::GetMemberStandingRequest>,
    ) -> Result<Response<pb::GetMemberStandingResponse>, Status> {
        let caller = self.ctx.verifier.caller(&request)?;
        respond(self.standing(&caller, request.into_inner()).await)
    }
}
