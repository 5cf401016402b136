//! The gateway gives every unary call a deadline (`gateway.request_timeout_ms`, also the cap
//! on a client's own `grpc-timeout`), so a slow call cannot hold a client or a worker forever.

use doan_proto::membership as mem;
use doan_tests::client::Gateway;
use doan_tests::{ADMIN_PASSWORD, TestPlatform, base_settings};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_calls_hit_the_gateway_deadline() {
    let mut settings = base_settings();
    // Login hashes with argon2 (tens of milliseconds): far over a 1 ms deadline.
    settings.gateway.request_timeout_ms = 1;
    let tp = TestPlatform::embedded_with(settings).await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let status = gw
        .membership
        .clone()
        .login(mem::LoginRequest { username: "admin".into(), password: ADMIN_PASSWORD.into() })
        .await
        .expect_err("a 1 ms deadline cannot be met");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    tp.stop().await.expect("stop");
}
