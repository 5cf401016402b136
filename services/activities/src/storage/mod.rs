//! Activities storage: the only room that knows SQL.

pub mod activities;
pub mod attendance;
pub mod entities;
pub mod ideas;
pub mod migrations;
pub mod participations;
pub mod programmes;
pub mod reports;
pub mod targets;

/// Activities' own columns holding unit paths, rewritten with the directory's on moves.
pub const PATH_COLUMNS: doan_platform::directory::PathColumns = &[
    ("activities", "unit_path"),
    ("movements", "unit_path"),
    ("campaigns", "unit_path"),
    ("teams", "unit_path"),
    ("youth_projects", "unit_path"),
    ("targets", "unit_path"),
    ("admissions", "unit_path"),
    ("report_requests", "unit_path"),
    ("report_assignments", "unit_path"),
    ("ideas", "unit_path"),
];
