//! Introduction of outstanding members to the Party (giới thiệu đoàn viên ưu tú cho Đảng): the
//! branch's resolution, eligibility by the evaluation rule (age, latest confirmed rating), the
//! list sent by the grassroots level, each member's outcome, and the subtree's figures.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::{format_date, new_id, parse_date, parse_id, required_text, timestamp};
use doan_platform::error::AppResult;
use doan_platform::text::TextRule;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;

use super::MembershipApi;
use super::leaving::record_party_admission_in;
use crate::domain::evaluation::{PartyCandidate, Rating, check_year, party_eligibility};
use crate::domain::member::{MemberStatus, member_number};
use crate::storage::entities::{party_introduction, party_introduction_member, unit};
use crate::storage::{evaluation, members, party};

/// States and outcomes (numbers match `doan.membership.v1.IntroductionState` and
/// `IntroductionOutcome`).
const PROPOSED: i32 = 1;
const SENT: i32 = 2;
const PENDING: i32 = 1;
const ADMITTED: i32 = 2;
const NOT_ADMITTED: i32 = 3;

/// The most members in one introduction.
const MAX_INTRODUCED: usize = 100;

impl MembershipApi {
    async fn introduction_to_pb(&self, i: party_introduction::Model) -> AppResult<pb::PartyIntroduction> {
        let rows = party::members(&self.ctx.db, &i.introduction_id).await?;
        self.introduction_with(i, rows).await
    }

    async fn introduction_with(
        &self,
        i: party_introduction::Model,
        rows: Vec<party_introduction_member::Model>,
    ) -> AppResult<pb::PartyIntroduction> {
        let ids: Vec<String> = rows.iter().map(|r| r.member_id.clone()).collect();
        let ms = members::find_many(&self.ctx.db, &ids).await?;
        let mut introduced: Vec<pb::IntroducedMember> = rows
            .into_iter()
            .map(|r| {
                let m = ms.iter().find(|m| m.member_id == r.member_id);
                pb::IntroducedMember {
                    full_name: m.map(|m| m.full_name.clone()).unwrap_or_default(),
                    member_number: m.map(|m| member_number(m.seq)).unwrap_or_default(),
                    member_id: r.member_id,
                    rating: r.rating,
                    rating_year: r.rating_year,
                    outcome: r.outcome,
                    admitted_on: r.admitted_on.map(format_date).unwrap_or_default(),
                    decision_number: r.decision_number,
                    note: r.note,
                }
            })
            .collect();
        introduced.sort_by(|a, b| a.member_number.cmp(&b.member_number));
        Ok(pb::PartyIntroduction {
            introduction_id: i.introduction_id,
            unit_id: i.unit_id,
            resolution_number: i.resolution_number,
            resolution_date: format_date(i.resolution_date),
            state: i.state,
            party_committee: i.party_committee,
            sent_on: i.sent_on.map(format_date).unwrap_or_default(),
            members: introduced,
            created_by: i.created_by,
            created_at: Some(timestamp(i.created_at)),
            sent_by: i.sent_by,
        })
    }

    /// The introduction named in `field` and its branch, which the caller manages.
    async fn managed_introduction(
        &self,
        caller: &Caller,
        id: &str,
    ) -> AppResult<(party_introduction::Model, unit::Model)> {
        let id = parse_id("introduction_id", id)?;
        let i = party::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("introduction {id} (introduction_id) does not exist")))?;
        let branch = self.managed_unit(caller, "introduction_id", &i.unit_id).await?;
        Ok((i, branch))
    }

    pub(super) async fn propose_party_introduction(
        &self,
        caller: &Caller,
        r: pb::ProposePartyIntroductionRequest,
    ) -> AppResult<pb::ProposePartyIntroductionResponse> {
        let branch = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let number = required_text("resolution_number", &r.resolution_number, 64)?;
        let on = parse_date("resolution_date", &r.resolution_date)?;
        let today = self.ctx.clock.today();
        if on > today || on + Days::new(365) < today {
            return Err(AppError::invalid("resolution_date", "must be within the last year, not in the future"));
        }
        if r.member_ids.is_empty() || r.member_ids.len() > MAX_INTRODUCED {
            return Err(AppError::invalid("member_ids", format!("must name 1 to {MAX_INTRODUCED} members")));
        }
        let mut ids = BTreeSet::new();
        for id in &r.member_ids {
            if !ids.insert(parse_id("member_ids", id)?) {
                return Err(AppError::invalid("member_ids", "names a member twice"));
            }
        }
        let ids: Vec<String> = ids.into_iter().collect();
        let rule = &self.rules.evaluation.at("resolution_date", on)?.rule;
        let ms = members::find_many(&self.ctx.db, &ids).await?;
        let others = party::of_members(&self.ctx.db, &ids).await?;
        let introduction_id = new_id();
        let mut rows = Vec::with_capacity(ids.len());
        for id in &ids {
            let Some(m) = ms.iter().find(|m| &m.member_id == id && m.unit_id == branch.unit_id) else {
                return Err(AppError::FailedPrecondition(format!(
                    "member {id} is not a member of unit {}",
                    branch.unit_id
                )));
            };
            let latest = evaluation::ratings_of_member(&self.ctx.db, id).await?.into_iter().find(|x| x.state == 2);
            let mut rating_year = 0;
            let latest_rating = match &latest {
                Some(x) => {
                    rating_year = evaluation::period(&self.ctx.db, &x.period_id).await?.map(|p| p.year).unwrap_or(0);
                    Rating::from_number(x.rating).map(|rating| (rating, x.period_ends_on))
                }
                None => None,
            };
            let candidate = PartyCandidate {
                active: MemberStatus::from_stored(m.status) == MemberStatus::Active,
                party_member: m.party_admitted_on.is_some(),
                date_of_birth: m.date_of_birth,
                latest_rating,
                pending_elsewhere: others.iter().any(|o| &o.member_id == id && o.outcome == PENDING),
            };
            party_eligibility(&candidate, on, rule)
                .map_err(|why| AppError::FailedPrecondition(format!("member {id} {why}")))?;
            rows.push(party_introduction_member::Model {
                introduction_id: introduction_id.clone(),
                member_id: id.clone(),
                rating: latest.map(|x| x.rating).unwrap_or_default(),
                rating_year,
                outcome: PENDING,
                admitted_on: None,
                decision_number: String::new(),
                note: String::new(),
            });
        }
        let intro = party_introduction::Model {
            introduction_id,
            unit_id: branch.unit_id.clone(),
            resolution_number: number,
            resolution_date: on,
            state: PROPOSED,
            party_committee: String::new(),
            sent_on: None,
            sent_by: String::new(),
            created_by: caller.account_id.clone(),
            created_at: self.ctx.clock.now(),
        };
        let txn = self.ctx.db.begin().await?;
        doan_platform::db::unique_or(party::insert(&txn, intro.clone(), rows.clone()).await, || {
            AppError::FailedPrecondition("a member of the list was proposed in another introduction meanwhile".into())
        })?;
        txn.commit().await?;
        Ok(pb::ProposePartyIntroductionResponse { introduction: Some(self.introduction_with(intro, rows).await?) })
    }

    pub(super) async fn send_party_introduction(
        &self,
        caller: &Caller,
        r: pb::SendPartyIntroductionRequest,
    ) -> AppResult<pb::SendPartyIntroductionResponse> {
        let (i, branch) = self.managed_introduction(caller, &r.introduction_id).await?;
        if caller.role == doan_platform::auth::Role::Officer
            && caller.unit_id.as_deref() == Some(branch.unit_id.as_str())
        {
            return Err(AppError::PermissionDenied("the grassroots level sends the branch's list to the Party".into()));
        }
        let committee = TextRule::line(200).parse("party_committee", &r.party_committee)?;
        let on = parse_date("sent_on", &r.sent_on)?;
        if on < i.resolution_date || on > self.ctx.clock.today() {
            return Err(AppError::invalid("sent_on", "must be from the resolution date to today"));
        }
        if i.state != PROPOSED {
            return Err(AppError::FailedPrecondition(format!("introduction {} is already sent", i.introduction_id)));
        }
        let txn = self.ctx.db.begin().await?;
        if !party::send(&txn, &i.introduction_id, &committee, on, &caller.account_id).await? {
            return Err(AppError::FailedPrecondition(format!("introduction {} was sent meanwhile", i.introduction_id)));
        }
        txn.commit().await?;
        let i =
            party::find(&self.ctx.db, &i.introduction_id).await?.ok_or_else(|| AppError::NotFound("gone".into()))?;
        Ok(pb::SendPartyIntroductionResponse { introduction: Some(self.introduction_to_pb(i).await?) })
    }

    pub(super) async fn record_introduction_outcome(
        &self,
        caller: &Caller,
        r: pb::RecordIntroductionOutcomeRequest,
    ) -> AppResult<pb::RecordIntroductionOutcomeResponse> {
        let (i, _) = self.managed_introduction(caller, &r.introduction_id).await?;
        let member_id = parse_id("member_id", &r.member_id)?;
        let note = TextRule::optional_line(500).parse("note", &r.note)?;
        let (admitted_on, decision) = match r.outcome {
            ADMITTED => {
                let on = parse_date("admitted_on", &r.admitted_on)?;
                if i.sent_on.is_some_and(|s| on < s) || on > self.ctx.clock.today() {
                    return Err(AppError::invalid("admitted_on", "must be from the day the list was sent to today"));
                }
                (Some(on), required_text("decision_number", &r.decision_number, 64)?)
            }
            NOT_ADMITTED => (None, String::new()),
            _ => return Err(AppError::invalid("outcome", "must be ADMITTED or NOT_ADMITTED")),
        };
        if i.state != SENT {
            return Err(AppError::FailedPrecondition(format!(
                "introduction {} has not been sent to the Party",
                i.introduction_id
            )));
        }
        let rows = party::members(&self.ctx.db, &i.introduction_id).await?;
        let Some(row) = rows.iter().find(|x| x.member_id == member_id) else {
            return Err(AppError::FailedPrecondition(format!("member {member_id} is not in this introduction")));
        };
        if row.outcome != PENDING {
            return Err(AppError::FailedPrecondition(format!("member {member_id}'s outcome is already recorded")));
        }
        let mut row = row.clone();
        row.outcome = r.outcome;
        row.admitted_on = admitted_on;
        row.decision_number = decision.clone();
        row.note = note;
        let txn = self.ctx.db.begin().await?;
        if !party::record_outcome(&txn, &row).await? {
            return Err(AppError::FailedPrecondition(format!("member {member_id}'s outcome was recorded meanwhile")));
        }
        // The member record takes the admission while the member is active; a member who left
        // meanwhile keeps only the introduction's outcome.
        if let Some(on) = admitted_on
            && let Some(m) = members::find(&txn, &member_id).await?
            && m.party_admitted_on.is_none()
            && MemberStatus::from_stored(m.status) == MemberStatus::Active
        {
            record_party_admission_in(&txn, m, on, &decision).await?;
        }
        txn.commit().await?;
        Ok(pb::RecordIntroductionOutcomeResponse { introduction: Some(self.introduction_to_pb(i).await?) })
    }

    pub(super) async fn get_party_introduction(
        &self,
        caller: &Caller,
        r: pb::GetPartyIntroductionRequest,
    ) -> AppResult<pb::GetPartyIntroductionResponse> {
        let (i, _) = self.managed_introduction(caller, &r.introduction_id).await?;
        Ok(pb::GetPartyIntroductionResponse { introduction: Some(self.introduction_to_pb(i).await?) })
    }

    pub(super) async fn list_party_introductions(
        &self,
        caller: &Caller,
        r: pb::ListPartyIntroductionsRequest,
    ) -> AppResult<pb::ListPartyIntroductionsResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let (from, to) = if r.year == 0 {
            (NaiveDate::from_ymd_opt(1900, 1, 1).expect("date"), NaiveDate::from_ymd_opt(2199, 12, 31).expect("date"))
        } else {
            check_year("year", r.year)?;
            (
                NaiveDate::from_ymd_opt(r.year, 1, 1).expect("year"),
                NaiveDate::from_ymd_opt(r.year, 12, 31).expect("year"),
            )
        };
        let found = party::in_subtree(&self.ctx.db, &unit.path, from, to).await?;
        let ids: Vec<String> = found.iter().map(|i| i.introduction_id.clone()).collect();
        let mut rows = party::members_of(&self.ctx.db, &ids).await?;
        let mut out = Vec::with_capacity(found.len());
        for i in found {
            let mine = rows.extract_if(.., |x| x.introduction_id == i.introduction_id).collect();
            out.push(self.introduction_with(i, mine).await?);
        }
        Ok(pb::ListPartyIntroductionsResponse { introductions: out })
    }

    pub(super) async fn get_party_introduction_statistics(
        &self,
        caller: &Caller,
        r: pb::GetPartyIntroductionStatisticsRequest,
    ) -> AppResult<pb::GetPartyIntroductionStatisticsResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let from = parse_date("from", &r.from)?;
        let to = parse_date("to", &r.to)?;
        if to < from || from.checked_add_months(chrono::Months::new(120)).is_none_or(|limit| to > limit) {
            return Err(AppError::invalid("to", "must be from `from` to 10 years after it"));
        }
        let found = party::in_subtree(&self.ctx.db, &unit.path, from, to).await?;
        let sent: BTreeSet<String> =
            found.iter().filter(|i| i.state == SENT).map(|i| i.introduction_id.clone()).collect();
        let ids: Vec<String> = found.iter().map(|i| i.introduction_id.clone()).collect();
        let mut s = pb::GetPartyIntroductionStatisticsResponse::default();
        for x in party::members_of(&self.ctx.db, &ids).await? {
            s.proposed += 1;
            if sent.contains(&x.introduction_id) {
                s.introduced += 1;
            }
            match x.outcome {
                ADMITTED => s.admitted += 1,
                NOT_ADMITTED => s.not_admitted += 1,
                _ => s.pending += 1,
            }
        }
        Ok(s)
    }
}
