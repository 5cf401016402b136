//! Every query and transaction on member records.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::member;
use crate::domain::member::MemberStatus;

/// A member to admit, personal data already encrypted (`*_enc`) by the API room's cipher.
pub struct NewMember {
    /// Full name.
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Sex number.
    pub sex: i32,
    /// Encrypted ethnicity.
    pub ethnicity_enc: String,
    /// Encrypted religion.
    pub religion_enc: String,
    /// Encrypted citizen ID.
    pub citizen_id_enc: String,
    /// Keyed blind index of the citizen ID (unique).
    pub citizen_id_index: String,
    /// Encrypted phone.
    pub phone_enc: String,
    /// Email.
    pub email: String,
    /// Unit joined and its path.
    pub unit_id: String,
    /// Materialised path of that unit.
    pub unit_path: String,
    /// Admission date (Vietnam).
    pub admitted_on: NaiveDate,
    /// Resolution number.
    pub resolution_number: String,
    /// Status on admission.
    pub status: MemberStatus,
    /// Guardian consent on file.
    pub guardian_consent: bool,
    /// Account that admitted.
    pub admitted_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Admission rule version that decided.
    pub admission_rule: String,
}

/// Stores an admitted member (version 1) inside `txn`. A citizen ID already on file is a
/// unique violation of the blind index, which the caller maps.
pub async fn admit(txn: &impl ConnectionTrait, new: NewMember) -> Result<member::Model, DbErr> {
    member::ActiveModel {
        member_id: Set(doan_platform::convert::new_id()),
        full_name: Set(new.full_name),
        date_of_birth: Set(new.date_of_birth),
        sex: Set(new.sex),
        ethnicity_enc: Set(new.ethnicity_enc),
        religion_enc: Set(new.religion_enc),
        citizen_id_enc: Set(new.citizen_id_enc),
        citizen_id_index: Set(new.citizen_id_index),
        phone_enc: Set(new.phone_enc),
        email: Set(new.email),
        unit_id: Set(new.unit_id),
        unit_path: Set(new.unit_path),
        admitted_on: Set(new.admitted_on),
        resolution_number: Set(new.resolution_number),
        status: Set(new.status as i32),
        guardian_consent: Set(new.guardian_consent),
        admitted_by: Set(new.admitted_by),
        created_at: Set(new.created_at),
        version: Set(1),
        admission_rule: Set(new.admission_rule),
        ..Default::default()
    }
    .insert(txn)
    .await
}

/// The member `member_id`.
pub async fn find(db: &impl ConnectionTrait, member_id: &str) -> Result<Option<member::Model>, DbErr> {
    member::Entity::find().filter(member::Column::MemberId.eq(member_id)).one(db).await
}

/// The member whose number is `DV` + `seq`.
pub async fn find_by_seq(db: &impl ConnectionTrait, seq: i64) -> Result<Option<member::Model>, DbErr> {
    member::Entity::find_by_id(seq).one(db).await
}

/// Up to `limit` members in the subtree at `path`, by member number, after number `after`.
pub async fn page_in_subtree(
    db: &impl ConnectionTrait,
    path: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find()
        .filter(member::Column::UnitPath.starts_with(path))
        .filter(member::Column::Seq.gt(after))
        .order_by_asc(member::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}
