//! Transfers (chuyển sinh hoạt): who may do what to which member of a transfer, and when a
//! member's part is over.

use doan_platform::AppError;
use doan_platform::error::AppResult;

/// A member's part of a transfer (numbers match `doan.membership.v1.TransferItemState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Waiting for the sending side.
    Requested = 1,
    /// Waiting for the receiving side.
    Released = 2,
    /// Placed.
    Accepted = 3,
    /// Refused.
    Refused = 4,
    /// Past the expiry unfinished.
    Expired = 5,
    /// Released out of the system.
    TransferredOut = 6,
}

impl ItemState {
    /// A stored number; an unfinished item past `expired` reads as expired.
    pub fn from_stored(value: i32, expired: bool) -> Self {
        let state = match value {
            2 => Self::Released,
            3 => Self::Accepted,
            4 => Self::Refused,
            5 => Self::Expired,
            6 => Self::TransferredOut,
            _ => Self::Requested,
        };
        if expired && !state.is_final() { Self::Expired } else { state }
    }

    /// Nothing more happens to a final item.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Requested | Self::Released)
    }
}

/// Who acts on a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Officers over the member's unit.
    Sender,
    /// Officers over the receiving unit.
    Receiver,
}

/// What a side may do to an item in `state`.
pub fn check(action: Action, side: Side, state: ItemState, member_id: &str) -> AppResult<()> {
    let allowed = match (action, side) {
        (Action::Release, Side::Sender) => state == ItemState::Requested,
        (Action::Accept, Side::Receiver) => state == ItemState::Released,
        (Action::Refuse, Side::Sender) => state == ItemState::Requested,
        (Action::Refuse, Side::Receiver) => matches!(state, ItemState::Requested | ItemState::Released),
        _ => false,
    };
    if allowed {
        return Ok(());
    }
    Err(AppError::FailedPrecondition(match state {
        ItemState::Expired => format!("the transfer of member {member_id} expired"),
        s if s.is_final() => format!("the transfer of member {member_id} is already {s:?}"),
        s => format!("the {side:?} side cannot {action:?} member {member_id} while the transfer is {s:?}"),
    }))
}

/// An action on items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Dues settled, released.
    Release,
    /// Placed in a branch.
    Accept,
    /// Refused.
    Refuse,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_acts_in_its_turn() {
        use ItemState::*;
        assert!(check(Action::Release, Side::Sender, Requested, "m").is_ok());
        assert!(check(Action::Release, Side::Receiver, Requested, "m").is_err());
        assert!(check(Action::Accept, Side::Receiver, Requested, "m").is_err(), "dues first");
        assert!(check(Action::Accept, Side::Receiver, Released, "m").is_ok());
        assert!(check(Action::Refuse, Side::Sender, Released, "m").is_err(), "released is the receiver's");
        assert!(check(Action::Refuse, Side::Receiver, Released, "m").is_ok());
        let expired = check(Action::Accept, Side::Receiver, Expired, "m").unwrap_err().to_string();
        assert!(expired.contains("expired"), "{expired}");
        assert_eq!(ItemState::from_stored(2, true), Expired);
        assert_eq!(ItemState::from_stored(3, true), Accepted, "finished before the expiry");
    }
}
