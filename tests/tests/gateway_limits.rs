//! The gateway's abuse limits, in both modes: a request body past `gateway.max_request_bytes`
//! never reaches a service; one caller holds at most `gateway.max_streams_per_caller` streams
//! open; each expensive RPC (searches, exports, imports, figures) has its own per-minute budget
//! per caller, counted in memory or in Redis. A production gateway refuses to start without
//! the web apps' CORS origins, and answers a browser's preflight only for those origins.

use std::time::Duration;

use doan_proto::membership as mem;
use doan_proto::notifications as notif;
use doan_tests::client::{Gateway, authed, create_tree, member_login};
use doan_tests::{ADMIN_PASSWORD, TestPlatform, base_settings, real_servers, run_id};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

fn limits(s: &mut doan_platform::config::Settings) {
    s.gateway.max_request_bytes = 64 * 1024;
    s.gateway.max_streams_per_caller = 2;
    s.gateway.expensive_per_minute = 3;
}

/// Waits until well inside a calendar minute, so a window's count is not reset midway.
async fn inside_a_minute() {
    let second = chrono::Utc::now().timestamp() % 60;
    if second > 45 {
        tokio::time::sleep(Duration::from_secs((61 - second) as u64)).await;
    }
}

async fn abuse(tp: &TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let get_unit = |unit_id: String| {
        let mut m = gw.membership.clone();
        let request = authed(&admin, mem::GetUnitRequest { unit_id });
        async move { m.get_unit(request).await }
    };

    // A body past the limit is refused at the gateway, naming the limit.
    let refused = get_unit("x".repeat(80 * 1024)).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("larger than 65536 bytes"), "{refused:?}");
    get_unit(tree.province.clone()).await.expect("a call within the limit passes");

    // Two streams per caller at once; closing one frees its place.
    let (_, member) = member_login(&gw, &admin, &tree.branch, 1).await;
    let open = || {
        let mut client = gw.notifications.clone();
        let request = authed(&member, notif::WatchNotificationsRequest {});
        async move { client.watch_notifications(request).await }
    };
    let mut watches = vec![open().await.expect("first").into_inner(), open().await.expect("second").into_inner()];
    let third = open().await.expect_err("a third stream is refused");
    assert_eq!(third.code(), Code::ResourceExhausted, "{third:?}");
    assert!(third.message().contains("at most 2 streams"), "{third:?}");
    drop(watches.pop());
    let reopened = doan_tests::eventually("a closed stream frees its place", Duration::from_secs(10), || async {
        open().await.ok()
    })
    .await;
    watches.push(reopened.into_inner());

    // Three searches a minute; the fourth is refused, other RPCs go on.
    inside_a_minute().await;
    let search = || {
        let mut m = gw.membership.clone();
        let request = authed(
            &admin,
            mem::SearchMembersRequest { unit_id: tree.province.clone(), name: "nguyen".into(), ..Default::default() },
        );
        async move { m.search_members(request).await }
    };
    for n in 0..3 {
        search().await.unwrap_or_else(|s| panic!("search {n} is within the budget: {s:?}"));
    }
    let refused = search().await.expect_err("the fourth search in a minute");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("3 calls per minute to SearchMembers"), "{refused:?}");
    get_unit(tree.province.clone()).await.expect("cheap calls go on");
    gw.membership
        .clone()
        .get_unit_statistics(authed(
            &admin,
            mem::GetUnitStatisticsRequest { unit_id: tree.province.clone(), ..Default::default() },
        ))
        .await
        .expect("another expensive RPC has its own budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_limits_sizes_streams_and_expensive_calls_embedded() {
    let mut settings = base_settings();
    limits(&mut settings);
    let tp = TestPlatform::embedded_with(settings).await.expect("start");
    abuse(&tp).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_limits_sizes_streams_and_expensive_calls_on_the_real_servers() {
    let Some(urls) = real_servers("the_gateway_limits_sizes_streams_and_expensive_calls_on_the_real_servers").await
    else {
        return;
    };
    let run = run_id();
    let mut settings = TestPlatform::server_settings(&urls, &run).await.expect("settings");
    limits(&mut settings);
    let tp = TestPlatform::servers_with(urls, run, settings).await.expect("start");
    abuse(&tp).await;
    tp.stop().await.expect("stop");
}

/// A CORS preflight from `origin`; returns the response head, lower-cased.
async fn preflight(addr: std::net::SocketAddr, origin: &str) -> String {
    let request = format!(
        "OPTIONS /doan.membership.v1.MembershipService/Login HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type,x-grpc-web\r\n\
         Connection: close\r\n\r\n"
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await.expect("in time").expect("read");
    String::from_utf8_lossy(&raw).to_ascii_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_gateway_needs_its_cors_origins() {
    let start = |settings: doan_platform::config::Settings| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limiter = std::sync::Arc::new(doan_gateway::ratelimit::MemoryRateLimiter::default());
        let stop = doan_platform::Shutdown::new();
        doan::start_gateway(std::sync::Arc::new(settings), limiter, listener, stop.clone()).map(|_| (addr, stop))
    };
    let mut settings = base_settings();
    settings.environment = "production".into();
    let refused = start(settings.clone()).await.expect_err("no origins: refused");
    assert!(refused.to_string().contains("gateway.allowed_origins"), "{refused:#}");
    settings.gateway.allowed_origins = vec!["*".into()];
    assert!(start(settings.clone()).await.is_err(), "any origin: refused");
    let mut staging = settings.clone();
    staging.environment = "staging".into();
    assert!(start(staging).await.err().unwrap().to_string().contains("environment"));

    settings.gateway.allowed_origins = vec!["https://app.doan.vn".into()];
    let (addr, stop) = start(settings).await.expect("starts with its origins");
    let allowed = preflight(addr, "https://app.doan.vn").await;
    assert!(allowed.contains("access-control-allow-origin: https://app.doan.vn"), "{allowed}");
    let other = preflight(addr, "https://evil.example").await;
    assert!(!other.contains("access-control-allow-origin"), "{other}");
    stop.cancel();
}
