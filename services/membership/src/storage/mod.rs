//! Membership storage: the only room that knows SQL.

pub mod access_log;
pub mod accounts;
pub mod applications;
pub mod clusters;
pub mod discipline;
pub mod dues;
pub mod entities;
pub mod evaluation;
pub mod evidence;
pub mod imports;
pub mod logins;
pub mod members;
pub mod migrations;
pub mod party;
pub mod placements;
pub mod positions;
pub mod reminders;
pub mod reorganisation;
pub mod sealed;
pub mod statistics;
pub mod training;
pub mod transfers;
pub mod units;
