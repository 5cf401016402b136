//! sea-orm entities of the membership database.

/// `units`: the organisation tree.
pub mod unit {
    use sea_orm::entity::prelude::*;

    /// A unit.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "units")]
    pub struct Model {
        /// Unit id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: String,
        /// Parent; `None` for the root.
        pub parent_id: Option<String>,
        /// Display name.
        pub name: String,
        /// Level number.
        pub level: i32,
        /// Materialised path `/root/…/self/`.
        pub path: String,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// 1 when created, one more with every change; carried by the unit's events so that
        /// read models apply only newer states.
        pub version: i64,
        /// `true` for the root unit, NULL otherwise: a unique index makes a second root
        /// impossible, however many administrators try at once.
        pub is_root: Option<bool>,
        /// Status number (`UnitStatus`).
        pub status: i32,
        /// The unit it was merged into.
        pub merged_into: Option<String>,
        /// A holding unit for members temporarily without a branch.
        pub holding: bool,
        /// The parent's id for a holding unit, NULL otherwise (unique: one per parent).
        pub holding_parent: Option<String>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `accounts`: login identities.
pub mod account {
    use sea_orm::entity::prelude::*;

    /// An account.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "accounts")]
    pub struct Model {
        /// Account id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: String,
        /// Login name (officer username or member number).
        #[sea_orm(unique)]
        pub username: String,
        /// argon2id PHC string.
        pub password_hash: String,
        /// `admin`, `officer` or `member`.
        pub role: String,
        /// Scope unit or branch.
        pub unit_id: Option<String>,
        /// Member record of a member account.
        #[sea_orm(unique)]
        pub member_id: Option<String>,
        /// Display name.
        pub full_name: String,
        /// Creation time.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `members`: member records. Sensitive fields are ciphertext (see `doan_platform::crypto`).
pub mod member {
    use sea_orm::entity::prelude::*;

    /// A member.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "members")]
    pub struct Model {
        /// Row sequence; the member number is derived from it.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Member id.
        #[sea_orm(unique)]
        pub member_id: String,
        /// Full name.
        pub full_name: String,
        /// Date of birth.
        pub date_of_birth: Date,
        /// Sex number.
        pub sex: i32,
        /// Encrypted ethnicity.
        pub ethnicity_enc: String,
        /// Encrypted religion (empty plaintext for none).
        pub religion_enc: String,
        /// Encrypted citizen ID.
        pub citizen_id_enc: String,
        /// Keyed blind index of the citizen ID, for uniqueness and activation.
        #[sea_orm(unique)]
        pub citizen_id_index: String,
        /// Encrypted phone.
        pub phone_enc: String,
        /// Email (may be empty).
        pub email: String,
        /// Branch.
        pub unit_id: String,
        /// Path of the branch, for subtree queries.
        pub unit_path: String,
        /// Admission date.
        pub admitted_on: Date,
        /// Admission resolution number.
        pub resolution_number: String,
        /// Status number.
        pub status: i32,
        /// Guardian consent on file.
        pub guardian_consent: bool,
        /// Officer account that admitted the member.
        pub admitted_by: String,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// 1 on admission, one more with every change; carried by the member's events.
        pub version: i64,
        /// Id of the admission rule version the admission was decided by.
        pub admission_rule: String,
        /// Date of the Party admission.
        pub party_admitted_on: Option<Date>,
        /// Number of the Party's admission decision.
        pub party_decision: String,
        /// Date of the last status change.
        pub status_changed_on: Option<Date>,
        /// Why the status last changed.
        pub status_reason: String,
        /// The name without diacritics, case or extra spaces (search, duplicates).
        pub name_key: String,
        /// Keyed blind index of the phone (exact search).
        pub phone_index: String,
        /// Quê quán.
        pub hometown: String,
        /// Residence.
        pub residence: String,
        /// Where the citizen ID was issued.
        pub citizen_id_issued_place: String,
        /// Education level.
        pub education_level: String,
        /// Professional level.
        pub professional_level: String,
        /// Political theory level.
        pub political_theory_level: String,
        /// IT level.
        pub it_level: String,
        /// Foreign-language level.
        pub language_level: String,
        /// Occupation.
        pub occupation: String,
        /// When the citizen ID was issued.
        pub citizen_id_issued_on: Option<Date>,
        /// Dues category number (`DuesCategory`; 3, unsalaried, until set).
        pub dues_category: i32,
        /// The import that admitted the member; empty for a single admission.
        pub import_id: String,
        /// When the member's personal data was anonymised (retention), if it was.
        pub anonymised_at: Option<DateTimeUtc>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `pii_access_log`: who read whose personal data, when, and why.
pub mod pii_access {
    use sea_orm::entity::prelude::*;

    /// One access.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pii_access_log")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Account that read the data.
        pub accessor_account_id: String,
        /// Member whose data was read.
        pub member_id: String,
        /// Why, as the accessor stated it (or the fixed purpose of the RPC).
        pub purpose: String,
        /// When.
        pub accessed_at: DateTimeUtc,
        /// The RPC that returned the data (`GetMember`, `AdmitMember`).
        pub rpc: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `unit_changes`: what happened to each unit, and when.
pub mod unit_change {
    use sea_orm::entity::prelude::*;

    /// One change.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "unit_changes")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The unit.
        pub unit_id: String,
        /// Kind number (`UnitChangeKind`).
        pub kind: i32,
        /// Vietnam date it took effect.
        pub effective_on: Date,
        /// Previous parent (moves).
        pub old_parent_id: String,
        /// New parent (creation, moves).
        pub new_parent_id: String,
        /// Previous name (renames).
        pub old_name: String,
        /// New name (creation, renames).
        pub new_name: String,
        /// The other unit of a merge.
        pub other_unit_id: String,
        /// The plan that made it.
        pub plan_id: String,
        /// When it was recorded.
        pub recorded_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member_placements`: which unit each member belonged to, from when to when.
pub mod member_placement {
    use sea_orm::entity::prelude::*;

    /// One placement.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_placements")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The member.
        pub member_id: String,
        /// The unit.
        pub unit_id: String,
        /// First day.
        pub from_on: Date,
        /// First day of the next placement; `None` while current.
        pub until_on: Option<Date>,
        /// Why it began (`admission`, `merge`, `transfer`).
        pub reason: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `reorg_plans`: reorganisation plans and their progress.
pub mod reorg_plan {
    use sea_orm::entity::prelude::*;

    /// A plan.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reorg_plans")]
    pub struct Model {
        /// Plan id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        /// The unit whose subtree it changes.
        pub unit_id: String,
        /// Title.
        pub title: String,
        /// Vietnam date the changes take effect.
        pub effective_on: Date,
        /// State number (`PlanState`).
        pub state: i32,
        /// Account that created it.
        pub created_by: String,
        /// When.
        pub created_at: DateTimeUtc,
        /// Steps in the plan.
        pub steps_total: i32,
        /// Steps applied.
        pub steps_done: i32,
        /// Members to rewrite, counted when applying starts.
        pub members_total: i64,
        /// Members rewritten.
        pub members_done: i64,
        /// The process applying it.
        pub runner: Option<String>,
        /// Until when that process holds it.
        pub lease_until: Option<DateTimeUtc>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `reorg_steps`: the steps of each plan.
pub mod reorg_step {
    use sea_orm::entity::prelude::*;

    /// A step.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reorg_steps")]
    pub struct Model {
        /// Plan.
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        /// Index in the plan, from 0.
        #[sea_orm(primary_key, auto_increment = false)]
        pub idx: i32,
        /// Kind number (`StepKind`).
        pub kind: i32,
        /// The unit changed.
        pub unit_id: String,
        /// New parent or absorbing unit.
        pub target_unit_id: String,
        /// New name.
        pub new_name: String,
        /// State number (`PlanState`).
        pub state: i32,
        /// Why it failed.
        pub error: String,
        /// `` before the step began, `members` while its member rewrites run.
        pub phase: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `reorg_rewrites`: path rewrites a step's member phase carries out.
pub mod reorg_rewrite {
    use sea_orm::entity::prelude::*;

    /// One rewrite.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reorg_rewrites")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Plan.
        pub plan_id: String,
        /// Step index.
        pub idx: i32,
        /// Subtree path before.
        pub old_path: String,
        /// Subtree path after.
        pub new_path: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `clusters`: clusters (cụm) of units.
pub mod cluster {
    use sea_orm::entity::prelude::*;

    /// A cluster.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "clusters")]
    pub struct Model {
        /// Cluster id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub cluster_id: String,
        /// Owning unit.
        pub unit_id: String,
        /// Name.
        pub name: String,
        /// When created.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `cluster_units`: the units of each cluster.
pub mod cluster_unit {
    use sea_orm::entity::prelude::*;

    /// One unit in one cluster.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cluster_units")]
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

/// `positions`: officers' positions per unit and term.
pub mod position {
    use sea_orm::entity::prelude::*;

    /// A position.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "positions")]
    pub struct Model {
        /// Position id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub position_id: String,
        /// Unit.
        pub unit_id: String,
        /// Officer account.
        pub account_id: String,
        /// The officer's member record.
        pub member_id: Option<String>,
        /// Kind number (`PositionKind`).
        pub kind: i32,
        /// Term label.
        pub term: String,
        /// First day.
        pub starts_on: Date,
        /// Last day of the term.
        pub ends_on: Option<Date>,
        /// Last day held, when ended early.
        pub ended_on: Option<Date>,
        /// Why ended early.
        pub end_reason: String,
        /// Account that assigned it.
        pub assigned_by: String,
        /// When.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `disciplinary_records`: disciplinary decisions.
pub mod disciplinary_record {
    use sea_orm::entity::prelude::*;

    /// A decision.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disciplinary_records")]
    pub struct Model {
        /// Record id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub record_id: String,
        /// Member.
        pub member_id: String,
        /// Kind number (`DisciplineKind`).
        pub kind: i32,
        /// Decision number.
        pub decision_number: String,
        /// Decision date.
        pub decided_on: Date,
        /// Signer.
        pub signer: String,
        /// Reason.
        pub reason: String,
        /// Account that recorded it.
        pub recorded_by: String,
        /// When.
        pub recorded_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `age_out_proposals`: monthly age-out proposals.
pub mod age_out_proposal {
    use sea_orm::entity::prelude::*;

    /// A proposal.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "age_out_proposals")]
    pub struct Model {
        /// Month `YYYY-MM`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub month: String,
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// Member row sequence (the member number).
        pub seq: i64,
        /// The 30th birthday.
        pub thirtieth_birthday: Date,
        /// State number (`AgeOutState`).
        pub state: i32,
        /// Why kept.
        pub note: String,
        /// Account that decided.
        pub decided_by: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `unit_counters`: live statistics per unit.
pub mod unit_counter {
    use sea_orm::entity::prelude::*;

    /// One counter.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "unit_counters")]
    pub struct Model {
        /// Unit.
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: String,
        /// Metric (`status`, `sex`, `birth_year`, `ethnicity`, `admitted`, …).
        #[sea_orm(primary_key, auto_increment = false)]
        pub metric: String,
        /// Key within the metric (a status number, a year, …).
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// Which of the counter's rows (a counter is the sum of its shards).
        #[sea_orm(primary_key, auto_increment = false)]
        pub shard: i32,
        /// Count.
        pub count: i64,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `transfers`: transfer requests.
pub mod transfer {
    use sea_orm::entity::prelude::*;

    /// A transfer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "transfers")]
    pub struct Model {
        /// Transfer id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub transfer_id: String,
        /// Receiving unit; `None` for an external destination.
        pub to_unit_id: Option<String>,
        /// External destination number (0: a unit).
        pub external: i32,
        /// External organisation's name.
        pub external_name: String,
        /// Why.
        pub reason: String,
        /// `sender`, `receiver` or `member`.
        pub initiated_by: String,
        /// Requesting account.
        pub requested_by: String,
        /// When.
        pub created_at: DateTimeUtc,
        /// When unfinished items expire.
        pub expires_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `transfer_items`: one member's part of each transfer.
pub mod transfer_item {
    use sea_orm::entity::prelude::*;

    /// An item.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "transfer_items")]
    pub struct Model {
        /// Transfer.
        #[sea_orm(primary_key, auto_increment = false)]
        pub transfer_id: String,
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// The unit the member leaves.
        pub from_unit_id: String,
        /// State number (`ItemState`).
        pub state: i32,
        /// Dues settled up to `YYYY-MM`.
        pub dues_paid_until: String,
        /// Sending side's comment.
        pub sender_comment: String,
        /// Branch the member was placed in.
        pub placed_unit_id: String,
        /// Why refused.
        pub refusal_reason: String,
        /// Account that last decided.
        pub decided_by: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member_changes`: the versioned history of member records.
pub mod member_change {
    use sea_orm::entity::prelude::*;

    /// One field's change.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_changes")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Member.
        pub member_id: String,
        /// The record's version the change made.
        pub version: i64,
        /// Field name.
        pub field: String,
        /// Value before (ciphertext when `personal`).
        pub before_value: String,
        /// Value after (ciphertext when `personal`).
        pub after_value: String,
        /// The values are personal data.
        pub personal: bool,
        /// Account.
        pub changed_by: String,
        /// When.
        pub changed_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `applications`: applications to join.
pub mod application {
    use sea_orm::entity::prelude::*;

    /// An application.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "applications")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub application_id: String,
        /// Branch applied to.
        pub unit_id: String,
        /// State number (`ApplicationState`).
        pub state: i32,
        /// Full name.
        pub full_name: String,
        /// Date of birth.
        pub date_of_birth: Date,
        /// Sex number.
        pub sex: i32,
        /// Encrypted ethnicity.
        pub ethnicity_enc: String,
        /// Encrypted religion.
        pub religion_enc: String,
        /// Encrypted citizen ID.
        pub citizen_id_enc: String,
        /// Blind index of the citizen ID.
        pub citizen_id_index: String,
        /// Encrypted phone.
        pub phone_enc: String,
        /// Encrypted email.
        pub email_enc: String,
        /// Under 16 when filed.
        pub is_child: bool,
        /// Guardian's name.
        pub guardian_name: String,
        /// Guardian's relation.
        pub guardian_relation: String,
        /// Date of the consent.
        pub guardian_consented_on: Option<Date>,
        /// Consent document reference.
        pub guardian_document: String,
        /// `self` or the entering account.
        pub submitted_by: String,
        /// When filed.
        pub submitted_at: DateTimeUtc,
        /// Branch's proposal note.
        pub proposal_note: String,
        /// Proposing account.
        pub proposed_by: String,
        /// Resolution number.
        pub resolution_number: String,
        /// Resolution date.
        pub resolution_date: Option<Date>,
        /// Signer.
        pub signer: String,
        /// Why rejected.
        pub rejection_reason: String,
        /// Deciding account.
        pub decided_by: String,
        /// Member admitted.
        pub member_id: String,
        /// Documents on file, `kind<TAB>reference` per line.
        pub documents: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `dues_payments`: a dues payment of whole months.
pub mod dues_payment {
    use sea_orm::entity::prelude::*;

    /// A dues payment of whole months.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dues_payments")]
    pub struct Model {
        /// Payment id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub payment_id: String,
        /// Member.
        pub member_id: String,
        /// Collecting unit (the member's branch then).
        pub unit_id: String,
        /// First month, `YYYY-MM`.
        pub first_month: String,
        /// Months covered.
        pub months: i32,
        /// Amount.
        pub amount_vnd: i64,
        /// `PaymentMethod` number.
        pub method: i32,
        /// Bank reference or receipt.
        pub reference: String,
        /// `PaymentState` number.
        pub state: i32,
        /// Date paid.
        pub paid_on: Date,
        /// Recording account.
        pub recorded_by: String,
        /// When recorded.
        pub recorded_at: DateTimeUtc,
        /// Confirming or rejecting account.
        pub decided_by: String,
        /// Why rejected.
        pub reject_reason: String,
        /// The remittance that included it.
        pub remittance_id: Option<String>,
        /// Dues rule that priced it.
        pub rule_id: String,
        /// Category when priced.
        pub category: i32,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `dues_months`: one covered month of a member's dues.
pub mod dues_month {
    use sea_orm::entity::prelude::*;

    /// One covered month of a member's dues.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dues_months")]
    pub struct Model {
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// `YYYY-MM`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub month: String,
        /// `DuesMonthState` number (paid, pending, exempt).
        pub state: i32,
        /// Paid for the month (0 when exempt).
        pub amount_vnd: i64,
        /// Collecting unit.
        pub unit_id: String,
        /// Covering payment, or empty.
        pub payment_id: String,
        /// Covering exemption, or empty.
        pub exemption_id: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `dues_exemptions`: a hardship exemption.
pub mod dues_exemption {
    use sea_orm::entity::prelude::*;

    /// A hardship exemption.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dues_exemptions")]
    pub struct Model {
        /// Exemption id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub exemption_id: String,
        /// Member.
        pub member_id: String,
        /// First month.
        pub first_month: String,
        /// Months.
        pub months: i32,
        /// Grounds.
        pub reason: String,
        /// Officer's account.
        pub granted_by: String,
        /// When.
        pub granted_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `remittances`: a unit's share sent to its parent.
pub mod remittance {
    use sea_orm::entity::prelude::*;

    /// A unit's share sent to its parent.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "remittances")]
    pub struct Model {
        /// Remittance id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub remittance_id: String,
        /// Remitting unit.
        pub from_unit_id: String,
        /// Receiving parent.
        pub to_unit_id: String,
        /// Period label.
        pub period: String,
        /// Collected part of the pool.
        pub collected_vnd: i64,
        /// Received part.
        pub received_vnd: i64,
        /// Pool.
        pub pool_vnd: i64,
        /// Kept.
        pub kept_vnd: i64,
        /// Sent.
        pub amount_vnd: i64,
        /// `RemittanceState` number.
        pub state: i32,
        /// Due day.
        pub due_on: Date,
        /// Sending account.
        pub created_by: String,
        /// When sent.
        pub created_at: DateTimeUtc,
        /// Confirming account.
        pub confirmed_by: String,
        /// When confirmed.
        pub confirmed_at: Option<DateTimeUtc>,
        /// Dues rule.
        pub rule_id: String,
        /// The receiver's remittance that included it.
        pub forwarded_in: Option<String>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `training_programmes`: a year's training programme of a subtree.
pub mod training_programme {
    use sea_orm::entity::prelude::*;

    /// A year's training programme of a subtree.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "training_programmes")]
    pub struct Model {
        /// Programme id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub programme_id: String,
        /// Setting unit.
        pub unit_id: String,
        /// Year.
        pub year: i32,
        /// Title.
        pub title: String,
        /// Officer's account.
        pub created_by: String,
        /// When.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `training_criteria`: a criterion of a programme.
pub mod training_criterion {
    use sea_orm::entity::prelude::*;

    /// A criterion of a programme.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "training_criteria")]
    pub struct Model {
        /// Criterion id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub criterion_id: String,
        /// Programme.
        pub programme_id: String,
        /// Order.
        pub position: i32,
        /// Title.
        pub title: String,
        /// What it asks.
        pub description: String,
        /// `CriterionKind` number.
        pub kind: i32,
        /// Participations needed.
        pub target: i32,
        /// Required to pass.
        pub required: bool,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `training_registrations`: a member's training year.
pub mod training_registration {
    use sea_orm::entity::prelude::*;

    /// A member's training year.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "training_registrations")]
    pub struct Model {
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// Year.
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        /// Programme.
        pub programme_id: String,
        /// `TrainingState` number.
        pub state: i32,
        /// Self-assessment.
        pub self_assessment: String,
        /// `TrainingResult` number.
        pub result: i32,
        /// Branch's comment.
        pub comment: String,
        /// Registering account.
        pub registered_by: String,
        /// When.
        pub registered_at: DateTimeUtc,
        /// Evaluating account.
        pub evaluated_by: String,
        /// When evaluated.
        pub evaluated_at: Option<DateTimeUtc>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `training_evidence`: evidence linked to a criterion.
pub mod training_evidence {
    use sea_orm::entity::prelude::*;

    /// Evidence linked to a criterion.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "training_evidence")]
    pub struct Model {
        /// Evidence id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub evidence_id: String,
        /// Member.
        pub member_id: String,
        /// Year.
        pub year: i32,
        /// Criterion.
        pub criterion_id: String,
        /// `EvidenceKind` number.
        pub kind: i32,
        /// Participation.
        pub participation_id: String,
        /// Activity title.
        pub activity_title: String,
        /// Document reference.
        pub reference: String,
        /// What it shows.
        pub description: String,
        /// Account.
        pub added_by: String,
        /// When.
        pub added_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `training_verdicts`: the branch's verdict on one criterion of a member's year.
pub mod training_verdict {
    use sea_orm::entity::prelude::*;

    /// The branch's verdict on one criterion of a member's year.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "training_verdicts")]
    pub struct Model {
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// Year.
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        /// Criterion.
        #[sea_orm(primary_key, auto_increment = false)]
        pub criterion_id: String,
        /// Met.
        pub met: bool,
        /// Note.
        pub officer_note: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member_participations`: a participation reported by activities (read model).
pub mod member_participation {
    use sea_orm::entity::prelude::*;

    /// A participation reported by activities (read model).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_participations")]
    pub struct Model {
        /// Participation id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub participation_id: String,
        /// Member.
        pub member_id: String,
        /// Activity.
        pub activity_id: String,
        /// Title.
        pub activity_title: String,
        /// Check-in time.
        pub checked_in_at: DateTimeUtc,
        /// Its Vietnam date.
        pub on_day: Date,
        /// Volunteer minutes credited.
        pub minutes: i32,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member_awards`: an award granted to a member (read model).
pub mod member_award {
    use sea_orm::entity::prelude::*;

    /// An award granted to a member (read model).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_awards")]
    pub struct Model {
        /// Decision.
        #[sea_orm(primary_key, auto_increment = false)]
        pub decision_id: String,
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// Award form number.
        pub form: i32,
        /// Decision number.
        pub decision_number: String,
        /// Decision date.
        pub decision_date: Date,
        /// What for.
        pub content: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `evaluation_periods`: a year's evaluation of a subtree.
pub mod evaluation_period {
    use sea_orm::entity::prelude::*;

    /// A year's evaluation of a subtree.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "evaluation_periods")]
    pub struct Model {
        /// Period id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub period_id: String,
        /// Opening unit.
        pub unit_id: String,
        /// Year label.
        pub year: i32,
        /// `EvaluationSector` number.
        pub sector: i32,
        /// First day.
        pub starts_on: Date,
        /// Last day.
        pub ends_on: Date,
        /// Proposals by.
        pub proposal_deadline: Date,
        /// Confirmation by.
        pub confirmation_deadline: Date,
        /// Evaluation rule.
        pub rule_id: String,
        /// Quota.
        pub excellent_max_percent: i32,
        /// Officer's account.
        pub created_by: String,
        /// When.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member_ratings`: a member's rating in a period, with the evidence frozen at confirmation.
pub mod member_rating {
    use sea_orm::entity::prelude::*;

    /// A member's rating in a period, with the evidence frozen at confirmation.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_ratings")]
    pub struct Model {
        /// Period.
        #[sea_orm(primary_key, auto_increment = false)]
        pub period_id: String,
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// Branch.
        pub unit_id: String,
        /// `MemberRating` number.
        pub rating: i32,
        /// `RatingState` number.
        pub state: i32,
        /// Note.
        pub note: String,
        /// Proposing account.
        pub proposed_by: String,
        /// When.
        pub proposed_at: DateTimeUtc,
        /// Confirming account.
        pub confirmed_by: String,
        /// When confirmed.
        pub confirmed_at: Option<DateTimeUtc>,
        /// The period's last day.
        pub period_ends_on: Date,
        /// Evidence: participations.
        pub participations: i32,
        /// Evidence: minutes.
        pub volunteer_minutes: i64,
        /// Evidence: dues months due.
        pub dues_months_due: i32,
        /// Evidence: paid.
        pub dues_months_paid: i32,
        /// Evidence: exempt.
        pub dues_months_exempt: i32,
        /// Evidence: owed.
        pub dues_arrears_months: i32,
        /// Evidence: training state.
        pub training_state: i32,
        /// Evidence: training result.
        pub training_result: i32,
        /// Evidence: awards.
        pub awards: i32,
        /// Evidence: disciplinary decisions.
        pub disciplinary_records: i32,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `unit_ratings`: a unit's rating in a period.
pub mod unit_rating {
    use sea_orm::entity::prelude::*;

    /// A unit's rating in a period.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "unit_ratings")]
    pub struct Model {
        /// Period.
        #[sea_orm(primary_key, auto_increment = false)]
        pub period_id: String,
        /// Unit.
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: String,
        /// `UnitRating` number.
        pub rating: i32,
        /// Members rated.
        pub members_rated: i32,
        /// Excellent.
        pub excellent: i32,
        /// Good.
        pub good: i32,
        /// Completed.
        pub completed: i32,
        /// Not completed.
        pub not_completed: i32,
        /// Targets met.
        pub targets_met: i32,
        /// Targets set.
        pub targets_total: i32,
        /// Note.
        pub note: String,
        /// Account.
        pub rated_by: String,
        /// When.
        pub rated_at: DateTimeUtc,
        /// Evaluation rule.
        pub rule_id: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `party_introductions`: a branch's resolution introducing members to the Party.
pub mod party_introduction {
    use sea_orm::entity::prelude::*;

    /// A branch's resolution introducing members to the Party.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "party_introductions")]
    pub struct Model {
        /// Introduction id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub introduction_id: String,
        /// Branch.
        pub unit_id: String,
        /// Resolution number.
        pub resolution_number: String,
        /// Resolution date.
        pub resolution_date: Date,
        /// `IntroductionState` number.
        pub state: i32,
        /// Party committee.
        pub party_committee: String,
        /// Date sent.
        pub sent_on: Option<Date>,
        /// Sending account.
        pub sent_by: String,
        /// Proposing account.
        pub created_by: String,
        /// When.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `party_introduction_members`: a member of an introduction.
pub mod party_introduction_member {
    use sea_orm::entity::prelude::*;

    /// A member of an introduction.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "party_introduction_members")]
    pub struct Model {
        /// Introduction.
        #[sea_orm(primary_key, auto_increment = false)]
        pub introduction_id: String,
        /// Member.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// Rating it rests on.
        pub rating: i32,
        /// Its year.
        pub rating_year: i32,
        /// `IntroductionOutcome` number.
        pub outcome: i32,
        /// Party decision date.
        pub admitted_on: Option<Date>,
        /// Party decision number.
        pub decision_number: String,
        /// Note.
        pub note: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `reminders_sent`: a reminder already sent (its key).
pub mod reminder_sent {
    use sea_orm::entity::prelude::*;

    /// A reminder already sent (its key).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reminders_sent")]
    pub struct Model {
        /// Kind and what it is about.
        #[sea_orm(primary_key, auto_increment = false)]
        pub reminder_key: String,
        /// Day sent.
        pub sent_on: Date,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member_imports`: import sessions and their counts.
pub mod member_import {
    use sea_orm::entity::prelude::*;

    /// An import.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_imports")]
    pub struct Model {
        /// Import id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub import_id: String,
        /// The unit whose subtree the rows must be in.
        pub unit_id: String,
        /// Its path.
        pub unit_path: String,
        /// Account that created it.
        pub created_by: String,
        /// That account's unit (empty for administrators), for the admission authority.
        pub caller_unit_id: String,
        /// That account is an administrator.
        pub caller_admin: bool,
        /// File name as given.
        pub file_name: String,
        /// `FileFormat` number.
        pub format: i32,
        /// `ImportMode` number.
        pub mode: i32,
        /// `ImportState` number.
        pub state: i32,
        /// Declared size.
        pub size_bytes: i64,
        /// Bytes received.
        pub received_bytes: i64,
        /// SHA-256 of the file, set on submit.
        pub sha256: String,
        /// The file's header row (JSON array of strings), once read.
        pub header: String,
        /// Member rows.
        pub rows_total: i32,
        /// Rows checked.
        pub rows_read: i32,
        /// Rows valid and not present.
        pub rows_valid: i32,
        /// Rows rejected.
        pub rows_rejected: i32,
        /// Rows already on file.
        pub rows_present: i32,
        /// Members written.
        pub rows_written: i32,
        /// Event batches committed.
        pub events_total: i32,
        /// Why it failed (Vietnamese).
        pub error: String,
        /// When created.
        pub created_at: DateTimeUtc,
        /// When a worker first took it.
        pub started_at: Option<DateTimeUtc>,
        /// When it ended.
        pub finished_at: Option<DateTimeUtc>,
        /// The process running it.
        pub runner: Option<String>,
        /// Until when that process holds it.
        pub lease_until: Option<DateTimeUtc>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member_import_chunks`: uploaded bytes.
pub mod member_import_chunk {
    use sea_orm::entity::prelude::*;

    /// A chunk.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_import_chunks")]
    pub struct Model {
        /// Import.
        #[sea_orm(primary_key, auto_increment = false)]
        pub import_id: String,
        /// Offset in the file.
        #[sea_orm(primary_key, auto_increment = false)]
        pub offset: i64,
        /// The bytes.
        pub data: Vec<u8>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member_import_rejects`: rejected rows, for the report.
pub mod member_import_reject {
    use sea_orm::entity::prelude::*;

    /// A rejected row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_import_rejects")]
    pub struct Model {
        /// Import.
        #[sea_orm(primary_key, auto_increment = false)]
        pub import_id: String,
        /// Row number in the file.
        #[sea_orm(primary_key, auto_increment = false)]
        pub line: i32,
        /// The row's cells as read (JSON array of strings).
        pub cells: String,
        /// Its problems, in Vietnamese, one per line.
        pub problems: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member_import_batches`: each batch's `MembersAdmitted` event.
pub mod member_import_batch {
    use sea_orm::entity::prelude::*;

    /// A batch.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_import_batches")]
    pub struct Model {
        /// Import.
        #[sea_orm(primary_key, auto_increment = false)]
        pub import_id: String,
        /// Batch number, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub batch: i32,
        /// The outbox event id.
        pub event_id: String,
        /// Members in it.
        pub members: i32,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member_import_acks`: batches each read-model service applied.
pub mod member_import_ack {
    use sea_orm::entity::prelude::*;

    /// An acknowledgement.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_import_acks")]
    pub struct Model {
        /// Import.
        #[sea_orm(primary_key, auto_increment = false)]
        pub import_id: String,
        /// Batch.
        #[sea_orm(primary_key, auto_increment = false)]
        pub batch: i32,
        /// Service.
        #[sea_orm(primary_key, auto_increment = false)]
        pub service: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `subtree_counters`: a unit's counters summed over its whole subtree (kept by every change
/// with the unit's own counters), so statistics read a few rows at any level.
pub mod subtree_counter {
    use sea_orm::entity::prelude::*;

    /// One subtree total.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subtree_counters")]
    pub struct Model {
        /// Unit at the top of the subtree.
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: String,
        /// Metric.
        #[sea_orm(primary_key, auto_increment = false)]
        pub metric: String,
        /// Key within the metric.
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// Shard.
        #[sea_orm(primary_key, auto_increment = false)]
        pub shard: i32,
        /// Count.
        pub count: i64,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
