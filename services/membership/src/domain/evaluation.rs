//! The annual evaluation (đánh giá, xếp loại): periods by sector, the evidence that caps a
//! member's rating, the branch's quota, units' ratings, and who may be introduced to the
//! Party. Every value comes from the evaluation rule in force.

use chrono::{Datelike, NaiveDate};
use doan_platform::AppError;
use doan_platform::error::AppResult;

use super::rules::{EvaluationRule, parse_month_day};
use super::training::TrainingResult;

/// Calendar or school year (numbers match `doan.membership.v1.EvaluationSector`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sector {
    /// The calendar year.
    Calendar = 1,
    /// The school year.
    School = 2,
}

impl Sector {
    /// Parses the proto number (naming `field`).
    pub fn parse(field: &'static str, value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::Calendar),
            2 => Ok(Self::School),
            _ => Err(AppError::invalid(field, "must be CALENDAR or SCHOOL")),
        }
    }
}

/// Checks a year label: 2000 to 2199.
pub fn check_year(field: &'static str, year: i32) -> AppResult<()> {
    if (2000..=2199).contains(&year) {
        Ok(())
    } else {
        Err(AppError::invalid(field, "must be a year from 2000 to 2199"))
    }
}

/// The first and last day of year `year` of `sector`: a year that starts on 1 January is that
/// calendar year; one that starts later (the school year, 1 August) starts in the year before
/// and ends in `year`.
pub fn window(rule: &EvaluationRule, sector: Sector, year: i32) -> (NaiveDate, NaiveDate) {
    let starts = match sector {
        Sector::Calendar => &rule.calendar_year_starts,
        Sector::School => &rule.school_year_starts,
    };
    let (m, d) = parse_month_day(starts).expect("validated");
    let start_year = if (m, d) == (1, 1) { year } else { year - 1 };
    let first = NaiveDate::from_ymd_opt(start_year, m, d).expect("validated");
    let next = NaiveDate::from_ymd_opt(start_year + 1, m, d).expect("validated");
    (first, next.pred_opt().expect("a day before"))
}

/// A member's rating (numbers match `doan.membership.v1.MemberRating`; lower is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rating {
    /// Hoàn thành xuất sắc nhiệm vụ.
    Excellent = 1,
    /// Hoàn thành tốt nhiệm vụ.
    Good = 2,
    /// Hoàn thành nhiệm vụ.
    Completed = 3,
    /// Không hoàn thành nhiệm vụ.
    NotCompleted = 4,
}

impl Rating {
    /// Parses the proto number (naming `field`).
    pub fn parse(field: &'static str, value: i32) -> AppResult<Self> {
        Self::from_number(value)
            .ok_or_else(|| AppError::invalid(field, "must be EXCELLENT, GOOD, COMPLETED or NOT_COMPLETED"))
    }

    /// 1 to 4.
    pub fn from_number(value: i32) -> Option<Self> {
        match value {
            1 => Some(Self::Excellent),
            2 => Some(Self::Good),
            3 => Some(Self::Completed),
            4 => Some(Self::NotCompleted),
            _ => None,
        }
    }

    /// Its name in the rule (Vietnamese).
    pub fn name(self, rule: &EvaluationRule) -> &str {
        &rule.ratings[self as usize - 1]
    }
}

/// What the system knows of a member's year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Participations in the period.
    pub participations: i32,
    /// Volunteer minutes.
    pub volunteer_minutes: i64,
    /// Dues months due in the period up to today.
    pub dues_months_due: i32,
    /// Paid.
    pub dues_months_paid: i32,
    /// Exempt.
    pub dues_months_exempt: i32,
    /// Owed.
    pub dues_arrears_months: i32,
    /// Training state number (0: not registered).
    pub training_state: i32,
    /// Training result.
    pub training_result: i32,
    /// Awards in the period.
    pub awards: i32,
    /// Disciplinary decisions in the period.
    pub disciplinary_records: i32,
}

/// The best rating `evidence` allows under `rule`, with the reasons (Vietnamese) for each cap.
pub fn best_allowed(evidence: &Evidence, rule: &EvaluationRule) -> (Rating, Vec<String>) {
    let mut best = Rating::Excellent;
    let mut limits = Vec::new();
    let mut cap = |to: u8, why: String| {
        let to = Rating::from_number(i32::from(to)).unwrap_or(Rating::NotCompleted);
        if to > best {
            best = to;
        }
        limits.push(why);
    };
    if evidence.disciplinary_records > 0 {
        cap(rule.disciplined_best, format!("Bị kỷ luật trong kỳ ({} quyết định)", evidence.disciplinary_records));
    }
    if evidence.training_result != TrainingResult::Passed as i32 {
        let why = if evidence.training_result == TrainingResult::Failed as i32 {
            "Chương trình rèn luyện đoàn viên: không đạt"
        } else {
            "Chương trình rèn luyện đoàn viên: chưa được đánh giá"
        };
        cap(rule.training_not_passed_best, why.to_string());
    }
    if evidence.dues_arrears_months > rule.arrears_months_limit as i32 {
        cap(rule.arrears_best, format!("Nợ đoàn phí {} tháng trong kỳ", evidence.dues_arrears_months));
    }
    (best, limits)
}

/// How many of `rated` members a branch may rate excellent: the rule's share, rounded down.
pub fn excellent_allowed(rated: usize, rule: &EvaluationRule) -> usize {
    rated * rule.excellent_max_percent as usize / 100
}

/// A unit's rating (numbers match `doan.membership.v1.UnitRating`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitRating {
    /// Vững mạnh xuất sắc.
    StrongExcellent = 1,
    /// Vững mạnh.
    Strong = 2,
    /// Khá.
    Fair = 3,
    /// Trung bình.
    Average = 4,
    /// Yếu.
    Weak = 5,
}

/// Members' confirmed ratings in a unit's subtree, by rating.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Distribution {
    /// Excellent.
    pub excellent: i64,
    /// Good.
    pub good: i64,
    /// Completed.
    pub completed: i64,
    /// Not completed.
    pub not_completed: i64,
}

impl Distribution {
    /// Members rated.
    pub fn total(&self) -> i64 {
        self.excellent + self.good + self.completed + self.not_completed
    }

    /// Adds one member's rating.
    pub fn add(&mut self, rating: Rating, count: i64) {
        match rating {
            Rating::Excellent => self.excellent += count,
            Rating::Good => self.good += count,
            Rating::Completed => self.completed += count,
            Rating::NotCompleted => self.not_completed += count,
        }
    }
}

/// A unit's rating from its members' results and its targets: the first rating whose
/// thresholds it meets, the last otherwise. No targets counts as every target met.
pub fn unit_rating(members: &Distribution, targets_met: i32, targets_total: i32, rule: &EvaluationRule) -> UnitRating {
    let total = members.total().max(1);
    let good = (members.excellent + members.good) * 100;
    let failed = members.not_completed * 100;
    let targets = if targets_total == 0 { 100 } else { i64::from(targets_met) * 100 / i64::from(targets_total) };
    let ratings = [UnitRating::StrongExcellent, UnitRating::Strong, UnitRating::Fair, UnitRating::Average];
    for (rating, t) in ratings.into_iter().zip(&rule.unit_thresholds) {
        if good >= i64::from(t.min_good_percent) * total
            && failed <= i64::from(t.max_not_completed_percent) * total
            && targets >= i64::from(t.min_targets_percent)
        {
            return rating;
        }
    }
    UnitRating::Weak
}

/// What decides a member's eligibility for introduction to the Party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartyCandidate {
    /// Active.
    pub active: bool,
    /// Already a Party member.
    pub party_member: bool,
    /// Born on.
    pub date_of_birth: NaiveDate,
    /// Latest confirmed rating and the last day of its period.
    pub latest_rating: Option<(Rating, NaiveDate)>,
    /// In an introduction still pending.
    pub pending_elsewhere: bool,
}

/// Why a member may not be introduced on `on` (Vietnamese-free reason for the error), or
/// `Ok` when they may.
pub fn party_eligibility(c: &PartyCandidate, on: NaiveDate, rule: &EvaluationRule) -> Result<(), String> {
    if !c.active {
        return Err("is not an active member".into());
    }
    if c.party_member {
        return Err("is already a Party member".into());
    }
    let adult = super::member::birthday(c.date_of_birth, rule.party_min_age_years).is_some_and(|d| d <= on);
    if !adult {
        return Err(format!("is not {} years old on the resolution date", rule.party_min_age_years));
    }
    let Some((rating, ended)) = c.latest_rating else {
        return Err("has no confirmed rating".into());
    };
    if rating as u8 > rule.party_min_rating {
        return Err(format!("is rated {:?}, below the rule's minimum", rating));
    }
    if (on - ended).num_days() > i64::from(rule.party_rating_within_days) {
        return Err(format!("was last rated in a period that ended on {ended}, too long ago"));
    }
    if c.pending_elsewhere {
        return Err("is in another introduction still pending".into());
    }
    Ok(())
}

/// The Vietnam year of `date`.
pub fn year_of(date: NaiveDate) -> i32 {
    date.year()
}

#[cfg(test)]
mod tests {
    use doan_platform::rules::Versioned;

    use super::*;

    fn rule() -> EvaluationRule {
        let file = include_str!("../../../../rules/evaluation.toml");
        Versioned::<EvaluationRule>::parse("evaluation.toml", file)
            .unwrap()
            .at("on", d("2026-01-01"))
            .unwrap()
            .rule
            .clone()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_follow_the_sector() {
        let r = rule();
        assert_eq!(window(&r, Sector::Calendar, 2026), (d("2026-01-01"), d("2026-12-31")));
        assert_eq!(window(&r, Sector::School, 2026), (d("2025-08-01"), d("2026-07-31")));
    }

    #[test]
    fn evidence_caps_the_rating_and_says_why() {
        let r = rule();
        let passed = Evidence { training_result: TrainingResult::Passed as i32, ..Default::default() };
        assert_eq!(best_allowed(&passed, &r), (Rating::Excellent, vec![]));
        let (best, why) = best_allowed(&Evidence { disciplinary_records: 1, ..passed }, &r);
        assert_eq!(best, Rating::Completed);
        assert!(why[0].contains("kỷ luật"), "{why:?}");
        let (best, why) = best_allowed(&Evidence::default(), &r);
        assert_eq!((best, why.len()), (Rating::Completed, 1));
        assert_eq!(best_allowed(&Evidence { dues_arrears_months: 3, ..passed }, &r).0, Rating::Excellent);
        assert_eq!(best_allowed(&Evidence { dues_arrears_months: 4, ..passed }, &r).0, Rating::Completed);
    }

    #[test]
    fn the_excellent_quota_rounds_down() {
        let r = rule();
        assert_eq!(excellent_allowed(30, &r), 6);
        assert_eq!(excellent_allowed(4, &r), 0);
        assert_eq!(excellent_allowed(5, &r), 1);
    }

    #[test]
    fn units_are_rated_from_members_and_targets() {
        let r = rule();
        let mut d = Distribution::default();
        d.add(Rating::Excellent, 6);
        d.add(Rating::Good, 20);
        d.add(Rating::Completed, 4);
        assert_eq!(unit_rating(&d, 12, 12, &r), UnitRating::StrongExcellent);
        assert_eq!(unit_rating(&d, 10, 12, &r), UnitRating::Strong);
        assert_eq!(unit_rating(&d, 0, 0, &r), UnitRating::StrongExcellent);
        d.add(Rating::NotCompleted, 1);
        assert_eq!(unit_rating(&d, 12, 12, &r), UnitRating::Strong);
        let mut weak = Distribution::default();
        weak.add(Rating::Completed, 9);
        weak.add(Rating::NotCompleted, 3);
        assert_eq!(unit_rating(&weak, 1, 12, &r), UnitRating::Weak);
    }

    #[test]
    fn party_introduction_needs_age_a_recent_good_rating_and_nothing_pending() {
        let r = rule();
        let ok = PartyCandidate {
            active: true,
            party_member: false,
            date_of_birth: d("2004-05-01"),
            latest_rating: Some((Rating::Good, d("2025-12-31"))),
            pending_elsewhere: false,
        };
        let on = d("2026-03-01");
        assert_eq!(party_eligibility(&ok, on, &r), Ok(()));
        assert!(party_eligibility(&PartyCandidate { date_of_birth: d("2008-03-02"), ..ok }, on, &r).is_err());
        assert!(party_eligibility(&PartyCandidate { latest_rating: None, ..ok }, on, &r).is_err());
        let completed = Some((Rating::Completed, d("2025-12-31")));
        assert!(party_eligibility(&PartyCandidate { latest_rating: completed, ..ok }, on, &r).is_err());
        let old = Some((Rating::Excellent, d("2024-12-31")));
        assert!(party_eligibility(&PartyCandidate { latest_rating: old, ..ok }, on, &r).is_err());
        assert!(party_eligibility(&PartyCandidate { party_member: true, ..ok }, on, &r).is_err());
        assert!(party_eligibility(&PartyCandidate { pending_elsewhere: true, ..ok }, on, &r).is_err());
    }
}
