//! Broadcasts through the API: announcements, directives and meeting invitations, their
//! recipients' acknowledgements and answers, the completion view.

use chrono::{DateTime, Utc};
use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::{
    decode_page_token, encode_page_token, new_id, optional_text, page_size, paragraphs, parse_id, parse_timestamp,
    required_text, timestamp,
};
use doan_platform::directory;
use doan_platform::error::AppResult;
use doan_proto::notifications as pb;
use sea_orm::TransactionTrait;

use super::{NotificationsApi, inbox_owner};
use crate::domain::broadcasts::{
    self as rules, Audience, BroadcastKind, BroadcastStatus, Command, Document, Meeting, Refused,
};
use crate::storage::entities::{broadcast, recipient};
use crate::storage::{audiences, broadcasts as store, deliveries, notices};

impl From<Refused> for AppError {
    fn from(r: Refused) -> Self {
        AppError::invalid(r.field, r.message)
    }
}

fn illegal(e: rules::Illegal) -> AppError {
    AppError::FailedPrecondition(e.message)
}

fn documents_to_pb(json: &str) -> Vec<pb::DocumentReference> {
    serde_json::from_str::<Vec<(String, String, String)>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|(number, title, url)| pb::DocumentReference { number, title, url })
        .collect()
}

fn audience_to_pb(b: &broadcast::Model) -> pb::Audience {
    use pb::audience::Target;
    let target = match Audience::from_parts(
        b.audience_kind,
        b.audience_ref.clone(),
        b.audience_position_kind,
        b.audience_unit_level,
    ) {
        Some(Audience::Member(id)) => Some(Target::MemberId(id)),
        Some(Audience::Unit(id)) => Some(Target::UnitId(id)),
        Some(Audience::Role { unit_id, position_kind, unit_level }) => {
            Some(Target::Role(pb::RoleAudience { unit_id, position_kind, unit_level }))
        }
        Some(Audience::Cluster(id)) => Some(Target::ClusterId(id)),
        Some(Audience::Team(id)) => Some(Target::TeamId(id)),
        None => None,
    };
    pb::Audience { target }
}

/// The meeting of a broadcast, if it is an invitation.
pub(super) fn meeting_to_pb(b: &broadcast::Model) -> Option<pb::Meeting> {
    match (b.meeting_starts_at, b.meeting_ends_at) {
        (Some(s), Some(e)) => Some(pb::Meeting {
            starts_at: Some(timestamp(s)),
            ends_at: Some(timestamp(e)),
            location: b.meeting_location.clone(),
        }),
        _ => None,
    }
}

/// The documents of a broadcast.
pub(super) fn documents_of(b: &broadcast::Model) -> Vec<pb::DocumentReference> {
    documents_to_pb(&b.documents)
}

fn to_pb(b: broadcast::Model, statistics: Option<pb::BroadcastStatistics>) -> pb::Broadcast {
    pb::Broadcast {
        audience: Some(audience_to_pb(&b)),
        documents: documents_to_pb(&b.documents),
        meeting: meeting_to_pb(&b),
        broadcast_id: b.broadcast_id,
        unit_id: b.unit_id,
        kind: b.kind,
        title: b.title,
        body: b.body,
        urgent: b.urgent,
        send_at: Some(timestamp(b.send_at)),
        deadline: b.deadline.map(timestamp),
        acknowledgement_required: b.acknowledgement_required,
        status: b.status,
        created_by: b.created_by,
        created_at: Some(timestamp(b.created_at)),
        sent_at: b.sent_at.map(timestamp),
        revoked_at: b.revoked_at.map(timestamp),
        revoke_reason: b.revoke_reason,
        remind_hours_before: b.remind_hours_before,
        reminded_at: b.reminded_at.map(timestamp),
        escalated_at: b.escalated_at.map(timestamp),
        statistics,
    }
}

fn status_of(b: &broadcast::Model) -> BroadcastStatus {
    BroadcastStatus::from_number(b.status).unwrap_or(BroadcastStatus::Revoked)
}

fn optional_time(field: &'static str, t: Option<prost_types::Timestamp>) -> AppResult<Option<DateTime<Utc>>> {
    t.map(|t| parse_timestamp(field, Some(t))).transpose()
}

impl NotificationsApi {
    /// Marks `owner`'s notice of broadcast `id` read, as answering it reads it.
    async fn mark_own_notice_read(&self, owner: &str, id: &str, now: DateTime<Utc>) -> AppResult<()> {
        if let Some(n) = notices::of_broadcast(&self.ctx.db, owner, id).await? {
            notices::mark_read(&self.ctx.db, &n.notification_id, now).await?;
        }
        Ok(())
    }

    /// The broadcast `id`, whose sending unit the calling officer manages.
    async fn managed_broadcast(&self, caller: &Caller, id: &str) -> AppResult<broadcast::Model> {
        let id = parse_id("broadcast_id", id)?;
        let not_found = || AppError::NotFound(format!("broadcast {id} (broadcast_id) does not exist"));
        let b = store::find(&self.ctx.db, &id).await?.ok_or_else(not_found)?;
        if !caller.manages(&b.unit_path) {
            return Err(not_found());
        }
        Ok(b)
    }

    /// The broadcast `id` and the caller's recipient row.
    async fn received_broadcast(&self, caller: &Caller, id: &str) -> AppResult<(broadcast::Model, recipient::Model)> {
        let owner = inbox_owner(caller);
        let id = parse_id("broadcast_id", id)?;
        let not_found = || AppError::NotFound(format!("broadcast {id} (broadcast_id) was not sent to you"));
        let b = store::find(&self.ctx.db, &id).await?.ok_or_else(not_found)?;
        let r = store::recipient(&self.ctx.db, &id, &owner).await?.ok_or_else(not_found)?;
        rules::transition(status_of(&b), Command::Respond).map_err(illegal)?;
        Ok((b, r))
    }

    /// Checks the audience against the sender's subtree and returns it.
    async fn audience(&self, r: Option<pb::Audience>, sender_path: &str) -> AppResult<Audience> {
        use pb::audience::Target;
        let outside = |field: &'static str| AppError::invalid(field, "is outside the sending unit's subtree");
        let db = &self.ctx.db;
        match r.and_then(|a| a.target) {
            None => Err(AppError::invalid("audience", "is required: a member, a unit, a role, a cluster or a team")),
            Some(Target::MemberId(id)) => {
                let m = directory::member(db, "audience.member_id", &parse_id("audience.member_id", &id)?).await?;
                if !m.unit_path.starts_with(sender_path) {
                    return Err(outside("audience.member_id"));
                }
                Ok(Audience::Member(m.member_id))
            }
            Some(Target::UnitId(id)) => {
                let u = directory::unit(db, "audience.unit_id", &parse_id("audience.unit_id", &id)?).await?;
                if !u.path.starts_with(sender_path) {
                    return Err(outside("audience.unit_id"));
                }
                Ok(Audience::Unit(u.unit_id))
            }
            Some(Target::Role(role)) => {
                let u =
                    directory::unit(db, "audience.role.unit_id", &parse_id("audience.role.unit_id", &role.unit_id)?)
                        .await?;
                if !u.path.starts_with(sender_path) {
                    return Err(outside("audience.role.unit_id"));
                }
                if !(1..=4).contains(&role.position_kind) {
                    return Err(AppError::invalid("audience.role.position_kind", "must be a position kind, 1 to 4"));
                }
                if !(0..=6).contains(&role.unit_level) {
                    return Err(AppError::invalid(
                        "audience.role.unit_level",
                        "must be a unit level, 1 to 6, or 0 for any",
                    ));
                }
                Ok(Audience::Role {
                    unit_id: u.unit_id,
                    position_kind: role.position_kind,
                    unit_level: role.unit_level,
                })
            }
            Some(Target::ClusterId(id)) => {
                let id = parse_id("audience.cluster_id", &id)?;
                let c = audiences::cluster(db, &id).await?.ok_or_else(|| {
                    AppError::NotFound(format!(
                        "cluster {id} (audience.cluster_id) is not known here yet; retry shortly"
                    ))
                })?;
                let owner = directory::unit(db, "audience.cluster_id", &c.unit_id).await?;
                if !owner.path.starts_with(sender_path) {
                    return Err(outside("audience.cluster_id"));
                }
                Ok(Audience::Cluster(id))
            }
            Some(Target::TeamId(id)) => {
                let id = parse_id("audience.team_id", &id)?;
                let t = audiences::team(db, &id).await?.ok_or_else(|| {
                    AppError::NotFound(format!("team {id} (audience.team_id) is not known here yet; retry shortly"))
                })?;
                let owner = directory::unit(db, "audience.team_id", &t.unit_id).await?;
                if !owner.path.starts_with(sender_path) {
                    return Err(outside("audience.team_id"));
                }
                Ok(Audience::Team(id))
            }
        }
    }

    pub(super) async fn create_broadcast(
        &self,
        caller: &Caller,
        r: pb::CreateBroadcastRequest,
    ) -> AppResult<pb::CreateBroadcastResponse> {
        caller.require_officer()?;
        let request_id = optional_text("request_id", &r.request_id, 64)?;
        if !request_id.is_empty()
            && let Some(b) = store::find_by_request(&self.ctx.db, &caller.account_id, &request_id).await?
        {
            return Ok(pb::CreateBroadcastResponse { broadcast: Some(to_pb(b, None)) });
        }
        let unit_id = match r.unit_id.as_str() {
            "" => caller
                .unit_id
                .clone()
                .ok_or_else(|| AppError::invalid("unit_id", "is required for an account without a unit"))?,
            id => parse_id("unit_id", id)?,
        };
        let unit = directory::unit(&self.ctx.db, "unit_id", &unit_id).await?;
        caller.require_manages(&unit.path, "unit_id")?;
        let kind = BroadcastKind::from_number(r.kind)
            .ok_or_else(|| AppError::invalid("kind", "must be ANNOUNCEMENT, DIRECTIVE or MEETING"))?;
        let title = required_text("title", &r.title, 200)?;
        let body = paragraphs("body", &r.body, 10_000)?;
        if body.is_empty() {
            return Err(AppError::invalid("body", "is required"));
        }
        if r.documents.len() > rules::MAX_DOCUMENTS {
            return Err(AppError::invalid("documents", format!("at most {} documents", rules::MAX_DOCUMENTS)));
        }
        let mut documents = Vec::new();
        for d in &r.documents {
            documents.push(Document {
                number: optional_text("documents.number", &d.number, 50)?,
                title: required_text("documents.title", &d.title, 200)?,
                url: optional_text("documents.url", &d.url, 500)?,
            });
        }
        let meeting = match r.meeting {
            None => None,
            Some(m) => Some(Meeting {
                starts_at: parse_timestamp("meeting.starts_at", m.starts_at)?,
                ends_at: parse_timestamp("meeting.ends_at", m.ends_at)?,
                location: required_text("meeting.location", &m.location, 300)?,
            }),
        };
        let request = rules::Request {
            kind,
            send_at: optional_time("send_at", r.send_at)?,
            deadline: optional_time("deadline", r.deadline)?,
            acknowledgement_required: r.acknowledgement_required,
            documents,
            meeting,
            remind_hours_before: r.remind_hours_before,
        };
        let now = self.ctx.clock.now();
        let schedule = rules::check(&request, now)?;
        let audience = self.audience(r.audience, &unit.path).await?;
        let (audience_kind, audience_ref, position_kind, unit_level) = audience.to_parts();
        let docs: Vec<(String, String, String)> =
            request.documents.iter().map(|d| (d.number.clone(), d.title.clone(), d.url.clone())).collect();
        let b = broadcast::Model {
            broadcast_id: new_id(),
            unit_id: unit.unit_id.clone(),
            unit_path: unit.path.clone(),
            kind: kind as i32,
            title,
            body,
            audience_kind,
            audience_ref,
            audience_position_kind: position_kind,
            audience_unit_level: unit_level,
            urgent: r.urgent,
            send_at: schedule.send_at,
            deadline: schedule.deadline,
            acknowledgement_required: request.acknowledgement_required,
            documents: serde_json::to_string(&docs).map_err(|e| AppError::Internal(e.into()))?,
            meeting_starts_at: request.meeting.as_ref().map(|m| m.starts_at),
            meeting_ends_at: request.meeting.as_ref().map(|m| m.ends_at),
            meeting_location: request.meeting.as_ref().map(|m| m.location.clone()).unwrap_or_default(),
            status: BroadcastStatus::Scheduled as i32,
            created_by: caller.account_id.clone(),
            created_at: now,
            sent_at: None,
            revoked_at: None,
            revoke_reason: String::new(),
            remind_hours_before: schedule.remind_hours_before,
            remind_at: schedule.remind_at,
            reminded_at: None,
            escalated_at: None,
            request_id,
            resolved: false,
            fanout_cursor: String::new(),
            recipients: 0,
            lease_until: now,
        };
        if let Err(e) = store::insert(&self.ctx.db, b.clone()).await {
            // A concurrent repeat of the same request: the first one wins.
            if !b.request_id.is_empty()
                && let Some(first) = store::find_by_request(&self.ctx.db, &caller.account_id, &b.request_id).await?
            {
                return Ok(pb::CreateBroadcastResponse { broadcast: Some(to_pb(first, None)) });
            }
            return Err(e.into());
        }
        if schedule.send_at <= now {
            // Sent at once on this replica; the periodic look resumes it if this process stops.
            let sender = self.broadcaster.clone();
            let id = b.broadcast_id.clone();
            tokio::spawn(async move {
                if let Err(e) = sender.send(&id).await {
                    tracing::warn!(broadcast_id = %id, error = %e, "sending a broadcast paused; the next look resumes it");
                }
            });
        }
        Ok(pb::CreateBroadcastResponse { broadcast: Some(to_pb(b, None)) })
    }

    pub(super) async fn get_broadcast(
        &self,
        caller: &Caller,
        r: pb::GetBroadcastRequest,
    ) -> AppResult<pb::GetBroadcastResponse> {
        let b = self.managed_broadcast(caller, &r.broadcast_id).await?;
        let [recipients, read, acknowledged, attending, not_attending, maybe, attended] =
            store::figures(&self.ctx.db, &b.broadcast_id).await?;
        let mut channels: Vec<pb::ChannelStatistics> = Vec::new();
        for (channel, state, n) in deliveries::counts_of_broadcast(&self.ctx.db, &b.broadcast_id).await? {
            let pos = match channels.iter().position(|c| c.channel == channel) {
                Some(p) => p,
                None => {
                    channels.push(pb::ChannelStatistics { channel, ..Default::default() });
                    channels.len() - 1
                }
            };
            let c = &mut channels[pos];
            match state {
                1 => c.queued += n,
                2 => c.sent += n,
                3 => c.delivered += n,
                4 => c.failed += n,
                5 => c.held += n,
                6 => c.cancelled += n,
                7 => c.digested += n,
                _ => {}
            }
        }
        channels.sort_by_key(|c| c.channel);
        let statistics = pb::BroadcastStatistics {
            recipients,
            read,
            acknowledged,
            channels,
            attending,
            not_attending,
            maybe,
            attended,
        };
        Ok(pb::GetBroadcastResponse { broadcast: Some(to_pb(b, Some(statistics))) })
    }

    pub(super) async fn list_broadcasts(
        &self,
        caller: &Caller,
        r: pb::ListBroadcastsRequest,
    ) -> AppResult<pb::ListBroadcastsResponse> {
        caller.require_officer()?;
        let unit = directory::unit(&self.ctx.db, "unit_id", &parse_id("unit_id", &r.unit_id)?).await?;
        caller.require_manages(&unit.path, "unit_id")?;
        if r.kind != 0 && BroadcastKind::from_number(r.kind).is_none() {
            return Err(AppError::invalid("kind", "must be ANNOUNCEMENT, DIRECTIVE, MEETING or unspecified"));
        }
        let limit = page_size(r.page_size, 50, 200)?;
        let before = decode_page_token(&r.page_token)?.map(|t| parse_id("page_token", &t)).transpose()?;
        let mut rows = store::page(&self.ctx.db, &unit.path, r.kind, before, limit + 1).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|b| encode_page_token(&b.broadcast_id)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(pb::ListBroadcastsResponse {
            broadcasts: rows.into_iter().map(|b| to_pb(b, None)).collect(),
            next_page_token,
        })
    }

    pub(super) async fn revoke_broadcast(
        &self,
        caller: &Caller,
        r: pb::RevokeBroadcastRequest,
    ) -> AppResult<pb::RevokeBroadcastResponse> {
        let b = self.managed_broadcast(caller, &r.broadcast_id).await?;
        let reason = required_text("reason", &r.reason, 500)?;
        if rules::transition(status_of(&b), Command::Revoke).map_err(illegal)?.is_some() {
            let now = self.ctx.clock.now();
            let txn = self.ctx.db.begin().await?;
            if store::revoke(&txn, &b.broadcast_id, &reason, now).await? {
                notices::delete_of_broadcast(&txn, &b.broadcast_id).await?;
                deliveries::cancel_of_broadcast(&txn, &b.broadcast_id, now).await?;
            }
            txn.commit().await?;
        }
        let b = store::find(&self.ctx.db, &b.broadcast_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("revoked broadcast vanished")))?;
        Ok(pb::RevokeBroadcastResponse { broadcast: Some(to_pb(b, None)) })
    }

    pub(super) async fn get_broadcast_completion(
        &self,
        caller: &Caller,
        r: pb::GetBroadcastCompletionRequest,
    ) -> AppResult<pb::GetBroadcastCompletionResponse> {
        let b = self.managed_broadcast(caller, &r.broadcast_id).await?;
        let unit = match r.unit_id.as_str() {
            "" => directory::unit(&self.ctx.db, "unit_id", &b.unit_id).await?,
            id => directory::unit(&self.ctx.db, "unit_id", &parse_id("unit_id", id)?).await?,
        };
        if !unit.path.starts_with(&b.unit_path) && !b.unit_path.starts_with(&unit.path) {
            return Err(AppError::invalid("unit_id", "is not the sending unit or a unit under it"));
        }
        caller.require_manages(&unit.path, "unit_id")?;
        let rows = store::completion_rows(&self.ctx.db, &b.broadcast_id, &unit.path).await?;
        let (total, children) = rules::completion(&unit.path, &rows);
        let to_pb = |unit_id: String, unit_name: String, c: rules::Counts| pb::UnitCompletion {
            unit_id,
            unit_name,
            recipients: c.recipients,
            acknowledged: c.acknowledged,
            read: c.read,
            not_read: c.not_read,
        };
        let mut units = Vec::new();
        for (id, counts) in children {
            let name = directory::unit(&self.ctx.db, "unit_id", &id).await.map(|u| u.name).unwrap_or_default();
            units.push(to_pb(id, name, counts));
        }
        units.sort_by(|a, b| a.unit_name.cmp(&b.unit_name).then(a.unit_id.cmp(&b.unit_id)));
        Ok(pb::GetBroadcastCompletionResponse { total: Some(to_pb(unit.unit_id, unit.name, total)), units })
    }

    pub(super) async fn list_broadcast_recipients(
        &self,
        caller: &Caller,
        r: pb::ListBroadcastRecipientsRequest,
    ) -> AppResult<pb::ListBroadcastRecipientsResponse> {
        let b = self.managed_broadcast(caller, &r.broadcast_id).await?;
        if !(0..=3).contains(&r.state) {
            return Err(AppError::invalid("state", "must be ACKNOWLEDGED, READ, NOT_READ or unspecified"));
        }
        let path = match r.unit_id.as_str() {
            "" => String::new(),
            id => directory::unit(&self.ctx.db, "unit_id", &parse_id("unit_id", id)?).await?.path,
        };
        let limit = page_size(r.page_size, 100, 500)?;
        let after = decode_page_token(&r.page_token)?.map(|t| parse_id("page_token", &t)).transpose()?;
        let mut rows = store::recipients_page(&self.ctx.db, &b.broadcast_id, r.state, &path, after, limit + 1).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| encode_page_token(&r.recipient_id)).unwrap_or_default()
        } else {
            String::new()
        };
        let owners: Vec<String> = rows.iter().map(|r| r.recipient_id.clone()).collect();
        let notice_ids = store::notices_of(&self.ctx.db, &b.broadcast_id, &owners).await?;
        let ids: Vec<String> = notice_ids.values().cloned().collect();
        let mut found = deliveries::of_notifications(&self.ctx.db, &ids).await?;
        let recipients = rows
            .into_iter()
            .map(|rec| {
                let deliveries = notice_ids
                    .get(&rec.recipient_id)
                    .and_then(|n| found.remove(n))
                    .unwrap_or_default()
                    .into_iter()
                    .map(super::delivery_to_pb)
                    .collect();
                pb::Recipient {
                    recipient_id: rec.recipient_id,
                    name: rec.name,
                    unit_id: rec.unit_id,
                    read_at: rec.read_at.map(timestamp),
                    acknowledged_at: rec.acknowledged_at.map(timestamp),
                    meeting_response: rec.meeting_response,
                    attended: rec.attended,
                    reminded_at: rec.reminded_at.map(timestamp),
                    escalated_at: rec.escalated_at.map(timestamp),
                    deliveries,
                }
            })
            .collect();
        Ok(pb::ListBroadcastRecipientsResponse { recipients, next_page_token })
    }

    pub(super) async fn acknowledge_broadcast(
        &self,
        caller: &Caller,
        r: pb::AcknowledgeBroadcastRequest,
    ) -> AppResult<pb::AcknowledgeBroadcastResponse> {
        let (b, rec) = self.received_broadcast(caller, &r.broadcast_id).await?;
        if !b.acknowledgement_required {
            return Err(AppError::FailedPrecondition("this broadcast does not ask for acknowledgement".into()));
        }
        let now = self.ctx.clock.now();
        store::mark_read(&self.ctx.db, &b.broadcast_id, &rec.recipient_id, true, now).await?;
        self.mark_own_notice_read(&rec.recipient_id, &b.broadcast_id, now).await?;
        Ok(pb::AcknowledgeBroadcastResponse {
            notification: self.own_notice(&rec.recipient_id, &b.broadcast_id).await?,
        })
    }

    pub(super) async fn respond_to_meeting(
        &self,
        caller: &Caller,
        r: pb::RespondToMeetingRequest,
    ) -> AppResult<pb::RespondToMeetingResponse> {
        let (b, rec) = self.received_broadcast(caller, &r.broadcast_id).await?;
        if !(1..=3).contains(&r.response) {
            return Err(AppError::invalid("response", "must be ATTENDING, NOT_ATTENDING or MAYBE"));
        }
        let Some(starts) = b.meeting_starts_at else {
            return Err(AppError::FailedPrecondition("this broadcast is not a meeting invitation".into()));
        };
        if self.ctx.clock.now() >= starts {
            return Err(AppError::FailedPrecondition("the meeting has started; answers are closed".into()));
        }
        store::respond(&self.ctx.db, &b.broadcast_id, &rec.recipient_id, r.response).await?;
        let now = self.ctx.clock.now();
        store::mark_read(&self.ctx.db, &b.broadcast_id, &rec.recipient_id, false, now).await?;
        self.mark_own_notice_read(&rec.recipient_id, &b.broadcast_id, now).await?;
        Ok(pb::RespondToMeetingResponse { notification: self.own_notice(&rec.recipient_id, &b.broadcast_id).await? })
    }

    pub(super) async fn record_meeting_attendance(
        &self,
        caller: &Caller,
        r: pb::RecordMeetingAttendanceRequest,
    ) -> AppResult<pb::RecordMeetingAttendanceResponse> {
        let b = self.managed_broadcast(caller, &r.broadcast_id).await?;
        rules::transition(status_of(&b), Command::Respond).map_err(illegal)?;
        let Some(starts) = b.meeting_starts_at else {
            return Err(AppError::FailedPrecondition("this broadcast is not a meeting invitation".into()));
        };
        if self.ctx.clock.now() < starts {
            return Err(AppError::FailedPrecondition("attendance is recorded from when the meeting starts".into()));
        }
        if r.recipient_ids.is_empty() || r.recipient_ids.len() > 500 {
            return Err(AppError::invalid("recipient_ids", "must list 1 to 500 recipients"));
        }
        let mut ids = Vec::with_capacity(r.recipient_ids.len());
        for id in &r.recipient_ids {
            ids.push(parse_id("recipient_ids", id)?);
        }
        ids.sort();
        ids.dedup();
        let known = store::existing(&self.ctx.db, &b.broadcast_id, &ids).await?;
        if let Some(missing) = ids.iter().find(|i| !known.contains(i)) {
            return Err(AppError::invalid("recipient_ids", format!("{missing} is not a recipient of this invitation")));
        }
        let updated = store::attendance(&self.ctx.db, &b.broadcast_id, &ids, r.attended).await?;
        Ok(pb::RecordMeetingAttendanceResponse { updated: updated as i32 })
    }
}
