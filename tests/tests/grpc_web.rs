//! The gateway speaks the gRPC-web wire format over plain HTTP/1.1, as a browser or a mobile
//! gRPC-web client does: framed messages in the body, status in a trailer frame.

use std::time::Duration;

use doan_tests::TestPlatform;
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One gRPC-web call over HTTP/1.1; returns (HTTP status line, headers, message frames,
/// trailers text).
async fn grpc_web_call(
    addr: std::net::SocketAddr,
    path: &str,
    message: &[u8],
    extra: &str,
) -> (String, String, Vec<Vec<u8>>, String) {
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\nOrigin: https://app.doan.vn\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    stream.write_all(&body).await.expect("write body");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut payload = raw[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        payload = dechunk(&payload);
    }
    let (status_line, headers) = head.split_once("\r\n").expect("status line");
    let mut frames = Vec::new();
    let mut trailers = String::new();
    let mut rest = payload.as_slice();
    while rest.len() >= 5 {
        let flag = rest[0];
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let data = &rest[5..5 + len];
        if flag & 0x80 != 0 {
            trailers.push_str(&String::from_utf8_lossy(data));
        } else {
            frames.push(data.to_vec());
        }
        rest = &rest[5 + len..];
    }
    // A trailers-only answer (an error before any message) carries the status in the headers.
    let headers = headers.to_ascii_lowercase();
    for line in headers.lines().filter(|l| l.starts_with("grpc-")) {
        trailers.push_str(&line.replace(": ", ":"));
        trailers.push_str("\r\n");
    }
    (status_line.to_string(), headers, frames, trailers.to_ascii_lowercase())
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") else { return out };
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_login_over_grpc_web_http1() {
    let tp = TestPlatform::embedded().await.expect("start");
    let addr = tp.platform.gateway_addr;

    // Health: SERVING, over HTTP/1.1, with CORS headers a browser needs to read the status.
    let (status, headers, frames, trailers) = grpc_web_call(addr, "/grpc.health.v1.Health/Check", &[], "").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(headers.contains("content-type: application/grpc-web"), "{headers}");
    assert!(headers.contains("access-control-expose-headers"), "CORS exposes grpc-status: {headers}");
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    assert_eq!(frames, vec![vec![0x08, 0x01]], "HealthCheckResponse{{status: SERVING}}");

    // Login through the proxy: a wrong password is UNAUTHENTICATED (16), a right one a token.
    let wrong = doan_proto::membership::LoginRequest {
        username: "admin".into(),
        password: "wrong".into(),
        ..Default::default()
    };
    let (_, _, _, trailers) =
        grpc_web_call(addr, "/doan.membership.v1.MembershipService/Login", &wrong.encode_to_vec(), "").await;
    assert!(trailers.contains("grpc-status:16"), "{trailers}");
    let right = doan_proto::membership::LoginRequest {
        username: "admin".into(),
        password: doan_tests::ADMIN_PASSWORD.into(),
        ..Default::default()
    };
    let (_, _, frames, trailers) =
        grpc_web_call(addr, "/doan.membership.v1.MembershipService/Login", &right.encode_to_vec(), "").await;
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    let login = doan_proto::membership::LoginResponse::decode(frames[0].as_slice()).expect("LoginResponse");
    assert!(!login.access_token.is_empty());

    // An authenticated call with the token in a header, and one without.
    let unit = doan_proto::membership::CreateUnitRequest {
        parent_id: String::new(),
        name: "Trung ương Đoàn".into(),
        level: 1,
        ..Default::default()
    };
    let auth = format!("Authorization: Bearer {}\r\n", login.access_token);
    let (_, _, frames, trailers) =
        grpc_web_call(addr, "/doan.membership.v1.MembershipService/CreateUnit", &unit.encode_to_vec(), &auth).await;
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    assert!(doan_proto::membership::CreateUnitResponse::decode(frames[0].as_slice()).unwrap().unit.is_some());
    let (_, _, _, trailers) =
        grpc_web_call(addr, "/doan.membership.v1.MembershipService/CreateUnit", &unit.encode_to_vec(), "").await;
    assert!(trailers.contains("grpc-status:16"), "no token is UNAUTHENTICATED: {trailers}");

    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_public_services() {
    use tonic_reflection_client::*;
    let tp = TestPlatform::embedded().await.expect("start");
    let services = list_services(tp.platform.gateway_addr).await;
    for name in doan_proto::PUBLIC_SERVICES {
        assert!(services.iter().any(|s| s == name), "{name} listed in {services:?}");
    }
    tp.stop().await.expect("stop");
}

mod tonic_reflection_client {
    use doan_tests::reflection::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };

    pub async fn list_services(addr: std::net::SocketAddr) -> Vec<String> {
        let channel =
            tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.expect("connect");
        let mut client = ServerReflectionClient::new(channel);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream =
            client.server_reflection_info(tokio_stream::iter(vec![request])).await.expect("reflection").into_inner();
        let response = stream.message().await.expect("message").expect("a response");
        match response.message_response {
            Some(MessageResponse::ListServicesResponse(list)) => list.service.into_iter().map(|s| s.name).collect(),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_streams_over_grpc_web_http1() {
    use doan_proto::{membership as mem, notifications as notif};
    use doan_tests::client::{Gateway, admission, authed, create_tree, individual_award, officer, until_known};

    let tp = TestPlatform::embedded().await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "bt.web").await;
    let member = gw
        .membership
        .clone()
        .admit_member(authed(&officer, admission(&tree.branch, 9)))
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    let token = gw
        .membership
        .clone()
        .activate_member_account(mem::ActivateMemberAccountRequest {
            member_number: member.member_number.clone(),
            citizen_id: member.citizen_id.clone(),
            date_of_birth: member.date_of_birth.clone(),
            password: "member-password-9".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .access_token;

    // The mobile app's transport: gRPC-web over HTTP/1.1 only.
    let http1 = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let web = tower::ServiceBuilder::new().layer(tonic_web::GrpcWebClientLayer::new()).service(http1);
    let origin: http::Uri = format!("http://{}", tp.platform.gateway_addr).parse().unwrap();
    let mut notices =
        doan_proto::notifications::notifications_service_client::NotificationsServiceClient::with_origin(web, origin);
    let mut watch = notices
        .watch_notifications(authed(&token, notif::WatchNotificationsRequest {}))
        .await
        .expect("watch")
        .into_inner();

    until_known("awards learns the member", || {
        let mut c = gw.awards.clone();
        let r = authed(&officer, individual_award("7-QĐ/TĐTN", &member.member_id));
        async move { c.record_award_decision(r).await }
    })
    .await;
    let notice = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let n = watch.message().await.expect("stream").expect("open").notification.unwrap();
            if n.kind == notif::NotificationKind::AwardGranted as i32 {
                return n;
            }
        }
    })
    .await
    .expect("the award notice streams over gRPC-web");
    assert!(notice.body.contains("7-QĐ/TĐTN"));
    tp.stop().await.expect("stop");
}
