//! `doan.activities.v1.ActivitiesService`: proto in, domain call, proto out.

mod attendance;
mod ideas;
mod policy;
mod programmes;
mod reports;
mod review_file;
mod targets;
pub use policy::POLICIES;

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{
    decode_page_token, encode_page_token, page_size, paragraphs, parse_id, parse_timestamp, required_text, timestamp,
};
use doan_platform::directory;
use doan_platform::error::{AppResult, respond};
use doan_platform::service::ServiceContext;
use doan_proto::activities as pb;
use doan_proto::activities::activities_service_server::ActivitiesService;
use sea_orm::TransactionTrait;
use tonic::{Request, Response, Status};

use crate::domain::attendance::{AttendanceKind, CheckInMode, CodeKey};
use crate::domain::{CheckInWindow, ParticipationState, is_open_to, parse_capacity, parse_points};
use crate::events::publish;
use crate::storage::activities::{self, Listing, NewActivity};
use crate::storage::attendance as attendance_store;
use crate::storage::entities::{activity, flag, participation};
use crate::storage::participations;

/// The activities API.
pub struct ActivitiesApi {
    ctx: ServiceContext,
    /// Signs and checks the rotating check-in codes.
    code_key: CodeKey,
    /// Hours after scanning within which an offline record is accepted.
    late_limit_hours: i64,
}

fn activity_to_pb(a: activity::Model, waitlisted: i64) -> pb::Activity {
    let venue = attendance::venue_of(&a).map(|v| pb::Venue {
        latitude: v.centre.latitude,
        longitude: v.centre.longitude,
        radius_m: v.radius_m,
    });
    pb::Activity {
        activity_id: a.activity_id,
        unit_id: a.unit_id,
        title: a.title,
        description: a.description,
        starts_at: Some(timestamp(a.starts_at)),
        ends_at: Some(timestamp(a.ends_at)),
        points: a.points,
        created_by: a.created_by,
        capacity: a.capacity,
        places_taken: a.places_taken,
        waitlisted: waitlisted.try_into().unwrap_or(i32::MAX),
        check_in_mode: CheckInMode::of(a.check_in_mode) as i32,
        venue,
        kind: a.kind,
        campaign_id: a.campaign_id.unwrap_or_default(),
        team_id: a.team_id.unwrap_or_default(),
    }
}

fn participation_to_pb(p: participation::Model, waitlist_position: u64, flags: Vec<flag::Model>) -> pb::Participation {
    pb::Participation {
        participation_id: p.participation_id,
        activity_id: p.activity_id,
        member_id: p.member_id,
        state: p.state,
        registered_at: Some(timestamp(p.registered_at)),
        checked_in_at: p.checked_in_at.map(timestamp),
        waitlist_position: waitlist_position.try_into().unwrap_or(i32::MAX),
        cancelled_at: p.cancelled_at.map(timestamp),
        checked_out_at: p.checked_out_at.map(timestamp),
        minutes: p.minutes.unwrap_or(0),
        review_state: p.review_state,
        flags: flags
            .into_iter()
            .map(|f| pb::AttendanceFlag { kind: f.kind, detail: f.detail, raised_at: Some(timestamp(f.raised_at)) })
            .collect(),
        reviewed_by: p.reviewed_by.unwrap_or_default(),
        reviewed_at: p.reviewed_at.map(timestamp),
        review_note: p.review_note.unwrap_or_default(),
        offline: p.offline,
    }
}

impl ActivitiesApi {
    /// An API over `ctx`, signing check-in codes with `code_key`.
    pub fn new(ctx: ServiceContext, code_key: CodeKey) -> Self {
        // At most ten years: chrono's durations end long before u64 does.
        let late_limit_hours =
            i64::try_from(ctx.settings.attendance.offline_late_limit_hours.min(24 * 3660)).unwrap_or(24 * 3660);
        Self { ctx, code_key, late_limit_hours }
    }

    /// Activities as the API shows them, each with the members waiting for a place and the
    /// places taken (counted, so that an activity without a limit needs no counter on its row).
    async fn activities_pb(&self, rows: Vec<activity::Model>) -> AppResult<Vec<pb::Activity>> {
        let ids: Vec<String> = rows.iter().map(|a| a.activity_id.clone()).collect();
        let counts = participations::line_and_places(&self.ctx.db, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|a| {
                let (waiting, held) = counts.get(&a.activity_id).copied().unwrap_or((0, 0));
                let mut a = activity_to_pb(a, waiting);
                a.places_taken = held.try_into().unwrap_or(i32::MAX);
                a
            })
            .collect())
    }

    /// The participation as the API shows it, with its place in line when waiting and its flags.
    async fn participation_pb(&self, p: participation::Model) -> AppResult<pb::Participation> {
        Ok(self.participations_pb(vec![p]).await?.pop().expect("one in, one out"))
    }

    /// Participations as the API shows them, each with its place in line and flags.
    async fn participations_pb(&self, rows: Vec<participation::Model>) -> AppResult<Vec<pb::Participation>> {
        // Flags always hold a participation for review: one never reviewed has none.
        let ids: Vec<String> = rows
            .iter()
            .filter(|p| p.review_state != crate::domain::attendance::ReviewState::NotNeeded as i32)
            .map(|p| p.participation_id.clone())
            .collect();
        let mut flags = attendance_store::flags_of(&self.ctx.db, &ids).await?;
        let mut out = Vec::with_capacity(rows.len());
        for p in rows {
            let position = if p.state == ParticipationState::Waitlisted as i32 {
                participations::position_in_line(&self.ctx.db, &p).await?
            } else {
                0
            };
            let own = flags.remove(&p.participation_id).unwrap_or_default();
            out.push(participation_to_pb(p, position, own));
        }
        Ok(out)
    }

    async fn activity(&self, activity_id: &str) -> AppResult<activity::Model> {
        let id = parse_id("activity_id", activity_id)?;
        activities::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("activity {id} (activity_id) does not exist")))
    }

    /// The calling member's directory entry, and the activity if it is open to them.
    async fn member_and_activity(
        &self,
        caller: &Caller,
        activity_id: &str,
    ) -> AppResult<(directory::member::Model, activity::Model)> {
        let member_id = caller.require_member()?;
        let activity = self.activity(activity_id).await?;
        let member = directory::member(&self.ctx.db, "member_id", member_id).await?;
        if !is_open_to(&member.unit_path, &activity.unit_id) {
            return Err(AppError::PermissionDenied(format!(
                "activity {} is organised outside your branch's line of units",
                activity.activity_id
            )));
        }
        Ok((member, activity))
    }

    async fn create_activity(
        &self,
        caller: &Caller,
        r: pb::CreateActivityRequest,
    ) -> AppResult<pb::CreateActivityResponse> {
        caller.require_officer()?;
        let unit = directory::unit(&self.ctx.db, "unit_id", &r.unit_id).await?;
        caller.require_manages(&unit.path, &format!("unit {}", unit.unit_id))?;
        let title = required_text("title", &r.title, 200)?;
        let description = paragraphs("description", &r.description, 5000)?;
        let window =
            CheckInWindow::new(parse_timestamp("starts_at", r.starts_at)?, parse_timestamp("ends_at", r.ends_at)?)?;
        let points = parse_points(r.points)?;
        let capacity = parse_capacity(r.capacity)?;
        let mode = CheckInMode::parse(r.check_in_mode)?;
        let venue = attendance::parse_venue(r.venue)?;
        let kind = crate::domain::programmes::parse_activity_kind(r.kind)?;
        let (campaign_id, team_id) = self.campaign_and_team(&unit.path, &r.campaign_id, &r.team_id).await?;
        let new = NewActivity {
            unit_id: unit.unit_id,
            unit_path: unit.path,
            title,
            description,
            window,
            points,
            capacity,
            mode,
            venue,
            kind,
            campaign_id,
            team_id,
            created_by: caller.account_id.clone(),
            created_at: self.ctx.clock.now(),
        };
        let created = activities::insert(&self.ctx.db, new).await?;
        tracing::info!(activity_id = %created.activity_id, unit_id = %created.unit_id, "activity created");
        Ok(pb::CreateActivityResponse { activity: Some(activity_to_pb(created, 0)) })
    }

    async fn get_activity(&self, caller: &Caller, r: pb::GetActivityRequest) -> AppResult<pb::GetActivityResponse> {
        let activity = if caller.role == Role::Member {
            self.member_and_activity(caller, &r.activity_id).await?.1
        } else {
            let activity = self.activity(&r.activity_id).await?;
            caller.require_manages(&activity.unit_path, &format!("activity {}", activity.activity_id))?;
            activity
        };
        Ok(pb::GetActivityResponse { activity: self.activities_pb(vec![activity]).await?.pop() })
    }

    async fn list_activities(
        &self,
        caller: &Caller,
        r: pb::ListActivitiesRequest,
    ) -> AppResult<pb::ListActivitiesResponse> {
        // Scope first: members see their branch's line of units (unit_id, when set, must be
        // on it); officers a unit of their subtree.
        let query = if caller.role == Role::Member {
            let member = directory::member(&self.ctx.db, "member_id", caller.require_member()?).await?;
            let line: Vec<String> = member.unit_path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
            if !r.unit_id.is_empty() && !line.contains(&r.unit_id) {
                return Err(AppError::PermissionDenied(format!(
                    "unit {} is not on your branch's line of units",
                    doan_platform::convert::parse_id("unit_id", &r.unit_id)?
                )));
            }
            Listing::OrganisedBy(line)
        } else {
            let unit = directory::unit(&self.ctx.db, "unit_id", &r.unit_id).await?;
            caller.require_manages(&unit.path, &format!("unit {}", unit.unit_id))?;
            Listing::InSubtree(unit.path)
        };
        let limit = page_size(r.page_size, 50, 200)?;
        let offset: u64 = match decode_page_token(&r.page_token)? {
            Some(t) => t.parse().map_err(|_| AppError::invalid("page_token", "is not a token this API returned"))?,
            None => 0,
        };
        let mut rows = activities::page(&self.ctx.db, query, offset, limit + 1).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            encode_page_token(&(offset + limit).to_string())
        } else {
            String::new()
        };
        Ok(pb::ListActivitiesResponse { activities: self.activities_pb(rows).await?, next_page_token })
    }

    async fn register_for_activity(
        &self,
        caller: &Caller,
        r: pb::RegisterForActivityRequest,
    ) -> AppResult<pb::RegisterForActivityResponse> {
        let (member, activity) = self.member_and_activity(caller, &r.activity_id).await?;
        if self.ctx.clock.now() > activity.ends_at {
            return Err(AppError::FailedPrecondition(format!("activity {} has ended", activity.activity_id)));
        }
        let txn = self.ctx.db.begin().await?;
        let row = participations::register(
            &txn,
            &activity.activity_id,
            activity.capacity,
            &member.member_id,
            self.ctx.clock.now(),
        )
        .await?;
        txn.commit().await?;
        Ok(pb::RegisterForActivityResponse { participation: Some(self.participation_pb(row).await?) })
    }

    async fn cancel_registration(
        &self,
        caller: &Caller,
        r: pb::CancelRegistrationRequest,
    ) -> AppResult<pb::CancelRegistrationResponse> {
        let (member, activity) = self.member_and_activity(caller, &r.activity_id).await?;
        let row = participations::of_member(&self.ctx.db, &activity.activity_id, &member.member_id).await?.ok_or_else(
            || AppError::NotFound(format!("you are not registered for activity {}", activity.activity_id)),
        )?;
        let txn = self.ctx.db.begin().await?;
        let (row, promoted) = participations::cancel(&txn, row, self.ctx.clock.now()).await?;
        if row.state == ParticipationState::CheckedIn as i32 {
            return Err(AppError::FailedPrecondition(format!(
                "you checked in to activity {}; attendance is not cancelled",
                activity.activity_id
            )));
        }
        if let Some(p) = &promoted {
            let event = publish::registration_promoted(&activity, &p.participation_id, &p.member_id);
            self.ctx.outbox.enqueue(&txn, &event).await?;
        }
        txn.commit().await?;
        if let Some(p) = promoted {
            self.ctx.outbox.wake();
            tracing::info!(activity_id = %activity.activity_id, member_id = %p.member_id, "a place freed: promoted from the line");
        }
        Ok(pb::CancelRegistrationResponse { participation: Some(self.participation_pb(row).await?) })
    }

    async fn check_in(&self, caller: &Caller, r: pb::CheckInRequest) -> AppResult<pb::CheckInResponse> {
        let (member, activity) = self.member_and_activity(caller, &r.activity_id).await?;
        let claim = attendance::Claim::online(AttendanceKind::CheckIn, r.code, r.location, r.device)?;
        let row = self.attend(&member, &activity, &claim).await?;
        Ok(pb::CheckInResponse { participation: Some(self.participation_pb(row).await?) })
    }
}

/// The service trait: each RPC verifies the caller, then runs its handler of the same name.
macro_rules! rpcs {
    ($($rpc:ident: $request:ident => $response:ident;)*) => {
        #[tonic::async_trait]
        impl ActivitiesService for ActivitiesApi {
            $(
                async fn $rpc(&self, request: Request<pb::$request>) -> Result<Response<pb::$response>, Status> {
                    let caller = self.ctx.verifier.caller(&request)?;
                    respond(ActivitiesApi::$rpc(self, &caller, request.into_inner()).await)
                }
            )*
        }
    };
}

rpcs! {
    create_activity: CreateActivityRequest => CreateActivityResponse;
    get_activity: GetActivityRequest => GetActivityResponse;
    list_activities: ListActivitiesRequest => ListActivitiesResponse;
    register_for_activity: RegisterForActivityRequest => RegisterForActivityResponse;
    check_in: CheckInRequest => CheckInResponse;
    cancel_registration: CancelRegistrationRequest => CancelRegistrationResponse;
    get_check_in_code: GetCheckInCodeRequest => GetCheckInCodeResponse;
    check_out: CheckOutRequest => CheckOutResponse;
    register_device: RegisterDeviceRequest => RegisterDeviceResponse;
    list_devices: ListDevicesRequest => ListDevicesResponse;
    revoke_device: RevokeDeviceRequest => RevokeDeviceResponse;
    sync_offline_attendance: SyncOfflineAttendanceRequest => SyncOfflineAttendanceResponse;
    list_participations: ListParticipationsRequest => ListParticipationsResponse;
    review_attendance: ReviewAttendanceRequest => ReviewAttendanceResponse;
    create_movement: CreateMovementRequest => CreateMovementResponse;
    list_movements: ListMovementsRequest => ListMovementsResponse;
    create_campaign: CreateCampaignRequest => CreateCampaignResponse;
    get_campaign: GetCampaignRequest => GetCampaignResponse;
    list_campaigns: ListCampaignsRequest => ListCampaignsResponse;
    create_team: CreateTeamRequest => CreateTeamResponse;
    change_team_members: ChangeTeamMembersRequest => ChangeTeamMembersResponse;
    create_youth_project: CreateYouthProjectRequest => CreateYouthProjectResponse;
    update_youth_project: UpdateYouthProjectRequest => UpdateYouthProjectResponse;
    list_youth_projects: ListYouthProjectsRequest => ListYouthProjectsResponse;
    record_activity_output: RecordActivityOutputRequest => RecordActivityOutputResponse;
    review_activity_output: ReviewActivityOutputRequest => ReviewActivityOutputResponse;
    list_activity_outputs: ListActivityOutputsRequest => ListActivityOutputsResponse;
    get_review_figures: GetReviewFiguresRequest => GetReviewFiguresResponse;
    export_review: ExportReviewRequest => ExportReviewResponse;
    set_targets: SetTargetsRequest => SetTargetsResponse;
    get_target_progress: GetTargetProgressRequest => GetTargetProgressResponse;
    create_report_request: CreateReportRequestRequest => CreateReportRequestResponse;
    get_report_request: GetReportRequestRequest => GetReportRequestResponse;
    list_report_requests: ListReportRequestsRequest => ListReportRequestsResponse;
    get_report_draft: GetReportDraftRequest => GetReportDraftResponse;
    submit_report: SubmitReportRequest => SubmitReportResponse;
    review_report: ReviewReportRequest => ReviewReportResponse;
    submit_idea: SubmitIdeaRequest => SubmitIdeaResponse;
    list_ideas: ListIdeasRequest => ListIdeasResponse;
    review_idea: ReviewIdeaRequest => ReviewIdeaResponse;
    link_idea_award: LinkIdeaAwardRequest => LinkIdeaAwardResponse;
}
