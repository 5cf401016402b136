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

/// A unary gRPC call over a bare HTTP/2 connection with `grpc-timeout: <timeout>`: no client
/// timer of any kind (tonic's client would race the server with one of its own). Returns the
/// `grpc-status` the server answered.
async fn bare_call(addr: std::net::SocketAddr, path: &str, message: &[u8], timeout: &str) -> String {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut client, connection) = h2::client::handshake(tcp).await.expect("h2 handshake");
    tokio::spawn(connection);
    let request = http::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("grpc-timeout", timeout)
        .body(())
        .expect("request");
    let (response, mut send) = client.send_request(request, false).expect("send");
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(message);
    send.send_data(bytes::Bytes::from(frame), true).expect("body");
    let response = response.await.expect("response");
    if let Some(status) = response.headers().get("grpc-status") {
        return status.to_str().unwrap_or_default().to_string(); // trailers-only answer
    }
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("data");
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let trailers = body.trailers().await.expect("trailers").unwrap_or_default();
    trailers.get("grpc-status").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_answers_a_passed_deadline_with_deadline_exceeded() {
    // Straight to the service, as another ministry's system or the gateway reaches it: tonic
    // alone would answer CANCELLED; the platform's deadline layer answers first.
    let tp = TestPlatform::embedded().await.expect("start");
    let addr = tp.platform.service_addrs["membership"];
    let login = mem::LoginRequest { username: "admin".into(), password: ADMIN_PASSWORD.into(), ..Default::default() };
    let path = "/doan.membership.v1.MembershipService/Login";
    let status = bare_call(addr, path, &prost::Message::encode_to_vec(&login), "10m").await;
    assert_eq!(status, (Code::DeadlineExceeded as i32).to_string(), "argon2 takes longer than 10 ms");
    // The abandoned call ran to its end in its own task; the service goes on serving.
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let mut client = doan_proto::membership::membership_service_client::MembershipServiceClient::new(channel);
    let ok = client.login(login).await;
    assert!(ok.is_ok(), "{ok:?}");
    tp.stop().await.expect("stop");
}
