//! Live statistics: every change of a member adjusts counters of their unit in the same
//! transaction; a subtree's statistics are the sum over its units, never a count of members.

use chrono::Datelike;
use chrono::NaiveDate;

use super::member::MemberStatus;

/// What the counters know of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberFacts {
    /// Status.
    pub status: MemberStatus,
    /// Sex number (1 male, 2 female).
    pub sex: i32,
    /// Year of birth.
    pub birth_year: i32,
    /// Of the Kinh majority (the aggregate "ethnicity group"; no person's ethnicity is kept in
    /// clear).
    pub kinh: bool,
}

/// A counter: metric and key.
pub type Counter = (&'static str, String);

/// Metrics of a member's state: status for every member; sex, year of birth and ethnicity
/// group for active members.
pub fn state_counters(f: &MemberFacts) -> Vec<Counter> {
    let mut out = vec![("status", (f.status as i32).to_string())];
    if f.status == MemberStatus::Active {
        out.push(("sex", f.sex.to_string()));
        out.push(("birth_year", f.birth_year.to_string()));
        out.push(("ethnicity", if f.kinh { "kinh" } else { "minority" }.to_string()));
    }
    out
}

/// The counter changes of a member going from `before` to `after` (either may be absent).
pub fn diff(before: Option<&MemberFacts>, after: Option<&MemberFacts>) -> Vec<(Counter, i64)> {
    let mut out: Vec<(Counter, i64)> = Vec::new();
    let mut add = |c: Counter, d: i64| match out.iter_mut().find(|(k, _)| *k == c) {
        Some((_, n)) => *n += d,
        None => out.push((c, d)),
    };
    for c in before.map(state_counters).unwrap_or_default() {
        add(c, -1);
    }
    for c in after.map(state_counters).unwrap_or_default() {
        add(c, 1);
    }
    out.retain(|(_, d)| *d != 0);
    out
}

/// A yearly flow (admitted, transfer_in, transfer_out, aged_out, party, removed, expelled)
/// on the Vietnam date `on`.
pub fn flow(metric: &'static str, on: NaiveDate) -> (Counter, i64) {
    ((metric, on.year().to_string()), 1)
}

/// The flow a status change counts, if any.
pub fn status_flow(status: MemberStatus) -> Option<&'static str> {
    match status {
        MemberStatus::Active => None,
        MemberStatus::TransferredOut => Some("transfer_out"),
        MemberStatus::AgedOut => Some("aged_out"),
        MemberStatus::Removed => Some("removed"),
        MemberStatus::Expelled => Some("expelled"),
    }
}

/// True for the Kinh majority, however the ethnicity is written ("Kinh", "kinh", "Việt").
pub fn is_kinh(ethnicity: &str) -> bool {
    let e = ethnicity.trim().to_lowercase();
    e == "kinh" || e == "việt" || e == "viet"
}

/// Age bands by age reached in `year`: "15-18", "19-24", "25-30", "31+".
pub fn age_band(birth_year: i32, year: i32) -> &'static str {
    match year - birth_year {
        ..=18 => "15-18",
        19..=24 => "19-24",
        25..=30 => "25-30",
        _ => "31+",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removal_moves_counts_from_active_to_removed() {
        let active = MemberFacts { status: MemberStatus::Active, sex: 2, birth_year: 2005, kinh: false };
        let removed = MemberFacts { status: MemberStatus::Removed, ..active };
        let mut d = diff(Some(&active), Some(&removed));
        d.sort();
        assert_eq!(
            d,
            vec![
                (("birth_year", "2005".into()), -1),
                (("ethnicity", "minority".into()), -1),
                (("sex", "2".into()), -1),
                (("status", "1".into()), -1),
                (("status", "4".into()), 1),
            ]
        );
        assert!(diff(Some(&active), Some(&active)).is_empty());
        assert_eq!(diff(None, Some(&active)).len(), 4);
        assert_eq!(flow("admitted", "2026-11-30".parse().unwrap()), (("admitted", "2026".into()), 1));
    }

    #[test]
    fn bands_and_ethnicity_groups() {
        assert_eq!(age_band(2010, 2026), "15-18");
        assert_eq!(age_band(2002, 2026), "19-24");
        assert_eq!(age_band(1996, 2026), "25-30");
        assert_eq!(age_band(1990, 2026), "31+");
        assert!(is_kinh(" Kinh ") && !is_kinh("Ê Đê"));
    }
}
