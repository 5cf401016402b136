//! Admission as a workflow: an application (filed by the person, or entered by the branch)
//! → guardian consent for a child → the branch's proposal → the grassroots decision, which
//! admits by resolution (as `AdmitMember`) or rejects with a reason.

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{format_date, new_id, page_size, parse_date, parse_id, required_text, timestamp};
use doan_platform::error::AppResult;
use doan_platform::text::TextRule;
use doan_proto::membership as pb;
use sea_orm::{Set, TransactionTrait};
use tonic::Request;

use super::MembershipApi;
use super::units::require_active;
use crate::domain::member::{
    AdmissionAge, AdmissionAuthority, CitizenId, MemberStatus, Phone, missing_documents, parse_documents, parse_email,
    parse_ethnicity, parse_full_name, parse_religion, parse_sex,
};
use crate::domain::unit::UnitLevel;
use crate::storage::entities::{application, unit};
use crate::storage::{applications, members, units};

const SUBMITTED: i32 = 1;
const PROPOSED: i32 = 2;
const REJECTED: i32 = 4;

fn documents_in(field: &'static str, docs: &[pb::ApplicationDocument]) -> AppResult<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> = docs.iter().map(|d| (d.kind.clone(), d.reference.clone())).collect();
    parse_documents(field, &pairs)
}

fn documents_out(stored: &str) -> Vec<pb::ApplicationDocument> {
    applications::decode_documents(stored)
        .into_iter()
        .map(|(kind, reference)| pb::ApplicationDocument { kind, reference })
        .collect()
}

fn summary(a: &application::Model) -> pb::ApplicationSummary {
    pb::ApplicationSummary {
        application_id: a.application_id.clone(),
        unit_id: a.unit_id.clone(),
        full_name: a.full_name.clone(),
        state: a.state,
        awaiting_consent: a.is_child && a.guardian_consented_on.is_none(),
        submitted_at: Some(timestamp(a.submitted_at)),
    }
}

impl MembershipApi {
    /// The caller of a public RPC, when the request carries a token.
    pub(super) async fn optional_caller<T>(&self, request: &Request<T>) -> AppResult<Option<Caller>> {
        if request.metadata().get("authorization").is_none() {
            return Ok(None);
        }
        self.caller(request).await.map(Some)
    }

    /// The applicant's details, decrypted, as an admission request to `a`'s unit.
    fn applicant(&self, a: &application::Model) -> AppResult<pb::AdmitMemberRequest> {
        Ok(pb::AdmitMemberRequest {
            unit_id: a.unit_id.clone(),
            full_name: a.full_name.clone(),
            date_of_birth: format_date(a.date_of_birth),
            sex: a.sex,
            ethnicity: self.open(&applications::protected("ethnicity_enc", &a.application_id), &a.ethnicity_enc)?,
            religion: self.open(&applications::protected("religion_enc", &a.application_id), &a.religion_enc)?,
            citizen_id: self.open(&applications::protected("citizen_id_enc", &a.application_id), &a.citizen_id_enc)?,
            phone: self.open(&applications::protected("phone_enc", &a.application_id), &a.phone_enc)?,
            email: self.open(&applications::protected("email_enc", &a.application_id), &a.email_enc)?,
            ..Default::default()
        })
    }

    /// Stores a changed application; returns its summary.
    async fn save_application(&self, row: application::ActiveModel) -> AppResult<pb::ApplicationSummary> {
        let txn = self.ctx.db.begin().await?;
        let updated = applications::update(&txn, row).await?;
        txn.commit().await?;
        Ok(summary(&updated))
    }

    async fn application(&self, caller: &Caller, id: &str) -> AppResult<(application::Model, unit::Model)> {
        let id = parse_id("application_id", id)?;
        let a = applications::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("application {id} does not exist")))?;
        let unit = self.managed_unit(caller, "application_id", &a.unit_id).await.map_err(|e| match e {
            AppError::PermissionDenied(_) => {
                AppError::PermissionDenied(format!("application {id} is outside your scope"))
            }
            other => other,
        })?;
        Ok((a, unit))
    }

    pub(super) async fn submit_application(
        &self,
        caller: Option<&Caller>,
        r: pb::SubmitApplicationRequest,
    ) -> AppResult<pb::SubmitApplicationResponse> {
        let p = r.applicant.ok_or_else(|| AppError::invalid("applicant", "is required"))?;
        let unit = self.unit("applicant.unit_id", &p.unit_id).await?;
        require_active(&unit)?;
        if !UnitLevel::from_stored(unit.level).is_some_and(UnitLevel::holds_members) {
            return Err(AppError::invalid("applicant.unit_id", "must be a branch or a chi đoàn cơ sở"));
        }
        let full_name = parse_full_name(&p.full_name)?;
        let date_of_birth = parse_date("date_of_birth", &p.date_of_birth)?;
        let today = self.ctx.clock.today();
        let rule = self.rules.admission.at("date_of_birth", today)?;
        let age = AdmissionAge::check(date_of_birth, today, &rule.rule)?;
        let sex = parse_sex(p.sex)?;
        let ethnicity = parse_ethnicity(&p.ethnicity)?;
        let religion = parse_religion(&p.religion)?;
        let citizen_id = CitizenId::parse(&p.citizen_id)?;
        let phone = Phone::parse(&p.phone)?;
        let email = parse_email(&p.email)?;
        let documents = documents_in("documents", &r.documents)?;
        let index = self.cipher.blind_index(citizen_id.as_str());
        if members::by_citizen_index(&self.ctx.db, &index).await?.is_some() {
            return Err(AppError::AlreadyExists("a member with this citizen_id already exists".into()));
        }
        if applications::open_with_citizen(&self.ctx.db, &index).await?.is_some() {
            return Err(AppError::AlreadyExists("an application with this citizen_id is already open".into()));
        }
        // Entered by an officer over the branch; otherwise filed by the person.
        let submitted_by = match caller {
            Some(c) if c.manages(&unit.path) => c.account_id.clone(),
            _ => "self".to_string(),
        };
        let id = new_id();
        let seal = |column: &'static str, value: &str| self.cipher.seal(&applications::protected(column, &id), value);
        let txn = self.ctx.db.begin().await?;
        applications::insert(
            &txn,
            application::ActiveModel {
                application_id: Set(id.clone()),
                unit_id: Set(unit.unit_id.clone()),
                state: Set(SUBMITTED),
                full_name: Set(full_name),
                date_of_birth: Set(date_of_birth),
                sex: Set(sex),
                ethnicity_enc: Set(seal("ethnicity_enc", &ethnicity)),
                religion_enc: Set(seal("religion_enc", &religion)),
                citizen_id_enc: Set(seal("citizen_id_enc", citizen_id.as_str())),
                citizen_id_index: Set(index),
                phone_enc: Set(seal("phone_enc", phone.as_str())),
                email_enc: Set(seal("email_enc", &email)),
                is_child: Set(age.is_child),
                documents: Set(applications::encode_documents(&documents)),
                submitted_by: Set(submitted_by),
                submitted_at: Set(self.ctx.clock.now()),
                ..Default::default()
            },
        )
        .await?;
        txn.commit().await?;
        tracing::info!(application_id = %id, unit_id = %unit.unit_id, "application submitted");
        Ok(pb::SubmitApplicationResponse { application_id: id, needs_guardian_consent: age.is_child })
    }

    pub(super) async fn record_guardian_consent(
        &self,
        caller: &Caller,
        r: pb::RecordGuardianConsentRequest,
    ) -> AppResult<pb::RecordGuardianConsentResponse> {
        let (a, _) = self.application(caller, &r.application_id).await?;
        let c = r.consent.ok_or_else(|| AppError::invalid("consent", "is required"))?;
        let name = TextRule::line(200).parse("consent.guardian_name", &c.guardian_name)?;
        let relation = TextRule::line(50).parse("consent.relation", &c.relation)?;
        let on = parse_date("consent.consented_on", &c.consented_on)?;
        if on > self.ctx.clock.today() {
            return Err(AppError::invalid("consent.consented_on", "must not be in the future"));
        }
        let document = TextRule::line(200).parse("consent.document", &c.document)?;
        if !a.is_child {
            return Err(AppError::FailedPrecondition(format!(
                "application {} is not a child's; no guardian consent is needed",
                a.application_id
            )));
        }
        if !matches!(a.state, SUBMITTED | PROPOSED) {
            return Err(AppError::FailedPrecondition(format!("application {} is decided", a.application_id)));
        }
        let mut row: application::ActiveModel = a.into();
        row.guardian_name = Set(name);
        row.guardian_relation = Set(relation);
        row.guardian_consented_on = Set(Some(on));
        row.guardian_document = Set(document);
        Ok(pb::RecordGuardianConsentResponse { application: Some(self.save_application(row).await?) })
    }

    pub(super) async fn propose_application(
        &self,
        caller: &Caller,
        r: pb::ProposeApplicationRequest,
    ) -> AppResult<pb::ProposeApplicationResponse> {
        let (a, _) = self.application(caller, &r.application_id).await?;
        let note = TextRule::paragraphs(1000).parse("note", &r.note)?;
        let added = documents_in("documents", &r.documents)?;
        let mut documents = applications::decode_documents(&a.documents);
        documents.retain(|(k, _)| !added.iter().any(|(n, _)| n == k));
        documents.extend(added);
        if documents.len() > 20 {
            return Err(AppError::invalid("documents", "an application holds at most 20 documents"));
        }
        if a.state != SUBMITTED {
            return Err(AppError::FailedPrecondition(format!(
                "application {} is not awaiting a proposal",
                a.application_id
            )));
        }
        if a.is_child && a.guardian_consented_on.is_none() {
            return Err(AppError::FailedPrecondition(format!(
                "application {} is a child's: record the guardian's consent first",
                a.application_id
            )));
        }
        let mut row: application::ActiveModel = a.into();
        row.documents = Set(applications::encode_documents(&documents));
        row.state = Set(PROPOSED);
        row.proposal_note = Set(note);
        row.proposed_by = Set(caller.account_id.clone());
        Ok(pb::ProposeApplicationResponse { application: Some(self.save_application(row).await?) })
    }

    pub(super) async fn decide_application(
        &self,
        caller: &Caller,
        r: pb::DecideApplicationRequest,
    ) -> AppResult<pb::DecideApplicationResponse> {
        let (a, unit) = self.application(caller, &r.application_id).await?;
        let level = UnitLevel::from_stored(unit.level);
        let authority = AdmissionAuthority::of(
            caller.role == Role::Admin,
            caller.unit_id.as_deref(),
            &unit.path,
            level == Some(UnitLevel::Branch),
        );
        if authority == AdmissionAuthority::Proposes {
            return Err(AppError::PermissionDenied(format!(
                "a branch officer proposes; the grassroots unit above branch {} decides",
                unit.unit_id
            )));
        }
        if !r.admit {
            let reason = required_text("rejection_reason", &r.rejection_reason, 500)?;
            if !matches!(a.state, SUBMITTED | PROPOSED) {
                return Err(AppError::FailedPrecondition(format!("application {} is decided", a.application_id)));
            }
            let mut row: application::ActiveModel = a.into();
            row.state = Set(REJECTED);
            row.rejection_reason = Set(reason);
            row.decided_by = Set(caller.account_id.clone());
            return Ok(pb::DecideApplicationResponse {
                application: Some(self.save_application(row).await?),
                member: None,
            });
        }
        let signer = required_text("signer", &r.signer, 200)?;
        if a.state != PROPOSED {
            return Err(AppError::FailedPrecondition(format!(
                "application {} must be proposed by its branch before it is decided",
                a.application_id
            )));
        }
        // The documents the rule in force on the resolution date requires.
        let resolution_date = parse_date("resolution_date", &r.resolution_date)?;
        let rule = self.rules.admission.at("resolution_date", resolution_date)?;
        let missing = missing_documents(&rule.rule.required_documents, &applications::decode_documents(&a.documents));
        if !missing.is_empty() {
            return Err(AppError::FailedPrecondition(format!(
                "application {} lacks documents the rule {} requires: {}",
                a.application_id,
                rule.id,
                missing.join(", ")
            )));
        }
        let request = pb::AdmitMemberRequest {
            admitted_on: r.resolution_date.clone(),
            resolution_number: r.resolution_number.clone(),
            guardian_consent: a.guardian_consented_on.is_some(),
            confirm_possible_duplicate: r.confirm_possible_duplicate,
            ..self.applicant(&a)?
        };
        let mut row: application::ActiveModel = a.clone().into();
        row.resolution_number = Set(r.resolution_number.trim().to_string());
        row.resolution_date = Set(parse_date("resolution_date", &r.resolution_date).ok());
        row.signer = Set(signer);
        let created = self.admit(caller, &unit, authority, &request, Some(row)).await.map_err(|e| match e {
            AppError::InvalidArgument { field: "admitted_on", reason } => {
                AppError::InvalidArgument { field: "resolution_date", reason }
            }
            other => other,
        })?;
        let updated = applications::find(&self.ctx.db, &a.application_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("application {} vanished", a.application_id)))?;
        debug_assert_eq!(MemberStatus::from_stored(created.status), MemberStatus::Active);
        Ok(pb::DecideApplicationResponse {
            application: Some(summary(&updated)),
            member: Some(self.member_full(created).await?),
        })
    }

    pub(super) async fn get_application(
        &self,
        caller: &Caller,
        r: pb::GetApplicationRequest,
    ) -> AppResult<pb::GetApplicationResponse> {
        let (a, _) = self.application(caller, &r.application_id).await?;
        let purpose = Self::required_purpose(r.purpose_code, &r.purpose)?;
        let subject = format!("application:{}", a.application_id);
        self.log_access(&self.ctx.db, caller, &subject, "GetApplication", &purpose).await?;
        let applicant = self.applicant(&a)?;
        let guardian = a.guardian_consented_on.map(|on| pb::GuardianConsent {
            guardian_name: a.guardian_name.clone(),
            relation: a.guardian_relation.clone(),
            consented_on: format_date(on),
            document: a.guardian_document.clone(),
        });
        Ok(pb::GetApplicationResponse {
            application: Some(pb::Application {
                application_id: a.application_id.clone(),
                unit_id: a.unit_id.clone(),
                state: a.state,
                applicant: Some(applicant),
                is_child: a.is_child,
                guardian,
                submitted_by: a.submitted_by.clone(),
                submitted_at: Some(timestamp(a.submitted_at)),
                proposal_note: a.proposal_note.clone(),
                resolution_number: a.resolution_number.clone(),
                resolution_date: a.resolution_date.map(format_date).unwrap_or_default(),
                signer: a.signer.clone(),
                rejection_reason: a.rejection_reason.clone(),
                member_id: a.member_id.clone(),
                documents: documents_out(&a.documents),
            }),
        })
    }

    pub(super) async fn list_applications(
        &self,
        caller: &Caller,
        r: pb::ListApplicationsRequest,
    ) -> AppResult<pb::ListApplicationsResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let state = match r.state {
            0 => None,
            1..=4 => Some(r.state),
            _ => return Err(AppError::invalid("state", "must be an ApplicationState or unspecified")),
        };
        let limit = page_size(r.page_size, 100, 500)?;
        let ids = units::subtree_ids(&self.ctx.db, &unit.path).await?;
        let rows = applications::of_units(&self.ctx.db, ids, state, limit).await?;
        Ok(pb::ListApplicationsResponse { applications: rows.iter().map(summary).collect() })
    }
}
