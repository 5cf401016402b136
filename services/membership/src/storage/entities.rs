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
