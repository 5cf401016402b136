//! Who may call each RPC of `doan.activities.v1.ActivitiesService`.

use doan_platform::policy::Audience::*;
use doan_platform::policy::{PolicyTable, RpcPolicy, Scope};

/// One policy per RPC; applied before the handler (see `doan_platform::policy`).
pub const POLICIES: PolicyTable = PolicyTable {
    service: "doan.activities.v1.ActivitiesService",
    policies: &[
        RpcPolicy { method: "CreateActivity", audience: Officers, scope: Scope::Unit("unit_id") },
        // Members: activities of their branch's line of units.
        RpcPolicy { method: "GetActivity", audience: MembersAndOfficers, scope: Scope::Resource("activity_id") },
        RpcPolicy { method: "ListActivities", audience: MembersAndOfficers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "RegisterForActivity", audience: Members, scope: Scope::Resource("activity_id") },
        RpcPolicy { method: "CheckIn", audience: Members, scope: Scope::Resource("activity_id") },
        RpcPolicy { method: "CancelRegistration", audience: Members, scope: Scope::Resource("activity_id") },
    ],
};
