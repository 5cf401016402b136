//! The organisation tree's rules.

use doan_platform::AppError;
use doan_platform::error::AppResult;

pub use doan_platform::units::UnitLevel;

/// Whether a unit still operates (numbers match `doan.membership.v1.UnitStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitStatus {
    /// Operating.
    Active = 1,
    /// Merged into another unit.
    Merged = 2,
    /// Dissolved.
    Dissolved = 3,
}

impl UnitStatus {
    /// A stored number (written by this code; anything unknown reads as active).
    pub fn from_stored(value: i32) -> Self {
        match value {
            2 => Self::Merged,
            3 => Self::Dissolved,
            _ => Self::Active,
        }
    }
}

/// What happened to a unit (numbers match `doan.membership.v1.UnitChangeKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitChangeKind {
    /// Created.
    Created = 1,
    /// Renamed.
    Renamed = 2,
    /// Moved under another parent.
    Moved = 3,
    /// Merged into another unit.
    Merged = 4,
    /// Absorbed another unit.
    Absorbed = 5,
    /// Dissolved.
    Dissolved = 6,
}

/// Checks that a holding unit (for members temporarily without a branch) is a branch.
pub fn check_holding(level: UnitLevel) -> AppResult<()> {
    if level != UnitLevel::Branch {
        return Err(AppError::invalid("level", "a holding unit is a branch (UNIT_LEVEL_BRANCH)"));
    }
    Ok(())
}

/// Checks that a unit of `level` may be created under `parent` (`None` for the root). Depth
/// varies by sector, so a child may share its parent's rank (a đoàn cơ sở under a đoàn cơ sở),
/// but never sit above it; units holding members (branches, chi đoàn cơ sở) have no children;
/// a chi đoàn cơ sở sits directly under a district- or provincial-level unit; the root is
/// central.
pub fn check_placement(level: UnitLevel, parent: Option<UnitLevel>) -> AppResult<()> {
    match parent {
        None if level != UnitLevel::Central => {
            Err(AppError::invalid("level", "the root unit must be UNIT_LEVEL_CENTRAL"))
        }
        None => Ok(()),
        Some(p) if p.holds_members() => {
            Err(AppError::FailedPrecondition(format!("a {p:?} unit holds members and cannot have child units")))
        }
        Some(_) if level == UnitLevel::Central => {
            Err(AppError::invalid("level", "only the root unit is UNIT_LEVEL_CENTRAL"))
        }
        Some(p)
            if level == UnitLevel::GrassrootsBranch && !matches!(p, UnitLevel::District | UnitLevel::Provincial) =>
        {
            Err(AppError::invalid(
                "level",
                "a chi đoàn cơ sở (UNIT_LEVEL_GRASSROOTS_BRANCH) sits directly under a district- or provincial-level unit",
            ))
        }
        Some(p) if level.rank() < p.rank() => Err(AppError::invalid(
            "level",
            format!("a {level:?} unit cannot sit under a {p:?} unit (children are at the parent's level or below)"),
        )),
        Some(_) => Ok(()),
    }
}

/// The materialised path of a new unit under `parent_path` (`/` for the root).
pub fn child_path(parent_path: Option<&str>, unit_id: &str) -> String {
    format!("{}{unit_id}/", parent_path.unwrap_or("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use UnitLevel::*;

    #[test]
    fn placement_rules() {
        let ok = |l, p| check_placement(l, p).is_ok();
        assert!(ok(Central, None));
        assert!(!ok(Provincial, None));
        assert!(ok(Provincial, Some(Central)));
        assert!(ok(Grassroots, Some(Grassroots)), "a đoàn cơ sở under a đoàn cơ sở");
        assert!(ok(Branch, Some(Provincial)), "depth varies by sector");
        assert!(!ok(District, Some(Grassroots)));
        assert!(matches!(check_placement(Branch, Some(Branch)), Err(AppError::FailedPrecondition(_))));
        assert!(!ok(Central, Some(Central)));
        assert!(ok(GrassrootsBranch, Some(District)) && ok(GrassrootsBranch, Some(Provincial)));
        assert!(!ok(GrassrootsBranch, Some(Grassroots)), "a chi đoàn cơ sở is not inside a đoàn cơ sở");
        assert!(matches!(check_placement(Branch, Some(GrassrootsBranch)), Err(AppError::FailedPrecondition(_))));
    }

    #[test]
    fn paths_nest() {
        assert_eq!(child_path(None, "r"), "/r/");
        assert_eq!(child_path(Some("/r/"), "p"), "/r/p/");
    }
}
