//! Who may call each RPC of `doan.notifications.v1.NotificationsService`.

use doan_platform::policy::Audience::*;
use doan_platform::policy::{PolicyTable, RpcPolicy, Scope};

/// One policy per RPC; applied before the handler (see `doan_platform::policy`). Inboxes,
/// devices and preferences are the caller's own (a member's, or an officer's account's);
/// broadcasts are managed by officers over the sending unit, and answered by their recipients.
pub const POLICIES: PolicyTable = PolicyTable {
    service: "doan.notifications.v1.NotificationsService",
    policies: &[
        RpcPolicy { method: "ListNotifications", audience: MembersAndOfficers, scope: Scope::Own },
        RpcPolicy {
            method: "MarkNotificationRead",
            audience: MembersAndOfficers,
            scope: Scope::Recipient("notification_id"),
        },
        RpcPolicy { method: "WatchNotifications", audience: MembersAndOfficers, scope: Scope::Own },
        RpcPolicy {
            method: "ConfirmDelivery",
            audience: MembersAndOfficers,
            scope: Scope::Recipient("notification_id"),
        },
        RpcPolicy { method: "RegisterDevice", audience: MembersAndOfficers, scope: Scope::Own },
        RpcPolicy { method: "UnregisterDevice", audience: MembersAndOfficers, scope: Scope::Own },
        RpcPolicy { method: "ListMyDevices", audience: MembersAndOfficers, scope: Scope::Own },
        RpcPolicy { method: "GetPreferences", audience: MembersAndOfficers, scope: Scope::Own },
        RpcPolicy { method: "UpdatePreferences", audience: MembersAndOfficers, scope: Scope::Own },
        RpcPolicy { method: "CreateBroadcast", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "GetBroadcast", audience: Officers, scope: Scope::Resource("broadcast_id") },
        RpcPolicy { method: "ListBroadcasts", audience: Officers, scope: Scope::Unit("unit_id") },
        RpcPolicy { method: "RevokeBroadcast", audience: Officers, scope: Scope::Resource("broadcast_id") },
        RpcPolicy { method: "GetBroadcastCompletion", audience: Officers, scope: Scope::Resource("broadcast_id") },
        RpcPolicy { method: "ListBroadcastRecipients", audience: Officers, scope: Scope::Resource("broadcast_id") },
        RpcPolicy {
            method: "AcknowledgeBroadcast",
            audience: MembersAndOfficers,
            scope: Scope::Recipient("broadcast_id"),
        },
        RpcPolicy { method: "RespondToMeeting", audience: MembersAndOfficers, scope: Scope::Recipient("broadcast_id") },
        RpcPolicy { method: "RecordMeetingAttendance", audience: Officers, scope: Scope::Resource("broadcast_id") },
    ],
};
