//! `doan.membership.v1.MembershipService`: proto in, domain call, proto out.

mod policy;
pub use policy::POLICIES;

mod accounts;
mod members;
mod units;

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role, TokenIssuer};
use doan_platform::crypto::FieldCipher;
use doan_platform::error::{AppResult, respond};
use doan_platform::service::ServiceContext;
use doan_proto::membership as pb;
use doan_proto::membership::membership_service_server::MembershipService;
use tonic::{Request, Response, Status};

use crate::storage::entities::unit;

/// The membership API.
pub struct MembershipApi {
    ctx: ServiceContext,
    issuer: TokenIssuer,
    cipher: FieldCipher,
    rules: std::sync::Arc<crate::Rules>,
}

impl MembershipApi {
    /// An API over `ctx`, signing tokens with `issuer`, protecting personal data with `cipher`,
    /// deciding by `rules`.
    pub fn new(
        ctx: ServiceContext,
        issuer: TokenIssuer,
        cipher: FieldCipher,
        rules: std::sync::Arc<crate::Rules>,
    ) -> Self {
        Self { ctx, issuer, cipher, rules }
    }

    fn caller<T>(&self, request: &Request<T>) -> AppResult<Caller> {
        self.ctx.verifier.caller(request)
    }

    /// The unit `unit_id` (request field `field`), which the caller must administer.
    async fn managed_unit(&self, caller: &Caller, field: &'static str, unit_id: &str) -> AppResult<unit::Model> {
        let unit = self.unit(field, unit_id).await?;
        caller.require_manages(&unit.path, &format!("unit {}", unit.unit_id))?;
        Ok(unit)
    }

    async fn unit(&self, field: &'static str, unit_id: &str) -> AppResult<unit::Model> {
        let unit_id = doan_platform::convert::parse_id(field, unit_id)?;
        crate::storage::units::find(&self.ctx.db, &unit_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("unit {unit_id} ({field}) does not exist")))
    }
}

fn role_to_pb(role: Role) -> i32 {
    match role {
        Role::Admin => pb::Role::Admin as i32,
        Role::Officer => pb::Role::Officer as i32,
        Role::Member => pb::Role::Member as i32,
    }
}

#[tonic::async_trait]
impl MembershipService for MembershipApi {
    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        respond(self.login(request.into_inner()).await)
    }

    async fn activate_member_account(
        &self,
        request: Request<pb::ActivateMemberAccountRequest>,
    ) -> Result<Response<pb::ActivateMemberAccountResponse>, Status> {
        respond(self.activate_member_account(request.into_inner()).await)
    }

    async fn create_unit(
        &self,
        request: Request<pb::CreateUnitRequest>,
    ) -> Result<Response<pb::CreateUnitResponse>, Status> {
        let caller = self.caller(&request)?;
        respond(self.create_unit(&caller, request.into_inner()).await)
    }

    async fn get_unit(&self, request: Request<pb::GetUnitRequest>) -> Result<Response<pb::GetUnitResponse>, Status> {
        let caller = self.caller(&request)?;
        respond(self.get_unit(&caller, request.into_inner()).await)
    }

    async fn list_child_units(
        &self,
        request: Request<pb::ListChildUnitsRequest>,
    ) -> Result<Response<pb::ListChildUnitsResponse>, Status> {
        let caller = self.caller(&request)?;
        respond(self.list_child_units(&caller, request.into_inner()).await)
    }

    async fn appoint_officer(
        &self,
        request: Request<pb::AppointOfficerRequest>,
    ) -> Result<Response<pb::AppointOfficerResponse>, Status> {
        let caller = self.caller(&request)?;
        respond(self.appoint_officer(&caller, request.into_inner()).await)
    }

    async fn admit_member(
        &self,
        request: Request<pb::AdmitMemberRequest>,
    ) -> Result<Response<pb::AdmitMemberResponse>, Status> {
        let caller = self.caller(&request)?;
        respond(self.admit_member(&caller, request.into_inner()).await)
    }

    async fn get_member(
        &self,
        request: Request<pb::GetMemberRequest>,
    ) -> Result<Response<pb::GetMemberResponse>, Status> {
        let caller = self.caller(&request)?;
        respond(self.get_member(&caller, request.into_inner()).await)
    }

    async fn get_member_card(
        &self,
        request: Request<pb::GetMemberCardRequest>,
    ) -> Result<Response<pb::GetMemberCardResponse>, Status> {
        let caller = self.caller(&request)?;
        respond(self.get_member_card(&caller, request.into_inner()).await)
    }

    async fn list_members(
        &self,
        request: Request<pb::ListMembersRequest>,
    ) -> Result<Response<pb::ListMembersResponse>, Status> {
        let caller = self.caller(&request)?;
        respond(self.list_members(&caller, request.into_inner()).await)
    }
}
