//! A platform with one tree, one officer and members, shared by the scenarios.

use doan_proto::membership as mem;
use doan_tests::client::{Gateway, admission, authed, create_tree, officer};
use doan_tests::{ADMIN_PASSWORD, TestPlatform};

/// Everything a scenario needs to make calls.
pub struct World {
    /// The platform.
    pub tp: TestPlatform,
    /// Clients through the gateway.
    pub gw: Gateway,
    /// Officer of the province.
    pub officer: String,
    /// The province.
    pub province: String,
    /// The branch members are admitted to.
    pub branch: String,
    /// Admitted members: (member id, member number, token).
    pub members: Vec<(String, String, String)>,
}

impl World {
    /// Builds the tree and admits and activates `members` members.
    pub async fn build(tp: TestPlatform, members: u32) -> anyhow::Result<Self> {
        let gw = Gateway::connect(tp.platform.gateway_addr).await?;
        let admin = gw.login("admin", ADMIN_PASSWORD).await?;
        let tree = create_tree(&gw, &admin).await;
        let officer = officer(&gw, &admin, &tree.province, "bench.officer").await;
        let mut world = Self { tp, gw, officer, province: tree.province, branch: tree.branch, members: Vec::new() };
        for n in 0..members {
            world.admit_and_activate(n).await?;
        }
        Ok(world)
    }

    /// Admits member `n` and activates the account.
    pub async fn admit_and_activate(&mut self, n: u32) -> anyhow::Result<()> {
        let req = admission(&self.branch, 50_000 + n);
        let citizen_id = req.citizen_id.clone();
        let m = self.gw.membership.clone().admit_member(authed(&self.officer, req)).await?.into_inner().member.unwrap();
        let act = self
            .gw
            .membership
            .clone()
            .activate_member_account(mem::ActivateMemberAccountRequest {
                member_number: m.member_number.clone(),
                citizen_id,
                date_of_birth: m.date_of_birth.clone(),
                password: "bench-password-1".into(),
            })
            .await?
            .into_inner();
        self.members.push((m.member_id, m.member_number, act.access_token));
        Ok(())
    }
}
