//! Decisions, revocation, histories, figures, the catalogue and standings.

use std::collections::HashSet;

use doan_platform::AppError;
use doan_platform::auth::{Caller, path_contains};
use doan_platform::convert::{
    decode_page_token, encode_page_token, format_date, new_id, page_size, parse_date, parse_id, required_text,
};
use doan_platform::directory;
use doan_platform::error::AppResult;
use doan_proto::awards as pb;
use doan_proto::awards::recipient::Recipient as Which;
use doan_proto::events::AwardGranted;
use sea_orm::TransactionTrait;

use super::credentials::{Draft, Wording};
use super::{AwardsApi, award_to_pb, decision_to_pb};
use crate::domain::{AwardForm, MAX_RECIPIENTS, RecipientKind, UnitLevel, vietnam_year};
use crate::storage::decisions::{self, Holder, NewAward, NewDecision};
use crate::storage::entities::{decision, recipient};
use crate::storage::standings;

/// One recipient as the request names it.
struct Named {
    kind: RecipientKind,
    id: String,
}

impl AwardsApi {
    pub(super) async fn record(
        &self,
        caller: &Caller,
        mut r: pb::RecordAwardDecisionRequest,
    ) -> AppResult<pb::RecordAwardDecisionResponse> {
        caller.require_officer()?;
        let issuing_unit_id = if r.issuing_unit_id.is_empty() {
            caller
                .unit_id
                .clone()
                .ok_or_else(|| AppError::invalid("issuing_unit_id", "is required for administrators"))?
        } else {
            parse_id("issuing_unit_id", &r.issuing_unit_id)?
        };
        let issuer = directory::unit(&self.ctx.db, "issuing_unit_id", &issuing_unit_id).await?;
        caller.require_manages(&issuer.path, &format!("issuing unit {}", issuer.unit_id))?;
        let form = AwardForm::parse_optional(r.form)?;
        let decision_number = required_text("decision_number", &r.decision_number, 64)?;
        let decision_date = parse_date("decision_date", &r.decision_date)?;
        let today = self.ctx.clock.today();
        if decision_date > today {
            return Err(AppError::invalid(
                "decision_date",
                format!("must not be in the future (today is {today} in Vietnam)"),
            ));
        }
        let ceremony_date = if r.ceremony_date.is_empty() {
            String::new()
        } else {
            let d = parse_date("ceremony_date", &r.ceremony_date)?;
            if d < decision_date {
                return Err(AppError::invalid("ceremony_date", "must not be before decision_date"));
            }
            format_date(d)
        };
        let signer = required_text("signer", &r.signer, 200)?;
        let content = required_text("content", &r.content, 2000)?;
        let rule = self.rules.at("decision_date", decision_date)?;
        let kind = rule.rule.resolve(&r.kind, form)?;
        let level = UnitLevel::from_stored(issuer.level);
        let issuer_rule = kind.issuer(level)?;
        let nomination = if r.nomination_id.is_empty() {
            None
        } else {
            let id = parse_id("nomination_id", &r.nomination_id)?;
            let approved = self.approved_candidates(&id, &issuer.unit_id, &kind.code).await?;
            if r.recipients.is_empty() {
                r.recipients = approved;
            } else if let Some(p) = r.recipients.iter().position(|x| !approved.contains(x)) {
                return Err(AppError::invalid(
                    "recipients",
                    format!("recipient {p} is not a candidate the council of nomination {id} approved"),
                ));
            }
            Some(id)
        };
        if r.recipients.is_empty() || r.recipients.len() > MAX_RECIPIENTS {
            return Err(AppError::invalid("recipients", format!("must list 1 to {MAX_RECIPIENTS} recipients")));
        }

        // Who: parsed, each once, each of a kind the award goes to.
        let mut named = Vec::with_capacity(r.recipients.len());
        let mut seen = HashSet::new();
        for (position, rec) in r.recipients.into_iter().enumerate() {
            let (kind_of, field, id) = match rec.recipient {
                Some(Which::MemberId(id)) => (RecipientKind::Individual, "recipients.member_id", id),
                Some(Which::UnitId(id)) => (RecipientKind::Unit, "recipients.unit_id", id),
                Some(Which::ClusterId(id)) => (RecipientKind::Cluster, "recipients.cluster_id", id),
                None => {
                    return Err(AppError::invalid(
                        "recipients",
                        format!("recipient {position} sets none of member_id, unit_id, cluster_id"),
                    ));
                }
            };
            let id = parse_id(field, &id)?;
            kind.check_recipient(position, kind_of)?;
            if !seen.insert((kind_of, id.clone())) {
                return Err(AppError::invalid("recipients", format!("recipient {position} is listed twice")));
            }
            named.push(Named { kind: kind_of, id });
        }
        let ids_of =
            |k: RecipientKind| -> Vec<String> { named.iter().filter(|n| n.kind == k).map(|n| n.id.clone()).collect() };
        let member_ids = ids_of(RecipientKind::Individual);
        let members = decisions::members(&self.ctx.db, &member_ids).await?;
        let units = decisions::units(&self.ctx.db, &ids_of(RecipientKind::Unit)).await?;
        let outside = |what: &str, id: &str| {
            AppError::PermissionDenied(format!("{what} {id} is outside the issuing unit's subtree"))
        };
        let mut awards = Vec::with_capacity(named.len());
        let mut drafts = Vec::with_capacity(named.len());
        for n in &named {
            let (name, path, subject) = match n.kind {
                RecipientKind::Individual => {
                    let m = members.get(&n.id).ok_or_else(|| {
                        AppError::NotFound(format!("member {} (recipients.member_id) does not exist", n.id))
                    })?;
                    if !path_contains(&m.unit_path, &issuer.unit_id) {
                        return Err(outside("member", &n.id));
                    }
                    (m.full_name.clone(), m.unit_path.clone(), m.member_id.clone())
                }
                RecipientKind::Unit => {
                    let u = units.get(&n.id).ok_or_else(|| {
                        AppError::NotFound(format!("unit {} (recipients.unit_id) does not exist", n.id))
                    })?;
                    if !path_contains(&u.path, &issuer.unit_id) {
                        return Err(outside("unit", &n.id));
                    }
                    (u.name.clone(), u.path.clone(), u.unit_id.clone())
                }
                RecipientKind::Cluster => {
                    let c = decisions::cluster(&self.ctx.db, &n.id).await?.ok_or_else(|| {
                        AppError::NotFound(format!("cluster {} (recipients.cluster_id) does not exist", n.id))
                    })?;
                    let owner = directory::unit(&self.ctx.db, "recipients.cluster_id", &c.owner_unit_id).await?;
                    if !path_contains(&owner.path, &issuer.unit_id) {
                        return Err(outside("cluster", &n.id));
                    }
                    (c.name.clone(), owner.path.clone(), c.cluster_id.clone())
                }
            };
            let award_id = new_id();
            drafts.push(Draft {
                award_id: award_id.clone(),
                subject_id: format!("urn:uuid:{subject}"),
                name: name.clone(),
                individual: n.kind == RecipientKind::Individual,
            });
            awards.push(NewAward {
                award_id,
                member_id: (n.kind == RecipientKind::Individual).then(|| n.id.clone()),
                unit_id: (n.kind == RecipientKind::Unit).then(|| n.id.clone()),
                cluster_id: (n.kind == RecipientKind::Cluster).then(|| n.id.clone()),
                name,
                path,
                status_list_id: String::new(),
                status_index: 0,
                credential: String::new(),
            });
        }
        if kind.once_per_person {
            let holders = decisions::holders(&self.ctx.db, &kind.code, &member_ids).await?;
            if let Some(first) = holders.first() {
                return Err(AppError::FailedPrecondition(format!(
                    "{} is awarded once per person: member {first} already holds it{}",
                    kind.name,
                    if holders.len() > 1 {
                        format!(" (and {} more of the recipients)", holders.len() - 1)
                    } else {
                        String::new()
                    }
                )));
            }
        }

        let now = self.ctx.clock.now();
        let new = NewDecision {
            decision_id: new_id(),
            decision_number: decision_number.clone(),
            decision_date,
            issuing_unit_id: issuer.unit_id.clone(),
            issuing_unit_path: issuer.path.clone(),
            issuing_level: issuer.level,
            form: kind.form,
            kind: kind.code.clone(),
            signer,
            content,
            recorded_by: caller.account_id.clone(),
            recorded_at: now,
            award_rule: rule.id.clone(),
            ceremony_date,
        };
        let txn = self.ctx.db.begin().await?;
        let saved = decisions::insert(&txn, new).await.map_err(|e| {
            if doan_platform::db::is_unique_violation(&e) {
                AppError::AlreadyExists(format!(
                    "decision {decision_number:?} of this issuing unit is already recorded"
                ))
            } else {
                e.into()
            }
        })?;
        // Issuing takes the issuer's open status list, locked: decisions of one issuer are
        // serialised from here, so the quota counted next cannot be overtaken.
        let words = Wording { issuer: &issuer.name, kind: &kind.name, criteria: &kind.criteria };
        let issued = self.credentials.issue(&txn, &saved, words, drafts, now).await?;
        let year = chrono::Datelike::year(&decision_date);
        let already = decisions::count_in_year(&txn, &issuer.unit_id, &kind.code, year).await?;
        kind.check_quota(issuer_rule, year, already, awards.len())?;
        for (a, (_, list_id, index, credential)) in awards.iter_mut().zip(issued) {
            a.status_list_id = list_id;
            a.status_index = index;
            a.credential = credential;
        }
        let recipients = decisions::insert_awards(&txn, &saved.decision_id, awards).await?;
        if kind.once_per_person {
            let holders: Vec<(String, String)> =
                recipients.iter().filter_map(|r| r.member_id.clone().map(|m| (m, r.award_id.clone()))).collect();
            decisions::register_once(&txn, &kind.code, &holders).await.map_err(|e| {
                if doan_platform::db::is_unique_violation(&e) {
                    AppError::FailedPrecondition(format!(
                        "{} is awarded once per person: a recipient was awarded it meanwhile",
                        kind.name
                    ))
                } else {
                    e.into()
                }
            })?;
        }
        if let Some(id) = &nomination {
            use super::nominations::{APPROVED_STATUS, DECIDED};
            if !crate::storage::nominations::decided(&txn, id, APPROVED_STATUS, DECIDED, &saved.decision_id).await? {
                return Err(AppError::FailedPrecondition(format!("nomination {id} was decided meanwhile")));
            }
        }
        let events: Vec<AwardGranted> =
            recipients.iter().map(|r| crate::events::publish::award_granted(&saved, r, &kind.name)).collect();
        self.ctx.outbox.enqueue_many(&txn, &events).await?;
        let decision_id = saved.decision_id.clone();
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(decision_id = %decision_id, kind = %saved.kind, recipients = recipients.len(), "award decision recorded");
        Ok(pb::RecordAwardDecisionResponse { decision: Some(decision_to_pb(saved, &recipients)) })
    }

    /// Decision `id`, for a caller who manages its issuing unit or is one of its recipients.
    async fn visible_decision(&self, caller: &Caller, id: &str) -> AppResult<(decision::Model, Vec<recipient::Model>)> {
        let (d, recipients) = decisions::find(&self.ctx.db, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("award decision {id} (decision_id) does not exist")))?;
        let is_recipient =
            caller.member_id.as_ref().is_some_and(|m| recipients.iter().any(|r| r.member_id.as_ref() == Some(m)));
        if !is_recipient {
            caller.require_manages(&d.issuing_unit_path, &format!("award decision {id}"))?;
        }
        Ok((d, recipients))
    }

    pub(super) async fn get(
        &self,
        caller: &Caller,
        r: pb::GetAwardDecisionRequest,
    ) -> AppResult<pb::GetAwardDecisionResponse> {
        let id = parse_id("decision_id", &r.decision_id)?;
        let (d, recipients) = self.visible_decision(caller, &id).await?;
        Ok(pb::GetAwardDecisionResponse { decision: Some(decision_to_pb(d, &recipients)) })
    }

    pub(super) async fn revoke(
        &self,
        caller: &Caller,
        r: pb::RevokeAwardRequest,
    ) -> AppResult<pb::RevokeAwardResponse> {
        caller.require_officer()?;
        let id = parse_id("decision_id", &r.decision_id)?;
        let (d, recipients) = decisions::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("award decision {id} (decision_id) does not exist")))?;
        caller.require_manages(&d.issuing_unit_path, &format!("award decision {id}"))?;
        let reason = required_text("reason", &r.reason, 2000)?;
        let legal_basis = required_text("legal_basis", &r.legal_basis, 500)?;
        let targets: Vec<String> = if r.award_id.is_empty() {
            recipients.iter().map(|a| a.award_id.clone()).collect()
        } else {
            let award_id = parse_id("award_id", &r.award_id)?;
            if !recipients.iter().any(|a| a.award_id == award_id) {
                return Err(AppError::NotFound(format!("award {award_id} (award_id) is not one of decision {id}")));
            }
            vec![award_id]
        };
        let issuer = directory::unit(&self.ctx.db, "decision_id", &d.issuing_unit_id).await?;
        let now = self.ctx.clock.now();
        let txn = self.ctx.db.begin().await?;
        let revoked = decisions::revoke(&txn, &targets, &reason, &legal_basis, now).await?;
        self.credentials.revoke(&txn, &d.issuing_unit_id, &issuer.name, &revoked, now).await?;
        txn.commit().await?;
        tracing::info!(decision_id = %id, revoked = revoked.len(), "awards revoked");
        let (d, recipients) = decisions::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("award decision {id} (decision_id) does not exist")))?;
        Ok(pb::RevokeAwardResponse { decision: Some(decision_to_pb(d, &recipients)), revoked: revoked.len() as i32 })
    }

    pub(super) async fn history(&self, caller: &Caller, r: pb::ListAwardsRequest) -> AppResult<pb::ListAwardsResponse> {
        let limit = page_size(r.page_size, 50, 200)?;
        // Every id named is checked before the request's shape: a caller learns nothing of
        // what they may not see.
        let unit = if r.unit_id.is_empty() {
            None
        } else {
            let unit_id = parse_id("unit_id", &r.unit_id)?;
            let u = directory::unit(&self.ctx.db, "unit_id", &unit_id).await?;
            let own_line = match (&caller.member_id, &caller.unit_id) {
                (Some(_), Some(branch)) => directory::unit(&self.ctx.db, "unit_id", branch)
                    .await
                    .is_ok_and(|b| path_contains(&b.path, &unit_id)),
                _ => false,
            };
            if !own_line {
                caller.require_manages(&u.path, &format!("unit {unit_id}"))?;
            }
            Some(unit_id)
        };
        let member = if r.member_id.is_empty() && unit.is_some() {
            None
        } else {
            let member_id = caller.member_or_self("member_id", &r.member_id)?;
            if !caller.is_member(&member_id) {
                let m = directory::member(&self.ctx.db, "member_id", &member_id).await?;
                caller.require_manages(&m.unit_path, &format!("member {member_id}"))?;
            }
            Some(member_id)
        };
        let holder = match (&member, &unit) {
            (Some(_), Some(_)) => return Err(AppError::invalid("unit_id", "set member_id or unit_id, not both")),
            (Some(m), None) => Holder::Member(m),
            (None, Some(u)) => Holder::Unit(u),
            (None, None) => return Err(AppError::invalid("member_id", "set member_id or unit_id")),
        };
        let after = match decode_page_token(&r.page_token)? {
            None => None,
            Some(t) => {
                let (date, award) = t.split_once('|').ok_or_else(|| AppError::invalid("page_token", "is malformed"))?;
                Some((parse_date("page_token", date)?, parse_id("page_token", award)?))
            }
        };
        let mut rows = decisions::history(&self.ctx.db, holder, after, limit + 1).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last()
                .map(|(d, a)| encode_page_token(&format!("{}|{}", format_date(d.decision_date), a.award_id)))
                .unwrap_or_default()
        } else {
            String::new()
        };
        let issuers = decisions::units(
            &self.ctx.db,
            &rows
                .iter()
                .map(|(d, _)| d.issuing_unit_id.clone())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect::<Vec<_>>(),
        )
        .await?;
        let awards = rows
            .into_iter()
            .map(|(d, a)| {
                let kind_name = self.kind_name(&d);
                let issuing_unit_name = issuers.get(&d.issuing_unit_id).map(|u| u.name.clone()).unwrap_or_default();
                pb::AwardEntry {
                    award: Some(award_to_pb(&a)),
                    decision: Some(decision_to_pb(d, &[])),
                    issuing_unit_name,
                    kind_name,
                }
            })
            .collect();
        Ok(pb::ListAwardsResponse { awards, next_page_token })
    }

    /// The Vietnamese name of a decision's kind, from the catalogue in force on its date.
    pub(super) fn kind_name(&self, d: &decision::Model) -> String {
        self.rules
            .at("decision_date", d.decision_date)
            .ok()
            .and_then(|v| v.rule.kind(&d.kind).map(|k| k.name.clone()))
            .unwrap_or_else(|| d.kind.clone())
    }

    pub(super) async fn figures(
        &self,
        caller: &Caller,
        r: pb::GetAwardFiguresRequest,
    ) -> AppResult<pb::GetAwardFiguresResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let from = parse_date("from", &r.from)?;
        let to = parse_date("to", &r.to)?;
        if to < from || (to - from).num_days() > 3660 {
            return Err(AppError::invalid("to", "must not be before from, nor more than 10 years after it"));
        }
        let fold = |rows: Vec<decisions::FigureRow>| {
            let mut out: Vec<pb::AwardFigure> = Vec::new();
            for (form, kind, level, who, awards, decisions) in rows {
                let i = match out.iter().position(|f| f.kind == kind && f.issuing_level == level && f.form == form) {
                    Some(i) => i,
                    None => {
                        out.push(pb::AwardFigure { form, kind, issuing_level: level, ..Default::default() });
                        out.len() - 1
                    }
                };
                let f = &mut out[i];
                match who {
                    1 => f.individuals += awards,
                    3 => f.clusters += awards,
                    _ => f.units += awards,
                }
                f.decisions += decisions;
            }
            out
        };
        let issued = fold(decisions::figures(&self.ctx.db, &unit.path, from, to, true).await?);
        let received = fold(decisions::figures(&self.ctx.db, &unit.path, from, to, false).await?);
        Ok(pb::GetAwardFiguresResponse { issued, received })
    }

    pub(super) async fn kinds(
        &self,
        _caller: &Caller,
        r: pb::ListAwardKindsRequest,
    ) -> AppResult<pb::ListAwardKindsResponse> {
        let on = if r.on.is_empty() { self.ctx.clock.today() } else { parse_date("on", &r.on)? };
        let v = self.rules.at("on", on)?;
        Ok(pb::ListAwardKindsResponse {
            rule: v.id.clone(),
            valid_from: format_date(v.valid_from),
            valid_until: v.valid_until.map(format_date).unwrap_or_default(),
            source: v.source.clone(),
            kinds: v
                .rule
                .kinds
                .iter()
                .map(|k| pb::AwardKind {
                    code: k.code.clone(),
                    form: k.form as i32,
                    name: k.name.clone(),
                    name_en: k.name_en.clone(),
                    criteria: k.criteria.clone(),
                    recipient_kinds: k.recipients.iter().map(|r| *r as i32).collect(),
                    once_per_person: k.once_per_person,
                    issuers: k
                        .issuers
                        .iter()
                        .map(|i| pb::IssuerRule { level: i.level as i32, yearly_quota: i.yearly_quota as i32 })
                        .collect(),
                })
                .collect(),
        })
    }

    pub(super) async fn standing(
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
