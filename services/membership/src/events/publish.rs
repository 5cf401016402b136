//! Each membership change as its integration event, carrying the entity's version.

use std::collections::BTreeSet;

use doan_platform::convert::format_date;
use doan_proto::events::{
    ClusterChanged, DuesPaid, MemberAdmitted, MemberRated, MemberStatusChanged, MemberTransferred, MemberUpdated,
    PositionChanged, ReminderDue, UnitCreated, UnitMerged, UnitMoved, UnitRated, UnitUpdated,
};

use crate::domain::member::member_number;
use crate::storage::entities::{
    cluster, dues_payment, evaluation_period, member, member_rating, position, unit, unit_rating,
};

/// A unit was added to the tree.
pub fn unit_created(u: &unit::Model) -> UnitCreated {
    UnitCreated {
        unit_id: u.unit_id.clone(),
        parent_id: u.parent_id.clone().unwrap_or_default(),
        name: u.name.clone(),
        level: u.level,
        path: u.path.clone(),
        version: u.version.max(1) as u64,
    }
}

/// A member was admitted (no personal data beyond name and number).
pub fn member_admitted(m: &member::Model) -> MemberAdmitted {
    MemberAdmitted {
        member_id: m.member_id.clone(),
        member_number: member_number(m.seq),
        full_name: m.full_name.clone(),
        unit_id: m.unit_id.clone(),
        unit_path: m.unit_path.clone(),
        admitted_on: format_date(m.admitted_on),
        version: m.version.max(1) as u64,
    }
}

/// A unit's name or status changed (renamed, dissolved, merged): its whole state.
pub fn unit_updated(u: &unit::Model) -> UnitUpdated {
    UnitUpdated {
        unit_id: u.unit_id.clone(),
        parent_id: u.parent_id.clone().unwrap_or_default(),
        name: u.name.clone(),
        level: u.level,
        path: u.path.clone(),
        version: u.version.max(1) as u64,
        status: u.status,
        merged_into: u.merged_into.clone().unwrap_or_default(),
    }
}

/// A unit and its subtree moved from `old_path` (and `old_parent`).
pub fn unit_moved(u: &unit::Model, old_parent: &str, old_path: &str, plan_id: &str) -> UnitMoved {
    UnitMoved {
        unit_id: u.unit_id.clone(),
        old_parent_id: old_parent.to_string(),
        new_parent_id: u.parent_id.clone().unwrap_or_default(),
        old_path: old_path.to_string(),
        new_path: u.path.clone(),
        version: u.version.max(1) as u64,
        name: u.name.clone(),
        level: u.level,
        plan_id: plan_id.to_string(),
    }
}

/// `merged` was merged into `target`.
pub fn unit_merged(merged: &unit::Model, target: &unit::Model, plan_id: &str) -> UnitMerged {
    UnitMerged {
        unit_id: merged.unit_id.clone(),
        target_unit_id: target.unit_id.clone(),
        target_path: target.path.clone(),
        version: merged.version.max(1) as u64,
        path: merged.path.clone(),
        plan_id: plan_id.to_string(),
    }
}

/// `m`'s status changed from `previous` on `on` (a Vietnam date) for `reason`.
pub fn member_status_changed(m: &member::Model, previous: i32, on: &str, reason: &str) -> MemberStatusChanged {
    MemberStatusChanged {
        member_id: m.member_id.clone(),
        member_number: member_number(m.seq),
        full_name: m.full_name.clone(),
        unit_id: m.unit_id.clone(),
        unit_path: m.unit_path.clone(),
        status: m.status,
        previous_status: previous,
        effective_on: on.to_string(),
        reason: reason.to_string(),
        version: m.version.max(1) as u64,
    }
}

/// `m` was placed in its (new) unit by transfer `transfer_id`, leaving `from_unit_id`.
pub fn member_transferred(m: &member::Model, from_unit_id: &str, transfer_id: &str, on: &str) -> MemberTransferred {
    MemberTransferred {
        member_id: m.member_id.clone(),
        member_number: member_number(m.seq),
        full_name: m.full_name.clone(),
        from_unit_id: from_unit_id.to_string(),
        unit_id: m.unit_id.clone(),
        unit_path: m.unit_path.clone(),
        version: m.version.max(1) as u64,
        transfer_id: transfer_id.to_string(),
        effective_on: on.to_string(),
    }
}

/// `m`'s record changed: its state as other services hold it.
pub fn member_updated(m: &member::Model) -> MemberUpdated {
    MemberUpdated {
        member_id: m.member_id.clone(),
        member_number: member_number(m.seq),
        full_name: m.full_name.clone(),
        unit_id: m.unit_id.clone(),
        unit_path: m.unit_path.clone(),
        status: m.status,
        version: m.version.max(1) as u64,
    }
}

/// A member's rating was confirmed.
pub fn member_rated(r: &member_rating::Model, m: &member::Model, p: &evaluation_period::Model) -> MemberRated {
    MemberRated {
        member_id: r.member_id.clone(),
        unit_id: r.unit_id.clone(),
        unit_path: m.unit_path.clone(),
        period_id: p.period_id.clone(),
        year: p.year,
        rating: r.rating,
        period_ends_on: format_date(p.ends_on),
        participations: r.participations,
    }
}

/// A unit was rated.
pub fn unit_rated(r: &unit_rating::Model, u: &unit::Model, p: &evaluation_period::Model) -> UnitRated {
    UnitRated {
        unit_id: u.unit_id.clone(),
        unit_path: u.path.clone(),
        period_id: p.period_id.clone(),
        year: p.year,
        rating: r.rating,
        members_rated: r.members_rated,
    }
}

/// Something is due for `member_ids` (at most 1,000 per event).
pub fn reminder_due(
    kind: &str,
    member_ids: Vec<String>,
    unit_id: &str,
    due_on: chrono::NaiveDate,
    detail: String,
) -> ReminderDue {
    ReminderDue {
        kind: kind.to_string(),
        member_ids,
        unit_id: unit_id.to_string(),
        due_on: format_date(due_on),
        detail,
    }
}

/// A position was assigned or ended: its whole state, with its holder's display name.
pub fn position_changed(p: &position::Model, holder_name: &str) -> PositionChanged {
    PositionChanged {
        position_id: p.position_id.clone(),
        unit_id: p.unit_id.clone(),
        account_id: p.account_id.clone(),
        member_id: p.member_id.clone().unwrap_or_default(),
        kind: p.kind,
        starts_on: format_date(p.starts_on),
        ends_on: p.ends_on.map(format_date).unwrap_or_default(),
        ended_on: p.ended_on.map(format_date).unwrap_or_default(),
        holder_name: holder_name.to_string(),
    }
}

/// A cluster was created or its units changed: its whole state, `unit_ids` every unit in it now.
pub fn cluster_changed(c: &cluster::Model, unit_ids: &BTreeSet<String>) -> ClusterChanged {
    ClusterChanged {
        cluster_id: c.cluster_id.clone(),
        owner_unit_id: c.unit_id.clone(),
        name: c.name.clone(),
        unit_ids: unit_ids.iter().cloned().collect(),
    }
}

/// A confirmed dues payment.
pub fn dues_paid(p: &dues_payment::Model) -> DuesPaid {
    DuesPaid {
        payment_id: p.payment_id.clone(),
        member_id: p.member_id.clone(),
        unit_id: p.unit_id.clone(),
        first_month: p.first_month.clone(),
        months: p.months,
        paid_on: format_date(p.paid_on),
    }
}
