//! Awards through the gateway, in both modes: the catalogue, issuing authority by level, the
//! once-per-person medal, yearly quotas, clusters as recipients, revocation, histories and
//! figures, and credentials that an independent verifier (`tests/vc/verify.mjs`: jsonld.js,
//! @digitalbazaar/vc with eddsa-rdfc-2022 and the bitstring status list, Ajv against the
//! Open Badges 3.0 JSON schema) accepts, and rejects once revoked and the list refreshed.

use doan_proto::awards as aw;
use doan_proto::membership as mem;
use doan_tests::client::{Gateway, authed, create_unit, member_login, officer, until_known};
use doan_tests::{TestPlatform, base_settings, real_servers};
use tonic::Code;

fn rec(which: aw::recipient::Recipient) -> aw::Recipient {
    aw::Recipient { recipient: Some(which) }
}

fn member(id: &str) -> aw::Recipient {
    rec(aw::recipient::Recipient::MemberId(id.into()))
}

fn unit(id: &str) -> aw::Recipient {
    rec(aw::recipient::Recipient::UnitId(id.into()))
}

fn decision(number: &str, kind: &str, recipients: Vec<aw::Recipient>) -> aw::RecordAwardDecisionRequest {
    aw::RecordAwardDecisionRequest {
        decision_number: number.into(),
        decision_date: "2026-11-20".into(),
        kind: kind.into(),
        signer: "Bí thư".into(),
        content: "Thành tích xuất sắc trong công tác Đoàn năm 2026".into(),
        recipients,
        ..Default::default()
    }
}

/// Records `r`, waiting while awards does not know a unit, member or cluster it names yet.
async fn record(
    gw: &Gateway,
    token: &str,
    r: aw::RecordAwardDecisionRequest,
) -> Result<aw::AwardDecision, tonic::Status> {
    let outcome = until_known("awards learns what the decision names", || {
        let mut client = gw.awards.clone();
        let request = authed(token, r.clone());
        async move {
            match client.record_award_decision(request).await {
                Err(s) if s.code() == Code::NotFound => Err(s),
                other => Ok(tonic::Response::new(other)),
            }
        }
    })
    .await;
    outcome.map(|r| r.into_inner().decision.expect("decision"))
}

/// `GET <path>` on the gateway over HTTP/1.1: status and body.
async fn http_get(gw_addr: std::net::SocketAddr, path: &str) -> (u16, serde_json::Value) {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let uri: http::Uri = format!("http://{gw_addr}{path}").parse().unwrap();
    let response = client.get(uri).await.expect("GET");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or_else(|_| String::from_utf8_lossy(&body).into()))
}

/// What the independent verifier says of `credential` given the documents it may load.
fn independent_verdict(credential: &str, documents: &[(String, serde_json::Value)]) -> Option<serde_json::Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vc");
    if !dir.join("node_modules").exists() {
        assert!(
            std::env::var_os("DOAN_REQUIRE_SERVERS").is_none(),
            "tests/vc/node_modules is missing: CI runs `npm ci --prefix tests/vc` first"
        );
        eprintln!("SKIPPED the independent verifier: run `npm ci --prefix tests/vc` to include it");
        return None;
    }
    let input = serde_json::json!({
        "credential": serde_json::from_str::<serde_json::Value>(credential).unwrap(),
        "documents": documents.iter().cloned().collect::<serde_json::Map<_, _>>(),
        "now": (chrono::Utc::now() + chrono::Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    });
    let mut child = std::process::Command::new("node")
        .arg(dir.join("verify.mjs"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .last()
        .unwrap_or_else(|| panic!("verifier said nothing: {}", String::from_utf8_lossy(&out.stderr)));
    Some(serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
}

async fn awards_journey(tp: TestPlatform) {
    use mem::UnitLevel::*;
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Thành đoàn Hà Nội", Provincial).await;
    let district = create_unit(&gw, &admin, &province, "Quận đoàn Ba Đình", District).await;
    let grassroots = create_unit(&gw, &admin, &district, "Đoàn trường THPT Phan Đình Phùng", Grassroots).await;
    let branch = create_unit(&gw, &admin, &grassroots, "Chi đoàn 12A1", Branch).await;
    let grassroots_branch = create_unit(&gw, &admin, &province, "Chi đoàn cơ sở Công ty X", GrassrootsBranch).await;
    let mut branches = Vec::new();
    for n in 0..13 {
        branches.push(create_unit(&gw, &admin, &grassroots, &format!("Chi đoàn 11A{n}"), Branch).await);
    }
    let central = officer(&gw, &admin, &root, "aw.central").await;
    let provincial = officer(&gw, &admin, &province, "aw.province").await;
    let district_officer = officer(&gw, &admin, &district, "aw.district").await;
    let gb_officer = officer(&gw, &admin, &grassroots_branch, "aw.cdcs").await;
    let (m1, m1_token) = member_login(&gw, &provincial, &branch, 1).await;
    let (m2, _) = member_login(&gw, &provincial, &branch, 2).await;
    let cluster = gw
        .membership
        .clone()
        .create_cluster(authed(
            &provincial,
            mem::CreateClusterRequest {
                unit_id: province.clone(),
                name: "Cụm thi đua các trường THPT".into(),
                unit_ids: vec![grassroots.clone()],
            },
        ))
        .await
        .expect("cluster")
        .into_inner()
        .cluster
        .expect("cluster")
        .cluster_id;

    // The catalogue in force.
    let kinds = gw
        .awards
        .clone()
        .list_award_kinds(authed(&m1_token, aw::ListAwardKindsRequest { on: "2026-11-20".into() }))
        .await
        .expect("catalogue")
        .into_inner();
    assert_eq!(kinds.rule, "awards-2022");
    let medal = kinds.kinds.iter().find(|k| k.code == "youth_generation_medal").expect("the medal");
    assert!(medal.once_per_person);
    assert_eq!(medal.issuers.iter().map(|i| i.level).collect::<Vec<_>>(), vec![Central as i32]);
    let flag = kinds.kinds.iter().find(|k| k.code == "emulation_flag").expect("the flag");
    assert_eq!(flag.recipient_kinds, vec![aw::RecipientKind::Unit as i32, aw::RecipientKind::Cluster as i32]);

    // The wrong level is refused: a district issues no Bằng khen, a chi đoàn cơ sở nothing.
    let merit_by_district =
        record(&gw, &district_officer, decision("1-QĐ/QĐĐ", "certificate_of_merit", vec![member(&m1)])).await;
    let refused = merit_by_district.expect_err("a district issues no certificate of merit");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("District"), "{}", refused.message());
    let refused =
        record(&gw, &gb_officer, decision("1-QĐ/CĐCS", "certificate_of_commendation", vec![unit(&grassroots_branch)]))
            .await
            .expect_err("a chi đoàn cơ sở issues nothing");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let refused = record(&gw, &provincial, decision("1-QĐ/TĐ", "emulation_flag", vec![member(&m1)]))
        .await
        .expect_err("a flag goes to collectives");
    assert_eq!(refused.code(), Code::InvalidArgument);

    // Kỷ niệm chương: once per person; a decision naming a holder is refused whole.
    let medal_1 = record(&gw, &central, decision("10-QĐ/TWĐTN", "youth_generation_medal", vec![member(&m1)]))
        .await
        .expect("the medal");
    assert_eq!(medal_1.form, aw::AwardForm::YouthGenerationMedal as i32);
    let again =
        record(&gw, &central, decision("11-QĐ/TWĐTN", "youth_generation_medal", vec![member(&m2), member(&m1)]))
            .await
            .expect_err("a second medal");
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    assert!(again.message().contains(&m1), "{}", again.message());
    let history_2 = gw
        .awards
        .clone()
        .list_awards(authed(&central, aw::ListAwardsRequest { member_id: m2.clone(), ..Default::default() }))
        .await
        .expect("history")
        .into_inner();
    assert!(history_2.awards.is_empty(), "nothing half-written: {history_2:?}");

    // A flag to a cluster (once awards knows it) and units; the province's yearly quota (12).
    let to_cluster = record(
        &gw,
        &provincial,
        decision("20-QĐ/TĐ", "emulation_flag", vec![rec(aw::recipient::Recipient::ClusterId(cluster.clone()))]),
    )
    .await
    .expect("a flag to the cluster");
    assert_eq!(to_cluster.awards[0].recipient_name, "Cụm thi đua các trường THPT");
    let ten: Vec<aw::Recipient> = branches[..10].iter().map(|b| unit(b)).collect();
    record(&gw, &provincial, decision("21-QĐ/TĐ", "emulation_flag", ten)).await.expect("ten flags");
    let over = record(
        &gw,
        &provincial,
        decision("22-QĐ/TĐ", "emulation_flag", branches[10..12].iter().map(|b| unit(b)).collect()),
    )
    .await
    .expect_err("13 flags in a year");
    assert_eq!(over.code(), Code::FailedPrecondition, "{over:?}");
    assert!(over.message().contains("quota"), "{}", over.message());
    let last = record(&gw, &provincial, decision("22-QĐ/TĐ", "emulation_flag", vec![unit(&branches[10])]))
        .await
        .expect("the 12th flag");

    // A certificate of merit to member 1, and its credential.
    let merit = record(
        &gw,
        &provincial,
        aw::RecordAwardDecisionRequest {
            form: aw::AwardForm::CertificateOfMerit as i32,
            ceremony_date: "2026-12-03".into(),
            ..decision("30-QĐ/TĐ", "", vec![member(&m1), unit(&branch)])
        },
    )
    .await
    .expect("merit");
    assert_eq!((merit.kind.as_str(), merit.ceremony_date.as_str()), ("certificate_of_merit", "2026-12-03"));
    let award = merit.awards[0].clone();
    let credential = gw
        .awards
        .clone()
        .get_credential(authed(&m1_token, aw::GetCredentialRequest { award_id: award.award_id.clone() }))
        .await
        .expect("the holder reads the credential")
        .into_inner();
    assert!(credential.qr_text.ends_with(&format!("/credentials/verify/{}", award.award_id)), "{}", credential.qr_text);
    assert!(credential.qr_svg.contains("<svg"), "an SVG QR");
    let json: serde_json::Value = serde_json::from_str(&credential.credential_json).unwrap();
    assert!(!credential.credential_json.contains("Nguyễn Thị"), "the member's name is not in clear");
    assert_eq!(json["credentialSubject"]["id"], format!("urn:uuid:{m1}"));
    assert_eq!(json["proof"][0]["cryptosuite"], "eddsa-rdfc-2022");

    // The documents a verifier loads, over plain HTTP through the gateway, without a token.
    let issuer_url = json["issuer"]["id"].as_str().unwrap().to_string();
    let issuer_path = issuer_url.split_once("/credentials/").map(|(_, p)| format!("/credentials/{p}")).unwrap();
    let (status, controller) = http_get(tp.platform.gateway_addr, &issuer_path).await;
    assert_eq!(status, 200, "{controller}");
    assert_eq!(controller["id"], issuer_url);
    let list_url = json["credentialStatus"]["statusListCredential"].as_str().unwrap().to_string();
    let list_path = list_url.split_once("/credentials/").map(|(_, p)| format!("/credentials/{p}")).unwrap();
    let (status, list_before) = http_get(tp.platform.gateway_addr, &list_path).await;
    assert_eq!(status, 200, "{list_before}");
    let docs =
        |list: &serde_json::Value| vec![(issuer_url.clone(), controller.clone()), (list_url.clone(), list.clone())];
    if let Some(v) = independent_verdict(&credential.credential_json, &docs(&list_before)) {
        assert_eq!(v["schema_valid"], true, "{v}");
        assert_eq!((v["verified"].clone(), v["revoked"].clone()), (true.into(), false.into()), "{v}");
    }
    let mut tampered = json.clone();
    tampered["credentialSubject"]["id"] = format!("urn:uuid:{m2}").into();
    if let Some(v) = independent_verdict(&tampered.to_string(), &docs(&list_before)) {
        assert_eq!(v["verified"], false, "{v}");
    }
    let verify = |subject: aw::verify_credential_request::Subject| {
        let mut c = gw.awards.clone();
        async move {
            c.verify_credential(aw::VerifyCredentialRequest { subject: Some(subject) })
                .await
                .expect("verify")
                .into_inner()
        }
    };
    use aw::verify_credential_request::Subject;
    let online = verify(Subject::AwardId(award.award_id.clone())).await;
    assert_eq!(online.outcome, aw::VerificationOutcome::Valid as i32, "{online:?}");
    assert_eq!(online.recipient_name, "N. T. L. L. L. L. Mai", "the name masked");
    assert_eq!(online.decision_number, "30-QĐ/TĐ");
    let presented = verify(Subject::CredentialJson(credential.credential_json.clone())).await;
    assert_eq!(presented.outcome, aw::VerificationOutcome::Valid as i32, "{presented:?}");
    let forged = verify(Subject::CredentialJson(tampered.to_string())).await;
    assert_eq!(forged.outcome, aw::VerificationOutcome::Invalid as i32, "{forged:?}");
    let unknown = verify(Subject::AwardId(doan_platform::convert::new_id())).await;
    assert_eq!(unknown.outcome, aw::VerificationOutcome::Unknown as i32);
    let (status, page) = http_get(tp.platform.gateway_addr, &format!("/credentials/verify/{}", award.award_id)).await;
    assert_eq!((status, page["outcome"].as_str()), (200, Some("VERIFICATION_OUTCOME_VALID")), "{page}");

    // Revoked for fraud: online at once; offline once the verifier refreshes the list.
    let outsider_province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Nghệ An", Provincial).await;
    let outsider = officer(&gw, &admin, &outsider_province, "aw.outsider").await;
    let denied = gw
        .awards
        .clone()
        .revoke_award(authed(
            &outsider,
            aw::RevokeAwardRequest { decision_id: merit.decision_id.clone(), ..Default::default() },
        ))
        .await
        .expect_err("outside the issuer's subtree");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let revoked = gw
        .awards
        .clone()
        .revoke_award(authed(
            &provincial,
            aw::RevokeAwardRequest {
                decision_id: merit.decision_id.clone(),
                award_id: award.award_id.clone(),
                reason: "Kê khai thành tích không trung thực".into(),
                legal_basis: "Khoản 1 Điều 94 Luật Thi đua, khen thưởng 2022".into(),
            },
        ))
        .await
        .expect("revoke")
        .into_inner();
    assert_eq!(revoked.revoked, 1);
    assert_eq!(revoked.decision.unwrap().awards[1].status, aw::AwardStatus::Granted as i32, "the unit's award stands");
    let online = verify(Subject::AwardId(award.award_id.clone())).await;
    assert_eq!(online.outcome, aw::VerificationOutcome::Revoked as i32, "{online:?}");
    assert!(online.revocation_legal_basis.contains("Điều 94"));
    if let Some(v) = independent_verdict(&credential.credential_json, &docs(&list_before)) {
        assert_eq!(v["verified"], true, "offline with the list cached before the revocation: {v}");
    }
    let (_, list_after) = http_get(tp.platform.gateway_addr, &list_path).await;
    assert_ne!(list_after, list_before, "the list was re-signed");
    if let Some(v) = independent_verdict(&credential.credential_json, &docs(&list_after)) {
        assert_eq!((v["verified"].clone(), v["revoked"].clone()), (false.into(), true.into()), "{v}");
    }

    // Histories and the year-end figures.
    let history = gw
        .awards
        .clone()
        .list_awards(authed(&m1_token, aw::ListAwardsRequest::default()))
        .await
        .expect("own history")
        .into_inner();
    let kinds_held: Vec<(String, i32)> =
        history.awards.iter().map(|e| (e.kind_name.clone(), e.award.as_ref().unwrap().status)).collect();
    assert!(kinds_held.contains(&("Bằng khen".into(), aw::AwardStatus::Revoked as i32)), "{kinds_held:?}");
    assert!(kinds_held.iter().any(|(k, s)| k.starts_with("Kỷ niệm chương") && *s == 1), "{kinds_held:?}");
    let unit_history = gw
        .awards
        .clone()
        .list_awards(authed(&provincial, aw::ListAwardsRequest { unit_id: branches[10].clone(), ..Default::default() }))
        .await
        .expect("unit history")
        .into_inner();
    assert_eq!(unit_history.awards.len(), 1);
    assert_eq!(unit_history.awards[0].decision.as_ref().unwrap().decision_id, last.decision_id);
    let figures = gw
        .awards
        .clone()
        .get_award_figures(authed(
            &provincial,
            aw::GetAwardFiguresRequest {
                unit_id: province.clone(),
                from: "2026-01-01".into(),
                to: "2026-12-31".into(),
            },
        ))
        .await
        .expect("figures")
        .into_inner();
    let issued = |kind: &str| figures.issued.iter().find(|f| f.kind == kind).cloned().unwrap_or_default();
    assert_eq!((issued("emulation_flag").units, issued("emulation_flag").clusters), (11, 1));
    assert_eq!(issued("emulation_flag").decisions, 3);
    assert_eq!(
        (issued("certificate_of_merit").individuals, issued("certificate_of_merit").units),
        (0, 1),
        "revoked not counted"
    );
    let received = |kind: &str| figures.received.iter().find(|f| f.kind == kind).cloned().unwrap_or_default();
    assert_eq!(received("youth_generation_medal").individuals, 1, "the centre's medal to a member of the province");

    // Nomination to ceremony: the district proposes member 2 and the branch to the province;
    // the province's council votes and approves member 2; a decision grants the approved.
    let proposed = gw
        .awards
        .clone()
        .propose_nomination(authed(
            &district_officer,
            aw::ProposeNominationRequest {
                unit_id: district.clone(),
                issuing_unit_id: province.clone(),
                kind: "certificate_of_merit".into(),
                year: 2026,
                title: "Đề nghị tặng Bằng khen năm 2026".into(),
                candidates: vec![
                    aw::CandidateProposal {
                        recipient: Some(member(&m2)),
                        achievements: "Dẫn đầu phong trào hiến máu tình nguyện".into(),
                    },
                    aw::CandidateProposal {
                        recipient: Some(unit(&branch)), achievements: "Chi đoàn vững mạnh".into()
                    },
                ],
            },
        ))
        .await
        .expect("proposed")
        .into_inner()
        .nomination
        .unwrap();
    assert_eq!(proposed.status, aw::NominationStatus::UnderReview as i32);
    assert_eq!(proposed.candidates[1].prior_awards, 1, "the branch's certificate of merit, as evidence");
    let nomination_id = proposed.nomination_id.clone();
    let not_council = gw
        .awards
        .clone()
        .review_nomination(authed(
            &district_officer,
            aw::ReviewNominationRequest {
                nomination_id: nomination_id.clone(),
                vote: aw::Vote::For as i32,
                comment: String::new(),
            },
        ))
        .await
        .expect_err("the proposing unit is not the council");
    assert_eq!(not_council.code(), Code::PermissionDenied);
    let early = gw
        .awards
        .clone()
        .close_nomination_review(authed(
            &provincial,
            aw::CloseNominationReviewRequest {
                nomination_id: nomination_id.clone(),
                approved: vec![0],
                note: String::new(),
            },
        ))
        .await
        .expect_err("no vote yet");
    assert_eq!(early.code(), Code::FailedPrecondition);
    let second_member = officer(&gw, &admin, &province, "aw.province.2").await;
    for (token, vote, comment) in [
        (&provincial, aw::Vote::For, "Đủ tiêu chuẩn"),
        (&second_member, aw::Vote::Against, "Chi đoàn chưa đủ thành tích"),
        (&second_member, aw::Vote::For, "Đồng ý với đoàn viên"),
    ] {
        gw.awards
            .clone()
            .review_nomination(authed(
                token,
                aw::ReviewNominationRequest {
                    nomination_id: nomination_id.clone(),
                    vote: vote as i32,
                    comment: comment.into(),
                },
            ))
            .await
            .expect("a council vote");
    }
    let closed = gw
        .awards
        .clone()
        .close_nomination_review(authed(
            &provincial,
            aw::CloseNominationReviewRequest {
                nomination_id: nomination_id.clone(),
                approved: vec![0],
                note: "Hội đồng thống nhất đề nghị tặng Bằng khen cho đoàn viên".into(),
            },
        ))
        .await
        .expect("closed")
        .into_inner()
        .nomination
        .unwrap();
    assert_eq!(closed.status, aw::NominationStatus::Approved as i32);
    assert_eq!(
        (closed.votes_for, closed.votes_against, closed.reviews.len()),
        (2, 0, 2),
        "one vote each, the latest counts"
    );
    assert_eq!(closed.candidates.iter().map(|c| c.approved).collect::<Vec<_>>(), vec![true, false]);
    let not_approved = record(
        &gw,
        &provincial,
        aw::RecordAwardDecisionRequest {
            nomination_id: nomination_id.clone(),
            ..decision("40-QĐ/TĐ", "certificate_of_merit", vec![unit(&branch)])
        },
    )
    .await
    .expect_err("the branch was not approved");
    assert_eq!(not_approved.code(), Code::InvalidArgument, "{not_approved:?}");
    let granted = record(
        &gw,
        &provincial,
        aw::RecordAwardDecisionRequest {
            nomination_id: nomination_id.clone(),
            ..decision("40-QĐ/TĐ", "certificate_of_merit", vec![])
        },
    )
    .await
    .expect("the council's candidates granted");
    assert_eq!(granted.recipients, vec![member(&m2)]);
    let again = record(
        &gw,
        &provincial,
        aw::RecordAwardDecisionRequest {
            nomination_id: nomination_id.clone(),
            ..decision("41-QĐ/TĐ", "certificate_of_merit", vec![])
        },
    )
    .await
    .expect_err("decided once");
    assert_eq!(again.code(), Code::FailedPrecondition);
    let decided = gw
        .awards
        .clone()
        .get_nomination(authed(&district_officer, aw::GetNominationRequest { nomination_id: nomination_id.clone() }))
        .await
        .expect("the proposing unit follows it")
        .into_inner()
        .nomination
        .unwrap();
    assert_eq!(
        (decided.status, decided.decision_id.as_str()),
        (aw::NominationStatus::Decided as i32, granted.decision_id.as_str())
    );
    let ceremony = gw
        .awards
        .clone()
        .set_ceremony(authed(
            &provincial,
            aw::SetCeremonyRequest { decision_id: granted.decision_id.clone(), ceremony_date: "2026-12-26".into() },
        ))
        .await
        .expect("ceremony")
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(ceremony.ceremony_date, "2026-12-26");
    let listed = gw
        .awards
        .clone()
        .list_nominations(authed(
            &provincial,
            aw::ListNominationsRequest { unit_id: province.clone(), ..Default::default() },
        ))
        .await
        .expect("nominations")
        .into_inner();
    assert_eq!(listed.nominations.len(), 1);

    // A decision of 400 recipients is one call (written in batches), each with its credential.
    let branch_path = format!("/{root}/{province}/{district}/{grassroots}/{branch}/");
    let mut many = Vec::new();
    for n in 0..400u32 {
        let id = doan_platform::convert::new_id();
        let admitted = doan_proto::events::MemberAdmitted {
            member_id: id.clone(),
            member_number: format!("99{n:06}"),
            full_name: doan_tests::client::member_name(500 + n),
            unit_id: branch.clone(),
            unit_path: branch_path.clone(),
            admitted_on: "2026-09-02".into(),
            version: 1,
        };
        publish(&tp, &doan_platform::convert::new_id(), &admitted).await;
        many.push(member(&id));
    }
    let big =
        record(&gw, &provincial, decision("50-QĐ/TĐ", "certificate_of_merit", many)).await.expect("400 recipients");
    assert_eq!(big.awards.len(), 400);
    let lists: std::collections::BTreeSet<(&str, i64)> =
        big.awards.iter().map(|a| (a.status_list_id.as_str(), a.status_list_index)).collect();
    assert_eq!(lists.len(), 400, "each award its own status bit");
    let last = big.awards.last().unwrap().award_id.clone();
    let online = verify(Subject::AwardId(last)).await;
    assert_eq!(online.outcome, aw::VerificationOutcome::Valid as i32, "{online:?}");
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awards_from_catalogue_to_verified_certificate_embedded() {
    let tp = TestPlatform::embedded_with(base_settings()).await.expect("start");
    awards_journey(tp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awards_from_catalogue_to_verified_certificate_on_the_servers() {
    let Some(urls) = real_servers("awards_from_catalogue_to_verified_certificate_on_the_servers").await else { return };
    let tp = TestPlatform::servers(urls).await.expect("start");
    awards_journey(tp).await;
}

/// Publishes `payload` as an event of `producer` (the same event id twice is one redelivery).
async fn publish<E: doan_proto::events::IntegrationEvent + prost::Message>(
    tp: &TestPlatform,
    event_id: &str,
    payload: &E,
) {
    use doan_platform::bus::EventBus;
    use prost::Message;
    let bus: std::sync::Arc<dyn EventBus> = match &tp.memory_bus {
        Some(bus) => bus.clone(),
        None => std::sync::Arc::new(doan::rabbit_bus(&tp.settings)),
    };
    let envelope = doan_proto::events::EventEnvelope {
        event_id: event_id.into(),
        event_type: E::EVENT_TYPE.into(),
        producer: "activities".into(),
        occurred_at: Some(doan_platform::convert::timestamp(chrono::Utc::now())),
        payload: payload.encode_to_vec(),
        ..Default::default()
    };
    bus.publish(&envelope, &envelope.encode_to_vec()).await.expect("publish");
}

fn at(date: &str) -> Option<prost_types::Timestamp> {
    let t = chrono::DateTime::parse_from_rfc3339(&format!("{date}T09:00:00+07:00")).unwrap().to_utc();
    Some(doan_platform::convert::timestamp(t))
}

async fn score(gw: &Gateway, token: &str, member_id: &str) -> Option<aw::GetScoreResponse> {
    let request = authed(token, aw::GetScoreRequest { member_id: member_id.into(), year: 2026, ..Default::default() });
    gw.awards.clone().get_score(request).await.ok().map(|r| r.into_inner())
}

async fn scores_journey(tp: TestPlatform) {
    use doan_proto::events as ev;
    use mem::UnitLevel::*;
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Bắc Ninh", Provincial).await;
    let grassroots = create_unit(&gw, &admin, &province, "Đoàn trường THPT Lý Thái Tổ", Grassroots).await;
    let b1 = create_unit(&gw, &admin, &grassroots, "Chi đoàn 10A1", Branch).await;
    let b2 = create_unit(&gw, &admin, &grassroots, "Chi đoàn 10A2", Branch).await;
    let provincial = officer(&gw, &admin, &province, "score.province").await;
    let (m1, m1_token) = member_login(&gw, &provincial, &b1, 11).await;
    let (m2, _) = member_login(&gw, &provincial, &b1, 12).await;
    let (m3, _) = member_login(&gw, &provincial, &b2, 13).await;
    for m in [&m1, &m2, &m3] {
        until_known("awards learns the member", || {
            let mut c = gw.awards.clone();
            let r = authed(&provincial, aw::GetScoreRequest { member_id: m.clone(), year: 2026, ..Default::default() });
            async move { c.get_score(r).await }
        })
        .await;
    }

    // Facts, some twice and some late: member 1 checks in in March (its event arrives twice, the
    // second time under a new event id); member 2's approved hours arrive before the check-in
    // they belong to (April); member 1 is rated excellent; member 3's idea is adopted; branch 1
    // meets a target and branch 2 inaugurates a project.
    let p1 = doan_platform::convert::new_id();
    let checked_in = ev::ParticipationRecorded {
        participation_id: p1.clone(),
        activity_id: doan_platform::convert::new_id(),
        activity_title: "Ngày Chủ nhật xanh".into(),
        member_id: m1.clone(),
        unit_id: b1.clone(),
        checked_in_at: at("2026-03-08"),
        points: 10,
        minutes: 120,
    };
    let first = doan_platform::convert::new_id();
    publish(&tp, &first, &checked_in).await;
    publish(&tp, &first, &checked_in).await;
    publish(&tp, &doan_platform::convert::new_id(), &checked_in).await;
    let p2 = doan_platform::convert::new_id();
    publish(
        &tp,
        &doan_platform::convert::new_id(),
        &ev::HoursApproved {
            participation_id: p2.clone(),
            activity_id: doan_platform::convert::new_id(),
            activity_title: "Hiến máu tình nguyện".into(),
            member_id: m2.clone(),
            unit_id: b1.clone(),
            minutes: 300,
            approved_at: at("2026-05-02"),
        },
    )
    .await;
    publish(
        &tp,
        &doan_platform::convert::new_id(),
        &ev::ParticipationRecorded {
            participation_id: p2,
            activity_title: "Hiến máu tình nguyện".into(),
            member_id: m2.clone(),
            unit_id: b1.clone(),
            checked_in_at: at("2026-04-19"),
            points: 10,
            minutes: 120,
            ..Default::default()
        },
    )
    .await;
    publish(
        &tp,
        &doan_platform::convert::new_id(),
        &ev::MemberRated {
            member_id: m1.clone(),
            unit_id: b1.clone(),
            period_id: doan_platform::convert::new_id(),
            year: 2026,
            rating: 1,
            ..Default::default()
        },
    )
    .await;
    publish(
        &tp,
        &doan_platform::convert::new_id(),
        &ev::IdeaAdopted {
            idea_id: doan_platform::convert::new_id(),
            member_id: m3.clone(),
            unit_id: b2.clone(),
            title: "Thư viện sách xanh".into(),
            adopted_on: "2026-06-01".into(),
        },
    )
    .await;
    publish(
        &tp,
        &doan_platform::convert::new_id(),
        &ev::TargetMet {
            target_id: doan_platform::convert::new_id(),
            unit_id: b1.clone(),
            year: 2026,
            label: "Kết nạp đoàn viên".into(),
            target: 10,
            actual: 12,
            ..Default::default()
        },
    )
    .await;
    publish(
        &tp,
        &doan_platform::convert::new_id(),
        &ev::ProjectInaugurated {
            project_id: doan_platform::convert::new_id(),
            unit_id: b2.clone(),
            name: "Sân chơi cho thiếu nhi".into(),
            value_vnd: 50_000_000,
            inaugurated_on: "2026-05-19".into(),
        },
    )
    .await;
    // Member 1 pays this month's dues in cash (membership publishes DuesPaid).
    let vn_today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    gw.membership
        .clone()
        .record_dues_payment(authed(
            &provincial,
            mem::RecordDuesPaymentRequest {
                member_id: m1.clone(),
                first_month: vn_today.format("%Y-%m").to_string(),
                months: 1,
                method: mem::PaymentMethod::Cash as i32,
                reference: String::new(),
                amount_vnd: 2000,
                paid_on: vn_today.format("%Y-%m-%d").to_string(),
            },
        ))
        .await
        .expect("dues paid");

    // Defaults (rules/emulation.toml): check-in 10, 2 an hour, rating excellent 40, dues 1,
    // idea 30, target 50, project 100.
    let s1 = doan_tests::eventually("member 1's facts", std::time::Duration::from_secs(30), || async {
        score(&gw, &m1_token, "").await.filter(|s| s.points == 10 + 4 + 40 + 1)
    })
    .await;
    assert_eq!(s1.by_month[2], 14, "March: one check-in and two hours, once: {s1:?}");
    assert_eq!(s1.by_month[11], 40 + i64::from(vn_today.format("%m").to_string() == "12"), "{s1:?}");
    assert_eq!(s1.rule.as_ref().unwrap().source, "emulation-2023");
    let s2 = doan_tests::eventually("member 2's facts", std::time::Duration::from_secs(30), || async {
        score(&gw, &provincial, &m2).await.filter(|s| s.points == 10 + 10)
    })
    .await;
    assert_eq!(s2.by_month[3], 20, "the approved 300 minutes, in the check-in's month: {s2:?}");
    let hours = s2.by_kind.iter().find(|l| l.kind == aw::ScoreKind::VolunteerHours as i32).unwrap();
    assert_eq!(hours.quantity, 300, "the organiser's minutes, not the provisional 120");
    doan_tests::eventually("member 3's idea", std::time::Duration::from_secs(30), || async {
        score(&gw, &provincial, &m3).await.filter(|s| s.points == 30)
    })
    .await;

    // The province sets its own weights for 2026: scores follow, from the same facts.
    let mut weights = s1.rule.unwrap().weights.unwrap();
    weights.participation = 20;
    let set = gw
        .awards
        .clone()
        .set_scoring_rule(authed(
            &provincial,
            aw::SetScoringRuleRequest { unit_id: province.clone(), year: 2026, weights: Some(weights.clone()) },
        ))
        .await
        .expect("the province's weights")
        .into_inner();
    assert_eq!(set.rule.unwrap().source, "unit");
    let mut bad = weights.clone();
    bad.member_rating.pop();
    let refused = gw
        .awards
        .clone()
        .set_scoring_rule(authed(
            &provincial,
            aw::SetScoringRuleRequest { unit_id: province.clone(), year: 2026, weights: Some(bad) },
        ))
        .await
        .expect_err("three ratings");
    assert!(refused.message().contains("weights.member_rating"), "{refused:?}");
    let s1 = score(&gw, &m1_token, "").await.unwrap();
    assert_eq!(s1.points, 20 + 4 + 40 + 1);

    // Leaderboards: members of the province; its branches (own facts and members'); a cluster.
    let board = |subject: aw::LeaderboardSubject, unit: &str, cluster: &str| {
        let mut c = gw.awards.clone();
        let r = authed(
            &provincial,
            aw::GetLeaderboardRequest {
                unit_id: unit.into(),
                cluster_id: cluster.into(),
                subject: subject as i32,
                year: 2026,
                ..Default::default()
            },
        );
        async move { c.get_leaderboard(r).await.expect("leaderboard").into_inner() }
    };
    let members = board(aw::LeaderboardSubject::Members, &province, "").await;
    let ranks: Vec<(String, i32, i64)> = members.rows.iter().map(|r| (r.id.clone(), r.rank, r.points)).collect();
    assert_eq!(ranks[0], (m1.clone(), 1, 65), "{ranks:?}");
    assert_eq!((ranks[1].1, ranks[1].2, ranks[2].1, ranks[2].2), (2, 30, 2, 30), "a tie shares its rank: {ranks:?}");
    let units = board(aw::LeaderboardSubject::Units, &province, "").await;
    let by_unit: Vec<(String, i64)> = units.rows.iter().map(|r| (r.id.clone(), r.points)).collect();
    assert_eq!(by_unit, vec![(b1.clone(), 65 + 30 + 50), (b2.clone(), 30 + 100)]);
    let cluster = gw
        .membership
        .clone()
        .create_cluster(authed(
            &provincial,
            mem::CreateClusterRequest {
                unit_id: province.clone(),
                name: "Cụm trường THPT".into(),
                unit_ids: vec![b2.clone(), b1.clone()],
            },
        ))
        .await
        .expect("cluster")
        .into_inner()
        .cluster
        .expect("cluster")
        .cluster_id;
    let in_cluster = doan_tests::eventually("awards learns the cluster", std::time::Duration::from_secs(30), || {
        let mut c = gw.awards.clone();
        let r = authed(
            &provincial,
            aw::GetLeaderboardRequest {
                cluster_id: cluster.clone(),
                subject: aw::LeaderboardSubject::Units as i32,
                year: 2026,
                ..Default::default()
            },
        );
        async move { c.get_leaderboard(r).await.ok().map(|b| b.into_inner()).filter(|b| b.rows.len() == 2) }
    })
    .await;
    assert_eq!(in_cluster.rows[0].id, b1);

    // Everything delivered again: nothing counts twice.
    doan_tests::redeliver_everything(&tp).await.expect("redeliver");
    publish(&tp, &doan_platform::convert::new_id(), &checked_in).await;
    let again = score(&gw, &m1_token, "").await.unwrap();
    assert_eq!(again.points, 65);
    let entries = gw
        .awards
        .clone()
        .list_score_entries(authed(&m1_token, aw::ListScoreEntriesRequest { year: 2026, ..Default::default() }))
        .await
        .expect("entries")
        .into_inner();
    let check_in = entries.entries.iter().find(|e| e.entry_id == format!("participation:{p1}")).expect("the check-in");
    assert_eq!(
        (check_in.points, check_in.title.as_str(), check_in.occurred_on.as_str()),
        (20, "Ngày Chủ nhật xanh", "2026-03-08")
    );
    assert_eq!(entries.entries.iter().filter(|e| e.kind == aw::ScoreKind::Participation as i32).count(), 1);
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulation_scores_count_each_fact_once_in_its_month_embedded() {
    let tp = TestPlatform::embedded_with(base_settings()).await.expect("start");
    scores_journey(tp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulation_scores_count_each_fact_once_in_its_month_on_the_servers() {
    let Some(urls) = real_servers("emulation_scores_count_each_fact_once_in_its_month_on_the_servers").await else {
        return;
    };
    let tp = TestPlatform::servers(urls).await.expect("start");
    scores_journey(tp).await;
}
