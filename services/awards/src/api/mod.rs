//! `doan.awards.v1.AwardsService`: proto in, domain call, proto out.

pub mod credentials;
mod decisions;
mod nominations;
mod policy;
mod scores;
pub use policy::POLICIES;

use std::sync::Arc;

use doan_platform::convert::{format_date, timestamp};
use doan_platform::error::respond;
use doan_platform::rules::Versioned;
use doan_platform::service::ServiceContext;
use doan_proto::awards as pb;
use doan_proto::awards::awards_service_server::AwardsService;
use doan_proto::awards::recipient::Recipient as Which;
use tonic::{Request, Response, Status};

use crate::domain::Catalogue;
use crate::domain::scoring::Weights;
use crate::storage::entities::{decision, recipient};

pub use credentials::{Credentials, PublicDocuments};

/// The awards API.
pub struct AwardsApi {
    ctx: ServiceContext,
    rules: Arc<Versioned<Catalogue>>,
    emulation: Arc<Versioned<Weights>>,
    credentials: Credentials,
}

fn recipient_to_pb(r: &recipient::Model) -> pb::Recipient {
    pb::Recipient {
        recipient: r
            .member_id
            .clone()
            .map(Which::MemberId)
            .or(r.unit_id.clone().map(Which::UnitId))
            .or(r.cluster_id.clone().map(Which::ClusterId)),
    }
}

fn award_to_pb(r: &recipient::Model) -> pb::Award {
    pb::Award {
        award_id: r.award_id.clone(),
        recipient: Some(recipient_to_pb(r)),
        recipient_name: r.recipient_name.clone(),
        status: r.status,
        revoked_at: r.revoked_at.map(timestamp),
        revocation_reason: r.revocation_reason.clone(),
        revocation_legal_basis: r.revocation_legal_basis.clone(),
        status_list_id: r.status_list_id.clone(),
        status_list_index: r.status_index,
    }
}

fn decision_to_pb(d: decision::Model, recipients: &[recipient::Model]) -> pb::AwardDecision {
    pb::AwardDecision {
        decision_id: d.decision_id,
        decision_number: d.decision_number,
        decision_date: format_date(d.decision_date),
        issuing_unit_id: d.issuing_unit_id,
        form: d.form,
        signer: d.signer,
        content: d.content,
        recipients: recipients.iter().map(recipient_to_pb).collect(),
        recorded_at: Some(timestamp(d.recorded_at)),
        award_rule: d.award_rule,
        kind: d.kind,
        issuing_level: d.issuing_level,
        awards: recipients.iter().map(award_to_pb).collect(),
        ceremony_date: d.ceremony_date,
    }
}

impl AwardsApi {
    /// The unit a request's `unit_id` names (empty: the calling officer's own), for an
    /// officer over it.
    async fn managed_unit(
        &self,
        caller: &doan_platform::auth::Caller,
        unit_id: &str,
    ) -> doan_platform::error::AppResult<doan_platform::directory::unit::Model> {
        use doan_platform::AppError;
        caller.require_officer()?;
        let unit_id = if unit_id.is_empty() {
            caller.unit_id.clone().ok_or_else(|| AppError::invalid("unit_id", "is required for administrators"))?
        } else {
            doan_platform::convert::parse_id("unit_id", unit_id)?
        };
        let unit = doan_platform::directory::unit(&self.ctx.db, "unit_id", &unit_id).await?;
        caller.require_manages(&unit.path, &format!("unit {unit_id}"))?;
        Ok(unit)
    }

    /// An API over `ctx`, deciding kinds and authority by `rules`, default scoring weights by
    /// `emulation`, certifying awards with `credentials`.
    pub fn new(
        ctx: ServiceContext,
        rules: Arc<Versioned<Catalogue>>,
        emulation: Arc<Versioned<Weights>>,
        credentials: Credentials,
    ) -> Self {
        Self { ctx, rules, emulation, credentials }
    }
}

macro_rules! rpc {
    ($($name:ident($req:ty) -> $resp:ty => $handler:ident;)*) => {
        #[tonic::async_trait]
        impl AwardsService for AwardsApi {
            $(
                async fn $name(&self, request: Request<$req>) -> Result<Response<$resp>, Status> {
                    let caller = self.ctx.verifier.caller(&request)?;
                    respond(self.$handler(&caller, request.into_inner()).await)
                }
            )*

            async fn verify_credential(
                &self,
                request: Request<pb::VerifyCredentialRequest>,
            ) -> Result<Response<pb::VerifyCredentialResponse>, Status> {
                respond(self.verify_credential_public(request.into_inner()).await)
            }

            async fn get_issuer(
                &self,
                request: Request<pb::GetIssuerRequest>,
            ) -> Result<Response<pb::GetIssuerResponse>, Status> {
                respond(self.issuer_public(request.into_inner()).await)
            }

            async fn get_status_list(
                &self,
                request: Request<pb::GetStatusListRequest>,
            ) -> Result<Response<pb::GetStatusListResponse>, Status> {
                respond(self.status_list_public(request.into_inner()).await)
            }
        }
    };
}

rpc! {
    record_award_decision(pb::RecordAwardDecisionRequest) -> pb::RecordAwardDecisionResponse => record;
    get_award_decision(pb::GetAwardDecisionRequest) -> pb::GetAwardDecisionResponse => get;
    get_member_standing(pb::GetMemberStandingRequest) -> pb::GetMemberStandingResponse => standing;
    list_award_kinds(pb::ListAwardKindsRequest) -> pb::ListAwardKindsResponse => kinds;
    revoke_award(pb::RevokeAwardRequest) -> pb::RevokeAwardResponse => revoke;
    list_awards(pb::ListAwardsRequest) -> pb::ListAwardsResponse => history;
    get_award_figures(pb::GetAwardFiguresRequest) -> pb::GetAwardFiguresResponse => figures;
    get_credential(pb::GetCredentialRequest) -> pb::GetCredentialResponse => credential;
    set_scoring_rule(pb::SetScoringRuleRequest) -> pb::SetScoringRuleResponse => set_scoring_rule;
    get_scoring_rule(pb::GetScoringRuleRequest) -> pb::GetScoringRuleResponse => get_scoring_rule;
    get_score(pb::GetScoreRequest) -> pb::GetScoreResponse => score;
    list_score_entries(pb::ListScoreEntriesRequest) -> pb::ListScoreEntriesResponse => score_entries;
    get_leaderboard(pb::GetLeaderboardRequest) -> pb::GetLeaderboardResponse => leaderboard;
    propose_nomination(pb::ProposeNominationRequest) -> pb::ProposeNominationResponse => propose;
    get_nomination(pb::GetNominationRequest) -> pb::GetNominationResponse => nomination;
    list_nominations(pb::ListNominationsRequest) -> pb::ListNominationsResponse => nominations;
    review_nomination(pb::ReviewNominationRequest) -> pb::ReviewNominationResponse => review_nomination;
    close_nomination_review(pb::CloseNominationReviewRequest) -> pb::CloseNominationReviewResponse => close_review;
    set_ceremony(pb::SetCeremonyRequest) -> pb::SetCeremonyResponse => set_ceremony;
}
