//! The member record: changed field by field (a member their contact and levels, officers
//! the rest), every change versioned with who, when, before and after; personal values kept
//! encrypted in the history and shown only with a purpose.

use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::{format_date, parse_date, timestamp};
use doan_platform::error::AppResult;
use doan_platform::text::TextRule;
use doan_proto::membership as pb;
use sea_orm::{Set, TransactionTrait};

use super::MembershipApi;
use crate::domain::member::member_number;
use crate::domain::member::{
    CitizenId, Phone, name_key, parse_email, parse_ethnicity, parse_full_name, parse_religion, parse_sex,
};
use crate::domain::profile::{Field, parse_fields};
use crate::domain::stats;
use crate::events::publish;
use crate::storage::entities::{member, member_change};
use crate::storage::{applications, members, statistics};

/// A profile text field: at most 200 characters, may be empty.
fn profile_text(field: &'static str, value: &str) -> AppResult<String> {
    TextRule::optional_line(200).parse(field, value)
}

impl MembershipApi {
    /// The current value of `field` in `m`, as text (decrypted).
    fn field_value(&self, m: &member::Model, field: Field) -> AppResult<String> {
        let open = |column: &'static str, v: &str| self.open(&members::protected(column, &m.member_id), v);
        Ok(match field {
            Field::FullName => m.full_name.clone(),
            Field::DateOfBirth => format_date(m.date_of_birth),
            Field::Sex => m.sex.to_string(),
            Field::Ethnicity => open("ethnicity_enc", &m.ethnicity_enc)?,
            Field::Religion => open("religion_enc", &m.religion_enc)?,
            Field::CitizenId => open("citizen_id_enc", &m.citizen_id_enc)?,
            Field::Phone => open("phone_enc", &m.phone_enc)?,
            Field::Email => m.email.clone(),
            Field::Hometown => m.hometown.clone(),
            Field::Residence => m.residence.clone(),
            Field::CitizenIdIssuedOn => m.citizen_id_issued_on.map(format_date).unwrap_or_default(),
            Field::CitizenIdIssuedPlace => m.citizen_id_issued_place.clone(),
            Field::EducationLevel => m.education_level.clone(),
            Field::ProfessionalLevel => m.professional_level.clone(),
            Field::PoliticalTheoryLevel => m.political_theory_level.clone(),
            Field::ItLevel => m.it_level.clone(),
            Field::LanguageLevel => m.language_level.clone(),
            Field::Occupation => m.occupation.clone(),
        })
    }

    /// Parses the new value of `field` from `r` and sets it on `row`; returns it as text.
    async fn set_field(
        &self,
        row: &mut member::ActiveModel,
        m: &member::Model,
        field: Field,
        r: &pb::UpdateMemberRequest,
    ) -> AppResult<String> {
        let profile = r.profile.clone().unwrap_or_default();
        let today = self.ctx.clock.today();
        Ok(match field {
            Field::FullName => {
                let name = parse_full_name(&r.full_name)?;
                row.name_key = Set(name_key(&name));
                row.full_name = Set(name.clone());
                name
            }
            Field::DateOfBirth => {
                let dob = parse_date("date_of_birth", &r.date_of_birth)?;
                if dob > today {
                    return Err(AppError::invalid("date_of_birth", "must not be in the future"));
                }
                row.date_of_birth = Set(dob);
                format_date(dob)
            }
            Field::Sex => {
                let sex = parse_sex(r.sex)?;
                row.sex = Set(sex);
                sex.to_string()
            }
            Field::Ethnicity => {
                let v = parse_ethnicity(&r.ethnicity)?;
                row.ethnicity_enc = Set(self.cipher.seal(&members::protected("ethnicity_enc", &m.member_id), &v));
                v
            }
            Field::Religion => {
                let v = parse_religion(&r.religion)?;
                row.religion_enc = Set(self.cipher.seal(&members::protected("religion_enc", &m.member_id), &v));
                v
            }
            Field::CitizenId => {
                let id = CitizenId::parse(&r.citizen_id)?;
                let index = self.cipher.blind_index(id.as_str());
                if members::by_citizen_index(&self.ctx.db, &index).await?.is_some_and(|o| o.member_id != m.member_id) {
                    return Err(AppError::AlreadyExists("another member has this citizen_id".into()));
                }
                row.citizen_id_enc =
                    Set(self.cipher.seal(&members::protected("citizen_id_enc", &m.member_id), id.as_str()));
                row.citizen_id_index = Set(index);
                id.as_str().to_string()
            }
            Field::Phone => {
                let phone = Phone::parse(&r.phone)?;
                row.phone_enc = Set(self.cipher.seal(&members::protected("phone_enc", &m.member_id), phone.as_str()));
                row.phone_index = Set(self.cipher.blind_index(phone.as_str()));
                phone.as_str().to_string()
            }
            Field::Email => {
                let v = parse_email(&r.email)?;
                row.email = Set(v.clone());
                v
            }
            Field::CitizenIdIssuedOn => {
                let on = parse_date("profile.citizen_id_issued_on", &profile.citizen_id_issued_on)?;
                if on > today || on < m.date_of_birth {
                    return Err(AppError::invalid(
                        "profile.citizen_id_issued_on",
                        "must be between the date of birth and today",
                    ));
                }
                row.citizen_id_issued_on = Set(Some(on));
                format_date(on)
            }
            Field::Hometown => {
                let v = profile_text("profile.hometown", &profile.hometown)?;
                row.hometown = Set(v.clone());
                v
            }
            Field::Residence => {
                let v = profile_text("profile.residence", &profile.residence)?;
                row.residence = Set(v.clone());
                v
            }
            Field::CitizenIdIssuedPlace => {
                let v = profile_text("profile.citizen_id_issued_place", &profile.citizen_id_issued_place)?;
                row.citizen_id_issued_place = Set(v.clone());
                v
            }
            Field::EducationLevel => {
                let v = profile_text("profile.education_level", &profile.education_level)?;
                row.education_level = Set(v.clone());
                v
            }
            Field::ProfessionalLevel => {
                let v = profile_text("profile.professional_level", &profile.professional_level)?;
                row.professional_level = Set(v.clone());
                v
            }
            Field::PoliticalTheoryLevel => {
                let v = profile_text("profile.political_theory_level", &profile.political_theory_level)?;
                row.political_theory_level = Set(v.clone());
                v
            }
            Field::ItLevel => {
                let v = profile_text("profile.it_level", &profile.it_level)?;
                row.it_level = Set(v.clone());
                v
            }
            Field::LanguageLevel => {
                let v = profile_text("profile.language_level", &profile.language_level)?;
                row.language_level = Set(v.clone());
                v
            }
            Field::Occupation => {
                let v = profile_text("profile.occupation", &profile.occupation)?;
                row.occupation = Set(v.clone());
                v
            }
        })
    }

    pub(super) async fn update_member(
        &self,
        caller: &Caller,
        r: pb::UpdateMemberRequest,
    ) -> AppResult<pb::UpdateMemberResponse> {
        let m = self.member("member_id", &r.member_id).await?;
        let own = caller.is_member(&m.member_id);
        if !own {
            caller.require_manages(&m.unit_path, &format!("member {}", m.member_id))?;
        }
        let fields = parse_fields(&r.fields, own)?;
        if m.anonymised_at.is_some() {
            return Err(AppError::FailedPrecondition(format!(
                "member {}'s personal data was anonymised after the retention period; it is not written again",
                member_number(m.seq)
            )));
        }
        let purpose =
            if own { "self-service".to_string() } else { Self::required_purpose(r.purpose_code, &r.purpose)? };
        if r.expected_version != 0 && r.expected_version != m.version.max(1) as u64 {
            return Err(AppError::FailedPrecondition(format!(
                "member {} changed since you read it (version {}, you read {}); read it again",
                m.member_id, m.version, r.expected_version
            )));
        }
        let mut row: member::ActiveModel = m.clone().into();
        let version = m.version + 1;
        let now = self.ctx.clock.now();
        let mut history = Vec::new();
        for field in &fields {
            let before = self.field_value(&m, *field)?;
            let after = self.set_field(&mut row, &m, *field, &r).await?;
            if before == after {
                continue;
            }
            let (before, after) = if field.personal() {
                let at = |side| applications::change_field(side, &m.member_id, version, field.name());
                (self.cipher.seal(&at("before_value"), &before), self.cipher.seal(&at("after_value"), &after))
            } else {
                (before, after)
            };
            history.push(member_change::ActiveModel {
                member_id: Set(m.member_id.clone()),
                version: Set(version),
                field: Set(field.name().to_string()),
                before_value: Set(before),
                after_value: Set(after),
                personal: Set(field.personal()),
                changed_by: Set(caller.account_id.clone()),
                changed_at: Set(now),
                ..Default::default()
            });
        }
        if history.is_empty() {
            return Ok(pb::UpdateMemberResponse { member: Some(self.member_full(m).await?) });
        }
        row.version = Set(version);
        let before_facts = self.facts(&m)?;
        let txn = self.ctx.db.begin().await?;
        // Only over the version read: an anonymisation or another change in between wins.
        let written = members::replace_if_unchanged(&txn, row, &m.member_id, m.version).await.map_err(|e| {
            if doan_platform::db::is_unique_violation(&e) {
                AppError::AlreadyExists("another member has this citizen_id".into())
            } else {
                AppError::from(e)
            }
        })?;
        let updated = match written {
            true => members::find(&txn, &m.member_id).await?,
            false => None,
        };
        let Some(updated) = updated else {
            txn.rollback().await?;
            return Err(AppError::FailedPrecondition(format!(
                "member {} changed while this change was being made; read it again",
                member_number(m.seq)
            )));
        };
        // Sex, year of birth and ethnicity group are counted: move the counts with them.
        let after_facts = self.facts(&updated)?;
        statistics::apply(&txn, &updated.unit_id, &stats::diff(Some(&before_facts), Some(&after_facts))).await?;
        applications::record_changes(&txn, history).await?;
        self.ctx.outbox.enqueue(&txn, &publish::member_updated(&updated)).await?;
        self.log_access(&txn, caller, &updated.member_id, "UpdateMember", &purpose).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(member_id = %updated.member_id, version, by = %caller.account_id, "member record changed");
        Ok(pb::UpdateMemberResponse { member: Some(self.member_full(updated).await?) })
    }

    pub(super) async fn get_member_history(
        &self,
        caller: &Caller,
        r: pb::GetMemberHistoryRequest,
    ) -> AppResult<pb::GetMemberHistoryResponse> {
        let m = self.member("member_id", &r.member_id).await?;
        let own = caller.is_member(&m.member_id);
        if !own {
            caller.require_manages(&m.unit_path, &format!("member {}", m.member_id))?;
        }
        let purpose = match own {
            true => Some("self-service".to_string()),
            false => Self::stated_purpose(r.purpose_code, &r.purpose)?,
        };
        let rows = applications::changes_of(&self.ctx.db, &m.member_id).await?;
        if let Some(purpose) = purpose.as_ref().filter(|_| rows.iter().any(|c| c.personal)) {
            self.log_access(&self.ctx.db, caller, &m.member_id, "GetMemberHistory", purpose).await?;
        }
        let open = |side, c: &member_change::Model, v: &str| {
            self.open(&applications::change_field(side, &c.member_id, c.version, &c.field), v)
        };
        let mut changes = Vec::with_capacity(rows.len());
        for c in rows {
            let (before, after) = match (c.personal, purpose.is_some()) {
                (false, _) => (c.before_value, c.after_value),
                (true, true) => (open("before_value", &c, &c.before_value)?, open("after_value", &c, &c.after_value)?),
                (true, false) => (String::new(), String::new()),
            };
            changes.push(pb::MemberChange {
                version: c.version.max(0) as u64,
                field: c.field,
                before,
                after,
                changed_by: c.changed_by,
                changed_at: Some(timestamp(c.changed_at)),
            });
        }
        Ok(pb::GetMemberHistoryResponse { changes })
    }
}
