//! Nomination to ceremony: a unit proposes candidates with their evidence, the issuing level's
//! council reviews (votes and comments) and closes the review with its outcome, a decision
//! grants the approved candidates, and the ceremony date is set.

use doan_platform::AppError;
use doan_platform::auth::{Caller, path_contains};
use doan_platform::convert::{
    decode_page_token, encode_page_token, format_date, new_id, optional_text, page_size, parse_date, parse_id,
    required_text, timestamp,
};
use doan_platform::directory;
use doan_platform::error::AppResult;
use doan_proto::awards as pb;
use doan_proto::awards::recipient::Recipient as Which;
use sea_orm::TransactionTrait;

use super::AwardsApi;
use crate::domain::{RecipientKind, UnitLevel};
use crate::storage::nominations::{self as store, Full, candidate, nomination, review};

/// `NominationStatus` numbers.
pub(super) const UNDER_REVIEW: i32 = 1;
const APPROVED: i32 = 2;
/// APPROVED, for the decision that grants it.
pub(super) const APPROVED_STATUS: i32 = APPROVED;
const REJECTED: i32 = 3;
pub(super) const DECIDED: i32 = 4;

/// The most candidates one nomination may list.
const MAX_CANDIDATES: usize = 2000;

fn candidate_to_pb(c: &candidate::Model) -> pb::NominationCandidate {
    let recipient = pb::Recipient {
        recipient: c
            .member_id
            .clone()
            .map(Which::MemberId)
            .or(c.unit_id.clone().map(Which::UnitId))
            .or(c.cluster_id.clone().map(Which::ClusterId)),
    };
    pb::NominationCandidate {
        recipient: Some(recipient),
        name: c.name.clone(),
        achievements: c.achievements.clone(),
        points: c.points,
        rating: c.rating,
        prior_awards: c.prior_awards,
        approved: c.approved,
    }
}

fn nomination_to_pb((n, candidates, reviews): Full) -> pb::Nomination {
    let count = |v: pb::Vote| reviews.iter().filter(|r| r.vote == v as i32).count() as i32;
    pb::Nomination {
        votes_for: count(pb::Vote::For),
        votes_against: count(pb::Vote::Against),
        votes_abstain: count(pb::Vote::Abstain),
        nomination_id: n.nomination_id,
        unit_id: n.proposing_unit_id,
        issuing_unit_id: n.issuing_unit_id,
        kind: n.kind,
        year: n.year,
        title: n.title,
        status: n.status,
        candidates: candidates.iter().map(candidate_to_pb).collect(),
        reviews: reviews
            .into_iter()
            .map(|r| pb::NominationReview {
                reviewer_account_id: r.reviewer,
                reviewer_name: r.reviewer_name,
                vote: r.vote,
                comment: r.comment,
                reviewed_at: Some(timestamp(r.reviewed_at)),
            })
            .collect(),
        outcome_note: n.outcome_note,
        decision_id: n.decision_id,
        proposed_at: Some(timestamp(n.proposed_at)),
        closed_at: n.closed_at.map(timestamp),
    }
}

impl AwardsApi {
    pub(super) async fn propose(
        &self,
        caller: &Caller,
        r: pb::ProposeNominationRequest,
    ) -> AppResult<pb::ProposeNominationResponse> {
        let proposing = self.managed_unit(caller, &r.unit_id).await?;
        let issuing_id = parse_id("issuing_unit_id", &r.issuing_unit_id)?;
        let issuing = directory::unit(&self.ctx.db, "issuing_unit_id", &issuing_id).await?;
        if !path_contains(&proposing.path, &issuing.unit_id) {
            return Err(AppError::invalid(
                "issuing_unit_id",
                "must be the proposing unit or a unit above it (a nomination goes up the tree)",
            ));
        }
        let year = match r.year {
            y if (2000..=2100).contains(&y) => y,
            _ => return Err(AppError::invalid("year", "must be 2000 to 2100")),
        };
        let title = required_text("title", &r.title, 300)?;
        if r.candidates.is_empty() || r.candidates.len() > MAX_CANDIDATES {
            return Err(AppError::invalid("candidates", format!("must list 1 to {MAX_CANDIDATES} candidates")));
        }
        let today = self.ctx.clock.today();
        let rule = self.rules.at("today", today)?;
        let kind = rule.rule.resolve(&r.kind, None)?;
        kind.issuer(UnitLevel::from_stored(issuing.level))?;
        let mut candidates = Vec::with_capacity(r.candidates.len());
        let mut seen = std::collections::HashSet::new();
        for (position, c) in r.candidates.into_iter().enumerate() {
            let achievements = optional_text("candidates.achievements", &c.achievements, 4000)?;
            let (kind_of, id) = match c.recipient.and_then(|r| r.recipient) {
                Some(Which::MemberId(id)) => (RecipientKind::Individual, parse_id("candidates.member_id", &id)?),
                Some(Which::UnitId(id)) => (RecipientKind::Unit, parse_id("candidates.unit_id", &id)?),
                Some(Which::ClusterId(id)) => (RecipientKind::Cluster, parse_id("candidates.cluster_id", &id)?),
                None => {
                    return Err(AppError::invalid(
                        "candidates",
                        format!("candidate {position} names no member_id, unit_id or cluster_id"),
                    ));
                }
            };
            kind.check_recipient(position, kind_of).map_err(|_| {
                AppError::invalid(
                    "candidates",
                    format!("candidate {position} is {}; {} does not go to it", kind_of.label(), kind.code),
                )
            })?;
            if !seen.insert((kind_of, id.clone())) {
                return Err(AppError::invalid("candidates", format!("candidate {position} is listed twice")));
            }
            // Evidence, as it stands when proposed.
            let (name, path, member, unit, cluster) = match kind_of {
                RecipientKind::Individual => {
                    let m = directory::member(&self.ctx.db, "candidates.member_id", &id).await?;
                    (m.full_name, m.unit_path, Some(id.clone()), None, None)
                }
                RecipientKind::Unit => {
                    let u = directory::unit(&self.ctx.db, "candidates.unit_id", &id).await?;
                    (u.name, u.path, None, Some(id.clone()), None)
                }
                RecipientKind::Cluster => {
                    let c = crate::storage::decisions::cluster(&self.ctx.db, &id).await?.ok_or_else(|| {
                        AppError::NotFound(format!("cluster {id} (candidates.cluster_id) does not exist"))
                    })?;
                    let owner = directory::unit(&self.ctx.db, "candidates.cluster_id", &c.owner_unit_id).await?;
                    (c.name, owner.path, None, None, Some(id.clone()))
                }
            };
            if !path_contains(&path, &proposing.unit_id) {
                return Err(AppError::PermissionDenied(format!(
                    "candidate {position} is outside the proposing unit's subtree"
                )));
            }
            let points = if kind_of == RecipientKind::Cluster {
                0
            } else {
                self.points_of(&id, kind_of == RecipientKind::Unit, &path, year).await?
            };
            let rating =
                crate::storage::standings::rating_of(&self.ctx.db, &id, kind_of == RecipientKind::Unit, year).await?;
            let prior_awards = store::awards_held(&self.ctx.db, member.as_deref(), unit.as_deref()).await?;
            candidates.push(candidate::Model {
                nomination_id: String::new(),
                position: position as i32,
                member_id: member,
                unit_id: unit,
                cluster_id: cluster,
                name,
                achievements,
                points,
                rating,
                prior_awards,
                approved: false,
            });
        }
        let now = self.ctx.clock.now();
        let n = nomination::Model {
            nomination_id: new_id(),
            proposing_unit_id: proposing.unit_id.clone(),
            proposing_path: proposing.path.clone(),
            issuing_unit_id: issuing.unit_id.clone(),
            issuing_path: issuing.path.clone(),
            kind: kind.code.clone(),
            year,
            title,
            status: UNDER_REVIEW,
            outcome_note: String::new(),
            decision_id: String::new(),
            proposed_by: caller.account_id.clone(),
            proposed_at: now,
            closed_at: None,
        };
        for c in &mut candidates {
            c.nomination_id = n.nomination_id.clone();
        }
        let id = n.nomination_id.clone();
        let txn = self.ctx.db.begin().await?;
        store::insert(&txn, n, candidates).await?;
        txn.commit().await?;
        let full = store::find(&self.ctx.db, &id).await?.ok_or_else(|| AppError::NotFound(id.clone()))?;
        Ok(pb::ProposeNominationResponse { nomination: Some(nomination_to_pb(full)) })
    }

    /// Nomination `id` for an officer over its proposing or its issuing unit.
    async fn visible_nomination(&self, caller: &Caller, id: &str) -> AppResult<Full> {
        let full = store::find(&self.ctx.db, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("nomination {id} (nomination_id) does not exist")))?;
        if !caller.manages(&full.0.proposing_path) && !caller.manages(&full.0.issuing_path) {
            return Err(AppError::PermissionDenied(format!(
                "nomination {id} is outside the unit subtree you are appointed to"
            )));
        }
        Ok(full)
    }

    /// Nomination `id` for a member of its issuing unit's council (an officer over that unit).
    async fn council_nomination(&self, caller: &Caller, id: &str) -> AppResult<Full> {
        let full = self.visible_nomination(caller, id).await?;
        caller.require_manages(&full.0.issuing_path, &format!("the council of nomination {id}"))?;
        Ok(full)
    }

    pub(super) async fn nomination(
        &self,
        caller: &Caller,
        r: pb::GetNominationRequest,
    ) -> AppResult<pb::GetNominationResponse> {
        caller.require_officer()?;
        let id = parse_id("nomination_id", &r.nomination_id)?;
        Ok(pb::GetNominationResponse {
            nomination: Some(nomination_to_pb(self.visible_nomination(caller, &id).await?)),
        })
    }

    pub(super) async fn nominations(
        &self,
        caller: &Caller,
        r: pb::ListNominationsRequest,
    ) -> AppResult<pb::ListNominationsResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        if !(0..=DECIDED).contains(&r.status) {
            return Err(AppError::invalid("status", "must be a NominationStatus, or unspecified for any"));
        }
        let limit = page_size(r.page_size, 50, 200)?;
        let after = decode_page_token(&r.page_token)?.map(|t| parse_id("page_token", &t)).transpose()?;
        let mut rows = store::list(&self.ctx.db, &unit.path, r.status, after, limit + 1).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|n| encode_page_token(&n.nomination_id)).unwrap_or_default()
        } else {
            String::new()
        };
        let mut nominations = Vec::with_capacity(rows.len());
        for n in rows {
            if let Some(full) = store::find(&self.ctx.db, &n.nomination_id).await? {
                nominations.push(nomination_to_pb(full));
            }
        }
        Ok(pb::ListNominationsResponse { nominations, next_page_token })
    }

    pub(super) async fn review_nomination(
        &self,
        caller: &Caller,
        r: pb::ReviewNominationRequest,
    ) -> AppResult<pb::ReviewNominationResponse> {
        caller.require_officer()?;
        let id = parse_id("nomination_id", &r.nomination_id)?;
        self.council_nomination(caller, &id).await?;
        let vote = match pb::Vote::try_from(r.vote) {
            Ok(v @ (pb::Vote::For | pb::Vote::Against | pb::Vote::Abstain)) => v,
            _ => return Err(AppError::invalid("vote", "must be VOTE_FOR, VOTE_AGAINST or VOTE_ABSTAIN")),
        };
        let comment = optional_text("comment", &r.comment, 2000)?;
        let row = review::Model {
            nomination_id: id.clone(),
            reviewer: caller.account_id.clone(),
            reviewer_name: caller.name.clone(),
            vote: vote as i32,
            comment,
            reviewed_at: self.ctx.clock.now(),
        };
        let txn = self.ctx.db.begin().await?;
        if !store::review(&txn, row, UNDER_REVIEW).await? {
            return Err(AppError::FailedPrecondition(format!("the review of nomination {id} is closed")));
        }
        txn.commit().await?;
        let full = store::find(&self.ctx.db, &id).await?.ok_or_else(|| AppError::NotFound(id.clone()))?;
        Ok(pb::ReviewNominationResponse { nomination: Some(nomination_to_pb(full)) })
    }

    pub(super) async fn close_review(
        &self,
        caller: &Caller,
        r: pb::CloseNominationReviewRequest,
    ) -> AppResult<pb::CloseNominationReviewResponse> {
        caller.require_officer()?;
        let id = parse_id("nomination_id", &r.nomination_id)?;
        let (n, candidates, reviews) = self.council_nomination(caller, &id).await?;
        let note = optional_text("note", &r.note, 2000)?;
        let mut approved: Vec<i32> = r.approved.clone();
        approved.sort_unstable();
        approved.dedup();
        if approved.iter().any(|p| *p < 0 || *p as usize >= candidates.len()) {
            return Err(AppError::invalid(
                "approved",
                format!("positions must be 0 to {} (the candidates' order)", candidates.len().saturating_sub(1)),
            ));
        }
        if n.status != UNDER_REVIEW {
            return Err(AppError::FailedPrecondition(format!("the review of nomination {id} is closed")));
        }
        if reviews.is_empty() {
            return Err(AppError::FailedPrecondition(format!(
                "no council member has reviewed nomination {id}: the council votes before its outcome"
            )));
        }
        let to = if approved.is_empty() { REJECTED } else { APPROVED };
        let txn = self.ctx.db.begin().await?;
        if !store::close(&txn, &id, UNDER_REVIEW, to, &approved, &note, self.ctx.clock.now()).await? {
            return Err(AppError::FailedPrecondition(format!("the review of nomination {id} was closed meanwhile")));
        }
        txn.commit().await?;
        let full = store::find(&self.ctx.db, &id).await?.ok_or_else(|| AppError::NotFound(id.clone()))?;
        Ok(pb::CloseNominationReviewResponse { nomination: Some(nomination_to_pb(full)) })
    }

    pub(super) async fn set_ceremony(
        &self,
        caller: &Caller,
        r: pb::SetCeremonyRequest,
    ) -> AppResult<pb::SetCeremonyResponse> {
        caller.require_officer()?;
        let id = parse_id("decision_id", &r.decision_id)?;
        let (d, _) = crate::storage::decisions::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("award decision {id} (decision_id) does not exist")))?;
        caller.require_manages(&d.issuing_unit_path, &format!("award decision {id}"))?;
        let date = parse_date("ceremony_date", &r.ceremony_date)?;
        if date < d.decision_date {
            return Err(AppError::invalid("ceremony_date", "must not be before the decision date"));
        }
        let txn = self.ctx.db.begin().await?;
        store::set_ceremony(&txn, &id, &format_date(date)).await?;
        txn.commit().await?;
        let (d, recipients) =
            crate::storage::decisions::find(&self.ctx.db, &id).await?.ok_or_else(|| AppError::NotFound(id.clone()))?;
        Ok(pb::SetCeremonyResponse { decision: Some(super::decision_to_pb(d, &recipients)) })
    }

    /// The approved candidates of nomination `id` for a decision of `issuing_unit_id` and kind
    /// `kind`, as recipients; refuses a nomination not approved, of another unit or kind.
    pub(super) async fn approved_candidates(
        &self,
        id: &str,
        issuing_unit_id: &str,
        kind: &str,
    ) -> AppResult<Vec<pb::Recipient>> {
        let (n, candidates, _) = store::find(&self.ctx.db, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("nomination {id} (nomination_id) does not exist")))?;
        if n.status != APPROVED {
            return Err(AppError::FailedPrecondition(format!(
                "nomination {id} is not approved by its council (status {})",
                n.status
            )));
        }
        if n.issuing_unit_id != issuing_unit_id || n.kind != kind {
            return Err(AppError::invalid(
                "nomination_id",
                format!(
                    "nomination {id} asks unit {} for {}, not this decision's unit and kind",
                    n.issuing_unit_id, n.kind
                ),
            ));
        }
        Ok(candidates.iter().filter(|c| c.approved).map(|c| candidate_to_pb(c).recipient.unwrap_or_default()).collect())
    }
}
