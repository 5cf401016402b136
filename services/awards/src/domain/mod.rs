//! Award rules: no I/O, no storage, no proto.

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use doan_platform::AppError;
use doan_platform::error::AppResult;

/// Form of an award (numbers match `doan.awards.v1.AwardForm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwardForm {
    /// Cờ thi đua.
    EmulationFlag = 1,
    /// Bằng khen.
    CertificateOfMerit = 2,
    /// Giấy khen.
    CertificateOfCommendation = 3,
}

/// Unit levels as numbers (`doan.membership.v1.UnitLevel`).
const CENTRAL: i32 = 1;
const PROVINCIAL: i32 = 2;
const DISTRICT: i32 = 3;
const GRASSROOTS: i32 = 4;

impl AwardForm {
    /// Parses the proto enum number.
    pub fn parse(value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::EmulationFlag),
            2 => Ok(Self::CertificateOfMerit),
            3 => Ok(Self::CertificateOfCommendation),
            _ => Err(AppError::invalid(
                "form",
                "must be AWARD_FORM_EMULATION_FLAG, _CERTIFICATE_OF_MERIT or _CERTIFICATE_OF_COMMENDATION",
            )),
        }
    }

    /// Which unit level may issue this form: flags and certificates of merit come from the
    /// central or provincial level (TW Đoàn, Tỉnh đoàn, Đoàn Khối); certificates of
    /// commendation from the district or grassroots level.
    pub fn check_issuer_level(self, level: i32) -> AppResult<()> {
        let allowed = match self {
            Self::EmulationFlag | Self::CertificateOfMerit => [CENTRAL, PROVINCIAL],
            Self::CertificateOfCommendation => [DISTRICT, GRASSROOTS],
        };
        if allowed.contains(&level) {
            Ok(())
        } else {
            Err(AppError::FailedPrecondition(format!(
                "a unit at level {level} may not issue {self:?}: flags and certificates of merit are issued at central or provincial level, certificates of commendation at district or grassroots level"
            )))
        }
    }

    /// Emulation flags go to collectives only.
    pub fn allows_individuals(self) -> bool {
        self != Self::EmulationFlag
    }
}

/// The most recipients one decision may list.
pub const MAX_RECIPIENTS: usize = 1000;

/// The calendar year of an instant in Vietnam (UTC+7), which standings are counted by.
pub fn vietnam_year(at: DateTime<Utc>) -> i32 {
    let offset = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    at.with_timezone(&offset).year()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuing_levels() {
        assert!(AwardForm::EmulationFlag.check_issuer_level(CENTRAL).is_ok());
        assert!(AwardForm::CertificateOfMerit.check_issuer_level(PROVINCIAL).is_ok());
        assert!(AwardForm::CertificateOfMerit.check_issuer_level(DISTRICT).is_err());
        assert!(AwardForm::CertificateOfCommendation.check_issuer_level(GRASSROOTS).is_ok());
        assert!(AwardForm::CertificateOfCommendation.check_issuer_level(CENTRAL).is_err());
        assert!(!AwardForm::EmulationFlag.allows_individuals());
        assert!(AwardForm::parse(9).is_err());
    }

    #[test]
    fn new_year_in_vietnam_comes_seven_hours_early() {
        let t = DateTime::parse_from_rfc3339("2025-12-31T18:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(vietnam_year(t), 2026);
    }
}
