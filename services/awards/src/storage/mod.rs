//! Awards storage: the only room that knows SQL.

pub mod credentials;
pub mod decisions;
pub mod entities;
pub mod migrations;
pub mod nominations;
pub mod scores;
pub mod standings;

/// Awards' own columns holding unit paths, rewritten with the directory's on moves.
pub const PATH_COLUMNS: doan_platform::directory::PathColumns = &[("award_decisions", "issuing_unit_path")];
