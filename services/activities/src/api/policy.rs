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
        // Organisers: officers over the organising unit.
        RpcPolicy { method: "GetCheckInCode", audience: Officers, scope: Scope::Resource("activity_id") },
        RpcPolicy { method: "CheckOut", audience: Members, scope: Scope::Resource("activity_id") },
        // A member's own devices and offline records.
        RpcPolicy { method: "RegisterDevice", audience: Members, scope: Scope::Own },
        RpcPolicy { method: "ListDevices", audience: Members, scope: Scope::Own },
        RpcPolicy { method: "RevokeDevice", audience: Members, scope: Scope::Own },
        RpcPolicy { method: "SyncOfflineAttendance", audience: Members, scope: Scope::Own },
        RpcPolicy { method: "ListParticipations", audience: Officers, scope: Scope::Resource("activity_id") },
        RpcPolicy { method: "ReviewAttendance", audience: Officers, scope: Scope::Resource("participation_id") },
        // Programmes: officers within their subtree (campaigns also for the units below).
        RpcPolicy { method: "CreateMovement", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "ListMovements", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "CreateCampaign", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "GetCampaign", audience: Officers, scope: Scope::Resource("campaign_id") },
        RpcPolicy { method: "ListCampaigns", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "CreateTeam", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "ChangeTeamMembers", audience: Officers, scope: Scope::Resource("team_id") },
        RpcPolicy { method: "CreateYouthProject", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "UpdateYouthProject", audience: Officers, scope: Scope::Resource("project_id") },
        RpcPolicy { method: "ListYouthProjects", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "RecordActivityOutput", audience: Officers, scope: Scope::Resource("activity_id") },
        // The level above the organising unit.
        RpcPolicy { method: "ReviewActivityOutput", audience: Officers, scope: Scope::Resource("output_id") },
        RpcPolicy { method: "ListActivityOutputs", audience: Officers, scope: Scope::Resource("activity_id") },
        RpcPolicy { method: "GetReviewFigures", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "ExportReview", audience: Officers, scope: Scope::Unit("unit_id") },
        // Targets: a unit sets those of the units directly below it.
        RpcPolicy { method: "SetTargets", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "GetTargetProgress", audience: Officers, scope: Scope::Unit("unit_id") },
        // Report requests: the requesting level, and each unit asked for its own report.
        RpcPolicy { method: "CreateReportRequest", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "GetReportRequest", audience: Officers, scope: Scope::Resource("request_id") },
        RpcPolicy { method: "ListReportRequests", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "GetReportDraft", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "SubmitReport", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "ReviewReport", audience: Officers, scope: Scope::Resource("request_id") },
        // The ideas bank: members submit and list their own; officers over the member's branch.
        RpcPolicy { method: "SubmitIdea", audience: Members, scope: Scope::Own },
        RpcPolicy { method: "ListIdeas", audience: MembersAndOfficers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "ReviewIdea", audience: Officers, scope: Scope::Resource("idea_id") },
        RpcPolicy { method: "LinkIdeaAward", audience: Officers, scope: Scope::Resource("idea_id") },
    ],
};
