//! Award rules: no I/O, no storage, no proto.
//!
//! - [`catalogue`]: the kinds of award, who may receive them and who may issue them (the
//!   effective-dated `rules/awards.toml`).
//! - [`recipients`]: names as a public verifier sees them.
//! - [`scoring`]: emulation points from facts and weights.
//! - [`credentials`]: Open Badges 3.0 credentials and status lists.

pub mod catalogue;
pub mod credentials;
pub mod recipients;
pub mod scoring;

use doan_platform::AppError;
use doan_platform::error::AppResult;
pub use doan_platform::units::UnitLevel;
use serde::Deserialize;

pub use catalogue::{AwardKind, Catalogue, IssuerRule, RecipientKind};

/// Form of an award (numbers match `doan.awards.v1.AwardForm`; names are the ones the rule
/// file uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwardForm {
    /// Cờ thi đua.
    EmulationFlag = 1,
    /// Bằng khen.
    CertificateOfMerit = 2,
    /// Giấy khen.
    CertificateOfCommendation = 3,
    /// Kỷ niệm chương "Vì thế hệ trẻ".
    YouthGenerationMedal = 4,
    /// A title (danh hiệu).
    Title = 5,
}

impl AwardForm {
    /// Parses the proto enum number; 0 (unspecified) is `None`.
    pub fn parse_optional(value: i32) -> AppResult<Option<Self>> {
        Ok(Some(match value {
            0 => return Ok(None),
            1 => Self::EmulationFlag,
            2 => Self::CertificateOfMerit,
            3 => Self::CertificateOfCommendation,
            4 => Self::YouthGenerationMedal,
            5 => Self::Title,
            _ => {
                return Err(AppError::invalid(
                    "form",
                    "must be AWARD_FORM_EMULATION_FLAG, _CERTIFICATE_OF_MERIT, _CERTIFICATE_OF_COMMENDATION, \
                     _YOUTH_GENERATION_MEDAL or _TITLE",
                ));
            }
        }))
    }

    /// The form of a stored number (unknown numbers read as titles).
    pub fn from_stored(value: i32) -> Self {
        Self::parse_optional(value).ok().flatten().unwrap_or(Self::Title)
    }

    /// The kind code a decision of this form names when it names none (titles have none).
    pub fn default_kind(self) -> Option<&'static str> {
        match self {
            Self::EmulationFlag => Some("emulation_flag"),
            Self::CertificateOfMerit => Some("certificate_of_merit"),
            Self::CertificateOfCommendation => Some("certificate_of_commendation"),
            Self::YouthGenerationMedal => Some("youth_generation_medal"),
            Self::Title => None,
        }
    }
}

/// The most recipients one decision may list.
pub const MAX_RECIPIENTS: usize = 2000;

/// Standings count by the calendar year of an instant in Vietnam (UTC+7).
pub use doan_platform::clock::vietnam_year;
