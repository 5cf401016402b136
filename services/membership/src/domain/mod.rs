//! Membership rules: no I/O, no storage, no proto. Parse, don't validate.

pub mod dues;
pub mod evaluation;
pub mod import;
pub mod member;
pub mod officer;
pub mod profile;
pub mod reorg;
pub mod rules;
pub mod sheet;
pub mod stats;
pub mod training;
pub mod transfer;
pub mod unit;
