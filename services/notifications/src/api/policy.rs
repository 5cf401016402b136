//! Who may call each RPC of `doan.notifications.v1.NotificationsService`.

use doan_platform::policy::Audience::*;
use doan_platform::policy::{PolicyTable, RpcPolicy, Scope};

/// One policy per RPC; applied before the handler (see `doan_platform::policy`).
pub const POLICIES: PolicyTable = PolicyTable {
    service: "doan.notifications.v1.NotificationsService",
    policies: &[
        RpcPolicy { method: "ListNotifications", audience: Members, scope: Scope::Own },
        RpcPolicy { method: "MarkNotificationRead", audience: Members, scope: Scope::Resource("notification_id") },
        RpcPolicy { method: "WatchNotifications", audience: Members, scope: Scope::Own },
    ],
};
