//! Emulation scoring: facts (one per source) and the weights that turn them into points. A
//! score is always computed from the facts, so a fact recorded twice counts once and a late one
//! counts in its own month; the weights of a unit's year are its own, else its nearest
//! ancestor's, else `rules/emulation.toml`'s.

use std::collections::HashMap;

use doan_platform::AppError;
use doan_platform::error::AppResult;
use doan_platform::rules::RuleValues;
use serde::{Deserialize, Serialize};

/// What earns points (numbers match `doan.awards.v1.ScoreKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScoreKind {
    /// A check-in accepted.
    Participation = 1,
    /// Volunteer minutes of one participation.
    VolunteerHours = 2,
    /// An idea adopted.
    IdeaAdopted = 3,
    /// A project inaugurated (unit).
    Project = 4,
    /// A target met (unit).
    TargetMet = 5,
    /// A member's yearly rating (quantity: the rating number).
    MemberRating = 6,
    /// A unit's yearly rating (quantity: the rating number).
    UnitRating = 7,
    /// A month of dues paid on time.
    DuesOnTime = 8,
}

impl ScoreKind {
    /// Every kind, in number order.
    pub const ALL: [Self; 8] = [
        Self::Participation,
        Self::VolunteerHours,
        Self::IdeaAdopted,
        Self::Project,
        Self::TargetMet,
        Self::MemberRating,
        Self::UnitRating,
        Self::DuesOnTime,
    ];

    /// The kind of a stored number.
    pub fn from_stored(n: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|k| *k as i32 == n)
    }
}

/// The points of each kind (one rule: a unit's year, or the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Weights {
    /// Per check-in.
    pub participation: i32,
    /// Per hour of volunteer time.
    pub per_volunteer_hour: i32,
    /// Per idea adopted.
    pub idea_adopted: i32,
    /// Per project inaugurated.
    pub project: i32,
    /// Per target met.
    pub target_met: i32,
    /// Per month of dues paid on time.
    pub dues_month_on_time: i32,
    /// By member rating 1..=4.
    pub member_rating: Vec<i32>,
    /// By unit rating 1..=5.
    pub unit_rating: Vec<i32>,
}

impl RuleValues for Weights {
    fn validate(&self) -> Result<(), String> {
        self.check().map_err(|e| e.to_string())
    }
}

impl Weights {
    /// Refuses weights out of their ranges (naming the request field `weights.<name>`).
    pub fn check(&self) -> AppResult<()> {
        for (name, value, max) in [
            ("weights.participation", self.participation, 1000),
            ("weights.per_volunteer_hour", self.per_volunteer_hour, 1000),
            ("weights.idea_adopted", self.idea_adopted, 1000),
            ("weights.project", self.project, 10_000),
            ("weights.target_met", self.target_met, 10_000),
            ("weights.dues_month_on_time", self.dues_month_on_time, 1000),
        ] {
            if !(0..=max).contains(&value) {
                return Err(AppError::invalid(name, format!("must be 0 to {max}")));
            }
        }
        for (name, values, n) in
            [("weights.member_rating", &self.member_rating, 4), ("weights.unit_rating", &self.unit_rating, 5)]
        {
            if values.len() != n || values.iter().any(|v| !(-10_000..=10_000).contains(v)) {
                return Err(AppError::invalid(name, format!("must hold exactly {n} values, each -10000 to 10000")));
            }
        }
        Ok(())
    }

    /// The points of `quantity` of `kind`.
    pub fn points(&self, kind: ScoreKind, quantity: i64) -> i64 {
        let by_rating =
            |table: &[i32]| usize::try_from(quantity - 1).ok().and_then(|i| table.get(i)).copied().map_or(0, i64::from);
        match kind {
            ScoreKind::Participation => quantity * i64::from(self.participation),
            ScoreKind::VolunteerHours => quantity / 60 * i64::from(self.per_volunteer_hour),
            ScoreKind::IdeaAdopted => quantity * i64::from(self.idea_adopted),
            ScoreKind::Project => quantity * i64::from(self.project),
            ScoreKind::TargetMet => quantity * i64::from(self.target_met),
            ScoreKind::MemberRating => by_rating(&self.member_rating),
            ScoreKind::UnitRating => by_rating(&self.unit_rating),
            ScoreKind::DuesOnTime => quantity * i64::from(self.dues_month_on_time),
        }
    }
}

/// The weights of a year by unit: the units that set their own, and the defaults.
pub struct Rules<'a> {
    /// Units' own weights for the year, by unit id.
    pub own: HashMap<String, Weights>,
    /// The defaults (`rules/emulation.toml`).
    pub defaults: &'a Weights,
}

impl Rules<'_> {
    /// The weights in force at the unit whose materialised path is `path` (`/a/b/c/`): the
    /// nearest unit on the path (itself first) with its own, else the defaults; and that unit.
    pub fn at<'s>(&'s self, path: &str) -> (&'s Weights, Option<&'s str>) {
        for id in path.split('/').filter(|s| !s.is_empty()).rev() {
            if let Some((unit, w)) = self.own.get_key_value(id) {
                return (w, Some(unit.as_str()));
            }
        }
        (self.defaults, None)
    }
}

/// Whether a month of dues (`year`, `month`) paid on `paid_on` was on time: no later than the
/// month's last day.
pub fn on_time(year: i32, month: u32, paid_on: chrono::NaiveDate) -> bool {
    let next = if month == 12 {
        chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.is_some_and(|n| paid_on < n)
}

#[cfg(test)]
mod tests {
    use super::*;

    use doan_platform::rules::Versioned;

    const EMULATION: &str = include_str!("../../../../rules/emulation.toml");

    fn defaults() -> Weights {
        Versioned::<Weights>::parse("emulation.toml", EMULATION)
            .unwrap()
            .at("year", "2026-01-01".parse().unwrap())
            .unwrap()
            .rule
            .clone()
    }

    #[test]
    fn points_by_kind() {
        let w = defaults();
        assert_eq!(w.points(ScoreKind::Participation, 3), 30);
        assert_eq!(w.points(ScoreKind::VolunteerHours, 179), 4, "two whole hours, 2 points each");
        assert_eq!(w.points(ScoreKind::MemberRating, 1), 40);
        assert_eq!(w.points(ScoreKind::MemberRating, 9), 0, "an unknown rating earns nothing");
        assert_eq!(w.points(ScoreKind::UnitRating, 5), -50);
        assert_eq!(w.points(ScoreKind::DuesOnTime, 1), 1);
    }

    #[test]
    fn the_nearest_unit_with_its_own_weights_decides() {
        let w = defaults();
        let mut province = w.clone();
        province.participation = 20;
        let rules = Rules { own: [("p".to_string(), province)].into(), defaults: &w };
        assert_eq!(rules.at("/c/p/d/b/").0.participation, 20);
        assert_eq!(rules.at("/c/p/d/b/").1, Some("p"));
        assert_eq!(rules.at("/c/q/b/").0.participation, 10);
        assert_eq!(rules.at("/c/q/b/").1, None);
    }

    #[test]
    fn weights_out_of_range_are_refused() {
        let mut w = defaults();
        assert!(w.check().is_ok());
        w.member_rating.pop();
        assert!(w.check().unwrap_err().to_string().contains("weights.member_rating"));
        let mut w = defaults();
        w.project = -1;
        assert!(w.check().unwrap_err().to_string().contains("weights.project"));
    }

    #[test]
    fn dues_are_on_time_until_the_month_ends() {
        let d = |s: &str| s.parse().unwrap();
        assert!(on_time(2026, 3, d("2026-03-31")));
        assert!(on_time(2026, 3, d("2026-01-10")), "paid ahead");
        assert!(!on_time(2026, 3, d("2026-04-01")));
        assert!(on_time(2026, 12, d("2026-12-31")));
        assert!(!on_time(2026, 12, d("2027-01-01")));
    }
}
