//! The training programme (rèn luyện đoàn viên): criteria, what backs them, and the branch's
//! verdict. No criterion is met on words alone: it needs evidence or an officer's note.

use doan_platform::AppError;
use doan_platform::error::AppResult;

/// What a criterion asks (numbers match `doan.membership.v1.CriterionKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriterionKind {
    /// Attend `target` activities.
    Participations = 1,
    /// Complete a course.
    Course = 2,
    /// Carry out a task.
    Task = 3,
    /// A commitment in words.
    Commitment = 4,
}

impl CriterionKind {
    /// Parses the proto number (naming `field`).
    pub fn parse(field: &'static str, value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::Participations),
            2 => Ok(Self::Course),
            3 => Ok(Self::Task),
            4 => Ok(Self::Commitment),
            _ => Err(AppError::invalid(field, "must be PARTICIPATIONS, COURSE, TASK or COMMITMENT")),
        }
    }

    /// A stored number.
    pub fn from_stored(value: i32) -> Self {
        Self::parse("kind", value).unwrap_or(Self::Commitment)
    }
}

/// The most criteria in a programme.
pub const MAX_CRITERIA: usize = 30;

/// Checks a criterion's target for its kind: PARTICIPATIONS 1 to 100, others 0.
pub fn check_target(field: &'static str, kind: CriterionKind, target: i32) -> AppResult<()> {
    match kind {
        CriterionKind::Participations if !(1..=100).contains(&target) => {
            Err(AppError::invalid(field, "must be 1 to 100 participations"))
        }
        CriterionKind::Participations => Ok(()),
        _ if target != 0 => Err(AppError::invalid(field, "must be 0 for a criterion that is not PARTICIPATIONS")),
        _ => Ok(()),
    }
}

/// Evidence kinds (numbers match `doan.membership.v1.EvidenceKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// A participation reported by activities.
    Participation = 1,
    /// A document by reference.
    Document = 2,
}

impl EvidenceKind {
    /// Parses the proto number (naming `field`).
    pub fn parse(field: &'static str, value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::Participation),
            2 => Ok(Self::Document),
            _ => Err(AppError::invalid(field, "must be PARTICIPATION or DOCUMENT")),
        }
    }
}

/// Checks that evidence of `kind` may back a criterion of `criterion`.
pub fn check_evidence(kind: EvidenceKind, criterion: CriterionKind) -> AppResult<()> {
    if kind == EvidenceKind::Participation && criterion != CriterionKind::Participations {
        return Err(AppError::invalid("kind", "a participation backs only a PARTICIPATIONS criterion"));
    }
    Ok(())
}

/// What backs a criterion when the branch judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backing {
    /// The criterion's kind.
    pub kind: CriterionKind,
    /// Its target (participations).
    pub target: i32,
    /// Participations linked.
    pub participations: i32,
    /// Documents linked.
    pub documents: i32,
    /// Whether the officer wrote a note with the verdict.
    pub officer_note: bool,
}

/// Whether a criterion may be found met: evidence enough for its kind, or an officer's note.
pub fn may_be_met(b: Backing) -> Result<(), String> {
    if b.officer_note {
        return Ok(());
    }
    let backed = match b.kind {
        CriterionKind::Participations => b.participations >= b.target,
        _ => b.documents > 0 || b.participations > 0,
    };
    if backed {
        Ok(())
    } else if b.kind == CriterionKind::Participations {
        Err(format!(
            "has {} of {} participations linked: link them or write an officer_note",
            b.participations, b.target
        ))
    } else {
        Err("has no evidence: link a document or write an officer_note".into())
    }
}

/// The verdict on a member's year: passed when every required criterion is met.
pub fn passed(required_met: impl IntoIterator<Item = (bool, bool)>) -> bool {
    required_met.into_iter().all(|(required, met)| !required || met)
}

/// The training state (numbers match `doan.membership.v1.TrainingState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingState {
    /// Registered.
    Registered = 1,
    /// Self-assessed.
    SelfAssessed = 2,
    /// Evaluated.
    Evaluated = 3,
}

/// The result (numbers match `doan.membership.v1.TrainingResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingResult {
    /// Not evaluated.
    None = 0,
    /// Passed.
    Passed = 1,
    /// Failed.
    Failed = 2,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backing(kind: CriterionKind, target: i32, participations: i32, documents: i32, note: bool) -> Backing {
        Backing { kind, target, participations, documents, officer_note: note }
    }

    #[test]
    fn no_criterion_is_met_on_words_alone() {
        use CriterionKind::*;
        assert!(may_be_met(backing(Commitment, 0, 0, 0, false)).is_err());
        assert!(may_be_met(backing(Commitment, 0, 0, 1, false)).is_ok());
        assert!(may_be_met(backing(Commitment, 0, 0, 0, true)).is_ok());
        let short = may_be_met(backing(Participations, 4, 3, 5, false)).unwrap_err();
        assert!(short.contains("3 of 4"), "{short}");
        assert!(may_be_met(backing(Participations, 4, 4, 0, false)).is_ok());
        assert!(may_be_met(backing(Course, 0, 0, 0, false)).is_err());
        assert!(may_be_met(backing(Task, 0, 0, 1, false)).is_ok());
    }

    #[test]
    fn targets_and_evidence_fit_the_kind() {
        assert!(check_target("t", CriterionKind::Participations, 0).is_err());
        assert!(check_target("t", CriterionKind::Participations, 101).is_err());
        assert!(check_target("t", CriterionKind::Participations, 6).is_ok());
        assert!(check_target("t", CriterionKind::Course, 1).is_err());
        assert!(check_evidence(EvidenceKind::Participation, CriterionKind::Course).is_err());
        assert!(check_evidence(EvidenceKind::Document, CriterionKind::Participations).is_ok());
    }

    #[test]
    fn a_year_passes_when_every_required_criterion_is_met() {
        assert!(passed([(true, true), (false, false)]));
        assert!(!passed([(true, true), (true, false)]));
        assert!(passed([]));
    }
}
