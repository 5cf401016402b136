//! What activities publishes: each domain change as its integration event.

use chrono::{DateTime, Utc};
use doan_proto::events::{HoursApproved, ParticipationRecorded, RegistrationPromoted, TeamChanged};

use crate::storage::entities::{activity, participation, team};

/// The first member in line took a freed place of `activity` (participation `participation_id`).
pub fn registration_promoted(
    activity: &activity::Model,
    participation_id: &str,
    member_id: &str,
) -> RegistrationPromoted {
    RegistrationPromoted {
        participation_id: participation_id.to_string(),
        activity_id: activity.activity_id.clone(),
        activity_title: activity.title.clone(),
        member_id: member_id.to_string(),
        starts_at: Some(doan_platform::convert::timestamp(activity.starts_at)),
    }
}

/// A member's first check-in to `activity` (participation `participation_id`) at `at`.
pub fn participation_recorded(
    activity: &activity::Model,
    participation_id: &str,
    member_id: &str,
    at: DateTime<Utc>,
) -> ParticipationRecorded {
    ParticipationRecorded {
        participation_id: participation_id.to_string(),
        activity_id: activity.activity_id.clone(),
        activity_title: activity.title.clone(),
        member_id: member_id.to_string(),
        unit_id: activity.unit_id.clone(),
        checked_in_at: Some(doan_platform::convert::timestamp(at)),
        points: activity.points,
        minutes: (activity.ends_at - activity.starts_at).num_minutes().clamp(0, 720) as i32,
    }
}

/// The organiser approved the hours of `participation` (checked out) at `at`.
pub fn hours_approved(
    activity: &activity::Model,
    participation: &participation::Model,
    at: DateTime<Utc>,
) -> HoursApproved {
    HoursApproved {
        participation_id: participation.participation_id.clone(),
        activity_id: activity.activity_id.clone(),
        activity_title: activity.title.clone(),
        member_id: participation.member_id.clone(),
        unit_id: activity.unit_id.clone(),
        minutes: participation.minutes.unwrap_or(0),
        approved_at: Some(doan_platform::convert::timestamp(at)),
    }
}

/// A team was formed or its members changed: its whole state, `member_ids` every member in it
/// now.
pub fn team_changed(t: &team::Model, member_ids: &[String]) -> TeamChanged {
    TeamChanged {
        team_id: t.team_id.clone(),
        unit_id: t.unit_id.clone(),
        name: t.name.clone(),
        campaign_id: t.campaign_id.clone(),
        member_ids: member_ids.to_vec(),
    }
}

/// A project was inaugurated.
pub fn project_inaugurated(p: &crate::storage::entities::project::Model) -> doan_proto::events::ProjectInaugurated {
    doan_proto::events::ProjectInaugurated {
        project_id: p.project_id.clone(),
        unit_id: p.unit_id.clone(),
        name: p.name.clone(),
        value_vnd: p.value_vnd,
        inaugurated_on: p.inaugurated_on.map(doan_platform::convert::format_date).unwrap_or_default(),
    }
}

/// A unit reached a target (`actual` when found).
pub fn target_met(
    t: &crate::storage::entities::target::Model,
    label: &str,
    actual: i64,
) -> doan_proto::events::TargetMet {
    doan_proto::events::TargetMet {
        target_id: t.target_id.clone(),
        unit_id: t.unit_id.clone(),
        year: t.year,
        metric: t.metric,
        label: label.to_string(),
        target: t.value,
        actual,
    }
}

/// An idea was adopted on `on`.
pub fn idea_adopted(
    i: &crate::storage::entities::idea::Model,
    on: chrono::NaiveDate,
) -> doan_proto::events::IdeaAdopted {
    doan_proto::events::IdeaAdopted {
        idea_id: i.idea_id.clone(),
        member_id: i.member_id.clone(),
        unit_id: i.unit_id.clone(),
        title: i.title.clone(),
        adopted_on: doan_platform::convert::format_date(on),
    }
}
