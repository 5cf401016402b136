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
        /// Catalogue kind code.
        pub kind: String,
        /// Level number of the issuing unit on the decision date.
        pub issuing_level: i32,
        /// Ceremony date (YYYY-MM-DD); empty until set.
        pub ceremony_date: String,
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
        /// The award's id (UUID; its credential is `urn:uuid:<award_id>`).
        pub award_id: String,
        /// A cluster recipient.
        pub cluster_id: Option<String>,
        /// The recipient's name when the decision was recorded.
        pub recipient_name: String,
        /// Where the recipient was when the decision was recorded: the member's branch path,
        /// the unit's path, the cluster owner's path (figures of what a subtree received).
        pub recipient_path: String,
        /// `AwardStatus` number: 1 granted, 2 revoked.
        pub status: i32,
        /// When revoked.
        pub revoked_at: Option<DateTimeUtc>,
        /// Why revoked.
        pub revocation_reason: String,
        /// Legal basis of the revocation.
        pub revocation_legal_basis: String,
        /// The status list holding its revocation bit; empty until its credential is issued.
        pub status_list_id: String,
        /// The bit's index.
        pub status_index: i64,
        /// The signed credential (JSON); empty until issued.
        pub credential: String,
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

/// `once_awards`: who holds a once-per-person kind (the medal); removed when revoked.
pub mod once_award {
    use sea_orm::entity::prelude::*;

    /// A holder.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "once_awards")]
    pub struct Model {
        /// Kind code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// The award.
        pub award_id: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `award_clusters`: clusters (cụm), from membership's ClusterChanged.
pub mod cluster {
    use sea_orm::entity::prelude::*;

    /// A cluster.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "award_clusters")]
    pub struct Model {
        /// Cluster.
        #[sea_orm(primary_key, auto_increment = false)]
        pub cluster_id: String,
        /// The unit that owns it.
        pub owner_unit_id: String,
        /// Its name.
        pub name: String,
        /// When the event that wrote this row occurred (a later one wins).
        pub changed_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `issuer_keys`: each issuing unit's Ed25519 keys; the newest signs.
pub mod issuer_key {
    use sea_orm::entity::prelude::*;

    /// A key.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "issuer_keys")]
    pub struct Model {
        /// The issuing unit.
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: String,
        /// Key id (`key-<n>`), the fragment of its verification method.
        #[sea_orm(primary_key, auto_increment = false)]
        pub key_id: String,
        /// Public key, Multikey (`z6Mk…`).
        pub public_key: String,
        /// The 32-byte secret key, base64, encrypted under `credentials.key`.
        pub secret: String,
        /// When created.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `status_lists`: each issuer's revocation lists (Bitstring Status List).
pub mod status_list {
    use sea_orm::entity::prelude::*;

    /// A list.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "status_lists")]
    pub struct Model {
        /// List id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub list_id: String,
        /// The issuing unit.
        pub unit_id: String,
        /// Next free index.
        pub next_index: i64,
        /// The bits (MSB first), `STATUS_LIST_BITS / 8` bytes.
        pub bits: Vec<u8>,
        /// The signed status list credential (JSON), rewritten whenever a bit changes.
        pub credential: String,
        /// When a bit last changed.
        pub updated_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `score_facts`: one per source of emulation points (a participation, its volunteer minutes,
/// a payment month, a rating, a project, a target, an idea).
pub mod score_fact {
    use sea_orm::entity::prelude::*;

    /// A fact.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "score_facts")]
    pub struct Model {
        /// `<kind>:<source id>`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub fact_id: String,
        /// The member or unit.
        pub subject_id: String,
        /// True for a unit.
        pub unit: bool,
        /// Year (Vietnam).
        pub year: i32,
        /// Month 1..=12.
        pub month: i32,
        /// `ScoreKind` number.
        pub kind: i32,
        /// 1, minutes, or a rating number.
        pub quantity: i64,
        /// Final (volunteer minutes approved by the organiser); a provisional quantity never
        /// replaces a final one.
        pub approved: bool,
        /// What it was.
        pub title: String,
        /// Its day (YYYY-MM-DD).
        pub occurred_on: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `scoring_rules`: a unit's own weights for a year (JSON of `domain::scoring::Weights`).
pub mod scoring_rule {
    use sea_orm::entity::prelude::*;

    /// A rule.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "scoring_rules")]
    pub struct Model {
        /// The unit.
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: String,
        /// The year.
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        /// The weights (JSON).
        pub weights: String,
        /// Who set them.
        pub set_by: String,
        /// When.
        pub set_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `award_cluster_units`: the units of each cluster (from ClusterChanged).
pub mod cluster_unit {
    use sea_orm::entity::prelude::*;

    /// A cluster's unit.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "award_cluster_units")]
    pub struct Model {
        /// Cluster.
        #[sea_orm(primary_key, auto_increment = false)]
        pub cluster_id: String,
        /// Unit.
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
