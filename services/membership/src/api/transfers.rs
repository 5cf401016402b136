//! Transfers (chuyển sinh hoạt): requested by the sending side, the receiving side or the
//! member; released by the sending side with dues settled; accepted (placed in a branch) or
//! refused by the receiving side; expired when unfinished after the rule's days. Batches (a
//! graduating class) are one request with an outcome per member.

use std::collections::BTreeSet;

use chrono::Datelike;
use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{new_id, page_size, parse_id, required_text, timestamp};
use doan_platform::error::AppResult;
use doan_platform::text::TextRule;
use doan_proto::membership as pb;
use sea_orm::{Set, TransactionTrait};

use super::MembershipApi;
use super::members::summary;
use super::units::require_active;
use crate::domain::member::{MemberStatus, parse_month};
use crate::domain::stats;
use crate::domain::transfer::{Action, ItemState, Side, check};
use crate::domain::unit::UnitLevel;
use crate::events::publish;
use crate::storage::entities::{member, transfer, transfer_item, unit};
use crate::storage::transfers::{self, NewTransfer};
use crate::storage::{members, statistics, units};

/// Most members in one transfer.
const MAX_MEMBERS: usize = 2_000;

/// Parses a list of member ids (field `field`), distinct, at most [`MAX_MEMBERS`].
fn member_ids(field: &'static str, ids: &[String]) -> AppResult<BTreeSet<String>> {
    if ids.len() > MAX_MEMBERS {
        return Err(AppError::invalid(field, format!("at most {MAX_MEMBERS} members")));
    }
    ids.iter().map(|id| parse_id(field, id)).collect()
}

impl MembershipApi {
    async fn transfer_pb(&self, t: transfer::Model) -> AppResult<pb::Transfer> {
        let items = transfers::items(&self.ctx.db, &t.transfer_id).await?;
        let ids: Vec<String> = items.iter().map(|i| i.member_id.clone()).collect();
        let found = members::find_many(&self.ctx.db, &ids).await?;
        let expired = self.ctx.clock.now() > t.expires_at;
        let mut out: Vec<(i64, pb::TransferItem)> = items
            .into_iter()
            .filter_map(|i| {
                let m = found.iter().find(|m| m.member_id == i.member_id)?.clone();
                let state = ItemState::from_stored(i.state, expired);
                Some((
                    m.seq,
                    pb::TransferItem {
                        member: Some(summary(m)),
                        from_unit_id: i.from_unit_id,
                        state: state as i32,
                        dues_paid_until: i.dues_paid_until,
                        sender_comment: i.sender_comment,
                        placed_unit_id: i.placed_unit_id,
                        refusal_reason: i.refusal_reason,
                    },
                ))
            })
            .collect();
        out.sort_by_key(|(seq, _)| *seq);
        Ok(pb::Transfer {
            transfer_id: t.transfer_id,
            to_unit_id: t.to_unit_id.unwrap_or_default(),
            external: t.external,
            external_name: t.external_name,
            reason: t.reason,
            initiated_by: t.initiated_by,
            requested_by: t.requested_by,
            created_at: Some(timestamp(t.created_at)),
            expires_at: Some(timestamp(t.expires_at)),
            items: out.into_iter().map(|(_, i)| i).collect(),
        })
    }

    async fn transfer(&self, transfer_id: &str) -> AppResult<transfer::Model> {
        let id = parse_id("transfer_id", transfer_id)?;
        transfers::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("transfer {id} does not exist")))
    }

    /// The receiving unit of `t`, when the caller manages it.
    async fn receiving_unit(&self, caller: &Caller, t: &transfer::Model) -> AppResult<Option<unit::Model>> {
        let Some(to) = &t.to_unit_id else { return Ok(None) };
        Ok(units::find(&self.ctx.db, to).await?.filter(|u| caller.manages(&u.path)))
    }

    /// The items of `t` named in `requested` (all when empty) with their members.
    async fn chosen_items(
        &self,
        t: &transfer::Model,
        requested: &[String],
    ) -> AppResult<Vec<(transfer_item::Model, member::Model)>> {
        let wanted = member_ids("member_ids", requested)?;
        let items = transfers::items(&self.ctx.db, &t.transfer_id).await?;
        for id in &wanted {
            if !items.iter().any(|i| &i.member_id == id) {
                return Err(AppError::invalid(
                    "member_ids",
                    format!("member {id} is not in transfer {}", t.transfer_id),
                ));
            }
        }
        let ids: Vec<String> = items.iter().map(|i| i.member_id.clone()).collect();
        let found = members::find_many(&self.ctx.db, &ids).await?;
        Ok(items
            .into_iter()
            .filter(|i| wanted.is_empty() || wanted.contains(&i.member_id))
            .filter_map(|i| {
                let m = found.iter().find(|m| m.member_id == i.member_id)?.clone();
                Some((i, m))
            })
            .collect())
    }

    pub(super) async fn request_transfer(
        &self,
        caller: &Caller,
        r: pb::RequestTransferRequest,
    ) -> AppResult<pb::RequestTransferResponse> {
        let ids = member_ids("member_ids", &r.member_ids)?;
        if ids.is_empty() {
            return Err(AppError::invalid("member_ids", "name at least one member"));
        }
        let found = members::find_many(&self.ctx.db, &ids.iter().cloned().collect::<Vec<_>>()).await?;
        if let Some(missing) = ids.iter().find(|id| !found.iter().any(|m| &&m.member_id == id)) {
            return Err(AppError::NotFound(format!("member {missing} (member_ids) does not exist")));
        }
        let to_unit = match r.to_unit_id.trim().is_empty() {
            true => None,
            false => Some(self.unit("to_unit_id", &r.to_unit_id).await?),
        };
        // Who starts it: the member for themself, or an officer of either side; checked
        // before anything else about the request.
        let senders = found.iter().all(|m| caller.manages(&m.unit_path));
        let initiated_by = if caller.role == Role::Member {
            if found.len() != 1 || !caller.is_member(&found[0].member_id) {
                return Err(AppError::PermissionDenied("a member requests their own transfer only".into()));
            }
            "member"
        } else if senders {
            "sender"
        } else if to_unit.as_ref().is_some_and(|u| caller.manages(&u.path)) {
            "receiver"
        } else {
            return Err(AppError::PermissionDenied(
                "a transfer is requested by officers over the members' units or over the receiving unit".into(),
            ));
        };
        match (&to_unit, r.external) {
            (Some(_), 0) | (None, 1..=3) => {}
            (None, 0) => return Err(AppError::invalid("to_unit_id", "set to_unit_id or external")),
            (Some(_), 1..=3) => return Err(AppError::invalid("external", "set to_unit_id or external, not both")),
            _ => return Err(AppError::invalid("external", "must be ABROAD, ARMED_FORCES, OTHER or unspecified")),
        }
        if let Some(u) = &to_unit {
            require_active(u)?;
        }
        let external_name = match to_unit {
            Some(_) => String::new(),
            None => required_text("external_name", &r.external_name, 200)?,
        };
        let reason = required_text("reason", &r.reason, 500)?;
        for m in &found {
            MemberStatus::from_stored(m.status).require_active(&m.member_id)?;
            if to_unit.as_ref().is_some_and(|u| u.unit_id == m.unit_id) {
                return Err(AppError::invalid("to_unit_id", format!("member {} already belongs to it", m.member_id)));
            }
        }
        let now = self.ctx.clock.now();
        let open = transfers::open_items_of(&self.ctx.db, &ids.iter().cloned().collect::<Vec<_>>(), now).await?;
        if let Some(busy) = open.first() {
            return Err(AppError::FailedPrecondition(format!(
                "member {} is already in transfer {}, not finished",
                busy.member_id, busy.transfer_id
            )));
        }
        let days = self.rules.admission.at("today", self.ctx.clock.today())?.rule.transfer_expiry_days;
        let transfer_id = new_id();
        let items: Vec<(String, String)> = found.iter().map(|m| (m.member_id.clone(), m.unit_id.clone())).collect();
        let txn = self.ctx.db.begin().await?;
        let new = NewTransfer {
            transfer_id: transfer_id.clone(),
            to_unit_id: to_unit.map(|u| u.unit_id),
            external: r.external,
            external_name,
            reason,
            initiated_by,
            requested_by: caller.account_id.clone(),
            created_at: now,
            expires_at: now + chrono::Duration::days(days.into()),
        };
        transfers::insert(&txn, new, &items).await?;
        txn.commit().await?;
        tracing::info!(transfer_id, members = items.len(), initiated_by, by = %caller.account_id, "transfer requested");
        let created = self.transfer(&transfer_id).await?;
        Ok(pb::RequestTransferResponse { transfer: Some(self.transfer_pb(created).await?) })
    }

    pub(super) async fn release_transfer(
        &self,
        caller: &Caller,
        r: pb::ReleaseTransferRequest,
    ) -> AppResult<pb::ReleaseTransferResponse> {
        let t = self.transfer(&r.transfer_id).await?;
        let chosen = self.chosen_items(&t, &r.member_ids).await?;
        let mine: Vec<_> = chosen.into_iter().filter(|(_, m)| caller.manages(&m.unit_path)).collect();
        if mine.is_empty() {
            return Err(AppError::PermissionDenied(format!(
                "none of the members named in transfer {} is in your units",
                t.transfer_id
            )));
        }
        let today = self.ctx.clock.today();
        let (_, current_last) = parse_month("dues_paid_until", &format!("{:04}-{:02}", today.year(), today.month()))?;
        let (first, _) = parse_month("dues_paid_until", &r.dues_paid_until)?;
        if first > current_last {
            return Err(AppError::invalid("dues_paid_until", "must not be after the current month"));
        }
        let comment = TextRule::paragraphs(1000).parse("comment", &r.comment)?;
        let expired = self.ctx.clock.now() > t.expires_at;
        for (item, m) in &mine {
            check(Action::Release, Side::Sender, ItemState::from_stored(item.state, expired), &m.member_id)?;
        }
        let external = t.to_unit_id.is_none();
        let txn = self.ctx.db.begin().await?;
        for (item, m) in mine {
            let mut row: transfer_item::ActiveModel = item.into();
            row.dues_paid_until = Set(r.dues_paid_until.trim().to_string());
            row.sender_comment = Set(comment.clone());
            row.decided_by = Set(caller.account_id.clone());
            if external {
                row.state = Set(ItemState::TransferredOut as i32);
                let why = format!("chuyển sinh hoạt: {}", t.external_name);
                self.change_status(&txn, m, MemberStatus::TransferredOut, today, &why).await?;
            } else {
                row.state = Set(ItemState::Released as i32);
            }
            transfers::update_item(&txn, row).await?;
        }
        txn.commit().await?;
        self.ctx.outbox.wake();
        Ok(pb::ReleaseTransferResponse { transfer: Some(self.transfer_pb(t).await?) })
    }

    pub(super) async fn accept_transfer(
        &self,
        caller: &Caller,
        r: pb::AcceptTransferRequest,
    ) -> AppResult<pb::AcceptTransferResponse> {
        let t = self.transfer(&r.transfer_id).await?;
        let Some(to) = self.receiving_unit(caller, &t).await? else {
            return Err(AppError::PermissionDenied(format!(
                "transfer {} is accepted by officers over its receiving unit",
                t.transfer_id
            )));
        };
        let branch = self.managed_unit(caller, "branch_id", &r.branch_id).await?;
        require_active(&branch)?;
        if !branch.path.starts_with(&to.path)
            || !UnitLevel::from_stored(branch.level).is_some_and(UnitLevel::holds_members)
        {
            return Err(AppError::invalid(
                "branch_id",
                format!("must be a branch (or holding unit) inside the receiving unit {}", to.unit_id),
            ));
        }
        let expired = self.ctx.clock.now() > t.expires_at;
        let chosen: Vec<_> = self
            .chosen_items(&t, &r.member_ids)
            .await?
            .into_iter()
            .filter(|(i, _)| {
                !r.member_ids.is_empty() || ItemState::from_stored(i.state, expired) == ItemState::Released
            })
            .collect();
        if chosen.is_empty() {
            return Err(AppError::FailedPrecondition(format!(
                "no member of transfer {} is released yet",
                t.transfer_id
            )));
        }
        for (item, m) in &chosen {
            check(Action::Accept, Side::Receiver, ItemState::from_stored(item.state, expired), &m.member_id)?;
            MemberStatus::from_stored(m.status).require_active(&m.member_id)?;
        }
        let today = self.ctx.clock.today();
        let on = doan_platform::convert::format_date(today);
        let txn = self.ctx.db.begin().await?;
        for (item, m) in chosen {
            let facts = self.facts(&m)?;
            let from = m.unit_id.clone();
            let mut leaving = stats::diff(Some(&facts), None);
            leaving.push(stats::flow("transfer_out", today));
            statistics::apply(&txn, &from, &leaving).await?;
            let placed = members::place(&txn, m, &branch.unit_id, &branch.path, today, "transfer").await?;
            let mut joining = stats::diff(None, Some(&facts));
            joining.push(stats::flow("transfer_in", today));
            statistics::apply(&txn, &branch.unit_id, &joining).await?;
            let event = publish::member_transferred(&placed, &from, &t.transfer_id, &on);
            self.ctx.outbox.enqueue(&txn, &event).await?;
            let mut row: transfer_item::ActiveModel = item.into();
            row.state = Set(ItemState::Accepted as i32);
            row.placed_unit_id = Set(branch.unit_id.clone());
            row.decided_by = Set(caller.account_id.clone());
            transfers::update_item(&txn, row).await?;
        }
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(transfer_id = %t.transfer_id, branch = %branch.unit_id, by = %caller.account_id, "transfer accepted");
        Ok(pb::AcceptTransferResponse { transfer: Some(self.transfer_pb(t).await?) })
    }

    pub(super) async fn refuse_transfer(
        &self,
        caller: &Caller,
        r: pb::RefuseTransferRequest,
    ) -> AppResult<pb::RefuseTransferResponse> {
        let t = self.transfer(&r.transfer_id).await?;
        let receiver = self.receiving_unit(caller, &t).await?.is_some();
        let chosen = self.chosen_items(&t, &r.member_ids).await?;
        let side = if receiver { Side::Receiver } else { Side::Sender };
        let expired = self.ctx.clock.now() > t.expires_at;
        let mine: Vec<_> = chosen
            .into_iter()
            .filter(|(_, m)| receiver || caller.manages(&m.unit_path))
            .filter(|(i, _)| {
                !r.member_ids.is_empty()
                    || check(Action::Refuse, side, ItemState::from_stored(i.state, expired), "").is_ok()
            })
            .collect();
        if mine.is_empty() {
            return Err(AppError::PermissionDenied(format!(
                "you may refuse no member of transfer {} (receiving unit, or members in your units)",
                t.transfer_id
            )));
        }
        let reason = required_text("reason", &r.reason, 500)?;
        for (item, m) in &mine {
            check(Action::Refuse, side, ItemState::from_stored(item.state, expired), &m.member_id)?;
        }
        let txn = self.ctx.db.begin().await?;
        for (item, _) in mine {
            let mut row: transfer_item::ActiveModel = item.into();
            row.state = Set(ItemState::Refused as i32);
            row.refusal_reason = Set(reason.clone());
            row.decided_by = Set(caller.account_id.clone());
            transfers::update_item(&txn, row).await?;
        }
        txn.commit().await?;
        Ok(pb::RefuseTransferResponse { transfer: Some(self.transfer_pb(t).await?) })
    }

    pub(super) async fn get_transfer(
        &self,
        caller: &Caller,
        r: pb::GetTransferRequest,
    ) -> AppResult<pb::GetTransferResponse> {
        let t = self.transfer(&r.transfer_id).await?;
        let items = transfers::items(&self.ctx.db, &t.transfer_id).await?;
        let visible = self.receiving_unit(caller, &t).await?.is_some()
            || items.iter().any(|i| caller.is_member(&i.member_id))
            || {
                let from: BTreeSet<String> = items.iter().map(|i| i.from_unit_id.clone()).collect();
                units::find_many(&self.ctx.db, &from).await?.iter().any(|u| caller.manages(&u.path))
            };
        if !visible {
            return Err(AppError::PermissionDenied(format!("transfer {} is outside your scope", t.transfer_id)));
        }
        Ok(pb::GetTransferResponse { transfer: Some(self.transfer_pb(t).await?) })
    }

    pub(super) async fn list_transfers(
        &self,
        caller: &Caller,
        r: pb::ListTransfersRequest,
    ) -> AppResult<pb::ListTransfersResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let (incoming, outgoing) = match r.direction {
            0 => (true, true),
            1 => (true, false),
            2 => (false, true),
            _ => return Err(AppError::invalid("direction", "must be INCOMING, OUTGOING or unspecified")),
        };
        let limit = page_size(r.page_size, 50, 200)?;
        let rows = transfers::of_subtree(&self.ctx.db, &unit.path, incoming, outgoing, limit).await?;
        let mut out = Vec::with_capacity(rows.len());
        for t in rows {
            out.push(self.transfer_pb(t).await?);
        }
        Ok(pb::ListTransfersResponse { transfers: out })
    }
}
