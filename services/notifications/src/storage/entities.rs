//! The notifications tables beside the inbox (`notifications` is `super::notification`).

/// Declares one table's entity: its key columns, then its other columns.
macro_rules! entity {
    ($(#[$doc:meta])* $module:ident, $table:literal,
     keys { $($kfield:ident: $kty:ty),* $(,)? },
     columns { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        pub mod $module {
            #![allow(missing_docs)]
            use sea_orm::entity::prelude::*;

            /// A row.
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                $(
                    #[sea_orm(primary_key, auto_increment = false)]
                    pub $kfield: $kty,
                )*
                $(pub $field: $ty,)*
            }

            /// No relations are navigated.
            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(
    /// `broadcasts`: announcements, directives and meeting invitations; `audience_*` is
    /// `domain::broadcasts::Audience::to_parts`, `documents` a JSON array, `resolved` says the
    /// recipients are recorded, `fanout_cursor` the last recipient whose notice is written.
    broadcast, "broadcasts",
    keys { broadcast_id: String },
    columns {
        unit_id: String, unit_path: String, kind: i32, title: String, body: String,
        audience_kind: i32, audience_ref: String, audience_position_kind: i32, audience_unit_level: i32,
        urgent: bool, send_at: DateTimeUtc, deadline: Option<DateTimeUtc>, acknowledgement_required: bool,
        documents: String, meeting_starts_at: Option<DateTimeUtc>, meeting_ends_at: Option<DateTimeUtc>,
        meeting_location: String, status: i32, created_by: String, created_at: DateTimeUtc,
        sent_at: Option<DateTimeUtc>, revoked_at: Option<DateTimeUtc>, revoke_reason: String,
        remind_hours_before: i32, remind_at: Option<DateTimeUtc>, reminded_at: Option<DateTimeUtc>,
        escalated_at: Option<DateTimeUtc>,
        request_id: String, resolved: bool, fanout_cursor: String, recipients: i64, lease_until: DateTimeUtc,
    }
);

entity!(
    /// `broadcast_recipients`: who a broadcast reached, recorded when it was sent, and what
    /// each did with it.
    recipient, "broadcast_recipients",
    keys { broadcast_id: String, recipient_id: String },
    columns {
        name: String, unit_id: String, unit_path: String, notification_id: String,
        read_at: Option<DateTimeUtc>, acknowledged_at: Option<DateTimeUtc>, meeting_response: i32, attended: bool,
        reminded_at: Option<DateTimeUtc>, escalated_at: Option<DateTimeUtc>,
    }
);

entity!(
    /// `positions`: officer positions, from membership's PositionChanged.
    position, "positions",
    keys { position_id: String },
    columns {
        unit_id: String, account_id: String, member_id: String, kind: i32, starts_on: String, ends_on: String,
        ended_on: String, holder_name: String, changed_at: DateTimeUtc, changed_by_event: String,
    }
);

entity!(
    /// `clusters`: clusters and their owners, from membership's ClusterChanged.
    cluster, "clusters",
    keys { cluster_id: String },
    columns { unit_id: String, name: String, changed_at: DateTimeUtc, changed_by_event: String }
);

entity!(
    /// `cluster_units`: the units of each cluster.
    cluster_unit, "cluster_units",
    keys { cluster_id: String, unit_id: String },
    columns {}
);

entity!(
    /// `teams`: volunteer teams, from activities' TeamChanged.
    team, "teams",
    keys { team_id: String },
    columns { unit_id: String, name: String, changed_at: DateTimeUtc, changed_by_event: String }
);

entity!(
    /// `team_members`: the members of each team.
    team_member, "team_members",
    keys { team_id: String, member_id: String },
    columns {}
);

entity!(
    /// `devices`: app installations that receive push; `owner_id` is the inbox owner (member or
    /// officer account).
    device, "devices",
    keys { device_id: String },
    columns {
        owner_id: String, platform: i32, token: String, apns_sandbox: bool, registered_at: DateTimeUtc,
        last_seen_at: DateTimeUtc,
    }
);

entity!(
    /// `preferences`: one row per inbox owner who changed the defaults; `overrides` is
    /// `domain::preferences::Preferences::overrides_text`.
    preference, "preferences",
    keys { owner_id: String },
    columns {
        overrides: String, quiet_hours_start: String, quiet_hours_end: String, time_zone: String,
        language: String, email: String, updated_at: DateTimeUtc,
    }
);

entity!(
    /// `deliveries`: one notice on one channel to one device or address (`device_id` empty for
    /// email); `kind` is the notice kind; `subject`/`text` replace the notice's texts (digests,
    /// where `notification_id` is empty); `lease_until` keeps a claimed delivery from a second
    /// dispatcher.
    delivery, "deliveries",
    keys { delivery_id: String },
    columns {
        notification_id: String, owner_id: String, broadcast_id: String, kind: i32, channel: i32,
        device_id: String, state: i32, attempts: i32, next_attempt_at: DateTimeUtc, lease_until: DateTimeUtc,
        failure_reason: String, subject: Option<String>, text: Option<String>, expires_at: Option<DateTimeUtc>,
        urgent: bool, created_at: DateTimeUtc, updated_at: DateTimeUtc,
    }
);
