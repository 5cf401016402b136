//! The public Đoàn contract: generated types, clients and servers for every `doan.*.v1`
//! package, and the encoded descriptor set that gRPC reflection serves.
//!
//! This crate alone knows the wire format; services depend on it and never on each other.

/// Encoded `FileDescriptorSet` of every Đoàn proto (for reflection).
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/doan_descriptor.bin"));

/// Names of the public gRPC services, as reflection lists them.
pub const PUBLIC_SERVICES: &[&str] = &[
    "doan.membership.v1.MembershipService",
    "doan.activities.v1.ActivitiesService",
    "doan.awards.v1.AwardsService",
    "doan.notifications.v1.NotificationsService",
];

/// `doan.membership.v1`: units, accounts, members.
pub mod membership {
    tonic::include_proto!("doan.membership.v1");
}
/// `doan.activities.v1`: activities and participation.
pub mod activities {
    tonic::include_proto!("doan.activities.v1");
}
/// `doan.awards.v1`: award decisions and standings.
pub mod awards {
    tonic::include_proto!("doan.awards.v1");
}
/// `doan.notifications.v1`: member inboxes.
pub mod notifications {
    tonic::include_proto!("doan.notifications.v1");
}
/// `doan.events.v1`: integration events and their envelope.
pub mod events {
    tonic::include_proto!("doan.events.v1");

    /// An integration event payload: knows its fully qualified type name (the routing key).
    pub trait IntegrationEvent: prost::Message + Default {
        /// Full proto name, e.g. `doan.events.v1.MemberAdmitted`.
        const EVENT_TYPE: &'static str;
    }
    macro_rules! integration_event {
        ($($ty:ident),*) => {$(
            impl IntegrationEvent for $ty {
                const EVENT_TYPE: &'static str = concat!("doan.events.v1.", stringify!($ty));
            }
        )*};
    }
    integration_event!(
        UnitCreated,
        MemberAdmitted,
        ParticipationRecorded,
        AwardGranted,
        UnitUpdated,
        UnitMoved,
        UnitMerged,
        MemberStatusChanged,
        MemberTransferred,
        MemberUpdated,
        MemberRated,
        UnitRated,
        ReminderDue,
        MembersAdmitted,
        MemberImportBatchApplied,
        RegistrationPromoted,
        HoursApproved,
        ProjectInaugurated,
        TargetMet,
        IdeaAdopted,
        PositionChanged,
        ClusterChanged,
        TeamChanged,
        DuesPaid
    );
}
