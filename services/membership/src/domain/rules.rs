//! The values of membership's effective-dated rules (files under `rules/`); which version
//! applies is decided by date elsewhere (`doan_platform::rules`).

use serde::Deserialize;

use doan_platform::rules::RuleValues;

/// `rules/admission.toml`: who may be admitted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AdmissionRule {
    /// Full years at least, on the admission date…
    pub min_age_years: u32,
    /// …plus this many days (15 years and 1 day: "tuổi 16").
    pub min_age_extra_days: u32,
    /// At most this old: the admission date is no later than this birthday.
    pub max_age_years: u32,
    /// A member younger than this on the admission date is a child: guardian consent.
    pub child_under_years: u32,
    /// An admission dated more than this many days before today needs a supervising officer.
    pub backdate_days: u32,
    /// Members are proposed for age-out (trưởng thành đoàn) from this birthday on.
    pub age_out_years: u32,
    /// A transfer not finished within this many days expires.
    pub transfer_expiry_days: u32,
    /// Documents an application must hold before it is decided (kinds, e.g.
    /// `application_letter`).
    pub required_documents: Vec<String>,
}

impl RuleValues for AdmissionRule {
    fn validate(&self) -> Result<(), String> {
        if self.min_age_years >= self.max_age_years {
            return Err("min_age_years must be below max_age_years".into());
        }
        if self.child_under_years > self.max_age_years {
            return Err("child_under_years must not exceed max_age_years".into());
        }
        if self.age_out_years < self.max_age_years {
            return Err("age_out_years must not be below max_age_years".into());
        }
        if self.transfer_expiry_days == 0 {
            return Err("transfer_expiry_days must be at least 1".into());
        }
        if let Some(bad) = self.required_documents.iter().find(|d| !crate::domain::member::is_document_kind(d)) {
            return Err(format!("required_documents: {bad:?} is not a kind (a-z, 0-9 and _, 1 to 40)"));
        }
        Ok(())
    }
}

/// `rules/dues.toml`: dues amounts and cadences.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DuesRule {
    /// VND per month for members without a salary (pupils, students).
    pub unsalaried_vnd: i64,
    /// VND per month for salaried members.
    pub salaried_vnd: i64,
    /// VND per month for pupils and students.
    pub student_vnd: i64,
    /// Thirds each level keeps…
    pub kept_share_thirds: u8,
    /// …and remits upward.
    pub remitted_share_thirds: u8,
    /// How often a branch remits (`monthly`, `quarterly`).
    pub branch_remits: Cadence,
    /// How often a grassroots unit remits.
    pub grassroots_remits: Cadence,
    /// How often a district remits.
    pub district_remits: Cadence,
    /// The day of the year (`MM-DD`) by which a province remits to the centre.
    pub province_remits_by: String,
    /// Longest hardship exemption, months.
    pub max_exemption_months: u8,
    /// A monthly or quarterly remittance is due this many days after its period ends.
    pub remit_within_days: u32,
    /// Members with dues owed are reminded on this day of each month (1 to 28).
    pub reminder_day: u32,
}

/// How often money moves up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Every month.
    Monthly,
    /// Every quarter.
    Quarterly,
    /// Once a year.
    Yearly,
}

impl RuleValues for DuesRule {
    fn validate(&self) -> Result<(), String> {
        if self.unsalaried_vnd <= 0 || self.salaried_vnd <= 0 || self.student_vnd <= 0 {
            return Err("dues amounts must be positive VND".into());
        }
        if self.kept_share_thirds + self.remitted_share_thirds != 3 {
            return Err("kept_share_thirds and remitted_share_thirds must add up to 3".into());
        }
        if !(1..=12).contains(&self.max_exemption_months) {
            return Err("max_exemption_months must be 1 to 12".into());
        }
        if !(1..=28).contains(&self.reminder_day) {
            return Err("reminder_day must be 1 to 28".into());
        }
        parse_month_day(&self.province_remits_by).map(|_| ())
    }
}

/// `rules/evaluation.toml`: evaluation periods and ratings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EvaluationRule {
    /// `MM-DD` the calendar evaluation year starts.
    pub calendar_year_starts: String,
    /// `MM-DD` the school evaluation year starts (school branches).
    pub school_year_starts: String,
    /// Ratings, best first.
    pub ratings: Vec<String>,
    /// Share of a branch's rated members that may be rated first, percent (rounded down).
    pub excellent_max_percent: u32,
    /// Best rating (1-based) with a disciplinary decision in the period.
    pub disciplined_best: u8,
    /// Best rating with the training programme not passed.
    pub training_not_passed_best: u8,
    /// More than this many months of dues owed in the period…
    pub arrears_months_limit: u32,
    /// …caps the rating here.
    pub arrears_best: u8,
    /// Unit ratings, best first.
    pub unit_ratings: Vec<String>,
    /// Thresholds of every unit rating but the last, in order.
    pub unit_thresholds: Vec<UnitThreshold>,
    /// Party introduction: minimum age on the resolution date.
    pub party_min_age_years: u32,
    /// Party introduction: the latest confirmed rating at least this good (1-based).
    pub party_min_rating: u8,
    /// Party introduction: that rating's period ended within this many days.
    pub party_rating_within_days: u32,
    /// Reminders of an evaluation deadline go out this many days before it.
    pub reminder_days_before: u32,
}

/// What a unit needs for a rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct UnitThreshold {
    /// Members rated excellent or good, percent of those rated, at least.
    pub min_good_percent: u32,
    /// Members not completing their duties, percent of those rated, at most.
    pub max_not_completed_percent: u32,
    /// Targets met, percent of targets set, at least (no targets: 100).
    pub min_targets_percent: u32,
}

impl RuleValues for EvaluationRule {
    fn validate(&self) -> Result<(), String> {
        parse_month_day(&self.calendar_year_starts)?;
        parse_month_day(&self.school_year_starts)?;
        if self.ratings.len() != 4 {
            return Err("ratings must name the four member ratings, best first".into());
        }
        if self.unit_ratings.len() != 5 || self.unit_thresholds.len() != 4 {
            return Err("unit_ratings must name five ratings and unit_thresholds the first four".into());
        }
        if self.excellent_max_percent > 100 {
            return Err("excellent_max_percent must be 0 to 100".into());
        }
        for best in [self.disciplined_best, self.training_not_passed_best, self.arrears_best, self.party_min_rating] {
            if !(1..=4).contains(&best) {
                return Err("ratings in rules are 1 (best) to 4".into());
            }
        }
        Ok(())
    }
}

/// `MM-DD` as (month, day).
pub fn parse_month_day(value: &str) -> Result<(u32, u32), String> {
    let (m, d) = value.split_once('-').ok_or_else(|| format!("{value:?} is not MM-DD"))?;
    let (m, d): (u32, u32) = (m.parse().map_err(|_| "bad month")?, d.parse().map_err(|_| "bad day")?);
    // A year without 29 February: the day must exist every year.
    chrono::NaiveDate::from_ymd_opt(2023, m, d).ok_or_else(|| format!("{value:?} is not a day of every year"))?;
    Ok((m, d))
}

#[cfg(test)]
mod tests {
    use doan_platform::rules::Versioned;

    use super::*;

    const ADMISSION: &str = include_str!("../../../../rules/admission.toml");
    const DUES: &str = include_str!("../../../../rules/dues.toml");
    const EVALUATION: &str = include_str!("../../../../rules/evaluation.toml");

    #[test]
    fn the_repository_rule_files_are_valid() {
        let admission = Versioned::<AdmissionRule>::parse("admission.toml", ADMISSION).unwrap();
        let on = |s: &str| s.parse().unwrap();
        assert_eq!(admission.at("admitted_on", on("2022-12-14")).unwrap().id, "charter-11");
        assert_eq!(admission.at("admitted_on", on("2026-11-24")).unwrap().id, "charter-12");
        let dues = Versioned::<DuesRule>::parse("dues.toml", DUES).unwrap();
        let rule = &dues.at("on", on("2026-01-01")).unwrap().rule;
        assert_eq!((rule.unsalaried_vnd, rule.salaried_vnd, rule.branch_remits), (2000, 5000, Cadence::Monthly));
        let evaluation = Versioned::<EvaluationRule>::parse("evaluation.toml", EVALUATION).unwrap();
        assert_eq!(evaluation.at("on", on("2026-01-01")).unwrap().rule.ratings.len(), 4);
    }

    #[test]
    fn inconsistent_values_are_refused() {
        let inverted = ADMISSION.replacen("min_age_years = 15", "min_age_years = 31", 1);
        let err = format!("{:#}", Versioned::<AdmissionRule>::parse("admission.toml", &inverted).unwrap_err());
        assert!(err.contains("charter-11") && err.contains("min_age_years"), "{err}");
        let shares = DUES.replace("remitted_share_thirds = 1", "remitted_share_thirds = 2");
        assert!(Versioned::<DuesRule>::parse("dues.toml", &shares).is_err());
    }
}
