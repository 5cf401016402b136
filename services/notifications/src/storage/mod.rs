//! Notifications storage: the only room that knows SQL.

pub mod audiences;
pub mod broadcasts;
pub mod deliveries;
pub mod devices;
pub mod entities;
pub mod migrations;
pub mod notices;
pub mod preferences;
pub mod sql;

/// `notifications`: one notice in one member's inbox.
pub mod notification {
    use sea_orm::entity::prelude::*;

    /// A notice.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        /// Notice id (UUIDv7: sorts by creation time).
        #[sea_orm(primary_key, auto_increment = false)]
        pub notification_id: String,
        /// Recipient.
        pub member_id: String,
        /// Kind number.
        pub kind: i32,
        /// Title.
        pub title: String,
        /// Body.
        pub body: String,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// When read.
        pub read_at: Option<DateTimeUtc>,
        /// Event that caused it.
        pub source_event_id: String,
        /// Position in the member's inbox: 1, 2, 3… in the order the notices committed
        /// (the live watch's cursor).
        pub seq: i64,
        /// The broadcast it belongs to; empty for personal notices.
        pub broadcast_id: String,
        /// Category number (`doan.notifications.v1.NoticeCategory`).
        pub category: i32,
        /// Urgent: bypassed preferences and quiet hours.
        pub urgent: bool,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
