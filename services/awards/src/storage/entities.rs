//! sea-orm entities of the awards database.

/// `award_decisions`.
pub mod decision {
    use sea_orm::entity::prelude::*;

    /// A decision.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "award_decisions")]
    pub struct Model {
        /// Decision id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub decision_id: String,
        /// Số QĐ, unique per issuing unit.
        pub decision_number: String,
        /// Date signed.
        pub decision_date: Date,
        /// Issuing unit.
        pub issuing_unit_id: String,
        /// Path of the issuing unit, for scope checks.
        pub issuing_unit_path: String,
        /// Form number.
        pub form: i32,
        /// Signer.
        pub signer: String,
        /// What it is for.
        pub content: String,
        /// Officer account that recorded it.
        pub recorded_by: String,
        /// When it was recorded.
        pub recorded_at: DateTimeUtc,
        /// Id of the award rule version (rules/awards.toml) the issuing authority was
        /// checked by.
        pub award_rule: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `award_recipients`: individuals and collectives of a decision.
pub mod recipient {
    use sea_orm::entity::prelude::*;

    /// A recipient.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "award_recipients")]
    pub struct Model {
        /// Decision.
        #[sea_orm(primary_key, auto_increment = false)]
        pub decision_id: String,
        /// Position in the decision.
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        /// Individual recipient.
        pub member_id: Option<String>,
        /// Collective recipient.
        pub unit_id: Option<String>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `standings`: emulation points per member per year.
pub mod standing {
    use sea_orm::entity::prelude::*;

    /// A member's year.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "standings")]
    pub struct Model {
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// Calendar year (Vietnam time).
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        /// Points.
        pub points: i64,
        /// Check-ins counted.
        pub participations: i64,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `ratings`: yearly ratings of members and units, as membership reported them.
pub mod rating {
    use sea_orm::entity::prelude::*;

    /// A rating.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ratings")]
    pub struct Model {
        /// The member or unit.
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject_id: String,
        /// The evaluation period.
        #[sea_orm(primary_key, auto_increment = false)]
        pub period_id: String,
        /// A unit's rating (a member's otherwise).
        pub unit: bool,
        /// The period's year label.
        pub year: i32,
        /// Membership's rating number (`MemberRating` or `UnitRating`).
        pub rating: i32,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `achievements`: what activities reports a member or unit achieved (a project inaugurated, a
/// target met, an idea adopted), kept as evidence for emulation and nominations.
pub mod achievement {
    use sea_orm::entity::prelude::*;

    /// An achievement.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "achievements")]
    pub struct Model {
        /// `<kind>:<source id>` (project, target or idea id): one row per source.
        #[sea_orm(primary_key, auto_increment = false)]
        pub achievement_id: String,
        /// `project_inaugurated`, `target_met` or `idea_adopted`.
        pub kind: String,
        /// The member (idea) or unit (project, target).
        pub subject_id: String,
        /// True when the subject is a unit.
        pub unit: bool,
        /// Year.
        pub year: i32,
        /// What it was, in Vietnamese.
        pub title: String,
        /// A value: đồng for a project, the count for a target, 0 otherwise.
        pub value: i64,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
