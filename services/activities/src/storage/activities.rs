//! Every query on activities.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::activity;
use crate::domain::CheckInWindow;
use crate::domain::attendance::{CheckInMode, Venue};

/// The activity `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<activity::Model>, DbErr> {
    activity::Entity::find_by_id(id.to_string()).one(db).await
}

/// An activity to create, as the API parsed it.
pub struct NewActivity {
    /// Organising unit and its path.
    pub unit_id: String,
    /// Materialised path of the organising unit.
    pub unit_path: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Check-in window.
    pub window: CheckInWindow,
    /// Points per check-in.
    pub points: i32,
    /// Places; 0 is no limit.
    pub capacity: i32,
    /// How attendance is proved.
    pub mode: CheckInMode,
    /// The geofenced venue, if any.
    pub venue: Option<Venue>,
    /// ActivityKind number.
    pub kind: i32,
    /// Campaign it is part of.
    pub campaign_id: Option<String>,
    /// Team that runs it.
    pub team_id: Option<String>,
    /// Officer account creating it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Stores a new activity.
pub async fn insert(db: &impl ConnectionTrait, new: NewActivity) -> Result<activity::Model, DbErr> {
    activity::ActiveModel {
        activity_id: Set(doan_platform::convert::new_id()),
        unit_id: Set(new.unit_id),
        unit_path: Set(new.unit_path),
        title: Set(new.title),
        description: Set(new.description),
        starts_at: Set(new.window.starts_at),
        ends_at: Set(new.window.ends_at),
        points: Set(new.points),
        created_by: Set(new.created_by),
        created_at: Set(new.created_at),
        capacity: Set(new.capacity),
        places_taken: Set(0),
        check_in_mode: Set(new.mode as i32),
        venue_latitude: Set(new.venue.map(|v| v.centre.latitude)),
        venue_longitude: Set(new.venue.map(|v| v.centre.longitude)),
        venue_radius_m: Set(new.venue.map(|v| v.radius_m)),
        kind: Set(new.kind),
        campaign_id: Set(new.campaign_id),
        team_id: Set(new.team_id),
    }
    .insert(db)
    .await
}

/// Which activities a page lists.
pub enum Listing {
    /// Those organised by one of these units (a member's branch line).
    OrganisedBy(Vec<String>),
    /// Those organised anywhere in the subtree at this path (an officer's unit).
    InSubtree(String),
}

/// Up to `limit` activities of `listing`, latest start first, after skipping `offset`.
pub async fn page(
    db: &impl ConnectionTrait,
    listing: Listing,
    offset: u64,
    limit: u64,
) -> Result<Vec<activity::Model>, DbErr> {
    let query = match listing {
        Listing::OrganisedBy(units) => activity::Entity::find().filter(activity::Column::UnitId.is_in(units)),
        Listing::InSubtree(path) => activity::Entity::find().filter(activity::Column::UnitPath.starts_with(&path)),
    };
    query
        .order_by_desc(activity::Column::StartsAt)
        .order_by_asc(activity::Column::ActivityId)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
}
