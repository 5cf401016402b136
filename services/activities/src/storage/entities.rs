//! sea-orm entities of the activities database.

/// `activities`.
pub mod activity {
    use sea_orm::entity::prelude::*;

    /// An activity.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
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
        /// doan.activities.v1.CheckInMode number (1 self, 2 code).
        pub check_in_mode: i32,
        /// Venue latitude, when there is a geofence.
        pub venue_latitude: Option<f64>,
        /// Venue longitude.
        pub venue_longitude: Option<f64>,
        /// Geofence radius, metres.
        pub venue_radius_m: Option<i32>,
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
        /// Check-out time.
        pub checked_out_at: Option<DateTimeUtc>,
        /// Minutes from check-in to check-out.
        pub minutes: Option<i32>,
        /// doan.activities.v1.ReviewState number.
        pub review_state: i32,
        /// Officer account of the last review decision.
        pub reviewed_by: Option<String>,
        /// When it was made.
        pub reviewed_at: Option<DateTimeUtc>,
        /// The organiser's note.
        pub review_note: Option<String>,
        /// True while the check-in's ParticipationRecorded waits for the organiser's approval.
        pub withheld: bool,
        /// True when the check-in came from an offline record.
        pub offline: bool,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `attendance_devices`: one row per (device, member); the same key may serve two members
/// (a shared phone), which the anti-cheating checks see.
pub mod device {
    use sea_orm::entity::prelude::*;

    /// A registered device.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attendance_devices")]
    pub struct Model {
        /// Device id (derived from the key).
        #[sea_orm(primary_key, auto_increment = false)]
        pub device_id: String,
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// Ed25519 public key, base64.
        pub public_key: String,
        /// The member's name for it.
        pub label: String,
        /// Registration time.
        pub registered_at: DateTimeUtc,
        /// Revocation time.
        pub revoked_at: Option<DateTimeUtc>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `attendance_records`: every accepted claim of attendance (online and offline) and every
/// offline record refused; the anti-cheating checks read them, and offline syncs are
/// idempotent on (device_id, record_id).
pub mod record {
    use sea_orm::entity::prelude::*;

    /// A claim of attendance.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "attendance_records")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub record_key: String,
        /// Member.
        pub member_id: String,
        /// Activity.
        pub activity_id: String,
        /// Participation changed, when accepted.
        pub participation_id: Option<String>,
        /// doan.activities.v1.AttendanceKind number.
        pub kind: i32,
        /// Device, when one signed.
        pub device_id: Option<String>,
        /// The app's record id (offline only).
        pub record_id: Option<String>,
        /// Step of the code presented, for code activities.
        pub code_step: Option<i64>,
        /// When the attendance happened (scan time offline, receipt online).
        pub at: DateTimeUtc,
        /// Latitude, when located.
        pub latitude: Option<f64>,
        /// Longitude.
        pub longitude: Option<f64>,
        /// From an offline sync.
        pub offline: bool,
        /// doan.activities.v1.OfflineOutcome number.
        pub outcome: i32,
        /// doan.activities.v1.RefusalReason number (0 when accepted).
        pub reason: i32,
        /// The refusal in words.
        pub detail: String,
        /// When the server received it.
        pub received_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `attendance_flags`: what the anti-cheating checks raised on a participation.
pub mod flag {
    use sea_orm::entity::prelude::*;

    /// A flag.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attendance_flags")]
    pub struct Model {
        /// Flag id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub flag_id: String,
        /// Participation.
        pub participation_id: String,
        /// Activity.
        pub activity_id: String,
        /// doan.activities.v1.FlagKind number.
        pub kind: i32,
        /// Details for the organiser.
        pub detail: String,
        /// When it was raised.
        pub raised_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
