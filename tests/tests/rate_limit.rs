//! The gateway limits each caller: RESOURCE_EXHAUSTED past the limit, counted in memory in the
//! embedded mode and in Redis (shared by every gateway replica) on the real servers. Public
//! calls are keyed by the client's address — `X-Forwarded-For` believed only from trusted
//! proxies — and failed logins are limited per username too, wherever they come from.

use doan_proto::membership as mem;
use doan_tests::client::{Gateway, authed};
use doan_tests::{ADMIN_PASSWORD, TestPlatform, base_settings, real_servers, run_id};
use tonic::Code;

/// Waits until well inside a calendar minute, so a window's count is not reset midway.
async fn inside_a_minute() {
    let second = chrono::Utc::now().timestamp() % 60;
    if second > 45 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
}

/// `limit` calls pass across `gateways` in turn; the next is refused, on whichever gateway.
async fn limited_after(gateways: &[Gateway], limit: u32) {
    inside_a_minute().await;
    // Login is limited per client address, the rest per account.
    let token = gateways[0].login("admin", ADMIN_PASSWORD).await.expect("first call passes");
    for n in 0..limit {
        let gw = &gateways[n as usize % gateways.len()];
        let r = gw.membership.clone().get_unit(authed(&token, mem::GetUnitRequest { unit_id: String::new() })).await;
        assert_eq!(r.unwrap_err().code(), Code::InvalidArgument, "call {n} is within the limit");
    }
    for gw in gateways {
        let r = gw.membership.clone().get_unit(authed(&token, mem::GetUnitRequest { unit_id: String::new() })).await;
        let status = r.unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert!(status.message().contains("per minute"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_gateway_limits_each_caller() {
    let mut settings = base_settings();
    settings.gateway.rate_limit_per_minute = 5;
    let tp = TestPlatform::embedded_with(settings).await.expect("start");
    limited_after(&[Gateway::connect(tp.platform.gateway_addr).await.unwrap()], 5).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_limits_each_caller_across_replicas() {
    let Some(urls) = real_servers("redis_limits_each_caller_across_replicas").await else { return };
    let run = run_id();
    let mut settings = TestPlatform::server_settings(&urls, &run).await.expect("settings");
    settings.gateway.rate_limit_per_minute = 6;
    let tp = TestPlatform::servers_with(urls, run, settings).await.expect("start");
    // A second gateway replica in front of the same services, counting in the same Redis.
    let effective = tp.platform.settings();
    let limiter = doan::redis_limiter(&effective).await.expect("redis");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let second = listener.local_addr().unwrap();
    let stop = doan_platform::Shutdown::new();
    let replica = doan::start_gateway(effective, limiter, listener, stop.clone()).expect("second gateway");
    let gateways = [Gateway::connect(tp.platform.gateway_addr).await.unwrap(), Gateway::connect(second).await.unwrap()];
    limited_after(&gateways, 6).await;
    stop.cancel();
    replica.await.unwrap().unwrap();
    tp.stop().await.expect("stop");
}

/// A login through the gateway claiming to come from `forwarded_for`.
async fn login_from(gw: &Gateway, forwarded_for: &str, username: &str, password: &str) -> Code {
    let mut request = tonic::Request::new(mem::LoginRequest {
        username: username.into(),
        password: password.into(),
        ..Default::default()
    });
    request.metadata_mut().insert("x-forwarded-for", forwarded_for.parse().unwrap());
    match gw.membership.clone().login(request).await {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    for trusted in [true, false] {
        let mut settings = base_settings();
        settings.gateway.rate_limit_per_minute = 3;
        if trusted {
            // The test client plays the ingress.
            settings.gateway.trusted_proxies = vec!["127.0.0.0/8".into()];
        }
        let tp = TestPlatform::embedded_with(settings).await.expect("start");
        let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
        inside_a_minute().await;
        for _ in 0..3 {
            assert_eq!(login_from(&gw, "198.51.100.1", "nobody", "wrong-password").await, Code::Unauthenticated);
        }
        assert_eq!(login_from(&gw, "198.51.100.1", "nobody", "wrong-password").await, Code::ResourceExhausted);
        let other_client = login_from(&gw, "198.51.100.2", "admin", ADMIN_PASSWORD).await;
        if trusted {
            assert_eq!(other_client, Code::Ok, "another client behind the ingress has its own bucket");
        } else {
            assert_eq!(other_client, Code::ResourceExhausted, "an untrusted peer's header is its own claim");
        }
        tp.stop().await.expect("stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_per_username_from_any_address() {
    let mut settings = base_settings();
    settings.auth.login_failures_per_username = 3;
    settings.gateway.trusted_proxies = vec!["127.0.0.0/8".into()];
    let tp = TestPlatform::embedded_with(settings).await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    for n in 0..3 {
        // Each guess from another address: the per-address limit never sees a pattern.
        assert_eq!(login_from(&gw, &format!("198.51.100.{n}"), "admin", "guess-number-x").await, Code::Unauthenticated);
    }
    assert_eq!(login_from(&gw, "198.51.100.9", "admin", ADMIN_PASSWORD).await, Code::ResourceExhausted);
    // Other accounts are unaffected.
    assert_eq!(login_from(&gw, "198.51.100.9", "someone.else", "guess-number-x").await, Code::Unauthenticated);
    tp.stop().await.expect("stop");
}

/// Someone guessing a username's password locks it for every address but those its owner logs
/// in from: the owner goes on logging in, and a guesser at the owner's address is limited too.
async fn the_owner_is_never_locked_out(tp: &TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let (home, guesser, elsewhere) = ("203.0.113.7", "198.51.100.66", "192.0.2.44");
    assert_eq!(login_from(&gw, home, "admin", ADMIN_PASSWORD).await, Code::Ok, "the owner logs in from home");
    for n in 0..3 {
        assert_eq!(login_from(&gw, guesser, "admin", &format!("guess-number-{n}")).await, Code::Unauthenticated);
    }
    assert_eq!(login_from(&gw, guesser, "admin", ADMIN_PASSWORD).await, Code::ResourceExhausted, "locked");
    assert_eq!(
        login_from(&gw, elsewhere, "admin", ADMIN_PASSWORD).await,
        Code::ResourceExhausted,
        "locked for an address the owner never used"
    );
    // The guesser goes on, and still the owner logs in from home, again and again.
    for _ in 0..2 {
        assert_eq!(login_from(&gw, guesser, "admin", "guess-number-9").await, Code::ResourceExhausted);
        assert_eq!(login_from(&gw, home, "admin", ADMIN_PASSWORD).await, Code::Ok, "home is open to its owner");
    }
    // Failed logins of a made-up "username" that names the owner's address fill no count of hers.
    for n in 0..3 {
        let forged = format!("admin@{home}");
        assert_eq!(login_from(&gw, guesser, &forged, &format!("x-{n}-guess")).await, Code::Unauthenticated);
    }
    assert_eq!(login_from(&gw, home, "admin", ADMIN_PASSWORD).await, Code::Ok, "home is still open");
    // A client cannot claim the gateway's address header for itself.
    let mut request = tonic::Request::new(mem::LoginRequest {
        username: "admin".into(),
        password: "guess-number-x".into(),
        ..Default::default()
    });
    request.metadata_mut().insert("x-forwarded-for", guesser.parse().unwrap());
    request.metadata_mut().insert("x-doan-client-address", home.parse().unwrap());
    let status = gw.membership.clone().login(request).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "the header is the gateway's, not the client's: {status:?}");
    // Guesses from the owner's address count on their own: three, and home is locked too.
    for n in 0..3 {
        assert_eq!(login_from(&gw, home, "admin", &format!("home-guess-{n}")).await, Code::Unauthenticated);
    }
    assert_eq!(login_from(&gw, home, "admin", ADMIN_PASSWORD).await, Code::ResourceExhausted);
}

fn lockout_settings(settings: &mut doan_platform::config::Settings) {
    settings.auth.login_failures_per_username = 3;
    settings.gateway.rate_limit_per_minute = 0;
    settings.gateway.trusted_proxies = vec!["127.0.0.0/8".into()];
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guesser_cannot_lock_the_owner_out_embedded() {
    let mut settings = base_settings();
    lockout_settings(&mut settings);
    let tp = TestPlatform::embedded_with(settings).await.expect("start");
    the_owner_is_never_locked_out(&tp).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guesser_cannot_lock_the_owner_out_on_the_real_servers() {
    let Some(urls) = real_servers("a_guesser_cannot_lock_the_owner_out_on_the_real_servers").await else { return };
    let run = run_id();
    let mut settings = TestPlatform::server_settings(&urls, &run).await.expect("settings");
    lockout_settings(&mut settings);
    let tp = TestPlatform::servers_with(urls, run, settings).await.expect("start");
    the_owner_is_never_locked_out(&tp).await;
    tp.stop().await.expect("stop");
}
