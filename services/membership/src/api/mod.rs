//! `doan.membership.v1.MembershipService`: proto in, domain call, proto out.

mod policy;
pub use policy::POLICIES;

mod accounts;
mod anonymise;
mod applications;
mod clusters;
mod dues;
mod evaluation;
mod imports;
mod leaving;
mod members;
mod party;
mod positions;
mod records;
mod reminders;
mod reorganisation;
mod sealed;
mod search;
mod statistics;
mod training;
mod transfers;
mod units;
mod watch;

pub use accounts::KNOWN_ADDRESS_DAYS;
pub use anonymise::ANONYMOUS_NAME;
pub use imports::{Importer, READ_MODELS};
pub use reorganisation::Reorganiser;
pub use search::Cards;

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role, TokenIssuer};
use doan_platform::crypto::FieldCipher;
use doan_platform::error::{AppResult, respond};
use doan_platform::service::ServiceContext;
use doan_proto::membership as pb;
use doan_proto::membership::membership_service_server::MembershipService;
use tonic::{Request, Response, Status};

use crate::storage::entities::unit;

/// The membership API.
pub struct MembershipApi {
    ctx: ServiceContext,
    issuer: TokenIssuer,
    cipher: FieldCipher,
    rules: std::sync::Arc<crate::Rules>,
    reorganiser: Reorganiser,
    importer: Importer,
    cards: Cards,
    breached: doan_platform::passwords::BreachedPasswords,
}

impl MembershipApi {
    /// An API over `ctx`, signing tokens with `issuer` and member cards with `cards`,
    /// protecting personal data with `cipher`, deciding by `rules`, refusing new passwords
    /// found in `breached`.
    pub fn new(
        ctx: ServiceContext,
        issuer: TokenIssuer,
        cipher: FieldCipher,
        rules: std::sync::Arc<crate::Rules>,
        cards: Cards,
        breached: doan_platform::passwords::BreachedPasswords,
    ) -> Self {
        let reorganiser = Reorganiser::new(ctx.clone());
        let importer = Importer::new(ctx.clone(), cipher.clone(), rules.clone());
        Self { ctx, issuer, cipher, rules, reorganiser, importer, cards, breached }
    }

    /// Checks a new password: its length, and that no breached-password list holds it.
    async fn check_new_password(&self, field: &'static str, password: &str) -> AppResult<()> {
        doan_platform::auth::check_new_password(field, password)?;
        // A search of the operator's list reads its file: off the runtime's workers.
        let (breached, candidate) = (self.breached.clone(), password.to_string());
        let found = tokio::task::spawn_blocking(move || breached.contains(&candidate))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("breached-password search: {e}")))?;
        match found {
            Ok(false) => Ok(()),
            Ok(true) => Err(AppError::invalid(
                field,
                "is in a list of breached passwords (it has leaked before and is tried by attackers); choose another",
            )),
            Err(e) => Err(AppError::Internal(e.context("search the breached-password list"))),
        }
    }

    /// The purpose a caller states for reading personal data, as the access log records it:
    /// the code's name, then `: note` when a note is given; `None` when neither is.
    fn stated_purpose(code: i32, note: &str) -> AppResult<Option<String>> {
        let note = doan_platform::text::TextRule::optional_line(200).parse("purpose", note)?;
        let name = match pb::AccessPurpose::try_from(code) {
            Ok(pb::AccessPurpose::Unspecified) if note.is_empty() => return Ok(None),
            Ok(pb::AccessPurpose::Unspecified) => {
                return Err(AppError::invalid("purpose_code", format!("is required with a note: {}", purposes())));
            }
            Ok(p) => p.as_str_name().trim_start_matches("ACCESS_PURPOSE_").to_ascii_lowercase(),
            Err(_) => return Err(AppError::invalid("purpose_code", format!("is not on the list: {}", purposes()))),
        };
        Ok(Some(if note.is_empty() { name } else { format!("{name}: {note}") }))
    }

    /// Like [`MembershipApi::stated_purpose`], where a purpose is required.
    fn required_purpose(code: i32, note: &str) -> AppResult<String> {
        Self::stated_purpose(code, note)?
            .ok_or_else(|| AppError::invalid("purpose_code", format!("is required: {}", purposes())))
    }

    /// Decrypts `value`, the protected field at `at` (named in the log, never the value).
    fn open(&self, at: &doan_platform::crypto::Field<'_>, value: &str) -> AppResult<String> {
        self.cipher
            .open(at, value)
            .map_err(|e| AppError::Internal(e.context(format!("decrypt {}.{}", at.table, at.column))))
    }

    /// Resumes plans left applying, now and every few seconds until shutdown.
    pub fn resume_reorganisations(&self) {
        self.reorganiser.resume_forever();
    }

    /// Resumes imports left unfinished, now and every few seconds until shutdown.
    pub fn resume_imports(&self) {
        self.importer.resume_forever();
    }

    /// The verified caller. An officer's access derives from their positions: a token whose
    /// position has ended since it was issued is refused here at once (other services refuse it
    /// when it expires, at the latest at the end of the position's last day).
    async fn caller<T>(&self, request: &Request<T>) -> AppResult<Caller> {
        let caller = self.ctx.verifier.caller(request)?;
        if caller.role == Role::Officer {
            let unit = caller.unit_id.as_deref().unwrap_or_default();
            let held =
                crate::storage::positions::in_force_at(&self.ctx.db, &caller.account_id, unit, self.ctx.clock.today())
                    .await?;
            if held.is_none() {
                return Err(AppError::Unauthenticated(format!(
                    "your position in unit {unit} is no longer in force; log in again"
                )));
            }
        }
        Ok(caller)
    }

    /// The unit `unit_id` (request field `field`), which the caller must administer.
    async fn managed_unit(&self, caller: &Caller, field: &'static str, unit_id: &str) -> AppResult<unit::Model> {
        let unit = self.unit(field, unit_id).await?;
        caller.require_manages(&unit.path, &format!("unit {}", unit.unit_id))?;
        Ok(unit)
    }

    /// The unit `unit_id` (request field `field`) for reading: one the caller administers,
    /// or, for a member, their own branch or one of its ancestors.
    async fn readable_unit(&self, caller: &Caller, field: &'static str, unit_id: &str) -> AppResult<unit::Model> {
        let unit = self.unit(field, unit_id).await?;
        if caller.manages(&unit.path) {
            return Ok(unit);
        }
        if let Some(member_id) = caller.member_id.as_deref()
            && let Some(m) = crate::storage::members::find(&self.ctx.db, member_id).await?
            && doan_platform::auth::path_contains(&m.unit_path, &unit.unit_id)
        {
            return Ok(unit);
        }
        Err(AppError::PermissionDenied(format!("unit {} is outside your scope", unit.unit_id)))
    }

    async fn unit(&self, field: &'static str, unit_id: &str) -> AppResult<unit::Model> {
        let unit_id = doan_platform::convert::parse_id(field, unit_id)?;
        crate::storage::units::find(&self.ctx.db, &unit_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("unit {unit_id} ({field}) does not exist")))
    }
}

fn role_to_pb(role: Role) -> i32 {
    match role {
        Role::Admin => pb::Role::Admin as i32,
        Role::Officer => pb::Role::Officer as i32,
        Role::Member => pb::Role::Member as i32,
    }
}

#[tonic::async_trait]
impl MembershipService for MembershipApi {
    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        // The client's address as the gateway saw it (it replaces whatever the client sent).
        let address = request
            .metadata()
            .get(doan_platform::auth::CLIENT_ADDRESS_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<std::net::IpAddr>().ok())
            .map(|ip| ip.to_string());
        respond(self.login(request.into_inner(), address).await)
    }

    async fn activate_member_account(
        &self,
        request: Request<pb::ActivateMemberAccountRequest>,
    ) -> Result<Response<pb::ActivateMemberAccountResponse>, Status> {
        respond(self.activate_member_account(request.into_inner()).await)
    }

    async fn create_unit(
        &self,
        request: Request<pb::CreateUnitRequest>,
    ) -> Result<Response<pb::CreateUnitResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.create_unit(&caller, request.into_inner()).await)
    }

    async fn get_unit(&self, request: Request<pb::GetUnitRequest>) -> Result<Response<pb::GetUnitResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_unit(&caller, request.into_inner()).await)
    }

    async fn list_child_units(
        &self,
        request: Request<pb::ListChildUnitsRequest>,
    ) -> Result<Response<pb::ListChildUnitsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_child_units(&caller, request.into_inner()).await)
    }

    async fn appoint_officer(
        &self,
        request: Request<pb::AppointOfficerRequest>,
    ) -> Result<Response<pb::AppointOfficerResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.appoint_officer(&caller, request.into_inner()).await)
    }

    async fn admit_member(
        &self,
        request: Request<pb::AdmitMemberRequest>,
    ) -> Result<Response<pb::AdmitMemberResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.admit_member(&caller, request.into_inner()).await)
    }

    async fn get_member(
        &self,
        request: Request<pb::GetMemberRequest>,
    ) -> Result<Response<pb::GetMemberResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_member(&caller, request.into_inner()).await)
    }

    async fn get_member_card(
        &self,
        request: Request<pb::GetMemberCardRequest>,
    ) -> Result<Response<pb::GetMemberCardResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_member_card(&caller, request.into_inner()).await)
    }

    async fn list_members(
        &self,
        request: Request<pb::ListMembersRequest>,
    ) -> Result<Response<pb::ListMembersResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_members(&caller, request.into_inner()).await)
    }

    async fn rename_unit(
        &self,
        request: Request<pb::RenameUnitRequest>,
    ) -> Result<Response<pb::RenameUnitResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.rename_unit(&caller, request.into_inner()).await)
    }

    async fn move_unit(&self, request: Request<pb::MoveUnitRequest>) -> Result<Response<pb::MoveUnitResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.move_unit(&caller, request.into_inner()).await)
    }

    async fn merge_units(
        &self,
        request: Request<pb::MergeUnitsRequest>,
    ) -> Result<Response<pb::MergeUnitsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.merge_units(&caller, request.into_inner()).await)
    }

    async fn dissolve_unit(
        &self,
        request: Request<pb::DissolveUnitRequest>,
    ) -> Result<Response<pb::DissolveUnitResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.dissolve_unit(&caller, request.into_inner()).await)
    }

    async fn create_reorganisation_plan(
        &self,
        request: Request<pb::CreateReorganisationPlanRequest>,
    ) -> Result<Response<pb::CreateReorganisationPlanResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.create_reorganisation_plan(&caller, request.into_inner()).await)
    }

    async fn preview_reorganisation_plan(
        &self,
        request: Request<pb::PreviewReorganisationPlanRequest>,
    ) -> Result<Response<pb::PreviewReorganisationPlanResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.preview_reorganisation_plan(&caller, request.into_inner()).await)
    }

    async fn apply_reorganisation_plan(
        &self,
        request: Request<pb::ApplyReorganisationPlanRequest>,
    ) -> Result<Response<pb::ApplyReorganisationPlanResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.apply_reorganisation_plan(&caller, request.into_inner()).await)
    }

    async fn get_reorganisation_plan(
        &self,
        request: Request<pb::GetReorganisationPlanRequest>,
    ) -> Result<Response<pb::GetReorganisationPlanResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_reorganisation_plan(&caller, request.into_inner()).await)
    }

    async fn get_unit_history(
        &self,
        request: Request<pb::GetUnitHistoryRequest>,
    ) -> Result<Response<pb::GetUnitHistoryResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_unit_history(&caller, request.into_inner()).await)
    }

    async fn get_member_unit_history(
        &self,
        request: Request<pb::GetMemberUnitHistoryRequest>,
    ) -> Result<Response<pb::GetMemberUnitHistoryResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_member_unit_history(&caller, request.into_inner()).await)
    }

    async fn create_cluster(
        &self,
        request: Request<pb::CreateClusterRequest>,
    ) -> Result<Response<pb::CreateClusterResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.create_cluster(&caller, request.into_inner()).await)
    }

    async fn update_cluster_units(
        &self,
        request: Request<pb::UpdateClusterUnitsRequest>,
    ) -> Result<Response<pb::UpdateClusterUnitsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.update_cluster_units(&caller, request.into_inner()).await)
    }

    async fn list_clusters(
        &self,
        request: Request<pb::ListClustersRequest>,
    ) -> Result<Response<pb::ListClustersResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_clusters(&caller, request.into_inner()).await)
    }

    type WatchReorganisationPlanStream = reorganisation::PlanStream;

    async fn watch_reorganisation_plan(
        &self,
        request: Request<pb::WatchReorganisationPlanRequest>,
    ) -> Result<Response<Self::WatchReorganisationPlanStream>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.watch_reorganisation_plan(&caller, request.into_inner()).await)
    }

    async fn assign_position(
        &self,
        request: Request<pb::AssignPositionRequest>,
    ) -> Result<Response<pb::AssignPositionResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.assign_position(&caller, request.into_inner()).await)
    }

    async fn end_position(
        &self,
        request: Request<pb::EndPositionRequest>,
    ) -> Result<Response<pb::EndPositionResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.end_position(&caller, request.into_inner()).await)
    }

    async fn list_positions(
        &self,
        request: Request<pb::ListPositionsRequest>,
    ) -> Result<Response<pb::ListPositionsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_positions(&caller, request.into_inner()).await)
    }

    async fn remove_member(
        &self,
        request: Request<pb::RemoveMemberRequest>,
    ) -> Result<Response<pb::RemoveMemberResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.remove_member(&caller, request.into_inner()).await)
    }

    async fn discipline_member(
        &self,
        request: Request<pb::DisciplineMemberRequest>,
    ) -> Result<Response<pb::DisciplineMemberResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.discipline_member(&caller, request.into_inner()).await)
    }

    async fn list_disciplinary_records(
        &self,
        request: Request<pb::ListDisciplinaryRecordsRequest>,
    ) -> Result<Response<pb::ListDisciplinaryRecordsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_disciplinary_records(&caller, request.into_inner()).await)
    }

    async fn record_party_admission(
        &self,
        request: Request<pb::RecordPartyAdmissionRequest>,
    ) -> Result<Response<pb::RecordPartyAdmissionResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.record_party_admission(&caller, request.into_inner()).await)
    }

    async fn list_age_out_proposals(
        &self,
        request: Request<pb::ListAgeOutProposalsRequest>,
    ) -> Result<Response<pb::ListAgeOutProposalsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_age_out_proposals(&caller, request.into_inner()).await)
    }

    async fn decide_age_out(
        &self,
        request: Request<pb::DecideAgeOutRequest>,
    ) -> Result<Response<pb::DecideAgeOutResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.decide_age_out(&caller, request.into_inner()).await)
    }

    async fn get_unit_statistics(
        &self,
        request: Request<pb::GetUnitStatisticsRequest>,
    ) -> Result<Response<pb::GetUnitStatisticsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_unit_statistics(&caller, request.into_inner()).await)
    }

    async fn search_members(
        &self,
        request: Request<pb::SearchMembersRequest>,
    ) -> Result<Response<pb::SearchMembersResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.search_members(&caller, request.into_inner()).await)
    }

    async fn list_revoked_cards(
        &self,
        request: Request<pb::ListRevokedCardsRequest>,
    ) -> Result<Response<pb::ListRevokedCardsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_revoked_cards(&caller, request.into_inner()).await)
    }

    async fn get_encryption_status(
        &self,
        request: Request<pb::GetEncryptionStatusRequest>,
    ) -> Result<Response<pb::GetEncryptionStatusResponse>, Status> {
        self.caller(&request).await?;
        respond(self.get_encryption_status().await)
    }

    async fn get_card_keys(
        &self,
        request: Request<pb::GetCardKeysRequest>,
    ) -> Result<Response<pb::GetCardKeysResponse>, Status> {
        respond(self.get_card_keys(request.into_inner()).await)
    }

    async fn request_transfer(
        &self,
        request: Request<pb::RequestTransferRequest>,
    ) -> Result<Response<pb::RequestTransferResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.request_transfer(&caller, request.into_inner()).await)
    }

    async fn release_transfer(
        &self,
        request: Request<pb::ReleaseTransferRequest>,
    ) -> Result<Response<pb::ReleaseTransferResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.release_transfer(&caller, request.into_inner()).await)
    }

    async fn accept_transfer(
        &self,
        request: Request<pb::AcceptTransferRequest>,
    ) -> Result<Response<pb::AcceptTransferResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.accept_transfer(&caller, request.into_inner()).await)
    }

    async fn refuse_transfer(
        &self,
        request: Request<pb::RefuseTransferRequest>,
    ) -> Result<Response<pb::RefuseTransferResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.refuse_transfer(&caller, request.into_inner()).await)
    }

    async fn get_transfer(
        &self,
        request: Request<pb::GetTransferRequest>,
    ) -> Result<Response<pb::GetTransferResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_transfer(&caller, request.into_inner()).await)
    }

    async fn list_transfers(
        &self,
        request: Request<pb::ListTransfersRequest>,
    ) -> Result<Response<pb::ListTransfersResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_transfers(&caller, request.into_inner()).await)
    }

    async fn update_member(
        &self,
        request: Request<pb::UpdateMemberRequest>,
    ) -> Result<Response<pb::UpdateMemberResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.update_member(&caller, request.into_inner()).await)
    }

    async fn get_member_history(
        &self,
        request: Request<pb::GetMemberHistoryRequest>,
    ) -> Result<Response<pb::GetMemberHistoryResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_member_history(&caller, request.into_inner()).await)
    }

    async fn record_guardian_consent(
        &self,
        request: Request<pb::RecordGuardianConsentRequest>,
    ) -> Result<Response<pb::RecordGuardianConsentResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.record_guardian_consent(&caller, request.into_inner()).await)
    }

    async fn propose_application(
        &self,
        request: Request<pb::ProposeApplicationRequest>,
    ) -> Result<Response<pb::ProposeApplicationResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.propose_application(&caller, request.into_inner()).await)
    }

    async fn decide_application(
        &self,
        request: Request<pb::DecideApplicationRequest>,
    ) -> Result<Response<pb::DecideApplicationResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.decide_application(&caller, request.into_inner()).await)
    }

    async fn get_application(
        &self,
        request: Request<pb::GetApplicationRequest>,
    ) -> Result<Response<pb::GetApplicationResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_application(&caller, request.into_inner()).await)
    }

    async fn list_applications(
        &self,
        request: Request<pb::ListApplicationsRequest>,
    ) -> Result<Response<pb::ListApplicationsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_applications(&caller, request.into_inner()).await)
    }

    async fn submit_application(
        &self,
        request: Request<pb::SubmitApplicationRequest>,
    ) -> Result<Response<pb::SubmitApplicationResponse>, Status> {
        let caller = self.optional_caller(&request).await?;
        respond(self.submit_application(caller.as_ref(), request.into_inner()).await)
    }

    async fn set_dues_category(
        &self,
        request: Request<pb::SetDuesCategoryRequest>,
    ) -> Result<Response<pb::SetDuesCategoryResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.set_dues_category(&caller, request.into_inner()).await)
    }

    async fn record_dues_payment(
        &self,
        request: Request<pb::RecordDuesPaymentRequest>,
    ) -> Result<Response<pb::RecordDuesPaymentResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.record_dues_payment(&caller, request.into_inner()).await)
    }

    async fn confirm_dues_payment(
        &self,
        request: Request<pb::ConfirmDuesPaymentRequest>,
    ) -> Result<Response<pb::ConfirmDuesPaymentResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.confirm_dues_payment(&caller, request.into_inner()).await)
    }

    async fn grant_dues_exemption(
        &self,
        request: Request<pb::GrantDuesExemptionRequest>,
    ) -> Result<Response<pb::GrantDuesExemptionResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.grant_dues_exemption(&caller, request.into_inner()).await)
    }

    async fn get_dues_ledger(
        &self,
        request: Request<pb::GetDuesLedgerRequest>,
    ) -> Result<Response<pb::GetDuesLedgerResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_dues_ledger(&caller, request.into_inner()).await)
    }

    async fn create_remittance(
        &self,
        request: Request<pb::CreateRemittanceRequest>,
    ) -> Result<Response<pb::CreateRemittanceResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.create_remittance(&caller, request.into_inner()).await)
    }

    async fn confirm_remittance(
        &self,
        request: Request<pb::ConfirmRemittanceRequest>,
    ) -> Result<Response<pb::ConfirmRemittanceResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.confirm_remittance(&caller, request.into_inner()).await)
    }

    async fn list_remittances(
        &self,
        request: Request<pb::ListRemittancesRequest>,
    ) -> Result<Response<pb::ListRemittancesResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_remittances(&caller, request.into_inner()).await)
    }

    async fn get_dues_report(
        &self,
        request: Request<pb::GetDuesReportRequest>,
    ) -> Result<Response<pb::GetDuesReportResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_dues_report(&caller, request.into_inner()).await)
    }

    async fn create_training_programme(
        &self,
        request: Request<pb::CreateTrainingProgrammeRequest>,
    ) -> Result<Response<pb::CreateTrainingProgrammeResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.create_training_programme(&caller, request.into_inner()).await)
    }

    async fn get_training_programme(
        &self,
        request: Request<pb::GetTrainingProgrammeRequest>,
    ) -> Result<Response<pb::GetTrainingProgrammeResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_training_programme(&caller, request.into_inner()).await)
    }

    async fn register_training(
        &self,
        request: Request<pb::RegisterTrainingRequest>,
    ) -> Result<Response<pb::RegisterTrainingResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.register_training(&caller, request.into_inner()).await)
    }

    async fn add_training_evidence(
        &self,
        request: Request<pb::AddTrainingEvidenceRequest>,
    ) -> Result<Response<pb::AddTrainingEvidenceResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.add_training_evidence(&caller, request.into_inner()).await)
    }

    async fn submit_training_self_assessment(
        &self,
        request: Request<pb::SubmitTrainingSelfAssessmentRequest>,
    ) -> Result<Response<pb::SubmitTrainingSelfAssessmentResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.submit_training_self_assessment(&caller, request.into_inner()).await)
    }

    async fn evaluate_training(
        &self,
        request: Request<pb::EvaluateTrainingRequest>,
    ) -> Result<Response<pb::EvaluateTrainingResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.evaluate_training(&caller, request.into_inner()).await)
    }

    async fn get_training_record(
        &self,
        request: Request<pb::GetTrainingRecordRequest>,
    ) -> Result<Response<pb::GetTrainingRecordResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_training_record(&caller, request.into_inner()).await)
    }

    async fn open_evaluation_period(
        &self,
        request: Request<pb::OpenEvaluationPeriodRequest>,
    ) -> Result<Response<pb::OpenEvaluationPeriodResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.open_evaluation_period(&caller, request.into_inner()).await)
    }

    async fn list_evaluation_periods(
        &self,
        request: Request<pb::ListEvaluationPeriodsRequest>,
    ) -> Result<Response<pb::ListEvaluationPeriodsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_evaluation_periods(&caller, request.into_inner()).await)
    }

    async fn get_evidence_sheet(
        &self,
        request: Request<pb::GetEvidenceSheetRequest>,
    ) -> Result<Response<pb::GetEvidenceSheetResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_evidence_sheet(&caller, request.into_inner()).await)
    }

    async fn propose_ratings(
        &self,
        request: Request<pb::ProposeRatingsRequest>,
    ) -> Result<Response<pb::ProposeRatingsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.propose_ratings(&caller, request.into_inner()).await)
    }

    async fn confirm_ratings(
        &self,
        request: Request<pb::ConfirmRatingsRequest>,
    ) -> Result<Response<pb::ConfirmRatingsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.confirm_ratings(&caller, request.into_inner()).await)
    }

    async fn get_member_evaluation(
        &self,
        request: Request<pb::GetMemberEvaluationRequest>,
    ) -> Result<Response<pb::GetMemberEvaluationResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_member_evaluation(&caller, request.into_inner()).await)
    }

    async fn rate_unit(&self, request: Request<pb::RateUnitRequest>) -> Result<Response<pb::RateUnitResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.rate_unit(&caller, request.into_inner()).await)
    }

    async fn propose_party_introduction(
        &self,
        request: Request<pb::ProposePartyIntroductionRequest>,
    ) -> Result<Response<pb::ProposePartyIntroductionResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.propose_party_introduction(&caller, request.into_inner()).await)
    }

    async fn send_party_introduction(
        &self,
        request: Request<pb::SendPartyIntroductionRequest>,
    ) -> Result<Response<pb::SendPartyIntroductionResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.send_party_introduction(&caller, request.into_inner()).await)
    }

    async fn record_introduction_outcome(
        &self,
        request: Request<pb::RecordIntroductionOutcomeRequest>,
    ) -> Result<Response<pb::RecordIntroductionOutcomeResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.record_introduction_outcome(&caller, request.into_inner()).await)
    }

    async fn get_party_introduction(
        &self,
        request: Request<pb::GetPartyIntroductionRequest>,
    ) -> Result<Response<pb::GetPartyIntroductionResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_party_introduction(&caller, request.into_inner()).await)
    }

    async fn list_party_introductions(
        &self,
        request: Request<pb::ListPartyIntroductionsRequest>,
    ) -> Result<Response<pb::ListPartyIntroductionsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.list_party_introductions(&caller, request.into_inner()).await)
    }

    async fn get_party_introduction_statistics(
        &self,
        request: Request<pb::GetPartyIntroductionStatisticsRequest>,
    ) -> Result<Response<pb::GetPartyIntroductionStatisticsResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_party_introduction_statistics(&caller, request.into_inner()).await)
    }

    async fn get_member_import_template(
        &self,
        request: Request<pb::GetMemberImportTemplateRequest>,
    ) -> Result<Response<pb::GetMemberImportTemplateResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_member_import_template(&caller, request.into_inner()).await)
    }

    async fn create_member_import(
        &self,
        request: Request<pb::CreateMemberImportRequest>,
    ) -> Result<Response<pb::CreateMemberImportResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.create_member_import(&caller, request.into_inner()).await)
    }

    async fn upload_member_import_chunk(
        &self,
        request: Request<pb::UploadMemberImportChunkRequest>,
    ) -> Result<Response<pb::UploadMemberImportChunkResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.upload_member_import_chunk(&caller, request.into_inner()).await)
    }

    async fn submit_member_import(
        &self,
        request: Request<pb::SubmitMemberImportRequest>,
    ) -> Result<Response<pb::SubmitMemberImportResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.submit_member_import(&caller, request.into_inner()).await)
    }

    async fn get_member_import(
        &self,
        request: Request<pb::GetMemberImportRequest>,
    ) -> Result<Response<pb::GetMemberImportResponse>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.get_member_import(&caller, request.into_inner()).await)
    }

    type WatchMemberImportStream = imports::ImportStream;

    async fn watch_member_import(
        &self,
        request: Request<pb::WatchMemberImportRequest>,
    ) -> Result<Response<Self::WatchMemberImportStream>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.watch_member_import(&caller, request.into_inner()).await)
    }

    type DownloadMemberImportReportStream = imports::ReportStream;

    async fn download_member_import_report(
        &self,
        request: Request<pb::DownloadMemberImportReportRequest>,
    ) -> Result<Response<Self::DownloadMemberImportReportStream>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.download_member_import_report(&caller, request.into_inner()).await)
    }

    type ExportMembersStream = imports::ExportStream;

    async fn export_members(
        &self,
        request: Request<pb::ExportMembersRequest>,
    ) -> Result<Response<Self::ExportMembersStream>, Status> {
        let caller = self.caller(&request).await?;
        respond(self.export_members(&caller, request.into_inner()).await)
    }
}

/// The purposes a caller may state, for error messages.
fn purposes() -> String {
    let names: Vec<&str> = (1..).map_while(|n| pb::AccessPurpose::try_from(n).ok()).map(|p| p.as_str_name()).collect();
    format!("one of {}", names.join(", "))
}
