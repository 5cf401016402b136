//! The gateway limits each caller: RESOURCE_EXHAUSTED past the limit, counted in memory in the
//! embedded mode and in Redis (shared by every gateway replica) on the real servers.

use doan_proto::membership as mem;
use doan_tests::client::{Gateway, authed};
use doan_tests::{ADMIN_PASSWORD, TestPlatform, base_settings, real_servers, run_id};
use tonic::Code;

async fn limited_after(tp: &TestPlatform, limit: u32) {
    // Windows are calendar minutes: start well inside one so the count is not reset midway.
    let second = chrono::Utc::now().timestamp() % 60;
    if second > 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    // Login is limited per client address, the rest per account.
    let token = gw.login("admin", ADMIN_PASSWORD).await.expect("first call passes");
    for n in 0..limit {
        let r = gw.membership.clone().get_unit(authed(&token, mem::GetUnitRequest { unit_id: String::new() })).await;
        assert_eq!(r.unwrap_err().code(), Code::InvalidArgument, "call {n} is within the limit");
    }
    let r = gw.membership.clone().get_unit(authed(&token, mem::GetUnitRequest { unit_id: String::new() })).await;
    let status = r.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("per minute"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_gateway_limits_each_caller() {
    let mut settings = base_settings();
    settings.gateway.rate_limit_per_minute = 5;
    let tp = TestPlatform::embedded_with(settings).await.expect("start");
    limited_after(&tp, 5).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_limits_each_caller_across_replicas() {
    let Some(urls) = real_servers("redis_limits_each_caller_across_replicas").await else { return };
    let run = run_id();
    let mut settings = TestPlatform::server_settings(&urls, &run).await.expect("settings");
    settings.gateway.rate_limit_per_minute = 5;
    let tp = TestPlatform::servers_with(urls, run, settings).await.expect("start");
    limited_after(&tp, 5).await;
    tp.stop().await.expect("stop");
}
