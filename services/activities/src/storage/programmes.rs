//! Every query and transaction on movements, campaigns, teams, youth projects, outputs and the
//! review's figures.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use doan_platform::clock::vietnam_day_start;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Set,
};

use super::entities::{activity, campaign, movement, output, participation, phase, project, team, team_member};
use crate::domain::ParticipationState;
use crate::domain::attendance::ReviewState;
use crate::domain::programmes::{Figures, Metrics, ProjectKind, ProjectState, ProjectStatus, Span};

/// Movements owned by one of `line` (a unit's line) or in the subtree at `path`, by name.
pub async fn movements_for(
    db: &impl ConnectionTrait,
    line: Vec<String>,
    path: &str,
) -> Result<Vec<movement::Model>, DbErr> {
    movement::Entity::find()
        .filter(
            Condition::any()
                .add(movement::Column::UnitId.is_in(line))
                .add(movement::Column::UnitPath.starts_with(path)),
        )
        .order_by_asc(movement::Column::Name)
        .order_by_asc(movement::Column::MovementId)
        .limit(1000)
        .all(db)
        .await
}

/// Stores a movement.
pub async fn insert_movement(db: &impl ConnectionTrait, row: movement::Model) -> Result<movement::Model, DbErr> {
    movement::ActiveModel::from(row).insert(db).await
}

/// The movement `id`.
pub async fn movement(db: &impl ConnectionTrait, id: &str) -> Result<Option<movement::Model>, DbErr> {
    movement::Entity::find_by_id(id.to_string()).one(db).await
}

/// Stores a campaign and its phases.
pub async fn insert_campaign(
    txn: &impl ConnectionTrait,
    row: campaign::Model,
    phases: Vec<phase::Model>,
) -> Result<campaign::Model, DbErr> {
    let row = campaign::ActiveModel::from(row).insert(txn).await?;
    if !phases.is_empty() {
        phase::Entity::insert_many(phases.into_iter().map(phase::ActiveModel::from)).exec(txn).await?;
    }
    Ok(row)
}

/// The campaign `id`.
pub async fn campaign(db: &impl ConnectionTrait, id: &str) -> Result<Option<campaign::Model>, DbErr> {
    campaign::Entity::find_by_id(id.to_string()).one(db).await
}

/// The phases of each of `campaign_ids`, in order of their first day.
pub async fn phases_of(
    db: &impl ConnectionTrait,
    campaign_ids: &[String],
) -> Result<HashMap<String, Vec<phase::Model>>, DbErr> {
    let mut by: HashMap<String, Vec<phase::Model>> = HashMap::new();
    if campaign_ids.is_empty() {
        return Ok(by);
    }
    for row in phase::Entity::find()
        .filter(phase::Column::CampaignId.is_in(campaign_ids.iter().cloned()))
        .order_by_asc(phase::Column::StartsOn)
        .all(db)
        .await?
    {
        by.entry(row.campaign_id.clone()).or_default().push(row);
    }
    Ok(by)
}

/// Campaigns organised on `line` or in the subtree at `path` (optionally of `year`), newest
/// first day first, at most 500.
pub async fn campaigns_for(
    db: &impl ConnectionTrait,
    line: Vec<String>,
    path: &str,
    year: Option<i32>,
) -> Result<Vec<campaign::Model>, DbErr> {
    let mut query = campaign::Entity::find().filter(
        Condition::any().add(campaign::Column::UnitId.is_in(line)).add(campaign::Column::UnitPath.starts_with(path)),
    );
    if let Some(year) = year {
        query = query.filter(campaign::Column::Year.eq(year));
    }
    query.order_by_desc(campaign::Column::StartsOn).order_by_asc(campaign::Column::CampaignId).limit(500).all(db).await
}

/// The sub-campaigns of `id`.
pub async fn sub_campaigns(db: &impl ConnectionTrait, id: &str) -> Result<Vec<campaign::Model>, DbErr> {
    campaign::Entity::find()
        .filter(campaign::Column::ParentCampaignId.eq(id))
        .order_by_asc(campaign::Column::StartsOn)
        .all(db)
        .await
}

/// Stores a team and its members.
pub async fn insert_team(
    txn: &impl ConnectionTrait,
    row: team::Model,
    members: &[String],
    now: DateTime<Utc>,
) -> Result<team::Model, DbErr> {
    let row = team::ActiveModel::from(row).insert(txn).await?;
    add_members(txn, &row.team_id, members, now).await?;
    Ok(row)
}

async fn add_members(
    txn: &impl ConnectionTrait,
    team_id: &str,
    members: &[String],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if members.is_empty() {
        return Ok(());
    }
    team_member::Entity::insert_many(members.iter().map(|m| team_member::ActiveModel {
        team_id: Set(team_id.to_string()),
        member_id: Set(m.clone()),
        added_at: Set(now),
    }))
    .on_conflict_do_nothing()
    .exec(txn)
    .await?;
    Ok(())
}

/// The team `id`.
pub async fn team(db: &impl ConnectionTrait, id: &str) -> Result<Option<team::Model>, DbErr> {
    team::Entity::find_by_id(id.to_string()).one(db).await
}

/// Takes the team `id` for the rest of `txn` with a write that changes nothing, and reads it: a
/// concurrent change of its members waits until `txn` ends (a row lock in PostgreSQL, the
/// writer's lock in SQLite), so each change reads the members the one before it committed and
/// the `TeamChanged` states follow the order of the commits. None when it does not exist.
pub async fn claim_team(txn: &impl ConnectionTrait, id: &str) -> Result<Option<team::Model>, DbErr> {
    team::Entity::update_many()
        .col_expr(team::Column::LeaderMemberId, Expr::col(team::Column::LeaderMemberId))
        .filter(team::Column::TeamId.eq(id))
        .exec(txn)
        .await?;
    team(txn, id).await
}

/// Teams of a campaign, by name.
pub async fn teams_of_campaign(db: &impl ConnectionTrait, campaign_id: &str) -> Result<Vec<team::Model>, DbErr> {
    team::Entity::find()
        .filter(team::Column::CampaignId.eq(campaign_id))
        .order_by_asc(team::Column::Name)
        .order_by_asc(team::Column::TeamId)
        .all(db)
        .await
}

/// The members of each of `team_ids`, in order of joining.
pub async fn members_of(db: &impl ConnectionTrait, team_ids: &[String]) -> Result<HashMap<String, Vec<String>>, DbErr> {
    let mut by: HashMap<String, Vec<String>> = HashMap::new();
    if team_ids.is_empty() {
        return Ok(by);
    }
    for row in team_member::Entity::find()
        .filter(team_member::Column::TeamId.is_in(team_ids.iter().cloned()))
        .order_by_asc(team_member::Column::AddedAt)
        .order_by_asc(team_member::Column::MemberId)
        .all(db)
        .await?
    {
        by.entry(row.team_id).or_default().push(row.member_id);
    }
    Ok(by)
}

/// Adds and removes members of a team and sets its leader.
pub async fn change_members(
    txn: &impl ConnectionTrait,
    row: team::Model,
    add: &[String],
    remove: &[String],
    leader: &str,
    now: DateTime<Utc>,
) -> Result<team::Model, DbErr> {
    add_members(txn, &row.team_id, add, now).await?;
    if !remove.is_empty() {
        team_member::Entity::delete_many()
            .filter(team_member::Column::TeamId.eq(&row.team_id))
            .filter(team_member::Column::MemberId.is_in(remove.iter().cloned()))
            .exec(txn)
            .await?;
    }
    if row.leader_member_id == leader {
        return Ok(row);
    }
    let mut changed: team::ActiveModel = row.into();
    changed.leader_member_id = Set(leader.to_string());
    changed.update(txn).await
}

/// Stores a project.
pub async fn insert_project(db: &impl ConnectionTrait, row: project::Model) -> Result<project::Model, DbErr> {
    project::ActiveModel::from(row).insert(db).await
}

/// The project `id`.
pub async fn project(db: &impl ConnectionTrait, id: &str) -> Result<Option<project::Model>, DbErr> {
    project::Entity::find_by_id(id.to_string()).one(db).await
}

/// Sets a project's state at `now`, only from the status `row` was read in; None when a
/// concurrent change came first.
pub async fn update_project(
    db: &impl ConnectionTrait,
    row: project::Model,
    state: ProjectState,
    now: DateTime<Utc>,
) -> Result<Option<project::Model>, DbErr> {
    let changed = project::Entity::update_many()
        .col_expr(project::Column::Status, Expr::value(state.status as i32))
        .col_expr(project::Column::InauguratedOn, Expr::value(state.inaugurated_on))
        .col_expr(project::Column::ValueVnd, Expr::value(state.value_vnd))
        .col_expr(project::Column::UpdatedAt, Expr::value(now))
        .filter(project::Column::ProjectId.eq(&row.project_id))
        .filter(project::Column::Status.eq(row.status))
        .exec(db)
        .await?
        .rows_affected;
    if changed != 1 {
        return Ok(None);
    }
    project(db, &row.project_id).await
}

/// Projects of the subtree at `path` (optionally started in `year`), latest start first, at
/// most 1000.
pub async fn projects_of(
    db: &impl ConnectionTrait,
    path: &str,
    year: Option<i32>,
) -> Result<Vec<project::Model>, DbErr> {
    let mut query = project::Entity::find().filter(project::Column::UnitPath.starts_with(path));
    if let Some(year) = year {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
        let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
        query = query.filter(project::Column::StartedOn.between(first, last));
    }
    query.order_by_desc(project::Column::StartedOn).order_by_asc(project::Column::ProjectId).limit(1000).all(db).await
}

/// The next version number of an activity's outputs (call with the activity locked).
pub async fn next_output_version(txn: &impl ConnectionTrait, activity_id: &str) -> Result<i32, DbErr> {
    let last: Option<i32> = output::Entity::find()
        .select_only()
        .column(output::Column::Version)
        .filter(output::Column::ActivityId.eq(activity_id))
        .order_by_desc(output::Column::Version)
        .into_tuple()
        .one(txn)
        .await?;
    Ok(last.unwrap_or(0) + 1)
}

/// Stores a version of outputs.
pub async fn insert_output(txn: &impl ConnectionTrait, row: output::Model) -> Result<output::Model, DbErr> {
    output::ActiveModel::from(row).insert(txn).await
}

/// The version `id`.
pub async fn output(db: &impl ConnectionTrait, id: &str) -> Result<Option<output::Model>, DbErr> {
    output::Entity::find_by_id(id.to_string()).one(db).await
}

/// Every version of an activity's outputs, newest first.
pub async fn outputs_of(db: &impl ConnectionTrait, activity_id: &str) -> Result<Vec<output::Model>, DbErr> {
    output::Entity::find()
        .filter(output::Column::ActivityId.eq(activity_id))
        .order_by_desc(output::Column::Version)
        .all(db)
        .await
}

/// OutputState numbers.
pub mod output_state {
    /// Waiting for the level above.
    pub const SUBMITTED: i32 = 1;
    /// Counted.
    pub const APPROVED: i32 = 2;
    /// Returned for correction.
    pub const RETURNED: i32 = 3;
    /// Replaced by a later approval.
    pub const SUPERSEDED: i32 = 4;
}

/// Decides a SUBMITTED version: approved (the approved version before it becomes SUPERSEDED)
/// or returned. False when it was no longer submitted (a concurrent decision won).
pub async fn decide_output(
    txn: &impl ConnectionTrait,
    row: &output::Model,
    approve: bool,
    by: &str,
    at: DateTime<Utc>,
    note: &str,
) -> Result<bool, DbErr> {
    let state = if approve { output_state::APPROVED } else { output_state::RETURNED };
    let changed = output::Entity::update_many()
        .col_expr(output::Column::State, Expr::value(state))
        .col_expr(output::Column::ReviewedBy, Expr::value(by))
        .col_expr(output::Column::ReviewedAt, Expr::value(at))
        .col_expr(output::Column::ReviewNote, Expr::value(note))
        .filter(output::Column::OutputId.eq(&row.output_id))
        .filter(output::Column::State.eq(output_state::SUBMITTED))
        .exec(txn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Ok(false);
    }
    if approve {
        output::Entity::update_many()
            .col_expr(output::Column::State, Expr::value(output_state::SUPERSEDED))
            .filter(output::Column::ActivityId.eq(&row.activity_id))
            .filter(output::Column::State.eq(output_state::APPROVED))
            .filter(output::Column::OutputId.ne(&row.output_id))
            .exec(txn)
            .await?;
    }
    Ok(true)
}

/// One number from an aggregate `expr` over `query`.
async fn number<E: EntityTrait>(db: &impl ConnectionTrait, query: Select<E>, expr: &str) -> Result<i64, DbErr> {
    let n: Option<i64> = query
        .select_only()
        .column_as(Expr::cust(format!("CAST(COALESCE({expr}, 0) AS BIGINT)")), "n")
        .into_tuple()
        .one(db)
        .await?;
    Ok(n.unwrap_or(0))
}

#[derive(FromQueryResult)]
struct OutputSums {
    extra_participations: i64,
    blood_units: i64,
    trees_planted: i64,
    gift_packages: i64,
    beneficiaries: i64,
    vnd_mobilised: i64,
}

/// The figures of the subtree at `path` over `span` (Vietnam days).
pub async fn figures(db: &impl ConnectionTrait, path: &str, span: &Span) -> Result<Figures, DbErr> {
    let from = vietnam_day_start(span.from);
    let until = vietnam_day_start(span.to.succ_opt().unwrap_or(span.to));
    let in_period = || {
        activity::Entity::find()
            .filter(activity::Column::UnitPath.starts_with(path))
            .filter(activity::Column::StartsAt.gte(from))
            .filter(activity::Column::StartsAt.lt(until))
    };
    let ids = || in_period().select_only().column(activity::Column::ActivityId).into_query();
    let accepted = || {
        participation::Entity::find()
            .filter(participation::Column::ActivityId.in_subquery(ids()))
            .filter(participation::Column::State.eq(ParticipationState::CheckedIn as i32))
            .filter(participation::Column::ReviewState.ne(ReviewState::Declined as i32))
            .filter(participation::Column::Withheld.eq(false))
    };
    let approved_minutes = participation::Entity::find()
        .filter(participation::Column::ActivityId.in_subquery(ids()))
        .filter(participation::Column::ReviewState.eq(ReviewState::Approved as i32))
        .filter(participation::Column::CheckedOutAt.is_not_null());
    let sums = output::Entity::find()
        .select_only()
        .filter(output::Column::ActivityId.in_subquery(ids()))
        .filter(output::Column::State.eq(output_state::APPROVED))
        .column_as(Expr::cust("CAST(COALESCE(SUM(extra_participations), 0) AS BIGINT)"), "extra_participations")
        .column_as(Expr::cust("CAST(COALESCE(SUM(blood_units), 0) AS BIGINT)"), "blood_units")
        .column_as(Expr::cust("CAST(COALESCE(SUM(trees_planted), 0) AS BIGINT)"), "trees_planted")
        .column_as(Expr::cust("CAST(COALESCE(SUM(gift_packages), 0) AS BIGINT)"), "gift_packages")
        .column_as(Expr::cust("CAST(COALESCE(SUM(beneficiaries), 0) AS BIGINT)"), "beneficiaries")
        .column_as(Expr::cust("CAST(COALESCE(SUM(vnd_mobilised), 0) AS BIGINT)"), "vnd_mobilised")
        .into_model::<OutputSums>()
        .one(db)
        .await?;
    let outputs = sums
        .map(|s| Metrics {
            extra_participations: s.extra_participations,
            blood_units: s.blood_units,
            trees_planted: s.trees_planted,
            gift_packages: s.gift_packages,
            beneficiaries: s.beneficiaries,
            vnd_mobilised: s.vnd_mobilised,
        })
        .unwrap_or_default();
    let projects = |kind: ProjectKind| {
        project::Entity::find()
            .filter(project::Column::UnitPath.starts_with(path))
            .filter(project::Column::Kind.eq(kind as i32))
    };
    let started = |kind| projects(kind).filter(project::Column::StartedOn.between(span.from, span.to));
    Ok(Figures {
        activities: number(db, in_period(), "COUNT(*)").await?,
        check_ins: number(db, accepted(), "COUNT(*)").await?,
        unique_members: number(db, accepted(), "COUNT(DISTINCT member_id)").await?,
        volunteer_minutes: number(db, approved_minutes, "SUM(minutes)").await?,
        outputs,
        teams: number(
            db,
            team::Entity::find()
                .filter(team::Column::UnitPath.starts_with(path))
                .filter(team::Column::FormedOn.between(span.from, span.to)),
            "COUNT(*)",
        )
        .await?,
        campaigns: number(
            db,
            campaign::Entity::find()
                .filter(campaign::Column::UnitPath.starts_with(path))
                .filter(campaign::Column::StartsOn.lte(span.to))
                .filter(campaign::Column::EndsOn.gte(span.from)),
            "COUNT(*)",
        )
        .await?,
        projects: (
            number(db, started(ProjectKind::Project), "COUNT(*)").await?,
            number(db, started(ProjectKind::Project), "SUM(value_vnd)").await?,
        ),
        projects_inaugurated: number(
            db,
            projects(ProjectKind::Project)
                .filter(project::Column::Status.eq(ProjectStatus::Inaugurated as i32))
                .filter(project::Column::InauguratedOn.between(span.from, span.to)),
            "COUNT(*)",
        )
        .await?,
        tasks: (
            number(db, started(ProjectKind::Task), "COUNT(*)").await?,
            number(db, started(ProjectKind::Task), "SUM(value_vnd)").await?,
        ),
    })
}

/// Those of `member_ids` who are active members of the subtree at `path` (by the directory).
pub async fn active_members_in(
    db: &impl ConnectionTrait,
    member_ids: &[String],
    path: &str,
) -> Result<Vec<String>, DbErr> {
    use doan_platform::directory::member;
    if member_ids.is_empty() {
        return Ok(Vec::new());
    }
    member::Entity::find()
        .select_only()
        .column(member::Column::MemberId)
        .filter(member::Column::MemberId.is_in(member_ids.iter().cloned()))
        .filter(member::Column::UnitPath.starts_with(path))
        .filter(member::Column::Status.eq(1))
        .into_tuple()
        .all(db)
        .await
}
