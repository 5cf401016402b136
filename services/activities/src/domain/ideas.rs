//! The ideas bank: how an idea moves from submitted to adopted or declined. No I/O.

use doan_platform::AppError;
use doan_platform::error::AppResult;

/// Where an idea stands (numbers match `doan.activities.v1.IdeaState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdeaState {
    /// Submitted.
    Submitted = 1,
    /// Shortlisted.
    Shortlisted = 2,
    /// Adopted.
    Adopted = 3,
    /// Declined.
    Declined = 4,
}

impl IdeaState {
    /// The stored number's state.
    pub fn of(stored: i32) -> Self {
        match stored {
            2 => Self::Shortlisted,
            3 => Self::Adopted,
            4 => Self::Declined,
            _ => Self::Submitted,
        }
    }

    /// A list filter: 0 for every state.
    pub fn filter(value: i32) -> AppResult<Option<Self>> {
        match value {
            0 => Ok(None),
            1..=4 => Ok(Some(Self::of(value))),
            _ => Err(AppError::invalid("state", "is not an IdeaState")),
        }
    }

    /// The state after a reviewer's decision (IdeaDecision number): shortlist a submitted
    /// idea; adopt or decline a submitted or shortlisted one.
    pub fn after(self, decision: i32) -> AppResult<Self> {
        let next = match decision {
            1 => Self::Shortlisted,
            2 => Self::Adopted,
            3 => Self::Declined,
            _ => return Err(AppError::invalid("decision", "must be SHORTLIST, ADOPT or DECLINE")),
        };
        let allowed = match next {
            Self::Shortlisted => self == Self::Submitted,
            _ => matches!(self, Self::Submitted | Self::Shortlisted),
        };
        if !allowed {
            return Err(AppError::FailedPrecondition(format!("an idea in state {self:?} cannot become {next:?}")));
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::IdeaState::*;

    #[test]
    fn ideas_move_forward() {
        assert_eq!(Submitted.after(1).unwrap(), Shortlisted);
        assert_eq!(Shortlisted.after(2).unwrap(), Adopted);
        assert_eq!(Submitted.after(3).unwrap(), Declined);
        assert!(Shortlisted.after(1).is_err());
        assert!(Adopted.after(3).is_err() && Declined.after(2).is_err());
        assert!(Submitted.after(0).is_err());
    }
}
