//! Awards storage: the only room that knows SQL.

pub mod decisions;
pub mod entities;
pub mod migrations;
pub mod standings;
