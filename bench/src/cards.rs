//! Offline verification of member cards, per core: `CardKeys::verify` (decode, key lookup,
//! Ed25519, expiry) against a bare Ed25519 verification of the same bytes, in the same run.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use doan_platform::card::{CardClaims, CardKeys, CardSigner, PREFIX};
use ed25519_dalek::{Signature, Verifier};

use crate::stats::{Table, f};

/// Verifications per second on one thread for `duration`.
fn per_second(duration: Duration, mut verify: impl FnMut() -> bool) -> f64 {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < duration {
        for _ in 0..64 {
            assert!(verify(), "a valid card failed to verify");
        }
        n += 64;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// The table: raw Ed25519 and card verification per second on one core, and the token size.
pub fn run(duration: Duration) -> anyhow::Result<Table> {
    let (private, public) = doan_platform::auth::generate_keypair()?;
    let signer = CardSigner::from_pem(&private)?;
    let keys = CardKeys::from_pem(&public)?;
    let today = chrono::Utc::now().date_naive();
    let claims = CardClaims {
        member_seq: 1_234_567,
        status: 1,
        issued_on: today,
        valid_until: today + chrono::Duration::days(30),
        branch_id: uuid::Uuid::now_v7(),
        full_name: "Nguyễn Thị Minh Khai".into(),
    };
    let token = signer.sign(&claims);
    let bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..])?;
    let (body, signature) = bytes.split_at(bytes.len() - 64);
    let mut signed = PREFIX.as_bytes().to_vec();
    signed.extend_from_slice(body);
    let signature = Signature::from_slice(signature)?;
    let key = signer.verifying_key();
    let raw = per_second(duration, || key.verify(&signed, &signature).is_ok());
    let ours = per_second(duration, || keys.verify(&token, today).is_ok());
    let mut table = Table::new(&["path", "verifications/s (1 core)", "ratio", "token characters"]);
    table.row(vec!["raw Ed25519 verify of the same bytes".into(), f(raw, 0), "1.00".into(), "".into()]);
    table.row(vec![
        "member card (decode, key id, Ed25519, expiry)".into(),
        f(ours, 0),
        f(ours / raw, 2),
        token.len().to_string(),
    ]);
    Ok(table)
}
