//! Dues (đoàn phí): months, categories, prices by the rule in force, a member's ledger, and
//! the shares each level keeps and remits. Pure: amounts are whole VND.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, Months, NaiveDate};
use doan_platform::AppError;
use doan_platform::error::AppResult;
use doan_platform::units::UnitLevel;

use super::rules::{Cadence, DuesRule, parse_month_day};

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

impl Month {
    /// `YYYY-MM` (years 2000 to 2199), naming request field `field`.
    pub fn parse(field: &'static str, value: &str) -> AppResult<Self> {
        let bad = || AppError::invalid(field, "expected a month like 2026-11 (2000 to 2199)");
        let (y, m) = value.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(2000..=2199).contains(&y) || !(1..=12).contains(&m) {
            return Err(bad());
        }
        Ok(Self::from_ym(y, m))
    }

    /// The month of `date`.
    pub fn of(date: NaiveDate) -> Self {
        Self::from_ym(date.year(), date.month())
    }

    fn from_ym(year: i32, month: u32) -> Self {
        Self(year * 12 + month as i32 - 1)
    }

    /// Year.
    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// Month number, 1 to 12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    /// `n` months later (earlier when negative).
    pub fn plus(self, n: i32) -> Self {
        Self(self.0 + n)
    }

    /// Months from `self` to `later` (0 when equal, negative when `later` is earlier).
    pub fn until(self, later: Month) -> i32 {
        later.0 - self.0
    }

    /// First day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year(), self.month(), 1).expect("valid month")
    }

    /// Last day.
    pub fn last_day(self) -> NaiveDate {
        self.plus(1).first_day().pred_opt().expect("a day before")
    }

    /// The months `self` .. `self + count - 1`.
    pub fn range(self, count: i32) -> impl Iterator<Item = Month> {
        (0..count.max(0)).map(move |i| self.plus(i))
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// A member's dues category (numbers match `doan.membership.v1.DuesCategory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Pupils and students.
    Student = 1,
    /// Salaried.
    Salaried = 2,
    /// Without a salary (every member until set).
    Unsalaried = 3,
}

impl Category {
    /// Parses the proto number (naming `field`).
    pub fn parse(field: &'static str, value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::Student),
            2 => Ok(Self::Salaried),
            3 => Ok(Self::Unsalaried),
            _ => Err(AppError::invalid(field, "must be STUDENT, SALARIED or UNSALARIED")),
        }
    }

    /// A stored number (unknown numbers read as unsalaried).
    pub fn from_stored(value: i32) -> Self {
        Self::parse("category", value).unwrap_or(Self::Unsalaried)
    }

    /// The monthly amount under `rule`.
    pub fn monthly(self, rule: &DuesRule) -> i64 {
        match self {
            Self::Student => rule.student_vnd,
            Self::Salaried => rule.salaried_vnd,
            Self::Unsalaried => rule.unsalaried_vnd,
        }
    }
}

/// The most months one payment covers.
pub const MAX_PAYMENT_MONTHS: i32 = 12;

/// How far ahead a member may pay or be exempted, months after the current one.
pub const MAX_MONTHS_AHEAD: i32 = 12;

/// Checks a range of `months` from `first`: 1 to `max`, not before `start` (the member's dues
/// start), ending at most [`MAX_MONTHS_AHEAD`] after `current`.
pub fn check_range(first: Month, months: i32, max: i32, start: Month, current: Month) -> AppResult<()> {
    if !(1..=max).contains(&months) {
        return Err(AppError::invalid("months", format!("must be 1 to {max}")));
    }
    if first < start {
        return Err(AppError::invalid("first_month", format!("must not be before the member's dues start, {start}")));
    }
    if first.plus(months - 1) > current.plus(MAX_MONTHS_AHEAD) {
        return Err(AppError::invalid(
            "first_month",
            format!("the months must end by {}, 12 months after this one", current.plus(MAX_MONTHS_AHEAD)),
        ));
    }
    Ok(())
}

/// What covers a month of a member's ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cover {
    /// A confirmed payment (id, amount paid for this month).
    Paid(String, i64),
    /// A pending payment (id).
    Pending(String),
    /// An exemption.
    Exempt,
}

/// A month's state (numbers match `doan.membership.v1.DuesMonthState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthState {
    /// Nothing due.
    NotDue = 1,
    /// Paid.
    Paid = 2,
    /// A pending payment covers it.
    Pending = 3,
    /// Exempt.
    Exempt = 4,
    /// The current month, unpaid.
    Due = 5,
    /// An ended month, unpaid: arrears.
    Owed = 6,
}

/// The months a member owes dues for: from `start` to `end` (inclusive; `None`: still a
/// member), as seen in `current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuesSpan {
    /// First month due.
    pub start: Month,
    /// Last month due, if the member left.
    pub end: Option<Month>,
    /// The current month.
    pub current: Month,
}

impl DuesSpan {
    /// A member admitted on `admitted_on` whose record entered the system on `recorded_on`
    /// (dues start at the later month), who left on `left_on` (the month before is the last
    /// due), seen on `today`.
    pub fn of(admitted_on: NaiveDate, recorded_on: NaiveDate, left_on: Option<NaiveDate>, today: NaiveDate) -> Self {
        Self {
            start: Month::of(admitted_on).max(Month::of(recorded_on)),
            end: left_on.map(|d| Month::of(d).plus(-1)),
            current: Month::of(today),
        }
    }

    /// The state of `month` covered by `cover`.
    pub fn state(&self, month: Month, cover: Option<&Cover>) -> MonthState {
        match cover {
            Some(Cover::Paid(..)) => MonthState::Paid,
            Some(Cover::Pending(_)) => MonthState::Pending,
            Some(Cover::Exempt) => MonthState::Exempt,
            None if month < self.start || self.end.is_some_and(|e| month > e) || month > self.current => {
                MonthState::NotDue
            }
            None if month == self.current => MonthState::Due,
            None => MonthState::Owed,
        }
    }

    /// Ended months between `from` and `to` (inclusive) that are due: within the span,
    /// before the current month.
    pub fn ended_due_months(&self, from: Month, to: Month) -> impl Iterator<Item = Month> {
        let first = from.max(self.start);
        let mut last = to.min(self.current.plus(-1));
        if let Some(end) = self.end {
            last = last.min(end);
        }
        first.range(first.until(last) + 1)
    }

    /// Owed months between `from` and `to`: ended, due, and not covered in `covers`.
    pub fn owed(&self, from: Month, to: Month, covers: &BTreeMap<Month, Cover>) -> Vec<Month> {
        self.ended_due_months(from, to).filter(|m| !covers.contains_key(m)).collect()
    }
}

/// Which version of the rule prices a month: the one in force on its first day.
pub fn price_day(month: Month) -> NaiveDate {
    month.first_day()
}

/// Splits a unit's money at hand: what it remits upward, what it keeps. The remitted share is
/// rounded down, so the kept share takes the odd đồng and nothing is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// Kept.
    pub kept: i64,
    /// Remitted.
    pub remitted: i64,
}

/// Splits `pool` by `rule`.
pub fn split(pool: i64, rule: &DuesRule) -> Split {
    let remitted = pool * i64::from(rule.remitted_share_thirds) / 3;
    Split { kept: pool - remitted, remitted }
}

/// A remittance period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A month (`YYYY-MM`).
    Month(Month),
    /// A quarter (`YYYY-Qn`).
    Quarter(i32, u32),
    /// A year (`YYYY`).
    Year(i32),
}

impl Period {
    /// Parses `value` in the form of `cadence` (naming `field`).
    pub fn parse(field: &'static str, value: &str, cadence: Cadence) -> AppResult<Self> {
        let value = value.trim();
        let year = |s: &str| s.parse::<i32>().ok().filter(|y| (2000..=2199).contains(y) && s.len() == 4);
        let parsed = match cadence {
            Cadence::Monthly => Month::parse(field, value).ok().map(Self::Month),
            Cadence::Quarterly => value
                .split_once("-Q")
                .and_then(|(y, q)| Some((year(y)?, q.parse::<u32>().ok().filter(|q| (1..=4).contains(q))?)))
                .map(|(y, q)| Self::Quarter(y, q)),
            Cadence::Yearly => year(value).map(Self::Year),
        };
        parsed.ok_or_else(|| {
            let form = match cadence {
                Cadence::Monthly => "a month like 2026-03",
                Cadence::Quarterly => "a quarter like 2026-Q1",
                Cadence::Yearly => "a year like 2026",
            };
            AppError::invalid(field, format!("this unit remits by {cadence:?}: expected {form}").to_lowercase())
        })
    }

    /// First day.
    pub fn first_day(self) -> NaiveDate {
        match self {
            Self::Month(m) => m.first_day(),
            Self::Quarter(y, q) => NaiveDate::from_ymd_opt(y, (q - 1) * 3 + 1, 1).expect("quarter"),
            Self::Year(y) => NaiveDate::from_ymd_opt(y, 1, 1).expect("year"),
        }
    }

    /// Last day.
    pub fn last_day(self) -> NaiveDate {
        match self {
            Self::Month(m) => m.last_day(),
            Self::Quarter(..) => {
                self.first_day().checked_add_months(Months::new(3)).and_then(|d| d.pred_opt()).expect("quarter")
            }
            Self::Year(y) => NaiveDate::from_ymd_opt(y, 12, 31).expect("year"),
        }
    }

    /// The day its remittance is due by `rule`.
    pub fn due_on(self, rule: &DuesRule) -> NaiveDate {
        match self {
            Self::Year(y) => {
                let (m, d) = parse_month_day(&rule.province_remits_by).expect("validated");
                NaiveDate::from_ymd_opt(y, m, d).expect("validated")
            }
            _ => self.last_day() + chrono::Days::new(u64::from(rule.remit_within_days)),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Month(m) => write!(f, "{m}"),
            Self::Quarter(y, q) => write!(f, "{y:04}-Q{q}"),
            Self::Year(y) => write!(f, "{y:04}"),
        }
    }
}

/// How often a unit of `level` remits under `rule`; `None` for the root, which keeps all.
pub fn cadence(level: UnitLevel, rule: &DuesRule) -> Option<Cadence> {
    match level {
        UnitLevel::Central => None,
        UnitLevel::Provincial => Some(Cadence::Yearly),
        UnitLevel::District => Some(rule.district_remits),
        UnitLevel::Grassroots | UnitLevel::GrassrootsBranch => Some(rule.grassroots_remits),
        UnitLevel::Branch => Some(rule.branch_remits),
    }
}

/// The latest period of `cadence` ended by `today` (yearly: the current year, due by the
/// rule's `province_remits_by`), for remittance reminders.
pub fn latest_ended_period(cadence: Cadence, today: NaiveDate) -> Period {
    let current = Month::of(today);
    match cadence {
        Cadence::Monthly => Period::Month(current.plus(-1)),
        Cadence::Quarterly => {
            let prev = current.plus(-((current.month() as i32 - 1) % 3) - 1);
            Period::Quarter(prev.year(), (prev.month() - 1) / 3 + 1)
        }
        Cadence::Yearly => Period::Year(today.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> DuesRule {
        DuesRule {
            unsalaried_vnd: 2000,
            salaried_vnd: 5000,
            student_vnd: 2000,
            kept_share_thirds: 2,
            remitted_share_thirds: 1,
            branch_remits: Cadence::Monthly,
            grassroots_remits: Cadence::Quarterly,
            district_remits: Cadence::Quarterly,
            province_remits_by: "12-30".into(),
            max_exemption_months: 6,
            remit_within_days: 15,
            reminder_day: 5,
        }
    }

    fn m(s: &str) -> Month {
        Month::parse("m", s).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_parse_count_and_print() {
        assert_eq!(m("2026-01").plus(-1).to_string(), "2025-12");
        assert_eq!(m("2026-11").until(m("2027-02")), 3);
        assert_eq!(m("2024-02").last_day(), d("2024-02-29"));
        for bad in ["2026-13", "2026-1", "1999-12", "2026/01", "", "2026-00", "20261-01"] {
            assert!(Month::parse("first_month", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_ledger_knows_due_owed_and_covered_months() {
        let span = DuesSpan::of(d("2026-03-10"), d("2026-01-01"), None, d("2026-06-15"));
        assert_eq!(span.start, m("2026-03"));
        let mut covers = BTreeMap::new();
        covers.insert(m("2026-03"), Cover::Paid("p".into(), 2000));
        covers.insert(m("2026-04"), Cover::Exempt);
        covers.insert(m("2026-05"), Cover::Pending("q".into()));
        assert_eq!(span.state(m("2026-02"), None), MonthState::NotDue);
        assert_eq!(span.state(m("2026-06"), None), MonthState::Due);
        assert_eq!(span.state(m("2026-07"), None), MonthState::NotDue);
        assert_eq!(span.owed(m("2026-01"), m("2026-12"), &covers), Vec::<Month>::new());
        covers.remove(&m("2026-05"));
        assert_eq!(span.owed(m("2026-01"), m("2026-12"), &covers), vec![m("2026-05")]);
        // A member who left in June owes nothing from June on.
        let left = DuesSpan::of(d("2026-03-10"), d("2026-01-01"), Some(d("2026-06-01")), d("2026-09-15"));
        assert_eq!(left.owed(m("2026-01"), m("2026-12"), &covers), vec![m("2026-05")]);
        // A record entered later than the admission starts its dues then.
        let late = DuesSpan::of(d("2019-03-10"), d("2026-05-20"), None, d("2026-09-15"));
        assert_eq!(late.start, m("2026-05"));
    }

    #[test]
    fn periods_follow_the_cadence_of_the_level() {
        let r = rule();
        assert_eq!(cadence(UnitLevel::Branch, &r), Some(Cadence::Monthly));
        assert_eq!(cadence(UnitLevel::GrassrootsBranch, &r), Some(Cadence::Quarterly));
        assert_eq!(cadence(UnitLevel::Provincial, &r), Some(Cadence::Yearly));
        assert_eq!(cadence(UnitLevel::Central, &r), None);
        let q = Period::parse("period", "2026-Q2", Cadence::Quarterly).unwrap();
        assert_eq!((q.first_day(), q.last_day(), q.due_on(&r)), (d("2026-04-01"), d("2026-06-30"), d("2026-07-15")));
        assert_eq!(Period::parse("period", "2026", Cadence::Yearly).unwrap().due_on(&r), d("2026-12-30"));
        assert!(Period::parse("period", "2026-03", Cadence::Quarterly).is_err());
        assert!(Period::parse("period", "2026-Q5", Cadence::Quarterly).is_err());
        assert!(Period::parse("period", "2026-Q1", Cadence::Monthly).is_err());
        assert_eq!(latest_ended_period(Cadence::Quarterly, d("2026-05-02")).to_string(), "2026-Q1");
        assert_eq!(latest_ended_period(Cadence::Quarterly, d("2026-01-02")).to_string(), "2025-Q4");
        assert_eq!(latest_ended_period(Cadence::Monthly, d("2026-01-02")).to_string(), "2025-12");
    }

    /// A small deterministic generator (xorshift), so the property test needs no crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % below
        }
    }

    /// The books of one unit: money at hand, kept shares, remittances sent but not confirmed.
    #[derive(Default, Clone)]
    struct Books {
        at_hand: i64,
        kept: i64,
        in_transit: i64,
    }

    #[test]
    fn what_each_level_keeps_and_remits_adds_up_to_what_was_collected() {
        let r = rule();
        for seed in 1..=200u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            // A random tree: unit 0 is the root; each other unit's parent is an earlier unit.
            let units = 2 + rng.next(30) as usize;
            let parent: Vec<Option<usize>> =
                (0..units).map(|i| if i == 0 { None } else { Some(rng.next(i as u64) as usize) }).collect();
            let mut books = vec![Books::default(); units];
            let mut collected = 0i64;
            for _ in 0..500 {
                let u = rng.next(units as u64) as usize;
                match rng.next(3) {
                    // Members pay: 1 to 12 months of 2,000 or 5,000.
                    0 => {
                        let amount = (1 + rng.next(12) as i64) * if rng.next(2) == 0 { 2000 } else { 5000 };
                        books[u].at_hand += amount;
                        collected += amount;
                    }
                    // The unit remits everything at hand.
                    1 if parent[u].is_some() && books[u].at_hand > 0 => {
                        let s = split(books[u].at_hand, &r);
                        assert!(s.kept >= 0 && s.remitted >= 0 && s.remitted * 3 <= books[u].at_hand);
                        books[u].kept += s.kept;
                        books[u].in_transit += s.remitted;
                        books[u].at_hand = 0;
                    }
                    // The parent confirms what a child sent.
                    _ => {
                        if let Some(p) = parent[u] {
                            let amount = std::mem::take(&mut books[u].in_transit);
                            books[p].at_hand += amount;
                        }
                    }
                }
                let total: i64 = books.iter().map(|b| b.at_hand + b.kept + b.in_transit).sum();
                assert_eq!(total, collected, "seed {seed}: the books must balance after every step");
            }
        }
    }

    #[test]
    fn the_remitted_third_is_rounded_down_and_the_kept_share_takes_the_rest() {
        let r = rule();
        assert_eq!(split(9000, &r), Split { kept: 6000, remitted: 3000 });
        assert_eq!(split(2000, &r), Split { kept: 1334, remitted: 666 });
        assert_eq!(split(1, &r), Split { kept: 1, remitted: 0 });
        assert_eq!(split(0, &r), Split { kept: 0, remitted: 0 });
    }
}
