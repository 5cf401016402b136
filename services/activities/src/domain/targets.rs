//! Yearly targets (chỉ tiêu): what each metric counts and how the Union words the result.
//! No I/O, no storage, no proto.

use doan_platform::AppError;
use doan_platform::error::AppResult;

use super::programmes::{Figures, MAX_VND};

/// What a target counts (numbers match `doan.activities.v1.TargetMetric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Members admitted.
    Admissions = 1,
    /// Youth projects started.
    Projects = 2,
    /// Their value.
    ProjectsValueVnd = 3,
    /// Youth tasks started.
    Tasks = 4,
    /// Participations (lượt).
    Participations = 5,
    /// Approved volunteer hours.
    VolunteerHours = 6,
    /// Teams formed.
    Teams = 7,
    /// Blood units.
    BloodUnits = 8,
    /// Trees planted.
    TreesPlanted = 9,
    /// Gift packages.
    GiftPackages = 10,
    /// Beneficiaries.
    Beneficiaries = 11,
    /// Value mobilised.
    VndMobilised = 12,
}

impl Metric {
    /// Every metric, in order.
    pub const ALL: [Metric; 12] = [
        Self::Admissions,
        Self::Projects,
        Self::ProjectsValueVnd,
        Self::Tasks,
        Self::Participations,
        Self::VolunteerHours,
        Self::Teams,
        Self::BloodUnits,
        Self::TreesPlanted,
        Self::GiftPackages,
        Self::Beneficiaries,
        Self::VndMobilised,
    ];

    /// The metric of a request's number (`field` names it).
    pub fn parse(field: &'static str, value: i32) -> AppResult<Self> {
        Self::of(value).ok_or_else(|| AppError::invalid(field, "is not a TargetMetric"))
    }

    /// The stored number's metric.
    pub fn of(value: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|m| *m as i32 == value)
    }

    /// Its name in Vietnamese.
    pub fn label(self) -> &'static str {
        match self {
            Self::Admissions => "Kết nạp đoàn viên mới",
            Self::Projects => "Công trình thanh niên",
            Self::ProjectsValueVnd => "Giá trị công trình thanh niên (đồng)",
            Self::Tasks => "Phần việc thanh niên",
            Self::Participations => "Lượt đoàn viên, thanh niên tham gia",
            Self::VolunteerHours => "Giờ tình nguyện",
            Self::Teams => "Đội hình tình nguyện",
            Self::BloodUnits => "Đơn vị máu",
            Self::TreesPlanted => "Cây xanh",
            Self::GiftPackages => "Suất quà",
            Self::Beneficiaries => "Người được hưởng lợi",
            Self::VndMobilised => "Giá trị vận động (đồng)",
        }
    }

    /// The count so far from a subtree's figures for the year and its admissions.
    pub fn actual(self, f: &Figures, admissions: i64) -> i64 {
        match self {
            Self::Admissions => admissions,
            Self::Projects => f.projects.0,
            Self::ProjectsValueVnd => f.projects.1,
            Self::Tasks => f.tasks.0,
            Self::Participations => f.participations(),
            Self::VolunteerHours => f.volunteer_minutes / 60,
            Self::Teams => f.teams,
            Self::BloodUnits => f.outputs.blood_units,
            Self::TreesPlanted => f.outputs.trees_planted,
            Self::GiftPackages => f.outputs.gift_packages,
            Self::Beneficiaries => f.outputs.beneficiaries,
            Self::VndMobilised => f.outputs.vnd_mobilised,
        }
    }
}

/// A target's value: 1 to 10^13.
pub fn parse_value(value: i64) -> AppResult<i64> {
    if !(1..=MAX_VND).contains(&value) {
        return Err(AppError::invalid("targets", format!("value must be between 1 and {MAX_VND}")));
    }
    Ok(value)
}

/// `actual` as a whole percentage of `target`, rounded down.
pub fn percent(actual: i64, target: i64) -> i64 {
    if target <= 0 {
        return 0;
    }
    ((i128::from(actual) * 100) / i128::from(target)).clamp(0, i128::from(i64::MAX)) as i64
}

/// The Union's summary of (target, actual) pairs: "Đạt và vượt 12/12 chỉ tiêu (100% – 200%)",
/// with the targets not yet met after it; empty for none.
pub fn summary(results: &[(i64, i64)]) -> String {
    if results.is_empty() {
        return String::new();
    }
    let (met, not_met): (Vec<i64>, Vec<i64>) = {
        let mut met = Vec::new();
        let mut not_met = Vec::new();
        for &(target, actual) in results {
            let p = percent(actual, target);
            if actual >= target { met.push(p) } else { not_met.push(p) }
        }
        (met, not_met)
    };
    let range = |ps: &[i64]| {
        let (lo, hi) = (ps.iter().min().copied().unwrap_or(0), ps.iter().max().copied().unwrap_or(0));
        if lo == hi { format!("{lo}%") } else { format!("{lo}% – {hi}%") }
    };
    let total = results.len();
    if met.is_empty() {
        return format!("Chưa đạt {total}/{total} chỉ tiêu ({})", range(&not_met));
    }
    let mut out = format!("Đạt và vượt {}/{total} chỉ tiêu ({})", met.len(), range(&met));
    if !not_met.is_empty() {
        out.push_str(&format!("; {} chỉ tiêu chưa đạt ({})", not_met.len(), range(&not_met)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::programmes::Metrics;

    #[test]
    fn the_unions_words() {
        assert_eq!(summary(&[]), "");
        assert_eq!(summary(&[(10, 10), (10, 20)]), "Đạt và vượt 2/2 chỉ tiêu (100% – 200%)");
        assert_eq!(summary(&[(10, 15)]), "Đạt và vượt 1/1 chỉ tiêu (150%)");
        assert_eq!(
            summary(&[(10, 10), (10, 18), (10, 6), (10, 9)]),
            "Đạt và vượt 2/4 chỉ tiêu (100% – 180%); 2 chỉ tiêu chưa đạt (60% – 90%)"
        );
        assert_eq!(summary(&[(10, 0), (10, 5)]), "Chưa đạt 2/2 chỉ tiêu (0% – 50%)");
        assert_eq!(percent(2, 3), 66);
        assert_eq!(percent(i64::MAX, 1), i64::MAX);
    }

    #[test]
    fn metrics_count_what_the_review_counts() {
        let f = Figures {
            check_ins: 4,
            volunteer_minutes: 179,
            outputs: Metrics { extra_participations: 25, blood_units: 55, ..Default::default() },
            projects: (2, 230),
            ..Default::default()
        };
        assert_eq!(Metric::Participations.actual(&f, 0), 29);
        assert_eq!(Metric::VolunteerHours.actual(&f, 0), 2);
        assert_eq!(Metric::Admissions.actual(&f, 7), 7);
        assert_eq!(Metric::ProjectsValueVnd.actual(&f, 0), 230);
        assert!(Metric::parse("metric", 13).is_err() && Metric::parse("metric", 0).is_err());
        assert!(parse_value(0).is_err() && parse_value(1).is_ok());
    }
}
