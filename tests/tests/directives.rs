//! Broadcasts end to end, through the gateway, in both modes: a province sends a directive to
//! all its branch secretaries (a role audience resolved from membership's positions); some
//! acknowledge, some only read, one does nothing; the completion view counts them by unit;
//! before the deadline the others are reminded, at the deadline their secretaries hear of it.
//! Announcements are scheduled and revoked (gone from inboxes, never sent), and a meeting
//! invitation collects answers and attendance.

use std::time::Duration;

use chrono::{DateTime, Utc};
use doan_platform::clock::Clock;
use doan_platform::convert::timestamp;
use doan_proto::activities as act;
use doan_proto::membership as mem;
use doan_proto::notifications as notif;
use doan_tests::client::{Gateway, authed, create_unit, member_login};
use doan_tests::{ADMIN_PASSWORD, TestPlatform, base_settings, eventually, real_servers};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

const WAIT: Duration = Duration::from_secs(30);

/// Appoints an officer holding `kind` in `unit` and logs them in.
async fn appoint(gw: &Gateway, admin: &str, unit: &str, username: &str, name: &str, kind: mem::PositionKind) -> String {
    gw.membership
        .clone()
        .appoint_officer(authed(
            admin,
            mem::AppointOfficerRequest {
                unit_id: unit.into(),
                username: username.into(),
                full_name: name.into(),
                password: "officer-password-1".into(),
                kind: kind as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap_or_else(|s| panic!("appoint {username}: {s:?}"));
    gw.login(username, "officer-password-1").await.expect("officer logs in")
}

async fn inbox(gw: &Gateway, token: &str) -> Vec<notif::Notification> {
    gw.notifications
        .clone()
        .list_notifications(authed(token, notif::ListNotificationsRequest { page_size: 200, ..Default::default() }))
        .await
        .expect("inbox")
        .into_inner()
        .notifications
}

/// Waits until `token`'s inbox holds a notice of `kind` for `broadcast`, and returns it.
async fn notice(gw: &Gateway, token: &str, broadcast: &str, kind: notif::NotificationKind) -> notif::Notification {
    eventually(&format!("a {kind:?} notice of {broadcast}"), WAIT, || async {
        inbox(gw, token).await.into_iter().find(|n| n.broadcast_id == broadcast && n.kind == kind as i32)
    })
    .await
}

async fn get(gw: &Gateway, token: &str, id: &str) -> notif::Broadcast {
    gw.notifications
        .clone()
        .get_broadcast(authed(token, notif::GetBroadcastRequest { broadcast_id: id.into() }))
        .await
        .expect("get broadcast")
        .into_inner()
        .broadcast
        .expect("broadcast")
}

async fn wait_status(gw: &Gateway, token: &str, id: &str, status: notif::BroadcastStatus) -> notif::Broadcast {
    eventually(&format!("broadcast {id} {status:?}"), WAIT, || async {
        let b = get(gw, token, id).await;
        (b.status == status as i32).then_some(b)
    })
    .await
}

async fn create(gw: &Gateway, token: &str, r: notif::CreateBroadcastRequest) -> notif::Broadcast {
    gw.notifications
        .clone()
        .create_broadcast(authed(token, r))
        .await
        .expect("create broadcast")
        .into_inner()
        .broadcast
        .expect("broadcast")
}

fn audience(target: notif::audience::Target) -> Option<notif::Audience> {
    Some(notif::Audience { target: Some(target) })
}

async fn completion(gw: &Gateway, token: &str, id: &str, unit: &str) -> notif::GetBroadcastCompletionResponse {
    gw.notifications
        .clone()
        .get_broadcast_completion(authed(
            token,
            notif::GetBroadcastCompletionRequest { broadcast_id: id.into(), unit_id: unit.into() },
        ))
        .await
        .expect("completion")
        .into_inner()
}

fn counts(c: &notif::UnitCompletion) -> [i64; 4] {
    [c.recipients, c.acknowledged, c.read, c.not_read]
}

async fn flow(tp: &TestPlatform, clock: Clock) {
    use mem::PositionKind::{ExecutiveCommitteeMember, Secretary};
    use mem::UnitLevel::*;
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Bắc Ninh", Provincial).await;
    let district = create_unit(&gw, &admin, &province, "Huyện đoàn Tiên Du", District).await;
    let school = create_unit(&gw, &admin, &district, "Đoàn trường THPT Tiên Du 1", Grassroots).await;
    let b1 = create_unit(&gw, &admin, &school, "Chi đoàn 10A1", Branch).await;
    let b2 = create_unit(&gw, &admin, &school, "Chi đoàn 10A2", Branch).await;
    let b3 = create_unit(&gw, &admin, &school, "Chi đoàn 10A3", Branch).await;
    let other = create_unit(&gw, &admin, &root, "Tỉnh đoàn Lạng Sơn", Provincial).await;
    let other_branch = create_unit(&gw, &admin, &other, "Chi đoàn Khối cơ quan", Branch).await;

    let sender = appoint(&gw, &admin, &province, "bn.bithu", "Nguyễn Văn Tỉnh", Secretary).await;
    let principal = appoint(&gw, &admin, &school, "td1.bithu", "Lê Thị Trường", Secretary).await;
    let s1 = appoint(&gw, &admin, &b1, "a1.bithu", "Phạm Văn Một", Secretary).await;
    let s2 = appoint(&gw, &admin, &b2, "a2.bithu", "Đỗ Thị Hai", Secretary).await;
    let s3 = appoint(&gw, &admin, &b3, "a3.bithu", "Vũ Văn Ba", Secretary).await;
    let committee = appoint(&gw, &admin, &b1, "a1.uyvien", "Hoàng Thị Ủy", ExecutiveCommitteeMember).await;
    let outside = appoint(&gw, &admin, &other_branch, "ls.bithu", "Bế Văn Ngoài", Secretary).await;
    let (member, member_token) = member_login(&gw, &sender, &b1, 1).await;

    // Notifications knows the seven positions (membership's PositionChanged events).
    let db = tp.database("notifications").await.unwrap();
    eventually("the positions in notifications' read model", WAIT, || async {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM positions"))
            .await
            .ok()??;
        (row.try_get::<i64>("", "n").ok()? == 7).then_some(())
    })
    .await;

    // The directive: to every branch secretary of the province, acknowledged within 2 days.
    let t0: DateTime<Utc> = clock.now();
    let deadline = t0 + chrono::Duration::days(2);
    let sent = create(
        &gw,
        &sender,
        notif::CreateBroadcastRequest {
            unit_id: province.clone(),
            kind: notif::BroadcastKind::Directive as i32,
            title: "Triển khai Tháng Thanh niên năm 2027".into(),
            body: "Đề nghị các chi đoàn tổ chức sinh hoạt chủ điểm và báo cáo kết quả.".into(),
            audience: audience(notif::audience::Target::Role(notif::RoleAudience {
                unit_id: province.clone(),
                position_kind: Secretary as i32,
                unit_level: Branch as i32,
            })),
            deadline: Some(timestamp(deadline)),
            acknowledgement_required: true,
            documents: vec![notif::DocumentReference {
                number: "125-CV/TĐTN".into(),
                title: "Hướng dẫn Tháng Thanh niên".into(),
                url: "https://doanthanhnien.vn/van-ban/125".into(),
            }],
            request_id: "directive-1".into(),
            ..Default::default()
        },
    )
    .await;
    let id = sent.broadcast_id.clone();
    // A repeated request (the app retried) returns the same broadcast.
    let again = create(
        &gw,
        &sender,
        notif::CreateBroadcastRequest {
            unit_id: province.clone(),
            kind: notif::BroadcastKind::Directive as i32,
            title: "x".into(),
            body: "x".into(),
            request_id: "directive-1".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(again.broadcast_id, id, "idempotent by request_id");
    let b = wait_status(&gw, &sender, &id, notif::BroadcastStatus::Sent).await;
    assert_eq!(b.statistics.as_ref().unwrap().recipients, 3, "the three branch secretaries, nobody else");
    // Two recipients a chunk (the settings below): two chunks, written side by side on
    // PostgreSQL, one notice each recipient.
    let count = |sql: String| {
        let db = db.clone();
        async move {
            let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) AS n FROM broadcast_chunks WHERE broadcast_id = '{id}' AND written_at IS NOT NULL"
        ))
        .await,
        2,
        "both chunks written"
    );
    assert_eq!(
        count(format!("SELECT COUNT(*) AS n FROM notifications WHERE broadcast_id = '{id}'")).await,
        3,
        "one notice per recipient"
    );
    resumes_a_broadcast_from_before_chunks(&gw, &sender, &province, &db).await;

    for token in [&s1, &s2, &s3] {
        let n = notice(&gw, token, &id, notif::NotificationKind::Directive).await;
        assert!(n.acknowledgement_required && n.acknowledged_at.is_none());
        assert_eq!(n.documents.len(), 1);
        assert_eq!(n.deadline, Some(timestamp(deadline)));
        assert_eq!(n.category, notif::NoticeCategory::Directives as i32);
    }
    for token in [&committee, &principal, &outside, &member_token] {
        assert!(inbox(&gw, token).await.iter().all(|n| n.broadcast_id != id), "not a branch secretary of the province");
    }

    // One acknowledges, one reads, one does nothing.
    let acked = gw
        .notifications
        .clone()
        .acknowledge_broadcast(authed(&s1, notif::AcknowledgeBroadcastRequest { broadcast_id: id.clone() }))
        .await
        .expect("acknowledge")
        .into_inner()
        .notification
        .expect("notice");
    assert!(acked.acknowledged_at.is_some());
    let n2 = notice(&gw, &s2, &id, notif::NotificationKind::Directive).await;
    gw.notifications
        .clone()
        .mark_notification_read(authed(&s2, notif::MarkNotificationReadRequest { notification_id: n2.notification_id }))
        .await
        .expect("read");
    // Someone who did not receive it cannot acknowledge it.
    let refused = gw
        .notifications
        .clone()
        .acknowledge_broadcast(authed(&committee, notif::AcknowledgeBroadcastRequest { broadcast_id: id.clone() }))
        .await
        .expect_err("not a recipient");
    assert_eq!(refused.code(), Code::NotFound);

    // The completion view: by district under the province, by branch under the school.
    let view = completion(&gw, &sender, &id, "").await;
    assert_eq!(counts(view.total.as_ref().unwrap()), [3, 1, 1, 1]);
    assert_eq!(view.units.len(), 1);
    assert_eq!(view.units[0].unit_id, district);
    let view = completion(&gw, &sender, &id, &school).await;
    let by_branch: Vec<(String, [i64; 4])> = view.units.iter().map(|u| (u.unit_id.clone(), counts(u))).collect();
    assert_eq!(by_branch, vec![(b1.clone(), [1, 1, 0, 0]), (b2.clone(), [1, 0, 1, 0]), (b3.clone(), [1, 0, 0, 1])]);
    let not_read = gw
        .notifications
        .clone()
        .list_broadcast_recipients(authed(
            &sender,
            notif::ListBroadcastRecipientsRequest {
                broadcast_id: id.clone(),
                state: notif::RecipientState::NotRead as i32,
                ..Default::default()
            },
        ))
        .await
        .expect("recipients")
        .into_inner()
        .recipients;
    assert_eq!(not_read.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Vũ Văn Ba"]);
    // An officer outside the province sees nothing of it.
    let hidden = gw
        .notifications
        .clone()
        .get_broadcast_completion(authed(
            &outside,
            notif::GetBroadcastCompletionRequest { broadcast_id: id.clone(), unit_id: String::new() },
        ))
        .await
        .expect_err("outside");
    assert_eq!(hidden.code(), Code::NotFound);

    announcements_and_meetings(&gw, &clock, &sender, &b1, &member, &member_token).await;
    clusters_and_teams(&gw, &sender, &school, [&b1, &b2, &b3], &member_token).await;

    // 23 hours before the deadline: the two who did not acknowledge are reminded.
    clock.set(deadline - chrono::Duration::hours(23));
    for token in [&s2, &s3] {
        notice(&gw, token, &id, notif::NotificationKind::DirectiveReminder).await;
    }
    assert!(
        inbox(&gw, &s1).await.iter().all(|n| n.kind != notif::NotificationKind::DirectiveReminder as i32),
        "who acknowledged is not reminded"
    );
    assert!(get(&gw, &sender, &id).await.reminded_at.is_some());

    // At the deadline, the school's secretary hears of both.
    clock.set(deadline + chrono::Duration::minutes(1));
    let escalation = notice(&gw, &principal, &id, notif::NotificationKind::Escalation).await;
    assert!(escalation.body.contains("Đỗ Thị Hai") && escalation.body.contains("Vũ Văn Ba"), "{}", escalation.body);
    assert!(!escalation.body.contains("Phạm Văn Một"));
    let b = wait_status(&gw, &sender, &id, notif::BroadcastStatus::Sent).await;
    assert!(b.escalated_at.is_some());
    let s = b.statistics.unwrap();
    assert_eq!((s.recipients, s.read, s.acknowledged), (3, 2, 1));

    // A late acknowledgement still counts.
    gw.notifications
        .clone()
        .acknowledge_broadcast(authed(&s3, notif::AcknowledgeBroadcastRequest { broadcast_id: id.clone() }))
        .await
        .expect("late acknowledgement");
    assert_eq!(counts(completion(&gw, &sender, &id, "").await.total.as_ref().unwrap()), [3, 2, 1, 0]);
}

/// Creates `r` once notifications knows the group it names (NOT_FOUND until then).
async fn send_when_known(gw: &Gateway, sender: &str, r: notif::CreateBroadcastRequest) -> String {
    eventually("notifications learns the group", WAIT, || {
        let r = r.clone();
        async move { gw.notifications.clone().create_broadcast(authed(sender, r)).await.ok() }
    })
    .await
    .into_inner()
    .broadcast
    .expect("broadcast")
    .broadcast_id
}

/// A cluster's and a team's members, as membership's and activities' events describe them.
async fn clusters_and_teams(gw: &Gateway, sender: &str, school: &str, branches: [&str; 3], first: &str) {
    let (second, second_token) = member_login(gw, sender, branches[1], 2).await;
    let cluster = gw
        .membership
        .clone()
        .create_cluster(authed(
            sender,
            mem::CreateClusterRequest {
                unit_id: school.into(),
                name: "Cụm chi đoàn lớp A1–A3".into(),
                unit_ids: vec![branches[0].to_string(), branches[2].to_string()],
            },
        ))
        .await
        .expect("cluster")
        .into_inner()
        .cluster
        .expect("cluster")
        .cluster_id;
    let year = chrono::Datelike::year(&Utc::now());
    let movement = eventually("activities learns the school", WAIT, || async {
        gw.activities
            .clone()
            .create_movement(authed(
                sender,
                act::CreateMovementRequest {
                    unit_id: school.into(),
                    name: "Tuổi trẻ sáng tạo".into(),
                    description: String::new(),
                },
            ))
            .await
            .ok()
            .map(tonic::Response::into_inner)
    })
    .await
    .movement
    .expect("movement")
    .movement_id;
    let campaign = gw
        .activities
        .clone()
        .create_campaign(authed(
            sender,
            act::CreateCampaignRequest {
                unit_id: school.into(),
                movement_id: movement,
                name: "Chiến dịch Mùa hè xanh".into(),
                year,
                starts_on: format!("{year}-01-01"),
                ends_on: format!("{year}-12-31"),
                ..Default::default()
            },
        ))
        .await
        .expect("campaign")
        .into_inner()
        .campaign
        .expect("campaign")
        .campaign_id;
    let team = eventually("activities learns the second member", WAIT, || async {
        gw.activities
            .clone()
            .create_team(authed(
                sender,
                act::CreateTeamRequest {
                    campaign_id: campaign.clone(),
                    unit_id: school.into(),
                    name: "Đội hình tình nguyện".into(),
                    leader_member_id: second.clone(),
                    member_ids: vec![second.clone()],
                    formed_on: String::new(),
                },
            ))
            .await
            .ok()
            .map(tonic::Response::into_inner)
    })
    .await
    .team
    .expect("team")
    .team_id;
    // Sent as soon as notifications knows the cluster and the team (NOT_FOUND until then).
    let to = |target: notif::audience::Target, title: &str| notif::CreateBroadcastRequest {
        unit_id: school.into(),
        kind: notif::BroadcastKind::Announcement as i32,
        title: title.into(),
        body: "Nội dung".into(),
        audience: audience(target),
        ..Default::default()
    };
    let to_cluster = send_when_known(gw, sender, to(notif::audience::Target::ClusterId(cluster), "Gửi cụm")).await;
    let to_team = send_when_known(gw, sender, to(notif::audience::Target::TeamId(team), "Gửi đội hình")).await;
    notice(gw, first, &to_cluster, notif::NotificationKind::Announcement).await;
    notice(gw, &second_token, &to_team, notif::NotificationKind::Announcement).await;
    let b = wait_status(gw, sender, &to_cluster, notif::BroadcastStatus::Sent).await;
    assert_eq!(b.statistics.unwrap().recipients, 1, "the cluster holds branches 1 and 3, not the second member's");
    let b = wait_status(gw, sender, &to_team, notif::BroadcastStatus::Sent).await;
    assert_eq!(b.statistics.unwrap().recipients, 1, "the team holds the second member only");
    assert!(inbox(gw, &second_token).await.iter().all(|n| n.broadcast_id != to_cluster));
    assert!(inbox(gw, first).await.iter().all(|n| n.broadcast_id != to_team));
}

/// A broadcast a sender from before chunks left half-written (resolved, its cursor at the first
/// recipient, no chunks) is taken over: the recipients after the cursor are split into chunks and
/// written, each once.
async fn resumes_a_broadcast_from_before_chunks(
    gw: &Gateway,
    sender: &str,
    province: &str,
    db: &sea_orm::DatabaseConnection,
) {
    let sent = create(
        gw,
        sender,
        notif::CreateBroadcastRequest {
            unit_id: province.into(),
            kind: notif::BroadcastKind::Announcement as i32,
            title: "Lịch giao ban quý".into(),
            body: "Giao ban bí thư chi đoàn quý IV.".into(),
            audience: audience(notif::audience::Target::Role(notif::RoleAudience {
                unit_id: province.into(),
                position_kind: mem::PositionKind::Secretary as i32,
                unit_level: mem::UnitLevel::Branch as i32,
            })),
            ..Default::default()
        },
    )
    .await;
    let id = sent.broadcast_id;
    wait_status(gw, sender, &id, notif::BroadcastStatus::Sent).await;
    let exec = |sql: &str, values: Vec<sea_orm::Value>| {
        let st = doan_platform::db::statement(db, sql, values);
        async move { db.execute_raw(st).await.expect("rewind the broadcast") }
    };
    let count = |sql: &str| {
        let st = doan_platform::db::statement(db, sql, vec![id.clone().into()]);
        async move { db.query_one_raw(st).await.unwrap().unwrap().try_get::<i64>("", "n").unwrap() }
    };
    let first: String = db
        .query_one_raw(doan_platform::db::statement(
            db,
            "SELECT MIN(recipient_id) AS r FROM broadcast_recipients WHERE broadcast_id = $1",
            vec![id.clone().into()],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "r")
        .unwrap();
    exec(
        "DELETE FROM notifications WHERE broadcast_id = $1 AND member_id <> $2",
        vec![id.clone().into(), first.clone().into()],
    )
    .await;
    exec("DELETE FROM broadcast_chunks WHERE broadcast_id = $1", vec![id.clone().into()]).await;
    assert_eq!(count("SELECT COUNT(*) AS n FROM notifications WHERE broadcast_id = $1").await, 1);
    let long_ago = chrono::DateTime::<Utc>::from_timestamp(946_684_800, 0).unwrap();
    exec(
        "UPDATE broadcasts SET status = 2, sent_at = NULL, fanout_cursor = $1, lease_until = $2 WHERE broadcast_id = $3",
        vec![first.into(), long_ago.into(), id.clone().into()],
    )
    .await;
    wait_status(gw, sender, &id, notif::BroadcastStatus::Sent).await;
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM notifications WHERE broadcast_id = $1").await,
        3,
        "each recipient once"
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM broadcast_chunks WHERE broadcast_id = $1 AND written_at IS NOT NULL").await,
        1,
        "the two recipients after the cursor, in one chunk"
    );
}

/// Announcements scheduled and revoked; a meeting invitation with answers and attendance.
async fn announcements_and_meetings(
    gw: &Gateway,
    clock: &Clock,
    sender: &str,
    branch: &str,
    member: &str,
    member_token: &str,
) {
    let now = clock.now();
    let to_branch = || audience(notif::audience::Target::UnitId(branch.to_string()));
    // Scheduled in an hour, revoked first: never sent.
    let later = create(
        gw,
        sender,
        notif::CreateBroadcastRequest {
            kind: notif::BroadcastKind::Announcement as i32,
            title: "Lịch sinh hoạt tháng".into(),
            body: "Sinh hoạt chi đoàn vào tối thứ Sáu.".into(),
            audience: to_branch(),
            send_at: Some(timestamp(now + chrono::Duration::hours(1))),
            unit_id: branch.into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(later.status, notif::BroadcastStatus::Scheduled as i32);
    let revoked = gw
        .notifications
        .clone()
        .revoke_broadcast(authed(
            sender,
            notif::RevokeBroadcastRequest { broadcast_id: later.broadcast_id.clone(), reason: "Đổi lịch".into() },
        ))
        .await
        .expect("revoke")
        .into_inner()
        .broadcast
        .unwrap();
    assert_eq!(revoked.status, notif::BroadcastStatus::Revoked as i32);

    // Sent now, then revoked: it leaves the inbox.
    let now_sent = create(
        gw,
        sender,
        notif::CreateBroadcastRequest {
            kind: notif::BroadcastKind::Announcement as i32,
            title: "Thông báo nhầm".into(),
            body: "Nội dung gửi nhầm.".into(),
            audience: audience(notif::audience::Target::MemberId(member.to_string())),
            ..Default::default()
        },
    )
    .await;
    notice(gw, member_token, &now_sent.broadcast_id, notif::NotificationKind::Announcement).await;
    wait_status(gw, sender, &now_sent.broadcast_id, notif::BroadcastStatus::Sent).await;
    gw.notifications
        .clone()
        .revoke_broadcast(authed(
            sender,
            notif::RevokeBroadcastRequest {
                broadcast_id: now_sent.broadcast_id.clone(), reason: "Gửi nhầm".into()
            },
        ))
        .await
        .expect("revoke sent");
    assert!(
        inbox(gw, member_token).await.iter().all(|n| n.broadcast_id != now_sent.broadcast_id),
        "withdrawn from the inbox"
    );

    // A meeting in two hours.
    let starts = now + chrono::Duration::hours(2);
    let meeting = create(
        gw,
        sender,
        notif::CreateBroadcastRequest {
            kind: notif::BroadcastKind::Meeting as i32,
            title: "Đại hội Chi đoàn nhiệm kỳ 2026-2027".into(),
            body: "Kính mời đồng chí dự Đại hội.".into(),
            audience: to_branch(),
            unit_id: branch.into(),
            meeting: Some(notif::Meeting {
                starts_at: Some(timestamp(starts)),
                ends_at: Some(timestamp(starts + chrono::Duration::hours(3))),
                location: "Phòng họp tầng 2".into(),
            }),
            ..Default::default()
        },
    )
    .await;
    let invitation = notice(gw, member_token, &meeting.broadcast_id, notif::NotificationKind::MeetingInvitation).await;
    assert_eq!(invitation.meeting.as_ref().unwrap().location, "Phòng họp tầng 2");
    let answered = gw
        .notifications
        .clone()
        .respond_to_meeting(authed(
            member_token,
            notif::RespondToMeetingRequest {
                broadcast_id: meeting.broadcast_id.clone(),
                response: notif::MeetingResponse::Attending as i32,
            },
        ))
        .await
        .expect("rsvp")
        .into_inner()
        .notification
        .unwrap();
    assert_eq!(answered.meeting_response, notif::MeetingResponse::Attending as i32);
    let record = |attended: bool| {
        let mut client = gw.notifications.clone();
        let request = authed(
            sender,
            notif::RecordMeetingAttendanceRequest {
                broadcast_id: meeting.broadcast_id.clone(),
                recipient_ids: vec![member.to_string()],
                attended,
            },
        );
        async move { client.record_meeting_attendance(request).await }
    };
    assert_eq!(record(true).await.expect_err("before it starts").code(), Code::FailedPrecondition);
    clock.set(starts + chrono::Duration::minutes(5));
    assert_eq!(record(true).await.expect("attendance").into_inner().updated, 1);
    let s = get(gw, sender, &meeting.broadcast_id).await.statistics.unwrap();
    assert_eq!((s.recipients, s.attending, s.attended), (1, 1, 1));
    let late = gw
        .notifications
        .clone()
        .respond_to_meeting(authed(
            member_token,
            notif::RespondToMeetingRequest {
                broadcast_id: meeting.broadcast_id.clone(),
                response: notif::MeetingResponse::NotAttending as i32,
            },
        ))
        .await
        .expect_err("answers close when it starts");
    assert_eq!(late.code(), Code::FailedPrecondition);

    // The revoked schedule never went out, though its time has passed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        inbox(gw, member_token).await.iter().all(|n| n.broadcast_id != later.broadcast_id),
        "a revoked schedule is never sent"
    );
}

fn start_clock() -> Clock {
    let today = doan_platform::clock::vietnam_date(Utc::now());
    Clock::fixed(doan_platform::clock::vietnam_day_start(today) + chrono::Duration::hours(9))
}

fn settings(s: &mut doan_platform::config::Settings) {
    s.broadcasts.watch_every_secs = 1;
    // Every broadcast of more than two recipients goes out in several chunks.
    s.broadcasts.fanout_chunk = 2;
    // Tokens outlive the days the clock is moved forward.
    s.auth.token_ttl_secs = 7 * 24 * 3600;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directive_to_every_branch_secretary_is_acknowledged_reminded_and_escalated_embedded() {
    let clock = start_clock();
    let mut s = base_settings();
    settings(&mut s);
    let tp = TestPlatform::embedded_at(s, &[], clock.clone()).await.expect("start");
    flow(&tp, clock).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directive_to_every_branch_secretary_is_acknowledged_reminded_and_escalated_on_the_real_servers() {
    let Some(urls) = real_servers(
        "a_directive_to_every_branch_secretary_is_acknowledged_reminded_and_escalated_on_the_real_servers",
    )
    .await
    else {
        return;
    };
    let clock = start_clock();
    let tp = TestPlatform::servers_at(urls, clock.clone(), settings).await.expect("start");
    flow(&tp, clock).await;
    tp.stop().await.expect("stop");
}
