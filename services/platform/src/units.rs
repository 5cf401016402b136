//! The unit tree's shared vocabulary: unit levels, as every service reads them (membership
//! owns the tree; activities and awards keep a directory of it).

use serde::Deserialize;

use crate::error::{AppError, AppResult};

/// Level of a unit, top down (numbers match `doan.membership.v1.UnitLevel`; names are the
/// ones rule files use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    /// Trung ương Đoàn.
    Central = 1,
    /// Tỉnh/Thành đoàn, Đoàn Khối.
    Provincial = 2,
    /// Huyện/Quận đoàn, đoàn trực thuộc.
    District = 3,
    /// Đoàn cơ sở: a grassroots union with branches.
    Grassroots = 4,
    /// Chi đoàn: a branch, where members belong.
    Branch = 5,
    /// Chi đoàn cơ sở: a branch with grassroots authority, directly under a district- or
    /// provincial-level unit; holds members and admits them itself.
    GrassrootsBranch = 6,
}

impl UnitLevel {
    /// Parses the proto enum number (naming request field `field`).
    pub fn parse(field: &'static str, value: i32) -> AppResult<Self> {
        Ok(match value {
            1 => Self::Central,
            2 => Self::Provincial,
            3 => Self::District,
            4 => Self::Grassroots,
            5 => Self::Branch,
            6 => Self::GrassrootsBranch,
            _ => {
                return Err(AppError::invalid(
                    field,
                    "must be one of UNIT_LEVEL_CENTRAL … UNIT_LEVEL_BRANCH, UNIT_LEVEL_GRASSROOTS_BRANCH",
                ));
            }
        })
    }

    /// A stored level number (trusted: written by this code).
    pub fn from_stored(value: i32) -> Option<Self> {
        Self::parse("level", value).ok()
    }

    /// Height in the tree: 1 (central) to 5 (branch); a chi đoàn cơ sở ranks as grassroots.
    pub fn rank(self) -> u8 {
        match self {
            Self::Central => 1,
            Self::Provincial => 2,
            Self::District => 3,
            Self::Grassroots | Self::GrassrootsBranch => 4,
            Self::Branch => 5,
        }
    }

    /// True for units members belong to (branches and chi đoàn cơ sở).
    pub fn holds_members(self) -> bool {
        matches!(self, Self::Branch | Self::GrassrootsBranch)
    }

    /// True for units whose officers may decide admissions (grassroots and above: the
    /// resolution comes from the đoàn cơ sở or higher; a branch only proposes).
    pub fn may_admit(self) -> bool {
        self != Self::Branch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_rank() {
        assert_eq!(UnitLevel::parse("level", 6).unwrap(), UnitLevel::GrassrootsBranch);
        assert!(UnitLevel::parse("level", 0).is_err());
        assert!(UnitLevel::parse("level", 7).unwrap_err().to_string().contains("level"));
        assert_eq!(UnitLevel::GrassrootsBranch.rank(), UnitLevel::Grassroots.rank());
        assert!(UnitLevel::GrassrootsBranch.holds_members() && UnitLevel::GrassrootsBranch.may_admit());
        assert!(UnitLevel::Branch.holds_members() && !UnitLevel::Branch.may_admit());
    }
}
