//! Authorization as a structure: every RPC of a service has one declared [`RpcPolicy`] (who
//! may call it, and which scope the handler checks), in one table per service. The
//! [`PolicyLayer`] applies the "who" before any handler runs — the token, the role — and
//! hands the verified [`Caller`] to the handler; the handler checks the declared scope against
//! the unit tree. An RPC without a policy is refused, and a table-driven test
//! (`tests/tests/authorization.rs`) walks every RPC of the contract with callers inside and
//! outside each policy.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::body::Body;

use crate::auth::{Caller, Role, TokenVerifier};

/// Who may call an RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, without a token (logging in, activating an account).
    Public,
    /// Member accounts, for their own data.
    Members,
    /// Officers and administrators, within the units they manage.
    Officers,
    /// Members for their own data, officers and administrators within their units.
    MembersAndOfficers,
    /// Administrators only.
    Admins,
}

impl Audience {
    /// True when a caller of `role` is in the audience.
    pub fn admits(self, role: Role) -> bool {
        match self {
            Self::Public | Self::MembersAndOfficers => true,
            Self::Members => role == Role::Member,
            Self::Officers => matches!(role, Role::Officer | Role::Admin),
            Self::Admins => role == Role::Admin,
        }
    }

    fn refusal(self) -> &'static str {
        match self {
            Self::Members => "only members may call this; log in with a member account",
            Self::Officers => "only officers and administrators may call this",
            Self::Admins => "only administrators may call this",
            Self::Public | Self::MembersAndOfficers => "not allowed",
        }
    }
}

/// What the handler checks beyond the audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Nothing: every caller of the audience alike (public RPCs, the award catalogue).
    None,
    /// The caller's own data only (their inbox, their record).
    Own,
    /// The unit named by this request field must be in the officer's subtree; for members,
    /// their own branch or one of its ancestors (reads only).
    Unit(&'static str),
    /// The member named by this request field: the member themself, or an officer over the
    /// member's branch. Empty means the caller (members).
    Member(&'static str),
    /// The resource named by this field (an activity, a decision, a notice): its unit must be
    /// in the officer's subtree, or on the member's branch line / the member's own.
    Resource(&'static str),
    /// The resource named by this field addressed to the caller (a notice in their inbox, a
    /// broadcast they received): the caller's own only, whatever their role.
    Recipient(&'static str),
}

/// One RPC's policy.
#[derive(Debug, Clone, Copy)]
pub struct RpcPolicy {
    /// Method name as in the proto (`AdmitMember`).
    pub method: &'static str,
    /// Who may call it.
    pub audience: Audience,
    /// What the handler checks.
    pub scope: Scope,
}

/// One service's policies.
#[derive(Debug, Clone, Copy)]
pub struct PolicyTable {
    /// Full gRPC service name (`doan.membership.v1.MembershipService`).
    pub service: &'static str,
    /// One entry per RPC.
    pub policies: &'static [RpcPolicy],
}

impl PolicyTable {
    /// The policy of `method`.
    pub fn get(&self, method: &str) -> Option<&RpcPolicy> {
        self.policies.iter().find(|p| p.method == method)
    }

    /// Fails unless every method of the service in the contract has exactly one policy and
    /// every policy names a method of the contract.
    pub fn check_complete(&self, methods: &[String]) -> anyhow::Result<()> {
        for m in methods {
            let n = self.policies.iter().filter(|p| p.method == m).count();
            anyhow::ensure!(n == 1, "{}/{m} has {n} policies; it needs exactly one", self.service);
        }
        for p in self.policies {
            anyhow::ensure!(
                methods.iter().any(|m| m == p.method),
                "{} declares a policy for {}, which the contract does not have",
                self.service,
                p.method
            );
        }
        Ok(())
    }
}

/// Every method of the published contract: (full service name, method descriptor).
fn contract() -> Vec<(String, prost_types::MethodDescriptorProto)> {
    use prost::Message;
    let set = prost_types::FileDescriptorSet::decode(doan_proto::FILE_DESCRIPTOR_SET).unwrap_or_default();
    set.file
        .iter()
        .flat_map(|file| file.service.iter().map(move |s| (format!("{}.{}", file.package(), s.name()), s)))
        .flat_map(|(service, s)| s.method.iter().map(move |m| (service.clone(), m.clone())))
        .collect()
}

/// The methods of `service` (full name) in the published contract.
pub fn contract_methods(service: &str) -> Vec<String> {
    contract().into_iter().filter(|(s, _)| s == service).map(|(_, m)| m.name().to_string()).collect()
}

/// RPCs that cost far more than a read of one record (searches, exports, imports, figures over
/// a subtree): the gateway limits each caller's calls to each of them per minute
/// (`gateway.expensive_per_minute`) on top of the general limit.
pub const EXPENSIVE_METHODS: &[&str] = &[
    "/doan.membership.v1.MembershipService/SearchMembers",
    "/doan.membership.v1.MembershipService/ExportMembers",
    "/doan.membership.v1.MembershipService/CreateMemberImport",
    "/doan.membership.v1.MembershipService/SubmitMemberImport",
    "/doan.membership.v1.MembershipService/DownloadMemberImportReport",
    "/doan.membership.v1.MembershipService/GetUnitStatistics",
    "/doan.membership.v1.MembershipService/GetDuesReport",
    "/doan.membership.v1.MembershipService/GetPartyIntroductionStatistics",
    "/doan.activities.v1.ActivitiesService/GetReviewFigures",
    "/doan.activities.v1.ActivitiesService/ExportReview",
    "/doan.awards.v1.AwardsService/GetAwardFigures",
    "/doan.awards.v1.AwardsService/GetLeaderboard",
];

/// The server-streaming methods of the contract, as paths (`/package.Service/Method`).
pub fn streaming_methods() -> std::collections::HashSet<String> {
    contract().into_iter().filter(|(_, m)| m.server_streaming()).map(|(s, m)| format!("/{s}/{}", m.name())).collect()
}

/// Applies the tables' audiences before any handler: the path names the service and method.
#[derive(Clone)]
pub struct PolicyLayer {
    tables: Arc<Vec<PolicyTable>>,
    verifier: TokenVerifier,
}

impl PolicyLayer {
    /// A layer enforcing `tables` with callers from `verifier`.
    pub fn new(tables: Vec<PolicyTable>, verifier: TokenVerifier) -> Self {
        Self { tables: Arc::new(tables), verifier }
    }

    /// The caller of a request to `path`, or the status refusing it; `Ok(None)` for public
    /// RPCs and paths outside the tables' services (health, reflection).
    pub fn admit(&self, path: &str, headers: &http::HeaderMap) -> Result<Option<Caller>, tonic::Status> {
        let Some((service, method)) = path.trim_start_matches('/').split_once('/') else {
            return Ok(None);
        };
        let Some(table) = self.tables.iter().find(|t| t.service == service) else {
            return Ok(None);
        };
        let Some(policy) = table.get(method) else {
            return Err(tonic::Status::permission_denied(format!("{service}/{method} has no declared policy")));
        };
        if policy.audience == Audience::Public {
            return Ok(None);
        }
        let header = headers.get("authorization").and_then(|v| v.to_str().ok());
        let caller = crate::auth::parse_bearer(header)
            .and_then(|token| self.verifier.caller_from_token(token))
            .map_err(tonic::Status::from)?;
        if !policy.audience.admits(caller.role) {
            return Err(tonic::Status::permission_denied(policy.audience.refusal()));
        }
        Ok(Some(caller))
    }
}

impl<S> tower::Layer<S> for PolicyLayer {
    type Service = Policed<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Policed { inner, layer: self.clone() }
    }
}

/// See [`PolicyLayer`].
#[derive(Clone)]
pub struct Policed<S> {
    inner: S,
    layer: PolicyLayer,
}

impl<S, B> tower::Service<http::Request<B>> for Policed<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.layer.admit(request.uri().path(), request.headers()) {
            Ok(caller) => {
                if let Some(caller) = caller {
                    request.extensions_mut().insert(caller);
                }
                Box::pin(self.inner.call(request))
            }
            Err(status) => Box::pin(async move { Ok(status.into_http()) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: PolicyTable = PolicyTable {
        service: "doan.test.v1.TestService",
        policies: &[
            RpcPolicy { method: "Open", audience: Audience::Public, scope: Scope::None },
            RpcPolicy { method: "Manage", audience: Audience::Officers, scope: Scope::Unit("unit_id") },
        ],
    };

    #[test]
    fn audiences_admit_roles() {
        assert!(Audience::Officers.admits(Role::Admin));
        assert!(!Audience::Officers.admits(Role::Member));
        assert!(Audience::Members.admits(Role::Member) && !Audience::Members.admits(Role::Officer));
        assert!(!Audience::Admins.admits(Role::Officer));
    }

    #[test]
    fn every_expensive_method_is_in_the_contract() {
        let paths: std::collections::HashSet<String> =
            contract().into_iter().map(|(s, m)| format!("/{s}/{}", m.name())).collect();
        for m in EXPENSIVE_METHODS {
            assert!(paths.contains(*m), "{m} is not a method of the contract");
        }
    }

    #[test]
    fn every_method_needs_exactly_one_policy() {
        let methods = |m: &[&str]| m.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(TABLE.check_complete(&methods(&["Open", "Manage"])).is_ok());
        let missing = TABLE.check_complete(&methods(&["Open", "Manage", "New"])).unwrap_err();
        assert!(missing.to_string().contains("New has 0 policies"), "{missing}");
        assert!(TABLE.check_complete(&methods(&["Open"])).is_err(), "a policy for a method that is gone");
    }
}
