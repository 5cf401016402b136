//! Key rotation of sealed personal data, in both modes: values are sealed under the active key
//! and bound to their row; after the operator moves to a new key (the old one kept in
//! `pii.previous_keys`) and restarts, the re-encryption job reseals every table, the status
//! RPC shows its progress to administrators only, and everything reads and searches as before.

use std::time::Duration;

use doan_platform::crypto::{Field, FieldCipher};
use doan_proto::membership as mem;
use doan_tests::client::{Gateway, admission, authed, create_tree, officer};
use doan_tests::{ADMIN_PASSWORD, TestPlatform, base_settings, eventually, real_servers};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use secrecy::{ExposeSecret, SecretString};
use tonic::Code;

const WAIT: Duration = Duration::from_secs(30);

async fn status(gw: &Gateway, token: &str) -> Result<mem::GetEncryptionStatusResponse, tonic::Status> {
    gw.membership
        .clone()
        .get_encryption_status(authed(token, mem::GetEncryptionStatusRequest {}))
        .await
        .map(|r| r.into_inner())
}

/// The sealed values of `table`'s row `id` (by `key_column`).
async fn sealed(db: &DatabaseConnection, table: &str, key_column: &str, id: &str, columns: &[&str]) -> Vec<String> {
    let sql = format!("SELECT {} FROM {table} WHERE {key_column} = $1", columns.join(", "));
    let row = db
        .query_one_raw(doan_platform::db::statement(db, &sql, vec![id.to_string().into()]))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{table} row {id}"));
    columns.iter().map(|c| row.try_get::<String>("", c).unwrap()).collect()
}

async fn rotation(mut tp: TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let province_officer = officer(&gw, &admin, &tree.province, "keys.province").await;
    let mut request = admission(&tree.branch, 31);
    request.religion = "Phật giáo".into();
    request.phone = "0903111222".into();
    let citizen_id = request.citizen_id.clone();
    let member = gw
        .membership
        .clone()
        .admit_member(authed(&province_officer, request))
        .await
        .expect("admit")
        .into_inner()
        .member
        .unwrap();
    // A personal change, sealed in the history.
    gw.membership
        .clone()
        .update_member(authed(
            &province_officer,
            mem::UpdateMemberRequest {
                member_id: member.member_id.clone(),
                fields: vec!["phone".into()],
                phone: "0903999888".into(),
                expected_version: 1,
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "cập nhật liên hệ".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("update the phone");
    let application = gw
        .membership
        .clone()
        .submit_application(mem::SubmitApplicationRequest {
            applicant: Some(admission(&tree.branch, 32)),
            ..Default::default()
        })
        .await
        .expect("apply")
        .into_inner()
        .application_id;

    // Sealed under k1, each bound to its row and column.
    let db = tp.database("membership").await.unwrap();
    let k1 = tp.settings.pii.encryption_key.clone().unwrap().expose_secret().to_string();
    let first = FieldCipher::from_base64(&k1).unwrap();
    let columns = ["citizen_id_enc", "religion_enc", "phone_enc"];
    let stored = sealed(&db, "members", "member_id", &member.member_id, &columns).await;
    for (column, value) in columns.iter().zip(&stored) {
        assert!(value.starts_with("v2.k1."), "{column} sealed with its key id: {value}");
        assert!(!value.contains(&citizen_id) && !value.contains("Phật"));
    }
    let at = |column: &'static str| Field::new("members", column, member.member_id.as_str());
    assert_eq!(first.open(&at("religion_enc"), &stored[1]).unwrap(), "Phật giáo");
    assert!(
        first.open(&Field::new("members", "religion_enc", "another-member"), &stored[1]).is_err(),
        "bound to its row"
    );
    let before = status(&gw, &admin).await.expect("administrators read the status");
    assert_eq!((before.active_key_id.as_str(), before.index_key_id.as_str()), ("k1", "k1"));
    assert_eq!(before.key_ids, vec!["k1".to_string()]);
    assert!(before.complete, "{before:?}");
    let tables: Vec<(&str, i64, i64)> = before.tables.iter().map(|t| (t.table.as_str(), t.rows, t.remaining)).collect();
    assert_eq!(tables, vec![("members", 1, 0), ("applications", 1, 0), ("member_changes", 1, 0)]);
    // Officers, even of the whole province, do not see the keyring.
    assert_eq!(status(&gw, &province_officer).await.unwrap_err().code(), Code::PermissionDenied);

    // The operator rotates: a new key k2 seals, k1 stays to open old values and for the
    // blind indexes.
    let k2 = FieldCipher::generate_key();
    tp.settings.pii.encryption_key = Some(SecretString::from(k2.clone()));
    tp.settings.pii.key_id = "k2".into();
    tp.settings.pii.previous_keys = Some(SecretString::from(format!("k1={k1}")));
    tp.settings.pii.index_key_id = "k1".into();
    tp.restart().await.expect("restart with the new key");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", ADMIN_PASSWORD).await.unwrap();
    let province_officer = gw.login("keys.province", "officer-password-1").await.unwrap();
    let after = eventually("every table resealed under k2", WAIT, || async {
        status(&gw, &admin).await.ok().filter(|s| s.complete && s.active_key_id == "k2")
    })
    .await;
    assert_eq!(after.key_ids, vec!["k1".to_string(), "k2".to_string()]);
    assert!(after.tables.iter().all(|t| t.rows == 1 && t.current == 1), "{after:?}");

    let ring = FieldCipher::keyring("k2", &k2, &format!("k1={k1}"), "k1").unwrap();
    let resealed = sealed(&db, "members", "member_id", &member.member_id, &columns).await;
    for (column, value) in columns.iter().zip(&resealed) {
        assert!(value.starts_with("v2.k2."), "{column} resealed under k2: {value}");
    }
    assert_eq!(ring.open(&at("citizen_id_enc"), &resealed[0]).unwrap(), citizen_id);
    assert!(first.open(&at("citizen_id_enc"), &resealed[0]).is_err(), "k1 alone no longer opens it");
    let app_values = sealed(&db, "applications", "application_id", &application, &["email_enc"]).await;
    assert!(app_values[0].starts_with("v2.k2."));
    assert_eq!(
        ring.open(&Field::new("applications", "email_enc", application.as_str()), &app_values[0]).unwrap(),
        "lan@example.vn"
    );

    // Reads, history and the blind-index search work as before.
    let got = gw
        .membership
        .clone()
        .get_member(authed(
            &province_officer,
            mem::GetMemberRequest {
                member_id: member.member_id.clone(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "kiểm tra hồ sơ".into(),
            },
        ))
        .await
        .expect("get the member")
        .into_inner()
        .member
        .unwrap();
    assert_eq!(
        (got.citizen_id.as_str(), got.religion.as_str(), got.phone.as_str()),
        (citizen_id.as_str(), "Phật giáo", "0903999888")
    );
    let history = gw
        .membership
        .clone()
        .get_member_history(authed(
            &province_officer,
            mem::GetMemberHistoryRequest {
                member_id: member.member_id.clone(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "kiểm tra hồ sơ".into(),
            },
        ))
        .await
        .expect("history")
        .into_inner()
        .changes;
    let phone = history.iter().find(|c| c.field == "phone").expect("the phone change");
    assert_eq!((phone.before.as_str(), phone.after.as_str()), ("0903111222", "0903999888"));
    let found = gw
        .membership
        .clone()
        .search_members(authed(
            &province_officer,
            mem::SearchMembersRequest {
                unit_id: tree.province.clone(),
                citizen_id: citizen_id.clone(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "đối chiếu CCCD".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("search by citizen ID")
        .into_inner()
        .members;
    assert_eq!(found.len(), 1, "the blind index still finds the member");
    // New values are sealed under k2 at once.
    let second = gw
        .membership
        .clone()
        .admit_member(authed(&province_officer, admission(&tree.branch, 33)))
        .await
        .expect("admit after the rotation")
        .into_inner()
        .member
        .unwrap();
    let new_values = sealed(&db, "members", "member_id", &second.member_id, &["citizen_id_enc"]).await;
    assert!(new_values[0].starts_with("v2.k2."));
    tp.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_resealed_under_a_new_key_embedded() {
    let tp = TestPlatform::embedded_with(base_settings()).await.expect("start");
    rotation(tp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_resealed_under_a_new_key_on_the_real_servers() {
    let Some(urls) = real_servers("personal_data_is_resealed_under_a_new_key_on_the_real_servers").await else {
        return;
    };
    let tp = TestPlatform::servers(urls).await.expect("start");
    rotation(tp).await;
}
