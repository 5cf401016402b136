//! Finding members and proving membership, through the gateway in both modes: search without
//! diacritics, exact search by phone and citizen ID (audited), filters and pages; duplicate
//! detection on admission; the signed member card verified offline with the published keys,
//! and the revocation list.

use base64::Engine;
use chrono::{Days, Utc};
use doan_platform::card::CardKeys;
use doan_proto::membership as mem;
use doan_proto::membership::UnitLevel::*;
use doan_tests::TestPlatform;
use doan_tests::client::{Gateway, admission, authed, create_unit, officer};
use doan_tests::effects::counts;
use doan_tests::real_servers;
use tonic::Code;

fn person(branch: &str, n: u32, name: &str, years: u64, sex: mem::Sex) -> mem::AdmitMemberRequest {
    let mut r = admission(branch, n);
    r.full_name = name.into();
    r.date_of_birth =
        Utc::now().date_naive().checked_sub_days(Days::new(years * 366)).unwrap().format("%Y-%m-%d").to_string();
    r.sex = sex as i32;
    r.phone = format!("09{n:08}");
    r
}

async fn search(
    gw: &Gateway,
    token: &str,
    r: mem::SearchMembersRequest,
) -> Result<mem::SearchMembersResponse, tonic::Status> {
    gw.membership.clone().search_members(authed(token, r)).await.map(|r| r.into_inner())
}

fn names(r: &mem::SearchMembersResponse) -> Vec<String> {
    r.members.iter().map(|m| m.full_name.clone()).collect()
}

async fn finding(tp: &TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Thành đoàn Đà Nẵng", Provincial).await;
    let other = create_unit(&gw, &admin, &root, "Tỉnh đoàn Quảng Nam", Provincial).await;
    let school = create_unit(&gw, &admin, &province, "Đoàn trường Đại học Bách khoa", Grassroots).await;
    let branch = create_unit(&gw, &admin, &school, "Chi đoàn 21T1", Branch).await;
    let officer_p = officer(&gw, &admin, &province, "thanh.danang").await;
    let officer_o = officer(&gw, &admin, &other, "tinh.quangnam").await;
    let mut admitted = Vec::new();
    for (n, name, years, sex) in [
        (700, "Nguyễn Văn An", 20, mem::Sex::Male),
        (701, "Đặng Thị Đào", 18, mem::Sex::Female),
        (702, "Nguyễn Văn Anh", 25, mem::Sex::Male),
        (703, "Trần Thị Bích", 22, mem::Sex::Female),
    ] {
        let m = gw
            .membership
            .clone()
            .admit_member(authed(&officer_p, person(&branch, n, name, years, sex)))
            .await
            .unwrap_or_else(|s| panic!("admit {name}: {s:?}"))
            .into_inner()
            .member
            .unwrap();
        admitted.push(m);
    }
    let q = |unit: &str| mem::SearchMembersRequest { unit_id: unit.into(), ..Default::default() };

    // Names without diacritics, case or extra spaces; "Đ" is "D".
    let found = search(&gw, &officer_p, mem::SearchMembersRequest { name: "nguyen van an".into(), ..q(&province) })
        .await
        .unwrap();
    assert_eq!(names(&found), vec!["Nguyễn Văn An", "Nguyễn Văn Anh"]);
    let found = search(&gw, &officer_p, mem::SearchMembersRequest { name: "  DANG thi dao ".into(), ..q(&province) })
        .await
        .unwrap();
    assert_eq!(names(&found), vec!["Đặng Thị Đào"]);
    let found =
        search(&gw, &officer_p, mem::SearchMembersRequest { name: "Đào".into(), ..q(&province) }).await.unwrap();
    assert_eq!(names(&found), vec!["Đặng Thị Đào"]);
    // Whole words in order but the last, which may be begun; from any unit of the subtree
    // (the PostgreSQL index asks for the unit and the words at once).
    for (unit, typed, expected) in [
        (&province, "van a", vec!["Nguyễn Văn An", "Nguyễn Văn Anh"]),
        (&branch, "nguyen van anh", vec!["Nguyễn Văn Anh"]),
        (&school, "thi b", vec!["Trần Thị Bích"]),
        (&root, "dang", vec!["Đặng Thị Đào"]),
        (&province, "guyen", vec![]),
        (&province, "nguyen an", vec![]),
        (&province, "an nguyen", vec![]),
        (&other, "nguyen", vec![]),
    ] {
        let token = if unit == &other || unit == &root { &admin } else { &officer_p };
        let found = search(&gw, token, mem::SearchMembersRequest { name: typed.into(), ..q(unit) }).await.unwrap();
        assert_eq!(names(&found), expected, "{typed:?} from {unit}");
    }
    let found = search(
        &gw,
        &officer_p,
        mem::SearchMembersRequest { member_number: admitted[3].member_number.clone(), ..q(&province) },
    )
    .await
    .unwrap();
    assert_eq!(names(&found), vec!["Trần Thị Bích"]);

    // Filters: sex, age, status; pages.
    let men = search(&gw, &officer_p, mem::SearchMembersRequest { sex: mem::Sex::Male as i32, ..q(&province) })
        .await
        .unwrap();
    assert_eq!(men.members.len(), 2);
    let older =
        search(&gw, &officer_p, mem::SearchMembersRequest { min_age: 21, max_age: 30, ..q(&province) }).await.unwrap();
    assert_eq!(names(&older), vec!["Nguyễn Văn Anh", "Trần Thị Bích"]);
    let page = search(&gw, &officer_p, mem::SearchMembersRequest { page_size: 3, ..q(&school) }).await.unwrap();
    assert_eq!(page.members.len(), 3);
    let rest = search(
        &gw,
        &officer_p,
        mem::SearchMembersRequest { page_size: 3, page_token: page.next_page_token, ..q(&school) },
    )
    .await
    .unwrap();
    assert_eq!((rest.members.len(), rest.next_page_token.as_str()), (1, ""));

    // Exact phone and citizen ID: a purpose, and every member returned is logged.
    let by_phone = mem::SearchMembersRequest { phone: "0900000701".into(), ..q(&province) };
    let refused = search(&gw, &officer_p, by_phone.clone()).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("purpose"), "{}", refused.message());
    let found = search(
        &gw,
        &officer_p,
        mem::SearchMembersRequest {
            purpose_code: mem::AccessPurpose::RecordKeeping as i32,
            purpose: "xác minh liên hệ".into(),
            ..by_phone
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&found), vec!["Đặng Thị Đào"]);
    let by_id = mem::SearchMembersRequest {
        citizen_id: admission(&branch, 702).citizen_id,
        purpose_code: mem::AccessPurpose::RecordKeeping as i32,
        purpose: "đối chiếu CCCD".into(),
        ..q(&province)
    };
    assert_eq!(names(&search(&gw, &officer_p, by_id).await.unwrap()), vec!["Nguyễn Văn Anh"]);
    let db = tp.database("membership").await.unwrap();
    let logged =
        counts(&db, "SELECT rpc AS k, COUNT(*) AS n FROM pii_access_log WHERE rpc = 'SearchMembers' GROUP BY rpc")
            .await
            .unwrap();
    assert_eq!(logged.get("SearchMembers"), Some(&2));
    for (bad, field) in [
        (mem::SearchMembersRequest { min_age: 200, ..q(&province) }, "min_age"),
        (mem::SearchMembersRequest { min_age: 25, max_age: 20, ..q(&province) }, "max_age"),
        (
            mem::SearchMembersRequest {
                phone: "12".into(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "x".into(),
                ..q(&province)
            },
            "phone",
        ),
        (mem::SearchMembersRequest { member_number: "DV1".into(), ..q(&province) }, "member_number"),
        (mem::SearchMembersRequest { status: 9, ..q(&province) }, "status"),
        (mem::SearchMembersRequest { name: "Lan\u{0}".into(), ..q(&province) }, "name"),
    ] {
        let status = search(&gw, &officer_p, bad).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert!(status.message().contains(field), "{field}: {}", status.message());
    }
    let outside = search(&gw, &officer_o, q(&province)).await.unwrap_err();
    assert_eq!(outside.code(), Code::PermissionDenied);
    assert!(
        search(&gw, &officer_o, mem::SearchMembersRequest { name: "nguyen".into(), ..q(&other) })
            .await
            .unwrap()
            .members
            .is_empty()
    );

    // Duplicates: the same citizen ID is refused; the same name and birth date is confirmed.
    let again = gw
        .membership
        .clone()
        .admit_member(authed(&officer_p, person(&branch, 700, "Lê Văn Cường", 20, mem::Sex::Male)))
        .await;
    assert_eq!(again.unwrap_err().code(), Code::AlreadyExists);
    let twin = person(&branch, 710, "Nguyễn  Văn AN", 20, mem::Sex::Male);
    let warned = gw.membership.clone().admit_member(authed(&officer_p, twin.clone())).await.unwrap_err();
    assert_eq!(warned.code(), Code::FailedPrecondition);
    assert!(warned.message().contains(&admitted[0].member_number), "{}", warned.message());
    let confirmed = mem::AdmitMemberRequest { confirm_possible_duplicate: true, ..twin };
    gw.membership.clone().admit_member(authed(&officer_p, confirmed)).await.expect("confirmed: another person");

    // The member card: signed, one QR code, verified offline with the published keys.
    let card = gw
        .membership
        .clone()
        .get_member_card(authed(&officer_p, mem::GetMemberCardRequest { member_id: admitted[1].member_id.clone() }))
        .await
        .expect("card")
        .into_inner()
        .card
        .unwrap();
    assert!(card.card_token.len() <= 300, "{} characters", card.card_token.len());
    let published =
        gw.membership.clone().get_card_keys(mem::GetCardKeysRequest {}).await.expect("keys, anonymously").into_inner();
    let mut keys = CardKeys::default();
    for k in &published.keys {
        assert_eq!(k.algorithm, "Ed25519");
        let raw: [u8; 32] =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&k.public_key).unwrap().try_into().unwrap();
        keys.add(ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap());
    }
    let claims = keys.verify(&card.card_token, Utc::now().date_naive()).expect("verifies offline");
    assert_eq!(format!("DV{:010}", claims.member_seq), admitted[1].member_number);
    assert_eq!((claims.full_name.as_str(), claims.branch_id.to_string()), ("Đặng Thị Đào", branch.clone()));
    assert_eq!(claims.valid_until.to_string(), card.valid_until);

    // Removed: the card is revoked.
    gw.membership
        .clone()
        .remove_member(authed(
            &officer_p,
            mem::RemoveMemberRequest {
                member_id: admitted[1].member_id.clone(),
                reason: "Tự nguyện ra khỏi Đoàn".into(),
                decided_on: String::new(),
            },
        ))
        .await
        .expect("remove");
    let revoked = gw
        .membership
        .clone()
        .list_revoked_cards(authed(
            &officer_p,
            mem::ListRevokedCardsRequest { unit_id: province.clone(), ..Default::default() },
        ))
        .await
        .expect("revocations")
        .into_inner()
        .revoked;
    assert_eq!(revoked.len(), 1);
    assert_eq!(
        (revoked[0].member_number.as_str(), revoked[0].status),
        (admitted[1].member_number.as_str(), mem::MemberStatus::Removed as i32)
    );
    let removed = search(
        &gw,
        &officer_p,
        mem::SearchMembersRequest { status: mem::MemberStatus::Removed as i32, ..q(&province) },
    )
    .await
    .unwrap();
    assert_eq!(names(&removed), vec!["Đặng Thị Đào"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding_members_embedded() {
    let tp = TestPlatform::embedded().await.expect("start");
    finding(&tp).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding_members_on_the_real_servers() {
    let Some(urls) = real_servers("finding_members_on_the_real_servers").await else { return };
    let tp = TestPlatform::servers(urls).await.expect("start");
    finding(&tp).await;
    tp.stop().await.expect("stop");
}
