//! Who may call each RPC of `doan.awards.v1.AwardsService`.

use doan_platform::policy::Audience::*;
use doan_platform::policy::{PolicyTable, RpcPolicy, Scope};

/// One policy per RPC; applied before the handler (see `doan_platform::policy`).
pub const POLICIES: PolicyTable = PolicyTable {
    service: "doan.awards.v1.AwardsService",
    policies: &[
        RpcPolicy { method: "RecordAwardDecision", audience: Officers, scope: Scope::Unit("issuing_unit_id") },
        // Members: decisions naming them.
        RpcPolicy { method: "GetAwardDecision", audience: MembersAndOfficers, scope: Scope::Resource("decision_id") },
        RpcPolicy { method: "GetMemberStanding", audience: MembersAndOfficers, scope: Scope::Member("member_id") },
    ],
};
