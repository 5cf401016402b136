//! The provider adapters against the fakes, no services: FCM HTTP v1 with its OAuth token,
//! APNs with its provider token, SMTP with Vietnamese text. Each error a provider documents
//! comes back as the outcome the dispatcher acts on.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use doan_notifications::channels::{Apns, Channels, Fcm, Mailer, Outcome, Push};
use doan_platform::clock::Clock;
use doan_platform::config::{ChannelsSettings, SmtpSettings};
use doan_tests::fakes::{ApnsScript, FakeApns, FakeFcm, FcmScript, SmtpScript, SmtpSink};
use secrecy::SecretString;
use unicode_normalization::UnicodeNormalization;

const SECS: Duration = Duration::from_secs(5);

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn push(token: &str) -> Push {
    Push {
        id: uuid::Uuid::new_v4().to_string(),
        token: token.into(),
        title: "Thông báo: Đại hội Đoàn các cấp".into(),
        body: "Kính gửi đồng chí: Đại hội diễn ra ở Hội trường Tỉnh Đoàn.".into(),
        data: vec![("notice_id".into(), "n-1".into()), ("broadcast_id".into(), "b-1".into())],
        urgent: true,
        expires_at: None,
        collapse_id: None,
    }
}

fn is_sent(o: &Outcome) -> bool {
    matches!(o, Outcome::Sent { .. })
}

// ---------------------------------------------------------------------------------------- FCM

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_sends_with_one_token_for_many_messages_and_renews_it_before_expiry() {
    let clock = Clock::fixed(t("2026-11-23T01:00:00Z"));
    let fake = FakeFcm::start_at(clock.clone()).await.unwrap();
    let fcm = Arc::new(Fcm::new(&fake.settings(), clock.clone()).unwrap().expect("credentials set"));

    // 200 messages at once, over two HTTP/2 connections: one token request.
    let sends = (0..200).map(|i| {
        let fcm = fcm.clone();
        tokio::spawn(async move {
            let mut p = push(&format!("android-{i}"));
            p.expires_at = Some(t("2026-11-23T02:00:00Z"));
            p.collapse_id = Some("dai-hoi".into());
            fcm.send(&p).await
        })
    });
    for o in futures_util::future::join_all(sends).await {
        let o = o.unwrap();
        let Outcome::Sent { provider_id } = &o else { panic!("{o:?}") };
        assert!(provider_id.starts_with("projects/doan-test/messages/"), "{provider_id}");
    }
    assert_eq!(fake.token_requests(), 1);
    assert_eq!(fake.sent_count(), 200);
    assert!(fake.connections() <= 2, "{} connections", fake.connections());
    let received = fake.received();
    let first = received.iter().find(|r| r.token == "android-7").expect("android-7 received");
    assert_eq!(first.title, "Thông báo: Đại hội Đoàn các cấp");
    assert_eq!(first.body, "Kính gửi đồng chí: Đại hội diễn ra ở Hội trường Tỉnh Đoàn.");
    assert_eq!(first.data.get("notice_id").map(String::as_str), Some("n-1"));
    assert_eq!(first.data.get("broadcast_id").map(String::as_str), Some("b-1"));
    assert_eq!(first.android["priority"], "HIGH");
    assert_eq!(first.android["ttl"], "3600s");
    assert_eq!(first.android["collapse_key"], "dai-hoi");

    // 54 minutes on: still more than 5 minutes left, the token is reused.
    clock.set(t("2026-11-23T01:54:00Z"));
    assert!(is_sent(&fcm.send(&push("android-a")).await));
    assert_eq!(fake.token_requests(), 1);
    // 56 minutes on: less than 5 minutes left (the fake's tokens live 3599 s), renewed once.
    clock.set(t("2026-11-23T01:56:00Z"));
    let again = (0..20).map(|i| {
        let fcm = fcm.clone();
        tokio::spawn(async move { fcm.send(&push(&format!("android-b{i}"))).await })
    });
    for o in futures_util::future::join_all(again).await {
        assert!(is_sent(&o.unwrap()));
    }
    assert_eq!(fake.token_requests(), 2);
    let p = Push { urgent: false, ..push("android-normal") };
    assert!(is_sent(&fcm.send(&p).await));
    assert_eq!(fake.received().last().unwrap().android, serde_json::json!({"priority": "NORMAL"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_renews_a_refused_access_token_once_and_sends() {
    let fake = FakeFcm::start().await.unwrap();
    let fcm = Fcm::new(&fake.settings(), Clock::system()).unwrap().unwrap();
    assert!(is_sent(&fcm.send(&push("tok-1")).await));
    fake.revoke_access_tokens();
    let o = fcm.send(&push("tok-2")).await;
    assert!(is_sent(&o), "{o:?}");
    assert_eq!(fake.token_requests(), 2);
    assert_eq!(fake.sent_count(), 2);

    // `token_url` in the settings wins over the key file's `token_uri`.
    let mut key: serde_json::Value = serde_json::from_slice(&std::fs::read(fake.credentials_file()).unwrap()).unwrap();
    key["token_uri"] = "http://127.0.0.1:9/token".into();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    std::fs::write(&path, key.to_string()).unwrap();
    let mut settings = fake.settings();
    settings.credentials_file = Some(path);
    settings.token_url = Some(fake.token_url());
    let fcm = Fcm::new(&settings, Clock::system()).unwrap().unwrap();
    assert!(is_sent(&fcm.send(&push("tok-3")).await));
    assert_eq!(fake.token_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_errors_map_to_outcomes() {
    let fake = FakeFcm::start().await.unwrap();
    let fcm = Fcm::new(&fake.settings(), Clock::system()).unwrap().unwrap();
    fake.script("gone", FcmScript::Unregistered);
    fake.script("bad", FcmScript::InvalidToken);
    fake.script("other-sender", FcmScript::SenderIdMismatch);
    fake.script("quota", FcmScript::QuotaExceeded { retry_after_secs: 1 });
    fake.script("busy", FcmScript::UnavailableThen { failures: 1, retry_after_secs: 7 });
    fake.script("oops", FcmScript::Internal);
    fake.script("apns-cred", FcmScript::ThirdPartyAuth);

    for token in ["gone", "bad", "other-sender"] {
        let o = fcm.send(&push(token)).await;
        assert!(matches!(o, Outcome::DeviceGone { .. }), "{token}: {o:?}");
    }
    let o = fcm.send(&push("quota")).await;
    assert!(matches!(o, Outcome::Retry { after: Some(d), .. } if d >= Duration::from_secs(60)), "{o:?}");
    let o = fcm.send(&push("busy")).await;
    assert!(matches!(o, Outcome::Retry { after: Some(d), .. } if d == Duration::from_secs(7)), "{o:?}");
    assert!(is_sent(&fcm.send(&push("busy")).await), "503 then 200");
    let o = fcm.send(&push("oops")).await;
    assert!(matches!(o, Outcome::Retry { .. }), "{o:?}");
    let o = fcm.send(&push("apns-cred")).await;
    assert!(matches!(o, Outcome::Halt { .. }), "{o:?}");
    // One token served every one of them: the 401 THIRD_PARTY_AUTH_ERROR is not ours.
    assert_eq!(fake.token_requests(), 1);
    assert!(fake.wait_for(8, SECS).await);

    // An expired notice is not sent.
    let p = Push { expires_at: Some(Utc::now() - TimeDelta::minutes(1)), ..push("late") };
    assert!(matches!(fcm.send(&p).await, Outcome::Failed { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_halts_when_the_token_endpoint_refuses_the_key() {
    let fake = FakeFcm::start().await.unwrap();
    fake.refuse_tokens(true);
    let fcm = Arc::new(Fcm::new(&fake.settings(), Clock::system()).unwrap().unwrap());
    let o = fcm.send(&push("tok")).await;
    let Outcome::Halt { reason } = &o else { panic!("{o:?}") };
    assert!(reason.contains("invalid_grant"), "{reason}");
    assert!(!reason.contains("PRIVATE KEY") && !reason.contains("ya29."), "{reason}");
    // Senders waiting on a renewal share its failure instead of asking again, one by one.
    let sends = (0..50).map(|i| {
        let fcm = fcm.clone();
        tokio::spawn(async move { fcm.send(&push(&format!("tok-{i}"))).await })
    });
    for o in futures_util::future::join_all(sends).await {
        assert!(matches!(o.unwrap(), Outcome::Halt { .. }));
    }
    assert!(fake.token_requests() < 25, "{} token requests", fake.token_requests());
    assert_eq!(fake.sent_count(), 0);
    // Once the key is accepted again, sending resumes.
    fake.refuse_tokens(false);
    assert!(is_sent(&fcm.send(&push("tok")).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_retries_after_a_timeout_and_is_off_without_credentials() {
    // A server that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s);
        }
    });
    let fake = FakeFcm::start().await.unwrap();
    let mut settings = fake.settings();
    settings.base_url = format!("http://{addr}");
    settings.timeout_ms = 300;
    let fcm = Fcm::new(&settings, Clock::system()).unwrap().unwrap();
    let o = fcm.send(&push("tok")).await;
    assert!(matches!(&o, Outcome::Retry { reason, .. } if reason.contains("timed out")), "{o:?}");
    held.abort();

    settings.credentials_file = None;
    assert!(Fcm::new(&settings, Clock::system()).unwrap().is_none());
}

// --------------------------------------------------------------------------------------- APNs

const DEVICE: &str = "5f2d1c0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e";

fn device(n: u32) -> String {
    format!("{n:064x}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_sends_with_the_documented_headers_and_payload() {
    let clock = Clock::fixed(t("2026-11-23T01:00:00Z"));
    let fake = FakeApns::start_at(clock.clone()).await.unwrap();
    let apns = Arc::new(Apns::new(&fake.settings(), clock.clone()).unwrap().expect("key set"));
    let mut p = push(DEVICE);
    p.expires_at = Some(t("2026-11-24T01:00:00Z"));
    p.collapse_id = Some("dai-hoi-2026".into());
    let o = apns.send(&p, false).await;
    assert_eq!(o, Outcome::Sent { provider_id: p.id.clone() });
    let r = fake.received().pop().unwrap();
    assert_eq!(r.token, DEVICE);
    assert_eq!(r.topic.as_deref(), Some(fake.topic()));
    assert_eq!(r.push_type.as_deref(), Some("alert"));
    assert_eq!(r.priority.as_deref(), Some("10"));
    assert_eq!(r.expiration, Some(t("2026-11-24T01:00:00Z").timestamp().to_string()));
    assert_eq!(r.apns_id.as_deref(), Some(p.id.as_str()));
    assert_eq!(r.collapse_id.as_deref(), Some("dai-hoi-2026"));
    assert_eq!(r.jwt_iat, clock.now().timestamp());
    assert_eq!(
        r.body,
        serde_json::json!({
            "aps": {"alert": {"title": p.title, "body": p.body}, "sound": "default"},
            "notice_id": "n-1",
            "broadcast_id": "b-1",
        })
    );

    // Not urgent, no expiry, the sandbox endpoint (the same fake here).
    let p = Push { urgent: false, ..push(DEVICE) };
    assert!(is_sent(&apns.send(&p, true).await));
    let r = fake.received().pop().unwrap();
    assert_eq!(r.priority.as_deref(), Some("5"));
    assert_eq!(r.expiration, None);
    assert_eq!(r.collapse_id, None);

    // Many at once share one provider token over at most two connections.
    let sends = (0..300).map(|i| {
        let apns = apns.clone();
        tokio::spawn(async move { apns.send(&push(&device(i)), false).await })
    });
    for o in futures_util::future::join_all(sends).await {
        assert!(is_sent(&o.unwrap()));
    }
    assert!(fake.connections() <= 4, "{} connections", fake.connections());
    assert!(fake.received().iter().all(|r| r.jwt_iat == clock.now().timestamp()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_errors_map_to_outcomes() {
    let fake = FakeApns::start().await.unwrap();
    let apns = Apns::new(&fake.settings(), Clock::system()).unwrap().unwrap();
    let (bad, not_topic, unregistered, busy, down, big) =
        (device(1), device(2), device(3), device(4), device(5), device(6));
    fake.script(&bad, ApnsScript::BadDeviceToken);
    fake.script(&not_topic, ApnsScript::DeviceTokenNotForTopic);
    fake.script(&unregistered, ApnsScript::Unregistered { timestamp_ms: 1_763_860_000_000 });
    fake.script(&busy, ApnsScript::TooManyRequests);
    fake.script(&down, ApnsScript::ServiceUnavailableThen { failures: 1 });
    fake.script(&big, ApnsScript::PayloadTooLarge);

    for token in [&bad, &not_topic] {
        let o = apns.send(&push(token), false).await;
        assert!(matches!(o, Outcome::DeviceGone { .. }), "{o:?}");
    }
    let o = apns.send(&push(&unregistered), false).await;
    let Outcome::DeviceGone { reason } = &o else { panic!("{o:?}") };
    assert!(reason.contains("Unregistered") && reason.contains("1763860000000"), "{reason}");
    assert_eq!(
        doan_notifications::channels::apns::gone_since(reason),
        DateTime::from_timestamp_millis(1_763_860_000_000)
    );
    assert!(matches!(apns.send(&push(&busy), false).await, Outcome::Retry { .. }));
    assert!(matches!(apns.send(&push(&down), false).await, Outcome::Retry { .. }));
    assert!(is_sent(&apns.send(&push(&down), false).await), "503 then 200");
    assert!(matches!(apns.send(&push(&big), false).await, Outcome::Failed { .. }));
    assert!(fake.wait_for(7, SECS).await);

    // Caught before sending: a token that is not hex, a payload over 4096 bytes.
    assert!(matches!(apns.send(&push("not-a-token"), false).await, Outcome::DeviceGone { .. }));
    let huge = Push { body: "Đoàn ".repeat(1000), ..push(DEVICE) };
    assert!(matches!(apns.send(&huge, false).await, Outcome::Failed { .. }));
    assert_eq!(fake.received().len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_re_signs_an_expired_provider_token_and_every_forty_minutes() {
    let clock = Clock::fixed(t("2026-11-23T01:00:00Z"));
    let fake = FakeApns::start_at(clock.clone()).await.unwrap();
    let apns = Apns::new(&fake.settings(), clock.clone()).unwrap().unwrap();
    let start = clock.now().timestamp();
    assert!(is_sent(&apns.send(&push(&device(1)), false).await));

    // Ten minutes on, APNs calls the token expired: re-signed (iat now) and sent.
    clock.set(t("2026-11-23T01:10:00Z"));
    fake.script(&device(2), ApnsScript::ExpiredProviderTokenOnce);
    let o = apns.send(&push(&device(2)), false).await;
    assert!(is_sent(&o), "{o:?}");
    let seen: Vec<(String, i64, u16)> = fake.received().into_iter().map(|r| (r.token, r.jwt_iat, r.status)).collect();
    let resigned = clock.now().timestamp();
    assert_eq!(seen, vec![(device(1), start, 200), (device(2), start, 403), (device(2), resigned, 200)]);

    // 39 minutes after that signature the token is kept; at 40 it is signed anew.
    clock.set(t("2026-11-23T01:49:00Z"));
    assert!(is_sent(&apns.send(&push(&device(3)), false).await));
    assert_eq!(fake.received().pop().unwrap().jwt_iat, resigned);
    clock.set(t("2026-11-23T01:50:00Z"));
    assert!(is_sent(&apns.send(&push(&device(4)), false).await));
    assert_eq!(fake.received().pop().unwrap().jwt_iat, clock.now().timestamp());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_halts_on_a_provider_token_apple_does_not_know() {
    let fake = FakeApns::start().await.unwrap();
    let mut settings = fake.settings();
    settings.key_id = "WRONGKEY01".into();
    let apns = Apns::new(&settings, Clock::system()).unwrap().unwrap();
    let o = apns.send(&push(DEVICE), false).await;
    let Outcome::Halt { reason } = &o else { panic!("{o:?}") };
    assert!(reason.contains("InvalidProviderToken"), "{reason}");
    assert!(!reason.contains("bearer"), "{reason}");
    settings.key_file = None;
    assert!(Apns::new(&settings, Clock::system()).unwrap().is_none());
}

// --------------------------------------------------------------------------------------- SMTP

fn smtp_settings(url: &str) -> SmtpSettings {
    SmtpSettings {
        url: Some(SecretString::from(url.to_string())),
        from: "Đoàn TNCS Hồ Chí Minh <thongbao@doan.local>".into(),
        pool_size: 2,
        timeout_ms: 5000,
    }
}

/// Every tone mark (ngang, huyền, sắc, hỏi, ngã, nặng) and Đ, in a subject long enough for
/// several encoded words.
const SUBJECT: &str = "Thông báo: Đại hội Đoàn các cấp — Tỉnh Đoàn Quảng Ngãi, nhiệm kỳ 2027–2032";
const BODY: &str = "Kính gửi các đồng chí đoàn viên,\n\n\
Ban Chấp hành Tỉnh Đoàn thông báo: Đại hội Đoàn các cấp sẽ diễn ra vào ngày 24/11.\n\
Đề nghị các chi đoàn chuẩn bị đầy đủ hồ sơ, đúng hạn; những vướng mắc xin hỏi văn phòng.\n\
.Một dòng bắt đầu bằng dấu chấm.\n\
Chữ có dấu: à á ả ã ạ ằ ắ ẳ ẵ ặ ầ ấ ẩ ẫ ậ è é ẻ ẽ ẹ ề ế ể ễ ệ ì í ỉ ĩ ị ò ó ỏ õ ọ ồ ố ổ ỗ ộ ờ ớ ở ỡ ợ ù ú ủ ũ ụ ừ ứ ử ữ ự ỳ ý ỷ ỹ ỵ Đ đ\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_carries_vietnamese_in_ascii_headers_that_decode_to_the_original() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = Mailer::new(&smtp_settings(&sink.url())).unwrap().expect("url set");
    let o = mailer.send("nguyen.van.a@example.vn", SUBJECT, BODY).await;
    let Outcome::Sent { provider_id } = &o else { panic!("{o:?}") };
    assert!(provider_id.starts_with("250"), "{provider_id}");

    let messages = sink.wait_for(1, SECS).await.expect("one message");
    let m = &messages[0];
    assert_eq!(m.from, "thongbao@doan.local");
    assert_eq!(m.to, vec!["nguyen.van.a@example.vn".to_string()]);
    assert!(m.data.is_ascii(), "the raw message is 7-bit");
    let raw = String::from_utf8(m.data.clone()).unwrap();
    let (headers, _) = raw.split_once("\r\n\r\n").expect("headers end");
    assert!(headers.contains("\r\nMessage-ID: <"), "{headers}");
    let subject_lines: Vec<&str> = headers
        .split("\r\n")
        .skip_while(|l| !l.starts_with("Subject:"))
        .take_while(|l| l.starts_with("Subject:") || l.starts_with(' ') || l.starts_with('\t'))
        .collect();
    assert!(subject_lines.len() > 1, "a long subject folds: {subject_lines:?}");
    let words: Vec<&str> =
        subject_lines.iter().flat_map(|l| l.split_whitespace()).filter(|w| w.starts_with("=?")).collect();
    assert!(words.len() > 1, "{words:?}");
    for w in &words {
        assert!(w.len() <= 75, "encoded word of {} characters: {w}", w.len());
        assert!(w.to_ascii_lowercase().starts_with("=?utf-8?") && w.ends_with("?="), "{w}");
    }

    let parsed = mail_parser::MessageParser::default().parse(&m.data).expect("parses");
    let subject: String = parsed.subject().expect("subject").nfc().collect();
    assert_eq!(subject, SUBJECT.nfc().collect::<String>());
    let body: String = parsed.body_text(0).expect("text body").replace("\r\n", "\n").nfc().collect();
    assert_eq!(body.trim_end(), BODY.nfc().collect::<String>().trim_end());
    let from = parsed.from().and_then(|f| f.first()).expect("from");
    assert_eq!(from.name(), Some("Đoàn TNCS Hồ Chí Minh"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_rejections_fail_and_deferrals_retry() {
    let sink = SmtpSink::start().await.unwrap();
    sink.script("nobody@example.vn", SmtpScript::Reject550);
    sink.script("later@example.vn", SmtpScript::TempFail451);
    let mailer = Mailer::new(&smtp_settings(&sink.url())).unwrap().unwrap();
    let o = mailer.send("nobody@example.vn", "Thông báo", "Nội dung").await;
    assert!(matches!(&o, Outcome::Failed { reason } if reason.contains("550")), "{o:?}");
    let o = mailer.send("later@example.vn", "Thông báo", "Nội dung").await;
    assert!(matches!(&o, Outcome::Retry { reason, .. } if reason.contains("451")), "{o:?}");
    assert!(matches!(mailer.send("not an address", "x", "y").await, Outcome::Failed { .. }));
    // The pool still delivers after the refusals.
    assert!(is_sent(&mailer.send("ok@example.vn", "Thông báo", "Nội dung").await));
    assert_eq!(sink.messages().len(), 1);

    // Nobody listening: try again later.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", closed.local_addr().unwrap());
    drop(closed);
    let mailer = Mailer::new(&smtp_settings(&url)).unwrap().unwrap();
    assert!(matches!(mailer.send("ok@example.vn", "x", "y").await, Outcome::Retry { .. }));
}

// ------------------------------------------------------------------------------------ together

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_come_from_settings_and_are_off_without_credentials() {
    let base = doan_platform::config::Settings::load_with(None, Vec::<(String, String)>::new()).unwrap();
    let off = Channels::from_settings(&base.channels, Clock::system()).unwrap();
    assert!(off.fcm.is_none() && off.apns.is_none() && off.mail.is_none());

    let (fcm, apns, sink) =
        (FakeFcm::start().await.unwrap(), FakeApns::start().await.unwrap(), SmtpSink::start().await.unwrap());
    let settings = ChannelsSettings {
        fcm: fcm.settings(),
        apns: apns.settings(),
        smtp: smtp_settings(&sink.url()),
        ..base.channels
    };
    let channels = Arc::new(Channels::from_settings(&settings, Clock::system()).unwrap());
    let c = channels.clone();
    let task = tokio::spawn(async move {
        let fcm = c.fcm.as_ref().unwrap().send(&push("android")).await;
        let apns = c.apns.as_ref().unwrap().send(&push(DEVICE), false).await;
        let mail = c.mail.as_ref().unwrap().send("a@example.vn", "Thông báo", "Xin chào").await;
        [fcm, apns, mail]
    });
    for o in task.await.unwrap() {
        assert!(is_sent(&o), "{o:?}");
    }
}

// -------------------------------------------------------------------------------- measurement

/// Pushes through both HTTP adapters and fakes at once, as the fan-out does (FCM: 9
/// connections, 900 in flight; APNs: 4 connections, 1,000 in flight): every push arrives,
/// over no more connections than the lanes open; prints the rate (a measurement with
/// `DOAN_CHANNELS_PUSHES=90000 cargo test --release -p doan-tests --test channels -- concurrent`;
/// the benchmark of record is `doan-bench announce`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_all_arrive_within_the_lanes_connections() {
    let n: usize = std::env::var("DOAN_CHANNELS_PUSHES").ok().and_then(|v| v.parse().ok()).unwrap_or(4_000);
    let (fake_fcm, fake_apns) = (FakeFcm::start().await.unwrap(), FakeApns::start().await.unwrap());
    let mut fcm_settings = fake_fcm.settings();
    (fcm_settings.connections, fcm_settings.max_in_flight) = (9, 900);
    let mut apns_settings = fake_apns.settings();
    (apns_settings.connections, apns_settings.max_in_flight) = (4, 1000);
    let fcm = Arc::new(Fcm::new(&fcm_settings, Clock::system()).unwrap().unwrap());
    let apns = Arc::new(Apns::new(&apns_settings, Clock::system()).unwrap().unwrap());
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (fcm, apns) = (fcm.clone(), apns.clone());
            tokio::spawn(async move {
                if i % 2 == 0 {
                    fcm.send(&push(&format!("android-{i}"))).await
                } else {
                    apns.send(&push(&device(i as u32)), false).await
                }
            })
        })
        .collect();
    let mut sent = 0;
    for t in tasks {
        sent += usize::from(is_sent(&t.await.unwrap()));
    }
    let elapsed = started.elapsed();
    println!(
        "{n} pushes in {elapsed:?}: {:.0}/s ({} FCM, {} APNs connections)",
        n as f64 / elapsed.as_secs_f64(),
        fake_fcm.connections(),
        fake_apns.connections()
    );
    assert_eq!(sent, n);
    assert_eq!(fake_fcm.sent_count() + fake_apns.sent_count(), n);
    assert!(fake_fcm.connections() <= 9 && fake_apns.connections() <= 4, "the lanes' connections only");
}
