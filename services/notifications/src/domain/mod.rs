//! What each event says to the member. No I/O.

use doan_proto::events::{AwardGranted, MemberAdmitted, ParticipationRecorded};

/// Kind numbers (`doan.notifications.v1.NotificationKind`).
pub mod kind {
    /// Welcome after admission.
    pub const WELCOME: i32 = 1;
    /// Check-in confirmed.
    pub const CHECK_IN_CONFIRMED: i32 = 2;
    /// Award granted.
    pub const AWARD_GRANTED: i32 = 3;
}

/// A notice to write into one member's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Recipient.
    pub member_id: String,
    /// Kind number.
    pub kind: i32,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}

/// Welcome a new member.
pub fn welcome(e: &MemberAdmitted) -> Notice {
    Notice {
        member_id: e.member_id.clone(),
        kind: kind::WELCOME,
        title: "Chào mừng đoàn viên mới".into(),
        body: format!(
            "Chúc mừng {} đã được kết nạp vào Đoàn TNCS Hồ Chí Minh ngày {}. Số thẻ đoàn viên của bạn: {}.",
            e.full_name, e.admitted_on, e.member_number
        ),
    }
}

/// Confirm a check-in.
pub fn check_in_confirmed(e: &ParticipationRecorded) -> Notice {
    Notice {
        member_id: e.member_id.clone(),
        kind: kind::CHECK_IN_CONFIRMED,
        title: "Đã ghi nhận tham gia".into(),
        body: format!("Bạn đã điểm danh hoạt động \"{}\" (+{} điểm thi đua).", e.activity_title, e.points),
    }
}

/// Announce an individual award; collective awards have no single member to tell.
pub fn award_granted(e: &AwardGranted) -> Option<Notice> {
    if e.member_id.is_empty() {
        return None;
    }
    let form = match e.form {
        1 => "Cờ thi đua",
        2 => "Bằng khen",
        3 => "Giấy khen",
        _ => "Khen thưởng",
    };
    Some(Notice {
        member_id: e.member_id.clone(),
        kind: kind::AWARD_GRANTED,
        title: format!("Bạn được tặng {form}"),
        body: format!("Quyết định số {} ngày {}: {}", e.decision_number, e.decision_date, e.content),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collective_awards_notify_nobody() {
        let e = AwardGranted { unit_id: "u".into(), form: 1, ..Default::default() };
        assert!(award_granted(&e).is_none());
        let e =
            AwardGranted {
                member_id: "m".into(), form: 2, decision_number: "12-QĐ/TĐTN".into(), ..Default::default()
            };
        let n = award_granted(&e).unwrap();
        assert_eq!(n.title, "Bạn được tặng Bằng khen");
        assert!(n.body.contains("12-QĐ/TĐTN"));
    }
}
