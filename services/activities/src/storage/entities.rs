//! sea-orm entities of the activities database.

/// `activities`.
pub mod activity {
    use sea_orm::entity::prelude::*;

    /// An activity.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "activities")]
    pub struct Model {
        /// Activity id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub activity_id: String,
        /// Organising unit.
        pub unit_id: String,
        /// Path of the organising unit, for subtree listing.
        pub unit_path: String,
        /// Title.
        pub title: String,
        /// Description.
        pub description: String,
        /// Check-in opens.
        pub starts_at: DateTimeUtc,
        /// Check-in closes.
        pub ends_at: DateTimeUtc,
        /// Points per check-in.
        pub points: i32,
        /// Officer account that created it.
        pub created_by: String,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// Places for registration; 0 is no limit.
        pub capacity: i32,
        /// Places taken (registered or checked in).
        pub places_taken: i32,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `participations`: one row per (activity, member).
pub mod participation {
    use sea_orm::entity::prelude::*;

    /// A participation.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "participations")]
    pub struct Model {
        /// Participation id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub participation_id: String,
        /// Activity.
        pub activity_id: String,
        /// Member.
        pub member_id: String,
        /// State number (doan.activities.v1.ParticipationState).
        pub state: i32,
        /// Registration time.
        pub registered_at: DateTimeUtc,
        /// Check-in time.
        pub checked_in_at: Option<DateTimeUtc>,
        /// Cancellation time.
        pub cancelled_at: Option<DateTimeUtc>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
