//! Activities storage: the only room that knows SQL.

pub mod activities;
pub mod entities;
pub mod migrations;
pub mod participations;
