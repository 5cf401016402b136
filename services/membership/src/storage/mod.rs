//! Membership storage: the only room that knows SQL.

pub mod access_log;
pub mod accounts;
pub mod applications;
pub mod clusters;
pub mod discipline;
pub mod entities;
pub mod logins;
pub mod members;
pub mod migrations;
pub mod placements;
pub mod positions;
pub mod reorganisation;
pub mod statistics;
pub mod transfers;
pub mod units;
