//! Every RPC of every public service decides who may call it: walked from the published
//! descriptor set, so an RPC added without a check fails here. Without a token, each
//! RPC answers UNAUTHENTICATED (the two public ones validate their fields instead), both at
//! the service itself and through the gateway.

use doan_tests::TestPlatform;
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;
use tonic_prost::ProstCodec;

/// Methods anyone may call; they answer INVALID_ARGUMENT to an empty request.
const PUBLIC: &[&str] = &["Login", "ActivateMemberAccount"];

fn public_methods() -> Vec<(String, String, bool)> {
    let set = prost_types::FileDescriptorSet::decode(doan_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let mut methods = Vec::new();
    for file in set.file {
        let package = file.package().to_string();
        for service in &file.service {
            let full = format!("{package}.{}", service.name());
            if !doan_proto::PUBLIC_SERVICES.contains(&full.as_str()) {
                continue;
            }
            for m in &service.method {
                methods.push((full.clone(), m.name().to_string(), m.server_streaming()));
            }
        }
    }
    methods
}

async fn call_empty(channel: Channel, service: &str, method: &str, streaming: bool) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path: http::uri::PathAndQuery = format!("/{service}/{method}").parse().unwrap();
    let codec = ProstCodec::<(), ()>::default();
    let result = if streaming {
        grpc.server_streaming(tonic::Request::new(()), path, codec).await.map(|_| ())
    } else {
        grpc.unary(tonic::Request::new(()), path, codec).await.map(|_| ())
    };
    result.expect_err(&format!("{service}/{method} must refuse an anonymous empty call"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_checks_the_caller() {
    let tp = TestPlatform::embedded().await.expect("start");
    let methods = public_methods();
    assert!(methods.len() >= 20, "found {} RPCs", methods.len());
    let gateway =
        Channel::from_shared(format!("http://{}", tp.platform.gateway_addr)).unwrap().connect().await.unwrap();
    for (service, method, streaming) in methods {
        let owner = service.split('.').nth(1).expect("doan.<service>.v1");
        let addr = tp.platform.service_addrs[owner];
        let direct = Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
        let expected = if PUBLIC.contains(&method.as_str()) { Code::InvalidArgument } else { Code::Unauthenticated };
        for (via, channel) in [("service", direct), ("gateway", gateway.clone())] {
            let status = call_empty(channel, &service, &method, streaming).await;
            assert_eq!(status.code(), expected, "{service}/{method} via the {via}: {status:?}");
        }
    }
    tp.stop().await.expect("stop");
}
