//! Transfers (chuyển sinh hoạt) through the gateway in both modes: a graduating class in one
//! request with an outcome per member, started by the sending side, the receiving side or the
//! member; dues settled by the sender; placement or refusal by the receiver; transfers out of
//! the system; expiry; unit history, statistics and every read model follow.

use std::time::Duration;

use doan_platform::clock::Clock;
use doan_proto::membership as mem;
use doan_proto::membership::UnitLevel::*;
use doan_tests::client::{Gateway, admission, authed, create_unit, member_login, officer};
use doan_tests::effects::directories_converge;
use doan_tests::{TestPlatform, base_settings, real_servers};
use tonic::Code;

use mem::TransferItemState as S;

struct World {
    gw: Gateway,
    admin: String,
    school: String,
    class: String,
    university: String,
    k1: String,
    sender: String,
    receiver: String,
}

async fn world(tp: &TestPlatform) -> World {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let hanoi = create_unit(&gw, &admin, &root, "Thành đoàn Hà Nội", Provincial).await;
    let hcm = create_unit(&gw, &admin, &root, "Thành đoàn TP. Hồ Chí Minh", Provincial).await;
    let school = create_unit(&gw, &admin, &hanoi, "Đoàn trường THPT Chu Văn An", Grassroots).await;
    let class = create_unit(&gw, &admin, &school, "Chi đoàn 12A1", Branch).await;
    let university = create_unit(&gw, &admin, &hcm, "Đoàn trường Đại học Bách khoa", Grassroots).await;
    let k1 = create_unit(&gw, &admin, &university, "Chi đoàn K26", Branch).await;
    let sender = officer(&gw, &admin, &school, "bithu.chuvanan").await;
    let receiver = officer(&gw, &admin, &university, "bithu.bachkhoa").await;
    World { gw, admin, school, class, university, k1, sender, receiver }
}

async fn admit(w: &World, n: u32) -> String {
    w.gw.membership
        .clone()
        .admit_member(authed(&w.sender, admission(&w.class, n)))
        .await
        .expect("admit")
        .into_inner()
        .member
        .unwrap()
        .member_id
}

fn states(t: &mem::Transfer) -> Vec<(String, i32)> {
    t.items.iter().map(|i| (i.member.as_ref().unwrap().member_id.clone(), i.state)).collect()
}

async fn transfers(tp: &TestPlatform) {
    let w = world(tp).await;
    let m = w.gw.membership.clone();
    let class: Vec<String> = {
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(admit(&w, 800 + n).await);
        }
        ids
    };
    let (own, own_token) = member_login(&w.gw, &w.sender, &w.class, 810).await;
    let leaving = admit(&w, 811).await;

    // Bad requests name the field and write nothing.
    let request = |ids: &[String], to: &str| mem::RequestTransferRequest {
        member_ids: ids.to_vec(),
        to_unit_id: to.into(),
        reason: "Trúng tuyển đại học".into(),
        ..Default::default()
    };
    for (bad, code, field) in [
        (request(&[], &w.university), Code::InvalidArgument, "member_ids"),
        (request(&class, ""), Code::InvalidArgument, "to_unit_id"),
        (
            mem::RequestTransferRequest { reason: String::new(), ..request(&class, &w.university) },
            Code::InvalidArgument,
            "reason",
        ),
        (request(&class, &w.class), Code::InvalidArgument, "to_unit_id"),
        (
            mem::RequestTransferRequest { external: 1, ..request(&class, &w.university) },
            Code::InvalidArgument,
            "external",
        ),
    ] {
        let status = m.clone().request_transfer(authed(&w.sender, bad)).await.unwrap_err();
        assert_eq!(status.code(), code, "{field}: {status:?}");
        assert!(status.message().contains(field), "{field}: {}", status.message());
    }
    let stranger = m.clone().request_transfer(authed(&own_token, request(&class, &w.university))).await.unwrap_err();
    assert_eq!(stranger.code(), Code::PermissionDenied, "a member requests only their own transfer");

    // The graduating class, started by the sending school.
    let t = m
        .clone()
        .request_transfer(authed(&w.sender, request(&class, &w.university)))
        .await
        .expect("request")
        .into_inner()
        .transfer
        .unwrap();
    assert_eq!(t.initiated_by, "sender");
    assert!(t.items.iter().all(|i| i.state == S::Requested as i32));
    let twice = m.clone().request_transfer(authed(&w.sender, request(&class[..1], &w.university))).await.unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition, "one open transfer per member");
    let accept = |ids: Vec<String>, branch: &str| mem::AcceptTransferRequest {
        transfer_id: t.transfer_id.clone(),
        member_ids: ids,
        branch_id: branch.into(),
    };
    let early = m.clone().accept_transfer(authed(&w.receiver, accept(vec![], &w.k1))).await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition, "dues are settled first");
    let wrong_side = m
        .clone()
        .release_transfer(authed(
            &w.receiver,
            mem::ReleaseTransferRequest {
                transfer_id: t.transfer_id.clone(),
                dues_paid_until: "2026-11".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(wrong_side.code(), Code::PermissionDenied);
    let future = m
        .clone()
        .release_transfer(authed(
            &w.sender,
            mem::ReleaseTransferRequest {
                transfer_id: t.transfer_id.clone(),
                dues_paid_until: "2999-01".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert!(future.message().contains("dues_paid_until"), "{}", future.message());
    let this_month = {
        let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
        today.format("%Y-%m").to_string()
    };
    let released = m
        .clone()
        .release_transfer(authed(
            &w.sender,
            mem::ReleaseTransferRequest {
                transfer_id: t.transfer_id.clone(),
                dues_paid_until: this_month.clone(),
                comment: "Đã đóng đoàn phí đến hết tháng; rèn luyện tốt.".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("release")
        .into_inner()
        .transfer
        .unwrap();
    assert!(released.items.iter().all(|i| i.state == S::Released as i32 && i.dues_paid_until == this_month));

    // The university refuses one and places the others; a branch outside it is refused.
    let outside = m.clone().accept_transfer(authed(&w.receiver, accept(vec![], &w.class))).await.unwrap_err();
    assert_eq!(outside.code(), Code::PermissionDenied, "{outside:?}");
    m.clone()
        .refuse_transfer(authed(
            &w.receiver,
            mem::RefuseTransferRequest {
                transfer_id: t.transfer_id.clone(),
                member_ids: vec![class[2].clone()],
                reason: "Không có tên trong danh sách trúng tuyển".into(),
            },
        ))
        .await
        .expect("refuse");
    let done = m
        .clone()
        .accept_transfer(authed(&w.receiver, accept(vec![], &w.k1)))
        .await
        .expect("accept")
        .into_inner()
        .transfer
        .unwrap();
    let mut expected = vec![
        (class[0].clone(), S::Accepted as i32),
        (class[1].clone(), S::Accepted as i32),
        (class[2].clone(), S::Refused as i32),
    ];
    expected.sort();
    let mut got = states(&done);
    got.sort();
    assert_eq!(got, expected);
    let placed = m
        .clone()
        .get_member(authed(
            &w.receiver,
            mem::GetMemberRequest {
                member_id: class[0].clone(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "tiếp nhận".into(),
            },
        ))
        .await
        .expect("the receiver now manages the member")
        .into_inner()
        .member
        .unwrap();
    assert_eq!(placed.unit_id, w.k1);
    let history = m
        .clone()
        .get_member_unit_history(authed(&w.receiver, mem::GetMemberUnitHistoryRequest { member_id: class[0].clone() }))
        .await
        .unwrap()
        .into_inner()
        .placements;
    let line: Vec<(&str, &str)> = history.iter().map(|p| (p.unit_id.as_str(), p.reason.as_str())).collect();
    assert_eq!(line, vec![(w.class.as_str(), "admission"), (w.k1.as_str(), "transfer")]);
    let stats = |unit: String| {
        let m = m.clone();
        let admin = w.admin.clone();
        async move {
            m.clone()
                .get_unit_statistics(authed(&admin, mem::GetUnitStatisticsRequest { unit_id: unit, year: 0 }))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let (from, to) = (stats(w.school.clone()).await, stats(w.university.clone()).await);
    assert_eq!((from.transferred_out, from.active_members), (2, 3));
    assert_eq!((to.transferred_in, to.active_members), (2, 2));

    // The member starts their own; the receiving side starts one; both sides see them.
    let mine = m
        .clone()
        .request_transfer(authed(&own_token, request(std::slice::from_ref(&own), &w.university)))
        .await
        .expect("a member requests their own transfer")
        .into_inner()
        .transfer
        .unwrap();
    assert_eq!(mine.initiated_by, "member");
    let seen = m
        .clone()
        .get_transfer(authed(&own_token, mem::GetTransferRequest { transfer_id: mine.transfer_id.clone() }))
        .await
        .expect("the member sees it")
        .into_inner();
    assert_eq!(seen.transfer.unwrap().items.len(), 1);
    let asked = m
        .clone()
        .request_transfer(authed(&w.receiver, request(&class[2..], &w.university)))
        .await
        .expect("the receiving side asks for a member")
        .into_inner()
        .transfer
        .unwrap();
    assert_eq!(asked.initiated_by, "receiver");
    m.clone()
        .refuse_transfer(authed(
            &w.sender,
            mem::RefuseTransferRequest {
                transfer_id: asked.transfer_id.clone(),
                reason: "Còn nợ đoàn phí".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("the sending side refuses before releasing");
    let listed = m
        .clone()
        .list_transfers(authed(
            &w.receiver,
            mem::ListTransfersRequest {
                unit_id: w.university.clone(),
                direction: mem::TransferDirection::Incoming as i32,
                page_size: 0,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .transfers;
    assert_eq!(listed.len(), 3);
    let outgoing = m
        .clone()
        .list_transfers(authed(
            &w.sender,
            mem::ListTransfersRequest {
                unit_id: w.school.clone(),
                direction: mem::TransferDirection::Outgoing as i32,
                page_size: 0,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .transfers;
    assert_eq!(outgoing.len(), 3);

    // Out of the system: abroad.
    let abroad = m
        .clone()
        .request_transfer(authed(
            &w.sender,
            mem::RequestTransferRequest {
                member_ids: vec![leaving.clone()],
                external: mem::ExternalDestination::Abroad as i32,
                external_name: "Đại học Tokyo".into(),
                reason: "Du học".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("abroad")
        .into_inner()
        .transfer
        .unwrap();
    let out = m
        .clone()
        .release_transfer(authed(
            &w.sender,
            mem::ReleaseTransferRequest {
                transfer_id: abroad.transfer_id,
                dues_paid_until: this_month,
                ..Default::default()
            },
        ))
        .await
        .expect("release out")
        .into_inner()
        .transfer
        .unwrap();
    assert_eq!(out.items[0].state, S::TransferredOut as i32);
    let gone = m
        .clone()
        .get_member(authed(
            &w.sender,
            mem::GetMemberRequest {
                member_id: leaving.clone(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "kiểm tra".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(gone.status, mem::MemberStatus::TransferredOut as i32);

    directories_converge(&tp.settings, Duration::from_secs(20)).await;
    doan_tests::effects::subtree_totals_match_members(&tp.settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_embedded() {
    let tp = TestPlatform::embedded().await.expect("start");
    transfers(&tp).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_on_the_real_servers() {
    let Some(urls) = real_servers("transfers_on_the_real_servers").await else { return };
    let tp = TestPlatform::servers(urls).await.expect("start");
    transfers(&tp).await;
    tp.stop().await.expect("stop");
}

/// A transfer left unfinished past the rule's 60 days expires: nothing more happens to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_transfer_expires() {
    let clock = Clock::fixed(chrono::Utc::now());
    let tp = TestPlatform::embedded_at(base_settings(), &[], clock.clone()).await.expect("start");
    let w = world(&tp).await;
    let member = admit(&w, 900).await;
    let t =
        w.gw.membership
            .clone()
            .request_transfer(authed(
                &w.sender,
                mem::RequestTransferRequest {
                    member_ids: vec![member.clone()],
                    to_unit_id: w.university.clone(),
                    reason: "Chuyển trường".into(),
                    ..Default::default()
                },
            ))
            .await
            .expect("request")
            .into_inner()
            .transfer
            .unwrap();
    clock.set(chrono::Utc::now() + chrono::Duration::days(61));
    let late =
        w.gw.membership
            .clone()
            .release_transfer(authed(
                &w.sender,
                mem::ReleaseTransferRequest {
                    transfer_id: t.transfer_id.clone(),
                    dues_paid_until: "2026-11".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert!(late.message().contains("expired"), "{}", late.message());
    let seen =
        w.gw.membership
            .clone()
            .get_transfer(authed(&w.admin, mem::GetTransferRequest { transfer_id: t.transfer_id.clone() }))
            .await
            .unwrap()
            .into_inner()
            .transfer
            .unwrap();
    assert_eq!(seen.items[0].state, S::Expired as i32);
    // The member may be transferred again.
    w.gw.membership
        .clone()
        .request_transfer(authed(
            &w.sender,
            mem::RequestTransferRequest {
                member_ids: vec![member],
                to_unit_id: w.university.clone(),
                reason: "Chuyển trường, lần hai".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("a new transfer after the expiry");
    tp.stop().await.expect("stop");
}
