//! Finding members (by name without diacritics, number, or exactly by phone or citizen ID
//! through the blind indexes, audited) and the verifiable member card: signed tokens, the
//! published key set and the revocation list.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Months, NaiveDate};
use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::card::{CardClaims, CardKeys, CardSigner};
use doan_platform::convert::{decode_page_token, encode_page_token, format_date, page_size, parse_date};
use doan_platform::error::AppResult;
use doan_platform::text::TextRule;
use doan_proto::membership as pb;

use super::MembershipApi;
use super::members::summary;
use crate::domain::member::{CitizenId, Phone, member_number, name_key, parse_member_number, parse_sex};
use crate::storage::entities::member;
use crate::storage::members::{self, Search};

/// Days a card token stays valid after issue; also the revocation list's default window.
pub const CARD_VALID_DAYS: u64 = 30;

/// The card signer and the keys published for verification.
#[derive(Clone)]
pub struct Cards {
    /// Signs with membership's key.
    pub signer: CardSigner,
    /// Every key a valid card may carry: the signer's and the configured verifying keys.
    pub keys: CardKeys,
}

impl Cards {
    /// From `auth.signing_key_pem` and `auth.verifying_key_pem` (rotation keeps old keys).
    pub fn from_settings(signing_pem: &str, verifying_pem: Option<&str>) -> anyhow::Result<Self> {
        let signer = CardSigner::from_pem(signing_pem)?;
        let mut keys = match verifying_pem {
            Some(pem) => CardKeys::from_pem(pem)?,
            None => CardKeys::default(),
        };
        keys.add(signer.verifying_key());
        Ok(Self { signer, keys })
    }
}

fn page_after(token: &str) -> AppResult<i64> {
    match decode_page_token(token)? {
        Some(t) => t.parse().map_err(|_| AppError::invalid("page_token", "is not a token this API returned")),
        None => Ok(0),
    }
}

fn next_token(rows: &mut Vec<member::Model>, limit: u64) -> String {
    if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|m| encode_page_token(&m.seq.to_string())).unwrap_or_default()
    } else {
        String::new()
    }
}

impl MembershipApi {
    /// `m`'s card token and its last valid day.
    pub(super) fn card_token(&self, m: &member::Model) -> AppResult<(String, NaiveDate)> {
        let today = self.ctx.clock.today();
        let valid_until = today + chrono::Duration::days(CARD_VALID_DAYS as i64);
        let branch_id = uuid::Uuid::parse_str(&m.unit_id)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("unit id {} is not a UUID: {e}", m.unit_id)))?;
        let claims = CardClaims {
            member_seq: m.seq.max(0) as u64,
            status: m.status.clamp(0, 255) as u8,
            issued_on: today,
            valid_until,
            branch_id,
            full_name: m.full_name.clone(),
        };
        Ok((self.cards.signer.sign(&claims), valid_until))
    }

    pub(super) async fn search_members(
        &self,
        caller: &Caller,
        r: pb::SearchMembersRequest,
    ) -> AppResult<pb::SearchMembersResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let limit = page_size(r.page_size, 50, 200)?;
        let after = page_after(&r.page_token)?;
        let name = TextRule::optional_line(200).parse("name", &r.name)?;
        let key = name_key(&name).replace(['%', '_', '\\'], "");
        let today = self.ctx.clock.today();
        let years_ago = |years: i32, field: &'static str| {
            u32::try_from(years)
                .ok()
                .filter(|y| *y <= 150)
                .and_then(|y| today.checked_sub_months(Months::new(12 * y)))
                .ok_or_else(|| AppError::invalid(field, "must be 0 to 150 years"))
        };
        let born_until = if r.min_age > 0 { Some(years_ago(r.min_age, "min_age")?) } else { None };
        let born_from = if r.max_age > 0 {
            if r.max_age < r.min_age {
                return Err(AppError::invalid("max_age", "must not be below min_age"));
            }
            Some(years_ago(r.max_age + 1, "max_age")? + chrono::Duration::days(1))
        } else {
            if r.max_age < 0 {
                return Err(AppError::invalid("max_age", "must be 0 to 150 years"));
            }
            None
        };
        let phone = (!r.phone.trim().is_empty()).then(|| Phone::parse(&r.phone)).transpose()?;
        let citizen_id = (!r.citizen_id.trim().is_empty()).then(|| CitizenId::parse(&r.citizen_id)).transpose()?;
        let sensitive = phone.is_some() || citizen_id.is_some();
        let purpose = if sensitive { Some(Self::required_purpose(r.purpose_code, &r.purpose)?) } else { None };
        let search = Search {
            path: unit.path.clone(),
            name_key: (!key.is_empty()).then_some(key),
            seq: (!r.member_number.trim().is_empty())
                .then(|| parse_member_number("member_number", &r.member_number))
                .transpose()?,
            phone_index: phone.map(|p| self.cipher.blind_index(p.as_str())),
            citizen_id_index: citizen_id.map(|c| self.cipher.blind_index(c.as_str())),
            status: match r.status {
                0 => None,
                1..=5 => Some(r.status),
                _ => return Err(AppError::invalid("status", "must be a MemberStatus or unspecified")),
            },
            sex: if r.sex == 0 { None } else { Some(parse_sex(r.sex)?) },
            born_from,
            born_until,
        };
        let mut rows = members::search(&self.ctx.db, &search, after, limit + 1).await?;
        let next_page_token = next_token(&mut rows, limit);
        if let Some(purpose) = purpose {
            // A phone or citizen ID tied to a person is personal data handed out.
            for m in &rows {
                self.log_access(&self.ctx.db, caller, &m.member_id, "SearchMembers", &purpose).await?;
            }
        }
        Ok(pb::SearchMembersResponse { members: rows.into_iter().map(summary).collect(), next_page_token })
    }

    pub(super) async fn get_card_keys(&self, _r: pb::GetCardKeysRequest) -> AppResult<pb::GetCardKeysResponse> {
        let keys = self
            .cards
            .keys
            .keys()
            .map(|(id, key)| pb::CardKey {
                key_id: id.iter().map(|b| format!("{b:02x}")).collect(),
                public_key: URL_SAFE_NO_PAD.encode(key.as_bytes()),
                algorithm: "Ed25519".into(),
            })
            .collect();
        Ok(pb::GetCardKeysResponse { keys })
    }

    pub(super) async fn list_revoked_cards(
        &self,
        caller: &Caller,
        r: pb::ListRevokedCardsRequest,
    ) -> AppResult<pb::ListRevokedCardsResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let since = if r.since.trim().is_empty() {
            self.ctx.clock.today() - chrono::Duration::days(CARD_VALID_DAYS as i64)
        } else {
            parse_date("since", &r.since)?
        };
        let limit = page_size(r.page_size, 1000, 5000)?;
        let after = page_after(&r.page_token)?;
        let mut rows = members::revoked(&self.ctx.db, &unit.path, since, after, limit + 1).await?;
        let next_page_token = next_token(&mut rows, limit);
        Ok(pb::ListRevokedCardsResponse {
            revoked: rows
                .into_iter()
                .map(|m| pb::RevokedCard {
                    member_number: member_number(m.seq),
                    status: m.status,
                    since: m.status_changed_on.map(format_date).unwrap_or_default(),
                })
                .collect(),
            next_page_token,
        })
    }

    /// Fills the search keys of members that predate them (name without diacritics, phone
    /// blind index), before the service serves.
    pub async fn backfill_search_keys(&self) -> AppResult<()> {
        let mut filled = 0;
        loop {
            let page = members::without_search_keys(&self.ctx.db, 500).await?;
            if page.is_empty() {
                break;
            }
            for m in &page {
                let phone = self.open(&members::protected("phone_enc", &m.member_id), &m.phone_enc)?;
                let key = name_key(&m.full_name);
                // A name that normalises to nothing still gets a key, so the pass ends.
                let key = if key.is_empty() { "-".to_string() } else { key };
                members::set_search_keys(&self.ctx.db, m.seq, &key, &self.cipher.blind_index(&phone)).await?;
            }
            filled += page.len();
        }
        if filled > 0 {
            tracing::info!(members = filled, "search keys filled for earlier members");
        }
        Ok(())
    }
}
