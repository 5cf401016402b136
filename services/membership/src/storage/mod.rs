//! Membership storage: the only room that knows SQL.

pub mod entities;
pub mod logins;
pub mod migrations;
