//! Movements, campaigns, teams, youth projects, outputs and the review through the API.

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role, path_contains};
use doan_platform::convert::{format_date, new_id, paragraphs, parse_id, required_text, timestamp};
use doan_platform::directory;
use doan_platform::error::AppResult;
use doan_platform::outbox::Outbox;
use doan_proto::activities as pb;
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::ActivitiesApi;
use crate::domain::attendance::Decision;
use crate::domain::programmes::{
    self as rules, Evidence, Figures, Metrics, ProjectKind, ProjectState, ProjectStatus, Span, check_campaign_year,
    check_phases, parse_day,
};
use crate::events::publish;
use crate::storage::entities::{activity, campaign, movement, output, phase, project, team};
use crate::storage::participations;
use crate::storage::programmes::{self as store, output_state};

/// The ids of the units on `path` (the unit and those above it).
fn line_of(path: &str) -> Vec<String> {
    path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The path of the unit above the one at `path`; None for a root.
fn parent_path(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    let (parent, _) = trimmed.rsplit_once('/')?;
    (!parent.is_empty()).then(|| format!("{parent}/"))
}

fn movement_to_pb(m: movement::Model) -> pb::Movement {
    pb::Movement {
        movement_id: m.movement_id,
        unit_id: m.unit_id,
        name: m.name,
        description: m.description,
        created_at: Some(timestamp(m.created_at)),
    }
}

fn campaign_to_pb(c: campaign::Model, phases: Vec<phase::Model>) -> pb::Campaign {
    pb::Campaign {
        campaign_id: c.campaign_id,
        unit_id: c.unit_id,
        movement_id: c.movement_id,
        parent_campaign_id: c.parent_campaign_id.unwrap_or_default(),
        name: c.name,
        year: c.year,
        theme: c.theme,
        starts_on: format_date(c.starts_on),
        ends_on: format_date(c.ends_on),
        phases: phases
            .into_iter()
            .map(|p| pb::CampaignPhase {
                phase_id: p.phase_id,
                name: p.name,
                starts_on: format_date(p.starts_on),
                ends_on: format_date(p.ends_on),
            })
            .collect(),
        created_at: Some(timestamp(c.created_at)),
    }
}

fn team_to_pb(t: team::Model, member_ids: Vec<String>) -> pb::Team {
    pb::Team {
        team_id: t.team_id,
        campaign_id: t.campaign_id,
        unit_id: t.unit_id,
        name: t.name,
        leader_member_id: t.leader_member_id,
        member_ids,
        formed_on: format_date(t.formed_on),
    }
}

/// The members of team `team_id` as `conn` sees them, in order of joining.
async fn team_members(conn: &impl ConnectionTrait, team_id: &str) -> AppResult<Vec<String>> {
    Ok(store::members_of(conn, &[team_id.to_string()]).await?.remove(team_id).unwrap_or_default())
}

/// Stores team `row` with `members`, and its `TeamChanged`, in `txn`: they commit together.
/// Returns it with its members.
async fn form_team_and_publish(
    txn: &impl ConnectionTrait,
    outbox: &Outbox,
    row: team::Model,
    members: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<(team::Model, Vec<String>)> {
    let row = store::insert_team(txn, row, members, now).await?;
    let members = team_members(txn, &row.team_id).await?;
    outbox.enqueue(txn, &publish::team_changed(&row, &members)).await?;
    Ok((row, members))
}

/// Adds `add` to team `id`, removes `remove` and makes `leader` its leader, with its
/// `TeamChanged` (every member after the change), in `txn`. Returns it with its members.
async fn change_team_and_publish(
    txn: &impl ConnectionTrait,
    outbox: &Outbox,
    id: &str,
    add: &[String],
    remove: &[String],
    leader: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<(team::Model, Vec<String>)> {
    let t = store::claim_team(txn, id).await?.ok_or_else(|| AppError::NotFound(format!("team {id} does not exist")))?;
    let row = store::change_members(txn, t, add, remove, leader, now).await?;
    let members = team_members(txn, &row.team_id).await?;
    outbox.enqueue(txn, &publish::team_changed(&row, &members)).await?;
    Ok((row, members))
}

fn project_to_pb(p: project::Model) -> pb::YouthProject {
    pb::YouthProject {
        project_id: p.project_id,
        unit_id: p.unit_id,
        campaign_id: p.campaign_id.unwrap_or_default(),
        kind: p.kind,
        name: p.name,
        value_vnd: p.value_vnd,
        status: p.status,
        started_on: format_date(p.started_on),
        inaugurated_on: p.inaugurated_on.map(format_date).unwrap_or_default(),
        description: p.description,
        created_by: p.created_by,
    }
}

/// Evidence from a request: at most [`rules::MAX_EVIDENCE`] pieces, each checked.
pub(super) fn evidence_of(pieces: &[pb::Evidence]) -> AppResult<Vec<Evidence>> {
    if pieces.len() > rules::MAX_EVIDENCE {
        return Err(AppError::invalid("evidence", format!("at most {} pieces", rules::MAX_EVIDENCE)));
    }
    pieces.iter().map(|e| Evidence::check(e.kind, &e.uri, &e.caption)).collect()
}

/// Stored evidence (JSON) as the API shows it.
pub(super) fn evidence_to_pb(json: &str) -> Vec<pb::Evidence> {
    let evidence: Vec<Evidence> = serde_json::from_str(json).unwrap_or_default();
    evidence.into_iter().map(|e| pb::Evidence { kind: e.kind, uri: e.uri, caption: e.caption }).collect()
}

fn output_to_pb(o: output::Model) -> pb::ActivityOutput {
    let evidence = evidence_to_pb(&o.evidence);
    pb::ActivityOutput {
        output_id: o.output_id,
        activity_id: o.activity_id,
        version: o.version,
        metrics: Some(pb::OutputMetrics {
            extra_participations: o.extra_participations,
            blood_units: o.blood_units,
            trees_planted: o.trees_planted,
            gift_packages: o.gift_packages,
            beneficiaries: o.beneficiaries,
            vnd_mobilised: o.vnd_mobilised,
        }),
        evidence: evidence.into_iter().map(|e| pb::Evidence { kind: e.kind, uri: e.uri, caption: e.caption }).collect(),
        note: o.note,
        recorded_by: o.recorded_by,
        recorded_at: Some(timestamp(o.recorded_at)),
        state: o.state,
        reviewed_by: o.reviewed_by.unwrap_or_default(),
        reviewed_at: o.reviewed_at.map(timestamp),
        review_note: o.review_note.unwrap_or_default(),
    }
}

pub(super) fn figures_to_pb(unit: &directory::unit::Model, span: &Span, f: &Figures) -> pb::ReviewFigures {
    pb::ReviewFigures {
        unit_id: unit.unit_id.clone(),
        unit_name: unit.name.clone(),
        from_date: format_date(span.from),
        to_date: format_date(span.to),
        activities: f.activities,
        participations: f.participations(),
        unique_members: f.unique_members,
        volunteer_minutes: f.volunteer_minutes,
        teams: f.teams,
        projects: f.projects.0,
        projects_value_vnd: f.projects.1,
        projects_inaugurated: f.projects_inaugurated,
        tasks: f.tasks.0,
        tasks_value_vnd: f.tasks.1,
        blood_units: f.outputs.blood_units,
        trees_planted: f.outputs.trees_planted,
        gift_packages: f.outputs.gift_packages,
        beneficiaries: f.outputs.beneficiaries,
        vnd_mobilised: f.outputs.vnd_mobilised,
        campaigns: f.campaigns,
    }
}

impl ActivitiesApi {
    /// A unit the calling officer manages.
    pub(super) async fn managed_unit(&self, caller: &Caller, unit_id: &str) -> AppResult<directory::unit::Model> {
        caller.require_officer()?;
        let unit = directory::unit(&self.ctx.db, "unit_id", unit_id).await?;
        caller.require_manages(&unit.path, &format!("unit {}", unit.unit_id))?;
        Ok(unit)
    }

    /// The campaign `id` (named by `field`), which must be organised on the line of the unit at
    /// `path`.
    pub(super) async fn campaign_on_line(
        &self,
        field: &'static str,
        id: &str,
        path: &str,
    ) -> AppResult<campaign::Model> {
        let id = parse_id(field, id)?;
        let c = store::campaign(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("campaign {id} ({field}) does not exist")))?;
        if !path_contains(path, &c.unit_id) {
            return Err(AppError::FailedPrecondition(format!(
                "campaign {id} is organised outside this unit's line of units"
            )));
        }
        Ok(c)
    }

    /// An activity's campaign (on the line of the unit at `path`) and team (of that campaign,
    /// formed on the unit's line or in its subtree), when named.
    pub(super) async fn campaign_and_team(
        &self,
        path: &str,
        campaign_id: &str,
        team_id: &str,
    ) -> AppResult<(Option<String>, Option<String>)> {
        if campaign_id.is_empty() {
            if !team_id.is_empty() {
                return Err(AppError::invalid("team_id", "is set only with campaign_id"));
            }
            return Ok((None, None));
        }
        let c = self.campaign_on_line("campaign_id", campaign_id, path).await?;
        if team_id.is_empty() {
            return Ok((Some(c.campaign_id), None));
        }
        let id = parse_id("team_id", team_id)?;
        let t = store::team(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("team {id} (team_id) does not exist")))?;
        let related = path_contains(path, &t.unit_id) || t.unit_path.starts_with(path);
        if t.campaign_id != c.campaign_id || !related {
            return Err(AppError::FailedPrecondition(format!(
                "team {id} is not a team of campaign {} on this unit's line or below it",
                c.campaign_id
            )));
        }
        Ok((Some(c.campaign_id), Some(t.team_id)))
    }

    async fn campaigns_pb(&self, rows: Vec<campaign::Model>) -> AppResult<Vec<pb::Campaign>> {
        let ids: Vec<String> = rows.iter().map(|c| c.campaign_id.clone()).collect();
        let mut phases = store::phases_of(&self.ctx.db, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|c| {
                let own = phases.remove(&c.campaign_id).unwrap_or_default();
                campaign_to_pb(c, own)
            })
            .collect())
    }

    async fn teams_pb(&self, rows: Vec<team::Model>) -> AppResult<Vec<pb::Team>> {
        let ids: Vec<String> = rows.iter().map(|t| t.team_id.clone()).collect();
        let mut members = store::members_of(&self.ctx.db, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|t| {
                let own = members.remove(&t.team_id).unwrap_or_default();
                team_to_pb(t, own)
            })
            .collect())
    }

    /// Fails unless each of `ids` is an active member of the subtree at `path`.
    async fn require_members_in(&self, field: &'static str, ids: &[String], path: &str) -> AppResult<()> {
        let found = store::active_members_in(&self.ctx.db, ids, path).await?;
        if let Some(missing) = ids.iter().find(|id| !found.contains(id)) {
            return Err(AppError::FailedPrecondition(format!(
                "{field}: {missing} is not an active member of the team's unit"
            )));
        }
        Ok(())
    }

    pub(super) async fn create_movement(
        &self,
        caller: &Caller,
        r: pb::CreateMovementRequest,
    ) -> AppResult<pb::CreateMovementResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let row = movement::Model {
            movement_id: new_id(),
            unit_id: unit.unit_id,
            unit_path: unit.path,
            name: required_text("name", &r.name, 200)?,
            description: paragraphs("description", &r.description, 5000)?,
            created_by: caller.account_id.clone(),
            created_at: self.ctx.clock.now(),
        };
        let row = store::insert_movement(&self.ctx.db, row).await?;
        Ok(pb::CreateMovementResponse { movement: Some(movement_to_pb(row)) })
    }

    pub(super) async fn list_movements(
        &self,
        caller: &Caller,
        r: pb::ListMovementsRequest,
    ) -> AppResult<pb::ListMovementsResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let rows = store::movements_for(&self.ctx.db, line_of(&unit.path), &unit.path).await?;
        Ok(pb::ListMovementsResponse { movements: rows.into_iter().map(movement_to_pb).collect() })
    }

    pub(super) async fn create_campaign(
        &self,
        caller: &Caller,
        r: pb::CreateCampaignRequest,
    ) -> AppResult<pb::CreateCampaignResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let name = required_text("name", &r.name, 200)?;
        let theme = paragraphs("theme", &r.theme, 500)?;
        let span = Span::parse("starts_on", &r.starts_on, "ends_on", &r.ends_on)?;
        let year = check_campaign_year(r.year, &span)?;
        let mut phases = Vec::with_capacity(r.phases.len());
        for p in &r.phases {
            let name = required_text("phases", &p.name, 200)?;
            phases.push((name, Span::parse("phases", &p.starts_on, "phases", &p.ends_on)?));
        }
        check_phases(&span, &mut phases)?;
        let movement_id = parse_id("movement_id", &r.movement_id)?;
        let m = store::movement(&self.ctx.db, &movement_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("movement {movement_id} (movement_id) does not exist")))?;
        if !path_contains(&unit.path, &m.unit_id) {
            return Err(AppError::FailedPrecondition(format!(
                "movement {movement_id} belongs to a unit outside this unit's line"
            )));
        }
        let parent = if r.parent_campaign_id.is_empty() {
            None
        } else {
            let parent = self.campaign_on_line("parent_campaign_id", &r.parent_campaign_id, &unit.path).await?;
            if !(Span { from: parent.starts_on, to: parent.ends_on }).contains(&span) {
                return Err(AppError::FailedPrecondition(format!(
                    "a sub-campaign lies within its campaign's days ({} to {})",
                    format_date(parent.starts_on),
                    format_date(parent.ends_on)
                )));
            }
            Some(parent.campaign_id)
        };
        let now = self.ctx.clock.now();
        let campaign_id = new_id();
        let phases: Vec<phase::Model> = phases
            .into_iter()
            .map(|(name, s)| phase::Model {
                phase_id: new_id(),
                campaign_id: campaign_id.clone(),
                name,
                starts_on: s.from,
                ends_on: s.to,
            })
            .collect();
        let row = campaign::Model {
            campaign_id,
            unit_id: unit.unit_id,
            unit_path: unit.path,
            movement_id,
            parent_campaign_id: parent,
            name,
            year,
            theme,
            starts_on: span.from,
            ends_on: span.to,
            created_by: caller.account_id.clone(),
            created_at: now,
        };
        let txn = self.ctx.db.begin().await?;
        let row = store::insert_campaign(&txn, row, phases.clone()).await?;
        txn.commit().await?;
        Ok(pb::CreateCampaignResponse { campaign: Some(campaign_to_pb(row, phases)) })
    }

    pub(super) async fn get_campaign(
        &self,
        caller: &Caller,
        r: pb::GetCampaignRequest,
    ) -> AppResult<pb::GetCampaignResponse> {
        caller.require_officer()?;
        let id = parse_id("campaign_id", &r.campaign_id)?;
        let c = store::campaign(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("campaign {id} (campaign_id) does not exist")))?;
        // Officers over the organising unit, or of a unit below it.
        let below = match (&caller.role, &caller.unit_id) {
            (Role::Officer, Some(scope)) => {
                let own = directory::unit(&self.ctx.db, "unit_id", scope).await?;
                path_contains(&own.path, &c.unit_id)
            }
            _ => false,
        };
        if !below {
            caller.require_manages(&c.unit_path, &format!("campaign {id}"))?;
        }
        let subs = store::sub_campaigns(&self.ctx.db, &id).await?;
        let teams = store::teams_of_campaign(&self.ctx.db, &id).await?;
        let mut all = self.campaigns_pb(std::iter::once(c).chain(subs).collect()).await?;
        let campaign = all.remove(0);
        Ok(pb::GetCampaignResponse { campaign: Some(campaign), sub_campaigns: all, teams: self.teams_pb(teams).await? })
    }

    pub(super) async fn list_campaigns(
        &self,
        caller: &Caller,
        r: pb::ListCampaignsRequest,
    ) -> AppResult<pb::ListCampaignsResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let year = rules::optional_year(r.year)?;
        let rows = store::campaigns_for(&self.ctx.db, line_of(&unit.path), &unit.path, year).await?;
        Ok(pb::ListCampaignsResponse { campaigns: self.campaigns_pb(rows).await? })
    }

    pub(super) async fn create_team(
        &self,
        caller: &Caller,
        r: pb::CreateTeamRequest,
    ) -> AppResult<pb::CreateTeamResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let name = required_text("name", &r.name, 200)?;
        let c = self.campaign_on_line("campaign_id", &r.campaign_id, &unit.path).await?;
        if r.member_ids.is_empty() || r.member_ids.len() > rules::MAX_TEAM_MEMBERS {
            return Err(AppError::invalid("member_ids", format!("must name 1 to {} members", rules::MAX_TEAM_MEMBERS)));
        }
        let mut members = Vec::with_capacity(r.member_ids.len());
        for id in &r.member_ids {
            let id = parse_id("member_ids", id)?;
            if !members.contains(&id) {
                members.push(id);
            }
        }
        let leader = parse_id("leader_member_id", &r.leader_member_id)?;
        if !members.contains(&leader) {
            return Err(AppError::invalid("leader_member_id", "must be one of member_ids"));
        }
        let formed_on =
            if r.formed_on.is_empty() { self.ctx.clock.today() } else { parse_day("formed_on", &r.formed_on)? };
        self.require_members_in("member_ids", &members, &unit.path).await?;
        let now = self.ctx.clock.now();
        let row = team::Model {
            team_id: new_id(),
            campaign_id: c.campaign_id,
            unit_id: unit.unit_id,
            unit_path: unit.path,
            name,
            leader_member_id: leader,
            formed_on,
            created_by: caller.account_id.clone(),
            created_at: now,
        };
        let txn = self.ctx.db.begin().await?;
        let (row, members) = form_team_and_publish(&txn, &self.ctx.outbox, row, &members, now).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        Ok(pb::CreateTeamResponse { team: Some(team_to_pb(row, members)) })
    }

    pub(super) async fn change_team_members(
        &self,
        caller: &Caller,
        r: pb::ChangeTeamMembersRequest,
    ) -> AppResult<pb::ChangeTeamMembersResponse> {
        caller.require_officer()?;
        let id = parse_id("team_id", &r.team_id)?;
        let t = store::team(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("team {id} (team_id) does not exist")))?;
        caller.require_manages(&t.unit_path, &format!("team {id}"))?;
        let parse_all = |field: &'static str, ids: &[String]| -> AppResult<Vec<String>> {
            ids.iter().map(|i| parse_id(field, i)).collect()
        };
        for (field, ids) in [("add_member_ids", &r.add_member_ids), ("remove_member_ids", &r.remove_member_ids)] {
            if ids.len() > rules::MAX_TEAM_MEMBERS {
                return Err(AppError::invalid(field, format!("at most {} members", rules::MAX_TEAM_MEMBERS)));
            }
        }
        let add = parse_all("add_member_ids", &r.add_member_ids)?;
        let remove: std::collections::BTreeSet<String> =
            parse_all("remove_member_ids", &r.remove_member_ids)?.into_iter().collect();
        self.require_members_in("add_member_ids", &add, &t.unit_path).await?;
        let current = store::members_of(&self.ctx.db, std::slice::from_ref(&id)).await?.remove(&id).unwrap_or_default();
        let after: Vec<String> = current
            .iter()
            .chain(add.iter())
            .filter(|m| !remove.contains(*m))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if after.len() > rules::MAX_TEAM_MEMBERS {
            return Err(AppError::invalid(
                "add_member_ids",
                format!("a team has at most {} members", rules::MAX_TEAM_MEMBERS),
            ));
        }
        let leader = if r.leader_member_id.is_empty() {
            t.leader_member_id.clone()
        } else {
            parse_id("leader_member_id", &r.leader_member_id)?
        };
        if !after.contains(&leader) {
            return Err(AppError::FailedPrecondition(
                "the leader must stay a member: name a new leader among the members".into(),
            ));
        }
        let txn = self.ctx.db.begin().await?;
        let remove: Vec<String> = remove.into_iter().collect();
        let now = self.ctx.clock.now();
        let (row, members) =
            change_team_and_publish(&txn, &self.ctx.outbox, &t.team_id, &add, &remove, &leader, now).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        Ok(pb::ChangeTeamMembersResponse { team: Some(team_to_pb(row, members)) })
    }

    pub(super) async fn create_youth_project(
        &self,
        caller: &Caller,
        r: pb::CreateYouthProjectRequest,
    ) -> AppResult<pb::CreateYouthProjectResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let kind = ProjectKind::parse(r.kind)?;
        let name = required_text("name", &r.name, 200)?;
        let description = paragraphs("description", &r.description, 5000)?;
        let started_on = parse_day("started_on", &r.started_on)?;
        let state = ProjectState::parse(r.status, &r.inaugurated_on, r.value_vnd, started_on, self.ctx.clock.today())?;
        let campaign_id = if r.campaign_id.is_empty() {
            None
        } else {
            Some(self.campaign_on_line("campaign_id", &r.campaign_id, &unit.path).await?.campaign_id)
        };
        let now = self.ctx.clock.now();
        let row = project::Model {
            project_id: new_id(),
            unit_id: unit.unit_id,
            unit_path: unit.path,
            campaign_id,
            kind: kind as i32,
            name,
            value_vnd: state.value_vnd,
            status: state.status as i32,
            started_on,
            inaugurated_on: state.inaugurated_on,
            description,
            created_by: caller.account_id.clone(),
            created_at: now,
            updated_at: now,
        };
        let txn = self.ctx.db.begin().await?;
        let row = store::insert_project(&txn, row).await?;
        let inaugurated = state.status == ProjectStatus::Inaugurated;
        if inaugurated {
            self.ctx.outbox.enqueue(&txn, &crate::events::publish::project_inaugurated(&row)).await?;
        }
        txn.commit().await?;
        if inaugurated {
            self.ctx.outbox.wake();
        }
        Ok(pb::CreateYouthProjectResponse { project: Some(project_to_pb(row)) })
    }

    pub(super) async fn update_youth_project(
        &self,
        caller: &Caller,
        r: pb::UpdateYouthProjectRequest,
    ) -> AppResult<pb::UpdateYouthProjectResponse> {
        caller.require_officer()?;
        let id = parse_id("project_id", &r.project_id)?;
        let p = store::project(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project {id} (project_id) does not exist")))?;
        caller.require_manages(&p.unit_path, &format!("project {id}"))?;
        let state =
            ProjectState::parse(r.status, &r.inaugurated_on, r.value_vnd, p.started_on, self.ctx.clock.today())?;
        let was = ProjectStatus::of(p.status);
        state.check_move(was)?;
        // Inaugurated once: the event goes with the change that inaugurates.
        let inaugurated = was != ProjectStatus::Inaugurated && state.status == ProjectStatus::Inaugurated;
        let txn = self.ctx.db.begin().await?;
        let Some(row) = store::update_project(&txn, p, state, self.ctx.clock.now()).await? else {
            return Err(AppError::FailedPrecondition(format!("project {id} changed meanwhile; read it again")));
        };
        if inaugurated {
            self.ctx.outbox.enqueue(&txn, &crate::events::publish::project_inaugurated(&row)).await?;
        }
        txn.commit().await?;
        if inaugurated {
            self.ctx.outbox.wake();
        }
        Ok(pb::UpdateYouthProjectResponse { project: Some(project_to_pb(row)) })
    }

    pub(super) async fn list_youth_projects(
        &self,
        caller: &Caller,
        r: pb::ListYouthProjectsRequest,
    ) -> AppResult<pb::ListYouthProjectsResponse> {
        let unit = self.managed_unit(caller, &r.unit_id).await?;
        let year = rules::optional_year(r.year)?;
        let rows = store::projects_of(&self.ctx.db, &unit.path, year).await?;
        Ok(pb::ListYouthProjectsResponse { projects: rows.into_iter().map(project_to_pb).collect() })
    }

    /// The activity `id`, organised by a unit the caller manages.
    async fn managed_activity(&self, caller: &Caller, id: &str) -> AppResult<activity::Model> {
        caller.require_officer()?;
        let a = self.activity(id).await?;
        caller.require_manages(&a.unit_path, &format!("activity {}", a.activity_id))?;
        Ok(a)
    }

    pub(super) async fn record_activity_output(
        &self,
        caller: &Caller,
        r: pb::RecordActivityOutputRequest,
    ) -> AppResult<pb::RecordActivityOutputResponse> {
        let a = self.managed_activity(caller, &r.activity_id).await?;
        let m = r.metrics.unwrap_or_default();
        let metrics = Metrics {
            extra_participations: m.extra_participations,
            blood_units: m.blood_units,
            trees_planted: m.trees_planted,
            gift_packages: m.gift_packages,
            beneficiaries: m.beneficiaries,
            vnd_mobilised: m.vnd_mobilised,
        }
        .check()?;
        let evidence = evidence_of(&r.evidence)?;
        let note = paragraphs("note", &r.note, 2000)?;
        let txn = self.ctx.db.begin().await?;
        // Versions of one activity are numbered one at a time.
        participations::lock_activity(&txn, &a.activity_id).await?;
        let version = store::next_output_version(&txn, &a.activity_id).await?;
        let row = output::Model {
            output_id: new_id(),
            activity_id: a.activity_id.clone(),
            version,
            extra_participations: metrics.extra_participations,
            blood_units: metrics.blood_units,
            trees_planted: metrics.trees_planted,
            gift_packages: metrics.gift_packages,
            beneficiaries: metrics.beneficiaries,
            vnd_mobilised: metrics.vnd_mobilised,
            evidence: serde_json::to_string(&evidence).map_err(|e| AppError::Internal(e.into()))?,
            note,
            recorded_by: caller.account_id.clone(),
            recorded_at: self.ctx.clock.now(),
            state: output_state::SUBMITTED,
            reviewed_by: None,
            reviewed_at: None,
            review_note: None,
        };
        let row = store::insert_output(&txn, row).await?;
        txn.commit().await?;
        Ok(pb::RecordActivityOutputResponse { output: Some(output_to_pb(row)) })
    }

    pub(super) async fn review_activity_output(
        &self,
        caller: &Caller,
        r: pb::ReviewActivityOutputRequest,
    ) -> AppResult<pb::ReviewActivityOutputResponse> {
        caller.require_officer()?;
        let id = parse_id("output_id", &r.output_id)?;
        let o = store::output(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("output {id} (output_id) does not exist")))?;
        let a = self.activity(&o.activity_id).await?;
        // The level above the organiser decides; an organiser cannot approve their own.
        let above = parent_path(&a.unit_path);
        let allowed = caller.role == Role::Admin || above.as_deref().is_some_and(|p| caller.manages(p));
        if !allowed {
            return Err(AppError::PermissionDenied(format!(
                "outputs of activity {} are approved by the level above its organising unit",
                a.activity_id
            )));
        }
        if o.recorded_by == caller.account_id {
            return Err(AppError::PermissionDenied(
                "outputs are approved by someone other than who recorded them".into(),
            ));
        }
        let decision = Decision::parse(r.decision)?;
        let note = paragraphs("note", &r.note, 1000)?;
        if decision == Decision::Decline && note.is_empty() {
            return Err(AppError::invalid("note", "is required to return outputs: say what to correct"));
        }
        let not_submitted = || AppError::FailedPrecondition(format!("output {id} is not waiting for a decision"));
        if o.state != output_state::SUBMITTED {
            return Err(not_submitted());
        }
        let txn = self.ctx.db.begin().await?;
        // Decisions on one activity's versions one at a time: two approvals never both stand.
        participations::lock_activity(&txn, &o.activity_id).await?;
        let now = self.ctx.clock.now();
        if !store::decide_output(&txn, &o, decision == Decision::Approve, &caller.account_id, now, &note).await? {
            return Err(not_submitted());
        }
        let row = store::output(&txn, &id).await?.ok_or_else(not_submitted)?;
        txn.commit().await?;
        Ok(pb::ReviewActivityOutputResponse { output: Some(output_to_pb(row)) })
    }

    pub(super) async fn list_activity_outputs(
        &self,
        caller: &Caller,
        r: pb::ListActivityOutputsRequest,
    ) -> AppResult<pb::ListActivityOutputsResponse> {
        let a = self.managed_activity(caller, &r.activity_id).await?;
        let rows = store::outputs_of(&self.ctx.db, &a.activity_id).await?;
        Ok(pb::ListActivityOutputsResponse { outputs: rows.into_iter().map(output_to_pb).collect() })
    }

    /// The subtree and period of a review request, and its figures.
    async fn review(
        &self,
        caller: &Caller,
        unit_id: &str,
        from: &str,
        to: &str,
    ) -> AppResult<(directory::unit::Model, Span, Figures)> {
        let unit = self.managed_unit(caller, unit_id).await?;
        let span = Span::parse("from_date", from, "to_date", to)?;
        let figures = store::figures(&self.ctx.db, &unit.path, &span).await?;
        Ok((unit, span, figures))
    }

    pub(super) async fn get_review_figures(
        &self,
        caller: &Caller,
        r: pb::GetReviewFiguresRequest,
    ) -> AppResult<pb::GetReviewFiguresResponse> {
        let (unit, span, f) = self.review(caller, &r.unit_id, &r.from_date, &r.to_date).await?;
        Ok(pb::GetReviewFiguresResponse { figures: Some(figures_to_pb(&unit, &span, &f)) })
    }

    pub(super) async fn export_review(
        &self,
        caller: &Caller,
        r: pb::ExportReviewRequest,
    ) -> AppResult<pb::ExportReviewResponse> {
        self.managed_unit(caller, &r.unit_id).await?;
        let format = match r.format {
            1 => "xlsx",
            2 => "pdf",
            _ => return Err(AppError::invalid("format", "must be EXPORT_FORMAT_XLSX or EXPORT_FORMAT_PDF")),
        };
        let (unit, span, f) = self.review(caller, &r.unit_id, &r.from_date, &r.to_date).await?;
        let (title, mut subtitle) = rules::review_heading(&unit.name, &span, self.ctx.clock.today());
        let mut sections = rules::review_sections(&f);
        if let Some((section, line)) = self.review_targets(&unit, &span).await? {
            subtitle.push(line);
            sections.insert(0, section);
        }
        let (data, content_type) = match format {
            "xlsx" => (
                crate::api::review_file::xlsx(&title, &subtitle, &sections)?,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            _ => (crate::api::review_file::pdf(&title, &subtitle, &sections)?, "application/pdf"),
        };
        tracing::info!(unit_id = %unit.unit_id, format, bytes = data.len(), "review exported");
        Ok(pb::ExportReviewResponse {
            file_name: rules::review_file_name(&span, format),
            content_type: content_type.into(),
            data,
            figures: Some(figures_to_pb(&unit, &span, &f)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_parents() {
        assert_eq!(line_of("/a/b/c/"), vec!["a", "b", "c"]);
        assert_eq!(parent_path("/a/b/c/").as_deref(), Some("/a/b/"));
        assert_eq!(parent_path("/a/"), None);
    }

    fn ids(members: &[&str]) -> Vec<String> {
        members.iter().map(|m| m.to_string()).collect()
    }

    #[tokio::test]
    async fn a_team_formed_or_changed_is_published_with_every_member_in_the_same_transaction() {
        use chrono::{NaiveDate, TimeZone, Utc};
        use doan_proto::events::TeamChanged;

        use crate::events::testing::{database, outbox_rows, published};

        let db = database().await;
        let outbox = Outbox::new(crate::NAME);
        let formed = Utc.with_ymd_and_hms(2025, 6, 1, 2, 0, 0).unwrap();
        let later = Utc.with_ymd_and_hms(2025, 6, 8, 2, 0, 0).unwrap();
        let row = team::Model {
            team_id: "team-1".into(),
            campaign_id: "campaign-1".into(),
            unit_id: "unit-1".into(),
            unit_path: "/root/unit-1/".into(),
            name: "Đội hình Mùa hè xanh".into(),
            leader_member_id: "m-1".into(),
            formed_on: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
            created_by: "officer".into(),
            created_at: formed,
        };

        let txn = db.begin().await.unwrap();
        let (_, members) = form_team_and_publish(&txn, &outbox, row, &ids(&["m-2", "m-1"]), formed).await.unwrap();
        assert_eq!(outbox_rows(&txn).await, 1, "the event is written in the formation's transaction");
        txn.commit().await.unwrap();
        assert_eq!(members, ids(&["m-1", "m-2"]));

        // Rolled back: neither the change nor its event stays.
        let txn = db.begin().await.unwrap();
        change_team_and_publish(&txn, &outbox, "team-1", &ids(&["m-3"]), &ids(&["m-2"]), "m-1", later).await.unwrap();
        assert_eq!(outbox_rows(&txn).await, 2, "the event is written in the change's transaction");
        txn.rollback().await.unwrap();
        assert_eq!(team_members(&db, "team-1").await.unwrap(), ids(&["m-1", "m-2"]));
        assert_eq!(outbox_rows(&db).await, 1, "the event went with the rolled-back change");

        // Committed: every member after the change, not only those added.
        let txn = db.begin().await.unwrap();
        let (changed, members) =
            change_team_and_publish(&txn, &outbox, "team-1", &ids(&["m-3", "m-4"]), &ids(&["m-2"]), "m-3", later)
                .await
                .unwrap();
        txn.commit().await.unwrap();
        assert_eq!((changed.leader_member_id.as_str(), members), ("m-3", ids(&["m-1", "m-3", "m-4"])));

        // A team that does not exist: nothing changes, nothing is published.
        let txn = db.begin().await.unwrap();
        let err = change_team_and_publish(&txn, &outbox, "ghost", &ids(&["m-1"]), &[], "m-1", later).await.unwrap_err();
        assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
        assert_eq!(outbox_rows(&txn).await, 2);
        txn.rollback().await.unwrap();

        let state = |members: &[&str]| TeamChanged {
            team_id: "team-1".into(),
            unit_id: "unit-1".into(),
            name: "Đội hình Mùa hè xanh".into(),
            campaign_id: "campaign-1".into(),
            member_ids: ids(members),
        };
        assert_eq!(
            published::<TeamChanged>(&db, &outbox).await,
            vec![state(&["m-1", "m-2"]), state(&["m-1", "m-3", "m-4"])]
        );
    }
}
