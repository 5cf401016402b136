//! Scenario 1: gateway overhead. The same unary RPC (GetMemberCard, read-only) called directly
//! on membership over native gRPC, through the gateway over native gRPC, and through the
//! gateway over gRPC-web on HTTP/1.1, at fixed concurrency levels.

use std::time::Duration;

use doan_proto::membership as mem;
use doan_proto::membership::membership_service_client::MembershipServiceClient;
use doan_tests::client::authed;
use tonic::transport::Channel;

use crate::setup::World;
use crate::stats::{Sample, Table, f, run_load};

/// Concurrency levels measured.
pub const LEVELS: [usize; 3] = [1, 8, 32];

async fn native(addr: std::net::SocketAddr) -> anyhow::Result<MembershipServiceClient<Channel>> {
    Ok(MembershipServiceClient::new(Channel::from_shared(format!("http://{addr}"))?.connect().await?))
}

/// Runs the scenario; returns the table.
pub async fn run(world: &World, label: &str, duration: Duration) -> anyhow::Result<Table> {
    let token = world.officer.clone();
    let member_id = world.members[0].0.clone();
    let direct = native(world.tp.platform.service_addrs["membership"]).await?;
    let through = native(world.tp.platform.gateway_addr).await?;
    let http1 = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let web_svc = tower::ServiceBuilder::new().layer(tonic_web::GrpcWebClientLayer::new()).service(http1);
    let web =
        MembershipServiceClient::with_origin(web_svc, format!("http://{}", world.tp.platform.gateway_addr).parse()?);

    let mut table = Table::new(&[
        "mode",
        "path",
        "concurrency",
        "calls/s",
        "ratio vs direct",
        "p50 ms",
        "p99 ms",
        "added p99 ms",
        "errors",
    ]);
    for c in LEVELS {
        macro_rules! measure {
            ($client:expr) => {{
                let client = $client.clone();
                let token = token.clone();
                let member_id = member_id.clone();
                run_load(c, duration, move |_| {
                    let mut client = client.clone();
                    let req = authed(&token, mem::GetMemberCardRequest { member_id: member_id.clone() });
                    async move { client.get_member_card(req).await.map(|_| ()).map_err(anyhow::Error::from) }
                })
                .await
            }};
        }
        let base: Sample = measure!(direct);
        let gw: Sample = measure!(through);
        let gw_web: Sample = measure!(web);
        for (path, s) in
            [("direct to membership (gRPC)", &base), ("gateway (gRPC)", &gw), ("gateway (gRPC-web, HTTP/1.1)", &gw_web)]
        {
            table.row(vec![
                label.to_string(),
                path.to_string(),
                c.to_string(),
                f(s.rate(), 0),
                f(s.rate() / base.rate(), 2),
                f(s.pct_ms(0.5), 2),
                f(s.pct_ms(0.99), 2),
                f(s.pct_ms(0.99) - base.pct_ms(0.99), 2),
                s.errors.to_string(),
            ]);
        }
        eprintln!(
            "gateway {label} c={c}: direct {:.0}/s, gateway {:.0}/s, gRPC-web {:.0}/s",
            base.rate(),
            gw.rate(),
            gw_web.rate()
        );
    }
    Ok(table)
}
