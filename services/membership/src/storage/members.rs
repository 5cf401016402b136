//! Every query and transaction on member records.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::member;
use crate::domain::member::{MemberStatus, name_pattern, search_tokens};

/// A member to admit, personal data already encrypted (`*_enc`) by the API room's cipher.
pub struct NewMember {
    /// Its id (the protected fields are sealed to it).
    pub member_id: String,
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
    /// The name without diacritics.
    pub name_key: String,
    /// Keyed blind index of the phone.
    pub phone_index: String,
    /// The import admitting the member; empty for a single admission.
    pub import_id: String,
}

/// Where the protected `column` of member `member_id` lives (bound into its ciphertext).
pub fn protected<'a>(column: &'static str, member_id: &'a str) -> doan_platform::crypto::Field<'a> {
    doan_platform::crypto::Field::new("members", column, member_id)
}

/// Stores an admitted member (version 1) and their first placement inside `txn`. A citizen ID already on file is a
/// unique violation of the blind index, which the caller maps.
pub async fn admit(txn: &impl ConnectionTrait, new: NewMember) -> Result<member::Model, DbErr> {
    let admitted = active(new).insert(txn).await?;
    super::placements::open(txn, &admitted.member_id, &admitted.unit_id, admitted.admitted_on, "admission").await?;
    Ok(admitted)
}

/// Stores admitted members (version 1) and their first placements inside `txn`, a few
/// hundred rows per statement; returns them in the order given.
pub async fn admit_many(txn: &impl ConnectionTrait, new: Vec<NewMember>) -> Result<Vec<member::Model>, DbErr> {
    let mut admitted = Vec::with_capacity(new.len());
    let mut rows = new.into_iter().map(active).peekable();
    while rows.peek().is_some() {
        let chunk: Vec<member::ActiveModel> = rows.by_ref().take(500).collect();
        let mut stored = member::Entity::insert_many(chunk.clone()).exec_with_returning(txn).await?;
        // RETURNING gives the rows back; keep the order the caller gave.
        let order: std::collections::HashMap<&str, usize> =
            chunk.iter().enumerate().filter_map(|(i, a)| a.member_id.try_as_ref().map(|id| (id.as_str(), i))).collect();
        stored.sort_by_key(|m| order.get(m.member_id.as_str()).copied().unwrap_or(usize::MAX));
        admitted.extend(stored);
    }
    let placements: Vec<_> =
        admitted.iter().map(|m| (m.member_id.as_str(), m.unit_id.as_str(), m.admitted_on)).collect();
    super::placements::open_many(txn, &placements, "admission").await?;
    Ok(admitted)
}

fn active(new: NewMember) -> member::ActiveModel {
    member::ActiveModel {
        member_id: Set(new.member_id),
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
        status_changed_on: Set(Some(new.admitted_on)),
        name_key: Set(new.name_key),
        phone_index: Set(new.phone_index),
        import_id: Set(new.import_id),
        ..Default::default()
    }
}

/// In one query: the member holding the citizen-ID blind index `index`, and the first member
/// (by number) with the name key `name_key` born on `date_of_birth`.
pub async fn same_citizen_or_person(
    db: &impl ConnectionTrait,
    index: &str,
    name_key: &str,
    date_of_birth: NaiveDate,
) -> Result<(Option<member::Model>, Option<member::Model>), DbErr> {
    use sea_orm::Condition;
    let found = member::Entity::find()
        .filter(
            Condition::any().add(member::Column::CitizenIdIndex.eq(index)).add(
                Condition::all()
                    .add(member::Column::NameKey.eq(name_key))
                    .add(member::Column::DateOfBirth.eq(date_of_birth)),
            ),
        )
        .order_by_asc(member::Column::Seq)
        .all(db)
        .await?;
    let citizen = found.iter().find(|m| m.citizen_id_index == index).cloned();
    let person = found.into_iter().find(|m| m.name_key == name_key && m.date_of_birth == date_of_birth);
    Ok((citizen, person))
}

/// Members holding any of the citizen-ID blind indexes `indexes`.
pub async fn by_citizen_indexes(db: &impl ConnectionTrait, indexes: &[String]) -> Result<Vec<member::Model>, DbErr> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    member::Entity::find().filter(member::Column::CitizenIdIndex.is_in(indexes.iter().cloned())).all(db).await
}

/// Members whose name key is one of `name_keys` (the caller compares birth dates).
pub async fn by_name_keys(db: &impl ConnectionTrait, name_keys: &[String]) -> Result<Vec<member::Model>, DbErr> {
    if name_keys.is_empty() {
        return Ok(Vec::new());
    }
    member::Entity::find().filter(member::Column::NameKey.is_in(name_keys.iter().cloned())).all(db).await
}

/// The member `member_id`.
pub async fn find(db: &impl ConnectionTrait, member_id: &str) -> Result<Option<member::Model>, DbErr> {
    member::Entity::find().filter(member::Column::MemberId.eq(member_id)).one(db).await
}

/// The member whose number is `DV` + `seq`.
pub async fn find_by_seq(db: &impl ConnectionTrait, seq: i64) -> Result<Option<member::Model>, DbErr> {
    member::Entity::find_by_id(seq).one(db).await
}

/// Members of every status in the subtree at `path`.
pub async fn count_in_subtree(db: &impl ConnectionTrait, path: &str) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    member::Entity::find().filter(member::Column::UnitPath.starts_with(path)).count(db).await
}

/// Up to `limit` members of unit `unit_id` (whatever their status), by member number, after
/// number `after`.
pub async fn page_in_unit(
    db: &impl ConnectionTrait,
    unit_id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find()
        .filter(member::Column::UnitId.eq(unit_id))
        .filter(member::Column::Seq.gt(after))
        .order_by_asc(member::Column::Seq)
        .limit(limit)
        .all(db)
        .await
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

/// Rewrites the unit path of up to `limit` members whose path starts with `old` (a moved
/// subtree) to start with `new`. Returns how many; 0 when none is left.
pub async fn rewrite_paths(txn: &impl ConnectionTrait, old: &str, new: &str, limit: u64) -> Result<u64, DbErr> {
    use sea_orm::sea_query::{ExprTrait, Query};
    // One statement per batch: the rows to rewrite are chosen by a subquery.
    let batch = Query::select()
        .column(member::Column::Seq)
        .from(member::Entity)
        .and_where(Expr::col(member::Column::UnitPath).like(format!("{old}%")))
        .limit(limit)
        .to_owned();
    let done = member::Entity::update_many()
        .col_expr(member::Column::UnitPath, doan_platform::db::path_rewritten(member::Column::UnitPath, old, new))
        .filter(Expr::col(member::Column::Seq).in_subquery(batch))
        .exec(txn)
        .await?;
    Ok(done.rows_affected)
}

/// Re-homes up to `limit` active members of unit `from` into unit `to` at `to_path` (each
/// version one more), ending their placements on `on`. Returns the members re-homed; none
/// when none is left.
pub async fn rehome(
    txn: &impl ConnectionTrait,
    from: &str,
    to: &str,
    to_path: &str,
    on: NaiveDate,
    reason: &str,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    let batch: Vec<String> = member::Entity::find()
        .select_only()
        .column(member::Column::MemberId)
        .filter(member::Column::UnitId.eq(from))
        .filter(member::Column::Status.eq(MemberStatus::Active as i32))
        .order_by_asc(member::Column::Seq)
        .limit(limit)
        .into_tuple()
        .all(txn)
        .await?;
    if batch.is_empty() {
        return Ok(batch);
    }
    member::Entity::update_many()
        .col_expr(member::Column::UnitId, Expr::value(to))
        .col_expr(member::Column::UnitPath, Expr::value(to_path))
        .col_expr(member::Column::Version, Expr::col(member::Column::Version).add(1))
        .filter(member::Column::MemberId.is_in(batch.iter().cloned()))
        .exec(txn)
        .await?;
    super::placements::change(txn, &batch, to, on, reason).await?;
    Ok(batch)
}

/// Sets `m`'s status on `on` for `reason` (version one more).
pub async fn set_status(
    txn: &impl ConnectionTrait,
    m: member::Model,
    status: MemberStatus,
    on: NaiveDate,
    reason: &str,
) -> Result<member::Model, DbErr> {
    let version = m.version + 1;
    let mut active: member::ActiveModel = m.into();
    active.status = Set(status as i32);
    active.status_changed_on = Set(Some(on));
    active.status_reason = Set(reason.to_string());
    active.version = Set(version);
    active.update(txn).await
}

/// Records `m`'s Party admission (version one more).
pub async fn set_party_admission(
    txn: &impl ConnectionTrait,
    m: member::Model,
    on: NaiveDate,
    decision: &str,
) -> Result<member::Model, DbErr> {
    let version = m.version + 1;
    let mut active: member::ActiveModel = m.into();
    active.party_admitted_on = Set(Some(on));
    active.party_decision = Set(decision.to_string());
    active.version = Set(version);
    active.update(txn).await
}

/// Up to `limit` members after row `after`, by row (for passes over every member).
pub async fn page(db: &impl ConnectionTrait, after: i64, limit: u64) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find()
        .filter(member::Column::Seq.gt(after))
        .order_by_asc(member::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Units holding active members.
pub async fn units_with_active_members(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    member::Entity::find()
        .select_only()
        .column(member::Column::UnitId)
        .filter(member::Column::Status.eq(crate::domain::member::MemberStatus::Active as i32))
        .distinct()
        .into_tuple()
        .all(db)
        .await
}

/// Units of the subtree at `path` holding active members.
pub async fn units_with_active_members_under(db: &impl ConnectionTrait, path: &str) -> Result<Vec<String>, DbErr> {
    member::Entity::find()
        .select_only()
        .column(member::Column::UnitId)
        .filter(member::Column::UnitPath.starts_with(path))
        .filter(member::Column::Status.eq(crate::domain::member::MemberStatus::Active as i32))
        .distinct()
        .into_tuple()
        .all(db)
        .await
}

/// The active members of `unit_id` (not of its subtree).
pub async fn active_in_unit(db: &impl ConnectionTrait, unit_id: &str) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find()
        .filter(member::Column::UnitId.eq(unit_id))
        .filter(member::Column::Status.eq(crate::domain::member::MemberStatus::Active as i32))
        .order_by_asc(member::Column::Seq)
        .all(db)
        .await
}

/// The members `ids`.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find().filter(member::Column::MemberId.is_in(ids.iter().cloned())).all(db).await
}

/// What a search filters by; `None` is "any".
#[derive(Debug, Default)]
pub struct Search {
    /// Subtree path.
    pub path: String,
    /// Substring of the name key.
    pub name_key: Option<String>,
    /// Exact member row.
    pub seq: Option<i64>,
    /// Exact phone blind index.
    pub phone_index: Option<String>,
    /// Exact citizen ID blind index.
    pub citizen_id_index: Option<String>,
    /// Status number.
    pub status: Option<i32>,
    /// Sex number.
    pub sex: Option<i32>,
    /// Born on or after.
    pub born_from: Option<NaiveDate>,
    /// Born on or before.
    pub born_until: Option<NaiveDate>,
}

/// Up to `limit` members matching `s`, by member number, after row `after`.
pub async fn search(
    db: &impl ConnectionTrait,
    s: &Search,
    after: i64,
    limit: u64,
) -> Result<Vec<member::Model>, DbErr> {
    let mut q = member::Entity::find()
        .filter(member::Column::UnitPath.starts_with(&s.path))
        .filter(member::Column::Seq.gt(after));
    if let Some(key) = &s.name_key {
        let postgres = db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
        // Placeholders in custom SQL: numbered for PostgreSQL, `?` for SQLite.
        let like = if postgres { "($1 || name_key) LIKE $2" } else { "(? || name_key) LIKE ?" };
        q = q.filter(Expr::cust_with_values(like, [" ".to_string(), name_pattern(key)]));
        if postgres {
            // The GIN index of migration m0012: the subtree and the words at once (tokens
            // hold no line break).
            q = q.filter(Expr::cust_with_values(
                "member_search_tokens(unit_path, name_key) @> string_to_array($1, $2)",
                [search_tokens(&s.path, key).join("\n"), "\n".to_string()],
            ));
        }
    }
    if let Some(seq) = s.seq {
        q = q.filter(member::Column::Seq.eq(seq));
    }
    if let Some(h) = &s.phone_index {
        q = q.filter(member::Column::PhoneIndex.eq(h));
    }
    if let Some(h) = &s.citizen_id_index {
        q = q.filter(member::Column::CitizenIdIndex.eq(h));
    }
    if let Some(status) = s.status {
        q = q.filter(member::Column::Status.eq(status));
    }
    if let Some(sex) = s.sex {
        q = q.filter(member::Column::Sex.eq(sex));
    }
    if let Some(d) = s.born_from {
        q = q.filter(member::Column::DateOfBirth.gte(d));
    }
    if let Some(d) = s.born_until {
        q = q.filter(member::Column::DateOfBirth.lte(d));
    }
    q.order_by_asc(member::Column::Seq).limit(limit).all(db).await
}

/// Members of the subtree at `path` who left (status not active) on or after `since`, by
/// member number, after row `after`.
pub async fn revoked(
    db: &impl ConnectionTrait,
    path: &str,
    since: NaiveDate,
    after: i64,
    limit: u64,
) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find()
        .filter(member::Column::UnitPath.starts_with(path))
        .filter(member::Column::Status.ne(MemberStatus::Active as i32))
        .filter(member::Column::StatusChangedOn.gte(since))
        .filter(member::Column::Seq.gt(after))
        .order_by_asc(member::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Up to `limit` members whose search keys are not filled yet (rows older than them).
pub async fn without_search_keys(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find()
        .filter(member::Column::NameKey.eq(""))
        .order_by_asc(member::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Fills a member's search keys.
pub async fn set_search_keys(
    db: &impl ConnectionTrait,
    seq: i64,
    name_key: &str,
    phone_index: &str,
) -> Result<(), DbErr> {
    member::Entity::update_many()
        .col_expr(member::Column::NameKey, Expr::value(name_key))
        .col_expr(member::Column::PhoneIndex, Expr::value(phone_index))
        .filter(member::Column::Seq.eq(seq))
        .exec(db)
        .await?;
    Ok(())
}

/// The member whose citizen ID has blind index `index`.
pub async fn by_citizen_index(db: &impl ConnectionTrait, index: &str) -> Result<Option<member::Model>, DbErr> {
    member::Entity::find().filter(member::Column::CitizenIdIndex.eq(index)).one(db).await
}

/// Places `m` in unit `unit_id` at `path` (version one more); its placement history and
/// account follow.
pub async fn place(
    txn: &impl ConnectionTrait,
    m: member::Model,
    unit_id: &str,
    path: &str,
    on: NaiveDate,
    reason: &str,
) -> Result<member::Model, DbErr> {
    let version = m.version + 1;
    let member_id = m.member_id.clone();
    let mut active: member::ActiveModel = m.into();
    active.unit_id = Set(unit_id.to_string());
    active.unit_path = Set(path.to_string());
    active.version = Set(version);
    let placed = active.update(txn).await?;
    super::placements::change(txn, std::slice::from_ref(&member_id), unit_id, on, reason).await?;
    super::accounts::move_member(txn, &member_id, unit_id).await?;
    Ok(placed)
}

/// Stores a changed member row (the caller sets its version).
pub async fn update(txn: &impl ConnectionTrait, row: member::ActiveModel) -> Result<member::Model, DbErr> {
    row.update(txn).await
}

/// Up to `limit` members removed or expelled before `before` whose personal data is not yet
/// anonymised.
pub async fn to_anonymise(
    db: &impl ConnectionTrait,
    before: chrono::NaiveDate,
    limit: u64,
) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find()
        .filter(member::Column::Status.is_in([MemberStatus::Removed as i32, MemberStatus::Expelled as i32]))
        .filter(member::Column::StatusChangedOn.lt(before))
        .filter(member::Column::AnonymisedAt.is_null())
        .order_by_asc(member::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Stores `row` (an anonymised member) if the member is still at `version`; false when someone
/// changed them first.
pub async fn replace_if_unchanged(
    txn: &impl ConnectionTrait,
    row: member::ActiveModel,
    member_id: &str,
    version: i64,
) -> Result<bool, DbErr> {
    let r = member::Entity::update_many()
        .set(row)
        .filter(member::Column::MemberId.eq(member_id))
        .filter(member::Column::Version.eq(version))
        .exec(txn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Deletes the history of `member_id`'s personal fields and of every field in `fields`.
pub async fn forget_personal_history(
    txn: &impl ConnectionTrait,
    member_id: &str,
    fields: &[&str],
) -> Result<u64, DbErr> {
    use super::entities::member_change;
    use sea_orm::sea_query::Condition;
    Ok(member_change::Entity::delete_many()
        .filter(member_change::Column::MemberId.eq(member_id))
        .filter(
            Condition::any()
                .add(member_change::Column::Personal.eq(true))
                .add(member_change::Column::Field.is_in(fields.iter().copied())),
        )
        .exec(txn)
        .await?
        .rows_affected)
}

/// Anonymises the application that admitted `member_id` and the name on the member's account:
/// `sealed(column, application_id)` gives a sealed empty value for each protected column.
pub async fn anonymise_application_and_account(
    txn: &impl ConnectionTrait,
    member_id: &str,
    name: &str,
    sealed: impl Fn(&'static str, &str) -> String,
) -> Result<(), DbErr> {
    use super::entities::{account, application};
    for a in application::Entity::find().filter(application::Column::MemberId.eq(member_id)).all(txn).await? {
        let id = a.application_id.clone();
        let row = application::ActiveModel {
            application_id: Set(id.clone()),
            full_name: Set(name.to_string()),
            date_of_birth: Set(
                NaiveDate::from_ymd_opt(chrono::Datelike::year(&a.date_of_birth), 1, 1).unwrap_or(a.date_of_birth)
            ),
            ethnicity_enc: Set(sealed("ethnicity_enc", &id)),
            religion_enc: Set(sealed("religion_enc", &id)),
            citizen_id_enc: Set(sealed("citizen_id_enc", &id)),
            citizen_id_index: Set(format!("anonymised:{id}")),
            phone_enc: Set(sealed("phone_enc", &id)),
            email_enc: Set(sealed("email_enc", &id)),
            guardian_name: Set(String::new()),
            guardian_relation: Set(String::new()),
            guardian_document: Set(String::new()),
            ..Default::default()
        };
        row.update(txn).await?;
    }
    account::Entity::update_many()
        .col_expr(account::Column::FullName, Expr::value(name))
        .filter(account::Column::MemberId.eq(member_id))
        .exec(txn)
        .await?;
    Ok(())
}
