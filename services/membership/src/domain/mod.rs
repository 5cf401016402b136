//! Membership rules: no I/O, no storage, no proto. Parse, don't validate.

pub mod member;
pub mod officer;
pub mod profile;
pub mod reorg;
pub mod rules;
pub mod stats;
pub mod transfer;
pub mod unit;
