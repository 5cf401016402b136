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
        // The catalogue is the same for everyone signed in.
        RpcPolicy { method: "ListAwardKinds", audience: MembersAndOfficers, scope: Scope::None },
        RpcPolicy { method: "RevokeAward", audience: Officers, scope: Scope::Resource("decision_id") },
        // A member's own history; officers over the member, or over the unit (members: their
        // branch line's collective awards).
        RpcPolicy { method: "ListAwards", audience: MembersAndOfficers, scope: Scope::Member("member_id") },
        RpcPolicy { method: "GetAwardFigures", audience: Officers, scope: Scope::Unit("unit_id") },
        // The holder, officers over the issuing unit or over the recipient.
        RpcPolicy { method: "GetCredential", audience: MembersAndOfficers, scope: Scope::Resource("award_id") },
        // Anyone holding a certificate, without a login; personal data masked.
        RpcPolicy { method: "VerifyCredential", audience: Public, scope: Scope::None },
        RpcPolicy { method: "GetIssuer", audience: Public, scope: Scope::None },
        RpcPolicy { method: "GetStatusList", audience: Public, scope: Scope::None },
        RpcPolicy { method: "SetScoringRule", audience: Officers, scope: Scope::Unit("unit_id") },
        // Members: their branch line's rules, scores and rankings; officers: their subtree's.
        RpcPolicy { method: "GetScoringRule", audience: MembersAndOfficers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "GetScore", audience: MembersAndOfficers, scope: Scope::Member("member_id") },
        RpcPolicy { method: "ListScoreEntries", audience: MembersAndOfficers, scope: Scope::Member("member_id") },
        RpcPolicy { method: "GetLeaderboard", audience: MembersAndOfficers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "ProposeNomination", audience: Officers, scope: Scope::Unit("unit_id") },
        // Officers over the proposing or the issuing unit.
        RpcPolicy { method: "GetNomination", audience: Officers, scope: Scope::Resource("nomination_id") },
        RpcPolicy { method: "ListNominations", audience: Officers, scope: Scope::Unit("unit_id") },
        // The issuing unit's council: officers over it.
        RpcPolicy { method: "ReviewNomination", audience: Officers, scope: Scope::Resource("nomination_id") },
        RpcPolicy { method: "CloseNominationReview", audience: Officers, scope: Scope::Resource("nomination_id") },
        RpcPolicy { method: "SetCeremony", audience: Officers, scope: Scope::Resource("decision_id") },
    ],
};
