//! The ideas bank through the API.

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{
    decode_page_token, encode_page_token, new_id, optional_text, page_size, paragraphs, parse_id, required_text,
    timestamp,
};
use doan_platform::directory;
use doan_platform::error::AppResult;
use doan_proto::activities as pb;
use sea_orm::TransactionTrait;

use super::ActivitiesApi;
use crate::domain::ideas::IdeaState;
use crate::events::publish;
use crate::storage::entities::idea;
use crate::storage::ideas::{self as store, Owner};

fn idea_to_pb(i: idea::Model) -> pb::Idea {
    pb::Idea {
        idea_id: i.idea_id,
        member_id: i.member_id,
        unit_id: i.unit_id,
        title: i.title,
        description: i.description,
        field: i.field,
        state: i.state,
        review_note: i.review_note,
        reviewed_by: i.reviewed_by,
        award_decision_id: i.award_decision_id.unwrap_or_default(),
        submitted_at: Some(timestamp(i.submitted_at)),
        updated_at: Some(timestamp(i.updated_at)),
    }
}

impl ActivitiesApi {
    /// The idea `id`, whose member's branch the calling officer manages.
    async fn managed_idea(&self, caller: &Caller, id: &str) -> AppResult<idea::Model> {
        caller.require_officer()?;
        let id = parse_id("idea_id", id)?;
        let i = store::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("idea {id} (idea_id) does not exist")))?;
        caller.require_manages(&i.unit_path, &format!("idea {id}"))?;
        Ok(i)
    }

    pub(super) async fn submit_idea(
        &self,
        caller: &Caller,
        r: pb::SubmitIdeaRequest,
    ) -> AppResult<pb::SubmitIdeaResponse> {
        let member = directory::member(&self.ctx.db, "member_id", caller.require_member()?).await?;
        let now = self.ctx.clock.now();
        let row = idea::Model {
            idea_id: new_id(),
            member_id: member.member_id,
            unit_id: member.unit_id,
            unit_path: member.unit_path,
            title: required_text("title", &r.title, 200)?,
            description: {
                let d = paragraphs("description", &r.description, 10_000)?;
                if d.is_empty() {
                    return Err(AppError::invalid("description", "is required"));
                }
                d
            },
            field: optional_text("field", &r.field, 100)?,
            state: IdeaState::Submitted as i32,
            review_note: String::new(),
            reviewed_by: String::new(),
            award_decision_id: None,
            submitted_at: now,
            updated_at: now,
        };
        let row = store::insert(&self.ctx.db, row).await?;
        Ok(pb::SubmitIdeaResponse { idea: Some(idea_to_pb(row)) })
    }

    pub(super) async fn list_ideas(
        &self,
        caller: &Caller,
        r: pb::ListIdeasRequest,
    ) -> AppResult<pb::ListIdeasResponse> {
        let owner = if caller.role == Role::Member {
            // As for activities: unit_id, when set, must be on the member's branch line.
            let member = directory::member(&self.ctx.db, "member_id", caller.require_member()?).await?;
            if !r.unit_id.is_empty()
                && !doan_platform::auth::path_contains(&member.unit_path, &parse_id("unit_id", &r.unit_id)?)
            {
                return Err(AppError::PermissionDenied(format!(
                    "unit {} is not on your branch's line of units",
                    r.unit_id
                )));
            }
            Owner::Member(member.member_id)
        } else {
            let unit = self.managed_unit(caller, &r.unit_id).await?;
            Owner::Subtree(unit.path)
        };
        let state = IdeaState::filter(r.state)?.map(|s| s as i32);
        let limit = page_size(r.page_size, 50, 200)?;
        let offset: u64 = match decode_page_token(&r.page_token)? {
            Some(t) => t.parse().map_err(|_| AppError::invalid("page_token", "is not a token this API returned"))?,
            None => 0,
        };
        let mut rows = store::page(&self.ctx.db, owner, state, offset, limit + 1).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            encode_page_token(&(offset + limit).to_string())
        } else {
            String::new()
        };
        Ok(pb::ListIdeasResponse { ideas: rows.into_iter().map(idea_to_pb).collect(), next_page_token })
    }

    pub(super) async fn review_idea(
        &self,
        caller: &Caller,
        r: pb::ReviewIdeaRequest,
    ) -> AppResult<pb::ReviewIdeaResponse> {
        let i = self.managed_idea(caller, &r.idea_id).await?;
        let next = IdeaState::of(i.state).after(r.decision)?;
        let note = paragraphs("note", &r.note, 2000)?;
        if next == IdeaState::Declined && note.is_empty() {
            return Err(AppError::invalid("note", "is required to decline: say why"));
        }
        let now = self.ctx.clock.now();
        let txn = self.ctx.db.begin().await?;
        if !store::decide(&txn, &i, next as i32, &caller.account_id, &note, now).await? {
            return Err(AppError::FailedPrecondition("the idea changed meanwhile; read it again".into()));
        }
        if next == IdeaState::Adopted {
            self.ctx.outbox.enqueue(&txn, &publish::idea_adopted(&i, self.ctx.clock.today())).await?;
        }
        let row = store::find(&txn, &i.idea_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the idea vanished")))?;
        txn.commit().await?;
        if next == IdeaState::Adopted {
            self.ctx.outbox.wake();
        }
        Ok(pb::ReviewIdeaResponse { idea: Some(idea_to_pb(row)) })
    }

    pub(super) async fn link_idea_award(
        &self,
        caller: &Caller,
        r: pb::LinkIdeaAwardRequest,
    ) -> AppResult<pb::LinkIdeaAwardResponse> {
        let i = self.managed_idea(caller, &r.idea_id).await?;
        let decision = parse_id("award_decision_id", &r.award_decision_id)?;
        if IdeaState::of(i.state) != IdeaState::Adopted {
            return Err(AppError::FailedPrecondition("only an adopted idea is linked to an award".into()));
        }
        let row = if i.award_decision_id.as_deref() == Some(decision.as_str()) {
            i
        } else {
            store::link_award(&self.ctx.db, i, &decision, self.ctx.clock.now()).await?
        };
        Ok(pb::LinkIdeaAwardResponse { idea: Some(idea_to_pb(row)) })
    }
}
