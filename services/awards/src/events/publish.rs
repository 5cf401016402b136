//! What awards publishes: each domain change as its integration event.

use doan_proto::events::AwardGranted;

use crate::storage::entities::{decision, recipient};

/// One recipient of a recorded decision (`kind_name`: the kind's Vietnamese name).
pub fn award_granted(d: &decision::Model, r: &recipient::Model, kind_name: &str) -> AwardGranted {
    AwardGranted {
        decision_id: d.decision_id.clone(),
        decision_number: d.decision_number.clone(),
        form: d.form,
        issuing_unit_id: d.issuing_unit_id.clone(),
        member_id: r.member_id.clone().unwrap_or_default(),
        unit_id: r.unit_id.clone().unwrap_or_default(),
        content: d.content.clone(),
        decision_date: doan_platform::convert::format_date(d.decision_date),
        cluster_id: r.cluster_id.clone().unwrap_or_default(),
        award_id: r.award_id.clone(),
        kind: d.kind.clone(),
        kind_name: kind_name.to_string(),
    }
}
