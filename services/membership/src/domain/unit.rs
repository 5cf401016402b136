//! The organisation tree's rules.

use doan_platform::AppError;
use doan_platform::error::AppResult;

/// Level of a unit, top down (numbers match `doan.membership.v1.UnitLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UnitLevel {
    /// Trung ương Đoàn.
    Central = 1,
    /// Tỉnh/Thành đoàn, Đoàn Khối.
    Provincial = 2,
    /// Huyện/Quận đoàn, đoàn trực thuộc.
    District = 3,
    /// Đoàn cơ sở, Chi đoàn cơ sở.
    Grassroots = 4,
    /// Chi đoàn.
    Branch = 5,
}

impl UnitLevel {
    /// Parses the proto enum number.
    pub fn parse(value: i32) -> AppResult<Self> {
        Ok(match value {
            1 => Self::Central,
            2 => Self::Provincial,
            3 => Self::District,
            4 => Self::Grassroots,
            5 => Self::Branch,
            _ => return Err(AppError::invalid("level", "must be one of UNIT_LEVEL_CENTRAL … UNIT_LEVEL_BRANCH")),
        })
    }

    /// Checks that a unit of this level may be created under `parent` (`None` for the root).
    /// Depth varies by sector, so a child may share its parent's level (a chi đoàn cơ sở under
    /// a đoàn cơ sở), but never sit above it; branches have no children; the root is central.
    pub fn check_placement(self, parent: Option<Self>) -> AppResult<()> {
        match parent {
            None if self != Self::Central => {
                Err(AppError::invalid("level", "the root unit must be UNIT_LEVEL_CENTRAL"))
            }
            None => Ok(()),
            Some(Self::Branch) => {
                Err(AppError::FailedPrecondition("a branch (chi đoàn) cannot have child units".into()))
            }
            Some(_) if self == Self::Central => {
                Err(AppError::invalid("level", "only the root unit is UNIT_LEVEL_CENTRAL"))
            }
            Some(p) if self < p => Err(AppError::invalid(
                "level",
                format!("a {self:?} unit cannot sit under a {p:?} unit (children are at the parent's level or below)"),
            )),
            Some(_) => Ok(()),
        }
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
        assert!(Central.check_placement(None).is_ok());
        assert!(Provincial.check_placement(None).is_err());
        assert!(Provincial.check_placement(Some(Central)).is_ok());
        assert!(Grassroots.check_placement(Some(Grassroots)).is_ok(), "chi đoàn cơ sở under đoàn cơ sở");
        assert!(Branch.check_placement(Some(Provincial)).is_ok(), "depth varies by sector");
        assert!(District.check_placement(Some(Grassroots)).is_err());
        assert!(matches!(Branch.check_placement(Some(Branch)), Err(AppError::FailedPrecondition(_))));
        assert!(Central.check_placement(Some(Central)).is_err());
        assert!(UnitLevel::parse(0).is_err());
    }

    #[test]
    fn paths_nest() {
        assert_eq!(child_path(None, "r"), "/r/");
        assert_eq!(child_path(Some("/r/"), "p"), "/r/p/");
    }
}
