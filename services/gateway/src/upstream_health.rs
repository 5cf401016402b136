//! Mirrors each upstream service's health into the gateway's own health service, so a probe
//! of the gateway tells whether each public service is reachable through it.

use std::time::Duration;

use doan_platform::Shutdown;
use tonic::transport::Channel;
use tonic_health::ServingStatus;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::server::HealthReporter;

const INTERVAL: Duration = Duration::from_secs(5);

/// Checks every upstream now and then every few seconds until `shutdown`.
pub fn spawn(reporter: HealthReporter, upstreams: Vec<(&'static str, Channel)>, shutdown: Shutdown) {
    tokio::spawn(async move {
        loop {
            for (name, channel) in &upstreams {
                let mut client = HealthClient::new(channel.clone());
                let request = tonic::Request::new(HealthCheckRequest { service: name.to_string() });
                let status = match tokio::time::timeout(Duration::from_secs(2), client.check(request)).await {
                    Ok(Ok(r)) if r.get_ref().status == ServingStatus::Serving as i32 => ServingStatus::Serving,
                    _ => ServingStatus::NotServing,
                };
                reporter.set_service_status(*name, status).await;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(INTERVAL) => {}
            }
        }
    });
}
