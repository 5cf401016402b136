//! The events room: what membership publishes ([`publish`], always through the outbox).
//! Membership consumes nothing.

pub mod publish;
