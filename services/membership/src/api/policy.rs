//! Who may call each RPC of `doan.membership.v1.MembershipService`.

use doan_platform::policy::Audience::*;
use doan_platform::policy::{PolicyTable, RpcPolicy, Scope};

/// One policy per RPC; applied before the handler (see `doan_platform::policy`).
pub const POLICIES: PolicyTable = PolicyTable {
    service: "doan.membership.v1.MembershipService",
    policies: &[
        RpcPolicy { method: "Login", audience: Public, scope: Scope::None },
        RpcPolicy { method: "ActivateMemberAccount", audience: Public, scope: Scope::None },
        // The root unit: administrators only (no parent_id).
        RpcPolicy { method: "CreateUnit", audience: Officers, scope: Scope::Unit("parent_id") },
        RpcPolicy { method: "GetUnit", audience: MembersAndOfficers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "ListChildUnits", audience: Officers, scope: Scope::Unit("parent_id") },
        RpcPolicy { method: "AppointOfficer", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "AdmitMember", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "GetMember", audience: MembersAndOfficers, scope: Scope::Member("member_id") },
        RpcPolicy { method: "GetMemberCard", audience: MembersAndOfficers, scope: Scope::Member("member_id") },
        RpcPolicy { method: "ListMembers", audience: Officers, scope: Scope::Unit("unit_id") },
    ],
};
