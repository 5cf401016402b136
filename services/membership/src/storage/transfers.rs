//! Every query on transfers and their items.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::{transfer, transfer_item, unit};

/// A transfer to store.
pub struct NewTransfer {
    /// Id.
    pub transfer_id: String,
    /// Receiving unit.
    pub to_unit_id: Option<String>,
    /// External destination number.
    pub external: i32,
    /// External name.
    pub external_name: String,
    /// Why.
    pub reason: String,
    /// Who started it.
    pub initiated_by: &'static str,
    /// Requesting account.
    pub requested_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Stores a transfer with one requested item per `(member, from unit)`.
pub async fn insert(txn: &impl ConnectionTrait, new: NewTransfer, items: &[(String, String)]) -> Result<(), DbErr> {
    let transfer_id = new.transfer_id.clone();
    transfer::ActiveModel {
        transfer_id: Set(new.transfer_id),
        to_unit_id: Set(new.to_unit_id),
        external: Set(new.external),
        external_name: Set(new.external_name),
        reason: Set(new.reason),
        initiated_by: Set(new.initiated_by.to_string()),
        requested_by: Set(new.requested_by),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
    }
    .insert(txn)
    .await?;
    for chunk in items.chunks(500) {
        let rows = chunk.iter().map(|(member_id, from)| transfer_item::ActiveModel {
            transfer_id: Set(transfer_id.clone()),
            member_id: Set(member_id.clone()),
            from_unit_id: Set(from.clone()),
            state: Set(1),
            ..Default::default()
        });
        transfer_item::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// The transfer `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<transfer::Model>, DbErr> {
    transfer::Entity::find_by_id(id.to_string()).one(db).await
}

/// The items of transfer `id`.
pub async fn items(db: &impl ConnectionTrait, id: &str) -> Result<Vec<transfer_item::Model>, DbErr> {
    transfer_item::Entity::find().filter(transfer_item::Column::TransferId.eq(id)).all(db).await
}

/// Members of `member_ids` with an unfinished item in a transfer that has not expired.
pub async fn open_items_of(
    db: &impl ConnectionTrait,
    member_ids: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<transfer_item::Model>, DbErr> {
    transfer_item::Entity::find()
        .filter(transfer_item::Column::MemberId.is_in(member_ids.iter().cloned()))
        .filter(transfer_item::Column::State.is_in([1, 2]))
        .filter(
            Expr::col(transfer_item::Column::TransferId).in_subquery(
                Query::select()
                    .column(transfer::Column::TransferId)
                    .from(transfer::Entity)
                    .and_where(Expr::col(transfer::Column::ExpiresAt).gt(now))
                    .to_owned(),
            ),
        )
        .all(db)
        .await
}

/// Sets one item's outcome.
pub async fn update_item(txn: &impl ConnectionTrait, item: transfer_item::ActiveModel) -> Result<(), DbErr> {
    item.update(txn).await?;
    Ok(())
}

/// Transfers into (`incoming`) or out of (`outgoing`) the subtree at `path`, newest first.
pub async fn of_subtree(
    db: &impl ConnectionTrait,
    path: &str,
    incoming: bool,
    outgoing: bool,
    limit: u64,
) -> Result<Vec<transfer::Model>, DbErr> {
    let in_subtree = |col: Expr| {
        col.in_subquery(
            Query::select()
                .column(unit::Column::UnitId)
                .from(unit::Entity)
                .and_where(Expr::col(unit::Column::Path).like(format!("{path}%")))
                .to_owned(),
        )
    };
    let mut side = Condition::any();
    if incoming {
        side = side.add(in_subtree(Expr::col(transfer::Column::ToUnitId)));
    }
    if outgoing {
        side = side.add(
            Expr::col(transfer::Column::TransferId).in_subquery(
                Query::select()
                    .column(transfer_item::Column::TransferId)
                    .from(transfer_item::Entity)
                    .and_where(in_subtree(Expr::col(transfer_item::Column::FromUnitId)))
                    .to_owned(),
            ),
        );
    }
    transfer::Entity::find().filter(side).order_by_desc(transfer::Column::CreatedAt).limit(limit).all(db).await
}
