//! Push and email end to end, through the gateway, in both modes, against local fakes that
//! speak FCM HTTP v1, APNs and SMTP: devices registered by the app, a directive pushed to
//! Android and iOS and mailed, the app's delivery confirmation, a token the provider no longer
//! knows (the device is removed), a provider that answers 503 once (retried), and quiet hours
//! (held, then one digest when they end; an urgent notice goes through).

use std::time::Duration;

use chrono::Utc;
use doan_platform::clock::Clock;
use doan_proto::notifications as notif;
use doan_tests::client::{Gateway, authed, create_tree, member_login, officer};
use doan_tests::fakes::{FakeApns, FakeFcm, FcmScript, SmtpSink};
use doan_tests::{TestPlatform, base_settings, eventually, real_servers};
use secrecy::SecretString;

const WAIT: Duration = Duration::from_secs(30);
const IOS_TOKEN: &str = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1";

struct Fakes {
    fcm: FakeFcm,
    apns: FakeApns,
    smtp: SmtpSink,
}

async fn fakes(clock: &Clock) -> Fakes {
    Fakes {
        fcm: FakeFcm::start_at(clock.clone()).await.expect("fcm fake"),
        apns: FakeApns::start_at(clock.clone()).await.expect("apns fake"),
        smtp: SmtpSink::start().await.expect("smtp sink"),
    }
}

fn configure(s: &mut doan_platform::config::Settings, f: &Fakes) {
    s.channels.fcm = f.fcm.settings();
    s.channels.apns = f.apns.settings();
    s.channels.smtp.url = Some(SecretString::from(f.smtp.url()));
    s.channels.retry_base_ms = 200;
    s.channels.dispatch_poll_ms = 100;
    s.broadcasts.watch_every_secs = 1;
    s.auth.token_ttl_secs = 3 * 24 * 3600;
}

async fn register(gw: &Gateway, token: &str, platform: notif::Platform, push_token: &str) -> notif::Device {
    gw.notifications
        .clone()
        .register_device(authed(
            token,
            notif::RegisterDeviceRequest { platform: platform as i32, token: push_token.into(), apns_sandbox: false },
        ))
        .await
        .expect("register device")
        .into_inner()
        .device
        .expect("device")
}

async fn send(
    gw: &Gateway,
    officer: &str,
    member: &str,
    kind: notif::BroadcastKind,
    title: &str,
    urgent: bool,
) -> String {
    let deadline = (kind == notif::BroadcastKind::Directive)
        .then(|| doan_platform::convert::timestamp(Utc::now() + chrono::Duration::days(5)));
    gw.notifications
        .clone()
        .create_broadcast(authed(
            officer,
            notif::CreateBroadcastRequest {
                kind: kind as i32,
                title: title.into(),
                body: "Đề nghị các đồng chí triển khai và báo cáo kết quả về Tỉnh đoàn.".into(),
                audience: Some(notif::Audience { target: Some(notif::audience::Target::MemberId(member.into())) }),
                urgent,
                acknowledgement_required: deadline.is_some(),
                deadline,
                ..Default::default()
            },
        ))
        .await
        .expect("broadcast")
        .into_inner()
        .broadcast
        .expect("broadcast")
        .broadcast_id
}

async fn statistics(gw: &Gateway, officer: &str, id: &str) -> notif::BroadcastStatistics {
    gw.notifications
        .clone()
        .get_broadcast(authed(officer, notif::GetBroadcastRequest { broadcast_id: id.into() }))
        .await
        .expect("get")
        .into_inner()
        .broadcast
        .expect("broadcast")
        .statistics
        .expect("statistics")
}

fn channel(s: &notif::BroadcastStatistics, c: notif::Channel) -> notif::ChannelStatistics {
    s.channels.iter().find(|x| x.channel == c as i32).cloned().unwrap_or_default()
}

async fn devices(gw: &Gateway, token: &str) -> Vec<notif::Device> {
    gw.notifications
        .clone()
        .list_my_devices(authed(token, notif::ListMyDevicesRequest {}))
        .await
        .expect("devices")
        .into_inner()
        .devices
}

async fn flow(tp: &TestPlatform, f: &Fakes, clock: Clock) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "push.officer").await;
    let (member, token) = member_login(&gw, &officer, &tree.branch, 1).await;

    // The app registers an Android and an iPhone; the member gives an address for email.
    let android = register(&gw, &token, notif::Platform::Android, "fcm-token-lan-1").await;
    let again = register(&gw, &token, notif::Platform::Android, "fcm-token-lan-1").await;
    assert_eq!(again.device_id, android.device_id, "registering again refreshes the same device");
    let iphone = register(&gw, &token, notif::Platform::Ios, IOS_TOKEN).await;
    assert_eq!(iphone.token_suffix, &IOS_TOKEN[56..], "only the token's end is shown");
    gw.notifications
        .clone()
        .update_preferences(authed(
            &token,
            notif::UpdatePreferencesRequest {
                preferences: Some(notif::Preferences { email: "lan@example.vn".into(), ..Default::default() }),
            },
        ))
        .await
        .expect("preferences");

    // A directive: pushed to both devices and mailed (directives go by email by default).
    let title = "Thông báo: Đại hội Đoàn các cấp";
    let id = send(&gw, &officer, &member, notif::BroadcastKind::Directive, title, false).await;
    assert!(f.fcm.wait_for(1, WAIT).await, "FCM received the push");
    assert!(f.apns.wait_for(1, WAIT).await, "APNs received the push");
    let mail = f.smtp.wait_for(1, WAIT).await.expect("the email arrived");
    let fcm = f.fcm.received().into_iter().find(|r| r.token == "fcm-token-lan-1").expect("to the Android token");
    assert_eq!(fcm.title, format!("Văn bản chỉ đạo: {title}"));
    assert_eq!(fcm.data.get("broadcast_id"), Some(&id));
    let notice_id = fcm.data.get("notice_id").cloned().expect("the notice id rides along");
    let apns = f.apns.received().into_iter().find(|r| r.token == IOS_TOKEN).expect("to the iPhone");
    assert_eq!(apns.body["aps"]["alert"]["title"], format!("Văn bản chỉ đạo: {title}"));
    assert_eq!(mail[0].to, vec!["lan@example.vn".to_string()]);
    let parsed = mail_parser::MessageParser::default().parse(&mail[0].data).expect("a parsable message");
    assert!(parsed.subject().unwrap_or_default().contains(title), "{:?}", parsed.subject());
    let raw = String::from_utf8_lossy(&mail[0].data).to_string();
    let headers = raw.split("\r\n\r\n").next().unwrap_or_default();
    assert!(headers.is_ascii(), "headers are 7-bit on the wire (RFC 2047 words): {headers}");
    let stats = eventually("push and email sent", WAIT, || async {
        let s = statistics(&gw, &officer, &id).await;
        (channel(&s, notif::Channel::Push).sent == 2 && channel(&s, notif::Channel::Email).sent == 1).then_some(s)
    })
    .await;
    assert_eq!(stats.recipients, 1);

    // The app confirms the push reached the Android device.
    let confirmed = gw
        .notifications
        .clone()
        .confirm_delivery(authed(
            &token,
            notif::ConfirmDeliveryRequest { notification_id: notice_id.clone(), device_id: android.device_id.clone() },
        ))
        .await
        .expect("confirm")
        .into_inner()
        .deliveries;
    let state_of = |device: &str| confirmed.iter().find(|d| d.device_id == device).map(|d| d.state);
    assert_eq!(state_of(&android.device_id), Some(notif::DeliveryState::Delivered as i32));
    assert_eq!(state_of(&iphone.device_id), Some(notif::DeliveryState::Sent as i32));

    // A token FCM no longer knows: the device is removed; one that fails once is retried.
    f.fcm.script("fcm-token-gone", FcmScript::Unregistered);
    f.fcm.script("fcm-token-flaky", FcmScript::UnavailableThen { failures: 1, retry_after_secs: 1 });
    let gone = register(&gw, &token, notif::Platform::Android, "fcm-token-gone").await;
    register(&gw, &token, notif::Platform::Android, "fcm-token-flaky").await;
    let id2 = send(&gw, &officer, &member, notif::BroadcastKind::Announcement, "Lịch sinh hoạt", false).await;
    eventually("the unknown token's device removed", WAIT, || async {
        devices(&gw, &token).await.iter().all(|d| d.device_id != gone.device_id).then_some(())
    })
    .await;
    // The platform's clock is fixed: time moves a second per look, so the retry comes due.
    let stats = eventually("the flaky token retried and sent", WAIT, || async {
        clock.set(clock.now() + chrono::Duration::seconds(1));
        let s = statistics(&gw, &officer, &id2).await;
        let p = channel(&s, notif::Channel::Push);
        (p.sent == 3 && p.failed == 1).then_some(s)
    })
    .await;
    assert_eq!(channel(&stats, notif::Channel::Email).sent, 0, "announcements are not mailed by default");
    let flaky: Vec<_> = f.fcm.received().into_iter().filter(|r| r.token == "fcm-token-flaky").collect();
    assert_eq!(flaky.iter().map(|r| r.status).collect::<Vec<_>>(), vec![503, 200]);

    // Quiet hours around now, in the member's zone: an announcement waits, an urgent one does not.
    let local = clock.now().with_timezone(&doan_platform::clock::vietnam());
    let start = (local - chrono::Duration::hours(1)).format("%H:%M").to_string();
    let end = (local + chrono::Duration::hours(1)).format("%H:%M").to_string();
    gw.notifications
        .clone()
        .update_preferences(authed(
            &token,
            notif::UpdatePreferencesRequest {
                preferences: Some(notif::Preferences {
                    quiet_hours_start: start,
                    quiet_hours_end: end,
                    language: "en".into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .expect("quiet hours");
    let before = f.fcm.received().len();
    let held = send(&gw, &officer, &member, notif::BroadcastKind::Announcement, "Tin vui", false).await;
    // A held announcement revoked: its pushes are cancelled, never sent nor digested.
    let withdrawn = send(&gw, &officer, &member, notif::BroadcastKind::Announcement, "Tin rút lại", false).await;
    eventually("the withdrawn announcement held", WAIT, || async {
        (channel(&statistics(&gw, &officer, &withdrawn).await, notif::Channel::Push).held == 3).then_some(())
    })
    .await;
    gw.notifications
        .clone()
        .revoke_broadcast(authed(
            &officer,
            notif::RevokeBroadcastRequest { broadcast_id: withdrawn.clone(), reason: "Nhầm".into() },
        ))
        .await
        .expect("revoke");
    assert_eq!(channel(&statistics(&gw, &officer, &withdrawn).await, notif::Channel::Push).cancelled, 3);
    let urgent = send(&gw, &officer, &member, notif::BroadcastKind::Announcement, "Khẩn: hoãn hội nghị", true).await;
    eventually("the urgent push through quiet hours", WAIT, || async {
        let s = statistics(&gw, &officer, &urgent).await;
        (channel(&s, notif::Channel::Push).sent == 3).then_some(())
    })
    .await;
    let s = statistics(&gw, &officer, &held).await;
    assert_eq!(channel(&s, notif::Channel::Push).held, 3, "held on every device: {s:?}");
    let urgent_titles: Vec<String> = f.fcm.received()[before..].iter().map(|r| r.title.clone()).collect();
    assert!(urgent_titles.iter().all(|t| t.starts_with("Announcement: Khẩn")), "{urgent_titles:?}");

    // Quiet hours end: one digest per device, in English.
    clock.set(clock.now() + chrono::Duration::hours(1) + chrono::Duration::minutes(5));
    let digest = eventually("the digest", WAIT, || async {
        f.fcm.received().into_iter().find(|r| r.token == "fcm-token-lan-1" && r.title.starts_with("You have"))
    })
    .await;
    assert_eq!(digest.title, "You have 1 new notice");
    assert!(digest.body.contains("Tin vui") && !digest.body.contains("Tin rút lại"), "{}", digest.body);
    let s = statistics(&gw, &officer, &held).await;
    assert_eq!(channel(&s, notif::Channel::Push).digested, 3);

    // Sign-out on the iPhone: it receives nothing more.
    gw.notifications
        .clone()
        .unregister_device(authed(&token, notif::UnregisterDeviceRequest { device_id: iphone.device_id.clone() }))
        .await
        .expect("unregister");
    assert!(devices(&gw, &token).await.iter().all(|d| d.device_id != iphone.device_id));
}

fn start_clock() -> Clock {
    Clock::fixed(Utc::now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_and_emails_reach_the_fakes_with_retries_removals_and_quiet_hours_embedded() {
    let clock = start_clock();
    let f = fakes(&clock).await;
    let mut s = base_settings();
    configure(&mut s, &f);
    let tp = TestPlatform::embedded_at(s, &[], clock.clone()).await.expect("start");
    flow(&tp, &f, clock).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_and_emails_reach_the_fakes_with_retries_removals_and_quiet_hours_on_the_real_servers() {
    let Some(urls) =
        real_servers("pushes_and_emails_reach_the_fakes_with_retries_removals_and_quiet_hours_on_the_real_servers")
            .await
    else {
        return;
    };
    let clock = start_clock();
    let f = fakes(&clock).await;
    let tp = TestPlatform::servers_at(urls, clock.clone(), |s| configure(s, &f)).await.expect("start");
    flow(&tp, &f, clock).await;
    tp.stop().await.expect("stop");
}
