//! Devices, preferences and delivery confirmations through the API: each caller's own.

use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::timestamp;
use doan_platform::error::AppResult;
use doan_proto::notifications as pb;
use sha2::{Digest, Sha256};

use super::{NotificationsApi, delivery_to_pb, inbox_owner};
use crate::domain::preferences::Preferences;
use crate::events::deliver::{ANDROID, IOS, preferences_of};
use crate::storage::entities::{device, preference};
use crate::storage::{deliveries, devices, preferences};

fn device_to_pb(d: device::Model) -> pb::Device {
    let suffix: String = d.token.chars().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect();
    pb::Device {
        device_id: d.device_id,
        platform: d.platform,
        token_suffix: suffix,
        apns_sandbox: d.apns_sandbox,
        registered_at: Some(timestamp(d.registered_at)),
        last_seen_at: Some(timestamp(d.last_seen_at)),
    }
}

/// Checks a push token of `platform`: FCM tokens are 1 to 4,096 printable ASCII characters,
/// APNs tokens 64 to 200 hexadecimal digits.
fn parse_token(platform: i32, token: &str) -> AppResult<String> {
    let printable = token.bytes().all(|b| b.is_ascii_graphic());
    let ok = match platform {
        ANDROID => (1..=4096).contains(&token.len()) && printable,
        IOS => (64..=200).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_hexdigit()),
        _ => return Err(AppError::invalid("platform", "must be ANDROID or IOS")),
    };
    if !ok {
        let rule =
            if platform == IOS { "64 to 200 hexadecimal digits" } else { "1 to 4,096 printable ASCII characters" };
        return Err(AppError::invalid("token", format!("must be {rule}")));
    }
    Ok(if platform == IOS { token.to_ascii_lowercase() } else { token.to_string() })
}

/// A device id as [`device_id`] makes them: 32 hexadecimal digits.
pub(super) fn parse_device_id(value: &str) -> AppResult<String> {
    if value.is_empty() {
        return Err(AppError::invalid("device_id", "is required"));
    }
    if value.len() != 32 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "device_id",
            format!("expected 32 hexadecimal digits, got {}", doan_platform::text::quote(value)),
        ));
    }
    Ok(value.to_ascii_lowercase())
}

fn device_id(platform: i32, token: &str) -> String {
    let digest = Sha256::digest(format!("{platform}:{token}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn preferences_to_pb(p: &Preferences, row: Option<&preference::Model>) -> pb::Preferences {
    pb::Preferences {
        channels: p
            .all_pairs()
            .into_iter()
            .map(|(c, ch, enabled)| pb::ChannelPreference { category: c as i32, channel: ch as i32, enabled })
            .collect(),
        quiet_hours_start: row.map(|r| r.quiet_hours_start.clone()).unwrap_or_default(),
        quiet_hours_end: row.map(|r| r.quiet_hours_end.clone()).unwrap_or_default(),
        time_zone: p.time_zone.name().to_string(),
        language: p.language.code().to_string(),
        email: p.email.clone(),
    }
}

impl NotificationsApi {
    pub(super) async fn register_device(
        &self,
        caller: &Caller,
        r: pb::RegisterDeviceRequest,
    ) -> AppResult<pb::RegisterDeviceResponse> {
        let owner = inbox_owner(caller);
        let token = parse_token(r.platform, &r.token)?;
        if r.apns_sandbox && r.platform != IOS {
            return Err(AppError::invalid("apns_sandbox", "applies to IOS devices only"));
        }
        let id = device_id(r.platform, &token);
        let row = devices::new_row(id, &owner, r.platform, token, r.apns_sandbox, self.ctx.clock.now());
        let stored = devices::register(&self.ctx.db, row).await?;
        Ok(pb::RegisterDeviceResponse { device: Some(device_to_pb(stored)) })
    }

    pub(super) async fn unregister_device(
        &self,
        caller: &Caller,
        r: pb::UnregisterDeviceRequest,
    ) -> AppResult<pb::UnregisterDeviceResponse> {
        let owner = inbox_owner(caller);
        let id = parse_device_id(&r.device_id)?;
        if devices::remove(&self.ctx.db, &owner, &id).await? {
            let now = self.ctx.clock.now();
            deliveries::fail_for_devices(&self.ctx.db, std::slice::from_ref(&id), "the device was unregistered", now)
                .await?;
        }
        Ok(pb::UnregisterDeviceResponse {})
    }

    pub(super) async fn list_my_devices(
        &self,
        caller: &Caller,
        _r: pb::ListMyDevicesRequest,
    ) -> AppResult<pb::ListMyDevicesResponse> {
        let owner = inbox_owner(caller);
        let list = devices::of_owner(&self.ctx.db, &owner).await?;
        Ok(pb::ListMyDevicesResponse { devices: list.into_iter().map(device_to_pb).collect() })
    }

    pub(super) async fn get_preferences(
        &self,
        caller: &Caller,
        _r: pb::GetPreferencesRequest,
    ) -> AppResult<pb::GetPreferencesResponse> {
        let owner = inbox_owner(caller);
        let row = preferences::get(&self.ctx.db, &owner).await?;
        let p = preferences_of(row.as_ref());
        Ok(pb::GetPreferencesResponse { preferences: Some(preferences_to_pb(&p, row.as_ref())) })
    }

    pub(super) async fn update_preferences(
        &self,
        caller: &Caller,
        r: pb::UpdatePreferencesRequest,
    ) -> AppResult<pb::UpdatePreferencesResponse> {
        let owner = inbox_owner(caller);
        let want = r.preferences.ok_or_else(|| AppError::invalid("preferences", "is required"))?;
        if want.channels.len() > 14 {
            return Err(AppError::invalid("preferences.channels", "at most 14 entries (7 categories × 2 channels)"));
        }
        let pairs: Vec<(i32, i32, bool)> = want.channels.iter().map(|c| (c.category, c.channel, c.enabled)).collect();
        let clean = |field: &'static str, v: &str, max: usize| doan_platform::convert::optional_text(field, v, max);
        let quiet_start = clean("preferences.quiet_hours_start", &want.quiet_hours_start, 5)?;
        let quiet_end = clean("preferences.quiet_hours_end", &want.quiet_hours_end, 5)?;
        let time_zone = clean("preferences.time_zone", &want.time_zone, 64)?;
        let language = clean("preferences.language", &want.language, 5)?;
        let email = clean("preferences.email", &want.email, 254)?;
        let p = Preferences::parse(&pairs, &quiet_start, &quiet_end, &time_zone, &language, &email)
            .map_err(|e| AppError::invalid(e.field, e.message))?;
        let row = preference::Model {
            owner_id: owner,
            overrides: p.overrides_text(),
            quiet_hours_start: quiet_start,
            quiet_hours_end: quiet_end,
            time_zone: p.time_zone.name().to_string(),
            language: p.language.code().to_string(),
            email: p.email.clone(),
            updated_at: self.ctx.clock.now(),
        };
        preferences::put(&self.ctx.db, row.clone()).await?;
        Ok(pb::UpdatePreferencesResponse { preferences: Some(preferences_to_pb(&p, Some(&row))) })
    }

    pub(super) async fn confirm_delivery(
        &self,
        caller: &Caller,
        r: pb::ConfirmDeliveryRequest,
    ) -> AppResult<pb::ConfirmDeliveryResponse> {
        let notice = self.own(caller, &r.notification_id).await?;
        let device = match r.device_id.as_str() {
            "" => String::new(),
            id => parse_device_id(id)?,
        };
        deliveries::confirm(&self.ctx.db, &notice.notification_id, &notice.member_id, &device, self.ctx.clock.now())
            .await?;
        let mut all = deliveries::of_notifications(&self.ctx.db, std::slice::from_ref(&notice.notification_id)).await?;
        let list = all.remove(&notice.notification_id).unwrap_or_default();
        Ok(pb::ConfirmDeliveryResponse { deliveries: list.into_iter().map(delivery_to_pb).collect() })
    }
}
