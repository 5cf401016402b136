//! Award rules: no I/O, no storage, no proto.

use doan_platform::AppError;
use doan_platform::error::AppResult;
use doan_platform::rules::RuleValues;
pub use doan_platform::units::UnitLevel;
use serde::Deserialize;

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

/// `rules/awards.toml`: which unit levels may issue each form.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AwardAuthority {
    /// Levels issuing emulation flags (Cờ thi đua).
    pub emulation_flag: Vec<UnitLevel>,
    /// Levels issuing certificates of merit (Bằng khen).
    pub certificate_of_merit: Vec<UnitLevel>,
    /// Levels issuing certificates of commendation (Giấy khen).
    pub certificate_of_commendation: Vec<UnitLevel>,
}

impl RuleValues for AwardAuthority {
    fn validate(&self) -> Result<(), String> {
        for (form, levels) in [
            ("emulation_flag", &self.emulation_flag),
            ("certificate_of_merit", &self.certificate_of_merit),
            ("certificate_of_commendation", &self.certificate_of_commendation),
        ] {
            if levels.is_empty() {
                return Err(format!("{form} names no issuing level"));
            }
        }
        Ok(())
    }
}

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

    /// Checks that a unit at `level` may issue this form under `authority` (the award rule in
    /// force on the decision date).
    pub fn check_issuer_level(self, level: Option<UnitLevel>, authority: &AwardAuthority) -> AppResult<()> {
        let allowed = match self {
            Self::EmulationFlag => &authority.emulation_flag,
            Self::CertificateOfMerit => &authority.certificate_of_merit,
            Self::CertificateOfCommendation => &authority.certificate_of_commendation,
        };
        match level {
            Some(level) if allowed.contains(&level) => Ok(()),
            _ => Err(AppError::FailedPrecondition(format!(
                "a unit at level {} may not issue {self:?}; on the decision date it is issued by {allowed:?}",
                level.map(|l| format!("{l:?}")).unwrap_or_else(|| "unknown".into())
            ))),
        }
    }

    /// Emulation flags go to collectives only.
    pub fn allows_individuals(self) -> bool {
        self != Self::EmulationFlag
    }
}

/// The most recipients one decision may list.
pub const MAX_RECIPIENTS: usize = 1000;

/// Standings count by the calendar year of an instant in Vietnam (UTC+7).
pub use doan_platform::clock::vietnam_year;

#[cfg(test)]
mod tests {
    use super::*;

    use UnitLevel::*;
    use doan_platform::rules::Versioned;

    const AWARDS: &str = include_str!("../../../../rules/awards.toml");

    #[test]
    fn issuing_levels_come_from_the_rule_in_force() {
        let rules = Versioned::<AwardAuthority>::parse("awards.toml", AWARDS).unwrap();
        let rule = &rules.at("decision_date", "2026-11-24".parse().unwrap()).unwrap().rule;
        let check = |form: AwardForm, level| form.check_issuer_level(Some(level), rule);
        assert!(check(AwardForm::EmulationFlag, Central).is_ok());
        assert!(check(AwardForm::CertificateOfMerit, Provincial).is_ok());
        assert!(check(AwardForm::CertificateOfMerit, District).is_err());
        assert!(check(AwardForm::CertificateOfCommendation, Grassroots).is_ok());
        assert!(check(AwardForm::CertificateOfCommendation, GrassrootsBranch).is_ok());
        assert!(check(AwardForm::CertificateOfCommendation, Central).is_err());
        assert!(AwardForm::EmulationFlag.check_issuer_level(None, rule).is_err());
        assert!(!AwardForm::EmulationFlag.allows_individuals());
        assert!(AwardForm::parse(9).is_err());
        // Another version, other authority.
        let narrower = AwardAuthority { certificate_of_merit: vec![Central], ..rule.clone() };
        assert!(AwardForm::CertificateOfMerit.check_issuer_level(Some(Provincial), &narrower).is_err());
    }
}
