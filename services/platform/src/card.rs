//! The digital member card: a compact token signed by membership's Ed25519 key, small enough
//! for one QR code a phone reads at arm's length, verified offline by an officer's app with the
//! published key set.
//!
//! Layout (then base64url without padding, prefixed `DV1.`):
//!
//! | bytes | field |
//! |---|---|
//! | 8 | key id: the first 8 bytes of SHA-256 of the raw 32-byte public key |
//! | 5 | member number's sequence (big-endian; `DV` + 10 digits) |
//! | 1 | status (`doan.membership.v1.MemberStatus`) |
//! | 2 | issued on: days since 2000-01-01 (big-endian) |
//! | 2 | valid until: days since 2000-01-01 (big-endian) |
//! | 16 | branch id (UUID) |
//! | 1 + n | full name, UTF-8, n ≤ 96 bytes (longer names are cut at a character boundary) |
//! | 64 | Ed25519 signature over everything before it, the `DV1.` prefix included |

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// The token's prefix and format version.
pub const PREFIX: &str = "DV1.";
/// Longest name carried, in bytes.
pub const MAX_NAME_BYTES: usize = 96;
const FIXED: usize = 8 + 5 + 1 + 2 + 2 + 16 + 1;

/// What a card says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardClaims {
    /// Member number's sequence (`DV` + 10 digits).
    pub member_seq: u64,
    /// Status number.
    pub status: u8,
    /// Day the card was issued.
    pub issued_on: NaiveDate,
    /// Last day the card is valid.
    pub valid_until: NaiveDate,
    /// The member's branch.
    pub branch_id: uuid::Uuid,
    /// Full name (possibly cut to [`MAX_NAME_BYTES`]).
    pub full_name: String,
}

/// Why a card does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// Not a card token.
    #[error("not a member card token")]
    Malformed,
    /// Signed by a key not in the key set.
    #[error("signed by an unknown key")]
    UnknownKey,
    /// The signature does not match.
    #[error("the signature does not match")]
    BadSignature,
    /// Past its last day.
    #[error("expired on {0}")]
    Expired(NaiveDate),
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("date")
}

fn days(d: NaiveDate) -> u16 {
    (d - epoch()).num_days().clamp(0, u16::MAX as i64) as u16
}

/// The key id of a public key.
pub fn key_id(key: &VerifyingKey) -> [u8; 8] {
    let digest = Sha256::digest(key.as_bytes());
    let mut id = [0; 8];
    id.copy_from_slice(&digest[..8]);
    id
}

/// Signs cards with membership's private key.
#[derive(Clone)]
pub struct CardSigner {
    key: SigningKey,
    id: [u8; 8],
}

impl CardSigner {
    /// From the PKCS#8 PEM Ed25519 private key (`auth.signing_key_pem`).
    pub fn from_pem(pem: &str) -> anyhow::Result<Self> {
        let key = SigningKey::from_pkcs8_pem(pem)
            .map_err(|e| anyhow::anyhow!("auth.signing_key_pem is not an Ed25519 PKCS#8 key: {e}"))?;
        let id = key_id(&key.verifying_key());
        Ok(Self { key, id })
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The signed token for `claims`.
    pub fn sign(&self, claims: &CardClaims) -> String {
        let mut name = claims.full_name.as_str();
        while name.len() > MAX_NAME_BYTES {
            let mut cut = MAX_NAME_BYTES.min(name.len());
            while !name.is_char_boundary(cut) {
                cut -= 1;
            }
            name = &name[..cut];
        }
        let mut body = Vec::with_capacity(FIXED + name.len() + 64);
        body.extend_from_slice(&self.id);
        body.extend_from_slice(&claims.member_seq.min((1 << 40) - 1).to_be_bytes()[3..]);
        body.push(claims.status);
        body.extend_from_slice(&days(claims.issued_on).to_be_bytes());
        body.extend_from_slice(&days(claims.valid_until).to_be_bytes());
        body.extend_from_slice(claims.branch_id.as_bytes());
        body.push(name.len() as u8);
        body.extend_from_slice(name.as_bytes());
        let signature = self.key.sign(&signed_bytes(&body));
        body.extend_from_slice(&signature.to_bytes());
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(body))
    }
}

fn signed_bytes(body: &[u8]) -> Vec<u8> {
    let mut out = PREFIX.as_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// The published keys cards are verified with.
#[derive(Clone, Debug, Default)]
pub struct CardKeys {
    keys: Vec<([u8; 8], VerifyingKey)>,
}

impl CardKeys {
    /// From one or more SPKI PEM Ed25519 public keys (`auth.verifying_key_pem`).
    pub fn from_pem(pems: &str) -> anyhow::Result<Self> {
        const END: &str = "-----END PUBLIC KEY-----";
        let mut keys = Self::default();
        for block in pems.split_inclusive(END).filter(|b| b.contains("-----BEGIN")) {
            let key = VerifyingKey::from_public_key_pem(block.trim())
                .map_err(|e| anyhow::anyhow!("not an Ed25519 public key in PEM: {e}"))?;
            keys.add(key);
        }
        Ok(keys)
    }

    /// Adds a key (raw 32 bytes, as the key set RPC publishes them).
    pub fn add(&mut self, key: VerifyingKey) {
        let id = key_id(&key);
        if !self.keys.iter().any(|(k, _)| *k == id) {
            self.keys.push((id, key));
        }
    }

    /// Each key with its id.
    pub fn keys(&self) -> impl Iterator<Item = ([u8; 8], &VerifyingKey)> {
        self.keys.iter().map(|(id, k)| (*id, k))
    }

    /// Verifies `token` on `today`: the signature by a known key, and the validity period.
    pub fn verify(&self, token: &str, today: NaiveDate) -> Result<CardClaims, CardError> {
        let body = token.strip_prefix(PREFIX).ok_or(CardError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| CardError::Malformed)?;
        if bytes.len() < FIXED + 64 {
            return Err(CardError::Malformed);
        }
        let name_len = bytes[FIXED - 1] as usize;
        if bytes.len() != FIXED + name_len + 64 {
            return Err(CardError::Malformed);
        }
        let (signed, signature) = bytes.split_at(FIXED + name_len);
        let id: [u8; 8] = signed[..8].try_into().map_err(|_| CardError::Malformed)?;
        let key = self.keys.iter().find(|(k, _)| *k == id).map(|(_, k)| k).ok_or(CardError::UnknownKey)?;
        let signature = Signature::from_slice(signature).map_err(|_| CardError::Malformed)?;
        key.verify(&signed_bytes(signed), &signature).map_err(|_| CardError::BadSignature)?;
        let mut seq = [0u8; 8];
        seq[3..].copy_from_slice(&signed[8..13]);
        let day = |at: usize| epoch() + chrono::Duration::days(u16::from_be_bytes([signed[at], signed[at + 1]]) as i64);
        let claims = CardClaims {
            member_seq: u64::from_be_bytes(seq),
            status: signed[13],
            issued_on: day(14),
            valid_until: day(16),
            branch_id: uuid::Uuid::from_slice(&signed[18..34]).map_err(|_| CardError::Malformed)?,
            full_name: String::from_utf8(signed[FIXED..].to_vec()).map_err(|_| CardError::Malformed)?,
        };
        if claims.valid_until < today {
            return Err(CardError::Expired(claims.valid_until));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (CardSigner, CardKeys) {
        let (private, public) = crate::auth::generate_keypair().unwrap();
        (CardSigner::from_pem(&private).unwrap(), CardKeys::from_pem(&public).unwrap())
    }

    fn claims(name: &str) -> CardClaims {
        CardClaims {
            member_seq: 9_999_999_999,
            status: 1,
            issued_on: "2026-11-30".parse().unwrap(),
            valid_until: "2026-12-30".parse().unwrap(),
            branch_id: uuid::Uuid::now_v7(),
            full_name: name.into(),
        }
    }

    #[test]
    fn cards_round_trip_and_fit_one_qr_code() {
        let (signer, keys) = pair();
        let card = claims("Nguyễn Thị Minh Khai");
        let token = signer.sign(&card);
        assert!(token.len() <= 300, "{} characters", token.len());
        assert_eq!(keys.verify(&token, "2026-12-01".parse().unwrap()).unwrap(), card);
        let long = claims(&"Nguyễn Hoàng Phương Thảo ".repeat(10));
        let token = signer.sign(&long);
        assert!(token.len() <= 300, "a long name is cut: {} characters", token.len());
        let verified = keys.verify(&token, "2026-12-01".parse().unwrap()).unwrap();
        assert!(verified.full_name.len() <= MAX_NAME_BYTES && long.full_name.starts_with(&verified.full_name));
    }

    #[test]
    fn forged_expired_and_foreign_cards_are_refused() {
        let (signer, keys) = pair();
        let token = signer.sign(&claims("Lê Văn Tám"));
        let today = "2026-12-01".parse().unwrap();
        assert_eq!(
            keys.verify(&token, "2026-12-31".parse().unwrap()),
            Err(CardError::Expired("2026-12-30".parse().unwrap()))
        );
        // One changed byte of the body.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
        bytes[13] = 2;
        let forged = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(keys.verify(&forged, today), Err(CardError::BadSignature));
        let (other, _) = pair();
        assert_eq!(keys.verify(&other.sign(&claims("Lê Văn Tám")), today), Err(CardError::UnknownKey));
        for junk in ["", "DV1.", "DV1.!!!", "DV2.AAAA", &token[..token.len() - 4]] {
            assert!(keys.verify(junk, today).is_err(), "{junk:?}");
        }
    }
}
