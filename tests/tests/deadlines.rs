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
        .login(mem::LoginRequest { username: "admin".into(), password: ADMIN_PASSWORD.into(), ..Default::default() })
        .await
        .expect_err("a 1 ms deadline cannot be met");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_answers_a_passed_deadline_with_deadline_exceeded() {
    // Straight to the service, as another ministry's system or the gateway reaches it: tonic
    // alone would answer CANCELLED; the platform's deadline layer answers first.
    let tp = TestPlatform::embedded().await.expect("start");
    let addr = tp.platform.service_addrs["membership"];
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let mut client = doan_proto::membership::membership_service_client::MembershipServiceClient::new(channel);
    let mut request = tonic::Request::new(mem::LoginRequest {
        username: "admin".into(),
        password: ADMIN_PASSWORD.into(),
        ..Default::default()
    });
    // The deadline travels as `grpc-timeout`; no client-side timer races the server's answer.
    request.metadata_mut().insert("grpc-timeout", "10m".parse().unwrap());
    let status = client.login(request).await.expect_err("argon2 takes longer than 10 ms");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    // The abandoned call ran to its end in its own task; the service goes on serving.
    let ok = client
        .login(mem::LoginRequest { username: "admin".into(), password: ADMIN_PASSWORD.into(), ..Default::default() })
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    tp.stop().await.expect("stop");
}
