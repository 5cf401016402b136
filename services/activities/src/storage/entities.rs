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
        /// doan.activities.v1.ActivityKind number (1 general).
        pub kind: i32,
        /// Campaign it is part of.
        pub campaign_id: Option<String>,
        /// Team that runs it.
        pub team_id: Option<String>,
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
        /// True once HoursApproved went out for its hours.
        pub hours_approved: bool,
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

/// `movements`: movements (phong trào) of units.
pub mod movement {
    use sea_orm::entity::prelude::*;

    /// A row of `movements`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "movements")]
    pub struct Model {
        /// Movement id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub movement_id: String,
        /// Unit that launched it.
        pub unit_id: String,
        /// Its path.
        pub unit_path: String,
        /// Name.
        pub name: String,
        /// Description.
        pub description: String,
        /// Officer account.
        pub created_by: String,
        /// When.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `campaigns`: campaigns and sub-campaigns.
pub mod campaign {
    use sea_orm::entity::prelude::*;

    /// A row of `campaigns`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "campaigns")]
    pub struct Model {
        /// Campaign id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub campaign_id: String,
        /// Organising unit.
        pub unit_id: String,
        /// Its path.
        pub unit_path: String,
        /// Movement.
        pub movement_id: String,
        /// Parent campaign.
        pub parent_campaign_id: Option<String>,
        /// Name.
        pub name: String,
        /// Year.
        pub year: i32,
        /// Theme.
        pub theme: String,
        /// First day.
        pub starts_on: Date,
        /// Last day.
        pub ends_on: Date,
        /// Officer account.
        pub created_by: String,
        /// When.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `campaign_phases`: the phases of campaigns.
pub mod phase {
    use sea_orm::entity::prelude::*;

    /// A row of `campaign_phases`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "campaign_phases")]
    pub struct Model {
        /// Phase id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub phase_id: String,
        /// Campaign.
        pub campaign_id: String,
        /// Name.
        pub name: String,
        /// First day.
        pub starts_on: Date,
        /// Last day.
        pub ends_on: Date,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `teams`: volunteer teams (đội hình).
pub mod team {
    use sea_orm::entity::prelude::*;

    /// A row of `teams`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "teams")]
    pub struct Model {
        /// Team id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub team_id: String,
        /// Campaign.
        pub campaign_id: String,
        /// Unit that formed it.
        pub unit_id: String,
        /// Its path.
        pub unit_path: String,
        /// Name.
        pub name: String,
        /// Leader.
        pub leader_member_id: String,
        /// Day formed.
        pub formed_on: Date,
        /// Officer account.
        pub created_by: String,
        /// When.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `team_members`: members of teams.
pub mod team_member {
    use sea_orm::entity::prelude::*;

    /// A row of `team_members`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "team_members")]
    pub struct Model {
        /// Team.
        #[sea_orm(primary_key, auto_increment = false)]
        pub team_id: String,
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// When they joined.
        pub added_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `youth_projects`: youth projects (công trình) and tasks (phần việc).
pub mod project {
    use sea_orm::entity::prelude::*;

    /// A row of `youth_projects`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "youth_projects")]
    pub struct Model {
        /// Project id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub project_id: String,
        /// Unit.
        pub unit_id: String,
        /// Its path.
        pub unit_path: String,
        /// Campaign.
        pub campaign_id: Option<String>,
        /// doan.activities.v1.ProjectKind number.
        pub kind: i32,
        /// Name.
        pub name: String,
        /// Value, đồng.
        pub value_vnd: i64,
        /// doan.activities.v1.ProjectStatus number.
        pub status: i32,
        /// First day of work.
        pub started_on: Date,
        /// Inauguration day.
        pub inaugurated_on: Option<Date>,
        /// Description.
        pub description: String,
        /// Officer account.
        pub created_by: String,
        /// Created.
        pub created_at: DateTimeUtc,
        /// Last changed.
        pub updated_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `activity_outputs`: versions of activities' outputs, never overwritten.
pub mod output {
    use sea_orm::entity::prelude::*;

    /// A row of `activity_outputs`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "activity_outputs")]
    pub struct Model {
        /// Version id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub output_id: String,
        /// Activity.
        pub activity_id: String,
        /// Version number.
        pub version: i32,
        /// People without the app.
        pub extra_participations: i64,
        /// Blood units.
        pub blood_units: i64,
        /// Trees.
        pub trees_planted: i64,
        /// Gift packages.
        pub gift_packages: i64,
        /// Beneficiaries.
        pub beneficiaries: i64,
        /// Value mobilised, đồng.
        pub vnd_mobilised: i64,
        /// Evidence, JSON.
        pub evidence: String,
        /// Note.
        pub note: String,
        /// Officer account.
        pub recorded_by: String,
        /// When.
        pub recorded_at: DateTimeUtc,
        /// doan.activities.v1.OutputState number.
        pub state: i32,
        /// Reviewer.
        pub reviewed_by: Option<String>,
        /// When reviewed.
        pub reviewed_at: Option<DateTimeUtc>,
        /// Reason.
        pub review_note: Option<String>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `targets`: yearly targets (chỉ tiêu) of units, one per (unit, year, metric).
pub mod target {
    use sea_orm::entity::prelude::*;

    /// A target.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "targets")]
    pub struct Model {
        /// Target id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub target_id: String,
        /// The unit it is for.
        pub unit_id: String,
        /// Its path.
        pub unit_path: String,
        /// Year.
        pub year: i32,
        /// doan.activities.v1.TargetMetric number.
        pub metric: i32,
        /// The target.
        pub value: i64,
        /// The unit that set it (the one above).
        pub set_by_unit_id: String,
        /// Officer account that set it last.
        pub set_by: String,
        /// When.
        pub set_at: DateTimeUtc,
        /// When a look first found it met (TargetMet published then).
        pub met_at: Option<DateTimeUtc>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `admissions`: members' admissions as membership's events tell them (for the admissions
/// targets), credited to the unit that admitted them.
pub mod admission {
    use sea_orm::entity::prelude::*;

    /// An admission.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "admissions")]
    pub struct Model {
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// The admitting unit.
        pub unit_id: String,
        /// Its path (rewritten when units move).
        pub unit_path: String,
        /// Admission day.
        pub admitted_on: Date,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `report_requests`: a level's requests for reports from the units below it.
pub mod report_request {
    use sea_orm::entity::prelude::*;

    /// A request.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_requests")]
    pub struct Model {
        /// Request id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        /// The requesting unit.
        pub unit_id: String,
        /// Its path.
        pub unit_path: String,
        /// Title.
        pub title: String,
        /// doan.activities.v1.ReportKind number.
        pub kind: i32,
        /// Campaign (phase reports).
        pub campaign_id: Option<String>,
        /// Phase (phase reports).
        pub phase_id: Option<String>,
        /// First day of the period.
        pub from_date: Date,
        /// Last day.
        pub to_date: Date,
        /// Last day to submit.
        pub deadline: Date,
        /// Officer account.
        pub created_by: String,
        /// When.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `report_assignments`: one unit's report under a request.
pub mod report_assignment {
    use sea_orm::entity::prelude::*;

    /// A unit's report.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_assignments")]
    pub struct Model {
        /// Request.
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        /// Unit asked.
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: String,
        /// Its name when asked.
        pub unit_name: String,
        /// Its path.
        pub unit_path: String,
        /// doan.activities.v1.ReportState number (never OVERDUE).
        pub state: i32,
        /// Submissions so far.
        pub versions: i32,
        /// The requesting level's last note.
        pub review_note: String,
        /// Last change.
        pub updated_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `report_submissions`: every version of every unit's report, kept.
pub mod report_submission {
    use sea_orm::entity::prelude::*;

    /// A submission.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_submissions")]
    pub struct Model {
        /// Submission id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub submission_id: String,
        /// Request.
        pub request_id: String,
        /// Unit.
        pub unit_id: String,
        /// Version.
        pub version: i32,
        /// The figures when submitted, JSON.
        pub figures: String,
        /// The unit's account.
        pub narrative: String,
        /// Evidence, JSON.
        pub evidence: String,
        /// Officer account.
        pub submitted_by: String,
        /// When.
        pub submitted_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `ideas`: the ideas bank.
pub mod idea {
    use sea_orm::entity::prelude::*;

    /// An idea.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ideas")]
    pub struct Model {
        /// Idea id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub idea_id: String,
        /// Member.
        pub member_id: String,
        /// The member's branch when submitted.
        pub unit_id: String,
        /// Its path.
        pub unit_path: String,
        /// Title.
        pub title: String,
        /// The idea.
        pub description: String,
        /// Field.
        pub field: String,
        /// doan.activities.v1.IdeaState number.
        pub state: i32,
        /// Last note.
        pub review_note: String,
        /// Officer account of the last decision.
        pub reviewed_by: String,
        /// The award decision that rewarded it.
        pub award_decision_id: Option<String>,
        /// Submitted.
        pub submitted_at: DateTimeUtc,
        /// Last change.
        pub updated_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
