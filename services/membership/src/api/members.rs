//! Members: admission, the full record (audited), the card, subtree listing.

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{decode_page_token, encode_page_token, format_date, page_size, parse_id};
use doan_platform::error::AppResult;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;

use super::MembershipApi;
use crate::domain::member::{Admission, AdmissionAuthority, AdmissionInput, MemberStatus, member_number};
use crate::domain::stats::{self, MemberFacts};
use crate::domain::unit::UnitLevel;
use crate::events::publish;
use crate::storage::entities::member;
use crate::storage::members::NewMember;
use crate::storage::{access_log, members, placements, statistics, units};
use chrono::Datelike;

pub(super) fn summary(m: member::Model) -> pb::MemberSummary {
    pb::MemberSummary {
        member_id: m.member_id,
        member_number: member_number(m.seq),
        full_name: m.full_name,
        unit_id: m.unit_id,
        admitted_on: format_date(m.admitted_on),
        status: m.status,
    }
}

impl MembershipApi {
    /// `m` with its positions, as the API returns it.
    pub(super) async fn member_full(&self, m: member::Model) -> AppResult<pb::Member> {
        let held = crate::storage::positions::of_member(&self.ctx.db, &m.member_id).await?;
        let today = self.ctx.clock.today();
        let mut out = self.member_to_pb(m)?;
        out.positions = held.into_iter().map(|p| super::positions::position_to_pb(p, today)).collect();
        Ok(out)
    }

    fn member_to_pb(&self, m: member::Model) -> AppResult<pb::Member> {
        let open = |column: &'static str, value: &str| self.open(&members::protected(column, &m.member_id), value);
        Ok(pb::Member {
            member_number: member_number(m.seq),
            ethnicity: open("ethnicity_enc", &m.ethnicity_enc)?,
            religion: open("religion_enc", &m.religion_enc)?,
            citizen_id: open("citizen_id_enc", &m.citizen_id_enc)?,
            phone: open("phone_enc", &m.phone_enc)?,
            member_id: m.member_id,
            full_name: m.full_name,
            date_of_birth: format_date(m.date_of_birth),
            sex: m.sex,
            email: m.email,
            unit_id: m.unit_id,
            admitted_on: format_date(m.admitted_on),
            resolution_number: m.resolution_number,
            status: m.status,
            guardian_consent: m.guardian_consent,
            admission_rule: m.admission_rule,
            party_admitted_on: m.party_admitted_on.map(format_date).unwrap_or_default(),
            status_changed_on: m.status_changed_on.map(format_date).unwrap_or_default(),
            status_reason: m.status_reason,
            version: m.version.max(1) as u64,
            profile: Some(pb::MemberProfile {
                hometown: m.hometown,
                residence: m.residence,
                citizen_id_issued_on: m.citizen_id_issued_on.map(format_date).unwrap_or_default(),
                citizen_id_issued_place: m.citizen_id_issued_place,
                education_level: m.education_level,
                professional_level: m.professional_level,
                political_theory_level: m.political_theory_level,
                it_level: m.it_level,
                language_level: m.language_level,
                occupation: m.occupation,
            }),
            positions: Vec::new(),
        })
    }

    pub(super) async fn member(&self, field: &'static str, member_id: &str) -> AppResult<member::Model> {
        let member_id = parse_id(field, member_id)?;
        members::find(&self.ctx.db, &member_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("member {member_id} ({field}) does not exist")))
    }

    pub(super) async fn admit_member(
        &self,
        caller: &Caller,
        r: pb::AdmitMemberRequest,
    ) -> AppResult<pb::AdmitMemberResponse> {
        let (unit, authority) = self.admitting_unit(caller, &r.unit_id).await?;
        let created = self.admit(caller, &unit, authority, &r, None).await?;
        // A member admitted a moment ago holds no position yet.
        Ok(pb::AdmitMemberResponse { member: Some(self.member_to_pb(created)?) })
    }

    /// The unit `unit_id` a member is admitted to (an active branch or chi đoàn cơ sở of the
    /// caller's subtree) and the caller's authority: a branch's own officers propose, they do
    /// not admit.
    pub(super) async fn admitting_unit(
        &self,
        caller: &Caller,
        unit_id: &str,
    ) -> AppResult<(crate::storage::entities::unit::Model, AdmissionAuthority)> {
        caller.require_officer()?;
        let unit = self.managed_unit(caller, "unit_id", unit_id).await?;
        super::units::require_active(&unit)?;
        let level = UnitLevel::from_stored(unit.level);
        if !level.is_some_and(UnitLevel::holds_members) {
            return Err(AppError::FailedPrecondition(format!(
                "members are admitted to a branch (UNIT_LEVEL_BRANCH) or a chi đoàn cơ sở (UNIT_LEVEL_GRASSROOTS_BRANCH); unit {} is neither",
                unit.unit_id
            )));
        }
        // The admission is decided at grassroots level or above: a branch's own officers
        // propose, they do not admit.
        let authority = AdmissionAuthority::of(
            caller.role == Role::Admin,
            caller.unit_id.as_deref(),
            &unit.path,
            level == Some(UnitLevel::Branch),
        );
        if authority == AdmissionAuthority::Proposes {
            return Err(AppError::PermissionDenied(format!(
                "a branch officer proposes admissions; the grassroots unit above branch {} decides them",
                unit.unit_id
            )));
        }
        Ok((unit, authority))
    }

    /// Admits the member `r` describes to `unit` by the caller's `authority`: the rules in
    /// force on the admission date, identity documents, duplicates; the member, its
    /// placement, counters, event and access record in one transaction, with `application`
    /// (marked admitted) when the admission decides one.
    pub(super) async fn admit(
        &self,
        caller: &Caller,
        unit: &crate::storage::entities::unit::Model,
        authority: AdmissionAuthority,
        r: &pb::AdmitMemberRequest,
        application: Option<crate::storage::entities::application::ActiveModel>,
    ) -> AppResult<member::Model> {
        let input = AdmissionInput {
            full_name: &r.full_name,
            date_of_birth: &r.date_of_birth,
            sex: r.sex,
            ethnicity: &r.ethnicity,
            religion: &r.religion,
            citizen_id: &r.citizen_id,
            phone: &r.phone,
            email: &r.email,
            admitted_on: &r.admitted_on,
            resolution_number: &r.resolution_number,
            guardian_consent: r.guardian_consent,
        };
        // The rule in force on the admission date decides; today is a Vietnam date.
        let supervising = authority == AdmissionAuthority::Supervises;
        let a = Admission::check(&input, &self.rules.admission, self.ctx.clock.today(), supervising)
            .map_err(|mut problems| problems.remove(0).error)?;
        let Admission {
            full_name, name_key, date_of_birth, sex, ethnicity, religion, citizen_id, phone, email, ..
        } = a.clone();
        let (admitted_on, resolution_number) = (a.admitted_on, a.resolution_number.clone());
        let citizen_index = self.cipher.blind_index(citizen_id.as_str());
        // One query finds both: the same citizen ID, or the same name and date of birth.
        let (same_citizen, twin) =
            members::same_citizen_or_person(&self.ctx.db, &citizen_index, &name_key, date_of_birth).await?;
        if same_citizen.is_some() {
            return Err(AppError::AlreadyExists("a member with this citizen_id already exists".into()));
        }
        if let Some(same) = twin.filter(|_| !r.confirm_possible_duplicate) {
            return Err(AppError::FailedPrecondition(format!(
                "member {} has the same name and date of birth; if this is another person, admit again with confirm_possible_duplicate",
                member_number(same.seq)
            )));
        }

        let txn = self.ctx.db.begin().await?;
        let member_id = doan_platform::convert::new_id();
        let seal = |column: &'static str, value: &str| self.cipher.seal(&members::protected(column, &member_id), value);
        let new = NewMember {
            ethnicity_enc: seal("ethnicity_enc", &ethnicity),
            religion_enc: seal("religion_enc", &religion),
            citizen_id_enc: seal("citizen_id_enc", citizen_id.as_str()),
            phone_enc: seal("phone_enc", phone.as_str()),
            member_id: member_id.clone(),
            full_name,
            date_of_birth,
            sex,
            citizen_id_index: citizen_index,
            phone_index: self.cipher.blind_index(phone.as_str()),
            name_key,
            email,
            unit_id: unit.unit_id.clone(),
            unit_path: unit.path.clone(),
            admitted_on,
            resolution_number,
            status: MemberStatus::Active,
            guardian_consent: r.guardian_consent,
            admitted_by: caller.account_id.clone(),
            created_at: self.ctx.clock.now(),
            admission_rule: a.rule_id.clone(),
            import_id: String::new(),
        };
        let created = members::admit(&txn, new).await.map_err(|e| {
            if doan_platform::db::is_unique_violation(&e) {
                AppError::AlreadyExists("a member with this citizen_id already exists".into())
            } else {
                e.into()
            }
        })?;
        let event = publish::member_admitted(&created);
        self.ctx.outbox.enqueue(&txn, &event).await?;
        let facts = MemberFacts {
            status: MemberStatus::Active,
            sex,
            birth_year: date_of_birth.year(),
            kinh: stats::is_kinh(&ethnicity),
        };
        let mut counted = stats::diff(None, Some(&facts));
        counted.push(stats::flow("admitted", admitted_on));
        let rpc = match application {
            Some(mut application) => {
                application.state = sea_orm::Set(3);
                application.member_id = sea_orm::Set(created.member_id.clone());
                application.decided_by = sea_orm::Set(caller.account_id.clone());
                crate::storage::applications::update(&txn, application).await?;
                "DecideApplication"
            }
            None => "AdmitMember",
        };
        // The response carries the new member's personal data: logged like any other read.
        self.log_access(&txn, caller, &created.member_id, rpc, "admission record returned to the admitting officer")
            .await?;
        // Counters last: their row locks are held only until the commit.
        statistics::apply_at(&txn, &created.unit_id, &unit.path, &counted).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(member_id = %created.member_id, unit_id = %unit.unit_id, by = %caller.account_id, "member admitted");
        Ok(created)
    }

    pub(super) async fn get_member(
        &self,
        caller: &Caller,
        r: pb::GetMemberRequest,
    ) -> AppResult<pb::GetMemberResponse> {
        let member = self.member("member_id", &r.member_id).await?;
        let purpose = if caller.is_member(&member.member_id) {
            "self-service".to_string()
        } else {
            caller.require_manages(&member.unit_path, &format!("member {}", member.member_id))?;
            Self::required_purpose(r.purpose_code, &r.purpose)?
        };
        // Personal data leaves only with an access record.
        self.log_access(&self.ctx.db, caller, &member.member_id, "GetMember", &purpose).await?;
        Ok(pb::GetMemberResponse { member: Some(self.member_full(member).await?) })
    }

    /// Records that `caller` received `member_id`'s personal data through `rpc`, and why.
    pub(super) async fn log_access(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        caller: &Caller,
        member_id: &str,
        rpc: &str,
        purpose: &str,
    ) -> AppResult<()> {
        access_log::record(db, &caller.account_id, member_id, rpc, purpose, self.ctx.clock.now()).await?;
        Ok(())
    }

    pub(super) async fn get_member_card(
        &self,
        caller: &Caller,
        r: pb::GetMemberCardRequest,
    ) -> AppResult<pb::GetMemberCardResponse> {
        let member_id = caller.member_or_self("member_id", &r.member_id)?;
        let member = self.member("member_id", &member_id).await?;
        if !caller.is_member(&member.member_id) {
            caller.require_manages(&member.unit_path, &format!("member {}", member.member_id))?;
        }
        let unit_name = units::find(&self.ctx.db, &member.unit_id).await?.map(|u| u.name).unwrap_or_default();
        let (card_token, valid_until) = self.card_token(&member)?;
        Ok(pb::GetMemberCardResponse {
            card: Some(pb::MemberCard {
                card_token,
                valid_until: format_date(valid_until),
                member_number: member_number(member.seq),
                full_name: member.full_name,
                unit_name,
                unit_id: member.unit_id,
                admitted_on: format_date(member.admitted_on),
                status: member.status,
            }),
        })
    }

    pub(super) async fn list_members(
        &self,
        caller: &Caller,
        r: pb::ListMembersRequest,
    ) -> AppResult<pb::ListMembersResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let limit = page_size(r.page_size, 50, 500)?;
        let after: i64 = match decode_page_token(&r.page_token)? {
            Some(t) => t.parse().map_err(|_| AppError::invalid("page_token", "is not a token this API returned"))?,
            None => 0,
        };
        let mut rows = members::page_in_subtree(&self.ctx.db, &unit.path, after, limit + 1).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|m| encode_page_token(&m.seq.to_string())).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(pb::ListMembersResponse { members: rows.into_iter().map(summary).collect(), next_page_token })
    }
}

impl MembershipApi {
    pub(super) async fn get_member_unit_history(
        &self,
        caller: &Caller,
        r: pb::GetMemberUnitHistoryRequest,
    ) -> AppResult<pb::GetMemberUnitHistoryResponse> {
        let member = self.member("member_id", &r.member_id).await?;
        if !caller.is_member(&member.member_id) {
            caller.require_manages(&member.unit_path, &format!("member {}", member.member_id))?;
        }
        let rows = placements::of_member(&self.ctx.db, &member.member_id).await?;
        let ids = rows.iter().map(|p| p.unit_id.clone()).collect();
        let names = units::find_many(&self.ctx.db, &ids).await?;
        let name_of = |id: &str| names.iter().find(|u| u.unit_id == id).map(|u| u.name.clone()).unwrap_or_default();
        Ok(pb::GetMemberUnitHistoryResponse {
            placements: rows
                .into_iter()
                .map(|p| pb::MemberPlacement {
                    unit_name: name_of(&p.unit_id),
                    unit_id: p.unit_id,
                    from_on: format_date(p.from_on),
                    until_on: p.until_on.map(format_date).unwrap_or_default(),
                    reason: p.reason,
                })
                .collect(),
        })
    }
}
