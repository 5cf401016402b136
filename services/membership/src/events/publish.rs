//! Each membership change as its integration event, carrying the entity's version.

use doan_platform::convert::format_date;
use doan_proto::events::{MemberAdmitted, UnitCreated};

use crate::domain::member::member_number;
use crate::storage::entities::{member, unit};

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
