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
        RpcPolicy { method: "RenameUnit", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "MoveUnit", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "MergeUnits", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "DissolveUnit", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "CreateReorganisationPlan", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "PreviewReorganisationPlan", audience: Officers, scope: Scope::Resource("plan_id") },
        RpcPolicy { method: "ApplyReorganisationPlan", audience: Officers, scope: Scope::Resource("plan_id") },
        RpcPolicy { method: "GetReorganisationPlan", audience: Officers, scope: Scope::Resource("plan_id") },
        RpcPolicy { method: "WatchReorganisationPlan", audience: Officers, scope: Scope::Resource("plan_id") },
        RpcPolicy { method: "GetUnitHistory", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "GetMemberUnitHistory", audience: MembersAndOfficers, scope: Scope::Member("member_id") },
        RpcPolicy { method: "CreateCluster", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "UpdateClusterUnits", audience: Officers, scope: Scope::Resource("cluster_id") },
        RpcPolicy { method: "ListClusters", audience: MembersAndOfficers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "AssignPosition", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "EndPosition", audience: Officers, scope: Scope::Resource("position_id") },
        RpcPolicy { method: "ListPositions", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "RemoveMember", audience: Officers, scope: Scope::Member("member_id") },
        RpcPolicy { method: "DisciplineMember", audience: Officers, scope: Scope::Member("member_id") },
        RpcPolicy {
            method: "ListDisciplinaryRecords",
            audience: MembersAndOfficers,
            scope: Scope::Member("member_id"),
        },
        RpcPolicy { method: "RecordPartyAdmission", audience: Officers, scope: Scope::Member("member_id") },
        RpcPolicy { method: "ListAgeOutProposals", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "DecideAgeOut", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "GetUnitStatistics", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "SearchMembers", audience: Officers, scope: Scope::Unit("unit_id") },
        // The key set is public: anyone may verify a card offline.
        RpcPolicy { method: "GetCardKeys", audience: Public, scope: Scope::None },
        RpcPolicy { method: "ListRevokedCards", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "UpdateMember", audience: MembersAndOfficers, scope: Scope::Member("member_id") },
        RpcPolicy { method: "GetMemberHistory", audience: MembersAndOfficers, scope: Scope::Member("member_id") },
        // A person applies without an account (the gateway limits calls per address).
        RpcPolicy { method: "SubmitApplication", audience: Public, scope: Scope::None },
        RpcPolicy { method: "RecordGuardianConsent", audience: Officers, scope: Scope::Resource("application_id") },
        RpcPolicy { method: "ProposeApplication", audience: Officers, scope: Scope::Resource("application_id") },
        RpcPolicy { method: "DecideApplication", audience: Officers, scope: Scope::Resource("application_id") },
        RpcPolicy { method: "GetApplication", audience: Officers, scope: Scope::Resource("application_id") },
        RpcPolicy { method: "ListApplications", audience: Officers, scope: Scope::Unit("unit_id") },
        // Members request their own transfer; officers of either side request members'.
        RpcPolicy { method: "RequestTransfer", audience: MembersAndOfficers, scope: Scope::Resource("member_ids") },
        RpcPolicy { method: "ReleaseTransfer", audience: Officers, scope: Scope::Resource("transfer_id") },
        RpcPolicy { method: "AcceptTransfer", audience: Officers, scope: Scope::Resource("transfer_id") },
        RpcPolicy { method: "RefuseTransfer", audience: Officers, scope: Scope::Resource("transfer_id") },
        RpcPolicy { method: "GetTransfer", audience: MembersAndOfficers, scope: Scope::Resource("transfer_id") },
        RpcPolicy { method: "ListTransfers", audience: Officers, scope: Scope::Unit("unit_id") },
    ],
};
