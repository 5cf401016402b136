//! The award catalogue and the issuers' authority: `rules/awards.toml`, one version per
//! period. A decision is checked against the version in force on its date: the kind exists,
//! the issuing unit's level may issue it, every recipient is of a kind it allows, and the
//! level's yearly quota (where set) is not exceeded.

use std::collections::HashSet;

use doan_platform::AppError;
use doan_platform::error::AppResult;
use doan_platform::rules::RuleValues;
use serde::Deserialize;

use super::{AwardForm, UnitLevel};

/// Who receives an award (numbers match `doan.awards.v1.RecipientKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// A member (cá nhân).
    Individual = 1,
    /// A unit (tập thể).
    Unit = 2,
    /// A cluster of units (cụm).
    Cluster = 3,
}

impl RecipientKind {
    /// How the kind reads in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Individual => "an individual (member_id)",
            Self::Unit => "a unit (unit_id)",
            Self::Cluster => "a cluster (cluster_id)",
        }
    }
}

/// One level allowed to issue a kind.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssuerRule {
    /// The level.
    pub level: UnitLevel,
    /// Most recipients one issuing unit of this level may award in a calendar year; 0: none.
    #[serde(default)]
    pub yearly_quota: u32,
}

/// One kind of award: a form, or a title conferred by decision.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AwardKind {
    /// Stable code (`certificate_of_merit`, `title_strong_branch`).
    pub code: String,
    /// Its form.
    pub form: AwardForm,
    /// Vietnamese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Criteria, as the rule states them.
    pub criteria: String,
    /// Who may receive it.
    pub recipients: Vec<RecipientKind>,
    /// At most once per person, ever.
    #[serde(default)]
    pub once_per_person: bool,
    /// Which levels may issue it.
    pub issuers: Vec<IssuerRule>,
}

/// The catalogue of one version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Catalogue {
    /// Every kind.
    pub kinds: Vec<AwardKind>,
}

impl RuleValues for Catalogue {
    fn validate(&self) -> Result<(), String> {
        let mut codes = HashSet::new();
        for k in &self.kinds {
            if k.code.is_empty() || !k.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                return Err(format!("kind code {:?} must be lowercase letters, digits and _", k.code));
            }
            if !codes.insert(k.code.as_str()) {
                return Err(format!("kind {} is listed twice", k.code));
            }
            if k.name.trim().is_empty() || k.criteria.trim().is_empty() {
                return Err(format!("kind {} needs a name and criteria", k.code));
            }
            if k.recipients.is_empty() {
                return Err(format!("kind {} names no recipient kind", k.code));
            }
            if k.issuers.is_empty() {
                return Err(format!("kind {} names no issuing level", k.code));
            }
            let mut levels = HashSet::new();
            for i in &k.issuers {
                if !levels.insert(i.level) {
                    return Err(format!("kind {} lists level {:?} twice", k.code, i.level));
                }
                if i.level == UnitLevel::Branch {
                    return Err(format!("kind {}: a branch (chi đoàn) issues no award", k.code));
                }
            }
            if k.form == AwardForm::EmulationFlag && k.recipients.contains(&RecipientKind::Individual) {
                return Err(format!("kind {}: emulation flags go to collectives only", k.code));
            }
            if k.once_per_person && k.recipients != [RecipientKind::Individual] {
                return Err(format!("kind {}: once per person applies to individuals only", k.code));
            }
            if let Some(code) = k.form.default_kind()
                && code != k.code
                && self.kinds.iter().all(|other| other.code != code)
            {
                return Err(format!("form {:?} needs its own kind {code}", k.form));
            }
        }
        Ok(())
    }
}

impl Catalogue {
    /// The kind a decision names: `code`, or the form's own kind when `code` is empty; the two
    /// must agree when both are given.
    pub fn resolve(&self, code: &str, form: Option<AwardForm>) -> AppResult<&AwardKind> {
        let code = match (code, form) {
            ("", Some(f)) => f.default_kind().ok_or_else(|| {
                AppError::invalid("kind", "is required for a title (AWARD_FORM_TITLE): name the title's code")
            })?,
            ("", None) => return Err(AppError::invalid("form", "set form or kind")),
            (c, _) => c,
        };
        let kind = self.kinds.iter().find(|k| k.code == code).ok_or_else(|| {
            AppError::invalid(
                "kind",
                format!("{} is not in the catalogue in force on the decision date", doan_platform::text::quote(code)),
            )
        })?;
        if let Some(f) = form
            && f != kind.form
        {
            return Err(AppError::invalid("form", format!("kind {} is of form {:?}, not {f:?}", kind.code, kind.form)));
        }
        Ok(kind)
    }

    /// The kind `code`, if listed.
    pub fn kind(&self, code: &str) -> Option<&AwardKind> {
        self.kinds.iter().find(|k| k.code == code)
    }
}

impl AwardKind {
    /// The rule by which a unit at `level` issues this kind; refused when its level is not
    /// listed (a chi đoàn cơ sở issues nothing).
    pub fn issuer(&self, level: Option<UnitLevel>) -> AppResult<&IssuerRule> {
        level.and_then(|l| self.issuers.iter().find(|i| i.level == l)).ok_or_else(|| {
            let allowed: Vec<String> = self.issuers.iter().map(|i| format!("{:?}", i.level)).collect();
            AppError::FailedPrecondition(format!(
                "a unit at level {} may not issue {} ({}); on the decision date it is issued by {}",
                level.map(|l| format!("{l:?}")).unwrap_or_else(|| "unknown".into()),
                self.name,
                self.code,
                allowed.join(", ")
            ))
        })
    }

    /// Refuses a recipient of a kind this award does not go to.
    pub fn check_recipient(&self, position: usize, kind: RecipientKind) -> AppResult<()> {
        if self.recipients.contains(&kind) {
            return Ok(());
        }
        let allowed: Vec<&str> = self.recipients.iter().map(|k| k.label()).collect();
        Err(AppError::invalid(
            "recipients",
            format!("recipient {position} is {}; {} goes to {}", kind.label(), self.code, allowed.join(" or ")),
        ))
    }

    /// Refuses a decision that would take an issuing unit past its yearly quota: `already`
    /// recipients this year (not revoked), `adding` more.
    pub fn check_quota(&self, rule: &IssuerRule, year: i32, already: u64, adding: usize) -> AppResult<()> {
        let quota = u64::from(rule.yearly_quota);
        if quota == 0 || already + adding as u64 <= quota {
            return Ok(());
        }
        Err(AppError::FailedPrecondition(format!(
            "the quota of {} for a {:?}-level unit is {quota} a year; {already} already awarded in {year}, this \
             decision adds {adding}",
            self.code, rule.level
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use UnitLevel::*;
    use doan_platform::rules::Versioned;

    const AWARDS: &str = include_str!("../../../../rules/awards.toml");

    fn at(date: &str) -> Catalogue {
        let rules = Versioned::<Catalogue>::parse("awards.toml", AWARDS).unwrap();
        rules.at("decision_date", date.parse().unwrap()).unwrap().rule.clone()
    }

    #[test]
    fn issuing_levels_come_from_the_version_in_force() {
        let now = at("2026-11-24");
        let issue = |code: &str, level| now.resolve(code, None).unwrap().issuer(Some(level)).is_ok();
        assert!(issue("emulation_flag", Central));
        assert!(issue("certificate_of_merit", Provincial));
        assert!(!issue("certificate_of_merit", District));
        assert!(issue("certificate_of_commendation", Grassroots));
        assert!(!issue("certificate_of_commendation", Central));
        assert!(issue("youth_generation_medal", Central));
        assert!(!issue("youth_generation_medal", Provincial));
        // A chi đoàn cơ sở issues nothing under the 12th Charter's catalogue …
        for k in &now.kinds {
            assert!(k.issuer(Some(GrassrootsBranch)).is_err(), "{}", k.code);
            assert!(k.issuer(Some(Branch)).is_err(), "{}", k.code);
            assert!(k.issuer(None).is_err());
        }
        // … and issued certificates of commendation before it.
        let before = at("2020-06-01");
        assert!(
            before
                .resolve("", Some(AwardForm::CertificateOfCommendation))
                .unwrap()
                .issuer(Some(GrassrootsBranch))
                .is_ok()
        );
        assert!(before.resolve("youth_generation_medal", None).is_err(), "not in the old catalogue");
    }

    #[test]
    fn kinds_resolve_from_code_or_form_and_must_agree() {
        let c = at("2026-11-24");
        assert_eq!(c.resolve("", Some(AwardForm::EmulationFlag)).unwrap().code, "emulation_flag");
        assert_eq!(c.resolve("title_strong_branch", None).unwrap().form, AwardForm::Title);
        assert!(c.resolve("title_strong_branch", Some(AwardForm::Title)).is_ok());
        assert!(c.resolve("title_strong_branch", Some(AwardForm::CertificateOfMerit)).is_err());
        assert!(c.resolve("", Some(AwardForm::Title)).is_err(), "a title needs its code");
        assert!(c.resolve("", None).is_err());
        assert!(c.resolve("no_such_kind", None).is_err());
    }

    #[test]
    fn recipients_and_quotas() {
        let c = at("2026-11-24");
        let flag = c.resolve("emulation_flag", None).unwrap();
        assert!(flag.check_recipient(0, RecipientKind::Unit).is_ok());
        assert!(flag.check_recipient(0, RecipientKind::Cluster).is_ok());
        assert!(flag.check_recipient(3, RecipientKind::Individual).unwrap_err().to_string().contains("recipient 3"));
        let medal = c.resolve("youth_generation_medal", None).unwrap();
        assert!(medal.once_per_person);
        assert!(medal.check_recipient(0, RecipientKind::Unit).is_err());
        let provincial = flag.issuer(Some(Provincial)).unwrap();
        assert_eq!(provincial.yearly_quota, 12);
        assert!(flag.check_quota(provincial, 2026, 10, 2).is_ok());
        assert!(flag.check_quota(provincial, 2026, 11, 2).is_err());
        let merit = c.resolve("certificate_of_merit", None).unwrap();
        assert!(merit.check_quota(merit.issuer(Some(Central)).unwrap(), 2026, 1_000_000, 2000).is_ok(), "no quota");
    }

    #[test]
    fn broken_catalogues_are_refused() {
        let mut c = at("2026-11-24");
        assert!(c.validate().is_ok());
        c.kinds[0].recipients.push(RecipientKind::Individual);
        assert!(c.validate().unwrap_err().contains("collectives only"));
        let mut c = at("2026-11-24");
        c.kinds[1].issuers.push(IssuerRule { level: Branch, yearly_quota: 0 });
        assert!(c.validate().unwrap_err().contains("branch"));
        let mut c = at("2026-11-24");
        let twice = c.kinds[2].clone();
        c.kinds.push(twice);
        assert!(c.validate().unwrap_err().contains("twice"));
    }
}
